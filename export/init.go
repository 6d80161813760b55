package export

// Weights from ONNX: an imported model's constants become a compiled
// graph's parameters, for fine-tuning and warm starts.
//
// Shape legend: F features, H hidden units, K labels.

import (
	"fmt"
	"slices"

	"github.com/trnn/trnn/graph"
)

// InitParams copies the weights of an imported ONNX model src (a
// tensor-form graph, as ReadONNX returns) into the parameters of dst (a
// sequence-form graph compiled from a spec), writing dst's parameter
// tensors in place. The two must have the same architecture: the same
// recurrent layers in the same order (ONNX LSTM or GRU nodes, forward
// direction, with constant W, R and B), then a head that is a Gemm
// (weights [K, H] with transB = 1, or [H, K] with transB = 0) or a MatMul
// by [H, K] followed by an Add of [K]. LSTM biases are summed (Wb + Rb), as
// the graph keeps one bias per gate. When src normalises its input with Sub
// and Div by [F] constants (trnn's exports do), those statistics are copied
// too; when it does not and dst normalises, dst's statistics become mean 0
// and std 1, so that dst computes what src computes. Errors start with
// file and name the node that does not fit; dst may then hold some of
// src's values already.
func InitParams(file string, src, dst *graph.Graph) error {
	if err := initParams(src, dst); err != nil {
		return fmt.Errorf("%s: %v", file, err)
	}
	return nil
}

func initParams(src, dst *graph.Graph) error {
	if src.Form != graph.FormTensor {
		return fmt.Errorf("export: InitParams reads an imported (tensor-form) graph, got %v form", src.Form)
	}
	if dst.Form != graph.FormSequence {
		return fmt.Errorf("export: InitParams writes a compiled (sequence-form) graph, got %v form", dst.Form)
	}
	// The lookups below rely on dst's invariants (arity, parameters).
	if err := graph.Verify(dst); err != nil {
		return fmt.Errorf("export: InitParams: %s", firstError(err))
	}
	if have, want := headKind(src), headKind(dst); have != want {
		return fmt.Errorf("is a model of %s, the spec's outputs are %s; --init takes the weights of a model with the same kind of head", have, want)
	}
	c := newInitCopy(src, dst)
	var mine, theirs []*graph.Node
	for _, n := range dst.Nodes {
		if n.Op == graph.OpLSTM || n.Op == graph.OpGRU {
			mine = append(mine, n)
		}
	}
	for _, n := range src.Nodes {
		if n.Op == graph.OpLSTM || n.Op == graph.OpGRU {
			theirs = append(theirs, n)
		}
	}
	if len(mine) != len(theirs) {
		return fmt.Errorf("has %d recurrent layers, the spec has %d", len(theirs), len(mine))
	}
	if len(theirs) == 0 {
		return fmt.Errorf("has no recurrent layer to take weights from")
	}
	for i, n := range mine {
		if err := c.recurrent(n, theirs[i]); err != nil {
			return err
		}
	}
	if err := c.head(theirs[len(theirs)-1]); err != nil {
		return err
	}
	c.targetStats()
	return c.stats()
}

// headKind names the kind of head a graph has, in the spec's words:
// "targets" when its output is values, "classes" when a Softmax computes
// its output, "labels" (sigmoid) otherwise.
func headKind(g *graph.Graph) string {
	for _, v := range g.Outputs {
		if v.Name == graph.ValueValues {
			return "targets"
		}
	}
	for _, n := range g.Nodes {
		if n.Op == graph.OpSoftmax {
			return "classes"
		}
	}
	return "labels"
}

// targetStats copies the target statistics of a regression head whose
// spec standardises its targets, from the initializers of those names
// (trnn's exports), or makes them the identity when src has none.
func (c *initCopy) targetStats() {
	for _, n := range c.dst.Nodes {
		if n.Op != graph.OpDenormalize {
			continue
		}
		mean, std := c.param(n, "mean"), c.param(n, "std")
		clear(mean)
		for i := range std {
			std[i] = 1
		}
		m, s := c.constant(input(n, 1)), c.constant(input(n, 2))
		if m != nil && s != nil && len(m.F32) == len(mean) && len(s.F32) == len(std) {
			copy(mean, m.F32)
			copy(std, s.F32)
		}
	}
}

// initCopy holds the lookups of one InitParams: names resolve in maps,
// since an imported model may have many constants.
type initCopy struct {
	src, dst *graph.Graph
	consts   map[string]*graph.Tensor // src's initializers and Constant outputs
	params   map[string]*graph.Param  // dst's parameters
}

