package interp

// MaxPool, AveragePool, GlobalAveragePool and GlobalMaxPool, on float32
// and float64.
//
// Shape legend: N batch, C channels, S spatial dimensions; X [N, C,
// D1..DS] of spatial size I, Y [N, C, O1..OS] of spatial size O. Each
// (n, c) plane is pooled on its own.

import (
	"fmt"
	"math"

	"github.com/trnn/trnn/graph"
)

// poolKernel is MaxPool (with its optional Indices output) or AveragePool.
type poolKernel struct {
	operands
	op           graph.Op
	win          windowSpec
	includePad   bool // AveragePool: padding counts in the divisor
	columnMajor  bool // MaxPool: Indices count the spatial dimensions first to last fastest
	wantsIndices bool
}

func decodePool(n *graph.Node, o operands) *poolKernel {
	return &poolKernel{operands: o, op: n.Op, win: decodeWindow(n),
		includePad:   graph.AttrOr(n, "count_include_pad").Int != 0,
		columnMajor:  graph.AttrOr(n, "storage_order").Int != 0,
		wantsIndices: len(o.out) > 1 && o.out[1] >= 0}
}

func (k *poolKernel) run(st *state) error {
	x := k.arg(st, 0)
	if err := checkPoolInput(x); err != nil {
		return err
	}
	kernel := make([]int, len(k.win.kernel))
	for i, v := range k.win.kernel {
		kernel[i] = int(v)
	}
	if len(kernel) != len(x.Shape)-2 {
		return fmt.Errorf("attribute kernel_shape %v is for %d spatial dimensions, but X %s has %d", k.win.kernel, len(kernel), graph.FormatShape(x.Shape), len(x.Shape)-2)
	}
	g, err := k.win.geometry(x.Shape[2:], kernel)
	if err != nil {
		return err
	}
	shape := append([]int{x.Shape[0], x.Shape[1]}, g.out...)
	if _, err := graph.CheckedSize(shape); err != nil {
		return err
	}
	y := st.alloc.get(x.DType, shape)
	var idx *graph.Tensor
	if k.wantsIndices {
		idx = st.alloc.get(graph.Int64, shape)
	}
	switch {
	case k.op == graph.OpAveragePool && x.DType == graph.Float32:
		avgPool(y.F32, x.F32, g, k.includePad)
	case k.op == graph.OpAveragePool:
		avgPool(y.F64, x.F64, g, k.includePad)
	case x.DType == graph.Float32:
		maxPool(y.F32, x.F32, idx, g, k.columnMajor)
	default:
		maxPool(y.F64, x.F64, idx, g, k.columnMajor)
	}
	st.vals[k.out[0]] = y
	if idx != nil {
		st.vals[k.out[1]] = idx
	}
	return nil
}

func checkPoolInput(x *graph.Tensor) error {
	if x.DType != graph.Float32 && x.DType != graph.Float64 {
		return fmt.Errorf("X must be float32 or float64, found %v", x.DType)
	}
	if len(x.Shape) < 3 {
		return fmt.Errorf("X must be [N, C, spatial...] with at least one spatial dimension, found %s", graph.FormatShape(x.Shape))
	}
	return nil
}

// avgPool averages each window over its input positions, and with
// includePad also over its padding positions: those inside the padded
// extent, not the overhang a ceil_mode window may have past it. A window
// with no position to count gives 0. The window's geometry is the same in
// every (n, c) plane, so each output position's is worked out once.
func avgPool[T float32 | float64](y, x []T, g *window, includePad bool) {
	I, O := graph.Size(g.in), graph.Size(g.out)
	planes := len(y) / max(O, 1)
	b := newBox(len(g.in))
	for o := range O {
		count := float64(b.taps(g))
		if includePad {
			count = b.paddedTaps()
		}
		div := T(max(count, 1))
		for p := range planes {
			y[p*O+o] = boxSum(x[p*I:(p+1)*I], b) / div
		}
		advance(b.pos, g.out)
	}
}

// maxPool takes each window's maximum over its input positions (padding is
// never the maximum, nor is NaN). idx, when not nil, receives each
// maximum's index in X flattened, the first one among equals, counting the
// spatial dimensions row-major or, with columnMajor, the first fastest. A
// window holding nothing else gives the lowest finite value, as in ONNX
// Runtime.
func maxPool[T float32 | float64](y, x []T, idx *graph.Tensor, g *window, columnMajor bool) {
	I, O := graph.Size(g.in), graph.Size(g.out)
	planes := len(y) / max(O, 1)
	var lowest T
	switch p := any(&lowest).(type) {
	case *float32:
		*p = -math.MaxFloat32
	case *float64:
		*p = -math.MaxFloat64
	}
	b := newBox(len(g.in))
	for o := range O {
		b.taps(g)
		for p := range planes {
			best, bestAt := boxMax(x[p*I:(p+1)*I], b, lowest)
			y[p*O+o] = best
			if idx != nil {
				idx.I64[p*O+o] = int64(p*I + g.storageIndex(max(bestAt, 0), columnMajor))
			}
		}
		advance(b.pos, g.out)
	}
}

