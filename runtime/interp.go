package runtime

// The tensor-form interpreter: runs a graph imported from ONNX
// (graph.FormTensor) for inference, one ONNX operator at a time, with the
// kernels of ops/onnx*.go.
//
// NewInterpreter checks the graph once and plans it: every value gets a
// slot; nodes whose inputs are all constant (initializers, Constant nodes,
// shapes of constants) are evaluated once there; nodes whose outputs nobody
// reads are dropped; each value's last reader is recorded so that its
// buffer is recycled as soon as it is dead. Run then only validates the
// caller's inputs and executes the remaining nodes, taking buffers from a
// per-call state recycled through a sync.Pool, so concurrent calls share
// nothing mutable.

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/ops"
)

// Interpreter runs one tensor-form graph. It is safe for concurrent use:
// after NewInterpreter it is never modified, and each Run works on its own
// state.
type Interpreter struct {
	inputs  []interpInput
	outputs []interpOutput
	consts  []*graph.Tensor // [slot] value of a constant slot (parameter or folded), else nil
	isInput []bool          // [slot] slot holds a caller's input
	nodes   []*interpNode   // nodes left to run, in order
	nslots  int
	nrnn    int // recurrent nodes, each with a workspace in the state
	states  sync.Pool
}

type interpInput struct {
	graph.Value
	slot int
}

type interpOutput struct {
	name string
	slot int
}

// interpNode is a node with its attributes decoded and its values resolved
// to slots (−1 for an omitted input or output).
type interpNode struct {
	index   int // position in the graph, for messages
	name    string
	op      graph.Op
	in, out []int
	release []int // slots whose last reader this node is

	// Decoded attributes (those of op).
	ints                []int64 // Transpose perm, Squeeze/Unsqueeze axes (attribute form), Slice starts (attribute form)
	ends, axes          []int64 // Slice (attribute form)
	hasInts             bool
	axis                int64 // Gather, Concat; Shape start
	end                 int64 // Shape
	hasEnd              bool
	flag                bool // Reshape allowzero
	to                  graph.DType
	alpha, beta         float32
	transA, transB      bool
	rnn                 ops.ONNXRNNAttrs
	rnnWork             int // index of the node's workspace in the state
	constKind           ops.ONNXConstantKind
	constAttr           graph.Attr
	wantY, wantH, wantC bool
}

// where names the node in messages.
func (n *interpNode) where() string {
	if n.name == "" {
		return fmt.Sprintf("node %d (%s)", n.index, n.op)
	}
	return fmt.Sprintf("node %q (%s)", n.name, n.op)
}

// interpState is one call's working memory.
type interpState struct {
	vals  []*graph.Tensor // [slot]
	free  map[graph.DType][]*graph.Tensor
	rnn   []ops.ONNXRNNWork
	alloc ops.Alloc
}

// get returns a tensor of the given type and shape, recycled when a free one
// is large enough. Its contents are not zeroed.
func (s *interpState) get(dt graph.DType, shape []int) *graph.Tensor {
	n := graph.Size(shape)
	list := s.free[dt]
	best := -1
	for i, t := range list {
		if interpCap(t) >= n && (best < 0 || interpCap(t) < interpCap(list[best])) {
			best = i
		}
	}
	if best < 0 {
		return graph.NewTensor(dt, shape...)
	}
	t := list[best]
	list[best] = list[len(list)-1]
	s.free[dt] = list[:len(list)-1]
	t.Shape = append(t.Shape[:0], shape...)
	switch dt {
	case graph.Float32:
		t.F32 = t.F32[:n]
	case graph.Float64:
		t.F64 = t.F64[:n]
	case graph.Int32:
		t.I32 = t.I32[:n]
	case graph.Int64:
		t.I64 = t.I64[:n]
	case graph.Bool:
		t.B = t.B[:n]
	}
	return t
}

