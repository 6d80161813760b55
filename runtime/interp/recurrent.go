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
// work is proportional to Σ lengths, not T·B. A large batch is dealt into
// parts, one per core, each packed and run on its own.

import (
	"fmt"
	goruntime "runtime"
	"slices"
	"sync"

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
// input. C0 and P are LSTM only. WT and RT are W's and R's directions
// transposed ([D, I, G] and [D, H, G]), or nil; RP is each direction of
// RT in ops.RecurrentPanels' layout, or nil.
type rnnInputs struct {
	X, W, R, B, SeqLens, H0, C0, P *graph.Tensor
	WT, RT, RP                     []float32
}

// rnnOutputs says which outputs are wanted and receives them.
type rnnOutputs struct {
	WantY, WantYh, WantYc bool
	Y, Yh, Yc             *graph.Tensor
}

// rnnWork is the reusable workspace of recurrent: the row order, the
// summed LSTM bias, and one rnnPart per group of rows run on its own core.
// The zero value is ready; it grows to the largest batch seen and is then
// reused without allocating, but for the goroutine of each extra part of a
// batch split across cores. One workspace serves one call at a time.
type rnnWork struct {
	order  []int     // [B] original row of each packed row, parts one after another
	orig   []int     // [B] lengths by original row
	bias   []float32 // [4H] LSTM Wb + Rb
	parts  []rnnPart
	call   rnnCall // the direction the parts run
	yShape [4]int
	hShape [3]int
	wg     sync.WaitGroup
}

// rnnPart is the packing, packed buffers and kernel caches of one group of
// rows. Its rows are every P-th of the rows sorted by descending length,
// so that the P parts get about the same rows and steps.
type rnnPart struct {
	pack   ops.Packing
	order  []int // [b] original row of each packed row: a window of rnnWork.order
	lens   []int // [b] lengths in packed order
	xp     []float32
	yp     []float32
	h0, c0 []float32 // [b, H] initial states in packed order
	hT, cT []float32 // [b, H] final states in packed order
	lstm   ops.LSTMCache
	gru    ops.GRUCache
	// panicked is what the part's goroutine recovered, for rethrowPanic.
	panicked any
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
// workspace of its own. A large batch is split into parts run on all cores
// at once (rnnParts); each row's result is then what a batch of the rows
// of its part gives.
func recurrent(op graph.Op, in rnnInputs, a rnnAttrs, out *rnnOutputs, work *rnnWork, alloc allocator) error {
	d, err := checkRNN(op, in, a)
	if err != nil {
		return err
	}
	if work == nil {
		work = new(rnnWork)
	}
	work.sortRows(in.SeqLens, d, rnnParts(in.SeqLens, d))
	work.allocOutputs(op, d, out, alloc)
	for dir := range d.D {
		c := rnnCall{op: op, in: in, a: a, d: d, out: *out, dir: dir}
		c.reverse = a.Direction == graph.DirReverse || dir == 1
		if op == graph.OpLSTM {
			c.bias = work.lstmBias(in.B, d.H, dir)
		}
		work.call = c
		for i := 1; i < len(work.parts); i++ {
			work.wg.Add(1)
			go work.runPart(i, true)
		}
		work.runPart(0, false)
		work.wg.Wait()
		work.rethrowPanic()
		work.call = rnnCall{} // holds the caller's tensors
	}
	return nil
}

// rnnCall is what every part of one direction of a call reads.
type rnnCall struct {
	op      graph.Op
	in      rnnInputs
	a       rnnAttrs
	d       rnnDims
	out     rnnOutputs // the tensors allocOutputs made
	dir     int
	reverse bool
	bias    []float32 // LSTM: lstmBias
}

// runPart runs part i of w.call: gathers its input, runs the kernel and
// scatters its rows of the outputs, which no other part writes. done: it
// runs on a goroutine of its own, which signals w.wg. A panic (a bug) is
// kept for rethrowPanic, so that it reaches the caller's goroutine once
// every part has stopped, rather than end the process.
func (w *rnnWork) runPart(i int, done bool) {
	defer func() {
		w.parts[i].panicked = recover()
		if done {
			w.wg.Done()
		}
	}()
	c, p := &w.call, &w.parts[i]
	p.gatherX(c.in.X, c.d, c.reverse)
	if c.op == graph.OpLSTM {
		p.runLSTM(c.in, c.d, c.dir, c.bias)
	} else {
		p.runGRU(c.in, c.a, c.d, c.dir)
	}
	p.scatter(&c.out, c.d, c.dir, c.reverse)
}

// rethrowPanic panics on the caller's goroutine with the first panic of a
// part run on another one.
// Every part's is cleared, so that none outlives the call.
func (w *rnnWork) rethrowPanic() {
	var first any
	for i := range w.parts {
		if first == nil {
			first = w.parts[i].panicked
		}
		w.parts[i].panicked = nil
	}
	if first != nil {
		panic(first)
	}
}

// rnnMinPartFlops is the least work (multiply-adds of the input and
// recurrent products) worth a core of its own: below it, handing a part to
// another goroutine costs more than it saves. rnnMinPartRows keeps parts
// large enough for the GEMM's many-row kernel.
const (
	rnnMinPartFlops = 1 << 21
	rnnMinPartRows  = 32
)

// rnnParts is how many parts a call is split into: one per core, as far as
// each gets rnnMinPartRows rows and rnnMinPartFlops of work.
func rnnParts(seqLens *graph.Tensor, d rnnDims) int {
	N := d.T * d.B
	if seqLens != nil {
		N = 0
		for _, l := range seqLens.I32 {
			N += int(l)
		}
	}
	work := N * d.gates * d.H * (d.I + d.H) * d.D
	return max(1, min(goruntime.GOMAXPROCS(0), d.B/rnnMinPartRows, work/rnnMinPartFlops))
}

// sortRows reads the lengths (T for every row without sequence_lens),
// sorts the rows stably by descending length, deals them round-robin into
// P parts and lays out each part's packing.
func (w *rnnWork) sortRows(seqLens *graph.Tensor, d rnnDims, P int) {
	B := d.B
	w.orig = slices.Grow(w.orig[:0], B)[:B]
	for b := range B {
		w.orig[b] = d.T
		if seqLens != nil {
			w.orig[b] = int(seqLens.I32[b])
		}
	}
	// order's second half holds the sorted rows while the first is dealt.
	buf := slices.Grow(w.order[:0], 2*B)[:2*B]
	sorted := buf[B:]
	w.order = buf[:B]
	for b := range sorted {
		sorted[b] = b
	}
	ops.SortByLength(sorted, w.length)
	if cap(w.parts) < P {
		w.parts = append(w.parts[:cap(w.parts)], make([]rnnPart, P-cap(w.parts))...)
	}
	w.parts = w.parts[:P]
	next := 0
	for i := range w.parts {
		p := &w.parts[i]
		start := next
		for j := i; j < B; j += P {
			w.order[next] = sorted[j]
			next++
		}
		p.order = w.order[start:next]
		p.lens = slices.Grow(p.lens[:0], len(p.order))[:len(p.order)]
		for b, ob := range p.order {
			p.lens[b] = w.orig[ob]
		}
		p.pack.Reset(p.lens)
		N := p.pack.N()
		p.xp = grow(p.xp, N*d.I)
		p.yp = grow(p.yp, N*d.H)
		p.hT = grow(p.hT, len(p.order)*d.H)
		p.cT = grow(p.cT, len(p.order)*d.H)
	}
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
func (w *rnnPart) gatherX(x *graph.Tensor, d rnnDims, reverse bool) {
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

// lstmBias is direction dir's bias for the packed kernel, which takes the
// sum of ONNX's Wb and Rb: nil without B.
func (w *rnnWork) lstmBias(B *graph.Tensor, H, dir int) []float32 {
	return summedBias(B, H, dir, &w.bias)
}

// summedBias is lstmBias into buf.
func summedBias(B *graph.Tensor, H, dir int, buf *[]float32) []float32 {
	if B == nil {
		return nil
	}
	bw := B.F32[dir*8*H : (dir+1)*8*H]
	*buf = grow(*buf, 4*H)
	b := *buf
	for j := range b {
		b[j] = bw[j] + bw[4*H+j]
	}
	return b
}

// runLSTM runs direction dir of an LSTM on the packed input, with bias
// from lstmBias.
func (w *rnnPart) runLSTM(in rnnInputs, d rnnDims, dir int, bias []float32) {
	I, H, G := d.I, d.H, d.gates*d.H
	h0 := w.gatherState(in.H0, &w.h0, d, dir)
	c0 := w.gatherState(in.C0, &w.c0, d, dir)
	var peep []float32
	if in.P != nil {
		peep = in.P.F32[dir*3*H : (dir+1)*3*H]
	}
	wt := ops.LSTMWeights{I: I, H: H, W: in.W.F32[dir*G*I : (dir+1)*G*I], R: in.R.F32[dir*G*H : (dir+1)*G*H], B: bias, P: peep}
	wt.WT, wt.RT = in.transposes(G, I, H, dir)
	wt.RP = in.panels(G, H, dir)
	ops.LSTMForward(&w.pack, wt, w.xp, h0, c0, w.yp, w.hT, w.cT, &w.lstm)
}

// runGRU runs direction dir of a GRU on the packed input.
func (w *rnnPart) runGRU(in rnnInputs, a rnnAttrs, d rnnDims, dir int) {
	I, H, G := d.I, d.H, d.gates*d.H
	h0 := w.gatherState(in.H0, &w.h0, d, dir)
	var bias []float32
	if in.B != nil {
		bias = in.B.F32[dir*6*H : (dir+1)*6*H]
	}
	wt := ops.GRUWeights{I: I, H: H, W: in.W.F32[dir*G*I : (dir+1)*G*I], R: in.R.F32[dir*G*H : (dir+1)*G*H], B: bias,
		LinearBeforeReset: a.LinearBeforeReset}
	wt.WT, wt.RT = in.transposes(G, I, H, dir)
	wt.RP = in.panels(G, H, dir)
	ops.GRUForward(&w.pack, wt, w.xp, h0, w.yp, w.hT, &w.gru)
}

// transposes returns direction dir's Wᵀ [I, G] and Rᵀ [H, G], or nils.
func (in *rnnInputs) transposes(G, I, H, dir int) (wT, rT []float32) {
	if in.WT == nil || len(in.WT) != len(in.W.F32) || len(in.RT) != len(in.R.F32) {
		return nil, nil
	}
	return in.WT[dir*G*I : (dir+1)*G*I], in.RT[dir*G*H : (dir+1)*G*H]
}

// panels returns direction dir's Rᵀ in panels, or nil.
func (in *rnnInputs) panels(G, H, dir int) []float32 {
	if in.RT == nil || len(in.RP) != len(in.RT) || len(in.RT) != len(in.R.F32) {
		return nil
	}
	return in.RP[dir*G*H : (dir+1)*G*H]
}

// transposeWeights keeps each direction's Wᵀ and Rᵀ when W and R are
// float32 constants [D, G, I] and [D, G, H], so that the kernels read them
// in place instead of packing W and R afresh at every call (and R at every
// step) of a large batch, and Rᵀ in panels for the steps of one row
// (panelDirs).
func (k *recurrentKernel) transposeWeights(consts []*graph.Tensor) {
	if len(k.in) < 3 || k.in[1] < 0 || k.in[2] < 0 {
		return
	}
	W, R := consts[k.in[1]], consts[k.in[2]]
	if W == nil || R == nil || W.DType != graph.Float32 || R.DType != graph.Float32 ||
		len(W.Shape) != 3 || len(R.Shape) != 3 || R.Shape[0] != W.Shape[0] || R.Shape[1] != W.Shape[1] {
		return
	}
	k.wT, k.rT = transposeDirs(W), transposeDirs(R)
	k.rP = panelDirs(k.rT, R.Shape[0], R.Shape[1], R.Shape[2])
}

// panelDirs lays out each direction's Rᵀ [H, G] of rT for the steps of one
// row (ops.RecurrentPanels), or returns nil where they would not read it.
func panelDirs(rT []float32, D, G, H int) []float32 {
	var p []float32
	for d := range D {
		pd := ops.RecurrentPanels(rT[d*G*H:(d+1)*G*H], H, G)
		if pd == nil {
			return nil
		}
		p = append(p, pd...)
	}
	return p
}

// transposeDirs transposes each [G, n] matrix of x [D, G, n].
func transposeDirs(x *graph.Tensor) []float32 {
	D, G, n := x.Shape[0], x.Shape[1], x.Shape[2]
	t := make([]float32, len(x.F32))
	for d := range D {
		src, dst := x.F32[d*G*n:(d+1)*G*n], t[d*G*n:(d+1)*G*n]
		for j := range G {
			for p, v := range src[j*n : (j+1)*n] {
				dst[p*G+j] = v
			}
		}
	}
	return t
}

// scatter copies direction dir's packed results back to the original rows
// and steps of the wanted outputs.
func (w *rnnPart) scatter(out *rnnOutputs, d rnnDims, dir int, reverse bool) {
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
func (w *rnnPart) gatherState(s *graph.Tensor, buf *[]float32, d rnnDims, dir int) []float32 {
	if s == nil {
		return nil
	}
	H := d.H
	*buf = grow(*buf, len(w.order)*H)
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
