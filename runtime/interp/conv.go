package interp

// Conv, and the sliding-window geometry it shares with the pools.
//
// Shape legend: N batch, C input channels, M output channels (feature
// maps), G groups, S spatial dimensions; X [N, C, D1..DS], W [M, C/G,
// k1..kS], Y [N, M, O1..OS]. K is the kernel's size k1·…·kS, O the output's
// spatial size O1·…·OS.

import (
	"fmt"
	"slices"

	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/ops"
)

// windowSpec holds a windowed node's attributes as given: nil lists were
// not given and take their defaults once the spatial rank is known.
type windowSpec struct {
	autoPad                          string
	kernel, strides, dilations, pads []int64
	ceil                             bool
}

func decodeWindow(n *graph.Node) windowSpec {
	return windowSpec{
		autoPad:   graph.AttrOr(n, "auto_pad").String,
		kernel:    n.Attrs["kernel_shape"].Ints,
		strides:   n.Attrs["strides"].Ints,
		dilations: n.Attrs["dilations"].Ints,
		pads:      n.Attrs["pads"].Ints,
		ceil:      graph.AttrOr(n, "ceil_mode").Int != 0,
	}
}

// window is the geometry of a window sliding over S spatial dimensions:
// output position o along dimension i reads input positions
// o·stride[i] − pad[i] + k·dil[i] for k in [0, kernel[i]), those outside
// [0, in[i]) being padding. padEnd[i] is the padding after the input.
type window struct {
	in, out, kernel, stride, dil, pad, padEnd []int
}

// geometry resolves the spec for an input of spatial extents in and a
// kernel of the given extents (Conv's come from W, a pool's from its
// attribute), applying auto_pad, and computes the output's extents.
func (w windowSpec) geometry(in, kernel []int) (*window, error) {
	S := len(in)
	for _, l := range []struct {
		name string
		n    int
	}{{"strides", len(w.strides)}, {"dilations", len(w.dilations)}, {"pads", len(w.pads) / 2}} {
		if l.n != 0 && l.n != S {
			return nil, fmt.Errorf("attribute %s is for %d spatial dimensions, but the input has %d", l.name, l.n, S)
		}
	}
	g := &window{in: in, kernel: kernel, out: make([]int, S), stride: ones(w.strides, S), dil: ones(w.dilations, S),
		pad: make([]int, S), padEnd: make([]int, S)}
	for i := range S {
		if w.pads != nil {
			g.pad[i], g.padEnd[i] = int(w.pads[i]), int(w.pads[S+i])
		}
		if err := g.extent(i, w.autoPad, w.ceil); err != nil {
			return nil, err
		}
	}
	if _, err := graph.CheckedSize(g.out); err != nil {
		return nil, err
	}
	return g, nil
}

// ones returns v as ints, or n ones when v is nil.
func ones(v []int64, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = 1
		if v != nil {
			out[i] = int(v[i])
		}
	}
	return out
}

// extent computes dimension i's output extent and, under auto_pad SAME_*,
// its padding: the output keeps ceil(in/stride) positions and the padding
// that needs is split evenly, the odd one at the end (SAME_UPPER) or the
// beginning (SAME_LOWER). With ceil_mode, a last window that would start
// in the end padding is dropped, as PyTorch and ONNX Runtime do.
func (g *window) extent(i int, autoPad string, ceil bool) error {
	in, s := g.in[i], g.stride[i]
	span := (g.kernel[i]-1)*g.dil[i] + 1
	switch autoPad {
	case graph.AutoPadSameUpper, graph.AutoPadSameLower:
		g.out[i] = (in + s - 1) / s
		total := max(0, (g.out[i]-1)*s+span-in)
		g.pad[i], g.padEnd[i] = total/2, total-total/2
		if autoPad == graph.AutoPadSameLower {
			g.pad[i], g.padEnd[i] = g.padEnd[i], g.pad[i]
		}
		return nil
	case graph.AutoPadValid:
		g.pad[i], g.padEnd[i] = 0, 0
	}
	padded := in + g.pad[i] + g.padEnd[i]
	if padded < span {
		return fmt.Errorf("spatial dimension %d: the window spans %d positions, more than the %d of the padded input", i, span, padded)
	}
	g.out[i] = (padded-span)/s + 1
	if ceil && (padded-span)%s != 0 {
		g.out[i]++
		if (g.out[i]-1)*s >= in+g.pad[i] {
			g.out[i]--
		}
	}
	return nil
}

// convKernel is Conv: attributes decoded once, the geometry per call since
// it depends on X's extents.
type convKernel struct {
	operands
	win   windowSpec
	group int
}

func (k *convKernel) run(st *state) error {
	t, err := conv(k.arg(st, 0), k.arg(st, 1), k.arg(st, 2), k.win, k.group, st)
	return k.set(st, t, err)
}

