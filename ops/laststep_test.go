package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// packedIndex is the packed row of (row b, step t), computed from the
// lengths alone (rows with length > s occupy step s's block): an
// independent statement of Packing's layout.
func packedIndex(lengths []int, b, t int) int {
	r := 0
	for s := 0; s < t; s++ {
		for _, l := range lengths {
			if l > s {
				r++
			}
		}
	}
	return r + b
}

// TestLastStep: out[b] is x at row b's step len−1 for every length from
// the longest down to 1, zeros for length 0 (over NaN-filled output), and
// backward scatter-adds dout there, leaving every other packed row alone.
func TestLastStep(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	p := gcPacking()
	const K = 3
	x := gcRandom(rng, p.N()*K, -1, 1)
	out := make([]float32, p.Rows()*K)
	for i := range out {
		out[i] = float32(math.NaN())
	}
	LastStepForward(p, x, out, K)
	last := map[int]int{} // packed row → sequence row
	for b, l := range p.Lengths {
		for k := 0; k < K; k++ {
			want := float32(0)
			if l > 0 {
				r := packedIndex(p.Lengths, b, l-1)
				last[r] = b
				want = x[r*K+k]
			}
			if math.Float32bits(out[b*K+k]) != math.Float32bits(want) {
				t.Fatalf("out(%d,%d) = %v, want %v (length %d)", b, k, out[b*K+k], want, l)
			}
		}
	}
	dout := gcRandom(rng, len(out), -1, 1)
	dx := make([]float32, len(x))
	for i := range dx {
		dx[i] = 0.5
	}
	LastStepBackward(p, dout, dx, K)
	for r := 0; r < p.N(); r++ {
		for k := 0; k < K; k++ {
			want := float32(0.5)
			if b, ok := last[r]; ok {
				want += dout[b*K+k]
			}
			if dx[r*K+k] != want {
				t.Fatalf("dx(%d,%d) = %v, want %v", r, k, dx[r*K+k], want)
			}
		}
	}
}

// TestLastStepGradients checks dx by central differences (linear, one
// output per perturbation at most, atol = 1e-6); packed rows that are no
// row's last step get exactly zero gradient.
func TestLastStepGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(63, 64))
	p := gcPacking()
	const K = 2
	x := gcRandom(rng, p.N()*K, -1, 1)
	out := make([]float32, p.Rows()*K)
	wl, dout := gcWeights(rng, len(out))
	dx := make([]float32, len(x))
	LastStepBackward(p, dout, dx, K)
	gradCheck(t, "x", x, dx, 0.5, 1e-6, 1e-6, func() float64 {
		LastStepForward(p, x, out, K)
		return gcDot(wl, out)
	})
}

// TestLastStepEmpty: a batch of only empty rows, and a batch of no rows.
func TestLastStepEmpty(t *testing.T) {
	var p Packing
	p.Reset([]int{0, 0})
	out := []float32{1, 2, 3, 4}
	LastStepForward(&p, nil, out, 2)
	if out[0] != 0 || out[3] != 0 {
		t.Fatalf("out = %v, want zeros", out)
	}
	LastStepBackward(&p, out, nil, 2)
	p.Reset(nil)
	LastStepForward(&p, nil, nil, 2)
}

func TestLastStepNoAlloc(t *testing.T) {
	var p Packing
	p.Reset([]int{15, 12, 9, 9, 7, 3, 1, 0})
	const K = 128
	x, dx := make([]float32, p.N()*K), make([]float32, p.N()*K)
	out := make([]float32, p.Rows()*K)
	if a := testing.AllocsPerRun(3, func() {
		LastStepForward(&p, x, out, K)
		LastStepBackward(&p, out, dx, K)
	}); a != 0 {
		t.Fatalf("%v allocations per forward+backward, want 0", a)
	}
}

func TestLastStepPanics(t *testing.T) {
	var p Packing
	p.Reset([]int{2, 1})
	expectPanic(t, "ops: LastStepForward: len(x) = 5, want 6", func() { LastStepForward(&p, make([]float32, 5), make([]float32, 4), 2) })
	expectPanic(t, "ops: LastStepForward: len(out) = 3, want 4", func() { LastStepForward(&p, make([]float32, 6), make([]float32, 3), 2) })
	expectPanic(t, "ops: LastStepForward: width 0, want ≥ 1", func() { LastStepForward(&p, nil, nil, 0) })
	expectPanic(t, "ops: LastStepBackward: packing not laid out by Packing.Reset", func() { LastStepBackward(&Packing{}, nil, nil, 1) })
	expectPanic(t, "ops: LastStepBackward: len(dx) = 7, want 6", func() { LastStepBackward(&p, make([]float32, 4), make([]float32, 7), 2) })
}
