package export_test

// Parity with ONNX Runtime: exported models run in ONNX Runtime (loaded
// from Go through internal/ortcheck), in trnn's own runtime (the same file
// read back by DecodeONNX and run by interp.Interpreter, and through
// trnn.Load) and the trainer's in-memory forward pass over the Program
// (runtime.Model) must agree with the float64 reference forward pass
// (refForward) and with each other to 1e-5 on ragged batches whose padded
// positions hold garbage, and step_probs must be exactly 0 at padded steps.

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/ortcheck"
	"github.com/trnn/trnn/runtime"
	"github.com/trnn/trnn/runtime/interp"
)

// parityTol is the largest absolute difference accepted between ONNX
// Runtime and a reference: ONNX Runtime's sigmoid and tanh are rational
// approximations good to about 1e-6.
const parityTol = 1e-5

// ortCase is one exported model of the parity matrix.
type ortCase struct {
	cell      string // compiler.LayerLSTM or compiler.LayerGRU
	depth     int    // recurrent layers: 1 or 3
	K         int
	normalize bool
	stepProbs bool
	opset     int
}

func (c ortCase) String() string {
	s := fmt.Sprintf("%s-%dL-K%d", c.cell, c.depth, c.K)
	if c.normalize {
		s += "-norm"
	}
	if c.stepProbs {
		s += "-steps"
	}
	return s + fmt.Sprintf("-opset%d", c.opset)
}

// config is the model of a case: F = 5 features, hidden sizes that differ
// from each other and from F and K, a dropout layer in the deep stack.
func (c ortCase) config(seed uint64) progConfig {
	cell := lstm
	if c.cell == compiler.LayerGRU {
		cell = gru
	}
	layers := []compiler.Layer{cell(7)}
	if c.depth == 3 {
		layers = []compiler.Layer{cell(7), dropout(0.5), cell(4), cell(6)}
	}
	return progConfig{name: c.String(), layers: layers, F: 5, K: c.K, normalize: c.normalize, seed: seed}
}

// ortMatrix is every combination the parity test covers.
func ortMatrix() []ortCase {
	var out []ortCase
	for _, opset := range []int{14, 17, 21} {
		for _, cell := range []string{compiler.LayerLSTM, compiler.LayerGRU} {
			for _, depth := range []int{1, 3} {
				for _, K := range []int{1, 5} {
					for _, norm := range []bool{false, true} {
						for _, steps := range []bool{false, true} {
							out = append(out, ortCase{cell, depth, K, norm, steps, opset})
						}
					}
				}
			}
		}
	}
	return out
}

// batch is one ragged input batch.
type batch struct {
	name    string
	B, T    int
	x       []float32 // [B, T, F]; padded positions hold garbage
	lengths []int32   // [B]
}

// garbage is what padded positions of x hold: NaN in even rows, ±1e6 in
// odd ones. A model that reads a padded step gives NaN or saturated output.
func garbage(b, t int) float32 {
	if b%2 == 0 {
		return float32(math.NaN())
	}
	if t%2 == 0 {
		return 1e6
	}
	return -1e6
}

// makeBatch draws x uniformly in [-2, 2] (features around the
// normalisation means) with the given lengths, and garbage after them.
func makeBatch(name string, F, T int, lengths []int32, seed uint64) batch {
	rng := rand.New(rand.NewPCG(seed, 77))
	B := len(lengths)
	x := make([]float32, B*T*F)
	for b := 0; b < B; b++ {
		for t := 0; t < T; t++ {
			for f := 0; f < F; f++ {
				if t < int(lengths[b]) {
					x[(b*T+t)*F+f] = float32(rng.Float64()*4 - 2)
				} else {
					x[(b*T+t)*F+f] = garbage(b, t)
				}
			}
		}
	}
	return batch{name: name, B: B, T: T, x: x, lengths: lengths}
}

