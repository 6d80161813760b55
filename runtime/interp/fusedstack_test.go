package interp

import (
	"fmt"
	"math/rand/v2"
	"os"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
)

// stackSpec describes a stacked classifier graph: x → Transpose → layer 0
// → Y → Squeeze [1] → layer 1 → … → Y_h → Squeeze → Gemm → Sigmoid, as
// trnn exports one.
type stackSpec struct {
	ops     []graph.Op // each layer's: LSTM or GRU
	H       []int      // each layer's hidden size
	F       int
	seqLens bool
	h0      bool   // the bottom layer takes initial_h (and initial_c)
	peep    bool   // LSTM layers have peepholes
	axes    string // the Squeezes' axes: "1" (default), "-3" or "none"
	lowerYh bool   // the bottom layer's Y_h is a graph output too
	reverse bool   // the bottom layer runs in reverse
	ownLens bool   // the bottom layer has no sequence_lens of its own
}

func (s stackSpec) String() string {
	return fmt.Sprintf("%v H=%v lens=%v h0=%v peep=%v axes=%q", s.ops, s.H, s.seqLens, s.h0, s.peep, s.axes)
}

// graph builds s's classifier with random weights.
func (s stackSpec) graph(rng *rand.Rand) *graph.Graph {
	randT := func(shape ...int) *graph.Tensor { return uniformTensor(rng, 0.7, shape...) }
	i64 := func(v ...int64) *graph.Tensor {
		return &graph.Tensor{DType: graph.Int64, Shape: []int{len(v)}, I64: v}
	}
	num := func(v int64) graph.Attr { return graph.Attr{Kind: graph.AttrInt, Int: v} }
	top := s.H[len(s.H)-1]
	g := &graph.Graph{Name: "stack", Form: graph.FormTensor,
		Inputs: []graph.Value{{Name: "x", DType: graph.Float32, Shape: graph.Shape{graph.Sym("batch"), graph.Sym("time"), graph.Fixed(s.F)}}},
		Params: []*graph.Param{
			{Name: "head_w", Tensor: randT(1, top)}, {Name: "head_b", Tensor: randT(1)},
			{Name: "axes0", Tensor: i64(0)}, {Name: "axes1", Tensor: i64(1)}, {Name: "axes_3", Tensor: i64(-3)},
		},
		Outputs: []graph.Value{{Name: "probs", DType: graph.Float32}},
		Nodes:   []*graph.Node{{Name: "tm", Op: graph.OpTranspose, Inputs: []string{"x"}, Outputs: []string{"x0"}, Attrs: map[string]graph.Attr{"perm": {Kind: graph.AttrInts, Ints: []int64{1, 0, 2}}}}},
	}
	if s.seqLens {
		g.Inputs = append(g.Inputs, graph.Value{Name: "lengths", DType: graph.Int32, Shape: graph.Shape{graph.Sym("batch")}})
	}
	I := s.F
	for l, op := range s.ops {
		gates := map[graph.Op]int{graph.OpLSTM: 4, graph.OpGRU: 3}[op]
		H, p := s.H[l], fmt.Sprintf("l%d.", l)
		g.Params = append(g.Params, &graph.Param{Name: p + "W", Tensor: randT(1, gates*H, I)},
			&graph.Param{Name: p + "R", Tensor: randT(1, gates*H, H)}, &graph.Param{Name: p + "B", Tensor: randT(1, 2*gates*H)})
		in := []string{fmt.Sprintf("x%d", l), p + "W", p + "R", p + "B", "", "", "", ""}
		if s.seqLens && !(l == 0 && s.ownLens) {
			in[4] = "lengths"
		}
		if l == 0 && s.h0 {
			shape := graph.Shape{graph.Fixed(1), graph.Sym("batch"), graph.Fixed(H)}
			g.Inputs = append(g.Inputs, graph.Value{Name: "h0", DType: graph.Float32, Shape: shape})
			in[5] = "h0"
			if op == graph.OpLSTM {
				g.Inputs = append(g.Inputs, graph.Value{Name: "c0", DType: graph.Float32, Shape: shape})
				in[6] = "c0"
			}
		}
		if s.peep && op == graph.OpLSTM {
			g.Params = append(g.Params, &graph.Param{Name: p + "P", Tensor: randT(1, 3*H)})
			in[7] = p + "P"
		}
		attrs := map[string]graph.Attr{"hidden_size": num(int64(H)), "direction": {Kind: graph.AttrString, String: graph.DirForward}}
		if l == 0 && s.reverse {
			attrs["direction"] = graph.Attr{Kind: graph.AttrString, String: graph.DirReverse}
		}
		if op == graph.OpGRU {
			attrs["linear_before_reset"] = num(int64(l % 2))
		}
		if l == len(s.ops)-1 {
			g.Nodes = append(g.Nodes, &graph.Node{Name: p + "rnn", Op: op, Inputs: in, Outputs: []string{"", "Y_h"}, Attrs: attrs})
			break
		}
		y := p + "Y"
		outs := []string{y}
		if l == 0 && s.lowerYh {
			outs = append(outs, "lower_h")
			g.Outputs = append(g.Outputs, graph.Value{Name: "lower_h", DType: graph.Float32})
		}
		g.Nodes = append(g.Nodes, &graph.Node{Name: p + "rnn", Op: op, Inputs: in, Outputs: outs, Attrs: attrs})
		sq := &graph.Node{Name: p + "squeeze", Op: graph.OpSqueeze, Inputs: []string{y, "axes1"}, Outputs: []string{fmt.Sprintf("x%d", l+1)}}
		switch s.axes {
		case "-3":
			sq.Inputs[1] = "axes_3"
		case "none":
			sq.Inputs = sq.Inputs[:1]
		}
		g.Nodes = append(g.Nodes, sq)
		I = H
	}
	g.Nodes = append(g.Nodes,
		&graph.Node{Name: "flat", Op: graph.OpSqueeze, Inputs: []string{"Y_h", "axes0"}, Outputs: []string{"h"}},
		&graph.Node{Name: "gemm", Op: graph.OpGemm, Inputs: []string{"h", "head_w", "head_b"}, Outputs: []string{"z"}, Attrs: map[string]graph.Attr{"transB": num(1)}},
		&graph.Node{Name: "act", Op: graph.OpSigmoid, Inputs: []string{"z"}, Outputs: []string{"probs"}})
	return g
}

