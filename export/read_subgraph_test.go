package export_test

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/graph"
)

func readAttrGraph(name string, g *onnxpb.GraphProto) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: g}
}

// readUntyped declares a subgraph input or output without a type, as
// ONNX's own function expansions do.
func readUntyped(name string) *onnxpb.ValueInfoProto {
	return &onnxpb.ValueInfoProto{Name: proto.String(name)}
}

// readLoopModel is Y_final, Y_scan = Loop(M, "", X) whose body adds the
// enclosing graph's initializer C to the carried value.
func readLoopModel() *onnxpb.ModelProto {
	body := &onnxpb.GraphProto{
		Name:   proto.String("body"),
		Input:  []*onnxpb.ValueInfoProto{readValue("i", onnxpb.TensorProto_INT64), readUntyped("c_in"), readUntyped("v_in")},
		Output: []*onnxpb.ValueInfoProto{readUntyped("c_out"), readUntyped("v_out"), readUntyped("s_out")},
		Node: []*onnxpb.NodeProto{
			readNode("keep", "Identity", []string{"c_in"}, []string{"c_out"}),
			readNode("add", "Add", []string{"v_in", "C"}, []string{"v_out"}),
			readNode("emit", "Identity", []string{"v_out"}, []string{"s_out"}),
		},
	}
	m := readModel(17)
	g := m.Graph
	g.Input = append(g.Input, readValue("M", onnxpb.TensorProto_INT64))
	g.Output = []*onnxpb.ValueInfoProto{readValue("Y", onnxpb.TensorProto_FLOAT, "batch", 3), readValue("Ys", onnxpb.TensorProto_FLOAT)}
	g.Node = []*onnxpb.NodeProto{readNode("loop", "Loop", []string{"M", "", "X"}, []string{"Y", "Ys"}, readAttrGraph("body", body))}
	return m
}

func TestDecodeONNXSubgraph(t *testing.T) {
	g, err := export.DecodeONNX("m.onnx", readEncode(t, readLoopModel()))
	if err != nil {
		t.Fatal(err)
	}
	a := g.Nodes[0].Attrs["body"]
	if a.Kind != graph.AttrGraph || a.Graph == nil || len(a.Graph.Nodes) != 3 || a.Graph.Form != graph.FormTensor {
		t.Fatalf("body attribute %+v", a)
	}
	if in := a.Graph.Inputs; len(in) != 3 || in[0].DType != graph.Int64 || in[1].DType != 0 || in[1].Shape != nil {
		t.Errorf("body inputs %+v: want i int64, then untyped values", in)
	}
}

// TestDecodeONNXSubgraphErrors: a body is checked as the model's graph is,
// with the names defined before its node visible, and its errors place
// the problem within it.
func TestDecodeONNXSubgraphErrors(t *testing.T) {
	body := func(m *onnxpb.ModelProto) *onnxpb.GraphProto { return m.Graph.Node[0].Attribute[0].G }
	for _, c := range []struct {
		name        string
		edit        func(m *onnxpb.ModelProto)
		want        string
		unsupported bool
	}{
		{"undefined name", func(m *onnxpb.ModelProto) { body(m).Node[1].Input[1] = "nope" },
			`node "loop" (Loop): attribute body: node "add" (Add): input 1 "nope" is not a graph input, an initializer or an output of an earlier node`, false},
		{"a later outer value", func(m *onnxpb.ModelProto) {
			m.Graph.Node = append(m.Graph.Node, readNode("late", "Relu", []string{"X"}, []string{"L"}))
			body(m).Node[1].Input[1] = "L"
		}, `attribute body: node "add" (Add): input 1 "L" is not a graph input`, false},
		{"shadowing", func(m *onnxpb.ModelProto) { body(m).Node[1].Output[0] = "C"; body(m).Node[2].Input[0] = "C" },
			`attribute body: node "add" (Add): output "C" is already defined`, false},
		{"shadowed input", func(m *onnxpb.ModelProto) { body(m).Input[2].Name = proto.String("X") },
			`attribute body: input "X": name defined twice`, false},
		{"unsupported op", func(m *onnxpb.ModelProto) { body(m).Node[0].OpType = proto.String("Frobnicate") },
			`attribute body: node "keep" (Frobnicate): unsupported op type "Frobnicate"`, true},
		{"arity", func(m *onnxpb.ModelProto) { body(m).Output = body(m).Output[:2] },
			`attribute body: the graph takes 3 inputs and gives 2 outputs; this Loop node needs 3 and 3`, false},
		{"no body", func(m *onnxpb.ModelProto) { m.Graph.Node[0].Attribute = nil }, "attribute body is required", false},
		{"graph on another op", func(m *onnxpb.ModelProto) {
			m.Graph.Node = append(m.Graph.Node, readNode("r", "Relu", []string{"X"}, []string{"R"}, readAttrGraph("body", &onnxpb.GraphProto{})))
		}, `node "r" (Relu): attribute body is not supported for Relu`, true},
		{"wrong kind", func(m *onnxpb.ModelProto) { m.Graph.Node[0].Attribute[0] = readAttrInt("body", 1) },
			"attribute body: expected graph, found int", false},
	} {
		m := readLoopModel()
		c.edit(m)
		_, err := export.DecodeONNX("m.onnx", readEncode(t, m))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %s", c.name, err, c.want)
			continue
		}
		if errors.Is(err, export.ErrUnsupported) != c.unsupported {
			t.Errorf("%s: errors.Is(err, ErrUnsupported) = %v", c.name, !c.unsupported)
		}
	}
}

