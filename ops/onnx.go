package ops

// ONNX operators on dense tensors, for tensor-form graphs (models imported
// from ONNX). Each kernel follows the ONNX operator specification; where the
// specification leaves a case open (padded steps of LSTM and GRU) ONNX
// Runtime's CPU kernels are the reference.
//
// Unlike the sequence kernels, these validate their operands and return an
// error for a bad one: shapes and values arrive with the data at run time, so
// a mismatch is a user error, not a programming error. Messages are one
// lowercase line stating the rule and what was found; the runtime prefixes
// the node. Kernels never write into their inputs.
//
// Outputs come from an Alloc, so a runtime can reuse buffers across calls;
// a nil Alloc allocates fresh tensors.

import (
	"fmt"
	"math"
	"strings"

	"github.com/trnn/trnn/graph"
)

// Alloc returns a tensor of type dt and the given shape for a kernel's output
// or scratch space. The contents are not zeroed: a kernel writes every
// element it returns. The shape slice is not retained.
type Alloc func(dt graph.DType, shape []int) *graph.Tensor

// get returns a tensor from a, or a new zeroed tensor when a is nil.
func (a Alloc) get(dt graph.DType, shape []int) *graph.Tensor {
	if a == nil {
		return graph.NewTensor(dt, shape...)
	}
	return a(dt, shape)
}

// MaxElements bounds the number of elements of any tensor an ONNX kernel
// creates, so that a shape computed from user data (Reshape, Expand, Range)
// fails with an error instead of exhausting memory.
const MaxElements = 1<<31 - 1

// onnxNum is the set of numeric element types; onnxElem adds bool.
type onnxNum interface {
	float32 | float64 | int32 | int64
}

type onnxElem interface {
	onnxNum | bool
}

// elems returns t's data slice for element type T, which must match t.DType.
func elems[T onnxElem](t *graph.Tensor) []T {
	var z T
	switch any(z).(type) {
	case float32:
		return any(t.F32).([]T)
	case float64:
		return any(t.F64).([]T)
	case int32:
		return any(t.I32).([]T)
	case int64:
		return any(t.I64).([]T)
	case bool:
		return any(t.B).([]T)
	}
	panic("ops: elems: unreachable")
}

// FormatShape prints a shape as [2, 3, 4]; a scalar is [].
func FormatShape(shape []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, d)
	}
	b.WriteByte(']')
	return b.String()
}

// CheckTensor reports whether t is well formed: a supported dtype, no
// negative dimension, at most MaxElements elements, and a data slice of
// exactly that many elements.
func CheckTensor(t *graph.Tensor) error {
	if t == nil {
		return fmt.Errorf("missing tensor")
	}
	switch t.DType {
	case graph.Float32, graph.Float64, graph.Int32, graph.Int64, graph.Bool:
	default:
		return fmt.Errorf("unsupported element type %v", t.DType)
	}
	n, err := checkedSize(t.Shape)
	if err != nil {
		return err
	}
	if t.Len() != n {
		return fmt.Errorf("%d elements for shape %s (%d expected)", t.Len(), FormatShape(t.Shape), n)
	}
	return nil
}

// checkedSize is graph.Size(shape) with a check for negative dimensions and for
// more than MaxElements elements.
func checkedSize(shape []int) (int, error) {
	n := 1
	zero := false
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension in shape %s", FormatShape(shape))
		}
		if d == 0 {
			zero = true
			continue
		}
		if n > MaxElements/d {
			return 0, fmt.Errorf("shape %s has more than %d elements", FormatShape(shape), MaxElements)
		}
		n *= d
	}
	if zero {
		return 0, nil
	}
	return n, nil
}

// normAxis maps axis in [-rank, rank) to [0, rank).
func normAxis(axis int64, rank int) (int, error) {
	if axis < -int64(rank) || axis >= int64(rank) {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += int64(rank)
	}
	return int(axis), nil
}

// copyElems copies n elements from src[si:] to dst[di:]; both have dst's
// dtype.
func copyElems(dst *graph.Tensor, di int, src *graph.Tensor, si, n int) {
	switch dst.DType {
	case graph.Float32:
		copy(dst.F32[di:di+n], src.F32[si:si+n])
	case graph.Float64:
		copy(dst.F64[di:di+n], src.F64[si:si+n])
	case graph.Int32:
		copy(dst.I32[di:di+n], src.I32[si:si+n])
	case graph.Int64:
		copy(dst.I64[di:di+n], src.I64[si:si+n])
	case graph.Bool:
		copy(dst.B[di:di+n], src.B[si:si+n])
	default:
		panic("ops: copyElems: unsupported dtype " + dst.DType.String())
	}
}

