package export

// Reading ONNX: a model file becomes a tensor-form graph.Graph, validated
// at the boundary so that everything after it (the interpreter) meets only
// ops, attributes and types it implements.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/ops"
)

// Opset versions of the default ONNX domain that ReadONNX accepts. Above 21
// no op trnn reads has been checked. Some ops need a later opset than
// MinReadOpset (readOpSince): before it their semantics differed.
const (
	MinReadOpset = 1
	MaxReadOpset = 21
)

// readOpSince is, for ops whose early versions differ from what the kernels
// implement, the first opset with the implemented semantics: numpy
// broadcasting (Add, Sub, Mul, Div, comparisons, And, Gemm: 7), the shape
// as an input (Reshape: 5), a required axis (Concat: 4), an integer target
// type (Cast: 6), and the current recurrent attributes (LSTM, GRU: 7).
var readOpSince = map[graph.Op]int{
	graph.OpAdd: 7, graph.OpSub: 7, graph.OpMul: 7, graph.OpDiv: 7,
	graph.OpLess: 7, graph.OpGreater: 7, graph.OpEqual: 7, graph.OpAnd: 7,
	graph.OpGemm: 7, graph.OpLSTM: 7, graph.OpGRU: 7,
	graph.OpReshape: 5, graph.OpConcat: 4, graph.OpCast: 6,
}

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

// readIssue is an error found below the level that knows the file and place.
type readIssue struct {
	msg         string
	unsupported bool
}

func (i *readIssue) Error() string { return i.msg }

func readMalformed(format string, args ...any) *readIssue {
	return &readIssue{msg: fmt.Sprintf(format, args...)}
}

func readUnsupported(format string, args ...any) *readIssue {
	return &readIssue{msg: fmt.Sprintf(format, args...), unsupported: true}
}

// ReadONNX reads an ONNX model file into a tensor-form graph; see
// DecodeONNX. Errors name the file as given.
func ReadONNX(path string) (*graph.Graph, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &ReadError{File: path, Msg: readFileErr(err)}
	}
	return DecodeONNX(path, b)
}

// readFileErr is an os error without the path it repeats.
func readFileErr(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return "cannot " + pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

// DecodeONNX decodes the ONNX model b (name is used in errors) into a
// tensor-form graph. It checks that the default-domain opset is within
// MinReadOpset..MaxReadOpset and no other domain is used; that every node is
// an op trnn implements with supported attributes and input counts; that
// every node input is a graph input, an initializer or an output of an
// earlier node, and every graph output is defined; that every tensor
// (initializer, Constant value, declared value) has a supported element type
// and consistent data, stored in the file. Errors are *ReadError values;
// those matching ErrUnsupported name a construct trnn does not implement.
//
// Initializers become parameters (Init "onnx") and are not graph inputs,
// even when the file also lists them as inputs.
func DecodeONNX(name string, b []byte) (*graph.Graph, error) {
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, &ReadError{File: name, Msg: "not an ONNX model: " + err.Error()}
	}
	if m.Graph == nil {
		return nil, &ReadError{File: name, Msg: "not an ONNX model: no graph"}
	}
	r := &onnxReader{file: name}
	g, err := r.model(&m)
	if err != nil {
		return nil, err
	}
	// The checks above imply the graph's invariants; Verify confirms them.
	if err := graph.Verify(g); err != nil {
		msg := err.Error()
		var el compiler.ErrorList
		if errors.As(err, &el) && len(el) > 0 {
			msg = el[0].Msg
		}
		return nil, &ReadError{File: name, Msg: "invalid graph: " + msg}
	}
	return g, nil
}

type onnxReader struct {
	file  string
	opset int
}

func (r *onnxReader) fail(where string, err error) error {
	var is *readIssue
	if errors.As(err, &is) {
		return &ReadError{File: r.file, Where: where, Msg: is.msg, Unsupported: is.unsupported}
	}
	return &ReadError{File: r.file, Where: where, Msg: err.Error()}
}

