package export

// Tensors: one decoder (TensorProto → graph.Tensor) for initializers,
// Constant values and tensor files, and one encoder (graph.Tensor →
// TensorProto) for the writer's initializers and tensor files.

import (
	"encoding/binary"
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/atomicfile"
	"github.com/trnn/trnn/internal/fileio"
)

// ReadTensorFile reads a serialized TensorProto (the .pb files of ONNX's
// test data) and returns the tensor and its name (possibly empty).
func ReadTensorFile(path string) (*graph.Tensor, string, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, "", err
	}
	return DecodeTensor(path, b)
}

// DecodeTensor decodes a serialized TensorProto (name is used in errors):
// ReadTensorFile for bytes already in memory.
func DecodeTensor(path string, b []byte) (*graph.Tensor, string, error) {
	var tp onnxpb.TensorProto
	if err := proto.Unmarshal(b, &tp); err != nil {
		return nil, "", &ReadError{File: path, Msg: "not a TensorProto: " + err.Error()}
	}
	t, err := decodeTensor(&tp)
	if err != nil {
		where := ""
		if tp.GetName() != "" {
			where = fmt.Sprintf("tensor %q", tp.GetName())
		}
		return nil, "", readError(path, where, err)
	}
	return t, tp.GetName(), nil
}

// WriteTensorFile writes t as a serialized TensorProto named name, with the
// data in little-endian raw_data.
func WriteTensorFile(path string, name string, t *graph.Tensor) error {
	if err := graph.CheckTensor(t); err != nil {
		return fmt.Errorf("%s: tensor %q: %v", path, name, err)
	}
	b, err := proto.Marshal(encodeTensor(name, t))
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	// Atomic: a killed run or a full disk leaves the old file, never a
	// truncated one.
	if err := atomicfile.WriteBytes(path, b); err != nil {
		return fmt.Errorf("%s: cannot write: %v", path, err)
	}
	return nil
}

// readFile reads a model or tensor file whole, refusing what is not a
// regular file or is over the size limit (internal/fileio), so that a
// device or a huge file cannot exhaust memory.
func readFile(path string) ([]byte, error) {
	b, err := fileio.ReadFile(path)
	if err != nil {
		return nil, &ReadError{File: path, Msg: err.Error() + dirHint(path)}
	}
	return b, nil
}

// encodeTensor converts t to a TensorProto named name, its data in
// little-endian raw_data as ONNX specifies. The bytes are the same whoever
// calls it, so an exported model's initializers and a tensor file holding
// the same tensor agree.
func encodeTensor(name string, t *graph.Tensor) *onnxpb.TensorProto {
	dims := make([]int64, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = int64(d)
	}
	le := binary.LittleEndian
	var raw []byte
	switch t.DType {
	case graph.Float32:
		raw = make([]byte, 0, 4*len(t.F32))
		for _, v := range t.F32 {
			raw = le.AppendUint32(raw, math.Float32bits(v))
		}
	case graph.Float64:
		raw = make([]byte, 0, 8*len(t.F64))
		for _, v := range t.F64 {
			raw = le.AppendUint64(raw, math.Float64bits(v))
		}
	case graph.Int32:
		raw = make([]byte, 0, 4*len(t.I32))
		for _, v := range t.I32 {
			raw = le.AppendUint32(raw, uint32(v))
		}
	case graph.Int64:
		raw = make([]byte, 0, 8*len(t.I64))
		for _, v := range t.I64 {
			raw = le.AppendUint64(raw, uint64(v))
		}
	case graph.Bool:
		raw = make([]byte, len(t.B))
		for i, v := range t.B {
			if v {
				raw[i] = 1
			}
		}
	}
	return &onnxpb.TensorProto{Name: proto.String(name), Dims: dims, DataType: proto.Int32(int32(t.DType)), RawData: raw}
}

