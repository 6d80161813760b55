package trnn_test

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
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
var externalModels = []string{"lstm_classifier", "gru_classifier"}

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
	b, err := os.ReadFile(externalPath(name, ".onnx"))
	if err != nil {
		t.Fatal(err)
	}
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m.Graph)
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
