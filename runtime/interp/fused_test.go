package interp

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
)

// fusedSpec describes a classifier graph for the fusion tests.
type fusedSpec struct {
	op        graph.Op
	lbr       bool
	layout1   bool // the recurrent node reads X batch-first itself (no Transpose)
	seqLens   bool
	h0, peep  bool   // c0 too, for an LSTM with h0
	matMul    bool   // MatMul → Add instead of Gemm
	act       string // "sigmoid", "softmax" or "" (the head's output is the graph's)
	reshape   bool   // Reshape instead of Squeeze
	gather    bool   // Gather (axis 0, index −1: PyTorch's h_n[-1]) instead of Squeeze
	dir       string
	readY     bool // Y is a graph output too
	yhOut     bool // Y_h is a graph output too
	F, H, K   int
	wantFused bool
}

func (s fusedSpec) String() string {
	return fmt.Sprintf("%v lbr=%v layout1=%v lens=%v h0=%v peep=%v matmul=%v act=%q reshape=%v gather=%v dir=%s Y=%v Yh=%v",
		s.op, s.lbr, s.layout1, s.seqLens, s.h0, s.peep, s.matMul, s.act, s.reshape, s.gather, s.dir, s.readY, s.yhOut)
}

// graph builds s's classifier with random weights: inputs x [batch, time,
// F], optionally lengths [batch] and h0; output "probs" [batch, K].
func (s fusedSpec) graph(rng *rand.Rand) *graph.Graph {
	randT := func(shape ...int) *graph.Tensor { return uniformTensor(rng, 0.8, shape...) }
	ints := func(v ...int64) graph.Attr { return graph.Attr{Kind: graph.AttrInts, Ints: v} }
	num := func(v int64) graph.Attr { return graph.Attr{Kind: graph.AttrInt, Int: v} }
	gates, D := 4, 1
	if s.op == graph.OpGRU {
		gates = 3
	}
	if s.dir == graph.DirBidirectional {
		D = 2
	}
	g := &graph.Graph{Name: "fused", Form: graph.FormTensor,
		Inputs: []graph.Value{{Name: "x", DType: graph.Float32, Shape: graph.Shape{graph.Sym("batch"), graph.Sym("time"), graph.Fixed(s.F)}}},
		Params: []*graph.Param{
			{Name: "W", Tensor: randT(D, gates*s.H, s.F)}, {Name: "R", Tensor: randT(D, gates*s.H, s.H)},
			{Name: "B", Tensor: randT(D, 2*gates*s.H)}, {Name: "head_w", Tensor: randT(s.K, D*s.H)},
			{Name: "head_wt", Tensor: randT(D*s.H, s.K)}, {Name: "head_b", Tensor: randT(s.K)},
			{Name: "axes0", Tensor: &graph.Tensor{DType: graph.Int64, Shape: []int{1}, I64: []int64{0}}},
			{Name: "flat", Tensor: &graph.Tensor{DType: graph.Int64, Shape: []int{2}, I64: []int64{-1, int64(D * s.H)}}},
			{Name: "last", Tensor: &graph.Tensor{DType: graph.Int64, Shape: []int{}, I64: []int64{-1}}},
		},
		Outputs: []graph.Value{{Name: "probs", DType: graph.Float32}},
	}
	rnnIn := []string{"xt", "W", "R", "B", "", ""}
	attrs := map[string]graph.Attr{"hidden_size": num(int64(s.H)), "direction": {Kind: graph.AttrString, String: s.dir}}
	if s.layout1 {
		rnnIn[0], attrs["layout"] = "x", num(1)
	} else {
		g.Nodes = append(g.Nodes, &graph.Node{Name: "tm", Op: graph.OpTranspose, Inputs: []string{"x"}, Outputs: []string{"xt"}, Attrs: map[string]graph.Attr{"perm": ints(1, 0, 2)}})
	}
	if s.seqLens {
		g.Inputs = append(g.Inputs, graph.Value{Name: "lengths", DType: graph.Int32, Shape: graph.Shape{graph.Sym("batch")}})
		rnnIn[4] = "lengths"
	}
	if s.h0 {
		shape := graph.Shape{graph.Fixed(D), graph.Sym("batch"), graph.Fixed(s.H)}
		if s.layout1 {
			shape = graph.Shape{graph.Sym("batch"), graph.Fixed(D), graph.Fixed(s.H)}
		}
		g.Inputs = append(g.Inputs, graph.Value{Name: "h0", DType: graph.Float32, Shape: shape})
		rnnIn[5] = "h0"
	}
	if s.op == graph.OpLSTM && (s.peep || s.h0) {
		rnnIn = append(rnnIn, "", "")
	}
	if s.op == graph.OpLSTM && s.h0 {
		shape := g.Inputs[len(g.Inputs)-1].Shape
		g.Inputs = append(g.Inputs, graph.Value{Name: "c0", DType: graph.Float32, Shape: shape})
		rnnIn[6] = "c0"
	}
	if s.op == graph.OpLSTM && s.peep {
		g.Params = append(g.Params, &graph.Param{Name: "P", Tensor: randT(D, 3*s.H)})
		rnnIn[7] = "P"
	}
	if s.op == graph.OpGRU {
		attrs["linear_before_reset"] = num(map[bool]int64{false: 0, true: 1}[s.lbr])
	}
	g.Nodes = append(g.Nodes, &graph.Node{Name: "rnn", Op: s.op, Inputs: rnnIn, Outputs: []string{"Y", "Y_h"}, Attrs: attrs})
	s.addHead(g)
	return g
}

