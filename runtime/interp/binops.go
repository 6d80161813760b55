package interp

// Broadcasting operators beyond the arithmetic of elementwise.go: Pow,
// Mod, PRelu, GreaterOrEqual, LessOrEqual, Or, Xor, and the variadic Max,
// Min, Sum and Mean, all with numpy's multidirectional broadcasting
// (PRelu's slope broadcasts to X only).

import (
	"fmt"
	"math"
	"slices"

	"github.com/trnn/trnn/graph"
)

var (
	_ kernel = (*powKernel)(nil)
	_ kernel = (*modKernel)(nil)
	_ kernel = (*preluKernel)(nil)
	_ kernel = (*logicKernel)(nil)
	_ kernel = (*variadicKernel)(nil)
)

// zip2 sets out[i] = f(a[·], b[·]) over the broadcast walk p of a and b.
func zip2[A, B, O element](p *bcastPlan, a []A, b []B, out []O, f func(A, B) O) {
	sa, sb := p.inner[0], p.inner[1]
	p.run(func(o int, off []int, n int) {
		av, bv, ov := a[off[0]:], b[off[1]:], out[o:o+n]
		for i := range ov {
			ov[i] = f(av[i*sa], bv[i*sb])
		}
	})
}

// broadcastOut returns the broadcast shape of a and b, checked against
// graph.MaxElements, and the walk over it.
func broadcastOut(a, b *graph.Tensor) ([]int, *bcastPlan, error) {
	shape, err := broadcastShapes(a.Shape, b.Shape)
	if err != nil {
		return nil, nil, err
	}
	if _, err := graph.CheckedSize(shape); err != nil {
		return nil, nil, err
	}
	return shape, newBcastPlan(shape, a.Shape, b.Shape), nil
}

// powKernel is Pow: a numeric base and an exponent of any numeric type
// (opset 12), the result of the base's type. Integer results are computed
// in float64 and truncated toward zero (a negative exponent gives 0 but
// for bases ±1), out-of-range ones converted as Cast does.
type powKernel struct{ operands }

func (k *powKernel) run(st *state) error {
	a, b := k.arg(st, 0), k.arg(st, 1)
	if a.DType == graph.Bool || b.DType == graph.Bool {
		return fmt.Errorf("expected numeric operands, found %v and %v", a.DType, b.DType)
	}
	shape, p, err := broadcastOut(a, b)
	if err != nil {
		return err
	}
	out := st.alloc.get(a.DType, shape)
	// The exponent as float64, once: its type only matters through its
	// value. The copy is scratch, left to the garbage collector.
	e, err := cast(b, graph.Float64, allocator{})
	if err != nil {
		return err
	}
	switch a.DType {
	case graph.Float32:
		zip2(p, a.F32, e.F64, out.F32, func(x float32, y float64) float32 { return float32(pow(float64(x), y)) })
	case graph.Float64:
		zip2(p, a.F64, e.F64, out.F64, pow)
	case graph.Int32:
		zip2(p, a.I32, e.F64, out.I32, func(x int32, y float64) int32 { return toInt32(pow(float64(x), y)) })
	case graph.Int64:
		zip2(p, a.I64, e.F64, out.I64, func(x int64, y float64) int64 { return toInt64(pow(float64(x), y)) })
	}
	return k.set(st, out, nil)
}

// pow is math.Pow with the square, the common case of exported norms,
// computed as the product.
func pow(x, y float64) float64 {
	if y == 2 {
		return x * x
	}
	return math.Pow(x, y)
}

// modKernel is Mod. With fmod the result has the dividend's sign (C's
// fmod); without, the divisor's (Python's %), which ONNX allows for
// integers only. An integer divisor of 0 is an error.
type modKernel struct {
	operands
	fmod bool
}

func (k *modKernel) run(st *state) error {
	a, b := k.arg(st, 0), k.arg(st, 1)
	if a.DType != b.DType {
		return fmt.Errorf("operands have different types: %v and %v", a.DType, b.DType)
	}
	isFloat := a.DType == graph.Float32 || a.DType == graph.Float64
	switch {
	case a.DType == graph.Bool:
		return fmt.Errorf("expected numeric operands, found bool")
	case isFloat && !k.fmod:
		return fmt.Errorf("attribute fmod must be 1 for float operands")
	case !isFloat && hasZero(b):
		return fmt.Errorf("integer modulo by zero")
	}
	shape, p, err := broadcastOut(a, b)
	if err != nil {
		return err
	}
	out := st.alloc.get(a.DType, shape)
	switch a.DType {
	case graph.Float32:
		zip2(p, a.F32, b.F32, out.F32, func(x, y float32) float32 { return float32(math.Mod(float64(x), float64(y))) })
	case graph.Float64:
		zip2(p, a.F64, b.F64, out.F64, math.Mod)
	case graph.Int32:
		zip2(p, a.I32, b.I32, out.I32, intMod[int32](k.fmod))
	case graph.Int64:
		zip2(p, a.I64, b.I64, out.I64, intMod[int64](k.fmod))
	}
	return k.set(st, out, nil)
}

// intMod returns the integer remainder: Go's (the dividend's sign) for
// fmod, else moved to the divisor's sign.
func intMod[T int32 | int64](fmod bool) func(x, y T) T {
	return func(x, y T) T {
		if y == -1 {
			return 0 // MinInt % −1 overflows in hardware
		}
		r := x % y
		if !fmod && r != 0 && (r < 0) != (y < 0) {
			r += y
		}
		return r
	}
}

// preluKernel is PRelu: x where x ≥ 0, slope·x elsewhere, the slope
// broadcast to x's shape.
type preluKernel struct{ operands }

