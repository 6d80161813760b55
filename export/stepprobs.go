package export

// Per-step probabilities for a model exported without them: the model is
// rebuilt as the sequence-form graph it was written from, and written again
// with step_probs.
//
// Shape legend: F features, H hidden units, K labels.

import (
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/graph"
)

// WithStepProbs returns a tensor-form graph that computes what g computes
// and, besides probs, step_probs [batch, time, K]: the probabilities after
// every step, 0 at padded steps (for a regression model, besides values,
// step_values). It serves any model trnn's writer made
// without step_probs (g is one as ReadONNX returns it): one pass over a
// sequence then gives every step's probabilities, where running each prefix
// would take time and memory quadratic in its length.
//
// g is rebuilt, not edited: the sequence-form graph it was written from
// (Normalize when g normalises, its LSTM and GRU layers with their hidden
// sizes, the Dense head, its Sigmoid, Softmax or regression output,
// LastStep) is filled from g's weights with InitParams and written again
// with step_probs. A rebuild is trusted only
// when writing it without step_probs gives back g itself, node for node
// with equal weights (names aside): then its probs are g's bit for bit.
//
// ok is false, with no error, when g is not such a model: another
// interface, a layer or head trnn does not write (a bidirectional or
// linear_before_reset = 0 layer, separate LSTM recurrent biases, an extra
// node), or anything else that would not be rebuilt exactly. A g that
// already has step_probs is returned as it is, with ok true. An error means
// that a model recognised as trnn's could not be written again.
//
// The rebuilt graph is written at graph.DefaultOpset: a decoded graph does
// not keep its opset, and the operators trnn writes mean the same at every
// opset it writes. It carries g's metadata.
func WithStepProbs(g *graph.Graph) (*graph.Graph, bool, error) {
	if g == nil || g.Form != graph.FormTensor {
		return nil, false, nil
	}
	if hasStepOutput(g) {
		return g, true, nil
	}
	seq := stepSkeleton(g)
	if seq == nil {
		return nil, false, nil
	}
	if err := initParams(g, seq); err != nil {
		return nil, false, nil
	}
	// InitParams finds the layers and the head it needs and looks at
	// nothing else, so an extra node or a bias it folds would go unnoticed:
	// g is trnn's model only if the rebuild writes back to it.
	if again, err := rewrite(g, seq, Options{}); err != nil || !sameComputation(g, again) {
		return nil, false, nil
	}
	out, err := rewrite(g, seq, Options{StepProbs: true})
	if err != nil {
		return nil, false, fmt.Errorf("export: rebuilding %q with step_probs: %v", g.Name, err)
	}
	return out, true, nil
}

// rewrite writes seq, a rebuild of src, as an ONNX model with the options
// opts (the version being src's) and reads it back.
func rewrite(src, seq *graph.Graph, opts Options) (*graph.Graph, error) {
	opts.Version = src.Meta[MetaVersion]
	mp, err := Build(&Model{Graph: seq, Name: src.Name, Meta: src.Meta, Options: opts})
	if err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(mp)
	if err != nil {
		return nil, err
	}
	return DecodeONNX(src.Name, b)
}

// hasStepOutput reports whether g has a per-step output, step_probs or
// step_values.
func hasStepOutput(g *graph.Graph) bool {
	return slices.ContainsFunc(g.Outputs, func(v graph.Value) bool {
		return v.Name == graph.ValueStepProbs || v.Name == graph.ValueStepValues
	})
}

// stepSkeleton returns the sequence-form graph trnn lowers for src's
// architecture, with the names docs/graph.md gives, its parameters
// allocated but not filled; or nil when src does not have trnn's interface
// (inputs x float32 [batch, time, F] and lengths int32 [batch], the
// output probs [batch, K] or values [batch, K], then perhaps step_probs or
// step_values) or its layers cannot be expressed. The head is the kind
// headKind finds; a regression head de-normalises when src holds the
// target statistics trnn's writer names.
func stepSkeleton(src *graph.Graph) *graph.Graph {
	step, last := graph.ValueStepProbs, graph.ValueProbs
	if headKind(src) == "targets" {
		step, last = graph.ValueStepValues, graph.ValueValues
	}
	if len(src.Inputs) != 2 || len(src.Outputs) != 1 && (len(src.Outputs) != 2 || src.Outputs[1].Name != step) {
		return nil
	}
	x, l, probs := src.Inputs[0], src.Inputs[1], src.Outputs[0]
	if x.Name != graph.ValueX || x.DType != graph.Float32 || len(x.Shape) != 3 || x.Shape[2].Sym != "" ||
		l.Name != graph.ValueLengths || l.DType != graph.Int32 ||
		probs.Name != last || len(probs.Shape) != 2 || probs.Shape[1].Sym != "" {
		return nil
	}
	b := newSeqBuilder(src.Name, x.Shape[2].Size)
	if p, ok := preprocessFromMeta(src.Meta, x.Shape[2].Size); ok {
		b.preprocess(p)
	} else if slices.ContainsFunc(src.Nodes, func(n *graph.Node) bool { return n.Op == graph.OpSub && input(n, 0) == graph.ValueX }) {
		b.normalize()
	}
	for _, n := range src.Nodes {
		if n.Op != graph.OpLSTM && n.Op != graph.OpGRU {
			continue
		}
		H := graph.AttrOr(n, graph.AttrNameHiddenSize).Int
		if H < 1 || H > graph.MaxUnits {
			return nil
		}
		b.recurrent(n.Op, int(H))
	}
	c := newInitCopy(src, &graph.Graph{})
	denorm := c.constant(targetMean) != nil && c.constant(targetStd) != nil
	g := b.finish(probs.Shape[1].Size, headKind(src), denorm)
	vals, err := graph.InferShapes(g)
	if err != nil {
		return nil
	}
	g.Values = vals
	g.IndexParams()
	return g
}