// paritybatches are the ragged batches every model runs on: batch 1 and 64,
// lengths all 1, all T, and mixed (1 and T included).
func parityBatches(F int) []batch {
	const T = 9
	fill := func(B int, l int32) []int32 {
		out := make([]int32, B)
		for i := range out {
			out[i] = l
		}
		return out
	}
	mixed := make([]int32, 64)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range mixed {
		mixed[i] = int32(1 + rng.IntN(T))
	}
	mixed[0], mixed[1], mixed[63] = 1, T, T
	return []batch{
		makeBatch("b1-len1", F, T, fill(1, 1), 1),
		makeBatch("b1-lenT", F, T, fill(1, T), 2),
		makeBatch("b1-mixed", F, T, []int32{4}, 3),
		makeBatch("b64-len1", F, T, fill(64, 1), 4),
		makeBatch("b64-lenT", F, T, fill(64, T), 5),
		makeBatch("b64-mixed", F, T, mixed, 6),
	}
}

// seqs returns the batch's rows as ragged sequences, valid steps only.
func (b batch) seqs() [][][]float32 {
	F := len(b.x) / (b.B * b.T)
	out := make([][][]float32, b.B)
	for r := range out {
		for s := 0; s < int(b.lengths[r]); s++ {
			out[r] = append(out[r], b.x[(r*b.T+s)*F:(r*b.T+s+1)*F])
		}
	}
	return out
}

// dataset returns the batch as the trainer's dataset (valid steps only,
// labels 0).
func (b batch) dataset(K int) *data.Dataset {
	F := len(b.x) / (b.B * b.T)
	d := &data.Dataset{F: F, K: K, Y: make([]float32, b.B*K)}
	for _, seq := range b.seqs() {
		var row []float32
		for _, step := range seq {
			row = append(row, step...)
		}
		d.X = append(d.X, row)
	}
	return d
}

func (b batch) inputs() map[string]*graph.Tensor {
	F := len(b.x) / (b.B * b.T)
	return map[string]*graph.Tensor{
		"x":       graph.FromF32(b.x, b.B, b.T, F),
		"lengths": {DType: graph.Int32, Shape: []int{b.B}, I32: b.lengths},
	}
}

// maxDiff returns max |got − want| and its index; NaN anywhere is +Inf.
func maxDiff(got []float32, want []float64) (float64, int) {
	worst, at := 0.0, -1
	for i := range want {
		d := math.Abs(float64(got[i]) - want[i])
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		if d > worst || at < 0 {
			worst, at = d, i
		}
	}
	return worst, at
}

// checkOutputs compares a runtime's outputs on batch b with the reference
// and returns the max abs differences of probs and step_probs (-1 when
// absent). who names the runtime in failure messages.
func checkOutputs(t *testing.T, who string, b batch, K int, stepProbs bool, got map[string]*graph.Tensor, refProbs, refSteps []float64) (float64, float64) {
	t.Helper()
	p := got["probs"]
	if p == nil || p.DType != graph.Float32 || len(p.Shape) != 2 || p.Shape[0] != b.B || p.Shape[1] != K {
		t.Fatalf("%s %s: probs %+v, want float32 [%d %d]", who, b.name, p, b.B, K)
	}
	dp, at := maxDiff(p.F32, refProbs)
	if dp > parityTol {
		t.Errorf("%s %s: probs differ from the reference by %.3g at row %d label %d: got %v, want %v",
			who, b.name, dp, at/K, at%K, p.F32[at], refProbs[at])
	}
	if !stepProbs {
		if got["step_probs"] != nil {
			t.Errorf("%s %s: step_probs present in a model exported without it", who, b.name)
		}
		return dp, -1
	}
	s := got["step_probs"]
	if s == nil || s.DType != graph.Float32 || len(s.Shape) != 3 || s.Shape[0] != b.B || s.Shape[1] != b.T || s.Shape[2] != K {
		t.Fatalf("%s %s: step_probs %+v, want float32 [%d %d %d]", who, b.name, s, b.B, b.T, K)
	}
	ds, at := maxDiff(s.F32, refSteps)
	if ds > parityTol {
		t.Errorf("%s %s: step_probs differ from the reference by %.3g at row %d step %d label %d: got %v, want %v",
			who, b.name, ds, at/(b.T*K), at/K%b.T, at%K, s.F32[at], refSteps[at])
	}
	for r := 0; r < b.B; r++ {
		for step := int(b.lengths[r]); step < b.T; step++ {
			for k := 0; k < K; k++ {
				if v := s.F32[(r*b.T+step)*K+k]; v != 0 || math.Signbit(float64(v)) {
					t.Fatalf("%s %s: step_probs[%d, %d, %d] = %v at a padded step (length %d), want exactly 0",
						who, b.name, r, step, k, v, b.lengths[r])
				}
			}
		}
	}
	return dp, ds
}

