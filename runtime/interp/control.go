package interp

// The control-flow operators Loop, Scan and If. Their bodies are subgraphs
// run by nested interpreters, planned like the model's graph (constant
// folding included) when the enclosing plan reaches the node, so that the
// values they capture from enclosing graphs are constants there when they
// are constants here: a recurrent cell's weights sliced inside a loop body
// are sliced once, at load.
//
// A body's nested interpreter takes, after the body's own inputs, the
// captured values that are not constant. Each run of a control-flow node
// borrows one state of each body it runs (enter, leave); the body's
// buffers come from and return to the enclosing call's free list.

import (
	"fmt"
	"slices"

	"github.com/trnn/trnn/graph"
)

// loopLimit bounds the iterations of one Loop node's run. A loop stops
// after its trip count M or when its condition turns false; a model whose
// loop does neither within this bound (far more steps than any sequence
// has) fails instead of running on. A variable only so that tests can
// lower it.
var loopLimit int64 = 1 << 20

// body is one subgraph of a control-flow node.
type body struct {
	attr string       // the attribute holding it, for messages
	g    *graph.Graph // as read
	free []string     // the enclosing graphs' values it reads
	at   int          // the node's operand position of the first captured value
	ip   *Interpreter // planned by planBodies
	pass []int        // operand positions of the captured values that are not constant
}

// scoped is a kernel with bodies: the planner appends the values they
// capture to the kernel's inputs, so that they stay alive until it runs,
// and plans the bodies once the constants before the node are known.
type scoped interface {
	kernel
	bodies() []*body
}

var (
	_ scoped = (*loopKernel)(nil)
	_ scoped = (*scanKernel)(nil)
	_ scoped = (*ifKernel)(nil)
)

func newBody(n *graph.Node, attr string) *body {
	return &body{attr: attr, g: n.Attrs[attr].Graph}
}

// capture resolves the values b reads from enclosing graphs to slots of
// the enclosing plan and appends them to the node's inputs o.
func (p *planner) capture(b *body, o *operands) error {
	if b.g == nil {
		return fmt.Errorf("attribute %s: no graph", b.attr)
	}
	b.free = freeNames(b.g)
	b.at = len(o.in)
	for _, name := range b.free {
		s, ok := p.slot[name]
		if !ok {
			return fmt.Errorf("attribute %s: the graph reads %q, which is not defined before the node", b.attr, name)
		}
		o.in = append(o.in, s)
	}
	return nil
}

// planBodies plans the bodies of k, whose captured values that consts
// holds are constants.
func planBodies(k scoped, consts []*graph.Tensor) error {
	o := k.slots()
	for _, b := range k.bodies() {
		caps := make([]capture, len(b.free))
		b.pass = b.pass[:0]
		for i, name := range b.free {
			pos := b.at + i
			caps[i] = capture{name: name, value: consts[o.in[pos]]}
			if caps[i].value == nil {
				b.pass = append(b.pass, pos)
			}
		}
		ip, err := plan(b.g, caps)
		if err != nil {
			return fmt.Errorf("attribute %s: %v", b.attr, err)
		}
		b.ip = ip
	}
	return nil
}

// freeNames lists, in order of first use, the names g reads (in its nodes,
// its nested subgraphs and its outputs) that it does not define.
func freeNames(g *graph.Graph) []string {
	defined := map[string]bool{}
	for _, p := range g.Params {
		defined[p.Name] = true
	}
	for _, v := range g.Inputs {
		defined[v.Name] = true
	}
	var free []string
	use := func(name string) {
		if name != "" && !defined[name] {
			defined[name] = true // listed once
			free = append(free, name)
		}
	}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			use(in)
		}
		for _, a := range sortedAttrs(n) {
			if a.Kind == graph.AttrGraph && a.Graph != nil {
				for _, name := range freeNames(a.Graph) {
					use(name)
				}
			}
		}
		for _, out := range n.Outputs {
			defined[out] = true
		}
	}
	for _, v := range g.Outputs {
		use(v.Name)
	}
	return free
}

// sortedAttrs returns n's attributes in name order, so that plans do not
// depend on map order.
func sortedAttrs(n *graph.Node) []graph.Attr {
	names := make([]string, 0, len(n.Attrs))
	for name := range n.Attrs {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]graph.Attr, len(names))
	for i, name := range names {
		out[i] = n.Attrs[name]
	}
	return out
}

