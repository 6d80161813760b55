package runtime

import (
	"fmt"

	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/ops"
)

// newSeqNode binds a sequence-form graph node to its kernel. addValue
// registers a value name and returns its index.
func newSeqNode(m *Model, n *graph.Node, addValue func(string) (int, error)) (seqNode, error) {
	if len(n.Inputs) == 0 || len(n.Outputs) != 1 {
		return nil, fmt.Errorf("runtime: node %s (%s): want inputs and one output", n.Name, n.Op)
	}
	in, err := addValue(n.Inputs[0])
	if err != nil {
		return nil, err
	}
	out, err := addValue(n.Outputs[0])
	if err != nil {
		return nil, err
	}
	params := make([]int, len(n.Inputs)-1)
	for i, name := range n.Inputs[1:] {
		pi, ok := m.plan.paramIdx[name]
		if !ok {
			return nil, fmt.Errorf("runtime: node %s (%s): input %q is not a parameter", n.Name, n.Op, name)
		}
		params[i] = pi
	}
	io := nodeIO{name: n.Name, in: in, out: out, params: params}
	// The head's ops belong to the objective (the losses work on the
	// logits), so the trainer has no node for them.
	info := graph.Info(n.Op)
	if info == nil || info.Seq == nil || isHeadOp(n.Op) {
		return nil, fmt.Errorf("runtime: node %s: op %s cannot be trained", n.Name, n.Op)
	}
	if k := len(info.Seq.Params); len(params) != k {
		return nil, fmt.Errorf("runtime: node %s (%s): %d parameters, want %d (%v)", n.Name, n.Op, len(params), k, info.Seq.Params)
	}
	pl := m.plan
	I, W := pl.widths[in], pl.widths[out]
	switch n.Op {
	case graph.OpLSTM:
		return &lstmNode{nodeIO: io, I: I, H: W}, nil
	case graph.OpGRU:
		lbr := n.Attrs["linear_before_reset"].Int
		return &gruNode{nodeIO: io, I: I, H: W, lbr: lbr != 0}, nil
	case graph.OpDense:
		return &denseNode{nodeIO: io, I: I, K: W}, nil
	case graph.OpNormalize:
		return &normalizeNode{nodeIO: io, F: I}, nil
	case graph.OpPreprocess:
		return newPreprocessNode(io, n)
	case graph.OpDropout:
		return &dropoutNode{nodeIO: io, rate: n.Attrs["rate"].Float, width: W}, nil
	}
	panic("unreachable")
}

// nodeIO is what every node knows: its value and parameter indices.
type nodeIO struct {
	name    string
	in, out int   // value indices
	params  []int // graph parameter indices
}

// param returns parameter j's values and, when trainable, the shard's
// gradient slice for it (nil otherwise).
func (io *nodeIO) param(m *Model, s *shard, j int) (v, grad []float32) {
	i := io.params[j]
	v = m.paramData(i)
	if sl := m.plan.params[i]; sl.trainable && s != nil {
		grad = s.dtrain[sl.off : sl.off+sl.size : sl.off+sl.size]
	}
	return v, grad
}

// inGrad is the gradient buffer of the node's input, nil for the graph
// input x (whose gradient nobody needs).
func (io *nodeIO) inGrad(s *shard) []float32 { return s.grad[io.in] }

// ---- LSTM

type lstmNode struct {
	nodeIO
	I, H int
}

func (n *lstmNode) weights(m *Model) ops.LSTMWeights {
	W, _ := n.param(m, nil, 0)
	R, _ := n.param(m, nil, 1)
	B, _ := n.param(m, nil, 2)
	return ops.LSTMWeights{I: n.I, H: n.H, W: W, R: R, B: B}
}

func (n *lstmNode) newState(rows, N int, train bool) any {
	c := new(ops.LSTMCache)
	if train { // an inference cache sizes its forward part on first use
		c.Reserve(rows, N, n.I, n.H)
	}
	return c
}

func (n *lstmNode) forward(m *Model, s *shard, st any, train bool) {
	ops.LSTMForward(&s.pk, n.weights(m), s.act[n.in], nil, nil, s.act[n.out], nil, nil, st.(*ops.LSTMCache))
}

func (n *lstmNode) backward(m *Model, s *shard, st any) {
	_, dW := n.param(m, s, 0)
	_, dR := n.param(m, s, 1)
	_, dB := n.param(m, s, 2)
	ops.LSTMBackward(&s.pk, n.weights(m), s.act[n.in], st.(*ops.LSTMCache), s.grad[n.out], nil, nil,
		ops.LSTMGrads{DX: n.inGrad(s), DW: dW, DR: dR, DB: dB})
}

