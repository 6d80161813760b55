package export

// Reading ONNX: a model file becomes a tensor-form graph.Graph, validated
// at the boundary against the op table (graph.Info) so that everything
// after it (the interpreter) meets only ops, attributes and types it
// implements, and need not check them again.

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/graph"
)

// ErrUnsupported is matched (errors.Is) by every read error caused by a
// valid ONNX construct that trnn does not implement: an op, an attribute or
// attribute value, an element type, an opset, external data. Other read
// errors mean the file is not valid ONNX.
var ErrUnsupported = errors.New("not supported by trnn")

// ReadError is an error reading an ONNX model or tensor file. It prints as
// one line: "File: Where: Msg".
type ReadError struct {
	File        string // the file as named by the caller
	Where       string // the place in it: `node "lstm_1" (LSTM)`, `initializer "W"`, ...; may be empty
	Msg         string // the rule broken and what was found
	Unsupported bool   // the construct is valid ONNX that trnn does not implement
}

func (e *ReadError) Error() string {
	if e.Where == "" {
		return e.File + ": " + e.Msg
	}
	return e.File + ": " + e.Where + ": " + e.Msg
}

// Is reports whether target is ErrUnsupported and e is an unsupported
// construct.
func (e *ReadError) Is(target error) bool { return target == ErrUnsupported && e.Unsupported }

// Problems found below the level that knows the file and the place are
// *graph.RuleError values, the type the op table's own checks return, so
// that both become a ReadError the same way.
func malformed(format string, args ...any) error {
	return &graph.RuleError{Msg: fmt.Sprintf(format, args...)}
}

func unsupported(format string, args ...any) error {
	return &graph.RuleError{Msg: fmt.Sprintf(format, args...), Unsupported: true}
}

// readError places a problem in file at where (may be empty).
func readError(file, where string, err error) error {
	var re *graph.RuleError
	if errors.As(err, &re) {
		return &ReadError{File: file, Where: where, Msg: re.Msg, Unsupported: re.Unsupported}
	}
	return &ReadError{File: file, Where: where, Msg: err.Error()}
}

// ReadONNX reads an ONNX model file into a tensor-form graph; see
// DecodeONNX. Errors name the file as given.
func ReadONNX(path string) (*graph.Graph, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return DecodeONNX(path, b)
}

// DecodeONNX decodes the ONNX model b (name is used in errors) into a
// tensor-form graph. It checks that the default-domain opset is within
// graph.MinReadOpset..graph.MaxReadOpset and no other domain is used; that
// every node follows its op's ONNXRule in the op table (the op exists at
// that opset, input and output counts, attributes with their kinds, opset
// ranges and values, rules over several attributes); that every node input
// is a graph input, an initializer or an output of an earlier node, and
// every graph output is defined; that every tensor (initializer, Constant
// value, declared value) has a supported element type and consistent data,
// stored in the file. Errors are *ReadError values; those matching
// ErrUnsupported name a construct trnn does not implement.
//
// Initializers become parameters (Init "onnx") and are not graph inputs,
// even when the file also lists them as inputs.
func DecodeONNX(name string, b []byte) (*graph.Graph, error) {
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		if what := notONNX(b); what != "" {
			return nil, &ReadError{File: name, Msg: what}
		}
		return nil, &ReadError{File: name, Msg: "not an ONNX model: " + err.Error()}
	}
	if m.Graph == nil {
		return nil, &ReadError{File: name, Msg: "not an ONNX model: no graph"}
	}
	r := &onnxReader{file: name, params: map[string]*graph.Param{}, defined: map[string]bool{}}
	g, err := r.model(&m)
	if err != nil {
		return nil, err
	}
	// The checks above imply the graph's invariants; Verify confirms them.
	if err := graph.Verify(g); err != nil {
		return nil, &ReadError{File: name, Msg: "invalid graph: " + firstError(err)}
	}
	return g, nil
}

