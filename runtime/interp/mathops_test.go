package interp

import (
	"math"
	"strings"
	"testing"

	"github.com/trnn/trnn/graph"
)

// TestFloatFunctions checks the functions with attributes and those whose
// naive form loses digits or overflows, at points ONNX's node tests miss.
func TestFloatFunctions(t *testing.T) {
	inf := math.Inf(1)
	for _, c := range []struct {
		op    graph.Op
		attrs map[string]graph.Attr
		x     []float64
		want  []float64
	}{
		{graph.OpGelu, nil, []float64{-1, 0, 1, 3}, []float64{-0.15865525393145707, 0, 0.8413447460685429, 2.99595030590511}},
		{graph.OpGelu, map[string]graph.Attr{"approximate": aString("tanh")}, []float64{-1, 1}, []float64{-0.15880800939172324, 0.8411919906082768}},
		{graph.OpSoftplus, nil, []float64{-1000, 0, 1000, 1}, []float64{0, math.Ln2, 1000, 1.3132616875182228}},
		{graph.OpRound, nil, []float64{0.5, 1.5, 2.5, -0.5, -2.5, 2.6}, []float64{0, 2, 2, 0, -2, 3}},
		{graph.OpLeakyRelu, map[string]graph.Attr{"alpha": aFloat(0.5)}, []float64{-2, 0, 2}, []float64{-1, 0, 2}},
		{graph.OpLeakyRelu, nil, []float64{-100}, []float64{-1.0000000149011612}}, // alpha 0.01 as float32
		{graph.OpElu, nil, []float64{-inf, -1, 1}, []float64{-1, math.Expm1(-1), 1}},
		{graph.OpSelu, nil, []float64{-1, 1}, []float64{-1.1113307, 1.0507010}},
		{graph.OpCelu, map[string]graph.Attr{"alpha": aFloat(2)}, []float64{-2, 2}, []float64{2 * math.Expm1(-1), 2}},
		{graph.OpThresholdedRelu, map[string]graph.Attr{"alpha": aFloat(1)}, []float64{1, 1.5}, []float64{0, 1.5}},
		{graph.OpHardSigmoid, nil, []float64{-5, 0, 5}, []float64{0, 0.5, 1}},
		{graph.OpHardSwish, nil, []float64{-3, 0, 1, 3}, []float64{0, 0, 1 * (1.0/6 + 0.5), 3}},
		{graph.OpSoftsign, nil, []float64{-3, 1}, []float64{-0.75, 0.5}},
		{graph.OpReciprocal, nil, []float64{0, 4}, []float64{inf, 0.25}},
		{graph.OpSqrt, nil, []float64{-1, 4}, []float64{math.NaN(), 2}},
		{graph.OpErf, nil, []float64{inf, 0.5}, []float64{1, 0.5204998778130465}},
	} {
		got := mustRun(t, c.op, c.attrs, f64s([]int{len(c.x)}, c.x...))
		wantClose(t, c.op.String()+" float64", got, f64s([]int{len(c.want)}, c.want...), 1e-7)
		x32 := make([]float32, len(c.x))
		want32 := make([]float32, len(c.want))
		for i := range x32 {
			x32[i], want32[i] = float32(c.x[i]), float32(c.want[i])
		}
		got = mustRun(t, c.op, c.attrs, f32s([]int{len(x32)}, x32...))
		wantClose(t, c.op.String()+" float32", got, f32s([]int{len(want32)}, want32...), 1e-6)
	}
	if _, err := runOp(t, graph.OpExp, nil, 1, i64s([]int{1}, 1)); err == nil || !strings.Contains(err.Error(), "expected a float tensor") {
		t.Errorf("Exp of int64: %v", err)
	}
}

func TestNegAbsSign(t *testing.T) {
	x := i32s([]int{4}, math.MinInt32, -3, 0, 5)
	wantClose(t, "Neg", mustRun(t, graph.OpNeg, nil, x), i32s([]int{4}, math.MinInt32, 3, 0, -5), 0)
	wantClose(t, "Abs", mustRun(t, graph.OpAbs, nil, x), i32s([]int{4}, math.MinInt32, 3, 0, 5), 0)
	wantClose(t, "Sign", mustRun(t, graph.OpSign, nil, x), i32s([]int{4}, -1, -1, 0, 1), 0)
	f := f64s([]int{3}, math.Copysign(0, -1), math.NaN(), -2)
	if a := mustRun(t, graph.OpAbs, nil, f); math.Signbit(a.F64[0]) || a.F64[2] != 2 {
		t.Errorf("Abs(−0, NaN, −2) = %v", a.F64)
	}
	if s := mustRun(t, graph.OpSign, nil, f); !math.IsNaN(s.F64[1]) || s.F64[2] != -1 {
		t.Errorf("Sign(−0, NaN, −2) = %v", s.F64)
	}
	if _, err := runOp(t, graph.OpNeg, nil, 1, bools([]int{1}, true)); err == nil {
		t.Error("Neg of bool: no error")
	}
}

