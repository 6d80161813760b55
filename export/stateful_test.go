package export_test

// The stateful model: a sequence fed in chunks, each chunk's state outputs
// passed back as the next chunk's state inputs, gives at every chunk end the
// probs that the model without state gives on the whole prefix, in ONNX
// Runtime and in trnn's interpreter.
//
// Shape legend: B rows, T steps of a chunk, F features, K labels, H hidden.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/ortcheck"
	"github.com/trnn/trnn/runtime"
	"github.com/trnn/trnn/runtime/interp"
)

// chunkTol is the largest difference accepted between the probabilities
// at a chunk end and those of the whole prefix.
const chunkTol = 1e-6

// runFunc runs a model in some runtime.
type runFunc func(map[string]*graph.Tensor) (map[string]*graph.Tensor, error)

// statefulCases are the models the chunking tests export.
func statefulCases() []progConfig {
	return []progConfig{
		{name: "quickstart", layers: []compiler.Layer{lstm(32)}, F: 3, K: 1, normalize: true, seed: 21},
		{name: "stack", layers: []compiler.Layer{lstm(7), dropout(0.3), gru(5)}, F: 4, K: 3, seed: 22, opset: 14},
		{name: "gru-lstm", layers: []compiler.Layer{gru(6), lstm(4)}, F: 2, K: 2, normalize: true, stepProbs: true, seed: 23, opset: 21},
	}
}

// stateValues lists a stateful model's state inputs with their widths.
func stateValues(t *testing.T, g *graph.Graph) (names []string, widths []int) {
	t.Helper()
	for _, v := range g.Inputs {
		if _, ok := export.StatePair(v.Name); ok {
			names, widths = append(names, v.Name), append(widths, v.Shape[1].Size)
		}
	}
	if len(names) == 0 {
		t.Fatalf("%s: no state inputs among %v", g.Name, g.Inputs)
	}
	return names, widths
}

// randomSeqs draws B sequences of 1..maxT steps.
func randomSeqs(rng *rand.Rand, B, maxT, F int) [][][]float32 {
	seqs := make([][][]float32, B)
	for b := range seqs {
		seqs[b] = make([][]float32, 1+rng.IntN(maxT))
		for s := range seqs[b] {
			step := make([]float32, F)
			for f := range step {
				step[f] = float32(rng.Float64()*4 - 2)
			}
			seqs[b][s] = step
		}
	}
	return seqs
}

// padded builds x [B, T, F] from rows[b] (garbage past each row) and lengths.
func padded(rows [][][]float32, F int) (x, lengths *graph.Tensor) {
	T := 0
	for _, r := range rows {
		T = max(T, len(r))
	}
	x = graph.NewTensor(graph.Float32, len(rows), T, F)
	lengths = graph.NewTensor(graph.Int32, len(rows))
	for b, r := range rows {
		lengths.I32[b] = int32(len(r))
		for s := range T {
			for f := range F {
				v := garbage(b, s)
				if s < len(r) {
					v = r[s][f]
				}
				x.F32[(b*T+s)*F+f] = v
			}
		}
	}
	return x, lengths
}

// chunkEnd is the probs a stateful run gave for row b after its first end
// steps.
type chunkEnd struct {
	b, end int
	probs  []float32
}