// firstError is err on one line: the first violation of a graph.Errors,
// with a count of the others.
func firstError(err error) string {
	var errs graph.Errors
	if !errors.As(err, &errs) || len(errs) == 0 {
		return err.Error()
	}
	if len(errs) > 1 {
		return fmt.Sprintf("%s (and %d more errors)", errs[0], len(errs)-1)
	}
	return errs[0]
}

// onnxReader holds one decode's state. Names are looked up in maps: a
// model may have thousands of initializers and nodes.
type onnxReader struct {
	file    string
	opset   int
	g       *graph.Graph
	params  map[string]*graph.Param // the initializers
	defined map[string]bool         // every name a node may read
	// parent reads the graph enclosing a subgraph (nil for the model's
	// graph): its names defined so far are visible in the subgraph.
	parent *onnxReader
	// root is the model's graph, and taken every name in it and its
	// subgraphs, gathered when the reader first needs a name of its own
	// (legacyNormalize); both are the model reader's.
	root  *onnxpb.GraphProto
	taken map[string]bool
}

// fail places err at where. In a subgraph the place is relative to the
// node holding it, which adds its own, so the error stays a RuleError.
func (r *onnxReader) fail(where string, err error) error {
	if r.parent == nil {
		return readError(r.file, where, err)
	}
	var re *graph.RuleError
	if !errors.As(err, &re) {
		re = &graph.RuleError{Msg: err.Error()}
	}
	if where == "" {
		return re
	}
	return &graph.RuleError{Msg: where + ": " + re.Msg, Unsupported: re.Unsupported}
}

// visible reports whether a node may read name: it is defined in this
// graph or, before the node holding this subgraph, in an enclosing one.
// A visible name may not be defined again: ONNX assigns each name once
// across a graph and its subgraphs, so a subgraph never shadows a name.
func (r *onnxReader) visible(name string) bool {
	return r.defined[name] || (r.parent != nil && r.parent.visible(name))
}

func (r *onnxReader) model(m *onnxpb.ModelProto) (*graph.Graph, error) {
	if err := r.readOpset(m.OpsetImport); err != nil {
		return nil, r.fail("", err)
	}
	gp := m.Graph
	r.root = gp
	r.g = &graph.Graph{
		Name:   gp.GetName(),
		Form:   graph.FormTensor,
		Values: map[string]*graph.Value{},
	}
	if len(m.MetadataProps) > 0 {
		r.g.Meta = map[string]string{}
		for _, p := range m.MetadataProps {
			r.g.Meta[p.GetKey()] = p.GetValue()
		}
	}
	for _, step := range []func(*onnxpb.GraphProto) error{r.initializers, r.inputs, r.valueInfos, r.nodes, r.outputs} {
		if err := step(gp); err != nil {
			return nil, err
		}
	}
	return r.g, nil
}

// readOpset finds the default domain's opset and checks that trnn reads it.
func (r *onnxReader) readOpset(imports []*onnxpb.OperatorSetIdProto) error {
	r.opset = -1
	for _, o := range imports {
		switch o.GetDomain() {
		case "", "ai.onnx":
			r.opset = int(o.GetVersion())
		}
	}
	if r.opset < 0 {
		if len(imports) == 0 {
			return malformed("not an ONNX model: no opset_import")
		}
		return unsupported("the model does not import the default ONNX domain")
	}
	if r.opset < graph.MinReadOpset || r.opset > graph.MaxReadOpset {
		return unsupported("opset %d is not supported (trnn reads opsets %d to %d)", r.opset, graph.MinReadOpset, graph.MaxReadOpset)
	}
	return nil
}

func (r *onnxReader) initializers(gp *onnxpb.GraphProto) error {
	for _, tp := range gp.Initializer {
		name := tp.GetName()
		where := fmt.Sprintf("initializer %q", name)
		if name == "" {
			return r.fail("initializer", malformed("initializer has no name"))
		}
		if r.visible(name) {
			return r.fail(where, malformed("name defined twice"))
		}
		t, err := decodeTensor(tp)
		if err != nil {
			return r.fail(where, err)
		}
		r.defined[name] = true
		p := &graph.Param{Name: name, Tensor: t, Init: "onnx"}
		r.params[name] = p
		r.g.Params = append(r.g.Params, p)
	}
	return nil
}

