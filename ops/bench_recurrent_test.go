package ops

import (
	"math/rand/v2"
	goruntime "runtime"
	"slices"
	"testing"
)

// Benchmarks of the recurrent kernels at the workloads of the reference
// benchmarks (R1: F = 13 → 64 → 64; R2: F = 13 → 128 → 128; lengths uniform
// in [12, 48]), one training step of the recurrent stack as the runtime runs
// it on one shard: zero the gradients, forward through both layers, backward
// from a gradient at every valid step of the top layer (what the target
// replication loss sends down), each layer's dx feeding the one below. They
// report sequences per second, the process's CPU time per step (cpu-ns/op,
// steadier than wall time on a shared machine) and allocations (0 in steady
// state).

// recStack is a stack of recurrent layers over one packed batch.
type recStack struct {
	p      Packing
	x      []float32 // [N, F] packed input
	dy     []float32 // [N, H] gradient at the top layer's output
	layers []*recLayer
}

type recLayer struct {
	kind       recKind
	lw         LSTMWeights
	lg         LSTMGrads
	lc         LSTMCache
	gw         GRUWeights
	gg         GRUGrads
	gc         GRUCache
	x, y, hT   []float32
	cT         []float32
	dx         []float32 // nil for the first layer: no gradient for the data
	gradBuffer []float32 // all parameter gradients, zeroed at each step
}

// newRecStack builds a stack of the given kind over rows sequences of
// lengths drawn uniformly in [lo, hi], with features F and hidden sizes hs.
func newRecStack(kind recKind, rows, lo, hi, F int, hs []int, seed uint64) *recStack {
	rng := rand.New(rand.NewPCG(seed, 3))
	lengths := make([]int, rows)
	for i := range lengths {
		lengths[i] = lo + rng.IntN(hi-lo+1)
	}
	slices.Sort(lengths)
	slices.Reverse(lengths)
	s := &recStack{}
	s.p.Reset(lengths)
	N := s.p.N()
	uni := func(n int, a float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32((2*rng.Float64() - 1) * a)
		}
		return v
	}
	s.x = uni(N*F, 1)
	in, I := s.x, F
	for l, H := range hs {
		ly := &recLayer{kind: kind, x: in, y: make([]float32, N*H), hT: make([]float32, rows*H), cT: make([]float32, rows*H)}
		if l > 0 {
			ly.dx = make([]float32, N*I)
		}
		G := 3
		if kind == kindLSTM {
			G = 4
		}
		nb := 2 * G * H
		if kind == kindLSTM {
			nb = G * H
		}
		ly.gradBuffer = make([]float32, G*H*I+G*H*H+nb)
		dW, dR, dB := ly.gradBuffer[:G*H*I], ly.gradBuffer[G*H*I:G*H*(I+H)], ly.gradBuffer[G*H*(I+H):]
		W, R, B := uni(G*H*I, 0.2), uni(G*H*H, 0.2), uni(nb, 0.1)
		if kind == kindLSTM {
			ly.lw = LSTMWeights{I: I, H: H, W: W, R: R, B: B}
			ly.lg = LSTMGrads{DX: ly.dx, DW: dW, DR: dR, DB: dB}
		} else {
			ly.gw = GRUWeights{I: I, H: H, W: W, R: R, B: B, LinearBeforeReset: kind == kindGRU1}
			ly.gg = GRUGrads{DX: ly.dx, DW: dW, DR: dR, DB: dB}
		}
		s.layers = append(s.layers, ly)
		in, I = ly.y, H
	}
	s.dy = uni(N*hs[len(hs)-1], 0.01)
	return s
}

func (s *recStack) forward() {
	for _, ly := range s.layers {
		if ly.kind == kindLSTM {
			LSTMForward(&s.p, ly.lw, ly.x, nil, nil, ly.y, ly.hT, ly.cT, &ly.lc)
		} else {
			GRUForward(&s.p, ly.gw, ly.x, nil, ly.y, ly.hT, &ly.gc)
		}
	}
}

// reserve makes every layer's cache a training cache, sized for the
// stack's batch, as the runtime's training does.
func (s *recStack) reserve() {
	for _, ly := range s.layers {
		if ly.kind == kindLSTM {
			ly.lc.Reserve(s.p.Rows(), s.p.N(), ly.lw.I, ly.lw.H)
		} else {
			ly.gc.Reserve(s.p.Rows(), s.p.N(), ly.gw.I, ly.gw.H)
		}
	}
}

