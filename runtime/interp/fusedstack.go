package interp

// The fused classifier over a stack of recurrent layers,
//
//	[Transpose] → LSTM or GRU → Y → Squeeze [1] → … → LSTM or GRU → Y_h → head
//
// as trnn exports a model of several layers, and as PyTorch exports one
// with num_layers > 1 once its h_n[i] reads layer i's Y_h (unconcatStates),
// runs as one step: the rows are sorted and packed once,
// into the parts recurrent deals them into, and every layer of a part
// reads the packed output of the one below, without the padded Y, the
// Squeeze and the gathering between them.
//
// A batch of several parts runs its parts at once, each part's layers one
// after another. With one part (a few rows), a layer's steps would leave a
// core idle: one row's steps cannot be split, as each reads the one
// before. The layers can: layer l's step t needs only layer l−1's steps up
// to t. So the layers run at once, one goroutine each, each following the
// one below (ops.RNNRows.Follow). The layer below also computes most of
// the input products of the one above (ops.RNNRows.Feed), which would
// otherwise make the upper layer's core the slower one. The upper layers
// run on helpers (helper.go).
//
// The bits are the unfused plan's: the stack runs only when every layer
// deals the rows into the same parts, and ops.RNNRows, following a layer
// or not, gives ops.LSTMForward's and ops.GRUForward's bits on a part's
// rows. Calls the stack does not take (layers in different parts, an
// input the nodes would refuse) run the layers below unfused, then the
// top one as the one-layer classifier.

import (
	goruntime "runtime"
	"slices"
	"sync/atomic"

	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/spin"
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
	pending      atomic.Int32 // layers, or parts, not yet done
	L            int          // layers in the stack
}

// stacksRun and stacksFollowed count the stacks run as one step, and
// those of them whose layers ran at once, for the tests.
var stacksRun, stacksFollowed atomic.Int64

// stackMaxLayers bounds the layers a stack runs at once; taller stacks run
// their layers unfused.
const stackMaxLayers = 16

// resize gives s room for P parts of L layers, allocating only when it
// has less.
func (s *stackWork) resize(P, L int) {
	if len(s.layers) < L {
		s.layers, s.prog, s.views = make([]stackLayer, L), make([]ops.Progress, L), make([]graph.Tensor, L)
		s.bias = make([][]float32, L)
	}
	if n := P * L; len(s.rows) < n {
		s.rows, s.scratch = make([]ops.RNNRows, n), make([]ops.RowScratch, n)
		s.h0, s.c0 = make([][]float32, n), make([][]float32, n)
	}
	if n := max(P, L); len(s.panics) < n {
		s.panics = make([]any, n)
	}
}

// layer is the stack's layer l, bottom first.
func (k *fusedKernel) layer(l int) *recurrentKernel {
	if l < len(k.lower) {
		return k.lower[l]
	}
	return k.rnn
}

// runStack runs the stack as one step, then the head, when the call
// allows (prepareStack); fused reports whether it did.
func (k *fusedKernel) runStack(st *state, w *fusedWork) (fused bool, err error) {
	P, follow, ok := k.prepareStack(st, w)
	if !ok {
		return false, nil
	}
	L := len(k.lower) + 1
	w.stack.L = L
	follow = w.startStack(P, L, follow)
	stacksRun.Add(1)
	top := w.stack.layers[L-1].d
	yh := st.alloc.get(graph.Float32, k.yhShape(top, &w.yhShape))
	if follow {
		stacksFollowed.Add(1)
		w.followStack(L)
	} else {
		w.runParts(P)
	}
	w.stackResult(P, L, top.H, yh.F32)
	st.vals[k.rnn.out[1]] = yh
	return true, k.runSteps(st, k.head)
}

// prepareStack reads and checks every layer's operands as its node would,
// and reports whether the stack runs as one step: every layer's rows in
// the same parts (rnnParts), so that each row's bits are the unfused
// plan's, and each Squeeze dropping Y's direction axis. It returns the
// number of parts, and whether the layers should run at once (follow):
// one part, two cores or more, and enough work above the bottom layer to
// pay for a second core.
func (k *fusedKernel) prepareStack(st *state, w *fusedWork) (P int, follow, ok bool) {
	L := len(k.lower) + 1
	if L > stackMaxLayers {
		return 0, false, false
	}
	s := &w.stack
	s.resize(goruntime.GOMAXPROCS(0), L)
	work := 0
	for l := range L {
		c, d, ok := k.checkLayer(st, w, l)
		if !ok || l > 0 && rnnParts(c.in.SeqLens, d) != P {
			return 0, false, false
		}
		P = rnnParts(c.in.SeqLens, d)
		if l == 0 && k.stackBatchFirst {
			c.a.Layout, d.layout = 1, 1
		}
		c.d = d
		s.layers[l] = c
		if l > 0 {
			work += stepsOf(c.in.SeqLens, d) * d.gates * d.H * (d.I + d.H)
		}
	}
	s.resize(P, L)
	return P, P == 1 && goruntime.GOMAXPROCS(0) > 1 && work >= fusedMinRangeFlops, true
}

// checkLayer reads layer l's operands and checks them as its node would:
// the bottom layer's X is the call's (through any absorbed Transpose), an
// upper layer's has the shape the layer below and its Squeeze give it.
func (k *fusedKernel) checkLayer(st *state, w *fusedWork, l int) (stackLayer, rnnDims, bool) {
	s := &w.stack
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
	} else if k.dropsDirection(st, l-1) {
		below := s.layers[l-1].d
		s.views[l] = graph.Tensor{DType: graph.Float32, Shape: append(s.views[l].Shape[:0], below.T, below.B, below.H)}
		check.X = &s.views[l]
	}
	if check.X == nil {
		return c, rnnDims{}, false
	}
	d, err := checkRNN(rk.op, check, c.a)
	return c, d, err == nil && d.D == 1
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

