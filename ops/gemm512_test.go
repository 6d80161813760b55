package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestGemmAVX512SameBitsAsAVX2: the AVX-512 kernel gives the AVX2 kernel's
// results bit for bit, on every transpose combination, strips of 32
// columns and their remainders, row tiles of 8, 4, 2 and 1 (m = 15 takes
// each), k blocks across gemmKC, beta 0, 1 and other, so that training is
// reproducible whichever of the two a CPU has.
func TestGemmAVX512SameBitsAsAVX2(t *testing.T) {
	if !haveGemmAVX512 {
		t.Skip("no AVX-512 on this machine")
	}
	rng := rand.New(rand.NewPCG(51, 2))
	fill := func(x []float32) {
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
	}
	n := 0
	for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		for _, m := range []int{1, 2, 3, 6, 7, 8, 9, 15, 33, 70, 300} { // 300 rows of k = 300: tile by tile (gemmOuter32Tiles)
			for _, nn := range []int{31, 32, 33, 64, 95, 256} {
				for _, k := range []int{1, 13, 64, 300} {
					beta := []float32{0, 1, -0.5}[n%3]
					alpha := []float32{1, 0.25}[n%2]
					n++
					a, b := make([]float32, m*k), make([]float32, k*nn)
					fill(a)
					fill(b)
					lda, ldb := k, nn
					if tr[0] {
						lda = m
					}
					if tr[1] {
						ldb = k
					}
					c := make([]float32, m*nn)
					fill(c)
					want := append([]float32(nil), c...)
					gemmWith(gemmUseAsm, tr[0], tr[1], m, nn, k, alpha, a, lda, b, ldb, beta, want, nn)
					gemmWith(gemmUseAVX512, tr[0], tr[1], m, nn, k, alpha, a, lda, b, ldb, beta, c, nn)
					for i := range c {
						if math.Float32bits(c[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%s: C[%d] = %v with AVX-512, %v with AVX2", fmt.Sprintf("trans=%v m=%d n=%d k=%d alpha=%g beta=%g", tr, m, nn, k, alpha, beta), i, c[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestGemmDefaultIsTheWidest: Gemm uses the AVX-512 kernel where the CPU
// has it, else the AVX2 one where it has that.
func TestGemmDefaultIsTheWidest(t *testing.T) {
	want := gemmUseGo
	switch {
	case haveGemmAVX512:
		want = gemmUseAVX512
	case haveGemmAsm:
		want = gemmUseAsm
	}
	if gemmDefault != want {
		t.Fatalf("Gemm uses implementation %d, want %d", gemmDefault, want)
	}
}