func TestIsNaNIsInf(t *testing.T) {
	x := f32s([]int{4}, float32(math.Inf(-1)), float32(math.NaN()), 1, float32(math.Inf(1)))
	wantClose(t, "IsNaN", mustRun(t, graph.OpIsNaN, nil, x), bools([]int{4}, false, true, false, false), 0)
	wantClose(t, "IsInf", mustRun(t, graph.OpIsInf, nil, x), bools([]int{4}, true, false, false, true), 0)
	pos := map[string]graph.Attr{"detect_negative": aInt(0)}
	wantClose(t, "IsInf +", mustRun(t, graph.OpIsInf, pos, x), bools([]int{4}, false, false, false, true), 0)
	neg := map[string]graph.Attr{"detect_positive": aInt(0)}
	wantClose(t, "IsInf −", mustRun(t, graph.OpIsInf, neg, x), bools([]int{4}, true, false, false, false), 0)
}

func TestClip(t *testing.T) {
	inf := float32(math.Inf(1))
	x := f32s([]int{5}, -inf, -2, 0.5, 3, float32(math.NaN()))
	// Opset 11: bounds are inputs; absent ones are the float range.
	got := mustRun(t, graph.OpClip, nil, x, f32s(nil, -1), nil)
	wantClose(t, "min only", got, f32s([]int{5}, -1, -1, 0.5, 3, float32(math.NaN())), 0)
	got = mustRun(t, graph.OpClip, nil, x)
	wantClose(t, "no bounds", got, f32s([]int{5}, -math.MaxFloat32, -2, 0.5, 3, float32(math.NaN())), 0)
	// Opset 6: attributes, on float64 too.
	attrs := map[string]graph.Attr{"min": aFloat(0), "max": aFloat(1)}
	got = mustRun(t, graph.OpClip, attrs, f64s([]int{3}, -1, 0.25, 2))
	wantClose(t, "attributes", got, f64s([]int{3}, 0, 0.25, 1), 0)
	got = mustRun(t, graph.OpClip, nil, i64s([]int{3}, -5, 2, 9), i64s([]int{1}, 0), i64s(nil, 4))
	wantClose(t, "int64", got, i64s([]int{3}, 0, 2, 4), 0)
	for _, c := range []struct {
		ins  []*graph.Tensor
		want string
	}{
		{[]*graph.Tensor{x, f64s(nil, 0)}, "bound is float64, input is float32"},
		{[]*graph.Tensor{x, f32s([]int{2}, 0, 1)}, "bounds must be scalars"},
		{[]*graph.Tensor{bools([]int{1}, true)}, "expected a numeric tensor"},
	} {
		if _, err := runOp(t, graph.OpClip, nil, 1, c.ins...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Clip: error %v, want %q", err, c.want)
		}
	}
}

func TestPowMixedTypes(t *testing.T) {
	got := mustRun(t, graph.OpPow, nil, i32s([]int{3}, 2, -3, 4), f32s(nil, 2))
	wantClose(t, "int32^float", got, i32s([]int{3}, 4, 9, 16), 0)
	got = mustRun(t, graph.OpPow, nil, f32s([]int{2, 1}, 2, 4), i64s([]int{2}, 3, -1))
	wantClose(t, "float^int64 broadcast", got, f32s([]int{2, 2}, 8, 0.5, 64, 0.25), 0)
	got = mustRun(t, graph.OpPow, nil, f64s([]int{2}, -2, 9), f64s([]int{2}, 0.5, 0.5))
	wantClose(t, "fractional", got, f64s([]int{2}, math.NaN(), 3), 0)
	if _, err := runOp(t, graph.OpPow, nil, 1, f32s([]int{2}, 1, 2), f32s([]int{3}, 1, 2, 3)); err == nil {
		t.Error("Pow of [2] and [3]: no error")
	}
	if _, err := runOp(t, graph.OpPow, nil, 1, bools([]int{1}, true), f32s(nil, 1)); err == nil {
		t.Error("Pow of bool: no error")
	}
}