// put returns t's buffer to the free list.
func (s *interpState) put(t *graph.Tensor) {
	s.free[t.DType] = append(s.free[t.DType], t)
}

func interpCap(t *graph.Tensor) int {
	switch t.DType {
	case graph.Float32:
		return cap(t.F32)
	case graph.Float64:
		return cap(t.F64)
	case graph.Int32:
		return cap(t.I32)
	case graph.Int64:
		return cap(t.I64)
	case graph.Bool:
		return cap(t.B)
	}
	return 0
}

// NewInterpreter checks g (a tensor-form graph, such as export.ReadONNX
// returns) and prepares it to run. Errors name the node or value at fault;
// a node evaluated here because its inputs are constant reports its kernel
// errors here.
func NewInterpreter(g *graph.Graph) (*Interpreter, error) {
	if g == nil {
		return nil, fmt.Errorf("interpreter: nil graph")
	}
	if g.Form != graph.FormTensor {
		return nil, fmt.Errorf("interpreter: graph %q is in %v form; the interpreter runs tensor-form graphs", g.Name, g.Form)
	}
	ip := &Interpreter{}
	slot := map[string]int{}
	newSlot := func(name string) int {
		s := ip.nslots
		slot[name] = s
		ip.nslots++
		ip.consts = append(ip.consts, nil)
		ip.isInput = append(ip.isInput, false)
		return s
	}
	for _, p := range g.Params {
		if _, dup := slot[p.Name]; dup {
			return nil, fmt.Errorf("parameter %q: name defined twice", p.Name)
		}
		if err := ops.CheckTensor(p.Tensor); err != nil {
			return nil, fmt.Errorf("parameter %q: %v", p.Name, err)
		}
		ip.consts[newSlot(p.Name)] = p.Tensor
	}
	for _, v := range g.Inputs {
		if _, dup := slot[v.Name]; dup {
			return nil, fmt.Errorf("input %q: name defined twice", v.Name)
		}
		s := newSlot(v.Name)
		ip.isInput[s] = true
		ip.inputs = append(ip.inputs, interpInput{Value: v, slot: s})
	}
	var nodes []*interpNode
	for i, gn := range g.Nodes {
		n := &interpNode{index: i, name: gn.Name, op: gn.Op}
		if !gn.Op.IsONNX() {
			return nil, fmt.Errorf("%s: not an ONNX operator", n.where())
		}
		for j, in := range gn.Inputs {
			if in == "" {
				n.in = append(n.in, -1)
				continue
			}
			s, ok := slot[in]
			if !ok {
				return nil, fmt.Errorf("%s: input %d %q is not defined before the node", n.where(), j, in)
			}
			n.in = append(n.in, s)
		}
		for _, out := range gn.Outputs {
			if out == "" {
				n.out = append(n.out, -1)
				continue
			}
			if _, dup := slot[out]; dup {
				return nil, fmt.Errorf("%s: output %q is already defined", n.where(), out)
			}
			n.out = append(n.out, newSlot(out))
		}
		if err := n.decode(gn); err != nil {
			return nil, fmt.Errorf("%s: %v", n.where(), err)
		}
		nodes = append(nodes, n)
	}
	isOutput := make([]bool, ip.nslots)
	for _, v := range g.Outputs {
		s, ok := slot[v.Name]
		if !ok {
			return nil, fmt.Errorf("output %q is not produced by any node, input or parameter", v.Name)
		}
		isOutput[s] = true
		ip.outputs = append(ip.outputs, interpOutput{name: v.Name, slot: s})
	}

	// Fold nodes whose inputs are all constant.
	live := nodes[:0:0]
	for _, n := range nodes {
		if n.op == graph.OpLSTM || n.op == graph.OpGRU || !ip.allConst(n) {
			live = append(live, n)
			continue
		}
		if err := n.exec(ip.consts, nil, nil); err != nil {
			return nil, fmt.Errorf("%s: %v", n.where(), err)
		}
	}

	// Drop nodes nobody reads, from the end; record what is read.
	read := slices.Clone(isOutput)
	var kept []*interpNode
	for i := len(live) - 1; i >= 0; i-- {
		n := live[i]
		used := false
		for _, s := range n.out {
			if s >= 0 && read[s] {
				used = true
			}
		}
		if !used {
			continue
		}
		for _, s := range n.in {
			if s >= 0 {
				read[s] = true
			}
		}
		kept = append(kept, n)
	}
	slices.Reverse(kept)

	// Last readers, and which recurrent outputs are wanted.
	last := make([]int, ip.nslots)
	for i := range last {
		last[i] = -1
	}
	for i, n := range kept {
		for _, s := range n.in {
			if s >= 0 {
				last[s] = i
			}
		}
	}
	for i, n := range kept {
		for _, s := range slices.Compact(slices.Sorted(slices.Values(n.in))) {
			if s >= 0 && last[s] == i && !isOutput[s] && !ip.isInput[s] && ip.consts[s] == nil {
				n.release = append(n.release, s)
			}
		}
		want := func(k int) bool { return k < len(n.out) && n.out[k] >= 0 && read[n.out[k]] }
		n.wantY, n.wantH, n.wantC = want(0), want(1), want(2)
		if n.op == graph.OpLSTM || n.op == graph.OpGRU {
			n.rnnWork = ip.nrnn
			ip.nrnn++
		}
		// Outputs nobody reads are released right after the node.
		for _, s := range n.out {
			if s >= 0 && !read[s] {
				n.release = append(n.release, s)
			}
		}
	}
	ip.nodes = kept
	ip.states.New = func() any {
		s := &interpState{
			vals: make([]*graph.Tensor, ip.nslots),
			free: map[graph.DType][]*graph.Tensor{},
			rnn:  make([]ops.ONNXRNNWork, ip.nrnn),
		}
		s.alloc = s.get
		return s
	}
	return ip, nil
}