// startStack packs the rows into P parts once for every layer. With one
// part it starts the part's layers (startPart) and, when follow asks, readies
// them to follow each other; it reports whether they can: not when a layer
// above the bottom needs its whole input before its first step
// (ops.RNNRows.WholeInput). Several parts start their own, at once
// (runStackPart).
func (w *fusedWork) startStack(P, L int, follow bool) bool {
	s := &w.stack
	bottom := s.layers[0]
	w.rnn.sortRows(bottom.in.SeqLens, bottom.d, P)
	for l := range L {
		if c := &s.layers[l]; c.rk.op == graph.OpLSTM {
			summedBias(c.in.B, c.d.H, 0, &s.bias[l])
		}
	}
	if P > 1 {
		return false // each part starts its own layers (runStackPart)
	}
	w.startPart(0)
	if !follow {
		return false
	}
	for l := 1; l < L; l++ {
		if s.rows[l].WholeInput() {
			return false
		}
	}
	w.readyFollow(L)
	return true
}

// startPart gathers part i's input and starts each of its layers on the
// output of the one below.
func (w *fusedWork) startPart(i int) {
	s := &w.stack
	L := s.L
	p := &w.rnn.parts[i]
	bottom := &s.layers[0]
	gatherRows(p, bottom.in.X, bottom.d, 0, len(p.order))
	for l := range L {
		c, k := &s.layers[l], i*L+l
		x := p.xp
		if l > 0 {
			x = s.rows[k-1].Output()
		}
		var bias []float32
		if c.rk.op == graph.OpLSTM && c.in.B != nil {
			bias = s.bias[l]
		}
		startRows(&s.rows[k], p, c.rk.op, c.in, c.a, c.d, bias, x, &s.h0[k], &s.c0[k])
	}
}

// readyFollow makes each layer of the one part follow the layer below
// and compute some of the input products of the layer above.
func (w *fusedWork) readyFollow(L int) {
	s := &w.stack
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
}

// runParts runs each part's layers one after another, the parts at once:
// part 0 on the caller's goroutine, the others on helpers (a goroutine of
// their own when every helper is busy). Each part starts its own layers,
// so that a helper's wake-up overlaps the caller's start. The caller then
// waits spinning: woken from a wait group, it would start the head tens of
// microseconds late.
func (w *fusedWork) runParts(P int) {
	s := &w.stack
	if P == 1 {
		w.runStackPart(0, false) // started by startStack
		return
	}
	s.pending.Store(int32(P - 1))
	for i := 1; i < P; i++ {
		if !handOff(spin.Task{Run: stackPartTask, Arg: w, I: i, Done: &s.pending}, true) {
			go w.runPart(i)
		}
	}
	w.runStackPart(0, true)
	spin.Wait(&s.pending)
}

// runPart is runStackPart on a goroutine of its own, when every helper is
// busy: it counts the part done, as the helper's task does (stackPartTask).
func (w *fusedWork) runPart(i int) {
	defer w.stack.pending.Add(-1)
	w.runStackPart(i, true)
}

// runStackPart runs part i's layers, bottom first, having started them
// if start says. A panic (a bug) is kept for stackResult to raise on the
// caller's goroutine.
func (w *fusedWork) runStackPart(i int, start bool) {
	s := &w.stack
	defer func() { s.panics[i] = recover() }()
	if partHook != nil {
		partHook(i)
	}
	if start {
		w.startPart(i)
	}
	L := s.L
	rows := w.rnn.parts[i].pack.Rows()
	for l := range L {
		r := &s.rows[i*L+l]
		if r.WholeInput() {
			r.InputProduct()
		}
		r.RunRows(0, rows, &s.scratch[i*L+l])
	}
}

// partHook, when set (by tests), is called as part i begins.
var partHook func(i int)

// stackResult ends every part's layers and writes the top layer's final
// hidden states, in the caller's row order, to yh [B, H]; it raises the
// first panic of a layer or a part on the caller's goroutine.
func (w *fusedWork) stackResult(P, L, H int, yh []float32) {
	s := &w.stack
	if i := slices.IndexFunc(s.panics, func(r any) bool { return r != nil }); i >= 0 {
		// A part that panicked may not have started all its layers (each
		// part starts its own), so none is finished: each drops its links
		// and the call's data, for the next call to start afresh.
		for k := range P * L {
			s.rows[k].Abandon()
		}
		r := s.panics[i]
		clear(s.panics)
		panic(r)
	}
	for i := range P {
		p := &w.rnn.parts[i]
		p.hT = grow(p.hT, len(p.order)*H) // sized for the bottom layer
		for l := range L - 1 {
			s.rows[i*L+l].Finish(nil, nil, nil)
		}
		s.rows[i*L+L-1].Finish(nil, p.hT, nil)
	}
	for i := range P {
		p := &w.rnn.parts[i]
		for b, ob := range p.order {
			copy(yh[ob*H:(ob+1)*H], p.hT[b*H:(b+1)*H])
		}
	}
}

// followStack runs the one part's layers at once, those that no helper
// takes (handOff) on the caller's goroutine, bottom first.
func (w *fusedWork) followStack(L int) {
	s := &w.stack
	var mine [stackMaxLayers]bool
	s.pending.Store(int32(L))
	for l := 1; l < L; l++ {
		mine[l] = !handOff(spin.Task{Run: followLayerTask, Arg: w, I: l}, false)
	}
	for l := range L {
		if l == 0 || mine[l] {
			w.followLayer(l)
		}
	}
	spin.Wait(&s.pending)
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
