package ops

import "testing"

func BenchmarkZZStep(b *testing.B) {
	for _, sh := range [][3]int{{16, 256, 64}, {8, 256, 64}, {16, 512, 128}} {
		m, n, k := sh[0], sh[1], sh[2]
		a := make([]float32, m*k)
		r := make([]float32, n*k)
		c := make([]float32, m*n)
		for i := range a {
			a[i] = 0.5
		}
		b.Run("dot", func(b *testing.B) {
			for range b.N {
				Gemm(false, true, m, n, k, 1, a, k, r, k, 1, c, n)
			}
		})
		b.Run("outer", func(b *testing.B) {
			for range b.N {
				Gemm(false, false, m, n, k, 1, a, k, r, n, 1, c, n)
			}
		})
	}
}
