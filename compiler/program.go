package compiler

import "github.com/trnn/trnn/graph"

// Program is what the compiler hands to the runtime and the exporter: the
// resolved spec (every default filled in) and the graph lowered from it.
type Program struct {
	Spec  *Spec
	Graph *graph.Graph
	// Initialized says that the parameters hold values to train from or to
	// run: the seeded initial ones Initialize draws, or values whoever
	// built the Program put there (a checkpoint's, an ONNX model's, a
	// trained model's). Compile leaves it false, with every parameter
	// allocated but zero and the statistics at mean 0 and std 1: checking
	// a spec, or rebuilding a model whose weights come from a checkpoint,
	// must not pay for initialisers whose values nobody uses (an
	// orthogonal H×H matrix costs O(H³)).
	Initialized bool
}

// Initialize draws every parameter's initial values as its Init says,
// from the spec's training.seed (see InitParam), in place, and sets
// Initialized. Fitted statistics keep their values. The result depends only
// on the seed and each parameter's name and shape, so a fresh run starts
// from the same weights on every machine.
func (p *Program) Initialize() error {
	for _, q := range p.Graph.Params {
		if err := InitParam(q, p.Spec.Training.Seed); err != nil {
			return err
		}
	}
	p.Initialized = true
	return nil
}
