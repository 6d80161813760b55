package ops

// Elementwise float32 arithmetic for the ONNX operators Add, Sub, Mul and
// Div: each element is one IEEE operation, rounded once, so the vector
// kernels give the scalar loop's bits and the split between them changes
// nothing.

// ArithOp is one of the four elementwise operations.
type ArithOp uint8

// The operations of Arith, ArithScalar and ScalarArith.
const (
	ArithAdd ArithOp = iota
	ArithSub
	ArithMul
	ArithDiv
)

// apply is x op y.
func (op ArithOp) apply(x, y float32) float32 {
	switch op {
	case ArithAdd:
		return x + y
	case ArithSub:
		return x - y
	case ArithMul:
		return x * y
	case ArithDiv:
		return x / y
	}
	panic("ops: not an ArithOp")
}

// Arith sets o[i] = a[i] op b[i] for i < len(o); a and b need at least
// len(o) elements and may be o itself (not otherwise overlapping it).
func Arith(op ArithOp, o, a, b []float32) {
	a, b = a[:len(o)], b[:len(o)]
	m := vecLen(len(o))
	if m > 0 {
		arithAsm(op, m, &o[0], &a[0], &b[0])
	}
	for i := m; i < len(o); i++ {
		o[i] = op.apply(a[i], b[i])
	}
}

// ArithScalar sets o[i] = a[i] op s for i < len(o), as Arith.
func ArithScalar(op ArithOp, o, a []float32, s float32) {
	a = a[:len(o)]
	m := vecLen(len(o))
	if m > 0 {
		arithScalarAsm(op, m, &o[0], &a[0], s)
	}
	for i := m; i < len(o); i++ {
		o[i] = op.apply(a[i], s)
	}
}

// ScalarArith sets o[i] = s op b[i] for i < len(o), as Arith.
func ScalarArith(op ArithOp, o []float32, s float32, b []float32) {
	b = b[:len(o)]
	m := vecLen(len(o))
	if m > 0 {
		scalarArithAsm(op, m, &o[0], s, &b[0])
	}
	for i := m; i < len(o); i++ {
		o[i] = op.apply(s, b[i])
	}
}
