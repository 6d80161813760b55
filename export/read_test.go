package export_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/graph"
)

// readValue declares a float tensor value with fixed or symbolic dims.
func readValue(name string, elem onnxpb.TensorProto_DataType, dims ...any) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		switch d := d.(type) {
		case int:
			shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: int64(d)}})
		case string:
			shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: d}})
		}
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{
		Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(elem)), Shape: shape}},
	}}
}

func readNode(name, op string, in, out []string, attrs ...*onnxpb.AttributeProto) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{Name: proto.String(name), OpType: proto.String(op), Input: in, Output: out, Attribute: attrs}
}

func readAttrInt(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func readAttrFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func readAttrString(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

func readAttrStrings(name string, v ...string) *onnxpb.AttributeProto {
	a := &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRINGS.Enum()}
	for _, s := range v {
		a.Strings = append(a.Strings, []byte(s))
	}
	return a
}

func readAttrInts(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func readF32Init(name string, dims []int64, v ...float32) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), FloatData: v}
}

// readModel is a valid model: Y = Relu(X + C) at the given opset, with X
// float [batch, 3] and the initializer C [3].
func readModel(opset int64) *onnxpb.ModelProto {
	return &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}},
		Graph: &onnxpb.GraphProto{
			Name:        proto.String("g"),
			Input:       []*onnxpb.ValueInfoProto{readValue("X", onnxpb.TensorProto_FLOAT, "batch", 3)},
			Output:      []*onnxpb.ValueInfoProto{readValue("Y", onnxpb.TensorProto_FLOAT, "batch", 3)},
			Initializer: []*onnxpb.TensorProto{readF32Init("C", []int64{3}, 1, 2, 3)},
			Node: []*onnxpb.NodeProto{
				readNode("add", "Add", []string{"X", "C"}, []string{"S"}),
				readNode("relu", "Relu", []string{"S"}, []string{"Y"}),
			},
		},
		MetadataProps: []*onnxpb.StringStringEntryProto{{Key: proto.String("k"), Value: proto.String("v")}},
	}
}

// readLSTMModel is a valid LSTM model (hidden 2, input 3) whose node the
// cases edit.
func readLSTMModel() *onnxpb.ModelProto {
	m := readModel(17)
	g := m.Graph
	g.Input = []*onnxpb.ValueInfoProto{readValue("X", onnxpb.TensorProto_FLOAT, "time", "batch", 3)}
	g.Output = []*onnxpb.ValueInfoProto{readValue("Y_h", onnxpb.TensorProto_FLOAT, 1, "batch", 2)}
	g.Initializer = []*onnxpb.TensorProto{
		readF32Init("W", []int64{1, 8, 3}, make([]float32, 24)...),
		readF32Init("R", []int64{1, 8, 2}, make([]float32, 16)...),
	}
	g.Node = []*onnxpb.NodeProto{readNode("lstm_1", "LSTM", []string{"X", "W", "R"}, []string{"", "Y_h"}, readAttrInt("hidden_size", 2))}
	return m
}

func readEncode(t *testing.T, m *onnxpb.ModelProto) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeONNXValid(t *testing.T) {
	g, err := export.DecodeONNX("m.onnx", readEncode(t, readModel(13)))
	if err != nil {
		t.Fatal(err)
	}
	if g.Form != graph.FormTensor || len(g.Nodes) != 2 || g.Nodes[0].Op != graph.OpAdd || g.Nodes[1].Op != graph.OpRelu {
		t.Fatalf("graph %+v", g)
	}
	if len(g.Inputs) != 1 || g.Inputs[0].Name != "X" || g.Inputs[0].DType != graph.Float32 ||
		g.Inputs[0].Shape.String() != "[batch,3]" {
		t.Fatalf("inputs %+v", g.Inputs)
	}
	p := g.Param("C")
	if p == nil || p.Init != "onnx" || !slices.Equal(p.Tensor.F32, []float32{1, 2, 3}) {
		t.Fatalf("initializer C: %+v", p)
	}
	if g.Meta["k"] != "v" {
		t.Fatalf("metadata %v", g.Meta)
	}
	if err := graph.Verify(g); err != nil {
		t.Fatal(err)
	}

	// An initializer also listed as an input (IR < 4) is a constant, not an
	// input the caller must feed.
	m := readModel(13)
	m.Graph.Input = append(m.Graph.Input, readValue("C", onnxpb.TensorProto_FLOAT, 3))
	g, err = export.DecodeONNX("m.onnx", readEncode(t, m))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Inputs) != 1 {
		t.Fatalf("inputs %+v: the initializer C is listed as an input", g.Inputs)
	}
}

