package runtime

import (
	"fmt"

	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/ops"
)

// ---- Preprocess (fitted statistics, not trained; reads x)

type preprocessNode struct {
	nodeIO
	p graph.Preprocess
}

func newPreprocessNode(io nodeIO, n *graph.Node) (*preprocessNode, error) {
	p, err := graph.PreprocessOf(n)
	if err != nil {
		return nil, fmt.Errorf("runtime: node %s (%s): %v", n.Name, n.Op, err)
	}
	return &preprocessNode{nodeIO: io, p: p}, nil
}

// preprocessState is a shard's forward-fill state [rows·F], nil without
// forward fill.
type preprocessState struct{ fill []float32 }

func (n *preprocessNode) newState(rows, N int, train bool) any {
	if n.p.Missing != graph.MissingForwardFill {
		return &preprocessState{}
	}
	return &preprocessState{fill: make([]float32, rows*len(n.p.Categories))}
}

func (n *preprocessNode) forward(m *Model, s *shard, st any, train bool) {
	mean, _ := n.param(m, nil, 0)
	std, _ := n.param(m, nil, 1)
	var fill []float32
	if ps := st.(*preprocessState); ps.fill != nil {
		fill = ps.fill[:s.pk.Rows()*len(n.p.Categories)]
	}
	ops.PreprocessForward(&s.pk, n.p, mean, std, s.act[n.in], s.act[n.out], fill)
}

// backward does nothing: the node reads the graph's input x, whose
// gradient nobody needs, and its statistics are fitted, not trained.
func (n *preprocessNode) backward(m *Model, s *shard, _ any) {}

// fitPreprocess fits the Preprocess node's statistics, when the graph has
// one, on the training split's observed values; ok is false without one.
func (t *Trainer) fitPreprocess() (ok bool, err error) {
	for _, n := range t.m.prog.Graph.Nodes {
		if n.Op != graph.OpPreprocess {
			continue
		}
		p, err := graph.PreprocessOf(n)
		if err != nil {
			return true, err
		}
		mean, std, err := ops.FitPreprocess(t.trainSet.X, p.Categories)
		if err != nil {
			return true, fmt.Errorf("%s: %v", t.trainSet.Source, err)
		}
		copy(t.m.Param(n.Inputs[1]), mean)
		copy(t.m.Param(n.Inputs[2]), std)
		return true, nil
	}
	return false, nil
}