func (k *preluKernel) run(st *state) error {
	x, s := k.arg(st, 0), k.arg(st, 1)
	if x.DType != s.DType || x.DType == graph.Bool {
		return fmt.Errorf("expected numeric operands of one type, found %v and %v", x.DType, s.DType)
	}
	shape, err := broadcastShapes(x.Shape, s.Shape)
	if err != nil || !slices.Equal(shape, x.Shape) {
		return fmt.Errorf("slope %s does not broadcast to X %s", graph.FormatShape(s.Shape), graph.FormatShape(x.Shape))
	}
	p := newBcastPlan(shape, x.Shape, s.Shape)
	out := st.alloc.get(x.DType, shape)
	switch x.DType {
	case graph.Float32:
		zip2(p, x.F32, s.F32, out.F32, prelu[float32])
	case graph.Float64:
		zip2(p, x.F64, s.F64, out.F64, prelu[float64])
	case graph.Int32:
		zip2(p, x.I32, s.I32, out.I32, prelu[int32])
	case graph.Int64:
		zip2(p, x.I64, s.I64, out.I64, prelu[int64])
	}
	return k.set(st, out, nil)
}

func prelu[T number](x, s T) T {
	if x < 0 {
		return s * x
	}
	return x
}

// logicKernel is a comparison (GreaterOrEqual, LessOrEqual: numeric
// operands of one type) or a logical operator (Or, Xor: bool), bool out.
type logicKernel struct {
	operands
	op graph.Op
}

func (k *logicKernel) run(st *state) error {
	a, b := k.arg(st, 0), k.arg(st, 1)
	if a.DType != b.DType {
		return fmt.Errorf("operands have different types: %v and %v", a.DType, b.DType)
	}
	logical := k.op == graph.OpOr || k.op == graph.OpXor
	if logical != (a.DType == graph.Bool) {
		want := "numeric"
		if logical {
			want = "bool"
		}
		return fmt.Errorf("expected %s operands, found %v", want, a.DType)
	}
	shape, p, err := broadcastOut(a, b)
	if err != nil {
		return err
	}
	out := st.alloc.get(graph.Bool, shape)
	switch a.DType {
	case graph.Float32:
		zip2(p, a.F32, b.F32, out.B, orderFunc[float32](k.op))
	case graph.Float64:
		zip2(p, a.F64, b.F64, out.B, orderFunc[float64](k.op))
	case graph.Int32:
		zip2(p, a.I32, b.I32, out.B, orderFunc[int32](k.op))
	case graph.Int64:
		zip2(p, a.I64, b.I64, out.B, orderFunc[int64](k.op))
	case graph.Bool:
		f := func(x, y bool) bool { return x || y }
		if k.op == graph.OpXor {
			f = func(x, y bool) bool { return x != y }
		}
		zip2(p, a.B, b.B, out.B, f)
	}
	return k.set(st, out, nil)
}

func orderFunc[T number](op graph.Op) func(x, y T) bool {
	if op == graph.OpGreaterOrEqual {
		return func(x, y T) bool { return x >= y }
	}
	return func(x, y T) bool { return x <= y }
}

// variadicKernel is Max, Min, Sum or Mean over one or more operands of one
// numeric type, all broadcast together. Max and Min propagate NaN, as
// numpy's maximum and minimum do. Mean of integers truncates.
type variadicKernel struct {
	operands
	op graph.Op
}

func (k *variadicKernel) run(st *state) error {
	xs := make([]*graph.Tensor, len(k.in))
	shapes := make([][]int, len(k.in))
	for i := range xs {
		xs[i] = k.arg(st, i)
		shapes[i] = xs[i].Shape
		if xs[i].DType != xs[0].DType {
			return fmt.Errorf("input %d is %v, input 0 is %v", i, xs[i].DType, xs[0].DType)
		}
	}
	dt := xs[0].DType
	if dt == graph.Bool {
		return fmt.Errorf("expected numeric operands, found bool")
	}
	shape, err := broadcastShapes(shapes...)
	if err != nil {
		return err
	}
	if _, err := graph.CheckedSize(shape); err != nil {
		return err
	}
	out, err := expand(xs[0], int64s(shape), st.alloc)
	if err != nil {
		return err
	}
	switch dt {
	case graph.Float32:
		variadicRun(k.op, out, xs[1:], out.F32)
	case graph.Float64:
		variadicRun(k.op, out, xs[1:], out.F64)
	case graph.Int32:
		variadicRun(k.op, out, xs[1:], out.I32)
	case graph.Int64:
		variadicRun(k.op, out, xs[1:], out.I64)
	}
	return k.set(st, out, nil)
}

// variadicRun folds each of xs into acc (out's data, already the first
// operand broadcast to out's shape), then divides for Mean.
func variadicRun[T number](op graph.Op, out *graph.Tensor, xs []*graph.Tensor, acc []T) {
	var f func(a, b T) T
	switch op {
	case graph.OpMax:
		f = func(a, b T) T {
			if b > a || b != b {
				return b
			}
			return a
		}
	case graph.OpMin:
		f = func(a, b T) T {
			if b < a || b != b {
				return b
			}
			return a
		}
	default:
		f = func(a, b T) T { return a + b }
	}
	for _, x := range xs {
		// Writing acc while reading it is safe: each element reads only
		// its own position.
		zip2(newBcastPlan(out.Shape, out.Shape, x.Shape), acc, elems[T](x), acc, f)
	}
	if op == graph.OpMean {
		n := T(len(xs) + 1)
		for i := range acc {
			acc[i] /= n
		}
	}
}

// int64s converts a shape to the int64 form operators take.
func int64s(shape []int) []int64 {
	v := make([]int64, len(shape))
	for i, d := range shape {
		v[i] = int64(d)
	}
	return v
}
