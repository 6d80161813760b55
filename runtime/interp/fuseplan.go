package interp

import (
	"slices"

	"github.com/trnn/trnn/graph"
)

// Recognising the fused classifier (fused.go) in a plan's steps.

// stepGraph is who makes and who reads each slot among a plan's steps.
type stepGraph struct {
	steps    []step
	maker    []int   // [slot] the step that makes it, −1 for none
	readers  [][]int // [slot] the steps reading it, once per operand
	isOutput []bool
}

func newStepGraph(steps []step, nslots int, isOutput []bool) *stepGraph {
	g := &stepGraph{steps: steps, maker: make([]int, nslots), readers: make([][]int, nslots), isOutput: isOutput}
	for i := range g.maker {
		g.maker[i] = -1
	}
	for i, s := range steps {
		for _, slot := range s.slots().in {
			if slot >= 0 {
				g.readers[slot] = append(g.readers[slot], i)
			}
		}
		for _, slot := range s.slots().out {
			if slot >= 0 {
				g.maker[slot] = i
			}
		}
	}
	return g
}

// only is the one step reading slot, when slot is no graph output and
// exactly one operand reads it.
func (g *stepGraph) only(slot int) (int, bool) {
	if slot < 0 || g.isOutput[slot] || len(g.readers[slot]) != 1 {
		return -1, false
	}
	return g.readers[slot][0], true
}

// unread reports whether output k of a step is omitted or read by nobody.
func (g *stepGraph) unread(o *operands, k int) bool {
	return k >= len(o.out) || o.out[k] < 0 || (!g.isOutput[o.out[k]] && len(g.readers[o.out[k]]) == 0)
}

// fuse replaces each recognised classifier among the plan's steps by one
// fusedKernel step, at the place of its last step (every value its steps
// read from outside is defined by then; the values they pass each other
// have no other reader).
func (ip *Interpreter) fuse(steps []step, isOutput []bool) []step {
	if !fuseClassifiers {
		return steps
	}
	g := newStepGraph(steps, ip.nslots, isOutput)
	drop := make([]bool, len(steps))
	for r := range steps {
		idx, k := g.match(r)
		if idx == nil {
			continue
		}
		ip.finishFused(k, idx, steps)
		last := idx[len(idx)-1]
		for _, i := range idx {
			drop[i] = true
		}
		drop[last] = false
		steps[last] = step{kernel: k, where: steps[r].where}
	}
	var kept []step
	for i, s := range steps {
		if !drop[i] {
			kept = append(kept, s)
		}
	}
	return kept
}

// match recognises the classifier whose recurrent node is step r: the
// indices of its steps in order, and its kernel with the recurrent part
// and the head set, or nil.
func (g *stepGraph) match(r int) ([]int, *fusedKernel) {
	rk, ok := g.steps[r].kernel.(*recurrentKernel)
	if !ok || rk.attrs.Direction != graph.DirForward || len(rk.in) == 0 || rk.in[0] < 0 {
		return nil, nil
	}
	o := &rk.operands
	if !g.unread(o, 0) || !g.unread(o, 2) || len(o.out) < 2 {
		return nil, nil
	}
	k := &fusedKernel{rnn: rk, x: rk.in[0], batchFirst: rk.attrs.Layout == 1}
	idx := g.matchLower(k, r)
	bottom := rk
	if len(k.lower) > 0 {
		bottom = k.lower[0]
		k.stackX = bottom.in[0]
	}
	if t := g.maker[bottom.in[0]]; t >= 0 && bottom.attrs.Layout == 0 && g.isBatchFirstTranspose(t) {
		if _, one := g.only(bottom.in[0]); one {
			x := g.steps[t].slots().in[0]
			if len(k.lower) > 0 {
				k.stackX, k.stackBatchFirst = x, true
			} else {
				k.x, k.batchFirst = x, true
			}
			idx = append([]int{t}, idx...)
		}
	}
	idx = append(idx, r)
	head := g.matchHead(o.out[1])
	if head == nil {
		return nil, nil
	}
	return append(idx, head...), k
}

// matchLower recognises the recurrent layers stacked below step r's (a
// stack, fusedstack.go): each a forward LSTM or GRU in layout 0, with the
// same sequence_lens, whose Y only a Squeeze reads and whose Y_h and Y_c
// nobody reads, the Squeeze's output read only by the layer above, as its
// X. It records them in k and returns their steps, bottom first, each
// followed by its Squeeze.
func (g *stepGraph) matchLower(k *fusedKernel, r int) []int {
	var idx []int
	if k.rnn.attrs.Layout != 0 {
		return nil
	}
	for cur := r; ; {
		x := g.steps[cur].kernel.(*recurrentKernel).in[0]
		sq := g.maker[x]
		if reader, one := g.only(x); sq < 0 || !one || reader != cur {
			break
		}
		sk, ok := g.steps[sq].kernel.(*squeezeKernel)
		if !ok || sk.unsqueeze || len(sk.in) == 0 {
			break
		}
		l := g.maker[sk.in[0]]
		if reader, one := g.only(sk.in[0]); l < 0 || !one || reader != sq {
			break
		}
		lk, ok := g.steps[l].kernel.(*recurrentKernel)
		if !ok || !g.stacksUnder(lk, k.rnn, sk.in[0]) {
			break
		}
		k.lower = append([]*recurrentKernel{lk}, k.lower...)
		k.squeeze = append([]*squeezeKernel{sk}, k.squeeze...)
		idx = append([]int{l, sq}, idx...)
		cur = l
	}
	return idx
}

