package export

// Writing: a sequence-form graph.Graph becomes an ONNX model.
//
// Shape legend: B batch (symbolic "batch"), T steps (symbolic "time"),
// F features, I a layer's input width, H hidden units, K labels.
//
// The sequence graph's values have no layout of their own (the runtime packs
// them); in ONNX every per-step value is either batch-major [B, T, W] or
// time-major [T, B, W], and a recurrent layer reads and writes time-major
// (layout 0). Besides its per-step form, a value may be needed only at each
// row's last valid step, [B, W]: that is what probs is made of, and a
// recurrent layer gives it directly as Y_h. The writer first works out which
// forms of which values the exported outputs need (walking the graph
// backwards), then emits the nodes for exactly those, in graph order.
//
// The graph is trusted once graph.Verify accepts it: arity, attributes,
// parameter shapes and every value's shape (g.Values) are its invariants.
// The writer checks only what ONNX adds: finite weights, a nonzero
// deviation, and the forms its outputs need.

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/atomicfile"
)

// Keys of the metadata_props every exported model carries. List values are
// JSON arrays; numbers are printed by strconv's 'g' format with the shortest
// representation (float32 for statistics, float64 for alpha). The writer
// sets MetaVersion and the normalisation keys from the graph; the others
// come from Model.Meta.
const (
	MetaVersion      = "trnn.version"       // the trnn release that wrote the file
	MetaSpecName     = "trnn.spec_name"     // the spec's name
	MetaFeatureNames = "trnn.feature_names" // JSON array of F strings
	MetaLabelNames   = "trnn.label_names"   // JSON array of K strings
	MetaNormalize    = "trnn.normalize"     // "none" | "standard"
	MetaNormMean     = "trnn.norm_mean"     // JSON array of F numbers (standard only)
	MetaNormStd      = "trnn.norm_std"      // JSON array of F numbers (standard only)
	MetaAlpha        = "trnn.alpha"         // target-replication weight used in training
	MetaSpec         = "trnn.spec"          // the resolved spec as YAML, its export section as written
)

// Options are the choices of one export.
type Options struct {
	// Opset is the default-domain opset to target,
	// graph.MinOpset..graph.MaxOpset; 0 means graph.DefaultOpset.
	Opset int
	// StepProbs adds the step_probs output [batch, time, labels].
	StepProbs bool
	// Version is the trnn version written as producer_version and
	// MetaVersion; "" writes "(devel)".
	Version string
	// Stateful writes the streaming model: besides x and lengths, each
	// recurrent layer i takes its state h_in_i (and c_in_i) and gives it
	// back after the chunk as h_out_i (c_out_i); see stateful.go.
	Stateful bool
}

// Model is what the writer turns into an ONNX file: a compiled graph with
// its trained parameters, and what the file says about it. The writer only
// reads it.
type Model struct {
	// Graph is a sequence-form graph that passes graph.Verify (so its
	// Values are filled in).
	Graph *graph.Graph
	// Name names the model in the doc string, and the ONNX graph (then
	// Graph.Name, then "trnn", when empty).
	Name string
	// Meta is written into metadata_props over Graph.Meta; the keys the
	// writer derives from the graph (MetaVersion, MetaNormalize,
	// MetaNormMean, MetaNormStd) win over both.
	Meta map[string]string
	Options
}