func (r *onnxReader) model(m *onnxpb.ModelProto) (*graph.Graph, error) {
	r.opset = -1
	for _, o := range m.OpsetImport {
		switch o.GetDomain() {
		case "", "ai.onnx":
			r.opset = int(o.GetVersion())
		}
	}
	if r.opset < 0 {
		if len(m.OpsetImport) == 0 {
			return nil, r.fail("", readMalformed("not an ONNX model: no opset_import"))
		}
		return nil, r.fail("", readUnsupported("the model does not import the default ONNX domain"))
	}
	if r.opset < MinReadOpset || r.opset > MaxReadOpset {
		return nil, r.fail("", readUnsupported("opset %d is not supported (trnn reads opsets %d to %d)", r.opset, MinReadOpset, MaxReadOpset))
	}
	gp := m.Graph
	g := &graph.Graph{
		Name:   gp.GetName(),
		Form:   graph.FormTensor,
		Values: map[string]*graph.Value{},
	}
	if len(m.MetadataProps) > 0 {
		g.Meta = map[string]string{}
		for _, p := range m.MetadataProps {
			g.Meta[p.GetKey()] = p.GetValue()
		}
	}

	// defined holds every name a node may read.
	defined := map[string]bool{}
	for _, tp := range gp.Initializer {
		where := fmt.Sprintf("initializer %q", tp.GetName())
		if tp.GetName() == "" {
			return nil, r.fail("initializer", readMalformed("initializer has no name"))
		}
		if defined[tp.GetName()] {
			return nil, r.fail(where, readMalformed("name defined twice"))
		}
		t, err := readTensorProto(tp)
		if err != nil {
			return nil, r.fail(where, err)
		}
		defined[tp.GetName()] = true
		g.Params = append(g.Params, &graph.Param{Name: tp.GetName(), Tensor: t, Init: "onnx"})
	}
	for _, vi := range gp.Input {
		where := fmt.Sprintf("input %q", vi.GetName())
		v, err := readValueInfo(vi)
		if err != nil {
			return nil, r.fail(where, err)
		}
		if g.Param(v.Name) != nil {
			continue // an initializer listed as an input (IR < 4): a constant
		}
		if defined[v.Name] {
			return nil, r.fail(where, readMalformed("name defined twice"))
		}
		defined[v.Name] = true
		g.Inputs = append(g.Inputs, *v)
		g.Values[v.Name] = v
	}
	for _, vi := range gp.ValueInfo {
		v, err := readValueInfo(vi)
		if err != nil {
			return nil, r.fail(fmt.Sprintf("value_info %q", vi.GetName()), err)
		}
		if _, ok := g.Values[v.Name]; !ok {
			g.Values[v.Name] = v
		}
	}

	for i, np := range gp.Node {
		where := readNodeWhere(i, np.GetName(), np.GetOpType())
		n, err := r.node(np)
		if err != nil {
			return nil, r.fail(where, err)
		}
		for j, in := range n.Inputs {
			if in != "" && !defined[in] {
				return nil, r.fail(where, readMalformed("input %d %q is not a graph input, an initializer or an output of an earlier node", j, in))
			}
		}
		for _, out := range n.Outputs {
			if out == "" {
				continue
			}
			if defined[out] {
				return nil, r.fail(where, readMalformed("output %q is already defined", out))
			}
			defined[out] = true
		}
		g.Nodes = append(g.Nodes, n)
	}

	if len(gp.Output) == 0 {
		return nil, r.fail("", readMalformed("the graph has no outputs"))
	}
	for _, vi := range gp.Output {
		where := fmt.Sprintf("output %q", vi.GetName())
		v, err := readValueInfo(vi)
		if err != nil {
			return nil, r.fail(where, err)
		}
		if !defined[v.Name] {
			return nil, r.fail(where, readMalformed("not produced by any node, input or initializer"))
		}
		if slices.ContainsFunc(g.Outputs, func(o graph.Value) bool { return o.Name == v.Name }) {
			return nil, r.fail(where, readMalformed("listed twice"))
		}
		g.Outputs = append(g.Outputs, *v)
		if _, ok := g.Values[v.Name]; !ok || g.Values[v.Name].Shape == nil {
			g.Values[v.Name] = v
		}
	}
	return g, nil
}

