package export

// The stateful (streaming) model: the model of write.go with each recurrent
// layer's state as an input and an output, so that a sequence can be fed in
// chunks and scored at every chunk end without running its prefix again.
//
// Shape legend: B batch (symbolic "batch"), T steps of the chunk, H hidden
// units of a layer.
//
// Each recurrent layer i reads h_in_i [B, H] (and c_in_i for an LSTM) as
// its initial_h [1, B, H] (initial_c) and runs the chunk's valid steps; its
// Y_h (Y_c) is the state after each row's last valid step. A row whose
// chunk has no valid step (lengths[b] = 0) must keep its state, but ONNX
// Runtime gives such a row Y_h = Y_c = 0 whatever initial_h holds (so does
// trnn's interpreter, which follows it): h_out_i is therefore
// Where(lengths > 0, Y_h, h_in_i), and likewise c_out_i. probs is computed
// from the top layer's h_out, so a row with an empty chunk gets the
// probabilities of the state it carries.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/graph"
)

// The kinds of state a stateful model carries, as they start its value
// names: a recurrent layer's hidden state and an LSTM's cell state.
const (
	StateHidden = "h"
	StateCell   = "c"
)

// StateInput and StateOutput name the state of recurrent layer i (counted
// from 0 in graph order) of the given kind: h_in_0, c_out_1.
func StateInput(kind string, i int) string  { return kind + "_in_" + strconv.Itoa(i) }
func StateOutput(kind string, i int) string { return kind + "_out_" + strconv.Itoa(i) }

// StatePair returns the output that gives back the state a stateful model
// reads from input name (h_out_i for h_in_i, c_out_i for c_in_i, and
// fill_out for fill_in, the forward-fill state), and whether name is a
// state input at all.
func StatePair(name string) (string, bool) {
	if name == FillInput {
		return FillOutput, true
	}
	kind, i, ok := strings.Cut(name, "_in_")
	if !ok || kind != StateHidden && kind != StateCell {
		return "", false
	}
	if n, err := strconv.Atoi(i); err != nil || n < 0 || strconv.Itoa(n) != i {
		return "", false
	}
	return kind + "_out_" + i, true
}

// statefulDoc ends the stateful model's doc string.
const statefulDoc = "; stateful: each recurrent layer i reads its state h_in_i [batch, H] (c_in_i for an LSTM; zeros start a sequence) " +
	"and gives the state after each row's last valid step of the chunk as h_out_i (c_out_i), the input state when lengths is 0"

// layerState is the state of one recurrent layer of the stateful model.
type layerState struct {
	layer int // counted from 0 in graph order
	lstm  bool
	H     int
}

// kinds lists the state kinds the layer carries.
func (st *layerState) kinds() []string {
	if st.lstm {
		return []string{StateHidden, StateCell}
	}
	return []string{StateHidden}
}

func (st *layerState) inputs() []string {
	var out []string
	for _, k := range st.kinds() {
		out = append(out, StateInput(k, st.layer))
	}
	return out
}

// newState records the state of the next recurrent layer.
func (e *exporter) newState(op graph.Op, H int) *layerState {
	st := &layerState{layer: len(e.states), lstm: op == graph.OpLSTM, H: H}
	e.states = append(e.states, st)
	return st
}

// wireState adds the layer's state inputs to the recurrent node n (its
// initial_h and, for an LSTM, initial_c: [B, H] unsqueezed to [1, B, H])
// and, for an LSTM, its Y_c output.
func (e *exporter) wireState(n *graph.Node, st *layerState, inputs, outputs []string) ([]string, []string) {
	for _, k := range st.kinds() {
		init := n.Name + ".initial_" + k
		e.node(init+".unsqueeze", "Unsqueeze", []string{StateInput(k, st.layer), e.axes(0)}, []string{init})
		inputs = append(inputs, init)
	}
	if st.lstm {
		outputs = append(outputs, n.Name+".Y_c")
	}
	return inputs, outputs
}

