package interp

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/trnn/trnn/graph"
)

// Interpreter runs one tensor-form graph. It is safe for concurrent use:
// after New it is never modified, and each Run works on its own state.
type Interpreter struct {
	inputs  []input
	outputs []output
	consts  []*graph.Tensor // [slot] value of a constant slot (parameter or folded), else nil
	isInput []bool          // [slot] slot holds a caller's input
	steps   []step          // kernels left to run, in order
	nslots  int
	nrnn    int // recurrent kernels, each with a workspace in the state
	states  sync.Pool
}

type input struct {
	graph.Value
	slot int
}

type output struct {
	name  string
	slot  int
	dtype graph.DType // as declared; 0 when a subgraph leaves it out
}

// step is a kernel of the plan.
type step struct {
	kernel
	where   string // the node, for messages
	release []int  // slots dead after this step: its inputs' last reads, its unread outputs
}

// nodeWhere names node i in messages.
func nodeWhere(i int, n *graph.Node) string {
	if n.Where != "" {
		return n.Where
	}
	if n.Name == "" {
		return fmt.Sprintf("node %d (%s)", i, n.Op)
	}
	return fmt.Sprintf("node %q (%s)", n.Name, n.Op)
}

// New plans g, a tensor-form graph as export.ReadONNX returns it, to run.
// It trusts the reader's checks (see the package documentation). Errors
// name the node or value at fault; a node evaluated here because its
// inputs are constant reports its kernel's errors here.
func New(g *graph.Graph) (*Interpreter, error) {
	if g == nil {
		return nil, fmt.Errorf("interpreter: nil graph")
	}
	if g.Form != graph.FormTensor {
		return nil, fmt.Errorf("interpreter: graph %q is in %v form; the interpreter runs tensor-form graphs", g.Name, g.Form)
	}
	return plan(g, nil)
}

// capture is a value of an enclosing graph that a subgraph reads, with its
// value when it is a constant there.
type capture struct {
	name  string
	value *graph.Tensor
}

// plan plans g: the model's graph, or a subgraph reading the captured
// values of its enclosing graphs. Constant captures are constants of the
// plan; the others are inputs after g's own.
func plan(g *graph.Graph, captured []capture) (*Interpreter, error) {
	p := &planner{ip: &Interpreter{}, slot: map[string]int{}}
	if err := p.defineConstsAndInputs(g); err != nil {
		return nil, err
	}
	for _, c := range captured {
		s := p.define(c.name)
		if c.value != nil {
			p.ip.consts[s] = c.value
			continue
		}
		p.ip.isInput[s] = true
		p.ip.inputs = append(p.ip.inputs, input{Value: graph.Value{Name: c.name}, slot: s})
	}
	steps, err := p.decodeNodes(g)
	if err != nil {
		return nil, err
	}
	isOutput, err := p.resolveOutputs(g)
	if err != nil {
		return nil, err
	}
	live, err := p.fold(steps)
	if err != nil {
		return nil, err
	}
	isOutput = p.unconcatStates(live, isOutput)
	kept, read := dropUnread(live, isOutput)
	ip := p.ip
	kept = ip.fuse(kept, isOutput)
	ip.schedule(kept, read, isOutput)
	ip.states.New = func() any { return newState(ip.nslots, ip.nrnn) }
	return ip, nil
}

// planner resolves value names to slots while New builds the plan.
type planner struct {
	ip   *Interpreter
	slot map[string]int
}

// constSlot gives the constant t a new slot, named by nothing.
func (p *planner) constSlot(t *graph.Tensor) int {
	ip := p.ip
	s := ip.nslots
	ip.nslots++
	ip.consts = append(ip.consts, t)
	ip.isInput = append(ip.isInput, false)
	return s
}

// define gives name a new slot.
func (p *planner) define(name string) int {
	ip := p.ip
	s := ip.nslots
	p.slot[name] = s
	ip.nslots++
	ip.consts = append(ip.consts, nil)
	ip.isInput = append(ip.isInput, false)
	return s
}

// defineConstsAndInputs gives parameters and graph inputs their slots.
// Parameters are checked: their data, unlike their names, is not the
// reader's to vouch for once a caller holds the graph.
func (p *planner) defineConstsAndInputs(g *graph.Graph) error {
	ip := p.ip
	for _, prm := range g.Params {
		if _, dup := p.slot[prm.Name]; dup {
			return fmt.Errorf("parameter %q: name defined twice", prm.Name)
		}
		if err := graph.CheckTensor(prm.Tensor); err != nil {
			return fmt.Errorf("parameter %q: %v", prm.Name, err)
		}
		ip.consts[p.define(prm.Name)] = prm.Tensor
	}
	for _, v := range g.Inputs {
		if _, dup := p.slot[v.Name]; dup {
			return fmt.Errorf("input %q: name defined twice", v.Name)
		}
		s := p.define(v.Name)
		ip.isInput[s] = true
		ip.inputs = append(ip.inputs, input{Value: v, slot: s})
	}
	return nil
}

