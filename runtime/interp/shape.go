package interp

// ONNX operators that move, select or convert elements without arithmetic:
// Transpose, Squeeze, Unsqueeze, Reshape, Gather, Concat, Slice, Shape,
// Range, Cast. Axes follow ONNX: a negative axis counts from the end.

import (
	"fmt"
	"math"
	"slices"

	"github.com/trnn/trnn/graph"
)

// transpose permutes x's dimensions: output dimension i is input
// dimension perm[i]. An empty perm reverses the dimensions.
func transpose(x *graph.Tensor, perm []int64, alloc allocator) (*graph.Tensor, error) {
	r := len(x.Shape)
	// The usual ranks take their index arrays from the stack.
	var small [4 * 8]int
	buf := small[:]
	if 4*r > len(buf) {
		buf = make([]int, 4*r)
	}
	p, outShape, inStride, st := buf[:r], buf[r:2*r], buf[2*r:3*r], buf[3*r:]
	if len(perm) == 0 {
		for i := range p {
			p[i] = r - 1 - i
		}
	} else {
		if len(perm) != r {
			return nil, fmt.Errorf("perm has %d entries for an input of rank %d", len(perm), r)
		}
		seen := make([]bool, r)
		for i, v := range perm {
			if v < 0 || v >= int64(r) || seen[v] {
				return nil, fmt.Errorf("perm %v is not a permutation of 0..%d", perm, r-1)
			}
			seen[v] = true
			p[i] = int(v)
		}
	}
	acc := 1
	for i := r - 1; i >= 0; i-- {
		inStride[i] = acc
		acc *= x.Shape[i]
	}
	// st[i] is the input stride of output dimension i.
	for i, d := range p {
		outShape[i] = x.Shape[d]
		st[i] = inStride[d]
	}
	out := alloc.get(x.DType, outShape)
	n := graph.Size(outShape)
	if n == 0 {
		return out, nil
	}
	switch x.DType {
	case graph.Float32:
		permute(out.F32, x.F32, 0, outShape, st)
	case graph.Float64:
		permute(out.F64, x.F64, 0, outShape, st)
	case graph.Int32:
		permute(out.I32, x.I32, 0, outShape, st)
	case graph.Int64:
		permute(out.I64, x.I64, 0, outShape, st)
	case graph.Bool:
		permute(out.B, x.B, 0, outShape, st)
	}
	return out, nil
}

// permute writes dst (row-major over shape) from src read from offset base
// with strides st (which may be negative). Dimensions of size 1 are
// dropped and neighbours that are contiguous in src merged first, so that
// the inner runs are as long as the layout allows; a run of unit stride is
// a copy, and up to three dimensions are walked by nested loops.
func permute[T element](dst, src []T, base int, shape, st []int) {
	if len(dst) == 0 {
		return // an empty slice's base may lie past src's end
	}
	var sb, tb [8]int
	sh, sd := mergePermute(sb[:0], tb[:0], shape, st)
	switch len(sh) {
	case 0:
		dst[0] = src[base]
	case 1:
		permuteRun(dst[:sh[0]], src, base, sd[0])
	case 2:
		for a, o := 0, 0; a < sh[0]; a, o = a+1, o+sh[1] {
			permuteRun(dst[o:o+sh[1]], src, base+a*sd[0], sd[1])
		}
	case 3:
		n := sh[2]
		o := 0
		for a := range sh[0] {
			for b := range sh[1] {
				permuteRun(dst[o:o+n], src, base+a*sd[0]+b*sd[1], sd[2])
				o += n
			}
		}
	default:
		permuteN(dst, src, base, sh, sd)
	}
}

// mergePermute appends to sh and sd the dimensions of shape worth walking
// and their strides st: sizes of 1 dropped, and each dimension whose
// stride is the next one's run folded into it.
func mergePermute(sh, sd, shape, st []int) ([]int, []int) {
	for d, n := range shape {
		if n == 1 {
			continue
		}
		if k := len(sh) - 1; k >= 0 && sd[k] == st[d]*n {
			sh[k] *= n
			sd[k] = st[d]
			continue
		}
		sh, sd = append(sh, n), append(sd, st[d])
	}
	return sh, sd
}

// permuteRun sets dst[i] = src[off + i·stride].
func permuteRun[T element](dst, src []T, off, stride int) {
	if stride == 1 {
		copy(dst, src[off:off+len(dst)])
		return
	}
	for i := range dst {
		dst[i] = src[off+i*stride]
	}
}

