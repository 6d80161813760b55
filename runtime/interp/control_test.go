package interp

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/trnn/trnn/graph"
)

// ctlNode builds a node; attrs alternate names and values.
func ctlNode(op graph.Op, in, out []string, attrs ...any) *graph.Node {
	n := &graph.Node{Name: out[0], Op: op, Inputs: in, Outputs: out, Attrs: map[string]graph.Attr{}}
	for i := 0; i < len(attrs); i += 2 {
		n.Attrs[attrs[i].(string)] = attrs[i+1].(graph.Attr)
	}
	return n
}

// ctlGraph builds a tensor-form graph; a Value with DType 0 is untyped, as
// subgraphs may leave it.
func ctlGraph(name string, in []graph.Value, out []string, nodes ...*graph.Node) *graph.Graph {
	g := &graph.Graph{Name: name, Form: graph.FormTensor, Inputs: in, Nodes: nodes}
	for _, o := range out {
		g.Outputs = append(g.Outputs, graph.Value{Name: o})
	}
	return g
}

func ctlBody(g *graph.Graph) graph.Attr { return graph.Attr{Kind: graph.AttrGraph, Graph: g} }

func f32(name string, dims ...int) graph.Value {
	s := graph.Shape{}
	for _, d := range dims {
		s = append(s, graph.Fixed(d))
	}
	return graph.Value{Name: name, DType: graph.Float32, Shape: s}
}

func scalarI64(v int64) *graph.Tensor {
	return &graph.Tensor{DType: graph.Int64, Shape: []int{}, I64: []int64{v}}
}

func scalarBool(v bool) *graph.Tensor {
	return &graph.Tensor{DType: graph.Bool, Shape: []int{}, B: []bool{v}}
}

// accumulateLoop is v_final, sums = Loop(M, cond, v0) whose body adds the
// enclosing graph's x to v each iteration and emits v, and keeps its
// condition.
func accumulateLoop() *graph.Graph {
	body := ctlGraph("body", []graph.Value{{Name: "i"}, {Name: "c_in"}, {Name: "v_in"}}, []string{"c_out", "v_out", "s"},
		ctlNode(graph.OpIdentity, []string{"c_in"}, []string{"c_out"}),
		ctlNode(graph.OpAdd, []string{"v_in", "x"}, []string{"v_out"}),
		ctlNode(graph.OpIdentity, []string{"v_out"}, []string{"s"}))
	anyF32 := func(name string) graph.Value { return graph.Value{Name: name, DType: graph.Float32} }
	g := ctlGraph("loop", []graph.Value{{Name: "M", DType: graph.Int64, Shape: graph.Shape{}},
		{Name: "cond", DType: graph.Bool, Shape: graph.Shape{}}, anyF32("v0"), anyF32("x")},
		[]string{"v_final", "sums"},
		ctlNode(graph.OpLoop, []string{"M", "cond", "v0"}, []string{"v_final", "sums"}, "body", ctlBody(body)))
	return g
}

func TestLoopCarriesAndScans(t *testing.T) {
	ip, err := New(accumulateLoop())
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]*graph.Tensor{"M": scalarI64(3), "cond": scalarBool(true),
		"v0": graph.FromF32([]float32{1, 2}, 2), "x": graph.FromF32([]float32{10, 20}, 2)}
	out, err := ip.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	if v := out["v_final"]; !slices.Equal(v.F32, []float32{31, 62}) {
		t.Errorf("v_final %v, want [31 62]", v.F32)
	}
	if s := out["sums"]; !slices.Equal(s.Shape, []int{3, 2}) || !slices.Equal(s.F32, []float32{11, 22, 21, 42, 31, 62}) {
		t.Errorf("sums %v %v, want [3 2] [11 22 21 42 31 62]", s.Shape, s.F32)
	}
	// No iteration: the carried values come out as they went in, copied,
	// and the scan output is empty.
	in["M"] = scalarI64(0)
	out, err = ip.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	if v := out["v_final"]; !slices.Equal(v.F32, []float32{1, 2}) || &v.F32[0] == &in["v0"].F32[0] {
		t.Errorf("v_final after no iteration: %v (a copy of v0 wanted)", v.F32)
	}
	if s := out["sums"]; s.Len() != 0 {
		t.Errorf("sums after no iteration: %v", s.Shape)
	}
	in["M"], in["cond"] = scalarI64(5), scalarBool(false)
	if out, err = ip.Run(in); err != nil || !slices.Equal(out["v_final"].F32, []float32{1, 2}) {
		t.Errorf("a false initial condition runs the body: %v %v", out, err)
	}
}

