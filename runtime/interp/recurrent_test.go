package interp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/ops"
)

// onnxRNNCase builds the inputs of an ONNX LSTM (gates 4) or GRU (gates 3).
type onnxRNNCase struct {
	op                 graph.Op
	T, B, I, H         int
	dir                string
	layout             int
	lens               []int32 // nil = no sequence_lens
	bias, h0, c0, peep bool
	lbr                bool
}

func (c onnxRNNCase) String() string {
	return fmt.Sprintf("%v T=%d B=%d dir=%s layout=%d lens=%v bias=%v h0=%v c0=%v peep=%v lbr=%v",
		c.op, c.T, c.B, c.dir, c.layout, c.lens, c.bias, c.h0, c.c0, c.peep, c.lbr)
}

func (c onnxRNNCase) inputs(rng *rand.Rand) (rnnInputs, rnnAttrs) {
	D := 1
	if c.dir == graph.DirBidirectional {
		D = 2
	}
	g := 4
	if c.op == graph.OpGRU {
		g = 3
	}
	var in rnnInputs
	if c.layout == 0 {
		in.X = onnxRandF32(rng, c.T, c.B, c.I)
	} else {
		in.X = onnxRandF32(rng, c.B, c.T, c.I)
	}
	in.W = onnxRandF32(rng, D, g*c.H, c.I)
	in.R = onnxRandF32(rng, D, g*c.H, c.H)
	state := []int{D, c.B, c.H}
	if c.layout == 1 {
		state = []int{c.B, D, c.H}
	}
	if c.bias {
		in.B = onnxRandF32(rng, D, 2*g*c.H)
	}
	if c.lens != nil {
		in.SeqLens = &graph.Tensor{DType: graph.Int32, Shape: []int{c.B}, I32: slices.Clone(c.lens)}
	}
	if c.h0 {
		in.H0 = onnxRandF32(rng, state...)
	}
	if c.c0 {
		in.C0 = onnxRandF32(rng, state...)
	}
	if c.peep {
		in.P = onnxRandF32(rng, D, 3*c.H)
	}
	return in, rnnAttrs{HiddenSize: c.H, Direction: c.dir, Layout: c.layout, LinearBeforeReset: c.lbr}
}

// onnxRNNCases covers directions, layouts, lengths (with zeros, full,
// none), initial states, biases and peepholes.
func onnxRNNCases(op graph.Op) []onnxRNNCase {
	var cs []onnxRNNCase
	lensets := [][]int32{nil, {3, 5, 0, 5, 1}, {5, 5, 5, 5, 5}, {0, 0, 0, 0, 0}, {2, 4, 4, 1, 3}}
	i := 0
	for _, dir := range []string{graph.DirForward, graph.DirReverse, graph.DirBidirectional} {
		for layout := range 2 {
			for _, lens := range lensets {
				i++
				c := onnxRNNCase{op: op, T: 5, B: 5, I: 3, H: 4, dir: dir, layout: layout, lens: lens,
					bias: i%2 == 0, h0: i%3 != 0, lbr: i%2 == 1}
				if op == graph.OpLSTM {
					c.c0 = i%4 != 1
					c.peep = i%3 == 1
				}
				cs = append(cs, c)
			}
		}
	}
	return cs
}