// permuteN is permute over any number of dimensions, by an odometer.
func permuteN[T element](dst, src []T, base int, shape, st []int) {
	r := len(shape)
	var cb [8]int
	ctr := cb[:min(r, len(cb))]
	if r > len(cb) {
		ctr = make([]int, r)
	}
	off := base
	inner, innerSt := shape[r-1], st[r-1]
	for o := 0; o < len(dst); o += inner {
		permuteRun(dst[o:o+inner], src, off, innerSt)
		for d := r - 2; d >= 0; d-- {
			ctr[d]++
			off += st[d]
			if ctr[d] < shape[d] {
				break
			}
			off -= st[d] * shape[d]
			ctr[d] = 0
		}
	}
}

// squeeze removes the listed dimensions of x, each of which must be 1.
// With no axes it removes every dimension of size 1.
func squeeze(x *graph.Tensor, axes []int64, alloc allocator) (*graph.Tensor, error) {
	r := len(x.Shape)
	drop := make([]bool, r)
	if len(axes) == 0 {
		for i, d := range x.Shape {
			drop[i] = d == 1
		}
	}
	for _, a := range axes {
		ax, err := normAxis(a, r)
		if err != nil {
			return nil, err
		}
		if drop[ax] {
			return nil, fmt.Errorf("axis %d listed twice", a)
		}
		if x.Shape[ax] != 1 {
			return nil, fmt.Errorf("cannot squeeze axis %d of shape %s: its size is %d, not 1", a, graph.FormatShape(x.Shape), x.Shape[ax])
		}
		drop[ax] = true
	}
	var shape []int
	for i, d := range x.Shape {
		if !drop[i] {
			shape = append(shape, d)
		}
	}
	return reshaped(x, shape, alloc), nil
}

// unsqueeze inserts dimensions of size 1 at the listed axes of the
// output, whose rank is x's rank plus len(axes).
func unsqueeze(x *graph.Tensor, axes []int64, alloc allocator) (*graph.Tensor, error) {
	if len(axes) == 0 {
		return nil, fmt.Errorf("axes must not be empty")
	}
	r := len(x.Shape) + len(axes)
	ins := make([]bool, r)
	for _, a := range axes {
		ax, err := normAxis(a, r)
		if err != nil {
			return nil, err
		}
		if ins[ax] {
			return nil, fmt.Errorf("axis %d listed twice", a)
		}
		ins[ax] = true
	}
	shape := make([]int, r)
	j := 0
	for i := range shape {
		if ins[i] {
			shape[i] = 1
		} else {
			shape[i] = x.Shape[j]
			j++
		}
	}
	return reshaped(x, shape, alloc), nil
}

// reshaped copies x into a tensor of the given shape (same element count),
// or gives x itself that shape when alloc reuses it (moving).
func reshaped(x *graph.Tensor, shape []int, alloc allocator) *graph.Tensor {
	n := x.Len()
	out := alloc.get(x.DType, shape)
	if out != x {
		out.CopyElems(0, x, 0, n)
	}
	return out
}

// reshape gives x the target shape. A 0 copies the input dimension at
// the same index (unless allowZero, when it is a real 0) and one -1 is
// inferred from the element count.
func reshape(x *graph.Tensor, target []int64, allowZero bool, alloc allocator) (*graph.Tensor, error) {
	shape := make([]int, len(target))
	infer := -1
	known := 1
	for i, d := range target {
		switch {
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has more than one -1", target)
			}
			infer = i
			continue
		case d == 0 && !allowZero:
			if i >= len(x.Shape) {
				return nil, fmt.Errorf("shape %v copies dimension %d, but the input %s has rank %d", target, i, graph.FormatShape(x.Shape), len(x.Shape))
			}
			shape[i] = x.Shape[i]
		case d < 0 || d > graph.MaxElements:
			return nil, fmt.Errorf("shape %v has invalid dimension %d", target, d)
		default:
			shape[i] = int(d)
		}
		if shape[i] != 0 && known > graph.MaxElements/shape[i] {
			return nil, fmt.Errorf("shape %v has more than %d elements", target, graph.MaxElements)
		}
		known *= shape[i]
	}
	n := x.Len()
	if infer >= 0 {
		if known == 0 {
			if n != 0 || allowZero {
				return nil, fmt.Errorf("cannot infer the -1 of shape %v for %d elements", target, n)
			}
			shape[infer] = 0
		} else {
			if n%known != 0 {
				return nil, fmt.Errorf("cannot reshape %s (%d elements) to %v", graph.FormatShape(x.Shape), n, target)
			}
			shape[infer] = n / known
		}
	}
	if graph.Size(shape) != n {
		return nil, fmt.Errorf("cannot reshape %s (%d elements) to %v", graph.FormatShape(x.Shape), n, target)
	}
	return reshaped(x, shape, alloc), nil
}

