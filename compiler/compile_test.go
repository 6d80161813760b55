package compiler

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/trnn/trnn/graph"
)

func compileSrc(t *testing.T, src string) *Program {
	t.Helper()
	prog, err := func() (*Program, error) {
		s, err := Parse("t.yaml", []byte(src))
		if err != nil {
			return nil, err
		}
		return Compile(s)
	}()
	if err != nil {
		t.Fatalf("compile: %v\n%s", err, src)
	}
	if err := graph.Verify(prog.Graph); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return prog
}

// initialised compiles src and draws its initial weights.
func initialised(t *testing.T, src string) *Program {
	t.Helper()
	prog := compileSrc(t, src)
	if err := prog.Initialize(); err != nil {
		t.Fatal(err)
	}
	return prog
}

// TestLoweringMatchesGraphMD checks the lowering of docs/graph.md's example
// node by node against the table in that document.
func TestLoweringMatchesGraphMD(t *testing.T) {
	prog, err := CompileFile(specsDir + "/good/graph_md.yaml")
	if err != nil {
		t.Fatal(err)
	}
	g := prog.Graph
	type row struct {
		name    string
		op      graph.Op
		inputs  []string
		output  string
		attrs   map[string]graph.Attr
		outDims string
	}
	want := []row{
		{"normalize", graph.OpNormalize, []string{"x", "inputs.mean", "inputs.std"}, "x_norm", nil, "[batch,time,13]"},
		{"layers.0", graph.OpLSTM, []string{"x_norm", "layers.0.W", "layers.0.R", "layers.0.B"}, "layers.0.y",
			map[string]graph.Attr{"hidden_size": {Kind: graph.AttrInt, Int: 64}}, "[batch,time,64]"},
		{"layers.1", graph.OpDropout, []string{"layers.0.y"}, "layers.1.y",
			map[string]graph.Attr{"rate": {Kind: graph.AttrFloat, Float: 0.5}}, "[batch,time,64]"},
		{"layers.2", graph.OpGRU, []string{"layers.1.y", "layers.2.W", "layers.2.R", "layers.2.B"}, "layers.2.y",
			map[string]graph.Attr{"hidden_size": {Kind: graph.AttrInt, Int: 32}, "linear_before_reset": {Kind: graph.AttrInt, Int: 1}}, "[batch,time,32]"},
		{"head", graph.OpDense, []string{"layers.2.y", "head.W", "head.b"}, "logits", nil, "[batch,time,3]"},
		{"sigmoid", graph.OpSigmoid, []string{"logits"}, "step_probs", nil, "[batch,time,3]"},
		{"last", graph.OpLastStep, []string{"step_probs"}, "probs", nil, "[batch,3]"},
	}
	if len(g.Nodes) != len(want) {
		t.Fatalf("%d nodes, want %d", len(g.Nodes), len(want))
	}
	for i, w := range want {
		n := g.Nodes[i]
		if n.Name != w.name || n.Op != w.op || !slices.Equal(n.Inputs, w.inputs) || !slices.Equal(n.Outputs, []string{w.output}) {
			t.Errorf("node %d = %s %v %v -> %v, want %s %v %v -> %s", i, n.Name, n.Op, n.Inputs, n.Outputs, w.name, w.op, w.inputs, w.output)
		}
		if len(n.Attrs) != len(w.attrs) || (len(w.attrs) > 0 && !reflect.DeepEqual(n.Attrs, w.attrs)) {
			t.Errorf("node %s attrs = %v, want %v", n.Name, n.Attrs, w.attrs)
		}
		if v := g.Values[w.output]; v == nil || v.Shape.String() != w.outDims || v.DType != graph.Float32 {
			t.Errorf("value %s = %+v, want float32 %s", w.output, v, w.outDims)
		}
	}
	params := []struct {
		name      string
		shape     []int
		init      string
		trainable bool
	}{
		{"inputs.mean", []int{13}, "fitted", false},
		{"inputs.std", []int{13}, "fitted", false},
		{"layers.0.W", []int{256, 13}, "glorot_uniform", true},
		{"layers.0.R", []int{256, 64}, "orthogonal", true},
		{"layers.0.B", []int{256}, "lstm_bias", true},
		{"layers.2.W", []int{96, 64}, "glorot_uniform", true},
		{"layers.2.R", []int{96, 32}, "orthogonal", true},
		{"layers.2.B", []int{192}, "zeros", true},
		{"head.W", []int{3, 32}, "glorot_uniform", true},
		{"head.b", []int{3}, "zeros", true},
	}
	if len(g.Params) != len(params) {
		t.Fatalf("%d params, want %d", len(g.Params), len(params))
	}
	for i, w := range params {
		p := g.Params[i]
		if p.Name != w.name || !slices.Equal(p.Tensor.Shape, w.shape) || p.Init != w.init || p.Trainable != w.trainable || p.Tensor.DType != graph.Float32 {
			t.Errorf("param %d = %s %v %s %v, want %s %v %s %v", i, p.Name, p.Tensor.Shape, p.Init, p.Trainable, w.name, w.shape, w.init, w.trainable)
		}
	}
	for _, x := range g.Param("inputs.mean").Tensor.F32 {
		if x != 0 {
			t.Fatalf("inputs.mean = %v, want zeros", g.Param("inputs.mean").Tensor.F32)
		}
	}
	for _, x := range g.Param("inputs.std").Tensor.F32 {
		if x != 1 {
			t.Fatalf("inputs.std = %v, want ones", g.Param("inputs.std").Tensor.F32)
		}
	}
	wantIO := []string{"x float32 [batch,time,13]", "lengths int32 [batch]"}
	for i, v := range g.Inputs {
		if got := fmt.Sprintf("%s %v %v", v.Name, v.DType, v.Shape); got != wantIO[i] {
			t.Errorf("input %d = %s, want %s", i, got, wantIO[i])
		}
	}
	var outs []string
	for _, v := range g.Outputs {
		outs = append(outs, fmt.Sprintf("%s %v", v.Name, v.Shape))
	}
	if want := []string{"logits [batch,time,3]", "step_probs [batch,time,3]", "probs [batch,3]"}; !slices.Equal(outs, want) {
		t.Errorf("outputs %v, want %v", outs, want)
	}
	if g.Form != graph.FormSequence || g.Name != "graph_md" || prog.Spec.Name != "graph_md" {
		t.Errorf("form %v name %q", g.Form, g.Name)
	}
}

