package interp

// The fused classifier over a stack of recurrent layers,
//
//	[Transpose] → LSTM or GRU → Y → Squeeze [1] → … → LSTM or GRU → Y_h → head
//
// as trnn exports a model of several layers, and PyTorch one of
// num_layers > 1. With few rows, a layer's steps leave a core idle: one
// row's steps cannot be split, as each reads the one before. The layers
// can: layer l's step t needs only layer l−1's steps up to t. So the
// layers run at once, one goroutine each, each following the one below
// (ops.RNNRows.Follow), on one packing and without the padded Y between
// them. The layer below also computes most of the input products of the
// one above (ops.RNNRows.Feed), which would otherwise make the upper
// layer's core the slower one. The upper layers run on helpers
// (helper.go).
//
// The bits are the unfused plan's: every layer runs on one part of the
// rows (as recurrent does when rnnParts is 1, which the stack requires of
// every layer), and ops.RNNRows following a layer gives ops.LSTMForward's
// and ops.GRUForward's bits on the same rows. Calls the stack does not
// take (more rows, one core, an input the nodes would refuse) run the
// layers below unfused, then the top one as the one-layer classifier.

import (
	goruntime "runtime"
	"slices"
	"sync/atomic"

	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/ops"
)

// stackLayer is one layer's call: its node, operands, attributes and
// dimensions.
type stackLayer struct {
	rk *recurrentKernel
	in rnnInputs
	a  rnnAttrs
	d  rnnDims
}

// stackWork is the workspace of a stack run at once, per layer.
type stackWork struct {
	layers       []stackLayer
	rows         []ops.RNNRows
	scratch      []ops.RowScratch
	prog         []ops.Progress
	h0, c0, bias [][]float32
	views        []graph.Tensor // the input shapes of the layers above the bottom, no data
	panics       []any
	pending      atomic.Int32 // layers not yet done
}

// stacksRun counts the stacks run at once, for the tests.
var stacksRun atomic.Int64

// stackMaxLayers bounds the layers a stack runs at once; taller stacks run
// their layers unfused.
const stackMaxLayers = 16

// resize gives s room for L layers, allocating only when it has less.
func (s *stackWork) resize(L int) {
	if len(s.layers) >= L {
		return
	}
	s.layers, s.rows, s.scratch = make([]stackLayer, L), make([]ops.RNNRows, L), make([]ops.RowScratch, L)
	s.prog, s.panics, s.views = make([]ops.Progress, L), make([]any, L), make([]graph.Tensor, L)
	s.h0, s.c0, s.bias = make([][]float32, L), make([][]float32, L), make([][]float32, L)
}

// layer is the stack's layer l, bottom first.
func (k *fusedKernel) layer(l int) *recurrentKernel {
	if l < len(k.lower) {
		return k.lower[l]
	}
	return k.rnn
}

// runStack runs the stack at once and then the head, when the call
// allows (prepareStack); fused reports whether it did.
func (k *fusedKernel) runStack(st *state, w *fusedWork) (fused bool, err error) {
	if !k.prepareStack(st, w) {
		return false, nil
	}
	s := &w.stack
	L := len(k.lower) + 1
	if !w.startStack(L) {
		return false, nil
	}
	stacksRun.Add(1)
	top := s.layers[L-1]
	yh := st.alloc.get(graph.Float32, k.yhShape(top.d, &w.yhShape))
	w.followStack(L, top.d.H, yh.F32)
	st.vals[k.rnn.out[1]] = yh
	return true, k.runSteps(st, k.head)
}

// prepareStack reads and checks every layer's operands as its node would,
// and reports whether the stack runs at once: on two cores or more, every
// layer on one part of the rows, each Squeeze dropping Y's direction axis,
// and enough work above the bottom layer to pay for a goroutine.
func (k *fusedKernel) prepareStack(st *state, w *fusedWork) bool {
	L := len(k.lower) + 1
	if goruntime.GOMAXPROCS(0) < 2 || L > stackMaxLayers {
		return false
	}
	s := &w.stack
	s.resize(L)
	work := 0
	for l := range L {
		rk := k.layer(l)
		c := stackLayer{rk: rk, a: rk.attrs, in: rnnInputs{W: rk.arg(st, 1), R: rk.arg(st, 2), B: rk.arg(st, 3), SeqLens: rk.arg(st, 4),
			H0: rk.arg(st, 5), WT: rk.wT, RT: rk.rT, RP: rk.rP}}
		if rk.op == graph.OpLSTM {
			c.in.C0, c.in.P = rk.arg(st, 6), rk.arg(st, 7)
		}
		check := c.in
		if l == 0 {
			c.in.X = st.vals[k.stackX]
			check.X = k.bottomView(c.in.X, w)
			if check.X == nil {
				return false
			}
		} else {
			below := s.layers[l-1].d
			if !k.dropsDirection(st, l-1) {
				return false
			}
			s.views[l] = graph.Tensor{DType: graph.Float32, Shape: append(s.views[l].Shape[:0], below.T, below.B, below.H)}
			check.X = &s.views[l]
		}
		d, err := checkRNN(rk.op, check, c.a)
		if err != nil || d.D != 1 || rnnParts(c.in.SeqLens, d) != 1 {
			return false
		}
		if l == 0 && k.stackBatchFirst {
			c.a.Layout, d.layout = 1, 1
		}
		c.d = d
		s.layers[l] = c
		if l > 0 {
			work += stepsOf(c.in.SeqLens, d) * d.gates * d.H * (d.I + d.H)
		}
	}
	return work >= fusedMinRangeFlops
}