// TestDecodeONNXErrors: each edit of a valid model must give exactly this
// one-line error, flagged unsupported (ErrUnsupported) or not.
func TestDecodeONNXErrors(t *testing.T) {
	lstmNode := func(m *onnxpb.ModelProto) *onnxpb.NodeProto { return m.Graph.Node[0] }
	for _, c := range []struct {
		name  string
		model func() *onnxpb.ModelProto
		edit  func(m *onnxpb.ModelProto)
		want  string
		unsup bool
	}{
		{"opset too new", func() *onnxpb.ModelProto { return readModel(22) }, nil,
			"m.onnx: opset 22 is not supported (trnn reads opsets 1 to 21)", true},
		{"Add before opset 7", func() *onnxpb.ModelProto { return readModel(6) }, nil,
			`m.onnx: node "add" (Add): Add at opset 6 is not supported (trnn reads Add from opset 7)`, true},
		{"no default domain", nil, func(m *onnxpb.ModelProto) {
			m.OpsetImport = []*onnxpb.OperatorSetIdProto{{Domain: proto.String("ai.onnx.ml"), Version: proto.Int64(3)}}
		}, "m.onnx: the model does not import the default ONNX domain", true},
		{"no opset", nil, func(m *onnxpb.ModelProto) { m.OpsetImport = nil }, "m.onnx: not an ONNX model: no opset_import", false},
		{"unknown op", nil, func(m *onnxpb.ModelProto) { m.Graph.Node[1].OpType = proto.String("Foo"); m.Graph.Node[1].Name = nil },
			`m.onnx: node 1 (Foo): unsupported op type "Foo"`, true},
		{"sequence op", nil, func(m *onnxpb.ModelProto) { m.Graph.Node[1].OpType = proto.String("LastStep") },
			`m.onnx: node "relu" (LastStep): unsupported op type "LastStep"`, true},
		{"other domain", nil, func(m *onnxpb.ModelProto) { m.Graph.Node[1].Domain = proto.String("com.microsoft") },
			`m.onnx: node "relu" (Relu): op "Relu" of domain "com.microsoft" is not supported (trnn reads the default ONNX domain only)`, true},
		{"clip", readLSTMModel, func(m *onnxpb.ModelProto) {
			lstmNode(m).Attribute = append(lstmNode(m).Attribute, readAttrFloat("clip", 3))
		}, `m.onnx: node "lstm_1" (LSTM): attribute clip is not supported`, true},
		{"input_forget", readLSTMModel, func(m *onnxpb.ModelProto) {
			lstmNode(m).Attribute = append(lstmNode(m).Attribute, readAttrInt("input_forget", 1))
		}, `m.onnx: node "lstm_1" (LSTM): attribute input_forget = 1 is not supported (only 0)`, true},
		{"activations", readLSTMModel, func(m *onnxpb.ModelProto) {
			lstmNode(m).Attribute = append(lstmNode(m).Attribute, readAttrStrings("activations", "Sigmoid", "Relu", "Tanh"))
		}, `m.onnx: node "lstm_1" (LSTM): attribute activations [Sigmoid Relu Tanh] is not supported (only the defaults: Sigmoid, then Tanh)`, true},
		{"activations count", readLSTMModel, func(m *onnxpb.ModelProto) {
			lstmNode(m).Attribute = append(lstmNode(m).Attribute, readAttrStrings("activations", "Sigmoid", "Tanh"))
		}, `m.onnx: node "lstm_1" (LSTM): attribute activations: expected 3 functions, found 2`, false},
		{"direction", readLSTMModel, func(m *onnxpb.ModelProto) {
			lstmNode(m).Attribute = append(lstmNode(m).Attribute, readAttrString("direction", "up"))
		}, `m.onnx: node "lstm_1" (LSTM): attribute direction: expected one of forward, reverse, bidirectional, found "up"`, false},
		{"hidden_size", readLSTMModel, func(m *onnxpb.ModelProto) { lstmNode(m).Attribute[0].I = proto.Int64(0) },
			`m.onnx: node "lstm_1" (LSTM): attribute hidden_size: expected a positive integer, found 0`, false},
		{"unknown attribute", readLSTMModel, func(m *onnxpb.ModelProto) {
			lstmNode(m).Attribute = append(lstmNode(m).Attribute, readAttrInt("output_sequence", 1))
		}, `m.onnx: node "lstm_1" (LSTM): attribute output_sequence is not supported for LSTM at opset 17`, true},
		{"attribute type", nil, func(m *onnxpb.ModelProto) {
			m.Graph.Node[1] = readNode("g", "Gemm", []string{"S", "S"}, []string{"Y"}, readAttrInt("alpha", 2))
		}, `m.onnx: node "g" (Gemm): attribute alpha: expected float, found int`, false},
		{"too many inputs", nil, func(m *onnxpb.ModelProto) { m.Graph.Node[1].Input = []string{"S", "S"} },
			`m.onnx: node "relu" (Relu): Relu at opset 13 takes 1 input, found 2`, false},
		{"empty required input", readLSTMModel, func(m *onnxpb.ModelProto) { lstmNode(m).Input = []string{"X", "", "R"} },
			`m.onnx: node "lstm_1" (LSTM): input 1 is required but empty`, false},
		{"undefined input", nil, func(m *onnxpb.ModelProto) { m.Graph.Node[1].Input = []string{"Q"} },
			`m.onnx: node "relu" (Relu): input 0 "Q" is not a graph input, an initializer or an output of an earlier node`, false},
		{"out of order", nil, func(m *onnxpb.ModelProto) { slices.Reverse(m.Graph.Node) },
			`m.onnx: node "relu" (Relu): input 0 "S" is not a graph input, an initializer or an output of an earlier node`, false},
		{"output twice", nil, func(m *onnxpb.ModelProto) { m.Graph.Node[1].Output = []string{"S"} },
			`m.onnx: node "relu" (Relu): output "S" is already defined`, false},
		{"graph output undefined", nil, func(m *onnxpb.ModelProto) { m.Graph.Output[0].Name = proto.String("Z") },
			`m.onnx: output "Z": not produced by any node, input or initializer`, false},
		{"uint8 input", nil, func(m *onnxpb.ModelProto) {
			m.Graph.Input[0] = readValue("X", onnxpb.TensorProto_UINT8, 3)
		}, `m.onnx: input "X": element type UINT8 is not supported (trnn reads float32, float64, int32, int64 and bool)`, true},
		{"untyped input", nil, func(m *onnxpb.ModelProto) { m.Graph.Input[0].Type = nil }, `m.onnx: input "X": no type`, false},
		{"sequence input", nil, func(m *onnxpb.ModelProto) { m.Graph.Input[0].Type = &onnxpb.TypeProto{} },
			`m.onnx: input "X": type is not a tensor (sequence, map and optional types are not supported)`, true},
		{"raw_data length", nil, func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[0] = &onnxpb.TensorProto{Name: proto.String("C"), Dims: []int64{3}, DataType: proto.Int32(1), RawData: make([]byte, 11)}
		}, `m.onnx: initializer "C": raw_data has 11 bytes, dims [3] of float32 need 12`, false},
		{"typed data length", nil, func(m *onnxpb.ModelProto) { m.Graph.Initializer[0].FloatData = []float32{1, 2} },
			`m.onnx: initializer "C": float_data has 2 values, dims [3] need 3`, false},
		{"negative dim", nil, func(m *onnxpb.ModelProto) { m.Graph.Initializer[0].Dims = []int64{-3} },
			`m.onnx: initializer "C": dims [-3]: dimension 0 is negative`, false},
		{"external data", nil, func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[0].DataLocation = onnxpb.TensorProto_EXTERNAL.Enum()
		}, `m.onnx: initializer "C": external data is not supported`, true},
		{"float16 initializer", nil, func(m *onnxpb.ModelProto) {
			m.Graph.Initializer[0] = &onnxpb.TensorProto{Name: proto.String("C"), Dims: []int64{3}, DataType: proto.Int32(10), RawData: make([]byte, 6)}
		}, `m.onnx: initializer "C": element type FLOAT16 is not supported (trnn reads float32, float64, int32, int64 and bool)`, true},
		{"duplicate initializer", nil, func(m *onnxpb.ModelProto) {
			m.Graph.Initializer = append(m.Graph.Initializer, m.Graph.Initializer[0])
		}, `m.onnx: initializer "C": name defined twice`, false},
		{"squeeze axes attribute at 13", nil, func(m *onnxpb.ModelProto) {
			m.Graph.Node[1] = readNode("sq", "Squeeze", []string{"S"}, []string{"Y"}, readAttrInts("axes", 0))
		}, `m.onnx: node "sq" (Squeeze): attribute axes is not supported for Squeeze at opset 13`, true},
		{"concat axis", nil, func(m *onnxpb.ModelProto) { m.Graph.Node[1] = readNode("cat", "Concat", []string{"S"}, []string{"Y"}) },
			`m.onnx: node "cat" (Concat): attribute axis is required`, false},
		{"constant values", nil, func(m *onnxpb.ModelProto) {
			m.Graph.Node = append([]*onnxpb.NodeProto{readNode("k", "Constant", nil, []string{"K"}, readAttrInt("value_int", 1), readAttrInts("value_ints", 1))}, m.Graph.Node...)
		}, `m.onnx: node "k" (Constant): exactly one value attribute is required, found 2`, false},
		{"constant string", nil, func(m *onnxpb.ModelProto) {
			m.Graph.Node = append([]*onnxpb.NodeProto{readNode("k", "Constant", nil, []string{"K"}, readAttrString("value_string", "a"))}, m.Graph.Node...)
		}, `m.onnx: node "k" (Constant): attribute value_string is not supported`, true},
		{"perm", nil, func(m *onnxpb.ModelProto) {
			m.Graph.Node[1] = readNode("tr", "Transpose", []string{"S"}, []string{"Y"}, readAttrInts("perm", 0, 0))
		}, `m.onnx: node "tr" (Transpose): attribute perm: [0 0] is not a permutation of 0..1`, false},
		{"cast to float16", nil, func(m *onnxpb.ModelProto) {
			m.Graph.Node[1] = readNode("c", "Cast", []string{"S"}, []string{"Y"}, readAttrInt("to", 10))
		}, `m.onnx: node "c" (Cast): attribute to: element type FLOAT16 is not supported (trnn reads float32, float64, int32, int64 and bool)`, true},
		{"graph attribute", nil, func(m *onnxpb.ModelProto) {
			m.Graph.Node[1].Attribute = []*onnxpb.AttributeProto{{Name: proto.String("body"), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: &onnxpb.GraphProto{}}}
		}, `m.onnx: node "relu" (Relu): attribute body is not supported for Relu at opset 13`, true},
		{"graphs attribute", nil, func(m *onnxpb.ModelProto) {
			m.Graph.Node[1].Attribute = []*onnxpb.AttributeProto{{Name: proto.String("bodies"), Type: onnxpb.AttributeProto_GRAPHS.Enum()}}
		}, `m.onnx: node "relu" (Relu): attribute bodies of type GRAPHS is not supported`, true},
		{"no outputs", nil, func(m *onnxpb.ModelProto) { m.Graph.Output = nil }, "m.onnx: the graph has no outputs", false},
		{"output twice in graph", nil, func(m *onnxpb.ModelProto) { m.Graph.Output = append(m.Graph.Output, m.Graph.Output[0]) },
			`m.onnx: output "Y": listed twice`, false},

		// The interpreter plans imported graphs without checking them
		// again: every static rule its kernels rely on is refused here.
		{"cast to an unknown type", nil, func(m *onnxpb.ModelProto) {
			m.Graph.Node[1] = readNode("c", "Cast", []string{"S"}, []string{"Y"}, readAttrInt("to", 257))
		}, `m.onnx: node "c" (Cast): attribute to: unknown element type 257`, false},
		{"cast to a float8 type", nil, func(m *onnxpb.ModelProto) {
			m.Graph.Node[1] = readNode("c", "Cast", []string{"S"}, []string{"Y"}, readAttrInt("to", 17))
		}, `m.onnx: node "c" (Cast): attribute to: element type FLOAT8E4M3FN is not supported (trnn reads float32, float64, int32, int64 and bool)`, true},
		{"cast without to", nil, func(m *onnxpb.ModelProto) { m.Graph.Node[1] = readNode("c", "Cast", []string{"S"}, []string{"Y"}) },
			`m.onnx: node "c" (Cast): attribute to is required`, false},
		{"unsqueeze without axes before 13", func() *onnxpb.ModelProto { return readModel(11) }, func(m *onnxpb.ModelProto) {
			m.Graph.Node[1] = readNode("u", "Unsqueeze", []string{"S"}, []string{"Y"})
		}, `m.onnx: node "u" (Unsqueeze): attribute axes is required`, false},
		{"squeeze axes input before 13", func() *onnxpb.ModelProto { return readModel(11) }, func(m *onnxpb.ModelProto) {
			m.Graph.Node[1] = readNode("sq", "Squeeze", []string{"S", "C"}, []string{"Y"})
		}, `m.onnx: node "sq" (Squeeze): Squeeze at opset 11 takes 1 input, found 2`, false},
		{"slice without starts before 10", func() *onnxpb.ModelProto { return readModel(9) }, func(m *onnxpb.ModelProto) {
			m.Graph.Node[1] = readNode("sl", "Slice", []string{"S"}, []string{"Y"}, readAttrInts("ends", 2))
		}, `m.onnx: node "sl" (Slice): attributes starts and ends are required`, false},
		{"slice inputs from 10", nil, func(m *onnxpb.ModelProto) {
			m.Graph.Node[1] = readNode("sl", "Slice", []string{"S", "C"}, []string{"Y"})
		}, `m.onnx: node "sl" (Slice): Slice at opset 13 takes 3 to 5 inputs, found 2`, false},
		{"constant without value", nil, func(m *onnxpb.ModelProto) {
			m.Graph.Node = append([]*onnxpb.NodeProto{readNode("k", "Constant", nil, []string{"K"})}, m.Graph.Node...)
		}, `m.onnx: node "k" (Constant): exactly one value attribute is required, found 0`, false},
		{"constant value of the wrong kind", nil, func(m *onnxpb.ModelProto) {
			m.Graph.Node = append([]*onnxpb.NodeProto{readNode("k", "Constant", nil, []string{"K"}, readAttrInt("value_float", 1))}, m.Graph.Node...)
		}, `m.onnx: node "k" (Constant): attribute value_float: expected float, found int`, false},
		{"shape end before 15", nil, func(m *onnxpb.ModelProto) {
			m.Graph.Node[1] = readNode("sh", "Shape", []string{"S"}, []string{"Y"}, readAttrInt("end", 1))
		}, `m.onnx: node "sh" (Shape): attribute end is not supported for Shape at opset 13`, true},
		{"shape end of the wrong kind", func() *onnxpb.ModelProto { return readModel(15) }, func(m *onnxpb.ModelProto) {
			m.Graph.Node[1] = readNode("sh", "Shape", []string{"S"}, []string{"Y"}, readAttrFloat("end", 1))
		}, `m.onnx: node "sh" (Shape): attribute end: expected int, found float`, false},
		{"gather axis of the wrong kind", nil, func(m *onnxpb.ModelProto) {
			m.Graph.Node[1] = readNode("ga", "Gather", []string{"S", "C"}, []string{"Y"}, readAttrFloat("axis", 1))
		}, `m.onnx: node "ga" (Gather): attribute axis: expected int, found float`, false},
		{"unnamed output", nil, func(m *onnxpb.ModelProto) { m.Graph.Node[0].Output = []string{""} },
			`m.onnx: node "add" (Add): output 0 has no name`, false},
		{"too many recurrent outputs", readLSTMModel, func(m *onnxpb.ModelProto) { lstmNode(m).Output = []string{"", "Y_h", "", "Z"} },
			`m.onnx: node "lstm_1" (LSTM): LSTM takes 0 to 3 outputs, found 4`, false},
		{"negative hidden_size", readLSTMModel, func(m *onnxpb.ModelProto) { lstmNode(m).Attribute[0].I = proto.Int64(-1) },
			`m.onnx: node "lstm_1" (LSTM): attribute hidden_size: expected a positive integer, found -1`, false},
		{"layout", readLSTMModel, func(m *onnxpb.ModelProto) {
			lstmNode(m).Attribute = append(lstmNode(m).Attribute, readAttrInt("layout", 2))
		}, `m.onnx: node "lstm_1" (LSTM): attribute layout: expected one of [0 1], found 2`, false},
		{"activations for two directions", readLSTMModel, func(m *onnxpb.ModelProto) {
			lstmNode(m).OpType = proto.String("GRU")
			lstmNode(m).Attribute = append(lstmNode(m).Attribute, readAttrStrings("activations", "Sigmoid", "Tanh", "Sigmoid", "Tanh"))
		}, `m.onnx: node "lstm_1" (GRU): attribute activations: expected 2 functions, found 4`, false},
	} {
		mk := c.model
		if mk == nil {
			mk = func() *onnxpb.ModelProto { return readModel(13) }
		}
		m := mk()
		if c.edit != nil {
			c.edit(m)
		}
		_, err := export.DecodeONNX("m.onnx", readEncode(t, m))
		if err == nil {
			t.Errorf("%s: no error, want %q", c.name, c.want)
			continue
		}
		if err.Error() != c.want {
			t.Errorf("%s: error\n\t%s\nwant\n\t%s", c.name, err, c.want)
		}
		if errors.Is(err, export.ErrUnsupported) != c.unsup {
			t.Errorf("%s: errors.Is(err, ErrUnsupported) = %v, want %v", c.name, !c.unsup, c.unsup)
		}
		var re *export.ReadError
		if !errors.As(err, &re) || re.File != "m.onnx" {
			t.Errorf("%s: not a *ReadError naming the file: %#v", c.name, err)
		}
	}
}

