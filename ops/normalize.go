package ops

import (
	"fmt"
	"math"
)

// Feature normalisation, forward and backward, and the fitting of its
// statistics on a training set.
//
// Shape legend: N packed steps, F features.
//
//	y   = (x − mean) / std      per feature
//	dx += dy / std
//
// mean and std are fitted statistics, not trained (docs/graph.md:
// inputs.mean, inputs.std), so backward computes dx only. The forward
// subtracts then divides, as the exported ONNX graph (Sub, Div) does, so
// both give the same float32 result.

// NormalizeForward normalises every step of x feature by feature.
//
//	mean [F] per-feature mean
//	std  [F] per-feature standard deviation (nonzero)
//	x    [N, F] input (N = len(x)/F)
//	y    [N, F] output; may be x itself
func NormalizeForward(mean, std, x, y []float32) {
	const fn = "NormalizeForward"
	F := normalizeFeatures(fn, mean, std, x)
	checkLen(fn, "y", y, len(x), false)
	for r := 0; r+F <= len(x); r += F {
		xr, yr := x[r:r+F], y[r:r+F]
		for j, v := range xr {
			yr[j] = (v - mean[j]) / std[j]
		}
	}
}

// NormalizeBackward accumulates dx += dy/std.
//
//	std [F] as given to NormalizeForward
//	dy  [N, F] ∂L/∂y
//	dx  [N, F] ∂L/∂x, accumulated
func NormalizeBackward(std, dy, dx []float32) {
	const fn = "NormalizeBackward"
	F := normalizeFeatures(fn, std, std, dy)
	checkLen(fn, "dx", dx, len(dy), false)
	for r := 0; r+F <= len(dy); r += F {
		dyr, dxr := dy[r:r+F], dx[r:r+F]
		for j, v := range dyr {
			dxr[j] += v / std[j]
		}
	}
}

// normalizeFeatures returns F = len(mean) after checking that std has as
// many elements and x holds whole steps.
func normalizeFeatures(fn string, mean, std, x []float32) int {
	F := len(mean)
	if F == 0 {
		panic(fmt.Sprintf("ops: %s: no features", fn))
	}
	checkLen(fn, "std", std, F, false)
	if len(x)%F != 0 {
		panic(fmt.Sprintf("ops: %s: len(x) = %d is not a multiple of F = %d", fn, len(x), F))
	}
	return F
}

// MinStd is the smallest standard deviation a fitted feature keeps: a
// feature whose population standard deviation over the training steps is
// below it (a constant feature, in practice) gets std 1, so it is centred
// but not blown up.
const MinStd = 1e-6

// NormStats accumulates, feature by feature, the mean and the population
// standard deviation of the valid steps of a data set. It uses Welford's
// update in float64, which stays accurate when a feature's mean is large
// beside its spread (a raw Σx² − (Σx)²/n would cancel). The zero value is
// not usable: call NewNormStats.
type NormStats struct {
	count    int64
	mean, m2 []float64 // [F] running mean, Σ (x − mean)²
}

// NewNormStats returns an empty accumulator for steps of features values.
func NewNormStats(features int) *NormStats {
	if features < 1 {
		panic(fmt.Sprintf("ops: NewNormStats: %d features, want ≥ 1", features))
	}
	return &NormStats{mean: make([]float64, features), m2: make([]float64, features)}
}

// AddSteps adds whole steps: x holds len(x)/F consecutive steps of F values
// (padding must be left out). If x is not a whole number of steps, or holds
// a NaN or an infinity, AddSteps adds nothing and returns an error naming
// the first offending step and feature, counted from the start of x.
func (s *NormStats) AddSteps(x []float32) error {
	F := len(s.mean)
	if len(x)%F != 0 {
		return fmt.Errorf("expected a whole number of steps of %d features, found %d values", F, len(x))
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("step %d, feature %d: expected a finite value, found %v", i/F, i%F, v)
		}
	}
	for r := 0; r < len(x); r += F {
		s.count++
		n := float64(s.count)
		for j, v := range x[r : r+F] {
			d := float64(v) - s.mean[j]
			s.mean[j] += d / n
			s.m2[j] += d * (float64(v) - s.mean[j])
		}
	}
	return nil
}

// Result writes the fitted statistics into mean and std [F]: the mean of
// every feature and its population standard deviation √(Σ(x−mean)²/n), or 1
// where that is below MinStd. With no steps added, mean is 0 and std 1 (the
// identity normalisation).
func (s *NormStats) Result(mean, std []float32) {
	F := len(s.mean)
	checkLen("NormStats.Result", "mean", mean, F, false)
	checkLen("NormStats.Result", "std", std, F, false)
	for j := range F {
		mean[j], std[j] = 0, 1
		if s.count == 0 {
			continue
		}
		mean[j] = float32(s.mean[j])
		if sd := math.Sqrt(s.m2[j] / float64(s.count)); sd >= MinStd {
			std[j] = float32(sd)
		}
	}
}

// FitNormalize fits Normalize's statistics on ragged sequences: seqs[i]
// holds sequence i's valid steps, T_i·F values (T_i may be 0). It returns
// the per-feature mean and population standard deviation (see
// NormStats.Result), or an error naming the sequence, step and feature of
// the first value that is not finite, or the first sequence that is not a
// whole number of steps.
func FitNormalize(seqs [][]float32, features int) (mean, std []float32, err error) {
	s := NewNormStats(features)
	for i, seq := range seqs {
		if len(seq)%features != 0 {
			return nil, nil, fmt.Errorf("sequence %d: expected a whole number of steps of %d features, found %d values", i, features, len(seq))
		}
		if err := s.AddSteps(seq); err != nil {
			return nil, nil, fmt.Errorf("sequence %d, %w", i, err)
		}
	}
	mean, std = make([]float32, features), make([]float32, features)
	s.Result(mean, std)
	return mean, std, nil
}