// inputs draws a batch of B rows of up to T steps for s.
func (s stackSpec) inputs(rng *rand.Rand, B, T int) map[string]*graph.Tensor {
	op := s.ops[0]
	in := fusedSpec{op: op, F: s.F, H: s.H[0], seqLens: s.seqLens, h0: s.h0, dir: graph.DirForward}.inputs(rng, B, T)
	return in
}

// stackCase runs a graph fused and unfused on the inputs in and fails
// unless both give the same bits; it returns whether the fused run ran the
// stack as one step, and whether it ran its layers at once.
func stackCase(t *testing.T, name string, fused, plain *Interpreter, in map[string]*graph.Tensor) (oneStep, atOnce bool) {
	t.Helper()
	want, err := plain.Run(in)
	if err != nil {
		t.Fatalf("%s unfused: %v", name, err)
	}
	run, followed := stacksRun.Load(), stacksFollowed.Load()
	got, err := fused.Run(in)
	if err != nil {
		t.Fatalf("%s fused: %v", name, err)
	}
	if !sameBits(got["probs"], want["probs"]) {
		t.Fatalf("%s: fused output differs from the unfused plan's", name)
	}
	return stacksRun.Load() > run, stacksFollowed.Load() > followed
}

// TestFusedStackSameBits: stacks of LSTM and GRU layers (both
// linear_before_reset) run as one step and give the unfused plan's
// outputs bit for bit, with and without lengths, initial states and
// peepholes, Squeeze axes 1 or −3: their layers at once for a few rows,
// one after another in each part for a batch split across the cores, and
// on one core.
func TestFusedStackSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	specs := []stackSpec{
		{ops: []graph.Op{graph.OpLSTM, graph.OpLSTM}, H: []int{64, 64}, F: 13, seqLens: true},
		{ops: []graph.Op{graph.OpLSTM, graph.OpLSTM}, H: []int{32, 48}, F: 5, seqLens: true, h0: true, peep: true, axes: "-3"},
		{ops: []graph.Op{graph.OpGRU, graph.OpLSTM, graph.OpGRU}, H: []int{16, 24, 32}, F: 7},
		{ops: []graph.Op{graph.OpLSTM, graph.OpGRU}, H: []int{20, 48}, F: 3, seqLens: true, h0: true},
	}
	for _, s := range specs {
		fused, plain, ok := plans(t, s.graph(rng))
		if !ok {
			t.Fatalf("%v: not fused", s)
		}
		for _, bt := range [][2]int{{1, 43}, {2, 48}, {5, 40}, {40, 30}, {256, 48}, {1, 3}} {
			in := s.inputs(rng, bt[0], bt[1])
			name := fmt.Sprintf("%v B=%d T=%d", s, bt[0], bt[1])
			oneStep, atOnce := stackCase(t, name, fused, plain, in)
			// The smallest call has too little work above the bottom
			// layer to pay for a second core; the largest splits its
			// rows across the cores instead.
			wantAtOnce := bt[0] < 256 && bt[1] > 3 && goruntime.GOMAXPROCS(0) > 1
			if !oneStep || atOnce != wantAtOnce {
				t.Errorf("%s: one step %v, layers at once %v, want true, %v", name, oneStep, atOnce, wantAtOnce)
			}
		}
		prev := goruntime.GOMAXPROCS(1)
		oneStep, atOnce := stackCase(t, fmt.Sprintf("%v GOMAXPROCS=1", s), fused, plain, s.inputs(rng, 2, 40))
		goruntime.GOMAXPROCS(prev)
		if !oneStep || atOnce {
			t.Errorf("%v, one core: one step %v, layers at once %v", s, oneStep, atOnce)
		}
	}
}