// TestDecodeONNXDamagedDimsAllocateLittle: dims that promise a huge tensor
// the file does not hold are rejected before anything that size is
// allocated.
func TestDecodeONNXDamagedDimsAllocateLittle(t *testing.T) {
	m := readModel(13)
	m.Graph.Initializer[0] = &onnxpb.TensorProto{Name: proto.String("C"), Dims: []int64{1 << 30}, DataType: proto.Int32(1), RawData: make([]byte, 12)}
	b := readEncode(t, m)
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	_, err := export.DecodeONNX("m.onnx", b)
	goruntime.ReadMemStats(&after)
	if err == nil || err.Error() != `m.onnx: initializer "C": raw_data has 12 bytes, dims [1073741824] of float32 need 4294967296` {
		t.Fatalf("error %v", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Fatalf("decoding allocated %d bytes", n)
	}
}

func TestDecodeONNXNotAModel(t *testing.T) {
	for _, c := range []struct {
		data []byte
		want string
	}{
		{nil, "m.onnx: not an ONNX model: no graph"},
		{[]byte("name,value\n1,2\n"), "m.onnx: not an ONNX model: "},
		{[]byte{0x0a, 0xff, 0xff, 0xff}, "m.onnx: not an ONNX model: "},
		// What people pass instead of a model is named, with what to pass.
		{[]byte("name,value\n1,2\n"), "m.onnx: not an ONNX model: a text file (a spec, or CSV data?)"},
		{[]byte("TRNNCKPT\x01\x00\x00\x00{}"), "m.onnx: not an ONNX model: a trnn checkpoint; pass the run's model.onnx, or export the checkpoint"},
		{[]byte("PK\x03\x04"), "m.onnx: not an ONNX model: a zip archive (NPZ data?)"},
	} {
		_, err := export.DecodeONNX("m.onnx", c.data)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want prefix %q", c.data, err, c.want)
		}
		if errors.Is(err, export.ErrUnsupported) {
			t.Errorf("%q: a damaged file is reported as unsupported", c.data)
		}
	}
	_, err := export.ReadONNX(filepath.Join(t.TempDir(), "missing.onnx"))
	if err == nil || !strings.HasSuffix(err.Error(), "missing.onnx: cannot open: no such file or directory") {
		t.Errorf("missing file: %v", err)
	}
}