// decodeNodes resolves every node's operands to slots and decodes it.
// Names must resolve: the plan has no other way to connect the kernels.
func (p *planner) decodeNodes(g *graph.Graph) ([]step, error) {
	steps := make([]step, 0, len(g.Nodes))
	for i, n := range g.Nodes {
		where := nodeWhere(i, n)
		if !n.Op.IsONNX() {
			return nil, fmt.Errorf("%s: not an ONNX operator", where)
		}
		var o operands
		for j, in := range n.Inputs {
			s, ok := p.slot[in]
			switch {
			case in == "":
				s = -1
			case !ok:
				return nil, fmt.Errorf("%s: input %d %q is not defined before the node", where, j, in)
			}
			o.in = append(o.in, s)
		}
		for _, out := range n.Outputs {
			s := -1
			if out != "" {
				if _, dup := p.slot[out]; dup {
					return nil, fmt.Errorf("%s: output %q is already defined", where, out)
				}
				s = p.define(out)
			}
			o.out = append(o.out, s)
		}
		k, err := decode(n, o)
		if err == nil {
			err = p.captureAll(k)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", where, err)
		}
		steps = append(steps, step{kernel: k, where: where})
	}
	return steps, nil
}

// resolveOutputs records the graph outputs' slots and marks them.
func (p *planner) resolveOutputs(g *graph.Graph) ([]bool, error) {
	ip := p.ip
	isOutput := make([]bool, ip.nslots)
	for _, v := range g.Outputs {
		s, ok := p.slot[v.Name]
		if !ok {
			return nil, fmt.Errorf("output %q is not produced by any node, input or parameter", v.Name)
		}
		isOutput[s] = true
		ip.outputs = append(ip.outputs, output{name: v.Name, slot: s, dtype: v.DType})
	}
	return isOutput, nil
}

// fold runs the steps whose inputs are all constant, making their outputs
// constants, and returns the others. Recurrent nodes are never folded: they
// are the model's bulk and run best with a workspace. Folding is bounded
// (foldBudget): a few kilobytes of Concat doublings could otherwise make
// gigabytes of constants while the model loads.
func (p *planner) fold(steps []step) ([]step, error) {
	ip := p.ip
	budget, err := newFoldBudget()
	if err != nil {
		return nil, err
	}
	st := &state{vals: ip.consts, alloc: allocator{fold: budget}}
	var live []step
	for _, s := range steps {
		if sc, ok := s.kernel.(scoped); ok {
			if err := planBodies(sc, ip.consts); err != nil {
				return nil, fmt.Errorf("%s: %v", s.where, err)
			}
		}
		if _, rnn := s.kernel.(*recurrentKernel); rnn || !ip.allConst(s.slots().in) {
			live = append(live, s)
			continue
		}
		if err := budget.run(s, st); err != nil {
			return nil, fmt.Errorf("%s: %v", s.where, err)
		}
	}
	return live, nil
}

func (ip *Interpreter) allConst(in []int) bool {
	for _, s := range in {
		if s >= 0 && ip.consts[s] == nil {
			return false
		}
	}
	return true
}

// dropUnread drops, from the end, the steps none of whose outputs is read
// by a later step or the caller, and returns the rest with the set of slots
// read.
func dropUnread(steps []step, isOutput []bool) ([]step, []bool) {
	read := slices.Clone(isOutput)
	var kept []step
	for i := len(steps) - 1; i >= 0; i-- {
		o := steps[i].slots()
		if !slices.ContainsFunc(o.out, func(s int) bool { return s >= 0 && read[s] }) {
			continue
		}
		for _, s := range o.in {
			if s >= 0 {
				read[s] = true
			}
		}
		kept = append(kept, steps[i])
	}
	slices.Reverse(kept)
	return kept, read
}

