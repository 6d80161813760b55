package graph

import (
	"fmt"
	"slices"
	"strings"
)

// Form says how a graph's values are laid out and so which executor runs it.
type Form uint8

const (
	// FormSequence graphs are compiled from a spec. Every value is a batch of
	// sequences [batch, time, width] (or [batch, width] after LastStep) with
	// the row lengths implicit; the runtime executes them packed
	// (Packing) and can train them. Only sequence ops appear.
	FormSequence Form = iota + 1
	// FormTensor graphs are imported from ONNX: values are dense tensors and
	// nodes are ONNX operators with ONNX semantics, lengths included as
	// ordinary inputs. The runtime runs them for inference only.
	FormTensor
)

func (f Form) String() string {
	switch f {
	case FormSequence:
		return "sequence"
	case FormTensor:
		return "tensor"
	}
	return fmt.Sprintf("Form(%d)", uint8(f))
}

// Symbolic dimension names.
const (
	DimBatch = "batch"
	DimTime  = "time"
)

// Dim is one dimension of a value's shape: a symbol (Sym ≠ ""), or a size.
type Dim struct {
	Size int
	Sym  string
}

// Fixed returns a dimension of a known size.
func Fixed(n int) Dim { return Dim{Size: n} }

// Sym returns a symbolic dimension.
func Sym(name string) Dim { return Dim{Sym: name} }

func (d Dim) String() string {
	if d.Sym != "" {
		return d.Sym
	}
	return fmt.Sprint(d.Size)
}

// Shape is a value's shape over fixed and symbolic dimensions. A nil Shape in
// a FormTensor graph means unknown.
type Shape []Dim

func (s Shape) String() string {
	out := "["
	for i, d := range s {
		if i > 0 {
			out += ","
		}
		out += d.String()
	}
	return out + "]"
}

// Value is a named graph input, output or intermediate result.
type Value struct {
	Name  string
	DType DType
	Shape Shape
}

// TypeString describes the value's element type and shape as messages
// print it: "float32 [batch, time, 13]", or "float32 of any shape" when
// the shape is unknown.
func (v Value) TypeString() string {
	if v.Shape == nil {
		return v.DType.String() + " of any shape"
	}
	out := v.DType.String() + " ["
	for i, d := range v.Shape {
		if i > 0 {
			out += ", "
		}
		out += d.String()
	}
	return out + "]"
}

// Param is a named constant tensor: a learned parameter, fitted statistics
// (Trainable false), or an ONNX initializer.
type Param struct {
	Name      string
	Tensor    *Tensor
	Trainable bool
	// Init names how a compiled parameter was initialised: "glorot_uniform",
	// "orthogonal", "zeros", "lstm_bias" (zeros with forget-gate block 1),
	// "ones", "fitted" (statistics of the training split), "onnx" (imported).
	Init string
}

// AttrKind is the type of a node attribute.
type AttrKind uint8

const (
	AttrInt AttrKind = iota + 1
	AttrFloat
	AttrString
	AttrInts
	AttrFloats
	AttrStrings
	AttrTensor
	// AttrGraph is a subgraph (the bodies of If, Loop and Scan): a
	// tensor-form Graph whose nodes may also read the values of the graphs
	// enclosing it that are defined before the node holding it.
	AttrGraph
)

// Attr is a node attribute; the field matching Kind holds its value.
type Attr struct {
	Kind    AttrKind
	Int     int64
	Float   float32
	String  string
	Ints    []int64
	Floats  []float32
	Strings []string
	Tensor  *Tensor
	Graph   *Graph
}

// Node is one operation. Inputs name values or params in the op's input
// order; "" is an omitted optional input (ONNX form). Sequence-form nodes
// take (x, params...) as listed on each Op.
type Node struct {
	Name    string
	Op      Op
	Inputs  []string
	Outputs []string
	Attrs   map[string]Attr
	// Where, when set, is how messages name the node: a reader that writes
	// one node of the file as several sets it to the file's node, so that
	// an error speaks of the node the user wrote. Empty: by Name and Op.
	Where string
}

