package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// arithValues returns n operands: ordinary values and, among them, the
// IEEE special cases (NaN, ±Inf, ±0, subnormals, the extremes).
func arithValues(rng *rand.Rand, n int) []float32 {
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0,
		float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, -1e-40, math.MaxFloat32, -math.MaxFloat32}
	v := make([]float32, n)
	for i := range v {
		if rng.IntN(5) == 0 {
			v[i] = special[rng.IntN(len(special))]
		} else {
			v[i] = float32(rng.NormFloat64() * 10)
		}
	}
	return v
}

// TestArithBitIdentical: Arith, ArithScalar and ScalarArith give the scalar
// IEEE operation's bits on every element, for lengths with and without a
// vector tail, write nothing past len(o), and may write over an operand.
func TestArithBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 2))
	ops := map[ArithOp]string{ArithAdd: "add", ArithSub: "sub", ArithMul: "mul", ArithDiv: "div"}
	for op, name := range ops {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1000} {
			a, b := arithValues(rng, n), arithValues(rng, n)
			s := arithValues(rng, 1)[0]
			want := make([]float32, n)
			check := func(form string, run func(o []float32), ref func(i int) float32) {
				for i := range want {
					want[i] = ref(i)
				}
				o, ok := guarded(n, 7)
				run(o)
				expectBits(t, fmt.Sprintf("%s %s n=%d", name, form, n), o, want)
				if !ok() {
					t.Errorf("%s %s n=%d: wrote past the output", name, form, n)
				}
			}
			check("dense", func(o []float32) { Arith(op, o, a, b) }, func(i int) float32 { return op.apply(a[i], b[i]) })
			check("scalar right", func(o []float32) { ArithScalar(op, o, a, s) }, func(i int) float32 { return op.apply(a[i], s) })
			check("scalar left", func(o []float32) { ScalarArith(op, o, s, b) }, func(i int) float32 { return op.apply(s, b[i]) })
			// In place: o is a.
			in := append([]float32(nil), a...)
			Arith(op, in, in, b)
			for i := range want {
				want[i] = op.apply(a[i], b[i])
			}
			expectBits(t, fmt.Sprintf("%s in place n=%d", name, n), in, want)
		}
	}
}