// TestFusedStackDeclines: layers below the top that are off the pattern
// run as their own steps, and the top one alone is fused: a bottom layer
// whose Y_h is read, one in reverse, one with other lengths. A Squeeze
// without axes is fused, but runs unfused: it would drop a batch of one
// row's axis too, and then fail as the unfused plan does.
func TestFusedStackDeclines(t *testing.T) {
	rng := rand.New(rand.NewPCG(43, 44))
	base := stackSpec{ops: []graph.Op{graph.OpLSTM, graph.OpLSTM}, H: []int{32, 32}, F: 4, seqLens: true}
	for _, change := range []func(*stackSpec){
		func(s *stackSpec) { s.lowerYh = true },
		func(s *stackSpec) { s.reverse = true },
		func(s *stackSpec) { s.ownLens = true },
	} {
		s := base
		change(&s)
		fused, plain, ok := plans(t, s.graph(rng))
		if !ok {
			t.Fatalf("%v: the top layer is not fused", s)
		}
		for _, st := range fused.steps {
			if k, isFused := st.kernel.(*fusedKernel); isFused && len(k.lower) > 0 {
				t.Errorf("%+v: a layer off the pattern joined the stack", s)
			}
		}
		if oneStep, _ := stackCase(t, fmt.Sprintf("%+v", s), fused, plain, s.inputs(rng, 2, 40)); oneStep {
			t.Errorf("%+v: the stack ran as one step", s)
		}
	}
	s := base
	s.axes = "none"
	fused, plain, _ := plans(t, s.graph(rng))
	if oneStep, _ := stackCase(t, "Squeeze without axes", fused, plain, s.inputs(rng, 2, 40)); oneStep {
		t.Error("Squeeze without axes: the stack ran as one step")
	}
	in := s.inputs(rng, 1, 40)
	_, want := plain.Run(in)
	_, got := fused.Run(in)
	if want == nil || got == nil || got.Error() != want.Error() {
		t.Errorf("one row, Squeeze without axes: fused error %v, unfused %v", got, want)
	}
}

// TestFusedStackErrorsAreUnfused: inputs a layer refuses give the unfused
// plan's error, naming the node at fault once, whichever layer it is.
func TestFusedStackErrorsAreUnfused(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	s := stackSpec{ops: []graph.Op{graph.OpLSTM, graph.OpLSTM}, H: []int{32, 32}, F: 4, seqLens: true, h0: true}
	fused, plain, _ := plans(t, s.graph(rng))
	for name, spoil := range map[string]func(map[string]*graph.Tensor){
		"length past T":   func(in map[string]*graph.Tensor) { in["lengths"].I32[0] = 99 },
		"negative length": func(in map[string]*graph.Tensor) { in["lengths"].I32[1] = -1 },
	} {
		in := s.inputs(rng, 2, 40)
		spoil(in)
		_, want := plain.Run(in)
		_, got := fused.Run(in)
		if want == nil || got == nil || got.Error() != want.Error() || strings.Count(got.Error(), "node") != 1 {
			t.Errorf("%s: fused error %q, unfused %q", name, got, want)
		}
	}
}