// readNodeWhere names node i for errors: by name, or by index when unnamed.
func readNodeWhere(i int, name, op string) string {
	if name == "" {
		return fmt.Sprintf("node %d (%s)", i, op)
	}
	return fmt.Sprintf("node %q (%s)", name, op)
}

// readTypes lists the element types trnn reads, for messages.
const readTypes = "float32, float64, int32, int64 and bool"

// readDType maps an ONNX element type to graph.DType.
func readDType(t int32) (graph.DType, error) {
	switch onnxpb.TensorProto_DataType(t) {
	case onnxpb.TensorProto_FLOAT:
		return graph.Float32, nil
	case onnxpb.TensorProto_DOUBLE:
		return graph.Float64, nil
	case onnxpb.TensorProto_INT32:
		return graph.Int32, nil
	case onnxpb.TensorProto_INT64:
		return graph.Int64, nil
	case onnxpb.TensorProto_BOOL:
		return graph.Bool, nil
	case onnxpb.TensorProto_UNDEFINED:
		return 0, readMalformed("element type is undefined")
	}
	name, ok := onnxpb.TensorProto_DataType_name[t]
	if !ok {
		return 0, readMalformed("unknown element type %d", t)
	}
	return 0, readUnsupported("element type %s is not supported (trnn reads %s)", name, readTypes)
}

