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

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/atomicfile"
)

// Opsets the writer can target. Squeeze and Unsqueeze take their axes as an
// input from opset 13 on, LSTM and GRU have had their current form since 14.
const (
	DefaultOpset = 17
	MinOpset     = 14
	MaxOpset     = 21
)

// Keys of the metadata_props every exported model carries. List values are
// JSON arrays; numbers are printed by strconv's 'g' format with the shortest
// representation (float32 for statistics, float64 for alpha).
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

// Options controls an export.
type Options struct {
	// Opset is the default-domain opset to target, MinOpset..MaxOpset; 0
	// means the spec's export.opset, or DefaultOpset when that is 0 too.
	Opset int
	// StepProbs adds the step_probs output [batch, time, labels]. It is also
	// added when the spec's export.step_probs is true.
	StepProbs bool
	// Version is the trnn version written as producer_version and
	// trnn.version; "" writes "(devel)".
	Version string
}

// Build converts a compiled program with trained parameters into an ONNX
// model. It returns an error, naming the node or parameter at fault, when
// the graph is not in sequence form, uses an op the writer cannot express,
// or has parameters of the wrong type, shape or with non-finite values.
func Build(prog *compiler.Program, opts Options) (*onnxpb.ModelProto, error) {
	if prog == nil || prog.Graph == nil || prog.Spec == nil {
		return nil, fmt.Errorf("export: program has no graph or no spec")
	}
	e := &exporter{
		g:         prog.Graph,
		spec:      prog.Spec,
		params:    map[string]*graph.Param{},
		vals:      map[string]*seqValue{},
		nodeNames: map[string]bool{},
		emitted:   map[string]bool{},
		stepProbs: opts.StepProbs || prog.Spec.Export.StepProbs,
	}
	e.opset = opts.Opset
	if e.opset == 0 {
		e.opset = prog.Spec.Export.Opset
	}
	if e.opset == 0 {
		e.opset = DefaultOpset
	}
	if e.opset < MinOpset || e.opset > MaxOpset {
		return nil, fmt.Errorf("export: opset %d is not supported: expected %d..%d", e.opset, MinOpset, MaxOpset)
	}
	e.version = opts.Version
	if e.version == "" {
		e.version = "(devel)"
	}
	if err := e.analyse(); err != nil {
		return nil, err
	}
	if err := e.emit(); err != nil {
		return nil, err
	}
	if err := e.verify(); err != nil {
		return nil, err
	}
	return e.model()
}

