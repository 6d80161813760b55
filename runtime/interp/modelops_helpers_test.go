package interp

import (
	"math"
	"slices"
	"testing"

	"github.com/trnn/trnn/graph"
)

// runOp decodes one node of op with attrs, the inputs ins (nil: omitted)
// and nout outputs, runs it as the interpreter would, and returns its
// outputs. It runs the node twice, on fresh and on dirty buffers (as
// recycled ones are), and fails t if the results differ, since a kernel
// must write every element it returns, or if the kernel writes into an
// input.
func runOp(t *testing.T, op graph.Op, attrs map[string]graph.Attr, nout int, ins ...*graph.Tensor) ([]*graph.Tensor, error) {
	t.Helper()
	var before []*graph.Tensor
	for _, x := range ins {
		if x != nil {
			before = append(before, clone(x, allocator{}))
		}
	}
	outs, err := runOpWith(op, attrs, nout, allocator{}, ins)
	dirtyOuts, dirtyErr := runOpWith(op, attrs, nout, allocator{fill: dirty}, ins)
	j := 0
	for _, x := range ins {
		if x != nil {
			if !sameBits(x, before[j]) {
				t.Errorf("%v wrote into its input %d", op, j)
			}
			j++
		}
	}
	if (err == nil) != (dirtyErr == nil) {
		t.Errorf("%v: %v on fresh buffers, %v on dirty ones", op, err, dirtyErr)
	}
	if err != nil {
		return nil, err
	}
	for i := range outs {
		switch {
		case (outs[i] == nil) != (dirtyOuts[i] == nil):
			t.Errorf("%v: output %d is made on fresh buffers or dirty ones, not both", op, i)
		case outs[i] != nil && !sameBits(outs[i], dirtyOuts[i]):
			t.Errorf("%v: output %d depends on the buffer's old contents: %v, then %v", op, i, tensorValues(outs[i]), tensorValues(dirtyOuts[i]))
		}
	}
	return outs, nil
}

// runOpWith runs one node with the allocator alloc.
func runOpWith(op graph.Op, attrs map[string]graph.Attr, nout int, alloc allocator, ins []*graph.Tensor) ([]*graph.Tensor, error) {
	n := &graph.Node{Name: "n", Op: op, Attrs: attrs}
	st := &state{alloc: alloc}
	var o operands
	for _, x := range ins {
		if x == nil {
			o.in = append(o.in, -1)
			continue
		}
		o.in = append(o.in, len(st.vals))
		st.vals = append(st.vals, x)
	}
	for range nout {
		o.out = append(o.out, len(st.vals))
		st.vals = append(st.vals, nil)
	}
	k, err := decode(n, o)
	if err == nil {
		err = k.run(st)
	}
	if err != nil {
		return nil, err
	}
	return st.vals[len(st.vals)-nout:], nil
}

// dirty fills t with a value no kernel computes by chance.
func dirty(t *graph.Tensor) {
	for i := range t.Len() {
		setFloat(t, i, -7777)
	}
}

// sameBits reports whether a and b hold the same shape and the same bits
// (so NaN equals NaN).
func sameBits(a, b *graph.Tensor) bool {
	if a.DType != b.DType || !slices.Equal(a.Shape, b.Shape) || a.Len() != b.Len() {
		return false
	}
	for i := range a.Len() {
		switch a.DType {
		case graph.Float32:
			if math.Float32bits(a.F32[i]) != math.Float32bits(b.F32[i]) {
				return false
			}
		case graph.Float64:
			if math.Float64bits(a.F64[i]) != math.Float64bits(b.F64[i]) {
				return false
			}
		default:
			if floatAt(a, i) != floatAt(b, i) {
				return false
			}
		}
	}
	return true
}

// mustRun is runOp for a node that must succeed; it returns output 0.
func mustRun(t *testing.T, op graph.Op, attrs map[string]graph.Attr, ins ...*graph.Tensor) *graph.Tensor {
	t.Helper()
	outs, err := runOp(t, op, attrs, 1, ins...)
	if err != nil {
		t.Fatalf("%v: %v", op, err)
	}
	return outs[0]
}

// Tensor builders for the tests: the shape, then the values.
func f32s(shape []int, v ...float32) *graph.Tensor {
	return &graph.Tensor{DType: graph.Float32, Shape: shape, F32: v}
}

func f64s(shape []int, v ...float64) *graph.Tensor {
	return &graph.Tensor{DType: graph.Float64, Shape: shape, F64: v}
}

func i32s(shape []int, v ...int32) *graph.Tensor {
	return &graph.Tensor{DType: graph.Int32, Shape: shape, I32: v}
}

func i64s(shape []int, v ...int64) *graph.Tensor {
	return &graph.Tensor{DType: graph.Int64, Shape: shape, I64: v}
}

func bools(shape []int, v ...bool) *graph.Tensor {
	return &graph.Tensor{DType: graph.Bool, Shape: shape, B: v}
}

// Attribute builders.
func aInt(v int64) graph.Attr            { return graph.Attr{Kind: graph.AttrInt, Int: v} }
func aFloat(v float32) graph.Attr        { return graph.Attr{Kind: graph.AttrFloat, Float: v} }
func aInts(v ...int64) graph.Attr        { return graph.Attr{Kind: graph.AttrInts, Ints: v} }
func aString(v string) graph.Attr        { return graph.Attr{Kind: graph.AttrString, String: v} }
func aTensor(v *graph.Tensor) graph.Attr { return graph.Attr{Kind: graph.AttrTensor, Tensor: v} }

// wantClose fails t unless got has want's type and shape and its values
// are within tol (relative to max(1, |want|)); NaN matches NaN.
func wantClose(t *testing.T, what string, got, want *graph.Tensor, tol float64) {
	t.Helper()
	if got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) {
		t.Fatalf("%s: got %v %s, want %v %s", what, got.DType, graph.FormatShape(got.Shape), want.DType, graph.FormatShape(want.Shape))
	}
	for i := range want.Len() {
		g, w := floatAt(got, i), floatAt(want, i)
		if math.IsNaN(w) && math.IsNaN(g) || g == w {
			continue
		}
		if math.IsNaN(g) || math.IsNaN(w) || math.Abs(g-w) > tol*max(1, math.Abs(w)) {
			t.Fatalf("%s: element %d is %v, want %v (got %v)", what, i, g, w, tensorValues(got))
		}
	}
}

func tensorValues(t *graph.Tensor) any {
	switch t.DType {
	case graph.Float32:
		return t.F32
	case graph.Float64:
		return t.F64
	case graph.Int32:
		return t.I32
	case graph.Int64:
		return t.I64
	}
	return t.B
}
