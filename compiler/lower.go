package compiler

import (
	"fmt"

	"github.com/trnn/trnn/graph"
)

// CompileFile parses, validates and compiles the spec file at path.
func CompileFile(path string) (*Program, error) {
	spec, err := ParseFile(path)
	if err != nil {
		return nil, err
	}
	return Compile(spec)
}

// Compile validates spec and lowers it to a sequence-form graph, as
// docs/graph.md lays it out: parameters allocated (but not initialised:
// see Program.Initialize), every value's shape inferred and checked, and
// the result verified.
//
// Compile may run on a spec whose fields were changed after parsing
// (command-line overrides): it first completes what derives from other
// fields (generated names, CSV columns, the validation split a validation
// file replaces) and validates, so bad values are reported as errors, never
// compiled. The returned Program holds spec itself.
func Compile(spec *Spec) (*Program, error) {
	if spec == nil {
		return nil, fmt.Errorf("compiler: Compile: nil spec")
	}
	spec.complete("", spec.src)
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	g, err := lower(spec)
	if err != nil {
		return nil, err
	}
	vals, errs := graph.InferShapes(g)
	if errs != nil {
		return nil, fmt.Errorf("compiler: internal error: shape inference failed on the lowered graph:\n%v", errs)
	}
	g.Values = vals
	g.IndexParams()
	if err := graph.Verify(g); err != nil {
		return nil, fmt.Errorf("compiler: internal error: the lowered graph fails verification:\n%v", err)
	}
	return &Program{Spec: spec, Graph: g}, nil
}

// Names of the nodes, values and parameters lowering creates beyond the
// graph's inputs and outputs (graph.go), as docs/graph.md lists them.
const (
	NodeNormalize = "normalize"
	NodeHead      = "head"
	NodeSigmoid   = "sigmoid"
	NodeLast      = "last"
	// The heads of classes and targets, in place of the sigmoid.
	NodeSoftmax     = "softmax"
	NodeIdentity    = "identity"
	NodeDenormalize = "denormalize"
	// ParamTargetMean and ParamTargetStd are the training split's target
	// statistics of outputs.normalize_targets, fitted like inputs.mean.
	ParamTargetMean = "targets.mean"
	ParamTargetStd  = "targets.std"
	ValueXNorm      = "x_norm"
	ParamMean       = "inputs.mean"
	ParamStd        = "inputs.std"
	ParamHeadW      = "head.W"
	ParamHeadB      = "head.b"
)

// LayerNode is the name of the node of the spec's layer i ("layers.0"),
// LayerOutput its output ("layers.0.y") and LayerParam one of its
// parameters (LayerParam(0, "W") = "layers.0.W").
func LayerNode(i int) string               { return fmt.Sprintf("layers.%d", i) }
func LayerOutput(i int) string             { return LayerNode(i) + ".y" }
func LayerParam(i int, name string) string { return LayerNode(i) + "." + name }