func TestLoweringWithoutNormalize(t *testing.T) {
	prog := compileSrc(t, "inputs: {features: 2, normalize: none}\nlayers: [{gru: {units: 3}}, {dropout: {rate: 0.1}}]\noutputs: {labels: 1}\n")
	g := prog.Graph
	if g.Nodes[0].Name != "layers.0" || g.Nodes[0].Inputs[0] != "x" || g.Param("inputs.mean") != nil {
		t.Errorf("first node %+v reads %q", g.Nodes[0], g.Nodes[0].Inputs[0])
	}
	if head := g.Nodes[2]; head.Name != "head" || head.Inputs[0] != "layers.1.y" {
		t.Errorf("head reads %v, want layers.1.y (the dropout before it)", head.Inputs)
	}
}

// TestParamCount checks ParamCount against the closed forms.
func TestParamCount(t *testing.T) {
	prog := compileSrc(t, "inputs: {features: 5}\nlayers: [{lstm: {units: 4}}, {gru: {units: 3}}]\noutputs: {labels: 2}\n")
	lstm := 4*4*5 + 4*4*4 + 4*4
	gru := 3*3*4 + 3*3*3 + 6*3
	head := 2*3 + 2
	total, trainable := prog.Graph.ParamCount()
	if trainable != lstm+gru+head || total != trainable+2*5 {
		t.Errorf("ParamCount = %d, %d; want %d, %d", total, trainable, lstm+gru+head+10, lstm+gru+head)
	}
	if n, _ := paramCount(prog.Spec); n != total {
		t.Errorf("paramCount(spec) = %d, graph has %d", n, total)
	}
}

