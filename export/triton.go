package export

// Triton model repositories: an ONNX model with the config.pbtxt that
// NVIDIA Triton Inference Server's onnxruntime backend reads.
//
// The configuration is protobuf text format of Triton's ModelConfig
// message (model_config.proto: name 1, platform 2, max_batch_size 4,
// input 5, output 6, dynamic_batching 11, backend 17; ModelInput name 1,
// data_type 2, dims 4, reshape 5; ModelOutput name 1, data_type 2, dims 3,
// reshape 5; ModelTensorReshape shape 1). With max_batch_size > 0 Triton
// adds the batch dimension itself, so dims leave out every value's first
// dimension, which must be the model's batch; a value that is nothing but
// its batch ([batch], such as lengths) is declared with dims [1] and
// reshaped to [] so that the model sees [batch].

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/atomicfile"
	"github.com/trnn/trnn/internal/fileio"
)

// TritonModel is one model of a Triton model repository.
type TritonModel struct {
	// Name is the model's folder in the repository and its name in
	// config.pbtxt: letters, digits, '_', '-' and '.', not starting with '.'.
	Name string
	// File names the model in error messages.
	File string
	// ONNX is the model file's content.
	ONNX []byte
	// MaxBatchSize is Triton's max_batch_size: the most rows Triton's
	// dynamic batcher puts in one call; 0 turns batching off and declares
	// the full shapes.
	MaxBatchSize int
}

// tritonName is what WriteTriton accepts as a model's folder name.
var tritonName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9_.-]*$`)

// WriteTriton adds m to the Triton model repository repo (a folder,
// created if needed): repo/<name>/1/model.onnx and repo/<name>/config.pbtxt
// for the onnxruntime backend, each written atomically, the model first so
// that a server polling the repository never sees a configuration without
// its model. The model is read first (DecodeONNX), so that a file trnn
// cannot read is refused before anything is written.
func WriteTriton(repo string, m TritonModel) error {
	g, err := DecodeONNX(m.File, m.ONNX)
	if err != nil {
		return err
	}
	cfg, err := TritonConfig(g, m.Name, m.MaxBatchSize)
	if err != nil {
		return fmt.Errorf("%s: %w", m.File, err)
	}
	dir := filepath.Join(repo, m.Name)
	if err := os.MkdirAll(filepath.Join(dir, "1"), 0o755); err != nil {
		return fmt.Errorf("%s: %w", repo, fileio.Bare(err))
	}
	for _, f := range []struct {
		path string
		data []byte
	}{{filepath.Join(dir, "1", "model.onnx"), m.ONNX}, {filepath.Join(dir, "config.pbtxt"), cfg}} {
		if err := atomicfile.WriteBytes(f.path, f.data); err != nil {
			return fmt.Errorf("%s: %w", f.path, err)
		}
	}
	return nil
}

// TritonConfig returns the config.pbtxt of the model g under the name
// name, for Triton's onnxruntime backend: every input and output with its
// data type and dims (a symbolic dimension is -1), max_batch_size, and
// dynamic_batching when maxBatch > 0. It fails for a name WriteTriton
// would refuse, a value without a declared shape or of a type Triton's
// configuration cannot name, and, when maxBatch > 0, a value whose first
// dimension is not the model's batch.
func TritonConfig(g *graph.Graph, name string, maxBatch int) ([]byte, error) {
	if !tritonName.MatchString(name) {
		return nil, fmt.Errorf("export: triton: model name %q: expected letters, digits, '_', '-' and '.', not starting with '.'", name)
	}
	if maxBatch < 0 {
		return nil, fmt.Errorf("export: triton: max_batch_size %d: expected 0 or more", maxBatch)
	}
	var b bytes.Buffer
	b.WriteString("# Triton model configuration for the onnxruntime backend, written by trnn.\n")
	fmt.Fprintf(&b, "name: %s\nplatform: \"onnxruntime_onnx\"\nbackend: \"onnxruntime\"\nmax_batch_size: %d\n", textQuote(name), maxBatch)
	for _, part := range []struct {
		field string
		vals  []graph.Value
	}{{"input", g.Inputs}, {"output", g.Outputs}} {
		if err := tritonValues(&b, part.field, part.vals, maxBatch > 0); err != nil {
			return nil, err
		}
	}
	if maxBatch > 0 {
		b.WriteString("dynamic_batching { }\n")
	}
	return b.Bytes(), nil
}

// tritonTypes are Triton's DataType names of the element types trnn reads.
var tritonTypes = map[graph.DType]string{
	graph.Float32: "TYPE_FP32",
	graph.Float64: "TYPE_FP64",
	graph.Int32:   "TYPE_INT32",
	graph.Int64:   "TYPE_INT64",
	graph.Bool:    "TYPE_BOOL",
}

// tritonValues writes the repeated field (input or output) for vals.
func tritonValues(b *bytes.Buffer, field string, vals []graph.Value, batched bool) error {
	fmt.Fprintf(b, "%s [\n", field)
	for i, v := range vals {
		dt, ok := tritonTypes[v.DType]
		if !ok {
			return fmt.Errorf("export: triton: %s %q has element type %v, which Triton's configuration does not name", field, v.Name, v.DType)
		}
		dims, reshape, err := tritonDims(field, v, batched)
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "  {\n    name: %s\n    data_type: %s\n    dims: %s\n", textQuote(v.Name), dt, textInts(dims))
		if reshape {
			b.WriteString("    reshape: { shape: [ ] }\n")
		}
		b.WriteString("  }")
		if i < len(vals)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]\n")
	return nil
}

// tritonDims returns the dims Triton declares for v, and whether they are
// [1] standing for a scalar ([] once reshaped).
func tritonDims(field string, v graph.Value, batched bool) ([]int64, bool, error) {
	if v.Shape == nil {
		return nil, false, fmt.Errorf("export: triton: %s %q has no declared shape: Triton's configuration needs its dims", field, v.Name)
	}
	shape := v.Shape
	if batched {
		if len(shape) == 0 || shape[0].Sym == "" {
			return nil, false, fmt.Errorf("export: triton: %s %q has shape %v: with batching its first dimension must be the symbolic batch (or write max_batch_size 0)", field, v.Name, v.Shape)
		}
		shape = shape[1:]
	}
	if len(shape) == 0 {
		return []int64{1}, true, nil
	}
	dims := make([]int64, len(shape))
	for i, d := range shape {
		dims[i] = int64(d.Size)
		if d.Sym != "" {
			dims[i] = -1
		}
	}
	return dims, false, nil
}

// textInts prints a repeated integer field's value: [ -1, 3 ].
func textInts(v []int64) string {
	var b bytes.Buffer
	b.WriteString("[ ")
	for i, x := range v {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatInt(x, 10))
	}
	b.WriteString(" ]")
	return b.String()
}

// textQuote quotes s as a protobuf text-format string: printable ASCII as
// it is, '"' and '\' escaped, every other byte as an octal escape, which
// every text-format parser reads.
func textQuote(s string) string {
	var b bytes.Buffer
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "\\%03o", c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
