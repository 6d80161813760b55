package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// gemmImpl names one GEMM implementation under test.
type gemmImpl struct {
	name string
	id   int
}

// gemmImpls lists the implementations this machine can run: the pure-Go
// kernel always, the assembly one when the CPU has AVX2+FMA, and with it
// the AVX-512 one when the CPU has AVX-512F.
func gemmImpls(t testing.TB) []gemmImpl {
	impls := []gemmImpl{{"go", gemmUseGo}}
	if haveGemmAsm {
		impls = append(impls, gemmImpl{"asm", gemmUseAsm})
		if haveGemmAVX512 {
			impls = append(impls, gemmImpl{"avx512", gemmUseAVX512})
		} else {
			t.Logf("no AVX-512 on this machine: testing the AVX2 kernels only")
		}
	} else {
		t.Logf("no AVX2+FMA assembly kernel on this machine: testing the pure-Go kernel only")
	}
	return impls
}

// gemmCase is one product to check. padA, padB, padC are the extra
// elements per stored row (ld = row length + pad).
type gemmCase struct {
	transA, transB   bool
	m, n, k          int
	alpha, beta      float32
	padA, padB, padC int
}

func (c gemmCase) String() string {
	tr := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s m=%d n=%d k=%d alpha=%g beta=%g pads=%d,%d,%d",
		tr(c.transA), tr(c.transB), c.m, c.n, c.k, c.alpha, c.beta, c.padA, c.padB, c.padC)
}

// Guard values. Slack elements of A and B (beyond each row, and after the
// last) hold a quiet NaN, so a kernel that reads them into a result turns it
// into NaN; slack elements of C hold a NaN with a recognisable payload, so a
// kernel that writes outside the m×n window changes its bits.
var (
	guardIn  = math.Float32frombits(0x7fc0dead)
	guardOut = math.Float32frombits(0x7fc0beef)
)

const gemmGuardLen = 37 // guard elements after each matrix

// gemmMatrix returns a rows×cols matrix with row stride cols+pad, filled
// with values from fill and guarded by g, with gemmGuardLen guard elements
// after the last row.
func gemmMatrix(rows, cols, pad int, g float32, fill func() float32) (x []float32, ld int) {
	ld = cols + pad
	if ld == 0 {
		ld = 1
	}
	x = make([]float32, rows*ld+gemmGuardLen)
	for i := range x {
		x[i] = g
	}
	for r := 0; r < rows; r++ {
		for q := 0; q < cols; q++ {
			x[r*ld+q] = fill()
		}
	}
	return x, ld
}

