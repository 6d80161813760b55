package trnn_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trnn/trnn"
)

// TestLoadWrongKindOfFile: Load given a checkpoint, a run directory, a
// spec or NPZ data says what the file is and what to pass instead.
func TestLoadWrongKindOfFile(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	os.MkdirAll(run, 0o755)
	model, err := os.ReadFile(filepath.Join("testdata", "onnx", "lstm_classifier.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"run/model.onnx":      model,
		"run/checkpoint.trnn": append([]byte("TRNNCKPT\x01\x00\x00\x00"), make([]byte, 64)...),
		"spec.yaml":           []byte("inputs: {features: 3}\nlayers: [{lstm: {units: 4}}]\noutputs: {labels: 1}\n"),
		"data.npz":            []byte("PK\x03\x04 an archive"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for path, want := range map[string]string{
		filepath.Join(run, "checkpoint.trnn"): ": not an ONNX model: a trnn checkpoint; pass the run's model.onnx, or export the checkpoint with 'trnn export CHECKPOINT -o model.onnx'",
		run:                                   ": is a directory, not a file; pass the model file, " + filepath.Join(run, "model.onnx"),
		filepath.Join(dir, "spec.yaml"):       ": not an ONNX model: a text file (a spec, or CSV data?)",
		filepath.Join(dir, "data.npz"):        ": not an ONNX model: a zip archive (NPZ data?)",
	} {
		_, err := trnn.Load(path)
		if err == nil || !strings.HasPrefix(err.Error(), path+want) {
			t.Errorf("Load(%s): %v; want %q", path, err, path+want)
		}
	}
	if _, err := trnn.Load(filepath.Join(run, "model.onnx")); err != nil {
		t.Fatal(err)
	}
}
