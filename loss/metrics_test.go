package loss

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/trnn/trnn/ops"
)

// n samples, K labels.

func mustEvaluate(t *testing.T, probs, y []float32, n, K int, opts EvalOptions) *Metrics {
	t.Helper()
	m, err := Evaluate(probs, y, n, K, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// checkValue fails unless got is defined and within tol of want (or, with
// want NaN, undefined).
func checkValue(t *testing.T, name string, got Value, want, tol float64) {
	t.Helper()
	if math.IsNaN(want) {
		if got.OK || !math.IsNaN(got.V) {
			t.Errorf("%s = %v (%v); want undefined", name, got, got.V)
		}
		return
	}
	if !got.OK || !near(got.V, want, tol) {
		t.Errorf("%s = %v (%.17g); want %.17g", name, got, got.V, want)
	}
}

var nan = math.NaN()

// TestEvaluateBinaryHandWorked: scores (0.9, 0.7, 0.7, 0.4, 0.4, 0.2),
// labels (1, 1, 0, 1, 0, 0).
func TestEvaluateBinaryHandWorked(t *testing.T) {
	m := mustEvaluate(t, handScores, handLabels, 6, 1, EvalOptions{})
	// AUROC: positives score (0.9, 0.7, 0.4), negatives (0.7, 0.4, 0.2).
	// 0.9 beats 3 negatives; 0.7 beats 2 and ties 1 (½); 0.4 beats 1 and
	// ties 1 (½): U = 3 + 2.5 + 1.5 = 7 of 9 pairs.
	checkValue(t, "auroc", m.AUROC, 7.0/9, 1e-15)
	// AP: thresholds 0.9 (P 1/1, R 1/3), 0.7 (P 2/3, R 2/3), 0.4 (P 3/5,
	// R 1), 0.2 (R unchanged): 1/3·1 + 1/3·2/3 + 1/3·3/5 = 34/45.
	checkValue(t, "auprc", m.AUPRC, 34.0/45, 1e-15)
	// p > 0.5 predicts (1, 1, 1, 0, 0, 0): TP 2, FP 1, FN 1, TN 2.
	// F1 = 2·2/(2·2 + 1 + 1) = 2/3; accuracy 4/6.
	checkValue(t, "f1", m.F1, 2.0/3, 1e-15)
	checkValue(t, "accuracy", m.Accuracy, 4.0/6, 1e-15)
	// Brier: (0.1² + 0.3² + 0.7² + 0.6² + 0.4² + 0.2²)/6 = 1.15/6; the
	// probabilities are float32, hence the tolerance.
	checkValue(t, "brier", m.Brier, 1.15/6, 1e-7)
	// Log loss: −(ln 0.9 + ln 0.7 + ln 0.3 + ln 0.4 + ln 0.6 + ln 0.8)/6.
	checkValue(t, "loss", m.Loss, -(math.Log(0.9)+math.Log(0.7)+math.Log(0.3)+math.Log(0.4)+math.Log(0.6)+math.Log(0.8))/6, 1e-7)
	// K = 1: precision@min(10, 1) = precision@1 = the fraction of positives.
	checkValue(t, "precision_at_10", m.PrecisionAtK, 0.5, 0)
	if m.TopK != 1 || m.Threshold != 0.5 || m.LossFromLogits {
		t.Errorf("TopK %d, Threshold %v, LossFromLogits %v; want 1, 0.5, false", m.TopK, m.Threshold, m.LossFromLogits)
	}
	// Micro and macro equal the binary values.
	for _, pair := range [][2]string{{"micro_auroc", "auroc"}, {"macro_auroc", "auroc"}, {"micro_auprc", "auprc"},
		{"macro_auprc", "auprc"}, {"micro_f1", "f1"}, {"macro_f1", "f1"}} {
		a, aok := m.Get(pair[0])
		b, bok := m.Get(pair[1])
		if a != b || !aok || !bok {
			t.Errorf("%s = %v, %s = %v; want equal", pair[0], a, pair[1], b)
		}
	}
	l := m.Labels[0]
	if l.Positives != 3 || l.Negatives != 3 || l.TP != 2 || l.FP != 1 || l.FN != 1 {
		t.Errorf("label 0 counts = %+v", l)
	}

	// Threshold 0.7: only 0.9 is > 0.7 (0.7 itself is not): TP 1, FP 0,
	// FN 2: F1 = 2/(2 + 2) = 1/2, accuracy (1 + 3)/6.
	m = mustEvaluate(t, handScores, handLabels, 6, 1, EvalOptions{Threshold: 0.7})
	checkValue(t, "f1@0.7", m.F1, 0.5, 1e-15)
	checkValue(t, "accuracy@0.7", m.Accuracy, 4.0/6, 1e-15)
	// Threshold 0.4 compares with float32(0.4): the two 0.4s stay negative,
	// as at 0.5.
	m = mustEvaluate(t, handScores, handLabels, 6, 1, EvalOptions{Threshold: 0.4})
	checkValue(t, "f1@0.4", m.F1, 2.0/3, 1e-15)
}

// TestEvaluateMultiLabelHandWorked: n = 4, K = 3.
//
//	sample  probs            y
//	0       0.9  0.2  0.6    1 0 0
//	1       0.3  0.8  0.1    0 0 1
//	2       0.6  0.4  0.7    1 0 1
//	3       0.1  0.3  0.2    0 0 0
func TestEvaluateMultiLabelHandWorked(t *testing.T) {
	probs := []float32{0.9, 0.2, 0.6, 0.3, 0.8, 0.1, 0.6, 0.4, 0.7, 0.1, 0.3, 0.2}
	y := []float32{1, 0, 0, 0, 0, 1, 1, 0, 1, 0, 0, 0}
	m := mustEvaluate(t, probs, y, 4, 3, EvalOptions{})

	// Label 0: positives (0.9, 0.6) above negatives (0.3, 0.1): AUROC 1,
	// AP 1; predictions (1, 0, 1, 0) all right: F1 1, accuracy 1.
	// Label 1: no positive: AUROC and AUPRC undefined; predictions
	// (0, 1, 0, 0): FP 1, so F1 = 0/(0 + 1 + 0) = 0 (defined), accuracy 3/4.
	// Label 2: positives (0.1, 0.7), negatives (0.6, 0.2): 0.7 beats both,
	// 0.1 none: AUROC 2/4. AP: 0.7 (P 1, R 1/2), 0.6 and 0.2 negatives,
	// 0.1 (P 2/4, R 1): 1/2·1 + 1/2·1/2 = 3/4. Predictions (1, 0, 1, 0)
	// against (0, 1, 1, 0): TP 1, FP 1, FN 1: F1 2/4, accuracy 2/4.
	want := []struct {
		auroc, auprc, f1, acc float64
	}{{1, 1, 1, 1}, {nan, nan, 0, 0.75}, {0.5, 0.75, 0.5, 0.5}}
	for k, w := range want {
		l := m.Labels[k]
		checkValue(t, "auroc", l.AUROC, w.auroc, 1e-15)
		checkValue(t, "auprc", l.AUPRC, w.auprc, 1e-15)
		checkValue(t, "f1", l.F1, w.f1, 1e-15)
		checkValue(t, "accuracy", l.Accuracy, w.acc, 1e-15)
	}
	if m.Labels[1].Positives != 0 || m.Labels[1].Negatives != 4 || m.Labels[2].Positives != 2 {
		t.Errorf("positives = %d, %d, %d", m.Labels[0].Positives, m.Labels[1].Positives, m.Labels[2].Positives)
	}
	// Macro over defined labels: AUROC (1 + 1/2)/2, AUPRC (1 + 3/4)/2, one
	// label skipped; F1 (1 + 0 + 1/2)/3, none skipped.
	checkValue(t, "macro_auroc", m.MacroAUROC, 0.75, 1e-15)
	checkValue(t, "macro_auprc", m.MacroAUPRC, 0.875, 1e-15)
	checkValue(t, "macro_f1", m.MacroF1, 0.5, 1e-15)
	if m.SkippedAUROC != 1 || m.SkippedAUPRC != 1 || m.SkippedF1 != 0 {
		t.Errorf("skipped = %d, %d, %d; want 1, 1, 0", m.SkippedAUROC, m.SkippedAUPRC, m.SkippedF1)
	}
	// K > 1: the headline values are the macro ones.
	if m.AUROC != m.MacroAUROC || m.AUPRC != m.MacroAUPRC || m.F1 != m.MacroF1 {
		t.Error("auroc, auprc, f1 differ from their macro averages")
	}
	// Micro F1: TP 2 + 0 + 1, FP 0 + 1 + 1, FN 0 + 0 + 1: 6/(6 + 2 + 1).
	checkValue(t, "micro_f1", m.MicroF1, 2.0/3, 1e-15)
	// Micro AUROC over the 12 pairs: positives (0.9, 0.7, 0.6, 0.1),
	// negatives (0.8, 0.6, 0.4, 0.3, 0.3, 0.2, 0.2, 0.1). 0.9 beats 8;
	// 0.7 beats 7; 0.6 beats 6, ties 1; 0.1 ties 1: U = 22 of 32 pairs.
	checkValue(t, "micro_auroc", m.MicroAUROC, 22.0/32, 1e-15)
	// Micro AP: 0.9 (+, P 1), 0.8 (−), 0.7 (+, P 2/3), 0.6 (+ and −, P 3/5),
	// 0.4, 0.3, 0.3, 0.2, 0.2 (−), 0.1 (+ and −, P 4/12); each positive
	// threshold adds recall 1/4: (1 + 2/3 + 3/5 + 1/3)/4 = 13/20.
	checkValue(t, "micro_auprc", m.MicroAUPRC, 13.0/20, 1e-15)
	// Accuracy: mean of (1, 3/4, 1/2). Brier: squared errors per sample
	// (.01 .04 .36), (.09 .64 .81), (.16 .16 .09), (.01 .09 .04) sum to 2.5
	// over 12 pairs.
	checkValue(t, "accuracy", m.Accuracy, 0.75, 1e-15)
	checkValue(t, "brier", m.Brier, 2.5/12, 1e-7)
	// precision@min(10, 3): every label is in the top 3, so it is the mean
	// fraction of true labels: (1 + 1 + 2 + 0)/3/4 = 1/3.
	checkValue(t, "precision_at_10", m.PrecisionAtK, 1.0/3, 1e-15)
	// precision@2: top two of each sample: (0.9✓, 0.6✗) 1/2; (0.8✗, 0.3✗) 0;
	// (0.7✓, 0.6✓) 1; (0.3✗, 0.2✗) 0: mean 1.5/4.
	m2 := mustEvaluate(t, probs, y, 4, 3, EvalOptions{TopK: 2})
	checkValue(t, "precision_at_2", m2.PrecisionAtK, 0.375, 1e-15)
	if m2.TopK != 2 {
		t.Errorf("TopK = %d; want 2", m2.TopK)
	}
}

// TestPrecisionAtKTies: scores (0.5, 0.5, 0.5, 0.1), labels (1, 0, 0, 1).
// The three tied labels hold 1 true label; r of their places taken count
// r·1/3 hits.
func TestPrecisionAtKTies(t *testing.T) {
	probs, y := []float32{0.5, 0.5, 0.5, 0.1}, []float32{1, 0, 0, 1}
	for _, c := range []struct {
		k    int
		want float64
	}{
		{1, (1.0 / 3) / 1}, // one place among three tied: 1/3 hit
		{2, (2.0 / 3) / 2}, // two places: 2/3 hit
		{3, 1.0 / 3},       // the whole group: 1 hit
		{4, 2.0 / 4},       // everything: 2 hits
		{10, 2.0 / 4},      // capped at K = 4
	} {
		m := mustEvaluate(t, probs, y, 1, 4, EvalOptions{TopK: c.k})
		checkValue(t, "precision_at_k", m.PrecisionAtK, c.want, 1e-15)
	}
	// The order of the labels does not matter.
	m := mustEvaluate(t, []float32{0.1, 0.5, 0.5, 0.5}, []float32{1, 0, 1, 0}, 1, 4, EvalOptions{TopK: 2})
	checkValue(t, "precision_at_2 (permuted)", m.PrecisionAtK, 1.0/3, 1e-15)
}

func TestEvaluateUndefined(t *testing.T) {
	// No samples: every metric is undefined and every label skipped.
	m := mustEvaluate(t, nil, nil, 0, 2, EvalOptions{})
	for _, name := range MetricNames() {
		if v, ok := m.Get(name); ok || !math.IsNaN(v) {
			t.Errorf("n = 0: %s = %v, %v; want undefined", name, v, ok)
		}
	}
	if m.SkippedAUROC != 2 || m.SkippedAUPRC != 2 || m.SkippedF1 != 2 {
		t.Errorf("n = 0: skipped %d, %d, %d; want 2", m.SkippedAUROC, m.SkippedAUPRC, m.SkippedF1)
	}

	// One class only, never predicted: no AUROC, AUPRC or F1 (binary and
	// micro and macro alike); accuracy 1, Brier and loss defined.
	m = mustEvaluate(t, []float32{0.1, 0.2, 0.3}, []float32{0, 0, 0}, 3, 1, EvalOptions{})
	for _, name := range []string{"auroc", "auprc", "f1", "micro_auroc", "macro_auroc", "micro_auprc", "macro_auprc", "micro_f1", "macro_f1"} {
		if v, ok := m.Get(name); ok {
			t.Errorf("one class: %s = %v; want undefined", name, v)
		}
	}
	checkValue(t, "accuracy", m.Accuracy, 1, 0)
	checkValue(t, "brier", m.Brier, (0.01+0.04+0.09)/3, 1e-7)
	checkValue(t, "precision_at_10", m.PrecisionAtK, 0, 0)

	// Each label has one class, but the pool has both: micro AUROC is
	// defined (label 0's positives against label 1's negatives), macro is
	// not. Positives (0.9, 0.2), negatives (0.5, 0.1): U = 2 + 1 of 4.
	m = mustEvaluate(t, []float32{0.9, 0.5, 0.2, 0.1}, []float32{1, 0, 1, 0}, 2, 2, EvalOptions{})
	checkValue(t, "macro_auroc", m.MacroAUROC, nan, 0)
	checkValue(t, "auroc", m.AUROC, nan, 0)
	checkValue(t, "micro_auroc", m.MicroAUROC, 0.75, 1e-15)
	if m.SkippedAUROC != 2 || m.SkippedAUPRC != 2 {
		t.Errorf("skipped %d, %d; want 2, 2", m.SkippedAUROC, m.SkippedAUPRC)
	}
}

func TestEvaluateErrors(t *testing.T) {
	inf := float32(math.Inf(1))
	fnan := float32(math.NaN())
	for _, c := range []struct {
		probs, y, logits []float32
		err              string
	}{
		{[]float32{0.1, 0.2, 0.3, 0.4}, []float32{0, 1, 0.5, 0}, nil, "y[1,0]: expected 0 or 1, found 0.5"},
		{[]float32{0.1, fnan, 0.3, 0.4}, []float32{0, 1, 1, 0}, nil, "probs[0,1]: expected a probability in [0, 1], found NaN"},
		{[]float32{0.1, 0.2, 1.5, 0.4}, []float32{0, 1, 1, 0}, nil, "probs[1,0]: expected a probability in [0, 1], found 1.5"},
		{[]float32{0.1, 0.2, 0.3, -0.25}, []float32{0, 1, 1, 0}, nil, "probs[1,1]: expected a probability in [0, 1], found -0.25"},
		{[]float32{0.1, 0.2, 0.3, 0.4}, []float32{0, 1, 1, 0}, []float32{0, -inf, 0, 0}, "logits[0,1]: expected a finite number, found -Inf"},
		{[]float32{0.1, 0.2, 0.3, 0.4}, []float32{0, 1, 1, 0}, []float32{0, 0, 0, fnan}, "logits[1,1]: expected a finite number, found NaN"},
	} {
		m, err := Evaluate(c.probs, c.y, 2, 2, EvalOptions{Logits: c.logits})
		if err == nil || err.Error() != c.err || m != nil {
			t.Errorf("Evaluate error = %v (metrics %v); want %s", err, m != nil, c.err)
		}
	}
	for _, c := range []struct {
		opts EvalOptions
		err  string
	}{
		{EvalOptions{Threshold: 1.5}, "threshold: expected a number in [0, 1], found 1.5"},
		{EvalOptions{Threshold: math.NaN()}, "threshold: expected a number in [0, 1], found NaN"},
		{EvalOptions{TopK: -3}, "precision@k: expected a positive k, found -3"},
	} {
		_, err := Evaluate([]float32{0.5}, []float32{1}, 1, 1, c.opts)
		if err == nil || err.Error() != c.err {
			t.Errorf("Evaluate(%+v) error = %v; want %s", c.opts, err, c.err)
		}
	}
	defer func() {
		if s, _ := recover().(string); !strings.HasPrefix(s, "loss: Evaluate: ") {
			t.Errorf("shape mismatch: recovered %q; want a loss: Evaluate panic", s)
		}
	}()
	Evaluate(make([]float32, 3), make([]float32, 4), 2, 2, EvalOptions{})
}

// TestEvaluateLossFromLogits: from logits, "loss" is the objective's
// final-step BCE averaged over sequences, bit for bit; from probabilities
// it is clipped.
func TestEvaluateLossFromLogits(t *testing.T) {
	const K = 3
	lengths := []int{4, 3, 3, 1}
	bt := newBatch(lengths, K, []float32{
		0.5, -1, 2, 1.5, 0, -0.25, 3, -2, 1, 0.75, 0.5, -3, // row 0, 4 steps
		1, 1, -1, -0.5, 2.5, 0, 4, -1.5, 0.125, 0, 0, 0, // row 1, 3 steps
		-2, 0.5, 0.5, 1, -1, 2, -0.75, 1.25, -3.5, 0, 0, 0, // row 2, 3 steps
		2, -2, 0.25, 0, 0, 0, 0, 0, 0, 0, 0, 0, // row 3, 1 step
	}, []float32{1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0})
	n := len(lengths)
	final := make([]float64, n)
	(&TR{Alpha: 0.5, PosWeight: []float32{2, 3, 4}}).forward(bt.p, K, bt.packed, bt.y, nil, nil, final)
	logits, probs := make([]float32, n*K), make([]float32, n*K)
	for b := range n {
		copy(logits[b*K:], bt.packed[bt.p.Last(b)*K:bt.p.Last(b)*K+K])
	}
	for j, z := range logits {
		probs[j] = ops.Sigmoid(z)
	}
	var sum float64
	for _, f := range final {
		sum += f
	}
	m := mustEvaluate(t, probs, bt.y, n, K, EvalOptions{Logits: logits})
	if want := sum / float64(n); !m.LossFromLogits || m.Loss.V != want {
		t.Errorf("loss from logits = %.17g; mean final-step BCE %.17g (want equal bit for bit)", m.Loss.V, want)
	}
	mp := mustEvaluate(t, probs, bt.y, n, K, EvalOptions{})
	checkValue(t, "loss from probabilities", mp.Loss, m.Loss.V, 1e-6)

	// Saturated probabilities are clipped at 1e-7: p = 0 with y = 1 and
	// p = 1 with y = 0 each cost −ln(1e-7) ≈ 16.118.
	m = mustEvaluate(t, []float32{0, 1}, []float32{1, 0}, 2, 1, EvalOptions{})
	checkValue(t, "clipped loss", m.Loss, -math.Log(ProbClip), 1e-8)
}

// metricsGolden is testdata/metrics_golden.json, written by
// testdata/gen_metrics.py with scikit-learn.
type metricsGolden struct {
	Source string
	Cases  []struct {
		Name             string
		N, K, TopK       int
		Logits, Probs, Y []float32
		Labels           []goldenLabel
		Loss             float64
		LossLogits       float64  `json:"loss_logits"`
		MicroAUROC       *float64 `json:"micro_auroc"`
		MicroAUPRC       *float64 `json:"micro_auprc"`
		MicroF1          float64  `json:"micro_f1"`
		Accuracy, Brier  float64
		PrecisionAtK     float64  `json:"precision_at_k"`
		MacroAUROC       *float64 `json:"macro_auroc"`
		MacroAUPRC       *float64 `json:"macro_auprc"`
		MacroF1          *float64 `json:"macro_f1"`
		SkippedAUROC     int      `json:"skipped_auroc"`
		SkippedAUPRC     int      `json:"skipped_auprc"`
		SkippedF1        int      `json:"skipped_f1"`
	}
}

// goldenLabel is one label's scikit-learn values; null when undefined.
type goldenLabel struct {
	Positives        int
	AUROC, AUPRC, F1 *float64
	Accuracy, Brier  float64
	TP, FP, FN       int
}

func orNaN(p *float64) float64 {
	if p == nil {
		return nan
	}
	return *p
}

// TestEvaluateGoldenSklearn compares every metric with scikit-learn's on
// fixed vectors with ties, single-class labels and both sort paths.
func TestEvaluateGoldenSklearn(t *testing.T) {
	var g metricsGolden
	readJSON(t, "metrics_golden.json", &g)
	if len(g.Cases) == 0 {
		t.Fatal("metrics_golden.json has no cases")
	}
	const tol = 1e-12
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			probs, y := slices.Clone(c.Probs), slices.Clone(c.Y)
			m := mustEvaluate(t, c.Probs, c.Y, c.N, c.K, EvalOptions{TopK: c.TopK})
			ml := mustEvaluate(t, c.Probs, c.Y, c.N, c.K, EvalOptions{TopK: c.TopK, Logits: c.Logits})
			if !slices.Equal(probs, c.Probs) || !slices.Equal(y, c.Y) {
				t.Error("Evaluate wrote its inputs")
			}
			checkValue(t, "loss", m.Loss, c.Loss, tol)
			checkValue(t, "loss from logits", ml.Loss, c.LossLogits, tol)
			checkValue(t, "micro_auroc", m.MicroAUROC, orNaN(c.MicroAUROC), tol)
			checkValue(t, "micro_auprc", m.MicroAUPRC, orNaN(c.MicroAUPRC), tol)
			checkValue(t, "micro_f1", m.MicroF1, c.MicroF1, tol)
			checkValue(t, "macro_auroc", m.MacroAUROC, orNaN(c.MacroAUROC), tol)
			checkValue(t, "macro_auprc", m.MacroAUPRC, orNaN(c.MacroAUPRC), tol)
			checkValue(t, "macro_f1", m.MacroF1, orNaN(c.MacroF1), tol)
			checkValue(t, "accuracy", m.Accuracy, c.Accuracy, tol)
			checkValue(t, "brier", m.Brier, c.Brier, tol)
			checkValue(t, "precision_at_k", m.PrecisionAtK, c.PrecisionAtK, tol)
			if m.SkippedAUROC != c.SkippedAUROC || m.SkippedAUPRC != c.SkippedAUPRC || m.SkippedF1 != c.SkippedF1 {
				t.Errorf("skipped = %d, %d, %d; want %d, %d, %d", m.SkippedAUROC, m.SkippedAUPRC, m.SkippedF1,
					c.SkippedAUROC, c.SkippedAUPRC, c.SkippedF1)
			}
			for k, w := range c.Labels {
				l := m.Labels[k]
				checkValue(t, "auroc", l.AUROC, orNaN(w.AUROC), tol)
				checkValue(t, "auprc", l.AUPRC, orNaN(w.AUPRC), tol)
				checkValue(t, "f1", l.F1, orNaN(w.F1), tol)
				checkValue(t, "accuracy", l.Accuracy, w.Accuracy, tol)
				checkValue(t, "brier", l.Brier, w.Brier, tol)
				if l.Positives != w.Positives || l.TP != w.TP || l.FP != w.FP || l.FN != w.FN {
					t.Errorf("label %d: positives %d, TP %d, FP %d, FN %d; want %d, %d, %d, %d",
						k, l.Positives, l.TP, l.FP, l.FN, w.Positives, w.TP, w.FP, w.FN)
				}
			}
		})
	}
}

