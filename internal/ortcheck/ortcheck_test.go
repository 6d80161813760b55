package ortcheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/ops"
)

// tinyModel is out = Sigmoid(a + Cast(n, float)) with a float32 [2, 3] and n
// int32 [3] (broadcast over rows), and its Cast as a second output.
func tinyModel(t *testing.T) []byte {
	t.Helper()
	vi := func(name string, et onnxpb.TensorProto_DataType, dims ...int64) *onnxpb.ValueInfoProto {
		var shape []*onnxpb.TensorShapeProto_Dimension
		for _, d := range dims {
			shape = append(shape, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
		}
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(et)), Shape: &onnxpb.TensorShapeProto{Dim: shape}},
		}}}
	}
	m := &onnxpb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(17)}},
		Graph: &onnxpb.GraphProto{
			Name: proto.String("tiny"),
			Node: []*onnxpb.NodeProto{
				{Name: proto.String("cast"), OpType: proto.String("Cast"), Input: []string{"n"}, Output: []string{"nf"},
					Attribute: []*onnxpb.AttributeProto{{Name: proto.String("to"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(1)}}},
				{Name: proto.String("add"), OpType: proto.String("Add"), Input: []string{"a", "nf"}, Output: []string{"s"}},
				{Name: proto.String("sig"), OpType: proto.String("Sigmoid"), Input: []string{"s"}, Output: []string{"out"}},
			},
			Input:  []*onnxpb.ValueInfoProto{vi("a", onnxpb.TensorProto_FLOAT, 2, 3), vi("n", onnxpb.TensorProto_INT32, 3)},
			Output: []*onnxpb.ValueInfoProto{vi("out", onnxpb.TensorProto_FLOAT, 2, 3), vi("nf", onnxpb.TensorProto_FLOAT, 3)},
		},
	}
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRunTinyModel(t *testing.T) {
	Require(t)
	t.Logf("onnx runtime %s from %s", Version(), LibraryPath())
	a := graph.FromF32([]float32{0, 1, -1, 2, -2, 0.5}, 2, 3)
	aCopy := append([]float32(nil), a.F32...)
	n := &graph.Tensor{DType: graph.Int32, Shape: []int{3}, I32: []int32{0, -1, 3}}
	out, err := Run(tinyModel(t), map[string]*graph.Tensor{"a": a, "n": n}, []string{"out", "nf"})
	if err != nil {
		t.Fatal(err)
	}
	nf := out["nf"]
	if nf.DType != graph.Float32 || len(nf.Shape) != 1 || nf.Shape[0] != 3 || nf.F32[0] != 0 || nf.F32[1] != -1 || nf.F32[2] != 3 {
		t.Fatalf("nf = %+v, want float32 [3] {0, -1, 3}", nf)
	}
	got := out["out"]
	if got.DType != graph.Float32 || len(got.Shape) != 2 || got.Shape[0] != 2 || got.Shape[1] != 3 {
		t.Fatalf("out: %v %v, want float32 [2 3]", got.DType, got.Shape)
	}
	for i, x := range aCopy {
		want := ops.Sigmoid(x + nf.F32[i%3])
		if d := got.F32[i] - want; d > 1e-6 || d < -1e-6 {
			t.Errorf("out[%d] = %v, want %v", i, got.F32[i], want)
		}
	}
	for i := range aCopy {
		if a.F32[i] != aCopy[i] {
			t.Fatalf("input a was modified at %d", i)
		}
	}
}

func TestSessionErrors(t *testing.T) {
	Require(t)
	if _, err := Open([]byte("not a model"), []string{"a"}, []string{"out"}); err == nil {
		t.Error("Open accepted bytes that are not a model")
	}
	s, err := Open(tinyModel(t), []string{"a", "n"}, []string{"out"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := graph.FromF32(make([]float32, 6), 2, 3)
	n := &graph.Tensor{DType: graph.Int32, Shape: []int{3}, I32: make([]int32, 3)}
	if _, err := s.Run(map[string]*graph.Tensor{"a": a}); err == nil || !strings.Contains(err.Error(), "session takes a, n") {
		t.Errorf("missing input: err = %v", err)
	}
	if _, err := s.Run(map[string]*graph.Tensor{"a": a, "m": n}); err == nil || !strings.Contains(err.Error(), `input "n" missing`) {
		t.Errorf("misnamed input: err = %v", err)
	}
	bad := graph.FromF32(make([]float32, 4), 2, 2)
	if _, err := s.Run(map[string]*graph.Tensor{"a": bad, "n": n}); err == nil {
		t.Error("a [2 2] accepted for a declared [2 3] input")
	}
	if _, err := s.Run(map[string]*graph.Tensor{"a": a, "n": n}); err != nil {
		t.Errorf("good run after failed ones: %v", err)
	}
	s.Close()
	if _, err := s.Run(map[string]*graph.Tensor{"a": a, "n": n}); err == nil {
		t.Error("Run on a closed session succeeded")
	}
}

func TestLibraryPath(t *testing.T) {
	t.Setenv(EnvLib, "/some/where/libonnxruntime.so.1")
	if got := LibraryPath(); got != "/some/where/libonnxruntime.so.1" {
		t.Errorf("with %s set: LibraryPath() = %q", EnvLib, got)
	}
	t.Setenv(EnvLib, "")
	got := LibraryPath()
	if !strings.HasSuffix(got, LibRel) {
		t.Fatalf("LibraryPath() = %q, want a path ending in %s", got, LibRel)
	}
	root := strings.TrimSuffix(got, LibRel)
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Errorf("LibraryPath() = %q is not under the module root: %v", got, err)
	}
}

// TestRequireMissing runs this test binary again with the library pointed at
// a file that does not exist: without CI the helper test is skipped, with
// CI set to any value it fails.
func TestRequireMissing(t *testing.T) {
	if os.Getenv("ORTCHECK_HELPER") == "1" {
		Require(t)
		t.Log("REQUIRE PASSED")
		return
	}
	for _, tc := range []struct {
		ci       string
		wantFail bool
		want     string
	}{
		{"", false, "run `make deps`"},
		{"true", true, "dependencies are required here"},
		{"1", true, "dependencies are required here"}, // any non-empty CI, not only "true"
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRequireMissing$", "-test.v")
		cmd.Env = append(os.Environ(), "ORTCHECK_HELPER=1", EnvLib+"=/nonexistent/libonnxruntime.so.1", "CI="+tc.ci, EnvRequire+"=")
		out, err := cmd.CombinedOutput()
		failed := err != nil
		if failed != tc.wantFail || !strings.Contains(string(out), tc.want) || strings.Contains(string(out), "REQUIRE PASSED") {
			t.Errorf("CI=%q: failed=%v, want %v; output:\n%s", tc.ci, failed, tc.wantFail, out)
		}
		if !tc.wantFail && !strings.Contains(string(out), "--- SKIP") {
			t.Errorf("CI=%q: helper not skipped; output:\n%s", tc.ci, out)
		}
	}
}