// runGemmCase runs one case through implementation impl and returns a
// description of the first failure, or "".
func runGemmCase(impl int, cs gemmCase, rng *rand.Rand) string {
	uniform := func() float32 { return float32(rng.Float64()*2 - 1) }
	ar, ac := cs.m, cs.k
	if cs.transA {
		ar, ac = cs.k, cs.m
	}
	br, bc := cs.k, cs.n
	if cs.transB {
		br, bc = cs.n, cs.k
	}
	a, lda := gemmMatrix(ar, ac, cs.padA, guardIn, uniform)
	b, ldb := gemmMatrix(br, bc, cs.padB, guardIn, uniform)
	cInit := uniform
	if cs.beta == 0 {
		cInit = func() float32 { return float32(math.NaN()) } // must not be read
	}
	c, ldc := gemmMatrix(cs.m, cs.n, cs.padC, guardOut, cInit)
	a0 := append([]float32(nil), a...)
	b0 := append([]float32(nil), b...)
	c0 := append([]float32(nil), c...)

	gemmWith(impl, cs.transA, cs.transB, cs.m, cs.n, cs.k, cs.alpha, a, lda, b, ldb, cs.beta, c, ldc)

	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(a0[i]) {
			return fmt.Sprintf("A written at element %d: %v → %v", i, a0[i], a[i])
		}
	}
	for i := range b {
		if math.Float32bits(b[i]) != math.Float32bits(b0[i]) {
			return fmt.Sprintf("B written at element %d: %v → %v", i, b0[i], b[i])
		}
	}
	// The reference: gemmNaive on clean copies, within gemmTol.
	want := append([]float32(nil), c0...)
	if cs.beta == 0 {
		for i := 0; i < cs.m; i++ {
			for j := 0; j < cs.n; j++ {
				want[i*ldc+j] = 0
			}
		}
	}
	if cs.k == 0 || cs.alpha == 0 {
		gemmNaive(cs.transA, cs.transB, cs.m, cs.n, 0, cs.alpha, a0, lda, b0, ldb, cs.beta, want, ldc)
	} else {
		gemmNaive(cs.transA, cs.transB, cs.m, cs.n, cs.k, cs.alpha, a0, lda, b0, ldb, cs.beta, want, ldc)
	}
	maxDiff, firstBad := 0.0, ""
	for i := 0; i < cs.m; i++ {
		for j := 0; j < cs.n; j++ {
			got, w := float64(c[i*ldc+j]), float64(want[i*ldc+j])
			tol := gemmTol(cs, a0, lda, b0, ldb, c0[i*ldc+j], i, j)
			d := math.Abs(got - w)
			if math.IsNaN(got) || d > tol {
				if firstBad == "" {
					firstBad = fmt.Sprintf("C(%d,%d) = %v, want %v (tolerance %.3g)", i, j, got, w, tol)
				}
			}
			if d > maxDiff {
				maxDiff = d
			}
		}
	}
	if firstBad != "" {
		return fmt.Sprintf("%s; max |diff| %.3g", firstBad, maxDiff)
	}
	for i := range c {
		r, q := i/ldc, i%ldc
		if r < cs.m && q < cs.n {
			continue
		}
		if math.Float32bits(c[i]) != math.Float32bits(guardOut) {
			return fmt.Sprintf("C written outside the %d×%d window at element %d (row %d, column %d): %v", cs.m, cs.n, i, r, q, c[i])
		}
	}
	return ""
}

// gemmTol bounds |Gemm − gemmNaive| at C(i, j), whose value before the
// call was c0. Each result is a k-term float32 sum; both summation orders
// are within γ_k·S ≈ k·u·S of the exact value (u = 2⁻²⁴,
// S = Σ_p |alpha·a·b| + |beta·c0|), plus a few roundings for alpha and
// beta, so they differ by at most (2k+4)·u·S.
func gemmTol(cs gemmCase, a []float32, lda int, b []float32, ldb int, c0 float32, i, j int) float64 {
	var s float64
	for p := 0; p < cs.k && cs.alpha != 0; p++ {
		ia, ib := i*lda+p, p*ldb+j
		if cs.transA {
			ia = p*lda + i
		}
		if cs.transB {
			ib = j*ldb + p
		}
		s += math.Abs(float64(cs.alpha) * float64(a[ia]) * float64(b[ib]))
	}
	if cs.beta != 0 {
		s += math.Abs(float64(cs.beta) * float64(c0))
	}
	return float64(2*cs.k+4) * 0x1p-24 * s
}

var gemmScalars = [][2]float32{{1, 0}, {1, 1}, {-0.75, 0}, {1.5, 1}, {0.5, -2}, {0, 0}, {0, 1.25}, {1, negZero}, {2, 1}}

var negZero = float32(math.Copysign(0, -1))

// TestGemmSmall checks every m, n, k in 0..17 and every transpose
// combination against gemmNaive, cycling through alpha/beta pairs and row
// paddings, for each implementation.
func TestGemmSmall(t *testing.T) {
	for _, impl := range gemmImpls(t) {
		t.Run(impl.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			fails, idx := 0, 0
			for m := 0; m <= 17; m++ {
				for n := 0; n <= 17; n++ {
					for k := 0; k <= 17; k++ {
						for tr := 0; tr < 4; tr++ {
							ab := gemmScalars[idx%len(gemmScalars)]
							cs := gemmCase{tr&1 != 0, tr&2 != 0, m, n, k, ab[0], ab[1], idx % 3, (idx / 3) % 4, (idx / 5) % 3}
							idx++
							if msg := runGemmCase(impl.id, cs, rng); msg != "" {
								t.Errorf("%v: %s", cs, msg)
								if fails++; fails > 10 {
									t.Fatal("too many failures")
								}
							}
						}
					}
				}
			}
		})
	}
}