// schedule makes steps the plan: each step releases the slots it reads
// last and its outputs nobody reads, so their buffers serve later steps;
// recurrent kernels learn which outputs are read and get a workspace.
func (ip *Interpreter) schedule(steps []step, read, isOutput []bool) {
	last := make([]int, ip.nslots)
	for i := range last {
		last[i] = -1
	}
	for i, s := range steps {
		for _, slot := range s.slots().in {
			if slot >= 0 {
				last[slot] = i
			}
		}
	}
	for i := range steps {
		s := &steps[i]
		o := s.slots()
		for _, slot := range slices.Compact(slices.Sorted(slices.Values(o.in))) {
			if slot >= 0 && last[slot] == i && !isOutput[slot] && !ip.isInput[slot] && ip.consts[slot] == nil {
				s.release = append(s.release, slot)
			}
		}
		if r, ok := s.kernel.(*recurrentKernel); ok {
			for k := range r.want {
				r.want[k] = k < len(o.out) && o.out[k] >= 0 && read[o.out[k]]
			}
			r.work = ip.nrnn
			ip.nrnn++
			r.transposeWeights(ip.consts)
		}
		for _, slot := range o.out {
			if slot >= 0 && !read[slot] {
				s.release = append(s.release, slot)
			}
		}
		if m, ok := s.kernel.(interface{ setMove() }); ok && len(o.in) > 0 && slices.Contains(s.release, o.in[0]) && o.in[0] >= 0 {
			m.setMove()
		}
	}
	ip.steps = steps
}

// Run executes the graph on inputs (one tensor per declared graph input,
// by name) and returns every graph output by name. The inputs are checked
// against the declared types and shapes (symbolic dimensions must agree
// across inputs) and are never modified; the outputs are new tensors owned
// by the caller.
func (ip *Interpreter) Run(inputs map[string]*graph.Tensor) (map[string]*graph.Tensor, error) {
	if err := ip.checkNames(inputs); err != nil {
		return nil, err
	}
	args := make([]*graph.Tensor, len(ip.inputs))
	for i, in := range ip.inputs {
		args[i] = inputs[in.Name]
	}
	outs := make([]*graph.Tensor, len(ip.outputs))
	if err := ip.RunArgs(args, outs); err != nil {
		return nil, err
	}
	res := make(map[string]*graph.Tensor, len(ip.outputs))
	for i, o := range ip.outputs {
		res[o.name] = outs[i]
	}
	return res, nil
}

// InputNames returns the graph inputs' names in the order RunArgs takes
// them.
func (ip *Interpreter) InputNames() []string {
	names := make([]string, len(ip.inputs))
	for i, in := range ip.inputs {
		names[i] = in.Name
	}
	return names
}

// OutputNames returns the graph outputs' names in the order RunArgs
// gives them.
func (ip *Interpreter) OutputNames() []string {
	names := make([]string, len(ip.outputs))
	for i, o := range ip.outputs {
		names[i] = o.name
	}
	return names
}

// InputIndex is the position of input name among InputNames, −1 when the
// graph has no such input; OutputIndex likewise among OutputNames. A
// caller of RunArgs finds its positions with them without the slices the
// names take.
func (ip *Interpreter) InputIndex(name string) int {
	return slices.IndexFunc(ip.inputs, func(in input) bool { return in.Name == name })
}

// OutputIndex: see InputIndex.
func (ip *Interpreter) OutputIndex(name string) int {
	return slices.IndexFunc(ip.outputs, func(o output) bool { return o.name == name })
}

// NumInputs and NumOutputs are len(InputNames()) and len(OutputNames()).
func (ip *Interpreter) NumInputs() int { return len(ip.inputs) }

// NumOutputs: see NumInputs.
func (ip *Interpreter) NumOutputs() int { return len(ip.outputs) }

// RunArgs is Run with the inputs and outputs by position, as InputNames
// and OutputNames order them: a caller that runs the graph many times on
// small inputs saves the lookups by name. args are checked as Run checks
// them; outs, of len(OutputNames()), receives new tensors the caller owns.
// Tensors left in outs on entry are given back: outputs of an earlier call
// the caller no longer reads, whose buffers this call may reuse, so
// neither they nor their data may be used again (nor be among args).
func (ip *Interpreter) RunArgs(args, outs []*graph.Tensor) error {
	if len(args) != len(ip.inputs) || len(outs) != len(ip.outputs) {
		return fmt.Errorf("RunArgs: %d inputs and %d outputs given, the model has %d and %d", len(args), len(outs), len(ip.inputs), len(ip.outputs))
	}
	if err := ip.checkArgs(args); err != nil {
		return err
	}
	st := ip.states.Get().(*state)
	defer ip.states.Put(st)
	for i, t := range outs {
		if t != nil {
			st.put(t)
			outs[i] = nil
		}
	}
	return ip.call(st, args, outs)
}

// call runs the plan on st with args, one per input in ip.inputs' order,
// and stores the outputs, in ip.outputs' order, in outs: new tensors the
// caller owns (a parameter or an input is copied, never handed out).
// Everything else the call made goes back to st's free list.
func (ip *Interpreter) call(st *state, args, outs []*graph.Tensor) error {
	vals := st.vals
	copy(vals, ip.consts)
	for i, in := range ip.inputs {
		vals[in.slot] = args[i]
	}
	err := ip.execute(st)
	if err == nil {
		for i, o := range ip.outputs {
			t := vals[o.slot]
			if ip.consts[o.slot] != nil || ip.isInput[o.slot] {
				t = clone(t, st.alloc)
			}
			outs[i] = t
			vals[o.slot] = nil // handed over: not recycled
		}
	}
	for s, t := range vals {
		if t != nil && ip.consts[s] == nil && !ip.isInput[s] {
			st.put(t)
		}
		vals[s] = nil
	}
	return err
}