// whileLoop is v_final = Loop("", "", v0): the body adds 1 and continues
// while its iteration number is below limit; a limit below 0 never stops.
func whileLoop(limit int64) *graph.Graph {
	one := &graph.Tensor{DType: graph.Float32, Shape: []int{}, F32: []float32{1}}
	cond := []*graph.Node{ctlNode(graph.OpConstant, nil, []string{"lim"}, "value", graph.Attr{Kind: graph.AttrTensor, Tensor: scalarI64(limit)}),
		ctlNode(graph.OpLess, []string{"i", "lim"}, []string{"c_out"})}
	if limit < 0 {
		cond = []*graph.Node{ctlNode(graph.OpIdentity, []string{"c_in"}, []string{"c_out"})}
	}
	body := ctlGraph("body", []graph.Value{{Name: "i"}, {Name: "c_in"}, {Name: "v_in"}}, []string{"c_out", "v_out"},
		append(cond,
			ctlNode(graph.OpConstant, nil, []string{"one"}, "value", graph.Attr{Kind: graph.AttrTensor, Tensor: one}),
			ctlNode(graph.OpAdd, []string{"v_in", "one"}, []string{"v_out"}))...)
	return ctlGraph("while", []graph.Value{f32("v0")}, []string{"v_final"},
		ctlNode(graph.OpLoop, []string{"", "", "v0"}, []string{"v_final"}, "body", ctlBody(body)))
}

func TestLoopStopsOnCondition(t *testing.T) {
	ip, err := New(whileLoop(2))
	if err != nil {
		t.Fatal(err)
	}
	out, err := ip.Run(map[string]*graph.Tensor{"v0": {DType: graph.Float32, Shape: []int{}, F32: []float32{0}}})
	if err != nil {
		t.Fatal(err)
	}
	if v := out["v_final"].F32[0]; v != 3 {
		t.Errorf("v_final %v, want 3 (iterations 0, 1 and 2, the last turning the condition false)", v)
	}
}

func TestLoopLimit(t *testing.T) {
	defer func(old int64) { loopLimit = old }(loopLimit)
	loopLimit = 50
	ip, err := New(whileLoop(-1))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ip.Run(map[string]*graph.Tensor{"v0": {DType: graph.Float32, Shape: []int{}, F32: []float32{0}}})
	if err == nil || !strings.Contains(err.Error(), "ran 50 iterations") {
		t.Errorf("endless loop: error %v", err)
	}
}

// TestLoopErrorNamesIteration: a body's error names the node, the
// iteration and the body's node.
func TestLoopErrorNamesIteration(t *testing.T) {
	ip, err := New(accumulateLoop())
	if err != nil {
		t.Fatal(err)
	}
	_, err = ip.Run(map[string]*graph.Tensor{"M": scalarI64(3), "cond": scalarBool(true),
		"v0": graph.FromF32([]float32{1, 2}, 2), "x": graph.FromF32([]float32{1, 2, 3}, 3)})
	want := `node "v_final" (Loop): iteration 0: node "v_out" (Add): shapes [2] and [3] are not broadcastable`
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
	k := ip.steps[0].kernel.(*loopKernel)
	st := newState(ip.nslots, 0)
	for _, bad := range []*graph.Tensor{graph.FromF32([]float32{1}, 1), {DType: graph.Int64, Shape: []int{2}, I64: []int64{1, 2}}} {
		st.vals[k.in[0]] = bad
		if _, _, err := k.bounds(st); err == nil || !strings.Contains(err.Error(), "M must be an integer tensor of one element") {
			t.Errorf("M %v %v: error %v", bad.DType, bad.Shape, err)
		}
	}
}

