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
			packed.prepare(r, nil, G, H, 70, &buf)
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

// transposed returns xᵀ for x [rows, cols].
func transposed(x []float32, rows, cols int) []float32 {
	t := make([]float32, len(x))
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			t[c*rows+r] = x[r*cols+c]
		}
	}
	return t
}

// TestRecurrentForwardWithTransposes: LSTMForward and GRUForward given Wᵀ
// and Rᵀ give the bits they give without on a batch wide enough to read
// them (70 rows), and within 1e-6 on a narrow one (5 rows), whose one-row
// steps read Rᵀ by a GEMV in another order of additions.
func TestRecurrentForwardWithTransposes(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	rnd := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 0.3)
		}
		return x
	}
	const I, H = 13, 24
	for _, B := range []int{70, 5} {
		lens := make([]int, B)
		for b := range lens {
			lens[b] = 20 - 15*b/B
		}
		var p Packing
		p.Reset(lens)
		N := p.N()
		x, h0 := rnd(N*I), rnd(B*H)
		lw := LSTMWeights{I: I, H: H, W: rnd(4 * H * I), R: rnd(4 * H * H), B: rnd(4 * H)}
		want, got := make([]float32, N*H), make([]float32, N*H)
		var c LSTMCache
		LSTMForward(&p, lw, x, h0, nil, want, nil, nil, &c)
		lw.WT, lw.RT = transposed(lw.W, 4*H, I), transposed(lw.R, 4*H, H)
		LSTMForward(&p, lw, x, h0, nil, got, nil, nil, &c)
		sameOrClose(t, fmt.Sprintf("LSTM, %d rows", B), B > 32, got, want)
		for _, lbr := range []bool{false, true} {
			gw := GRUWeights{I: I, H: H, W: rnd(3 * H * I), R: rnd(3 * H * H), B: rnd(6 * H), LinearBeforeReset: lbr}
			var gc GRUCache
			GRUForward(&p, gw, x, h0, want, nil, &gc)
			gw.WT, gw.RT = transposed(gw.W, 3*H, I), transposed(gw.R, 3*H, H)
			GRUForward(&p, gw, x, h0, got, nil, &gc)
			sameOrClose(t, fmt.Sprintf("GRU lbr=%v, %d rows", lbr, B), B > 32, got, want)
		}
	}
}

// sameOrClose fails unless got equals want bit for bit (same) or within
// 1e-6.
func sameOrClose(t *testing.T, what string, same bool, got, want []float32) {
	t.Helper()
	if same {
		expectBits(t, what, got, want)
		return
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); !(d <= 1e-6) {
			t.Fatalf("%s: y[%d] = %v, without the transposes %v", what, i, got[i], want[i])
		}
	}
}
