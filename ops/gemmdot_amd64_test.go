//go:build amd64 && !purego

package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// gemmDotPairs is the dot-product path as it was before gemmDot4: gemmDot2
// on each pair of rows, gemmDot1 on an odd last row. Every path of the
// recurrent step must keep its bits, so that training stays reproducible.
func gemmDotPairs(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	i := 0
	for ; i+2 <= m; i += 2 {
		gemmDot2(n, k, &a[i*lda], lda, &b[0], ldb, &c[i*ldc], ldc, alpha, beta)
	}
	if i < m {
		gemmDot1(n, k, &a[i*lda], &b[0], ldb, &c[i*ldc], alpha, beta)
	}
}

// gemmDotCase is one product C = alpha·A·Bᵀ + beta·C with strides wider
// than the rows, a guard of gemmDotGuard elements before and after C, NaN
// in the padding of A and B (which no kernel may use) and in C's padding
// and guards (which no kernel may write).
type gemmDotCase struct {
	m, n, k, lda, ldb, ldc int
	alpha, beta            float32
	a, b, c                []float32
}

const gemmDotGuard = 19

// gemmDotGuardBits marks an element no kernel may touch: a NaN whose
// payload no arithmetic produces.
const gemmDotGuardBits = 0x7fc0beef

func newGemmDotCase(rng *rand.Rand, m, n, k int, alpha, beta float32) *gemmDotCase {
	g := &gemmDotCase{m: m, n: n, k: k, alpha: alpha, beta: beta,
		lda: k + rng.IntN(3), ldb: k + rng.IntN(3), ldc: n + rng.IntN(3)}
	guard := math.Float32frombits(gemmDotGuardBits)
	fill := func(rows, cols, ld, extra int) []float32 {
		x := make([]float32, rows*ld+extra)
		for i := range x {
			x[i] = guard
		}
		for r := 0; r < rows; r++ {
			for j := 0; j < cols; j++ {
				x[r*ld+j] = float32(rng.NormFloat64())
			}
		}
		return x
	}
	g.a = fill(m, k, g.lda, 0)
	g.b = fill(n, k, g.ldb, 0)
	g.c = fill(m, n, g.ldc, 2*gemmDotGuard)
	copy(g.c[gemmDotGuard:], g.c[:len(g.c)-2*gemmDotGuard])
	for i := 0; i < gemmDotGuard; i++ {
		g.c[i] = guard
	}
	if beta == 0 {
		for r := 0; r < m; r++ {
			for j := 0; j < n; j++ {
				g.c[gemmDotGuard+r*g.ldc+j] = guard // beta = 0: C is not read
			}
		}
	}
	return g
}

// run returns C after f computed the product on a copy of it.
func (g *gemmDotCase) run(f func(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)) []float32 {
	c := append([]float32(nil), g.c...)
	f(g.m, g.n, g.k, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta, c[gemmDotGuard:len(c)-gemmDotGuard], g.ldc)
	return c
}

// check fails unless got equals want bit for bit and holds the guard
// value exactly where C was not to be written.
func (g *gemmDotCase) check(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range got {
		in := i >= gemmDotGuard && i < len(got)-gemmDotGuard && (i-gemmDotGuard)%g.ldc < g.n
		if !in && math.Float32bits(got[i]) != gemmDotGuardBits {
			t.Fatalf("%s: m=%d n=%d k=%d: element %d outside C written (%v)", what, g.m, g.n, g.k, i-gemmDotGuard, got[i])
		}
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			r, j := (i-gemmDotGuard)/g.ldc, (i-gemmDotGuard)%g.ldc
			t.Fatalf("%s: m=%d n=%d k=%d alpha=%v beta=%v: C(%d, %d) = %v, want %v (bits %08x, %08x)",
				what, g.m, g.n, g.k, g.alpha, g.beta, r, j, got[i], want[i], math.Float32bits(got[i]), math.Float32bits(want[i]))
		}
	}
}

// TestGemmDot4SameBitsAsDot2: the dot-product path of the recurrent step
// (A·Bᵀ, m ≤ gemmDotMaxM) gives, with and without AVX-512, the bits of
// gemmDot2 on pairs of rows, for every m up to 40 (groups of four, then a
// pair, then one row; past gemmDotMaxM with n ≤ gemmDotMaxN), n with and without a partial block of four columns,
// k with and without a partial chunk of eight, alpha and beta 0, 1 and
// other; and it writes nothing outside C's window.
func TestGemmDot4SameBitsAsDot2(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 4))
	ns := []int{1, 2, 3, 4, 5, 7, 8, 9, 13, 64, 130, 255, 256, 257, 300}
	ks := []int{1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 129, 300}
	scalars := [][2]float32{{1, 0}, {1, 1}, {0.75, -0.5}, {-1.5, 1}, {2, 0}}
	impls := map[string]int{"AVX2": gemmUseAsm}
	if haveGemmAVX512 {
		impls["AVX-512"] = gemmUseAVX512
	}
	cases := 0
	for m := 1; m <= 40; m++ {
		for i := 0; i < 12; i++ {
			n, k := ns[rng.IntN(len(ns))], ks[rng.IntN(len(ks))]
			if i < 2 { // every m meets both edges of n and k
				n, k = []int{257, 3}[i], []int{17, 300}[i]
			}
			if m > gemmDotMaxM { // the dot path only for heads of a few labels
				n = ns[i%7]
			}
			s := scalars[(m+i)%len(scalars)]
			g := newGemmDotCase(rng, m, n, k, s[0], s[1])
			want := g.run(gemmDotPairs)
			for name, impl := range impls {
				got := g.run(func(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
					gemmWith(impl, false, true, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
				})
				g.check(t, name, got, want)
			}
			cases++
		}
	}
	if cases != 480 {
		t.Fatalf("ran %d cases", cases)
	}
}