// Graph is the op graph the compiler produces and the importer reads back.
// Stages after the compiler only read it.
type Graph struct {
	Name    string
	Form    Form
	Inputs  []Value
	Outputs []Value
	Nodes   []*Node  // in execution (topological) order
	Params  []*Param // in creation order
	// Values holds the type and shape of every input, output and
	// intermediate value, by name (filled by shape inference).
	Values map[string]*Value
	// Meta is free-form metadata carried to and from ONNX metadata_props.
	Meta map[string]string

	// paramIndex maps each parameter's name to its position in Params as
	// IndexParams found them; indexed is len(Params) then.
	paramIndex map[string]int
	indexed    int
}

// IndexParams makes Param a map lookup: without it Param searches Params,
// and a caller that looks up every node's inputs (printing, verifying,
// exporting) takes time quadratic in the graph's size. Call it once Params
// is complete and before the graph is shared, since it writes the graph
// and Param only reads it; the compiler does.
//
// A copy of the graph keeps the index, which stays right while the copy's
// Params hold parameters of the same names in the same order (the runtime
// swaps parameter values that way). Param checks every hit, and searches
// instead when parameters were added or removed since; a graph whose
// parameters are renamed or reordered must be indexed again.
func (g *Graph) IndexParams() {
	g.paramIndex = make(map[string]int, len(g.Params))
	for i := len(g.Params) - 1; i >= 0; i-- { // the first of a duplicated name wins, as in a search
		if p := g.Params[i]; p != nil {
			g.paramIndex[p.Name] = i
		}
	}
	g.indexed = len(g.Params)
}

// Param returns the parameter with the given name, or nil.
func (g *Graph) Param(name string) *Param {
	if g.paramIndex != nil && g.indexed == len(g.Params) {
		i, ok := g.paramIndex[name]
		if !ok {
			return nil
		}
		if p := g.Params[i]; p != nil && p.Name == name {
			return p
		}
	}
	for _, p := range g.Params {
		if p != nil && p.Name == name {
			return p
		}
	}
	return nil
}

// Names of the values every compiled graph has, which the runtime and the
// exporter rely on.
const (
	ValueX         = "x"          // input: float32 [batch, time, features]
	ValueLengths   = "lengths"    // input: int32 [batch], valid steps per row
	ValueLogits    = "logits"     // output: the head at every step [batch, time, labels]
	ValueStepProbs = "step_probs" // output: sigmoid(logits), 0 at padded steps
	ValueProbs     = "probs"      // output: step_probs at each row's last valid step [batch, labels]
	// A regression head (outputs.targets) has values in place of
	// probabilities: step_values at every step, values at the last.
	ValueStepValues = "step_values"
	ValueValues     = "values"
)

// HeadOutputs returns the names of a compiled graph's per-step and
// last-step outputs: step_probs and probs, or step_values and values for a
// regression head; ok is false when g has neither pair.
func HeadOutputs(g *Graph) (step, last string, ok bool) {
	has := map[string]bool{}
	for _, v := range g.Outputs {
		has[v.Name] = true
	}
	switch {
	case has[ValueStepProbs] && has[ValueProbs]:
		return ValueStepProbs, ValueProbs, true
	case has[ValueStepValues] && has[ValueValues]:
		return ValueStepValues, ValueValues, true
	}
	return "", "", false
}

// Names of node attributes (their kinds: hidden_size and
// linear_before_reset are AttrInt, rate is AttrFloat).
const (
	AttrNameHiddenSize        = "hidden_size"
	AttrNameRate              = "rate"
	AttrNameLinearBeforeReset = "linear_before_reset"
)

// Attributes of a Preprocess node: missing is an AttrString (a spec's
// inputs.missing), categories an AttrInts with one category count per
// feature (0: numeric), indicators and normalize AttrInts (0 or 1).
const (
	AttrNameMissing    = "missing"
	AttrNameCategories = "categories"
	AttrNameIndicators = "indicators"
	AttrNameNormalize  = "normalize"
)