// WriteONNX writes the ONNX model Build makes from prog to w.
func WriteONNX(w io.Writer, prog *compiler.Program, opts Options) error {
	b, err := writeMarshal(prog, opts)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// WriteONNXFile writes the ONNX model Build makes from prog to path,
// atomically: the bytes go to a temporary file in the same folder, which is
// synced and then renamed over path. On error path is left as it was.
func WriteONNXFile(path string, prog *compiler.Program, opts Options) error {
	b, err := writeMarshal(prog, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := atomicfile.WriteBytes(path, b); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func writeMarshal(prog *compiler.Program, opts Options) ([]byte, error) {
	m, err := Build(prog, opts)
	if err != nil {
		return nil, err
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
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
	g         *graph.Graph
	spec      *compiler.Spec
	opset     int
	version   string
	stepProbs bool

	params     map[string]*graph.Param
	vals       map[string]*seqValue
	nodeNames  map[string]bool
	feats      int // F
	labels     int // K
	normalized bool

	nodes   []*onnxpb.NodeProto
	inits   []*onnxpb.TensorProto
	emitted map[string]bool // initializer names already added
	outputs []string        // exported outputs, in order
}

func (e *exporter) errorf(format string, args ...any) error {
	return fmt.Errorf("export: "+format, args...)
}

func (e *exporter) nodeErr(n *graph.Node, format string, args ...any) error {
	return fmt.Errorf("export: node %q (%v): %s", n.Name, n.Op, fmt.Sprintf(format, args...))
}

// analyse checks the graph and works out which forms of which values the
// exported outputs need.
func (e *exporter) analyse() error {
	g := e.g
	if g.Form != graph.FormSequence {
		return e.errorf("graph %q is in %v form: only sequence-form graphs compiled from a spec can be exported", g.Name, g.Form)
	}
	for _, p := range g.Params {
		if p == nil || p.Tensor == nil {
			return e.errorf("graph %q has a parameter without a tensor", g.Name)
		}
		if _, dup := e.params[p.Name]; dup {
			return e.errorf("parameter %q is defined twice", p.Name)
		}
		if err := writeCheckParam(p); err != nil {
			return err
		}
		e.params[p.Name] = p
	}
	e.feats = e.spec.Inputs.Features
	if e.feats <= 0 {
		return e.errorf("spec %q: inputs.features is %d, expected a positive count", e.spec.Name, e.feats)
	}
	var haveX, haveLen bool
	for _, in := range g.Inputs {
		switch in.Name {
		case graph.ValueX:
			haveX = true
			if in.DType != graph.Float32 {
				return e.errorf("graph input x is %v, expected float32", in.DType)
			}
			if len(in.Shape) == 3 && in.Shape[2].Sym == "" && in.Shape[2].Size != e.feats {
				return e.errorf("graph input x has %d features, the spec says %d", in.Shape[2].Size, e.feats)
			}
		case graph.ValueLengths:
			haveLen = true
			if in.DType != graph.Int32 {
				return e.errorf("graph input lengths is %v, expected int32", in.DType)
			}
		default:
			return e.errorf("graph input %q is not one of x, lengths", in.Name)
		}
	}
	if !haveX || !haveLen {
		return e.errorf("graph %q lacks the inputs x and lengths", g.Name)
	}
	e.vals[graph.ValueX] = &seqValue{name: graph.ValueX, width: e.feats, per: graph.ValueX}

	// Forward: check each node and record the values it defines.
	for i, n := range g.Nodes {
		if n == nil {
			return e.errorf("graph %q: node %d is nil", g.Name, i)
		}
		if err := e.checkNode(i, n); err != nil {
			return err
		}
	}

	// The exported outputs.
	want := []string{graph.ValueProbs}
	if e.stepProbs {
		want = append(want, graph.ValueStepProbs)
	}
	for _, name := range want {
		declared := false
		for _, o := range g.Outputs {
			declared = declared || o.Name == name
		}
		v := e.vals[name]
		if !declared || v == nil || name == graph.ValueX {
			return e.errorf("graph %q has no output %s to export", g.Name, name)
		}
		v.isOutput = true
		if name == graph.ValueProbs {
			if !v.last {
				return e.errorf("output probs is not taken at the last step (it must come from a LastStep node)")
			}
			v.needLast = true
		} else {
			if v.last {
				return e.errorf("output step_probs is taken at the last step, expected a per-step value")
			}
			v.needPer = true
		}
		e.outputs = append(e.outputs, name)
	}
	if v := e.vals[graph.ValueProbs]; v.width != e.spec.Outputs.Labels {
		return e.errorf("output probs has %d labels, the spec says %d", v.width, e.spec.Outputs.Labels)
	}
	e.labels = e.spec.Outputs.Labels

	// Backward: propagate the demands.
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
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
		return e.errorf("graph %q uses the input x at its last step: only per-step use of x can be exported", g.Name)
	}
	norm := e.spec.Inputs.Normalize
	if norm != "none" && norm != "standard" && norm != "" {
		return e.errorf("spec %q: inputs.normalize is %q, expected none or standard", e.spec.Name, norm)
	}
	if e.normalized != (norm == "standard") {
		return e.errorf("spec %q says normalize %q but the graph has %d Normalize node(s)", e.spec.Name, norm, writeB2I(e.normalized))
	}
	return nil
}

func writeB2I(b bool) int {
	if b {
		return 1
	}
	return 0
}

// writeCheckParam checks that a parameter is a float32 tensor whose data matches
// its shape and holds only finite values.
func writeCheckParam(p *graph.Param) error {
	t := p.Tensor
	if t.DType != graph.Float32 {
		return fmt.Errorf("export: parameter %s is %v, expected float32", p.Name, t.DType)
	}
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("export: parameter %s has shape %v with a negative dimension", p.Name, t.Shape)
		}
	}
	if len(t.F32) != graph.Size(t.Shape) {
		return fmt.Errorf("export: parameter %s has %d values for shape %v", p.Name, len(t.F32), t.Shape)
	}
	for i, v := range t.F32 {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("export: parameter %s: element %d is %v, expected a finite value", p.Name, i, v)
		}
	}
	return nil
}

