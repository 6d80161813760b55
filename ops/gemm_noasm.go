//go:build !amd64 || purego

package ops

// haveGemmAsm and haveGemmAVX512 report whether gemmAsm can run: never in
// this build.
const (
	haveGemmAsm    = false
	haveGemmAVX512 = false
)

// gemmAsm is the assembly kernel, absent from this build; gemmDefault never
// selects it.
func gemmAsm(wide, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	panic("ops: gemmAsm: no assembly kernel in this build")
}

// gemmPacksTransB reports whether Gemm(false, true, m, n, ...) gives the
// bits of Gemm(false, false, m, n, ...) on Bᵀ stored: always, as the
// pure-Go kernel reads either layout in the same order.
func gemmPacksTransB(m, n int) bool { return true }

// gemmFastRow reports whether Gemm(false, false, 1, n, ...) has a GEMV
// kernel: not in this build.
func gemmFastRow() bool { return false }

// gemvPanels is the AVX-512 GEMV over panels, absent from this build;
// gemmFastRow keeps callers off it.
func gemvPanels(reverse bool, n, k int, a, b []float32, beta float32, c []float32) {
	panic("ops: gemvPanels: no assembly kernel in this build")
}