// addHead adds the nodes from Y_h to "probs", and the extra outputs.
func (s fusedSpec) addHead(g *graph.Graph) {
	num := func(v int64) graph.Attr { return graph.Attr{Kind: graph.AttrInt, Int: v} }
	flat := &graph.Node{Name: "squeeze", Op: graph.OpSqueeze, Inputs: []string{"Y_h", "axes0"}, Outputs: []string{"h"}}
	if s.reshape || s.layout1 || s.dir == graph.DirBidirectional {
		flat = &graph.Node{Name: "reshape", Op: graph.OpReshape, Inputs: []string{"Y_h", "flat"}, Outputs: []string{"h"}}
	}
	if s.gather {
		flat = &graph.Node{Name: "gather", Op: graph.OpGather, Inputs: []string{"Y_h", "last"}, Outputs: []string{"h"}, Attrs: map[string]graph.Attr{"axis": num(0)}}
	}
	g.Nodes = append(g.Nodes, flat)
	z := "probs"
	if s.act != "" {
		z = "z"
	}
	if s.matMul {
		g.Nodes = append(g.Nodes,
			&graph.Node{Name: "mm", Op: graph.OpMatMul, Inputs: []string{"h", "head_wt"}, Outputs: []string{"zm"}},
			&graph.Node{Name: "add", Op: graph.OpAdd, Inputs: []string{"zm", "head_b"}, Outputs: []string{z}})
	} else {
		g.Nodes = append(g.Nodes, &graph.Node{Name: "gemm", Op: graph.OpGemm, Inputs: []string{"h", "head_w", "head_b"}, Outputs: []string{z}, Attrs: map[string]graph.Attr{"transB": num(1)}})
	}
	switch s.act {
	case "sigmoid":
		g.Nodes = append(g.Nodes, &graph.Node{Name: "act", Op: graph.OpSigmoid, Inputs: []string{"z"}, Outputs: []string{"probs"}})
	case "softmax":
		g.Nodes = append(g.Nodes, &graph.Node{Name: "act", Op: graph.OpSoftmax, Inputs: []string{"z"}, Outputs: []string{"probs"}, Attrs: map[string]graph.Attr{"axis": num(-1)}})
	}
	if s.readY {
		g.Outputs = append(g.Outputs, graph.Value{Name: "Y", DType: graph.Float32})
	}
	if s.yhOut {
		g.Outputs = append(g.Outputs, graph.Value{Name: "Y_h", DType: graph.Float32})
	}
}