// param returns the named parameter of node n, checking its shape.
func (e *exporter) param(n *graph.Node, i int, what string, shape ...int) (*graph.Param, error) {
	if i >= len(n.Inputs) {
		return nil, e.nodeErr(n, "missing input %d (%s)", i, what)
	}
	p := e.params[n.Inputs[i]]
	if p == nil {
		return nil, e.nodeErr(n, "input %d (%s) is %q, which is not a parameter", i, what, n.Inputs[i])
	}
	if !writeEqualShape(p.Tensor.Shape, shape) {
		return nil, e.nodeErr(n, "parameter %s has shape %v, expected %v (%s)", p.Name, p.Tensor.Shape, shape, what)
	}
	return p, nil
}

func writeEqualShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkNode checks node i of the sequence graph and records its output.
func (e *exporter) checkNode(i int, n *graph.Node) error {
	if n.Name == "" || e.nodeNames[n.Name] {
		return fmt.Errorf("export: node %d (%v): name %q is empty or not unique", i, n.Op, n.Name)
	}
	e.nodeNames[n.Name] = true
	if len(n.Outputs) != 1 || n.Outputs[0] == "" {
		return e.nodeErr(n, "has %d outputs, expected 1", len(n.Outputs))
	}
	if len(n.Inputs) == 0 {
		return e.nodeErr(n, "has no inputs")
	}
	in := e.vals[n.Inputs[0]]
	if in == nil {
		return e.nodeErr(n, "reads %q before any node defines it", n.Inputs[0])
	}
	outName := n.Outputs[0]
	if e.vals[outName] != nil || e.params[outName] != nil || outName == graph.ValueLengths {
		return e.nodeErr(n, "defines %q, which is already defined", outName)
	}
	if in.last && n.Op != graph.OpSigmoid && n.Op != graph.OpDense && n.Op != graph.OpDropout {
		return e.nodeErr(n, "reads %q, a last-step value, which this op cannot take", in.name)
	}
	nIn := map[graph.Op]int{graph.OpNormalize: 3, graph.OpLSTM: 4, graph.OpGRU: 4, graph.OpDropout: 1,
		graph.OpDense: 3, graph.OpSigmoid: 1, graph.OpLastStep: 1}
	want, ok := nIn[n.Op]
	if !ok {
		return e.nodeErr(n, "op %v cannot be exported (the writer handles Normalize, LSTM, GRU, Dropout, Dense, Sigmoid and LastStep)", n.Op)
	}
	if len(n.Inputs) != want {
		return e.nodeErr(n, "has %d inputs, expected %d", len(n.Inputs), want)
	}
	out := &seqValue{name: outName, width: in.width, last: in.last}
	I := in.width
	switch n.Op {
	case graph.OpNormalize:
		if in.name != graph.ValueX || e.normalized {
			return e.nodeErr(n, "normalizes %q: only one Normalize node, reading x, can be exported", in.name)
		}
		if _, err := e.param(n, 1, "mean [F]", I); err != nil {
			return err
		}
		std, err := e.param(n, 2, "std [F]", I)
		if err != nil {
			return err
		}
		for i, v := range std.Tensor.F32 {
			if v == 0 {
				return e.nodeErr(n, "parameter %s: element %d is 0, expected a nonzero deviation", std.Name, i)
			}
		}
		e.normalized = true
	case graph.OpLSTM, graph.OpGRU:
		gates := graph.LSTMGates
		if n.Op == graph.OpGRU {
			gates = graph.GRUGates
		}
		r := e.params[n.Inputs[2]]
		if r == nil || len(r.Tensor.Shape) != 2 || r.Tensor.Shape[0] != gates*r.Tensor.Shape[1] || r.Tensor.Shape[1] == 0 {
			return e.nodeErr(n, "input 2 (R) must be a parameter of shape [%d·H, H]", gates)
		}
		H := r.Tensor.Shape[1]
		if a, ok := n.Attrs["hidden_size"]; ok && (a.Kind != graph.AttrInt || a.Int != int64(H)) {
			return e.nodeErr(n, "attribute hidden_size is %d, but R has shape %v", a.Int, r.Tensor.Shape)
		}
		if n.Op == graph.OpGRU {
			if a, ok := n.Attrs["linear_before_reset"]; ok && (a.Kind != graph.AttrInt || a.Int != 1) {
				return e.nodeErr(n, "attribute linear_before_reset is %d, expected 1", a.Int)
			}
		}
		if _, err := e.param(n, 1, "W", gates*H, I); err != nil {
			return err
		}
		nb := gates * H // LSTM: one bias per gate
		if n.Op == graph.OpGRU {
			nb = 2 * gates * H // GRU: input then recurrent bias
		}
		if _, err := e.param(n, 3, "B", nb); err != nil {
			return err
		}
		out.width = H
	case graph.OpDense:
		w := e.params[n.Inputs[1]]
		if w == nil || len(w.Tensor.Shape) != 2 || w.Tensor.Shape[1] != I || w.Tensor.Shape[0] == 0 {
			return e.nodeErr(n, "input 1 (W) must be a parameter of shape [K, %d]", I)
		}
		K := w.Tensor.Shape[0]
		if _, err := e.param(n, 2, "b", K); err != nil {
			return err
		}
		out.width = K
	case graph.OpLastStep:
		out.last = true
	case graph.OpDropout:
		// The identity at inference: the output is another name for the
		// input, with the same forms and demands.
		out = in
	}
	e.vals[outName] = out
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
		e.inits = append(e.inits, writeTensor(name, t))
	}
	return name
}