// enter borrows a state for running ip as the body of a control-flow node
// of the call that owns outer. It allocates as outer does (within the fold
// budget when folding) and recycles into outer's free list, so buffers
// pass between the body's iterations and the enclosing graph.
func (ip *Interpreter) enter(outer *state) *state {
	st := ip.states.Get().(*state)
	st.free, st.alloc = outer.free, outer.alloc
	if st.free == nil {
		st.free = new(freeLists)
	}
	return st
}

// leave returns a state enter lent, holding nothing of the caller's.
func (ip *Interpreter) leave(st *state) {
	st.free, st.alloc = nil, allocator{}
	ip.states.Put(st)
}

// outputType is the element type output i is declared with, float32 when
// a subgraph leaves it out.
func (ip *Interpreter) outputType(i int) graph.DType {
	if dt := ip.outputs[i].dtype; dt != 0 {
		return dt
	}
	return graph.Float32
}

// captureAll lets a kernel with bodies capture the enclosing values they
// read.
func (p *planner) captureAll(k kernel) error {
	sc, ok := k.(scoped)
	if !ok {
		return nil
	}
	for _, b := range sc.bodies() {
		if err := p.capture(b, sc.slots()); err != nil {
			return err
		}
	}
	return nil
}

// execute runs the plan's steps on st, recycling dead values as it goes.
func (ip *Interpreter) execute(st *state) error {
	for _, s := range ip.steps {
		if err := s.run(st); err != nil {
			if pe, ok := err.(placedError); ok {
				return pe.error
			}
			return fmt.Errorf("%s: %v", s.where, err)
		}
		for _, slot := range s.release {
			if t := st.vals[slot]; t != nil {
				st.put(t)
				st.vals[slot] = nil
			}
		}
	}
	return nil
}

// checkNames checks that inputs names no value the graph does not take.
func (ip *Interpreter) checkNames(inputs map[string]*graph.Tensor) error {
	unknown := ""
	for name := range inputs {
		if !slices.ContainsFunc(ip.inputs, func(in input) bool { return in.Name == name }) && (unknown == "" || name < unknown) {
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
	return nil
}

// checkArgs validates the caller's inputs, in ip.inputs' order, against
// the declared ones.
func (ip *Interpreter) checkArgs(args []*graph.Tensor) error {
	for i, in := range ip.inputs {
		t := args[i]
		if t == nil {
			return fmt.Errorf("missing input %q (%s)", in.Name, in.Value.TypeString())
		}
		if err := graph.CheckTensor(t); err != nil {
			return fmt.Errorf("input %q: %v", in.Name, err)
		}
		if !matchesDecl(t, in.Value) {
			return fmt.Errorf("input %q: expected %s, got %v %s", in.Name, in.Value.TypeString(), t.DType, graph.FormatShape(t.Shape))
		}
		if err := ip.checkSymbols(args, i); err != nil {
			return err
		}
	}
	return nil
}

// matchesDecl reports whether t has v's element type and, when v's shape
// is known, its rank and fixed dimensions.
func matchesDecl(t *graph.Tensor, v graph.Value) bool {
	if t.DType != v.DType || (v.Shape != nil && len(v.Shape) != len(t.Shape)) {
		return false
	}
	for d, dim := range v.Shape {
		if dim.Sym == "" && dim.Size != t.Shape[d] {
			return false
		}
	}
	return true
}

// checkSymbols checks that each symbolic dimension of input i has the size
// it has wherever it first appeared among the inputs (those before i, or
// earlier in i itself). "?" is an unnamed dimension and binds nothing.
func (ip *Interpreter) checkSymbols(args []*graph.Tensor, i int) error {
	in := ip.inputs[i]
	t := args[i]
	for d, dim := range in.Shape {
		if dim.Sym == "" || dim.Sym == "?" {
			continue
		}
	first:
		for j, prev := range ip.inputs[:i+1] {
			for pd, pdim := range prev.Shape {
				if j == i && pd >= d {
					break first
				}
				if pdim.Sym != dim.Sym {
					continue
				}
				if size := args[j].Shape[pd]; size != t.Shape[d] {
					return fmt.Errorf("input %q: dimension %d (%s) is %d, but %s is %d in input %q", in.Name, d, dim.Sym, t.Shape[d], dim.Sym, size, prev.Name)
				}
				break first
			}
		}
	}
	return nil
}
