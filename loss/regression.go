package loss

import (
	"fmt"
	"math"
	"slices"
)

// N samples, K targets; values and y are [N, K] row-major.

var regressionMetricNames = []string{"loss", "mse", "mae", "r2"}

// RegressionMetrics are the final-step metrics of an identity head over K
// real targets. The overall values are the unweighted means over targets
// of the per-target ones (scikit-learn's multioutput="uniform_average").
type RegressionMetrics struct {
	N, K int

	MSE, MAE Value // mean squared and mean absolute error
	// R2 is the coefficient of determination 1 − SS_res/SS_tot, as
	// scikit-learn's r2_score: a target with SS_tot = 0 scores 1 when it is
	// predicted exactly and 0 otherwise; undefined when N < 2.
	R2 Value

	TargetMSE, TargetMAE []float64 // [K]
	TargetR2             []float64 // [K]; NaN when N < 2
}

// Names returns the names Get accepts, in a fixed order; "loss" is the
// MSE. The receiver may be nil.
func (*RegressionMetrics) Names() []string { return slices.Clone(regressionMetricNames) }

// Get returns the metric called name (one of Names) and whether it is
// defined. It panics on an unknown name: names come from a validated spec.
func (m *RegressionMetrics) Get(name string) (float64, bool) {
	var x Value
	switch name {
	case "loss", "mse":
		x = m.MSE
	case "mae":
		x = m.MAE
	case "r2":
		x = m.R2
	default:
		panic(fmt.Sprintf("loss: RegressionMetrics.Get: unknown metric %q", name))
	}
	return x.V, x.OK
}

// EvaluateRegression computes the metrics of values [N, K] against the
// targets y [N, K]. It returns an error, naming the place, for lengths that
// do not match N·K, no samples and a value or target that is not finite.
func EvaluateRegression(values, y []float32, N, K int) (*RegressionMetrics, error) {
	if err := checkRegressionEval(values, y, N, K); err != nil {
		return nil, err
	}
	m := &RegressionMetrics{N: N, K: K, R2: undefined,
		TargetMSE: make([]float64, K), TargetMAE: make([]float64, K), TargetR2: make([]float64, K)}
	var mse, mae, r2 float64
	for k := range K {
		var mean float64
		for i := range N {
			mean += float64(y[i*K+k])
		}
		mean /= float64(N)
		var ssRes, ssTot, abs float64
		for i := range N {
			t := float64(y[i*K+k])
			d := float64(values[i*K+k]) - t
			ssRes += d * d
			abs += math.Abs(d)
			ssTot += (t - mean) * (t - mean)
		}
		m.TargetMSE[k], m.TargetMAE[k] = ssRes/float64(N), abs/float64(N)
		switch {
		case N < 2:
			m.TargetR2[k] = math.NaN()
		case ssTot != 0:
			m.TargetR2[k] = 1 - ssRes/ssTot
		case ssRes == 0:
			m.TargetR2[k] = 1
		}
		mse, mae, r2 = mse+m.TargetMSE[k], mae+m.TargetMAE[k], r2+m.TargetR2[k]
	}
	m.MSE, m.MAE = defined(mse/float64(K)), defined(mae/float64(K))
	if N >= 2 {
		m.R2 = defined(r2 / float64(K))
	}
	return m, nil
}

func checkRegressionEval(values, y []float32, N, K int) error {
	switch {
	case K < 1:
		return fmt.Errorf("targets: expected at least 1, found %d", K)
	case N < 1:
		return fmt.Errorf("no samples to evaluate")
	case len(values) != N*K:
		return fmt.Errorf("values: expected %d (%d samples × %d targets), found %d", N*K, N, K, len(values))
	case len(y) != N*K:
		return fmt.Errorf("y: expected %d targets (%d samples × %d), found %d", N*K, N, K, len(y))
	}
	for _, a := range []struct {
		name string
		v    []float32
	}{{"y", y}, {"values", values}} {
		for j, v := range a.v {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%s[%d,%d]: expected a finite number, found %s", a.name, j/K, j%K, formatFloat(float64(v)))
			}
		}
	}
	return nil
}