// TestFusedStackAllocations: a steady-state run of a stack, its layers at
// once for one row or its parts at once for 256, allocates no more than
// the unfused plan's: the packing, the layers' buffers, the helpers and
// their hand-offs allocate nothing.
func TestFusedStackAllocations(t *testing.T) {
	if interpRace {
		t.Skip("the race detector makes sync.Pool drop states")
	}
	rng := rand.New(rand.NewPCG(47, 48))
	s := stackSpec{ops: []graph.Op{graph.OpLSTM, graph.OpLSTM}, H: []int{64, 64}, F: 13, seqLens: true}
	fused, plain, _ := plans(t, s.graph(rng))
	for _, B := range []int{256, 1} {
		in := s.inputs(rng, B, 43)
		stackAllocs(t, fused, plain, []*graph.Tensor{in["x"], in["lengths"]})
	}
}

// stackAllocs compares the allocations of steady-state runs of the two
// plans on args, and checks the fused one runs its stack as one step.
func stackAllocs(t *testing.T, fused, plain *Interpreter, args []*graph.Tensor) {
	t.Helper()
	before := stacksRun.Load()
	if n, unfused := steadyAllocs(t, fused, args), steadyAllocs(t, plain, args); n > unfused {
		t.Errorf("batch %d: a steady-state run allocates %v times (unfused %v)", args[0].Shape[0], n, unfused)
	}
	if stacksRun.Load() == before {
		t.Errorf("batch %d: the stack did not run as one step", args[0].Shape[0])
	}
}

