package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSigmoidForward: y is the shared sigmoid of x bit for bit (so the op,
// the LSTM and the GRU agree), within 1e-6 relative of the float64 logistic
// function (results below float32's normal range, σ(x) < 1.2e-38, may be
// 0), in [0, 1] and finite even for extreme logits; in place works.
func TestSigmoidForward(t *testing.T) {
	x := []float32{0, 1, -1, 4.5, -4.5, 20, -20, 88, -88, 100, -100, 1e-8, -1e-8, float32(math.Inf(1)), float32(math.Inf(-1))}
	rng := rand.New(rand.NewPCG(21, 22))
	x = append(x, gcRandom(rng, 200, -15, 15)...)
	y := make([]float32, len(x))
	SigmoidForward(x, y)
	for i, v := range x {
		if math.Float32bits(y[i]) != math.Float32bits(Sigmoid(v)) {
			t.Fatalf("y[%d] = %v, Sigmoid(%v) = %v", i, y[i], v, Sigmoid(v))
		}
		want := 1 / (1 + math.Exp(-float64(v)))
		if got := float64(y[i]); !(got >= 0 && got <= 1) || math.Abs(got-want) > 1e-6*want+0x1p-126 {
			t.Fatalf("σ(%v) = %v, want %v", v, got, want)
		}
	}
	in := clone32(x)
	SigmoidForward(in, in)
	if !sameBits(in, y) {
		t.Fatal("in-place forward differs")
	}
}

// TestSigmoidGradients checks dx by central differences. σ is smooth: with
// h = 1e-2 the truncation error is h²/6·max|σ”'| = 1e-4/6·(1/8) ≈ 2e-6,
// and the float32 rounding of one output (≤ 2 ulp ≈ 1.2e-7) divided by 2h
// adds ≈ 6e-6; atol = 3e-5 against gradients up to 0.25.
func TestSigmoidGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	p := gcPacking()
	K := 3
	x := gcRandom(rng, p.N()*K, -6, 6)
	wl, dy := gcWeights(rng, len(x))
	y := make([]float32, len(x))
	SigmoidForward(x, y)
	dx := make([]float32, len(x))
	SigmoidBackward(y, dy, dx)
	gradCheck(t, "x", x, dx, 1e-2, 3e-5, 1e-4, func() float64 {
		SigmoidForward(x, y)
		return gcDot(wl, y)
	})
}

// TestSigmoidBackward: dx accumulates dy·y·(1−y), and saturated outputs
// (y = 0 or 1) give a zero, finite gradient.
func TestSigmoidBackward(t *testing.T) {
	y := []float32{0.5, 0.25, 1, 0, 0.9}
	dy := []float32{2, -1, 5, 5, 1}
	dx := []float32{1, 1, 1, 1, 1}
	SigmoidBackward(y, dy, dx)
	want := []float32{1 + 2*0.25, 1 - 0.1875, 1, 1, 1 + 0.9*(1-float32(0.9))}
	for i := range want {
		if dx[i] != want[i] {
			t.Fatalf("dx[%d] = %v, want %v", i, dx[i], want[i])
		}
	}
}

func TestSigmoidNoAlloc(t *testing.T) {
	x := make([]float32, 4096)
	y, dx := make([]float32, len(x)), make([]float32, len(x))
	if a := testing.AllocsPerRun(3, func() {
		SigmoidForward(x, y)
		SigmoidBackward(y, x, dx)
	}); a != 0 {
		t.Fatalf("%v allocations per forward+backward, want 0", a)
	}
}

func TestSigmoidPanics(t *testing.T) {
	expectPanic(t, "ops: SigmoidForward: len(y) = 2, want 3", func() { SigmoidForward(make([]float32, 3), make([]float32, 2)) })
	expectPanic(t, "ops: SigmoidBackward: len(dy) = 2, want 3", func() {
		SigmoidBackward(make([]float32, 3), make([]float32, 2), make([]float32, 3))
	})
	expectPanic(t, "ops: SigmoidBackward: len(dx) = 4, want 3", func() {
		SigmoidBackward(make([]float32, 3), make([]float32, 3), make([]float32, 4))
	})
}
