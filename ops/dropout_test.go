package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestDropoutStatistics: over 200001 elements, the fraction kept is within
// 5 standard deviations of its binomial mean 1−r, every mask value is 0 or
// exactly 1/(1−r), y = x·mask exactly, and the mean of y is within 5
// standard deviations of the mean of x (E[y_i] = x_i, Var y_i = x_i²·r/(1−r)).
func TestDropoutStatistics(t *testing.T) {
	const n = 200001
	rng := rand.New(rand.NewPCG(25, 26))
	x := gcRandom(rng, n, 0.5, 1.5)
	for _, rate := range []float32{0.1, 0.5, 0.9} {
		y, mask := make([]float32, n), make([]float32, n)
		DropoutForward(rate, rand.New(rand.NewPCG(27, uint64(rate*100))), x, y, mask)
		r := float64(rate)
		scale := float32(1 / (1 - r))
		kept := 0
		var sumX, sumY, sumX2 float64
		for i := range x {
			switch mask[i] {
			case scale:
				kept++
			case 0:
			default:
				t.Fatalf("rate %v: mask[%d] = %v, want 0 or %v", rate, i, mask[i], scale)
			}
			if y[i] != x[i]*mask[i] {
				t.Fatalf("rate %v: y[%d] = %v, want x·mask = %v", rate, i, y[i], x[i]*mask[i])
			}
			sumX += float64(x[i])
			sumY += float64(y[i])
			sumX2 += float64(x[i]) * float64(x[i])
		}
		frac := float64(kept) / n
		if bound := 5 * math.Sqrt(r*(1-r)/n); math.Abs(frac-(1-r)) > bound {
			t.Errorf("rate %v: kept %.5f of the elements, want %.5f ± %.5f", rate, frac, 1-r, bound)
		}
		if bound := 5 * math.Sqrt(sumX2*r/(1-r)) / n; math.Abs(sumY-sumX)/n > bound {
			t.Errorf("rate %v: mean(y) = %.5f, mean(x) = %.5f, want within %.5f", rate, sumY/n, sumX/n, bound)
		}
	}
}

// TestDropoutDocumentedDraws: the mask follows the documented use of the
// generator exactly (element 2i: low 32 bits of draw i, element 2i+1: high
// 32 bits; dropped when below round(r·2³²)), and exactly ⌈n/2⌉ values are
// drawn, for odd and even lengths. Same seed, same mask; another seed,
// another mask.
func TestDropoutDocumentedDraws(t *testing.T) {
	const rate = 0.3
	threshold := uint32(math.Round(rate * (1 << 32)))
	for _, n := range []int{1, 2, 7, 1000, 1001} {
		x := make([]float32, n)
		for i := range x {
			x[i] = 1
		}
		y, mask := make([]float32, n), make([]float32, n)
		rng := rand.New(rand.NewPCG(31, 32))
		DropoutForward(rate, rng, x, y, mask)
		ref := rand.New(rand.NewPCG(31, 32))
		var u uint64
		for i := 0; i < n; i++ {
			var bits uint32
			if i%2 == 0 {
				u = ref.Uint64()
				bits = uint32(u)
			} else {
				bits = uint32(u >> 32)
			}
			if kept := mask[i] != 0; kept != (bits >= threshold) {
				t.Fatalf("n=%d: element %d kept=%v, its bits %#x against threshold %#x say %v", n, i, kept, bits, threshold, bits >= threshold)
			}
		}
		if rng.Uint64() != ref.Uint64() {
			t.Fatalf("n=%d: forward drew a different number of values than ⌈n/2⌉ = %d", n, (n+1)/2)
		}
		y2, mask2 := make([]float32, n), make([]float32, n)
		DropoutForward(rate, rand.New(rand.NewPCG(31, 32)), x, y2, mask2)
		if !sameBits(mask, mask2) || !sameBits(y, y2) {
			t.Fatalf("n=%d: same seed gave a different mask", n)
		}
		if n >= 1000 {
			DropoutForward(rate, rand.New(rand.NewPCG(31, 33)), x, y2, mask2)
			if sameBits(mask, mask2) {
				t.Fatalf("n=%d: another seed gave the same mask", n)
			}
		}
	}
}

