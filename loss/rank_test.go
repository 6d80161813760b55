package loss

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// sortKeysNaive sorts a ascending: the reference for sortKeys.
func sortKeysNaive(a []uint32) { slices.Sort(a) }

func TestOrdKeyOrder(t *testing.T) {
	inc := []float32{float32(math.Inf(-1)), -math.MaxFloat32, -2, -1, -1e-30, -math.SmallestNonzeroFloat32,
		0, math.SmallestNonzeroFloat32, 1e-30, 0.5, 1, 2, math.MaxFloat32, float32(math.Inf(1))}
	for i := 1; i < len(inc); i++ {
		if ordKey(inc[i-1]) >= ordKey(inc[i]) {
			t.Errorf("ordKey(%g) = %#x ≥ ordKey(%g) = %#x", inc[i-1], ordKey(inc[i-1]), inc[i], ordKey(inc[i]))
		}
	}
	if negZero := float32(math.Copysign(0, -1)); ordKey(negZero) != ordKey(0) {
		t.Errorf("ordKey(−0) = %#x, ordKey(+0) = %#x; want equal (a tie)", ordKey(negZero), ordKey(0))
	}
}

// TestSortKeys compares the radix sort with slices.Sort (sortKeysNaive) on
// sizes around the switch between the two, keys with many ties, keys that
// differ only in one byte, and all-equal keys.
func TestSortKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	gens := map[string]func() uint32{
		"random":   func() uint32 { return rng.Uint32() },
		"ties":     func() uint32 { return ordKey(float32(rng.IntN(20)) / 8) },
		"low byte": func() uint32 { return 0xabcdef00 | uint32(rng.IntN(256)) },
		"high":     func() uint32 { return uint32(rng.IntN(4)) << 30 },
		"equal":    func() uint32 { return 42 },
		"probs":    func() uint32 { return ordKey(rng.Float32()) },
	}
	for name, gen := range gens {
		for _, n := range []int{0, 1, 2, radixMin - 1, radixMin, radixMin + 1, 1000, 70000} {
			a := make([]uint32, n)
			for i := range a {
				a[i] = gen()
			}
			want := slices.Clone(a)
			sortKeysNaive(want)
			sortKeys(a, make([]uint32, n))
			if !slices.Equal(a, want) {
				t.Errorf("%s, n = %d: radix sort differs from slices.Sort", name, n)
			}
		}
	}
}

// bruteAUROC counts pairs: P(score⁺ > score⁻) + ½·P(score⁺ = score⁻).
func bruteAUROC(scores, labels []float32) float64 {
	var num, den float64
	for i := range scores {
		for j := range scores {
			if labels[i] == 1 && labels[j] == 0 {
				den++
				switch {
				case scores[i] > scores[j]:
					num++
				case scores[i] == scores[j]:
					num += 0.5
				}
			}
		}
	}
	return num / den
}

// bruteAP is the step-wise average precision with every distinct score as a
// threshold, computed by rescanning all examples per threshold.
func bruteAP(scores, labels []float32) float64 {
	th := slices.Clone(scores)
	slices.Sort(th)
	th = slices.Compact(th)
	slices.Reverse(th)
	var P float64
	for _, l := range labels {
		P += float64(l)
	}
	var ap, prevR float64
	for _, s := range th {
		var tp, fp float64
		for i, v := range scores {
			if v >= s {
				tp += float64(labels[i])
				fp += 1 - float64(labels[i])
			}
		}
		r := tp / P
		ap += (r - prevR) * tp / (tp + fp)
		prevR = r
	}
	return ap
}

// TestRankedAgainstBruteForce: the O(n log n) AUROC and AP agree with
// quadratic pair counting on tie-heavy random data.
func TestRankedAgainstBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{2, 7, 300, 1500} {
		scores, labels := make([]float32, n), make([]float32, n)
		for i := range scores {
			labels[i] = float32(rng.IntN(2))
			scores[i] = float32(rng.IntN(12)-6)/4 + labels[i]/2
		}
		labels[0], labels[1] = 0, 1
		var r ranked
		r.load(scores, labels, 0, 1, n)
		if got, want := r.auroc(), bruteAUROC(scores, labels); !near(got, want, 1e-14) {
			t.Errorf("n = %d: auroc %.17g; pair counting %.17g", n, got, want)
		}
		if got, want := r.averagePrecision(), bruteAP(scores, labels); !near(got, want, 1e-13) {
			t.Errorf("n = %d: average precision %.17g; brute force %.17g", n, got, want)
		}
	}
}

// The binary example worked out by hand (also used in metrics_test.go):
// scores (0.9, 0.7, 0.7, 0.4, 0.4, 0.2), labels (1, 1, 0, 1, 0, 0).
var (
	handScores = []float32{0.9, 0.7, 0.7, 0.4, 0.4, 0.2}
	handLabels = []float32{1, 1, 0, 1, 0, 0}
)

func TestROCAndPRHandWorked(t *testing.T) {
	// Thresholds from the top: 0.9 → tp 1, fp 0; 0.7 → tp 2, fp 1;
	// 0.4 → tp 3, fp 2; 0.2 → tp 3, fp 3. P = N = 3.
	fpr, tpr := ROC(handScores, handLabels)
	if want := []float64{0, 0, 1.0 / 3, 2.0 / 3, 1}; !slices.Equal(fpr, want) {
		t.Errorf("fpr = %v; want %v", fpr, want)
	}
	if want := []float64{0, 1.0 / 3, 2.0 / 3, 1, 1}; !slices.Equal(tpr, want) {
		t.Errorf("tpr = %v; want %v", tpr, want)
	}
	// PR: (0, 1), then (1/3, 1/1), (2/3, 2/3), (1, 3/5); it stops at recall 1,
	// so the threshold 0.2 is left out.
	rec, prec := PR(handScores, handLabels)
	if want := []float64{0, 1.0 / 3, 2.0 / 3, 1}; !slices.Equal(rec, want) {
		t.Errorf("recall = %v; want %v", rec, want)
	}
	if want := []float64{1, 1, 2.0 / 3, 3.0 / 5}; !slices.Equal(prec, want) {
		t.Errorf("precision = %v; want %v", prec, want)
	}
	// AP = Σ Δrecall·precision over the curve = 34/45 (see metrics_test.go).
	var ap float64
	for i := 1; i < len(rec); i++ {
		ap += (rec[i] - rec[i-1]) * prec[i]
	}
	if !near(ap, 34.0/45, 1e-15) {
		t.Errorf("AP from the PR curve = %.17g; want 34/45", ap)
	}

	// Undefined curves: one class only.
	if f, tp := ROC([]float32{0.1, 0.2}, []float32{1, 1}); f != nil || tp != nil {
		t.Errorf("ROC with no negatives = %v, %v; want nil", f, tp)
	}
	if r, p := PR([]float32{0.1, 0.2}, []float32{0, 0}); r != nil || p != nil {
		t.Errorf("PR with no positives = %v, %v; want nil", r, p)
	}
	// PR is defined with positives only: every threshold has precision 1.
	if r, p := PR([]float32{0.1, 0.2}, []float32{1, 1}); !slices.Equal(r, []float64{0, 0.5, 1}) || !slices.Equal(p, []float64{1, 1, 1}) {
		t.Errorf("PR with no negatives = %v, %v", r, p)
	}
}
