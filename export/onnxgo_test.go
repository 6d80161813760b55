package export_test

// A second reader: github.com/owulveryck/onnx-go, an ONNX decoder trnn did
// not write, decodes every exported model into a gonum graph, and the node
// list it sees must be the one the writer wrote.
//
// onnx-go's simple backend records the graph (a weighted edge from each
// operation's output to each of its inputs, weighted by input position) but
// drops the operations and any tensor data, so the test backend below wraps
// it: it records each operation onnx-go applies, with its output nodes, and
// gives nodes a place to keep the tensors onnx-go decodes from initializers.

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"testing"

	onnx "github.com/owulveryck/onnx-go"
	"github.com/owulveryck/onnx-go/backend/simple"
	"gonum.org/v1/gonum/graph"
	"gorgonia.org/tensor"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/runtime"
)

// goNode is a graph node that keeps its name and the tensor onnx-go decodes
// for it (an initializer, or an empty tensor for a graph input).
type goNode struct {
	id   int64
	name string
	t    tensor.Tensor
}

func (n *goNode) ID() int64                       { return n.id }
func (n *goNode) SetName(s string)                { n.name = s }
func (n *goNode) GetName() string                 { return n.name }
func (n *goNode) SetTensor(t tensor.Tensor) error { n.t = t; return nil }
func (n *goNode) GetTensor() tensor.Tensor        { return n.t }

var (
	_ onnx.Namer       = (*goNode)(nil)
	_ onnx.DataCarrier = (*goNode)(nil)
	_ onnx.Backend     = (*goBackend)(nil)
)

// goOp is one operation as onnx-go hands it to the backend.
type goOp struct {
	opType  string
	attrs   map[string]interface{}
	outputs []string
}

// goBackend is onnx-go's simple graph with the operations recorded.
type goBackend struct {
	*simple.Graph
	ops []goOp
}

func (b *goBackend) NewNode() graph.Node { return &goNode{id: b.Graph.NewNode().ID()} }

func (b *goBackend) ApplyOperation(op onnx.Operation, outputs ...graph.Node) error {
	var names []string
	for _, n := range outputs {
		names = append(names, n.(*goNode).name)
	}
	b.ops = append(b.ops, goOp{opType: op.Name, attrs: op.Attributes, outputs: names})
	return b.Graph.ApplyOperation(op, outputs...)
}

// inputsOf returns the names of the values node id reads, in input order
// (the edge weights onnx-go sets).
func (b *goBackend) inputsOf(id int64) []string {
	type in struct {
		pos  float64
		name string
	}
	var ins []in
	to := b.From(id)
	for to.Next() {
		n := to.Node()
		e := b.Edge(id, n.ID()).(graph.WeightedEdge)
		ins = append(ins, in{e.Weight(), n.(*goNode).name})
	}
	sort.Slice(ins, func(i, j int) bool { return ins[i].pos < ins[j].pos })
	var out []string
	for _, i := range ins {
		out = append(out, i.name)
	}
	return out
}

// decodeWithOnnxGo decodes an exported model with onnx-go, failing the test
// if it cannot.
func decodeWithOnnxGo(t *testing.T, b []byte) (*onnx.Model, *goBackend) {
	t.Helper()
	be := &goBackend{Graph: simple.NewSimpleGraph()}
	m := onnx.NewModel(be)
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("onnx-go panicked: %v", r)
			}
		}()
		err = m.UnmarshalBinary(b)
	}()
	if err != nil {
		t.Fatalf("onnx-go cannot decode the model: %v", err)
	}
	return m, be
}

