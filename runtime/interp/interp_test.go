package interp

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/trnn/trnn/graph"
)

// interpClassifier is a small imported-style classifier, as an external
// tool would write it: x [batch, time, F] → Transpose → LSTM(sequence_lens)
// → Squeeze(Y_h) → Gemm → Sigmoid → probs [batch, K]; plus a Shape-based
// branch folded at load time and a dead branch.
func interpClassifier(rng *rand.Rand, F, H, K int) *graph.Graph {
	randT := func(shape ...int) *graph.Tensor {
		t := graph.NewTensor(graph.Float32, shape...)
		for i := range t.F32 {
			t.F32[i] = float32(rng.Float64() - 0.5)
		}
		return t
	}
	attrInts := func(v ...int64) graph.Attr { return graph.Attr{Kind: graph.AttrInts, Ints: v} }
	attrInt := func(v int64) graph.Attr { return graph.Attr{Kind: graph.AttrInt, Int: v} }
	return &graph.Graph{
		Name: "classifier",
		Form: graph.FormTensor,
		Inputs: []graph.Value{
			{Name: "x", DType: graph.Float32, Shape: graph.Shape{graph.Sym("batch"), graph.Sym("time"), graph.Fixed(F)}},
			{Name: "lengths", DType: graph.Int32, Shape: graph.Shape{graph.Sym("batch")}},
		},
		Outputs: []graph.Value{
			{Name: "probs", DType: graph.Float32, Shape: graph.Shape{graph.Sym("batch"), graph.Fixed(K)}},
			{Name: "w_shape", DType: graph.Int64, Shape: graph.Shape{graph.Fixed(3)}},
		},
		Params: []*graph.Param{
			{Name: "W", Tensor: randT(1, 4*H, F), Init: "onnx"},
			{Name: "R", Tensor: randT(1, 4*H, H), Init: "onnx"},
			{Name: "B", Tensor: randT(1, 8*H), Init: "onnx"},
			{Name: "head_w", Tensor: randT(K, H), Init: "onnx"},
			{Name: "head_b", Tensor: randT(K), Init: "onnx"},
			{Name: "axes0", Tensor: &graph.Tensor{DType: graph.Int64, Shape: []int{1}, I64: []int64{0}}, Init: "onnx"},
		},
		Nodes: []*graph.Node{
			{Name: "to_time_major", Op: graph.OpTranspose, Inputs: []string{"x"}, Outputs: []string{"xt"}, Attrs: map[string]graph.Attr{"perm": attrInts(1, 0, 2)}},
			{Name: "lstm", Op: graph.OpLSTM, Inputs: []string{"xt", "W", "R", "B", "lengths"}, Outputs: []string{"Y", "Y_h"}, Attrs: map[string]graph.Attr{"hidden_size": attrInt(int64(H))}},
			{Name: "squeeze", Op: graph.OpSqueeze, Inputs: []string{"Y_h", "axes0"}, Outputs: []string{"h"}},
			{Name: "head", Op: graph.OpGemm, Inputs: []string{"h", "head_w", "head_b"}, Outputs: []string{"z"}, Attrs: map[string]graph.Attr{"transB": attrInt(1)}},
			{Name: "sigmoid", Op: graph.OpSigmoid, Inputs: []string{"z"}, Outputs: []string{"probs"}},
			{Name: "shape_of_w", Op: graph.OpShape, Inputs: []string{"W"}, Outputs: []string{"w_shape"}},
			// Dead: its output is never read, and it would fail (rank mismatch).
			{Name: "dead", Op: graph.OpMatMul, Inputs: []string{"lengths", "x"}, Outputs: []string{"unused"}},
		},
	}
}

func interpBatch(rng *rand.Rand, B, T, F int) map[string]*graph.Tensor {
	x := graph.NewTensor(graph.Float32, B, T, F)
	for i := range x.F32 {
		x.F32[i] = float32(rng.Float64()*2 - 1)
	}
	lens := graph.NewTensor(graph.Int32, B)
	for b := range lens.I32 {
		lens.I32[b] = int32(rng.IntN(T + 1))
	}
	return map[string]*graph.Tensor{"x": x, "lengths": lens}
}

func interpClone(in map[string]*graph.Tensor) map[string]*graph.Tensor {
	out := map[string]*graph.Tensor{}
	for k, v := range in {
		out[k] = clone(v, allocator{})
	}
	return out
}