// gather takes, along axis, the slices of data at indices (int32 or
// int64; negative counts from the end). The output shape is
// data.shape[:axis] + indices.shape + data.shape[axis+1:].
func gather(data, indices *graph.Tensor, axis int64, alloc allocator) (*graph.Tensor, error) {
	r := len(data.Shape)
	if r == 0 {
		return nil, fmt.Errorf("data must have rank ≥ 1")
	}
	ax, err := normAxis(axis, r)
	if err != nil {
		return nil, err
	}
	idx, err := indexValues(indices)
	if err != nil {
		return nil, err
	}
	dim := data.Shape[ax]
	for i, v := range idx {
		if v < -int64(dim) || v >= int64(dim) {
			return nil, fmt.Errorf("index %d (element %d of indices) out of range for axis %d of size %d", v, i, axis, dim)
		}
	}
	shape := append(append(append([]int(nil), data.Shape[:ax]...), indices.Shape...), data.Shape[ax+1:]...)
	if _, err := graph.CheckedSize(shape); err != nil {
		return nil, err
	}
	out := alloc.get(data.DType, shape)
	outer := graph.Size(data.Shape[:ax])
	block := graph.Size(data.Shape[ax+1:])
	o := 0
	for b := range outer {
		for _, v := range idx {
			if v < 0 {
				v += int64(dim)
			}
			out.CopyElems(o, data, (b*dim+int(v))*block, block)
			o += block
		}
	}
	return out, nil
}

// concat joins tensors of one type and rank along axis; their other
// dimensions must agree.
func concat(xs []*graph.Tensor, axis int64, alloc allocator) (*graph.Tensor, error) {
	if len(xs) == 0 {
		return nil, fmt.Errorf("no inputs")
	}
	first := xs[0]
	r := len(first.Shape)
	if r == 0 {
		return nil, fmt.Errorf("inputs must have rank ≥ 1")
	}
	ax, err := normAxis(axis, r)
	if err != nil {
		return nil, err
	}
	shape := slices.Clone(first.Shape)
	shape[ax] = 0
	for i, x := range xs {
		if x.DType != first.DType {
			return nil, fmt.Errorf("input %d is %v, input 0 is %v", i, x.DType, first.DType)
		}
		if len(x.Shape) != r {
			return nil, fmt.Errorf("input %d has shape %s, input 0 has %s: ranks differ", i, graph.FormatShape(x.Shape), graph.FormatShape(first.Shape))
		}
		for d := range r {
			if d != ax && x.Shape[d] != first.Shape[d] {
				return nil, fmt.Errorf("input %d has shape %s, input 0 has %s: dimension %d differs", i, graph.FormatShape(x.Shape), graph.FormatShape(first.Shape), d)
			}
		}
		shape[ax] += x.Shape[ax]
	}
	if _, err := graph.CheckedSize(shape); err != nil {
		return nil, err
	}
	out := alloc.get(first.DType, shape)
	outer := graph.Size(shape[:ax])
	inner := graph.Size(shape[ax+1:])
	o := 0
	for b := range outer {
		for _, x := range xs {
			n := x.Shape[ax] * inner
			out.CopyElems(o, x, b*n, n)
			o += n
		}
	}
	return out, nil
}

// slice takes x[starts:ends:steps] along axes (all axes in order when
// axes is nil; steps default to 1). Starts and ends count from the end when
// negative and are clamped to the dimension, as ONNX specifies for positive
// and negative steps.
func slice(x *graph.Tensor, starts, ends, axes, steps []int64, alloc allocator) (*graph.Tensor, error) {
	r := len(x.Shape)
	if len(starts) != len(ends) {
		return nil, fmt.Errorf("starts has %d entries and ends %d", len(starts), len(ends))
	}
	if axes != nil && len(axes) != len(starts) {
		return nil, fmt.Errorf("axes has %d entries and starts %d", len(axes), len(starts))
	}
	if steps != nil && len(steps) != len(starts) {
		return nil, fmt.Errorf("steps has %d entries and starts %d", len(steps), len(starts))
	}
	begin := make([]int, r)
	step := make([]int, r)
	shape := slices.Clone(x.Shape)
	for i := range step {
		step[i] = 1
	}
	seen := make([]bool, r)
	for i := range starts {
		ax := i
		if axes != nil {
			a, err := normAxis(axes[i], r)
			if err != nil {
				return nil, err
			}
			ax = a
		} else if i >= r {
			return nil, fmt.Errorf("%d starts for an input of rank %d", len(starts), r)
		}
		if seen[ax] {
			return nil, fmt.Errorf("axis %d sliced twice", ax)
		}
		seen[ax] = true
		st := int64(1)
		if steps != nil {
			st = steps[i]
		}
		if st == 0 {
			return nil, fmt.Errorf("step of axis %d is 0", ax)
		}
		begin[ax], step[ax], shape[ax] = sliceAxis(starts[i], ends[i], st, int64(x.Shape[ax]))
	}
	out := alloc.get(x.DType, shape)
	if graph.Size(shape) > 0 {
		sliceCopy(out, x, begin, step)
	}
	return out, nil
}

