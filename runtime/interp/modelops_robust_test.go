package interp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trnn/trnn/graph"
)

// modelOps are the operators of exported sequence models that the math,
// binops, reduce, softmax, norm, layout, pad and index kernels implement.
var modelOps = []graph.Op{
	graph.OpErf, graph.OpSqrt, graph.OpExp, graph.OpLog, graph.OpNeg, graph.OpAbs, graph.OpReciprocal,
	graph.OpSign, graph.OpFloor, graph.OpCeil, graph.OpRound, graph.OpSin, graph.OpCos, graph.OpTan,
	graph.OpAsin, graph.OpAcos, graph.OpAtan, graph.OpSinh, graph.OpCosh, graph.OpAsinh, graph.OpAcosh,
	graph.OpAtanh, graph.OpSoftplus, graph.OpSoftsign, graph.OpHardSigmoid, graph.OpHardSwish,
	graph.OpLeakyRelu, graph.OpElu, graph.OpSelu, graph.OpCelu, graph.OpThresholdedRelu, graph.OpGelu,
	graph.OpIsNaN, graph.OpIsInf, graph.OpClip, graph.OpPow, graph.OpMod, graph.OpPRelu,
	graph.OpGreaterOrEqual, graph.OpLessOrEqual, graph.OpOr, graph.OpXor, graph.OpMax, graph.OpMin,
	graph.OpSum, graph.OpMean, graph.OpReduceMean, graph.OpReduceSum, graph.OpReduceMax,
	graph.OpReduceMin, graph.OpReduceProd, graph.OpReduceL1, graph.OpReduceL2, graph.OpReduceLogSum,
	graph.OpReduceLogSumExp, graph.OpReduceSumSquare, graph.OpArgMax, graph.OpArgMin, graph.OpCumSum,
	graph.OpSoftmax, graph.OpLogSoftmax, graph.OpHardmax, graph.OpLayerNormalization,
	graph.OpBatchNormalization, graph.OpConstantOfShape, graph.OpSplit, graph.OpTile, graph.OpPad,
	graph.OpFlatten, graph.OpSize, graph.OpTrilu, graph.OpCastLike, graph.OpNonZero, graph.OpOneHot,
	graph.OpGatherElements, graph.OpScatterElements, graph.OpTopK, graph.OpDropout,
}

// TestModelOpsNeverPanic feeds every operator random operands — every
// element type, ranks 0 to 3 with empty, unit and mismatched dimensions,
// small negative and out-of-range values where indices, axes, pads or
// shapes are read — with random attributes among those the reader
// accepts. A kernel may refuse its operands, never panic; what it returns
// must be well-formed tensors.
func TestModelOpsNeverPanic(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 1))
	for _, op := range modelOps {
		rule := graph.Info(op).ONNX
		if rule == nil {
			t.Fatalf("%v is not an ONNX operator", op)
		}
		ran, succeeded := 0, 0
		for trial := 0; trial < 20000 && succeeded < 200; trial++ {
			n, opset, nin, ok := randomNode(rng, op, rule)
			if !ok {
				continue
			}
			ins := make([]*graph.Tensor, nin)
			sticky := rng.IntN(operandKinds)
			for i := range ins {
				if i > 0 && rngChance(rng, 0.15) && isOptional(rule, i) {
					continue // omitted
				}
				kind := sticky
				if rngChance(rng, 0.15) {
					kind = rng.IntN(operandKinds)
				}
				ins[i] = randomOperand(rng, ins[0], kind)
			}
			outs, err := runGuarded(t, n, ins)
			if p, isPanic := err.(panicError); isPanic {
				t.Fatalf("%v at opset %d, attributes %s, inputs %s: panic: %v", op, opset, attrText(n.Attrs), tensorsText(ins), p.v)
			}
			for i, o := range outs {
				if err := graph.CheckTensor(o); err != nil && o != nil {
					t.Fatalf("%v: output %d is malformed: %v", op, i, err)
				}
			}
			ran++
			if err == nil {
				succeeded++
			}
		}
		// The draws must reach the kernels' arithmetic, not only their
		// checks.
		if succeeded < 50 {
			t.Errorf("%v: only %d of %d random nodes ran", op, succeeded, ran)
		}
	}
}

type panicError struct{ v any }

func (p panicError) Error() string { return fmt.Sprint("panic: ", p.v) }

// runGuarded runs node n on ins, turning a panic into a panicError.
func runGuarded(t *testing.T, n *graph.Node, ins []*graph.Tensor) (outs []*graph.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError{r}
		}
	}()
	return runOp(t, n.Op, n.Attrs, len(n.Outputs), ins...)
}

// randomNode draws an opset, an input count, an output count and
// attributes for op, keeping only what the reader would accept.
func randomNode(rng *rand.Rand, op graph.Op, rule *graph.ONNXRule) (n *graph.Node, opset, nin int, ok bool) {
	opset = max(rule.Since, 1) + rng.IntN(graph.MaxReadOpset-max(rule.Since, 1)+1)
	lo, hi := rule.Inputs(opset)
	if hi < 0 {
		hi = lo + 3
	}
	nin = lo + rng.IntN(hi-lo+1)
	nout := rule.MinOut + rng.IntN(min(rule.MaxOut, rule.MinOut+3)-rule.MinOut+1)
	n = &graph.Node{Name: "n", Op: op, Attrs: map[string]graph.Attr{}}
	for i := range nin {
		n.Inputs = append(n.Inputs, fmt.Sprint("in", i))
	}
	for i := range nout {
		n.Outputs = append(n.Outputs, fmt.Sprint("out", i))
	}
	for name, ar := range rule.Attrs {
		if opset < ar.Since || (ar.Until > 0 && opset >= ar.Until) || rngChance(rng, 0.4) {
			continue
		}
		a := randomAttr(rng, ar.Kind)
		if ar.Check != nil && ar.Check(name, a) != nil {
			continue
		}
		n.Attrs[name] = a
	}
	for _, name := range rule.Required {
		if _, ok := n.Attrs[name]; !ok {
			return nil, 0, 0, false
		}
	}
	if rule.Check != nil && rule.Check(n, opset) != nil {
		return nil, 0, 0, false
	}
	return n, opset, nin, true
}

