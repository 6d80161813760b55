package interp

// ONNX LSTM and GRU on dense, padded tensors, run by ops' packed kernels
// (ops.LSTMForward, ops.GRUForward).
//
// Shape legend: T steps (seq_length), B rows (batch_size), I input width,
// H hidden units, D directions (1, or 2 when bidirectional), N packed steps
// (Σ lengths).
//
// Layout 0 (ONNX's default):  X [T, B, I], Y [T, D, B, H], Y_h/Y_c/initial_h/initial_c [D, B, H].
// Layout 1 (batch first):     X [B, T, I], Y [B, T, D, H], Y_h/Y_c/initial_h/initial_c [B, D, H].
//
// Padded steps follow ONNX Runtime (the ONNX specification leaves them
// open): a row of length len runs steps 0..len−1 (the reverse direction runs
// len−1 down to 0, so each row is reversed within its own valid steps); Y is 0
// at steps t ≥ len; Y_h and Y_c are the state after the row's last processed
// step; a row of length 0 gives zeros everywhere, whatever initial_h and
// initial_c hold.
//
// The adapter stably sorts rows by descending length, gathers each
// direction's valid steps into the packed layout (ops.Packing), runs the
// packed kernel once per direction and scatters the results back, so the
// work is proportional to Σ lengths, not T·B.

import (
	"fmt"
	"slices"

	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/ops"
)

// rnnAttrs are the attributes of an ONNX LSTM or GRU node the kernels read.
// The reader admits only what they implement: default activations, no
// clip, input_forget = 0, a known direction, layout 0 or 1.
type rnnAttrs struct {
	HiddenSize        int    // hidden_size; 0 = taken from R's last dimension
	Direction         string // graph.DirForward, DirReverse or DirBidirectional
	Layout            int    // 0 or 1
	LinearBeforeReset bool   // GRU only
}

// rnnInputs are an ONNX LSTM's or GRU's inputs; nil is an omitted optional
// input. C0 and P are LSTM only.
type rnnInputs struct {
	X, W, R, B, SeqLens, H0, C0, P *graph.Tensor
}

// rnnOutputs says which outputs are wanted and receives them.
type rnnOutputs struct {
	WantY, WantYh, WantYc bool
	Y, Yh, Yc             *graph.Tensor
}

// rnnWork is the reusable workspace of recurrent: packing, packed buffers
// and the kernels' caches. The zero value is ready; it grows to the largest
// batch seen and is then reused without allocating. One workspace serves
// one call at a time.
type rnnWork struct {
	pack   ops.Packing
	order  []int // [B] original row of each packed row
	lens   []int // [B] lengths in packed order
	orig   []int // [B] lengths by original row
	xp     []float32
	yp     []float32
	h0, c0 []float32 // [B, H] initial states in packed order
	hT, cT []float32 // [B, H] final states in packed order
	bias   []float32 // [4H] LSTM Wb + Rb
	lstm   ops.LSTMCache
	yShape [4]int
	hShape [3]int
	gru    ops.GRUCache
}

// grow returns s resliced to n elements, allocating only when its capacity
// is short; the contents are not zeroed.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// rnnDims are the validated dimensions of a call.
type rnnDims struct {
	T, B, I, H, D int
	gates         int // 4 (LSTM) or 3 (GRU)
	layout        int
}

// recurrent runs an ONNX LSTM (op = graph.OpLSTM, opset 7–21 semantics) or
// GRU (graph.OpGRU, either linear_before_reset) on float32 tensors. Outputs
// not wanted are left nil; the GRU never sets Yc. A nil work uses a
// workspace of its own.
func recurrent(op graph.Op, in rnnInputs, a rnnAttrs, out *rnnOutputs, work *rnnWork, alloc allocator) error {
	d, err := checkRNN(op, in, a)
	if err != nil {
		return err
	}
	if work == nil {
		work = new(rnnWork)
	}
	work.sortRows(in.SeqLens, d.T, d.B)
	work.allocOutputs(op, d, out, alloc)
	N := work.pack.N()
	work.xp = grow(work.xp, N*d.I)
	work.yp = grow(work.yp, N*d.H)
	work.hT = grow(work.hT, d.B*d.H)
	work.cT = grow(work.cT, d.B*d.H)
	for dir := range d.D {
		reverse := a.Direction == graph.DirReverse || dir == 1
		work.gatherX(in.X, d, reverse)
		if op == graph.OpLSTM {
			work.runLSTM(in, d, dir)
		} else {
			work.runGRU(in, a, d, dir)
		}
		work.scatter(out, d, dir, reverse)
	}
	return nil
}

// sortRows reads the lengths (T for every row without sequence_lens) and
// lays out the packing of the rows stably sorted by descending length.
func (w *rnnWork) sortRows(seqLens *graph.Tensor, T, B int) {
	w.orig = slices.Grow(w.orig[:0], B)[:B]
	for b := range B {
		w.orig[b] = T
		if seqLens != nil {
			w.orig[b] = int(seqLens.I32[b])
		}
	}
	w.order = slices.Grow(w.order[:0], B)[:B]
	for b := range w.order {
		w.order[b] = b
	}
	ops.SortByLength(w.order, w.length)
	w.lens = slices.Grow(w.lens[:0], B)[:B]
	for b, ob := range w.order {
		w.lens[b] = w.orig[ob]
	}
	w.pack.Reset(w.lens)
}