// args returns the inputs of b's interpreter: room for the body's own
// inputs, then the captured values that are not constant, read from st.
func (b *body) args(st *state, o *operands) []*graph.Tensor {
	own := len(b.g.Inputs)
	in := make([]*graph.Tensor, own+len(b.pass))
	for i, pos := range b.pass {
		in[own+i] = st.vals[o.in[pos]]
	}
	return in
}

// boolScalar reads a condition: a bool tensor of one element.
func boolScalar(t *graph.Tensor, what string) (bool, error) {
	if t == nil {
		return false, fmt.Errorf("%s is missing", what)
	}
	if t.DType != graph.Bool || t.Len() != 1 {
		return false, fmt.Errorf("%s must be a bool tensor of one element, found %v %s", what, t.DType, graph.FormatShape(t.Shape))
	}
	return t.B[0], nil
}

// store puts a node's result t in output slot s, or recycles it when
// nobody reads that output (s < 0).
func store(st *state, s int, t *graph.Tensor) {
	if s < 0 {
		st.recycle(t)
		return
	}
	st.vals[s] = t
}

// ---- If

type ifKernel struct {
	operands
	then, els *body
}

func decodeIf(n *graph.Node, o operands) *ifKernel {
	return &ifKernel{operands: o, then: newBody(n, "then_branch"), els: newBody(n, "else_branch")}
}

func (k *ifKernel) bodies() []*body { return []*body{k.then, k.els} }

func (k *ifKernel) run(st *state) error {
	c, err := boolScalar(k.arg(st, 0), "cond")
	if err != nil {
		return err
	}
	b := k.els
	if c {
		b = k.then
	}
	sub := b.ip.enter(st)
	defer b.ip.leave(sub)
	outs := make([]*graph.Tensor, len(k.out))
	if err := b.ip.call(sub, b.args(st, &k.operands), outs); err != nil {
		return fmt.Errorf("%s: %v", b.attr, err)
	}
	for i, t := range outs {
		store(st, k.out[i], t)
	}
	return nil
}

// ---- Loop

// loopKernel is Loop. Its operands start with M and cond (−1 when
// omitted), then the carried values; the captured values follow.
type loopKernel struct {
	operands
	body    *body
	carried int // N
}

func decodeLoop(n *graph.Node, o operands) *loopKernel {
	for len(o.in) < 2 {
		o.in = append(o.in, -1) // M and cond keep their positions
	}
	return &loopKernel{operands: o, body: newBody(n, "body"), carried: max(len(n.Inputs)-2, 0)}
}

func (k *loopKernel) bodies() []*body { return []*body{k.body} }

// loopState is one run of a Loop or Scan: the carried values and the scan
// outputs gathered so far.
type loopState struct {
	v     []*graph.Tensor   // [N] current carried values
	owned bool              // v came from the body (else they are the node's inputs)
	scans [][]*graph.Tensor // [K][iteration]
	sizes []int             // [K] elements gathered so far
}

// keep takes one iteration's results: the carried values (recycling the
// previous ones when they were the body's) and the scan outputs, which
// may not grow past the largest tensor a kernel makes.
func (ls *loopState) keep(st *state, carried, scans []*graph.Tensor) error {
	if ls.owned {
		for _, t := range ls.v {
			st.recycle(t)
		}
	}
	copy(ls.v, carried)
	ls.owned = true
	if ls.sizes == nil {
		ls.sizes = make([]int, len(ls.scans))
	}
	for j, t := range scans {
		ls.scans[j] = append(ls.scans[j], t)
		if ls.sizes[j] += t.Len(); ls.sizes[j] > graph.MaxElements {
			return fmt.Errorf("scan output %d passes %d elements", j, graph.MaxElements)
		}
	}
	return nil
}

func (k *loopKernel) run(st *state) error {
	trips, cond, err := k.bounds(st)
	if err != nil {
		return err
	}
	N, K := k.carried, len(k.out)-k.carried
	ls := &loopState{v: make([]*graph.Tensor, N), scans: make([][]*graph.Tensor, K)}
	for i := range N {
		ls.v[i] = k.arg(st, 2+i)
	}
	ip := k.body.ip
	sub := ip.enter(st)
	defer ip.leave(sub)
	in := k.body.args(st, &k.operands)
	outs := make([]*graph.Tensor, 1+N+K)
	for i := int64(0); i < trips && cond; i++ {
		if i == loopLimit {
			return fmt.Errorf("the loop ran %d iterations without reaching its trip count or a false condition", i)
		}
		if cond, err = k.iterate(st, sub, ls, i, in, outs); err != nil {
			return fmt.Errorf("iteration %d: %v", i, err)
		}
	}
	return k.finish(st, ls)
}