// sliceAxis returns where a slice of one axis of size dim starts, its step
// and how many elements it takes. Starts and ends are clamped to [0, dim]
// for a positive step and to [−1, dim−1] for a negative one, so that a
// backward slice can run down to element 0 inclusive.
func sliceAxis(s, e, st, dim int64) (begin, step, n int) {
	if s < 0 {
		s += dim
	}
	if e < 0 {
		e += dim
	}
	var cnt int64
	if st > 0 {
		s = min(max(s, 0), dim)
		e = min(max(e, 0), dim)
		if e > s {
			cnt = (e - s + st - 1) / st
		}
	} else {
		s = min(max(s, -1), dim-1)
		e = min(max(e, -1), dim-1)
		if s > e {
			cnt = (s - e - st - 1) / -st
		}
	}
	return int(s), int(st), int(cnt)
}

// sliceCopy fills out (of the slice's shape) from x, starting at index
// begin and advancing by step along each axis.
func sliceCopy(out, x *graph.Tensor, begin, step []int) {
	r := len(x.Shape)
	inStride := make([]int, r)
	acc := 1
	for i := r - 1; i >= 0; i-- {
		inStride[i] = acc
		acc *= x.Shape[i]
	}
	base := 0
	st := make([]int, r)
	for i := range r {
		base += begin[i] * inStride[i]
		st[i] = step[i] * inStride[i]
	}
	switch x.DType {
	case graph.Float32:
		permute(out.F32, x.F32, base, out.Shape, st)
	case graph.Float64:
		permute(out.F64, x.F64, base, out.Shape, st)
	case graph.Int32:
		permute(out.I32, x.I32, base, out.Shape, st)
	case graph.Int64:
		permute(out.I64, x.I64, base, out.Shape, st)
	case graph.Bool:
		permute(out.B, x.B, base, out.Shape, st)
	}
}

// shapeOf returns x's shape as a 1-D int64 tensor, dimensions start..end-1
// (opset 15: negative bounds count from the end, and both are clamped to
// [0, rank]). hasEnd false means end = rank.
func shapeOf(x *graph.Tensor, start, end int64, hasEnd bool, alloc allocator) *graph.Tensor {
	r := int64(len(x.Shape))
	if !hasEnd {
		end = r
	}
	clamp := func(v int64) int64 {
		if v < 0 {
			v += r
		}
		return min(max(v, 0), r)
	}
	s, e := clamp(start), clamp(end)
	n := max(e-s, 0)
	out := alloc.get(graph.Int64, []int{int(n)})
	for i := range out.I64 {
		out.I64[i] = int64(x.Shape[int(s)+i])
	}
	return out
}