func interpEqual(a, b *graph.Tensor) bool {
	return a.DType == b.DType && slices.Equal(a.Shape, b.Shape) && slices.Equal(a.F32, b.F32) &&
		slices.Equal(a.I64, b.I64) && slices.Equal(a.I32, b.I32)
}

// interpDirect computes probs with the kernels called by hand.
func interpDirect(t *testing.T, g *graph.Graph, in map[string]*graph.Tensor) *graph.Tensor {
	t.Helper()
	p := func(name string) *graph.Tensor { return g.Param(name).Tensor }
	xt, err := transpose(in["x"], []int64{1, 0, 2}, allocator{})
	if err != nil {
		t.Fatal(err)
	}
	out := rnnOutputs{WantYh: true}
	H := p("R").Shape[2]
	// The plan gives the kernel W and R transposed (transposeWeights).
	rin := rnnInputs{X: xt, W: p("W"), R: p("R"), B: p("B"), SeqLens: in["lengths"], WT: transposeDirs(p("W")), RT: transposeDirs(p("R"))}
	err = recurrent(graph.OpLSTM, rin, rnnAttrs{HiddenSize: H}, &out, nil, allocator{})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := squeeze(out.Yh, []int64{0}, allocator{})
	z, err := gemm(h, p("head_w"), p("head_b"), false, true, 1, 1, allocator{})
	if err != nil {
		t.Fatal(err)
	}
	probs, _ := unary(graph.OpSigmoid, z, allocator{})
	return probs
}

func TestInterpreterRunsClassifier(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	g := interpClassifier(rng, 3, 4, 2)
	if err := graph.Verify(g); err != nil {
		t.Fatal(err)
	}
	ip, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	// Batches of changing sizes: recycled buffers must never leak values
	// from one call into the next.
	for i, B := range []int{5, 2, 7, 1, 7, 3} {
		in := interpBatch(rng, B, 4+i%3, 3)
		saved := interpClone(in)
		out, err := ip.Run(in)
		if err != nil {
			t.Fatal(err)
		}
		if want := interpDirect(t, g, saved); !interpEqual(out["probs"], want) {
			t.Fatalf("batch %d: probs %v, want %v", i, out["probs"].F32, want.F32)
		}
		if !slices.Equal(out["w_shape"].I64, []int64{1, 16, 3}) {
			t.Fatalf("w_shape %v", out["w_shape"])
		}
		for k := range in {
			if !interpEqual(in[k], saved[k]) {
				t.Fatalf("input %q was modified", k)
			}
		}
		if len(out) != 2 {
			t.Fatalf("outputs %v", out)
		}
		// Outputs belong to the caller: scribbling on them changes nothing
		// for later calls (w_shape is a folded constant).
		out["w_shape"].I64[0] = 99
		clear(out["probs"].F32)
	}
}

func TestInterpreterConcurrentRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 2))
	g := interpClassifier(rng, 3, 5, 3)
	ip, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	const workers, calls = 4, 25
	batches := make([]map[string]*graph.Tensor, workers*calls)
	wants := make([]*graph.Tensor, len(batches))
	for i := range batches {
		batches[i] = interpBatch(rng, 1+i%6, 2+i%5, 3)
		wants[i] = interpDirect(t, g, batches[i])
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(batches))
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range calls {
				i := w*calls + c
				out, err := ip.Run(batches[i])
				if err != nil {
					errs <- err
					return
				}
				if !interpEqual(out["probs"], wants[i]) {
					errs <- fmt.Errorf("call %d: probs %v, want %v", i, out["probs"].F32, wants[i].F32)
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

func TestInterpreterInputErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	ip, err := New(interpClassifier(rng, 3, 4, 2))
	if err != nil {
		t.Fatal(err)
	}
	good := interpBatch(rng, 2, 5, 3)
	for _, c := range []struct {
		edit func(map[string]*graph.Tensor)
		want string
	}{
		{func(m map[string]*graph.Tensor) { m["y"] = m["x"] }, `unknown input "y" (the model's inputs are "x", "lengths")`},
		{func(m map[string]*graph.Tensor) { delete(m, "lengths") }, `missing input "lengths" (int32 [batch])`},
		{func(m map[string]*graph.Tensor) { m["x"] = graph.NewTensor(graph.Int32, 2, 5) }, `input "x": expected float32 [batch, time, 3], got int32 [2, 5]`},
		{func(m map[string]*graph.Tensor) { m["x"] = graph.NewTensor(graph.Float32, 2, 5, 4) }, `input "x": expected float32 [batch, time, 3], got float32 [2, 5, 4]`},
		{func(m map[string]*graph.Tensor) { m["lengths"] = graph.NewTensor(graph.Int32, 3) }, `input "lengths": dimension 0 (batch) is 3, but batch is 2 in input "x"`},
		{func(m map[string]*graph.Tensor) {
			m["x"] = &graph.Tensor{DType: graph.Float32, Shape: []int{2, 5, 3}, F32: make([]float32, 29)}
		},
			`input "x": 29 elements for shape [2, 5, 3] (30 expected)`},
		{func(m map[string]*graph.Tensor) { m["lengths"].I32[1] = 6 }, `node "lstm" (LSTM): sequence_lens[1] = 6 is outside [0, 5] (seq_length)`},
	} {
		in := interpClone(good)
		c.edit(in)
		_, err := ip.Run(in)
		if err == nil || err.Error() != c.want {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
	// The interpreter still works after failed calls.
	if _, err := ip.Run(good); err != nil {
		t.Fatal(err)
	}
}

func TestNewInterpreterErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for _, c := range []struct {
		edit func(*graph.Graph)
		want string
	}{
		{func(g *graph.Graph) { g.Form = graph.FormSequence }, `interpreter: graph "classifier" is in sequence form; the interpreter runs tensor-form graphs`},
		{func(g *graph.Graph) { g.Nodes[2].Inputs[0] = "nope" }, `node "squeeze" (Squeeze): input 0 "nope" is not defined before the node`},
		// A constant subgraph is evaluated at load time and reports there.
		{func(g *graph.Graph) {
			g.Nodes = append(g.Nodes, &graph.Node{Name: "bad_const", Op: graph.OpReshape, Inputs: []string{"W", "axes0"}, Outputs: []string{"w0"}})
			g.Outputs = append(g.Outputs, graph.Value{Name: "w0", DType: graph.Float32})
		}, `node "bad_const" (Reshape): cannot reshape [1, 16, 3] (48 elements) to [0]`},
		{func(g *graph.Graph) { g.Outputs[0].Name = "nothing" }, `output "nothing" is not produced by any node, input or parameter`},
		{func(g *graph.Graph) { g.Nodes[5].Op = graph.OpLastStep }, `node "shape_of_w" (LastStep): not an ONNX operator`},
	} {
		g := interpClassifier(rng, 3, 4, 2)
		c.edit(g)
		_, err := New(g)
		if err == nil || err.Error() != c.want {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
	if _, err := New(nil); err == nil {
		t.Error("nil graph accepted")
	}
}

// TestInterpreterOutputIsInput: a graph output that is a graph input or a
// parameter is handed out as a copy.
func TestInterpreterOutputIsInput(t *testing.T) {
	p := &graph.Tensor{DType: graph.Float32, Shape: []int{2}, F32: []float32{1, 2}}
	g := &graph.Graph{
		Form:    graph.FormTensor,
		Inputs:  []graph.Value{{Name: "a", DType: graph.Float32, Shape: graph.Shape{graph.Fixed(2)}}},
		Outputs: []graph.Value{{Name: "a", DType: graph.Float32}, {Name: "p", DType: graph.Float32}},
		Params:  []*graph.Param{{Name: "p", Tensor: p, Init: "onnx"}},
	}
	ip, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	a := &graph.Tensor{DType: graph.Float32, Shape: []int{2}, F32: []float32{3, 4}}
	out, err := ip.Run(map[string]*graph.Tensor{"a": a})
	if err != nil {
		t.Fatal(err)
	}
	out["a"].F32[0], out["p"].F32[0] = -1, -1
	if a.F32[0] != 3 || p.F32[0] != 1 {
		t.Fatal("an output aliases an input or a parameter")
	}
}

// TestInterpreterSteadyStateAllocations: once its buffers have been
// recycled, a call allocates its result only: the map (2 allocations) and
// the two output tensors (3 each: the tensor, its shape, its data), none
// per node.
func TestInterpreterSteadyStateAllocations(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	ip, err := New(interpClassifier(rng, 8, 32, 4))
	if err != nil {
		t.Fatal(err)
	}
	in := interpBatch(rng, 16, 20, 8)
	run := func() {
		if _, err := ip.Run(in); err != nil {
			t.Fatal(err)
		}
	}
	run()
	if interpRace {
		t.Skip("the race detector makes sync.Pool drop states")
	}
	if n := testing.AllocsPerRun(20, run); n > 8 {
		t.Fatalf("a steady-state call allocates %v times", n)
	}
}

func TestInterpreterNodeErrorNamesNode(t *testing.T) {
	g := &graph.Graph{
		Form: graph.FormTensor,
		Inputs: []graph.Value{
			{Name: "a", DType: graph.Int64},
			{Name: "b", DType: graph.Int64},
		},
		Outputs: []graph.Value{{Name: "q", DType: graph.Int64}},
		Nodes:   []*graph.Node{{Op: graph.OpDiv, Inputs: []string{"a", "b"}, Outputs: []string{"q"}}},
	}
	ip, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ip.Run(map[string]*graph.Tensor{
		"a": {DType: graph.Int64, Shape: []int{1}, I64: []int64{1}},
		"b": {DType: graph.Int64, Shape: []int{1}, I64: []int64{0}},
	})
	if err == nil || err.Error() != "node 0 (Div): integer division by zero" {
		t.Fatalf("error %v", err)
	}
	if strings.Contains(fmt.Sprint(err), "\n") {
		t.Fatal("multi-line error")
	}
}

// BenchmarkInterpreterClassifier runs the classifier on a batch the size of
// the paper's setting (32 sequences of up to 48 hourly steps, 13 features,
// 64 hidden units, 128 labels).
func BenchmarkInterpreterClassifier(b *testing.B) {
	rng := rand.New(rand.NewPCG(6, 6))
	ip, err := New(interpClassifier(rng, 13, 64, 128))
	if err != nil {
		b.Fatal(err)
	}
	in := interpBatch(rng, 32, 48, 13)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ip.Run(in); err != nil {
			b.Fatal(err)
		}
	}
}

// TestInterpreterRunArgs: RunArgs gives what Run gives, with the inputs
// and outputs by position, which InputIndex and OutputIndex find; outputs
// given back are reused without changing later results, and its own
// argument errors are messages.
func TestInterpreterRunArgs(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	g := interpClassifier(rng, 3, 4, 2)
	ip, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	if got := ip.InputNames(); !slices.Equal(got, []string{"x", "lengths"}) {
		t.Fatalf("InputNames %v", got)
	}
	if got := ip.OutputNames(); !slices.Equal(got, []string{"probs", "w_shape"}) {
		t.Fatalf("OutputNames %v", got)
	}
	if ip.NumInputs() != 2 || ip.NumOutputs() != 2 || ip.InputIndex("lengths") != 1 || ip.InputIndex("x") != 0 || ip.InputIndex("probs") != -1 ||
		ip.OutputIndex("w_shape") != 1 || ip.OutputIndex("probs") != 0 || ip.OutputIndex("x") != -1 {
		t.Fatalf("positions: %d inputs, %d outputs, lengths %d, x %d, probs among inputs %d, w_shape %d, probs %d, x among outputs %d",
			ip.NumInputs(), ip.NumOutputs(), ip.InputIndex("lengths"), ip.InputIndex("x"), ip.InputIndex("probs"),
			ip.OutputIndex("w_shape"), ip.OutputIndex("probs"), ip.OutputIndex("x"))
	}
	outs := make([]*graph.Tensor, 2)
	for i, B := range []int{3, 3, 1, 4} {
		in := interpBatch(rng, B, 5, 3)
		want, err := ip.Run(interpClone(in))
		if err != nil {
			t.Fatal(err)
		}
		if err := ip.RunArgs([]*graph.Tensor{in["x"], in["lengths"]}, outs); err != nil {
			t.Fatal(err)
		}
		if !interpEqual(outs[0], want["probs"]) || !interpEqual(outs[1], want["w_shape"]) {
			t.Fatalf("call %d: RunArgs gives %v %v, Run %v %v", i, outs[0], outs[1], want["probs"], want["w_shape"])
		}
	}
	if !interpRace {
		in := interpBatch(rng, 4, 5, 3)
		args := []*graph.Tensor{in["x"], in["lengths"]}
		run := func() {
			if err := ip.RunArgs(args, outs); err != nil {
				t.Fatal(err)
			}
		}
		run()
		byName := testing.AllocsPerRun(20, func() { ip.Run(in) })
		if n := testing.AllocsPerRun(20, run); n != 0 || byName != 8 {
			t.Errorf("RunArgs with its outputs given back allocates %v times, Run %v: want 0, and 8 for the map and the two output tensors", n, byName)
		}
	}
	if err := ip.RunArgs([]*graph.Tensor{nil, nil}, outs); err == nil || err.Error() != `missing input "x" (float32 [batch, time, 3])` {
		t.Errorf("nil input: error %v", err)
	}
	if err := ip.RunArgs(nil, outs); err == nil || err.Error() != "RunArgs: 0 inputs and 2 outputs given, the model has 2 and 2" {
		t.Errorf("no inputs: error %v", err)
	}
}

// TestInterpreterMovesDeadReshapeInputs: Flatten, Reshape and Squeeze
// whose input no later step reads give that tensor the new shape instead
// of copying it; one whose input is read later, is the caller's, or is a
// graph output copies it. Either way the results, the caller's tensors and
// the outputs of an earlier call stay as they were.
func TestInterpreterMovesDeadReshapeInputs(t *testing.T) {
	axes := &graph.Tensor{DType: graph.Int64, Shape: []int{1}, I64: []int64{0}}
	shape := &graph.Tensor{DType: graph.Int64, Shape: []int{2}, I64: []int64{1, -1}}
	g := ctlGraph("moves", []graph.Value{f32("x", 1, 2, 3)}, []string{"flat", "r2", "sq_x", "twice"},
		ctlNode(graph.OpRelu, []string{"x"}, []string{"r"}),
		ctlNode(graph.OpReshape, []string{"r", "shape"}, []string{"r1"}),
		ctlNode(graph.OpRelu, []string{"x"}, []string{"r2"}),
		ctlNode(graph.OpFlatten, []string{"r2"}, []string{"flat"}, "axis", graph.Attr{Kind: graph.AttrInt, Int: 1}),
		ctlNode(graph.OpSqueeze, []string{"x", "axes"}, []string{"sq_x"}),
		ctlNode(graph.OpSqueeze, []string{"r1", "axes"}, []string{"r1s"}),
		ctlNode(graph.OpAdd, []string{"r1s", "r1s"}, []string{"twice"}),
	)
	g.Params = []*graph.Param{{Name: "axes", Tensor: axes, Init: "onnx"}, {Name: "shape", Tensor: shape, Init: "onnx"}}
	ip, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	moves := map[string]bool{}
	for _, s := range ip.steps {
		switch k := s.kernel.(type) {
		case *reshapeKernel:
			moves[s.where] = k.move
		case *flattenKernel:
			moves[s.where] = k.move
		case *squeezeKernel:
			moves[s.where] = k.move
		}
	}
	want := map[string]bool{`node "r1" (Reshape)`: true, `node "flat" (Flatten)`: false, `node "sq_x" (Squeeze)`: false, `node "r1s" (Squeeze)`: true}
	if !maps.Equal(moves, want) {
		t.Fatalf("moves %v, want %v", moves, want)
	}
	x := &graph.Tensor{DType: graph.Float32, Shape: []int{1, 2, 3}, F32: []float32{1, -2, 3, -4, 5, -6}}
	first, err := ip.Run(map[string]*graph.Tensor{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	kept := clone(first["twice"], allocator{})
	y := &graph.Tensor{DType: graph.Float32, Shape: []int{1, 2, 3}, F32: []float32{-1, 7, -1, 7, -1, 7}}
	second, err := ip.Run(map[string]*graph.Tensor{"x": y})
	if err != nil {
		t.Fatal(err)
	}
	onnxMustEqual(t, "first call's output after the second", first["twice"], kept)
	onnxMustEqual(t, "twice", second["twice"], &graph.Tensor{DType: graph.Float32, Shape: []int{6}, F32: []float32{0, 14, 0, 14, 0, 14}})
	onnxMustEqual(t, "flat", second["flat"], &graph.Tensor{DType: graph.Float32, Shape: []int{1, 6}, F32: []float32{0, 7, 0, 7, 0, 7}})
	onnxMustEqual(t, "r2", second["r2"], &graph.Tensor{DType: graph.Float32, Shape: []int{1, 2, 3}, F32: []float32{0, 7, 0, 7, 0, 7}})
	onnxMustEqual(t, "sq_x", second["sq_x"], &graph.Tensor{DType: graph.Float32, Shape: []int{2, 3}, F32: y.F32})
	if !slices.Equal(y.Shape, []int{1, 2, 3}) {
		t.Errorf("the caller's input has shape %v", y.Shape)
	}
}
