package loss

import (
	"math"
	"slices"
	"testing"
)

// headMetricsGolden is testdata/head_metrics_golden.json, written by
// testdata/gen_head_metrics.py with scikit-learn. Undefined values are null
// (nil here).
type headMetricsGolden struct {
	Source  string
	Classes []struct {
		Name       string
		N, C       int
		Probs      []float32 // [n, C]
		Y          []float32 // [n]
		Loss       float64
		Accuracy   float64
		ClassAUROC []*float64 `json:"class_auroc"`
		MacroAUROC *float64   `json:"macro_auroc"`
		Kappa      *float64
		Confusion  [][]int
	}
	Regression []struct {
		Name         string
		N, K         int
		Values, Y    []float32 // [n, K]
		MSE, MAE, R2 float64
		TargetMSE    []float64 `json:"target_mse"`
		TargetMAE    []float64 `json:"target_mae"`
		TargetR2     []float64 `json:"target_r2"`
	}
}

// sameValue reports whether v is defined exactly when want is non-nil, and
// then within 1e-9 of it (relative, absolute below 1).
func sameValue(v Value, want *float64) bool {
	if want == nil {
		return !v.OK && math.IsNaN(v.V)
	}
	return v.OK && near(v.V, *want, 1e-9)
}

func TestEvaluateClassesGoldenSklearn(t *testing.T) {
	var g headMetricsGolden
	readJSON(t, "head_metrics_golden.json", &g)
	if len(g.Classes) != 4 {
		t.Fatalf("head_metrics_golden.json has %d class cases; want 4", len(g.Classes))
	}
	for _, c := range g.Classes {
		t.Run(c.Name, func(t *testing.T) {
			m, err := EvaluateClasses(c.Probs, c.Y, c.C)
			if err != nil {
				t.Fatal(err)
			}
			if m.N != c.N || m.C != c.C {
				t.Errorf("N, C = %d, %d; want %d, %d", m.N, m.C, c.N, c.C)
			}
			for _, x := range []struct {
				name string
				got  Value
				want *float64
			}{
				{"loss", m.Loss, &c.Loss}, {"accuracy", m.Accuracy, &c.Accuracy},
				{"macro_auroc", m.MacroAUROC, c.MacroAUROC}, {"kappa", m.Kappa, c.Kappa},
			} {
				if !sameValue(x.got, x.want) {
					t.Errorf("%s = %v; scikit-learn %v (%s)", x.name, x.got, deref(x.want), g.Source)
				}
				if v, ok := m.Get(x.name); v != x.got.V && !(math.IsNaN(v) && math.IsNaN(x.got.V)) || ok != x.got.OK {
					t.Errorf("Get(%q) = %v, %v; field %v", x.name, v, ok, x.got)
				}
			}
			skipped := 0
			for k, want := range c.ClassAUROC {
				if !sameValue(m.ClassAUROC[k], want) {
					t.Errorf("class %d: AUROC %v; scikit-learn %v", k, m.ClassAUROC[k], deref(want))
				}
				if want == nil {
					skipped++
				}
			}
			if m.SkippedAUROC != skipped {
				t.Errorf("SkippedAUROC = %d; want %d", m.SkippedAUROC, skipped)
			}
			if !slices.EqualFunc(m.Confusion, c.Confusion, slices.Equal[[]int]) {
				t.Errorf("confusion %v; scikit-learn %v", m.Confusion, c.Confusion)
			}
		})
	}
}

func deref(p *float64) any {
	if p == nil {
		return "undefined"
	}
	return *p
}

func TestEvaluateRegressionGoldenSklearn(t *testing.T) {
	var g headMetricsGolden
	readJSON(t, "head_metrics_golden.json", &g)
	if len(g.Regression) != 3 {
		t.Fatalf("head_metrics_golden.json has %d regression cases; want 3", len(g.Regression))
	}
	for _, c := range g.Regression {
		t.Run(c.Name, func(t *testing.T) {
			m, err := EvaluateRegression(c.Values, c.Y, c.N, c.K)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range []struct {
				name string
				got  Value
				want float64
			}{{"loss", m.MSE, c.MSE}, {"mse", m.MSE, c.MSE}, {"mae", m.MAE, c.MAE}, {"r2", m.R2, c.R2}} {
				if !x.got.OK || !near(x.got.V, x.want, 1e-9) {
					t.Errorf("%s = %v; scikit-learn %.17g (%s)", x.name, x.got, x.want, g.Source)
				}
				if v, ok := m.Get(x.name); v != x.got.V || !ok {
					t.Errorf("Get(%q) = %v, %v; field %v", x.name, v, ok, x.got)
				}
			}
			for k := range c.K {
				if !near(m.TargetMSE[k], c.TargetMSE[k], 1e-9) || !near(m.TargetMAE[k], c.TargetMAE[k], 1e-9) ||
					!near(m.TargetR2[k], c.TargetR2[k], 1e-9) {
					t.Errorf("target %d: MSE %.17g, MAE %.17g, R² %.17g; scikit-learn %.17g, %.17g, %.17g", k,
						m.TargetMSE[k], m.TargetMAE[k], m.TargetR2[k], c.TargetMSE[k], c.TargetMAE[k], c.TargetR2[k])
				}
			}
		})
	}
}