// TestGemmDot4Direct runs gemmDot4 and gemmDot8 themselves against gemmDot2
// on their pairs of rows, over every n mod 4 and k mod 8, with the guards
// of TestGemmDot4SameBitsAsDot2, and checks the result against float64
// arithmetic, so that a kernel bug shared by both cannot pass.
func TestGemmDot4Direct(t *testing.T) {
	if !haveGemmDot4 {
		t.Skip("no AVX-512VL on this machine")
	}
	rng := rand.New(rand.NewPCG(15, 5))
	kernels := []struct {
		name string
		rows int
		f    func(n, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)
	}{{"gemmDot4", 4, gemmDot4}, {"gemmDot8", 8, gemmDot8}}
	for _, kn := range kernels {
		for n := 1; n <= 12; n++ {
			for k := 1; k <= 33; k += 1 + k/8 {
				for _, s := range [][2]float32{{1, 0}, {1, 1}, {-0.25, 3}} {
					g := newGemmDotCase(rng, kn.rows, n, k, s[0], s[1])
					want := g.run(gemmDotPairs)
					got := g.run(func(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
						kn.f(n, k, &a[0], lda, &b[0], ldb, &c[0], ldc, alpha, beta)
					})
					g.check(t, kn.name, got, want)
					gemmDotAgreesWithFloat64(t, g, got)
				}
			}
		}
	}
}

// gemmDotAgreesWithFloat64 checks C against the product in float64 to
// within float32 rounding of the terms' magnitudes.
func gemmDotAgreesWithFloat64(t *testing.T, g *gemmDotCase, got []float32) {
	t.Helper()
	for r := 0; r < g.m; r++ {
		for j := 0; j < g.n; j++ {
			var dot, mag float64
			for p := 0; p < g.k; p++ {
				x := float64(g.a[r*g.lda+p]) * float64(g.b[j*g.ldb+p])
				dot += x
				mag += math.Abs(x)
			}
			c0 := float64(g.c[gemmDotGuard+r*g.ldc+j])
			want := float64(g.alpha) * dot
			if g.beta != 0 {
				want += float64(g.beta) * c0
				mag = math.Abs(float64(g.alpha))*mag + math.Abs(float64(g.beta)*c0)
			} else {
				mag *= math.Abs(float64(g.alpha))
			}
			v := float64(got[gemmDotGuard+r*g.ldc+j])
			if math.Abs(v-want) > 1e-5*(mag+1) {
				t.Fatalf("m=%d n=%d k=%d: C(%d, %d) = %v, want %v", g.m, g.n, g.k, r, j, v, want)
			}
		}
	}
}

// BenchmarkGemmDotStep measures the recurrent step h·Rᵀ of a batch of 32
// rows for LSTM layers of 64 and 128 units (n = 4·H, k = H), through Gemm
// (gemmDot8 on AVX-512), through gemmDot2 on pairs (the path before), and
// as a training step runs it (stepWeights): the outer-product kernel on Rᵀ
// stored ("rT"), in GFLOP/s of the thread's CPU time, steadier
// than wall time on a shared machine. On the 2-core AVX-512 machine of the
// README, for 64 and 128 units, rT ran 110 and 111 GFLOP/s, gemm 80 and 95.
func BenchmarkGemmDotStep(b *testing.B) {
	rng := rand.New(rand.NewPCG(15, 6))
	for _, h := range []int{64, 128} {
		m, n, k := 32, 4*h, h
		g := newGemmDotCase(rng, m, n, k, 1, 1)
		g.lda, g.ldb, g.ldc = k, k, n // the layout of a step: rows 32-byte aligned, as R is
		for _, x := range [][]float32{g.a, g.b, g.c} {
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
		}
		c := g.c[gemmDotGuard : len(g.c)-gemmDotGuard]
		bT := transposed(g.b[:n*k], n, k)
		paths := []struct {
			name string
			f    func()
		}{
			{"gemm", func() { Gemm(false, true, m, n, k, 1, g.a, g.lda, g.b, g.ldb, 1, c, g.ldc) }},
			{"pairs", func() { gemmDotPairs(m, n, k, 1, g.a, g.lda, g.b, g.ldb, 1, c, g.ldc) }},
			{"rT", func() { Gemm(false, false, m, n, k, 1, g.a, g.lda, bT, n, 1, c, g.ldc) }},
		}
		for _, p := range paths {
			b.Run(fmt.Sprintf("m%d_n%d_k%d/%s", m, n, k, p.name), func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				cpu0 := threadCPU()
				for b.Loop() {
					p.f() // beta = 1: C grows by one product a call, and stays finite
				}
				flop := 2 * float64(m*n*k) * float64(b.N)
				if cpu := threadCPU() - cpu0; cpu > 0 {
					b.ReportMetric(flop/cpu.Seconds()/1e9, "GFLOP/s-cpu")
				}
			})
		}
	}
}
