//go:build !amd64 || purego

package ops

// haveGemmAsm reports whether gemmAsm can run: never in this build.
const haveGemmAsm = false

// gemmAsm is the assembly kernel, absent from this build; gemmDefault never
// selects it.
func gemmAsm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	panic("ops: gemmAsm: no assembly kernel in this build")
}