// arange returns start, start+delta, ... up to but excluding limit:
// max(⌈(limit−start)/delta⌉, 0) elements of the scalars' common type,
// element i being start + i·delta.
func arange(start, limit, delta *graph.Tensor, alloc allocator) (*graph.Tensor, error) {
	for _, t := range []*graph.Tensor{start, limit, delta} {
		if len(t.Shape) != 0 && !(len(t.Shape) == 1 && t.Shape[0] == 1) {
			return nil, fmt.Errorf("start, limit and delta must be scalars, found shape %s", graph.FormatShape(t.Shape))
		}
	}
	dt := start.DType
	if limit.DType != dt || delta.DType != dt {
		return nil, fmt.Errorf("start, limit and delta have different types: %v, %v, %v", dt, limit.DType, delta.DType)
	}
	var s, l, d float64
	switch dt {
	case graph.Float32:
		s, l, d = float64(start.F32[0]), float64(limit.F32[0]), float64(delta.F32[0])
	case graph.Float64:
		s, l, d = start.F64[0], limit.F64[0], delta.F64[0]
	case graph.Int32:
		s, l, d = float64(start.I32[0]), float64(limit.I32[0]), float64(delta.I32[0])
	case graph.Int64:
		s, l, d = float64(start.I64[0]), float64(limit.I64[0]), float64(delta.I64[0])
	default:
		return nil, fmt.Errorf("expected numeric scalars, found %v", dt)
	}
	if d == 0 {
		return nil, fmt.Errorf("delta is 0")
	}
	nf := math.Ceil((l - s) / d)
	if math.IsNaN(nf) || nf > graph.MaxElements {
		return nil, fmt.Errorf("range from %v to %v by %v has too many elements", s, l, d)
	}
	n := int(max(nf, 0))
	out := alloc.get(dt, []int{n})
	switch dt {
	case graph.Float32:
		v, dv := start.F32[0], delta.F32[0]
		for i := range out.F32 {
			out.F32[i] = v + float32(i)*dv
		}
	case graph.Float64:
		v, dv := start.F64[0], delta.F64[0]
		for i := range out.F64 {
			out.F64[i] = v + float64(i)*dv
		}
	case graph.Int32:
		v, dv := start.I32[0], delta.I32[0]
		for i := range out.I32 {
			out.I32[i] = v + int32(i)*dv
		}
	case graph.Int64:
		v, dv := start.I64[0], delta.I64[0]
		for i := range out.I64 {
			out.I64[i] = v + int64(i)*dv
		}
	}
	return out, nil
}

// cast converts x to type to. Float to integer truncates toward zero
// (NaN and out-of-range values give the integer type's minimum, as on
// x86-64), bool is 1 or 0, and any nonzero value casts to true.
func cast(x *graph.Tensor, to graph.DType, alloc allocator) (*graph.Tensor, error) {
	switch to {
	case graph.Float32, graph.Float64, graph.Int32, graph.Int64, graph.Bool:
	default:
		return nil, fmt.Errorf("cannot cast to %v", to)
	}
	out := alloc.get(to, x.Shape)
	if x.DType == to {
		out.CopyElems(0, x, 0, x.Len())
		return out, nil
	}
	switch x.DType {
	case graph.Float32:
		castFrom(out, x.F32)
	case graph.Float64:
		castFrom(out, x.F64)
	case graph.Int32:
		castFrom(out, x.I32)
	case graph.Int64:
		castFrom(out, x.I64)
	case graph.Bool:
		for i, v := range x.B {
			var f float64
			if v {
				f = 1
			}
			setFloat(out, i, f)
		}
	default:
		return nil, fmt.Errorf("cannot cast from %v", x.DType)
	}
	return out, nil
}

func castFrom[T number](out *graph.Tensor, src []T) {
	switch out.DType {
	case graph.Float32:
		for i, v := range src {
			out.F32[i] = float32(v)
		}
	case graph.Float64:
		for i, v := range src {
			out.F64[i] = float64(v)
		}
	case graph.Int32:
		for i, v := range src {
			out.I32[i] = toInt32(v)
		}
	case graph.Int64:
		for i, v := range src {
			out.I64[i] = toInt64(v)
		}
	case graph.Bool:
		for i, v := range src {
			out.B[i] = v != 0
		}
	}
}

// toInt32 converts with truncation toward zero; a float that is NaN or out
// of range gives math.MinInt32 (x86-64's cvttss2si result), so the outcome
// does not depend on Go's implementation-defined conversion.
func toInt32[T number](v T) int32 {
	switch x := any(v).(type) {
	case float32:
		if x != x || x >= 1<<31 || x < -(1<<31) {
			return math.MinInt32
		}
	case float64:
		if x != x || x >= 1<<31 || x < -(1<<31) {
			return math.MinInt32
		}
	}
	return int32(v)
}

// toInt64 is toInt32 for int64.
func toInt64[T number](v T) int64 {
	switch x := any(v).(type) {
	case float32:
		if x != x || x >= 1<<63 || x < -(1<<63) {
			return math.MinInt64
		}
	case float64:
		if x != x || x >= 1<<63 || x < -(1<<63) {
			return math.MinInt64
		}
	}
	return int64(v)
}

// setFloat stores v at index i of a numeric or bool tensor.
func setFloat(t *graph.Tensor, i int, v float64) {
	switch t.DType {
	case graph.Float32:
		t.F32[i] = float32(v)
	case graph.Float64:
		t.F64[i] = v
	case graph.Int32:
		t.I32[i] = int32(v)
	case graph.Int64:
		t.I64[i] = int64(v)
	case graph.Bool:
		t.B[i] = v != 0
	}
}