// Clone returns a deep copy of t allocated from alloc.
func Clone(t *graph.Tensor, alloc Alloc) *graph.Tensor {
	out := alloc.get(t.DType, t.Shape)
	copyElems(out, 0, t, 0, t.Len())
	return out
}

// ---------------------------------------------------------------------------
// Broadcasting (numpy's multidirectional rule, as ONNX's Broadcasting.md).

// BroadcastShapes returns the shape that all of shapes broadcast to: shapes
// are aligned on their last dimension and, dimension by dimension, must be
// equal or 1.
func BroadcastShapes(shapes ...[]int) ([]int, error) {
	r := 0
	for _, s := range shapes {
		r = max(r, len(s))
	}
	out := make([]int, r)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		off := r - len(s)
		for i, d := range s {
			o := out[off+i]
			switch {
			case d == o || d == 1:
			case o == 1:
				out[off+i] = d
			default:
				return nil, fmt.Errorf("shapes %s are not broadcastable", formatShapes(shapes))
			}
		}
	}
	return out, nil
}

func formatShapes(shapes [][]int) string {
	parts := make([]string, len(shapes))
	for i, s := range shapes {
		parts[i] = FormatShape(s)
	}
	if len(parts) == 2 {
		return parts[0] + " and " + parts[1]
	}
	return strings.Join(parts, ", ")
}

// bcastPlan walks an output tensor in contiguous runs along its innermost
// (merged) dimension, giving for each run the offset of every operand. Inner
// is each operand's stride along the run: 1, or 0 when broadcast.
type bcastPlan struct {
	dims    []int   // merged output dimensions, outermost first
	strides [][]int // [operand][dim] element strides, 0 where broadcast
	inner   []int   // [operand] stride along the innermost dimension
	size    int     // output elements
	ctr     []int   // scratch for run: odometer counters
	off     []int   // scratch for run: operand offsets
}

// newBcastPlan plans the walk of an output of shape out over operands whose
// shapes broadcast to it (unidirectionally: each operand to out). All its
// slices share one allocation.
func newBcastPlan(out []int, shapes ...[]int) *bcastPlan {
	r, k := len(out), len(shapes)
	// Layout of buf: dims [r+1], strides k×[r+1], inner [k], then the
	// odometer's counters [r+1] and offsets [k] used by run.
	w := r + 1
	buf := make([]int, w+k*w+k+w+k)
	p := &bcastPlan{size: graph.Size(out), strides: make([][]int, k)}
	dims := buf[:0:w]
	for i := range shapes {
		p.strides[i] = buf[w+i*w : w+i*w : w+(i+1)*w]
	}
	p.inner = buf[w+k*w : w+k*w+k]
	// Drop unit output dimensions; merge neighbours that are contiguous for
	// every operand. full(i, d) is operand i's stride along output dim d.
	full := func(i, d int) int {
		s := shapes[i]
		off := r - len(s)
		if d < off || s[d-off] == 1 {
			return 0
		}
		return graph.Size(s[d-off+1:])
	}
	for d := 0; d < r; d++ {
		if out[d] == 1 {
			continue
		}
		if n := len(dims); n > 0 {
			ok := true
			for i := range shapes {
				if p.strides[i][n-1] != full(i, d)*out[d] {
					ok = false
					break
				}
			}
			if ok {
				dims[n-1] *= out[d]
				for i := range shapes {
					p.strides[i][n-1] = full(i, d)
				}
				continue
			}
		}
		dims = append(dims, out[d])
		for i := range shapes {
			p.strides[i] = append(p.strides[i], full(i, d))
		}
	}
	if len(dims) == 0 {
		dims = append(dims, 1)
		for i := range shapes {
			p.strides[i] = append(p.strides[i], 0)
		}
	}
	p.dims = dims
	for i := range shapes {
		p.inner[i] = p.strides[i][len(dims)-1]
	}
	p.ctr = buf[w+k*w+k : w+k*w+k+w]
	p.off = buf[w+k*w+k+w:]
	return p
}

// run calls fn for every run: the output offset o, the operand offsets off
// and the run length n.
func (p *bcastPlan) run(fn func(o int, off []int, n int)) {
	if p.size == 0 {
		return
	}
	last := len(p.dims) - 1
	n := p.dims[last]
	ctr, off := p.ctr[:last], p.off
	clear(ctr)
	clear(off)
	for o := 0; o < p.size; o += n {
		fn(o, off, n)
		// Advance the odometer over the outer dimensions.
		for d := last - 1; d >= 0; d-- {
			ctr[d]++
			for k, st := range p.strides {
				off[k] += st[d]
			}
			if ctr[d] < p.dims[d] {
				break
			}
			for k, st := range p.strides {
				off[k] -= st[d] * p.dims[d]
			}
			ctr[d] = 0
		}
	}
}

// ---------------------------------------------------------------------------
// Elementwise binary operators.

