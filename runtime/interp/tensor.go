package interp

// Helpers every kernel shares: allocation, element access, axes and
// broadcasting (numpy's multidirectional rule, as ONNX's Broadcasting.md).

import (
	"fmt"
	"strings"

	"github.com/trnn/trnn/graph"
)

// allocator returns a tensor of type dt and the given shape for a kernel's
// output or scratch space. The contents are not zeroed: a kernel writes
// every element it returns. The shape slice is not retained, and, as the
// allocator is a concrete type rather than a function value, does not
// escape: a kernel's shape on its stack stays there.
//
// It draws on a call's state (recycled buffers), or while the model loads
// on the fold budget; the zero allocator makes new zeroed tensors.
type allocator struct {
	st   *state
	fold *foldBudget
	// reuse, when set, is given back by get, with the shape asked for,
	// when its type and capacity fit: the dead input of a kernel that
	// makes one tensor (moving).
	reuse *graph.Tensor
	// fill, when set, is applied to the new tensors of the zero
	// allocator: tests make them dirty, as recycled buffers are.
	fill func(*graph.Tensor)
}

// get returns a tensor from a's source.
func (a allocator) get(dt graph.DType, shape []int) *graph.Tensor {
	if t := a.reuse; t != nil && t.DType == dt && capacity(t) >= graph.Size(shape) {
		reslice(t, shape)
		return t
	}
	switch {
	case a.st != nil:
		return a.st.get(dt, shape)
	case a.fold != nil:
		return a.fold.alloc(dt, shape)
	}
	t := graph.NewTensor(dt, shape...)
	if a.fill != nil {
		a.fill(t)
	}
	return t
}

// number is the set of numeric element types; element adds bool.
type number interface {
	float32 | float64 | int32 | int64
}

type element interface {
	number | bool
}

// elems returns t's data slice for element type T, which must match t.DType.
func elems[T element](t *graph.Tensor) []T {
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
	panic("interp: elems: unreachable")
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

// clone returns a deep copy of t allocated from alloc.
func clone(t *graph.Tensor, alloc allocator) *graph.Tensor {
	out := alloc.get(t.DType, t.Shape)
	out.CopyElems(0, t, 0, t.Len())
	return out
}

// intsOf reads a 1-D (or scalar) int64 or int32 tensor of indices given as
// an operator's input (Reshape's shape, Slice's starts, ...).
func intsOf(t *graph.Tensor, what string) ([]int64, error) {
	if len(t.Shape) > 1 {
		return nil, fmt.Errorf("%s must be a 1-D tensor, found shape %s", what, graph.FormatShape(t.Shape))
	}
	if t.DType != graph.Int64 && t.DType != graph.Int32 {
		return nil, fmt.Errorf("%s must be int64, found %v", what, t.DType)
	}
	return indexValues(t)
}

// indexValues returns an int32 or int64 tensor's values as int64.
func indexValues(t *graph.Tensor) ([]int64, error) {
	switch t.DType {
	case graph.Int64:
		return t.I64, nil
	case graph.Int32:
		v := make([]int64, len(t.I32))
		for i, x := range t.I32 {
			v[i] = int64(x)
		}
		return v, nil
	}
	return nil, fmt.Errorf("indices must be int32 or int64, found %v", t.DType)
}

// broadcastShapes returns the shape that all of shapes broadcast to: shapes
// are aligned on their last dimension and, dimension by dimension, must be
// equal or 1.
func broadcastShapes(shapes ...[]int) ([]int, error) {
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
		parts[i] = graph.FormatShape(s)
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

	// Room for the slices above in the common case of a few operands of
	// low rank, so that a plan is one allocation: kernels plan every call.
	small        [32]int
	smallStrides [3][]int
}

// newBcastPlan plans the walk of an output of shape out over operands whose
// shapes broadcast to it (unidirectionally: each operand to out). All its
// slices share one allocation, the plan itself unless it is large.
func newBcastPlan(out []int, shapes ...[]int) *bcastPlan {
	r, k := len(out), len(shapes)
	// Layout of buf: dims [r+1], strides k×[r+1], inner [k], then the
	// odometer's counters [r+1] and offsets [k] used by run.
	w := r + 1
	p := &bcastPlan{size: graph.Size(out)}
	n := w + k*w + k + w + k
	buf := p.small[:]
	if n > len(buf) {
		buf = make([]int, n)
	}
	buf = buf[:n]
	p.strides = p.smallStrides[:]
	if k > len(p.strides) {
		p.strides = make([][]int, k)
	}
	p.strides = p.strides[:k]
	dims := buf[:0:w]
	for i := range shapes {
		p.strides[i] = buf[w+i*w : w+i*w : w+(i+1)*w]
	}
	p.inner = buf[w+k*w : w+k*w+k]
	dims = p.mergeDims(dims, out, shapes)
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

// mergeDims appends to dims the output dimensions worth walking, and each
// operand's stride along them to p.strides: unit dimensions are dropped and
// neighbours contiguous for every operand merged, so that runs are as long
// as the layout allows.
func (p *bcastPlan) mergeDims(dims, out []int, shapes [][]int) []int {
	r := len(out)
	// full(i, d) is operand i's stride along output dim d.
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
	return dims
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