// seqBuilder lowers a layer stack the way the compiler does.
type seqBuilder struct {
	g      *graph.Graph
	prev   string // the value the next node reads
	width  int    // its last dimension
	layers int    // recurrent layers so far
}

func newSeqBuilder(name string, F int) *seqBuilder {
	batch, time := graph.Sym(graph.DimBatch), graph.Sym(graph.DimTime)
	return &seqBuilder{
		g: &graph.Graph{
			Name: name,
			Form: graph.FormSequence,
			Inputs: []graph.Value{
				{Name: graph.ValueX, DType: graph.Float32, Shape: graph.Shape{batch, time, graph.Fixed(F)}},
				{Name: graph.ValueLengths, DType: graph.Int32, Shape: graph.Shape{batch}},
			},
			Meta: map[string]string{},
		},
		prev:  graph.ValueX,
		width: F,
	}
}

func (b *seqBuilder) param(name string, shape ...int) string {
	b.g.Params = append(b.g.Params, &graph.Param{Name: name, Tensor: graph.NewTensor(graph.Float32, shape...), Init: "onnx"})
	return name
}

func (b *seqBuilder) node(name string, op graph.Op, out string, attrs map[string]graph.Attr, params ...string) {
	b.g.Nodes = append(b.g.Nodes, &graph.Node{Name: name, Op: op, Inputs: append([]string{b.prev}, params...), Outputs: []string{out}, Attrs: attrs})
	b.prev = out
}

func (b *seqBuilder) normalize() {
	F := b.width
	b.node("normalize", graph.OpNormalize, "x_norm", nil, b.param("inputs.mean", F), b.param("inputs.std", F))
}

func (b *seqBuilder) recurrent(op graph.Op, H int) {
	name := fmt.Sprintf("layers.%d", b.layers)
	b.layers++
	attrs := map[string]graph.Attr{graph.AttrNameHiddenSize: {Kind: graph.AttrInt, Int: int64(H)}}
	G, nb := graph.LSTMGates, graph.LSTMGates*H
	if op == graph.OpGRU {
		// trnn's GRU is the linear_before_reset = 1 form, with both biases.
		attrs[graph.AttrNameLinearBeforeReset] = graph.Attr{Kind: graph.AttrInt, Int: 1}
		G, nb = graph.GRUGates, 2*graph.GRUGates*H
	}
	b.node(name, op, name+".y", attrs, b.param(name+".W", G*H, b.width), b.param(name+".R", G*H, H), b.param(name+".B", nb))
	b.width = H
}

// Names of the target statistics, as the compiler names them (export does
// not import the compiler).
const (
	targetMean = "targets.mean"
	targetStd  = "targets.std"
)

// finish adds the head of the given kind (headKind's names), the last
// step, and the outputs.
func (b *seqBuilder) finish(K int, kind string, denorm bool) *graph.Graph {
	batch, time := graph.Sym(graph.DimBatch), graph.Sym(graph.DimTime)
	b.node("head", graph.OpDense, graph.ValueLogits, nil, b.param("head.W", K, b.width), b.param("head.b", K))
	step, last := graph.ValueStepProbs, graph.ValueProbs
	switch {
	case kind == "classes":
		b.node("softmax", graph.OpSoftmax, step, nil)
	case kind == "targets" && denorm:
		step, last = graph.ValueStepValues, graph.ValueValues
		b.node("denormalize", graph.OpDenormalize, step, nil, b.param(targetMean, K), b.param(targetStd, K))
	case kind == "targets":
		step, last = graph.ValueStepValues, graph.ValueValues
		b.node("identity", graph.OpIdentity, step, nil)
	default:
		b.node("sigmoid", graph.OpSigmoid, step, nil)
	}
	b.node("last", graph.OpLastStep, last, nil)
	b.g.Outputs = []graph.Value{
		{Name: graph.ValueLogits, DType: graph.Float32, Shape: graph.Shape{batch, time, graph.Fixed(K)}},
		{Name: step, DType: graph.Float32, Shape: graph.Shape{batch, time, graph.Fixed(K)}},
		{Name: last, DType: graph.Float32, Shape: graph.Shape{batch, graph.Fixed(K)}},
	}
	return b.g
}

