//go:build cgo

package ortcheck

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/trnn/trnn/graph"
)

var (
	initOnce sync.Once
	initErr  error
	initLib  string
)

// Init loads ONNX Runtime and creates its environment, once per process;
// later calls return the first call's result.
func Init() error {
	initOnce.Do(func() {
		initLib = LibraryPath()
		if _, err := os.Stat(initLib); err != nil {
			initErr = fmt.Errorf("%w: %s not found (run `make deps`)", ErrUnavailable, initLib)
			return
		}
		ort.SetSharedLibraryPath(initLib)
		if err := ort.InitializeEnvironment(ort.WithLogLevelFatal()); err != nil {
			initErr = fmt.Errorf("%w: loading %s: %v", ErrUnavailable, initLib, err)
		}
	})
	return initErr
}

// Version is the version string the loaded ONNX Runtime reports; Init must
// have succeeded.
func Version() string { return ort.GetVersion() }

// Session is a model loaded in ONNX Runtime with fixed input and output
// names. It runs one call at a time.
type Session struct {
	mu      sync.Mutex
	s       *ort.DynamicAdvancedSession
	inputs  []string
	outputs []string
}

// Open loads an ONNX model (its serialised bytes) into ONNX Runtime. Run
// will take the inputs named in inputs and return the outputs named in
// outputs. ONNX Runtime uses one thread per session.
func Open(model []byte, inputs, outputs []string) (*Session, error) {
	if err := Init(); err != nil {
		return nil, err
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("onnx runtime: session options: %v", err)
	}
	defer opts.Destroy()
	if err := opts.SetIntraOpNumThreads(1); err != nil {
		return nil, fmt.Errorf("onnx runtime: %v", err)
	}
	if err := opts.SetInterOpNumThreads(1); err != nil {
		return nil, fmt.Errorf("onnx runtime: %v", err)
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, inputs, outputs, opts)
	if err != nil {
		return nil, fmt.Errorf("onnx runtime: loading model: %v", err)
	}
	return &Session{
		s:       s,
		inputs:  append([]string(nil), inputs...),
		outputs: append([]string(nil), outputs...),
	}, nil
}

// Close releases the session.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s == nil {
		return nil
	}
	err := s.s.Destroy()
	s.s = nil
	return err
}

