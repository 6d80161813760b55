package interp

// Elementwise math of exported models' activations and heads: the float
// functions (Erf, Sqrt, Exp, Log, the trigonometric ones, Softplus, Gelu,
// LeakyRelu, ...), Neg, Abs and Sign (also on integers), the predicates
// IsNaN and IsInf, and Clip.
//
// The float functions are evaluated in float64 and rounded once to the
// tensor's type: float32 models get each function to about half a float32
// ulp, well within the 1e-5 agreement expected of ONNX Runtime.

import (
	"fmt"
	"math"

	"github.com/trnn/trnn/graph"
)

var (
	_ kernel = (*floatFuncKernel)(nil)
	_ kernel = (*signedKernel)(nil)
	_ kernel = (*isKernel)(nil)
	_ kernel = (*clipKernel)(nil)
)

// floatFuncKernel applies a float function, its attributes bound at
// decode, to every element of a float32 or float64 tensor.
type floatFuncKernel struct {
	operands
	f func(float64) float64
}

func (k *floatFuncKernel) run(st *state) error {
	x := k.arg(st, 0)
	if x.DType != graph.Float32 && x.DType != graph.Float64 {
		return fmt.Errorf("expected a float tensor, found %v", x.DType)
	}
	out := st.alloc.get(x.DType, x.Shape)
	if x.DType == graph.Float32 {
		for i, v := range x.F32 {
			out.F32[i] = float32(k.f(float64(v)))
		}
	} else {
		for i, v := range x.F64 {
			out.F64[i] = k.f(v)
		}
	}
	return k.set(st, out, nil)
}

// decodeFloatFunc binds the node's attributes (alpha, beta, gamma,
// approximate) into its function.
func decodeFloatFunc(n *graph.Node, o operands) *floatFuncKernel {
	alpha := float64(graph.AttrOr(n, "alpha").Float)
	beta := float64(graph.AttrOr(n, "beta").Float)
	gamma := float64(graph.AttrOr(n, "gamma").Float)
	var f func(float64) float64
	switch n.Op {
	case graph.OpHardSigmoid:
		f = func(x float64) float64 { return max(0, min(1, alpha*x+beta)) }
	case graph.OpLeakyRelu:
		f = func(x float64) float64 { return leakyRelu(x, alpha) }
	case graph.OpElu:
		f = func(x float64) float64 { return elu(x, alpha) }
	case graph.OpSelu:
		f = func(x float64) float64 { return gamma * elu(x, alpha) }
	case graph.OpCelu:
		f = func(x float64) float64 { return max(0, x) + min(0, alpha*math.Expm1(x/alpha)) }
	case graph.OpThresholdedRelu:
		f = func(x float64) float64 { return thresholdedRelu(x, alpha) }
	case graph.OpGelu:
		f = gelu
		if graph.AttrOr(n, "approximate").String == "tanh" {
			f = geluTanh
		}
	default:
		f = floatFuncs[n.Op]
	}
	return &floatFuncKernel{o, f}
}

// floatFuncs are the float functions without attributes.
var floatFuncs = map[graph.Op]func(float64) float64{
	graph.OpErf:        math.Erf,
	graph.OpSqrt:       math.Sqrt,
	graph.OpExp:        math.Exp,
	graph.OpLog:        math.Log,
	graph.OpReciprocal: func(x float64) float64 { return 1 / x },
	graph.OpFloor:      math.Floor,
	graph.OpCeil:       math.Ceil,
	graph.OpRound:      math.RoundToEven, // ONNX rounds halves to even
	graph.OpSin:        math.Sin,
	graph.OpCos:        math.Cos,
	graph.OpTan:        math.Tan,
	graph.OpAsin:       math.Asin,
	graph.OpAcos:       math.Acos,
	graph.OpAtan:       math.Atan,
	graph.OpSinh:       math.Sinh,
	graph.OpCosh:       math.Cosh,
	graph.OpAsinh:      math.Asinh,
	graph.OpAcosh:      math.Acosh,
	graph.OpAtanh:      math.Atanh,
	graph.OpSoftplus:   softplus,
	graph.OpSoftsign:   func(x float64) float64 { return x / (1 + math.Abs(x)) },
	graph.OpHardSwish:  func(x float64) float64 { return x * max(0, min(1, x/6+0.5)) },
}

// softplus is ln(1 + eˣ), written so that neither a large x overflows nor
// a very negative one loses its digits.
func softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

func leakyRelu(x, alpha float64) float64 {
	if x < 0 {
		return alpha * x
	}
	return x
}

func elu(x, alpha float64) float64 {
	if x < 0 {
		return alpha * math.Expm1(x)
	}
	return x
}

func thresholdedRelu(x, alpha float64) float64 {
	if x > alpha {
		return x
	}
	return 0
}

// gelu is x·Φ(x), Φ the standard normal distribution function.
func gelu(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }

// geluTanh is Gelu's tanh approximation (approximate = "tanh").
func geluTanh(x float64) float64 {
	const c = 0.7978845608028654 // √(2/π)
	return 0.5 * x * (1 + math.Tanh(c*(x+0.044715*x*x*x)))
}

// signedKernel is Neg, Abs or Sign, on any numeric type. Integers wrap as
// in two's complement: Neg and Abs of the minimum are the minimum.
type signedKernel struct {
	operands
	op graph.Op
}