// maxOrthError is max |(AᵀA − I)ij| for a row-major [rows, cols] matrix
// (or of AAᵀ when transposed).
func maxOrthError(a []float32, rows, cols int, transposed bool) float64 {
	if transposed {
		rows, cols = cols, rows
	}
	at := func(i, j int) float64 {
		if transposed {
			return float64(a[j*rows+i])
		}
		return float64(a[i*cols+j])
	}
	worst := 0.0
	for p := range cols {
		for q := range cols {
			s := 0.0
			for i := range rows {
				s += at(i, p) * at(i, q)
			}
			if p == q {
				s--
			}
			worst = max(worst, math.Abs(s))
		}
	}
	return worst
}

// TestInitialisers checks each initialiser's defining property on a
// compiled program.
func TestInitialisers(t *testing.T) {
	prog := initialised(t, "inputs: {features: 7}\nlayers: [{lstm: {units: 16}}, {gru: {units: 8}}]\noutputs: {labels: 5}\n")
	g := prog.Graph
	for _, name := range []string{"layers.0.R", "layers.1.R"} {
		p := g.Param(name)
		if e := maxOrthError(p.Tensor.F32, p.Tensor.Shape[0], p.Tensor.Shape[1], false); e > 1e-5 {
			t.Errorf("%s: max |RᵀR − I| = %g, want ≤ 1e-5", name, e)
		}
	}
	for _, c := range []struct {
		name          string
		fanIn, fanOut int
	}{{"layers.0.W", 7, 64}, {"layers.1.W", 16, 24}, {"head.W", 8, 5}} {
		p := g.Param(c.name)
		limit := float32(math.Sqrt(6 / float64(c.fanIn+c.fanOut)))
		for i, x := range p.Tensor.F32 {
			if x < -limit || x > limit {
				t.Fatalf("%s[%d] = %g outside ±%g", c.name, i, x, limit)
			}
		}
	}
	b := g.Param("layers.0.B").Tensor.F32
	for i, x := range b {
		want := float32(0)
		if i/16 == graph.LSTMGateF {
			want = 1
		}
		if x != want {
			t.Fatalf("layers.0.B[%d] = %g, want %g (forget block %d is 1, others 0)", i, x, want, graph.LSTMGateF)
		}
	}
	for _, name := range []string{"layers.1.B", "head.b"} {
		for _, x := range g.Param(name).Tensor.F32 {
			if x != 0 {
				t.Fatalf("%s is not zeros", name)
			}
		}
	}
}

func TestGlorotUniformDistribution(t *testing.T) {
	const n, fanIn, fanOut = 40000, 30, 70
	w := make([]float32, n)
	GlorotUniform(w, fanIn, fanOut, rand.New(rand.NewPCG(3, 4)))
	limit := math.Sqrt(6.0 / (fanIn + fanOut))
	mean, sq := 0.0, 0.0
	for _, x := range w {
		mean += float64(x)
		sq += float64(x) * float64(x)
	}
	mean /= n
	variance := sq/n - mean*mean
	// U(−l, l) has mean 0 and variance l²/3; allow 5 standard errors.
	if se := limit / math.Sqrt(3*n); math.Abs(mean) > 5*se {
		t.Errorf("mean %g, want 0 ± %g", mean, 5*se)
	}
	if want := limit * limit / 3; math.Abs(variance-want) > 0.03*want {
		t.Errorf("variance %g, want %g", variance, want)
	}
}