func (ip *Interpreter) allConst(n *interpNode) bool {
	for _, s := range n.in {
		if s >= 0 && ip.consts[s] == nil {
			return false
		}
	}
	return true
}

// decode reads the node's attributes, with ONNX's defaults.
func (n *interpNode) decode(gn *graph.Node) error {
	var err error
	getInt := func(name string, def int64) int64 {
		a, ok := gn.Attrs[name]
		if !ok {
			return def
		}
		if a.Kind != graph.AttrInt {
			err = fmt.Errorf("attribute %s: expected an int", name)
		}
		return a.Int
	}
	getFloat := func(name string, def float32) float32 {
		a, ok := gn.Attrs[name]
		if !ok {
			return def
		}
		if a.Kind != graph.AttrFloat {
			err = fmt.Errorf("attribute %s: expected a float", name)
		}
		return a.Float
	}
	getInts := func(name string) ([]int64, bool) {
		a, ok := gn.Attrs[name]
		if !ok {
			return nil, false
		}
		if a.Kind != graph.AttrInts {
			err = fmt.Errorf("attribute %s: expected ints", name)
		}
		return a.Ints, true
	}
	getString := func(name, def string) string {
		a, ok := gn.Attrs[name]
		if !ok {
			return def
		}
		if a.Kind != graph.AttrString {
			err = fmt.Errorf("attribute %s: expected a string", name)
		}
		return a.String
	}
	needIn := func(lo, hi int) {
		if err == nil && (len(n.in) < lo || len(n.in) > hi) {
			err = fmt.Errorf("expected %d to %d inputs, found %d", lo, hi, len(n.in))
		}
		for k := 0; k < lo && k < len(n.in); k++ {
			if err == nil && n.in[k] < 0 {
				err = fmt.Errorf("input %d is required", k)
			}
		}
	}
	needOut := func(lo, hi int) {
		if err == nil && (len(n.out) < lo || len(n.out) > hi) {
			err = fmt.Errorf("expected %d to %d outputs, found %d", lo, hi, len(n.out))
		}
		for k := 0; k < lo && k < len(n.out); k++ {
			if err == nil && n.out[k] < 0 {
				err = fmt.Errorf("output %d is required", k)
			}
		}
	}
	switch n.op {
	case graph.OpAdd, graph.OpSub, graph.OpMul, graph.OpDiv, graph.OpLess, graph.OpGreater, graph.OpEqual, graph.OpAnd,
		graph.OpMatMul, graph.OpExpand:
		needIn(2, 2)
	case graph.OpSigmoid, graph.OpTanh, graph.OpRelu, graph.OpNot, graph.OpIdentity:
		needIn(1, 1)
	case graph.OpGemm:
		needIn(2, 3)
		n.alpha, n.beta = getFloat("alpha", 1), getFloat("beta", 1)
		n.transA, n.transB = getInt("transA", 0) != 0, getInt("transB", 0) != 0
	case graph.OpTranspose:
		needIn(1, 1)
		n.ints, n.hasInts = getInts("perm")
	case graph.OpSqueeze, graph.OpUnsqueeze:
		n.ints, n.hasInts = getInts("axes")
		switch {
		case n.hasInts:
			needIn(1, 1)
		case n.op == graph.OpSqueeze:
			needIn(1, 2)
		default:
			needIn(2, 2)
		}
	case graph.OpReshape:
		needIn(2, 2)
		n.flag = getInt("allowzero", 0) != 0
	case graph.OpGather:
		needIn(2, 2)
		n.axis = getInt("axis", 0)
	case graph.OpCast:
		needIn(1, 1)
		if _, ok := gn.Attrs["to"]; !ok {
			return fmt.Errorf("attribute to is required")
		}
		n.to = graph.DType(getInt("to", 0))
		switch n.to {
		case graph.Float32, graph.Float64, graph.Int32, graph.Int64, graph.Bool:
		default:
			return fmt.Errorf("attribute to: cannot cast to %v", n.to)
		}
	case graph.OpConstant:
		needIn(0, 0)
		kinds := map[string]ops.ONNXConstantKind{
			"value": ops.ConstValue, "value_float": ops.ConstValueFloat, "value_floats": ops.ConstValueFloats,
			"value_int": ops.ConstValueInt, "value_ints": ops.ConstValueInts,
		}
		want := map[ops.ONNXConstantKind]graph.AttrKind{
			ops.ConstValue: graph.AttrTensor, ops.ConstValueFloat: graph.AttrFloat, ops.ConstValueFloats: graph.AttrFloats,
			ops.ConstValueInt: graph.AttrInt, ops.ConstValueInts: graph.AttrInts,
		}
		for _, name := range slices.Sorted(maps.Keys(gn.Attrs)) {
			k, ok := kinds[name]
			if !ok || n.constKind != 0 {
				return fmt.Errorf("expected exactly one of the attributes value, value_float, value_floats, value_int, value_ints")
			}
			n.constKind, n.constAttr = k, gn.Attrs[name]
			if n.constAttr.Kind != want[k] {
				return fmt.Errorf("attribute %s has the wrong type", name)
			}
		}
		if n.constKind == 0 {
			return fmt.Errorf("no value attribute")
		}
		if n.constKind == ops.ConstValue {
			if err := ops.CheckTensor(n.constAttr.Tensor); err != nil {
				return fmt.Errorf("attribute value: %v", err)
			}
		}
	case graph.OpShape:
		needIn(1, 1)
		n.axis = getInt("start", 0)
		_, n.hasEnd = gn.Attrs["end"]
		n.end = getInt("end", 0)
	case graph.OpConcat:
		needIn(1, 1<<20)
		if _, ok := gn.Attrs["axis"]; !ok {
			return fmt.Errorf("attribute axis is required")
		}
		n.axis = getInt("axis", 0)
	case graph.OpRange, graph.OpWhere:
		needIn(3, 3)
	case graph.OpSlice:
		n.ints, n.hasInts = getInts("starts")
		if n.hasInts {
			needIn(1, 1)
			n.ends, _ = getInts("ends")
			n.axes, _ = getInts("axes")
		} else {
			needIn(3, 5)
		}
	case graph.OpLSTM, graph.OpGRU:
		if n.op == graph.OpLSTM {
			needIn(3, 8)
			needOut(0, 3)
		} else {
			needIn(3, 6)
			needOut(0, 2)
		}
		n.rnn = ops.ONNXRNNAttrs{
			HiddenSize:        int(getInt("hidden_size", 0)),
			Direction:         getString("direction", ops.DirForward),
			Layout:            int(getInt("layout", 0)),
			LinearBeforeReset: getInt("linear_before_reset", 0) != 0,
		}
		if err == nil && n.rnn.HiddenSize < 0 {
			err = fmt.Errorf("attribute hidden_size: expected a positive integer, found %d", n.rnn.HiddenSize)
		}
		for _, name := range []string{"clip", "input_forget", "activations"} {
			if _, ok := gn.Attrs[name]; ok && err == nil && (name != "input_forget" || gn.Attrs[name].Int != 0) {
				if name == "activations" && interpDefaultActivations(n.op, gn.Attrs[name].Strings) {
					continue
				}
				err = fmt.Errorf("attribute %s is not supported", name)
			}
		}
		return err
	default:
		return fmt.Errorf("op %v is not supported by the interpreter", n.op)
	}
	needOut(1, 1)
	return err
}

