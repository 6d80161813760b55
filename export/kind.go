package export

import (
	"bytes"
	"os"
	"path/filepath"
	"unicode/utf8"
)

// What a file that is not an ONNX model is instead, so that the reader's
// refusal says what was passed and what to pass: the files people mix up
// with a model are trnn's own checkpoints and run directories, specs and
// data. The package only recognises them by their first bytes; it reads
// none of them.

// checkpointMagic begins every trnn checkpoint file (runtime's format).
const checkpointMagic = "TRNNCKPT"

// notONNX describes b, which failed to decode as an ONNX model, when it is
// recognisably something else; "" otherwise.
func notONNX(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte(checkpointMagic)):
		return "not an ONNX model: a trnn checkpoint; pass the run's model.onnx, or export the checkpoint with 'trnn export CHECKPOINT -o model.onnx'"
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return "not an ONNX model: a zip archive (NPZ data?)"
	case len(b) > 0 && utf8.Valid(b[:min(len(b), 4096)]) && bytes.IndexByte(b[:min(len(b), 4096)], 0) < 0:
		return "not an ONNX model: a text file (a spec, or CSV data?); models are binary protobuf"
	}
	return ""
}

// dirHint is what to pass instead of the folder path: its model.onnx when
// it holds one (a run directory), else "".
func dirHint(path string) string {
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return ""
	}
	if _, err := os.Stat(filepath.Join(path, "model.onnx")); err == nil {
		return "; pass the model file, " + filepath.Join(path, "model.onnx")
	}
	return ""
}