// TestOrthogonalAgainstGonumQR compares the Householder QR with gonum's QR
// after the same sign correction: Q with R's diagonal positive is unique.
// The shapes include every LSTM recurrent matrix [4H, H] up to H = 64.
func TestOrthogonalAgainstGonumQR(t *testing.T) {
	shapes := []struct{ m, n int }{{12, 3}, {20, 5}, {7, 7}, {64, 16}, {256, 64}}
	for h := 1; h <= 64; h++ {
		shapes = append(shapes, struct{ m, n int }{4 * h, h})
	}
	for _, c := range shapes {
		r := rand.New(rand.NewPCG(uint64(c.m), uint64(c.n)))
		a := make([]float64, c.m*c.n)
		for i := range a {
			a[i] = r.NormFloat64()
		}
		var qr mat.QR
		qr.Factorize(mat.NewDense(c.m, c.n, slices.Clone(a)))
		var q, rr mat.Dense
		qr.QTo(&q)
		qr.RTo(&rr)
		got := householderQ(a, c.m, c.n)
		worst := 0.0
		for i := range c.m {
			for j := range c.n {
				want := q.At(i, j) * math.Copysign(1, rr.At(j, j))
				worst = max(worst, math.Abs(got[i*c.n+j]-want))
			}
		}
		if worst > 1e-12 {
			t.Errorf("%dx%d: max |Q − Q_gonum| = %g", c.m, c.n, worst)
		}
	}
}

func TestOrthogonalShapes(t *testing.T) {
	for _, c := range []struct{ rows, cols int }{{12, 3}, {3, 12}, {5, 5}, {1, 4}} {
		w := make([]float32, c.rows*c.cols)
		Orthogonal(w, c.rows, c.cols, rand.New(rand.NewPCG(1, 2)))
		if e := maxOrthError(w, c.rows, c.cols, c.rows < c.cols); e > 1e-6 {
			t.Errorf("%dx%d: orthogonality error %g", c.rows, c.cols, e)
		}
	}
}

// TestInitDeterminism: the same seed gives the same weights, another seed
// other weights, and a parameter's values do not depend on the rest of the
// model. The pinned values guard the scheme itself (PCG seeded by the seed
// and the name's FNV-1a hash) against accidental change.
func TestInitDeterminism(t *testing.T) {
	spec := func(seed int, extra string) string {
		return fmt.Sprintf("inputs: {features: 3}\nlayers: [{lstm: {units: 4}}%s]\noutputs: {labels: 1}\ntraining: {seed: %d}\n", extra, seed)
	}
	a := initialised(t, spec(1, "")).Graph
	b := initialised(t, spec(1, "")).Graph
	c := initialised(t, spec(2, "")).Graph
	d := initialised(t, spec(1, ", {gru: {units: 5}}")).Graph
	for _, p := range a.Params {
		if !slices.Equal(p.Tensor.F32, b.Param(p.Name).Tensor.F32) {
			t.Errorf("%s differs between two compilations with seed 1", p.Name)
		}
		if p.Init != InitFitted && p.Init != InitZeros && p.Init != InitLSTMBias && slices.Equal(p.Tensor.F32, c.Param(p.Name).Tensor.F32) {
			t.Errorf("%s is the same for seeds 1 and 2", p.Name)
		}
	}
	for _, name := range []string{"layers.0.W", "layers.0.R", "layers.0.B"} {
		if !slices.Equal(a.Param(name).Tensor.F32, d.Param(name).Tensor.F32) {
			t.Errorf("%s changed when a layer was added after it", name)
		}
	}
	pinned := map[string][]float32{
		"layers.0.W": a.Param("layers.0.W").Tensor.F32[:3],
		"layers.0.R": a.Param("layers.0.R").Tensor.F32[:3],
	}
	want := map[string][]float32{
		"layers.0.W": pinnedW,
		"layers.0.R": pinnedR,
	}
	for name, got := range pinned {
		if !slices.Equal(got, want[name]) {
			t.Errorf("%s starts %#v, pinned %#v: the initialisation scheme changed", name, got, want[name])
		}
	}
}

var (
	pinnedW = []float32{0.53834504, 0.25188133, 0.28574446}
	pinnedR = []float32{-0.13869253, -0.19213758, 0.12234159}
)