func newInitCopy(src, dst *graph.Graph) *initCopy {
	c := &initCopy{src: src, dst: dst, consts: map[string]*graph.Tensor{}, params: map[string]*graph.Param{}}
	for _, p := range src.Params {
		c.consts[p.Name] = p.Tensor
	}
	for _, n := range src.Nodes {
		if n.Op != graph.OpConstant || len(n.Outputs) != 1 {
			continue
		}
		if a, ok := n.Attrs["value"]; ok && a.Kind == graph.AttrTensor {
			if _, seen := c.consts[n.Outputs[0]]; !seen {
				c.consts[n.Outputs[0]] = a.Tensor
			}
		}
	}
	for _, p := range dst.Params {
		c.params[p.Name] = p
	}
	return c
}

// constant returns the float32 tensor src holds under name (an initializer
// or a Constant's output), else nil.
func (c *initCopy) constant(name string) *graph.Tensor {
	if t := c.consts[name]; t != nil && t.DType == graph.Float32 {
		return t
	}
	return nil
}

// param returns the data of dst's node n's parameter in the given role,
// one of its op's graph.SeqRule.Params.
func (c *initCopy) param(n *graph.Node, role string) []float32 {
	i := slices.Index(graph.Info(n.Op).Seq.Params, role)
	return c.params[n.Inputs[1+i]].Tensor.F32
}

// input is node n's input i, or "" when absent.
func input(n *graph.Node, i int) string {
	if i < len(n.Inputs) {
		return n.Inputs[i]
	}
	return ""
}

// recurrent copies src's recurrent node o into dst's node n.
func (c *initCopy) recurrent(n, o *graph.Node) error {
	if o.Op != n.Op {
		return fmt.Errorf("node %q is %s, the spec's layer %s is %s", o.Name, o.Op, n.Name, n.Op)
	}
	if d, ok := o.Attrs["direction"]; ok && d.String != graph.DirForward {
		return fmt.Errorf("node %q: direction %s, only forward layers can initialise the spec's", o.Name, d.String)
	}
	if n.Op == graph.OpGRU && o.Attrs[graph.AttrNameLinearBeforeReset].Int != 1 {
		return fmt.Errorf("node %q: GRU with linear_before_reset = 0; trnn trains the linear_before_reset = 1 form", o.Name)
	}
	if len(o.Inputs) > 7 && o.Inputs[7] != "" {
		return fmt.Errorf("node %q: LSTM peepholes are not part of the spec's layers", o.Name)
	}
	// Both forms take x, W, R, B in this order.
	for k := 1; k <= 2; k++ {
		dst := c.params[n.Inputs[k]].Tensor.F32
		t := c.constant(input(o, k))
		if t == nil || len(t.F32) != len(dst) {
			return fmt.Errorf("node %q: input %d (%s) is not a float32 constant of %d values, as the spec's %s", o.Name, k, input(o, k), len(dst), n.Inputs[k])
		}
		copy(dst, t.F32)
	}
	B := c.param(n, "B")
	clear(B)
	name := input(o, 3)
	if name == "" {
		return nil
	}
	t := c.constant(name)
	switch {
	case t == nil:
		return fmt.Errorf("node %q: bias %s is not a float32 constant", o.Name, name)
	case n.Op == graph.OpLSTM && len(t.F32) == 2*len(B):
		for j := range B {
			B[j] = t.F32[j] + t.F32[len(B)+j]
		}
	case n.Op == graph.OpGRU && len(t.F32) == len(B):
		copy(B, t.F32)
	default:
		return fmt.Errorf("node %q: bias %s has %d values, want %d", o.Name, name, len(t.F32), 2*len(B))
	}
	return nil
}

// head finds src's head after its last recurrent node and copies its
// weights into dst's head, the Dense node that computes the logits:
// W [K, H] and b [K].
func (c *initCopy) head(last *graph.Node) error {
	var dense *graph.Node
	for _, n := range c.dst.Nodes {
		if n.Op == graph.OpDense && n.Outputs[0] == graph.ValueLogits {
			dense = n
		}
	}
	if dense == nil {
		return fmt.Errorf("export: the spec's graph has no head computing %s", graph.ValueLogits)
	}
	W, b := c.param(dense, "W"), c.param(dense, "b")
	K := len(b)
	H := len(W) / K
	for i := len(c.src.Nodes) - 1; i >= 0; i-- {
		n := c.src.Nodes[i]
		if n == last {
			break
		}
		var done bool
		var err error
		switch n.Op {
		case graph.OpGemm:
			done, err = c.headGemm(n, W, b, K, H)
		case graph.OpMatMul:
			done = c.headMatMul(n, W, b, K, H)
		}
		if done || err != nil {
			return err
		}
	}
	return fmt.Errorf("no head found after node %q: expected a Gemm with weights [%d, %d] (or [%d, %d] with transB = 0), or a MatMul by [%d, %d]", last.Name, K, H, H, K, H, K)
}

