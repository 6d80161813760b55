package interp_test

import (
	"fmt"
	goruntime "runtime"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/runtime/interp"
)

// concatBomb is an ONNX model of a few kilobytes: a one-element constant
// doubled by n Concat nodes, so that folding it would make 2ⁿ floats.
func concatBomb(t testing.TB, n int) []byte { return concatChain(t, n, true) }

// concatChain is n Concat nodes from a one-element constant, each joining
// its predecessor with itself (double) or with the constant (one more).
func concatChain(t testing.TB, n int, double bool) []byte {
	t.Helper()
	floatT := onnxpb.TensorProto_FLOAT
	g := &onnxpb.GraphProto{Name: proto.String("bomb")}
	g.Initializer = append(g.Initializer, &onnxpb.TensorProto{
		Name: proto.String("c0"), DataType: proto.Int32(int32(floatT)), Dims: []int64{1}, FloatData: []float32{1},
	})
	g.Input = append(g.Input, &onnxpb.ValueInfoProto{Name: proto.String("x"), Type: floatTensorType(1)})
	prev := "c0"
	for i := 1; i <= n; i++ {
		out := fmt.Sprintf("c%d", i)
		g.Node = append(g.Node, &onnxpb.NodeProto{
			Name: proto.String(fmt.Sprintf("double_%d", i)), OpType: proto.String("Concat"),
			Input: []string{prev, map[bool]string{true: prev, false: "c0"}[double]}, Output: []string{out},
			Attribute: []*onnxpb.AttributeProto{{Name: proto.String("axis"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(0)}},
		})
		prev = out
	}
	g.Node = append(g.Node, &onnxpb.NodeProto{Name: proto.String("use"), OpType: proto.String("Add"),
		Input: []string{"x", prev}, Output: []string{"y"}})
	g.Output = append(g.Output, &onnxpb.ValueInfoProto{Name: proto.String("y"), Type: floatTensorType(-1)})
	m := &onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: proto.Int64(17)}}}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// floatTensorType is float32 [dim], or float32 of unknown shape for dim −1.
func floatTensorType(dim int64) *onnxpb.TypeProto {
	if dim < 0 {
		return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
			ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT))}}}
	}
	return &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{TensorType: &onnxpb.TypeProto_Tensor{
		ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
		Shape:    &onnxpb.TensorShapeProto{Dim: []*onnxpb.TensorShapeProto_Dimension{{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: dim}}}},
	}}}
}

// TestLoadFoldingBombRefused: 40 Concat doublings of a constant (a 5.7 KB
// model) once allocated over 7.5 GB while loading. Folding now stops at its
// bound, before allocating, with a message naming the node.
func TestLoadFoldingBombRefused(t *testing.T) {
	b := concatBomb(t, 40)
	if len(b) > 8<<10 {
		t.Fatalf("the bomb is %d bytes, want a few kilobytes", len(b))
	}
	g, err := export.DecodeONNX("bomb.onnx", b)
	if err != nil {
		t.Fatal(err)
	}
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	_, err = interp.New(g)
	goruntime.ReadMemStats(&after)
	// 2²⁴ floats is the first value over 64 MiB: node double_25.
	if err == nil || !strings.Contains(err.Error(), `"double_25" (Concat)`) || !strings.Contains(err.Error(), interp.EnvMaxFoldBytes) {
		t.Fatalf("New = %v, want a refusal naming node double_25 and %s", err, interp.EnvMaxFoldBytes)
	}
	t.Log(err)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 512<<20 {
		t.Errorf("loading the bomb allocated %d MiB", alloc>>20)
	}
}

// TestFoldingBudgetTotal: values each under the per-value bound still stop
// at the total; a small legitimate fold passes; the bound can be raised.
func TestFoldingBudgetTotal(t *testing.T) {
	g, err := export.DecodeONNX("small.onnx", concatBomb(t, 10))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := interp.New(g); err != nil {
		t.Fatalf("a 4 KB fold refused: %v", err)
	}
	t.Setenv(interp.EnvMaxFoldBytes, "2048")
	if _, err := interp.New(g); err == nil || !strings.Contains(err.Error(), `"double_10"`) {
		t.Errorf("New with a 2 KiB bound = %v, want node double_10 (4 KiB) refused", err)
	}
	// 200 values of 2 to 201 floats: each under 4 KiB, 80 KiB in all.
	g, err = export.DecodeONNX("chain.onnx", concatChain(t, 200, false))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(interp.EnvMaxFoldBytes, "4096")
	if _, err := interp.New(g); err == nil || !strings.Contains(err.Error(), "in all") {
		t.Errorf("New with a 4 KiB bound = %v, want the total refused", err)
	}
	t.Setenv(interp.EnvMaxFoldBytes, "lots")
	if _, err := interp.New(g); err == nil || !strings.Contains(err.Error(), interp.EnvMaxFoldBytes) {
		t.Errorf("a malformed bound: %v", err)
	}
}