func TestInitParamErrors(t *testing.T) {
	for _, c := range []struct {
		p    *graph.Param
		want string
	}{
		{&graph.Param{Name: "a", Init: "he_normal", Tensor: graph.NewTensor(graph.Float32, 2, 2)}, "unknown initialiser"},
		{&graph.Param{Name: "b", Init: "orthogonal", Tensor: graph.NewTensor(graph.Float32, 4)}, "needs a 2-D shape"},
		{&graph.Param{Name: "c", Init: "lstm_bias", Tensor: graph.NewTensor(graph.Float32, 6)}, "lstm_bias needs a shape [4H]"},
		{&graph.Param{Name: "d", Init: "zeros", Tensor: graph.NewTensor(graph.Int32, 2)}, "want a float32 tensor"},
		{&graph.Param{Name: "e", Init: "zeros"}, "want a float32 tensor"},
	} {
		if err := InitParam(c.p, 1); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("InitParam(%s) = %v, want %q", c.p.Name, err, c.want)
		}
	}
	p := &graph.Param{Name: "f", Init: "fitted", Tensor: graph.FromF32([]float32{3, 4}, 2)}
	if err := InitParam(p, 1); err != nil || !slices.Equal(p.Tensor.F32, []float32{3, 4}) {
		t.Errorf("fitted parameter changed: %v %v", err, p.Tensor.F32)
	}
}

// cloneGraph deep-copies what the graph.Verify tests mutate.
func cloneGraph(g *graph.Graph) *graph.Graph {
	c := *g
	c.Inputs = slices.Clone(g.Inputs)
	c.Outputs = slices.Clone(g.Outputs)
	c.Nodes = nil
	for _, n := range g.Nodes {
		m := *n
		m.Inputs = slices.Clone(n.Inputs)
		m.Outputs = slices.Clone(n.Outputs)
		m.Attrs = map[string]graph.Attr{}
		for k, v := range n.Attrs {
			m.Attrs[k] = v
		}
		c.Nodes = append(c.Nodes, &m)
	}
	c.Params = nil
	for _, p := range g.Params {
		q := *p
		t := *p.Tensor
		t.Shape = slices.Clone(t.Shape)
		t.F32 = slices.Clone(t.F32)
		q.Tensor = &t
		c.Params = append(c.Params, &q)
	}
	c.Values = map[string]*graph.Value{}
	for k, v := range g.Values {
		w := *v
		c.Values[k] = &w
	}
	return &c
}

func nodeNamed(g *graph.Graph, name string) *graph.Node {
	for _, n := range g.Nodes {
		if n.Name == name {
			return n
		}
	}
	panic("no node " + name)
}