// feedInChunks feeds seqs to the stateful model in calls of B rows at once,
// each row taking a random chunk of 0..maxChunk of its next steps per call
// (a chunk of 0 steps included), state passed back from call to call. It
// returns the probs at every chunk end of every row that has begun.
func feedInChunks(t *testing.T, run runFunc, names []string, widths []int, seqs [][][]float32, F, maxChunk int, rng *rand.Rand) []chunkEnd {
	t.Helper()
	B := len(seqs)
	state := map[string]*graph.Tensor{}
	for i, n := range names {
		state[n] = graph.NewTensor(graph.Float32, B, widths[i])
		if n == export.FillInput {
			for j := range state[n].F32 {
				state[n].F32[j] = float32(math.NaN()) // nothing observed yet
			}
		}
	}
	pos := make([]int, B)
	var ends []chunkEnd
	for !slices.EqualFunc(pos, seqs, func(p int, s [][]float32) bool { return p == len(s) }) {
		rows := make([][][]float32, B)
		for b, s := range seqs {
			rows[b] = s[pos[b]:min(len(s), pos[b]+rng.IntN(maxChunk+1))]
		}
		if slices.IndexFunc(rows, func(r [][]float32) bool { return len(r) > 0 }) < 0 {
			continue
		}
		x, lengths := padded(rows, F)
		in := map[string]*graph.Tensor{graph.ValueX: x, graph.ValueLengths: lengths}
		for n, v := range state {
			in[n] = v
		}
		out, err := run(in)
		if err != nil {
			t.Fatal(err)
		}
		K := out[graph.ValueProbs].Shape[1]
		for b := range B {
			pos[b] += len(rows[b])
			if pos[b] > 0 {
				ends = append(ends, chunkEnd{b: b, end: pos[b], probs: out[graph.ValueProbs].F32[b*K : (b+1)*K]})
			}
		}
		for _, n := range names {
			o, _ := export.StatePair(n)
			state[n] = out[o]
		}
	}
	return ends
}

// checkChunkEnds compares every chunk end's probs with those the model
// without state gives on the prefix, and returns the largest difference.
func checkChunkEnds(t *testing.T, who string, plain runFunc, seqs [][][]float32, ends []chunkEnd, F int) float64 {
	t.Helper()
	prefixes := make([][][]float32, len(ends))
	for i, e := range ends {
		prefixes[i] = seqs[e.b][:e.end]
	}
	x, lengths := padded(prefixes, F)
	out, err := plain(map[string]*graph.Tensor{graph.ValueX: x, graph.ValueLengths: lengths})
	if err != nil {
		t.Fatal(err)
	}
	want := out[graph.ValueProbs]
	K := want.Shape[1]
	worst := 0.0
	for i, e := range ends {
		for k, v := range e.probs {
			d := math.Abs(float64(v - want.F32[i*K+k]))
			if !(d <= chunkTol) {
				t.Fatalf("%s: row %d after %d steps, label %d: chunked probs %v, whole prefix %v", who, e.b, e.end, k, v, want.F32[i*K+k])
			}
			worst = max(worst, d)
		}
	}
	return worst
}

// loadRun runs a model through the embedding API's Session.Run.
func loadRun(t *testing.T, name string, model []byte) runFunc {
	t.Helper()
	s, err := trnn.LoadBytes(name, model)
	if err != nil {
		t.Fatal(err)
	}
	return s.Run
}