// interpDefaultActivations reports whether list is the default activations
// of an LSTM (Sigmoid, Tanh, Tanh per direction) or GRU (Sigmoid, Tanh).
func interpDefaultActivations(op graph.Op, list []string) bool {
	per := 3
	if op == graph.OpGRU {
		per = 2
	}
	if len(list) != per && len(list) != 2*per {
		return false
	}
	for i, f := range list {
		want := "tanh"
		if i%per == 0 {
			want = "sigmoid"
		}
		if !strings.EqualFold(f, want) {
			return false
		}
	}
	return true
}

// Run executes the graph on inputs (one tensor per declared graph input,
// by name) and returns every graph output by name. The inputs are checked
// against the declared types and shapes (symbolic dimensions must agree
// across inputs) and are never modified; the outputs are new tensors owned
// by the caller.
func (ip *Interpreter) Run(inputs map[string]*graph.Tensor) (map[string]*graph.Tensor, error) {
	if err := ip.checkInputs(inputs); err != nil {
		return nil, err
	}
	st := ip.states.Get().(*interpState)
	defer ip.states.Put(st)
	vals := st.vals
	copy(vals, ip.consts)
	for _, in := range ip.inputs {
		vals[in.slot] = inputs[in.Name]
	}
	var runErr error
	for _, n := range ip.nodes {
		if err := n.exec(vals, st.alloc, st); err != nil {
			runErr = fmt.Errorf("%s: %v", n.where(), err)
			break
		}
		for _, s := range n.release {
			if vals[s] != nil {
				st.put(vals[s])
				vals[s] = nil
			}
		}
	}
	var res map[string]*graph.Tensor
	if runErr == nil {
		res = make(map[string]*graph.Tensor, len(ip.outputs))
		for _, o := range ip.outputs {
			t := vals[o.slot]
			if ip.consts[o.slot] != nil || ip.isInput[o.slot] {
				t = ops.Clone(t, nil) // never hand out a parameter or an input
			}
			res[o.name] = t
			vals[o.slot] = nil // handed over: not recycled
		}
	}
	// Recycle what is left of this call's buffers.
	for s, t := range vals {
		if t != nil && ip.consts[s] == nil && !ip.isInput[s] {
			st.put(t)
		}
		vals[s] = nil
	}
	return res, runErr
}