// sameComputation reports whether the tensor-form graphs a and b compute
// the same function the same way: inputs and outputs alike by position
// (element type, rank, fixed sizes), and node by node the same op and
// attributes reading the same operands, where an operand is the same graph
// input, an equal constant, or the same output of the same earlier node.
// Names do not matter; constants compare with ==, so that −0 matches 0.
func sameComputation(a, b *graph.Graph) bool {
	if len(a.Inputs) != len(b.Inputs) || len(a.Outputs) != len(b.Outputs) || len(a.Nodes) != len(b.Nodes) {
		return false
	}
	for i := range a.Inputs {
		if !sameType(a.Inputs[i], b.Inputs[i]) {
			return false
		}
	}
	ra, rb := operands(a), operands(b)
	for i, n := range a.Nodes {
		m := b.Nodes[i]
		if n.Op != m.Op || len(n.Inputs) != len(m.Inputs) || len(n.Outputs) != len(m.Outputs) || !sameAttrs(n.Attrs, m.Attrs) {
			return false
		}
		for j := range n.Inputs {
			if !sameOperand(ra[n.Inputs[j]], rb[m.Inputs[j]]) {
				return false
			}
		}
		for j := range n.Outputs {
			if (n.Outputs[j] == "") != (m.Outputs[j] == "") {
				return false
			}
		}
	}
	for i, o := range a.Outputs {
		if o.Name != b.Outputs[i].Name || !sameType(o, b.Outputs[i]) || !sameOperand(ra[o.Name], rb[o.Name]) {
			return false
		}
	}
	return true
}

// operand is where a value comes from: graph input input−1, output out of
// node node−1, or a constant; the zero operand is an omitted input.
type operand struct {
	input, node, out int
	constant         *graph.Tensor
}

func operands(g *graph.Graph) map[string]operand {
	m := map[string]operand{"": {}}
	for i, v := range g.Inputs {
		m[v.Name] = operand{input: i + 1}
	}
	for _, p := range g.Params {
		m[p.Name] = operand{constant: p.Tensor}
	}
	for i, n := range g.Nodes {
		for j, out := range n.Outputs {
			if out != "" {
				m[out] = operand{node: i + 1, out: j}
			}
		}
	}
	return m
}

func sameOperand(a, b operand) bool {
	if a.constant != nil || b.constant != nil {
		return sameTensor(a.constant, b.constant)
	}
	return a == b
}

// sameType compares declared values by element type, rank and fixed sizes;
// symbolic dimensions match any symbol.
func sameType(a, b graph.Value) bool {
	if a.DType != b.DType || len(a.Shape) != len(b.Shape) || (a.Shape == nil) != (b.Shape == nil) {
		return false
	}
	for i, d := range a.Shape {
		if (d.Sym == "") != (b.Shape[i].Sym == "") || d.Sym == "" && d.Size != b.Shape[i].Size {
			return false
		}
	}
	return true
}

func sameAttrs(a, b map[string]graph.Attr) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok || x.Kind != y.Kind || x.Int != y.Int || x.Float != y.Float || x.String != y.String ||
			!slices.Equal(x.Ints, y.Ints) || !slices.Equal(x.Floats, y.Floats) || !slices.Equal(x.Strings, y.Strings) ||
			(x.Tensor != nil || y.Tensor != nil) && !sameTensor(x.Tensor, y.Tensor) ||
			(x.Graph != nil || y.Graph != nil) && !(x.Graph != nil && y.Graph != nil && sameComputation(x.Graph, y.Graph)) {
			return false
		}
	}
	return true
}

func sameTensor(a, b *graph.Tensor) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.DType == b.DType && slices.Equal(a.Shape, b.Shape) && slices.EqualFunc(a.F32, b.F32, sameFloat[float32]) &&
		slices.EqualFunc(a.F64, b.F64, sameFloat[float64]) && slices.Equal(a.I32, b.I32) && slices.Equal(a.I64, b.I64) && slices.Equal(a.B, b.B)
}

// sameFloat is == except that NaN matches NaN: a constant of NaN (the
// forward-fill state before any observation) is the same constant.
func sameFloat[T float32 | float64](a, b T) bool { return a == b || a != a && b != b }
