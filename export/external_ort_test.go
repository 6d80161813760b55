package export_test

// Models built outside trnn (testdata/onnx/*.onnx, written with onnx.helper
// by testdata/onnx/make_external.py: Transpose → LSTM(sequence_lens) →
// Squeeze → Gemm → Sigmoid and two GRU variants, the forward one and the
// LSTM one run fused by the interpreter) must give ONNX Runtime's
// answers in trnn's runtime, through the interpreter and through
// trnn.Load(...).Predict, what `trnn predict` runs.

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/ortcheck"
)

// externalInputs makes ragged inputs for a model with one float32 input of
// rank 3 ([batch, time, features]) and an optional int32 input of rank 1
// (lengths), using each dimension's fixed size or the given B and T.
// Padded positions of x hold NaN.
func externalInputs(t *testing.T, g *graph.Graph, B, T int, seed uint64) map[string]*graph.Tensor {
	t.Helper()
	size := func(d graph.Dim, sym int) int {
		if d.Sym == "" && d.Size > 0 {
			return d.Size
		}
		return sym
	}
	var xv, lv *graph.Value
	for i := range g.Inputs {
		v := &g.Inputs[i]
		switch {
		case v.DType == graph.Float32 && len(v.Shape) == 3 && xv == nil:
			xv = v
		case v.DType == graph.Int32 && len(v.Shape) == 1 && lv == nil:
			lv = v
		default:
			t.Fatalf("input %s (%v %v): not a sequence or lengths input", v.Name, v.DType, v.Shape)
		}
	}
	if xv == nil {
		t.Fatal("no float32 [batch, time, features] input")
	}
	B, T = size(xv.Shape[0], B), size(xv.Shape[1], T)
	F := size(xv.Shape[2], 3)
	rng := rand.New(rand.NewPCG(seed, 1))
	lengths := make([]int32, B)
	for b := range lengths {
		lengths[b] = int32(1 + rng.IntN(T))
	}
	lengths[0] = int32(T)
	if lv == nil {
		for b := range lengths {
			lengths[b] = int32(T)
		}
	}
	x := make([]float32, B*T*F)
	for b := 0; b < B; b++ {
		for s := 0; s < T; s++ {
			for f := 0; f < F; f++ {
				v := float32(rng.Float64()*4 - 2)
				if s >= int(lengths[b]) {
					v = float32(math.NaN())
				}
				x[(b*T+s)*F+f] = v
			}
		}
	}
	in := map[string]*graph.Tensor{xv.Name: graph.FromF32(x, B, T, F)}
	if lv != nil {
		in[lv.Name] = &graph.Tensor{DType: graph.Int32, Shape: []int{B}, I32: lengths}
	}
	return in
}

func TestExternalModelsORT(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "onnx", "*.onnx"))
	if len(paths) == 0 {
		t.Fatal("no models in testdata/onnx (testdata/onnx/make_external.py writes them)")
	}
	ortcheck.Require(t)
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) { checkExternalModel(t, path) })
	}
}

// checkExternalModel runs the model at path in ONNX Runtime and in the Go
// runtime on ragged batches (1×1, 1×9, 64×9, 7×4, 256×48, padded with NaN) and
// compares every output.
func checkExternalModel(t *testing.T, path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := export.DecodeONNX(path, b)
	if err != nil {
		t.Fatalf("trnn cannot read the model: %v", err)
	}
	ip := goRuntime(t, path, b)
	var outs []string
	for _, o := range g.Outputs {
		outs = append(outs, o.Name)
	}
	worst := 0.0
	// 256×48 splits a fused classifier's rows across the cores.
	for i, shape := range [][2]int{{1, 1}, {1, 9}, {64, 9}, {7, 4}, {256, 48}} {
		in := externalInputs(t, g, shape[0], shape[1], uint64(i))
		want, err := ortcheck.Run(b, in, outs)
		if err != nil {
			t.Fatalf("onnx runtime: %v", err)
		}
		got, err := ip.Run(in)
		if err != nil {
			t.Fatalf("go runtime: %v", err)
		}
		for _, name := range outs {
			w, g := want[name], got[name]
			if g == nil || g.DType != graph.Float32 || w.DType != graph.Float32 || len(g.F32) != len(w.F32) || !slices.Equal(g.Shape, w.Shape) {
				t.Fatalf("output %s: go runtime %+v, onnx runtime %v %v", name, g, w.DType, w.Shape)
			}
			d, at := maxDiff(g.F32, tensorF64(w))
			if d > parityTol {
				t.Errorf("batch %v, output %s: go runtime differs from onnx runtime by %.3g at %d: %v vs %v", shape, name, d, at, g.F32[at], w.F32[at])
			}
			worst = math.Max(worst, d)
		}
	}
	t.Logf("max |go runtime − onnx runtime| %.2e", worst)

	// trnn.Load(...).Predict on ragged sequences: the padding is its job.
	sess, err := trnn.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	in := externalInputs(t, g, 300, 20, 99)
	var xName, lName string
	for _, v := range g.Inputs {
		if v.DType == graph.Float32 {
			xName = v.Name
		} else {
			lName = v.Name
		}
	}
	x := in[xName]
	B, T, F := x.Shape[0], x.Shape[1], x.Shape[2]
	seqs := make([][][]float32, B)
	for r := range seqs {
		n := T
		if lName != "" {
			n = int(in[lName].I32[r])
		}
		for s := 0; s < n; s++ {
			seqs[r] = append(seqs[r], x.F32[(r*T+s)*F:(r*T+s+1)*F])
		}
	}
	want, err := ortcheck.Run(b, in, outs[:1])
	if err != nil {
		t.Fatal(err)
	}
	got, err := sess.Predict(seqs)
	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	w := want[outs[0]]
	K := len(w.F32) / B
	worst = 0
	for r, row := range got {
		if len(row) != K {
			t.Fatalf("Predict row %d: %d values, onnx runtime %d", r, len(row), K)
		}
		for k, v := range row {
			d := math.Abs(float64(v) - float64(w.F32[r*K+k]))
			if !(d <= parityTol) {
				t.Errorf("Predict row %d output %d: %v, onnx runtime %v", r, k, v, w.F32[r*K+k])
			}
			worst = math.Max(worst, d)
		}
	}
	t.Logf("max |trnn.Load Predict − onnx runtime| %.2e", worst)
}
