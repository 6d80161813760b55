package graph

import (
	"fmt"
	"slices"
)

// Verify checks a graph's invariants and returns every violation found (an
// ErrorList without positions), or nil.
//
// For both forms: the form is known; input, parameter and node output names
// are unique and never reused (one producer per value); every node's op
// belongs to the form (Op.IsSequence, Op.IsONNX); every input a
// node names is a graph input, a parameter or the output of an earlier
// node; every graph output is defined; parameters hold tensors whose data
// matches their shape; Values, when present, is keyed by value name.
//
// For sequence form (compiled) graphs, also: the inputs are exactly x
// float32 [batch, time, F] and lengths int32 [batch]; each op has its arity,
// attributes and parameters of the right shapes for its input (shape
// inference over every edge); the graph outputs logits, step_probs and
// probs; no node output and no parameter is left unused; and Values holds
// exactly the inferred type and shape of every value.
//
// Tensor form (imported) graphs may leave shapes unknown and are checked
// only for what does not depend on them.
func Verify(g *Graph) error {
	if g == nil {
		return Errors{"graph: nil"}
	}
	c := newChecker(g)
	c.run()
	if g.Form == FormSequence && len(c.errs) == 0 {
		c.compareValues()
	}
	return c.errs.err()
}

// InferShapes returns the type and shape of every value of a sequence-form
// graph, checking every edge on the way.
func InferShapes(g *Graph) (map[string]*Value, error) {
	c := newChecker(g)
	c.run()
	return c.vals, c.errs.err()
}

// checker walks a graph once, checking definitions and, in sequence form,
// inferring shapes.
type checker struct {
	g        *Graph
	errs     Errors
	params   map[string]*Param
	defined  map[string]string // value or param name → what defines it
	producer map[string]int    // node output → index of the first node producing it
	vals     map[string]*Value // inferred values (sequence form)
	used     map[string]bool
}

func newChecker(g *Graph) *checker {
	return &checker{
		g:        g,
		params:   map[string]*Param{},
		defined:  map[string]string{},
		producer: map[string]int{},
		vals:     map[string]*Value{},
		used:     map[string]bool{},
	}
}

func (c *checker) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf("graph %q: ", c.g.Name)+fmt.Sprintf(format, args...))
}

func (c *checker) run() {
	g := c.g
	if g.Form != FormSequence && g.Form != FormTensor {
		c.errorf("unknown form %v", g.Form)
		return
	}
	seq := g.Form == FormSequence
	c.checkParams(seq)
	c.checkInputs()
	if seq {
		c.checkSeqInputs()
	}
	c.checkNodes(seq)
	outs := c.checkOutputs()
	for name, v := range g.Values {
		if v == nil || v.Name != name {
			c.errorf("Values[%q] does not describe the value %q", name, name)
		}
	}
	if seq {
		c.checkSeqOutputs(outs)
		c.checkUnused()
	}
}

// checkParams defines every parameter and checks its tensor.
func (c *checker) checkParams(seq bool) {
	for i, p := range c.g.Params {
		switch {
		case p == nil:
			c.errorf("parameter %d is nil", i)
			continue
		case p.Name == "":
			c.errorf("parameter %d has no name", i)
			continue
		case c.params[p.Name] != nil:
			c.errorf("parameter %q is defined twice", p.Name)
			continue
		}
		c.params[p.Name] = p
		c.defined[p.Name] = "a parameter"
		t := p.Tensor
		switch {
		case t == nil:
			c.errorf("parameter %q has no tensor", p.Name)
		case slices.ContainsFunc(t.Shape, func(d int) bool { return d < 0 }):
			c.errorf("parameter %q has a negative dimension in shape %s", p.Name, intsText(t.Shape))
		case t.Len() != Size(t.Shape):
			c.errorf("parameter %q has %d values for shape %s", p.Name, t.Len(), intsText(t.Shape))
		case seq && t.DType != Float32:
			c.errorf("parameter %q is %v, want float32", p.Name, t.DType)
		}
	}
}

// checkInputs defines every graph input.
func (c *checker) checkInputs() {
	for i, in := range c.g.Inputs {
		switch {
		case in.Name == "":
			c.errorf("input %d has no name", i)
			continue
		case c.defined[in.Name] != "":
			c.errorf("input %q is already defined as %s", in.Name, c.defined[in.Name])
			continue
		}
		c.defined[in.Name] = "a graph input"
		v := in
		c.vals[in.Name] = &v
	}
}

