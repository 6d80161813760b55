package ops

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// denseCase is a dense layer over a packed batch with random values.
type denseCase struct {
	w  DenseWeights
	n  int
	x  []float32 // [N, I]
	dy []float32 // [N, K] loss weights as float32
	wl []float64 // [N, K] the same, float64
}

func newDenseCase(rng *rand.Rand, n, in, out int, bias bool) *denseCase {
	c := &denseCase{n: n, w: DenseWeights{I: in, K: out}}
	c.w.W = gcRandom(rng, out*in, -1, 1)
	if bias {
		c.w.B = gcRandom(rng, out, -1, 1)
	}
	c.x = gcRandom(rng, n*in, -2, 2)
	c.wl, c.dy = gcWeights(rng, n*out)
	return c
}

func (c *denseCase) loss() float64 {
	y := make([]float32, c.n*c.w.K)
	DenseForward(c.w, c.x, y)
	return gcDot(c.wl, y)
}

// TestDenseForward compares y with a float64 evaluation of x·Wᵀ + b, within
// the float32 rounding bound of an I-term sum, with and without bias.
func TestDenseForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for _, s := range [][3]int{{1, 1, 1}, {17, 5, 3}, {480, 13, 1}, {33, 64, 128}, {7, 100, 17}} {
		for _, bias := range []bool{true, false} {
			c := newDenseCase(rng, s[0], s[1], s[2], bias)
			y := make([]float32, c.n*c.w.K)
			for i := range y {
				y[i] = float32(math.NaN()) // every element must be written
			}
			DenseForward(c.w, c.x, y)
			for r := 0; r < c.n; r++ {
				for k := 0; k < c.w.K; k++ {
					var want, mag float64
					for i := 0; i < c.w.I; i++ {
						p := float64(c.x[r*c.w.I+i]) * float64(c.w.W[k*c.w.I+i])
						want += p
						mag += math.Abs(p)
					}
					if bias {
						want += float64(c.w.B[k])
						mag += math.Abs(float64(c.w.B[k]))
					}
					got := float64(y[r*c.w.K+k])
					if tol := float64(c.w.I+2) * 0x1p-24 * mag; !(math.Abs(got-want) <= tol) {
						t.Fatalf("N=%d I=%d K=%d bias=%v: y(%d,%d) = %v, want %v (tolerance %.3g)", c.n, c.w.I, c.w.K, bias, r, k, got, want, tol)
					}
				}
			}
		}
	}
}

// TestDenseGradients checks dx, dW and db by central differences on a
// packing with mixed lengths. The loss is linear in each of them, so there
// is no truncation error and h = 0.5 keeps float32 rounding small: an output
// is off by at most (I+2)·u·Σ|x·w| ≈ 1e-6, and a perturbation touches at
// most N = 20 outputs with |weight| ≤ 1, so the central difference is
// within 2e-5 of the truth; atol = 1e-4.
func TestDenseGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	p := gcPacking()
	for _, bias := range []bool{true, false} {
		c := newDenseCase(rng, p.N(), 5, 3, bias)
		g := DenseGrads{
			DX: make([]float32, len(c.x)),
			DW: make([]float32, len(c.w.W)),
		}
		if bias {
			g.DB = make([]float32, c.w.K)
		}
		DenseBackward(c.w, c.x, c.dy, g)
		gradCheck(t, "x", c.x, g.DX, 0.5, 1e-4, 1e-5, c.loss)
		gradCheck(t, "W", c.w.W, g.DW, 0.5, 1e-4, 1e-5, c.loss)
		if bias {
			gradCheck(t, "b", c.w.B, g.DB, 0.5, 1e-4, 1e-5, c.loss)
		}
	}
}

// TestDenseBackwardAccumulates: gradients add to what is there, nil
// gradients are skipped, and inputs are not written.
func TestDenseBackwardAccumulates(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	c := newDenseCase(rng, 9, 4, 6, true)
	once := DenseGrads{DX: make([]float32, len(c.x)), DW: make([]float32, len(c.w.W)), DB: make([]float32, c.w.K)}
	DenseBackward(c.w, c.x, c.dy, once)

	x0, w0, b0, dy0 := clone32(c.x), clone32(c.w.W), clone32(c.w.B), clone32(c.dy)
	start := func(n int) []float32 { // non-zero starting gradients
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(i%7) - 3
		}
		return s
	}
	g := DenseGrads{DX: start(len(c.x)), DW: start(len(c.w.W)), DB: start(c.w.K)}
	DenseBackward(c.w, c.x, c.dy, g)
	for name, pair := range map[string][2][]float32{"DX": {g.DX, once.DX}, "DW": {g.DW, once.DW}, "DB": {g.DB, once.DB}} {
		base := start(len(pair[0]))
		for i := range pair[0] {
			if want := base[i] + pair[1][i]; math.Abs(float64(pair[0][i]-want)) > 1e-5*(1+math.Abs(float64(want))) {
				t.Fatalf("%s[%d] = %v after accumulating onto %v, want %v", name, i, pair[0][i], base[i], want)
			}
		}
	}
	// Only DW wanted.
	dw := make([]float32, len(c.w.W))
	DenseBackward(c.w, c.x, c.dy, DenseGrads{DW: dw})
	for i := range dw {
		if dw[i] != once.DW[i] {
			t.Fatalf("DW alone [%d] = %v, want %v", i, dw[i], once.DW[i])
		}
	}
	for name, pair := range map[string][2][]float32{"x": {c.x, x0}, "W": {c.w.W, w0}, "b": {c.w.B, b0}, "dy": {c.dy, dy0}} {
		if !sameBits(pair[0], pair[1]) {
			t.Errorf("DenseBackward wrote its input %s", name)
		}
	}
}