// stacksUnder reports whether lk, whose output y a Squeeze takes to a
// layer of top's stack, can run below it: forward, layout 0, Y (y) its
// only output read, and top's sequence_lens.
func (g *stepGraph) stacksUnder(lk, top *recurrentKernel, y int) bool {
	o := &lk.operands
	return lk.attrs.Direction == graph.DirForward && lk.attrs.Layout == 0 && len(o.in) > 0 && o.in[0] >= 0 &&
		len(o.out) > 0 && o.out[0] == y && g.unread(o, 1) && g.unread(o, 2) && seqLensSlot(lk) == seqLensSlot(top)
}

// seqLensSlot is the slot of a recurrent node's sequence_lens, −1 without.
func seqLensSlot(k *recurrentKernel) int {
	if len(k.in) > 4 {
		return k.in[4]
	}
	return -1
}

// isBatchFirstTranspose reports whether step t is a Transpose [1, 0, 2].
func (g *stepGraph) isBatchFirstTranspose(t int) bool {
	tk, ok := g.steps[t].kernel.(*transposeKernel)
	return ok && slices.Equal(tk.perm, []int64{1, 0, 2})
}

// matchHead recognises the steps from Y_h (slot yh) on: Squeeze,
// Reshape or Gather, Gemm or MatMul → Add, then Sigmoid or Softmax when they are
// the Gemm's only reader. It returns their indices, or nil.
func (g *stepGraph) matchHead(yh int) []int {
	sq, ok := g.only(yh)
	if !ok || g.steps[sq].slots().in[0] != yh || !g.isFlatten(sq) {
		return nil
	}
	h, ok := g.only(g.steps[sq].slots().out[0])
	if !ok || g.steps[h].slots().in[0] != g.steps[sq].slots().out[0] {
		return nil
	}
	idx := []int{sq, h}
	switch g.steps[h].kernel.(type) {
	case *gemmKernel:
	case *matMulKernel:
		add, ok := g.only(g.steps[h].slots().out[0])
		if bk, isAdd := g.steps[add].kernel.(*binaryKernel); !ok || !isAdd || bk.op != graph.OpAdd {
			return nil
		}
		idx, h = append(idx, add), add
	default:
		return nil
	}
	if act, ok := g.only(g.steps[h].slots().out[0]); ok && g.isActivation(act) {
		idx = append(idx, act)
	}
	return idx
}

// isFlatten reports whether step i is a Squeeze, a Reshape, or a Gather
// on axis 0 (PyTorch exports h_n[-1] so). The fused step runs it with its
// own kernel, so any index it takes gives the unfused result.
func (g *stepGraph) isFlatten(i int) bool {
	switch k := g.steps[i].kernel.(type) {
	case *squeezeKernel:
		return !k.unsqueeze
	case *reshapeKernel:
		return true
	case *gatherKernel:
		return k.axis == 0
	}
	return false
}

// isActivation reports whether step i is a Sigmoid or a Softmax.
func (g *stepGraph) isActivation(i int) bool {
	switch k := g.steps[i].kernel.(type) {
	case *unaryKernel:
		return k.op == graph.OpSigmoid
	case *softmaxKernel:
		return k.op == graph.OpSoftmax
	}
	return false
}

// finishFused sets k's steps (idx, in order), the slots made inside it and
// its operands, and readies its recurrent kernel as schedule readies the
// others: only Y_h is wanted; the fallback runs it on a workspace of the
// state; W and R are transposed once.
func (ip *Interpreter) finishFused(k *fusedKernel, idx []int, steps []step) {
	for _, s := range idx {
		k.all = append(k.all, steps[s])
	}
	for i, s := range k.all {
		if s.kernel == kernel(k.rnn) {
			k.head = k.all[i+1:]
			k.lowerSteps, k.upper = k.all[:i], k.all[i:]
		}
	}
	for _, lk := range k.lower {
		lk.want = [3]bool{true, false, false}
		lk.work = ip.nrnn
		ip.nrnn++
		lk.transposeWeights(ip.consts)
	}
	last := k.all[len(k.all)-1].slots()
	internal := map[int]bool{}
	for _, s := range k.all[:len(k.all)-1] {
		for _, slot := range s.slots().out {
			if slot >= 0 {
				internal[slot] = true
				k.internal = append(k.internal, slot)
			}
		}
	}
	for _, s := range k.all {
		for _, slot := range s.slots().in {
			if slot >= 0 && !internal[slot] {
				k.in = append(k.in, slot)
			}
		}
	}
	k.out = slices.Clone(last.out)
	k.rnn.want = [3]bool{false, true, false}
	k.rnn.work = ip.nrnn
	ip.nrnn++
	k.rnn.transposeWeights(ip.consts)
}

