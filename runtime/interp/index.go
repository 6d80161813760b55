package interp

// Operators driven by indices: GatherElements and ScatterElements (a
// value per index, along an axis), OneHot, NonZero and TopK.

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/trnn/trnn/graph"
)

var (
	_ kernel = (*gatherElementsKernel)(nil)
	_ kernel = (*scatterElementsKernel)(nil)
	_ kernel = (*oneHotKernel)(nil)
	_ kernel = (*nonZeroKernel)(nil)
	_ kernel = (*topKKernel)(nil)
)

// elementOffsets checks indices (int32 or int64, of data's rank, no larger
// than data off the axis, each within the axis; negative ones count from
// its end) and returns, for each of them, the flat offset in data it
// designates.
func elementOffsets(data, indices *graph.Tensor, axis int64) ([]int, error) {
	r := len(data.Shape)
	if r == 0 {
		return nil, fmt.Errorf("data must have rank ≥ 1")
	}
	ax, err := normAxis(axis, r)
	if err != nil {
		return nil, err
	}
	if len(indices.Shape) != r {
		return nil, fmt.Errorf("indices %s and data %s have different ranks", graph.FormatShape(indices.Shape), graph.FormatShape(data.Shape))
	}
	for d, n := range indices.Shape {
		if d != ax && n > data.Shape[d] {
			return nil, fmt.Errorf("indices %s are larger than data %s in dimension %d", graph.FormatShape(indices.Shape), graph.FormatShape(data.Shape), d)
		}
	}
	idx, err := indexValues(indices)
	if err != nil {
		return nil, err
	}
	stride := make([]int, r)
	s := 1
	for d := r - 1; d >= 0; d-- {
		stride[d] = s
		s *= data.Shape[d]
	}
	dim := int64(data.Shape[ax])
	offs := make([]int, len(idx))
	ctr := make([]int, r)
	base := 0 // offset of the current position, off the axis
	for p, v := range idx {
		if v < -dim || v >= dim {
			return nil, fmt.Errorf("index %d (element %d of indices) out of range for axis %d of size %d", v, p, axis, dim)
		}
		if v < 0 {
			v += dim
		}
		offs[p] = base + int(v)*stride[ax]
		for d := r - 1; d >= 0; d-- {
			ctr[d]++
			if d != ax {
				base += stride[d]
			}
			if ctr[d] < indices.Shape[d] {
				break
			}
			if d != ax {
				base -= stride[d] * ctr[d]
			}
			ctr[d] = 0
		}
	}
	return offs, nil
}

// gatherElementsKernel: output[p] = data[p with its axis coordinate
// replaced by indices[p]], the shape of indices.
type gatherElementsKernel struct {
	operands
	axis int64
}

func (k *gatherElementsKernel) run(st *state) error {
	data, indices := k.arg(st, 0), k.arg(st, 1)
	offs, err := elementOffsets(data, indices, k.axis)
	if err != nil {
		return err
	}
	out := st.alloc.get(data.DType, indices.Shape)
	for p, off := range offs {
		out.CopyElems(p, data, off, 1)
	}
	return k.set(st, out, nil)
}

// scatterElementsKernel: a copy of data where each element designated as
// in GatherElements receives updates[p], or is combined with it by the
// reduction (add, mul, max, min). Without a reduction, the last update of
// an element wins.
type scatterElementsKernel struct {
	operands
	axis      int64
	reduction string
}

func (k *scatterElementsKernel) run(st *state) error {
	data, indices, updates := k.arg(st, 0), k.arg(st, 1), k.arg(st, 2)
	if updates.DType != data.DType {
		return fmt.Errorf("updates are %v, data is %v", updates.DType, data.DType)
	}
	if !slices.Equal(updates.Shape, indices.Shape) {
		return fmt.Errorf("updates %s and indices %s have different shapes", graph.FormatShape(updates.Shape), graph.FormatShape(indices.Shape))
	}
	offs, err := elementOffsets(data, indices, k.axis)
	if err != nil {
		return err
	}
	if k.reduction != "none" && data.DType == graph.Bool {
		return fmt.Errorf("reduction %s needs numeric data, found bool", k.reduction)
	}
	out := clone(data, st.alloc)
	switch data.DType {
	case graph.Float32:
		scatterRun(k.reduction, out.F32, updates.F32, offs)
	case graph.Float64:
		scatterRun(k.reduction, out.F64, updates.F64, offs)
	case graph.Int32:
		scatterRun(k.reduction, out.I32, updates.I32, offs)
	case graph.Int64:
		scatterRun(k.reduction, out.I64, updates.I64, offs)
	case graph.Bool:
		for p, off := range offs {
			out.B[off] = updates.B[p]
		}
	}
	return k.set(st, out, nil)
}

func scatterRun[T number](reduction string, out, updates []T, offs []int) {
	for p, off := range offs {
		u := updates[p]
		switch reduction {
		case "add":
			out[off] += u
		case "mul":
			out[off] *= u
		case "max":
			out[off] = max(out[off], u)
		case "min":
			out[off] = min(out[off], u)
		default:
			out[off] = u
		}
	}
}

// oneHotKernel: for each index, a vector of depth elements along axis,
// on at the index (negative ones count from the end) and off elsewhere;
// an index outside [−depth, depth) gives all off. values is [off, on] and
// sets the output's type.
type oneHotKernel struct {
	operands
	axis int64
}