// TestVerifyCatchesBrokenGraphs breaks a compiled graph in one way at a
// time; graph.Verify must name each problem.
func TestVerifyCatchesBrokenGraphs(t *testing.T) {
	good, err := CompileFile(specsDir + "/good/graph_md.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		mutate func(g *graph.Graph)
		want   string
	}{
		{"undefined input", func(g *graph.Graph) { nodeNamed(g, "head").Inputs[0] = "layers.9.y" }, `node "head" (Dense): input "layers.9.y" is not defined`},
		{"use before definition", func(g *graph.Graph) {
			g.Nodes[1], g.Nodes[2] = g.Nodes[2], g.Nodes[1]
		}, `node "layers.1" (Dropout): input "layers.0.y" is used before node "layers.0" defines it`},
		{"two producers", func(g *graph.Graph) { nodeNamed(g, "sigmoid").Outputs[0] = "logits" }, `node "sigmoid" (Sigmoid): output "logits" is already defined as the output of node "head"`},
		{"output shadows a parameter", func(g *graph.Graph) { nodeNamed(g, "layers.1").Outputs[0] = "head.W" }, `output "head.W" is already defined as a parameter`},
		{"op of the other form", func(g *graph.Graph) { nodeNamed(g, "sigmoid").Op = graph.OpTanh }, `op Tanh is not a sequence op`},
		{"arity", func(g *graph.Graph) {
			n := nodeNamed(g, "layers.0")
			n.Inputs = n.Inputs[:3]
		}, `node "layers.0" (LSTM): has 3 inputs and 1 outputs, want 4 and 1`},
		{"parameter shape", func(g *graph.Graph) {
			g.Param("layers.0.R").Tensor = graph.NewTensor(graph.Float32, 256, 63)
		}, `node "layers.0" (LSTM): R "layers.0.R" has shape [256,63], want [256,64]`},
		{"input width", func(g *graph.Graph) {
			g.Param("layers.2.W").Tensor = graph.NewTensor(graph.Float32, 96, 65)
		}, `W "layers.2.W" has shape [96,65], want [96,64]`},
		{"missing attribute", func(g *graph.Graph) { delete(nodeNamed(g, "layers.0").Attrs, "hidden_size") }, `attribute hidden_size must be an int from 1 to 4096`},
		{"GRU form", func(g *graph.Graph) {
			nodeNamed(g, "layers.2").Attrs["linear_before_reset"] = graph.Attr{Kind: graph.AttrInt, Int: 0}
		}, `linear_before_reset must be the int 1`},
		{"dropout rate", func(g *graph.Graph) {
			nodeNamed(g, "layers.1").Attrs["rate"] = graph.Attr{Kind: graph.AttrFloat, Float: 1}
		}, `attribute rate must be a float in [0, 1)`},
		{"dangling output", func(g *graph.Graph) {
			g.Nodes = g.Nodes[:len(g.Nodes)-1]
			g.Outputs = g.Outputs[:2]
		}, `graph output "probs" is missing`},
		{"dangling node", func(g *graph.Graph) {
			g.Nodes = append(g.Nodes, &graph.Node{Name: "extra", Op: graph.OpSigmoid, Inputs: []string{"logits"}, Outputs: []string{"extra.y"}})
		}, `node "extra": output "extra.y" is dangling: no node reads it and it is not a graph output`},
		{"unused parameter", func(g *graph.Graph) {
			g.Params = append(g.Params, &graph.Param{Name: "extra", Tensor: graph.NewTensor(graph.Float32, 2), Init: "zeros"})
		}, `parameter "extra" is not used by any node`},
		{"parameter data", func(g *graph.Graph) { g.Param("head.b").Tensor.F32 = nil }, `parameter "head.b" has 0 values for shape [3]`},
		{"Values stale", func(g *graph.Graph) {
			g.Values["layers.2.y"].Shape = graph.Shape{graph.Sym("batch"), graph.Sym("time"), graph.Fixed(31)}
		}, `Values["layers.2.y"] is float32 [batch,time,31], but inference gives float32 [batch,time,32]`},
		{"Values missing", func(g *graph.Graph) { delete(g.Values, "x_norm") }, `Values has no entry for "x_norm"`},
		{"inputs", func(g *graph.Graph) { g.Inputs[1].DType = graph.Int64 }, `input lengths is int64 [batch], want int32 [batch]`},
		{"declared output shape", func(g *graph.Graph) { g.Outputs[2].Shape = graph.Shape{graph.Sym("batch"), graph.Fixed(4)} }, `graph output "probs" is declared float32 [batch,4], but its producer gives float32 [batch,3]`},
		{"duplicate node name", func(g *graph.Graph) { nodeNamed(g, "sigmoid").Name = "head" }, `node name "head" is used twice`},
		{"unknown form", func(g *graph.Graph) { g.Form = 0 }, `unknown form`},
	}
	for _, c := range cases {
		g := cloneGraph(good.Graph)
		if err := graph.Verify(g); err != nil {
			t.Fatalf("the clone does not verify: %v", err)
		}
		c.mutate(g)
		err := graph.Verify(g)
		if err == nil {
			t.Errorf("%s: graph.Verify accepted the broken graph", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: graph.Verify =\n%v\nwant a line containing %q", c.name, err, c.want)
		}
	}
	if err := graph.Verify(nil); err == nil {
		t.Error("graph.Verify(nil) = nil")
	}
}

// TestVerifyTensorForm checks an imported-style graph: shapes may be
// unknown and optional inputs empty, but definitions still count.
func TestVerifyTensorForm(t *testing.T) {
	g := &graph.Graph{
		Name:   "imported",
		Form:   graph.FormTensor,
		Inputs: []graph.Value{{Name: "x", DType: graph.Float32}, {Name: "lengths", DType: graph.Int32}},
		Params: []*graph.Param{{Name: "W", Tensor: graph.NewTensor(graph.Float32, 1, 8, 2), Init: "onnx"}},
		Nodes: []*graph.Node{
			{Name: "t", Op: graph.OpTranspose, Inputs: []string{"x"}, Outputs: []string{"xt"}},
			{Name: "", Op: graph.OpLSTM, Inputs: []string{"xt", "W", "W", "", "lengths"}, Outputs: []string{"", "h", ""}},
			{Name: "s", Op: graph.OpSigmoid, Inputs: []string{"h"}, Outputs: []string{"p"}},
		},
		Outputs: []graph.Value{{Name: "p", DType: graph.Float32}},
	}
	if err := graph.Verify(g); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	bad := *g
	bad.Nodes = []*graph.Node{g.Nodes[0], {Name: "d", Op: graph.OpDense, Inputs: []string{"xt"}, Outputs: []string{"y"}}, g.Nodes[2]}
	err := graph.Verify(&bad)
	for _, want := range []string{`node "d" (Dense): op Dense is not an ONNX operator`, `node "s" (Sigmoid): input "h" is not defined`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("graph.Verify = %v, want a line containing %q", err, want)
		}
	}
}

