package runtime

import (
	"fmt"

	"github.com/trnn/trnn/graph"
)

// InitFrom copies the weights of an imported ONNX model (a tensor-form
// graph read from file) into m, for fine-tuning and warm starts. The model
// must have the same architecture: the same recurrent layers in the same
// order (ONNX LSTM or GRU nodes, forward direction, with constant W, R and
// B), then a head that is a Gemm (weights [K, H] with transB = 1, or [H, K]
// with transB = 0) or a MatMul by [H, K] followed by an Add of [K]. LSTM
// biases are summed (Wb + Rb), as the graph keeps one bias per gate. When
// the model normalises its input with Sub and Div by [F] constants (trnn's
// exports do), those statistics are copied too; when it does not and m
// normalises, m's statistics become mean 0 and std 1, so that m computes
// what the model computes. Errors name the file and the node that does
// not fit.
func (m *Model) InitFrom(file string, g *graph.Graph) error {
	if g.Form != graph.FormTensor {
		return fmt.Errorf("runtime: InitFrom needs an imported (tensor-form) graph")
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("%s: %s", file, fmt.Sprintf(format, a...))
	}
	var mine, theirs []*graph.Node
	for _, n := range m.prog.Graph.Nodes {
		if n.Op == graph.OpLSTM || n.Op == graph.OpGRU {
			mine = append(mine, n)
		}
	}
	for _, n := range g.Nodes {
		if n.Op == graph.OpLSTM || n.Op == graph.OpGRU {
			theirs = append(theirs, n)
		}
	}
	if len(mine) != len(theirs) {
		return fail("has %d recurrent layers, the spec has %d", len(theirs), len(mine))
	}
	for i, n := range mine {
		o := theirs[i]
		if o.Op != n.Op {
			return fail("node %q is %s, the spec's layer %s is %s", o.Name, o.Op, n.Name, n.Op)
		}
		if d, ok := o.Attrs["direction"]; ok && d.String != "forward" {
			return fail("node %q: direction %s, only forward layers can initialise the spec's", o.Name, d.String)
		}
		if n.Op == graph.OpGRU && o.Attrs["linear_before_reset"].Int != 1 {
			return fail("node %q: GRU with linear_before_reset = 0; trnn trains the linear_before_reset = 1 form", o.Name)
		}
		if len(o.Inputs) > 7 && o.Inputs[7] != "" {
			return fail("node %q: LSTM peepholes are not part of the spec's layers", o.Name)
		}
		W, R, B := m.Param(n.Inputs[1]), m.Param(n.Inputs[2]), m.Param(n.Inputs[3])
		for j, dst := range [][]float32{W, R} {
			t := constant(g, input(o, j+1))
			if t == nil || t.DType != graph.Float32 || len(t.F32) != len(dst) {
				return fail("node %q: input %d (%s) is not a float32 constant of %d values, as the spec's %s", o.Name, j+1, input(o, j+1), len(dst), n.Inputs[j+1])
			}
			copy(dst, t.F32)
		}
		clear(B)
		if name := input(o, 3); name != "" {
			t := constant(g, name)
			if t == nil || t.DType != graph.Float32 {
				return fail("node %q: bias %s is not a float32 constant", o.Name, name)
			}
			switch {
			case n.Op == graph.OpLSTM && len(t.F32) == 2*len(B):
				for j := range B {
					B[j] = t.F32[j] + t.F32[len(B)+j]
				}
			case n.Op == graph.OpGRU && len(t.F32) == len(B):
				copy(B, t.F32)
			default:
				return fail("node %q: bias %s has %d values, want %d", o.Name, name, len(t.F32), 2*len(B))
			}
		}
	}
	if err := m.initHead(g, theirs[len(theirs)-1]); err != nil {
		return fmt.Errorf("%s: %v", file, err)
	}
	return m.initStats(file, g)
}