func (r *onnxReader) inputs(gp *onnxpb.GraphProto) error {
	for _, vi := range gp.Input {
		where := fmt.Sprintf("input %q", vi.GetName())
		v, err := r.valueInfo(vi)
		if err != nil {
			return r.fail(where, err)
		}
		if r.params[v.Name] != nil {
			continue // an initializer listed as an input (IR < 4): a constant
		}
		if r.visible(v.Name) {
			return r.fail(where, malformed("name defined twice"))
		}
		r.defined[v.Name] = true
		r.g.Inputs = append(r.g.Inputs, *v)
		r.g.Values[v.Name] = v
	}
	return nil
}

// valueInfos records the declared types of intermediate values; a graph
// input's own declaration wins.
func (r *onnxReader) valueInfos(gp *onnxpb.GraphProto) error {
	for _, vi := range gp.ValueInfo {
		v, err := readValueInfo(vi)
		if err != nil {
			return r.fail(fmt.Sprintf("value_info %q", vi.GetName()), err)
		}
		if _, ok := r.g.Values[v.Name]; !ok {
			r.g.Values[v.Name] = v
		}
	}
	return nil
}

func (r *onnxReader) nodes(gp *onnxpb.GraphProto) error {
	for i, np := range gp.Node {
		where := readNodeWhere(i, np.GetName(), np.GetOpType())
		n, err := r.node(np)
		if err != nil {
			return r.fail(where, err)
		}
		for j, in := range n.Inputs {
			if in != "" && !r.visible(in) {
				return r.fail(where, malformed("input %d %q is not a graph input, an initializer or an output of an earlier node", j, in))
			}
		}
		for _, out := range n.Outputs {
			if out == "" {
				continue
			}
			if r.visible(out) {
				return r.fail(where, malformed("output %q is already defined", out))
			}
			r.defined[out] = true
		}
		if isNormalize(n.Op) && r.opset < 13 {
			r.g.Nodes = append(r.g.Nodes, r.legacyNormalize(n, where)...)
			continue
		}
		r.g.Nodes = append(r.g.Nodes, n)
	}
	return nil
}

func (r *onnxReader) outputs(gp *onnxpb.GraphProto) error {
	if len(gp.Output) == 0 {
		return r.fail("", malformed("the graph has no outputs"))
	}
	listed := map[string]bool{}
	for _, vi := range gp.Output {
		where := fmt.Sprintf("output %q", vi.GetName())
		v, err := r.valueInfo(vi)
		if err != nil {
			return r.fail(where, err)
		}
		if !r.visible(v.Name) {
			return r.fail(where, malformed("not produced by any node, input or initializer"))
		}
		if listed[v.Name] {
			return r.fail(where, malformed("listed twice"))
		}
		listed[v.Name] = true
		r.g.Outputs = append(r.g.Outputs, *v)
		if old, ok := r.g.Values[v.Name]; !ok || old.Shape == nil {
			r.g.Values[v.Name] = v
		}
	}
	return nil
}

// readNodeWhere names node i for errors: by name, or by index when unnamed.
func readNodeWhere(i int, name, op string) string {
	if name == "" {
		return fmt.Sprintf("node %d (%s)", i, op)
	}
	return fmt.Sprintf("node %q (%s)", name, op)
}

// valueInfo converts a declared input or output. A subgraph's may leave
// out the type (ONNX's own function expansions do): the value is then of
// unknown type, which only the kernels reading it check.
func (r *onnxReader) valueInfo(vi *onnxpb.ValueInfoProto) (*graph.Value, error) {
	if r.parent != nil && vi.GetName() != "" && vi.Type == nil {
		return &graph.Value{Name: vi.GetName()}, nil
	}
	return readValueInfo(vi)
}