// headGemm copies a Gemm head; it reports false when n's weights do not
// have the head's size (another Gemm, to be skipped).
func (c *initCopy) headGemm(n *graph.Node, W, b []float32, K, H int) (bool, error) {
	wt := c.constant(input(n, 1))
	if wt == nil || len(wt.F32) != K*H || len(wt.Shape) != 2 {
		return false, nil
	}
	transB := n.Attrs["transB"].Int != 0
	if transB && (wt.Shape[0] != K || wt.Shape[1] != H) || !transB && (wt.Shape[0] != H || wt.Shape[1] != K) {
		return true, fmt.Errorf("node %q: head weights of shape %v (transB=%v), want [%d, %d] for %d labels and %d units", n.Name, wt.Shape, transB, K, H, K, H)
	}
	copyHead(W, wt.F32, K, H, transB)
	clear(b)
	if name := input(n, 2); name != "" {
		bt := c.constant(name)
		if bt == nil || len(bt.F32) != K {
			return true, fmt.Errorf("node %q: head bias %s is not a float32 constant of %d values", n.Name, name, K)
		}
		copy(b, bt.F32)
	}
	if a := n.Attrs["alpha"]; a.Kind != 0 && a.Float != 1 {
		return true, fmt.Errorf("node %q: Gemm alpha %v; the head needs alpha 1", n.Name, a.Float)
	}
	return true, nil
}

// headMatMul copies a MatMul head by [H, K] and the bias an Add of a [K]
// constant to its output holds; it reports false for another MatMul.
func (c *initCopy) headMatMul(n *graph.Node, W, b []float32, K, H int) bool {
	wt := c.constant(input(n, 1))
	if wt == nil || len(wt.Shape) != 2 || wt.Shape[0] != H || wt.Shape[1] != K {
		return false
	}
	copyHead(W, wt.F32, K, H, false)
	clear(b)
	for _, a := range c.src.Nodes {
		if a.Op != graph.OpAdd {
			continue
		}
		for j := 0; j < 2; j++ {
			if input(a, j) == n.Outputs[0] {
				if bt := c.constant(input(a, 1-j)); bt != nil && len(bt.F32) == K {
					copy(b, bt.F32)
				}
			}
		}
	}
	return true
}

// copyHead stores a head weight given as [K, H] (kh) or [H, K] into W [K, H].
func copyHead(W, src []float32, K, H int, kh bool) {
	if kh {
		copy(W, src)
		return
	}
	for k := 0; k < K; k++ {
		for h := 0; h < H; h++ {
			W[k*H+h] = src[h*K+k]
		}
	}
}

// stats copies normalisation statistics from Sub and Div nodes applied to
// src's first input, or makes dst's normalisation the identity when src
// has none.
func (c *initCopy) stats() error {
	var mean, std []float32
	var F int
	for _, in := range c.dst.Inputs {
		if in.Name == graph.ValueX && len(in.Shape) == 3 {
			F = in.Shape[2].Size
		}
	}
	for _, n := range c.dst.Nodes {
		if n.Op == graph.OpPreprocess {
			return c.preprocessStats(n)
		}
		if n.Op == graph.OpNormalize {
			mean, std = c.param(n, "mean"), c.param(n, "std")
			clear(mean)
			for i := range std {
				std[i] = 1
			}
		}
	}
	if len(c.src.Inputs) == 0 {
		return nil
	}
	sub, div := c.normalization(c.src.Inputs[0].Name, F)
	if sub == nil {
		return nil
	}
	if mean == nil {
		return fmt.Errorf("the model normalises its input (nodes %q, %q) but the spec has inputs.normalize: none", sub.Name, div.Name)
	}
	copy(mean, c.constant(input(sub, 1)).F32)
	copy(std, c.constant(input(div, 1)).F32)
	return nil
}

// normalization finds a Sub of an [F] constant from x followed by a Div by
// an [F] constant, or returns nils.
func (c *initCopy) normalization(x string, F int) (sub, div *graph.Node) {
	for _, n := range c.src.Nodes {
		if n.Op != graph.OpSub || input(n, 0) != x {
			continue
		}
		if mt := c.constant(input(n, 1)); mt == nil || len(mt.F32) != F {
			continue
		}
		for _, d := range c.src.Nodes {
			if d.Op != graph.OpDiv || input(d, 0) != n.Outputs[0] {
				continue
			}
			if st := c.constant(input(d, 1)); st == nil || len(st.F32) != F {
				continue
			}
			return n, d
		}
	}
	return nil, nil
}