// ONNXBinary computes an elementwise binary ONNX operator with
// multidirectional broadcasting: Add, Sub, Mul, Div (numeric operands, same
// type out), Less, Greater (numeric operands, bool out), Equal (numeric or
// bool operands, bool out) and And (bool). Integer Div truncates toward zero
// and fails on a zero divisor.
func ONNXBinary(op graph.Op, a, b *graph.Tensor, alloc Alloc) (*graph.Tensor, error) {
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
		panic("ops: ONNXBinary: not a binary op: " + op.String())
	}
	shape, err := BroadcastShapes(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	if _, err := checkedSize(shape); err != nil {
		return nil, err
	}
	if op == graph.OpDiv && (dt == graph.Int32 || dt == graph.Int64) && hasZero(b) {
		return nil, fmt.Errorf("integer division by zero")
	}
	outType := dt
	if op == graph.OpLess || op == graph.OpGreater || op == graph.OpEqual {
		outType = graph.Bool
	}
	out := alloc.get(outType, shape)
	p := newBcastPlan(shape, a.Shape, b.Shape)
	switch dt {
	case graph.Float32:
		binaryTyped(op, p, a, b, out, arithRun[float32], cmpRun[float32])
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

func binaryTyped[T onnxNum](op graph.Op, p *bcastPlan, a, b, out *graph.Tensor,
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

// arithRun computes o[i] = a[i·sa] op b[i·sb].
func arithRun[T onnxNum](op graph.Op, o, a []T, sa int, b []T, sb int) {
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

// cmpRun computes o[i] = a[i·sa] op b[i·sb] for a comparison op.
func cmpRun[T onnxNum](op graph.Op, o []bool, a []T, sa int, b []T, sb int) {
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

// ONNXWhere selects x where cond is true and y elsewhere, broadcasting all
// three operands together.
func ONNXWhere(cond, x, y *graph.Tensor, alloc Alloc) (*graph.Tensor, error) {
	if cond.DType != graph.Bool {
		return nil, fmt.Errorf("condition must be bool, found %v", cond.DType)
	}
	if x.DType != y.DType {
		return nil, fmt.Errorf("X and Y have different types: %v and %v", x.DType, y.DType)
	}
	shape, err := BroadcastShapes(cond.Shape, x.Shape, y.Shape)
	if err != nil {
		return nil, err
	}
	if _, err := checkedSize(shape); err != nil {
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

func whereTyped[T onnxElem](p *bcastPlan, cond, x, y, out *graph.Tensor) {
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

// ONNXExpand broadcasts x to shape (ONNX Expand): the result has the
// broadcast of x's shape and shape, so a 1 in shape keeps x's dimension.
func ONNXExpand(x *graph.Tensor, shape []int64, alloc Alloc) (*graph.Tensor, error) {
	target := make([]int, len(shape))
	for i, d := range shape {
		if d < 0 || d > MaxElements {
			return nil, fmt.Errorf("shape has invalid dimension %d", d)
		}
		target[i] = int(d)
	}
	outShape, err := BroadcastShapes(x.Shape, target)
	if err != nil {
		return nil, err
	}
	if _, err := checkedSize(outShape); err != nil {
		return nil, err
	}
	out := alloc.get(x.DType, outShape)
	p := newBcastPlan(outShape, x.Shape)
	s := p.inner[0]
	p.run(func(o int, off []int, n int) {
		if s == 1 {
			copyElems(out, o, x, off[0], n)
			return
		}
		for i := range n {
			copyElems(out, o+i, x, off[0], 1)
		}
	})
	return out, nil
}

// ---------------------------------------------------------------------------
// Elementwise unary operators.

// ONNXUnary computes an elementwise unary ONNX operator: Sigmoid and Tanh
// (float), Relu (float and integer), Not (bool) and Identity (any type).
// Sigmoid and Tanh on float32 use the same functions as the recurrent
// kernels.
func ONNXUnary(op graph.Op, x *graph.Tensor, alloc Alloc) (*graph.Tensor, error) {
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
		return Clone(x, alloc), nil
	default:
		panic("ops: ONNXUnary: not a unary op: " + op.String())
	}
	out := alloc.get(dt, x.Shape)
	switch op {
	case graph.OpSigmoid:
		if dt == graph.Float32 {
			for i, v := range x.F32 {
				out.F32[i] = sigmoid(v)
			}
		} else {
			for i, v := range x.F64 {
				out.F64[i] = 1 / (1 + math.Exp(-v))
			}
		}
	case graph.OpTanh:
		if dt == graph.Float32 {
			for i, v := range x.F32 {
				out.F32[i] = tanh(v)
			}
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
func reluRun[T onnxNum](o, x []T) {
	for i, v := range x {
		if v < 0 {
			v = 0
		}
		o[i] = v
	}
}