// TestDecodeONNXWindowAttrs: Conv and the pools check their attributes at
// load.
func TestDecodeONNXWindowAttrs(t *testing.T) {
	for _, c := range []struct {
		op    string
		attrs []*onnxpb.AttributeProto
		want  string
	}{
		{"Conv", []*onnxpb.AttributeProto{readAttrString("auto_pad", "SAME")}, "attribute auto_pad: expected one of NOTSET, SAME_UPPER, SAME_LOWER, VALID"},
		{"Conv", []*onnxpb.AttributeProto{readAttrInts("strides", 1, 0)}, "attribute strides: expected positive integers"},
		{"Conv", []*onnxpb.AttributeProto{readAttrInts("pads", 1, 1, 1)}, "attribute pads: expected a begin and an end value"},
		{"Conv", []*onnxpb.AttributeProto{readAttrInts("pads", -1, 0)}, "negative padding"},
		{"Conv", []*onnxpb.AttributeProto{readAttrInts("strides", 1, 1), readAttrInts("dilations", 1)}, "attribute dilations: [1] is for 1 spatial dimensions, but the other window attributes are for 2"},
		{"Conv", []*onnxpb.AttributeProto{readAttrString("auto_pad", "VALID"), readAttrInts("pads", 1, 1)}, "explicit pads [1 1] need auto_pad NOTSET"},
		{"Conv", []*onnxpb.AttributeProto{readAttrInt("group", 0)}, "attribute group: expected a positive integer"},
		{"MaxPool", nil, "attribute kernel_shape is required"},
		{"MaxPool", []*onnxpb.AttributeProto{readAttrInts("kernel_shape", 2), readAttrInt("storage_order", 2)}, "attribute storage_order: expected one of [0 1]"},
		{"AveragePool", []*onnxpb.AttributeProto{readAttrInts("kernel_shape", 2), readAttrInt("storage_order", 0)}, "attribute storage_order is not supported for AveragePool"},
		{"AveragePool", []*onnxpb.AttributeProto{readAttrInts("kernel_shape", 2), readAttrInts("dilations", 2)}, "attribute dilations is not supported for AveragePool at opset 17"},
	} {
		m := readModel(17)
		in := []string{"X"}
		if c.op == "Conv" {
			in = append(in, "C")
		}
		m.Graph.Node = append(m.Graph.Node, readNode("w", c.op, in, []string{"Z"}, c.attrs...))
		_, err := export.DecodeONNX("m.onnx", readEncode(t, m))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %v: error %v, want one containing %q", c.op, c.attrs, err, c.want)
		}
	}
}
