package interp_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/runtime/interp"
)

// oneNodeModel is a model of one node at opset: every input a float graph
// input of unknown shape, every output a graph output.
func oneNodeModel(opset int64, op string, in, out []string, attrs ...*onnxpb.AttributeProto) []byte {
	g := &onnxpb.GraphProto{Name: proto.String("g"),
		Node: []*onnxpb.NodeProto{{Name: proto.String("n"), OpType: proto.String(op), Input: in, Output: out, Attribute: attrs}}}
	value := func(name string) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{
			Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT))}}}}
	}
	for _, name := range in {
		if name != "" {
			g.Input = append(g.Input, value(name))
		}
	}
	for _, name := range out {
		if name != "" {
			g.Output = append(g.Output, value(name))
		}
	}
	m := &onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(opset)}}}
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func attrInt(name string, v int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(v)}
}

func attrInts(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

func attrFloat(name string, v float32) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(v)}
}

func attrString(name, v string) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte(v)}
}

// TestReaderChecksModelOps: the op table's rules for the operators of
// exported models are applied when a model loads, naming the node, and
// separate valid ONNX trnn does not implement (ErrUnsupported) from
// invalid ONNX.
func TestReaderChecksModelOps(t *testing.T) {
	x, y := []string{"x"}, []string{"y"}
	for _, c := range []struct {
		opset       int64
		op          string
		in, out     []string
		attrs       []*onnxpb.AttributeProto
		want        string // "" for a model that must load
		unsupported bool
	}{
		{13, "Softmax", x, y, nil, "", false},
		{12, "Softmax", x, y, nil, "", false},
		{4, "Softmax", x, y, nil, "Softmax at opset 4 is not supported (trnn reads Softmax from opset 5)", true},
		{17, "Gelu", x, y, nil, "Gelu at opset 17 is not supported", true},
		{20, "Gelu", x, y, []*onnxpb.AttributeProto{attrString("approximate", "erf")}, `attribute approximate: expected one of none, tanh, found "erf"`, false},
		{15, "BatchNormalization", []string{"x", "s", "b", "m", "v"}, []string{"y", "rm", "rv"}, nil,
			"output 1 exists only in training mode, which is not supported", true},
		{15, "BatchNormalization", []string{"x", "s", "b", "m", "v"}, y, []*onnxpb.AttributeProto{attrInt("training_mode", 1)},
			"attribute training_mode = 1 is not supported (only 0)", true},
		{8, "BatchNormalization", []string{"x", "s", "b", "m", "v"}, y, nil, "BatchNormalization at opset 8 is not supported", true},
		{18, "Split", x, []string{"a", "b"}, []*onnxpb.AttributeProto{attrInt("num_outputs", 3)},
			"attribute num_outputs is 3, but the node has 2 outputs", false},
		{18, "Split", []string{"x", "s"}, []string{"a", "b"}, []*onnxpb.AttributeProto{attrInt("num_outputs", 2)},
			"input split and attribute num_outputs are both given", false},
		{17, "Split", x, []string{"a", "b"}, []*onnxpb.AttributeProto{attrInt("num_outputs", 2)},
			"attribute num_outputs is not supported for Split at opset 17", true},
		{18, "Pad", []string{"x", "p"}, y, []*onnxpb.AttributeProto{attrString("mode", "wrap")}, "attribute mode: wrap needs opset 19, found opset 18", false},
		{19, "Pad", []string{"x", "p"}, y, []*onnxpb.AttributeProto{attrString("mode", "wrap")}, "", false},
		{10, "Pad", x, y, nil, "attribute pads is required", false},
		{16, "ScatterElements", []string{"x", "i", "u"}, y, []*onnxpb.AttributeProto{attrString("reduction", "max")},
			"attribute reduction: max needs opset 18, found opset 16", false},
		{18, "ReduceMean", x, y, []*onnxpb.AttributeProto{attrInts("axes", 1)}, "attribute axes is not supported for ReduceMean at opset 18", true},
		{17, "ReduceMean", x, y, []*onnxpb.AttributeProto{attrInts("axes", 1)}, "", false},
		{13, "ReduceSum", x, y, []*onnxpb.AttributeProto{attrInts("axes", 1)}, "attribute axes is not supported for ReduceSum at opset 13", true},
		{13, "ReduceMax", x, y, []*onnxpb.AttributeProto{attrInt("keepdims", 2)}, "attribute keepdims: expected one of [0 1], found 2", false},
		{17, "LayerNormalization", []string{"x", "s"}, y, []*onnxpb.AttributeProto{attrInt("stash_type", 11)},
			"attribute stash_type = 11 is not supported (only 1)", true},
		{12, "Dropout", x, y, []*onnxpb.AttributeProto{attrFloat("ratio", 0.1)}, "attribute ratio is not supported for Dropout at opset 12", true},
		{11, "Clip", x, y, []*onnxpb.AttributeProto{attrFloat("min", 0)}, "attribute min is not supported for Clip at opset 11", true},
		{11, "TopK", []string{"x", "k"}, y, nil, "TopK takes 2 outputs, found 1", false},
	} {
		name := fmt.Sprintf("%s@%d", c.op, c.opset)
		g, err := export.DecodeONNX("m.onnx", oneNodeModel(c.opset, c.op, c.in, c.out, c.attrs...))
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: %v", name, err)
			} else if _, err := interp.New(g); err != nil {
				t.Errorf("%s: New: %v", name, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `node "n" (`+c.op+`)`) {
			t.Errorf("%s: error %v, want one naming the node and containing %q", name, err, c.want)
			continue
		}
		if errors.Is(err, export.ErrUnsupported) != c.unsupported {
			t.Errorf("%s: errors.Is(err, ErrUnsupported) = %v, want %v", name, !c.unsupported, c.unsupported)
		}
	}
}

// TestModelOpsRunThroughTheInterpreter runs a small graph of the new
// operators end to end: the layer norm, attention mask and softmax head of
// an exported Transformer.
func TestModelOpsRunThroughTheInterpreter(t *testing.T) {
	b := oneNodeModel(17, "LayerNormalization", []string{"x", "scale"}, []string{"y", "", "inv"}, attrFloat("epsilon", 0))
	g, err := export.DecodeONNX("ln.onnx", b)
	if err != nil {
		t.Fatal(err)
	}
	ip, err := interp.New(g)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ip.Run(map[string]*graph.Tensor{
		"x":     graph.FromF32([]float32{1, 3, 5, 5}, 2, 2),
		"scale": graph.FromF32([]float32{1, 1}, 2),
	})
	if err != nil {
		t.Fatal(err)
	}
	if y := out["y"].F32; y[0] != -1 || y[1] != 1 {
		t.Errorf("y = %v, want [-1 1 …]", y)
	}
	if inv := out["inv"]; inv.Shape[0] != 2 || inv.Shape[1] != 1 || inv.F32[0] != 1 {
		t.Errorf("InvStdDev = %v %v, want [2, 1] starting with 1", inv.Shape, inv.F32)
	}
}