// TestLoopFoldsCapturedConstants: a body computing on the enclosing graph's
// constants (a cell's weights, sliced) computes them once, at load.
func TestLoopFoldsCapturedConstants(t *testing.T) {
	W := &graph.Param{Name: "W", Tensor: graph.FromF32([]float32{1, 2, 3, 4}, 2, 2), Init: "onnx"}
	body := ctlGraph("body", []graph.Value{{Name: "i"}, {Name: "c_in"}, {Name: "v_in"}}, []string{"c_out", "v_out"},
		ctlNode(graph.OpIdentity, []string{"c_in"}, []string{"c_out"}),
		ctlNode(graph.OpTranspose, []string{"W"}, []string{"Wt"}),
		ctlNode(graph.OpMatMul, []string{"v_in", "Wt"}, []string{"v_out"}))
	g := ctlGraph("fold", []graph.Value{{Name: "M", DType: graph.Int64, Shape: graph.Shape{}}, f32("v0", 1, 2)}, []string{"v_final"},
		ctlNode(graph.OpLoop, []string{"M", "", "v0"}, []string{"v_final"}, "body", ctlBody(body)))
	g.Params = []*graph.Param{W}
	ip, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	k := ip.steps[0].kernel.(*loopKernel)
	if n := len(k.body.ip.steps); n != 2 {
		t.Errorf("the body runs %d steps, want 2 (Transpose of the constant W folded)", n)
	}
	out, err := ip.Run(map[string]*graph.Tensor{"M": scalarI64(2), "v0": graph.FromF32([]float32{1, 0}, 1, 2)})
	if err != nil {
		t.Fatal(err)
	}
	// v·Wᵀ twice: [1 0] → [1 3] → [7 15].
	if v := out["v_final"].F32; !slices.Equal(v, []float32{7, 15}) {
		t.Errorf("v_final %v, want [7 15]", v)
	}
}

// scanModel is Scan over x [2, 3] along axis 1, reversed, with a running
// sum as state; the per-step sums are stacked along axis 1, reversed.
func scanModel() *graph.Graph {
	body := ctlGraph("body", []graph.Value{{Name: "sum_in"}, {Name: "x_t"}}, []string{"sum_out", "y_t"},
		ctlNode(graph.OpAdd, []string{"sum_in", "x_t"}, []string{"sum_out"}),
		ctlNode(graph.OpIdentity, []string{"sum_out"}, []string{"y_t"}))
	return ctlGraph("scan", []graph.Value{{Name: "s0", DType: graph.Float32}, {Name: "x", DType: graph.Float32}}, []string{"sum", "ys"},
		ctlNode(graph.OpScan, []string{"s0", "x"}, []string{"sum", "ys"}, "body", ctlBody(body),
			"num_scan_inputs", graph.Attr{Kind: graph.AttrInt, Int: 1},
			"scan_input_axes", ints(1), "scan_input_directions", ints(1),
			"scan_output_axes", ints(-1), "scan_output_directions", ints(1)))
}

func TestScanDirectionsAndAxes(t *testing.T) {
	ip, err := New(scanModel())
	if err != nil {
		t.Fatal(err)
	}
	out, err := ip.Run(map[string]*graph.Tensor{"s0": graph.FromF32([]float32{0, 100}, 2),
		"x": graph.FromF32([]float32{1, 2, 3, 4, 5, 6}, 2, 3)})
	if err != nil {
		t.Fatal(err)
	}
	if s := out["sum"].F32; !slices.Equal(s, []float32{6, 115}) {
		t.Errorf("sum %v, want [6 115]", s)
	}
	// Steps read columns 2, 1, 0: running sums [3 106], [5 111], [6 115],
	// written back to front along the last axis.
	if y := out["ys"]; !slices.Equal(y.Shape, []int{2, 3}) || !slices.Equal(y.F32, []float32{6, 5, 3, 115, 111, 106}) {
		t.Errorf("ys %v %v, want [2 3] [6 5 3 115 111 106]", y.Shape, y.F32)
	}
	_, err = ip.Run(map[string]*graph.Tensor{"s0": graph.FromF32([]float32{0, 100}, 2), "x": graph.FromF32([]float32{1, 2, 3}, 3, 1)})
	want := `node "sum" (Scan): step 0: node "sum_out" (Add): shapes [2] and [3] are not broadcastable`
	if err == nil || err.Error() != want {
		t.Errorf("mismatched state: error %v, want %s", err, want)
	}
	_, err = ip.Run(map[string]*graph.Tensor{"s0": graph.FromF32([]float32{0}, 1), "x": graph.FromF32([]float32{1, 2, 3}, 3)})
	if err == nil || !strings.Contains(err.Error(), "scan input 0: axis 1 out of range for rank 1") {
		t.Errorf("axis out of range: error %v", err)
	}
}

