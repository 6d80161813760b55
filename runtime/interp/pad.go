package interp

// Pad: add (or, with negative counts, remove) elements at both ends of
// each axis, filled with a constant, the reflection of the interior, the
// edge value, or the wrapped-around opposite end.

import (
	"fmt"

	"github.com/trnn/trnn/graph"
)

var _ kernel = (*padKernel)(nil)

// padKernel takes pads and the constant from attributes before opset 11,
// and from inputs 1 to 3 (pads, constant_value, axes) from it.
type padKernel struct {
	operands
	mode      string
	fromAttrs bool
	pads      []int64 // the attribute
	value     float32 // the attribute
}

func decodePad(n *graph.Node, o operands) *padKernel {
	pads, ok := n.Attrs["pads"]
	return &padKernel{operands: o, mode: graph.AttrOr(n, "mode").String, fromAttrs: ok,
		pads: pads.Ints, value: graph.AttrOr(n, "value").Float}
}

func (k *padKernel) run(st *state) error {
	x := k.arg(st, 0)
	pads, fill, err := k.padArgs(st, x)
	if err != nil {
		return err
	}
	r := len(x.Shape)
	shape := make([]int, r)
	for d, size := range x.Shape {
		n := int64(size) + pads[d] + pads[d+r]
		if pads[d] < -graph.MaxElements || pads[d] > graph.MaxElements || n < 0 || n > graph.MaxElements {
			return fmt.Errorf("pads %v give axis %d of size %d the invalid size %d", pads, d, size, n)
		}
		shape[d] = int(n)
	}
	if _, err := graph.CheckedSize(shape); err != nil {
		return err
	}
	maps := make([][]int, r)
	for d, size := range x.Shape {
		if maps[d], err = padIndex(k.mode, size, int(pads[d]), shape[d]); err != nil {
			return fmt.Errorf("axis %d: %v", d, err)
		}
	}
	out := st.alloc.get(x.DType, shape)
	switch x.DType {
	case graph.Float32:
		padRun(out.F32, x.F32, fill.F32[0], shape, x.Shape, maps)
	case graph.Float64:
		padRun(out.F64, x.F64, fill.F64[0], shape, x.Shape, maps)
	case graph.Int32:
		padRun(out.I32, x.I32, fill.I32[0], shape, x.Shape, maps)
	case graph.Int64:
		padRun(out.I64, x.I64, fill.I64[0], shape, x.Shape, maps)
	case graph.Bool:
		padRun(out.B, x.B, fill.B[0], shape, x.Shape, maps)
	}
	return k.set(st, out, nil)
}

// padArgs returns the pads for every axis (begins, then ends) and the
// fill value as a one-element tensor of x's type.
func (k *padKernel) padArgs(st *state, x *graph.Tensor) ([]int64, *graph.Tensor, error) {
	r := len(x.Shape)
	if k.fromAttrs {
		if len(k.pads) != 2*r {
			return nil, nil, fmt.Errorf("pads has %d entries for an input of rank %d", len(k.pads), r)
		}
		return k.pads, scalarOf(x.DType, float64(k.value)), nil
	}
	given, err := intsOf(k.arg(st, 1), "pads")
	if err != nil {
		return nil, nil, err
	}
	fill := graph.NewTensor(x.DType)
	if c := k.arg(st, 2); c != nil {
		if c.DType != x.DType || c.Len() != 1 {
			return nil, nil, fmt.Errorf("constant_value must be a %v scalar, found %v %s", x.DType, c.DType, graph.FormatShape(c.Shape))
		}
		fill = c
	}
	axes := make([]int64, r)
	for i := range axes {
		axes[i] = int64(i)
	}
	if t := k.arg(st, 3); t != nil {
		if axes, err = intsOf(t, "axes"); err != nil {
			return nil, nil, err
		}
	}
	if len(given) != 2*len(axes) {
		return nil, nil, fmt.Errorf("pads has %d entries for %d axes", len(given), len(axes))
	}
	pads := make([]int64, 2*r)
	seen := make([]bool, r)
	for i, a := range axes {
		ax, err := normAxis(a, r)
		if err != nil {
			return nil, nil, err
		}
		if seen[ax] {
			return nil, nil, fmt.Errorf("axis %d listed twice", a)
		}
		seen[ax] = true
		pads[ax], pads[ax+r] = given[i], given[i+len(axes)]
	}
	return pads, fill, nil
}

// padIndex maps each of the n output positions of an axis of size size,
// padded by begin in front (negative: cropped), to its input position, or
// −1 for the constant.
func padIndex(mode string, size, begin, n int) ([]int, error) {
	idx := make([]int, n)
	for j := range idx {
		i := j - begin
		if i >= 0 && i < size {
			idx[j] = i
			continue
		}
		if mode == "constant" {
			idx[j] = -1
			continue
		}
		if size == 0 {
			return nil, fmt.Errorf("mode %s cannot pad an empty axis", mode)
		}
		switch mode {
		case "edge":
			i = min(max(i, 0), size-1)
		case "wrap":
			i = ((i % size) + size) % size
		case "reflect":
			i = reflectIndex(i, size)
		}
		idx[j] = i
	}
	return idx, nil
}

// reflectIndex mirrors i into [0, size) about the first and last elements,
// which are not repeated (numpy's "reflect"): the pattern has period
// 2·(size − 1).
func reflectIndex(i, size int) int {
	if size == 1 {
		return 0
	}
	p := 2 * (size - 1)
	i = ((i % p) + p) % p
	if i >= size {
		i = p - i
	}
	return i
}

// padRun fills out (of shape outShape) from x (of shape inShape) through
// the per-axis maps, fill where a map gives −1.
func padRun[T element](out, x []T, fill T, outShape, inShape []int, maps [][]int) {
	r := len(outShape)
	if r == 0 {
		out[0] = x[0]
		return
	}
	inStride := make([]int, r)
	s := 1
	for d := r - 1; d >= 0; d-- {
		inStride[d] = s
		s *= inShape[d]
	}
	last := outShape[r-1]
	if last == 0 {
		return
	}
	ctr := make([]int, r-1)
	for o := 0; o < len(out); o += last {
		// The input row of this output row, or none when an outer axis is
		// in the padding.
		base, inRow := 0, true
		for d, c := range ctr {
			m := maps[d][c]
			if m < 0 {
				inRow = false
				break
			}
			base += m * inStride[d]
		}
		row := out[o : o+last]
		for j, m := range maps[r-1] {
			if inRow && m >= 0 {
				row[j] = x[base+m]
			} else {
				row[j] = fill
			}
		}
		for d := r - 2; d >= 0; d-- {
			ctr[d]++
			if ctr[d] < outShape[d] {
				break
			}
			ctr[d] = 0
		}
	}
}