// conv checks X, W and B against each other and the attributes and
// computes Y: float32 by im2col and ops.Gemm, float64 by convNaive.
func conv(x, w, b *graph.Tensor, spec windowSpec, group int, st *state) (*graph.Tensor, error) {
	if err := checkConvOperands(x, w, b, spec, group); err != nil {
		return nil, err
	}
	g, err := spec.geometry(x.Shape[2:], w.Shape[2:])
	if err != nil {
		return nil, err
	}
	N, M := x.Shape[0], w.Shape[0]
	shape := append([]int{N, M}, g.out...)
	if _, err := graph.CheckedSize(shape); err != nil {
		return nil, err
	}
	// The unrolled windows (convGemm's col) must fit too.
	if _, err := graph.CheckedSize([]int{graph.Size(w.Shape[1:]), N, graph.Size(g.out)}); err != nil {
		return nil, fmt.Errorf("unrolling the windows: %v", err)
	}
	y := st.alloc.get(x.DType, shape)
	if x.DType == graph.Float64 {
		var bias []float64
		if b != nil {
			bias = b.F64
		}
		convNaive(y.F64, x.F64, w.F64, bias, N, x.Shape[1], M, group, g)
		return y, nil
	}
	var bias []float32
	if b != nil {
		bias = b.F32
	}
	convGemm(y.F32, x.F32, w.F32, bias, N, x.Shape[1], M, group, g, st)
	return y, nil
}

// checkConvOperands checks what the reader could not: the operands' types
// and shapes, which arrive with the data.
func checkConvOperands(x, w, b *graph.Tensor, spec windowSpec, group int) error {
	if x.DType != graph.Float32 && x.DType != graph.Float64 {
		return fmt.Errorf("X must be float32 or float64, found %v", x.DType)
	}
	if w.DType != x.DType || (b != nil && b.DType != x.DType) {
		return fmt.Errorf("X, W and B must have one element type, found %v, %v and %v", x.DType, w.DType, dtypeOf(b))
	}
	if len(x.Shape) < 3 || len(w.Shape) != len(x.Shape) {
		return fmt.Errorf("X %s and W %s must both be [N, C, spatial...] and [M, C/group, kernel...] of the same rank ≥ 3",
			graph.FormatShape(x.Shape), graph.FormatShape(w.Shape))
	}
	C, M := x.Shape[1], w.Shape[0]
	if M%group != 0 || w.Shape[1]*group != C {
		return fmt.Errorf("W %s with group %d does not fit X %s: need M divisible by %d and C/group = %d",
			graph.FormatShape(w.Shape), group, graph.FormatShape(x.Shape), group, C/max(group, 1))
	}
	if spec.kernel != nil && !slices.Equal(spec.kernel, toInt64s(w.Shape[2:])) {
		return fmt.Errorf("attribute kernel_shape %v differs from W's spatial dimensions %s", spec.kernel, graph.FormatShape(w.Shape[2:]))
	}
	if slices.Contains(w.Shape[2:], 0) {
		return fmt.Errorf("W %s has an empty kernel", graph.FormatShape(w.Shape))
	}
	if b != nil && (len(b.Shape) != 1 || b.Shape[0] != M) {
		return fmt.Errorf("B must be [%d] (one bias per output channel), found %s", M, graph.FormatShape(b.Shape))
	}
	return nil
}

func dtypeOf(t *graph.Tensor) string {
	if t == nil {
		return "none"
	}
	return t.DType.String()
}

func toInt64s(v []int) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = int64(x)
	}
	return out
}

// convGemm computes Y [N, M, O] = W ⊛ X + B group by group: the windows of
// X are unrolled into col [C/G·K, N·O] (im2col), whole batch at once, so
// that each group is one matrix product W_g [M/G, C/G·K] · col into
// prod [M/G, N·O], whose rows are then laid out as Y's with the bias
// added. One large product is much faster than one per row of the batch
// when O is a short sequence.
func convGemm(y, x, w, bias []float32, N, C, M, G int, g *window, st *state) {
	Cg, Mg := C/G, M/G
	K, O := graph.Size(g.kernel), graph.Size(g.out)
	NO := N * O
	if NO == 0 || Mg == 0 {
		return // Y is empty
	}
	col := st.alloc.get(graph.Float32, []int{Cg * K, NO})
	prod := st.alloc.get(graph.Float32, []int{Mg, NO})
	defer st.recycle(col)
	defer st.recycle(prod)
	for gr := range G {
		im2col(col.F32, x, g, N, C, gr*Cg, Cg)
		// With no input channel (Cg = 0) the product is zero; the row
		// stride of W must still be positive.
		ops.Gemm(false, false, Mg, NO, Cg*K, 1, w[gr*Mg*Cg*K:], max(Cg*K, 1), col.F32, NO, 0, prod.F32, NO)
		for m := range Mg {
			var b float32
			if bias != nil {
				b = bias[gr*Mg+m]
			}
			for n := range N {
				dst, src := y[(n*M+gr*Mg+m)*O:][:O], prod.F32[m*NO+n*O:][:O]
				for j, v := range src {
					dst[j] = v + b
				}
			}
		}
	}
}

