package interp

// Decoding: each node becomes a typed kernel holding the attributes it
// needs, read once through graph.AttrOr (so the op table's defaults apply).
// The reader has already checked them; decoding only reads.

import (
	"fmt"

	"github.com/trnn/trnn/graph"
)

// kernel is a decoded node.
type kernel interface {
	// slots returns the node's operands, for the planner.
	slots() *operands
	// run computes the node's outputs from st.vals and stores them there.
	run(st *state) error
}

// Every operator family has its kernel.
var (
	_ kernel = (*binaryKernel)(nil)
	_ kernel = (*unaryKernel)(nil)
	_ kernel = (*whereKernel)(nil)
	_ kernel = (*expandKernel)(nil)
	_ kernel = (*matMulKernel)(nil)
	_ kernel = (*gemmKernel)(nil)
	_ kernel = (*transposeKernel)(nil)
	_ kernel = (*squeezeKernel)(nil)
	_ kernel = (*reshapeKernel)(nil)
	_ kernel = (*gatherKernel)(nil)
	_ kernel = (*castKernel)(nil)
	_ kernel = (*constantKernel)(nil)
	_ kernel = (*shapeKernel)(nil)
	_ kernel = (*concatKernel)(nil)
	_ kernel = (*rangeKernel)(nil)
	_ kernel = (*sliceKernel)(nil)
	_ kernel = (*recurrentKernel)(nil)
)

// operands are a node's input and output slots; −1 is an omitted one.
type operands struct {
	in, out []int
}

func (o *operands) slots() *operands { return o }

// arg returns input k, or nil when it is omitted.
func (o *operands) arg(st *state, k int) *graph.Tensor {
	if k < len(o.in) && o.in[k] >= 0 {
		return st.vals[o.in[k]]
	}
	return nil
}

// movable is embedded in the kernels that only give their input 0 another
// shape (Squeeze, Unsqueeze, Reshape, Flatten). When the planner finds
// that input dead after the step (read by no later step, neither the
// caller's nor a constant: the step releases it), the kernel moves it: the
// tensor takes the new shape and becomes the output, instead of being
// copied into a new one.
type movable struct{ move bool }

// setMove lets the kernel move its input 0.
func (m *movable) setMove() { m.move = true }

// alloc is st's allocator, reusing x, input 0, when the kernel moves it.
func (m *movable) alloc(st *state, x *graph.Tensor) allocator {
	a := st.alloc
	if m.move {
		a.reuse = x
	}
	return a
}

// setMoved is set for a kernel of input 0 x: when t is x, moved, x's slot
// is cleared, so that the step's release does not recycle the output.
func (o *operands) setMoved(st *state, x, t *graph.Tensor, err error) error {
	if err == nil && t == x {
		st.vals[o.in[0]] = nil
	}
	return o.set(st, t, err)
}

// set stores a single-output kernel's result, unless it failed.
func (o *operands) set(st *state, t *graph.Tensor, err error) error {
	if err == nil {
		st.vals[o.out[0]] = t
	}
	return err
}

