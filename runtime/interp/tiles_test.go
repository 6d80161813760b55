package interp

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/trnn/trnn/graph"
)

// TestTiledOperandsMatchBroadcastPlan: the path for an operand that tiles
// the other (no broadcast plan) gives, bit for bit, what the general
// broadcasting walk gives, for Add, Sub, Mul, Div and Gemm's C; shapes that
// do not tile take the general walk and still broadcast right.
func TestTiledOperandsMatchBroadcastPlan(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	randT := func(shape ...int) *graph.Tensor {
		x := graph.NewTensor(graph.Float32, shape...)
		for i := range x.F32 {
			x.F32[i] = float32(rng.NormFloat64())
		}
		return x
	}
	for _, c := range []struct {
		a, b  []int
		tiled bool
	}{
		{[]int{2, 3}, []int{3}, true},
		{[]int{2, 3}, []int{1, 3}, true},
		{[]int{1, 1, 3}, []int{3}, true},
		{[]int{2, 3}, []int{2, 3}, true},
		{[]int{2, 3}, nil, true},
		{[]int{2, 0}, []int{0}, true},
		{[]int{4}, []int{1, 1}, false},
		{[]int{2, 3}, []int{2, 1}, false},
		{[]int{3}, []int{2, 3}, false},
	} {
		if got := tiles(c.a, c.b); got != c.tiled {
			t.Errorf("tiles(%v, %v) = %v, want %v", c.a, c.b, got, c.tiled)
		}
		a, b := randT(c.a...), randT(c.b...)
		for _, op := range []graph.Op{graph.OpAdd, graph.OpSub, graph.OpMul, graph.OpDiv} {
			got, err := binary(op, a, b, allocator{})
			if err != nil {
				t.Fatal(err)
			}
			want := planned(t, op, a, b)
			if !slices.Equal(got.Shape, want.Shape) || !bitsEqual(got.F32, want.F32) {
				t.Errorf("%v %v %v: got %v %v, want %v %v", op, c.a, c.b, got.Shape, got.F32, want.Shape, want.F32)
			}
		}
	}
	for _, cs := range [][]int{{3}, {1, 3}, {2, 3}, {2, 1}, {}} {
		a, w, c := randT(2, 4), randT(4, 3), randT(cs...)
		got, err := gemm(a, w, c, false, false, 1, 0.5, allocator{})
		if err != nil {
			t.Fatal(err)
		}
		cb := graph.NewTensor(graph.Float32, 2, 3)
		p := newBcastPlan(cb.Shape, c.Shape)
		p.run(func(o int, off []int, n int) {
			for i := range n {
				cb.F32[o+i] = c.F32[off[0]+i*p.inner[0]]
			}
		})
		want, err := gemm(a, w, cb, false, false, 1, 0.5, allocator{})
		if err != nil {
			t.Fatal(err)
		}
		if !bitsEqual(got.F32, want.F32) {
			t.Errorf("gemm with C %v: %v, want %v", cs, got.F32, want.F32)
		}
	}
}

// planned computes a op b with the general broadcast walk.
func planned(t *testing.T, op graph.Op, a, b *graph.Tensor) *graph.Tensor {
	t.Helper()
	shape, err := broadcastShapes(a.Shape, b.Shape)
	if err != nil {
		t.Fatal(err)
	}
	out := graph.NewTensor(graph.Float32, shape...)
	p := newBcastPlan(shape, a.Shape, b.Shape)
	binaryTyped(op, p, a, b, out, arithRun[float32], cmpRun[float32])
	return out
}

func bitsEqual(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}