// im2col writes col [Cg·K, N·O] for channels c0..c0+Cg−1 of x [N, C, I]:
// row c·K + k holds, for every row of the batch and output position, the
// input value under kernel offset k of channel c0 + c (zero in the
// padding).
func im2col[T float32 | float64](col, x []T, g *window, N, C, c0, Cg int) {
	K, O, I := graph.Size(g.kernel), graph.Size(g.out), graph.Size(g.in)
	last := len(g.in) - 1
	r := lastRun{koff: make([]int, len(g.kernel)), outer: make([]int, last), n: g.out[last], s: g.stride[last], in: g.in[last]}
	for c := range Cg {
		clear(r.koff)
		for k := range K {
			// Along the last dimension, output positions [lo, hi) read
			// the input from start + j·s; the others are padding. That
			// depends on the kernel offset only.
			r.start = -g.pad[last] + r.koff[last]*g.dil[last]
			r.lo = min(r.n, ceilDiv(-r.start, r.s))
			r.hi = max(r.lo, min(r.n, ceilDiv(r.in-r.start, r.s)))
			row := col[(c*K+k)*N*O:][:N*O]
			for b := range N {
				im2colRow(row[b*O:(b+1)*O], x[(b*C+c0+c)*I:][:I], g, &r)
			}
			advance(r.koff, g.kernel)
		}
	}
}

// lastRun is what im2colRow needs of a kernel offset koff: its walk along
// the output's last dimension (n positions, input stride s over in
// positions, [lo, hi) inside the input from start), and scratch for the
// position over the other dimensions.
type lastRun struct {
	koff, outer             []int
	n, s, in, start, lo, hi int
}

// im2colRow fills one row's part of col: the values at kernel offset
// r.koff for every output position, walking the output's last dimension
// innermost.
func im2colRow[T float32 | float64](row, x []T, g *window, r *lastRun) {
	last := len(g.in) - 1
	clear(r.outer)
	for o := 0; o < len(row); o += r.n {
		base, inside := 0, true
		for i := range last {
			p := r.outer[i]*g.stride[i] - g.pad[i] + r.koff[i]*g.dil[i]
			inside = inside && p >= 0 && p < g.in[i]
			base = base*g.in[i] + p
		}
		run := row[o : o+r.n]
		if !inside {
			clear(run)
			advance(r.outer, g.out[:last])
			continue
		}
		clear(run[:r.lo])
		clear(run[r.hi:])
		xr := x[base*r.in:]
		switch {
		case r.hi == r.lo:
		case r.s == 1:
			copy(run[r.lo:r.hi], xr[r.start+r.lo:r.start+r.hi])
		default:
			for j := r.lo; j < r.hi; j++ {
				run[j] = xr[r.start+j*r.s]
			}
		}
		advance(r.outer, g.out[:last])
	}
}

// unravel writes the row-major coordinates of flat index k in dims to c.
func unravel(c []int, k int, dims []int) {
	for i := len(dims) - 1; i >= 0; i-- {
		c[i] = k % dims[i]
		k /= dims[i]
	}
}

// advance steps the row-major odometer c over dims; it wraps to zeros
// after the last position.
func advance(c, dims []int) {
	for i := len(c) - 1; i >= 0; i-- {
		c[i]++
		if c[i] < dims[i] {
			return
		}
		c[i] = 0
	}
}

// convNaive computes Y [N, M, O] = W ⊛ X + B by its definition, one output
// element at a time. It serves float64, which has no fast kernel, and is
// the oracle convGemm is tested against.
func convNaive[T float32 | float64](y, x, w, bias []T, N, C, M, G int, g *window) {
	Cg, Mg := C/G, M/G
	K, O, I := graph.Size(g.kernel), graph.Size(g.out), graph.Size(g.in)
	pos, koff := make([]int, len(g.in)), make([]int, len(g.in))
	for n := range N {
		for m := range M {
			gr := m / Mg
			for o := range O {
				unravel(pos, o, g.out)
				var sum T
				if bias != nil {
					sum = bias[m]
				}
				for c := range Cg {
					xc := x[(n*C+gr*Cg+c)*I:]
					wc := w[(m*Cg+c)*K:]
					for k := range K {
						unravel(koff, k, g.kernel)
						if at, ok := g.at(pos, koff); ok {
							sum += wc[k] * xc[at]
						}
					}
				}
				y[(n*M+m)*O+o] = sum
			}
		}
	}
}

// at returns the flat input index read at output position pos and kernel
// offset koff, and false in the padding.
func (g *window) at(pos, koff []int) (int, bool) {
	idx := 0
	for i := range pos {
		p := pos[i]*g.stride[i] - g.pad[i] + koff[i]*g.dil[i]
		if p < 0 || p >= g.in[i] {
			return 0, false
		}
		idx = idx*g.in[i] + p
	}
	return idx, true
}