// TestGemmLarge checks larger products, the shapes of the recurrent
// kernels among them, with every alpha/beta pair on some and strided
// operands.
func TestGemmLarge(t *testing.T) {
	shapes := [][3]int{
		{33, 64, 100}, {64, 33, 257}, {100, 257, 17}, {257, 13, 33}, {7, 100, 257},
		{1, 257, 100}, {257, 1, 64}, {2, 300, 9}, {3, 65, 129},
		{16, 256, 64}, {480, 256, 13}, {16, 64, 256}, {256, 13, 480}, {256, 64, 480},
		{12, 512, 128}, {31, 40, 520}, {33, 47, 31},
	}
	for _, impl := range gemmImpls(t) {
		t.Run(impl.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(3, 4))
			for si, s := range shapes {
				for tr := 0; tr < 4; tr++ {
					for ai, ab := range gemmScalars {
						if (si+tr+ai)%3 != 0 && ai != 1 {
							continue // every shape and transpose gets beta = 1, a third of the rest each
						}
						cs := gemmCase{tr&1 != 0, tr&2 != 0, s[0], s[1], s[2], ab[0], ab[1], (si + ai) % 5, (si + tr) % 3, ai % 4}
						if msg := runGemmCase(impl.id, cs, rng); msg != "" {
							t.Errorf("%v: %s", cs, msg)
						}
					}
				}
			}
		})
	}
}

// TestGemmNaNNotRead: with beta = 0, NaN and Inf in C do not reach the
// result; with beta ≠ 0 they do (C is read).
func TestGemmNaNNotRead(t *testing.T) {
	for _, impl := range gemmImpls(t) {
		for _, s := range [][3]int{{1, 1, 1}, {5, 19, 9}, {40, 16, 8}, {17, 33, 300}} {
			for tr := 0; tr < 4; tr++ {
				m, n, k := s[0], s[1], s[2]
				ta, tb := tr&1 != 0, tr&2 != 0
				a := make([]float32, m*k)
				b := make([]float32, k*n)
				for i := range a {
					a[i] = 1
				}
				for i := range b {
					b[i] = 0.5
				}
				lda, ldb := k, n
				if ta {
					lda = m
				}
				if tb {
					ldb = k
				}
				c := make([]float32, m*n)
				for i := range c {
					c[i] = float32([]float64{math.NaN(), math.Inf(1), math.Inf(-1)}[i%3])
				}
				gemmWith(impl.id, ta, tb, m, n, k, 2, a, lda, b, ldb, 0, c, n)
				for i, v := range c {
					if v != float32(k) {
						t.Fatalf("%s %v: beta=0: C[%d] = %v, want %d", impl.name, s, i, v, k)
					}
				}
				c[len(c)-1] = float32(math.NaN())
				gemmWith(impl.id, ta, tb, m, n, k, 1, a, lda, b, ldb, 1, c, n)
				if !math.IsNaN(float64(c[len(c)-1])) {
					t.Fatalf("%s %v: beta=1 with NaN in C gave %v, want NaN", impl.name, s, c[len(c)-1])
				}
			}
		}
	}
}