// length is row b's length, for ops.SortByLength; a method value, so
// sorting allocates no closure.
func (w *rnnWork) length(b int) int { return w.orig[b] }

// allocOutputs allocates the wanted outputs. Y is zeroed because padded
// steps stay 0; Y_h and Y_c are written whole by scatter.
func (w *rnnWork) allocOutputs(op graph.Op, d rnnDims, out *rnnOutputs, alloc allocator) {
	if d.layout == 0 {
		w.yShape, w.hShape = [4]int{d.T, d.D, d.B, d.H}, [3]int{d.D, d.B, d.H}
	} else {
		w.yShape, w.hShape = [4]int{d.B, d.T, d.D, d.H}, [3]int{d.B, d.D, d.H}
	}
	yShape, hShape := w.yShape[:], w.hShape[:]
	out.Y, out.Yh, out.Yc = nil, nil, nil
	if out.WantY {
		out.Y = alloc.get(graph.Float32, yShape)
		clear(out.Y.F32)
	}
	if out.WantYh {
		out.Yh = alloc.get(graph.Float32, hShape)
	}
	if out.WantYc && op == graph.OpLSTM {
		out.Yc = alloc.get(graph.Float32, hShape)
	}
}

// gatherX copies X's valid steps into packed order, reversing each row's
// valid steps for the reverse direction.
func (w *rnnWork) gatherX(x *graph.Tensor, d rnnDims, reverse bool) {
	pk, I := &w.pack, d.I
	for t := range pk.Steps() {
		for b := range pk.Active[t] {
			ob, l := w.order[b], w.lens[b]
			s := t
			if reverse {
				s = l - 1 - t
			}
			src := d.xIndex(ob, s) * I
			dst := pk.Index(b, t) * I
			copy(w.xp[dst:dst+I], x.F32[src:src+I])
		}
	}
}

// runLSTM runs direction dir of an LSTM on the packed input. ONNX's bias
// holds Wb and Rb; the packed kernel takes their sum.
func (w *rnnWork) runLSTM(in rnnInputs, d rnnDims, dir int) {
	I, H, G := d.I, d.H, d.gates*d.H
	h0 := w.gatherState(in.H0, &w.h0, d, dir)
	c0 := w.gatherState(in.C0, &w.c0, d, dir)
	var bias, peep []float32
	if in.B != nil {
		bw := in.B.F32[dir*8*H : (dir+1)*8*H]
		w.bias = grow(w.bias, 4*H)
		for j := range w.bias {
			w.bias[j] = bw[j] + bw[4*H+j]
		}
		bias = w.bias
	}
	if in.P != nil {
		peep = in.P.F32[dir*3*H : (dir+1)*3*H]
	}
	wt := ops.LSTMWeights{I: I, H: H, W: in.W.F32[dir*G*I : (dir+1)*G*I], R: in.R.F32[dir*G*H : (dir+1)*G*H], B: bias, P: peep}
	ops.LSTMForward(&w.pack, wt, w.xp, h0, c0, w.yp, w.hT, w.cT, &w.lstm)
}

// runGRU runs direction dir of a GRU on the packed input.
func (w *rnnWork) runGRU(in rnnInputs, a rnnAttrs, d rnnDims, dir int) {
	I, H, G := d.I, d.H, d.gates*d.H
	h0 := w.gatherState(in.H0, &w.h0, d, dir)
	var bias []float32
	if in.B != nil {
		bias = in.B.F32[dir*6*H : (dir+1)*6*H]
	}
	wt := ops.GRUWeights{I: I, H: H, W: in.W.F32[dir*G*I : (dir+1)*G*I], R: in.R.F32[dir*G*H : (dir+1)*G*H], B: bias,
		LinearBeforeReset: a.LinearBeforeReset}
	ops.GRUForward(&w.pack, wt, w.xp, h0, w.yp, w.hT, &w.gru)
}

// scatter copies direction dir's packed results back to the original rows
// and steps of the wanted outputs.
func (w *rnnWork) scatter(out *rnnOutputs, d rnnDims, dir int, reverse bool) {
	pk, H := &w.pack, d.H
	if out.Y != nil {
		for t := range pk.Steps() {
			for b := range pk.Active[t] {
				ob, l := w.order[b], w.lens[b]
				s := t
				if reverse {
					s = l - 1 - t
				}
				src := pk.Index(b, t) * H
				dst := d.yIndex(ob, s, dir) * H
				copy(out.Y.F32[dst:dst+H], w.yp[src:src+H])
			}
		}
	}
	for b, ob := range w.order {
		dst := d.hIndex(ob, dir) * H
		if out.Yh != nil {
			copy(out.Yh.F32[dst:dst+H], w.hT[b*H:(b+1)*H])
		}
		if out.Yc != nil {
			copy(out.Yc.F32[dst:dst+H], w.cT[b*H:(b+1)*H])
		}
	}
}

