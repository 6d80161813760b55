package export

import (
	"fmt"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/export/onnxpb"
)

// manyInitializers is a model whose n initializers are also listed as graph
// inputs (as older exporters list them), each added to x by its own node.
func manyInitializers(tb testing.TB, n int) []byte {
	tb.Helper()
	floatT := int32(onnxpb.TensorProto_FLOAT)
	typ := &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(floatT)}}}
	g := &onnxpb.GraphProto{Name: proto.String("many")}
	g.Input = append(g.Input, &onnxpb.ValueInfoProto{Name: proto.String("x"), Type: typ})
	prev := "x"
	for i := range n {
		w := fmt.Sprintf("w%d", i)
		g.Initializer = append(g.Initializer, &onnxpb.TensorProto{Name: proto.String(w), DataType: proto.Int32(floatT), Dims: []int64{1}, FloatData: []float32{1}})
		g.Input = append(g.Input, &onnxpb.ValueInfoProto{Name: proto.String(w), Type: typ})
		out := fmt.Sprintf("y%d", i)
		g.Node = append(g.Node, &onnxpb.NodeProto{OpType: proto.String("Add"), Input: []string{prev, w}, Output: []string{out}})
		prev = out
	}
	g.Output = append(g.Output, &onnxpb.ValueInfoProto{Name: proto.String(prev), Type: typ})
	b, err := proto.Marshal(&onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: proto.Int64(17)}}})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestManyInitializersAsInputs: initializers listed as inputs are
// parameters, not inputs the caller must feed, however many there are.
func TestManyInitializersAsInputs(t *testing.T) {
	g, err := DecodeONNX("many.onnx", manyInitializers(t, 2000))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Inputs) != 1 || len(g.Params) != 2000 || g.Param("w1999") == nil {
		t.Fatalf("%d inputs and %d parameters, want 1 and 2000", len(g.Inputs), len(g.Params))
	}
}

// BenchmarkDecodeManyInitializers: 60,000 initializers listed as inputs
// took 5.2 s to read when each input was looked up by a linear search; the
// reader's lookups are maps, so the cost is linear in the model.
func BenchmarkDecodeManyInitializers(b *testing.B) {
	model := manyInitializers(b, 60000)
	b.ResetTimer()
	for b.Loop() {
		if _, err := DecodeONNX("many.onnx", model); err != nil {
			b.Fatal(err)
		}
	}
}
