package interp_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/ortcheck"
	"github.com/trnn/trnn/runtime/interp"
)

// TestLegacySoftmaxMatchesORT: Softmax, LogSoftmax and Hardmax of opsets 11
// and 12, which normalise the input flattened to 2-D at axis (default 1),
// give ONNX Runtime's outputs on a [2, 3, 4] input for every axis, and
// Softmax's rows of the flattened input each sum to 1 (for axis 1, the 12
// elements of each of the 2 leading slices, not the 3 along axis 1).
func TestLegacySoftmaxMatchesORT(t *testing.T) {
	ortcheck.Require(t)
	rng := rand.New(rand.NewPCG(5, 6))
	xs := make([]float32, 24)
	for i := range xs {
		xs[i] = float32(rng.NormFloat64() * 2)
	}
	xs[7] = xs[5] // a tie for Hardmax, which takes the first
	x := graph.FromF32(xs, 2, 3, 4)
	for _, opset := range []int64{11, 12} {
		for _, op := range []string{"Softmax", "LogSoftmax", "Hardmax"} {
			for _, axis := range []int64{-99, 0, 1, 2, -1, -2} { // −99: no attribute
				name := fmt.Sprintf("%s@%d axis %d", op, opset, axis)
				if axis == -99 {
					name = fmt.Sprintf("%s@%d default axis", op, opset)
				}
				var b []byte
				if axis == -99 {
					b = oneNodeModel(opset, op, []string{"x"}, []string{"y"})
				} else {
					b = oneNodeModel(opset, op, []string{"x"}, []string{"y"}, attrInt("axis", axis))
				}
				want, err := ortcheck.Run(b, map[string]*graph.Tensor{"x": x}, []string{"y"})
				if err != nil {
					t.Fatalf("%s: ONNX Runtime: %v", name, err)
				}
				g, err := export.DecodeONNX("m.onnx", b)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				ip, err := interp.New(g)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				got, err := ip.Run(map[string]*graph.Tensor{"x": x})
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				closeF32(t, name, got["y"], want["y"], 1e-6)
			}
		}
	}
	// Opset 11's default axis 1 against the arithmetic: each of the two
	// leading slices (12 elements) sums to 1.
	g, err := export.DecodeONNX("m.onnx", oneNodeModel(11, "Softmax", []string{"x"}, []string{"y"}))
	if err != nil {
		t.Fatal(err)
	}
	ip, err := interp.New(g)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ip.Run(map[string]*graph.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	y := out["y"]
	if len(y.Shape) != 3 || y.Shape[0] != 2 || y.Shape[1] != 3 || y.Shape[2] != 4 {
		t.Fatalf("shape %v, want [2 3 4]", y.Shape)
	}
	for r := range 2 {
		var sum float64
		for _, v := range y.F32[r*12 : r*12+12] {
			sum += float64(v)
		}
		if math.Abs(sum-1) > 1e-6 {
			t.Errorf("slice %d of Softmax at opset 11 sums to %v, want 1", r, sum)
		}
	}
}

// TestLegacySoftmaxNamesStayFree: the values the reader adds for an old
// Softmax do not take a name the model uses, even one defined later.
func TestLegacySoftmaxNamesStayFree(t *testing.T) {
	b := oneNodeModel(11, "Softmax", []string{"x"}, []string{"y/shape"})
	g, err := export.DecodeONNX("m.onnx", b)
	if err != nil {
		t.Fatal(err)
	}
	ip, err := interp.New(g)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ip.Run(map[string]*graph.Tensor{"x": graph.FromF32([]float32{1, 2, 3, 4}, 2, 2)})
	if err != nil {
		t.Fatal(err)
	}
	y := out["y/shape"]
	if y == nil || y.DType != graph.Float32 || len(y.F32) != 4 {
		t.Fatalf("output y/shape = %+v, want the float Softmax of x", y)
	}
}

// closeF32 fails t unless got and want are float32 tensors of one shape
// within tol of each other.
func closeF32(t *testing.T, what string, got, want *graph.Tensor, tol float64) {
	t.Helper()
	if got == nil || want == nil || fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) || len(got.F32) != len(want.F32) {
		t.Fatalf("%s: got %+v, want %+v", what, got, want)
	}
	for i := range got.F32 {
		if d := math.Abs(float64(got.F32[i]) - float64(want.F32[i])); d > tol || d != d {
			t.Fatalf("%s: element %d = %v, ONNX Runtime %v", what, i, got.F32[i], want.F32[i])
		}
	}
}

// TestLegacySoftmaxErrorNamesTheNode: an axis out of range for an old
// Softmax is reported as the model's Softmax node's error, not as one of
// the nodes the reader writes in its place.
func TestLegacySoftmaxErrorNamesTheNode(t *testing.T) {
	for _, op := range []string{"Softmax", "LogSoftmax", "Hardmax"} {
		g, err := export.DecodeONNX("m.onnx", oneNodeModel(11, op, []string{"x"}, []string{"y"}, attrInt("axis", 5)))
		if err != nil {
			t.Fatal(err)
		}
		ip, err := interp.New(g)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ip.Run(map[string]*graph.Tensor{"x": graph.FromF32(make([]float32, 6), 2, 3)})
		want := fmt.Sprintf(`node "n" (%s): axis 5 out of range for rank 2`, op)
		if err == nil || err.Error() != want {
			t.Errorf("%s: error %v, want %q", op, err, want)
		}
	}
}
