package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestStepWeightsSameBits: a step's product by Rᵀ packed once per call has
// the bits of Gemm's product by R in place, with every implementation as
// Gemm's default, for steps of few rows (in place) and many (packed), the
// whole width and column blocks (the GRU's), beta 0 and 1.
func TestStepWeightsSameBits(t *testing.T) {
	defer func(d int) { gemmDefault = d }(gemmDefault)
	rng := rand.New(rand.NewPCG(3, 4))
	rnd := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	const H = 40
	for _, impl := range gemmImpls(t) {
		gemmDefault = impl.id
		for _, G := range []int{3 * H, 4 * H} {
			r := rnd(G * H)
			var buf []float32
			var packed, inPlace stepWeights
			packed.prepare(r, G, H, 70, &buf)
			inPlace.r, inPlace.G, inPlace.H = r, G, H
			if packed.rT == nil {
				t.Fatalf("%s: steps of 70 rows do not pack Rᵀ", impl.name)
			}
			for _, n := range []int{1, 32, 33, 70} {
				for _, blk := range [][2]int{{0, G}, {0, 2 * H}, {2 * H, H}} {
					for _, beta := range []float32{0, 1} {
						hp, c := rnd(n*H), rnd(n*G)
						want := append([]float32(nil), c...)
						inPlace.mul(n, blk[0], blk[1], hp, beta, want[blk[0]:], G)
						packed.mul(n, blk[0], blk[1], hp, beta, c[blk[0]:], G)
						for i := range c {
							if math.Float32bits(c[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%s", fmt.Sprintf("%s G=%d n=%d columns %v beta=%v: C[%d] = %v, in place %v", impl.name, G, n, blk, beta, i, c[i], want[i]))
							}
						}
					}
				}
			}
		}
	}
}