// readValueInfo converts a declared input, output or value_info entry.
func readValueInfo(vi *onnxpb.ValueInfoProto) (*graph.Value, error) {
	if vi.GetName() == "" {
		return nil, readMalformed("value has no name")
	}
	if vi.Type == nil {
		return nil, readMalformed("no type")
	}
	tt := vi.Type.GetTensorType()
	if tt == nil {
		return nil, readUnsupported("type is not a tensor (sequence, map and optional types are not supported)")
	}
	dt, err := readDType(tt.GetElemType())
	if err != nil {
		return nil, err
	}
	v := &graph.Value{Name: vi.GetName(), DType: dt}
	if tt.Shape != nil {
		v.Shape = graph.Shape{}
		for i, d := range tt.Shape.Dim {
			switch x := d.GetValue().(type) {
			case *onnxpb.TensorShapeProto_Dimension_DimValue:
				if x.DimValue < 0 || x.DimValue > ops.MaxElements {
					return nil, readMalformed("dimension %d is %d", i, x.DimValue)
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

// readTensorProto converts a TensorProto, checking that its data is stored in
// the file, matches its dims and has a supported element type.
func readTensorProto(tp *onnxpb.TensorProto) (*graph.Tensor, error) {
	if tp.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(tp.ExternalData) > 0 {
		return nil, readUnsupported("external data is not supported")
	}
	dt, err := readDType(tp.GetDataType())
	if err != nil {
		return nil, err
	}
	shape := make([]int, len(tp.Dims))
	n := 1
	for i, d := range tp.Dims {
		if d < 0 {
			return nil, readMalformed("dims %v: dimension %d is negative", tp.Dims, i)
		}
		if d > ops.MaxElements || (d > 0 && n > ops.MaxElements/int(d)) {
			return nil, readMalformed("dims %v: more than %d elements", tp.Dims, ops.MaxElements)
		}
		shape[i] = int(d)
		n *= int(d)
	}
	// The data's length is checked before anything is allocated, so that
	// damaged dims cannot make the reader allocate gigabytes.
	typed := map[graph.DType]int{
		graph.Float32: len(tp.FloatData),
		graph.Float64: len(tp.DoubleData),
		graph.Int32:   len(tp.Int32Data),
		graph.Bool:    len(tp.Int32Data),
		graph.Int64:   len(tp.Int64Data),
	}[dt]
	fieldName := map[graph.DType]string{
		graph.Float32: "float_data", graph.Float64: "double_data", graph.Int32: "int32_data",
		graph.Bool: "int32_data", graph.Int64: "int64_data",
	}[dt]
	if len(tp.RawData) > 0 {
		if typed > 0 {
			return nil, readMalformed("both raw_data and %s are set", fieldName)
		}
		size := map[graph.DType]int{graph.Float32: 4, graph.Float64: 8, graph.Int32: 4, graph.Int64: 8, graph.Bool: 1}[dt]
		if len(tp.RawData) != n*size {
			return nil, readMalformed("raw_data has %d bytes, dims %v of %v need %d", len(tp.RawData), tp.Dims, dt, n*size)
		}
		t := graph.NewTensor(dt, shape...)
		readRaw(t, tp.RawData)
		return t, nil
	}
	if typed != n {
		return nil, readMalformed("%s has %d values, dims %v need %d", fieldName, typed, tp.Dims, n)
	}
	t := graph.NewTensor(dt, shape...)
	switch dt {
	case graph.Float32:
		copy(t.F32, tp.FloatData)
	case graph.Float64:
		copy(t.F64, tp.DoubleData)
	case graph.Int32:
		copy(t.I32, tp.Int32Data)
	case graph.Int64:
		copy(t.I64, tp.Int64Data)
	case graph.Bool:
		for i, v := range tp.Int32Data {
			t.B[i] = v != 0
		}
	}
	return t, nil
}

// readRaw fills t from little-endian raw bytes of the right length.
func readRaw(t *graph.Tensor, b []byte) {
	le := binary.LittleEndian
	switch t.DType {
	case graph.Float32:
		for i := range t.F32 {
			t.F32[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
	case graph.Int32:
		for i := range t.I32 {
			t.I32[i] = int32(le.Uint32(b[4*i:]))
		}
	case graph.Float64:
		for i := range t.F64 {
			t.F64[i] = math.Float64frombits(le.Uint64(b[8*i:]))
		}
	case graph.Int64:
		for i := range t.I64 {
			t.I64[i] = int64(le.Uint64(b[8*i:]))
		}
	case graph.Bool:
		for i := range t.B {
			t.B[i] = b[i] != 0
		}
	}
}

// readEncodeTensor converts t to a TensorProto with little-endian raw_data.
func readEncodeTensor(name string, t *graph.Tensor) *onnxpb.TensorProto {
	tp := &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(t.DType))}
	tp.Dims = make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		tp.Dims[i] = int64(d)
	}
	le := binary.LittleEndian
	var raw []byte
	switch t.DType {
	case graph.Float32:
		raw = make([]byte, 0, 4*len(t.F32))
		for _, v := range t.F32 {
			raw = le.AppendUint32(raw, math.Float32bits(v))
		}
	case graph.Float64:
		raw = make([]byte, 0, 8*len(t.F64))
		for _, v := range t.F64 {
			raw = le.AppendUint64(raw, math.Float64bits(v))
		}
	case graph.Int32:
		raw = make([]byte, 0, 4*len(t.I32))
		for _, v := range t.I32 {
			raw = le.AppendUint32(raw, uint32(v))
		}
	case graph.Int64:
		raw = make([]byte, 0, 8*len(t.I64))
		for _, v := range t.I64 {
			raw = le.AppendUint64(raw, uint64(v))
		}
	case graph.Bool:
		raw = make([]byte, len(t.B))
		for i, v := range t.B {
			if v {
				raw[i] = 1
			}
		}
	}
	tp.RawData = raw
	return tp
}

// ReadTensorFile reads a serialized TensorProto (the .pb files of ONNX's
// test data) and returns the tensor and its name (possibly empty).
func ReadTensorFile(path string) (*graph.Tensor, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", &ReadError{File: path, Msg: readFileErr(err)}
	}
	var tp onnxpb.TensorProto
	if err := proto.Unmarshal(b, &tp); err != nil {
		return nil, "", &ReadError{File: path, Msg: "not a TensorProto: " + err.Error()}
	}
	t, err := readTensorProto(&tp)
	if err != nil {
		var is *readIssue
		errors.As(err, &is)
		where := ""
		if tp.GetName() != "" {
			where = fmt.Sprintf("tensor %q", tp.GetName())
		}
		return nil, "", &ReadError{File: path, Where: where, Msg: is.msg, Unsupported: is.unsupported}
	}
	return t, tp.GetName(), nil
}

// WriteTensorFile writes t as a serialized TensorProto named name, with the
// data in little-endian raw_data.
func WriteTensorFile(path string, name string, t *graph.Tensor) error {
	if err := ops.CheckTensor(t); err != nil {
		return fmt.Errorf("%s: tensor %q: %v", path, name, err)
	}
	b, err := proto.Marshal(readEncodeTensor(name, t))
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("%s: %s", path, readFileErr(err))
	}
	return nil
}

// ---------------------------------------------------------------------------
// Nodes.

// readAttrRule describes one attribute an op accepts: its type, the opsets in
// which it exists ([since, until), until 0 = still current), and an optional
// check of its value returning an *issue.
type readAttrRule struct {
	kind         graph.AttrKind
	since, until int
	check        func(name string, a graph.Attr) error
}

// readOpRule describes an op: input and output counts (max −1 = unbounded) and
// its attributes. inputs overrides the counts for ops whose inputs changed
// with the opset.
type readOpRule struct {
	minIn, maxIn   int
	minOut, maxOut int
	attrs          map[string]readAttrRule
	required       []string
	inputs         func(opset int) (min, max int)
	optionalIn     []int // input positions that may be "" (omitted)
}

var (
	readUnaryOp  = readOpRule{minIn: 1, maxIn: 1, minOut: 1, maxOut: 1}
	readBinaryOp = readOpRule{minIn: 2, maxIn: 2, minOut: 1, maxOut: 1}
)

var readRNNAttrs = map[string]readAttrRule{
	"hidden_size":      {kind: graph.AttrInt, check: readPositive},
	"direction":        {kind: graph.AttrString, check: readOneOf(ops.DirForward, ops.DirReverse, ops.DirBidirectional)},
	"layout":           {kind: graph.AttrInt, since: 14, check: readIntIn(0, 1)},
	"activations":      {kind: graph.AttrStrings, check: readActivations},
	"activation_alpha": {kind: graph.AttrFloats},
	"activation_beta":  {kind: graph.AttrFloats},
	"clip":             {kind: graph.AttrFloat, check: readNotSupported},
}

var readOpRules = map[graph.Op]readOpRule{
	graph.OpAdd: readBinaryOp, graph.OpSub: readBinaryOp, graph.OpMul: readBinaryOp, graph.OpDiv: readBinaryOp,
	graph.OpLess: readBinaryOp, graph.OpGreater: readBinaryOp, graph.OpEqual: readBinaryOp, graph.OpAnd: readBinaryOp,
	graph.OpMatMul:  readBinaryOp,
	graph.OpSigmoid: readUnaryOp, graph.OpTanh: readUnaryOp, graph.OpRelu: readUnaryOp, graph.OpNot: readUnaryOp, graph.OpIdentity: readUnaryOp,
	graph.OpGemm: {minIn: 2, maxIn: 3, minOut: 1, maxOut: 1, optionalIn: []int{2}, attrs: map[string]readAttrRule{
		"alpha": {kind: graph.AttrFloat}, "beta": {kind: graph.AttrFloat},
		"transA": {kind: graph.AttrInt}, "transB": {kind: graph.AttrInt},
	}},
	graph.OpTranspose: {minIn: 1, maxIn: 1, minOut: 1, maxOut: 1, attrs: map[string]readAttrRule{
		"perm": {kind: graph.AttrInts, check: readPerm},
	}},
	graph.OpSqueeze: {minOut: 1, maxOut: 1, optionalIn: []int{1},
		inputs: func(opset int) (int, int) {
			if opset >= 13 {
				return 1, 2
			}
			return 1, 1
		},
		attrs: map[string]readAttrRule{"axes": {kind: graph.AttrInts, until: 13}}},
	graph.OpUnsqueeze: {minOut: 1, maxOut: 1,
		inputs: func(opset int) (int, int) {
			if opset >= 13 {
				return 2, 2
			}
			return 1, 1
		},
		attrs: map[string]readAttrRule{"axes": {kind: graph.AttrInts, until: 13}}},
	graph.OpReshape: {minIn: 2, maxIn: 2, minOut: 1, maxOut: 1, attrs: map[string]readAttrRule{
		"allowzero": {kind: graph.AttrInt, since: 14},
	}},
	graph.OpGather: {minIn: 2, maxIn: 2, minOut: 1, maxOut: 1, attrs: map[string]readAttrRule{
		"axis": {kind: graph.AttrInt},
	}},
	graph.OpCast: {minIn: 1, maxIn: 1, minOut: 1, maxOut: 1, required: []string{"to"}, attrs: map[string]readAttrRule{
		"to":       {kind: graph.AttrInt, check: readCastTo},
		"saturate": {kind: graph.AttrInt, since: 19},
	}},
	graph.OpConstant: {minIn: 0, maxIn: 0, minOut: 1, maxOut: 1, attrs: map[string]readAttrRule{
		"value":         {kind: graph.AttrTensor},
		"value_float":   {kind: graph.AttrFloat, since: 12},
		"value_floats":  {kind: graph.AttrFloats, since: 12},
		"value_int":     {kind: graph.AttrInt, since: 12},
		"value_ints":    {kind: graph.AttrInts, since: 12},
		"value_string":  {kind: graph.AttrString, since: 12, check: readNotSupported},
		"value_strings": {kind: graph.AttrStrings, since: 12, check: readNotSupported},
	}},
	graph.OpShape: {minIn: 1, maxIn: 1, minOut: 1, maxOut: 1, attrs: map[string]readAttrRule{
		"start": {kind: graph.AttrInt, since: 15}, "end": {kind: graph.AttrInt, since: 15},
	}},
	graph.OpConcat: {minIn: 1, maxIn: -1, minOut: 1, maxOut: 1, required: []string{"axis"}, attrs: map[string]readAttrRule{
		"axis": {kind: graph.AttrInt},
	}},
	graph.OpRange:  {minIn: 3, maxIn: 3, minOut: 1, maxOut: 1},
	graph.OpWhere:  {minIn: 3, maxIn: 3, minOut: 1, maxOut: 1},
	graph.OpExpand: {minIn: 2, maxIn: 2, minOut: 1, maxOut: 1},
	graph.OpSlice: {minOut: 1, maxOut: 1, optionalIn: []int{3, 4},
		inputs: func(opset int) (int, int) {
			if opset >= 10 {
				return 3, 5
			}
			return 1, 1
		},
		attrs: map[string]readAttrRule{
			"starts": {kind: graph.AttrInts, until: 10},
			"ends":   {kind: graph.AttrInts, until: 10},
			"axes":   {kind: graph.AttrInts, until: 10},
		}},
	graph.OpLSTM: {minIn: 3, maxIn: 8, minOut: 0, maxOut: 3, optionalIn: []int{3, 4, 5, 6, 7},
		attrs: readWithAttrs(readRNNAttrs, map[string]readAttrRule{
			"input_forget": {kind: graph.AttrInt, check: readIntIn(0)},
		})},
	graph.OpGRU: {minIn: 3, maxIn: 6, minOut: 0, maxOut: 2, optionalIn: []int{3, 4, 5},
		attrs: readWithAttrs(readRNNAttrs, map[string]readAttrRule{
			"linear_before_reset": {kind: graph.AttrInt},
		})},
}

func readWithAttrs(base, extra map[string]readAttrRule) map[string]readAttrRule {
	m := map[string]readAttrRule{}
	for k, v := range base {
		m[k] = v
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func (r *onnxReader) node(np *onnxpb.NodeProto) (*graph.Node, error) {
	if d := np.GetDomain(); d != "" && d != "ai.onnx" {
		return nil, readUnsupported("op %q of domain %q is not supported (trnn reads the default ONNX domain only)", np.GetOpType(), d)
	}
	op, ok := graph.OpByName(np.GetOpType())
	if !ok || !op.IsONNX() {
		return nil, readUnsupported("unsupported op type %q", np.GetOpType())
	}
	if since := readOpSince[op]; r.opset < since {
		return nil, readUnsupported("%s at opset %d is not supported (trnn reads %s from opset %d)", op, r.opset, op, since)
	}
	rule := readOpRules[op]
	n := &graph.Node{
		Name:    np.GetName(),
		Op:      op,
		Inputs:  slices.Clone(np.Input),
		Outputs: slices.Clone(np.Output),
		Attrs:   map[string]graph.Attr{},
	}
	minIn, maxIn := rule.minIn, rule.maxIn
	if rule.inputs != nil {
		minIn, maxIn = rule.inputs(r.opset)
	}
	// Trailing omitted inputs do not count.
	nin := len(n.Inputs)
	for nin > 0 && n.Inputs[nin-1] == "" {
		nin--
	}
	n.Inputs = n.Inputs[:nin]
	if nin < minIn || (maxIn >= 0 && nin > maxIn) {
		return nil, readMalformed("%s at opset %d takes %s, found %d", op, r.opset, readCount(minIn, maxIn, "input"), nin)
	}
	for i, in := range n.Inputs {
		if in == "" && (i < minIn || !slices.Contains(rule.optionalIn, i)) {
			return nil, readMalformed("input %d is required but empty", i)
		}
	}
	if len(n.Outputs) < rule.minOut || len(n.Outputs) > rule.maxOut {
		return nil, readMalformed("%s takes %s, found %d", op, readCount(rule.minOut, rule.maxOut, "output"), len(n.Outputs))
	}
	for i, out := range n.Outputs {
		if out == "" && !(op == graph.OpLSTM || op == graph.OpGRU) {
			return nil, readMalformed("output %d has no name", i)
		}
	}

	for _, ap := range np.Attribute {
		a, err := readAttribute(ap)
		if err != nil {
			return nil, err
		}
		name := ap.GetName()
		if _, dup := n.Attrs[name]; dup {
			return nil, readMalformed("attribute %s is given twice", name)
		}
		n.Attrs[name] = a
	}
	for _, name := range slices.Sorted(maps.Keys(n.Attrs)) {
		a := n.Attrs[name]
		ar, ok := rule.attrs[name]
		if !ok || r.opset < ar.since || (ar.until > 0 && r.opset >= ar.until) {
			return nil, readUnsupported("attribute %s is not supported for %s at opset %d", name, op, r.opset)
		}
		if a.Kind != ar.kind {
			return nil, readMalformed("attribute %s: expected %s, found %s", name, readKindName(ar.kind), readKindName(a.Kind))
		}
		if ar.check != nil {
			if err := ar.check(name, a); err != nil {
				return nil, err
			}
		}
	}
	for _, name := range rule.required {
		if _, ok := n.Attrs[name]; !ok {
			return nil, readMalformed("attribute %s is required", name)
		}
	}
	if err := readCheckNode(op, n, r.opset); err != nil {
		return nil, err
	}
	return n, nil
}

// readCheckNode applies the rules that involve several attributes or inputs.
func readCheckNode(op graph.Op, n *graph.Node, opset int) error {
	switch op {
	case graph.OpConstant:
		count := 0
		for name := range n.Attrs {
			if strings.HasPrefix(name, "value") {
				count++
			}
		}
		if count != 1 {
			return readMalformed("exactly one value attribute is required, found %d", count)
		}
	case graph.OpUnsqueeze:
		if opset < 13 {
			if _, ok := n.Attrs["axes"]; !ok {
				return readMalformed("attribute axes is required")
			}
		}
	case graph.OpSlice:
		if opset < 10 {
			_, s := n.Attrs["starts"]
			_, e := n.Attrs["ends"]
			if !s || !e {
				return readMalformed("attributes starts and ends are required")
			}
		}
	case graph.OpLSTM, graph.OpGRU:
		dirs := 1
		if a, ok := n.Attrs["direction"]; ok && a.String == ops.DirBidirectional {
			dirs = 2
		}
		if a, ok := n.Attrs["activations"]; ok {
			per := 3
			if op == graph.OpGRU {
				per = 2
			}
			if len(a.Strings) != per*dirs {
				return readMalformed("attribute activations: expected %d functions, found %d", per*dirs, len(a.Strings))
			}
			for i, f := range a.Strings {
				want := "tanh"
				if i%per == 0 {
					want = "sigmoid"
				}
				if !strings.EqualFold(f, want) {
					return readUnsupported("attribute activations %v is not supported (only the defaults: Sigmoid, then Tanh)", a.Strings)
				}
			}
		}
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

// readAttribute converts an AttributeProto.
func readAttribute(ap *onnxpb.AttributeProto) (graph.Attr, error) {
	name := ap.GetName()
	if name == "" {
		return graph.Attr{}, readMalformed("attribute has no name")
	}
	if ap.GetRefAttrName() != "" {
		return graph.Attr{}, readMalformed("attribute %s refers to a function attribute outside a function", name)
	}
	typ := ap.GetType()
	if typ == onnxpb.AttributeProto_UNDEFINED {
		// Files from before IR version 3 leave the type out.
		switch {
		case ap.F != nil:
			typ = onnxpb.AttributeProto_FLOAT
		case ap.I != nil:
			typ = onnxpb.AttributeProto_INT
		case ap.S != nil:
			typ = onnxpb.AttributeProto_STRING
		case ap.T != nil:
			typ = onnxpb.AttributeProto_TENSOR
		case len(ap.Floats) > 0:
			typ = onnxpb.AttributeProto_FLOATS
		case len(ap.Ints) > 0:
			typ = onnxpb.AttributeProto_INTS
		case len(ap.Strings) > 0:
			typ = onnxpb.AttributeProto_STRINGS
		default:
			return graph.Attr{}, readMalformed("attribute %s has no type and no value", name)
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
			return graph.Attr{}, readMalformed("attribute %s: tensor missing", name)
		}
		t, err := readTensorProto(ap.T)
		if err != nil {
			var is *readIssue
			if errors.As(err, &is) {
				is.msg = "attribute " + name + ": " + is.msg
			}
			return graph.Attr{}, err
		}
		return graph.Attr{Kind: graph.AttrTensor, Tensor: t}, nil
	}
	tn, ok := onnxpb.AttributeProto_AttributeType_name[int32(typ)]
	if !ok {
		return graph.Attr{}, readMalformed("attribute %s has unknown type %d", name, typ)
	}
	return graph.Attr{}, readUnsupported("attribute %s of type %s is not supported", name, tn)
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
	}
	return fmt.Sprintf("kind %d", k)
}

// Attribute value checks: each returns an *issue naming the attribute.

func readPositive(name string, a graph.Attr) error {
	if a.Int <= 0 || a.Int > ops.MaxElements {
		return readMalformed("attribute %s: expected a positive integer, found %d", name, a.Int)
	}
	return nil
}

func readOneOf(values ...string) func(string, graph.Attr) error {
	return func(name string, a graph.Attr) error {
		if !slices.Contains(values, a.String) {
			return readMalformed("attribute %s: expected one of %s, found %q", name, strings.Join(values, ", "), a.String)
		}
		return nil
	}
}

// readIntIn accepts the listed values. With one value, others are valid ONNX
// that trnn does not implement; with several, they are all ONNX allows.
func readIntIn(values ...int64) func(string, graph.Attr) error {
	return func(name string, a graph.Attr) error {
		if !slices.Contains(values, a.Int) {
			if len(values) == 1 {
				return readUnsupported("attribute %s = %d is not supported (only %d)", name, a.Int, values[0])
			}
			return readMalformed("attribute %s: expected one of %v, found %d", name, values, a.Int)
		}
		return nil
	}
}

func readNotSupported(name string, _ graph.Attr) error {
	return readUnsupported("attribute %s is not supported", name)
}

// readActivations accepts any list here: readCheckNode checks it against the
// direction.
func readActivations(string, graph.Attr) error { return nil }

func readPerm(name string, a graph.Attr) error {
	seen := make([]bool, len(a.Ints))
	for _, v := range a.Ints {
		if v < 0 || v >= int64(len(a.Ints)) || seen[v] {
			return readMalformed("attribute %s: %v is not a permutation of 0..%d", name, a.Ints, len(a.Ints)-1)
		}
		seen[v] = true
	}
	return nil
}

func readCastTo(name string, a graph.Attr) error {
	if a.Int < math.MinInt32 || a.Int > math.MaxInt32 {
		return readMalformed("attribute %s: unknown element type %d", name, a.Int)
	}
	if _, err := readDType(int32(a.Int)); err != nil {
		is := err.(*readIssue)
		is.msg = "attribute " + name + ": " + is.msg
		return is
	}
	return nil
}