func isOptional(rule *graph.ONNXRule, i int) bool {
	for _, o := range rule.Optional {
		if o == i {
			return true
		}
	}
	return false
}

func rngChance(rng *rand.Rand, p float64) bool { return rng.Float64() < p }

var randomStrings = []string{"none", "tanh", "constant", "reflect", "edge", "wrap", "add", "mul", "max", "min"}

func randomAttr(rng *rand.Rand, kind graph.AttrKind) graph.Attr {
	switch kind {
	case graph.AttrInt:
		return aInt(rng.Int64N(9) - 4)
	case graph.AttrFloat:
		return aFloat([]float32{0, 0.5, 1, -1, 1e-5}[rng.IntN(5)])
	case graph.AttrString:
		return aString(randomStrings[rng.IntN(len(randomStrings))])
	case graph.AttrInts:
		v := make([]int64, rng.IntN(4))
		for i := range v {
			v[i] = rng.Int64N(9) - 4
		}
		return aInts(v...)
	case graph.AttrTensor:
		t := randomTensor(rng)
		if rngChance(rng, 0.8) {
			t = randomTensorOf(rng, t.DType, nil)
		}
		return aTensor(t)
	}
	return graph.Attr{Kind: kind}
}

var randomShapes = [][]int{nil, {0}, {1}, {2}, {3}, {4}, {2, 3}, {3, 1}, {1, 3}, {2, 0}, {2, 2, 2}, {1, 2, 3}, {2, 3, 1}}

// operandKinds counts the ways randomOperand draws an operand.
const operandKinds = 8

// randomOperand draws an operand after the first, x0, of the given kind:
// mostly one that fits with x0 (its type and shape, its trailing or
// channel dimensions, int64 indices of its shape or rank, scalars, pairs),
// so that the draws reach the kernels' arithmetic and not only their
// checks; the last kind is any tensor.
func randomOperand(rng *rand.Rand, x0 *graph.Tensor, kind int) *graph.Tensor {
	if x0 == nil {
		return randomTensor(rng)
	}
	r := len(x0.Shape)
	switch kind {
	case 0:
		return randomTensorOf(rng, x0.DType, x0.Shape)
	case 1:
		return randomTensorOf(rng, graph.Int64, x0.Shape)
	case 2:
		return randomTensorOf(rng, graph.Int64, []int{[]int{r, 2 * r, 1}[rng.IntN(3)]})
	case 3:
		dt := x0.DType
		if rngChance(rng, 0.5) {
			dt = graph.Int64
		}
		return randomTensorOf(rng, dt, [][]int{nil, {1}}[rng.IntN(2)])
	case 4:
		if r > 1 {
			return randomTensorOf(rng, x0.DType, x0.Shape[1:2])
		}
		return randomTensorOf(rng, x0.DType, x0.Shape)
	case 5:
		return randomTensorOf(rng, x0.DType, x0.Shape[rng.IntN(r+1):])
	case 6:
		return randomTensorOf(rng, []graph.DType{graph.Float32, graph.Int64}[rng.IntN(2)], []int{2})
	}
	return randomTensor(rng)
}

// randomTensor draws a tensor of any type and a shape of rank 0 to 3.
func randomTensor(rng *rand.Rand) *graph.Tensor {
	dts := []graph.DType{graph.Float32, graph.Float32, graph.Float64, graph.Int32, graph.Int64, graph.Int64, graph.Bool}
	return randomTensorOf(rng, dts[rng.IntN(len(dts))], randomShapes[rng.IntN(len(randomShapes))])
}

// randomTensorOf fills a tensor with values from −4 to 4, floats with some
// NaN and infinities.
func randomTensorOf(rng *rand.Rand, dt graph.DType, shape []int) *graph.Tensor {
	t := graph.NewTensor(dt, shape...)
	for i := range t.Len() {
		v := float64(rng.IntN(9) - 4)
		if dt == graph.Float32 || dt == graph.Float64 {
			v = rng.Float64()*8 - 4
			switch rng.IntN(20) {
			case 0:
				v = math.NaN()
			case 1:
				v = math.Inf(1 - 2*rng.IntN(2))
			}
		}
		setFloat(t, i, v)
	}
	return t
}

func attrText(attrs map[string]graph.Attr) string {
	var parts []string
	for name, a := range attrs {
		switch a.Kind {
		case graph.AttrTensor:
			parts = append(parts, fmt.Sprintf("%s=%v%s", name, a.Tensor.DType, graph.FormatShape(a.Tensor.Shape)))
		default:
			parts = append(parts, fmt.Sprintf("%s=%v", name, []any{a.Int, a.Float, a.String, a.Ints}[a.Kind-1]))
		}
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func tensorsText(ts []*graph.Tensor) string {
	var parts []string
	for _, x := range ts {
		if x == nil {
			parts = append(parts, "omitted")
			continue
		}
		parts = append(parts, fmt.Sprintf("%v%s=%v", x.DType, graph.FormatShape(x.Shape), tensorValues(x)))
	}
	return strings.Join(parts, ", ")
}
