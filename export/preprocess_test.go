package export_test

// The preprocessing inside the exported model: ONNX Runtime and trnn's
// interpreter, given raw x with NaN gaps and category indices, give the
// trainer's probabilities; the encoded features equal a direct reference
// written from the spec's rules; the stateful model carries the
// forward-fill state from chunk to chunk.
//
// Shape legend: B rows, T steps, F features, W encoded width.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/ortcheck"
	"github.com/trnn/trnn/ops"
	"github.com/trnn/trnn/runtime"
)

// preF is the feature count of the preprocessing models: features 1 and 3
// are categorical, with preCategories[f] categories.
const preF = 5

var preCategories = []int{0, 3, 0, 4, 0}

// preCase is one preprocessing model.
type preCase struct {
	missing     string
	indicators  bool
	categorical bool
	normalize   bool
	cell        string
	opset       int
}

func (c preCase) String() string {
	s := c.missing
	if c.indicators {
		s += "-ind"
	}
	if c.categorical {
		s += "-cat"
	}
	if c.normalize {
		s += "-norm"
	}
	return fmt.Sprintf("%s-%s-opset%d", s, c.cell, c.opset)
}

// preCases covers every missing mode with and without indicators, with
// categorical features, plus numeric-only and unnormalised variants.
func preCases() []preCase {
	var out []preCase
	for _, m := range []string{compiler.MissingZero, compiler.MissingMean, compiler.MissingForwardFill} {
		for _, ind := range []bool{false, true} {
			out = append(out, preCase{m, ind, true, true, compiler.LayerLSTM, 17})
		}
		out = append(out, preCase{m, false, false, true, compiler.LayerGRU, 14})
		out = append(out, preCase{m, true, true, false, compiler.LayerGRU, 21})
	}
	return append(out, preCase{compiler.MissingRefuse, false, true, true, compiler.LayerLSTM, 17})
}

func (c preCase) config(seed uint64) progConfig {
	cell := lstm
	if c.cell == compiler.LayerGRU {
		cell = gru
	}
	return progConfig{name: c.String(), layers: []compiler.Layer{cell(6), cell(4)}, F: preF, K: 2, normalize: c.normalize,
		opset: c.opset, seed: seed, edit: func(s *compiler.Spec) {
			s.Inputs.Missing, s.Inputs.Indicators = c.missing, c.indicators
			if c.categorical {
				s.Inputs.Categories = make([][]string, preF)
				for f, C := range preCategories {
					for k := range C {
						s.Inputs.Categories[f] = append(s.Inputs.Categories[f], fmt.Sprintf("c%d", k))
					}
				}
			}
		}}
}

// gappy draws one step: numeric values in [-2, 2], category indices, and
// NaN with probability gap (never for every feature of the refuse mode's
// numeric features, which must be observed). A few category cells hold an
// index that is no category (C, or 1.5), which the model one-hot encodes
// as all zeros.
func gappy(rng *rand.Rand, c preCase, gap float64) []float32 {
	step := make([]float32, preF)
	for f := range step {
		C := 0
		if c.categorical {
			C = preCategories[f]
		}
		switch {
		case rng.Float64() < gap && (c.missing != compiler.MissingRefuse || C > 0):
			step[f] = float32(math.NaN())
		case C > 0 && rng.Float64() < 0.05:
			step[f] = []float32{float32(C), 1.5}[rng.IntN(2)]
		case C > 0:
			step[f] = float32(rng.IntN(C))
		default:
			step[f] = float32(rng.Float64()*4 - 2)
		}
	}
	return step
}

// gappySeqs draws B sequences of 1..maxT gappy steps.
func gappySeqs(rng *rand.Rand, c preCase, B, maxT int) [][][]float32 {
	seqs := make([][][]float32, B)
	for b := range seqs {
		seqs[b] = make([][]float32, 1+rng.IntN(maxT))
		for s := range seqs[b] {
			seqs[b][s] = gappy(rng, c, []float64{0.1, 0.4, 0.9}[b%3])
		}
	}
	return seqs
}

func seqDataset(seqs [][][]float32, K int) *data.Dataset {
	d := &data.Dataset{F: preF, K: K, Y: make([]float32, len(seqs)*K)}
	for _, s := range seqs {
		d.X = append(d.X, slices.Concat(s...))
	}
	return d
}