// TestGemmPanics: inconsistent arguments are programming errors and panic
// with the package prefix instead of reading or writing out of bounds.
func TestGemmPanics(t *testing.T) {
	buf := make([]float32, 100)
	cases := []struct {
		name string
		call func()
		want string
	}{
		{"negative m", func() { Gemm(false, false, -1, 2, 2, 1, buf, 2, buf, 2, 0, buf, 2) }, "negative dimension"},
		{"lda too small", func() { Gemm(false, false, 2, 2, 3, 1, buf, 2, buf, 2, 0, buf, 2) }, "lda=2 is less than the 3 columns of A"},
		{"ldb too small transposed", func() { Gemm(false, true, 2, 2, 3, 1, buf, 3, buf, 2, 0, buf, 2) }, "ldb=2 is less than the 3 columns of B"},
		{"ldc too small", func() { Gemm(false, false, 2, 4, 3, 1, buf, 3, buf, 4, 0, buf, 3) }, "ldc=3 is less than the 4 columns of C"},
		{"A too short", func() { Gemm(false, false, 10, 2, 11, 1, buf, 11, buf, 2, 0, buf, 2) }, "A has 100 elements, 10×11 with stride 11 needs 110"},
		{"B too short", func() { Gemm(true, false, 2, 10, 11, 1, buf, 2, buf[:50], 10, 0, buf, 10) }, "B has 50 elements"},
		{"C too short", func() { Gemm(false, false, 3, 3, 1, 1, buf, 1, buf, 3, 0, buf[:8], 3) }, "C has 8 elements"},
	}
	for _, tc := range cases {
		func() {
			defer func() {
				r := recover()
				msg, _ := r.(string)
				if !strings.HasPrefix(msg, "ops: Gemm: ") || !strings.Contains(msg, tc.want) {
					t.Errorf("%s: panic %q, want \"ops: Gemm: ...%s...\"", tc.name, r, tc.want)
				}
			}()
			tc.call()
		}()
	}
	// Zero-sized products need no storage at all.
	Gemm(false, false, 0, 5, 5, 1, nil, 5, make([]float32, 25), 5, 0, nil, 5)
	Gemm(true, true, 3, 3, 0, 1, nil, 3, nil, 1, 0, make([]float32, 9), 3)
}

// gemmShapes are the products the recurrent kernels run (R1: H = 64, F = 13,
// shards of 16 rows, 480 packed steps; R2: H = 128), by name.
var gemmShapes = []struct {
	name           string
	transA, transB bool
	m, n, k        int
}{
	{"step_h64_NT", false, true, 16, 256, 64},
	{"step_h64_m1_NT", false, true, 1, 256, 64},
	{"step_h64_m3_NT", false, true, 3, 256, 64},
	{"step_h64_m8_NT", false, true, 8, 256, 64},
	{"step_h64_NN", false, false, 16, 256, 64},
	{"step_h128_NT", false, true, 16, 512, 128},
	{"inproj_f13_NT", false, true, 480, 256, 13},
	{"inproj_h64_NT", false, true, 480, 256, 64},
	{"head_k1_NT", false, true, 480, 1, 64},
	{"dh_h64_NN", false, false, 16, 64, 256},
	{"dh_h128_NN", false, false, 16, 128, 512},
	{"dx_h64_NN", false, false, 480, 64, 256},
	{"dW_f13_TN", true, false, 256, 13, 480},
	{"dR_h64_TN", true, false, 256, 64, 480},
	{"dR_h128_TN", true, false, 512, 128, 480},
	{"square_TT", true, true, 64, 256, 64},
}