// gatherState copies direction dir of an initial state [D, B, H] (layout 0)
// or [B, D, H] (layout 1) into *buf in packed row order; nil stays nil.
func (w *rnnWork) gatherState(s *graph.Tensor, buf *[]float32, d rnnDims, dir int) []float32 {
	if s == nil {
		return nil
	}
	H := d.H
	*buf = grow(*buf, d.B*H)
	for b, ob := range w.order {
		src := d.hIndex(ob, dir) * H
		copy((*buf)[b*H:(b+1)*H], s.F32[src:src+H])
	}
	return *buf
}

// xIndex is the row of X holding (row b, step s).
func (d rnnDims) xIndex(b, s int) int {
	if d.layout == 0 {
		return s*d.B + b
	}
	return b*d.T + s
}

// yIndex is the row of Y holding (row b, step s, direction dir).
func (d rnnDims) yIndex(b, s, dir int) int {
	if d.layout == 0 {
		return (s*d.D+dir)*d.B + b
	}
	return (b*d.T+s)*d.D + dir
}

// hIndex is the row of Y_h, Y_c, initial_h or initial_c holding (row b,
// direction dir).
func (d rnnDims) hIndex(b, dir int) int {
	if d.layout == 0 {
		return dir*d.B + b
	}
	return b*d.D + dir
}

// checkRNN validates what the data decides about an LSTM's or GRU's
// inputs (element types, shapes, lengths) and returns the dimensions.
func checkRNN(op graph.Op, in rnnInputs, a rnnAttrs) (rnnDims, error) {
	d := rnnDims{gates: graph.LSTMGates, D: 1, layout: a.Layout}
	if op == graph.OpGRU {
		d.gates = graph.GRUGates
	}
	if a.Direction == graph.DirBidirectional {
		d.D = 2
	}
	for _, t := range []struct {
		name string
		t    *graph.Tensor
	}{{"X", in.X}, {"W", in.W}, {"R", in.R}, {"B", in.B}, {"initial_h", in.H0}, {"initial_c", in.C0}, {"P", in.P}} {
		if t.t != nil && t.t.DType != graph.Float32 {
			return d, fmt.Errorf("%s is %v; only float32 is supported", t.name, t.t.DType)
		}
	}
	if len(in.X.Shape) != 3 {
		return d, fmt.Errorf("X must have rank 3, found shape %s", graph.FormatShape(in.X.Shape))
	}
	if a.Layout == 0 {
		d.T, d.B, d.I = in.X.Shape[0], in.X.Shape[1], in.X.Shape[2]
	} else {
		d.B, d.T, d.I = in.X.Shape[0], in.X.Shape[1], in.X.Shape[2]
	}
	d.H = a.HiddenSize
	if d.H == 0 {
		if len(in.R.Shape) != 3 {
			return d, fmt.Errorf("R must have rank 3, found shape %s", graph.FormatShape(in.R.Shape))
		}
		d.H = in.R.Shape[2]
	}
	if d.H <= 0 {
		return d, fmt.Errorf("hidden_size must be positive, found %d", d.H)
	}
	if err := checkRNNShapes(in, d); err != nil {
		return d, err
	}
	return d, checkSeqLens(in.SeqLens, d.T)
}

// checkRNNShapes checks every given input has the shape d implies.
func checkRNNShapes(in rnnInputs, d rnnDims) error {
	g := d.gates
	want := func(name string, t *graph.Tensor, shape ...int) error {
		if t != nil && !slices.Equal(t.Shape, shape) {
			return fmt.Errorf("%s must have shape %s, found %s", name, graph.FormatShape(shape), graph.FormatShape(t.Shape))
		}
		return nil
	}
	state := []int{d.D, d.B, d.H}
	if d.layout == 1 {
		state = []int{d.B, d.D, d.H}
	}
	for _, err := range []error{
		want("W", in.W, d.D, g*d.H, d.I),
		want("R", in.R, d.D, g*d.H, d.H),
		want("B", in.B, d.D, 2*g*d.H),
		want("sequence_lens", in.SeqLens, d.B),
		want("initial_h", in.H0, state...),
		want("initial_c", in.C0, state...),
		want("P", in.P, d.D, 3*d.H),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkSeqLens checks sequence_lens, when given, holds int32 lengths in
// [0, T].
func checkSeqLens(s *graph.Tensor, T int) error {
	if s == nil {
		return nil
	}
	if s.DType != graph.Int32 {
		return fmt.Errorf("sequence_lens must be int32, found %v", s.DType)
	}
	for b, l := range s.I32 {
		if l < 0 || int(l) > T {
			return fmt.Errorf("sequence_lens[%d] = %d is outside [0, %d] (seq_length)", b, l, T)
		}
	}
	return nil
}
