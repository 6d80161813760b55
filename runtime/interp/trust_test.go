package interp_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/runtime/interp"
)

// TestReaderRefusesWhatNewTrusts: New does not re-check attributes, so a
// model whose attributes the kernels could misread must be stopped by the
// reader, before a graph reaches New. Each case edits one node of an
// imported classifier.
func TestReaderRefusesWhatNewTrusts(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "onnx", "lstm_classifier.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	if g, err := export.DecodeONNX("m.onnx", b); err != nil {
		t.Fatal(err)
	} else if _, err := interp.New(g); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		op   string
		attr *onnxpb.AttributeProto
		want string
	}{
		{"LSTM", &onnxpb.AttributeProto{Name: proto.String("clip"), Type: onnxpb.AttributeProto_FLOAT.Enum(), F: proto.Float32(1)},
			"(LSTM): attribute clip is not supported"},
		{"LSTM", &onnxpb.AttributeProto{Name: proto.String("direction"), Type: onnxpb.AttributeProto_STRING.Enum(), S: []byte("sideways")},
			`(LSTM): attribute direction: expected one of forward, reverse, bidirectional, found "sideways"`},
		{"Transpose", &onnxpb.AttributeProto{Name: proto.String("perm"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(0)},
			"(Transpose): attribute perm: expected ints"},
	} {
		var m onnxpb.ModelProto
		if err := proto.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, n := range m.Graph.Node {
			if n.GetOpType() != c.op {
				continue
			}
			found = true
			kept := n.Attribute[:0]
			for _, a := range n.Attribute {
				if a.GetName() != c.attr.GetName() {
					kept = append(kept, a)
				}
			}
			n.Attribute = append(kept, c.attr)
		}
		if !found {
			t.Fatalf("the model has no %s node", c.op)
		}
		edited, err := proto.Marshal(&m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := export.DecodeONNX("m.onnx", edited); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s with %s: error %v, want one containing %q", c.op, c.attr.GetName(), err, c.want)
		}
	}
}
