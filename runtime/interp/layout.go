package interp

// Operators that make, cut, repeat or pad tensors: ConstantOfShape, Split,
// Tile, Pad, Flatten, Size, Trilu, CastLike, and Dropout, the identity at
// inference.

import (
	"fmt"

	"github.com/trnn/trnn/graph"
)

var (
	_ kernel = (*constantOfShapeKernel)(nil)
	_ kernel = (*splitKernel)(nil)
	_ kernel = (*tileKernel)(nil)
	_ kernel = (*flattenKernel)(nil)
	_ kernel = (*sizeKernel)(nil)
	_ kernel = (*triluKernel)(nil)
	_ kernel = (*castLikeKernel)(nil)
	_ kernel = (*dropoutKernel)(nil)
)

// constantOfShapeKernel fills a tensor of the shape given by input 0 with
// the one-element value (float32 0 by default).
type constantOfShapeKernel struct {
	operands
	value *graph.Tensor
}

func decodeConstantOfShape(n *graph.Node, o operands) (kernel, error) {
	v := graph.AttrOr(n, "value").Tensor
	if err := graph.CheckTensor(v); err != nil {
		return nil, fmt.Errorf("attribute value: %v", err)
	}
	if v.Len() != 1 {
		return nil, fmt.Errorf("attribute value: expected a tensor of one element, found %d", v.Len())
	}
	return &constantOfShapeKernel{o, v}, nil
}

func (k *constantOfShapeKernel) run(st *state) error {
	dims, err := intsOf(k.arg(st, 0), "shape")
	if err != nil {
		return err
	}
	shape, err := checkedDims(dims, "shape")
	if err != nil {
		return err
	}
	out := st.alloc.get(k.value.DType, shape)
	for i := range out.Len() {
		out.CopyElems(i, k.value, 0, 1)
	}
	return k.set(st, out, nil)
}

// checkedDims converts dimensions given as an operator's input, refusing
// negative ones and shapes over graph.MaxElements.
func checkedDims(dims []int64, what string) ([]int, error) {
	shape := make([]int, len(dims))
	for i, d := range dims {
		if d < 0 || d > graph.MaxElements {
			return nil, fmt.Errorf("%s %v has invalid dimension %d", what, dims, d)
		}
		shape[i] = int(d)
	}
	if _, err := graph.CheckedSize(shape); err != nil {
		return nil, err
	}
	return shape, nil
}

// splitKernel cuts its input along axis into one part per output: sizes
// from the attribute (before opset 13) or input 1; without them, equal
// parts, the last one smaller when num_outputs (opset 18) asks for it.
type splitKernel struct {
	operands
	axis       int64
	sizes      []int64 // the split attribute
	numOutputs bool    // num_outputs given: the last part may be smaller
}

func decodeSplit(n *graph.Node, o operands) *splitKernel {
	_, num := n.Attrs["num_outputs"]
	return &splitKernel{operands: o, axis: graph.AttrOr(n, "axis").Int, sizes: n.Attrs["split"].Ints, numOutputs: num}
}

func (k *splitKernel) run(st *state) error {
	x := k.arg(st, 0)
	ax, err := normAxis(k.axis, len(x.Shape))
	if err != nil {
		return err
	}
	sizes, err := k.partSizes(st, x.Shape[ax])
	if err != nil {
		return err
	}
	outer, dim, inner := axisSplit(x.Shape, ax)
	shape := append([]int(nil), x.Shape...)
	start := 0
	for i, s := range sizes {
		shape[ax] = s
		part := st.alloc.get(x.DType, shape)
		for o := range outer {
			part.CopyElems(o*s*inner, x, (o*dim+start)*inner, s*inner)
		}
		start += s
		if k.out[i] >= 0 {
			st.vals[k.out[i]] = part
		}
	}
	return nil
}

// partSizes returns the size of each output along an axis of size dim.
func (k *splitKernel) partSizes(st *state, dim int) ([]int, error) {
	parts := len(k.out)
	given := k.sizes
	if t := k.arg(st, 1); t != nil {
		var err error
		if given, err = intsOf(t, "split"); err != nil {
			return nil, err
		}
	}
	sizes := make([]int, parts)
	if given == nil {
		chunk := dim / parts
		if k.numOutputs {
			chunk = (dim + parts - 1) / parts
		} else if dim%parts != 0 {
			return nil, fmt.Errorf("axis of size %d does not split into %d equal parts", dim, parts)
		}
		for i := range sizes {
			sizes[i] = min(chunk, dim-i*chunk)
			if sizes[i] < 0 {
				return nil, fmt.Errorf("axis of size %d does not split into %d parts of %d", dim, parts, chunk)
			}
		}
		return sizes, nil
	}
	if len(given) != parts {
		return nil, fmt.Errorf("split has %d sizes for %d outputs", len(given), parts)
	}
	sum := 0
	for i, s := range given {
		if s < 0 || s > int64(dim) {
			return nil, fmt.Errorf("split %v has invalid size %d", given, s)
		}
		sizes[i] = int(s)
		sum += int(s)
	}
	if sum != dim {
		return nil, fmt.Errorf("split %v sums to %d, but the axis has size %d", given, sum, dim)
	}
	return sizes, nil
}

// tileKernel repeats its input repeats[d] times along each dimension d.
type tileKernel struct{ operands }

