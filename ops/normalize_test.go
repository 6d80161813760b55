package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestNormalizeForward: y = (x − mean)/std feature by feature, computed as
// the exported graph does (subtract, then divide) bit for bit; in place
// works.
func TestNormalizeForward(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	const F = 5
	mean := gcRandom(rng, F, -10, 10)
	std := gcRandom(rng, F, 0.1, 3)
	x := gcRandom(rng, 17*F, -20, 20)
	y := make([]float32, len(x))
	NormalizeForward(mean, std, x, y)
	for i, v := range x {
		j := i % F
		if want := (v - mean[j]) / std[j]; math.Float32bits(y[i]) != math.Float32bits(want) {
			t.Fatalf("y[%d] = %v, want (%v − %v)/%v = %v", i, y[i], v, mean[j], std[j], want)
		}
	}
	in := clone32(x)
	NormalizeForward(mean, std, in, in)
	if !sameBits(in, y) {
		t.Fatal("in-place forward differs")
	}
}

// TestNormalizeGradients checks dx by central differences; the op is
// linear in x, each perturbation touches one output, atol = 1e-5.
func TestNormalizeGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(53, 54))
	p := gcPacking()
	const F = 3
	mean := gcRandom(rng, F, -1, 1)
	std := gcRandom(rng, F, 0.2, 2)
	x := gcRandom(rng, p.N()*F, -3, 3)
	wl, dy := gcWeights(rng, len(x))
	y := make([]float32, len(x))
	dx := make([]float32, len(x))
	for i := range dx {
		dx[i] = 1 // accumulation: checked below, removed before the check
	}
	NormalizeBackward(std, dy, dx)
	for i := range dx {
		if want := 1 + dy[i]/std[i%F]; dx[i] != want {
			t.Fatalf("dx[%d] = %v after accumulating onto 1, want %v", i, dx[i], want)
		}
		dx[i]--
	}
	gradCheck(t, "x", x, dx, 0.5, 1e-5, 1e-5, func() float64 {
		NormalizeForward(mean, std, x, y)
		return gcDot(wl, y)
	})
}

// TestFitNormalize compares the fitted statistics with a two-pass float64
// computation (mean, then population standard deviation) over ragged
// sequences, empty ones included, on features whose mean is large beside
// their spread, a constant feature (std 1) and a tiny-spread one (std 1
// below MinStd, kept above).
func TestFitNormalize(t *testing.T) {
	rng := rand.New(rand.NewPCG(55, 56))
	const F = 5
	lengths := []int{7, 0, 1, 15, 3, 0, 9}
	var seqs [][]float32
	for _, T := range lengths {
		s := make([]float32, T*F)
		for i := 0; i < T; i++ {
			s[i*F+0] = float32(rng.NormFloat64())                        // standard
			s[i*F+1] = float32(1e4 + 0.01*rng.NormFloat64())             // large mean, small spread
			s[i*F+2] = 3                                                 // constant
			s[i*F+3] = []float32{5, math.Nextafter32(5, 6)}[rng.IntN(2)] // spread ≈ 2e-7 < MinStd
			s[i*F+4] = float32(-2 + 1e-3*rng.NormFloat64())              // spread above MinStd
		}
		seqs = append(seqs, s)
	}
	mean, std, err := FitNormalize(seqs, F)
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	var sum [F]float64
	for _, s := range seqs {
		for i, v := range s {
			sum[i%F] += float64(v)
		}
		n += float64(len(s) / F)
	}
	var ss [F]float64
	for _, s := range seqs {
		for i, v := range s {
			d := float64(v) - sum[i%F]/n
			ss[i%F] += d * d
		}
	}
	for j := 0; j < F; j++ {
		wantMean := sum[j] / n
		wantStd := math.Sqrt(ss[j] / n)
		if wantStd < MinStd {
			wantStd = 1
		}
		if math.Abs(float64(mean[j])-wantMean) > 1e-7*math.Abs(wantMean)+1e-9 {
			t.Errorf("feature %d: mean %v, want %v", j, mean[j], wantMean)
		}
		if math.Abs(float64(std[j])-wantStd) > 1e-6*wantStd {
			t.Errorf("feature %d: std %v, want %v", j, std[j], wantStd)
		}
	}
	if std[2] != 1 || std[3] != 1 || std[4] == 1 {
		t.Errorf("std = %v: want 1 for the constant and sub-MinStd features only", std)
	}

	// Steps may also be added in pieces, from padded arrays.
	s := NewNormStats(F)
	for _, seq := range seqs {
		for r := 0; r < len(seq); r += 2 * F {
			if err := s.AddSteps(seq[r:min(r+2*F, len(seq))]); err != nil {
				t.Fatal(err)
			}
		}
	}
	m2, s2 := make([]float32, F), make([]float32, F)
	s.Result(m2, s2)
	if s.count != int64(n) || !sameBits(m2, mean) || !sameBits(s2, std) {
		t.Errorf("piecewise: count %d mean %v std %v, want %v %v %v", s.count, m2, s2, n, mean, std)
	}
}