// lower builds the graph of docs/graph.md from a valid spec.
func lower(s *Spec) (*graph.Graph, error) {
	F, K := s.Inputs.Features, s.Outputs.Width()
	batch, time := graph.Sym(graph.DimBatch), graph.Sym(graph.DimTime)
	g := &graph.Graph{
		Name: s.Name,
		Form: graph.FormSequence,
		Inputs: []graph.Value{
			{Name: graph.ValueX, DType: graph.Float32, Shape: graph.Shape{batch, time, graph.Fixed(F)}},
			{Name: graph.ValueLengths, DType: graph.Int32, Shape: graph.Shape{batch}},
		},
		Meta: map[string]string{},
	}
	param := func(name, init string, trainable bool, shape ...int) string {
		g.Params = append(g.Params, &graph.Param{Name: name, Tensor: graph.NewTensor(graph.Float32, shape...), Trainable: trainable, Init: init})
		return name
	}
	node := func(name string, op graph.Op, out string, attrs map[string]graph.Attr, inputs ...string) {
		g.Nodes = append(g.Nodes, &graph.Node{Name: name, Op: op, Inputs: inputs, Outputs: []string{out}, Attrs: attrs})
	}

	prev, width := graph.ValueX, F
	if s.Inputs.Preprocessed() {
		prev, width = lowerPreprocess(s, g, param, node)
	} else if s.Inputs.Normalize == NormalizeStandard {
		// The identity normalisation until statistics are fitted: an
		// uninitialised program must still be a model (std 0 is not).
		mean := param(ParamMean, InitFitted, false, F)
		std := param(ParamStd, InitFitted, false, F)
		std1 := g.Params[len(g.Params)-1].Tensor.F32
		for i := range std1 {
			std1[i] = 1
		}
		node(NodeNormalize, graph.OpNormalize, ValueXNorm, nil, prev, mean, std)
		prev = ValueXNorm
	}
	for i, l := range s.Layers {
		name, out := LayerNode(i), LayerOutput(i)
		H := l.Units
		switch l.Kind {
		case LayerLSTM:
			G := graph.LSTMGates
			node(name, graph.OpLSTM, out, map[string]graph.Attr{graph.AttrNameHiddenSize: {Kind: graph.AttrInt, Int: int64(H)}}, prev,
				param(LayerParam(i, "W"), InitGlorotUniform, true, G*H, width),
				param(LayerParam(i, "R"), InitOrthogonal, true, G*H, H),
				param(LayerParam(i, "B"), InitLSTMBias, true, G*H))
			width = H
		case LayerGRU:
			G := graph.GRUGates
			node(name, graph.OpGRU, out, map[string]graph.Attr{
				graph.AttrNameHiddenSize:        {Kind: graph.AttrInt, Int: int64(H)},
				graph.AttrNameLinearBeforeReset: {Kind: graph.AttrInt, Int: 1},
			}, prev,
				param(LayerParam(i, "W"), InitGlorotUniform, true, G*H, width),
				param(LayerParam(i, "R"), InitOrthogonal, true, G*H, H),
				param(LayerParam(i, "B"), InitZeros, true, 2*G*H))
			width = H
		case LayerDropout:
			node(name, graph.OpDropout, out, map[string]graph.Attr{graph.AttrNameRate: {Kind: graph.AttrFloat, Float: float32(l.Rate)}}, prev)
		default:
			return nil, fmt.Errorf("compiler: internal error: layer %d has kind %q after validation", i, l.Kind)
		}
		prev = out
	}
	node(NodeHead, graph.OpDense, graph.ValueLogits, nil, prev,
		param(ParamHeadW, InitGlorotUniform, true, K, width),
		param(ParamHeadB, InitZeros, true, K))
	step, last := lowerHead(s, g, param, node)
	g.Outputs = []graph.Value{
		{Name: graph.ValueLogits, DType: graph.Float32, Shape: graph.Shape{batch, time, graph.Fixed(K)}},
		{Name: step, DType: graph.Float32, Shape: graph.Shape{batch, time, graph.Fixed(K)}},
		{Name: last, DType: graph.Float32, Shape: graph.Shape{batch, graph.Fixed(K)}},
	}
	return g, nil
}

// lowerHead adds to g the nodes from the logits to the outputs of the
// spec's head, with param and node as lower defines them, and returns the
// names of its per-step and last-step outputs.
func lowerHead(s *Spec, g *graph.Graph, param func(name, init string, trainable bool, shape ...int) string,
	node func(name string, op graph.Op, out string, attrs map[string]graph.Attr, inputs ...string)) (step, last string) {
	K := s.Outputs.Width()
	step, last = graph.ValueStepProbs, graph.ValueProbs
	switch s.Outputs.Kind() {
	case KindClasses:
		node(NodeSoftmax, graph.OpSoftmax, step, nil, graph.ValueLogits)
	case KindTargets:
		step, last = graph.ValueStepValues, graph.ValueValues
		if s.Outputs.NormalizeTargets {
			// The identity until the targets' statistics are fitted.
			mean := param(ParamTargetMean, InitFitted, false, K)
			std := param(ParamTargetStd, InitFitted, false, K)
			for i := range g.Param(std).Tensor.F32 {
				g.Param(std).Tensor.F32[i] = 1
			}
			node(NodeDenormalize, graph.OpDenormalize, step, nil, graph.ValueLogits, mean, std)
		} else {
			node(NodeIdentity, graph.OpIdentity, step, nil, graph.ValueLogits)
		}
	default:
		node(NodeSigmoid, graph.OpSigmoid, step, nil, graph.ValueLogits)
	}
	node(NodeLast, graph.OpLastStep, last, nil, step)
	return step, last
}