// Values of a Preprocess node's missing attribute.
const (
	MissingRefuse      = "refuse"
	MissingZero        = "zero"
	MissingMean        = "mean"
	MissingForwardFill = "forward_fill"
)

// MaxUnits bounds a recurrent layer's hidden size, in a spec and in a
// compiled graph.
const MaxUnits = 4096

// Preprocess is a Preprocess node's attributes, decoded.
type Preprocess struct {
	Missing    string // MissingRefuse | MissingZero | MissingMean | MissingForwardFill
	Categories []int  // [F] category count of each feature, 0 for a numeric one
	Indicators bool   // one 0/1 observed channel per feature after the encoded features
	Normalize  bool   // numeric features are standardised with the fitted mean and std
}

// maxCategories bounds one feature's category count, and so the width a
// Preprocess node can claim.
const maxCategories = 1 << 20

// PreprocessOf decodes and checks the attributes of the Preprocess node n.
func PreprocessOf(n *Node) (Preprocess, error) {
	var p Preprocess
	m, ok := n.Attrs[AttrNameMissing]
	if !ok || m.Kind != AttrString || !slices.Contains([]string{MissingRefuse, MissingZero, MissingMean, MissingForwardFill}, m.String) {
		return p, fmt.Errorf("attribute missing must be the string refuse, zero, mean or forward_fill")
	}
	p.Missing = m.String
	c, ok := n.Attrs[AttrNameCategories]
	if !ok || c.Kind != AttrInts {
		return p, fmt.Errorf("attribute categories must be ints, one per feature")
	}
	for f, k := range c.Ints {
		if k < 0 || k > maxCategories {
			return p, fmt.Errorf("attribute categories[%d] = %d, want 0 (numeric) to %d", f, k, maxCategories)
		}
		p.Categories = append(p.Categories, int(k))
	}
	for _, b := range []struct {
		name string
		dst  *bool
	}{{AttrNameIndicators, &p.Indicators}, {AttrNameNormalize, &p.Normalize}} {
		a, ok := n.Attrs[b.name]
		if !ok || a.Kind != AttrInt || a.Int != 0 && a.Int != 1 {
			return p, fmt.Errorf("attribute %s must be the int 0 or 1", b.name)
		}
		*b.dst = a.Int == 1
	}
	return p, nil
}

// Width is the number of channels the node gives: one per numeric
// feature, one per category of a categorical feature, then one indicator
// per feature when Indicators is set.
func (p Preprocess) Width() int {
	w := 0
	for _, c := range p.Categories {
		w += max(c, 1)
	}
	if p.Indicators {
		w += len(p.Categories)
	}
	return w
}

// Summary describes the preprocessing in the user's terms: "17 features (5
// categorical → 37 one-hot channels), missing: forward_fill with
// indicators → 54 channels".
func (p Preprocess) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d features", len(p.Categories))
	nc, oneHot := 0, 0
	for _, C := range p.Categories {
		if C > 0 {
			nc++
			oneHot += C
		}
	}
	if nc > 0 {
		fmt.Fprintf(&b, " (%d categorical → %d one-hot channels)", nc, oneHot)
	}
	fmt.Fprintf(&b, ", missing: %s", p.Missing)
	if p.Indicators {
		b.WriteString(" with indicators")
	}
	fmt.Fprintf(&b, " → %d channels", p.Width())
	return b.String()
}

// Attrs are the attributes of a Preprocess node doing p.
func (p Preprocess) Attrs() map[string]Attr {
	flag := func(b bool) Attr {
		if b {
			return Attr{Kind: AttrInt, Int: 1}
		}
		return Attr{Kind: AttrInt}
	}
	counts := make([]int64, len(p.Categories))
	for f, C := range p.Categories {
		counts[f] = int64(C)
	}
	return map[string]Attr{
		AttrNameMissing:    {Kind: AttrString, String: p.Missing},
		AttrNameCategories: {Kind: AttrInts, Ints: counts},
		AttrNameIndicators: flag(p.Indicators),
		AttrNameNormalize:  flag(p.Normalize),
	}
}