// box is the window of one output position: along each spatial dimension
// i, the kernel offsets in [lo[i], hi[i]) read input positions start[i] +
// k·dil[i], the others fall in the padding. rows lists the input index
// (within a plane) of each run of taps along the last dimension, n taps dil
// apart.
type box struct {
	pos, start, lo, hi, cur []int
	padLo, padHi            []int // offsets within the padded extent
	rows                    []int
	n, dil                  int
}

func newBox(S int) *box {
	buf := make([]int, 7*S)
	return &box{pos: buf[:S], start: buf[S : 2*S], lo: buf[2*S : 3*S], hi: buf[3*S : 4*S], cur: buf[4*S : 5*S],
		padLo: buf[5*S : 6*S], padHi: buf[6*S:]}
}

// taps sets the box for the output position b.pos and returns how many
// kernel offsets read the input.
func (b *box) taps(g *window) int {
	count := 1
	for i, p := range b.pos {
		s, d, k := p*g.stride[i]-g.pad[i], g.dil[i], g.kernel[i]
		b.start[i] = s
		b.lo[i] = min(k, ceilDiv(-s, d))
		b.hi[i] = max(b.lo[i], min(k, ceilDiv(g.in[i]-s, d)))
		b.padLo[i] = min(k, ceilDiv(-g.pad[i]-s, d))
		b.padHi[i] = min(k, ceilDiv(g.in[i]+g.padEnd[i]-s, d))
		count *= b.hi[i] - b.lo[i]
	}
	b.rows = b.rows[:0]
	if count > 0 {
		b.walk(g)
	}
	return count
}

// paddedTaps is how many kernel offsets of the box fall within the input
// extended by its padding; a float, since huge pads in several dimensions
// would overflow an int.
func (b *box) paddedTaps() float64 {
	n := 1.0
	for i := range b.pos {
		n *= float64(max(b.padHi[i]-b.padLo[i], 0))
	}
	return n
}

// ceilDiv is ⌈a/d⌉ for d > 0, clamped below at 0.
func ceilDiv(a, d int) int {
	if a <= 0 {
		return 0
	}
	return (a + d - 1) / d
}

// walk lists the box's runs along the last dimension in b.rows, in
// row-major order of the kernel offsets.
func (b *box) walk(g *window) {
	last := len(b.pos) - 1
	b.n, b.dil = b.hi[last]-b.lo[last], g.dil[last]
	copy(b.cur, b.lo)
	for {
		base := 0
		for i := range last {
			base = base*g.in[i] + b.start[i] + b.cur[i]*g.dil[i]
		}
		b.rows = append(b.rows, base*g.in[last]+b.start[last]+b.lo[last]*g.dil[last])
		i := last - 1
		for ; i >= 0; i-- {
			if b.cur[i]++; b.cur[i] < b.hi[i] {
				break
			}
			b.cur[i] = b.lo[i]
		}
		if i < 0 {
			return
		}
	}
}

func boxSum[T float32 | float64](xp []T, b *box) T {
	var sum T
	for _, at := range b.rows {
		for k := range b.n {
			sum += xp[at+k*b.dil]
		}
	}
	return sum
}

func boxMax[T float32 | float64](xp []T, b *box, lowest T) (T, int) {
	best, bestAt := lowest, -1
	for _, at := range b.rows {
		for k := range b.n {
			if v := xp[at+k*b.dil]; v > best || bestAt < 0 && v == best {
				best, bestAt = v, at+k*b.dil
			}
		}
	}
	return best, bestAt
}

// storageIndex converts a row-major spatial index to column-major when
// asked.
func (g *window) storageIndex(at int, columnMajor bool) int {
	if !columnMajor {
		return at
	}
	c := make([]int, len(g.in))
	unravel(c, at, g.in)
	idx := 0
	for i := len(c) - 1; i >= 0; i-- {
		idx = idx*g.in[i] + c[i]
	}
	return idx
}

// globalPoolKernel is GlobalAveragePool or GlobalMaxPool: the window is
// the whole spatial extent.
type globalPoolKernel struct {
	operands
	isMax bool
}

func (k *globalPoolKernel) run(st *state) error {
	x := k.arg(st, 0)
	if err := checkPoolInput(x); err != nil {
		return err
	}
	shape := []int{x.Shape[0], x.Shape[1]}
	for range x.Shape[2:] {
		shape = append(shape, 1)
	}
	y := st.alloc.get(x.DType, shape)
	I := graph.Size(x.Shape[2:])
	if x.DType == graph.Float32 {
		globalPool(y.F32, x.F32, I, k.isMax)
	} else {
		globalPool(y.F64, x.F64, I, k.isMax)
	}
	st.vals[k.out[0]] = y
	return nil
}

// globalPool reduces each plane of I values of x to one value of y: the
// mean, or the maximum (NaN never is). An empty plane gives NaN for the
// mean, as 0/0, and −Inf for the maximum.
func globalPool[T float32 | float64](y, x []T, I int, isMax bool) {
	for p := range y {
		plane := x[p*I : (p+1)*I]
		if isMax {
			best := T(math.Inf(-1))
			for _, v := range plane {
				if v > best {
					best = v
				}
			}
			y[p] = best
			continue
		}
		var sum T
		for _, v := range plane {
			sum += v
		}
		y[p] = sum / T(I)
	}
}
