package interp

// Reductions: the Reduce ops (Mean, Sum, Max, Min, Prod, L1, L2, LogSum,
// LogSumExp, SumSquare) over any set of axes, ArgMax and ArgMin along one
// axis, and CumSum, the running sum along one.
//
// Floats accumulate in float64 and integers in int64, so a float32 mean
// over thousands of steps keeps its digits and integer sums are exact.

import (
	"fmt"
	"math"

	"github.com/trnn/trnn/graph"
)

var (
	_ kernel = (*reduceKernel)(nil)
	_ kernel = (*argKernel)(nil)
	_ kernel = (*cumSumKernel)(nil)
)

// reduceKernel is one of the Reduce ops.
type reduceKernel struct {
	operands
	op        graph.Op
	axes      []int64 // the attribute (before the opset that made it input 1)
	keepDims  bool
	noopEmpty bool // no axes: the identity, not a reduction over all of them
}

func decodeReduce(n *graph.Node, o operands) *reduceKernel {
	return &reduceKernel{operands: o, op: n.Op, axes: n.Attrs["axes"].Ints,
		keepDims:  graph.AttrOr(n, "keepdims").Int != 0,
		noopEmpty: graph.AttrOr(n, "noop_with_empty_axes").Int != 0}
}

func (k *reduceKernel) run(st *state) error {
	x := k.arg(st, 0)
	axes := k.axes
	if t := k.arg(st, 1); t != nil {
		var err error
		if axes, err = intsOf(t, "axes"); err != nil {
			return err
		}
	}
	if len(axes) == 0 && k.noopEmpty {
		return k.set(st, clone(x, st.alloc), nil)
	}
	red, err := reducedAxes(axes, len(x.Shape))
	if err != nil {
		return err
	}
	if x.DType == graph.Bool {
		return fmt.Errorf("expected a numeric tensor, found bool")
	}
	out := st.alloc.get(x.DType, reducedShape(x.Shape, red, k.keepDims))
	w := newReduceWalk(x.Shape, red)
	switch x.DType {
	case graph.Float32:
		reduceFloat(k.op, w, x.F32, out.F32)
	case graph.Float64:
		reduceFloat(k.op, w, x.F64, out.F64)
	case graph.Int32:
		reduceInt(k.op, w, x.I32, out.I32)
	case graph.Int64:
		reduceInt(k.op, w, x.I64, out.I64)
	}
	return k.set(st, out, nil)
}

// reducedAxes marks the axes to reduce, all of them when axes is empty.
func reducedAxes(axes []int64, rank int) ([]bool, error) {
	red := make([]bool, rank)
	if len(axes) == 0 {
		for i := range red {
			red[i] = true
		}
		return red, nil
	}
	for _, a := range axes {
		ax, err := normAxis(a, rank)
		if err != nil {
			return nil, err
		}
		if red[ax] {
			return nil, fmt.Errorf("axis %d listed twice", a)
		}
		red[ax] = true
	}
	return red, nil
}