func ortRunner(t *testing.T, model []byte, g *graph.Graph) runFunc {
	t.Helper()
	var ins, outs []string
	for _, v := range g.Inputs {
		ins = append(ins, v.Name)
	}
	for _, v := range g.Outputs {
		outs = append(outs, v.Name)
	}
	s, err := ortcheck.Open(model, ins, outs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s.Run
}

// TestStatefulChunksMatchWholeSequence: random sequences fed in random
// chunks to the stateful model give the whole prefix's probs at every chunk
// end, in ONNX Runtime and in trnn's interpreter.
func TestStatefulChunksMatchWholeSequence(t *testing.T) {
	ortcheck.Require(t)
	for _, c := range statefulCases() {
		prog := testProgram(t, c)
		plainBytes := exportBytes(t, prog, export.Options{Version: testVersion})
		stateBytes := exportBytes(t, prog, export.Options{Version: testVersion, Stateful: true})
		g, err := export.DecodeONNX(c.name+".onnx", stateBytes)
		if err != nil {
			t.Fatalf("%s: reading the stateful model: %v", c.name, err)
		}
		names, widths := stateValues(t, g)
		plainGraph, err := export.DecodeONNX(c.name+".onnx", plainBytes)
		if err != nil {
			t.Fatal(err)
		}
		runtimes := []struct {
			who          string
			plain, state runFunc
		}{
			{"onnx runtime", ortRunner(t, plainBytes, plainGraph), ortRunner(t, stateBytes, g)},
			{"go runtime", goRuntime(t, "plain.onnx", plainBytes).Run, goRuntime(t, "step.onnx", stateBytes).Run},
			{"trnn.LoadBytes", loadRun(t, "plain.onnx", plainBytes), loadRun(t, "step.onnx", stateBytes)},
		}
		for _, r := range runtimes {
			rng := rand.New(rand.NewPCG(c.seed, 5))
			worst := 0.0
			for trial := range 4 {
				seqs := randomSeqs(rng, 1+rng.IntN(6), 40, c.F)
				ends := feedInChunks(t, r.state, names, widths, seqs, c.F, []int{1, 3, 9, 40}[trial], rng)
				worst = max(worst, checkChunkEnds(t, c.name+" "+r.who, r.plain, seqs, ends, c.F))
			}
			t.Logf("%s, %s: state %v; max |chunked − whole prefix| = %.2g", c.name, r.who, names, worst)
		}
	}
}

// TestStatefulEmptyChunkKeepsState: a row whose chunk has no step gets back
// its input state bit for bit, and the probs of that state.
func TestStatefulEmptyChunkKeepsState(t *testing.T) {
	ortcheck.Require(t)
	c := statefulCases()[1]
	prog := testProgram(t, c)
	model := exportBytes(t, prog, export.Options{Stateful: true})
	g, err := export.DecodeONNX("step.onnx", model)
	if err != nil {
		t.Fatal(err)
	}
	names, widths := stateValues(t, g)
	rng := rand.New(rand.NewPCG(3, 4))
	seqs := randomSeqs(rng, 3, 5, c.F)
	seqs[1] = nil
	x, lengths := padded(seqs, c.F)
	in := map[string]*graph.Tensor{graph.ValueX: x, graph.ValueLengths: lengths}
	for i, n := range names {
		s := graph.NewTensor(graph.Float32, 3, widths[i])
		for j := range s.F32 {
			s.F32[j] = float32(rng.Float64()*2 - 1)
		}
		in[n] = s
	}
	for _, r := range []struct {
		who string
		run runFunc
	}{{"onnx runtime", ortRunner(t, model, g)}, {"go runtime", goRuntime(t, "step.onnx", model).Run}} {
		out, err := r.run(in)
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range names {
			o, _ := export.StatePair(n)
			H := widths[i]
			if got, want := out[o].F32[H:2*H], in[n].F32[H:2*H]; !slices.Equal(got, want) {
				t.Errorf("%s: %s of the empty row = %v, want its %s %v", r.who, o, got, n, want)
			}
		}
		// The head on the top layer's carried state.
		H := widths[len(widths)-1]
		top := in[names[len(names)-1]].F32[H : 2*H]
		W, bias := prog.Graph.Param("head.W").Tensor.F32, prog.Graph.Param("head.b").Tensor.F32
		for k := range c.K {
			z := float64(bias[k])
			for j, h := range top {
				z += float64(W[k*H+j]) * float64(h)
			}
			if got, want := out[graph.ValueProbs].F32[c.K+k], 1/(1+math.Exp(-z)); math.Abs(float64(got)-want) > parityTol {
				t.Errorf("%s: probs of the empty row, label %d = %v, want %v from its state", r.who, k, got, want)
			}
		}
	}
}

// TestORTLengthZeroDropsInitialState records the ONNX Runtime behaviour the
// stateful model works around: an LSTM row with sequence_lens 0 gets
// Y_h = Y_c = 0, not its initial_h and initial_c; a GRU row gets Y_h = 0.
// trnn's interpreter does the same.
func TestORTLengthZeroDropsInitialState(t *testing.T) {
	ortcheck.Require(t)
	t.Logf("ONNX Runtime %s", ortcheck.Version())
	for _, op := range []string{"LSTM", "GRU"} {
		model, inputs := zeroLengthModel(op)
		b, err := proto.Marshal(model)
		if err != nil {
			t.Fatal(err)
		}
		outs := []string{"Y_h"}
		if op == "LSTM" {
			outs = append(outs, "Y_c")
		}
		ort, err := ortcheck.Run(b, inputs, outs)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		goOut, err := goRuntime(t, op+".onnx", b).Run(inputs)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		for _, o := range outs {
			for who, got := range map[string]*graph.Tensor{"onnx runtime": ort[o], "go runtime": goOut[o]} {
				// Row 1 has length 0, row 0 one step.
				if row := got.F32[2:4]; row[0] != 0 || row[1] != 0 {
					t.Errorf("%s %s: %s of the length-0 row = %v, want 0 (initial state %v)", who, op, o, row, inputs["h0"].F32[2:4])
				}
				if row := got.F32[0:2]; row[0] == 0 && row[1] == 0 {
					t.Errorf("%s %s: %s of the row with one step is 0", who, op, o)
				}
			}
		}
	}
}

// zeroLengthModel is an LSTM or GRU (hidden 2, input 1) with inputs X
// [T, B, 1], sequence_lens, h0 (and c0 for the LSTM) [1, B, 2], and the
// inputs for a batch of two rows, of lengths 1 and 0, with nonzero initial
// state.
func zeroLengthModel(op string) (*onnxpb.ModelProto, map[string]*graph.Tensor) {
	G := 4
	if op == "GRU" {
		G = 3
	}
	ones := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = 0.5
		}
		return v
	}
	m := readModel(17)
	g := m.Graph
	g.Input = []*onnxpb.ValueInfoProto{
		readValue("X", onnxpb.TensorProto_FLOAT, "time", "batch", 1),
		readValue("L", onnxpb.TensorProto_INT32, "batch"),
		readValue("h0", onnxpb.TensorProto_FLOAT, 1, "batch", 2),
	}
	in := []string{"X", "W", "R", "", "L", "h0"}
	outs := []string{"", "Y_h"}
	inputs := map[string]*graph.Tensor{
		"X":  {DType: graph.Float32, Shape: []int{1, 2, 1}, F32: []float32{1, 1}},
		"L":  {DType: graph.Int32, Shape: []int{2}, I32: []int32{1, 0}},
		"h0": {DType: graph.Float32, Shape: []int{1, 2, 2}, F32: []float32{0.3, -0.2, 0.7, 0.4}},
	}
	g.Output = []*onnxpb.ValueInfoProto{readValue("Y_h", onnxpb.TensorProto_FLOAT, 1, "batch", 2)}
	if op == "LSTM" {
		g.Input = append(g.Input, readValue("c0", onnxpb.TensorProto_FLOAT, 1, "batch", 2))
		g.Output = append(g.Output, readValue("Y_c", onnxpb.TensorProto_FLOAT, 1, "batch", 2))
		in, outs = append(in, "c0"), append(outs, "Y_c")
		inputs["c0"] = &graph.Tensor{DType: graph.Float32, Shape: []int{1, 2, 2}, F32: []float32{-0.5, 0.6, 0.8, -0.9}}
	}
	g.Initializer = []*onnxpb.TensorProto{
		readF32Init("W", []int64{1, int64(G * 2), 1}, ones(G*2)...),
		readF32Init("R", []int64{1, int64(G * 2), 2}, ones(G*4)...),
	}
	g.Node = []*onnxpb.NodeProto{readNode("rnn", op, in, outs, readAttrInt("hidden_size", 2))}
	return m, inputs
}

