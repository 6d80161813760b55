package trnn_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/runtime"
)

// Models built outside trnn with onnx.helper by testdata/onnx/make_external.py,
// which also wrote a padded batch and the outputs of a numpy implementation
// of the same equations (ONNX Runtime's padded-step rule).
var externalModels = []string{"lstm_classifier", "gru_classifier", "gru_forward_classifier"}

func externalPath(name, suffix string) string {
	return filepath.Join("testdata", "onnx", name+suffix)
}

// externalCase loads a model's reference batch: x [N, T, F], lengths [N]
// and the expected output [N, K].
func externalCase(t *testing.T, name string) (x, lens, want *graph.Tensor) {
	t.Helper()
	var err error
	for _, f := range []struct {
		suffix string
		dst    **graph.Tensor
	}{{".input.pb", &x}, {".seq_lens.pb", &lens}, {".output.pb", &want}} {
		if *f.dst, _, err = export.ReadTensorFile(externalPath(name, f.suffix)); err != nil {
			t.Fatal(err)
		}
	}
	return x, lens, want
}

// ragged cuts the padded batch into sequences of their own lengths.
func ragged(x, lens *graph.Tensor) [][][]float32 {
	T, F := x.Shape[1], x.Shape[2]
	seqs := make([][][]float32, x.Shape[0])
	for b, l := range lens.I32 {
		seqs[b] = make([][]float32, l)
		for t := range int(l) {
			seqs[b][t] = x.F32[(b*T+t)*F : (b*T+t+1)*F]
		}
	}
	return seqs
}

// closeRows fails unless got (one row per sequence) matches want [N, K].
func closeRows(t *testing.T, what string, got [][]float32, want *graph.Tensor, tol float64) {
	t.Helper()
	K := want.Shape[1]
	if len(got) != want.Shape[0] {
		t.Fatalf("%s: %d rows, want %d", what, len(got), want.Shape[0])
	}
	for b, row := range got {
		if len(row) != K {
			t.Fatalf("%s: row %d has %d values, want %d", what, b, len(row), K)
		}
		for k, v := range row {
			if d := math.Abs(float64(v) - float64(want.F32[b*K+k])); d > tol {
				t.Fatalf("%s: row %d label %d: %v, want %v (|diff| %.3g)", what, b, k, v, want.F32[b*K+k], d)
			}
		}
	}
}

func TestExternalModels(t *testing.T) {
	for _, name := range externalModels {
		s, err := trnn.Load(externalPath(name, ".onnx"))
		if err != nil {
			t.Fatal(err)
		}
		x, lens, want := externalCase(t, name)
		out, err := s.Run(map[string]*graph.Tensor{"input": x, "seq_lens": lens})
		if err != nil {
			t.Fatal(err)
		}
		y := out["output"]
		rows := make([][]float32, y.Shape[0])
		for b := range rows {
			rows[b] = y.F32[b*y.Shape[1] : (b+1)*y.Shape[1]]
		}
		closeRows(t, name+" Run", rows, want, 1e-5)

		got, err := s.Predict(ragged(x, lens))
		if err != nil {
			t.Fatal(err)
		}
		closeRows(t, name+" Predict", got, want, 1e-5)

		in := s.Inputs()
		if len(in) != 2 || in[0].Name != "input" || in[0].Shape.String() != "[N,T,5]" || in[1].DType != graph.Int32 {
			t.Fatalf("%s: inputs %+v", name, in)
		}
		if o := s.Outputs(); len(o) != 1 || o[0].Name != "output" {
			t.Fatalf("%s: outputs %+v", name, o)
		}
	}
}

// editModel rewrites a model file with edit and returns the new file.
func editModel(t *testing.T, name string, edit func(g *onnxpb.GraphProto)) string {
	t.Helper()
	return editModelProto(t, name, func(m *onnxpb.ModelProto) { edit(m.Graph) })
}

