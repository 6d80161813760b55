//go:build !amd64 || purego

package ops

// haveOptimAsm: no optimizer kernels in this build.
const haveOptimAsm = false

func adamAsm(n int, p, grad, m, v *float32, h *AdamHyper) {
	panic("ops: adamAsm: no assembly in this build")
}

func addToAsm(n int, dst, src *float32) { panic("ops: addToAsm: no assembly in this build") }