func exportBytes(t *testing.T, prog *compiler.Program, opts export.Options) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := runtime.WriteModel(&buf, prog, opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func outputNames(stepProbs bool) []string {
	if stepProbs {
		return []string{"probs", "step_probs"}
	}
	return []string{"probs"}
}

// goRuntime reads an exported model back with DecodeONNX and returns trnn's
// interpreter for it.
func goRuntime(t *testing.T, name string, model []byte) *interp.Interpreter {
	t.Helper()
	g, err := export.DecodeONNX(name, model)
	if err != nil {
		t.Fatalf("trnn cannot read its own export: %v", err)
	}
	ip, err := interp.New(g)
	if err != nil {
		t.Fatalf("trnn's runtime refuses its own export: %v", err)
	}
	return ip
}

// runBoth runs batch b in ONNX Runtime's session s and in the Go runtime
// ip, each on its own copy of the inputs.
func runBoth(t *testing.T, s *ortcheck.Session, ip *interp.Interpreter, b batch) (ortOut, goOut map[string]*graph.Tensor) {
	t.Helper()
	ortOut, err := s.Run(b.inputs())
	if err != nil {
		t.Fatalf("onnx runtime %s: %v", b.name, err)
	}
	goOut, err = ip.Run(b.inputs())
	if err != nil {
		t.Fatalf("go runtime %s: %v", b.name, err)
	}
	return ortOut, goOut
}

// tensorsF64 widens a float32 tensor for comparisons.
func tensorF64(t *graph.Tensor) []float64 {
	out := make([]float64, len(t.F32))
	for i, v := range t.F32 {
		out[i] = float64(v)
	}
	return out
}

// TestORTParity runs every model of the matrix in ONNX Runtime and in the
// Go runtime on every parity batch, and compares both with the reference
// forward pass and with each other.
func TestORTParity(t *testing.T) {
	ortcheck.Require(t)
	t.Logf("ONNX Runtime %s", ortcheck.Version())
	var overallRef, overallGo, overallTrainer float64
	for i, c := range ortMatrix() {
		t.Run(c.String(), func(t *testing.T) {
			prog := testProgram(t, c.config(uint64(100+i)))
			model := exportBytes(t, prog, export.Options{Opset: c.opset, StepProbs: c.stepProbs, Version: testVersion})
			s, err := ortcheck.Open(model, []string{"x", "lengths"}, outputNames(c.stepProbs))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ip := goRuntime(t, c.String()+".onnx", model)
			trainer, err := runtime.NewModel(prog)
			if err != nil {
				t.Fatalf("the trainer's model: %v", err)
			}
			defer trainer.Close()
			worstTrainer := 0.0
			// worst[i][j]: max difference of output j (probs, step_probs)
			// between ONNX Runtime and the reference (i = 0), the Go
			// runtime and the reference (1), ONNX Runtime and Go (2).
			var worst [3][2]float64
			for _, b := range parityBatches(5) {
				refP, refS := refForward(prog, b.x, b.B, b.T, b.lengths)
				ortOut, err := s.Run(b.inputs())
				if err != nil {
					t.Fatalf("onnx runtime %s: %v", b.name, err)
				}
				in := b.inputs()
				goOut, err := ip.Run(in)
				if err != nil {
					t.Fatalf("go runtime %s: %v", b.name, err)
				}
				if !equalF32(in["x"].F32, b.x) {
					t.Fatalf("go runtime %s: the input x was modified", b.name)
				}
				var d [3][2]float64
				d[0][0], d[0][1] = checkOutputs(t, "onnx runtime", b, c.K, c.stepProbs, ortOut, refP, refS)
				d[1][0], d[1][1] = checkOutputs(t, "go runtime", b, c.K, c.stepProbs, goOut, refP, refS)
				d[2][0], d[2][1] = checkOutputs(t, "go runtime vs onnx runtime", b, c.K, c.stepProbs, goOut,
					tensorF64(ortOut["probs"]), func() []float64 {
						if c.stepProbs {
							return tensorF64(ortOut["step_probs"])
						}
						return nil
					}())
				for i := range d {
					for j := range d[i] {
						worst[i][j] = math.Max(worst[i][j], d[i][j])
					}
				}
				// The trainer's forward pass gives the last-step logits.
				probs := trainer.Predict(b.dataset(c.K))
				runtime.Sigmoid(probs)
				dt, at := maxDiff(probs, tensorF64(ortOut["probs"]))
				if dr, _ := maxDiff(probs, refP); dr > parityTol || dt > parityTol {
					t.Errorf("trainer %s: probs differ from onnx runtime by %.3g at %d (%v vs %v), from the reference by %.3g",
						b.name, dt, at, probs[at], ortOut["probs"].F32[at], dr)
				}
				worstTrainer = math.Max(worstTrainer, dt)
			}
			overallRef = math.Max(overallRef, math.Max(math.Max(worst[0][0], worst[0][1]), math.Max(worst[1][0], worst[1][1])))
			overallGo = math.Max(overallGo, math.Max(worst[2][0], worst[2][1]))
			overallTrainer = math.Max(overallTrainer, worstTrainer)
			if c.stepProbs {
				t.Logf("max abs diff probs/step_probs: onnx runtime−reference %.2e/%.2e, go−reference %.2e/%.2e, go−onnx runtime %.2e/%.2e; trainer−onnx runtime probs %.2e",
					worst[0][0], worst[0][1], worst[1][0], worst[1][1], worst[2][0], worst[2][1], worstTrainer)
			} else {
				t.Logf("max abs diff probs: onnx runtime−reference %.2e, go−reference %.2e, go−onnx runtime %.2e; trainer−onnx runtime %.2e",
					worst[0][0], worst[1][0], worst[2][0], worstTrainer)
			}
		})
	}
	t.Logf("over all %d models: max |runtime − reference| %.2e, max |go runtime − onnx runtime| %.2e, max |trainer − onnx runtime| %.2e",
		len(ortMatrix()), overallRef, overallGo, overallTrainer)
}

// TestORTZeroLength: a row of length 0 has a zero final state in ONNX
// Runtime and in the Go runtime, so probs is the sigmoid of the head's bias
// and every step_probs is 0; the other rows are unaffected.
func TestORTZeroLength(t *testing.T) {
	ortcheck.Require(t)
	for _, cell := range []string{compiler.LayerLSTM, compiler.LayerGRU} {
		c := ortCase{cell: cell, depth: 3, K: 3, normalize: true, stepProbs: true, opset: 17}
		prog := testProgram(t, c.config(9))
		b := makeBatch("zero-length", 5, 6, []int32{3, 0, 6, 0, 1}, 7)
		refP, refS := refForward(prog, b.x, b.B, b.T, b.lengths)
		got, err := ortcheck.Run(exportBytes(t, prog, export.Options{StepProbs: true}), b.inputs(), outputNames(true))
		if err != nil {
			t.Fatal(err)
		}
		dp, ds := checkOutputs(t, "onnx runtime "+cell, b, c.K, true, got, refP, refS)
		goOut, err := goRuntime(t, cell+".onnx", exportBytes(t, prog, export.Options{StepProbs: true})).Run(b.inputs())
		if err != nil {
			t.Fatalf("go runtime: %v", err)
		}
		gp, gs := checkOutputs(t, "go runtime "+cell, b, c.K, true, goOut, refP, refS)
		bias := prog.Graph.Param("head.b").Tensor.F32
		for k, bk := range bias {
			want := 1 / (1 + math.Exp(-float64(bk)))
			if d := math.Abs(float64(got["probs"].F32[1*c.K+k]) - want); d > parityTol {
				t.Errorf("%s: probs of the length-0 row, label %d = %v, want sigmoid(b) = %v", cell, k, got["probs"].F32[1*c.K+k], want)
			}
		}
		t.Logf("%s with length-0 rows: max |onnx runtime − reference| probs %.2e, step_probs %.2e; max |go runtime − reference| %.2e, %.2e", cell, dp, ds, gp, gs)
	}
}

// TestORTMetadata: ONNX Runtime reads the exported metadata and producer.
func TestORTMetadata(t *testing.T) {
	ortcheck.Require(t)
	prog := testProgram(t, demoConfig)
	md, producer, err := ortcheck.Metadata(exportBytes(t, prog, export.Options{Version: "9.9.9"}))
	if err != nil {
		t.Fatal(err)
	}
	if producer != "trnn" {
		t.Errorf("producer %q", producer)
	}
	for key, want := range map[string]string{
		export.MetaVersion:      "9.9.9",
		export.MetaSpecName:     "demo",
		export.MetaNormalize:    "standard",
		export.MetaFeatureNames: `["feat_0","feat_1","feat_2","feat_3"]`,
		export.MetaLabelNames:   `["dx_0","dx_1"]`,
	} {
		if md[key] != want {
			t.Errorf("onnx runtime reads %s = %q, want %q", key, md[key], want)
		}
	}
	if md[export.MetaNormMean] == "" || md[export.MetaNormStd] == "" {
		t.Errorf("normalisation statistics missing: %v", md)
	}
}

// TestORTLengthsContract pins what docs/onnx.md says about lengths: ONNX
// Runtime refuses a length above the batch's time dimension or below 0 (in
// the first recurrent node), and accepts 0..time.
func TestORTLengthsContract(t *testing.T) {
	ortcheck.Require(t)
	for _, cell := range []string{compiler.LayerLSTM, compiler.LayerGRU} {
		c := ortCase{cell: cell, depth: 1, K: 2, stepProbs: true, opset: 17}
		model := exportBytes(t, testProgram(t, c.config(1)), export.Options{StepProbs: true})
		for _, tc := range []struct {
			lengths []int32
			ok      bool
		}{
			{[]int32{6, 0}, true},
			{[]int32{7, 3}, false},
			{[]int32{-1, 3}, false},
		} {
			b := makeBatch("lengths", 5, 6, []int32{3, 3}, 1)
			b.lengths = tc.lengths
			_, err := ortcheck.Run(model, b.inputs(), outputNames(true))
			if tc.ok && err != nil {
				t.Errorf("%s, lengths %v (time 6): %v", cell, tc.lengths, err)
			}
			if !tc.ok && (err == nil || !strings.Contains(err.Error(), "sequence_lens")) {
				t.Errorf("%s, lengths %v (time 6): err = %v, want ONNX Runtime's sequence_lens error", cell, tc.lengths, err)
			}
		}
	}
}

// TestLoadPredictORT: trnn.Load on an exported file, Predict on ragged
// sequences (no padding given) gives ONNX Runtime's probs, and Metadata
// gives what ONNX Runtime reads.
func TestLoadPredictORT(t *testing.T) {
	ortcheck.Require(t)
	dir := t.TempDir()
	for i, c := range ortMatrix() {
		if c.opset != 17 {
			continue
		}
		t.Run(c.String(), func(t *testing.T) {
			prog := testProgram(t, c.config(uint64(100+i)))
			path := filepath.Join(dir, c.String()+".onnx")
			opts := export.Options{Opset: c.opset, StepProbs: c.stepProbs, Version: testVersion}
			if err := runtime.WriteModelFile(path, prog, opts); err != nil {
				t.Fatal(err)
			}
			sess, err := trnn.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			model, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			b := parityBatches(5)[5] // 64 rows of mixed lengths
			want, err := ortcheck.Run(model, b.inputs(), []string{"probs"})
			if err != nil {
				t.Fatal(err)
			}
			got, err := sess.Predict(b.seqs())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != b.B {
				t.Fatalf("Predict returned %d rows for %d sequences", len(got), b.B)
			}
			worst := 0.0
			for r, row := range got {
				if len(row) != c.K {
					t.Fatalf("row %d: %d values, want %d", r, len(row), c.K)
				}
				for k, v := range row {
					d := math.Abs(float64(v) - float64(want["probs"].F32[r*c.K+k]))
					if !(d <= parityTol) {
						t.Errorf("row %d label %d: Predict %v, onnx runtime %v", r, k, v, want["probs"].F32[r*c.K+k])
					}
					worst = math.Max(worst, d)
				}
			}
			md, _, err := ortcheck.Metadata(model)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(sess.Metadata(), md) {
				t.Errorf("trnn.Load metadata %v, onnx runtime %v", sess.Metadata(), md)
			}
			t.Logf("max |trnn.Load Predict − onnx runtime| %.2e", worst)
		})
	}
}