// TestDropoutRateZero: rate 0 is the identity, bit for bit, with mask 1, and
// draws nothing.
func TestDropoutRateZero(t *testing.T) {
	x := []float32{1.5, -2, float32(math.Inf(1)), 0, float32(math.Copysign(0, -1)), 3e-40}
	y, mask := make([]float32, len(x)), make([]float32, len(x))
	rng := rand.New(rand.NewPCG(1, 1))
	DropoutForward(0, rng, x, y, mask)
	if !sameBits(x, y) {
		t.Fatalf("y = %v, want x = %v", y, x)
	}
	for i, m := range mask {
		if m != 1 {
			t.Fatalf("mask[%d] = %v, want 1", i, m)
		}
	}
	if rng.Uint64() != rand.New(rand.NewPCG(1, 1)).Uint64() {
		t.Fatal("rate 0 drew from the generator")
	}
}

// TestDropoutBackward: dx accumulates dy·mask with the forward's mask: zero
// gradient where the element was dropped, dy/(1−r) where it was kept; in
// place forward gives the same mask.
func TestDropoutBackward(t *testing.T) {
	const n, rate = 999, 0.4
	rng := rand.New(rand.NewPCG(41, 42))
	x := gcRandom(rng, n, -1, 1)
	y, mask := make([]float32, n), make([]float32, n)
	DropoutForward(rate, rand.New(rand.NewPCG(43, 44)), x, y, mask)
	dy := gcRandom(rng, n, -1, 1)
	dx := make([]float32, n)
	for i := range dx {
		dx[i] = 0.25
	}
	DropoutBackward(mask, dy, dx)
	scale := float32(1 / (1 - float64(rate)))
	dropped := 0
	for i := range dx {
		want := 0.25 + float32(dy[i]*scale)
		if y[i] == 0 {
			want = 0.25
			dropped++
		}
		if dx[i] != want {
			t.Fatalf("dx[%d] = %v, want %v (y = %v)", i, dx[i], want, y[i])
		}
	}
	if dropped == 0 || dropped == n {
		t.Fatalf("%d of %d dropped: the test needs both kinds", dropped, n)
	}
	in := clone32(x)
	mask2 := make([]float32, n)
	DropoutForward(rate, rand.New(rand.NewPCG(43, 44)), in, in, mask2)
	if !sameBits(in, y) || !sameBits(mask2, mask) {
		t.Fatal("in-place forward differs")
	}
}

// TestDropoutGradients checks dx by central differences with a fixed mask
// (the generator is reseeded for every evaluation, so every forward draws
// the same mask). The op is linear in x: no truncation error, and each
// perturbation touches one output, so atol = 1e-5 is ample.
func TestDropoutGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(45, 46))
	p := gcPacking()
	x := gcRandom(rng, p.N()*4, -2, 2)
	wl, dy := gcWeights(rng, len(x))
	y, mask := make([]float32, len(x)), make([]float32, len(x))
	forward := func() {
		DropoutForward(0.5, rand.New(rand.NewPCG(47, 48)), x, y, mask)
	}
	forward()
	dx := make([]float32, len(x))
	DropoutBackward(mask, dy, dx)
	gradCheck(t, "x", x, dx, 0.5, 1e-5, 1e-6, func() float64 {
		forward()
		return gcDot(wl, y)
	})
}

func TestDropoutNoAlloc(t *testing.T) {
	x := make([]float32, 4097)
	y, mask, dx := make([]float32, len(x)), make([]float32, len(x)), make([]float32, len(x))
	rng := rand.New(rand.NewPCG(1, 2))
	if a := testing.AllocsPerRun(3, func() {
		DropoutForward(0.5, rng, x, y, mask)
		DropoutBackward(mask, x, dx)
	}); a != 0 {
		t.Fatalf("%v allocations per forward+backward, want 0", a)
	}
}

func TestDropoutPanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 4)
	for _, rate := range []float32{1, -0.1, float32(math.NaN()), 1.5} {
		expectPanic(t, "ops: DropoutForward: rate = ", func() { DropoutForward(rate, rng, x, x, make([]float32, 4)) })
	}
	expectPanic(t, "ops: DropoutForward: len(mask) = 3, want 4", func() { DropoutForward(0.5, rng, x, x, make([]float32, 3)) })
	expectPanic(t, "ops: DropoutForward: len(y) = 5, want 4", func() { DropoutForward(0.5, rng, x, make([]float32, 5), x) })
	expectPanic(t, "ops: DropoutBackward: len(dx) = 3, want 4", func() { DropoutBackward(x, x, make([]float32, 3)) })
}