// ifModel is y = If(c) { a + b } else { Constant [7] }, the then branch
// holding a Loop that reads the outermost graph's b.
func ifModel() *graph.Graph {
	inner := ctlGraph("inner", []graph.Value{{Name: "i"}, {Name: "c_in"}, {Name: "acc_in"}}, []string{"c_out", "acc_out"},
		ctlNode(graph.OpIdentity, []string{"c_in"}, []string{"c_out"}),
		ctlNode(graph.OpAdd, []string{"acc_in", "b"}, []string{"acc_out"}))
	then := ctlGraph("then", nil, []string{"t_out"},
		ctlNode(graph.OpConstant, nil, []string{"once"}, "value", graph.Attr{Kind: graph.AttrTensor, Tensor: scalarI64(1)}),
		ctlNode(graph.OpLoop, []string{"once", "", "a"}, []string{"t_out"}, "body", ctlBody(inner)))
	seven := graph.FromF32([]float32{7}, 1)
	els := ctlGraph("else", nil, []string{"e_out"},
		ctlNode(graph.OpConstant, nil, []string{"e_out"}, "value", graph.Attr{Kind: graph.AttrTensor, Tensor: seven}))
	return ctlGraph("if", []graph.Value{{Name: "c", DType: graph.Bool, Shape: graph.Shape{graph.Fixed(1)}}, f32("a", 1), f32("b", 1)}, []string{"y"},
		ctlNode(graph.OpIf, []string{"c"}, []string{"y"}, "then_branch", ctlBody(then), "else_branch", ctlBody(els)))
}

func TestIfBranches(t *testing.T) {
	ip, err := New(ifModel())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cond bool
		want float32
	}{{true, 5}, {false, 7}} {
		out, err := ip.Run(map[string]*graph.Tensor{"c": {DType: graph.Bool, Shape: []int{1}, B: []bool{c.cond}},
			"a": graph.FromF32([]float32{2}, 1), "b": graph.FromF32([]float32{3}, 1)})
		if err != nil {
			t.Fatal(err)
		}
		if y := out["y"].F32; !slices.Equal(y, []float32{c.want}) {
			t.Errorf("cond %v: y %v, want [%v]", c.cond, y, c.want)
		}
	}
}

// TestControlFlowConcurrentRuns: the bodies' interpreters are shared by
// concurrent calls, each on its own states (run with -race).
func TestControlFlowConcurrentRuns(t *testing.T) {
	ip, err := New(accumulateLoop())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range 20 {
				M := int64(w + c%5)
				out, err := ip.Run(map[string]*graph.Tensor{"M": scalarI64(M), "cond": scalarBool(true),
					"v0": graph.FromF32([]float32{0, 1}, 2), "x": graph.FromF32([]float32{1, 2}, 2)})
				if err != nil {
					errs <- err
					return
				}
				if v := out["v_final"].F32; v[0] != float32(M) || v[1] != float32(1+2*M) || out["sums"].Shape[0] != int(M) {
					errs <- fmt.Errorf("M = %d: v_final %v, sums %v", M, v, out["sums"].Shape)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestNewRefusesUndefinedCapture: a body reading a name no enclosing graph
// defines cannot be planned.
func TestNewRefusesUndefinedCapture(t *testing.T) {
	g := accumulateLoop()
	g.Inputs = g.Inputs[:3] // drop x, which the body reads
	_, err := New(g)
	if err == nil || !strings.Contains(err.Error(), `attribute body: the graph reads "x", which is not defined before the node`) {
		t.Errorf("error %v", err)
	}
}