// Build converts m into an ONNX model. It returns an error, naming the node
// or parameter at fault, when the graph is not in sequence form or fails
// graph.Verify, the opset is out of range, a parameter holds a non-finite
// value, or the graph has a shape ONNX cannot be given (a Normalize node
// not reading x, a zero deviation, probs not at the last step, x read at
// its last step).
func Build(m *Model) (*onnxpb.ModelProto, error) {
	if m == nil || m.Graph == nil {
		return nil, fmt.Errorf("export: no graph to write")
	}
	e := &exporter{
		m:         m,
		g:         m.Graph,
		opset:     m.Opset,
		version:   m.Version,
		stepProbs: m.StepProbs,
		params:    map[string]*graph.Param{},
		vals:      map[string]*seqValue{},
		emitted:   map[string]bool{},
	}
	if e.opset == 0 {
		e.opset = graph.DefaultOpset
	}
	if e.opset < graph.MinOpset || e.opset > graph.MaxOpset {
		return nil, fmt.Errorf("export: opset %d is not supported: expected %d..%d", e.opset, graph.MinOpset, graph.MaxOpset)
	}
	if e.version == "" {
		e.version = "(devel)"
	}
	if err := e.plan(); err != nil {
		return nil, err
	}
	e.emit()
	if err := e.verify(); err != nil {
		return nil, err
	}
	return e.model(), nil
}