func TestWriteDot(t *testing.T) {
	prog, err := CompileFile(specsDir + "/good/graph_md.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := graph.WriteDot(&b, prog.Graph); err != nil {
		t.Fatal(err)
	}
	golden(t, specsDir+"/good/graph_md.yaml.dot", b.Bytes())
	// Every value a node reads is an edge.
	edges := strings.Count(b.String(), " -> ")
	want := 0
	for _, n := range prog.Graph.Nodes {
		for _, in := range n.Inputs {
			if prog.Graph.Param(in) == nil {
				want++
			}
		}
	}
	want += len(prog.Graph.Outputs)
	if edges != want {
		t.Errorf("%d edges, want %d", edges, want)
	}
}

// TestCheckDoesNotInitialise: Compile allocates the parameters but draws
// no initial values, so checking a spec of 2048-unit layers (whose
// orthogonal initialiser costs O(H³)) is cheap; Initialize draws them,
// exactly as InitParam does parameter by parameter.
func TestCheckDoesNotInitialise(t *testing.T) {
	big := compileSrc(t, "inputs: {features: 4}\nlayers: [{lstm: {units: 2048}}]\noutputs: {labels: 1}\n")
	if big.Initialized {
		t.Fatal("Compile says the parameters are initialised")
	}
	for _, p := range big.Graph.Params {
		want := float32(0)
		if p.Name == ParamStd {
			want = 1 // the identity normalisation
		}
		if i := slices.IndexFunc(p.Tensor.F32, func(v float32) bool { return v != want }); i >= 0 {
			t.Fatalf("%s[%d] = %v before Initialize, want %v", p.Name, i, p.Tensor.F32[i], want)
		}
	}
	if n := len(big.Graph.Param("layers.0.R").Tensor.F32); n != 4*2048*2048 {
		t.Fatalf("layers.0.R has %d values, want them allocated", n)
	}

	src := "inputs: {features: 4}\nlayers: [{lstm: {units: 6}}, {gru: {units: 5}}]\noutputs: {labels: 2}\ntraining: {seed: 9}\n"
	prog := compileSrc(t, src)
	if err := prog.Initialize(); err != nil || !prog.Initialized {
		t.Fatalf("Initialize: %v (Initialized %v)", err, prog.Initialized)
	}
	for _, p := range compileSrc(t, src).Graph.Params {
		if err := InitParam(p, 9); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(p.Tensor.F32, prog.Graph.Param(p.Name).Tensor.F32) {
			t.Errorf("%s: Initialize differs from InitParam", p.Name)
		}
	}
}
