package loss

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// calibrationGolden is testdata/calibration_golden.json, written by
// testdata/gen_calibration.py with scikit-learn and NumPy.
type calibrationGolden struct {
	Source string
	Cases  []struct {
		Name        string
		Probs, Y    []float32
		Reliability struct {
			Counts   []int
			FracPos  []float64 `json:"frac_pos"`
			MeanProb []float64 `json:"mean_prob"`
			ECE      float64
		}
		Thresholds map[string]struct {
			F1, J, TPR, FPR, Cut float64
		}
	}
	Percentiles []struct {
		Values, Q, Want []float64
	}
}

func readCalibrationGolden(t *testing.T) *calibrationGolden {
	t.Helper()
	var g calibrationGolden
	readJSON(t, "calibration_golden.json", &g)
	if len(g.Cases) == 0 || len(g.Percentiles) == 0 {
		t.Fatal("calibration_golden.json has no cases")
	}
	return &g
}

// TestReliabilityGoldenSklearn: bins, fractions of positives, mean
// probabilities and ECE are scikit-learn's calibration_curve's, including
// probabilities on the bin edges as float32 holds them.
func TestReliabilityGoldenSklearn(t *testing.T) {
	g := readCalibrationGolden(t)
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			bins := Reliability(c.Probs, c.Y)
			var counts []int
			var frac, mean []float64
			for b, bn := range bins {
				counts = append(counts, bn.Count)
				if bn.Count > 0 {
					frac, mean = append(frac, bn.FracPos), append(mean, bn.MeanProb)
				}
				if !near(bn.Hi, float64(b+1)/10, 1e-15) || (b > 0 && bn.Lo != bins[b-1].Hi) {
					t.Errorf("bin %d: (%v, %v]", b, bn.Lo, bn.Hi)
				}
			}
			r := c.Reliability
			if !slices.Equal(counts, r.Counts) {
				t.Errorf("counts %v, want %v", counts, r.Counts)
			}
			for i := range frac {
				if !near(frac[i], r.FracPos[i], 1e-12) || !near(mean[i], r.MeanProb[i], 1e-12) {
					t.Errorf("bin %d of the non-empty: fraction %v mean %v, want %v %v", i, frac[i], mean[i], r.FracPos[i], r.MeanProb[i])
				}
			}
			if e := ECE(bins); !near(e, r.ECE, 1e-12) {
				t.Errorf("ECE %.17g, want %.17g", e, r.ECE)
			}
			// Evaluate reports the same ECE over every (sample, label) pair.
			m := mustEvaluate(t, c.Probs, c.Y, len(c.Probs), 1, EvalOptions{})
			checkValue(t, "ece", m.ECE, r.ECE, 1e-12)
		})
	}
	m := mustEvaluate(t, nil, nil, 0, 1, EvalOptions{})
	checkValue(t, "ece of nothing", m.ECE, math.NaN(), 0)
	// A calibrated model: every bin's mean equals its positive fraction.
	m = mustEvaluate(t, []float32{0.25, 0.25, 0.25, 0.25, 1, 0}, []float32{1, 0, 0, 0, 1, 0}, 6, 1, EvalOptions{})
	checkValue(t, "ece of a calibrated model", m.ECE, 0, 0)
}