// initHead finds the model's head after the last recurrent node and copies
// its weights into head.W [K, H] and head.b [K].
func (m *Model) initHead(g *graph.Graph, last *graph.Node) error {
	W, b := m.Param("head.W"), m.Param("head.b")
	K := len(b)
	H := len(W) / K
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
		if n == last {
			break
		}
		switch n.Op {
		case graph.OpGemm:
			wt := constant(g, input(n, 1))
			if wt == nil || wt.DType != graph.Float32 || len(wt.F32) != K*H || len(wt.Shape) != 2 {
				continue
			}
			transB := n.Attrs["transB"].Int != 0
			if transB && (wt.Shape[0] != K || wt.Shape[1] != H) || !transB && (wt.Shape[0] != H || wt.Shape[1] != K) {
				return fmt.Errorf("node %q: head weights of shape %v (transB=%v), want [%d, %d] for %d labels and %d units", n.Name, wt.Shape, transB, K, H, K, H)
			}
			copyHead(W, wt.F32, K, H, transB)
			clear(b)
			if name := input(n, 2); name != "" {
				bt := constant(g, name)
				if bt == nil || bt.DType != graph.Float32 || len(bt.F32) != K {
					return fmt.Errorf("node %q: head bias %s is not a float32 constant of %d values", n.Name, name, K)
				}
				copy(b, bt.F32)
			}
			if a := n.Attrs["alpha"]; a.Kind != 0 && a.Float != 1 {
				return fmt.Errorf("node %q: Gemm alpha %v; the head needs alpha 1", n.Name, a.Float)
			}
			return nil
		case graph.OpMatMul:
			wt := constant(g, input(n, 1))
			if wt == nil || wt.DType != graph.Float32 || len(wt.Shape) != 2 || wt.Shape[0] != H || wt.Shape[1] != K {
				continue
			}
			copyHead(W, wt.F32, K, H, false)
			clear(b)
			// The bias is an Add of a [K] constant to the MatMul's output.
			for _, a := range g.Nodes {
				if a.Op != graph.OpAdd {
					continue
				}
				for j := 0; j < 2; j++ {
					if input(a, j) == n.Outputs[0] {
						if bt := constant(g, input(a, 1-j)); bt != nil && bt.DType == graph.Float32 && len(bt.F32) == K {
							copy(b, bt.F32)
						}
					}
				}
			}
			return nil
		}
	}
	return fmt.Errorf("no head found after node %q: expected a Gemm with weights [%d, %d] (or [%d, %d] with transB = 0), or a MatMul by [%d, %d]", last.Name, K, H, H, K, H, K)
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

// initStats copies normalisation statistics from Sub and Div nodes applied
// to the model's first input, or makes m's normalisation the identity when
// the model has none.
func (m *Model) initStats(file string, g *graph.Graph) error {
	mean, std := m.Param("inputs.mean"), m.Param("inputs.std")
	if mean != nil {
		clear(mean)
		for i := range std {
			std[i] = 1
		}
	}
	if len(g.Inputs) == 0 {
		return nil
	}
	x := g.Inputs[0].Name
	for _, n := range g.Nodes {
		if n.Op != graph.OpSub || input(n, 0) != x {
			continue
		}
		mt := constant(g, input(n, 1))
		if mt == nil || mt.DType != graph.Float32 || len(mt.F32) != m.plan.F {
			continue
		}
		for _, d := range g.Nodes {
			if d.Op != graph.OpDiv || input(d, 0) != n.Outputs[0] {
				continue
			}
			st := constant(g, input(d, 1))
			if st == nil || st.DType != graph.Float32 || len(st.F32) != m.plan.F {
				continue
			}
			if mean == nil {
				return fmt.Errorf("%s: the model normalises its input (nodes %q, %q) but the spec has inputs.normalize: none", file, n.Name, d.Name)
			}
			copy(mean, mt.F32)
			copy(std, st.F32)
			return nil
		}
	}
	return nil
}

// input is node n's input i, or "" when absent.
func input(n *graph.Node, i int) string {
	if i < len(n.Inputs) {
		return n.Inputs[i]
	}
	return ""
}

// constant returns the tensor a name holds when it is an initializer or the
// output of a Constant node, else nil.
func constant(g *graph.Graph, name string) *graph.Tensor {
	if name == "" {
		return nil
	}
	if p := g.Param(name); p != nil {
		return p.Tensor
	}
	for _, n := range g.Nodes {
		if n.Op == graph.OpConstant && len(n.Outputs) == 1 && n.Outputs[0] == name {
			if a, ok := n.Attrs["value"]; ok && a.Kind == graph.AttrTensor {
				return a.Tensor
			}
		}
	}
	return nil
}
