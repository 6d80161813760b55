package runtime

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/ops"
)

// gappySpec is testSpec with feature f1 categorical (3 categories) and
// the given missing mode, with indicators.
func gappySpec(missing string) func(*compiler.Spec) {
	return func(s *compiler.Spec) {
		s.Inputs.Missing, s.Inputs.Indicators = missing, true
		s.Inputs.Categories = [][]string{nil, {"low", "mid", "high"}, nil}
	}
}

// withGaps copies d with feature 1 turned into a category index (from its
// value) and a fraction gap of the values missing (NaN).
func withGaps(d *data.Dataset, gap float64, seed uint64) *data.Dataset {
	rng := rand.New(rand.NewPCG(seed, 3))
	out := *d
	out.X = make([][]float32, len(d.X))
	for i, seq := range d.X {
		s := append([]float32(nil), seq...)
		for k := range s {
			if k%d.F == 1 {
				s[k] = float32(min(2, max(0, math.Floor(float64(s[k])+1))))
			}
			if rng.Float64() < gap {
				s[k] = float32(math.NaN())
			}
		}
		out.X[i] = s
	}
	return &out
}

// TestPreprocessTrainingLearns: with gaps, a categorical feature and
// indicators, training in every missing mode reduces the loss.
func TestPreprocessTrainingLearns(t *testing.T) {
	d := withGaps(synth(200, 2, 1), 0.3, 1)
	for _, m := range []string{compiler.MissingZero, compiler.MissingMean, compiler.MissingForwardFill} {
		_, res := train(t, compileSpec(t, testSpec, gappySpec(m)), d, nil, Options{})
		h := res.History
		if len(h) != 4 || !(h[3].TrainLoss < h[0].TrainLoss) || math.IsNaN(h[3].TrainLoss) {
			t.Fatalf("%s: training loss did not fall over 4 epochs: %+v", m, h)
		}
		t.Logf("%s: training loss %.4f → %.4f", m, h[0].TrainLoss, h[3].TrainLoss)
	}
}

// TestPreprocessStatistics: the statistics are fitted on the observed
// values of numeric features only; a categorical feature keeps mean 0 and
// std 1.
func TestPreprocessStatistics(t *testing.T) {
	d := withGaps(synth(80, 2, 2), 0.4, 2)
	trn, err := NewTrainer(compileSpec(t, testSpec, gappySpec(compiler.MissingMean)), d, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer trn.Close()
	mean, std := trn.m.Param(compiler.ParamMean), trn.m.Param(compiler.ParamStd)
	for f := range d.F {
		var sum, sq, n float64
		for _, seq := range d.X {
			for k := f; k < len(seq); k += d.F {
				if v := float64(seq[k]); !math.IsNaN(v) {
					sum, n = sum+v, n+1
				}
			}
		}
		m := sum / n
		for _, seq := range d.X {
			for k := f; k < len(seq); k += d.F {
				if v := float64(seq[k]); !math.IsNaN(v) {
					sq += (v - m) * (v - m)
				}
			}
		}
		wantM, wantS := m, math.Sqrt(sq/n)
		if f == 1 {
			wantM, wantS = 0, 1
		}
		if math.Abs(float64(mean[f])-wantM) > 1e-5 || math.Abs(float64(std[f])-wantS) > 1e-5 {
			t.Errorf("feature %d: mean %v std %v, want %v and %v over the %v observed values", f, mean[f], std[f], wantM, wantS, n)
		}
	}
}

// TestPreprocessRefusesInfinity: an infinite value is not a missing value;
// fitting names the sequence, step and feature.
func TestPreprocessRefusesInfinity(t *testing.T) {
	d := withGaps(synth(20, 2, 3), 0.2, 3)
	d.X[4][2*d.F] = float32(math.Inf(1))
	_, err := NewTrainer(compileSpec(t, testSpec, gappySpec(compiler.MissingZero)), d, nil, Options{})
	if err == nil || !strings.Contains(err.Error(), "sequence 4, step 2, feature 0: expected a finite value or NaN (missing), found +Inf") {
		t.Fatalf("want an error naming sequence 4, step 2, feature 0, got %v", err)
	}
}

// TestPreprocessStepAllocatesNothing: with forward fill, a steady-state
// training step allocates nothing.
func TestPreprocessStepAllocatesNothing(t *testing.T) {
	d := withGaps(synth(64, 2, 10), 0.3, 4)
	trn, err := NewTrainer(compileSpec(t, testSpec, gappySpec(compiler.MissingForwardFill)), d, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer trn.Close()
	rows := make([]int, 20)
	for i := range rows {
		rows[i] = i
	}
	trn.trainStep(rows)
	if a := testing.AllocsPerRun(20, func() { trn.trainStep(rows) }); a != 0 {
		t.Fatalf("a training step allocates %.1f times, want 0", a)
	}
}

// TestFitPreprocessWithoutGaps: on data without NaN the statistics equal
// FitNormalize's bit for bit, so a spec that adds indicators or
// categories keeps the normalisation it had.
func TestFitPreprocessWithoutGaps(t *testing.T) {
	d := synth(90, 2, 5)
	m1, s1, err := ops.FitNormalize(d.X, d.F)
	if err != nil {
		t.Fatal(err)
	}
	m2, s2, err := ops.FitPreprocess(d.X, make([]int, d.F))
	if err != nil {
		t.Fatal(err)
	}
	for f := range d.F {
		if math.Float32bits(m1[f]) != math.Float32bits(m2[f]) || math.Float32bits(s1[f]) != math.Float32bits(s2[f]) {
			t.Fatalf("feature %d: FitPreprocess gives %v, %v; FitNormalize %v, %v", f, m2[f], s2[f], m1[f], s1[f])
		}
	}
}