// WriteONNX writes the ONNX model Build makes from m to w.
func WriteONNX(w io.Writer, m *Model) error {
	b, err := writeMarshal(m)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// WriteONNXFile writes the ONNX model Build makes from m to path,
// atomically: the bytes go to a temporary file in the same folder, which is
// synced and then renamed over path. On error path is left as it was.
func WriteONNXFile(path string, m *Model) error {
	b, err := writeMarshal(m)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := atomicfile.WriteBytes(path, b); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func writeMarshal(m *Model) ([]byte, error) {
	mp, err := Build(m)
	if err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(mp)
	if err != nil {
		return nil, fmt.Errorf("export: encoding the model: %v", err)
	}
	return b, nil
}

// writeIRVersion is the IR version of the ONNX release that introduced
// the opset (ONNX's versioning table): the lowest a reader must understand.
func writeIRVersion(opset int) int64 {
	switch {
	case opset <= 14:
		return 7
	case opset <= 18:
		return 8
	case opset <= 20:
		return 9
	}
	return 10
}

// seqValue is what the writer knows about one value of the sequence graph.
type seqValue struct {
	name  string
	width int
	// last marks a [B, W] value (a LastStep output): it has no per-step form.
	last bool
	// Forms demanded by later nodes or the exported outputs.
	needPer, needLast bool
	// ONNX names of the forms emitted so far ("" = not yet).
	per      string // per-step form, in the layout perTime says
	perTime  bool   // per is time-major [T, B, W]
	alt      string // per transposed to the other layout
	lastName string // [B, W] at each row's last valid step
	isOutput bool   // an exported graph output: internal names avoid its name
}

// exporter holds one export's state.
type exporter struct {
	m         *Model
	g         *graph.Graph
	opset     int
	version   string
	stepProbs bool

	params map[string]*graph.Param
	vals   map[string]*seqValue
	feats  int         // F
	labels int         // K
	norm   *graph.Node // the Normalize node, if any
	pre    *graph.Node // the Preprocess node, if any
	prep   graph.Preprocess
	last   string // the last-step output: probs, or values for regression

	nodes   []*onnxpb.NodeProto
	inits   []*onnxpb.TensorProto
	emitted map[string]bool // initializer names already added
	outputs []string        // exported outputs, in order
	states  []*layerState   // the stateful model's state, by layer
}

func (e *exporter) errorf(format string, args ...any) error {
	return fmt.Errorf("export: "+format, args...)
}

func (e *exporter) nodeErr(n *graph.Node, format string, args ...any) error {
	return fmt.Errorf("export: node %q (%v): %s", n.Name, n.Op, fmt.Sprintf(format, args...))
}

// param returns node n's parameter in the given role, one of its op's
// graph.SeqRule.Params (Verify has checked it is one).
func (e *exporter) param(n *graph.Node, role string) *graph.Param {
	i := slices.Index(graph.Info(n.Op).Seq.Params, role)
	return e.params[n.Inputs[1+i]]
}

// plan checks the graph and works out which forms of which values the
// exported outputs need.
func (e *exporter) plan() error {
	g := e.g
	if g.Form != graph.FormSequence {
		return e.errorf("graph %q is in %v form: only sequence-form graphs compiled from a spec can be exported", g.Name, g.Form)
	}
	if err := graph.Verify(g); err != nil {
		return e.errorf("%s", firstError(err))
	}
	for _, p := range g.Params {
		if err := writeCheckFinite(p); err != nil {
			return err
		}
		e.params[p.Name] = p
	}
	e.vals[graph.ValueX] = &seqValue{name: graph.ValueX, width: e.width(graph.ValueX), per: graph.ValueX}
	for _, n := range g.Nodes {
		if err := e.record(n); err != nil {
			return err
		}
	}
	return e.demand()
}

// width is the last dimension of a value, as Verify inferred it.
func (e *exporter) width(name string) int {
	s := e.g.Values[name].Shape
	return s[len(s)-1].Size
}

// writeCheckFinite checks that a parameter holds only finite values: ONNX
// consumers would otherwise compute NaN from a file that loads fine.
func writeCheckFinite(p *graph.Param) error {
	for i, v := range p.Tensor.F32 {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("export: parameter %s: element %d is %v, expected a finite value", p.Name, i, v)
		}
	}
	return nil
}

// record notes the value node n defines, checking what the ONNX form of
// the op needs beyond Verify's rules.
func (e *exporter) record(n *graph.Node) error {
	in := e.vals[n.Inputs[0]]
	name := n.Outputs[0]
	out := &seqValue{name: name, width: e.width(name), last: len(e.g.Values[name].Shape) == 2}
	switch n.Op {
	case graph.OpNormalize:
		// The statistics go into the metadata as those of the input x.
		if in.name != graph.ValueX || e.norm != nil {
			return e.nodeErr(n, "normalizes %q: only one Normalize node, reading x, can be exported", in.name)
		}
		std := e.param(n, "std")
		for i, v := range std.Tensor.F32 {
			if v == 0 {
				return e.nodeErr(n, "parameter %s: element %d is 0, expected a nonzero deviation", std.Name, i)
			}
		}
		e.norm = n
	case graph.OpPreprocess:
		if err := e.recordPreprocess(n, in); err != nil {
			return err
		}
	case graph.OpDropout, graph.OpIdentity:
		// The identity (Dropout at inference): the output is another name
		// for the input, with the same forms and demands.
		out = in
	}
	e.vals[name] = out
	return nil
}

// demand marks the forms the exported outputs need and propagates them
// back through the graph.
func (e *exporter) demand() error {
	step, last, ok := graph.HeadOutputs(e.g)
	if !ok {
		step, last = graph.ValueStepProbs, graph.ValueProbs
	}
	e.last = last
	want := []string{last}
	if e.stepProbs {
		want = append(want, step)
	}
	for _, name := range want {
		v := e.vals[name]
		if v == nil {
			return e.errorf("graph %q has no output %s to export", e.g.Name, name)
		}
		v.isOutput = true
		if name == last {
			if !v.last {
				return e.errorf("output %s is not taken at the last step (it must come from a LastStep node)", name)
			}
			v.needLast = true
		} else {
			if v.last {
				return e.errorf("output %s is taken at the last step, expected a per-step value", name)
			}
			v.needPer = true
		}
		e.outputs = append(e.outputs, name)
	}
	e.feats, e.labels = e.vals[graph.ValueX].width, e.vals[last].width
	for i := len(e.g.Nodes) - 1; i >= 0; i-- {
		n := e.g.Nodes[i]
		out, in := e.vals[n.Outputs[0]], e.vals[n.Inputs[0]]
		switch n.Op {
		case graph.OpLSTM, graph.OpGRU:
			if out.needPer || out.needLast {
				in.needPer = true
			}
		case graph.OpLastStep:
			if out.needLast {
				in.needLast = true
			}
		default: // per-step ops: each form needs the same form of the input
			in.needPer = in.needPer || out.needPer
			in.needLast = in.needLast || out.needLast
		}
	}
	if x := e.vals[graph.ValueX]; x.needLast {
		return e.errorf("graph %q uses the input x at its last step: only per-step use of x can be exported", e.g.Name)
	}
	return nil
}

// Names of the ONNX values the writer introduces.
func writePerName(v *seqValue, timeMajor bool) string {
	name := v.name
	if v.isOutput {
		name += ".unmasked"
	}
	if timeMajor {
		name += ".time_major"
	}
	return name
}

func writeLastName(v *seqValue) string { return v.name + ".last" }

// node appends an ONNX node.
func (e *exporter) node(name, op string, inputs, outputs []string, attrs ...*onnxpb.AttributeProto) {
	e.nodes = append(e.nodes, &onnxpb.NodeProto{
		Name:      proto.String(name),
		OpType:    proto.String(op),
		Input:     inputs,
		Output:    outputs,
		Attribute: attrs,
	})
}

func writeAttrInt(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func writeAttrInts(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func writeAttrString(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

// addInit adds an initializer once; later calls with the same name are no-ops.
func (e *exporter) addInit(name string, t *graph.Tensor) string {
	if !e.emitted[name] {
		e.emitted[name] = true
		e.inits = append(e.inits, encodeTensor(name, t))
	}
	return name
}

// paramInit adds a float32 parameter as an initializer of the given shape
// (the same data, reshaped).
func (e *exporter) paramInit(p *graph.Param, shape ...int) string {
	return e.addInit(p.Name, &graph.Tensor{DType: graph.Float32, Shape: shape, F32: p.Tensor.F32})
}

// axes returns the name of an int64 [1] initializer holding axis a, for the
// axes input of Squeeze and Unsqueeze.
func (e *exporter) axes(a int64) string {
	return e.addInit(fmt.Sprintf("const.axes_%d", a), &graph.Tensor{DType: graph.Int64, Shape: []int{1}, I64: []int64{a}})
}

// scalar returns the name of an int64 scalar initializer.
func (e *exporter) scalar(name string, v int64) string {
	return e.addInit(name, &graph.Tensor{DType: graph.Int64, Shape: []int{}, I64: []int64{v}})
}

// layout returns v's per-step form in the requested layout, adding a
// Transpose (perm [1, 0, 2]) the first time the other layout is asked for.
func (e *exporter) layout(v *seqValue, timeMajor bool) string {
	if v.perTime == timeMajor {
		return v.per
	}
	if v.alt == "" {
		v.alt = writePerName(v, timeMajor)
		dir := "to_batch_major"
		if timeMajor {
			dir = "to_time_major"
		}
		e.node(v.name+"."+dir, "Transpose", []string{v.per}, []string{v.alt}, writeAttrInts("perm", 1, 0, 2))
	}
	return v.alt
}

// emit writes the ONNX nodes for the demanded forms, in graph order.
func (e *exporter) emit() {
	for _, n := range e.g.Nodes {
		in, out := e.vals[n.Inputs[0]], e.vals[n.Outputs[0]]
		if !out.needPer && !out.needLast {
			continue // dead, or dropped (nothing exported reads it)
		}
		switch n.Op {
		case graph.OpDropout:
			// Inference is the identity: record made the output an alias
			// of the input, so there is nothing to write.
		case graph.OpLastStep:
			out.lastName = in.lastName
		case graph.OpNormalize:
			mean, std := e.paramInit(e.param(n, "mean"), in.width), e.paramInit(e.param(n, "std"), in.width)
			// x is batch-major; (x − mean) / std broadcasts over the last axis.
			out.per, out.perTime = writePerName(out, false), false
			centered := out.per + ".centered"
			e.node(n.Name+".sub", "Sub", []string{in.per, mean}, []string{centered})
			e.node(n.Name+".div", "Div", []string{centered, std}, []string{out.per})
		case graph.OpPreprocess:
			e.preprocess(n, out)
		case graph.OpLSTM, graph.OpGRU:
			e.recurrent(n, in, out)
		case graph.OpDense:
			e.dense(n, in, out)
		case graph.OpSigmoid:
			e.unary(n, in, out, "Sigmoid")
		case graph.OpSoftmax:
			// Over the last axis, the classes, in either form (opset ≥ 13
			// normalises along one axis only).
			e.unary(n, in, out, "Softmax", writeAttrInt("axis", -1))
		case graph.OpDenormalize:
			e.denormalize(n, in, out)
		}
	}
	// The outputs: probs is a last-step value; step_probs is masked so that
	// padded steps are exactly 0.
	for _, name := range e.outputs {
		v := e.vals[name]
		if name == e.last {
			e.rename(v.lastName, name)
			continue
		}
		e.node(name+".mask", "Mul", []string{e.layout(v, false), e.mask()}, []string{name})
	}
}

// unary emits an elementwise (or last-axis) op for each demanded form.
func (e *exporter) unary(n *graph.Node, in, out *seqValue, op string, attrs ...*onnxpb.AttributeProto) {
	if out.needLast {
		out.lastName = writeLastName(out)
		e.node(n.Name+".last", op, []string{in.lastName}, []string{out.lastName}, attrs...)
	}
	if out.needPer {
		out.per, out.perTime = writePerName(out, in.perTime), in.perTime
		e.node(n.Name, op, []string{in.per}, []string{out.per}, attrs...)
	}
}

// denormalize emits x·std + mean for each demanded form; the statistics
// broadcast over the last axis in either layout.
func (e *exporter) denormalize(n *graph.Node, in, out *seqValue) {
	mean, std := e.paramInit(e.param(n, "mean"), in.width), e.paramInit(e.param(n, "std"), in.width)
	if out.needLast {
		out.lastName = writeLastName(out)
		scaled := out.lastName + ".scaled"
		e.node(n.Name+".last.mul", "Mul", []string{in.lastName, std}, []string{scaled})
		e.node(n.Name+".last.add", "Add", []string{scaled, mean}, []string{out.lastName})
	}
	if out.needPer {
		out.per, out.perTime = writePerName(out, in.perTime), in.perTime
		scaled := out.per + ".scaled"
		e.node(n.Name+".mul", "Mul", []string{in.per, std}, []string{scaled})
		e.node(n.Name+".add", "Add", []string{scaled, mean}, []string{out.per})
	}
}

// dense emits a Dense node: a Gemm at the last step, and a MatMul by Wᵀ
// plus the bias per step.
func (e *exporter) dense(n *graph.Node, in, out *seqValue) {
	K, I := out.width, in.width
	W, b := e.param(n, "W"), e.param(n, "b")
	if out.needLast {
		out.lastName = writeLastName(out)
		e.node(n.Name+".last", "Gemm", []string{in.lastName, e.paramInit(W, K, I), e.paramInit(b, K)},
			[]string{out.lastName}, writeAttrInt("transB", 1))
	}
	if out.needPer {
		wt := make([]float32, len(W.Tensor.F32)) // Wᵀ [I, K]
		for k := 0; k < K; k++ {
			for i := 0; i < I; i++ {
				wt[i*K+k] = W.Tensor.F32[k*I+i]
			}
		}
		wtName := e.addInit(W.Name+"_t", &graph.Tensor{DType: graph.Float32, Shape: []int{I, K}, F32: wt})
		out.per, out.perTime = writePerName(out, false), false
		mm := out.per + ".matmul"
		e.node(n.Name+".matmul", "MatMul", []string{e.layout(in, false), wtName}, []string{mm})
		e.node(n.Name+".add", "Add", []string{mm, e.paramInit(b, K)}, []string{out.per})
	}
}

// recurrent emits an LSTM or GRU node (layout 0, forward) and the Squeeze
// nodes that give its per-step output [T, B, H] and last state [B, H].
func (e *exporter) recurrent(n *graph.Node, in, out *seqValue) {
	H := out.width
	I := in.width
	x := e.layout(in, true)
	var y, yh string
	if out.needPer {
		y = n.Name + ".Y"
	}
	if out.needLast || e.m.Stateful {
		yh = n.Name + ".Y_h"
	}
	outputs := []string{y}
	if yh != "" {
		outputs = append(outputs, yh)
	}
	Wp, Rp, Bp := e.param(n, "W"), e.param(n, "R"), e.param(n, "B")
	var W, R, B string
	var attrs []*onnxpb.AttributeProto
	attrs = append(attrs, writeAttrString("direction", graph.DirForward), writeAttrInt("hidden_size", int64(H)))
	if n.Op == graph.OpLSTM {
		W = e.paramInit(Wp, 1, graph.LSTMGates*H, I)
		R = e.paramInit(Rp, 1, graph.LSTMGates*H, H)
		// ONNX's B is [Wb, Rb]; the graph's single bias is Wb and Rb = 0.
		b := make([]float32, 2*graph.LSTMGates*H)
		copy(b, Bp.Tensor.F32)
		B = e.addInit(Bp.Name, &graph.Tensor{DType: graph.Float32, Shape: []int{1, 2 * graph.LSTMGates * H}, F32: b})
	} else {
		W = e.paramInit(Wp, 1, graph.GRUGates*H, I)
		R = e.paramInit(Rp, 1, graph.GRUGates*H, H)
		B = e.paramInit(Bp, 1, 2*graph.GRUGates*H)
		attrs = append(attrs, writeAttrInt(graph.AttrNameLinearBeforeReset, 1))
	}
	inputs := []string{x, W, R, B, graph.ValueLengths}
	var st *layerState
	if e.m.Stateful {
		st = e.newState(n.Op, H)
		inputs, outputs = e.wireState(n, st, inputs, outputs)
	}
	e.node(n.Name, n.Op.String(), inputs, outputs, attrs...)
	if y != "" {
		// Y [T, 1, B, H] → [T, B, H]
		out.per, out.perTime = writePerName(out, true), true
		e.node(n.Name+".squeeze_y", "Squeeze", []string{y, e.axes(1)}, []string{out.per})
	}
	if yh != "" {
		// Y_h [1, B, H] → [B, H]
		out.lastName = writeLastName(out)
		e.node(n.Name+".squeeze_h", "Squeeze", []string{yh, e.axes(0)}, []string{out.lastName})
		if st != nil {
			out.lastName = e.carryState(n, st, out.lastName)
		}
	}
}

// mask returns the name of a float32 [B, T, 1] tensor that is 1 at steps
// t < lengths[b] and 0 after, built from x's shape and lengths.
func (e *exporter) mask() string {
	const name = "mask"
	if e.emitted["node:"+name] {
		return name
	}
	e.emitted["node:"+name] = true
	e.node("mask.shape", "Shape", []string{graph.ValueX}, []string{"mask.x_shape"})
	e.node("mask.time", "Gather", []string{"mask.x_shape", e.scalar("const.time_axis", 1)}, []string{"mask.time"}, writeAttrInt("axis", 0))
	e.node("mask.steps", "Range", []string{e.scalar("const.zero", 0), "mask.time", e.scalar("const.one", 1)}, []string{"mask.steps"})
	e.node("mask.lengths", "Cast", []string{graph.ValueLengths}, []string{"mask.lengths"}, writeAttrInt("to", int64(graph.Int64)))
	e.node("mask.lengths_col", "Unsqueeze", []string{"mask.lengths", e.axes(1)}, []string{"mask.lengths_col"})
	e.node("mask.valid", "Less", []string{"mask.steps", "mask.lengths_col"}, []string{"mask.valid"})
	e.node("mask.valid_f", "Cast", []string{"mask.valid"}, []string{"mask.valid_f"}, writeAttrInt("to", int64(graph.Float32)))
	e.node("mask.unsqueeze", "Unsqueeze", []string{"mask.valid_f", e.axes(2)}, []string{name})
	return name
}

// verify checks the ONNX graph the writer built: node names are unique,
// every value is defined once, and every input is defined before it is
// read. A failure means the sequence graph's names collide with the names
// the writer introduces.
func (e *exporter) verify() error {
	defined := map[string]bool{graph.ValueX: true, graph.ValueLengths: true}
	for _, st := range e.states {
		for _, v := range st.inputs() {
			defined[v] = true
		}
	}
	if e.m.Stateful && e.fillsForward() {
		defined[FillInput] = true
	}
	for _, t := range e.inits {
		if defined[t.GetName()] {
			return e.errorf("ONNX value %q is defined twice", t.GetName())
		}
		defined[t.GetName()] = true
	}
	names := map[string]bool{}
	for _, n := range e.nodes {
		if names[n.GetName()] {
			return e.errorf("ONNX node name %q is used twice", n.GetName())
		}
		names[n.GetName()] = true
		for _, in := range n.Input {
			if !defined[in] {
				return e.errorf("ONNX node %q reads %q before it is defined", n.GetName(), in)
			}
		}
		for _, out := range n.Output {
			if out == "" {
				continue
			}
			if defined[out] {
				return e.errorf("ONNX value %q is defined twice (node %q)", out, n.GetName())
			}
			defined[out] = true
		}
	}
	for _, o := range append(slices.Clone(e.outputs), e.stateOutputs()...) {
		if !defined[o] {
			return e.errorf("ONNX output %q is not computed", o)
		}
	}
	return nil
}

// rename replaces the ONNX value name from with to in every node.
func (e *exporter) rename(from, to string) {
	for _, n := range e.nodes {
		for i, s := range n.Input {
			if s == from {
				n.Input[i] = to
			}
		}
		for i, s := range n.Output {
			if s == from {
				n.Output[i] = to
			}
		}
	}
}

// model assembles the ModelProto.
func (e *exporter) model() *onnxpb.ModelProto {
	F, K := int64(e.feats), int64(e.labels)
	inputs := []*onnxpb.ValueInfoProto{
		writeValueInfo(graph.ValueX, graph.Float32, graph.DimBatch, graph.DimTime, F),
		writeValueInfo(graph.ValueLengths, graph.Int32, graph.DimBatch),
	}
	var outputs []*onnxpb.ValueInfoProto
	for _, name := range e.outputs {
		if name == e.last {
			outputs = append(outputs, writeValueInfo(name, graph.Float32, graph.DimBatch, K))
		} else {
			outputs = append(outputs, writeValueInfo(name, graph.Float32, graph.DimBatch, graph.DimTime, K))
		}
	}
	inputs, outputs = e.stateValueInfos(inputs, outputs)
	name := e.m.Name
	if name == "" {
		name = e.g.Name
	}
	if name == "" {
		name = "trnn"
	}
	return &onnxpb.ModelProto{
		IrVersion:       proto.Int64(writeIRVersion(e.opset)),
		OpsetImport:     []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(int64(e.opset))}},
		ProducerName:    proto.String("trnn"),
		ProducerVersion: proto.String(e.version),
		DocString:       proto.String(e.docString()),
		Graph: &onnxpb.GraphProto{
			Name:        proto.String(name),
			Node:        e.nodes,
			Initializer: e.inits,
			Input:       inputs,
			Output:      outputs,
		},
		MetadataProps: e.metadata(),
	}
}

// docString describes the model's interface for people reading the file:
// its recurrent layers (the graph's LSTM and GRU nodes with their hidden
// sizes), its inputs and its outputs.
func (e *exporter) docString() string {
	var layers []string
	for _, n := range e.g.Nodes {
		if n.Op == graph.OpLSTM || n.Op == graph.OpGRU {
			layers = append(layers, fmt.Sprintf("%v(%d)", n.Op, e.vals[n.Outputs[0]].width))
		}
	}
	what, units, head := "classifier", "label(s)", "the sigmoid of the head"
	for _, n := range e.g.Nodes {
		switch n.Op {
		case graph.OpSoftmax:
			units, head = "classes", "the softmax of the head over the classes"
		case graph.OpIdentity:
			what, units, head = "regressor", "target(s)", "the head"
		case graph.OpDenormalize:
			what, units, head = "regressor", "target(s)", "the head times the targets' std plus their mean"
		}
	}
	step, _, _ := graph.HeadOutputs(e.g)
	if step == "" {
		step = graph.ValueStepProbs
	}
	s := fmt.Sprintf("trnn sequence %s %s: %s, %d %s. Inputs x [batch, time, %d] (right-padded) and lengths [batch]; "+
		"%s [batch, %d] is %s at each row's last valid step", what, e.m.Name, strings.Join(layers, " → "), e.labels, units, e.feats, e.last, e.labels, head)
	if e.stepProbs {
		s += fmt.Sprintf("; %s [batch, time, %d] at every step, 0 at padded steps", step, e.labels)
	}
	if e.pre != nil {
		s += "; x holds raw values, NaN where one is missing and a categorical feature's category index, which the model " +
			"imputes (" + e.prep.Missing + "), one-hot encodes and normalises itself"
	}
	if e.m.Stateful {
		s += statefulDoc
		if e.fillsForward() {
			s += "; forward fill carries fill_in [batch, features] (NaN: nothing observed yet) to fill_out"
		}
	}
	return s + "."
}

// metadata returns the metadata_props: the graph's free-form Meta, then the
// model's, then the keys the writer derives from the graph (which win),
// sorted by key.
func (e *exporter) metadata() []*onnxpb.StringStringEntryProto {
	m := map[string]string{}
	for k, v := range e.g.Meta {
		m[k] = v
	}
	for k, v := range e.m.Meta {
		m[k] = v
	}
	m[MetaVersion] = e.version
	delete(m, MetaNormMean)
	delete(m, MetaNormStd)
	if e.norm != nil {
		m[MetaNormalize] = "standard"
		m[MetaNormMean] = writeJSONFloats(e.param(e.norm, "mean").Tensor.F32)
		m[MetaNormStd] = writeJSONFloats(e.param(e.norm, "std").Tensor.F32)
	} else {
		m[MetaNormalize] = "none"
	}
	e.preprocessMeta(m)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*onnxpb.StringStringEntryProto, len(keys))
	for i, k := range keys {
		out[i] = &onnxpb.StringStringEntryProto{Key: proto.String(k), Value: proto.String(m[k])}
	}
	return out
}

// writeJSONFloats prints float32 values as a JSON array, each with the shortest
// 'g' representation that reads back to the same float32.
func writeJSONFloats(v []float32) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatFloat(float64(x), 'g', -1, 32))
	}
	b.WriteByte(']')
	return b.String()
}

// writeValueInfo declares a tensor value; a dim is an int64 size or a string
// symbol.
func writeValueInfo(name string, dt graph.DType, dims ...any) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		dim := &onnxpb.TensorShapeProto_Dimension{}
		switch d := d.(type) {
		case int64:
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}
		case string:
			dim.Value = &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d}
		default:
			panic(fmt.Sprintf("export: writeValueInfo: dim of type %T", d))
		}
		shape.Dim = append(shape.Dim, dim)
	}
	return &onnxpb.ValueInfoProto{
		Name: proto.String(name),
		Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(dt)),
			Shape:    shape,
		}}},
	}
}
