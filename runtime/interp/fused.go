package interp

// The fused recurrent classifier: the standard shape of a sequence
// classifier exported from another framework,
//
//	[Transpose [1, 0, 2]] → LSTM or GRU (forward) → Y_h → Squeeze or Reshape
//	  → Gemm, or MatMul → Add  [→ Sigmoid or Softmax]
//
// is recognised when the plan is made (fuse) and runs as one step. Its
// recurrent part runs on ops.RNNRows, which splits one packed batch's rows
// across the cores and steps a range's rows through the cell at once: a
// small hidden size leaves too little work in a step of one row, or in one
// GEMM per step, for anything but overhead to show. The Transpose is not
// run: the recurrent node reads the caller's batch-first tensor in place.
// The head runs on its own nodes' kernels, inline.
//
// Its results are the unfused plan's, bit for bit: the rows are sorted and
// dealt into parts as recurrent does, ops.RNNRows gives each part
// ops.LSTMForward's or ops.GRUForward's bits, and the head is the same
// kernels on the same values. Inputs the recurrent node would refuse run
// the original steps instead, so that errors are the unfused plan's too.

import (
	"fmt"
	goruntime "runtime"
	"sync"
	"sync/atomic"

	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/spin"
	"github.com/trnn/trnn/ops"
)

// fuseClassifiers turns fusion on; tests turn it off to compare.
var fuseClassifiers = true

// fusedKernel is a recognised classifier. Its operands are what its steps
// read from outside it and the last step's outputs.
type fusedKernel struct {
	operands
	rnn        *recurrentKernel
	x          int  // slot of the tensor the recurrent node reads as X, before any Transpose
	batchFirst bool // x is [B, T, I]: the Transpose was absorbed (the node has layout 0), or layout 1
	head       []step
	all        []step // every original step, in order: the fallback
	internal   []int  // slots made and dropped inside the step
	works      sync.Pool

	// A stack (fusedstack.go): lower are the recurrent layers below rnn,
	// bottom first, and squeeze[l] the Squeeze above lower[l]; stackX and
	// stackBatchFirst are the bottom layer's x and batchFirst. lowerSteps
	// are the steps before rnn's, upper the rest: the unfused layers
	// below, then the one-layer classifier, when the stack cannot run as
	// one step.
	lower           []*recurrentKernel
	squeeze         []*squeezeKernel
	stackX          int
	stackBatchFirst bool
	lowerSteps      []step
	upper           []step
}

// placedError is an error already prefixed with the node it belongs to.
type placedError struct{ error }

// fusedWork is one call's workspace: the row order and parts of recurrent,
// and one ops.RNNRows per part and one scratch per range of rows.
type fusedWork struct {
	rnn     rnnWork
	rows    []ops.RNNRows
	scratch []ops.RowScratch
	ranges  [][3]int      // part, first row, end row
	x       *graph.Tensor // the call's X, while it runs
	d       rnnDims
	next    atomic.Int64 // the next range to run
	pending atomic.Int32 // workers but the caller not yet done
	panics  [fusedMaxWorkers]any
	yhShape [3]int
	xView   graph.Tensor // X's shape as the absorbed Transpose would give it, no data
	stack   stackWork
}

func (k *fusedKernel) run(st *state) error {
	w, _ := k.works.Get().(*fusedWork)
	if w == nil {
		w = new(fusedWork)
	}
	defer k.works.Put(w)
	rest := k.all
	if len(k.lower) > 0 {
		if fused, err := k.runStack(st, w); fused {
			return err
		}
		if err := k.runLower(st); err != nil {
			return err
		}
		rest = k.upper
	}
	in, a, d, err := k.prepare(st, w)
	if err != nil {
		return k.runSteps(st, rest)
	}
	yh := st.alloc.get(graph.Float32, k.yhShape(d, &w.yhShape))
	w.run(k.rnn.op, in, a, d, yh.F32)
	st.vals[k.rnn.out[1]] = yh
	return k.runSteps(st, k.head)
}

// prepare reads the recurrent node's operands as the fused step runs it
// and checks them as the node would: an error means the original steps
// must run. With the Transpose absorbed, X is the batch-first tensor: it
// is checked as the Transpose's output (its shape permuted), then read
// with layout 1, where a single direction's states lie as in layout 0.
func (k *fusedKernel) prepare(st *state, w *fusedWork) (rnnInputs, rnnAttrs, rnnDims, error) {
	r := k.rnn
	in := rnnInputs{X: st.vals[k.x], W: r.arg(st, 1), R: r.arg(st, 2), B: r.arg(st, 3), SeqLens: r.arg(st, 4), H0: r.arg(st, 5),
		WT: r.wT, RT: r.rT, RP: r.rP}
	if r.op == graph.OpLSTM {
		in.C0, in.P = r.arg(st, 6), r.arg(st, 7)
	}
	a := r.attrs
	check := in
	if k.batchFirst && a.Layout == 0 {
		if len(in.X.Shape) != 3 {
			return in, a, rnnDims{}, fmt.Errorf("X must have rank 3")
		}
		s := in.X.Shape
		w.xView = graph.Tensor{DType: in.X.DType, Shape: append(w.xView.Shape[:0], s[1], s[0], s[2])}
		check.X = &w.xView
	}
	d, err := checkRNN(r.op, check, a)
	if k.batchFirst {
		a.Layout, d.layout = 1, 1
	}
	return in, a, d, err
}