func (k *tileKernel) run(st *state) error {
	x := k.arg(st, 0)
	reps, err := intsOf(k.arg(st, 1), "repeats")
	if err != nil {
		return err
	}
	if len(reps) != len(x.Shape) {
		return fmt.Errorf("repeats has %d entries for an input of rank %d", len(reps), len(x.Shape))
	}
	dims := make([]int64, len(reps))
	for i, r := range reps {
		if r < 0 || r > graph.MaxElements {
			return fmt.Errorf("repeats %v has invalid entry %d", reps, r)
		}
		dims[i] = int64(x.Shape[i]) * r
		if x.Shape[i] != 0 && dims[i]/int64(x.Shape[i]) != r {
			return fmt.Errorf("repeats %v make too large a shape", reps)
		}
	}
	shape, err := checkedDims(dims, "tiled shape")
	if err != nil {
		return err
	}
	out := st.alloc.get(x.DType, shape)
	if out.Len() > 0 {
		tileInto(out, x, 0, 0, 0)
	}
	return k.set(st, out, nil)
}

// tileInto writes the tiles of x's block at dimension d (input offset xo)
// to out from offset oo: each of the block's rows, tiled along the later
// dimensions, then the whole block repeated along d.
func tileInto(out, x *graph.Tensor, d, xo, oo int) {
	r := len(x.Shape)
	if r == 0 {
		out.CopyElems(oo, x, xo, 1)
		return
	}
	rows := x.Shape[d]
	rowIn, rowOut := graph.Size(x.Shape[d+1:]), graph.Size(out.Shape[d+1:])
	if d == r-1 {
		out.CopyElems(oo, x, xo, rows)
	} else {
		for i := range rows {
			tileInto(out, x, d+1, xo+i*rowIn, oo+i*rowOut)
		}
	}
	// The block is rows·rowOut elements; copy it for the other repeats.
	block := rows * rowOut
	for rep := 1; rep < out.Shape[d]/max(rows, 1); rep++ {
		out.CopyElems(oo+rep*block, out, oo, block)
	}
}

// flattenKernel reshapes to 2-D: the dimensions before axis, then the
// rest. The axis may equal the rank (then the second dimension is 1).
type flattenKernel struct {
	operands
	movable
	axis int64
}

func (k *flattenKernel) run(st *state) error {
	x := k.arg(st, 0)
	r := int64(len(x.Shape))
	ax := k.axis
	if ax < -r || ax > r {
		return fmt.Errorf("axis %d out of range for rank %d", k.axis, r)
	}
	if ax < 0 {
		ax += r
	}
	shape := []int{graph.Size(x.Shape[:ax]), graph.Size(x.Shape[ax:])}
	return k.setMoved(st, x, reshaped(x, shape, k.alloc(st, x)), nil)
}

// sizeKernel returns the input's element count as an int64 scalar.
type sizeKernel struct{ operands }

func (k *sizeKernel) run(st *state) error {
	out := st.alloc.get(graph.Int64, nil)
	out.I64[0] = int64(k.arg(st, 0).Len())
	return k.set(st, out, nil)
}

// triluKernel keeps the upper (j − i ≥ k) or lower (j − i ≤ k) triangle
// of each matrix in the last two dimensions, zeroing the rest; k is input
// 1, 0 when omitted.
type triluKernel struct {
	operands
	upper bool
}

func (k *triluKernel) run(st *state) error {
	x := k.arg(st, 0)
	if len(x.Shape) < 2 {
		return fmt.Errorf("input must have rank ≥ 2, found shape %s", graph.FormatShape(x.Shape))
	}
	var diag int64
	if t := k.arg(st, 1); t != nil {
		v, err := intsOf(t, "k")
		if err != nil {
			return err
		}
		if len(v) != 1 {
			return fmt.Errorf("k must hold one value, found %d", len(v))
		}
		diag = v[0]
	}
	out := clone(x, st.alloc)
	r := len(x.Shape)
	rows, cols := x.Shape[r-2], x.Shape[r-1]
	zero := graph.NewTensor(x.DType)
	for m := range graph.Size(x.Shape[:r-2]) {
		for i := range rows {
			for j := range cols {
				d := int64(j - i)
				if (k.upper && d < diag) || (!k.upper && d > diag) {
					out.CopyElems((m*rows+i)*cols+j, zero, 0, 1)
				}
			}
		}
	}
	return k.set(st, out, nil)
}

// castLikeKernel casts input 0 to the element type of input 1.
type castLikeKernel struct{ operands }

func (k *castLikeKernel) run(st *state) error {
	t, err := cast(k.arg(st, 0), k.arg(st, 1).DType, st.alloc)
	return k.set(st, t, err)
}

// dropoutKernel is Dropout at inference: a copy of the input and, when
// asked for, an all-true mask. Training mode (input 2) with a nonzero
// ratio would drop elements at random, which trnn does not do.
type dropoutKernel struct {
	operands
	ratio float32 // the attribute (before opset 12), or the default
}

func (k *dropoutKernel) run(st *state) error {
	x := k.arg(st, 0)
	if t := k.arg(st, 2); t != nil {
		if t.DType != graph.Bool || t.Len() != 1 {
			return fmt.Errorf("training_mode must be a bool scalar, found %v %s", t.DType, graph.FormatShape(t.Shape))
		}
		ratio := float64(k.ratio)
		if r := k.arg(st, 1); r != nil {
			if (r.DType != graph.Float32 && r.DType != graph.Float64) || r.Len() != 1 {
				return fmt.Errorf("ratio must be a float scalar, found %v %s", r.DType, graph.FormatShape(r.Shape))
			}
			ratio = floatAt(r, 0)
		}
		if t.B[0] && ratio != 0 {
			return fmt.Errorf("training mode with ratio %v is not supported (trnn runs inference only)", ratio)
		}
	}
	if err := k.set(st, clone(x, st.alloc), nil); err != nil {
		return err
	}
	if len(k.out) > 1 && k.out[1] >= 0 {
		mask := st.alloc.get(graph.Bool, x.Shape)
		fill(mask.B, true)
		st.vals[k.out[1]] = mask
	}
	return nil
}
