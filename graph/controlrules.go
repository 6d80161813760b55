package graph

// The ONNX contracts of the control-flow operators, whose bodies are
// subgraphs (AttrGraph). The reader checks each body as it checks the
// model's graph; these rules check how a body's inputs and outputs line up
// with the node's.

// loopRule is Loop (opset 11 on): inputs M (trip count) and cond, both
// optional, then the N loop-carried values; outputs the N final values then
// K scan outputs. The body takes (iteration, cond, v1..vN) and returns
// (cond, v1..vN, s1..sK).
func loopRule() *ONNXRule {
	return &ONNXRule{Since: 11, MinIn: 0, MaxIn: -1, MinOut: 1, MaxOut: MaxElements, Optional: []int{0, 1},
		Attrs: map[string]AttrRule{"body": {Kind: AttrGraph}}, Required: []string{"body"}, Check: checkLoop}
}

// scanRule is Scan (opset 9 on; opset 8's batched form differs): N state
// inputs then num_scan_inputs sequences; outputs the N final states then K
// sequences. The body takes (s1..sN, x1..xM) and returns (s1..sN, y1..yK).
func scanRule() *ONNXRule {
	return &ONNXRule{Since: 9, MinIn: 1, MaxIn: -1, MinOut: 1, MaxOut: MaxElements,
		Attrs: map[string]AttrRule{
			"body":                   {Kind: AttrGraph},
			"num_scan_inputs":        {Kind: AttrInt, Check: positive},
			"scan_input_directions":  {Kind: AttrInts, Check: zerosOrOnes},
			"scan_output_directions": {Kind: AttrInts, Check: zerosOrOnes},
			"scan_input_axes":        {Kind: AttrInts, Since: 11},
			"scan_output_axes":       {Kind: AttrInts, Since: 11},
		},
		Required: []string{"body", "num_scan_inputs"}, Check: checkScan}
}

// ifRule is If: a single-element bool condition; the branch taken gives
// the outputs. Branches take no inputs.
func ifRule() *ONNXRule {
	return &ONNXRule{Since: 1, MinIn: 1, MaxIn: 1, MinOut: 1, MaxOut: MaxElements,
		Attrs:    map[string]AttrRule{"then_branch": {Kind: AttrGraph}, "else_branch": {Kind: AttrGraph}},
		Required: []string{"then_branch", "else_branch"}, Check: checkIf}
}

func zerosOrOnes(name string, a Attr) error {
	for _, v := range a.Ints {
		if v != 0 && v != 1 {
			return malformed("attribute %s: expected 0 (forward) or 1 (reverse) per sequence, found %v", name, a.Ints)
		}
	}
	return nil
}

// bodyArity checks that the subgraph of attribute name has the given
// numbers of inputs and outputs.
func bodyArity(n *Node, name string, ins, outs int) error {
	g := n.Attrs[name].Graph
	if g == nil {
		return malformed("attribute %s: no graph", name)
	}
	if len(g.Inputs) != ins || len(g.Outputs) != outs {
		return malformed("attribute %s: the graph takes %d inputs and gives %d outputs; this %s node needs %d and %d",
			name, len(g.Inputs), len(g.Outputs), n.Op, ins, outs)
	}
	return nil
}

func checkLoop(n *Node, _ int) error {
	carried := max(len(n.Inputs)-2, 0)
	if len(n.Outputs) < carried {
		return malformed("%d loop-carried values need as many outputs, found %d", carried, len(n.Outputs))
	}
	return bodyArity(n, "body", 2+carried, 1+len(n.Outputs))
}

func checkScan(n *Node, _ int) error {
	m := int(n.Attrs["num_scan_inputs"].Int)
	if m > len(n.Inputs) {
		return malformed("attribute num_scan_inputs: %d scan inputs, but the node has %d inputs", m, len(n.Inputs))
	}
	states := len(n.Inputs) - m
	if len(n.Outputs) < states {
		return malformed("%d state values need as many outputs, found %d", states, len(n.Outputs))
	}
	for _, c := range []struct {
		attr string
		want int
	}{{"scan_input_directions", m}, {"scan_input_axes", m}, {"scan_output_directions", len(n.Outputs) - states}, {"scan_output_axes", len(n.Outputs) - states}} {
		if a, ok := n.Attrs[c.attr]; ok && len(a.Ints) != c.want {
			return malformed("attribute %s: expected %d values, one per sequence, found %d", c.attr, c.want, len(a.Ints))
		}
	}
	return bodyArity(n, "body", len(n.Inputs), len(n.Outputs))
}

func checkIf(n *Node, _ int) error {
	for _, b := range []string{"then_branch", "else_branch"} {
		if err := bodyArity(n, b, 0, len(n.Outputs)); err != nil {
			return err
		}
	}
	return nil
}