// carryState emits the layer's state outputs from its last-step hidden
// state hLast [B, H] (and its Y_c), keeping the input state of rows whose
// chunk is empty, and returns the name of h_out, which the layers and head
// above read as the layer's last-step value.
func (e *exporter) carryState(n *graph.Node, st *layerState, hLast string) string {
	has := e.hasSteps()
	hOut := StateOutput(StateHidden, st.layer)
	e.node(n.Name+".h_out", "Where", []string{has, hLast, StateInput(StateHidden, st.layer)}, []string{hOut})
	if st.lstm {
		cLast := n.Name + ".c.last"
		e.node(n.Name+".squeeze_c", "Squeeze", []string{n.Name + ".Y_c", e.axes(0)}, []string{cLast})
		e.node(n.Name+".c_out", "Where", []string{has, cLast, StateInput(StateCell, st.layer)}, []string{StateOutput(StateCell, st.layer)})
	}
	return hOut
}

// hasSteps returns the name of a bool [B, 1] tensor that is true for the
// rows whose chunk has at least one valid step.
func (e *exporter) hasSteps() string {
	const name = "state.has_steps"
	if e.emitted["node:"+name] {
		return name
	}
	e.emitted["node:"+name] = true
	zero := e.addInit("const.zero_int32", &graph.Tensor{DType: graph.Int32, Shape: []int{}, I32: []int32{0}})
	e.node("state.greater", "Greater", []string{graph.ValueLengths, zero}, []string{"state.has_steps_flat"})
	e.node("state.unsqueeze", "Unsqueeze", []string{"state.has_steps_flat", e.axes(1)}, []string{name})
	return name
}

// stateOutputs lists the state outputs in the order the model declares them.
func (e *exporter) stateOutputs() []string {
	var out []string
	for _, st := range e.states {
		for _, k := range st.kinds() {
			out = append(out, StateOutput(k, st.layer))
		}
	}
	if e.m.Stateful && e.fillsForward() {
		out = append(out, FillOutput)
	}
	return out
}

// stateValueInfos appends the state inputs and outputs, [batch, H] float32
// each, layer by layer, to the model's declared inputs and outputs.
func (e *exporter) stateValueInfos(inputs, outputs []*onnxpb.ValueInfoProto) ([]*onnxpb.ValueInfoProto, []*onnxpb.ValueInfoProto) {
	for _, st := range e.states {
		for _, k := range st.kinds() {
			inputs = append(inputs, writeValueInfo(StateInput(k, st.layer), graph.Float32, graph.DimBatch, int64(st.H)))
			outputs = append(outputs, writeValueInfo(StateOutput(k, st.layer), graph.Float32, graph.DimBatch, int64(st.H)))
		}
	}
	if e.m.Stateful && e.fillsForward() {
		F := int64(len(e.prep.Categories))
		inputs = append(inputs, writeValueInfo(FillInput, graph.Float32, graph.DimBatch, F))
		outputs = append(outputs, writeValueInfo(FillOutput, graph.Float32, graph.DimBatch, F))
	}
	return inputs, outputs
}

// WithState returns the stateful model of a model trnn wrote (g as
// ReadONNX returns it, with or without step_probs): the same computation
// with each recurrent layer's state as inputs h_in_i, c_in_i and outputs
// h_out_i, c_out_i, as Options.Stateful writes it. It is rebuilt as
// WithStepProbs rebuilds, and trusted on the same condition: written again
// without state, the rebuild gives back g itself. A g that already has
// state inputs (StatePair) is returned as it is, with ok true; ok is false,
// with no error, for any other model that is not trnn's.
func WithState(g *graph.Graph) (*graph.Graph, bool, error) {
	if g == nil || g.Form != graph.FormTensor {
		return nil, false, nil
	}
	if slices.ContainsFunc(g.Inputs, func(v graph.Value) bool { _, ok := StatePair(v.Name); return ok }) {
		return g, true, nil
	}
	stepProbs := hasStepOutput(g)
	seq := stepSkeleton(g)
	if seq == nil {
		return nil, false, nil
	}
	if err := initParams(g, seq); err != nil {
		return nil, false, nil
	}
	if again, err := rewrite(g, seq, Options{StepProbs: stepProbs}); err != nil || !sameComputation(g, again) {
		return nil, false, nil
	}
	out, err := rewrite(g, seq, Options{StepProbs: stepProbs, Stateful: true})
	if err != nil {
		return nil, false, fmt.Errorf("export: rebuilding %q with state: %v", g.Name, err)
	}
	return out, true, nil
}