// TestChooseThresholdGoldenSklearn: each rule's threshold gives, through
// Evaluate's p > threshold, the F1, Youden's J and sensitivity that
// scikit-learn's curves give at their best point, and it separates the
// cut's score from the next lower one.
func TestChooseThresholdGoldenSklearn(t *testing.T) {
	g := readCalibrationGolden(t)
	for _, c := range g.Cases {
		for name, want := range c.Thresholds {
			t.Run(c.Name+"/"+name, func(t *testing.T) {
				rule, err := ParseThreshold(name)
				if err != nil {
					t.Fatal(err)
				}
				thr, err := ChooseThreshold(c.Probs, c.Y, rule)
				if err != nil {
					t.Fatal(err)
				}
				m := mustEvaluate(t, c.Probs, c.Y, len(c.Probs), 1, EvalOptions{Threshold: thr})
				l := m.Labels[0]
				tpr := float64(l.TP) / float64(l.Positives)
				fpr := float64(l.FP) / float64(l.Negatives)
				switch rule.Rule {
				case RuleBestF1:
					checkValue(t, "f1", m.F1, want.F1, 1e-12)
				case RuleYouden:
					if !near(tpr-fpr, want.J, 1e-12) || !near(tpr, want.TPR, 1e-12) {
						t.Errorf("J %v (TPR %v), want %v (TPR %v)", tpr-fpr, tpr, want.J, want.TPR)
					}
				default:
					if !near(tpr, want.TPR, 1e-12) || !near(fpr, want.FPR, 1e-12) {
						t.Errorf("TPR %v FPR %v, want %v %v", tpr, fpr, want.TPR, want.FPR)
					}
				}
				if rule.Rule != RuleBestF1 && !(thr < want.Cut && float32(thr) == float32(thr)) {
					t.Errorf("threshold %v not below the cut %v", thr, want.Cut)
				}
				for _, p := range c.Probs {
					if float64(p) < want.Cut && float64(p) > thr && rule.Rule != RuleBestF1 {
						t.Errorf("threshold %v leaves %v between it and the cut %v", thr, p, want.Cut)
					}
				}
			})
		}
	}
}