// onnxCloseF32 fails unless got and want agree to tol (absolute), printing
// the max difference and the first bad index.
func onnxCloseF32(t *testing.T, what string, got, want *graph.Tensor, tol float64) {
	t.Helper()
	if got == nil || want == nil {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
	if !slices.Equal(got.Shape, want.Shape) {
		t.Fatalf("%s: shape %v, want %v", what, got.Shape, want.Shape)
	}
	maxd, bad := 0.0, -1
	for i := range got.F32 {
		d := math.Abs(float64(got.F32[i]) - float64(want.F32[i]))
		if d > maxd || math.IsNaN(d) {
			maxd = d
		}
		if (d > tol || math.IsNaN(d)) && bad < 0 {
			bad = i
		}
	}
	if bad >= 0 {
		t.Fatalf("%s: max |diff| %.3g > %.1g; first bad index %d: got %v, want %v", what, maxd, tol, bad, got.F32[bad], want.F32[bad])
	}
}

func testONNXRecurrentMatchesNaive(t *testing.T, op graph.Op) {
	rng := rand.New(rand.NewPCG(7, uint64(op)))
	var work rnnWork // reused across cases of different shapes
	for _, c := range onnxRNNCases(op) {
		in, a := c.inputs(rng)
		saved := []*graph.Tensor{clone(in.X, allocator{}), clone(in.W, allocator{}), clone(in.R, allocator{})}
		out := rnnOutputs{WantY: true, WantYh: true, WantYc: true}
		if err := recurrent(op, in, a, &out, &work, allocator{}); err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		y, yh, yc, err := onnxRecurrentNaive(op, in, a)
		if err != nil {
			t.Fatal(err)
		}
		onnxCloseF32(t, c.String()+" Y", out.Y, y, 2e-6)
		onnxCloseF32(t, c.String()+" Y_h", out.Yh, yh, 2e-6)
		if op == graph.OpLSTM {
			onnxCloseF32(t, c.String()+" Y_c", out.Yc, yc, 2e-6)
		} else if out.Yc != nil {
			t.Fatalf("%v: GRU returned Y_c", c)
		}
		onnxMustEqual(t, "X after the call", in.X, saved[0])
		onnxMustEqual(t, "W after the call", in.W, saved[1])
		onnxMustEqual(t, "R after the call", in.R, saved[2])
	}
}

func TestONNXLSTMMatchesNaive(t *testing.T) { testONNXRecurrentMatchesNaive(t, graph.OpLSTM) }

// TestONNXRNNZeroLengthIgnoresInitialState pins ONNX Runtime's rule: a row
// of length 0 yields zeros, whatever initial_h and initial_c hold.
func TestONNXRNNZeroLengthIgnoresInitialState(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	c := onnxRNNCase{op: graph.OpLSTM, T: 3, B: 2, I: 2, H: 3, dir: graph.DirBidirectional, lens: []int32{0, 2}, h0: true, c0: true, bias: true}
	in, a := c.inputs(rng)
	out := rnnOutputs{WantY: true, WantYh: true, WantYc: true}
	if err := recurrent(graph.OpLSTM, in, a, &out, nil, allocator{}); err != nil {
		t.Fatal(err)
	}
	H := c.H
	for dir := range 2 {
		for j := range H {
			if out.Yh.F32[(dir*2+0)*H+j] != 0 || out.Yc.F32[(dir*2+0)*H+j] != 0 {
				t.Fatalf("direction %d: Y_h/Y_c of the empty row are %v/%v, want 0", dir, out.Yh.F32[dir*2*H:dir*2*H+H], out.Yc.F32[dir*2*H:dir*2*H+H])
			}
			if out.Yh.F32[(dir*2+1)*H+j] == 0 {
				t.Fatalf("direction %d: Y_h of the row of length 2 is 0", dir)
			}
		}
	}
	// Y at padded steps (t ≥ len) is 0: row 1 at step 2, row 0 everywhere.
	for s := range 3 {
		for dir := range 2 {
			for b := range 2 {
				if s < int(c.lens[b]) {
					continue
				}
				for j := range H {
					if v := out.Y.F32[((s*2+dir)*2+b)*H+j]; v != 0 {
						t.Fatalf("Y[step %d, dir %d, row %d] = %v at a padded step", s, dir, b, v)
					}
				}
			}
		}
	}
}

// TestONNXRNNInvariants: values at padded steps do not matter, and
// permuting rows permutes the outputs.
func TestONNXRNNInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	c := onnxRNNCase{op: graph.OpLSTM, T: 6, B: 4, I: 3, H: 5, dir: graph.DirBidirectional, lens: []int32{6, 2, 0, 4}, bias: true, h0: true, c0: true}
	in, a := c.inputs(rng)
	base := rnnOutputs{WantY: true, WantYh: true, WantYc: true}
	if err := recurrent(graph.OpLSTM, in, a, &base, nil, allocator{}); err != nil {
		t.Fatal(err)
	}
	// Scribble over padded steps.
	in2 := in
	in2.X = clone(in.X, allocator{})
	for s := range c.T {
		for b := range c.B {
			if s >= int(c.lens[b]) {
				for i := range c.I {
					in2.X.F32[(s*c.B+b)*c.I+i] = 1e6
				}
			}
		}
	}
	pad := rnnOutputs{WantY: true, WantYh: true, WantYc: true}
	if err := recurrent(graph.OpLSTM, in2, a, &pad, nil, allocator{}); err != nil {
		t.Fatal(err)
	}
	onnxMustEqual(t, "Y with scribbled padding", pad.Y, base.Y)
	onnxMustEqual(t, "Y_h with scribbled padding", pad.Yh, base.Yh)

	// Permute rows: perm[b] is the new position of row b.
	perm := []int{2, 0, 3, 1}
	in3 := in
	in3.X = graph.NewTensor(graph.Float32, in.X.Shape...)
	in3.H0 = graph.NewTensor(graph.Float32, in.H0.Shape...)
	in3.C0 = graph.NewTensor(graph.Float32, in.C0.Shape...)
	in3.SeqLens = graph.NewTensor(graph.Int32, c.B)
	H, I := c.H, c.I
	for b, nb := range perm {
		in3.SeqLens.I32[nb] = c.lens[b]
		for s := range c.T {
			copy(in3.X.F32[(s*c.B+nb)*I:(s*c.B+nb+1)*I], in.X.F32[(s*c.B+b)*I:(s*c.B+b+1)*I])
		}
		for dir := range 2 {
			copy(in3.H0.F32[(dir*c.B+nb)*H:(dir*c.B+nb+1)*H], in.H0.F32[(dir*c.B+b)*H:(dir*c.B+b+1)*H])
			copy(in3.C0.F32[(dir*c.B+nb)*H:(dir*c.B+nb+1)*H], in.C0.F32[(dir*c.B+b)*H:(dir*c.B+b+1)*H])
		}
	}
	pr := rnnOutputs{WantY: true, WantYh: true, WantYc: true}
	if err := recurrent(graph.OpLSTM, in3, a, &pr, nil, allocator{}); err != nil {
		t.Fatal(err)
	}
	for b, nb := range perm {
		for dir := range 2 {
			got := pr.Yh.F32[(dir*c.B+nb)*H : (dir*c.B+nb+1)*H]
			want := base.Yh.F32[(dir*c.B+b)*H : (dir*c.B+b+1)*H]
			if !slices.Equal(got, want) {
				t.Fatalf("row %d moved to %d: Y_h %v, want %v", b, nb, got, want)
			}
			for s := range c.T {
				got := pr.Y.F32[((s*2+dir)*c.B+nb)*H : ((s*2+dir)*c.B+nb+1)*H]
				want := base.Y.F32[((s*2+dir)*c.B+b)*H : ((s*2+dir)*c.B+b+1)*H]
				if !slices.Equal(got, want) {
					t.Fatalf("row %d moved to %d: Y at step %d differs", b, nb, s)
				}
			}
		}
	}
}

