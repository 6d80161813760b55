package interp

import (
	"math/rand/v2"
	goruntime "runtime"
	"testing"

	"github.com/trnn/trnn/graph"
)

// TestONNXRecurrentInParts: a batch large enough to be split across cores
// gives what the naive kernel gives, for the LSTM and the GRU, both
// directions, both layouts, initial states and lengths 0..T, and the
// workspace then serves a batch too small to split.
func TestONNXRecurrentInParts(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(3))
	rng := rand.New(rand.NewPCG(21, 22))
	lens := make([]int32, 101)
	for b := range lens {
		lens[b] = int32(rng.IntN(25))
	}
	var work rnnWork
	for _, c := range []onnxRNNCase{
		{op: graph.OpLSTM, T: 24, B: 101, I: 7, H: 32, dir: graph.DirBidirectional, lens: lens, bias: true, h0: true, c0: true, peep: true},
		{op: graph.OpGRU, T: 24, B: 101, I: 7, H: 32, dir: graph.DirForward, layout: 1, lens: lens, bias: true, h0: true, lbr: true},
		{op: graph.OpLSTM, T: 9, B: 96, I: 7, H: 32, dir: graph.DirReverse, bias: true},
		{op: graph.OpLSTM, T: 5, B: 3, I: 7, H: 32, dir: graph.DirForward, lens: []int32{5, 0, 2}, bias: true, h0: true, c0: true},
	} {
		in, a := c.inputs(rng)
		// Weights in [-0.25, 0.25] keep 32 units' pre-activations in a
		// range where float32 rounding stays below 1e-5 over 24 steps (the
		// cell state grows to about 20).
		for _, w := range []*graph.Tensor{in.W, in.R} {
			for i := range w.F32 {
				w.F32[i] /= 8
			}
		}
		d, err := checkRNN(c.op, in, a)
		if err != nil {
			t.Fatal(err)
		}
		if P := rnnParts(in.SeqLens, d); P < 2 && c.B > 32 || P > 1 && c.B < 32 {
			t.Fatalf("%v: %d parts", c, P)
		}
		out := rnnOutputs{WantY: true, WantYh: true, WantYc: true}
		if err := recurrent(c.op, in, a, &out, &work, allocator{}); err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		y, yh, yc, err := onnxRecurrentNaive(c.op, in, a)
		if err != nil {
			t.Fatal(err)
		}
		onnxCloseF32(t, c.String()+" Y", out.Y, y, 1e-5)
		onnxCloseF32(t, c.String()+" Y_h", out.Yh, yh, 1e-5)
		if c.op == graph.OpLSTM {
			onnxCloseF32(t, c.String()+" Y_c", out.Yc, yc, 1e-5)
		}
	}
}

// TestONNXRecurrentPartPanicReachesCaller: a panic in a part (a bug: here X
// holds fewer elements than its shape) reaches the caller's goroutine,
// once every part has stopped, instead of ending the process.
func TestONNXRecurrentPartPanicReachesCaller(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(3))
	rng := rand.New(rand.NewPCG(23, 24))
	c := onnxRNNCase{op: graph.OpLSTM, T: 9, B: 96, I: 7, H: 32, dir: graph.DirForward, bias: true}
	in, a := c.inputs(rng)
	half := len(in.X.F32) / 2
	in.X.F32 = in.X.F32[:half:half]
	var work rnnWork
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
		if len(work.parts) < 2 {
			t.Fatalf("%d parts", len(work.parts))
		}
		for i, p := range work.parts {
			if p.panicked != nil {
				t.Errorf("part %d still holds its panic", i)
			}
		}
	}()
	out := rnnOutputs{WantY: true}
	err := recurrent(c.op, in, a, &out, &work, allocator{})
	t.Fatalf("returned %v", err)
}