// checkNodes checks every node in order. Producers are recorded first so
// that a node reading a later node's output is told apart from one reading
// an undefined value.
func (c *checker) checkNodes(seq bool) {
	for i, n := range c.g.Nodes {
		if n == nil {
			continue
		}
		for _, out := range n.Outputs {
			if _, ok := c.producer[out]; !ok && out != "" {
				c.producer[out] = i
			}
		}
	}
	names := map[string]bool{}
	for i, n := range c.g.Nodes {
		if n == nil {
			c.errorf("node %d is nil", i)
			continue
		}
		if seq || n.Name != "" {
			switch {
			case n.Name == "":
				c.errorf("node %d has no name", i)
			case names[n.Name] && seq:
				c.errorf("node name %q is used twice", n.Name)
			}
			names[n.Name] = true
		}
		c.node(i, n)
	}
}

// checkOutputs checks the graph outputs are named, distinct and defined,
// and returns their names.
func (c *checker) checkOutputs() map[string]bool {
	outs := map[string]bool{}
	for _, out := range c.g.Outputs {
		switch {
		case out.Name == "":
			c.errorf("a graph output has no name")
		case outs[out.Name]:
			c.errorf("graph output %q is listed twice", out.Name)
		case c.defined[out.Name] == "":
			c.errorf("graph output %q is not defined by any node, input or parameter", out.Name)
		}
		outs[out.Name] = true
		c.used[out.Name] = true
	}
	return outs
}

// checkSeqOutputs checks a compiled graph has the outputs the runtime and
// the exporter rely on, declared as inferred.
func (c *checker) checkSeqOutputs(outs map[string]bool) {
	if !outs[ValueLogits] {
		c.errorf("graph output %q is missing", ValueLogits)
	}
	// A head gives probabilities or values, per step and at the last step.
	step, last := ValueStepProbs, ValueProbs
	if outs[ValueValues] || outs[ValueStepValues] {
		step, last = ValueStepValues, ValueValues
	}
	for _, want := range []string{step, last} {
		if !outs[want] {
			c.errorf("graph output %q is missing", want)
		}
	}
	for _, out := range c.g.Outputs {
		if v := c.vals[out.Name]; v != nil && (out.DType != v.DType || !shapeEqual(out.Shape, v.Shape)) {
			c.errorf("graph output %q is declared %v %v, but its producer gives %v %v", out.Name, out.DType, out.Shape, v.DType, v.Shape)
		}
	}
}

// checkUnused reports node outputs and parameters nothing reads: in a
// compiled graph they mean the lowering lost an edge.
func (c *checker) checkUnused() {
	for i, n := range c.g.Nodes {
		if n == nil {
			continue
		}
		for _, out := range n.Outputs {
			if out != "" && !c.used[out] && c.producer[out] == i {
				c.errorf("node %q: output %q is dangling: no node reads it and it is not a graph output", n.Name, out)
			}
		}
	}
	for _, p := range c.g.Params {
		if p != nil && p.Name != "" && !c.used[p.Name] {
			c.errorf("parameter %q is not used by any node", p.Name)
		}
	}
}

// checkSeqInputs checks the two inputs every sequence-form graph has.
func (c *checker) checkSeqInputs() {
	in := c.g.Inputs
	if len(in) != 2 || in[0].Name != ValueX || in[1].Name != ValueLengths {
		names := make([]string, len(in))
		for i, v := range in {
			names[i] = v.Name
		}
		c.errorf("inputs are %q, want [x lengths]", names)
		return
	}
	x, l := in[0], in[1]
	if x.DType != Float32 || len(x.Shape) != 3 || x.Shape[0] != Sym(DimBatch) || x.Shape[1] != Sym(DimTime) ||
		x.Shape[2].Sym != "" || x.Shape[2].Size < 1 {
		c.errorf("input x is %v %v, want float32 [batch,time,F] with F ≥ 1", x.DType, x.Shape)
	}
	if l.DType != Int32 || !shapeEqual(l.Shape, Shape{Sym(DimBatch)}) {
		c.errorf("input lengths is %v %v, want int32 [batch]", l.DType, l.Shape)
	}
}

// node checks one node: its op, its inputs' definitions and, in sequence
// form, its arity, attributes and shapes, recording its output's value.
func (c *checker) node(i int, n *Node) {
	g := c.g
	seq := g.Form == FormSequence
	where := fmt.Sprintf("node %q (%v)", n.Name, n.Op)
	switch {
	case seq && !n.Op.IsSequence():
		c.errorf("%s: op %v is not a sequence op", where, n.Op)
		return
	case !seq && !n.Op.IsONNX():
		c.errorf("%s: op %v is not an ONNX operator", where, n.Op)
		return
	}
	ok := true
	for k, in := range n.Inputs {
		if in == "" {
			if seq {
				c.errorf("%s: input %d is empty", where, k)
				ok = false
			}
			continue
		}
		c.used[in] = true
		if c.defined[in] != "" {
			continue
		}
		ok = false
		if p, later := c.producer[in]; later && p >= i {
			c.errorf("%s: input %q is used before node %q defines it", where, in, g.Nodes[p].Name)
		} else {
			c.errorf("%s: input %q is not defined", where, in)
		}
	}
	for _, out := range n.Outputs {
		if out == "" {
			if seq {
				c.errorf("%s: an output has no name", where)
			}
			continue
		}
		if what := c.defined[out]; what != "" {
			c.errorf("%s: output %q is already defined as %s", where, out, what)
			ok = false
			continue
		}
		c.defined[out] = fmt.Sprintf("the output of node %q", n.Name)
	}
	if seq && ok {
		c.inferSeq(where, n)
	}
}