func TestParseThreshold(t *testing.T) {
	for _, c := range []struct {
		in   string
		want ThresholdRule
		err  string
	}{
		{"0.3", ThresholdRule{Value: 0.3}, ""},
		{"best_f1", ThresholdRule{Rule: RuleBestF1}, ""},
		{"youden", ThresholdRule{Rule: RuleYouden}, ""},
		{"sensitivity=0.9", ThresholdRule{Rule: RuleSensitivity, Value: 0.9}, ""},
		{"sensitivity=1", ThresholdRule{Rule: RuleSensitivity, Value: 1}, ""},
		{"1", ThresholdRule{}, "expected a number in (0, 1), best_f1, youden or sensitivity=S, found 1"},
		{"0", ThresholdRule{}, "found 0"},
		{"NaN", ThresholdRule{}, "found NaN"},
		{"bestf1", ThresholdRule{}, `found "bestf1"`},
		{"sensitivity=0", ThresholdRule{}, `expected sensitivity=S with S in (0, 1], found "sensitivity=0"`},
		{"sensitivity=", ThresholdRule{}, `found "sensitivity="`},
	} {
		got, err := ParseThreshold(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want || got.String() != c.in {
			t.Errorf("%q: %+v (%q), %v", c.in, got, got.String(), err)
		}
	}
}

// TestChooseThresholdEdges: ties, adjacent float32 scores, the lowest
// score as the cut, and data lacking a class.
func TestChooseThresholdEdges(t *testing.T) {
	// Scores 0.2 and its float32 neighbour: no float32 lies between, so the
	// threshold is the lower one, and p > threshold still splits them.
	lo := float32(0.2)
	hi := math.Nextafter32(lo, 1)
	thr, err := ChooseThreshold([]float32{hi, lo, 0.1}, []float32{1, 0, 0}, ThresholdRule{Rule: RuleBestF1})
	if err != nil || thr != float64(lo) {
		t.Errorf("adjacent scores: threshold %v, %v; want %v", thr, err, lo)
	}
	// Sensitivity 1 needs every positive: the cut is the lowest score.
	thr, err = ChooseThreshold([]float32{0.9, 0.3, 0.5}, []float32{1, 1, 0}, ThresholdRule{Rule: RuleSensitivity, Value: 1})
	if err != nil || thr != float64(math.Nextafter32(0.3, 0)) {
		t.Errorf("lowest cut: threshold %v, %v", thr, err)
	}
	thr, err = ChooseThreshold([]float32{0, 0.5}, []float32{1, 0}, ThresholdRule{Rule: RuleSensitivity, Value: 1})
	if err != nil || thr != math.SmallestNonzeroFloat32 {
		t.Errorf("a cut at 0: threshold %v, %v", thr, err)
	}
	if _, err := ChooseThreshold([]float32{0.2, 0.4}, []float32{0, 0}, ThresholdRule{Rule: RuleBestF1}); err == nil ||
		err.Error() != "threshold best_f1: the data has no positive label" {
		t.Errorf("no positive: %v", err)
	}
	if _, err := ChooseThreshold([]float32{0.2, 0.4}, []float32{1, 1}, ThresholdRule{Rule: RuleYouden}); err == nil ||
		err.Error() != "threshold youden: the data has no negative label" {
		t.Errorf("no negative: %v", err)
	}
	// best_f1 without negatives is fine: predict everything positive.
	if thr, err := ChooseThreshold([]float32{0.2, 0.4}, []float32{1, 1}, ThresholdRule{Rule: RuleBestF1}); err != nil || !(thr < 0.2) {
		t.Errorf("all positive: %v, %v", thr, err)
	}
	if thr, _ := ChooseThreshold(nil, nil, ThresholdRule{Value: 0.3}); thr != 0.3 {
		t.Errorf("fixed: %v", thr)
	}
}

// TestPercentileGoldenNumPy: Percentile is numpy.percentile bit for bit.
func TestPercentileGoldenNumPy(t *testing.T) {
	g := readCalibrationGolden(t)
	for _, c := range g.Percentiles {
		for i, q := range c.Q {
			if got := Percentile(c.Values, q); got != c.Want[i] {
				t.Errorf("percentile(%d values, %v) = %.17g, want %.17g", len(c.Values), q, got, c.Want[i])
			}
		}
	}
}

// TestBootstrap: intervals are seeded (the same seed gives the same
// intervals, another seed others), hold the point estimate for a large
// sample, narrow as the sample grows, count the replicates in which a
// metric is defined, and use the threshold given.
func TestBootstrap(t *testing.T) {
	g := readCalibrationGolden(t)
	c := g.Cases[1] // 500 scores
	n := len(c.Probs)
	a, err := Bootstrap(c.Probs, c.Y, n, 1, EvalOptions{}, 200, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Bootstrap(c.Probs, c.Y, n, 1, EvalOptions{}, 200, 1)
	other, _ := Bootstrap(c.Probs, c.Y, n, 1, EvalOptions{}, 200, 2)
	if !reflect.DeepEqual(a, b) {
		t.Error("the same seed gave other intervals")
	}
	if reflect.DeepEqual(a, other) {
		t.Error("another seed gave the same intervals")
	}
	m := mustEvaluate(t, c.Probs, c.Y, n, 1, EvalOptions{})
	for _, name := range []string{"auroc", "auprc", "loss", "brier", "ece", "f1", "accuracy"} {
		iv := a[name]
		v, _ := m.Get(name)
		if !iv.Lo.OK || !iv.Hi.OK || !(iv.Lo.V < v && v < iv.Hi.V) || iv.Defined != 200 {
			t.Errorf("%s = %v: interval %+v", name, v, iv)
		}
	}
	// A tenth of the data: a wider interval.
	small, _ := Bootstrap(c.Probs[:50], c.Y[:50], 50, 1, EvalOptions{}, 200, 1)
	if w, ws := a["auroc"].Hi.V-a["auroc"].Lo.V, small["auroc"].Hi.V-small["auroc"].Lo.V; !(ws > 1.5*w) {
		t.Errorf("auroc interval %v on 500 sequences, %v on 50", w, ws)
	}
	// Two sequences, one positive: most resamples hold one class only.
	two, _ := Bootstrap([]float32{0.9, 0.1}, []float32{1, 0}, 2, 1, EvalOptions{}, 400, 3)
	if d := two["auroc"].Defined; d < 120 || d > 280 || two["brier"].Defined != 400 {
		t.Errorf("auroc defined in %d of 400 replicates (about half expected), brier in %d", d, two["brier"].Defined)
	}
	one, _ := Bootstrap([]float32{0.9}, []float32{1}, 1, 1, EvalOptions{}, 10, 3)
	if iv := one["auroc"]; iv.Lo.OK || iv.Defined != 0 {
		t.Errorf("one class only: %+v", iv)
	}
	// The threshold stays the one given: at 0.99 nothing is positive.
	hi, _ := Bootstrap(c.Probs, c.Y, n, 1, EvalOptions{Threshold: 0.99}, 50, 1)
	if hi["f1"].Hi.V >= a["f1"].Lo.V {
		t.Errorf("threshold 0.99: f1 interval %+v, at 0.5 %+v", hi["f1"], a["f1"])
	}
	j, err := json.Marshal(one["auroc"])
	if err != nil || string(j) != `{"lo":null,"hi":null,"defined":0}` {
		t.Errorf("JSON %s, %v", j, err)
	}
}