// readValueInfo converts a declared input, output or value_info entry.
func readValueInfo(vi *onnxpb.ValueInfoProto) (*graph.Value, error) {
	if vi.GetName() == "" {
		return nil, malformed("value has no name")
	}
	if vi.Type == nil {
		return nil, malformed("no type")
	}
	tt := vi.Type.GetTensorType()
	if tt == nil {
		return nil, unsupported("type is not a tensor (sequence, map and optional types are not supported)")
	}
	dt, err := graph.ONNXDType(tt.GetElemType())
	if err != nil {
		return nil, err
	}
	v := &graph.Value{Name: vi.GetName(), DType: dt}
	if tt.Shape != nil {
		v.Shape = graph.Shape{}
		for i, d := range tt.Shape.Dim {
			switch x := d.GetValue().(type) {
			case *onnxpb.TensorShapeProto_Dimension_DimValue:
				if x.DimValue < 0 || x.DimValue > graph.MaxElements {
					return nil, malformed("dimension %d is %d", i, x.DimValue)
				}
				v.Shape = append(v.Shape, graph.Fixed(int(x.DimValue)))
			case *onnxpb.TensorShapeProto_Dimension_DimParam:
				v.Shape = append(v.Shape, graph.Sym(x.DimParam))
			default:
				v.Shape = append(v.Shape, graph.Sym("?"))
			}
		}
	}
	return v, nil
}

// ---------------------------------------------------------------------------
// Nodes, checked against the op table.

func (r *onnxReader) node(np *onnxpb.NodeProto) (*graph.Node, error) {
	rule, op, err := r.opRule(np)
	if err != nil {
		return nil, err
	}
	n := &graph.Node{
		Name:    np.GetName(),
		Op:      op,
		Inputs:  slices.Clone(np.Input),
		Outputs: slices.Clone(np.Output),
		Attrs:   map[string]graph.Attr{},
	}
	if err := r.checkArity(n, rule); err != nil {
		return nil, err
	}
	for _, ap := range np.Attribute {
		a, err := r.attribute(ap, rule)
		if err != nil {
			return nil, err
		}
		name := ap.GetName()
		if _, dup := n.Attrs[name]; dup {
			return nil, malformed("attribute %s is given twice", name)
		}
		n.Attrs[name] = a
	}
	if err := r.checkAttrs(n, rule); err != nil {
		return nil, err
	}
	return n, nil
}

// opRule returns the op of np and its ONNX rule, checking that trnn reads
// it at the model's opset.
func (r *onnxReader) opRule(np *onnxpb.NodeProto) (*graph.ONNXRule, graph.Op, error) {
	if d := np.GetDomain(); d != "" && d != "ai.onnx" {
		return nil, 0, unsupported("op %q of domain %q is not supported (trnn reads the default ONNX domain only)", np.GetOpType(), d)
	}
	op, ok := graph.OpByName(np.GetOpType())
	if !ok || !op.IsONNX() {
		return nil, 0, unsupported("unsupported op type %q", np.GetOpType())
	}
	rule := graph.Info(op).ONNX
	if r.opset < rule.Since {
		return nil, 0, unsupported("%s at opset %d is not supported (trnn reads %s from opset %d)", op, r.opset, op, rule.Since)
	}
	return rule, op, nil
}

// checkArity checks n's input and output counts and its omitted ("")
// inputs and outputs. Trailing omitted inputs are dropped: they do not
// count.
func (r *onnxReader) checkArity(n *graph.Node, rule *graph.ONNXRule) error {
	nin := len(n.Inputs)
	for nin > 0 && n.Inputs[nin-1] == "" {
		nin--
	}
	n.Inputs = n.Inputs[:nin]
	minIn, maxIn := rule.Inputs(r.opset)
	if nin < minIn || (maxIn >= 0 && nin > maxIn) {
		return malformed("%s at opset %d takes %s, found %d", n.Op, r.opset, readCount(minIn, maxIn, "input"), nin)
	}
	for i, in := range n.Inputs {
		if in == "" && (i < minIn || !slices.Contains(rule.Optional, i)) {
			return malformed("input %d is required but empty", i)
		}
	}
	if len(n.Outputs) < rule.MinOut || len(n.Outputs) > rule.MaxOut {
		return malformed("%s takes %s, found %d", n.Op, readCount(rule.MinOut, rule.MaxOut, "output"), len(n.Outputs))
	}
	for i, out := range n.Outputs {
		if out == "" && !rule.OmitOutputs {
			return malformed("output %d has no name", i)
		}
	}
	return nil
}