// editModelProto is editModel for edits beyond the graph.
func editModelProto(t *testing.T, name string, edit func(m *onnxpb.ModelProto)) string {
	t.Helper()
	b, err := os.ReadFile(externalPath(name, ".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(&m)
	if b, err = proto.Marshal(&m); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name+".onnx")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func dims(vi *onnxpb.ValueInfoProto, ds ...any) {
	var out []*onnxpb.TensorShapeProto_Dimension
	for _, d := range ds {
		switch d := d.(type) {
		case int:
			out = append(out, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
		case string:
			out = append(out, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d}})
		}
	}
	vi.Type.GetTensorType().Shape.Dim = out
}

// TestPredictAdaptsToTheModel: the same LSTM classifier without a lengths
// input, time-major, or with a fixed batch of 1 must predict the same.
func TestPredictAdaptsToTheModel(t *testing.T) {
	x, lens, want := externalCase(t, "lstm_classifier")
	seqs := ragged(x, lens)
	for _, c := range []struct {
		name string
		edit func(g *onnxpb.GraphProto)
	}{
		{"no lengths input", func(g *onnxpb.GraphProto) {
			g.Input = g.Input[:1]
			g.Node[1].Input = g.Node[1].Input[:4] // LSTM(X, W, R, B)
		}},
		{"time-major", func(g *onnxpb.GraphProto) {
			dims(g.Input[0], "T", "N", 5)
			g.Node = g.Node[1:]
			g.Node[0].Input[0] = "input"
		}},
		{"time-major by name only", func(g *onnxpb.GraphProto) {
			dims(g.Input[0], "seq_len", "batch", 5)
			dims(g.Input[1], "rows")
			g.Node = g.Node[1:]
			g.Node[0].Input[0] = "input"
		}},
		{"fixed batch of 1", func(g *onnxpb.GraphProto) {
			dims(g.Input[0], 1, "T", 5)
			dims(g.Input[1], 1)
			dims(g.Output[0], 1, 3)
		}},
		{"fixed time", func(g *onnxpb.GraphProto) { dims(g.Input[0], "N", 7, 5) }},
	} {
		s, err := trnn.Load(editModel(t, "lstm_classifier", c.edit))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := s.Predict(seqs)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		closeRows(t, c.name, got, want, 1e-5)
	}
}

func TestPredictErrors(t *testing.T) {
	s, err := trnn.Load(externalPath("lstm_classifier", ".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	steps := func(n, f int) [][]float32 {
		seq := make([][]float32, n)
		for i := range seq {
			seq[i] = make([]float32, f)
		}
		return seq
	}
	seqs := [][][]float32{steps(2, 5), steps(3, 5), steps(1, 5), steps(4, 5)}
	seqs[3][2] = make([]float32, 4)
	_, err = s.Predict(seqs)
	want := externalPath("lstm_classifier", ".onnx") + ": sequence 3 step 2: 4 features, the model expects 5"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	if got, err := s.Predict(nil); err != nil || len(got) != 0 {
		t.Errorf("no sequences: %v, %v", got, err)
	}
	// Empty sequences are valid: ONNX Runtime's rule gives the head of a
	// zero state.
	got, err := s.Predict([][][]float32{{}, steps(2, 5)})
	if err != nil || len(got) != 2 || len(got[0]) != 3 {
		t.Fatalf("empty sequence: %v, %v", got, err)
	}

	fixed, err := trnn.Load(editModel(t, "lstm_classifier", func(g *onnxpb.GraphProto) { dims(g.Input[0], "N", 3, 5) }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fixed.Predict([][][]float32{steps(2, 5), steps(4, 5)}); err == nil || !strings.HasSuffix(err.Error(), "sequence 1 has 4 steps, the model takes at most 3") {
		t.Errorf("too long: %v", err)
	}

	two, err := trnn.Load(editModel(t, "lstm_classifier", func(g *onnxpb.GraphProto) {
		g.Input[1].Type.GetTensorType().ElemType = proto.Int32(int32(onnxpb.TensorProto_FLOAT))
		dims(g.Input[1], "N", "T", 5)
		g.Node[1].Input[4] = ""
		g.Node = append(g.Node, &onnxpb.NodeProto{OpType: proto.String("Identity"), Input: []string{"seq_lens"}, Output: []string{"echo"}})
		g.Output = append(g.Output, &onnxpb.ValueInfoProto{Name: proto.String("echo"), Type: g.Input[1].Type})
	}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = two.Predict(seqs[:1])
	if err == nil || !strings.Contains(err.Error(), "Predict needs one float input [batch, time, features] and at most one integer lengths input [batch]; the model's inputs are input float32 [N,T,5], seq_lens float32 [N,T,5] (use Run)") {
		t.Errorf("two float inputs: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	_, err := trnn.Load(filepath.Join("testdata", "onnx", "missing.onnx"))
	if err == nil || err.Error() != filepath.Join("testdata", "onnx", "missing.onnx")+": cannot open: no such file or directory" {
		t.Errorf("missing file: %v", err)
	}
	path := editModel(t, "lstm_classifier", func(g *onnxpb.GraphProto) {
		g.Node[1].Attribute = append(g.Node[1].Attribute, &onnxpb.AttributeProto{Name: proto.String("clip"), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(5)})
	})
	_, err = trnn.Load(path)
	if err == nil || err.Error() != path+`: node "lstm" (LSTM): attribute clip is not supported` || !errors.Is(err, trnn.ErrUnsupported) {
		t.Errorf("clip: %v", err)
	}
	garbage := filepath.Join(t.TempDir(), "data.csv")
	os.WriteFile(garbage, []byte("id,hr\n1,80\n"), 0o644)
	_, err = trnn.Load(garbage)
	if err == nil || !strings.HasPrefix(err.Error(), garbage+": not an ONNX model") || errors.Is(err, trnn.ErrUnsupported) {
		t.Errorf("not a model: %v", err)
	}
}

// TestLoadBytes: a model in memory loads like the file, and errors carry
// the given name.
func TestLoadBytes(t *testing.T) {
	path := filepath.Join("testdata", "onnx", "lstm_classifier.onnx")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fromFile, err := trnn.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	fromBytes, err := trnn.LoadBytes("in-memory", b)
	if err != nil {
		t.Fatal(err)
	}
	seqs := [][][]float32{{{0.5, -1, 2, 0, 1}, {1, 0, 0.25, -2, 0.5}}, {{-0.3, 0.7, 1.1, 0, 0}}} // F = 5
	pf, err := fromFile.Predict(seqs)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := fromBytes.Predict(seqs)
	if err != nil || fmt.Sprint(pf) != fmt.Sprint(pb) {
		t.Fatalf("Load gives %v, LoadBytes %v (%v)", pf, pb, err)
	}
	if _, err := trnn.LoadBytes("in-memory", b[:len(b)/2]); err == nil || !strings.HasPrefix(err.Error(), "in-memory: ") {
		t.Fatalf("truncated model: %v", err)
	}
}

// TestTrnnExportedModel: a model exported by trnn loads, carries its
// metadata, and Predict agrees with Run on the padded batch.
func TestTrnnExportedModel(t *testing.T) {
	spec := compiler.DefaultSpec()
	spec.Name = "embed"
	spec.Inputs.Features = 4
	spec.Layers = []compiler.Layer{{Kind: compiler.LayerLSTM, Units: 6}, {Kind: compiler.LayerGRU, Units: 5}}
	spec.Outputs.Labels = 2
	prog, err := compiler.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Initialize(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := runtime.WriteModel(&buf, prog, export.Options{Version: "test"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := trnn.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if md := s.Metadata(); md[export.MetaSpecName] != "embed" || md[export.MetaVersion] != "test" {
		t.Fatalf("metadata %v", md)
	}
	seqs := [][][]float32{
		{{1, 2, 3, 4}, {0, 1, 0, 1}, {-1, 0.5, 2, 0}},
		{{0.5, 0.5, 0.5, 0.5}},
		{},
		{{3, 2, 1, 0}, {1, 1, 1, 1}},
	}
	got, err := s.Predict(seqs)
	if err != nil {
		t.Fatal(err)
	}
	x := graph.NewTensor(graph.Float32, 4, 3, 4)
	lens := graph.NewTensor(graph.Int32, 4)
	for b, seq := range seqs {
		lens.I32[b] = int32(len(seq))
		for s, step := range seq {
			copy(x.F32[(b*3+s)*4:], step)
		}
	}
	out, err := s.Run(map[string]*graph.Tensor{"x": x, "lengths": lens})
	if err != nil {
		t.Fatal(err)
	}
	closeRows(t, "Predict vs Run", got, out["probs"], 0)
}

// TestPredictLargeBatch: a batch large enough to be split across cores
// gives each sequence the answer it gets alone.
func TestPredictLargeBatch(t *testing.T) {
	s, err := trnn.Load(externalPath("lstm_classifier", ".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	seqs := make([][][]float32, 300)
	for i := range seqs {
		seqs[i] = make([][]float32, rng.IntN(12))
		for t := range seqs[i] {
			seqs[i][t] = make([]float32, 5)
			for f := range seqs[i][t] {
				seqs[i][t][f] = float32(rng.NormFloat64())
			}
		}
	}
	all, err := s.Predict(seqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, seq := range seqs {
		one, err := s.Predict([][][]float32{seq})
		if err != nil {
			t.Fatal(err)
		}
		for k := range one[0] {
			if math.Abs(float64(one[0][k]-all[i][k])) > 1e-6 {
				t.Fatalf("sequence %d: %v in the batch, %v alone", i, all[i], one[0])
			}
		}
	}
}

func TestPredictConcurrent(t *testing.T) {
	s, err := trnn.Load(externalPath("gru_classifier", ".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	x, lens, want := externalCase(t, "gru_classifier")
	seqs := ragged(x, lens)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				// Each goroutine predicts a different rotation of the batch.
				k := (w + i) % len(seqs)
				rot := append(slices.Clone(seqs[k:]), seqs[:k]...)
				got, err := s.Predict(rot)
				if err != nil {
					errs <- err
					return
				}
				for j, row := range got {
					b := (j + k) % len(seqs)
					for l, v := range row {
						if math.Abs(float64(v-want.F32[b*3+l])) > 1e-5 {
							errs <- fmt.Errorf("goroutine %d: row %d differs", w, b)
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// stepsProgram compiles and initialises the network the root package's
// tests export: 4 features, an LSTM of 6 units and a GRU of 5, 2 labels,
// the default seed's weights.
func stepsProgram(t testing.TB) *compiler.Program {
	t.Helper()
	spec := compiler.DefaultSpec()
	spec.Name = "steps"
	spec.Inputs.Features = 4
	spec.Layers = []compiler.Layer{{Kind: compiler.LayerLSTM, Units: 6}, {Kind: compiler.LayerGRU, Units: 5}}
	spec.Outputs.Labels = 2
	prog, err := compiler.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Initialize(); err != nil {
		t.Fatal(err)
	}
	return prog
}

// trnnModel writes a model as trnn exports it, with step_probs when asked:
// 4 features normalised with fitted statistics, an LSTM of 6 units and a
// GRU of 5, 2 labels, seeded random weights.
func trnnModel(t *testing.T, stepProbs bool) string {
	t.Helper()
	prog := stepsProgram(t)
	rng := rand.New(rand.NewPCG(5, 5))
	for _, p := range prog.Graph.Params {
		switch p.Name {
		case compiler.ParamMean:
			for i := range p.Tensor.F32 {
				p.Tensor.F32[i] = float32(rng.NormFloat64())
			}
		case compiler.ParamStd:
			for i := range p.Tensor.F32 {
				p.Tensor.F32[i] = float32(0.5 + rng.Float64())
			}
		}
	}
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := runtime.WriteModelFile(path, prog, export.Options{StepProbs: stepProbs}); err != nil {
		t.Fatal(err)
	}
	return path
}

// randomSeqs makes n sequences of 0..maxLen steps of F normal features.
func randomSeqs(rng *rand.Rand, n, maxLen, F int) [][][]float32 {
	seqs := make([][][]float32, n)
	for i := range seqs {
		seqs[i] = make([][]float32, rng.IntN(maxLen+1))
		for t := range seqs[i] {
			seqs[i][t] = make([]float32, F)
			for f := range seqs[i][t] {
				seqs[i][t][f] = float32(rng.NormFloat64())
			}
		}
	}
	return seqs
}

// TestPredictStepsMatchesPrefixes: PredictSteps gives, at every step, what
// Predict gives for the prefix ending there: through step_probs rebuilt
// into a trnn model exported without it, through a model's own
// step_probs, and by running prefixes for models without either (there
// bit for bit, as the batching is the same).
func TestPredictStepsMatchesPrefixes(t *testing.T) {
	for _, c := range []struct {
		name  string
		path  string
		exact bool
	}{
		{"trnn model", trnnModel(t, false), false},
		{"trnn model with step_probs", trnnModel(t, true), false},
		{"lstm_classifier", externalPath("lstm_classifier", ".onnx"), true},
		{"gru_classifier (bidirectional)", externalPath("gru_classifier", ".onnx"), true},
	} {
		s, err := trnn.Load(c.path)
		if err != nil {
			t.Fatal(err)
		}
		F := s.Inputs()[0].Shape[2].Size
		seqs := randomSeqs(rand.New(rand.NewPCG(3, 4)), 30, 15, F)
		steps, err := s.PredictSteps(seqs)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var prefixes [][][]float32
		for _, seq := range seqs {
			for n := 1; n <= len(seq); n++ {
				prefixes = append(prefixes, seq[:n])
			}
		}
		want, err := s.Predict(prefixes)
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for i, seq := range seqs {
			if len(steps[i]) != len(seq) {
				t.Fatalf("%s: sequence %d: %d rows for %d steps", c.name, i, len(steps[i]), len(seq))
			}
			for st, row := range steps[i] {
				for k, v := range row {
					w := want[0][k]
					if d := math.Abs(float64(v - w)); d > worst {
						worst = d
					}
					if c.exact && math.Float32bits(v) != math.Float32bits(w) {
						t.Fatalf("%s: sequence %d step %d label %d: %v, the prefix gives %v", c.name, i, st, k, v, w)
					}
				}
				want = want[1:]
			}
		}
		if worst > 1e-6 {
			t.Fatalf("%s: PredictSteps differs from Predict on prefixes by %g", c.name, worst)
		}
		t.Logf("%s: PredictSteps vs Predict on every prefix: max |Δ| = %.2g", c.name, worst)
	}
}

// paddedSizeModel loads a model whose output [N, 1] holds, in every row,
// the padded size of the batch it ran in: rows × steps of its input x
// [N, T, 5] (the inputs of lstm_classifier).
func paddedSizeModel(t *testing.T) *trnn.Session {
	t.Helper()
	i64 := func(name string, dims []int64, v ...int64) *onnxpb.TensorProto {
		return &onnxpb.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Int64Data: v}
	}
	node := func(op string, in []string, out string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
		return &onnxpb.NodeProto{OpType: proto.String(op), Input: in, Output: []string{out}, Attribute: attrs}
	}
	intAttr := func(name string, v int64) *onnxpb.AttributeProto {
		return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
	}
	path := editModel(t, "lstm_classifier", func(g *onnxpb.GraphProto) {
		g.Initializer = []*onnxpb.TensorProto{i64("c0", nil, 0), i64("c1", nil, 1), i64("first", []int64{1}, 0), i64("one", []int64{1}, 1)}
		g.Node = []*onnxpb.NodeProto{
			node("Shape", []string{"input"}, "shape"),
			node("Gather", []string{"shape", "c0"}, "rows"),
			node("Gather", []string{"shape", "c1"}, "steps"),
			node("Mul", []string{"rows", "steps"}, "size"),
			node("Cast", []string{"size"}, "size_f", intAttr("to", int64(onnxpb.TensorProto_FLOAT))),
			node("Gather", []string{"shape", "first"}, "rows_1"),
			node("Concat", []string{"rows_1", "one"}, "out_shape", intAttr("axis", 0)),
			node("Expand", []string{"size_f", "out_shape"}, "output"),
		}
		dims(g.Output[0], "N", 1)
	})
	s, err := trnn.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// budget is the most elements of x a batch may hold: 16 Mi.
const budget = 16 << 20

// TestPredictBucketsByLength: one long sequence among many short ones no
// longer pads them all to its length. Predict sorts rows by length and
// cuts batches to a budget, so the short ones run in batches of one step,
// the long one alone, and memory follows the input's size.
func TestPredictBucketsByLength(t *testing.T) {
	const short, long, F = 2000, 40000, 5
	seqs := make([][][]float32, short+1)
	rng := rand.New(rand.NewPCG(9, 9))
	for i := range seqs {
		n := 1
		if i == short/2 {
			n = long
		}
		seqs[i] = randomSeqs(rng, 1, 0, F)[0]
		for range n {
			step := make([]float32, F)
			for f := range step {
				step[f] = float32(rng.NormFloat64())
			}
			seqs[i] = append(seqs[i], step)
		}
	}

	sizes, err := paddedSizeModel(t).Predict(seqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range sizes {
		switch size := int(row[0]); {
		case i == short/2 && size != long:
			t.Fatalf("the long sequence ran in a batch of %d padded steps, want %d (alone)", size, long)
		case i != short/2 && size > short:
			t.Fatalf("short sequence %d ran in a batch of %d padded steps, want at most %d", i, size, short)
		}
	}

	s, err := trnn.Load(externalPath("lstm_classifier", ".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	all, err := s.Predict(seqs)
	goruntime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	padded := uint64(len(seqs)) * long * F * 4 // x alone, padded to the longest
	t.Logf("Predict allocated %d MiB; one padded batch would hold %d MiB in x alone", allocated>>20, padded>>20)
	if allocated > 64<<20 {
		t.Fatalf("Predict allocated %d MiB for %d short sequences and one of %d steps", allocated>>20, short, long)
	}
	for _, i := range []int{0, 1, short / 2, short - 1, short} {
		one, err := s.Predict(seqs[i : i+1])
		if err != nil {
			t.Fatal(err)
		}
		for k := range one[0] {
			if math.Abs(float64(one[0][k]-all[i][k])) > 1e-6 {
				t.Fatalf("sequence %d: %v in the batch, %v alone", i, all[i], one[0])
			}
		}
	}
}

// TestPredictStepsOfOtherModelsIsBounded: a model without a per-step
// output gets every prefix run, in batches within the budget however long
// the sequence (all prefixes of 6000 steps padded together would be 36 M
// steps).
func TestPredictStepsOfOtherModelsIsBounded(t *testing.T) {
	const T, F = 6000, 5
	seqs := randomSeqs(rand.New(rand.NewPCG(1, 1)), 3, 10, F)
	seqs = append(seqs, make([][]float32, T))
	for i := range seqs[3] {
		seqs[3][i] = make([]float32, F)
	}
	steps, err := paddedSizeModel(t).PredictSteps(seqs)
	if err != nil {
		t.Fatal(err)
	}
	batches := map[float32]bool{}
	for i, seq := range seqs {
		if len(steps[i]) != len(seq) {
			t.Fatalf("sequence %d: %d rows for %d steps", i, len(steps[i]), len(seq))
		}
		for _, row := range steps[i] {
			if int(row[0])*F > budget {
				t.Fatalf("sequence %d ran in a batch of %v padded steps: %v elements of x, over %d", i, row[0], int(row[0])*F, budget)
			}
			batches[row[0]] = true
		}
	}
	if len(batches) < 2 {
		t.Fatalf("every prefix ran in one batch")
	}
}

// The Go Predict returned NaN for NaN input, and a finite number for +Inf.
// A value that is not finite is refused, naming the sequence, step and
// feature, unless the model imputes missing values (then only NaN passes).
func TestPredictRefusesNonFiniteInput(t *testing.T) {
	path := externalPath("lstm_classifier", ".onnx")
	s, err := trnn.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		v    float32
		want string
	}{
		{float32(math.NaN()), path + ": sequence 1 step 2 feature 3: NaN (a missing value), and the model does not impute missing values"},
		{float32(math.Inf(1)), path + ": sequence 1 step 2 feature 3: +Inf, expected a finite number"},
		{float32(math.Inf(-1)), path + ": sequence 1 step 2 feature 3: -Inf, expected a finite number"},
	} {
		seqs := randomSeqs(rand.New(rand.NewPCG(2, 2)), 3, 0, 5)
		for i := range seqs {
			seqs[i] = randomSeqs(rand.New(rand.NewPCG(uint64(i), 2)), 4, 0, 5)[0]
			for range 4 {
				seqs[i] = append(seqs[i], []float32{0.5, -1, 0.25, 2, 0})
			}
		}
		seqs[1][2][3] = c.v
		flat := flatRows(seqs) // each row one array: Predict copies it at once
		for name, run := range map[string]func() error{
			"Predict":                    func() error { _, err := s.Predict(seqs); return err },
			"PredictSteps":               func() error { _, err := s.PredictSteps(seqs); return err },
			"Predict, rows in one piece": func() error { _, err := s.Predict(flat); return err },
		} {
			err := run()
			var in *trnn.NonFiniteInputError
			if !errors.As(err, &in) || in.Seq != 1 || in.Step != 2 || in.Feature != 3 || err.Error() != c.want {
				t.Errorf("%s with %v: %v, want %q", name, c.v, err, c.want)
			}
		}
	}

	// Without lengths, each length runs as a batch of its own, at once:
	// the value reported is the first of all, whatever batch refuses first.
	noLengths, err := trnn.Load(editModelProto(t, "lstm_classifier", func(m *onnxpb.ModelProto) {
		g := m.Graph
		g.Input = slices.DeleteFunc(g.Input, func(vi *onnxpb.ValueInfoProto) bool { return vi.GetName() == "seq_lens" })
		for _, n := range g.Node {
			if n.GetOpType() == "LSTM" {
				n.Input = n.Input[:4]
			}
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	seqs := make([][][]float32, 40)
	for i := range seqs {
		seqs[i] = nil
		for range 1 + i%7 {
			seqs[i] = append(seqs[i], []float32{0.5, -1, 0.25, 2, 0})
		}
	}
	seqs[33][0][1], seqs[9][2][4] = float32(math.Inf(-1)), float32(math.NaN())
	for range 5 {
		var in *trnn.NonFiniteInputError
		if _, err := noLengths.Predict(seqs); !errors.As(err, &in) || in.Seq != 9 || in.Step != 2 || in.Feature != 4 {
			t.Fatalf("two batches with a value refused: %v, want sequence 9 step 2 feature 4", err)
		}
	}

	imputes, err := trnn.Load(editModelProto(t, "lstm_classifier", func(m *onnxpb.ModelProto) {
		m.MetadataProps = append(m.MetadataProps, &onnxpb.StringStringEntryProto{Key: proto.String("trnn.missing"), Value: proto.String("forward_fill")})
	}))
	if err != nil {
		t.Fatal(err)
	}
	seqs = [][][]float32{{{0, 0, float32(math.NaN()), 0, 0}}}
	// This model only claims to impute: its output is NaN, refused as such.
	var out *trnn.NonFiniteOutputError
	if _, err := imputes.Predict(seqs); !errors.As(err, &out) {
		t.Errorf("NaN for a model that imputes: %v, want the input accepted", err)
	}
	seqs[0][0][2] = float32(math.Inf(1))
	var in *trnn.NonFiniteInputError
	if _, err := imputes.Predict(seqs); !errors.As(err, &in) {
		t.Errorf("+Inf for a model that imputes: %v, want it refused", err)
	}
}

// flatRows copies seqs with each sequence's steps cut from one array, the
// way a dataset's rows are.
func flatRows(seqs [][][]float32) [][][]float32 {
	out := make([][][]float32, len(seqs))
	for i, seq := range seqs {
		var row []float32
		for _, step := range seq {
			row = append(row, step...)
		}
		out[i] = make([][]float32, len(seq))
		for t, step := range seq {
			out[i][t] = row[t*len(step) : (t+1)*len(step)]
		}
	}
	return out
}

// TestPredictRefusesNonFiniteOutput: a model whose output is NaN for some
// sequences is an error naming them (and, per step, where it starts), as
// eval refuses such a model, instead of rows of NaN.
func TestPredictRefusesNonFiniteOutput(t *testing.T) {
	// W's column of feature 0 is +Inf: a step with feature 0 at 0 makes
	// Inf·0 = NaN; positive values saturate the gates, which stays finite.
	path := editModel(t, "lstm_classifier", func(g *onnxpb.GraphProto) {
		for _, init := range g.Initializer {
			if init.GetName() == "W" {
				w := onnxFloats(t, init)
				for r := 0; r < len(w)/5; r++ {
					w[r*5] = float32(math.Inf(1))
				}
				init.RawData, init.FloatData = nil, w
			}
		}
	})
	s, err := trnn.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	step := func(x0 float32) []float32 { return []float32{x0, 0.5, -0.5, 1, 0} }
	seqs := [][][]float32{
		{step(1), step(2), step(1)},
		{step(1), step(0), step(1)},
		{step(0)},
		{step(3), step(0.5)},
	}
	_, err = s.Predict(seqs)
	var out *trnn.NonFiniteOutputError
	want := path + `: output "output" is not finite (NaN or ±Inf) for sequences 1, 2`
	if !errors.As(err, &out) || !slices.Equal(out.Seqs, []int{1, 2}) || out.Steps != nil || err.Error() != want {
		t.Errorf("Predict: %v, want %q", err, want)
	}
	_, err = s.PredictSteps(seqs)
	want = path + `: output "output" is not finite (NaN or ±Inf) for sequences 1 (from step 1), 2 (from step 0)`
	if !errors.As(err, &out) || !slices.Equal(out.Seqs, []int{1, 2}) || !slices.Equal(out.Steps, []int{1, 0}) || err.Error() != want {
		t.Errorf("PredictSteps: %v, want %q", err, want)
	}
	if _, err := s.Predict([][][]float32{seqs[0], seqs[3]}); err != nil {
		t.Errorf("finite outputs: %v", err)
	}
}

// onnxFloats returns an initializer's float data, raw or not.
func onnxFloats(t *testing.T, init *onnxpb.TensorProto) []float32 {
	t.Helper()
	if init.FloatData != nil {
		return slices.Clone(init.FloatData)
	}
	w := make([]float32, len(init.RawData)/4)
	for i := range w {
		w[i] = math.Float32frombits(binary.LittleEndian.Uint32(init.RawData[4*i:]))
	}
	return w
}

// ExampleLoad loads a classifier and predicts two sequences of different
// lengths (5 features per step).
func ExampleLoad() {
	s, err := trnn.Load("testdata/onnx/lstm_classifier.onnx")
	if err != nil {
		log.Fatal(err)
	}
	probs, err := s.Predict([][][]float32{
		{{0.1, -0.3, 1.2, 0.0, 0.5}, {0.4, 0.2, -0.7, 1.1, 0.0}}, // 2 steps
		{{-1.0, 0.3, 0.2, 0.8, -0.2}},                            // 1 step
	})
	if err != nil {
		log.Fatal(err)
	}
	for i, p := range probs {
		fmt.Printf("sequence %d: %.3f\n", i, p)
	}
	// Output:
	// sequence 0: [0.653 0.373 0.387]
	// sequence 1: [0.727 0.389 0.379]
}

// ExampleSession_Run feeds named tensors, built with the package's own
// types: a batch of one sequence of two all-zero steps.
func ExampleSession_Run() {
	s, err := trnn.Load("testdata/onnx/lstm_classifier.onnx")
	if err != nil {
		log.Fatal(err)
	}
	x := &trnn.Tensor{DType: trnn.Float32, Shape: []int{1, 2, 5}, F32: make([]float32, 10)} // [batch, time, features]
	lens := &trnn.Tensor{DType: trnn.Int32, Shape: []int{1}, I32: []int32{2}}
	out, err := s.Run(map[string]*trnn.Tensor{"input": x, "seq_lens": lens})
	if err != nil {
		log.Fatal(err)
	}
	y := out["output"]
	fmt.Printf("%v %.3f\n", y.Shape, y.F32)
	// Output:
	// [1 3] [0.650 0.357 0.398]
}

// ExampleSession_PredictSteps gives the probabilities after each step of one
// sequence: after step 2 they are ExampleLoad's for its first two steps.
func ExampleSession_PredictSteps() {
	s, err := trnn.Load("testdata/onnx/lstm_classifier.onnx")
	if err != nil {
		log.Fatal(err)
	}
	steps, err := s.PredictSteps([][][]float32{
		{{0.1, -0.3, 1.2, 0.0, 0.5}, {0.4, 0.2, -0.7, 1.1, 0.0}, {-1.0, 0.3, 0.2, 0.8, -0.2}},
	})
	if err != nil {
		log.Fatal(err)
	}
	for t, p := range steps[0] {
		fmt.Printf("after step %d: %.3f\n", t+1, p)
	}
	// Output:
	// after step 1: [0.699 0.353 0.317]
	// after step 2: [0.653 0.373 0.387]
	// after step 3: [0.674 0.391 0.431]
}