// TestONNXRNNOmittedOutputs: outputs not wanted are not computed into
// tensors, and the ones wanted are unaffected.
func TestONNXRNNOmittedOutputs(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	c := onnxRNNCase{op: graph.OpLSTM, T: 4, B: 3, I: 2, H: 3, dir: graph.DirReverse, lens: []int32{4, 1, 3}}
	in, a := c.inputs(rng)
	all := rnnOutputs{WantY: true, WantYh: true, WantYc: true}
	only := rnnOutputs{WantYc: true}
	if err := recurrent(graph.OpLSTM, in, a, &all, nil, allocator{}); err != nil {
		t.Fatal(err)
	}
	if err := recurrent(graph.OpLSTM, in, a, &only, nil, allocator{}); err != nil {
		t.Fatal(err)
	}
	if only.Y != nil || only.Yh != nil {
		t.Fatal("outputs not wanted were returned")
	}
	onnxMustEqual(t, "Y_c alone", only.Yc, all.Yc)
}

// TestONNXRNNSteadyStateAllocatesNothing: with a reused workspace and an
// allocator that recycles output tensors, a call allocates nothing.
func TestONNXRNNSteadyStateAllocatesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	c := onnxRNNCase{op: graph.OpLSTM, T: 8, B: 6, I: 5, H: 7, dir: graph.DirBidirectional, lens: []int32{8, 3, 0, 5, 8, 1}, bias: true, h0: true, c0: true}
	in, a := c.inputs(rng)
	var work rnnWork
	st := newState(0, 0)
	out := rnnOutputs{WantY: true, WantYh: true, WantYc: true}
	run := func() {
		if err := recurrent(graph.OpLSTM, in, a, &out, &work, st.alloc); err != nil {
			t.Fatal(err)
		}
		for _, y := range []*graph.Tensor{out.Y, out.Yh, out.Yc} {
			st.put(y)
		}
	}
	run()
	if n := testing.AllocsPerRun(20, run); n != 0 {
		t.Fatalf("steady-state LSTM allocates %v times per call", n)
	}
}