func (k *signedKernel) run(st *state) error {
	x := k.arg(st, 0)
	if x.DType == graph.Bool {
		return fmt.Errorf("expected a numeric tensor, found %v", x.DType)
	}
	out := st.alloc.get(x.DType, x.Shape)
	switch x.DType {
	case graph.Float32:
		signedRun(k.op, out.F32, x.F32)
	case graph.Float64:
		signedRun(k.op, out.F64, x.F64)
	case graph.Int32:
		signedRun(k.op, out.I32, x.I32)
	case graph.Int64:
		signedRun(k.op, out.I64, x.I64)
	}
	return k.set(st, out, nil)
}

// signedRun computes o = op(x). Sign keeps NaN and Abs clears the sign of
// −0, as their float definitions do.
func signedRun[T number](op graph.Op, o, x []T) {
	switch op {
	case graph.OpNeg:
		for i, v := range x {
			o[i] = -v
		}
	case graph.OpAbs:
		for i, v := range x {
			if v < 0 || (v == 0 && isNegZero(v)) {
				v = -v
			}
			o[i] = v
		}
	case graph.OpSign:
		for i, v := range x {
			switch {
			case v > 0:
				o[i] = 1
			case v < 0:
				o[i] = -1
			case v == 0:
				o[i] = 0
			default: // NaN
				o[i] = v
			}
		}
	}
}

// isNegZero reports whether a zero v is a float −0.
func isNegZero[T number](v T) bool {
	switch f := any(v).(type) {
	case float32:
		return math.Signbit(float64(f))
	case float64:
		return math.Signbit(f)
	}
	return false
}

// isKernel is IsNaN, or IsInf with the signs it detects.
type isKernel struct {
	operands
	nan      bool // IsNaN; else IsInf
	neg, pos bool // IsInf: detect −Inf, +Inf
}

func (k *isKernel) run(st *state) error {
	x := k.arg(st, 0)
	if x.DType != graph.Float32 && x.DType != graph.Float64 {
		return fmt.Errorf("expected a float tensor, found %v", x.DType)
	}
	test := func(v float64) bool {
		if k.nan {
			return v != v
		}
		return (k.pos && math.IsInf(v, 1)) || (k.neg && math.IsInf(v, -1))
	}
	out := st.alloc.get(graph.Bool, x.Shape)
	switch x.DType {
	case graph.Float32:
		for i, v := range x.F32 {
			out.B[i] = test(float64(v))
		}
	case graph.Float64:
		for i, v := range x.F64 {
			out.B[i] = test(v)
		}
	}
	return k.set(st, out, nil)
}

// clipKernel bounds x to [min, max]: attributes before opset 11, optional
// scalar inputs 1 and 2 from it. An absent bound is the type's extreme, so
// an infinite float clips to the largest finite one, as the specification
// and ONNX Runtime define; NaN stays NaN.
type clipKernel struct {
	operands
	attrs  bool    // the bounds are the attributes lo and hi
	lo, hi float32 // the attributes
}

func decodeClip(n *graph.Node, o operands) *clipKernel {
	_, lo := n.Attrs["min"]
	_, hi := n.Attrs["max"]
	return &clipKernel{operands: o, attrs: lo || hi, lo: graph.AttrOr(n, "min").Float, hi: graph.AttrOr(n, "max").Float}
}

func (k *clipKernel) run(st *state) error {
	x := k.arg(st, 0)
	if x.DType == graph.Bool {
		return fmt.Errorf("expected a numeric tensor, found %v", x.DType)
	}
	lo, hi := k.arg(st, 1), k.arg(st, 2)
	if k.attrs {
		if x.DType != graph.Float32 && x.DType != graph.Float64 {
			return fmt.Errorf("expected a float tensor, found %v", x.DType)
		}
		lo = scalarOf(x.DType, float64(k.lo))
		hi = scalarOf(x.DType, float64(k.hi))
	}
	for _, b := range []*graph.Tensor{lo, hi} {
		if b == nil {
			continue
		}
		if b.DType != x.DType {
			return fmt.Errorf("bound is %v, input is %v", b.DType, x.DType)
		}
		if b.Len() != 1 || len(b.Shape) > 1 {
			return fmt.Errorf("bounds must be scalars, found shape %s", graph.FormatShape(b.Shape))
		}
	}
	out := st.alloc.get(x.DType, x.Shape)
	switch x.DType {
	case graph.Float32:
		clipRun(out.F32, x.F32, lo, hi, -math.MaxFloat32, math.MaxFloat32)
	case graph.Float64:
		clipRun(out.F64, x.F64, lo, hi, -math.MaxFloat64, math.MaxFloat64)
	case graph.Int32:
		clipRun(out.I32, x.I32, lo, hi, math.MinInt32, math.MaxInt32)
	case graph.Int64:
		clipRun(out.I64, x.I64, lo, hi, math.MinInt64, math.MaxInt64)
	}
	return k.set(st, out, nil)
}

// clipRun computes o = min(max(x, lo), hi), lo and hi (nil: the type's
// extremes lowest and highest) holding one element of type T.
func clipRun[T number](o, x []T, lo, hi *graph.Tensor, lowest, highest T) {
	if lo != nil {
		lowest = elems[T](lo)[0]
	}
	if hi != nil {
		highest = elems[T](hi)[0]
	}
	for i, v := range x {
		if v < lowest {
			v = lowest
		}
		if v > highest {
			v = highest
		}
		o[i] = v
	}
}

// scalarOf returns a scalar tensor of type dt holding v.
func scalarOf(dt graph.DType, v float64) *graph.Tensor {
	t := graph.NewTensor(dt)
	setFloat(t, 0, v)
	return t
}