// TestOnnxGoDecodes decodes every model of the parity matrix with onnx-go
// and checks the operations, their outputs and inputs, the graph inputs and
// outputs, and the initializer data against what the writer built.
func TestOnnxGoDecodes(t *testing.T) {
	for i, c := range ortMatrix() {
		t.Run(c.String(), func(t *testing.T) {
			prog := testProgram(t, c.config(uint64(100+i)))
			opts := export.Options{Opset: c.opset, StepProbs: c.stepProbs, Version: testVersion}
			want := mustBuild(t, prog, opts)
			var buf bytes.Buffer
			if err := runtime.WriteModel(&buf, prog, opts); err != nil {
				t.Fatal(err)
			}
			m, be := decodeWithOnnxGo(t, buf.Bytes())
			nodes := want.GetGraph().GetNode()
			if len(be.ops) != len(nodes) {
				t.Fatalf("onnx-go applied %d operations, the writer wrote %d nodes", len(be.ops), len(nodes))
			}
			for j, n := range nodes {
				got := be.ops[j]
				if got.opType != n.GetOpType() || strings.Join(got.outputs, ",") != strings.Join(n.GetOutput(), ",") {
					t.Fatalf("operation %d: onnx-go sees %s -> %v, the writer wrote %s -> %v", j, got.opType, got.outputs, n.GetOpType(), n.GetOutput())
				}
				for _, a := range n.GetAttribute() {
					if _, ok := got.attrs[a.GetName()]; !ok {
						t.Errorf("node %s: onnx-go lost attribute %s", n.GetName(), a.GetName())
					}
				}
				// The first output's node reads the node's inputs in order.
				// (onnx-go attaches the inputs to every output node; an
				// omitted output, "", is shared, so check a named one.)
				for _, o := range n.GetOutput() {
					if o == "" {
						continue
					}
					gn, ok := m.GetNodeByName(o)
					if !ok {
						t.Fatalf("node %s: onnx-go has no value %q", n.GetName(), o)
					}
					if in := be.inputsOf(gn.ID()); strings.Join(in, ",") != strings.Join(n.GetInput(), ",") {
						t.Errorf("node %s: onnx-go sees inputs %v, the writer wrote %v", n.GetName(), in, n.GetInput())
					}
					break
				}
			}
			// Graph inputs (initializers are not inputs) and outputs.
			var ins, outs []string
			for _, id := range m.Input {
				ins = append(ins, be.Node(id).(*goNode).name)
			}
			for _, id := range m.Output {
				outs = append(outs, be.Node(id).(*goNode).name)
			}
			if strings.Join(ins, ",") != "x,lengths" || strings.Join(outs, ",") != strings.Join(outputNames(c.stepProbs), ",") {
				t.Errorf("onnx-go sees inputs %v and outputs %v", ins, outs)
			}
			// Initializers decode to the values written.
			for _, init := range want.GetGraph().GetInitializer() {
				gn, ok := m.GetNodeByName(init.GetName())
				if !ok {
					t.Fatalf("onnx-go has no initializer %s", init.GetName())
				}
				checkOnnxGoTensor(t, init, gn.(*goNode).t)
			}
		})
	}
}

// checkOnnxGoTensor compares a tensor onnx-go decoded with the initializer
// it came from.
func checkOnnxGoTensor(t *testing.T, init *onnxpb.TensorProto, got tensor.Tensor) {
	t.Helper()
	if got == nil {
		t.Errorf("initializer %s: onnx-go decoded no tensor", init.GetName())
		return
	}
	var wantShape []int
	for _, d := range init.GetDims() {
		wantShape = append(wantShape, int(d))
	}
	// onnx-go (gorgonia) gives a rank-0 tensor the shape () and a [1]
	// tensor the shape (1).
	if fmt.Sprint([]int(got.Shape())) != fmt.Sprint(wantShape) && !(len(wantShape) == 0 && got.Shape().IsScalar()) {
		t.Errorf("initializer %s: onnx-go shape %v, written %v", init.GetName(), got.Shape(), wantShape)
	}
	switch onnxpb.TensorProto_DataType(init.GetDataType()) {
	case onnxpb.TensorProto_FLOAT:
		// gorgonia's Data() returns a single element as a scalar.
		var data []float32
		switch d := got.Data().(type) {
		case []float32:
			data = d
		case float32:
			data = []float32{d}
		}
		want := rawFloats(init)
		if !equalF32(data, want) {
			t.Errorf("initializer %s: onnx-go decoded %v, written %v", init.GetName(), got.Data(), want)
		}
	case onnxpb.TensorProto_INT64:
		var data []int64
		switch d := got.Data().(type) {
		case []int64:
			data = d
		case int64:
			data = []int64{d}
		}
		raw := init.GetRawData()
		if len(data)*8 != len(raw) {
			t.Errorf("initializer %s: onnx-go decoded %v from %d bytes", init.GetName(), got.Data(), len(raw))
			return
		}
		for i, v := range data {
			var w uint64
			for k := 0; k < 8; k++ {
				w |= uint64(raw[8*i+k]) << (8 * k)
			}
			if v != int64(w) {
				t.Errorf("initializer %s: onnx-go decoded %v", init.GetName(), got.Data())
			}
		}
	default:
		t.Errorf("initializer %s: unexpected data type %d", init.GetName(), init.GetDataType())
	}
}
