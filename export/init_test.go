package export_test

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/runtime"
)

// externalSpec has the architecture of testdata/onnx/lstm_classifier.onnx,
// a model built with onnx.helper outside trnn: 5 features, one LSTM of 8
// units, 3 labels, no normalisation.
const externalSpec = `
inputs: {features: 5, normalize: none}
layers: [{lstm: {units: 8}}]
outputs: {labels: 3}
`

// TestInitParamsExternalModel initialises a compiled program from an ONNX
// classifier written outside trnn (LSTM with separate Wb and Rb, a Gemm
// head) and checks that it then predicts the model's reference outputs
// (computed by numpy from the ONNX equations, and matched by ONNX Runtime
// in external_ort_test.go). The head is also rewritten as a Gemm with
// [H, K] weights and as a MatMul + Add, the other orientations a model may
// use.
func TestInitParamsExternalModel(t *testing.T) {
	dir := filepath.Join("..", "testdata", "onnx")
	x, _, err := export.ReadTensorFile(filepath.Join(dir, "lstm_classifier.input.pb"))
	if err != nil {
		t.Fatal(err)
	}
	lens, _, _ := export.ReadTensorFile(filepath.Join(dir, "lstm_classifier.seq_lens.pb"))
	want, _, _ := export.ReadTensorFile(filepath.Join(dir, "lstm_classifier.output.pb"))
	N, T, F := x.Shape[0], x.Shape[1], x.Shape[2]
	K := want.Shape[1]
	// The sequences of nonzero length, as a dataset.
	d := &data.Dataset{Source: "external", F: F, K: K}
	var rows []int
	for i := 0; i < N; i++ {
		L := int(lens.I32[i])
		if L == 0 {
			continue
		}
		rows = append(rows, i)
		d.X = append(d.X, append([]float32(nil), x.F32[i*T*F:(i*T+L)*F]...))
		d.Y = append(d.Y, make([]float32, K)...)
	}

	variants := map[string]func(g *graph.Graph){
		"gemm [K,H]": func(*graph.Graph) {},
		"gemm [H,K]": func(g *graph.Graph) {
			for _, n := range g.Nodes {
				if n.Op == graph.OpGemm {
					p := g.Param(n.Inputs[1])
					p.Tensor = transpose(p.Tensor)
					n.Attrs["transB"] = graph.Attr{Kind: graph.AttrInt, Int: 0}
				}
			}
		},
		"matmul+add": func(g *graph.Graph) {
			for i, n := range g.Nodes {
				if n.Op != graph.OpGemm {
					continue
				}
				w := g.Param(n.Inputs[1])
				w.Tensor = transpose(w.Tensor)
				mm := &graph.Node{Name: "mm", Op: graph.OpMatMul, Inputs: n.Inputs[:2], Outputs: []string{"mm_out"}}
				add := &graph.Node{Name: "add", Op: graph.OpAdd, Inputs: []string{"mm_out", n.Inputs[2]}, Outputs: n.Outputs}
				g.Nodes = append(g.Nodes[:i], append([]*graph.Node{mm, add}, g.Nodes[i+1:]...)...)
				return
			}
		},
	}
	// A spec that normalises its inputs, initialised from a model that does
	// not: the normalisation becomes the identity, so predictions match too.
	variants["gemm [K,H], spec normalises"] = variants["gemm [K,H]"]
	for name, edit := range variants {
		g, err := export.ReadONNX(filepath.Join(dir, "lstm_classifier.onnx"))
		if err != nil {
			t.Fatal(err)
		}
		edit(g)
		src := externalSpec
		if strings.Contains(name, "normalises") {
			src = strings.Replace(src, "normalize: none", "normalize: standard", 1)
		}
		spec, err := compiler.Parse("external.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		prog, err := compiler.Compile(spec)
		if err != nil {
			t.Fatal(err)
		}
		if mean := prog.Graph.Param("inputs.mean"); mean != nil { // as if fitted on some data
			for i := range mean.Tensor.F32 {
				mean.Tensor.F32[i], prog.Graph.Param("inputs.std").Tensor.F32[i] = 0.3, 2
			}
		}
		if err := export.InitParams("lstm_classifier.onnx", g, prog.Graph); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		m, err := runtime.NewModel(prog)
		if err != nil {
			t.Fatal(err)
		}
		got := m.Predict(d)
		runtime.Sigmoid(got)
		m.Close()
		worst := 0.0
		for j, i := range rows {
			for k := 0; k < K; k++ {
				worst = math.Max(worst, math.Abs(float64(got[j*K+k]-want.F32[i*K+k])))
			}
		}
		if worst > 1e-5 {
			t.Fatalf("%s: after InitParams the model differs from the ONNX model's outputs by %g", name, worst)
		}
		t.Logf("%s: max |Δ| %.2g", name, worst)
	}
}

// TestInitParamsRefusesOtherArchitectures names what does not fit.
func TestInitParamsRefusesOtherArchitectures(t *testing.T) {
	dir := filepath.Join("..", "testdata", "onnx")
	cases := []struct{ spec, file, want string }{
		{strings.Replace(externalSpec, "units: 8", "units: 9", 1), "lstm_classifier.onnx", "is not a float32 constant of 180 values"},
		{strings.Replace(externalSpec, "lstm:", "gru:", 1), "lstm_classifier.onnx", `node "lstm" is LSTM, the spec's layer layers.0 is GRU`},
		{strings.Replace(externalSpec, "[{lstm: {units: 8}}]", "[{lstm: {units: 8}}, {lstm: {units: 8}}]", 1), "lstm_classifier.onnx", "has 1 recurrent layers, the spec has 2"},
		{strings.Replace(externalSpec, "labels: 3", "labels: 2", 1), "lstm_classifier.onnx", "no head found"},
		{strings.Replace(externalSpec, "lstm:", "gru:", 1), "gru_classifier.onnx", "direction bidirectional"},
	}
	for _, c := range cases {
		g, err := export.ReadONNX(filepath.Join(dir, c.file))
		if err != nil {
			t.Fatal(err)
		}
		spec, err := compiler.Parse("s.yaml", []byte(c.spec))
		if err != nil {
			t.Fatal(err)
		}
		prog, err := compiler.Compile(spec)
		if err != nil {
			t.Fatal(err)
		}
		err = export.InitParams(c.file, g, prog.Graph)
		if err == nil || !strings.HasPrefix(err.Error(), c.file+": ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s with %q: got %v, want an error naming the file and saying %q", c.file, c.spec, err, c.want)
		}
	}
}

// transpose returns the transpose of a 2-D float32 tensor.
func transpose(t *graph.Tensor) *graph.Tensor {
	r, c := t.Shape[0], t.Shape[1]
	out := graph.NewTensor(graph.Float32, c, r)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			out.F32[j*r+i] = t.F32[i*c+j]
		}
	}
	return out
}