func TestONNXRNNErrors(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	c := onnxRNNCase{op: graph.OpLSTM, T: 4, B: 3, I: 2, H: 3, dir: graph.DirForward, lens: []int32{4, 1, 3}, h0: true}
	for _, e := range []struct {
		edit func(*rnnInputs, *rnnAttrs)
		want string
	}{
		{func(in *rnnInputs, a *rnnAttrs) { in.SeqLens.I32[1] = 5 }, "sequence_lens[1] = 5 is outside [0, 4] (seq_length)"},
		{func(in *rnnInputs, a *rnnAttrs) { in.SeqLens.I32[2] = -1 }, "sequence_lens[2] = -1 is outside [0, 4] (seq_length)"},
		{func(in *rnnInputs, a *rnnAttrs) { in.SeqLens = graph.NewTensor(graph.Int64, 3) }, "sequence_lens must be int32, found int64"},
		{func(in *rnnInputs, a *rnnAttrs) { in.SeqLens = graph.NewTensor(graph.Int32, 2) }, "sequence_lens must have shape [3], found [2]"},
		{func(in *rnnInputs, a *rnnAttrs) { in.W = graph.NewTensor(graph.Float32, 1, 12, 3) }, "W must have shape [1, 12, 2], found [1, 12, 3]"},
		{func(in *rnnInputs, a *rnnAttrs) { in.H0 = graph.NewTensor(graph.Float32, 3, 1, 3) }, "initial_h must have shape [1, 3, 3], found [3, 1, 3]"},
		{func(in *rnnInputs, a *rnnAttrs) { in.X = graph.NewTensor(graph.Float32, 4, 3) }, "X must have rank 3, found shape [4, 3]"},
		{func(in *rnnInputs, a *rnnAttrs) { in.X = graph.NewTensor(graph.Float64, 4, 3, 2) }, "X is float64; only float32 is supported"},
		{func(in *rnnInputs, a *rnnAttrs) { a.HiddenSize = 4 }, "W must have shape [1, 16, 2], found [1, 12, 2]"},
	} {
		in, a := c.inputs(rng)
		e.edit(&in, &a)
		out := rnnOutputs{WantY: true}
		err := recurrent(graph.OpLSTM, in, a, &out, nil, allocator{})
		if err == nil || err.Error() != e.want {
			t.Errorf("error %v, want %q", err, e.want)
		}
		if err != nil && strings.Contains(err.Error(), "\n") {
			t.Errorf("multi-line error %q", err)
		}
	}
}