// inferSeq checks a sequence-form node whose inputs are all defined against
// its op's SeqRule and records the type and shape of its output.
func (c *checker) inferSeq(where string, n *Node) {
	rule := Info(n.Op).Seq
	if len(n.Inputs) != 1+len(rule.Params) || len(n.Outputs) != 1 {
		c.errorf("%s: has %d inputs and %d outputs, want %d and 1", where, len(n.Inputs), len(n.Outputs), 1+len(rule.Params))
		return
	}
	for name := range n.Attrs {
		if !slices.Contains(rule.Attrs, name) {
			c.errorf("%s: unexpected attribute %q", where, name)
		}
	}
	x := c.vals[n.Inputs[0]]
	if x == nil {
		if c.params[n.Inputs[0]] != nil {
			c.errorf("%s: input x %q is a parameter, want a value", where, n.Inputs[0])
		}
		return
	}
	ps, ok := c.seqParams(where, n, rule)
	if !ok {
		return
	}
	if x.DType != Float32 {
		c.errorf("%s: input %q is %v, want float32", where, x.Name, x.DType)
		return
	}
	rank3 := len(x.Shape) == 3 && x.Shape[2].Sym == "" && x.Shape[2].Size >= 1
	if !rank3 && rule.Width != nil {
		c.errorf("%s: input %q has shape %v, want [batch,time,width]", where, x.Name, x.Shape)
		return
	}
	out := &Value{Name: n.Outputs[0], DType: Float32, Shape: slices.Clone(x.Shape)}
	switch {
	case rule.Last:
		if !rank3 {
			c.errorf("%s: input %q has shape %v, want [batch,time,width]", where, x.Name, x.Shape)
			return
		}
		out.Shape = Shape{x.Shape[0], x.Shape[2]}
	case rule.Width != nil:
		W, want, err := rule.Width(n, x.Shape[2].Size, ps)
		if err != nil {
			c.errorf("%s: %v", where, err)
			return
		}
		for k, dims := range want {
			if !slices.Equal(ps[k], dims) {
				c.errorf("%s: %s %q has shape %s, want %s", where, rule.Params[k], n.Inputs[1+k], intsText(ps[k]), intsText(dims))
				return
			}
		}
		out.Shape[2] = Fixed(W)
	}
	c.vals[out.Name] = out
}

// seqParams returns the shapes of a sequence-form node's parameter inputs.
func (c *checker) seqParams(where string, n *Node, rule *SeqRule) ([][]int, bool) {
	ps := make([][]int, len(rule.Params))
	for k, role := range rule.Params {
		name := n.Inputs[1+k]
		p := c.params[name]
		if p == nil {
			c.errorf("%s: input %s %q is not a parameter", where, role, name)
			return nil, false
		}
		if p.Tensor == nil {
			return nil, false
		}
		ps[k] = p.Tensor.Shape
	}
	return ps, true
}

// compareValues checks that g.Values holds exactly the inferred values.
func (c *checker) compareValues() {
	g := c.g
	if g.Values == nil {
		c.errorf("Values is not filled in")
		return
	}
	for name, want := range c.vals {
		got := g.Values[name]
		switch {
		case got == nil:
			c.errorf("Values has no entry for %q", name)
		case got.DType != want.DType || !shapeEqual(got.Shape, want.Shape):
			c.errorf("Values[%q] is %v %v, but inference gives %v %v", name, got.DType, got.Shape, want.DType, want.Shape)
		}
	}
	for name := range g.Values {
		if c.vals[name] == nil {
			c.errorf("Values has %q, which is not a value of the graph", name)
		}
	}
}

func shapeEqual(a, b Shape) bool { return slices.Equal(a, b) }

// ParamCount returns the number of parameter values in the graph, and how
// many of them are trainable.
func (g *Graph) ParamCount() (total, trainable int) {
	for _, p := range g.Params {
		if p == nil || p.Tensor == nil {
			continue
		}
		n := Size(p.Tensor.Shape)
		total += n
		if p.Trainable {
			trainable += n
		}
	}
	return total, trainable
}