// TestORTPreprocessParity: for every missing mode, with and without
// indicators and categorical features, ONNX Runtime and trnn's interpreter
// on raw x (NaN gaps, category indices, NaN or ±1e6 padding) give the
// trainer's probabilities within parityTol.
func TestORTPreprocessParity(t *testing.T) {
	ortcheck.Require(t)
	for i, c := range preCases() {
		t.Run(c.String(), func(t *testing.T) {
			prog := testProgram(t, c.config(uint64(300+i)))
			model := exportBytes(t, prog, export.Options{Opset: c.opset, Version: testVersion})
			s, err := ortcheck.Open(model, []string{"x", "lengths"}, []string{"probs"})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ip := goRuntime(t, c.String()+".onnx", model)
			trainer, err := runtime.NewModel(prog)
			if err != nil {
				t.Fatal(err)
			}
			defer trainer.Close()
			rng := rand.New(rand.NewPCG(uint64(i), 9))
			worst := [2]float64{}
			for _, B := range []int{1, 7, 64} {
				seqs := gappySeqs(rng, c, B, 12)
				if B == 64 {
					seqs[0] = seqs[0][:1] // length 1
				}
				want := trainer.Predict(seqDataset(seqs, 2))
				runtime.Sigmoid(want)
				x, lengths := padded(seqs, preF)
				in := map[string]*graph.Tensor{"x": x, "lengths": lengths}
				for j, run := range []runFunc{s.Run, ip.Run} {
					out, err := run(in)
					if err != nil {
						t.Fatalf("B=%d: %v", B, err)
					}
					for k, v := range out["probs"].F32 {
						d := math.Abs(float64(v - want[k]))
						if !(d <= parityTol) {
							t.Fatalf("%s B=%d: probs[%d][%d] = %v, the trainer gives %v", []string{"onnx runtime", "go runtime"}[j], B, k/2, k%2, v, want[k])
						}
						worst[j] = max(worst[j], d)
					}
				}
			}
			t.Logf("max |onnx runtime − trainer| = %.2g, |go runtime − trainer| = %.2g", worst[0], worst[1])
		})
	}
}

// refEncode is the direct reference of the preprocessing of one sequence
// (seq[t] the raw step t), written from the spec's rules step by step.
func refEncode(seq [][]float32, p graph.Preprocess, mean, std []float32) [][]float32 {
	F := len(p.Categories)
	last := make([]float32, F)
	for f := range last {
		last[f] = float32(math.NaN())
	}
	var out [][]float32
	for _, x := range seq {
		var row []float32
		for f, C := range p.Categories {
			v := x[f]
			observed := !math.IsNaN(float64(v))
			if observed {
				last[f] = v
			}
			if !observed && p.Missing == graph.MissingForwardFill {
				v = last[f]
			}
			if C > 0 {
				for k := range C {
					row = append(row, map[bool]float32{true: 1, false: 0}[v == float32(k)])
				}
				continue
			}
			if math.IsNaN(float64(v)) {
				switch p.Missing {
				case graph.MissingZero:
					v = 0
				case graph.MissingMean, graph.MissingForwardFill:
					v = mean[f]
				}
			}
			if p.Normalize {
				v = (v - mean[f]) / std[f]
			}
			row = append(row, v)
		}
		if p.Indicators {
			for f := range F {
				row = append(row, map[bool]float32{true: 0, false: 1}[math.IsNaN(float64(x[f]))])
			}
		}
		out = append(out, row)
	}
	return out
}

