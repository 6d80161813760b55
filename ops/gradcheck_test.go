package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Gradient checking by central differences, shared by the ops tests.
//
// A kernel's backward is checked against its forward: pick a scalar loss
// L = Σ_i w_i·y_i of the forward output y with fixed random weights w
// (gcDot, evaluated in float64), run backward with dy = w, and compare each
// element of the gradient with
//
//	(L(v + h) − L(v − h)) / (h₊ + h₋)
//
// where v is one element of an input or parameter, perturbed in place in
// float32, and h₊, h₋ are the steps actually taken after rounding v ± h to
// float32 (so the rounding of the step is not an error). The difference
// has two error sources, which the caller's tolerance must cover:
//
//   - truncation, h²/6·|∂³L/∂v³|: zero for ops linear in v (use a large h
//     there), small for smooth ones;
//   - float32 rounding of the forward outputs v touches, amplified by
//     1/(2h): about Σ|w_i|·ulp(y_i)/(2h) over those outputs.

// gradCheckErr compares grad, the analytic gradient of loss with respect to
// param, with central differences of step h, element by element. An
// element passes when |num − grad| ≤ atol + rtol·|num|. param is perturbed
// in place and restored. It returns "" or a description of the first
// failure with the worst error.
func gradCheckErr(param, grad []float32, h, atol, rtol float64, loss func() float64) string {
	if len(grad) != len(param) {
		return fmt.Sprintf("gradient has %d elements, parameter %d", len(grad), len(param))
	}
	first, worst, worstAt := "", 0.0, -1
	for i := range param {
		v := param[i]
		up, down := float32(float64(v)+h), float32(float64(v)-h)
		param[i] = up
		lp := loss()
		param[i] = down
		lm := loss()
		param[i] = v
		num := (lp - lm) / (float64(up) - float64(down))
		d := math.Abs(num - float64(grad[i]))
		if math.IsNaN(d) || d > atol+rtol*math.Abs(num) {
			if first == "" {
				first = fmt.Sprintf("element %d: analytic %.7g, numerical %.7g", i, grad[i], num)
			}
		}
		if d > worst || math.IsNaN(d) {
			worst, worstAt = d, i
		}
	}
	if first != "" {
		return fmt.Sprintf("%s (worst |diff| %.3g at element %d; atol %.3g, rtol %.3g)", first, worst, worstAt, atol, rtol)
	}
	return ""
}

// gradCheck fails t unless grad matches central differences of loss with
// respect to param (see gradCheckErr).
func gradCheck(t *testing.T, name string, param, grad []float32, h, atol, rtol float64, loss func() float64) {
	t.Helper()
	if msg := gradCheckErr(param, grad, h, atol, rtol, loss); msg != "" {
		t.Errorf("gradient of %s: %s", name, msg)
	}
}

// gcDot is the loss Σ w_i·y_i, in float64.
func gcDot(w []float64, y []float32) float64 {
	var s float64
	for i, v := range y {
		s += w[i] * float64(v)
	}
	return s
}

// gcRandom returns n values uniform in [lo, hi).
func gcRandom(rng *rand.Rand, n int, lo, hi float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(lo + (hi-lo)*rng.Float64())
	}
	return x
}

// gcWeights returns n loss weights uniform in [−1, 1), as float64 for the
// loss and float32 for the backward's dy.
func gcWeights(rng *rand.Rand, n int) ([]float64, []float32) {
	w64 := make([]float64, n)
	w32 := make([]float32, n)
	for i := range w64 {
		w32[i] = float32(2*rng.Float64() - 1)
		w64[i] = float64(w32[i])
	}
	return w64, w32
}

// gcPacking returns a packing with mixed lengths: the longest (T = 6),
// repeated, some in between, 1, and 0.
func gcPacking() *Packing {
	var p Packing
	p.Reset([]int{6, 6, 4, 3, 1, 0})
	return &p
}

// TestGradCheckErrRejectsWrongGradient: the checker itself fails a gradient
// that is off by 1% on one element, or has the wrong sign, and passes the
// right one.
func TestGradCheckErrRejectsWrongGradient(t *testing.T) {
	x := []float32{0.3, -1.2, 2.5}
	loss := func() float64 { // L = Σ x³
		var s float64
		for _, v := range x {
			s += float64(v) * float64(v) * float64(v)
		}
		return s
	}
	grad := func() []float32 {
		g := make([]float32, len(x))
		for i, v := range x {
			g[i] = 3 * v * v
		}
		return g
	}
	// h = 1e-3: truncation h²·|∂³L| = 6e-6 per element.
	if msg := gradCheckErr(x, grad(), 1e-3, 2e-5, 1e-5, loss); msg != "" {
		t.Fatalf("right gradient rejected: %s", msg)
	}
	g := grad()
	g[1] *= 1.01
	if msg := gradCheckErr(x, g, 1e-3, 2e-5, 1e-5, loss); msg == "" {
		t.Fatal("gradient 1% off on element 1 accepted")
	}
	g = grad()
	for i := range g {
		g[i] = -g[i]
	}
	if msg := gradCheckErr(x, g, 1e-3, 2e-5, 1e-5, loss); msg == "" {
		t.Fatal("negated gradient accepted")
	}
	if x[0] != 0.3 || x[1] != -1.2 || x[2] != 2.5 {
		t.Fatalf("parameter not restored: %v", x)
	}
}