func TestONNXGRUMatchesNaive(t *testing.T) { testONNXRecurrentMatchesNaive(t, graph.OpGRU) }

// TestONNXLSTMPanelsSameBits: an LSTM node whose R is a constant keeps Rᵀ
// in panels for its one-row steps, per direction, and gives the bits it
// gives with Rᵀ alone; a GRU node does too, and an LSTM whose gate width
// is not a multiple of 64 keeps none.
func TestONNXLSTMPanelsSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	c := onnxRNNCase{op: graph.OpLSTM, T: 7, B: 3, I: 5, H: 16, dir: graph.DirBidirectional, lens: []int32{7, 2, 5}, bias: true, h0: true, c0: true}
	in, a := c.inputs(rng)
	k := &recurrentKernel{operands: operands{in: []int{0, 1, 2}}, op: graph.OpLSTM}
	k.transposeWeights([]*graph.Tensor{nil, in.W, in.R})
	if (k.rP != nil) != (ops.RecurrentPanels(k.rT[:4*16*16], 16, 4*16) != nil) || (k.rP != nil && len(k.rP) != len(k.rT)) {
		t.Fatalf("panels of %d floats for Rᵀ of %d", len(k.rP), len(k.rT))
	}
	in.WT, in.RT = k.wT, k.rT
	want := rnnOutputs{WantY: true, WantYh: true, WantYc: true}
	if err := recurrent(graph.OpLSTM, in, a, &want, nil, allocator{}); err != nil {
		t.Fatal(err)
	}
	in.RP = k.rP
	got := rnnOutputs{WantY: true, WantYh: true, WantYc: true}
	if err := recurrent(graph.OpLSTM, in, a, &got, nil, allocator{}); err != nil {
		t.Fatal(err)
	}
	for i, pair := range [][2]*graph.Tensor{{got.Y, want.Y}, {got.Yh, want.Yh}, {got.Yc, want.Yc}} {
		if !bitsEqual(pair[0].F32, pair[1].F32) {
			t.Errorf("output %d with panels differs from Rᵀ alone", i)
		}
	}
	for _, nc := range []onnxRNNCase{{op: graph.OpGRU, T: 4, B: 1, I: 2, H: 64, dir: graph.DirBidirectional, lbr: true}, {op: graph.OpLSTM, T: 2, B: 1, I: 2, H: 8, dir: graph.DirForward}} {
		in, a := nc.inputs(rng)
		k := &recurrentKernel{operands: operands{in: []int{0, 1, 2}}, op: nc.op}
		k.transposeWeights([]*graph.Tensor{nil, in.W, in.R})
		if k.rT == nil || (k.rP != nil) != (nc.op == graph.OpGRU && ops.RecurrentPanels(k.rT[:3*64*64], 64, 3*64) != nil) {
			t.Fatalf("%v: Rᵀ %v, panels %v", nc, k.rT != nil, k.rP != nil)
		}
		in.WT, in.RT = k.wT, k.rT
		want := rnnOutputs{WantY: true, WantYh: true}
		if err := recurrent(nc.op, in, a, &want, nil, allocator{}); err != nil {
			t.Fatal(err)
		}
		in.RP = k.rP
		got := rnnOutputs{WantY: true, WantYh: true}
		if err := recurrent(nc.op, in, a, &got, nil, allocator{}); err != nil {
			t.Fatal(err)
		}
		if !bitsEqual(got.Y.F32, want.Y.F32) || !bitsEqual(got.Yh.F32, want.Yh.F32) {
			t.Errorf("%v: outputs with panels differ from Rᵀ alone", nc)
		}
	}
}