// bottomView is the shape the bottom layer's node sees of X: X itself, or
// with the Transpose absorbed, X's shape permuted (no data); nil when X
// has not rank 3.
func (k *fusedKernel) bottomView(x *graph.Tensor, w *fusedWork) *graph.Tensor {
	if !k.stackBatchFirst {
		return x
	}
	if len(x.Shape) != 3 {
		return nil
	}
	s := x.Shape
	w.xView = graph.Tensor{DType: x.DType, Shape: append(w.xView.Shape[:0], s[1], s[0], s[2])}
	return &w.xView
}

// dropsDirection reports whether the Squeeze above layer l removes exactly
// Y's direction axis (1 of [T, D, B, H]).
func (k *fusedKernel) dropsDirection(st *state, l int) bool {
	sq := k.squeeze[l]
	axes := sq.axes
	if t := sq.arg(st, 1); sq.fromInput && t != nil {
		var err error
		if axes, err = intsOf(t, "axes"); err != nil {
			return false
		}
	}
	return len(axes) == 1 && (axes[0] == 1 || axes[0] == -3)
}

// stepsOf is the number of valid (row, step) pairs of a call.
func stepsOf(seqLens *graph.Tensor, d rnnDims) int {
	if seqLens == nil {
		return d.T * d.B
	}
	n := 0
	for _, l := range seqLens.I32 {
		n += int(l)
	}
	return n
}

// startStack packs the rows once for every layer, gathers the bottom
// layer's input and starts each layer on the output of the one below. It
// reports false, leaving nothing started, when a layer above the bottom
// needs its whole input before its first step (ops.RNNRows.WholeInput).
func (w *fusedWork) startStack(L int) bool {
	s := &w.stack
	bottom := s.layers[0]
	w.rnn.sortRows(bottom.in.SeqLens, bottom.d, 1)
	p := &w.rnn.parts[0]
	gatherRows(p, bottom.in.X, bottom.d, 0, len(p.order))
	ok := true
	for l := range L {
		c := &s.layers[l]
		x := p.xp
		if l > 0 {
			x = s.rows[l-1].Output()
		}
		var bias []float32
		if c.rk.op == graph.OpLSTM {
			bias = summedBias(c.in.B, c.d.H, 0, &s.bias[l])
		}
		startRows(&s.rows[l], p, c.rk.op, c.in, c.a, c.d, bias, x, &s.h0[l], &s.c0[l])
		ok = ok && (l == 0 || !s.rows[l].WholeInput())
	}
	if !ok {
		for l := range L {
			s.rows[l].Finish(nil, nil, nil)
		}
		return false
	}
	s.rows[0].InputProduct()
	for l := range L {
		s.prog[l].Reset()
		var src, out *ops.Progress
		if l > 0 {
			src = &s.prog[l-1]
		}
		if l < L-1 {
			out = &s.prog[l]
		}
		s.rows[l].Follow(src, out)
	}
	for l := range L - 1 {
		s.rows[l].Feed(&s.rows[l+1])
	}
	return true
}

// followStack runs the started layers at once, those that no helper
// takes (handOff) on the caller's goroutine, bottom first, and writes the
// top layer's final hidden states, in the caller's row order, to yh [B, H].
func (w *fusedWork) followStack(L, H int, yh []float32) {
	s := &w.stack
	var mine [stackMaxLayers]bool
	s.pending.Store(int32(L))
	for l := 1; l < L; l++ {
		mine[l] = !handOff(w, l)
	}
	for l := range L {
		if l == 0 || mine[l] {
			w.followLayer(l)
		}
	}
	// The caller waits spinning, not parked: a parked goroutine would
	// wait as long to be woken as a helper does (helper.go).
	for spins := 1; s.pending.Load() > 0; spins++ {
		if spins%4096 == 0 {
			goruntime.Gosched()
		}
	}
	p := &w.rnn.parts[0]
	p.hT = grow(p.hT, len(p.order)*H) // sized for the bottom layer
	hT := p.hT
	for l := range L - 1 {
		s.rows[l].Finish(nil, nil, nil)
	}
	s.rows[L-1].Finish(nil, hT, nil)
	if i := slices.IndexFunc(s.panics[:L], func(r any) bool { return r != nil }); i >= 0 {
		r := s.panics[i]
		clear(s.panics)
		panic(r)
	}
	for b, ob := range p.order {
		copy(yh[ob*H:(ob+1)*H], hT[b*H:(b+1)*H])
	}
}

// followLayer runs layer l over every row, on whichever goroutine, and
// counts it done. A panic (a bug) is kept for followStack to raise on the
// caller's goroutine, and stops the layers above rather than leave them
// waiting.
func (w *fusedWork) followLayer(l int) {
	s := &w.stack
	defer func() {
		if r := recover(); r != nil {
			s.panics[l] = r
			s.prog[l].Fail()
		}
		s.pending.Add(-1)
	}()
	s.rows[l].RunRows(0, w.rnn.parts[0].pack.Rows(), &s.scratch[l])
}