// fusedInputs draws a batch of B rows of up to T steps for s: lengths in
// 0..T with at least one T when s has lengths, every value of the padding
// random too.
func (s fusedSpec) inputs(rng *rand.Rand, B, T int) map[string]*graph.Tensor {
	x := graph.NewTensor(graph.Float32, B, T, s.F)
	for i := range x.F32 {
		x.F32[i] = float32(rng.Float64()*2 - 1)
	}
	in := map[string]*graph.Tensor{"x": x}
	if s.seqLens {
		l := graph.NewTensor(graph.Int32, B)
		for b := range l.I32 {
			l.I32[b] = int32(rng.IntN(T + 1))
		}
		l.I32[rng.IntN(B)] = int32(T)
		in["lengths"] = l
	}
	if s.h0 {
		D := 1
		if s.dir == graph.DirBidirectional {
			D = 2
		}
		h := graph.NewTensor(graph.Float32, D, B, s.H)
		if s.layout1 {
			h = graph.NewTensor(graph.Float32, B, D, s.H)
		}
		for i := range h.F32 {
			h.F32[i] = float32(rng.Float64() - 0.5)
		}
		in["h0"] = h
		if s.op == graph.OpLSTM {
			c := graph.NewTensor(graph.Float32, h.Shape...)
			for i := range c.F32 {
				c.F32[i] = float32(rng.Float64()*2 - 1)
			}
			in["c0"] = c
		}
	}
	return in
}

