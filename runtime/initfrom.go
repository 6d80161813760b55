package runtime

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
)

// readInitModel reads the model that Config.Init names as a tensor-form
// graph: an ONNX model file; a run directory, meaning its model.onnx; or a
// trnn checkpoint, meaning its best weights (the model export would write
// from it). A checkpoint goes through the same ONNX form as a model file,
// so that export.InitParams checks both alike. It returns the file the
// weights come from, for messages.
func readInitModel(path string) (*graph.Graph, string, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		model := filepath.Join(path, ModelFile)
		if _, err := os.Stat(model); err != nil {
			return nil, path, fmt.Errorf("%s: a directory without %s; --init takes an ONNX model, a checkpoint or a run directory", path, ModelFile)
		}
		path = model
	}
	head := make([]byte, len(checkpointMagic))
	if f, err := os.Open(path); err == nil {
		f.Read(head)
		f.Close()
	}
	if !IsCheckpoint(path, head) {
		g, err := export.ReadONNX(path)
		return g, path, err
	}
	c, err := ReadCheckpoint(path)
	if err != nil {
		return nil, path, err
	}
	prog, err := c.Program(path, true)
	if err != nil {
		return nil, path, err
	}
	var buf bytes.Buffer
	if err := WriteModel(&buf, prog, export.Options{}); err != nil {
		return nil, path, fmt.Errorf("%s: %v", path, err)
	}
	g, err := export.DecodeONNX(path, buf.Bytes())
	return g, path, err
}