// TestDenseGuards: outputs are written only inside their slices (guard
// values around them stay), and x, W, b are not written.
func TestDenseGuards(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 18))
	for _, s := range [][3]int{{5, 13, 3}, {20, 64, 17}} {
		c := newDenseCase(rng, s[0], s[1], s[2], true)
		x0, w0, b0 := clone32(c.x), clone32(c.w.W), clone32(c.w.B)
		y, yOK := guardedSlice(c.n*c.w.K, 0)
		DenseForward(c.w, c.x, y)
		dx, dxOK := guardedSlice(len(c.x), 0)
		dW, dWOK := guardedSlice(len(c.w.W), 0)
		db, dbOK := guardedSlice(c.w.K, 0)
		DenseBackward(c.w, c.x, c.dy, DenseGrads{DX: dx, DW: dW, DB: db})
		for name, ok := range map[string]func() bool{"y": yOK, "DX": dxOK, "DW": dWOK, "DB": dbOK} {
			if !ok() {
				t.Errorf("%v: write outside %s", s, name)
			}
		}
		if !sameBits(c.x, x0) || !sameBits(c.w.W, w0) || !sameBits(c.w.B, b0) {
			t.Errorf("%v: an input was written", s)
		}
	}
}

// TestDenseEmpty: a batch with no valid steps (N = 0) is allowed.
func TestDenseEmpty(t *testing.T) {
	w := DenseWeights{I: 3, K: 2, W: make([]float32, 6), B: []float32{1, 2}}
	DenseForward(w, nil, nil)
	DenseBackward(w, nil, nil, DenseGrads{DW: make([]float32, 6), DB: make([]float32, 2)})
}

func TestDenseNoAlloc(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 20))
	c := newDenseCase(rng, 480, 64, 128, true)
	y := make([]float32, c.n*c.w.K)
	g := DenseGrads{DX: make([]float32, len(c.x)), DW: make([]float32, len(c.w.W)), DB: make([]float32, c.w.K)}
	if a := testing.AllocsPerRun(3, func() {
		DenseForward(c.w, c.x, y)
		DenseBackward(c.w, c.x, c.dy, g)
	}); a != 0 {
		t.Fatalf("%v allocations per forward+backward, want 0", a)
	}
}

// TestDensePanics: inconsistent shapes are programming errors and panic
// with the package prefix and the function's name.
func TestDensePanics(t *testing.T) {
	w := DenseWeights{I: 3, K: 2, W: make([]float32, 6)}
	expectPanic(t, "ops: DenseForward: len(x) = 7 is not a multiple of I = 3", func() { DenseForward(w, make([]float32, 7), make([]float32, 4)) })
	expectPanic(t, "ops: DenseForward: len(y) = 5, want 4", func() { DenseForward(w, make([]float32, 6), make([]float32, 5)) })
	expectPanic(t, "ops: DenseForward: len(W) = 5, want 6", func() {
		DenseForward(DenseWeights{I: 3, K: 2, W: make([]float32, 5)}, make([]float32, 6), make([]float32, 4))
	})
	expectPanic(t, "ops: DenseForward: len(B) = 3, want 2", func() {
		DenseForward(DenseWeights{I: 3, K: 2, W: make([]float32, 6), B: make([]float32, 3)}, make([]float32, 6), make([]float32, 4))
	})
	expectPanic(t, "ops: DenseForward: I = 0, K = 2, want both ≥ 1", func() { DenseForward(DenseWeights{K: 2}, nil, nil) })
	expectPanic(t, "ops: DenseBackward: len(dy) = 3, want 4", func() {
		DenseBackward(w, make([]float32, 6), make([]float32, 3), DenseGrads{})
	})
	expectPanic(t, "ops: DenseBackward: len(DB) = 1, want 2", func() {
		DenseBackward(w, make([]float32, 6), make([]float32, 4), DenseGrads{DB: make([]float32, 1)})
	})
}

// Helpers shared by the tests of the non-recurrent ops.

func clone32(s []float32) []float32 { return append([]float32(nil), s...) }

// sameBits reports whether a and b hold the same float32 bit patterns.
func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// guardedSlice returns n elements set to fill inside a larger slice whose
// other elements hold a NaN guard, and a function reporting whether the
// guards are intact.
func guardedSlice(n int, fill float32) ([]float32, func() bool) {
	const g = 16
	buf := make([]float32, n+2*g)
	for i := range buf {
		buf[i] = guardOut
	}
	s := buf[g : g+n : g+n]
	for i := range s {
		s[i] = fill
	}
	return s, func() bool {
		for i := range buf {
			if (i < g || i >= g+n) && math.Float32bits(buf[i]) != math.Float32bits(guardOut) {
				return false
			}
		}
		return true
	}
}

// expectPanic fails t unless f panics with a message starting with want.
func expectPanic(t *testing.T, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		msg, _ := r.(string)
		if r == nil || !strings.HasPrefix(msg, want) {
			t.Errorf("panic %q, want %q", r, want)
		}
	}()
	f()
}