// TestStatefulInterface: the stateful model declares x, lengths and the
// state of each recurrent layer, in layer order, with the design's names
// and shapes, and WithState rebuilds it from the model without state.
func TestStatefulInterface(t *testing.T) {
	c := statefulCases()[1] // lstm7, dropout, gru5
	prog := testProgram(t, c)
	direct, err := export.DecodeONNX("step.onnx", exportBytes(t, prog, export.Options{Stateful: true, Version: testVersion}))
	if err != nil {
		t.Fatal(err)
	}
	wantIn := []string{"x", "lengths", "h_in_0", "c_in_0", "h_in_1"}
	wantOut := []string{"probs", "h_out_0", "c_out_0", "h_out_1"}
	names := func(vs []graph.Value) []string {
		var s []string
		for _, v := range vs {
			s = append(s, v.Name)
		}
		return s
	}
	if got := names(direct.Inputs); !slices.Equal(got, wantIn) {
		t.Errorf("inputs %v, want %v", got, wantIn)
	}
	if got := names(direct.Outputs); !slices.Equal(got, wantOut) {
		t.Errorf("outputs %v, want %v", got, wantOut)
	}
	for _, v := range append(direct.Inputs[2:], direct.Outputs[1:]...) {
		H := 7
		if v.Name[len(v.Name)-1] == '1' {
			H = 5
		}
		if want := fmt.Sprintf("[batch,%d]", H); v.DType != graph.Float32 || v.Shape.String() != want {
			t.Errorf("%s: %v %v, want float32 %s", v.Name, v.DType, v.Shape, want)
		}
	}

	rebuilt, ok, err := export.WithState(decodedExport(t, c))
	if !ok || err != nil {
		t.Fatalf("WithState: ok %v, %v", ok, err)
	}
	if got := names(rebuilt.Inputs); !slices.Equal(got, wantIn) {
		t.Errorf("rebuilt inputs %v, want %v", got, wantIn)
	}
	if again, ok, err := export.WithState(rebuilt); again != rebuilt || !ok || err != nil {
		t.Errorf("WithState of a stateful model: %p, %v, %v; want itself", again, ok, err)
	}
	if out, ok, err := export.WithState(nil); out != nil || ok || err != nil {
		t.Errorf("WithState(nil): %v, %v, %v", out, ok, err)
	}
}

