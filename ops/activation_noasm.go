//go:build !amd64 || purego

package ops

// haveVecAsm reports whether the vector kernels can run: never in this
// build, where vecLen is 0 and the scalar code does all the work.
const haveVecAsm = false

// The assembly kernels are absent from this build; vecLen never lets a
// caller reach them.

func sigmoidAsm(n int, dst, src *float32) { panic("ops: sigmoidAsm: no assembly in this build") }
func tanhAsm(n int, dst, src *float32)    { panic("ops: tanhAsm: no assembly in this build") }

func lstmCellForwardAsm(m, h int, gr, bias, peep, cp, cell, tanhC, y *float32) {
	panic("ops: lstmCellForwardAsm: no assembly in this build")
}

func lstmCellBackwardAsm(m, h int, gates, tanhC, cp, dy, dh, dc, dG, peep *float32) {
	panic("ops: lstmCellBackwardAsm: no assembly in this build")
}

func gruCellForwardAsm(m, h int, gr, rec, bias, hp, hr, y *float32) {
	panic("ops: gruCellForwardAsm: no assembly in this build")
}

func gruCellBackwardAsm(m, h int, gates, hp, hr, dy, dh, dG, dxh *float32) {
	panic("ops: gruCellBackwardAsm: no assembly in this build")
}

func colSumsAsm(rows, cols, ld int, m *float32, sum *float64) {
	panic("ops: colSumsAsm: no assembly in this build")
}

func transpose8Asm(dst, src *float32, rows, cols int) {
	panic("ops: transpose8Asm: no assembly in this build")
}