func (k *oneHotKernel) run(st *state) error {
	indices, depthT, values := k.arg(st, 0), k.arg(st, 1), k.arg(st, 2)
	if depthT.Len() != 1 || len(depthT.Shape) > 1 || depthT.DType == graph.Bool {
		return fmt.Errorf("depth must be a numeric scalar, found %v %s", depthT.DType, graph.FormatShape(depthT.Shape))
	}
	depth := toInt64(floatAt(depthT, 0))
	if depth < 1 || depth > graph.MaxElements {
		return fmt.Errorf("depth must be positive, found %d", depth)
	}
	if values.Len() != 2 || len(values.Shape) != 1 {
		return fmt.Errorf("values must be [off, on], found shape %s", graph.FormatShape(values.Shape))
	}
	if indices.DType == graph.Bool {
		return fmt.Errorf("indices must be numeric, found bool")
	}
	r := len(indices.Shape)
	ax := k.axis
	if ax < -int64(r)-1 || ax > int64(r) {
		return fmt.Errorf("axis %d out of range for an output of rank %d", k.axis, r+1)
	}
	if ax < 0 {
		ax += int64(r) + 1
	}
	shape := slices.Insert(slices.Clone(indices.Shape), int(ax), int(depth))
	if _, err := graph.CheckedSize(shape); err != nil {
		return err
	}
	out := st.alloc.get(values.DType, shape)
	for i := range out.Len() {
		out.CopyElems(i, values, 0, 1)
	}
	outer, inner := graph.Size(indices.Shape[:ax]), graph.Size(indices.Shape[ax:])
	for o := range outer {
		for in := range inner {
			v := toInt64(floatAt(indices, o*inner+in))
			if v < 0 {
				v += depth
			}
			if v >= 0 && v < depth {
				out.CopyElems((o*int(depth)+int(v))*inner+in, values, 1, 1)
			}
		}
	}
	return k.set(st, out, nil)
}

// floatAt returns element i of a tensor as float64 (a bool as 0 or 1).
func floatAt(t *graph.Tensor, i int) float64 {
	switch t.DType {
	case graph.Float32:
		return float64(t.F32[i])
	case graph.Float64:
		return t.F64[i]
	case graph.Int32:
		return float64(t.I32[i])
	case graph.Int64:
		return float64(t.I64[i])
	}
	if t.B[i] {
		return 1
	}
	return 0
}

// nonZeroKernel returns the coordinates of the nonzero (true) elements,
// [rank, count] in row-major order; a scalar counts as one element of a
// vector.
type nonZeroKernel struct{ operands }

func (k *nonZeroKernel) run(st *state) error {
	x := k.arg(st, 0)
	shape := x.Shape
	if len(shape) == 0 {
		shape = []int{1}
	}
	var hits []int
	for i := range x.Len() {
		if floatAt(x, i) != 0 {
			hits = append(hits, i)
		}
	}
	r := len(shape)
	out := st.alloc.get(graph.Int64, []int{r, len(hits)})
	for j, flat := range hits {
		for d := r - 1; d >= 0; d-- {
			out.I64[d*len(hits)+j] = int64(flat % shape[d])
			flat /= shape[d]
		}
	}
	return k.set(st, out, nil)
}

// topKKernel returns the k largest (or smallest) elements along axis and
// their int64 indices, sorted, equal values in index order. NaN counts as
// larger than any number.
type topKKernel struct {
	operands
	axis    int64
	largest bool
}

func (k *topKKernel) run(st *state) error {
	x := k.arg(st, 0)
	kv, err := intsOf(k.arg(st, 1), "K")
	if err != nil {
		return err
	}
	ax, err := normAxis(k.axis, len(x.Shape))
	if err != nil {
		return err
	}
	if len(kv) != 1 || kv[0] < 0 || kv[0] > int64(x.Shape[ax]) {
		return fmt.Errorf("K must be one value in [0, %d] (the axis size), found %v", x.Shape[ax], kv)
	}
	if x.DType == graph.Bool {
		return fmt.Errorf("expected a numeric tensor, found bool")
	}
	n := int(kv[0])
	shape := slices.Clone(x.Shape)
	shape[ax] = n
	vals, idx := st.alloc.get(x.DType, shape), st.alloc.get(graph.Int64, shape)
	switch x.DType {
	case graph.Float32:
		topKRun(x.F32, vals.F32, idx.I64, x.Shape, ax, n, k.largest)
	case graph.Float64:
		topKRun(x.F64, vals.F64, idx.I64, x.Shape, ax, n, k.largest)
	case graph.Int32:
		topKRun(x.I32, vals.I32, idx.I64, x.Shape, ax, n, k.largest)
	case graph.Int64:
		topKRun(x.I64, vals.I64, idx.I64, x.Shape, ax, n, k.largest)
	}
	st.vals[k.out[0]], st.vals[k.out[1]] = vals, idx
	return nil
}

// topKRun sorts each line of x along axis ax by a stable sort of its
// indices and keeps the first n.
func topKRun[T number](x, vals []T, idx []int64, shape []int, ax, n int, largest bool) {
	outer, dim, inner := axisSplit(shape, ax)
	order := make([]int, dim)
	for o := range outer {
		for in := range inner {
			line := x[o*dim*inner+in:]
			for j := range order {
				order[j] = j
			}
			slices.SortStableFunc(order, func(a, b int) int {
				c := compareNaNHigh(line[a*inner], line[b*inner])
				if largest {
					return -c
				}
				return c
			})
			for j, src := range order[:n] {
				dst := (o*n+j)*inner + in
				vals[dst] = line[src*inner]
				idx[dst] = int64(src)
			}
		}
	}
}

// compareNaNHigh orders numbers with NaN above everything.
func compareNaNHigh[T number](a, b T) int {
	switch {
	case a != a && b != b:
		return 0
	case a != a:
		return 1
	case b != b:
		return -1
	}
	return cmp.Compare(a, b)
}