func TestStatePair(t *testing.T) {
	for in, want := range map[string]string{"h_in_0": "h_out_0", "c_in_12": "c_out_12", "fill_in": "fill_out"} {
		if got, ok := export.StatePair(in); !ok || got != want {
			t.Errorf("StatePair(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"x", "h_in_", "h_in_01", "h_in_-1", "z_in_0", "h_out_0", "lengths", "h_in_0x"} {
		if got, ok := export.StatePair(in); ok {
			t.Errorf("StatePair(%q) = %q, true; want not a state input", in, got)
		}
	}
}

// TestStreamGraph: trimmed for a stream, the stateful graph keeps only
// probs and the state outputs, without the nodes that keep an empty row's
// state or compute step_probs, gives the same outputs bit for bit on rows
// that all have steps, and leaves the graph it was given alone.
func TestStreamGraph(t *testing.T) {
	for _, c := range statefulCases() {
		model := exportBytes(t, testProgram(t, c), export.Options{Stateful: true, StepProbs: true})
		g, err := export.DecodeONNX("step.onnx", model)
		if err != nil {
			t.Fatal(err)
		}
		nodes, outputs := len(g.Nodes), len(g.Outputs)
		lean, ok := export.StreamGraph(g)
		if !ok {
			t.Fatalf("%s: not a stateful graph", c.name)
		}
		names, _ := stateValues(t, g)
		if len(g.Nodes) != nodes || len(g.Outputs) != outputs {
			t.Errorf("%s: the graph given changed", c.name)
		}
		if len(lean.Outputs) != 1+len(names) || lean.Outputs[0].Name != graph.ValueProbs {
			t.Errorf("%s: outputs %v, want probs and the state", c.name, lean.Outputs)
		}
		for _, op := range []graph.Op{graph.OpWhere, graph.OpGreater, graph.OpMatMul, graph.OpMul} {
			if slices.ContainsFunc(lean.Nodes, func(n *graph.Node) bool { return n.Op == op }) {
				t.Errorf("%s: a %v node is left", c.name, op)
			}
		}
		for _, op := range []graph.Op{graph.OpUnsqueeze, graph.OpSqueeze} {
			if n := slices.IndexFunc(lean.Nodes, func(n *graph.Node) bool {
				return n.Op == op && slices.ContainsFunc(names, func(s string) bool { return n.Inputs[0] == s })
			}); n >= 0 {
				t.Errorf("%s: %v of a state input left", c.name, op)
			}
		}
		checkStreamGraphRuns(t, c, g, lean)
		t.Logf("%s: %d nodes, %d for a stream", c.name, nodes, len(lean.Nodes))
	}
	if _, ok := export.StreamGraph(decodedExport(t, statefulCases()[0])); ok {
		t.Error("a model without state: ok")
	}
}

// checkStreamGraphRuns runs the stateful graph g and its trimmed form lean
// on rows that all have steps, and compares the outputs lean keeps: the
// same data, the state as [1, B, W].
func checkStreamGraphRuns(t *testing.T, c progConfig, g, lean *graph.Graph) {
	t.Helper()
	names, widths := stateValues(t, g)
	full, err := interpRun(g)
	if err != nil {
		t.Fatal(err)
	}
	short, err := interpRun(lean)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(c.seed, 6))
	seqs := randomSeqs(rng, 5, 9, c.F)
	x, lengths := padded(seqs, c.F)
	in := map[string]*graph.Tensor{graph.ValueX: x, graph.ValueLengths: lengths}
	leanIn := map[string]*graph.Tensor{graph.ValueX: x, graph.ValueLengths: lengths}
	for i, n := range names {
		s := graph.NewTensor(graph.Float32, len(seqs), widths[i])
		for j := range s.F32 {
			s.F32[j] = float32(rng.Float64() - 0.5)
		}
		in[n], leanIn[n] = s, &graph.Tensor{DType: s.DType, Shape: append([]int{1}, s.Shape...), F32: s.F32}
	}
	a, err := full(in)
	if err != nil {
		t.Fatal(err)
	}
	b, err := short(leanIn)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range lean.Outputs {
		if !slices.Equal(a[o.Name].F32, b[o.Name].F32) {
			t.Errorf("%s: output %s differs in the trimmed graph", c.name, o.Name)
		}
		if want := a[o.Name].Shape; o.Name != graph.ValueProbs {
			want = append([]int{1}, want...)
			if !slices.Equal(b[o.Name].Shape, want) || o.Shape.String() != fmt.Sprintf("[1,batch,%d]", want[2]) {
				t.Errorf("%s: output %s is %v, declared %v; want %v, [1,batch,W]", c.name, o.Name, b[o.Name].Shape, o.Shape, want)
			}
		}
	}
}

func interpRun(g *graph.Graph) (runFunc, error) {
	ip, err := interp.New(g)
	if err != nil {
		return nil, err
	}
	return ip.Run, nil
}

// TestStatefulONNXChecker: onnx.checker (full check, with shape inference)
// accepts the stateful models, with step_probs too.
func TestStatefulONNXChecker(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for _, c := range statefulCases() {
		if c.opset > 17 {
			c.opset = 17 // the checker's onnx release knows opsets up to 17
		}
		for _, steps := range []bool{false, true} {
			path := filepath.Join(dir, fmt.Sprintf("%s-steps%v.onnx", c.name, steps))
			opts := export.Options{Opset: c.opset, StepProbs: steps, Stateful: true, Version: testVersion}
			if err := runtime.WriteModelFile(path, testProgram(t, c), opts); err != nil {
				t.Fatal(err)
			}
			paths = append(paths, path)
		}
	}
	res := runChecker(t, paths)
	for _, p := range paths {
		if r := res[p]; r != "ok" {
			t.Errorf("%s: onnx.checker: %q", filepath.Base(p), r)
		}
	}
}
