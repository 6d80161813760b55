package loss

import "math"

// Calibration: does a predicted 0.8 come true 80% of the time? Ranking
// metrics (AUROC, AUPRC) cannot tell, since any increasing transform of
// the probabilities leaves them unchanged; a reliability diagram and the
// expected calibration error can.

// CalibrationBins is the number of equal-width probability bins of the
// reliability diagram and the expected calibration error.
const CalibrationBins = 10

// Bin is one probability bin of a reliability diagram.
type Bin struct {
	// Lo and Hi bound the bin's probabilities: (Lo, Hi], and [0, Hi] for
	// the first bin.
	Lo, Hi float64
	// Count is the number of (sample, label) pairs whose probability falls
	// in the bin.
	Count int
	// MeanProb is the mean predicted probability of those pairs and
	// FracPos the fraction of them whose label is 1; both NaN when Count
	// is 0.
	MeanProb, FracPos float64
}

// binEdge is the upper edge of bin b (from 0): b+1 tenths, computed as
// NumPy's linspace(0, 1, 11) computes it (0.30000000000000004 for b = 2),
// so that a probability on an edge falls in the bin scikit-learn puts it.
func binEdge(b int) float64 { return float64(b+1) * (1.0 / CalibrationBins) }

// binOf is the bin of probability p: the number of inner edges below p,
// which is scikit-learn's np.searchsorted(bins[1:-1], p).
func binOf(p float64) int {
	b := 0
	for b < CalibrationBins-1 && binEdge(b) < p {
		b++
	}
	return b
}

// Reliability bins the pairs (probs[j], y[j]) into CalibrationBins
// equal-width bins of predicted probability, as scikit-learn's
// calibration_curve(y, probs, n_bins=10, strategy="uniform") does, and
// returns every bin, empty ones included. For several labels, pass the
// flattened [n·K] arrays: every (sample, label) pair is one prediction.
// Probabilities must lie in [0, 1] and labels be 0 or 1.
func Reliability(probs, y []float32) []Bin {
	if len(probs) != len(y) {
		panic("loss: Reliability: probs and labels differ in length")
	}
	bins := make([]Bin, CalibrationBins)
	sumP, sumY := make([]float64, CalibrationBins), make([]float64, CalibrationBins)
	for j, p := range probs {
		b := binOf(float64(p))
		bins[b].Count++
		sumP[b] += float64(p)
		sumY[b] += float64(y[j])
	}
	for b := range bins {
		bn := &bins[b]
		bn.Hi = binEdge(b)
		if b > 0 {
			bn.Lo = binEdge(b - 1)
		}
		bn.MeanProb, bn.FracPos = math.NaN(), math.NaN()
		if bn.Count > 0 {
			bn.MeanProb, bn.FracPos = sumP[b]/float64(bn.Count), sumY[b]/float64(bn.Count)
		}
	}
	return bins
}

// ECE is the expected calibration error of the bins: the mean over
// predictions of |fraction of positives − mean predicted probability| in
// their bin,
//
//	ECE = Σ_b (n_b / n) · |FracPos_b − MeanProb_b|,
//
// as defined by Naeini, Cooper and Hauskrecht, "Obtaining Well Calibrated
// Probabilities Using Bayesian Binning" (AAAI 2015), and used by Guo et
// al., "On Calibration of Modern Neural Networks" (ICML 2017, eq. 3), with
// the predicted probability of label 1 as the confidence. It is NaN when
// every bin is empty.
func ECE(bins []Bin) float64 {
	n := 0
	for _, b := range bins {
		n += b.Count
	}
	if n == 0 {
		return math.NaN()
	}
	var e float64
	for _, b := range bins {
		if b.Count > 0 {
			e += float64(b.Count) / float64(n) * math.Abs(b.FracPos-b.MeanProb)
		}
	}
	return e
}