// paramInit adds a float32 parameter as an initializer of the given shape (the
// same data, reshaped).
func (e *exporter) paramInit(name string, shape ...int) string {
	p := e.params[name]
	return e.addInit(name, &graph.Tensor{DType: graph.Float32, Shape: shape, F32: p.Tensor.F32})
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
func (e *exporter) emit() error {
	for _, n := range e.g.Nodes {
		in, out := e.vals[n.Inputs[0]], e.vals[n.Outputs[0]]
		if !out.needPer && !out.needLast {
			continue // dead, or dropped (nothing exported reads it)
		}
		switch n.Op {
		case graph.OpDropout:
			// Inference is the identity: analyse made the output an alias of
			// the input, so there is nothing to write.
		case graph.OpLastStep:
			out.lastName = in.lastName
		case graph.OpNormalize:
			mean, std := e.paramInit(n.Inputs[1], in.width), e.paramInit(n.Inputs[2], in.width)
			// x is batch-major; (x − mean) / std broadcasts over the last axis.
			out.per, out.perTime = writePerName(out, false), false
			centered := out.per + ".centered"
			e.node(n.Name+".sub", "Sub", []string{in.per, mean}, []string{centered})
			e.node(n.Name+".div", "Div", []string{centered, std}, []string{out.per})
		case graph.OpLSTM, graph.OpGRU:
			e.recurrent(n, in, out)
		case graph.OpDense:
			K := out.width
			if out.needLast {
				out.lastName = writeLastName(out)
				e.node(n.Name+".last", "Gemm",
					[]string{in.lastName, e.paramInit(n.Inputs[1], K, in.width), e.paramInit(n.Inputs[2], K)},
					[]string{out.lastName}, writeAttrInt("transB", 1))
			}
			if out.needPer {
				w := e.params[n.Inputs[1]].Tensor
				wt := make([]float32, len(w.F32)) // Wᵀ [I, K]
				for k := 0; k < K; k++ {
					for i := 0; i < in.width; i++ {
						wt[i*K+k] = w.F32[k*in.width+i]
					}
				}
				wtName := e.addInit(n.Inputs[1]+"_t", &graph.Tensor{DType: graph.Float32, Shape: []int{in.width, K}, F32: wt})
				out.per, out.perTime = writePerName(out, false), false
				mm := out.per + ".matmul"
				e.node(n.Name+".matmul", "MatMul", []string{e.layout(in, false), wtName}, []string{mm})
				e.node(n.Name+".add", "Add", []string{mm, e.paramInit(n.Inputs[2], K)}, []string{out.per})
			}
		case graph.OpSigmoid:
			if out.needLast {
				out.lastName = writeLastName(out)
				e.node(n.Name+".last", "Sigmoid", []string{in.lastName}, []string{out.lastName})
			}
			if out.needPer {
				out.per, out.perTime = writePerName(out, in.perTime), in.perTime
				e.node(n.Name, "Sigmoid", []string{in.per}, []string{out.per})
			}
		}
	}
	// The outputs: probs is a last-step value; step_probs is masked so that
	// padded steps are exactly 0.
	for _, name := range e.outputs {
		v := e.vals[name]
		if name == graph.ValueProbs {
			e.rename(v.lastName, name)
			continue
		}
		e.node(name+".mask", "Mul", []string{e.layout(v, false), e.mask()}, []string{name})
	}
	return nil
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
	if out.needLast {
		yh = n.Name + ".Y_h"
	}
	outputs := []string{y}
	if yh != "" {
		outputs = append(outputs, yh)
	}
	var W, R, B string
	var attrs []*onnxpb.AttributeProto
	attrs = append(attrs, writeAttrString("direction", "forward"), writeAttrInt("hidden_size", int64(H)))
	opType := "LSTM"
	if n.Op == graph.OpLSTM {
		W = e.paramInit(n.Inputs[1], 1, graph.LSTMGates*H, I)
		R = e.paramInit(n.Inputs[2], 1, graph.LSTMGates*H, H)
		// ONNX's B is [Wb, Rb]; the graph's single bias is Wb and Rb = 0.
		b := make([]float32, 2*graph.LSTMGates*H)
		copy(b, e.params[n.Inputs[3]].Tensor.F32)
		B = e.addInit(n.Inputs[3], &graph.Tensor{DType: graph.Float32, Shape: []int{1, 2 * graph.LSTMGates * H}, F32: b})
	} else {
		opType = "GRU"
		W = e.paramInit(n.Inputs[1], 1, graph.GRUGates*H, I)
		R = e.paramInit(n.Inputs[2], 1, graph.GRUGates*H, H)
		B = e.paramInit(n.Inputs[3], 1, 2*graph.GRUGates*H)
		attrs = append(attrs, writeAttrInt("linear_before_reset", 1))
	}
	e.node(n.Name, opType, []string{x, W, R, B, graph.ValueLengths}, outputs, attrs...)
	if y != "" {
		// Y [T, 1, B, H] → [T, B, H]
		out.per, out.perTime = writePerName(out, true), true
		e.node(n.Name+".squeeze_y", "Squeeze", []string{y, e.axes(1)}, []string{out.per})
	}
	if yh != "" {
		// Y_h [1, B, H] → [B, H]
		out.lastName = writeLastName(out)
		e.node(n.Name+".squeeze_h", "Squeeze", []string{yh, e.axes(0)}, []string{out.lastName})
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
	e.node("mask.lengths", "Cast", []string{graph.ValueLengths}, []string{"mask.lengths"}, writeAttrInt("to", int64(onnxpb.TensorProto_INT64)))
	e.node("mask.lengths_col", "Unsqueeze", []string{"mask.lengths", e.axes(1)}, []string{"mask.lengths_col"})
	e.node("mask.valid", "Less", []string{"mask.steps", "mask.lengths_col"}, []string{"mask.valid"})
	e.node("mask.valid_f", "Cast", []string{"mask.valid"}, []string{"mask.valid_f"}, writeAttrInt("to", int64(onnxpb.TensorProto_FLOAT)))
	e.node("mask.unsqueeze", "Unsqueeze", []string{"mask.valid_f", e.axes(2)}, []string{name})
	return name
}

// verify checks the ONNX graph the writer built: node names are unique,
// every value is defined once, and every input is defined before it is
// read. A failure means the sequence graph's names collide with the names
// the writer introduces.
func (e *exporter) verify() error {
	defined := map[string]bool{graph.ValueX: true, graph.ValueLengths: true}
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
	for _, o := range e.outputs {
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
func (e *exporter) model() (*onnxpb.ModelProto, error) {
	F, K := int64(e.feats), int64(e.labels)
	inputs := []*onnxpb.ValueInfoProto{
		writeValueInfo(graph.ValueX, onnxpb.TensorProto_FLOAT, graph.DimBatch, graph.DimTime, F),
		writeValueInfo(graph.ValueLengths, onnxpb.TensorProto_INT32, graph.DimBatch),
	}
	var outputs []*onnxpb.ValueInfoProto
	for _, name := range e.outputs {
		if name == graph.ValueProbs {
			outputs = append(outputs, writeValueInfo(name, onnxpb.TensorProto_FLOAT, graph.DimBatch, K))
		} else {
			outputs = append(outputs, writeValueInfo(name, onnxpb.TensorProto_FLOAT, graph.DimBatch, graph.DimTime, K))
		}
	}
	meta, err := e.metadata()
	if err != nil {
		return nil, err
	}
	name := e.spec.Name
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
		MetadataProps: meta,
	}, nil
}

func (e *exporter) docString() string {
	var layers []string
	for _, l := range e.spec.Layers {
		if l.Kind == compiler.LayerLSTM || l.Kind == compiler.LayerGRU {
			layers = append(layers, fmt.Sprintf("%s(%d)", strings.ToUpper(l.Kind), l.Units))
		}
	}
	s := fmt.Sprintf("trnn sequence classifier %s: %s, %d label(s). Inputs x [batch, time, %d] (right-padded) and lengths [batch]; "+
		"probs [batch, %d] is the sigmoid of the head at each row's last valid step", e.spec.Name, strings.Join(layers, " → "), e.labels, e.feats, e.labels)
	if e.stepProbs {
		s += fmt.Sprintf("; step_probs [batch, time, %d] at every step, 0 at padded steps", e.labels)
	}
	return s + "."
}

// metadata returns the metadata_props: the graph's free-form Meta, then the
// keys the writer owns (which win), sorted by key.
func (e *exporter) metadata() ([]*onnxpb.StringStringEntryProto, error) {
	m := map[string]string{}
	for k, v := range e.g.Meta {
		m[k] = v
	}
	feats := e.spec.Inputs.FeatureNames
	if len(feats) == 0 {
		for i := 0; i < e.feats; i++ {
			feats = append(feats, "f"+strconv.Itoa(i))
		}
	}
	if len(feats) != e.feats {
		return nil, e.errorf("spec %q has %d feature names for %d features", e.spec.Name, len(feats), e.feats)
	}
	labels := e.spec.Outputs.LabelNames
	if len(labels) == 0 {
		if e.labels == 1 {
			labels = []string{"y"}
		} else {
			for i := 0; i < e.labels; i++ {
				labels = append(labels, "y"+strconv.Itoa(i))
			}
		}
	}
	if len(labels) != e.labels {
		return nil, e.errorf("spec %q has %d label names for %d labels", e.spec.Name, len(labels), e.labels)
	}
	fj, _ := json.Marshal(feats)
	lj, _ := json.Marshal(labels)
	m[MetaVersion] = e.version
	m[MetaSpecName] = e.spec.Name
	m[MetaFeatureNames] = string(fj)
	m[MetaLabelNames] = string(lj)
	m[MetaAlpha] = strconv.FormatFloat(e.spec.Objective.Alpha, 'g', -1, 64)
	delete(m, MetaNormMean)
	delete(m, MetaNormStd)
	if e.normalized {
		m[MetaNormalize] = "standard"
		for _, n := range e.g.Nodes {
			if n.Op == graph.OpNormalize {
				m[MetaNormMean] = writeJSONFloats(e.params[n.Inputs[1]].Tensor.F32)
				m[MetaNormStd] = writeJSONFloats(e.params[n.Inputs[2]].Tensor.F32)
			}
		}
	} else {
		m[MetaNormalize] = "none"
	}
	// The spec as resolved for this file: its export section says what
	// was written. The training data's file names stay behind: they are
	// paths of the machine that trained the model, and nothing that uses
	// the model needs them (the CSV column roles are kept).
	resolved := *e.spec
	resolved.Export = compiler.Export{Opset: e.opset, StepProbs: e.stepProbs}
	resolved.Data.Train = ""
	if resolved.Training.Validation.File != "" {
		// Without the file the spec has no validation data, so no early
		// stopping either (the compiler would refuse patience).
		resolved.Training.Validation.File = ""
		resolved.Training.Validation.Patience = 0
	}
	spec, err := compiler.MarshalSpec(&resolved)
	if err != nil {
		return nil, e.errorf("writing the spec: %v", err)
	}
	m[MetaSpec] = string(spec)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*onnxpb.StringStringEntryProto, len(keys))
	for i, k := range keys {
		out[i] = &onnxpb.StringStringEntryProto{Key: proto.String(k), Value: proto.String(m[k])}
	}
	return out, nil
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
func writeValueInfo(name string, et onnxpb.TensorProto_DataType, dims ...any) *onnxpb.ValueInfoProto {
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
			ElemType: proto.Int32(int32(et)),
			Shape:    shape,
		}}},
	}
}

// writeTensor encodes a tensor as an ONNX initializer, data in raw_data
// (little endian, as ONNX specifies).
func writeTensor(name string, t *graph.Tensor) *onnxpb.TensorProto {
	dims := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = int64(d)
	}
	var buf bytes.Buffer
	var dt onnxpb.TensorProto_DataType
	switch t.DType {
	case graph.Float32:
		dt = onnxpb.TensorProto_FLOAT
		binary.Write(&buf, binary.LittleEndian, t.F32)
	case graph.Int64:
		dt = onnxpb.TensorProto_INT64
		binary.Write(&buf, binary.LittleEndian, t.I64)
	default:
		panic("export: writeTensor: unsupported dtype " + t.DType.String())
	}
	return &onnxpb.TensorProto{
		Name:     proto.String(name),
		Dims:     dims,
		DataType: proto.Int32(int32(dt)),
		RawData:  buf.Bytes(),
	}
}