// ---- GRU

type gruNode struct {
	nodeIO
	I, H int
	lbr  bool
}

func (n *gruNode) weights(m *Model) ops.GRUWeights {
	W, _ := n.param(m, nil, 0)
	R, _ := n.param(m, nil, 1)
	B, _ := n.param(m, nil, 2)
	return ops.GRUWeights{I: n.I, H: n.H, W: W, R: R, B: B, LinearBeforeReset: n.lbr}
}

func (n *gruNode) newState(rows, N int, train bool) any {
	c := new(ops.GRUCache)
	if train {
		c.Reserve(rows, N, n.I, n.H)
	}
	return c
}

func (n *gruNode) forward(m *Model, s *shard, st any, train bool) {
	ops.GRUForward(&s.pk, n.weights(m), s.act[n.in], nil, s.act[n.out], nil, st.(*ops.GRUCache))
}

func (n *gruNode) backward(m *Model, s *shard, st any) {
	_, dW := n.param(m, s, 0)
	_, dR := n.param(m, s, 1)
	_, dB := n.param(m, s, 2)
	ops.GRUBackward(&s.pk, n.weights(m), s.act[n.in], st.(*ops.GRUCache), s.grad[n.out], nil,
		ops.GRUGrads{DX: n.inGrad(s), DW: dW, DR: dR, DB: dB})
}

// ---- Dense (the head, at every step)

type denseNode struct {
	nodeIO
	I, K int
}

func (n *denseNode) weights(m *Model) ops.DenseWeights {
	W, _ := n.param(m, nil, 0)
	B, _ := n.param(m, nil, 1)
	return ops.DenseWeights{I: n.I, K: n.K, W: W, B: B}
}

func (n *denseNode) newState(rows, N int, train bool) any { return nil }

func (n *denseNode) forward(m *Model, s *shard, _ any, train bool) {
	ops.DenseForward(n.weights(m), s.act[n.in], s.act[n.out])
}

func (n *denseNode) backward(m *Model, s *shard, _ any) {
	_, dW := n.param(m, s, 0)
	_, dB := n.param(m, s, 1)
	ops.DenseBackward(n.weights(m), s.act[n.in], s.grad[n.out], ops.DenseGrads{DX: n.inGrad(s), DW: dW, DB: dB})
}

// ---- Normalize (fitted statistics, not trained)

type normalizeNode struct {
	nodeIO
	F int
}

func (n *normalizeNode) newState(rows, N int, train bool) any { return nil }

func (n *normalizeNode) forward(m *Model, s *shard, _ any, train bool) {
	mean, _ := n.param(m, nil, 0)
	std, _ := n.param(m, nil, 1)
	ops.NormalizeForward(mean, std, s.act[n.in], s.act[n.out])
}

func (n *normalizeNode) backward(m *Model, s *shard, _ any) {
	if dx := n.inGrad(s); dx != nil {
		std, _ := n.param(m, nil, 1)
		ops.NormalizeBackward(std, s.grad[n.out], dx)
	}
}

// ---- Dropout (training only; identity at inference)

type dropoutNode struct {
	nodeIO
	rate  float32
	width int
}

// dropoutState is a shard's dropout mask [N·W].
type dropoutState struct{ mask []float32 }

func (n *dropoutNode) newState(rows, N int, train bool) any {
	if !train {
		return nil // inference is the identity
	}
	return &dropoutState{mask: make([]float32, N*n.width)}
}

func (n *dropoutNode) forward(m *Model, s *shard, st any, train bool) {
	x, y := s.act[n.in], s.act[n.out]
	if !train || n.rate == 0 {
		copy(y, x)
		return
	}
	ds := st.(*dropoutState)
	ops.DropoutForward(n.rate, s.rng, x, y, ds.mask[:len(x)])
}

func (n *dropoutNode) backward(m *Model, s *shard, st any) {
	dx := n.inGrad(s)
	if dx == nil {
		return
	}
	if n.rate == 0 {
		addTo(dx, s.grad[n.out])
		return
	}
	ds := st.(*dropoutState)
	ops.DropoutBackward(ds.mask[:len(dx)], s.grad[n.out], dx)
}

// addTo adds src to dst elementwise.
func addTo(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}