// trainStep zeroes the gradients and runs forward and backward.
func (s *recStack) trainStep() {
	for _, ly := range s.layers {
		clear(ly.gradBuffer)
		clear(ly.dx)
	}
	s.forward()
	dy := s.dy
	for l := len(s.layers) - 1; l >= 0; l-- {
		ly := s.layers[l]
		if ly.kind == kindLSTM {
			LSTMBackward(&s.p, ly.lw, ly.x, &ly.lc, dy, nil, nil, ly.lg)
		} else {
			GRUBackward(&s.p, ly.gw, ly.x, &ly.gc, dy, nil, ly.gg)
		}
		dy = ly.dx
	}
}

// TestRecurrentSteadyStateAllocs guards the promise that a training step of
// a warmed-up stack allocates nothing, for each kernel.
func TestRecurrentSteadyStateAllocs(t *testing.T) {
	for _, kind := range []recKind{kindLSTM, kindGRU0, kindGRU1} {
		s := newRecStack(kind, 8, 1, 9, 5, []int{6, 4}, 1)
		s.reserve()
		// Reserve alone suffices: the first step allocates nothing either.
		var before, after goruntime.MemStats
		goruntime.ReadMemStats(&before)
		s.trainStep()
		goruntime.ReadMemStats(&after)
		if a := after.Mallocs - before.Mallocs; a != 0 {
			t.Errorf("%s: the first training step after Reserve made %d allocations, want 0", kind, a)
		}
		if a := testing.AllocsPerRun(5, s.trainStep); a != 0 {
			t.Errorf("%s: %v allocations per training step, want 0", kind, a)
		}
		if a := testing.AllocsPerRun(5, s.forward); a != 0 {
			t.Errorf("%s: %v allocations per forward, want 0", kind, a)
		}
	}
	// A smaller batch after a larger one reuses the caches as they are.
	big := newRecStack(kindLSTM, 16, 5, 20, 5, []int{6}, 2)
	big.trainStep()
	small := newRecStack(kindLSTM, 4, 1, 6, 5, []int{6}, 3)
	small.layers[0].lc = big.layers[0].lc
	if a := testing.AllocsPerRun(3, small.trainStep); a != 0 {
		t.Errorf("smaller batch on a grown cache: %v allocations, want 0", a)
	}
}

func benchStack(b *testing.B, kind recKind, rows, H int, train bool) {
	s := newRecStack(kind, rows, 12, 48, 13, []int{H, H}, 42)
	step := s.forward
	if train {
		s.reserve()
		step = s.trainStep
	}
	step()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		step()
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "seqs/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
}

// BenchmarkLSTMTrainR1: R1's recurrent stack (13 → 64 → 64), on a shard of
// 16 rows (the runtime splits R1's batch of 32 in two) and on the whole
// batch, forward + backward.
func BenchmarkLSTMTrainR1(b *testing.B) {
	b.Run("shard16", func(b *testing.B) { benchStack(b, kindLSTM, 16, 64, true) })
	b.Run("batch32", func(b *testing.B) { benchStack(b, kindLSTM, 32, 64, true) })
}

// BenchmarkLSTMTrainR2: R2's recurrent stack (13 → 128 → 128), shard of 32
// rows and batch of 64.
func BenchmarkLSTMTrainR2(b *testing.B) {
	b.Run("shard32", func(b *testing.B) { benchStack(b, kindLSTM, 32, 128, true) })
	b.Run("batch64", func(b *testing.B) { benchStack(b, kindLSTM, 64, 128, true) })
}

// BenchmarkLSTMForwardR1 and R2: inference through the same stacks.
func BenchmarkLSTMForwardR1(b *testing.B) {
	b.Run("shard16", func(b *testing.B) { benchStack(b, kindLSTM, 16, 64, false) })
	b.Run("batch32", func(b *testing.B) { benchStack(b, kindLSTM, 32, 64, false) })
}

func BenchmarkLSTMForwardR2(b *testing.B) {
	b.Run("shard32", func(b *testing.B) { benchStack(b, kindLSTM, 32, 128, false) })
	b.Run("batch64", func(b *testing.B) { benchStack(b, kindLSTM, 64, 128, false) })
}

// BenchmarkGRUTrainR1: R1's stack with GRU layers (linear_before_reset = 1,
// the trained form), shard of 16 rows.
func BenchmarkGRUTrainR1(b *testing.B) {
	b.Run("shard16", func(b *testing.B) { benchStack(b, kindGRU1, 16, 64, true) })
}