// checkInputs validates the caller's inputs against the declared ones.
func (ip *Interpreter) checkInputs(inputs map[string]*graph.Tensor) error {
	unknown := ""
	for name := range inputs {
		if !slices.ContainsFunc(ip.inputs, func(in interpInput) bool { return in.Name == name }) && (unknown == "" || name < unknown) {
			unknown = name
		}
	}
	if unknown != "" {
		names := make([]string, len(ip.inputs))
		for i, in := range ip.inputs {
			names[i] = fmt.Sprintf("%q", in.Name)
		}
		return fmt.Errorf("unknown input %q (the model's inputs are %s)", unknown, strings.Join(names, ", "))
	}
	for i, in := range ip.inputs {
		t, ok := inputs[in.Name]
		if !ok || t == nil {
			return fmt.Errorf("missing input %q (%s)", in.Name, in.Value.TypeString())
		}
		if err := ops.CheckTensor(t); err != nil {
			return fmt.Errorf("input %q: %v", in.Name, err)
		}
		match := t.DType == in.DType && (in.Shape == nil || len(in.Shape) == len(t.Shape))
		if match && in.Shape != nil {
			for d, dim := range in.Shape {
				if dim.Sym == "" && dim.Size != t.Shape[d] {
					match = false
				}
			}
		}
		if !match {
			return fmt.Errorf("input %q: expected %s, got %v %s", in.Name, in.Value.TypeString(), t.DType, ops.FormatShape(t.Shape))
		}
		// A symbolic dimension must have the size it has wherever it first
		// appeared among the inputs.
		for d, dim := range in.Shape {
			if dim.Sym == "" || dim.Sym == "?" {
				continue
			}
		first:
			for _, prev := range ip.inputs[:i+1] {
				for pd, pdim := range prev.Shape {
					if prev.Name == in.Name && pd >= d {
						break first
					}
					if pdim.Sym != dim.Sym {
						continue
					}
					if size := inputs[prev.Name].Shape[pd]; size != t.Shape[d] {
						return fmt.Errorf("input %q: dimension %d (%s) is %d, but %s is %d in input %q", in.Name, d, dim.Sym, t.Shape[d], dim.Sym, size, prev.Name)
					}
					break first
				}
			}
		}
	}
	return nil
}