// StreamGraph returns the stateful graph g (as ReadONNX or WithState
// return it) trimmed for a stream, which gives its one row at least one
// step per call and reads only probs and the state:
//   - the state outputs are then the layers' new state itself, so each
//     Where(lengths > 0, new, h_in_i) that keeps an empty row's state is
//     dropped, and the new state is written under the state output's name;
//   - state values are taken in the recurrent nodes' own form, initial_h
//     and Y_h [1, batch, W]: the Unsqueeze and Squeeze on axis 0 between
//     them and [batch, W] are dropped, and those inputs and outputs are
//     declared [1, batch, W];
//   - the outputs are probs and the state outputs, and the nodes computing
//     anything else (step_probs, lengths > 0) are dropped.
//
// Each change applies where g has the writer's pattern for it, so a
// stateful model from elsewhere runs as it is. g itself is never changed.
// ok is false when g has no output probs (values, for a regression model)
// or no state inputs with their outputs.
func StreamGraph(g *graph.Graph) (out *graph.Graph, ok bool) {
	keep := []string{graph.ValueProbs}
	if slices.ContainsFunc(g.Outputs, func(v graph.Value) bool { return v.Name == graph.ValueValues }) {
		keep[0] = graph.ValueValues // a regression model
	}
	for _, v := range g.Inputs {
		if o, isState := StatePair(v.Name); isState {
			keep = append(keep, o)
		}
	}
	if len(keep) == 1 {
		return nil, false
	}
	byName := map[string]graph.Value{}
	for _, v := range g.Outputs {
		byName[v.Name] = v
	}
	c := *g
	c.Outputs = nil
	for _, name := range keep {
		v, found := byName[name]
		if !found {
			return nil, false
		}
		c.Outputs = append(c.Outputs, v)
	}
	nodes, direct := directState(g, withoutCarry(g))
	c.Nodes = live(nodes, keep)
	c.Inputs, c.Outputs = directShapes(g.Inputs, direct), directShapes(c.Outputs, direct)
	return &c, true
}

// producers maps each value to the node that computes it.
func producers(nodes []*graph.Node) map[string]*graph.Node {
	m := map[string]*graph.Node{}
	for _, n := range nodes {
		for _, o := range n.Outputs {
			m[o] = n
		}
	}
	return m
}

// rewire returns nodes without those in drop, each name in renames
// replaced (once: renames do not chain); the nodes that change are copies.
func rewire(nodes []*graph.Node, drop map[*graph.Node]bool, renames map[string]string) []*graph.Node {
	var out []*graph.Node
	for _, n := range nodes {
		switch {
		case drop[n]:
		case len(renames) == 0:
			out = append(out, n)
		default:
			m := *n
			m.Inputs, m.Outputs = renamed(n.Inputs, renames), renamed(n.Outputs, renames)
			out = append(out, &m)
		}
	}
	return out
}

// withoutCarry returns g's nodes with each Where(lengths > 0, new, h_in_i)
// → h_out_i dropped and new renamed h_out_i.
func withoutCarry(g *graph.Graph) []*graph.Node {
	producer := producers(g.Nodes)
	renames := map[string]string{} // new state → the state output
	drop := map[*graph.Node]bool{}
	for _, n := range g.Nodes {
		if n.Op != graph.OpWhere || len(n.Outputs) != 1 {
			continue
		}
		out, isState := StatePair(n.Inputs[2])
		if isState && out == n.Outputs[0] && lengthsPositive(g, producer, n.Inputs[0]) && producer[n.Inputs[1]] != nil {
			renames[n.Inputs[1]], drop[n] = out, true
		}
	}
	return rewire(g.Nodes, drop, renames)
}

