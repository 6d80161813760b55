package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/runtime"
)

// fileKind is what a file named on the command line holds, judged from its
// name and first bytes, so that a command given the wrong kind of file
// (a spec where a model goes, a run directory where a checkpoint goes) says
// so, or uses the file the user meant, instead of failing to parse it.
type fileKind int

const (
	kindUnknown    fileKind = iota // not recognised, or not a regular file: the reader decides
	kindDir                        // a folder that is not a run directory
	kindRunDir                     // a folder holding model.onnx or checkpoint.trnn
	kindCheckpoint                 // a trnn checkpoint (magic, or the .trnn extension)
	kindONNX                       // an ONNX model (.onnx)
	kindSpec                       // a spec (.yaml, .yml, .json)
	kindData                       // a data file (.npz, .csv, .parquet)
)

// sniff says what path holds. Only regular files are read (a few bytes):
// a device or a named pipe is left to the readers, which refuse it.
func sniff(path string) fileKind {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return kindUnknown
	case st.IsDir():
		for _, f := range []string{runtime.ModelFile, runtime.CheckpointFile} {
			if isFile(filepath.Join(path, f)) {
				return kindRunDir
			}
		}
		return kindDir
	case !st.Mode().IsRegular():
		return kindUnknown
	}
	head := make([]byte, 8)
	if f, err := os.Open(path); err == nil {
		n, _ := io.ReadFull(f, head)
		head = head[:n]
		f.Close()
	}
	switch ext := strings.ToLower(filepath.Ext(path)); {
	case runtime.IsCheckpoint(path, head):
		return kindCheckpoint
	case bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PAR1")) || ext == ".npz" || ext == ".csv" || ext == ".parquet":
		return kindData // an NPZ file is a zip archive; Parquet starts with PAR1
	case ext == ".onnx":
		return kindONNX
	case ext == ".yaml" || ext == ".yml" || ext == ".json":
		return kindSpec
	}
	return kindUnknown
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular()
}

// modelPath is the model file that MODEL on the command line stands for:
// the file itself, or a run directory's model.onnx (its checkpoint when
// there is no model.onnx). Anything that is plainly not a model is refused
// with what to pass instead.
func modelPath(path string) (string, error) {
	switch sniff(path) {
	case kindRunDir:
		if m := filepath.Join(path, runtime.ModelFile); isFile(m) {
			return m, nil
		}
		return filepath.Join(path, runtime.CheckpointFile), nil
	case kindDir:
		return "", fmt.Errorf("%s: a directory without %s; pass a model file (MODEL.onnx, or a run's %s)", path, runtime.ModelFile, runtime.CheckpointFile)
	case kindSpec:
		run := filepath.Join("runs", "NAME")
		if spec, err := compiler.ParseFile(path); err == nil {
			run = filepath.Join("runs", spec.Name)
		}
		return "", fmt.Errorf("%s: a spec, not a model; train it with 'trnn train %s', then pass the run's model, %s", path, path, filepath.Join(run, runtime.ModelFile))
	case kindData:
		return "", fmt.Errorf("%s: a data file, not a model; the model comes first and the data after --data (MODEL --data %s)", path, path)
	}
	return path, nil
}

// checkpointPath is the checkpoint that CHECKPOINT on the command line
// stands for: the file itself, or a run directory's checkpoint.trnn.
func checkpointPath(path string) (string, error) {
	switch sniff(path) {
	case kindRunDir:
		return filepath.Join(path, runtime.CheckpointFile), nil
	case kindDir:
		return "", fmt.Errorf("%s: a directory without %s; pass a run directory or its checkpoint", path, runtime.CheckpointFile)
	case kindONNX:
		return "", fmt.Errorf("%s: an ONNX model, not a trnn checkpoint: it is exported already; export takes the %s of the run that trained it", path, runtime.CheckpointFile)
	case kindSpec:
		return "", fmt.Errorf("%s: a spec, not a trnn checkpoint; train it with 'trnn train %s' to get one", path, path)
	case kindData:
		return "", fmt.Errorf("%s: a data file, not a trnn checkpoint", path)
	}
	return path, nil
}

// checkSpecPath refuses, with what to do instead, a SPEC argument that is
// plainly a model, a checkpoint, a run directory or data; verb is what the
// command does with a spec.
func checkSpecPath(path, verb string) error {
	switch sniff(path) {
	case kindONNX:
		hint := ""
		if verb == "trnn train" {
			hint = fmt.Sprintf(" (to start from this model's weights: trnn train SPEC --init %s)", path)
		}
		return fmt.Errorf("%s: an ONNX model, not a spec; %s takes the spec (YAML) a model is trained from%s", path, verb, hint)
	case kindCheckpoint:
		return fmt.Errorf("%s: a trnn checkpoint, not a spec; to continue its run: trnn train --resume %s", path, filepath.Dir(path))
	case kindRunDir:
		return fmt.Errorf("%s: a run directory, not a spec; to continue its run: trnn train --resume %s", path, path)
	case kindDir:
		return fmt.Errorf("%s: a directory, not a spec; %s takes a spec file (YAML)", path, verb)
	case kindData:
		return fmt.Errorf("%s: a data file, not a spec; %s takes the spec (YAML), and data comes with --data or the spec's data.train", path, verb)
	}
	return nil
}