// decodeTensor converts a TensorProto, checking that its data is stored in
// the file, matches its dims and has a supported element type. Errors are
// *graph.RuleError values.
func decodeTensor(tp *onnxpb.TensorProto) (*graph.Tensor, error) {
	if tp.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(tp.ExternalData) > 0 {
		return nil, unsupported("external data is not supported")
	}
	dt, err := graph.ONNXDType(tp.GetDataType())
	if err != nil {
		return nil, err
	}
	shape := make([]int, len(tp.Dims))
	for i, d := range tp.Dims {
		if d < 0 {
			return nil, malformed("dims %v: dimension %d is negative", tp.Dims, i)
		}
		if d > graph.MaxElements {
			return nil, malformed("dims %v: more than %d elements", tp.Dims, graph.MaxElements)
		}
		shape[i] = int(d)
	}
	// graph.CheckedSize's rule, which every later check of the tensor
	// applies: the dimensions other than zeros are bounded too, so a
	// zero-element tensor cannot carry dims whose product overflows later
	// shape arithmetic.
	n, err := graph.CheckedSize(shape)
	if err != nil {
		return nil, malformed("dims %v: more than %d elements", tp.Dims, graph.MaxElements)
	}
	// The data's length is checked before anything is allocated, so that
	// damaged dims cannot make the reader allocate gigabytes.
	if len(tp.RawData) > 0 {
		if typed, field := typedData(tp, dt); typed > 0 {
			return nil, malformed("both raw_data and %s are set", field)
		}
		size := map[graph.DType]int{graph.Float32: 4, graph.Float64: 8, graph.Int32: 4, graph.Int64: 8, graph.Bool: 1}[dt]
		if len(tp.RawData) != n*size {
			return nil, malformed("raw_data has %d bytes, dims %v of %v need %d", len(tp.RawData), tp.Dims, dt, n*size)
		}
		t := graph.NewTensor(dt, shape...)
		decodeRaw(t, tp.RawData)
		return t, nil
	}
	if typed, field := typedData(tp, dt); typed != n {
		return nil, malformed("%s has %d values, dims %v need %d", field, typed, tp.Dims, n)
	}
	t := graph.NewTensor(dt, shape...)
	switch dt {
	case graph.Float32:
		copy(t.F32, tp.FloatData)
	case graph.Float64:
		copy(t.F64, tp.DoubleData)
	case graph.Int32:
		copy(t.I32, tp.Int32Data)
	case graph.Int64:
		copy(t.I64, tp.Int64Data)
	case graph.Bool:
		for i, v := range tp.Int32Data {
			t.B[i] = v != 0
		}
	}
	return t, nil
}

// typedData returns the length and the name of the typed field that holds
// a dt tensor's data when raw_data does not (bool lives in int32_data).
func typedData(tp *onnxpb.TensorProto, dt graph.DType) (int, string) {
	switch dt {
	case graph.Float32:
		return len(tp.FloatData), "float_data"
	case graph.Float64:
		return len(tp.DoubleData), "double_data"
	case graph.Int32, graph.Bool:
		return len(tp.Int32Data), "int32_data"
	case graph.Int64:
		return len(tp.Int64Data), "int64_data"
	}
	return 0, ""
}

// decodeRaw fills t from little-endian raw bytes of the right length.
func decodeRaw(t *graph.Tensor, b []byte) {
	le := binary.LittleEndian
	switch t.DType {
	case graph.Float32:
		for i := range t.F32 {
			t.F32[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
	case graph.Int32:
		for i := range t.I32 {
			t.I32[i] = int32(le.Uint32(b[4*i:]))
		}
	case graph.Float64:
		for i := range t.F64 {
			t.F64[i] = math.Float64frombits(le.Uint64(b[8*i:]))
		}
	case graph.Int64:
		for i := range t.I64 {
			t.I64[i] = int64(le.Uint64(b[8*i:]))
		}
	case graph.Bool:
		for i := range t.B {
			t.B[i] = b[i] != 0
		}
	}
}
