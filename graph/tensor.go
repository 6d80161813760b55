package graph

import "fmt"

// DType is a tensor element type. The values are ONNX's
// TensorProto.DataType numbers.
type DType uint8

const (
	Float32 DType = 1
	Int32   DType = 6
	Int64   DType = 7
	Bool    DType = 9
	Float64 DType = 11
)

func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Int32:
		return "int32"
	case Int64:
		return "int64"
	case Bool:
		return "bool"
	case Float64:
		return "float64"
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Tensor is a dense row-major tensor. Exactly one of the data slices, the one
// matching DType, holds the len(Shape)-dimensional data; a scalar has an
// empty Shape and one element.
type Tensor struct {
	DType DType
	Shape []int
	F32   []float32
	F64   []float64
	I32   []int32
	I64   []int64
	B     []bool
}

// Size is the number of elements the shape holds.
func Size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Len is the number of elements in t's data slice.
func (t *Tensor) Len() int {
	switch t.DType {
	case Float32:
		return len(t.F32)
	case Float64:
		return len(t.F64)
	case Int32:
		return len(t.I32)
	case Int64:
		return len(t.I64)
	case Bool:
		return len(t.B)
	}
	return 0
}

// NewTensor returns a zeroed tensor of the given type and shape.
func NewTensor(dt DType, shape ...int) *Tensor {
	t := &Tensor{DType: dt, Shape: append([]int(nil), shape...)}
	n := Size(shape)
	switch dt {
	case Float32:
		t.F32 = make([]float32, n)
	case Float64:
		t.F64 = make([]float64, n)
	case Int32:
		t.I32 = make([]int32, n)
	case Int64:
		t.I64 = make([]int64, n)
	case Bool:
		t.B = make([]bool, n)
	default:
		panic("ops: NewTensor: unsupported dtype " + dt.String())
	}
	return t
}

// FromF32 wraps data (not copied) as a float32 tensor of the given shape.
func FromF32(data []float32, shape ...int) *Tensor {
	if len(data) != Size(shape) {
		panic(fmt.Sprintf("ops: FromF32: %d elements for shape %v", len(data), shape))
	}
	return &Tensor{DType: Float32, Shape: append([]int(nil), shape...), F32: data}
}

// CopyElems copies n elements from src, starting at element si, into t,
// starting at element di. src must have t's element type.
func (t *Tensor) CopyElems(di int, src *Tensor, si, n int) {
	switch t.DType {
	case Float32:
		copy(t.F32[di:di+n], src.F32[si:si+n])
	case Float64:
		copy(t.F64[di:di+n], src.F64[si:si+n])
	case Int32:
		copy(t.I32[di:di+n], src.I32[si:si+n])
	case Int64:
		copy(t.I64[di:di+n], src.I64[si:si+n])
	case Bool:
		copy(t.B[di:di+n], src.B[si:si+n])
	default:
		panic("graph: CopyElems: unsupported dtype " + t.DType.String())
	}
}