// bounds reads the trip count (no bound when M is omitted; none below 0)
// and the initial condition (true when cond is omitted).
func (k *loopKernel) bounds(st *state) (trips int64, cond bool, err error) {
	trips, cond = int64(1)<<62, true
	if m := k.arg(st, 0); m != nil {
		if m.Len() != 1 || (m.DType != graph.Int64 && m.DType != graph.Int32) {
			return 0, false, fmt.Errorf("M must be an integer tensor of one element, found %v %s", m.DType, graph.FormatShape(m.Shape))
		}
		v, _ := indexValues(m)
		trips = max(v[0], 0)
	}
	if c := k.arg(st, 1); c != nil {
		if cond, err = boolScalar(c, "cond"); err != nil {
			return 0, false, err
		}
	}
	return trips, cond, nil
}

// iterate runs the body once and keeps its results; it returns the
// condition the body gives.
func (k *loopKernel) iterate(st, sub *state, ls *loopState, i int64, in, outs []*graph.Tensor) (bool, error) {
	N := len(ls.v)
	iter := st.alloc.get(graph.Int64, []int{})
	iter.I64[0] = i
	c := st.alloc.get(graph.Bool, []int{})
	c.B[0] = true
	in[0], in[1] = iter, c
	copy(in[2:2+N], ls.v)
	err := k.body.ip.call(sub, in, outs)
	st.recycle(iter)
	st.recycle(c)
	if err != nil {
		return false, err
	}
	if err := ls.keep(st, outs[1:1+N], outs[1+N:]); err != nil {
		return false, err
	}
	cond, err := boolScalar(outs[0], "the body's condition output")
	st.recycle(outs[0])
	return cond, err
}

// finish stores the final carried values and stacks each scan output's
// iterations along a new first axis.
func (k *loopKernel) finish(st *state, ls *loopState) error {
	N := len(ls.v)
	for i, t := range ls.v {
		if !ls.owned {
			t = clone(t, st.alloc)
		}
		store(st, k.out[i], t)
	}
	for j, parts := range ls.scans {
		t, err := stack(parts, 0, false, k.body.ip, 1+N+j, st)
		if err != nil {
			return fmt.Errorf("scan output %d: %v", j, err)
		}
		store(st, k.out[N+j], t)
	}
	return nil
}

// ---- Scan

// scanKernel is Scan: N state inputs, then M sequences scanned along their
// axes; the outputs are the N final states, then K sequences.
type scanKernel struct {
	operands
	body                             *body
	nIn, nScan                       int
	inDirs, outDirs, inAxes, outAxes []int64 // nil: all forward, axis 0
}

func decodeScan(n *graph.Node, o operands) *scanKernel {
	return &scanKernel{operands: o, body: newBody(n, "body"), nIn: len(n.Inputs), nScan: int(n.Attrs["num_scan_inputs"].Int),
		inDirs: n.Attrs["scan_input_directions"].Ints, outDirs: n.Attrs["scan_output_directions"].Ints,
		inAxes: n.Attrs["scan_input_axes"].Ints, outAxes: n.Attrs["scan_output_axes"].Ints}
}

func (k *scanKernel) bodies() []*body { return []*body{k.body} }

func (k *scanKernel) run(st *state) error {
	N := k.nIn - k.nScan
	axes, L, err := k.scanAxes(st, N)
	if err != nil {
		return err
	}
	ls := &loopState{v: make([]*graph.Tensor, N), scans: make([][]*graph.Tensor, len(k.out)-N)}
	for i := range N {
		ls.v[i] = k.arg(st, i)
	}
	ip := k.body.ip
	sub := ip.enter(st)
	defer ip.leave(sub)
	in := k.body.args(st, &k.operands)
	outs := make([]*graph.Tensor, len(k.out))
	for t := range L {
		if err := k.step(st, sub, ls, axes, t, L, in, outs); err != nil {
			return fmt.Errorf("step %d: %v", t, err)
		}
	}
	return k.finish(st, ls, L)
}

