package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/graph"
)

// identityModel writes an ONNX model passing float input x [2] to one
// Identity output per name.
func identityModel(t *testing.T, dir string, outputs ...string) string {
	t.Helper()
	vt := func(name string) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT))}}}}
	}
	g := &onnxpb.GraphProto{Name: proto.String("ids"), Input: []*onnxpb.ValueInfoProto{vt("x")}}
	for _, o := range outputs {
		g.Node = append(g.Node, &onnxpb.NodeProto{OpType: proto.String("Identity"), Input: []string{"x"}, Output: []string{o}})
		g.Output = append(g.Output, vt(o))
	}
	b, err := proto.Marshal(&onnxpb.ModelProto{IrVersion: proto.Int64(8), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Version: proto.Int64(17)}}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ids.onnx")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	x := filepath.Join(dir, "x.pb")
	if err := export.WriteTensorFile(x, "x", &graph.Tensor{DType: graph.Float32, Shape: []int{2}, F32: []float32{1, 2}}); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRunOutputNamesCollide: outputs a/b and a_b both sanitise to a_b.pb;
// one was lost. Each now gets a file of its own, holding its own tensor.
func TestRunOutputNamesCollide(t *testing.T) {
	dir := t.TempDir()
	model := identityModel(t, dir, "a/b", "a_b")
	out := filepath.Join(dir, "out")
	status, stdout, stderr := trnnCmd(t, "run", model, "--input", "x="+filepath.Join(dir, "x.pb"), "-o", out)
	if status != 0 {
		t.Fatalf("status %d: %s", status, stderr)
	}
	files, _ := filepath.Glob(filepath.Join(out, "*.pb"))
	if len(files) != 2 {
		t.Fatalf("wrote %v, want two files; stdout:\n%s", files, stdout)
	}
	names := map[string]bool{}
	for _, f := range files {
		_, name, err := export.ReadTensorFile(f)
		if err != nil {
			t.Fatal(err)
		}
		names[name] = true
	}
	if !names["a/b"] || !names["a_b"] {
		t.Errorf("files hold %v, want a/b and a_b", names)
	}
}

// TestRunOutputIsInputRefused: an output file that is one of the inputs
// (directly or through a symlink) is refused before anything is written.
func TestRunOutputIsInputRefused(t *testing.T) {
	dir := t.TempDir()
	model := identityModel(t, dir, "y")
	// Input x is read from DIR/y.pb, where output y would go.
	before, _ := os.ReadFile(filepath.Join(dir, "x.pb"))
	x := filepath.Join(dir, "y.pb")
	if err := os.WriteFile(x, before, 0o644); err != nil {
		t.Fatal(err)
	}
	status, _, stderr := trnnCmd(t, "run", model, "--input", "x="+x, "-o", dir)
	if status != 1 || !strings.Contains(stderr, "same file as input x") {
		t.Errorf("status %d, stderr %q", status, stderr)
	}
	link := filepath.Join(t.TempDir(), "y.pb")
	if err := os.Symlink(x, link); err != nil {
		t.Fatal(err)
	}
	status, _, stderr = trnnCmd(t, "run", model, "--input", "x="+x, "-o", filepath.Dir(link))
	if status != 1 || !strings.Contains(stderr, "same file as input x") {
		t.Errorf("through a symlink: status %d, stderr %q", status, stderr)
	}
	if after, _ := os.ReadFile(x); string(after) != string(before) {
		t.Error("the input changed")
	}
}

// TestRunWritesAtomically: trnn run wrote outputs in place (os.WriteFile),
// so a kill or a full disk left a truncated y.pb where a good one was. An
// output now replaces the old file by renaming a complete new one over it
// (a new inode; the old file is never opened for writing), and no
// temporary file is left beside it.
func TestRunWritesAtomically(t *testing.T) {
	dir := t.TempDir()
	model := identityModel(t, dir, "y")
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(out, "y.pb")
	if err := os.WriteFile(old, []byte("old and longer than the new tensor file, much longer"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(old)
	if err != nil {
		t.Fatal(err)
	}
	if status, _, stderr := trnnCmd(t, "run", model, "--input", "x="+filepath.Join(dir, "x.pb"), "-o", out); status != 0 {
		t.Fatal(stderr)
	}
	if _, _, err := export.ReadTensorFile(filepath.Join(out, "y.pb")); err != nil {
		t.Errorf("y.pb after the run: %v", err)
	}
	if after, err := os.Stat(old); err != nil || os.SameFile(before, after) {
		t.Errorf("y.pb was rewritten in place, not replaced by a complete new file (%v)", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 1 {
		t.Errorf("the output folder holds %d files, want y.pb alone", len(entries))
	}
}

// TestExportOverCheckpointRefused: `export R/checkpoint.trnn -o
// R/checkpoint.trnn` ruined the checkpoint. It is refused, also through a
// hard link, and the checkpoint is unchanged.
func TestExportOverCheckpointRefused(t *testing.T) {
	spec, _ := setup(t, 24, 1, "train.npz")
	dir := filepath.Join(filepath.Dir(spec), "run")
	if status, _, stderr := trnnCmd(t, "train", spec, "-o", dir, "--quiet"); status != 0 {
		t.Fatal(stderr)
	}
	ck := filepath.Join(dir, "checkpoint.trnn")
	before, _ := os.ReadFile(ck)
	hard := filepath.Join(t.TempDir(), "ck.onnx")
	if err := os.Link(ck, hard); err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{ck, hard} {
		status, _, stderr := trnnCmd(t, "export", ck, "-o", out)
		if status != 1 || !strings.Contains(stderr, "same file as the checkpoint") {
			t.Errorf("-o %s: status %d, stderr %q", out, status, stderr)
		}
	}
	if after, _ := os.ReadFile(ck); string(after) != string(before) {
		t.Error("the checkpoint changed")
	}
}