// checkAttrs checks each attribute against the rule (in name order, so the
// first problem reported does not depend on the file's order), then the
// required attributes, then the rules over several attributes.
func (r *onnxReader) checkAttrs(n *graph.Node, rule *graph.ONNXRule) error {
	for _, name := range slices.Sorted(maps.Keys(n.Attrs)) {
		a := n.Attrs[name]
		ar, ok := rule.Attrs[name]
		if !ok || r.opset < ar.Since || (ar.Until > 0 && r.opset >= ar.Until) {
			return unsupported("attribute %s is not supported for %s at opset %d", name, n.Op, r.opset)
		}
		if a.Kind != ar.Kind {
			return malformed("attribute %s: expected %s, found %s", name, readKindName(ar.Kind), readKindName(a.Kind))
		}
		if ar.Check != nil {
			if err := ar.Check(name, a); err != nil {
				return err
			}
		}
	}
	for _, name := range rule.Required {
		if _, ok := n.Attrs[name]; !ok {
			return malformed("attribute %s is required", name)
		}
	}
	if rule.Check != nil {
		return rule.Check(n, r.opset)
	}
	return nil
}

func readCount(lo, hi int, what string) string {
	switch {
	case hi < 0:
		return fmt.Sprintf("at least %d %ss", lo, what)
	case lo == hi && lo == 1:
		return fmt.Sprintf("1 %s", what)
	case lo == hi:
		return fmt.Sprintf("%d %ss", lo, what)
	}
	return fmt.Sprintf("%d to %d %ss", lo, hi, what)
}

// attribute converts an AttributeProto, reading a subgraph as the model's
// graph is read, with the names defined so far visible in it. A graph the
// op takes no graph for is not read: checkAttrs reports the attribute.
func (r *onnxReader) attribute(ap *onnxpb.AttributeProto, rule *graph.ONNXRule) (graph.Attr, error) {
	if ap.GetType() != onnxpb.AttributeProto_GRAPH && (ap.GetType() != onnxpb.AttributeProto_UNDEFINED || ap.G == nil) {
		return readAttribute(ap)
	}
	if rule.Attrs[ap.GetName()].Kind != graph.AttrGraph {
		return graph.Attr{Kind: graph.AttrGraph}, nil
	}
	if ap.G == nil {
		return graph.Attr{}, malformed("attribute %s: graph missing", ap.GetName())
	}
	g, err := r.subgraph(ap.G)
	var re *graph.RuleError
	if errors.As(err, &re) {
		return graph.Attr{}, &graph.RuleError{Msg: "attribute " + ap.GetName() + ": " + re.Msg, Unsupported: re.Unsupported}
	}
	if err != nil {
		return graph.Attr{}, err
	}
	return graph.Attr{Kind: graph.AttrGraph, Graph: g}, nil
}

// subgraph reads the body of an If, Loop or Scan with the checks of the
// model's graph. Its errors are RuleErrors placed within it.
func (r *onnxReader) subgraph(gp *onnxpb.GraphProto) (*graph.Graph, error) {
	sub := &onnxReader{file: r.file, opset: r.opset, parent: r, params: map[string]*graph.Param{}, defined: map[string]bool{},
		g: &graph.Graph{Name: gp.GetName(), Form: graph.FormTensor, Values: map[string]*graph.Value{}}}
	for _, step := range []func(*onnxpb.GraphProto) error{sub.initializers, sub.inputs, sub.valueInfos, sub.nodes, sub.outputs} {
		if err := step(gp); err != nil {
			return nil, err
		}
	}
	return sub.g, nil
}