// decode returns the kernel of node n, whose operands are o.
func decode(n *graph.Node, o operands) (kernel, error) {
	switch n.Op {
	case graph.OpAdd, graph.OpSub, graph.OpMul, graph.OpDiv, graph.OpLess, graph.OpGreater, graph.OpEqual, graph.OpAnd:
		return &binaryKernel{o, n.Op}, nil
	case graph.OpSigmoid, graph.OpTanh, graph.OpRelu, graph.OpNot, graph.OpIdentity:
		return &unaryKernel{o, n.Op}, nil
	case graph.OpWhere:
		return &whereKernel{o}, nil
	case graph.OpExpand:
		return &expandKernel{o}, nil
	case graph.OpMatMul:
		return &matMulKernel{o}, nil
	case graph.OpGemm:
		return &gemmKernel{operands: o,
			alpha: graph.AttrOr(n, "alpha").Float, beta: graph.AttrOr(n, "beta").Float,
			transA: graph.AttrOr(n, "transA").Int != 0, transB: graph.AttrOr(n, "transB").Int != 0}, nil
	case graph.OpTranspose:
		return &transposeKernel{o, n.Attrs["perm"].Ints}, nil
	case graph.OpSqueeze, graph.OpUnsqueeze:
		// Before opset 13 the axes are an attribute, from 13 an input.
		axes, isAttr := n.Attrs["axes"]
		return &squeezeKernel{operands: o, unsqueeze: n.Op == graph.OpUnsqueeze, axes: axes.Ints, fromInput: !isAttr}, nil
	case graph.OpReshape:
		return &reshapeKernel{operands: o, allowZero: graph.AttrOr(n, "allowzero").Int != 0}, nil
	case graph.OpGather:
		return &gatherKernel{o, graph.AttrOr(n, "axis").Int}, nil
	case graph.OpCast:
		return &castKernel{o, graph.DType(n.Attrs["to"].Int)}, nil
	case graph.OpConstant:
		return decodeConstant(n, o)
	case graph.OpShape:
		end, hasEnd := n.Attrs["end"]
		return &shapeKernel{operands: o, start: graph.AttrOr(n, "start").Int, end: end.Int, hasEnd: hasEnd}, nil
	case graph.OpConcat:
		return &concatKernel{o, n.Attrs["axis"].Int}, nil
	case graph.OpRange:
		return &rangeKernel{o}, nil
	case graph.OpSlice:
		return decodeSlice(n, o), nil
	case graph.OpLSTM, graph.OpGRU:
		return &recurrentKernel{operands: o, op: n.Op, attrs: rnnAttrs{
			HiddenSize:        int(graph.AttrOr(n, "hidden_size").Int),
			Direction:         graph.AttrOr(n, "direction").String,
			Layout:            int(graph.AttrOr(n, "layout").Int),
			LinearBeforeReset: graph.AttrOr(n, "linear_before_reset").Int != 0,
		}}, nil
	case graph.OpConv:
		return &convKernel{o, decodeWindow(n), int(graph.AttrOr(n, "group").Int)}, nil
	case graph.OpMaxPool, graph.OpAveragePool:
		return decodePool(n, o), nil
	case graph.OpGlobalAveragePool, graph.OpGlobalMaxPool:
		return &globalPoolKernel{o, n.Op == graph.OpGlobalMaxPool}, nil
	case graph.OpLoop:
		return decodeLoop(n, o), nil
	case graph.OpScan:
		return decodeScan(n, o), nil
	case graph.OpIf:
		return decodeIf(n, o), nil
	}
	if k, err := decodeModelOp(n, o); k != nil || err != nil {
		return k, err
	}
	return nil, fmt.Errorf("op %v is not supported by the interpreter", n.Op)
}

type binaryKernel struct {
	operands
	op graph.Op
}

func (k *binaryKernel) run(st *state) error {
	t, err := binary(k.op, k.arg(st, 0), k.arg(st, 1), st.alloc)
	return k.set(st, t, err)
}

type unaryKernel struct {
	operands
	op graph.Op
}

func (k *unaryKernel) run(st *state) error {
	t, err := unary(k.op, k.arg(st, 0), st.alloc)
	return k.set(st, t, err)
}

type whereKernel struct{ operands }

func (k *whereKernel) run(st *state) error {
	t, err := where(k.arg(st, 0), k.arg(st, 1), k.arg(st, 2), st.alloc)
	return k.set(st, t, err)
}

// expandKernel takes the target shape from input 1.
type expandKernel struct{ operands }

func (k *expandKernel) run(st *state) error {
	shape, err := intsOf(k.arg(st, 1), "shape")
	if err != nil {
		return err
	}
	t, err := expand(k.arg(st, 0), shape, st.alloc)
	return k.set(st, t, err)
}

