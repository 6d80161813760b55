package interp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/trnn/trnn/graph"
)

// TestFloatArithMatchesNaive: Add, Sub, Mul and Div on float32 operands
// give, bit for bit, what computing each output element from its
// broadcast operands gives, whichever path runs them: shapes alike, a
// scalar or a bias on either side (the tiled paths and ops' kernels), and
// broadcasts that need a plan, with lengths past a vector's 8 lanes.
func TestFloatArithMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	pairs := [][2][]int{
		{{2, 19}, {2, 19}}, {{2, 19}, {19}}, {{19}, {2, 19}}, {{}, {3, 11}}, {{3, 11}, {}},
		{{1}, {4, 9}}, {{4, 9}, {1, 1}}, {{1, 19}, {3, 19}}, {{3, 1, 10}, {1, 4, 10}},
		{{3, 17}, {3, 1}}, {{3, 1}, {3, 17}}, {{2, 3, 9}, {3, 9}},
	}
	for _, op := range []graph.Op{graph.OpAdd, graph.OpSub, graph.OpMul, graph.OpDiv} {
		for _, p := range pairs {
			a, b := randTensor(rng, p[0]), randTensor(rng, p[1])
			got, err := binary(op, a, b, allocator{})
			if err != nil {
				t.Fatal(err)
			}
			want := naiveArith(op, a, b)
			name := fmt.Sprintf("%v %v %v", op, p[0], p[1])
			if fmt.Sprint(got.Shape) != fmt.Sprint(want.Shape) {
				t.Fatalf("%s: shape %v, want %v", name, got.Shape, want.Shape)
			}
			for i := range want.F32 {
				if math.Float32bits(got.F32[i]) != math.Float32bits(want.F32[i]) {
					t.Fatalf("%s: element %d = %v, want %v", name, i, got.F32[i], want.F32[i])
				}
			}
		}
	}
}

func randTensor(rng *rand.Rand, shape []int) *graph.Tensor {
	t := graph.NewTensor(graph.Float32, shape...)
	for i := range t.F32 {
		t.F32[i] = float32(rng.NormFloat64() * 4)
	}
	return t
}

// naiveArith broadcasts by reading each operand at each output index.
func naiveArith(op graph.Op, a, b *graph.Tensor) *graph.Tensor {
	shape, err := broadcastShapes(a.Shape, b.Shape)
	if err != nil {
		panic(err)
	}
	out := graph.NewTensor(graph.Float32, shape...)
	idx := make([]int, len(shape))
	at := func(t *graph.Tensor) float32 {
		off, r := 0, len(shape)-len(t.Shape)
		for d, n := range t.Shape {
			off *= n
			if n > 1 {
				off += idx[r+d]
			}
		}
		return t.F32[off]
	}
	for o := range out.F32 {
		x, y := at(a), at(b)
		switch op {
		case graph.OpAdd:
			out.F32[o] = x + y
		case graph.OpSub:
			out.F32[o] = x - y
		case graph.OpMul:
			out.F32[o] = x * y
		case graph.OpDiv:
			out.F32[o] = x / y
		}
		for d := len(idx) - 1; d >= 0; d-- {
			if idx[d]++; idx[d] < shape[d] {
				break
			}
			idx[d] = 0
		}
	}
	return out
}
