package ops

import (
	"fmt"
	"math"

	"github.com/trnn/trnn/graph"
)

// Input preprocessing: the raw features of a step, with NaN where a value
// is missing and categorical features holding their category's index,
// become the first layer's inputs. Forward only: x is the graph's input,
// whose gradient nobody needs.
//
// Shape legend: B rows, N packed steps, F features, W encoded width
// (graph.Preprocess.Width).
//
// Per step, feature by feature (observed = x is not NaN):
//
//	numeric f:      v = x, or when missing: 0 (zero), mean[f] (mean), the
//	                last observed value of the row, else mean[f]
//	                (forward_fill), NaN (refuse); then (v − mean[f]) / std[f]
//	                when normalising
//	categorical f:  one-hot of v over C_f channels: channel k is 1 when
//	                v == k; a missing value is the last observed one with
//	                forward_fill, and gives all zeros otherwise (so does
//	                an index that is not one of 0..C_f−1)
//	indicators:     F channels after the encoded features, 1 where
//	                observed
//
// The exported graph computes the same in float32 with the same operations
// in the same order (export/preprocess.go), so both give equal results.

// PreprocessForward encodes every packed step of x.
//
//	p     the node's attributes (len(p.Categories) = F)
//	mean  [F] fitted means (numeric features; others unused)
//	std   [F] fitted deviations (numeric features; others unused)
//	x     [N, F] packed raw steps, time-major as pk lays them out
//	y     [N, W] output, every element written
//	fill  [B, F] workspace for forward fill (nil otherwise), not zeroed
//	      before use: PreprocessForward starts it at NaN itself
//
// It allocates nothing.
func PreprocessForward(pk *Packing, p graph.Preprocess, mean, std, x, y, fill []float32) {
	const fn = "PreprocessForward"
	F, W := len(p.Categories), p.Width()
	checkPacking(fn, pk)
	checkLen(fn, "mean", mean, F, false)
	checkLen(fn, "std", std, F, false)
	N := pk.N()
	checkLen(fn, "x", x, N*F, false)
	checkLen(fn, "y", y, N*W, false)
	ffill := p.Missing == graph.MissingForwardFill
	if ffill {
		checkLen(fn, "fill", fill, pk.Rows()*F, false)
		for i := range fill {
			fill[i] = nan32
		}
	}
	for t := range pk.Steps() {
		for b := range pk.Active[t] {
			r := pk.Offset[t] + b
			var state []float32
			if ffill {
				state = fill[b*F : (b+1)*F]
			}
			preprocessStep(p, mean, std, x[r*F:(r+1)*F], y[r*W:(r+1)*W], state)
		}
	}
}

var nan32 = float32(math.NaN())

// preprocessStep encodes one step of one row: x [F] raw values into y [W].
// With forward fill, state [F] holds the row's last observed values (NaN
// before the first), which it updates; it is nil otherwise.
func preprocessStep(p graph.Preprocess, mean, std, x, y, state []float32) {
	F := len(p.Categories)
	o := 0
	for f, C := range p.Categories {
		v := x[f]
		if state != nil {
			if v == v {
				state[f] = v
			} else {
				v = state[f]
			}
		}
		if C > 0 {
			// NaN equals no index: a missing category is all zeros.
			for k := range C {
				y[o+k] = 0
				if v == float32(k) {
					y[o+k] = 1
				}
			}
			o += C
			continue
		}
		if v != v {
			switch p.Missing {
			case graph.MissingZero:
				v = 0
			case graph.MissingMean, graph.MissingForwardFill:
				v = mean[f]
			}
		}
		if p.Normalize {
			v = (v - mean[f]) / std[f]
		}
		y[o] = v
		o++
	}
	if p.Indicators {
		for f := range F {
			y[o+f] = 0
			if x[f] == x[f] {
				y[o+f] = 1
			}
		}
	}
}

// FitPreprocess fits the statistics of a Preprocess node on ragged
// sequences (seqs[i] holds sequence i's valid steps, T_i·F values): the
// mean and population standard deviation of each numeric feature over its
// observed (non-NaN) values, as NormStats.Result gives them (mean 0 and
// std 1 for a feature never observed). Categorical features get mean 0 and
// std 1. With no NaN the numeric statistics equal FitNormalize's bit for
// bit. It returns an error naming the sequence, step and feature of the
// first infinite value, or the first sequence that is not a whole number
// of steps.
func FitPreprocess(seqs [][]float32, categories []int) (mean, std []float32, err error) {
	F := len(categories)
	if F < 1 {
		panic("ops: FitPreprocess: no features")
	}
	// Welford's update per feature, each with its own count, in float64
	// as NormStats does.
	count := make([]int64, F)
	m, m2 := make([]float64, F), make([]float64, F)
	for i, seq := range seqs {
		if len(seq)%F != 0 {
			return nil, nil, fmt.Errorf("sequence %d: expected a whole number of steps of %d features, found %d values", i, F, len(seq))
		}
		for k, v := range seq {
			f := k % F
			if categories[f] > 0 || v != v {
				continue
			}
			if math.IsInf(float64(v), 0) {
				return nil, nil, fmt.Errorf("sequence %d, step %d, feature %d: expected a finite value or NaN (missing), found %v", i, k/F, f, v)
			}
			count[f]++
			d := float64(v) - m[f]
			m[f] += d / float64(count[f])
			m2[f] += d * (float64(v) - m[f])
		}
	}
	mean, std = make([]float32, F), make([]float32, F)
	for f := range F {
		mean[f], std[f] = 0, 1
		if count[f] == 0 {
			continue
		}
		mean[f] = float32(m[f])
		if sd := math.Sqrt(m2[f] / float64(count[f])); sd >= MinStd {
			std[f] = float32(sd)
		}
	}
	return mean, std, nil
}