func TestMod(t *testing.T) {
	a, b := i64s([]int{4}, -7, 7, -7, math.MinInt64), i64s([]int{4}, 3, -3, -3, -1)
	got := mustRun(t, graph.OpMod, nil, a, b)
	wantClose(t, "divisor's sign", got, i64s([]int{4}, 2, -2, -1, 0), 0)
	got = mustRun(t, graph.OpMod, map[string]graph.Attr{"fmod": aInt(1)}, a, b)
	wantClose(t, "dividend's sign", got, i64s([]int{4}, -1, 1, -1, 0), 0)
	got = mustRun(t, graph.OpMod, map[string]graph.Attr{"fmod": aInt(1)}, f32s([]int{2}, -7.5, 7.5), f32s(nil, 2))
	wantClose(t, "float fmod", got, f32s([]int{2}, -1.5, 1.5), 0)
	if _, err := runOp(t, graph.OpMod, nil, 1, f32s([]int{1}, 1), f32s([]int{1}, 2)); err == nil || !strings.Contains(err.Error(), "fmod must be 1") {
		t.Errorf("float Mod with fmod 0: %v", err)
	}
	if _, err := runOp(t, graph.OpMod, nil, 1, i32s([]int{1}, 1), i32s([]int{1}, 0)); err == nil || !strings.Contains(err.Error(), "by zero") {
		t.Errorf("Mod by 0: %v", err)
	}
}

func TestPRelu(t *testing.T) {
	x := f32s([]int{2, 3}, -1, 2, -3, 4, -5, 0)
	got := mustRun(t, graph.OpPRelu, nil, x, f32s([]int{3}, 0.1, 0.2, 0.3))
	wantClose(t, "slope per column", got, f32s([]int{2, 3}, -0.1, 2, -0.9, 4, -1, 0), 1e-6)
	if _, err := runOp(t, graph.OpPRelu, nil, 1, f32s([]int{3}, 1, 2, 3), f32s([]int{2, 3}, 1, 2, 3, 4, 5, 6)); err == nil {
		t.Error("a slope larger than X: no error")
	}
}

func TestVariadicOps(t *testing.T) {
	nan := math.NaN()
	a, b, c := f64s([]int{2, 1}, 1, nan), f64s([]int{3}, 0, 5, -1), f64s(nil, 2)
	wantClose(t, "Max", mustRun(t, graph.OpMax, nil, a, b, c), f64s([]int{2, 3}, 2, 5, 2, nan, nan, nan), 0)
	wantClose(t, "Min", mustRun(t, graph.OpMin, nil, a, b, c), f64s([]int{2, 3}, 0, 1, -1, nan, nan, nan), 0)
	wantClose(t, "Sum", mustRun(t, graph.OpSum, nil, b, c), f64s([]int{3}, 2, 7, 1), 0)
	wantClose(t, "Mean", mustRun(t, graph.OpMean, nil, b, c), f64s([]int{3}, 1, 3.5, 0.5), 0)
	wantClose(t, "Mean of int64", mustRun(t, graph.OpMean, nil, i64s([]int{2}, 1, -3), i64s([]int{2}, 2, 0)), i64s([]int{2}, 1, -1), 0)
	wantClose(t, "one input", mustRun(t, graph.OpMax, nil, b), b, 0)
	if _, err := runOp(t, graph.OpSum, nil, 1, b, f32s(nil, 1)); err == nil || !strings.Contains(err.Error(), "input 1 is float32") {
		t.Errorf("Sum of float64 and float32: %v", err)
	}
	if _, err := runOp(t, graph.OpMax, nil, 1, b, f64s([]int{2}, 1, 2)); err == nil {
		t.Error("Max of [3] and [2]: no error")
	}
}

func TestComparisonsAndLogic(t *testing.T) {
	x := f32s([]int{3}, 1, 2, float32(math.NaN()))
	wantClose(t, "GreaterOrEqual", mustRun(t, graph.OpGreaterOrEqual, nil, x, f32s(nil, 2)), bools([]int{3}, false, true, false), 0)
	wantClose(t, "LessOrEqual", mustRun(t, graph.OpLessOrEqual, nil, x, f32s(nil, 2)), bools([]int{3}, true, true, false), 0)
	p, q := bools([]int{2, 1}, true, false), bools([]int{2}, true, false)
	wantClose(t, "Or", mustRun(t, graph.OpOr, nil, p, q), bools([]int{2, 2}, true, true, true, false), 0)
	wantClose(t, "Xor", mustRun(t, graph.OpXor, nil, p, q), bools([]int{2, 2}, false, true, true, false), 0)
	if _, err := runOp(t, graph.OpOr, nil, 1, x, x); err == nil || !strings.Contains(err.Error(), "expected bool operands") {
		t.Errorf("Or of floats: %v", err)
	}
	if _, err := runOp(t, graph.OpLessOrEqual, nil, 1, p, p); err == nil || !strings.Contains(err.Error(), "expected numeric operands") {
		t.Errorf("LessOrEqual of bools: %v", err)
	}
}