type matMulKernel struct{ operands }

func (k *matMulKernel) run(st *state) error {
	t, err := matMul(k.arg(st, 0), k.arg(st, 1), st.alloc)
	return k.set(st, t, err)
}

type gemmKernel struct {
	operands
	alpha, beta    float32
	transA, transB bool
}

func (k *gemmKernel) run(st *state) error {
	t, err := gemm(k.arg(st, 0), k.arg(st, 1), k.arg(st, 2), k.transA, k.transB, k.alpha, k.beta, st.alloc)
	return k.set(st, t, err)
}

type transposeKernel struct {
	operands
	perm []int64 // nil: reverse the dimensions
}

func (k *transposeKernel) run(st *state) error {
	t, err := transpose(k.arg(st, 0), k.perm, st.alloc)
	return k.set(st, t, err)
}

// squeezeKernel is Squeeze, or Unsqueeze when unsqueeze is set.
type squeezeKernel struct {
	operands
	movable
	unsqueeze bool
	axes      []int64 // the attribute (opset < 13)
	fromInput bool    // the axes are input 1, which Squeeze may omit
}

func (k *squeezeKernel) run(st *state) error {
	axes := k.axes
	if t := k.arg(st, 1); k.fromInput && t != nil {
		var err error
		if axes, err = intsOf(t, "axes"); err != nil {
			return err
		}
	}
	x := k.arg(st, 0)
	var t *graph.Tensor
	var err error
	if k.unsqueeze {
		t, err = unsqueeze(x, axes, k.alloc(st, x))
	} else {
		t, err = squeeze(x, axes, k.alloc(st, x))
	}
	return k.setMoved(st, x, t, err)
}

type reshapeKernel struct {
	operands
	movable
	allowZero bool
}

func (k *reshapeKernel) run(st *state) error {
	shape, err := intsOf(k.arg(st, 1), "shape")
	if err != nil {
		return err
	}
	x := k.arg(st, 0)
	t, err := reshape(x, shape, k.allowZero, k.alloc(st, x))
	return k.setMoved(st, x, t, err)
}

type gatherKernel struct {
	operands
	axis int64
}

func (k *gatherKernel) run(st *state) error {
	t, err := gather(k.arg(st, 0), k.arg(st, 1), k.axis, st.alloc)
	return k.set(st, t, err)
}

type castKernel struct {
	operands
	to graph.DType
}

func (k *castKernel) run(st *state) error {
	t, err := cast(k.arg(st, 0), k.to, st.alloc)
	return k.set(st, t, err)
}

// constantKernel holds a Constant node's value, built once from whichever
// value attribute the node has. It has no inputs, so the planner always
// folds it.
type constantKernel struct {
	operands
	value *graph.Tensor
}

func (k *constantKernel) run(st *state) error {
	return k.set(st, clone(k.value, st.alloc), nil)
}

// decodeConstant builds the value of a Constant node. The reader admits
// exactly one value attribute of a kind trnn reads; a value tensor is still
// checked, since its data, not its kind, decides whether it is sound.
func decodeConstant(n *graph.Node, o operands) (kernel, error) {
	var v *graph.Tensor
	for name, a := range n.Attrs {
		switch name {
		case "value":
			v = a.Tensor
		case "value_float":
			v = &graph.Tensor{DType: graph.Float32, Shape: []int{}, F32: []float32{a.Float}}
		case "value_floats":
			v = &graph.Tensor{DType: graph.Float32, Shape: []int{len(a.Floats)}, F32: a.Floats}
		case "value_int":
			v = &graph.Tensor{DType: graph.Int64, Shape: []int{}, I64: []int64{a.Int}}
		case "value_ints":
			v = &graph.Tensor{DType: graph.Int64, Shape: []int{len(a.Ints)}, I64: a.Ints}
		}
	}
	if err := graph.CheckTensor(v); err != nil {
		return nil, fmt.Errorf("attribute value: %v", err)
	}
	return &constantKernel{o, v}, nil
}