// TestFitNormalizeEmpty: no steps at all gives the identity statistics.
func TestFitNormalizeEmpty(t *testing.T) {
	mean, std, err := FitNormalize([][]float32{nil, {}}, 2)
	if err != nil || mean[0] != 0 || mean[1] != 0 || std[0] != 1 || std[1] != 1 {
		t.Fatalf("got %v %v %v, want [0 0] [1 1] nil", mean, std, err)
	}
}

// TestFitNormalizeErrors: bad values and ragged lengths give one-line
// errors naming the sequence, step and feature, and AddSteps adds nothing
// of a call that fails.
func TestFitNormalizeErrors(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(-1))
	cases := []struct {
		seqs [][]float32
		want string
	}{
		{[][]float32{{1, 2, 3, 4}, {1, 2, 3, nan}}, "sequence 1, step 1, feature 1: expected a finite value, found NaN"},
		{[][]float32{{inf, 2}}, "sequence 0, step 0, feature 0: expected a finite value, found -Inf"},
		{[][]float32{{1, 2}, {}, {1, 2, 3}}, "sequence 2: expected a whole number of steps of 2 features, found 3 values"},
	}
	for _, tc := range cases {
		_, _, err := FitNormalize(tc.seqs, 2)
		if err == nil || err.Error() != tc.want {
			t.Errorf("FitNormalize(%v): error %v, want %q", tc.seqs, err, tc.want)
		}
	}
	s := NewNormStats(2)
	if err := s.AddSteps([]float32{1, 2, 3, nan}); err == nil || err.Error() != "step 1, feature 1: expected a finite value, found NaN" {
		t.Errorf("AddSteps: error %v", err)
	}
	if err := s.AddSteps([]float32{1, 2, 3}); err == nil || err.Error() != "expected a whole number of steps of 2 features, found 3 values" {
		t.Errorf("AddSteps: error %v", err)
	}
	if s.count != 0 {
		t.Errorf("failed AddSteps added %d steps", s.count)
	}
}

func TestNormalizeNoAlloc(t *testing.T) {
	mean, std := make([]float32, 13), make([]float32, 13)
	for i := range std {
		std[i] = 2
	}
	x := make([]float32, 480*13)
	y, dx := make([]float32, len(x)), make([]float32, len(x))
	if a := testing.AllocsPerRun(3, func() {
		NormalizeForward(mean, std, x, y)
		NormalizeBackward(std, y, dx)
	}); a != 0 {
		t.Fatalf("%v allocations per forward+backward, want 0", a)
	}
}

func TestNormalizePanics(t *testing.T) {
	two := make([]float32, 2)
	expectPanic(t, "ops: NormalizeForward: len(x) = 5 is not a multiple of F = 2", func() { NormalizeForward(two, two, make([]float32, 5), make([]float32, 5)) })
	expectPanic(t, "ops: NormalizeForward: len(std) = 3, want 2", func() { NormalizeForward(two, make([]float32, 3), two, two) })
	expectPanic(t, "ops: NormalizeForward: len(y) = 4, want 2", func() { NormalizeForward(two, two, two, make([]float32, 4)) })
	expectPanic(t, "ops: NormalizeForward: no features", func() { NormalizeForward(nil, nil, nil, nil) })
	expectPanic(t, "ops: NormalizeBackward: len(dx) = 3, want 4", func() { NormalizeBackward(two, make([]float32, 4), make([]float32, 3)) })
	expectPanic(t, "ops: NewNormStats: 0 features, want ≥ 1", func() { NewNormStats(0) })
	expectPanic(t, "ops: NormStats.Result: len(std) = 1, want 2", func() { NewNormStats(2).Result(two, make([]float32, 1)) })
}