func TestMetricNamesAndGet(t *testing.T) {
	m := mustEvaluate(t, []float32{0.9, 0.2, 0.6, 0.3, 0.8, 0.1}, []float32{1, 0, 0, 0, 1, 1}, 3, 2, EvalOptions{})
	fields := map[string]Value{
		"loss": m.Loss, "auroc": m.AUROC, "auprc": m.AUPRC, "accuracy": m.Accuracy, "f1": m.F1, "brier": m.Brier,
		"micro_auroc": m.MicroAUROC, "macro_auroc": m.MacroAUROC, "micro_auprc": m.MicroAUPRC,
		"macro_auprc": m.MacroAUPRC, "micro_f1": m.MicroF1, "macro_f1": m.MacroF1, "precision_at_10": m.PrecisionAtK,
		"ece": m.ECE,
	}
	isMetric := func(name string) bool { return slices.Contains(MetricNames(), name) }
	names := MetricNames()
	if len(names) != len(fields) {
		t.Errorf("MetricNames has %d names; want %d", len(names), len(fields))
	}
	for _, name := range names {
		f, ok := fields[name]
		v, vok := m.Get(name)
		if !ok || !isMetric(name) || v != f.V || vok != f.OK {
			t.Errorf("Get(%q) = %v, %v; field %v", name, v, vok, f)
		}
	}
	names[0] = "changed"
	if MetricNames()[0] != "loss" || isMetric("changed") || isMetric("precision_at_5") {
		t.Error("MetricNames returned the package's own slice, or it lists unknown names")
	}
	defer func() {
		if s, _ := recover().(string); !strings.HasPrefix(s, "loss: Metrics.Get: ") {
			t.Errorf("Get(unknown): recovered %q", s)
		}
	}()
	m.Get("roc")
}

func TestValueFormatting(t *testing.T) {
	data, err := json.Marshal(map[string]Value{"a": {V: 0.25, OK: true}, "b": undefined})
	if err != nil || string(data) != `{"a":0.25,"b":null}` {
		t.Errorf("json = %s, %v", data, err)
	}
	if s := (Value{V: 2.0 / 3, OK: true}).String(); s != "0.666667" {
		t.Errorf("String = %q", s)
	}
	if s := undefined.String(); s != "undefined" {
		t.Errorf("String = %q", s)
	}
}