// TestFusedStackConcurrentParts: calls that split their rows across the
// cores, run from several goroutines at once, each give the bits of the
// call run alone. More calls than helpers means that some parts run on
// goroutines of their own; the others on helpers, awake or woken.
func TestFusedStackConcurrentParts(t *testing.T) {
	s := stackSpec{ops: []graph.Op{graph.OpLSTM, graph.OpGRU}, H: []int{48, 32}, F: 6, seqLens: true}
	fused, _, rng := splitPlans(t, 49, s)
	const callers = 4
	ins := make([]map[string]*graph.Tensor, callers)
	want := make([]*graph.Tensor, callers)
	for c := range ins {
		ins[c] = s.inputs(rng, 256, 40)
		out, err := fused.Run(ins[c])
		if err != nil {
			t.Fatal(err)
		}
		want[c] = out["probs"]
	}
	errs := make(chan error, callers)
	for c := range callers {
		go func() {
			for range 5 {
				out, err := fused.Run(ins[c])
				if err == nil && !sameBits(out["probs"], want[c]) {
					err = fmt.Errorf("caller %d: the output differs from the call run alone", c)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range callers {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestFusedStackPartPanics: a panic in a part (a bug) before it has
// started its layers reaches the caller as it was raised, and the next
// call on the same plan gives the unfused plan's bits.
func TestFusedStackPartPanics(t *testing.T) {
	s := stackSpec{ops: []graph.Op{graph.OpLSTM, graph.OpLSTM}, H: []int{32, 32}, F: 4, seqLens: true}
	fused, plain, rng := splitPlans(t, 51, s)
	in := s.inputs(rng, 256, 30)
	partHook = func(i int) {
		if i == 1 {
			panic("part 1 failed")
		}
	}
	got := func() (r any) {
		defer func() { r = recover() }()
		_, _ = fused.Run(in)
		return nil
	}()
	partHook = nil
	if got != "part 1 failed" {
		t.Fatalf("the call raised %v, want the part's panic", got)
	}
	if oneStep, _ := stackCase(t, "after a panic", fused, plain, in); !oneStep {
		t.Error("after a panic, the stack no longer runs as one step")
	}
}

// splitPlans skips the test on one core, where the rows are not split, and
// returns the fused and unfused plans of s, with the generator that drew
// their weights (seeded with seed) for the inputs.
func splitPlans(t *testing.T, seed uint64, s stackSpec) (fused, plain *Interpreter, rng *rand.Rand) {
	t.Helper()
	if goruntime.GOMAXPROCS(0) < 2 {
		t.Skip("one core: the rows are not split")
	}
	rng = rand.New(rand.NewPCG(seed, seed+1))
	fused, plain, _ = plans(t, s.graph(rng))
	return fused, plain, rng
}

// pytorchStack reads the corpus's PyTorch export of a three-layer LSTM on
// a dynamic batch: initial states sliced from zeros sized from x, and h_n
// = Concat of the layers' Y_h, of which h[-1] is Gathered for the head.
func pytorchStack(t *testing.T) *graph.Graph {
	t.Helper()
	b, err := os.ReadFile("../../testdata/corpus/lstm_stacked_dynamic/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	g, err := export.DecodeONNX("model.onnx", b)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// setHnIndex sets the index h_n is read at (the Constant the Gather after
// the Concat of the layers' Y_h takes).
func setHnIndex(t *testing.T, g *graph.Graph, i int64) {
	t.Helper()
	for _, n := range g.Nodes {
		if n.Op == graph.OpConstant && n.Outputs[0] == "/Constant_output_0" {
			n.Attrs["value"].Tensor.I64[0] = i
			return
		}
	}
	t.Fatal("no Constant /Constant_output_0")
}

// TestPyTorchStackFuses: PyTorch's export of nn.LSTM(num_layers=3) read at
// h[-1] runs as one fused step (unconcatStates reads the top layer's Y_h
// for the Gather of the Concat), with the unfused plan's bits on 1 to 64
// rows. Read at h[1] it runs the two layers below as a stack, at h[0] the
// first as a one-layer classifier, with the unfused bits; at h[3] both
// plans refuse the index alike; and with the Concat's output a graph
// output the rewrite does not apply.
func TestPyTorchStackFuses(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	input := func(B int) map[string]*graph.Tensor {
		x := graph.NewTensor(graph.Float32, B, 10, 6)
		for i := range x.F32 {
			x.F32[i] = float32(rng.NormFloat64())
		}
		return map[string]*graph.Tensor{"x": x}
	}
	fused, plain, ok := plans(t, pytorchStack(t))
	if !ok || len(fused.steps) >= len(plain.steps) {
		t.Fatalf("not fused: %d steps fused, %d unfused", len(fused.steps), len(plain.steps))
	}
	for _, B := range []int{1, 3, 8, 64} {
		if oneStep, _ := stackCase(t, fmt.Sprintf("h[-1] B=%d", B), fused, plain, input(B)); !oneStep {
			t.Errorf("h[-1] B=%d: the stack did not run as one step", B)
		}
	}
	// h[1] reads the second layer: the third, read by nobody, is dropped
	// and the first two run as a stack; h[0] is a one-layer classifier.
	for _, c := range []struct {
		i     int64
		stack bool
	}{{1, true}, {-2, true}, {0, false}, {-3, false}} {
		g := pytorchStack(t)
		setHnIndex(t, g, c.i)
		fused, plain, _ := plans(t, g)
		if oneStep, _ := stackCase(t, fmt.Sprintf("h[%d]", c.i), fused, plain, input(5)); oneStep != c.stack {
			t.Errorf("h[%d]: ran as a stack %v, want %v", c.i, oneStep, c.stack)
		}
	}
	g := pytorchStack(t)
	setHnIndex(t, g, 3)
	fused, plain, _ = plans(t, g)
	_, errF := fused.Run(input(2))
	_, errP := plain.Run(input(2))
	if errF == nil || errP == nil || errF.Error() != errP.Error() {
		t.Errorf("h[3]: fused error %v, unfused %v; want the same error", errF, errP)
	}
	g = pytorchStack(t)
	g.Outputs = append(g.Outputs, graph.Value{Name: "/rnn/Concat_1_output_0", DType: graph.Float32})
	fused, plain, _ = plans(t, g)
	if oneStep, _ := stackCase(t, "h_n an output", fused, plain, input(4)); oneStep {
		t.Error("h_n a graph output: ran as a stack, which does not make h_n")
	}
}
