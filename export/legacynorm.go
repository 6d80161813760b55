package export

import (
	"fmt"

	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/graph"
)

// Softmax, LogSoftmax and Hardmax before opset 13 normalise their input
// flattened to two dimensions at axis (default 1), [d0·…·d(axis−1),
// d(axis)·…·d(r−1)], each row on its own; from opset 13 they normalise
// along the one axis, which is what trnn's kernels do. The two agree when
// axis is the last dimension, as in most classifier heads, and differ
// otherwise. The reader writes an older node as the opset-13 nodes that
// compute it, so an old model runs with its own meaning:
//
//	s = Shape(x);  f = Flatten(x, axis);  m = Op(f, axis = 1);  y = Reshape(m, s)

func isNormalize(op graph.Op) bool {
	return op == graph.OpSoftmax || op == graph.OpLogSoftmax || op == graph.OpHardmax
}

// legacyNormalize returns the nodes that compute n, a Softmax, LogSoftmax
// or Hardmax of an opset before 13, with the opset-13 op. The values
// between them get names no other value of the model has; every node is
// named in messages as the file's node (where), as its errors are that
// node's (an axis out of range is the Flatten's).
func (r *onnxReader) legacyNormalize(n *graph.Node, where string) []*graph.Node {
	axis := int64(1)
	if a, ok := n.Attrs["axis"]; ok {
		axis = a.Int
	}
	x, y := n.Inputs[0], n.Outputs[0]
	shape, flat, rows := r.freshName(y+"/shape"), r.freshName(y+"/flat"), r.freshName(y+"/rows")
	attrInt := func(v int64) graph.Attr { return graph.Attr{Kind: graph.AttrInt, Int: v} }
	nodes := []*graph.Node{
		{Name: n.Name + "/shape", Op: graph.OpShape, Inputs: []string{x}, Outputs: []string{shape}, Attrs: map[string]graph.Attr{}},
		{Name: n.Name + "/flatten", Op: graph.OpFlatten, Inputs: []string{x}, Outputs: []string{flat},
			Attrs: map[string]graph.Attr{"axis": attrInt(axis)}},
		{Name: n.Name, Op: n.Op, Inputs: []string{flat}, Outputs: []string{rows}, Attrs: map[string]graph.Attr{"axis": attrInt(1)}},
		{Name: n.Name + "/reshape", Op: graph.OpReshape, Inputs: []string{rows, shape}, Outputs: []string{y}, Attrs: map[string]graph.Attr{}},
	}
	for _, m := range nodes {
		m.Where = where
	}
	return nodes
}

// freshName returns base, or base with a number appended, that no value of
// the model is called, and reserves it.
func (r *onnxReader) freshName(base string) string {
	m := r
	for m.parent != nil {
		m = m.parent
	}
	if m.taken == nil {
		m.taken = map[string]bool{}
		takeNames(m.root, m.taken)
	}
	name := base
	for i := 2; m.taken[name]; i++ {
		name = fmt.Sprintf("%s_%d", base, i)
	}
	m.taken[name] = true
	return name
}

// takeNames adds every value name of gp and its subgraphs to taken.
func takeNames(gp *onnxpb.GraphProto, taken map[string]bool) {
	for _, t := range gp.GetInitializer() {
		taken[t.GetName()] = true
	}
	for _, vs := range [][]*onnxpb.ValueInfoProto{gp.GetInput(), gp.GetOutput(), gp.GetValueInfo()} {
		for _, v := range vs {
			taken[v.GetName()] = true
		}
	}
	for _, np := range gp.GetNode() {
		for _, v := range append(np.GetInput(), np.GetOutput()...) {
			taken[v] = true
		}
		for _, a := range np.GetAttribute() {
			if a.GetG() != nil {
				takeNames(a.GetG(), taken)
			}
			for _, g := range a.GetGraphs() {
				takeNames(g, taken)
			}
		}
	}
}