// TestGemmConcurrent runs the workload shapes from several goroutines at
// once on shared inputs (run it with -race): each result must equal the
// one computed alone.
func TestGemmConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	type job struct {
		impl    gemmImpl
		shape   int
		a, b, c []float32
		want    []float32
	}
	var jobs []*job
	for _, impl := range gemmImpls(t) {
		for si, s := range gemmShapes {
			j := &job{impl: impl, shape: si}
			j.a = make([]float32, s.m*s.k)
			j.b = make([]float32, s.k*s.n)
			for i := range j.a {
				j.a[i] = float32(rng.NormFloat64())
			}
			for i := range j.b {
				j.b[i] = float32(rng.NormFloat64())
			}
			j.c = make([]float32, s.m*s.n)
			j.want = make([]float32, s.m*s.n)
			jobs = append(jobs, j)
		}
	}
	run := func(j *job, c []float32) {
		s := gemmShapes[j.shape]
		lda, ldb := s.k, s.n
		if s.transA {
			lda = s.m
		}
		if s.transB {
			ldb = s.k
		}
		gemmWith(j.impl.id, s.transA, s.transB, s.m, s.n, s.k, 1, j.a, lda, j.b, ldb, 0, c, s.n)
	}
	for _, j := range jobs {
		run(j, j.want)
	}
	const workers = 4
	results := make([][][]float32, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		results[w] = make([][]float32, len(jobs))
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := 0; r < 3; r++ {
				for i := range jobs {
					ji := (i + w*5) % len(jobs) // workers start at different jobs
					if results[w][ji] == nil {
						results[w][ji] = make([]float32, len(jobs[ji].c))
					}
					run(jobs[ji], results[w][ji])
				}
			}
		}(w)
	}
	wg.Wait()
	for w := range results {
		for ji, got := range results[w] {
			for i := range got {
				if got[i] != jobs[ji].want[i] {
					t.Fatalf("worker %d, %s %s: element %d = %v, alone %v", w, jobs[ji].impl.name, gemmShapes[jobs[ji].shape].name, i, got[i], jobs[ji].want[i])
				}
			}
		}
	}
}

// TestGemmNoAlloc: every path of every implementation allocates nothing.
func TestGemmNoAlloc(t *testing.T) {
	for _, impl := range gemmImpls(t) {
		for _, s := range gemmShapes {
			a := make([]float32, s.m*s.k)
			b := make([]float32, s.k*s.n)
			c := make([]float32, s.m*s.n)
			small := make([]float32, 49+15) // a 3×5×7 product with the other transpose of A
			lda, ldb := s.k, s.n
			if s.transA {
				lda = s.m
			}
			if s.transB {
				ldb = s.k
			}
			allocs := testing.AllocsPerRun(5, func() {
				gemmWith(impl.id, s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, b, ldb, 1, c, s.n)
				gemmWith(impl.id, !s.transA, s.transB, 3, 5, 7, 1, small, 7, small, 7, 0, small[49:], 5)
			})
			if allocs != 0 {
				t.Errorf("%s %s: %v allocations per call, want 0", impl.name, s.name, allocs)
			}
		}
	}
}

// BenchmarkGemm reports GFLOP/s (2mnk per product) at the workload shapes
// for the assembly kernel, the pure-Go kernel and gemmNaive, over wall time
// and, where available, over the thread's CPU time (GFLOP/s-cpu), which a
// busy machine distorts less.
func BenchmarkGemm(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, s := range gemmShapes {
		a := make([]float32, s.m*s.k)
		bb := make([]float32, s.k*s.n)
		c := make([]float32, s.m*s.n)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		for i := range bb {
			bb[i] = float32(rng.NormFloat64())
		}
		lda, ldb := s.k, s.n
		if s.transA {
			lda = s.m
		}
		if s.transB {
			ldb = s.k
		}
		impls := append(gemmImpls(b), gemmImpl{"naive", -1})
		for _, impl := range impls {
			b.Run(s.name+"/"+impl.name, func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				cpu0 := threadCPU()
				for b.Loop() {
					if impl.id < 0 {
						gemmNaive(s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 1, c, s.n)
					} else {
						gemmWith(impl.id, s.transA, s.transB, s.m, s.n, s.k, 1, a, lda, bb, ldb, 1, c, s.n)
					}
				}
				flop := 2 * float64(s.m*s.n*s.k) * float64(b.N)
				b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				if cpu := threadCPU() - cpu0; cpu > 0 {
					b.ReportMetric(flop/cpu.Seconds()/1e9, "GFLOP/s-cpu")
				}
			})
		}
	}
}