// reducedShape is shape with the reduced axes set to 1 or dropped.
func reducedShape(shape []int, red []bool, keep bool) []int {
	out := make([]int, 0, len(shape))
	for i, d := range shape {
		switch {
		case !red[i]:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	return out
}

// reduceWalk visits an input in memory order, in runs along its innermost
// (merged) dimension, giving the output element(s) each run folds into.
type reduceWalk struct {
	dims    []int  // merged input dimensions, outermost first
	red     []bool // whether each is reduced
	ostride []int  // output stride of each kept dimension (0 when reduced)
	in, out int    // input and output sizes
}

// newReduceWalk merges neighbouring dimensions of the same kind and drops
// those of size 1, so that the runs are as long as the layout allows.
func newReduceWalk(shape []int, red []bool) *reduceWalk {
	w := &reduceWalk{in: graph.Size(shape), out: 1}
	for i, d := range shape {
		if !red[i] {
			w.out *= d
		}
		if d == 1 {
			continue
		}
		if n := len(w.dims); n > 0 && w.red[n-1] == red[i] {
			w.dims[n-1] *= d
			continue
		}
		w.dims = append(w.dims, d)
		w.red = append(w.red, red[i])
	}
	if len(w.dims) == 0 {
		w.dims, w.red = []int{1}, []bool{true}
	}
	w.ostride = make([]int, len(w.dims))
	s := 1
	for i := len(w.dims) - 1; i >= 0; i-- {
		if !w.red[i] {
			w.ostride[i] = s
			s *= w.dims[i]
		}
	}
	return w
}

// count is the number of input elements folded into each output element.
func (w *reduceWalk) count() int {
	if w.out == 0 {
		return 0
	}
	return w.in / w.out
}

// walk calls fn for every run: input offset i, output offset o, length n.
// A reduced run folds into output o; a kept one maps onto o..o+n−1.
func (w *reduceWalk) walk(fn func(i, o, n int, reduced bool)) {
	if w.in == 0 {
		return
	}
	last := len(w.dims) - 1
	n, reduced := w.dims[last], w.red[last]
	ctr := make([]int, last)
	o := 0
	for i := 0; i < w.in; i += n {
		fn(i, o, n, reduced)
		for d := last - 1; d >= 0; d-- {
			ctr[d]++
			o += w.ostride[d]
			if ctr[d] < w.dims[d] {
				break
			}
			o -= w.ostride[d] * w.dims[d]
			ctr[d] = 0
		}
	}
}

// fold accumulates f(acc, x) over the walk into acc, one per output.
func fold[T number, A float64 | int64](w *reduceWalk, x []T, acc []A, f func(A, T) A) {
	w.walk(func(i, o, n int, reduced bool) {
		xs := x[i : i+n]
		if reduced {
			a := acc[o]
			for _, v := range xs {
				a = f(a, v)
			}
			acc[o] = a
			return
		}
		as := acc[o : o+n]
		for j, v := range xs {
			as[j] = f(as[j], v)
		}
	})
}

// reduceFloat computes a Reduce op of float elements. An empty reduction
// gives the op's value on the empty set: 0 for the sums, 1 for Prod, −Inf
// for Max and LogSumExp, +Inf for Min, −Inf for LogSum, NaN for Mean.
func reduceFloat[T float32 | float64](op graph.Op, w *reduceWalk, x, out []T) {
	acc := make([]float64, len(out))
	switch op {
	case graph.OpReduceMax, graph.OpReduceMin, graph.OpReduceLogSumExp:
		reduceExtreme(op, w, x, acc)
		if op == graph.OpReduceLogSumExp {
			logSumExp(w, x, acc)
		}
	case graph.OpReduceProd:
		fill(acc, 1)
		fold(w, x, acc, func(a float64, v T) float64 { return a * float64(v) })
	default:
		fold(w, x, acc, sumTerm[T](op))
	}
	c := float64(w.count())
	for i, a := range acc {
		switch op {
		case graph.OpReduceMean:
			a /= c
		case graph.OpReduceL2:
			a = math.Sqrt(a)
		case graph.OpReduceLogSum:
			a = math.Log(a)
		}
		out[i] = T(a)
	}
}

// sumTerm returns the fold of the ops that sum a function of the elements.
func sumTerm[T float32 | float64](op graph.Op) func(float64, T) float64 {
	switch op {
	case graph.OpReduceL1:
		return func(a float64, v T) float64 { return a + math.Abs(float64(v)) }
	case graph.OpReduceL2, graph.OpReduceSumSquare:
		return func(a float64, v T) float64 { return a + float64(v)*float64(v) }
	}
	return func(a float64, v T) float64 { return a + float64(v) }
}

// reduceExtreme sets acc to the maximum (ReduceMax, ReduceLogSumExp) or the
// minimum of each output's elements; NaN wins, as in numpy.
func reduceExtreme[T float32 | float64](op graph.Op, w *reduceWalk, x []T, acc []float64) {
	if op == graph.OpReduceMin {
		fill(acc, math.Inf(1))
		fold(w, x, acc, func(a float64, v T) float64 {
			if f := float64(v); f < a || f != f {
				return f
			}
			return a
		})
		return
	}
	fill(acc, math.Inf(-1))
	fold(w, x, acc, func(a float64, v T) float64 {
		if f := float64(v); f > a || f != f {
			return f
		}
		return a
	})
}

// logSumExp turns acc, each output's maximum m, into m + ln Σ e^(x−m):
// shifting by the maximum keeps e^x from overflowing. An infinite or NaN
// maximum is the result itself.
func logSumExp[T float32 | float64](w *reduceWalk, x []T, acc []float64) {
	sum := make([]float64, len(acc))
	w.walk(func(i, o, n int, reduced bool) {
		for j, v := range x[i : i+n] {
			oj := o
			if !reduced {
				oj = o + j
			}
			sum[oj] += math.Exp(float64(v) - acc[oj])
		}
	})
	for i, m := range acc {
		if !math.IsInf(m, 0) && m == m {
			acc[i] = m + math.Log(sum[i])
		}
	}
}

// reduceInt computes a Reduce op of integer elements in int64; the ops
// whose result is not an integer (L2, LogSum, LogSumExp) go through
// float64 and truncate. An empty Max or Min gives the type's extreme, an
// empty Mean 0.
func reduceInt[T int32 | int64](op graph.Op, w *reduceWalk, x, out []T) {
	switch op {
	case graph.OpReduceL2, graph.OpReduceLogSum, graph.OpReduceLogSumExp:
		xf := make([]float64, len(x))
		for i, v := range x {
			xf[i] = float64(v)
		}
		of := make([]float64, len(out))
		reduceFloat(op, w, xf, of)
		for i, v := range of {
			out[i] = T(toInt64(v))
		}
		return
	}
	acc := make([]int64, len(out))
	lo, hi := intRange[T]()
	switch op {
	case graph.OpReduceMax:
		fill(acc, lo)
		fold(w, x, acc, func(a int64, v T) int64 { return max(a, int64(v)) })
	case graph.OpReduceMin:
		fill(acc, hi)
		fold(w, x, acc, func(a int64, v T) int64 { return min(a, int64(v)) })
	case graph.OpReduceProd:
		fill(acc, 1)
		fold(w, x, acc, func(a int64, v T) int64 { return a * int64(v) })
	case graph.OpReduceL1:
		fold(w, x, acc, func(a int64, v T) int64 { return a + abs(int64(v)) })
	case graph.OpReduceSumSquare:
		fold(w, x, acc, func(a int64, v T) int64 { return a + int64(v)*int64(v) })
	default:
		fold(w, x, acc, func(a int64, v T) int64 { return a + int64(v) })
	}
	c := int64(w.count())
	for i, a := range acc {
		if op == graph.OpReduceMean && c > 0 {
			a /= c
		}
		out[i] = T(a)
	}
}

// intRange returns the extremes of integer type T.
func intRange[T int32 | int64]() (lo, hi int64) {
	var z T
	if _, ok := any(z).(int32); ok {
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// axisSplit views shape around axis as [outer, n, inner], the layout of
// every operator that works along one axis.
func axisSplit(shape []int, axis int) (outer, n, inner int) {
	return graph.Size(shape[:axis]), shape[axis], graph.Size(shape[axis+1:])
}

// argKernel is ArgMax or ArgMin: the int64 index of the extreme along an
// axis, the first one unless selectLast. NaN counts as the extreme, as in
// numpy.
type argKernel struct {
	operands
	max, keepDims, selectLast bool
	axis                      int64
}

func decodeArg(n *graph.Node, o operands) *argKernel {
	return &argKernel{operands: o, max: n.Op == graph.OpArgMax, axis: graph.AttrOr(n, "axis").Int,
		keepDims: graph.AttrOr(n, "keepdims").Int != 0, selectLast: graph.AttrOr(n, "select_last_index").Int != 0}
}

func (k *argKernel) run(st *state) error {
	x := k.arg(st, 0)
	ax, err := normAxis(k.axis, len(x.Shape))
	if err != nil {
		return err
	}
	if x.Shape[ax] == 0 {
		return fmt.Errorf("axis %d is empty: there is no extreme", k.axis)
	}
	if x.DType == graph.Bool {
		return fmt.Errorf("expected a numeric tensor, found bool")
	}
	red := make([]bool, len(x.Shape))
	red[ax] = true
	out := st.alloc.get(graph.Int64, reducedShape(x.Shape, red, k.keepDims))
	outer, n, inner := axisSplit(x.Shape, ax)
	switch x.DType {
	case graph.Float32:
		argRun(k, x.F32, out.I64, outer, n, inner)
	case graph.Float64:
		argRun(k, x.F64, out.I64, outer, n, inner)
	case graph.Int32:
		argRun(k, x.I32, out.I64, outer, n, inner)
	case graph.Int64:
		argRun(k, x.I64, out.I64, outer, n, inner)
	}
	return k.set(st, out, nil)
}

func argRun[T number](k *argKernel, x []T, out []int64, outer, n, inner int) {
	// better reports whether v replaces the current extreme b: strictly
	// beyond it, or equal when the last index is wanted; a NaN extreme
	// stays.
	better := func(v, b T) bool {
		if b != b {
			return false
		}
		if v != v {
			return true
		}
		if k.max {
			return v > b || (k.selectLast && v == b)
		}
		return v < b || (k.selectLast && v == b)
	}
	for o := range outer {
		for in := range inner {
			base := o*n*inner + in
			best, bi := x[base], 0
			for j := 1; j < n; j++ {
				if v := x[base+j*inner]; better(v, best) {
					best, bi = v, j
				}
			}
			out[o*inner+in] = int64(bi)
		}
	}
}

// cumSumKernel is CumSum along the axis given by input 1: inclusive or
// exclusive (each element left out of its own sum), forward or reverse.
type cumSumKernel struct {
	operands
	exclusive, reverse bool
}

func (k *cumSumKernel) run(st *state) error {
	x := k.arg(st, 0)
	a, err := intsOf(k.arg(st, 1), "axis")
	if err != nil {
		return err
	}
	if len(a) != 1 {
		return fmt.Errorf("axis must hold one value, found %d", len(a))
	}
	ax, err := normAxis(a[0], len(x.Shape))
	if err != nil {
		return err
	}
	if x.DType == graph.Bool {
		return fmt.Errorf("expected a numeric tensor, found bool")
	}
	out := st.alloc.get(x.DType, x.Shape)
	outer, n, inner := axisSplit(x.Shape, ax)
	switch x.DType {
	case graph.Float32:
		cumSumRun(k, x.F32, out.F32, outer, n, inner)
	case graph.Float64:
		cumSumRun(k, x.F64, out.F64, outer, n, inner)
	case graph.Int32:
		cumSumRun(k, x.I32, out.I32, outer, n, inner)
	case graph.Int64:
		cumSumRun(k, x.I64, out.I64, outer, n, inner)
	}
	return k.set(st, out, nil)
}

func cumSumRun[T number](k *cumSumKernel, x, out []T, outer, n, inner int) {
	for o := range outer {
		for in := range inner {
			base := o*n*inner + in
			var sum T
			for j := range n {
				if k.reverse {
					j = n - 1 - j
				}
				i := base + j*inner
				if k.exclusive {
					out[i] = sum
					sum += x[i]
				} else {
					sum += x[i]
					out[i] = sum
				}
			}
		}
	}
}

func fill[T any](s []T, v T) {
	for i := range s {
		s[i] = v
	}
}
