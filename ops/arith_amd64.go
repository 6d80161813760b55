//go:build amd64 && !purego

package ops

// The kernels of arith_amd64.s, 8 lanes at a time (AVX2), n a positive
// multiple of 8: o = a op b, a op s, s op b. o may be a or b.

//go:noescape
func addAsm8(n int, o, a, b *float32)

//go:noescape
func subAsm8(n int, o, a, b *float32)

//go:noescape
func mulAsm8(n int, o, a, b *float32)

//go:noescape
func divAsm8(n int, o, a, b *float32)

//go:noescape
func addScalarAsm8(n int, o, a *float32, s float32)

//go:noescape
func subScalarAsm8(n int, o, a *float32, s float32)

//go:noescape
func mulScalarAsm8(n int, o, a *float32, s float32)

//go:noescape
func divScalarAsm8(n int, o, a *float32, s float32)

//go:noescape
func scalarSubAsm8(n int, o *float32, s float32, b *float32)

//go:noescape
func scalarDivAsm8(n int, o *float32, s float32, b *float32)

func arithAsm(op ArithOp, n int, o, a, b *float32) {
	switch op {
	case ArithAdd:
		addAsm8(n, o, a, b)
	case ArithSub:
		subAsm8(n, o, a, b)
	case ArithMul:
		mulAsm8(n, o, a, b)
	case ArithDiv:
		divAsm8(n, o, a, b)
	}
}

func arithScalarAsm(op ArithOp, n int, o, a *float32, s float32) {
	switch op {
	case ArithAdd:
		addScalarAsm8(n, o, a, s)
	case ArithSub:
		subScalarAsm8(n, o, a, s)
	case ArithMul:
		mulScalarAsm8(n, o, a, s)
	case ArithDiv:
		divScalarAsm8(n, o, a, s)
	}
}

// scalarArithAsm is s op b: addition and multiplication commute, so
// a op s serves them.
func scalarArithAsm(op ArithOp, n int, o *float32, s float32, b *float32) {
	switch op {
	case ArithAdd, ArithMul:
		arithScalarAsm(op, n, o, b, s)
	case ArithSub:
		scalarSubAsm8(n, o, s, b)
	case ArithDiv:
		scalarDivAsm8(n, o, s, b)
	}
}