// readAttribute converts an AttributeProto that does not hold a graph.
func readAttribute(ap *onnxpb.AttributeProto) (graph.Attr, error) {
	name := ap.GetName()
	if name == "" {
		return graph.Attr{}, malformed("attribute has no name")
	}
	if ap.GetRefAttrName() != "" {
		return graph.Attr{}, malformed("attribute %s refers to a function attribute outside a function", name)
	}
	typ := ap.GetType()
	if typ == onnxpb.AttributeProto_UNDEFINED {
		if typ = readAttrType(ap); typ == onnxpb.AttributeProto_UNDEFINED {
			return graph.Attr{}, malformed("attribute %s has no type and no value", name)
		}
	}
	switch typ {
	case onnxpb.AttributeProto_FLOAT:
		return graph.Attr{Kind: graph.AttrFloat, Float: ap.GetF()}, nil
	case onnxpb.AttributeProto_INT:
		return graph.Attr{Kind: graph.AttrInt, Int: ap.GetI()}, nil
	case onnxpb.AttributeProto_STRING:
		return graph.Attr{Kind: graph.AttrString, String: string(ap.GetS())}, nil
	case onnxpb.AttributeProto_FLOATS:
		return graph.Attr{Kind: graph.AttrFloats, Floats: slices.Clone(ap.Floats)}, nil
	case onnxpb.AttributeProto_INTS:
		return graph.Attr{Kind: graph.AttrInts, Ints: slices.Clone(ap.Ints)}, nil
	case onnxpb.AttributeProto_STRINGS:
		s := make([]string, len(ap.Strings))
		for i, b := range ap.Strings {
			s[i] = string(b)
		}
		return graph.Attr{Kind: graph.AttrStrings, Strings: s}, nil
	case onnxpb.AttributeProto_TENSOR:
		if ap.T == nil {
			return graph.Attr{}, malformed("attribute %s: tensor missing", name)
		}
		t, err := decodeTensor(ap.T)
		var re *graph.RuleError
		if errors.As(err, &re) {
			return graph.Attr{}, &graph.RuleError{Msg: "attribute " + name + ": " + re.Msg, Unsupported: re.Unsupported}
		}
		if err != nil {
			return graph.Attr{}, err
		}
		return graph.Attr{Kind: graph.AttrTensor, Tensor: t}, nil
	}
	tn, ok := onnxpb.AttributeProto_AttributeType_name[int32(typ)]
	if !ok {
		return graph.Attr{}, malformed("attribute %s has unknown type %d", name, typ)
	}
	return graph.Attr{}, unsupported("attribute %s of type %s is not supported", name, tn)
}

// readAttrType infers the type files from before IR version 3 leave out,
// from the field that holds the value.
func readAttrType(ap *onnxpb.AttributeProto) onnxpb.AttributeProto_AttributeType {
	switch {
	case ap.F != nil:
		return onnxpb.AttributeProto_FLOAT
	case ap.I != nil:
		return onnxpb.AttributeProto_INT
	case ap.S != nil:
		return onnxpb.AttributeProto_STRING
	case ap.T != nil:
		return onnxpb.AttributeProto_TENSOR
	case len(ap.Floats) > 0:
		return onnxpb.AttributeProto_FLOATS
	case len(ap.Ints) > 0:
		return onnxpb.AttributeProto_INTS
	case len(ap.Strings) > 0:
		return onnxpb.AttributeProto_STRINGS
	}
	return onnxpb.AttributeProto_UNDEFINED
}

func readKindName(k graph.AttrKind) string {
	switch k {
	case graph.AttrInt:
		return "int"
	case graph.AttrFloat:
		return "float"
	case graph.AttrString:
		return "string"
	case graph.AttrInts:
		return "ints"
	case graph.AttrFloats:
		return "floats"
	case graph.AttrStrings:
		return "strings"
	case graph.AttrTensor:
		return "tensor"
	case graph.AttrGraph:
		return "graph"
	}
	return fmt.Sprintf("kind %d", k)
}