// TestDecodeONNXNeverPanics truncates and flips bytes of a valid model: the
// decoder must return a model or an error, never panic.
func TestDecodeONNXNeverPanics(t *testing.T) {
	b := readEncode(t, readLSTMModel())
	for n := range len(b) {
		_, _ = export.DecodeONNX("m.onnx", b[:n])
		c := slices.Clone(b)
		c[n] ^= 0x5a
		_, _ = export.DecodeONNX("m.onnx", c)
	}
}

func TestTensorFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, x := range []*graph.Tensor{
		{DType: graph.Float32, Shape: []int{2, 3}, F32: []float32{1, -2, 3.5, float32(math.Inf(1)), 0, -0.25}},
		{DType: graph.Float64, Shape: []int{2}, F64: []float64{math.Pi, -1e300}},
		{DType: graph.Int32, Shape: []int{3}, I32: []int32{math.MinInt32, 0, 7}},
		{DType: graph.Int64, Shape: []int{}, I64: []int64{math.MaxInt64}},
		{DType: graph.Bool, Shape: []int{1, 3}, B: []bool{true, false, true}},
		{DType: graph.Float32, Shape: []int{0, 4}, F32: []float32{}},
	} {
		path := filepath.Join(dir, "t.pb")
		if err := export.WriteTensorFile(path, "val", x); err != nil {
			t.Fatal(err)
		}
		got, name, err := export.ReadTensorFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if name != "val" || got.DType != x.DType || !slices.Equal(got.Shape, x.Shape) ||
			!slices.Equal(got.F32, x.F32) && len(x.F32) > 0 || !slices.Equal(got.F64, x.F64) ||
			!slices.Equal(got.I32, x.I32) || !slices.Equal(got.I64, x.I64) || !slices.Equal(got.B, x.B) {
			t.Fatalf("round trip of %+v gave %q %+v", x, name, got)
		}
	}
}

