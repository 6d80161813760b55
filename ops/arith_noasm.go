//go:build !amd64 || purego

package ops

// Without assembly vecLen is 0, so Arith, ArithScalar and ScalarArith
// never reach these.

func arithAsm(op ArithOp, n int, o, a, b *float32) { panic("ops: arithAsm: no assembly in this build") }

func arithScalarAsm(op ArithOp, n int, o, a *float32, s float32) {
	panic("ops: arithScalarAsm: no assembly in this build")
}

func scalarArithAsm(op ArithOp, n int, o *float32, s float32, b *float32) {
	panic("ops: scalarArithAsm: no assembly in this build")
}