// exec runs the node on vals (by slot) and stores its outputs in vals. st
// is nil when folding constants.
func (n *interpNode) exec(vals []*graph.Tensor, alloc ops.Alloc, st *interpState) error {
	in := func(k int) *graph.Tensor {
		if k < len(n.in) && n.in[k] >= 0 {
			return vals[n.in[k]]
		}
		return nil
	}
	one := func(t *graph.Tensor, err error) error {
		if err == nil {
			vals[n.out[0]] = t
		}
		return err
	}
	switch n.op {
	case graph.OpAdd, graph.OpSub, graph.OpMul, graph.OpDiv, graph.OpLess, graph.OpGreater, graph.OpEqual, graph.OpAnd:
		return one(ops.ONNXBinary(n.op, in(0), in(1), alloc))
	case graph.OpSigmoid, graph.OpTanh, graph.OpRelu, graph.OpNot, graph.OpIdentity:
		return one(ops.ONNXUnary(n.op, in(0), alloc))
	case graph.OpWhere:
		return one(ops.ONNXWhere(in(0), in(1), in(2), alloc))
	case graph.OpMatMul:
		return one(ops.ONNXMatMul(in(0), in(1), alloc))
	case graph.OpGemm:
		return one(ops.ONNXGemm(in(0), in(1), in(2), n.transA, n.transB, n.alpha, n.beta, alloc))
	case graph.OpTranspose:
		return one(ops.ONNXTranspose(in(0), n.ints, alloc))
	case graph.OpSqueeze, graph.OpUnsqueeze:
		axes := n.ints
		if !n.hasInts && in(1) != nil {
			var err error
			if axes, err = interpInts(in(1), "axes"); err != nil {
				return err
			}
		}
		if n.op == graph.OpSqueeze {
			return one(ops.ONNXSqueeze(in(0), axes, alloc))
		}
		return one(ops.ONNXUnsqueeze(in(0), axes, alloc))
	case graph.OpReshape:
		shape, err := interpInts(in(1), "shape")
		if err != nil {
			return err
		}
		return one(ops.ONNXReshape(in(0), shape, n.flag, alloc))
	case graph.OpExpand:
		shape, err := interpInts(in(1), "shape")
		if err != nil {
			return err
		}
		return one(ops.ONNXExpand(in(0), shape, alloc))
	case graph.OpGather:
		return one(ops.ONNXGather(in(0), in(1), n.axis, alloc))
	case graph.OpCast:
		return one(ops.ONNXCast(in(0), n.to, alloc))
	case graph.OpConstant:
		a := n.constAttr
		return one(ops.ONNXConstant(n.constKind, a.Tensor, a.Float, a.Floats, a.Int, a.Ints, alloc), nil)
	case graph.OpShape:
		return one(ops.ONNXShape(in(0), n.axis, n.end, n.hasEnd, alloc), nil)
	case graph.OpConcat:
		xs := make([]*graph.Tensor, len(n.in))
		for k := range n.in {
			if xs[k] = in(k); xs[k] == nil {
				return fmt.Errorf("input %d is missing", k)
			}
		}
		return one(ops.ONNXConcat(xs, n.axis, alloc))
	case graph.OpRange:
		return one(ops.ONNXRange(in(0), in(1), in(2), alloc))
	case graph.OpSlice:
		if n.hasInts {
			return one(ops.ONNXSlice(in(0), n.ints, n.ends, n.axes, nil, alloc))
		}
		var lists [4][]int64
		for k, what := range []string{"starts", "ends", "axes", "steps"} {
			if t := in(k + 1); t != nil {
				v, err := interpInts(t, what)
				if err != nil {
					return err
				}
				lists[k] = v
			}
		}
		return one(ops.ONNXSlice(in(0), lists[0], lists[1], lists[2], lists[3], alloc))
	case graph.OpLSTM, graph.OpGRU:
		rin := ops.ONNXRNNInputs{X: in(0), W: in(1), R: in(2), B: in(3), SeqLens: in(4), H0: in(5)}
		var work *ops.ONNXRNNWork
		if st != nil {
			work = &st.rnn[n.rnnWork]
		}
		out := ops.ONNXRNNOutputs{WantY: n.wantY, WantYh: n.wantH, WantYc: n.wantC}
		var err error
		if n.op == graph.OpLSTM {
			rin.C0, rin.P = in(6), in(7)
			err = ops.ONNXLSTM(rin, n.rnn, &out, work, alloc)
		} else {
			err = ops.ONNXGRU(rin, n.rnn, &out, work, alloc)
		}
		if err != nil {
			return err
		}
		for k, t := range [3]*graph.Tensor{out.Y, out.Yh, out.Yc} {
			if k < len(n.out) && n.out[k] >= 0 {
				vals[n.out[k]] = t
			}
		}
		return nil
	}
	panic("runtime: interpreter: unplanned op " + n.op.String())
}

// interpInts reads a 1-D (or scalar) int64 or int32 tensor of indices.
func interpInts(t *graph.Tensor, what string) ([]int64, error) {
	if len(t.Shape) > 1 {
		return nil, fmt.Errorf("%s must be a 1-D tensor, found shape %s", what, ops.FormatShape(t.Shape))
	}
	switch t.DType {
	case graph.Int64:
		return t.I64, nil
	case graph.Int32:
		v := make([]int64, len(t.I32))
		for i, x := range t.I32 {
			v[i] = int64(x)
		}
		return v, nil
	}
	return nil, fmt.Errorf("%s must be int64, found %v", what, t.DType)
}