// Run runs the model on the named inputs, which must be exactly the names
// given to Open, and returns the outputs by name.
func (s *Session) Run(inputs map[string]*graph.Tensor) (map[string]*graph.Tensor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.s == nil {
		return nil, errors.New("ortcheck: Run on a closed session")
	}
	if len(inputs) != len(s.inputs) {
		return nil, fmt.Errorf("onnx runtime: got inputs %s, the session takes %s", names(inputs), strings.Join(s.inputs, ", "))
	}
	in := make([]ort.Value, len(s.inputs))
	defer func() {
		for _, v := range in {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for i, name := range s.inputs {
		t, ok := inputs[name]
		if !ok {
			return nil, fmt.Errorf("onnx runtime: input %q missing", name)
		}
		v, err := toORT(t)
		if err != nil {
			return nil, fmt.Errorf("onnx runtime: input %q: %v", name, err)
		}
		in[i] = v
	}
	out := make([]ort.Value, len(s.outputs))
	defer func() {
		for _, v := range out {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	if err := s.s.Run(in, out); err != nil {
		return nil, fmt.Errorf("onnx runtime: %v", err)
	}
	res := make(map[string]*graph.Tensor, len(out))
	for i, name := range s.outputs {
		t, err := fromORT(out[i])
		if err != nil {
			return nil, fmt.Errorf("onnx runtime: output %q: %v", name, err)
		}
		res[name] = t
	}
	return res, nil
}

// Run loads model, runs it once on inputs and returns the named outputs.
// The input names are those of the inputs map.
func Run(model []byte, inputs map[string]*graph.Tensor, outputs []string) (map[string]*graph.Tensor, error) {
	inNames := make([]string, 0, len(inputs))
	for name := range inputs {
		inNames = append(inNames, name)
	}
	sort.Strings(inNames)
	s, err := Open(model, inNames, outputs)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Run(inputs)
}

func names(m map[string]*graph.Tensor) string {
	var out []string
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// toORT copies t into a new ONNX Runtime tensor.
func toORT(t *graph.Tensor) (ort.Value, error) {
	if t == nil {
		return nil, errors.New("nil tensor")
	}
	if t.Len() != graph.Size(t.Shape) {
		return nil, fmt.Errorf("%d elements for shape %v", t.Len(), t.Shape)
	}
	shape := make(ort.Shape, len(t.Shape))
	for i, d := range t.Shape {
		shape[i] = int64(d)
	}
	if len(shape) == 0 {
		// ONNX Runtime's Go binding has no rank-0 tensors of these
		// types; scalars go through NewScalar.
		switch t.DType {
		case graph.Float32:
			return ort.NewScalar(t.F32[0])
		case graph.Float64:
			return ort.NewScalar(t.F64[0])
		case graph.Int32:
			return ort.NewScalar(t.I32[0])
		case graph.Int64:
			return ort.NewScalar(t.I64[0])
		case graph.Bool:
			return ort.NewScalar(t.B[0])
		}
		return nil, fmt.Errorf("unsupported dtype %v", t.DType)
	}
	switch t.DType {
	case graph.Float32:
		return ort.NewTensor(shape, append([]float32(nil), t.F32...))
	case graph.Float64:
		return ort.NewTensor(shape, append([]float64(nil), t.F64...))
	case graph.Int32:
		return ort.NewTensor(shape, append([]int32(nil), t.I32...))
	case graph.Int64:
		return ort.NewTensor(shape, append([]int64(nil), t.I64...))
	case graph.Bool:
		return ort.NewTensor(shape, append([]bool(nil), t.B...))
	}
	return nil, fmt.Errorf("unsupported dtype %v", t.DType)
}

// fromORT copies an ONNX Runtime output into an graph.Tensor.
func fromORT(v ort.Value) (*graph.Tensor, error) {
	shape := v.GetShape()
	dims := make([]int, len(shape))
	for i, d := range shape {
		dims[i] = int(d)
	}
	switch x := v.(type) {
	case *ort.Tensor[float32]:
		return &graph.Tensor{DType: graph.Float32, Shape: dims, F32: append([]float32(nil), x.GetData()...)}, nil
	case *ort.Tensor[float64]:
		return &graph.Tensor{DType: graph.Float64, Shape: dims, F64: append([]float64(nil), x.GetData()...)}, nil
	case *ort.Tensor[int32]:
		return &graph.Tensor{DType: graph.Int32, Shape: dims, I32: append([]int32(nil), x.GetData()...)}, nil
	case *ort.Tensor[int64]:
		return &graph.Tensor{DType: graph.Int64, Shape: dims, I64: append([]int64(nil), x.GetData()...)}, nil
	case *ort.Tensor[bool]:
		return &graph.Tensor{DType: graph.Bool, Shape: dims, B: append([]bool(nil), x.GetData()...)}, nil
	}
	return nil, fmt.Errorf("unsupported output type %T", v)
}

// Metadata loads model in ONNX Runtime and returns its custom metadata
// (metadata_props) and producer name as ONNX Runtime reads them.
func Metadata(model []byte) (map[string]string, string, error) {
	if err := Init(); err != nil {
		return nil, "", err
	}
	md, err := ort.GetModelMetadataWithONNXData(model)
	if err != nil {
		return nil, "", fmt.Errorf("onnx runtime: %v", err)
	}
	defer md.Destroy()
	producer, err := md.GetProducerName()
	if err != nil {
		return nil, "", fmt.Errorf("onnx runtime: %v", err)
	}
	keys, err := md.GetCustomMetadataMapKeys()
	if err != nil {
		return nil, "", fmt.Errorf("onnx runtime: %v", err)
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		v, _, err := md.LookupCustomMetadataMap(k)
		if err != nil {
			return nil, "", fmt.Errorf("onnx runtime: metadata %q: %v", k, err)
		}
		out[k] = v
	}
	return out, producer, nil
}