// withEncodedOutput adds the Preprocess node's output x_encoded [B, T, W]
// to an exported model's outputs.
func withEncodedOutput(t *testing.T, model []byte, W int) []byte {
	t.Helper()
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(model, &m); err != nil {
		t.Fatal(err)
	}
	dim := func(d any) *onnxpb.TensorShapeProto_Dimension {
		if s, ok := d.(string); ok {
			return &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: s}}
		}
		return &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d.(int))}}
	}
	m.Graph.Output = append(m.Graph.Output, &onnxpb.ValueInfoProto{
		Name: proto.String(compiler.ValueXEncoded),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(graph.Float32)),
			Shape:    &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{dim(graph.DimBatch), dim(graph.DimTime), dim(W)}},
		}}},
	})
	b, err := proto.Marshal(&m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// packedEncode runs ops.PreprocessForward on seqs packed as the trainer
// packs a batch, and returns each sequence's encoded steps.
func packedEncode(seqs [][][]float32, p graph.Preprocess, mean, std []float32) [][][]float32 {
	F, W := len(p.Categories), p.Width()
	rows := make([]int, len(seqs))
	for i := range rows {
		rows[i] = i
	}
	ops.SortByLength(rows, func(r int) int { return len(seqs[r]) })
	lens := make([]int, len(rows))
	for b, r := range rows {
		lens[b] = len(seqs[r])
	}
	var pk ops.Packing
	pk.Reset(lens)
	x, y := make([]float32, pk.N()*F), make([]float32, pk.N()*W)
	for b, r := range rows {
		for s, step := range seqs[r] {
			copy(x[pk.Index(b, s)*F:], step)
		}
	}
	ops.PreprocessForward(&pk, p, mean, std, x, y, make([]float32, len(rows)*F))
	out := make([][][]float32, len(seqs))
	for b, r := range rows {
		for s := range seqs[r] {
			i := pk.Index(b, s)
			out[r] = append(out[r], y[i*W:(i+1)*W])
		}
	}
	return out
}

// sameF32 compares bit patterns up to NaN payloads.
func sameF32(a, b float32) bool {
	return a == b && math.Signbit(float64(a)) == math.Signbit(float64(b)) || math.IsNaN(float64(a)) && math.IsNaN(float64(b))
}

// TestPreprocessMatchesReference: the encoded features of random gap
// patterns (sequences of length 1 included), computed by the exported
// graph in ONNX Runtime and in trnn's interpreter and by the trainer's
// packed kernel, equal the direct reference bit for bit at every valid
// step.
func TestPreprocessMatchesReference(t *testing.T) {
	ortcheck.Require(t)
	for i, c := range preCases() {
		t.Run(c.String(), func(t *testing.T) {
			prog := testProgram(t, c.config(uint64(400+i)))
			n := prog.Graph.Nodes[0]
			p, err := graph.PreprocessOf(n)
			if err != nil {
				t.Fatal(err)
			}
			mean, std := prog.Graph.Param(compiler.ParamMean).Tensor.F32, prog.Graph.Param(compiler.ParamStd).Tensor.F32
			model := withEncodedOutput(t, exportBytes(t, prog, export.Options{Opset: c.opset, Version: testVersion}), p.Width())
			s, err := ortcheck.Open(model, []string{"x", "lengths"}, []string{"probs", compiler.ValueXEncoded})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ip := goRuntime(t, c.String()+".onnx", model)
			rng := rand.New(rand.NewPCG(uint64(i), 10))
			for trial := range 5 {
				seqs := gappySeqs(rng, c, 1+rng.IntN(9), []int{1, 2, 5, 12, 30}[trial])
				x, lengths := padded(seqs, preF)
				T := x.Shape[1]
				packed := packedEncode(seqs, p, mean, std)
				for j, run := range []runFunc{s.Run, ip.Run} {
					out, err := run(map[string]*graph.Tensor{"x": x, "lengths": lengths})
					if err != nil {
						t.Fatal(err)
					}
					enc := out[compiler.ValueXEncoded]
					W := p.Width()
					for b, seq := range seqs {
						ref := refEncode(seq, p, mean, std)
						for st, row := range ref {
							for w, v := range row {
								got := enc.F32[(b*T+st)*W+w]
								if !sameF32(got, v) {
									t.Fatalf("%s, trial %d: row %d step %d channel %d = %v, the reference gives %v (x = %v)",
										[]string{"onnx runtime", "go runtime"}[j], trial, b, st, w, got, v, seq[st])
								}
								if k := packed[b][st][w]; !sameF32(k, v) {
									t.Fatalf("trainer kernel, trial %d: row %d step %d channel %d = %v, the reference gives %v", trial, b, st, w, k, v)
								}
							}
						}
					}
				}
			}
		})
	}
}

// TestStatefulForwardFill: with forward fill the stateful model takes
// fill_in and gives fill_out; sequences with gaps fed in random chunks give
// the whole prefix's probs at every chunk end, in ONNX Runtime, trnn's
// interpreter and trnn.LoadBytes.
func TestStatefulForwardFill(t *testing.T) {
	ortcheck.Require(t)
	for i, c := range []preCase{
		{compiler.MissingForwardFill, true, true, true, compiler.LayerLSTM, 17},
		{compiler.MissingForwardFill, false, false, false, compiler.LayerGRU, 14},
	} {
		prog := testProgram(t, c.config(uint64(500+i)))
		plainBytes := exportBytes(t, prog, export.Options{Version: testVersion})
		stateBytes := exportBytes(t, prog, export.Options{Version: testVersion, Stateful: true})
		g, err := export.DecodeONNX("step.onnx", stateBytes)
		if err != nil {
			t.Fatal(err)
		}
		names, widths := stateValues(t, g)
		if !slices.Contains(names, export.FillInput) || !slices.ContainsFunc(g.Outputs, func(v graph.Value) bool { return v.Name == export.FillOutput }) {
			t.Fatalf("%s: state inputs %v and outputs %v, want fill_in and fill_out among them", c, names, g.Outputs)
		}
		plainGraph, err := export.DecodeONNX("plain.onnx", plainBytes)
		if err != nil {
			t.Fatal(err)
		}
		runtimes := []struct {
			who          string
			plain, state runFunc
		}{
			{"onnx runtime", ortRunner(t, plainBytes, plainGraph), ortRunner(t, stateBytes, g)},
			{"go runtime", goRuntime(t, "plain.onnx", plainBytes).Run, goRuntime(t, "step.onnx", stateBytes).Run},
			{"trnn.LoadBytes", loadRun(t, "plain.onnx", plainBytes), loadRun(t, "step.onnx", stateBytes)},
		}
		for _, r := range runtimes {
			rng := rand.New(rand.NewPCG(uint64(i), 11))
			worst := 0.0
			for trial := range 4 {
				seqs := gappySeqs(rng, c, 1+rng.IntN(6), 40)
				ends := feedInChunks(t, r.state, names, widths, seqs, preF, []int{1, 3, 9, 40}[trial], rng)
				worst = max(worst, checkChunkEnds(t, c.String()+" "+r.who, r.plain, seqs, ends, preF))
			}
			t.Logf("%s, %s: max |chunked − whole prefix| = %.2g", c, r.who, worst)
		}
	}
}

// TestPreprocessRebuilds: a model with preprocessing, written without
// step_probs or state, is recognised as trnn's and rebuilt with them
// (WithStepProbs, WithState), and the rebuilds compute its probs.
func TestPreprocessRebuilds(t *testing.T) {
	for i, c := range preCases() {
		prog := testProgram(t, c.config(uint64(600+i)))
		g, err := export.DecodeONNX("plain.onnx", exportBytes(t, prog, export.Options{Opset: c.opset, Version: testVersion}))
		if err != nil {
			t.Fatal(err)
		}
		steps, ok, err := export.WithStepProbs(g)
		if err != nil || !ok {
			t.Fatalf("%s: WithStepProbs: ok %v, %v", c, ok, err)
		}
		state, ok, err := export.WithState(g)
		if err != nil || !ok {
			t.Fatalf("%s: WithState: ok %v, %v", c, ok, err)
		}
		fill := slices.ContainsFunc(state.Inputs, func(v graph.Value) bool { return v.Name == export.FillInput })
		if fill != (c.missing == compiler.MissingForwardFill) {
			t.Fatalf("%s: the rebuilt stateful model has fill_in: %v", c, fill)
		}
		rng := rand.New(rand.NewPCG(uint64(i), 12))
		seqs := gappySeqs(rng, c, 6, 10)
		x, lengths := padded(seqs, preF)
		in := map[string]*graph.Tensor{"x": x, "lengths": lengths}
		want, err := interpRun(g)
		if err != nil {
			t.Fatal(err)
		}
		wantOut, err := want(in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := interpRun(steps)
		if err != nil {
			t.Fatal(err)
		}
		gotOut, err := got(in)
		if err != nil {
			t.Fatal(err)
		}
		if !equalF32(gotOut["probs"].F32, wantOut["probs"].F32) {
			t.Fatalf("%s: the rebuild with step_probs gives probs %v, the model %v", c, gotOut["probs"].F32, wantOut["probs"].F32)
		}
	}
}

// TestONNXCheckerPreprocess: onnx.checker (full_check, with strict shape
// inference) accepts every preprocessing model, plain and stateful, at
// the opsets Debian's onnx knows.
func TestONNXCheckerPreprocess(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i, c := range preCases() {
		if c.opset > 17 {
			continue
		}
		prog := testProgram(t, c.config(uint64(700+i)))
		for _, stateful := range []bool{false, true} {
			path := filepath.Join(dir, fmt.Sprintf("%s-stateful%v.onnx", c, stateful))
			if err := runtime.WriteModelFile(path, prog, export.Options{Opset: c.opset, Stateful: stateful, Version: testVersion}); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, path)
		}
	}
	res := runChecker(t, paths)
	for _, p := range paths {
		if r := res[p]; r != "ok" {
			t.Errorf("%s: onnx.checker: %q", filepath.Base(p), r)
		}
	}
	t.Logf("onnx.checker (full_check) accepted %d of %d models", countOK(res, paths), len(paths))
}