// directState rewires nodes so that the state values are the recurrent
// nodes' own [1, batch, W]: a state input read only by an Unsqueeze on
// axis 0 is read directly in its place, and a state output made by a
// Squeeze on axis 0 becomes the squeezed value itself (the Squeeze stays,
// under another name, for the nodes that read the state output). It
// returns the nodes and the state values rewired.
func directState(g *graph.Graph, nodes []*graph.Node) ([]*graph.Node, map[string]bool) {
	producer := producers(nodes)
	readers := map[string][]*graph.Node{}
	for _, n := range nodes {
		for _, in := range n.Inputs {
			readers[in] = append(readers[in], n)
		}
	}
	axis0 := func(n *graph.Node, op graph.Op) bool {
		if n == nil || n.Op != op || len(n.Inputs) != 2 {
			return false
		}
		axes := g.Param(n.Inputs[1])
		return axes != nil && slices.Equal(axes.Tensor.I64, []int64{0})
	}
	renames, drop, direct := map[string]string{}, map[*graph.Node]bool{}, map[string]bool{}
	for _, v := range g.Inputs {
		out, isState := StatePair(v.Name)
		if !isState {
			continue
		}
		if r := readers[v.Name]; len(r) == 1 && axis0(r[0], graph.OpUnsqueeze) {
			renames[r[0].Outputs[0]], drop[r[0]], direct[v.Name] = v.Name, true, true
		}
		if sq := producer[out]; axis0(sq, graph.OpSqueeze) && producer[sq.Inputs[0]] != nil {
			renames[sq.Inputs[0]], direct[out] = out, true
			if len(readers[out]) == 0 {
				drop[sq] = true
			} else {
				renames[out] = out + ".squeezed"
			}
		}
	}
	return rewire(nodes, drop, renames), direct
}

// directShapes declares the values in direct [1, batch, W] instead of
// [batch, W].
func directShapes(vals []graph.Value, direct map[string]bool) []graph.Value {
	out := slices.Clone(vals)
	for i, v := range out {
		if direct[v.Name] && len(v.Shape) == 2 {
			out[i].Shape = graph.Shape{graph.Fixed(1), v.Shape[0], v.Shape[1]}
		}
	}
	return out
}

// live returns the nodes that the values want depend on, in order. A
// subgraph (If, Loop, Scan) may read any earlier value without naming it
// as an input, so a graph with one keeps every node.
func live(nodes []*graph.Node, want []string) []*graph.Node {
	for _, n := range nodes {
		for _, a := range n.Attrs {
			if a.Kind == graph.AttrGraph {
				return nodes
			}
		}
	}
	needed := map[string]bool{}
	for _, w := range want {
		needed[w] = true
	}
	keep := make([]bool, len(nodes))
	for i := len(nodes) - 1; i >= 0; i-- {
		if slices.ContainsFunc(nodes[i].Outputs, func(o string) bool { return needed[o] }) {
			keep[i] = true
			for _, in := range nodes[i].Inputs {
				needed[in] = true
			}
		}
	}
	var out []*graph.Node
	for i, n := range nodes {
		if keep[i] {
			out = append(out, n)
		}
	}
	return out
}

func renamed(names []string, renames map[string]string) []string {
	out := slices.Clone(names)
	for i, s := range out {
		if r, ok := renames[s]; ok {
			out[i] = r
		}
	}
	return out
}

// lengthsPositive reports whether the value cond is lengths > 0 as the
// writer computes it: Greater(lengths, 0), perhaps unsqueezed.
func lengthsPositive(g *graph.Graph, producer map[string]*graph.Node, cond string) bool {
	n := producer[cond]
	if n != nil && n.Op == graph.OpUnsqueeze {
		n = producer[n.Inputs[0]]
	}
	if n == nil || n.Op != graph.OpGreater || n.Inputs[0] != graph.ValueLengths {
		return false
	}
	zero := g.Param(n.Inputs[1])
	return zero != nil && (slices.Equal(zero.Tensor.I32, []int32{0}) || slices.Equal(zero.Tensor.I64, []int64{0}))
}