// TestReadTensorFileTypedFields: TensorProtos may hold their data in the
// typed fields instead of raw_data (bool in int32_data).
func TestReadTensorFileTypedFields(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		tp   *onnxpb.TensorProto
		want *graph.Tensor
	}{
		{&onnxpb.TensorProto{Dims: []int64{2}, DataType: proto.Int32(1), FloatData: []float32{1.5, -2}},
			&graph.Tensor{DType: graph.Float32, Shape: []int{2}, F32: []float32{1.5, -2}}},
		{&onnxpb.TensorProto{Dims: []int64{1}, DataType: proto.Int32(11), DoubleData: []float64{0.1}},
			&graph.Tensor{DType: graph.Float64, Shape: []int{1}, F64: []float64{0.1}}},
		{&onnxpb.TensorProto{Dims: []int64{2}, DataType: proto.Int32(6), Int32Data: []int32{-4, 9}},
			&graph.Tensor{DType: graph.Int32, Shape: []int{2}, I32: []int32{-4, 9}}},
		{&onnxpb.TensorProto{Dims: []int64{2}, DataType: proto.Int32(7), Int64Data: []int64{1 << 40, -1}},
			&graph.Tensor{DType: graph.Int64, Shape: []int{2}, I64: []int64{1 << 40, -1}}},
		{&onnxpb.TensorProto{Dims: []int64{3}, DataType: proto.Int32(9), Int32Data: []int32{1, 0, 2}},
			&graph.Tensor{DType: graph.Bool, Shape: []int{3}, B: []bool{true, false, true}}},
	} {
		path := filepath.Join(dir, "t.pb")
		b, _ := proto.Marshal(c.tp)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		got, _, err := export.ReadTensorFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if got.DType != c.want.DType || !slices.Equal(got.Shape, c.want.Shape) || got.Len() != c.want.Len() ||
			!slices.Equal(got.F32, c.want.F32) || !slices.Equal(got.F64, c.want.F64) || !slices.Equal(got.I32, c.want.I32) ||
			!slices.Equal(got.I64, c.want.I64) || !slices.Equal(got.B, c.want.B) {
			t.Errorf("%v: got %+v, want %+v", c.tp, got, c.want)
		}
	}
}

func TestTensorFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, tp *onnxpb.TensorProto) string {
		path := filepath.Join(dir, name)
		b, _ := proto.Marshal(tp)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, c := range []struct {
		path  string
		want  string
		unsup bool
	}{
		{filepath.Join(dir, "none.pb"), "none.pb: cannot open: no such file or directory", false},
		{write("both.pb", &onnxpb.TensorProto{Name: proto.String("x"), Dims: []int64{1}, DataType: proto.Int32(1), FloatData: []float32{1}, RawData: make([]byte, 4)}),
			`both.pb: tensor "x": both raw_data and float_data are set`, false},
		{write("str.pb", &onnxpb.TensorProto{Dims: []int64{1}, DataType: proto.Int32(8), StringData: [][]byte{[]byte("a")}}),
			"str.pb: element type STRING is not supported (trnn reads float32, float64, int32, int64 and bool)", true},
		{write("undef.pb", &onnxpb.TensorProto{Dims: []int64{1}}), "undef.pb: element type is undefined", false},
	} {
		_, _, err := export.ReadTensorFile(c.path)
		if err == nil || !strings.HasSuffix(err.Error(), c.want) {
			t.Errorf("error %v, want suffix %q", err, c.want)
		}
		if err != nil && errors.Is(err, export.ErrUnsupported) != c.unsup {
			t.Errorf("%s: unsupported = %v, want %v", c.path, !c.unsup, c.unsup)
		}
	}
	bad := &graph.Tensor{DType: graph.Float32, Shape: []int{2}, F32: []float32{1}}
	if err := export.WriteTensorFile(filepath.Join(dir, "bad.pb"), "b", bad); err == nil || !strings.HasSuffix(err.Error(), `bad.pb: tensor "b": 1 elements for shape [2] (2 expected)`) {
		t.Errorf("write of an inconsistent tensor: %v", err)
	}
	if err := export.WriteTensorFile(filepath.Join(dir, "no", "such", "dir.pb"), "b", &graph.Tensor{DType: graph.Int64, Shape: []int{}, I64: []int64{1}}); err == nil || !strings.Contains(err.Error(), "dir.pb: cannot write: no such file or directory") {
		t.Errorf("write into a missing folder: %v", err)
	}
}
