package interp

// Elementwise operators: Add, Sub, Mul, Div, Less, Greater, Equal, And
// (binary, with multidirectional broadcasting), Where, Expand, and Sigmoid,
// Tanh, Relu, Not, Identity (unary).

import (
	"fmt"
	"math"
	"slices"

	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/ops"
)

// binary computes an elementwise binary ONNX operator with
// multidirectional broadcasting: Add, Sub, Mul, Div (numeric operands, same
// type out), Less, Greater (numeric operands, bool out), Equal (numeric or
// bool operands, bool out) and And (bool). Integer Div truncates toward zero
// and fails on a zero divisor.
func binary(op graph.Op, a, b *graph.Tensor, alloc allocator) (*graph.Tensor, error) {
	if a.DType != b.DType {
		return nil, fmt.Errorf("operands have different types: %v and %v", a.DType, b.DType)
	}
	dt := a.DType
	switch op {
	case graph.OpAdd, graph.OpSub, graph.OpMul, graph.OpDiv, graph.OpLess, graph.OpGreater:
		if dt == graph.Bool {
			return nil, fmt.Errorf("expected numeric operands, found %v", dt)
		}
	case graph.OpEqual:
	case graph.OpAnd:
		if dt != graph.Bool {
			return nil, fmt.Errorf("expected bool operands, found %v", dt)
		}
	default:
		panic("interp: binary: not a binary op: " + op.String())
	}
	if op == graph.OpDiv && (dt == graph.Int32 || dt == graph.Int64) && hasZero(b) {
		return nil, fmt.Errorf("integer division by zero")
	}
	outType := dt
	if op == graph.OpLess || op == graph.OpGreater || op == graph.OpEqual {
		outType = graph.Bool
	}
	if dt == graph.Float32 && outType == dt {
		if out, ok := arithTiled(op, a, b, alloc); ok {
			return out, nil
		}
	}
	shape, err := broadcastShapes(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	if _, err := graph.CheckedSize(shape); err != nil {
		return nil, err
	}
	out := alloc.get(outType, shape)
	p := newBcastPlan(shape, a.Shape, b.Shape)
	switch dt {
	case graph.Float32:
		binaryTyped(op, p, a, b, out, arithRunF32, cmpRun[float32])
	case graph.Float64:
		binaryTyped(op, p, a, b, out, arithRun[float64], cmpRun[float64])
	case graph.Int32:
		binaryTyped(op, p, a, b, out, arithRun[int32], cmpRun[int32])
	case graph.Int64:
		binaryTyped(op, p, a, b, out, arithRun[int64], cmpRun[int64])
	case graph.Bool:
		av, bv, ov := a.B, b.B, out.B
		sa, sb := p.inner[0], p.inner[1]
		p.run(func(o int, off []int, n int) {
			boolRun(op, ov[o:o+n], av[off[0]:], sa, bv[off[1]:], sb)
		})
	}
	return out, nil
}

// arithTiled computes a float32 a op b when one operand broadcast to the
// other's shape is itself repeated whole (tiles): a bias added to every
// row, a scalar scaling every element (PyTorch writes both either way
// round), or shapes alike. It reports false for any other broadcast.
func arithTiled(op graph.Op, a, b *graph.Tensor, alloc allocator) (*graph.Tensor, bool) {
	switch {
	case tiles(a.Shape, b.Shape):
		out := alloc.get(graph.Float32, a.Shape)
		switch n, k := len(b.F32), arithOp(op); n {
		case 0:
		case 1:
			ops.ArithScalar(k, out.F32, a.F32, b.F32[0])
		default:
			for o := 0; o < len(out.F32); o += n {
				ops.Arith(k, out.F32[o:o+n], a.F32[o:o+n], b.F32)
			}
		}
		return out, true
	case tiles(b.Shape, a.Shape):
		out := alloc.get(graph.Float32, b.Shape)
		switch n, k := len(a.F32), arithOp(op); n {
		case 0:
		case 1:
			ops.ScalarArith(k, out.F32, a.F32[0], b.F32)
		default:
			for o := 0; o < len(out.F32); o += n {
				ops.Arith(k, out.F32[o:o+n], a.F32, b.F32[o:o+n])
			}
		}
		return out, true
	}
	return nil, false
}

// arithOp is ops' name for the arithmetic op.
func arithOp(op graph.Op) ops.ArithOp {
	switch op {
	case graph.OpAdd:
		return ops.ArithAdd
	case graph.OpSub:
		return ops.ArithSub
	case graph.OpMul:
		return ops.ArithMul
	case graph.OpDiv:
		return ops.ArithDiv
	}
	panic("interp: not an arithmetic op: " + op.String())
}

// tiles reports whether b broadcast to a's shape is b repeated whole: b's
// shape, leading ones aside, is the end of a's (a bias added to every row,
// or shapes alike). Such operands need no broadcast plan, which a model
// run step by step would otherwise make on every call.
func tiles(a, b []int) bool {
	if len(b) > len(a) {
		return false
	}
	for len(b) > 0 && b[0] == 1 {
		b = b[1:]
	}
	return slices.Equal(a[len(a)-len(b):], b)
}

func hasZero(t *graph.Tensor) bool {
	switch t.DType {
	case graph.Int32:
		for _, v := range t.I32 {
			if v == 0 {
				return true
			}
		}
	case graph.Int64:
		for _, v := range t.I64 {
			if v == 0 {
				return true
			}
		}
	}
	return false
}

func binaryTyped[T number](op graph.Op, p *bcastPlan, a, b, out *graph.Tensor,
	arith func(graph.Op, []T, []T, int, []T, int), cmp func(graph.Op, []bool, []T, int, []T, int)) {
	av, bv := elems[T](a), elems[T](b)
	sa, sb := p.inner[0], p.inner[1]
	if out.DType == graph.Bool {
		ov := out.B
		p.run(func(o int, off []int, n int) {
			cmp(op, ov[o:o+n], av[off[0]:], sa, bv[off[1]:], sb)
		})
		return
	}
	ov := elems[T](out)
	p.run(func(o int, off []int, n int) {
		arith(op, ov[o:o+n], av[off[0]:], sa, bv[off[1]:], sb)
	})
}

// arithRunF32 is arithRun on float32 runs, with ops' vector kernels where
// both strides are 1, or one is 1 and the other 0 (a scalar along the run).
func arithRunF32(op graph.Op, o, a []float32, sa int, b []float32, sb int) {
	switch {
	case sa == 1 && sb == 1:
		ops.Arith(arithOp(op), o, a, b)
	case sa == 1 && sb == 0:
		ops.ArithScalar(arithOp(op), o, a, b[0])
	case sa == 0 && sb == 1:
		ops.ScalarArith(arithOp(op), o, a[0], b)
	default:
		arithRun(op, o, a, sa, b, sb)
	}
}

// arithRun computes o[i] = a[i·sa] op b[i·sb].
func arithRun[T number](op graph.Op, o, a []T, sa int, b []T, sb int) {
	if sa == 1 && sb == 1 {
		arithDense(op, o, a[:len(o)], b[:len(o)])
		return
	}
	switch op {
	case graph.OpAdd:
		for i := range o {
			o[i] = a[i*sa] + b[i*sb]
		}
	case graph.OpSub:
		for i := range o {
			o[i] = a[i*sa] - b[i*sb]
		}
	case graph.OpMul:
		for i := range o {
			o[i] = a[i*sa] * b[i*sb]
		}
	case graph.OpDiv:
		for i := range o {
			o[i] = a[i*sa] / b[i*sb]
		}
	}
}

// arithDense is arithRun on operands of o's length read with unit
// strides, the common case of same-shaped operands, in loops the compiler
// compiles without bounds checks.
func arithDense[T number](op graph.Op, o, a, b []T) {
	switch op {
	case graph.OpAdd:
		for i := range o {
			o[i] = a[i] + b[i]
		}
	case graph.OpSub:
		for i := range o {
			o[i] = a[i] - b[i]
		}
	case graph.OpMul:
		for i := range o {
			o[i] = a[i] * b[i]
		}
	case graph.OpDiv:
		for i := range o {
			o[i] = a[i] / b[i]
		}
	}
}

// cmpRun computes o[i] = a[i·sa] op b[i·sb] for a comparison op.
func cmpRun[T number](op graph.Op, o []bool, a []T, sa int, b []T, sb int) {
	switch op {
	case graph.OpLess:
		for i := range o {
			o[i] = a[i*sa] < b[i*sb]
		}
	case graph.OpGreater:
		for i := range o {
			o[i] = a[i*sa] > b[i*sb]
		}
	case graph.OpEqual:
		for i := range o {
			o[i] = a[i*sa] == b[i*sb]
		}
	}
}

func boolRun(op graph.Op, o, a []bool, sa int, b []bool, sb int) {
	switch op {
	case graph.OpEqual:
		for i := range o {
			o[i] = a[i*sa] == b[i*sb]
		}
	case graph.OpAnd:
		for i := range o {
			o[i] = a[i*sa] && b[i*sb]
		}
	}
}

// where selects x where cond is true and y elsewhere, broadcasting all
// three operands together.
func where(cond, x, y *graph.Tensor, alloc allocator) (*graph.Tensor, error) {
	if cond.DType != graph.Bool {
		return nil, fmt.Errorf("condition must be bool, found %v", cond.DType)
	}
	if x.DType != y.DType {
		return nil, fmt.Errorf("X and Y have different types: %v and %v", x.DType, y.DType)
	}
	shape, err := broadcastShapes(cond.Shape, x.Shape, y.Shape)
	if err != nil {
		return nil, err
	}
	if _, err := graph.CheckedSize(shape); err != nil {
		return nil, err
	}
	out := alloc.get(x.DType, shape)
	p := newBcastPlan(shape, cond.Shape, x.Shape, y.Shape)
	switch x.DType {
	case graph.Float32:
		whereTyped[float32](p, cond, x, y, out)
	case graph.Float64:
		whereTyped[float64](p, cond, x, y, out)
	case graph.Int32:
		whereTyped[int32](p, cond, x, y, out)
	case graph.Int64:
		whereTyped[int64](p, cond, x, y, out)
	case graph.Bool:
		whereTyped[bool](p, cond, x, y, out)
	}
	return out, nil
}

func whereTyped[T element](p *bcastPlan, cond, x, y, out *graph.Tensor) {
	c, xv, yv, ov := cond.B, elems[T](x), elems[T](y), elems[T](out)
	sc, sx, sy := p.inner[0], p.inner[1], p.inner[2]
	p.run(func(o int, off []int, n int) {
		c, xv, yv := c[off[0]:], xv[off[1]:], yv[off[2]:]
		for i := range n {
			if c[i*sc] {
				ov[o+i] = xv[i*sx]
			} else {
				ov[o+i] = yv[i*sy]
			}
		}
	})
}

// expand broadcasts x to shape (ONNX Expand): the result has the
// broadcast of x's shape and shape, so a 1 in shape keeps x's dimension.
func expand(x *graph.Tensor, shape []int64, alloc allocator) (*graph.Tensor, error) {
	target := make([]int, len(shape))
	for i, d := range shape {
		if d < 0 || d > graph.MaxElements {
			return nil, fmt.Errorf("shape has invalid dimension %d", d)
		}
		target[i] = int(d)
	}
	outShape, err := broadcastShapes(x.Shape, target)
	if err != nil {
		return nil, err
	}
	if _, err := graph.CheckedSize(outShape); err != nil {
		return nil, err
	}
	out := alloc.get(x.DType, outShape)
	p := newBcastPlan(outShape, x.Shape)
	s := p.inner[0]
	p.run(func(o int, off []int, n int) {
		if s == 1 {
			out.CopyElems(o, x, off[0], n)
			return
		}
		for i := range n {
			out.CopyElems(o+i, x, off[0], 1)
		}
	})
	return out, nil
}

// unary computes an elementwise unary ONNX operator: Sigmoid and Tanh
// (float), Relu (float and integer), Not (bool) and Identity (any type).
// Sigmoid and Tanh on float32 use the same functions as the recurrent
// kernels.
func unary(op graph.Op, x *graph.Tensor, alloc allocator) (*graph.Tensor, error) {
	dt := x.DType
	switch op {
	case graph.OpSigmoid, graph.OpTanh:
		if dt != graph.Float32 && dt != graph.Float64 {
			return nil, fmt.Errorf("expected a float tensor, found %v", dt)
		}
	case graph.OpRelu:
		if dt == graph.Bool {
			return nil, fmt.Errorf("expected a numeric tensor, found %v", dt)
		}
	case graph.OpNot:
		if dt != graph.Bool {
			return nil, fmt.Errorf("expected a bool tensor, found %v", dt)
		}
	case graph.OpIdentity:
		return clone(x, alloc), nil
	default:
		panic("interp: unary: not a unary op: " + op.String())
	}
	out := alloc.get(dt, x.Shape)
	switch op {
	case graph.OpSigmoid:
		if dt == graph.Float32 {
			ops.SigmoidVec(out.F32, x.F32)
		} else {
			for i, v := range x.F64 {
				out.F64[i] = 1 / (1 + math.Exp(-v))
			}
		}
	case graph.OpTanh:
		if dt == graph.Float32 {
			ops.TanhVec(out.F32, x.F32)
		} else {
			for i, v := range x.F64 {
				out.F64[i] = math.Tanh(v)
			}
		}
	case graph.OpRelu:
		switch dt {
		case graph.Float32:
			reluRun(out.F32, x.F32)
		case graph.Float64:
			reluRun(out.F64, x.F64)
		case graph.Int32:
			reluRun(out.I32, x.I32)
		case graph.Int64:
			reluRun(out.I64, x.I64)
		}
	case graph.OpNot:
		for i, v := range x.B {
			out.B[i] = !v
		}
	}
	return out, nil
}

// reluRun computes o = max(x, 0); NaN stays NaN, as in ONNX Runtime.
func reluRun[T number](o, x []T) {
	for i, v := range x {
		if v < 0 {
			v = 0
		}
		o[i] = v
	}
}