// PyTorch exports h_n[i] of a stack of layers (nn.LSTM or nn.GRU with
// num_layers > 1) as Gather(Concat(Y_h of every layer, axis 0), i): the
// lower layers' Y_h are read, and the top's reaches the head through the
// Concat, so the stack would not fuse. unconcatStates rewrites such a
// Gather to read layer i's Y_h itself, at index 0, when that is the same
// value with the same errors: the Concat has no other reader, its inputs
// are the Y_h of a chain of forward layers in layout 0 (each the one
// below's Y with the direction axis squeezed: one batch), each [1, batch,
// H] with one H, and i is a constant scalar inside [−L, L). The Concat,
// read by nobody then, is dropped with the rest. It returns isOutput grown
// to the slots it added.
func (p *planner) unconcatStates(steps []step, isOutput []bool) []bool {
	if !fuseClassifiers {
		return isOutput
	}
	g := newStepGraph(steps, p.ip.nslots, isOutput)
	for i, s := range steps {
		gk, ok := s.kernel.(*gatherKernel)
		if !ok || gk.axis != 0 || len(gk.in) != 2 || gk.in[0] < 0 || gk.in[1] < 0 {
			continue
		}
		c := g.maker[gk.in[0]]
		if reader, one := g.only(gk.in[0]); c < 0 || !one || reader != i {
			continue
		}
		ck, ok := steps[c].kernel.(*concatKernel)
		if !ok || ck.axis != 0 {
			continue
		}
		layers := g.stateChain(ck.in, p.ip.consts)
		j, ok := constIndex(p.ip.consts[gk.in[1]], len(layers))
		if layers == nil || !ok {
			continue
		}
		gk.in[0] = layers[j].out[1]
		gk.in[1] = p.constSlot(graph.NewTensor(p.ip.consts[gk.in[1]].DType)) // a scalar 0
		isOutput = append(isOutput, false)
	}
	return isOutput
}

// stateChain returns the recurrent layers whose Y_h the slots ys are, in
// order, when they form a chain as unconcatStates asks; nil otherwise.
func (g *stepGraph) stateChain(ys []int, consts []*graph.Tensor) []*recurrentKernel {
	var layers []*recurrentKernel
	H := -1
	for l, y := range ys {
		r := -1
		if y >= 0 {
			r = g.maker[y]
		}
		if r < 0 {
			return nil
		}
		rk, ok := g.steps[r].kernel.(*recurrentKernel)
		if !ok || len(rk.out) < 2 || rk.out[1] != y || rk.attrs.Direction != graph.DirForward || rk.attrs.Layout != 0 {
			return nil
		}
		h := hiddenSize(rk, consts)
		if h <= 0 || H >= 0 && h != H || l > 0 && !g.stacksOn(rk, layers[l-1], consts) {
			return nil
		}
		H = h
		layers = append(layers, rk)
	}
	return layers
}

// stacksOn reports whether rk's X is below's Y with its direction axis
// squeezed (axes a constant [1] or [−3]): X's batch is then below's.
func (g *stepGraph) stacksOn(rk, below *recurrentKernel, consts []*graph.Tensor) bool {
	if len(rk.in) == 0 || rk.in[0] < 0 || len(below.out) == 0 || below.out[0] < 0 {
		return false
	}
	sq := g.maker[rk.in[0]]
	if sq < 0 {
		return false
	}
	sk, ok := g.steps[sq].kernel.(*squeezeKernel)
	if !ok || sk.unsqueeze || len(sk.in) == 0 || sk.in[0] != below.out[0] {
		return false
	}
	axes := sk.axes
	if sk.fromInput {
		if len(sk.in) < 2 || sk.in[1] < 0 || consts[sk.in[1]] == nil {
			return false
		}
		var err error
		if axes, err = intsOf(consts[sk.in[1]], "axes"); err != nil {
			return false
		}
	}
	return len(axes) == 1 && (axes[0] == 1 || axes[0] == -3)
}

// hiddenSize is a recurrent node's hidden_size, or R's last dimension
// when R is a constant; 0 when neither is known.
func hiddenSize(rk *recurrentKernel, consts []*graph.Tensor) int {
	if rk.attrs.HiddenSize > 0 {
		return rk.attrs.HiddenSize
	}
	if len(rk.in) > 2 && rk.in[2] >= 0 {
		if r := consts[rk.in[2]]; r != nil && len(r.Shape) == 3 {
			return r.Shape[2]
		}
	}
	return 0
}

// constIndex reads a constant scalar index inside [−n, n), as Gather
// takes it, and returns it in [0, n).
func constIndex(t *graph.Tensor, n int) (int, bool) {
	if t == nil || len(t.Shape) != 0 || n == 0 {
		return 0, false
	}
	var i int64
	switch t.DType {
	case graph.Int64:
		i = t.I64[0]
	case graph.Int32:
		i = int64(t.I32[0])
	default:
		return 0, false
	}
	if i < -int64(n) || i >= int64(n) {
		return 0, false
	}
	return int((i + int64(n)) % int64(n)), true
}
