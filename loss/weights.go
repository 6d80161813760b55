package loss

import (
	"fmt"
	"math"
)

// n sequences, K labels.

// Class weights for binary labels follow Keras's class_weight: each
// sequence's loss L_i is multiplied by the weight of its class, and the
// batch loss is Σ_i w_i·L_i / N with N the number of sequences in the batch
// (not Σ_i w_i). Since L_i already holds every step's term, the weight
// applies to the replicated steps and the final step alike. Multi-label
// data uses per-label positive weights instead (TR.PosWeight).

// SequenceWeights writes the weight of each sequence's class into dst:
// w1 where y[i] ≥ 0.5 (class 1), w0 otherwise. Labels are binary (K must be
// 1); y holds 0 or 1 once CheckLabels has passed.
func SequenceWeights(
	y []float32, // [n] labels
	K int,
	w0, w1 float64,
	dst []float32, // [n] output
) {
	if K != 1 {
		panic(fmt.Sprintf("loss: SequenceWeights: class weights need binary labels, K = %d", K))
	}
	if len(dst) != len(y) {
		panic(fmt.Sprintf("loss: SequenceWeights: len(dst) = %d, want len(y) = %d", len(dst), len(y)))
	}
	a, b := float32(w0), float32(w1)
	for i, v := range y {
		if v >= 0.5 {
			dst[i] = b
		} else {
			dst[i] = a
		}
	}
}

// BalancedWeights returns class_weight "balanced": w_c = n / (2·count_c)
// over the n training labels y (binary). It fails when a class is absent or
// a label is not 0 or 1.
func BalancedWeights(y []float32) (w0, w1 float64, err error) {
	if err := CheckLabels(y, len(y), 1); err != nil {
		return 0, 0, err
	}
	var n1 int
	for _, v := range y {
		if v == 1 {
			n1++
		}
	}
	n := len(y)
	n0 := n - n1
	switch {
	case n == 0:
		return 0, 0, fmt.Errorf("class_weight balanced: no training sequences to count classes in")
	case n0 == 0:
		return 0, 0, fmt.Errorf("class_weight balanced: class 0 is absent from the %d training sequences (all labels are 1)", n)
	case n1 == 0:
		return 0, 0, fmt.Errorf("class_weight balanced: class 1 is absent from the %d training sequences (all labels are 0)", n)
	}
	return float64(n) / (2 * float64(n0)), float64(n) / (2 * float64(n1)), nil
}

// CheckLabels reports the first label of y [n, K] that is not 0 or 1, as
// "y[i,k]: expected 0 or 1, found v" with 0-based i and k.
func CheckLabels(y []float32, n, K int) error {
	if len(y) != n*K {
		panic(fmt.Sprintf("loss: CheckLabels: len(y) = %d, want n·K = %d·%d", len(y), n, K))
	}
	for j, v := range y {
		if v != 0 && v != 1 {
			return fmt.Errorf("y[%d,%d]: expected 0 or 1, found %s", j/K, j%K, formatFloat(float64(v)))
		}
	}
	return nil
}

// formatFloat prints v briefly: NaN, +Inf, 0.5, 1e+30.
func formatFloat(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	return fmt.Sprintf("%g", float32(v))
}