// yhShape is Y_h's shape as the recurrent node gives it, in buf: the
// allocator's caller keeps no new slice.
func (k *fusedKernel) yhShape(d rnnDims, buf *[3]int) []int {
	*buf = [3]int{1, d.B, d.H}
	if k.rnn.attrs.Layout == 1 {
		*buf = [3]int{d.B, 1, d.H}
	}
	return buf[:]
}

// runSteps runs steps as execute would, then drops the values made inside
// the fused step. Errors carry the failing node's name.
func (k *fusedKernel) runSteps(st *state, steps []step) error {
	err := runPlaced(st, steps)
	k.drop(st)
	return err
}

// runLower runs the layers below a stack's top unfused, keeping the
// values they make for the steps that follow; on an error it drops them.
func (k *fusedKernel) runLower(st *state) error {
	err := runPlaced(st, k.lowerSteps)
	if err != nil {
		k.drop(st)
	}
	return err
}

// runPlaced runs steps as execute would, up to the first error, which
// carries the failing node's name.
func runPlaced(st *state, steps []step) error {
	for _, s := range steps {
		if err := s.run(st); err != nil {
			return placedError{fmt.Errorf("%s: %v", s.where, err)}
		}
	}
	return nil
}

// drop drops the values made inside the fused step.
func (k *fusedKernel) drop(st *state) {
	for _, slot := range k.internal {
		if t := st.vals[slot]; t != nil {
			st.put(t)
			st.vals[slot] = nil
		}
	}
}

// run computes Y_h (D = 1: [B, H] in either layout) into yh.
func (w *fusedWork) run(op graph.Op, in rnnInputs, a rnnAttrs, d rnnDims, yh []float32) {
	P := rnnParts(in.SeqLens, d)
	w.rnn.sortRows(in.SeqLens, d, P)
	if cap(w.rows) < P {
		w.rows = make([]ops.RNNRows, P)
	}
	w.rows = w.rows[:P]
	var bias []float32
	if op == graph.OpLSTM {
		bias = w.rnn.lstmBias(in.B, d.H, 0)
	}
	for i := range w.rnn.parts {
		w.start(i, op, in, a, d, bias)
	}
	workers := w.split(d)
	w.x, w.d = in.X, d
	w.next.Store(0)
	w.pending.Store(int32(workers - 1))
	for i := 1; i < workers; i++ {
		if !handOff(spin.Task{Run: rangesTask, Arg: w, I: i, Done: &w.pending}, true) {
			go w.workOff(i)
		}
	}
	w.work(0)
	spin.Wait(&w.pending)
	w.x = nil
	w.rethrow()
	for i := range w.rnn.parts {
		p := &w.rnn.parts[i]
		hT := p.hT[:len(p.order)*d.H]
		w.rows[i].Finish(nil, hT, nil)
		for b, ob := range p.order {
			copy(yh[ob*d.H:(ob+1)*d.H], hT[b*d.H:(b+1)*d.H])
		}
	}
}

// start gathers part i's initial states and starts its layer. Its input is
// gathered here only when the layer needs all of it at once; else each
// range gathers its own rows (runRange).
func (w *fusedWork) start(i int, op graph.Op, in rnnInputs, a rnnAttrs, d rnnDims, bias []float32) {
	p := &w.rnn.parts[i]
	startRows(&w.rows[i], p, op, in, a, d, bias, p.xp, &p.h0, &p.c0)
	if w.rows[i].WholeInput() {
		gatherRows(p, in.X, d, 0, len(p.order))
		w.rows[i].InputProduct()
	}
}

// startRows starts rows on one layer over part p's packing: x its packed
// input, bias its summed LSTM bias (lstmBias), h0 and c0 where its initial
// states are gathered in p's row order.
func startRows(rows *ops.RNNRows, p *rnnPart, op graph.Op, in rnnInputs, a rnnAttrs, d rnnDims, bias, x []float32, h0, c0 *[]float32) {
	h := p.gatherState(in.H0, h0, d, 0)
	I, H, G := d.I, d.H, d.gates*d.H
	wT, rT := in.transposes(G, I, H, 0)
	if op == graph.OpLSTM {
		c := p.gatherState(in.C0, c0, d, 0)
		var peep []float32
		if in.P != nil {
			peep = in.P.F32[:3*H]
		}
		wt := ops.LSTMWeights{I: I, H: H, W: in.W.F32, R: in.R.F32, B: bias, P: peep, WT: wT, RT: rT, RP: in.panels(G, H, 0)}
		rows.StartLSTM(&p.pack, wt, x, h, c)
		return
	}
	var b []float32
	if in.B != nil {
		b = in.B.F32
	}
	wt := ops.GRUWeights{I: I, H: H, W: in.W.F32, R: in.R.F32, B: b, LinearBeforeReset: a.LinearBeforeReset, WT: wT, RT: rT, RP: in.panels(G, H, 0)}
	rows.StartGRU(&p.pack, wt, x, h)
}