// scanAxes resolves each scanned input's axis and checks that they all
// have the same length L.
func (k *scanKernel) scanAxes(st *state, N int) ([]int, int, error) {
	axes := make([]int, k.nScan)
	L := -1
	for j := range k.nScan {
		x := k.arg(st, N+j)
		var a int64
		if k.inAxes != nil {
			a = k.inAxes[j]
		}
		ax, err := normAxis(a, len(x.Shape))
		if err != nil {
			return nil, 0, fmt.Errorf("scan input %d: %v", j, err)
		}
		axes[j] = ax
		if L >= 0 && x.Shape[ax] != L {
			return nil, 0, fmt.Errorf("scan input %d has %d steps along axis %d, but scan input 0 has %d", j, x.Shape[ax], ax, L)
		}
		L = x.Shape[ax]
	}
	return axes, L, nil
}

// step runs the body on step t of every scanned input.
func (k *scanKernel) step(st, sub *state, ls *loopState, axes []int, t, L int, in, outs []*graph.Tensor) error {
	N := len(ls.v)
	copy(in[:N], ls.v)
	for j := range k.nScan {
		at := t
		if k.inDirs != nil && k.inDirs[j] == 1 {
			at = L - 1 - t
		}
		in[N+j] = take(k.arg(st, N+j), axes[j], at, st.alloc)
	}
	err := k.body.ip.call(sub, in, outs)
	for j := range k.nScan {
		st.recycle(in[N+j])
	}
	if err != nil {
		return err
	}
	return ls.keep(st, outs[:N], outs[N:])
}

func (k *scanKernel) finish(st *state, ls *loopState, L int) error {
	N := len(ls.v)
	for i, t := range ls.v {
		if !ls.owned {
			t = clone(t, st.alloc)
		}
		store(st, k.out[i], t)
	}
	for j, parts := range ls.scans {
		rank := 1
		if len(parts) > 0 {
			rank += len(parts[0].Shape)
		}
		var a int64
		if k.outAxes != nil {
			a = k.outAxes[j]
		}
		ax, err := normAxis(a, rank)
		if err != nil {
			return fmt.Errorf("scan output %d: %v", j, err)
		}
		t, err := stack(parts, ax, k.outDirs != nil && k.outDirs[j] == 1, k.body.ip, N+j, st)
		if err != nil {
			return fmt.Errorf("scan output %d: %v", j, err)
		}
		store(st, k.out[N+j], t)
	}
	return nil
}

// take returns x's slice at index at along axis, without that axis.
func take(x *graph.Tensor, axis, at int, alloc allocator) *graph.Tensor {
	shape := append(append([]int(nil), x.Shape[:axis]...), x.Shape[axis+1:]...)
	out := alloc.get(x.DType, shape)
	L := x.Shape[axis]
	outer, inner := graph.Size(x.Shape[:axis]), graph.Size(x.Shape[axis+1:])
	for o := range outer {
		out.CopyElems(o*inner, x, (o*L+at)*inner, inner)
	}
	return out
}

// stack joins the per-step tensors parts, which must agree in type and
// shape, along a new axis, in reverse order when asked; it recycles the
// parts. With no step, the result has the type the body declares for its
// output (float32 when it declares none) and shape [0].
func stack(parts []*graph.Tensor, axis int, reverse bool, ip *Interpreter, output int, st *state) (*graph.Tensor, error) {
	if len(parts) == 0 {
		dt := ip.outputType(output)
		return st.alloc.get(dt, []int{0}), nil
	}
	first := parts[0]
	for i, p := range parts {
		if p.DType != first.DType || !slices.Equal(p.Shape, first.Shape) {
			return nil, fmt.Errorf("step %d gives %v %s, step 0 gave %v %s", i, p.DType, graph.FormatShape(p.Shape), first.DType, graph.FormatShape(first.Shape))
		}
	}
	L := len(parts)
	shape := append(append(append([]int(nil), first.Shape[:axis]...), L), first.Shape[axis:]...)
	if _, err := graph.CheckedSize(shape); err != nil {
		return nil, err
	}
	out := st.alloc.get(first.DType, shape)
	outer, inner := graph.Size(first.Shape[:axis]), graph.Size(first.Shape[axis:])
	for t, p := range parts {
		at := t
		if reverse {
			at = L - 1 - t
		}
		for o := range outer {
			out.CopyElems((o*L+at)*inner, p, o*inner, inner)
		}
		st.recycle(p)
	}
	return out, nil
}