type shapeKernel struct {
	operands
	start, end int64
	hasEnd     bool // false: up to the rank
}

func (k *shapeKernel) run(st *state) error {
	return k.set(st, shapeOf(k.arg(st, 0), k.start, k.end, k.hasEnd, st.alloc), nil)
}

type concatKernel struct {
	operands
	axis int64
}

func (k *concatKernel) run(st *state) error {
	xs := make([]*graph.Tensor, len(k.in))
	for i := range xs {
		xs[i] = k.arg(st, i)
	}
	t, err := concat(xs, k.axis, st.alloc)
	return k.set(st, t, err)
}

type rangeKernel struct{ operands }

func (k *rangeKernel) run(st *state) error {
	t, err := arange(k.arg(st, 0), k.arg(st, 1), k.arg(st, 2), st.alloc)
	return k.set(st, t, err)
}

// sliceKernel takes starts, ends and axes from attributes before opset 10,
// and from inputs 1 to 4 (with steps) from 10 on.
type sliceKernel struct {
	operands
	fromAttrs          bool
	starts, ends, axes []int64
}

func decodeSlice(n *graph.Node, o operands) *sliceKernel {
	starts, ok := n.Attrs["starts"]
	if !ok {
		return &sliceKernel{operands: o}
	}
	return &sliceKernel{operands: o, fromAttrs: true, starts: starts.Ints, ends: n.Attrs["ends"].Ints, axes: n.Attrs["axes"].Ints}
}

func (k *sliceKernel) run(st *state) error {
	if k.fromAttrs {
		t, err := slice(k.arg(st, 0), k.starts, k.ends, k.axes, nil, st.alloc)
		return k.set(st, t, err)
	}
	var lists [4][]int64
	for i, what := range []string{"starts", "ends", "axes", "steps"} {
		if t := k.arg(st, i+1); t != nil {
			v, err := intsOf(t, what)
			if err != nil {
				return err
			}
			lists[i] = v
		}
	}
	t, err := slice(k.arg(st, 0), lists[0], lists[1], lists[2], lists[3], st.alloc)
	return k.set(st, t, err)
}

// recurrentKernel is an LSTM or GRU. The planner sets which outputs are
// read and which workspace of the per-call state the node uses.
type recurrentKernel struct {
	operands
	op    graph.Op
	attrs rnnAttrs
	want  [3]bool // Y, Y_h, Y_c read by a later node or the caller
	work  int     // index of the node's workspace in state.rnn
	// wT, rT: each direction's Wᵀ and Rᵀ, when W and R are constants
	// (transposeWeights), else nil.
	wT, rT []float32
	rP     []float32 // rT in ops.RecurrentPanels' layout, or nil
}

func (k *recurrentKernel) run(st *state) error {
	in := rnnInputs{X: k.arg(st, 0), W: k.arg(st, 1), R: k.arg(st, 2), B: k.arg(st, 3), SeqLens: k.arg(st, 4), H0: k.arg(st, 5),
		WT: k.wT, RT: k.rT, RP: k.rP}
	if k.op == graph.OpLSTM {
		in.C0, in.P = k.arg(st, 6), k.arg(st, 7)
	}
	var work *rnnWork
	if st.rnn != nil {
		work = &st.rnn[k.work]
	}
	out := rnnOutputs{WantY: k.want[0], WantYh: k.want[1], WantYc: k.want[2]}
	if err := recurrent(k.op, in, k.attrs, &out, work, st.alloc); err != nil {
		return err
	}
	for i, t := range [3]*graph.Tensor{out.Y, out.Yh, out.Yc} {
		if i < len(k.out) && k.out[i] >= 0 {
			st.vals[k.out[i]] = t
		}
	}
	return nil
}