// fusedMinRangeFlops is the least work (multiply-adds of the input and
// recurrent products) worth a goroutine of its own; below it the hand-off
// costs more than it saves. It is lower than rnnMinPartFlops: a range
// shares its part's input product and packing, so a hand-off costs less.
// fusedRangesPerWorker and fusedMinRangeRows say how finely the rows are
// cut for the workers to share.
const (
	fusedMinRangeFlops   = 1 << 18
	fusedRangesPerWorker = 2
	fusedMinRangeRows    = 16
	fusedMaxWorkers      = 64
)

// split deals the rows into ranges and returns how many workers run them:
// each part whole when there are several (one per core already); else the
// one part's rows cut at even rows into ranges of about equal Σ lengths,
// several per worker, so that a worker that starts late (a goroutine
// takes a while to wake) takes fewer of them rather than hold up the call.
func (w *fusedWork) split(d rnnDims) (workers int) {
	w.ranges = w.ranges[:0]
	if len(w.rnn.parts) > 1 {
		for i, p := range w.rnn.parts {
			w.ranges = append(w.ranges, [3]int{i, 0, len(p.order)})
		}
		w.sizeRanges()
		return min(len(w.ranges), fusedMaxWorkers)
	}
	p := &w.rnn.parts[0]
	N, B := p.pack.N(), len(p.order)
	workers = max(1, min(goruntime.GOMAXPROCS(0), fusedMaxWorkers, B/2, N*d.gates*d.H*(d.I+d.H)/fusedMinRangeFlops))
	n := 1
	if workers > 1 {
		n = max(workers, min(fusedRangesPerWorker*workers, B/fusedMinRangeRows))
	}
	start, acc := 0, 0
	for b, l := range p.lens {
		acc += l + 1
		if len(w.ranges) < n-1 && b%2 == 1 && acc*n >= (N+B)*(len(w.ranges)+1) {
			w.ranges = append(w.ranges, [3]int{0, start, b + 1})
			start = b + 1
		}
	}
	w.ranges = append(w.ranges, [3]int{0, start, B})
	w.sizeRanges()
	return workers
}

// sizeRanges gives every range a scratch.
func (w *fusedWork) sizeRanges() {
	n := len(w.ranges)
	if cap(w.scratch) < n {
		w.scratch = append(w.scratch[:cap(w.scratch)], make([]ops.RowScratch, n-cap(w.scratch))...)
	}
	w.scratch = w.scratch[:n]
}

// workOff is worker i on a goroutine of its own (i ≥ 1), when every
// helper is busy: it counts the worker done, as the helper's task does
// (rangesTask). The caller is worker 0, and waits for the others spinning.
func (w *fusedWork) workOff(i int) {
	defer w.pending.Add(-1)
	w.work(i)
}

// work is worker i: it runs ranges until none is left. A panic (a bug) is
// kept for rethrow.
func (w *fusedWork) work(i int) {
	defer func() {
		if r := recover(); r != nil {
			w.panics[i] = r
		}
	}()
	for {
		j := int(w.next.Add(1)) - 1
		if j >= len(w.ranges) {
			return
		}
		w.runRange(j)
	}
}

// runRange runs range i: gathers its rows' input when the layer reads it
// range by range, and steps them.
func (w *fusedWork) runRange(i int) {
	r := w.ranges[i]
	rows := &w.rows[r[0]]
	if !rows.WholeInput() {
		gatherRows(&w.rnn.parts[r[0]], w.x, w.d, r[1], r[2])
	}
	rows.RunRows(r[1], r[2], &w.scratch[i])
}

// gatherRows is rnnPart.gatherX (forward) for rows r0..r1−1 of part p
// only; rows of other ranges are other packed rows.
func gatherRows(p *rnnPart, x *graph.Tensor, d rnnDims, r0, r1 int) {
	I, off := d.I, p.pack.Offset
	for b := r0; b < r1; b++ {
		ob := p.order[b]
		for t := range p.lens[b] {
			s := d.xIndex(ob, t) * I
			src := x.F32[s : s+I : s+I]
			o := (off[t] + b) * I
			dst := p.xp[o : o+I : o+I]
			for j := range dst {
				dst[j] = src[j]
			}
		}
	}
}

// rethrow panics on the caller's goroutine with the first panic of a
// worker.
func (w *fusedWork) rethrow() {
	for i, p := range w.panics {
		w.panics[i] = nil
		if p != nil {
			clear(w.panics[:])
			panic(p)
		}
	}
}