// plans returns s's graph planned with fusion and without, and whether the
// fused plan has a fused step.
func plans(t *testing.T, g *graph.Graph) (fused, plain *Interpreter, hasFused bool) {
	t.Helper()
	var err error
	defer func() { fuseClassifiers = true }()
	for _, on := range []bool{true, false} {
		fuseClassifiers = on
		ip, e := New(g)
		if e != nil {
			err = e
			continue
		}
		if on {
			fused = ip
		} else {
			plain = ip
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	hasFused = slices.ContainsFunc(fused.steps, func(s step) bool { _, ok := s.kernel.(*fusedKernel); return ok })
	if slices.ContainsFunc(plain.steps, func(s step) bool { _, ok := s.kernel.(*fusedKernel); return ok }) {
		t.Fatal("fusion turned off, the plan has a fused step")
	}
	return fused, plain, hasFused
}

// fusedPrepare runs the checks of ip's fused step on the inputs in: nil
// when the step runs fused, not on its original steps.
func fusedPrepare(ip *Interpreter, in map[string]*graph.Tensor) error {
	st := newState(ip.nslots, ip.nrnn)
	copy(st.vals, ip.consts)
	for _, v := range ip.inputs {
		st.vals[v.slot] = in[v.Name]
	}
	for _, s := range ip.steps {
		if k, ok := s.kernel.(*fusedKernel); ok {
			_, _, _, err := k.prepare(st, new(fusedWork))
			return err
		}
	}
	return fmt.Errorf("no fused step")
}

// TestFusedClassifierSameBits: classifiers the fusion recognises run fused
// and give the unfused plan's outputs bit for bit: LSTM and GRU (both
// linear_before_reset), with and without lengths, h0 and c0, peepholes, a
// Transpose or layout 1, Gemm or MatMul + Add, Sigmoid, Softmax or none;
// batches of 1 row, a few, and enough to split across the cores (ranges
// of one part, and several parts), lengths 0..T.
func TestFusedClassifierSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	specs := []fusedSpec{
		{op: graph.OpLSTM, seqLens: true, act: "sigmoid", F: 5, H: 8, K: 3},
		{op: graph.OpLSTM, seqLens: true, h0: true, peep: true, act: "softmax", matMul: true, F: 3, H: 16, K: 4},
		{op: graph.OpLSTM, layout1: true, act: "", F: 4, H: 5, K: 2},
		{op: graph.OpLSTM, layout1: true, h0: true, seqLens: true, act: "sigmoid", F: 4, H: 8, K: 2},
		{op: graph.OpLSTM, seqLens: true, reshape: true, act: "sigmoid", F: 13, H: 32, K: 1},
		{op: graph.OpGRU, seqLens: true, act: "sigmoid", F: 5, H: 8, K: 3},
		{op: graph.OpGRU, lbr: true, seqLens: true, h0: true, act: "softmax", F: 6, H: 12, K: 3},
		{op: graph.OpGRU, lbr: true, layout1: true, matMul: true, F: 2, H: 8, K: 2},
		{op: graph.OpGRU, lbr: true, gather: true, act: "sigmoid", F: 3, H: 8, K: 2},
		{op: graph.OpLSTM, seqLens: true, gather: true, F: 5, H: 16, K: 3},
	}
	for _, s := range specs {
		s.dir = graph.DirForward
		fused, plain, ok := plans(t, s.graph(rng))
		if !ok {
			t.Fatalf("%v: not fused", s)
		}
		for _, bt := range [][2]int{{1, 1}, {1, 9}, {7, 6}, {33, 12}, {256, 48}, {600, 40}} {
			in := s.inputs(rng, bt[0], bt[1])
			want, err := plain.Run(in)
			if err != nil {
				t.Fatalf("%v B=%d T=%d unfused: %v", s, bt[0], bt[1], err)
			}
			got, err := fused.Run(in)
			if err != nil {
				t.Fatalf("%v B=%d T=%d fused: %v", s, bt[0], bt[1], err)
			}
			if !sameBits(got["probs"], want["probs"]) {
				t.Fatalf("%v B=%d T=%d: fused output differs from the unfused plan's", s, bt[0], bt[1])
			}
			if err := fusedPrepare(fused, in); err != nil {
				t.Fatalf("%v B=%d T=%d: the fused step runs its original steps: %v", s, bt[0], bt[1], err)
			}
		}
	}
}

// TestFusionDeclines: graphs off the pattern keep their steps: a reverse
// or bidirectional layer, Y or Y_h read elsewhere.
func TestFusionDeclines(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	base := fusedSpec{op: graph.OpLSTM, seqLens: true, act: "sigmoid", F: 3, H: 4, K: 2, dir: graph.DirForward}
	for _, change := range []func(*fusedSpec){
		func(s *fusedSpec) { s.dir = graph.DirReverse },
		func(s *fusedSpec) { s.dir = graph.DirBidirectional },
		func(s *fusedSpec) { s.readY = true },
		func(s *fusedSpec) { s.yhOut = true },
	} {
		s := base
		change(&s)
		fused, plain, ok := plans(t, s.graph(rng))
		if ok {
			t.Errorf("%v: fused", s)
			continue
		}
		in := s.inputs(rng, 5, 4)
		want, err := plain.Run(in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := fused.Run(in)
		if err != nil || !sameBits(got["probs"], want["probs"]) {
			t.Errorf("%v: %v, or outputs differ", s, err)
		}
	}
}

// TestFusionDeclinesOtherHeads: a head other than Gemm or MatMul → Add
// after the flattening, or a flattened Y_h read twice, is not the pattern.
func TestFusionDeclinesOtherHeads(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	s := fusedSpec{op: graph.OpGRU, seqLens: true, act: "sigmoid", F: 3, H: 4, K: 2, dir: graph.DirForward}
	g := s.graph(rng)
	for _, n := range g.Nodes {
		if n.Op == graph.OpGemm {
			n.Op, n.Inputs, n.Attrs = graph.OpRelu, []string{"h"}, nil
		}
	}
	if _, _, ok := plans(t, g); ok {
		t.Error("Relu head fused")
	}
	g = s.graph(rng)
	g.Nodes = append(g.Nodes, &graph.Node{Name: "again", Op: graph.OpRelu, Inputs: []string{"h"}, Outputs: []string{"hr"}})
	g.Outputs = append(g.Outputs, graph.Value{Name: "hr", DType: graph.Float32})
	if _, _, ok := plans(t, g); ok {
		t.Error("flattened Y_h read twice, fused")
	}
	g = s.graph(rng)
	for _, n := range g.Nodes {
		if n.Op == graph.OpTranspose {
			n.Attrs["perm"] = graph.Attr{Kind: graph.AttrInts, Ints: []int64{0, 1, 2}}
		}
	}
	fused, plain, ok := plans(t, g)
	if !ok {
		t.Fatal("a Transpose that is not [1, 0, 2] should stay a step of its own, before the fused step")
	}
	in := map[string]*graph.Tensor{"x": graph.NewTensor(graph.Float32, 3, 3, 3), "lengths": i32s([]int{3}, 3, 0, 2)}
	want, err1 := plain.Run(in)
	got, err2 := fused.Run(in)
	if err1 != nil || err2 != nil || !sameBits(got["probs"], want["probs"]) {
		t.Errorf("identity Transpose: %v, %v, or outputs differ", err1, err2)
	}
}

// TestFusedErrorsAreUnfused: inputs the recurrent node refuses give the
// unfused plan's error, naming the node at fault once.
func TestFusedErrorsAreUnfused(t *testing.T) {
	rng := rand.New(rand.NewPCG(37, 38))
	s := fusedSpec{op: graph.OpLSTM, seqLens: true, act: "sigmoid", F: 3, H: 4, K: 2, dir: graph.DirForward}
	fused, plain, ok := plans(t, s.graph(rng))
	if !ok {
		t.Fatal("not fused")
	}
	in := s.inputs(rng, 3, 4)
	in["lengths"].I32[1] = 9
	if fusedPrepare(fused, in) == nil {
		t.Error("the fused step's checks pass a length past T")
	}
	_, want := plain.Run(in)
	_, got := fused.Run(in)
	if want == nil || got == nil || got.Error() != want.Error() || strings.Count(got.Error(), "node") != 1 {
		t.Errorf("fused error %q, unfused %q", got, want)
	}
}

// TestFusedExternalModelAllocations: a steady-state RunArgs of the
// imported LSTM classifier, its output handed back, allocates only what
// the head's Squeeze and Gemm kernels do in either plan (their output
// shapes, which escape through the allocator): the fused recurrent part,
// its parts and ranges allocate nothing, for one row and for a batch split
// across the cores.
func TestFusedExternalModelAllocations(t *testing.T) {
	if interpRace {
		t.Skip("the race detector makes sync.Pool drop states")
	}
	g, err := export.ReadONNX(filepath.Join("..", "..", "testdata", "onnx", "lstm_classifier.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	fused, plain, ok := plans(t, g)
	if !ok {
		t.Fatal("the imported classifier is not fused")
	}
	if names := fused.InputNames(); !slices.Equal(names, []string{"input", "seq_lens"}) {
		t.Fatalf("inputs %v", names)
	}
	rng := rand.New(rand.NewPCG(39, 40))
	for _, B := range []int{1, 256} {
		in := fusedSpec{F: 5, seqLens: true}.inputs(rng, B, 48)
		args := []*graph.Tensor{in["x"], in["lengths"]}
		const head = 3 // Squeeze's shape (2), Gemm's (1)
		if n, unfused := steadyAllocs(t, fused, args), steadyAllocs(t, plain, args); n > head || n > unfused {
			t.Errorf("batch %d: a steady-state run allocates %v times (unfused %v)", B, n, unfused)
		}
	}
}

// steadyAllocs is the allocations of a steady-state RunArgs of ip on args,
// its one output handed back each time.
func steadyAllocs(t *testing.T, ip *Interpreter, args []*graph.Tensor) float64 {
	t.Helper()
	outs := make([]*graph.Tensor, 1)
	run := func() {
		if err := ip.RunArgs(args, outs); err != nil {
			t.Fatal(err)
		}
	}
	run()
	return testing.AllocsPerRun(50, run)
}

// uniformTensor is a float32 tensor of the shape with every element drawn
// uniformly from (−r, r).
func uniformTensor(rng *rand.Rand, r float64, shape ...int) *graph.Tensor {
	t := graph.NewTensor(graph.Float32, shape...)
	for i := range t.F32 {
		t.F32[i] = float32((rng.Float64()*2 - 1) * r)
	}
	return t
}