// TestEvaluateRegressionOneSample: R² needs two samples (scikit-learn
// returns NaN); MSE and MAE do not.
func TestEvaluateRegressionOneSample(t *testing.T) {
	m, err := EvaluateRegression([]float32{1, 5}, []float32{3, 5}, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if m.MSE != defined(2) || m.MAE != defined(1) || m.R2.OK || !math.IsNaN(m.TargetR2[0]) || !math.IsNaN(m.TargetR2[1]) {
		t.Errorf("MSE %v, MAE %v, R² %v (%v); want 2, 1, undefined (NaN NaN)", m.MSE, m.MAE, m.R2, m.TargetR2)
	}
	if v, ok := m.Get("r2"); ok || !math.IsNaN(v) {
		t.Errorf("Get(r2) = %v, %v; want NaN, false", v, ok)
	}
}

func TestHeadMetricNames(t *testing.T) {
	var cm *ClassMetrics
	if got := cm.Names(); !slices.Equal(got, []string{"loss", "accuracy", "macro_auroc", "kappa"}) {
		t.Errorf("ClassMetrics.Names() = %v", got)
	}
	var rm *RegressionMetrics
	if got := rm.Names(); !slices.Equal(got, []string{"loss", "mse", "mae", "r2"}) {
		t.Errorf("RegressionMetrics.Names() = %v", got)
	}
	cm.Names()[0] = "changed"
	if cm.Names()[0] != "loss" {
		t.Error("Names returns the package's own slice")
	}
	for _, f := range []func(){
		func() { (&ClassMetrics{}).Get("auroc") },
		func() { (&RegressionMetrics{}).Get("rmse") },
	} {
		func() {
			defer func() {
				if s, _ := recover().(string); len(s) < 6 || s[:6] != "loss: " {
					t.Errorf("recovered %q; want a panic prefixed \"loss: \"", s)
				}
			}()
			f()
		}()
	}
}

func TestEvaluateClassesErrors(t *testing.T) {
	nan := float32(math.NaN())
	p := []float32{0.5, 0.5, 0.9, 0.1} // 2 samples, 2 classes
	for _, c := range []struct {
		probs, y []float32
		C        int
		want     string
	}{
		{p, []float32{0, 1}, 0, "classes: expected at least 1, found 0"},
		{nil, nil, 2, "no samples to evaluate"},
		{p[:3], []float32{0, 1}, 2, "probs: expected 4 values (2 samples × 2 classes), found 3"},
		{p, []float32{0, 1, 1}, 2, "probs: expected 6 values (3 samples × 2 classes), found 4"},
		{p, []float32{0, 2}, 2, "y[1]: expected a class index in 0..1, found 2"},
		{p, []float32{0.5, 1}, 2, "y[0]: expected a class index in 0..1, found 0.5"},
		{p, []float32{0, nan}, 2, "y[1]: expected a class index in 0..1, found NaN"},
		{[]float32{0.5, 0.5, nan, 1}, []float32{0, 1}, 2, "probs[1,0]: expected a probability in [0, 1], found NaN"},
		{[]float32{0.5, 1.5, 0, 1}, []float32{0, 1}, 2, "probs[0,1]: expected a probability in [0, 1], found 1.5"},
	} {
		m, err := EvaluateClasses(c.probs, c.y, c.C)
		if err == nil || err.Error() != c.want || m != nil {
			t.Errorf("EvaluateClasses(%v, %v, %d) = %v, %v; want nil, %s", c.probs, c.y, c.C, m, err, c.want)
		}
	}
}

func TestEvaluateRegressionErrors(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(-1))
	v := []float32{1, 2, 3, 4}
	for _, c := range []struct {
		values, y []float32
		N, K      int
		want      string
	}{
		{v, v, 2, 0, "targets: expected at least 1, found 0"},
		{nil, nil, 0, 1, "no samples to evaluate"},
		{v[:3], v, 2, 2, "values: expected 4 (2 samples × 2 targets), found 3"},
		{v, v[:2], 2, 2, "y: expected 4 targets (2 samples × 2), found 2"},
		{v, []float32{1, 2, nan, 4}, 2, 2, "y[1,0]: expected a finite number, found NaN"},
		{[]float32{1, inf, 3, 4}, v, 2, 2, "values[0,1]: expected a finite number, found -Inf"},
	} {
		m, err := EvaluateRegression(c.values, c.y, c.N, c.K)
		if err == nil || err.Error() != c.want || m != nil {
			t.Errorf("EvaluateRegression(%v, %v, %d, %d) = %v, %v; want nil, %s", c.values, c.y, c.N, c.K, m, err, c.want)
		}
	}
}

// TestStepMetricsThroughEvaluate: binary per-step metrics are Evaluate over
// the labelled steps taken as samples; pooling them matches ranking every
// labelled (step) score against the others by brute force.
func TestStepMetricsThroughEvaluate(t *testing.T) {
	nan := float32(math.NaN())
	probs := []float32{0.9, 0.2, 0.7, 0.4, 0.6, 0.1, 0.8} // packed [N, 1]
	y := []float32{1, nan, 0, 1, nan, 0, 1}
	var p, l []float32
	for i, v := range y {
		if v == v {
			p, l = append(p, probs[i]), append(l, v)
		}
	}
	m, err := Evaluate(p, l, len(p), 1, EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Positives 0.9, 0.4, 0.8; negatives 0.7, 0.1: pairs won 2 + 1 + 2 = 5 of 6.
	if m.AUROC != defined(5.0/6) || m.N != 5 {
		t.Errorf("AUROC over labelled steps %v on %d samples; want 5/6 on 5", m.AUROC, m.N)
	}
}
