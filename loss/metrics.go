package loss

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/trnn/trnn/ops"
)

// n samples (sequences), K labels; probs, logits and y are [n, K] row-major.

// Value is a metric's value, or undefined (OK false) when the evaluated set
// does not determine it: V is then NaN.
type Value struct {
	V  float64
	OK bool
}

func defined(v float64) Value { return Value{V: v, OK: true} }

var undefined = Value{V: math.NaN()}

// String is the value with 6 significant digits, or "undefined".
func (v Value) String() string {
	if !v.OK {
		return "undefined"
	}
	return strconv.FormatFloat(v.V, 'g', 6, 64)
}

// MarshalJSON writes the value as a JSON number, or null when undefined.
func (v Value) MarshalJSON() ([]byte, error) {
	if !v.OK {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v.V, 'g', -1, 64), nil
}

// metricNames are the final-step metrics, as the spec's
// training.validation.monitor names them, then the expected calibration
// error, which validation does not monitor.
var metricNames = []string{
	"loss", "auroc", "auprc", "accuracy", "f1", "brier",
	"micro_auroc", "macro_auroc", "micro_auprc", "macro_auprc",
	"micro_f1", "macro_f1", "precision_at_10", "ece",
}

// MetricNames returns the names Metrics.Get accepts, in a fixed order.
func MetricNames() []string { return slices.Clone(metricNames) }

// EvalOptions tunes Evaluate. The zero value selects the defaults.
type EvalOptions struct {
	// Threshold: a sample is predicted positive for a label when its
	// probability is > Threshold, compared in float32 (so a threshold of
	// 0.4 and a probability of float32(0.4) are equal). 0 means 0.5.
	Threshold float64
	// TopK is k of precision@k before capping at K. 0 means 10.
	TopK int
	// Logits, when non-nil, are the final-step logits [n, K] behind probs;
	// "loss" is then computed from them exactly (as the objective does)
	// instead of from probabilities clipped to [1e-7, 1 − 1e-7].
	Logits []float32
}

// ProbClip is how far from 0 and 1 probabilities are clipped when "loss" is
// computed from probabilities.
const ProbClip = 1e-7

// LabelMetrics are one label's final-step metrics, for per-label tables.
type LabelMetrics struct {
	Positives, Negatives int
	TP, FP, FN           int   // at the threshold
	AUROC, AUPRC         Value // undefined unless both classes are present
	F1                   Value // undefined when 2·TP + FP + FN = 0
	Accuracy, Brier      Value
}

// Metrics are the final-step metrics of a model on n samples with K labels.
// For K = 1 the headline values (AUROC, AUPRC, F1, Accuracy, Brier) are the
// binary ones and the micro and macro values equal them; for K > 1, AUROC,
// AUPRC and F1 are the macro averages, Accuracy is the mean over labels of
// each label's accuracy, and Brier and ECE are over all (sample, label)
// pairs.
type Metrics struct {
	N, K      int
	Threshold float64 // the threshold used for F1 and accuracy
	TopK      int     // k of PrecisionAtK: min(EvalOptions.TopK, K)
	// LossFromLogits tells whether Loss was computed from logits (exact)
	// or from clipped probabilities.
	LossFromLogits bool

	Loss, AUROC, AUPRC, Accuracy, F1, Brier Value

	MicroAUROC, MacroAUROC Value
	MicroAUPRC, MacroAUPRC Value
	MicroF1, MacroF1       Value
	PrecisionAtK           Value // reported as "precision_at_10"
	ECE                    Value // expected calibration error (see ECE), reported as "ece"

	// Labels left out of the macro averages because they are undefined.
	SkippedAUROC, SkippedAUPRC, SkippedF1 int

	Labels []LabelMetrics // [K]
}

// Get returns the metric called name (one of MetricNames) and whether it is
// defined. It panics on an unknown name: names come from a validated spec.
func (m *Metrics) Get(name string) (v float64, ok bool) {
	var x Value
	switch name {
	case "loss":
		x = m.Loss
	case "auroc":
		x = m.AUROC
	case "auprc":
		x = m.AUPRC
	case "accuracy":
		x = m.Accuracy
	case "f1":
		x = m.F1
	case "brier":
		x = m.Brier
	case "micro_auroc":
		x = m.MicroAUROC
	case "macro_auroc":
		x = m.MacroAUROC
	case "micro_auprc":
		x = m.MicroAUPRC
	case "macro_auprc":
		x = m.MacroAUPRC
	case "micro_f1":
		x = m.MicroF1
	case "macro_f1":
		x = m.MacroF1
	case "precision_at_10":
		x = m.PrecisionAtK
	case "ece":
		x = m.ECE
	default:
		panic(fmt.Sprintf("loss: Metrics.Get: unknown metric %q", name))
	}
	return x.V, x.OK
}

// Evaluate computes the final-step metrics of probs [n, K] against the
// labels y [n, K]. It returns an error for options out of range and for the
// first entry out of its domain, naming it: a label not 0 or 1, a
// probability outside [0, 1] or NaN, a logit that is not finite.
func Evaluate(probs, y []float32, n, K int, opts EvalOptions) (*Metrics, error) {
	if err := checkEval(probs, y, n, K, opts); err != nil {
		return nil, err
	}
	m := newMetrics(n, K, opts)
	if n == 0 {
		m.SkippedAUROC, m.SkippedAUPRC, m.SkippedF1 = K, K, K
		return m, nil
	}

	m.Loss = defined(logLoss(probs, y, opts.Logits, n, K))

	var r ranked // reused by every label and the micro averages
	var sumAcc, sumBrier float64
	thr32 := float32(m.Threshold)
	var tp, fp, fn int
	for k := range K {
		l := &m.Labels[k]
		sumBrier += l.fill(&r, probs, y, k, K, n, thr32)
		sumAcc += l.Accuracy.V
		tp, fp, fn = tp+l.TP, fp+l.FP, fn+l.FN
	}

	m.MacroAUROC, m.SkippedAUROC = macro(m.Labels, func(l *LabelMetrics) Value { return l.AUROC })
	m.MacroAUPRC, m.SkippedAUPRC = macro(m.Labels, func(l *LabelMetrics) Value { return l.AUPRC })
	m.MacroF1, m.SkippedF1 = macro(m.Labels, func(l *LabelMetrics) Value { return l.F1 })
	if d := 2*tp + fp + fn; d > 0 {
		m.MicroF1 = defined(2 * float64(tp) / float64(d))
	}
	if K == 1 {
		m.MicroAUROC, m.MicroAUPRC = m.Labels[0].AUROC, m.Labels[0].AUPRC
	} else {
		// Micro averages rank every (sample, label) pair as one set.
		r.load(probs, y, 0, 1, n*K)
		if r.defined() {
			m.MicroAUROC = defined(r.auroc())
			m.MicroAUPRC = defined(r.averagePrecision())
		}
	}
	m.AUROC, m.AUPRC, m.F1 = m.MacroAUROC, m.MacroAUPRC, m.MacroF1
	m.Accuracy = defined(sumAcc / float64(K))
	m.Brier = defined(sumBrier / float64(n*K))
	m.PrecisionAtK = defined(precisionAtK(probs, y, n, K, m.TopK))
	m.ECE = defined(ECE(Reliability(probs, y)))
	return m, nil
}

// checkEval is Evaluate's validation: it panics on inconsistent shapes (a
// programming error) and returns the error Evaluate documents for options
// and entries out of their domain.
func checkEval(probs, y []float32, n, K int, opts EvalOptions) error {
	if n < 0 || K < 1 || len(probs) != n*K || len(y) != n*K || (opts.Logits != nil && len(opts.Logits) != n*K) {
		panic(fmt.Sprintf("loss: Evaluate: n = %d, K = %d with len(probs) = %d, len(y) = %d, len(logits) = %d",
			n, K, len(probs), len(y), len(opts.Logits)))
	}
	if !(opts.Threshold >= 0 && opts.Threshold <= 1) {
		return fmt.Errorf("threshold: expected a number in [0, 1], found %v", opts.Threshold)
	}
	if opts.TopK < 0 {
		return fmt.Errorf("precision@k: expected a positive k, found %d", opts.TopK)
	}
	if err := CheckLabels(y, n, K); err != nil {
		return err
	}
	for j, p := range probs {
		if !(p >= 0 && p <= 1) {
			return fmt.Errorf("probs[%d,%d]: expected a probability in [0, 1], found %s", j/K, j%K, formatFloat(float64(p)))
		}
	}
	for j, z := range opts.Logits {
		if math.IsNaN(float64(z)) || math.IsInf(float64(z), 0) {
			return fmt.Errorf("logits[%d,%d]: expected a finite number, found %s", j/K, j%K, formatFloat(float64(z)))
		}
	}
	return nil
}

// newMetrics returns the Metrics of n samples and K labels with opts'
// defaults resolved and every value undefined, so that a metric the data
// cannot determine is left undefined rather than 0.
func newMetrics(n, K int, opts EvalOptions) *Metrics {
	thr := opts.Threshold
	if thr == 0 {
		thr = 0.5
	}
	topK := opts.TopK
	if topK <= 0 {
		topK = 10
	}
	topK = min(topK, K)
	m := &Metrics{N: n, K: K, Threshold: thr, TopK: topK, LossFromLogits: opts.Logits != nil,
		Labels: make([]LabelMetrics, K)}
	all := []*Value{&m.Loss, &m.AUROC, &m.AUPRC, &m.Accuracy, &m.F1, &m.Brier,
		&m.MicroAUROC, &m.MacroAUROC, &m.MicroAUPRC, &m.MacroAUPRC, &m.MicroF1, &m.MacroF1, &m.PrecisionAtK, &m.ECE}
	for _, v := range all {
		*v = undefined
	}
	for k := range m.Labels {
		l := &m.Labels[k]
		l.AUROC, l.AUPRC, l.F1, l.Accuracy, l.Brier = undefined, undefined, undefined, undefined, undefined
	}
	return m
}

// fill computes label k's metrics over n ≥ 1 samples of K labels: ranking
// metrics from r's sorted keys (r is reloaded), counts at the threshold
// thr32. It returns the label's unnormalised squared error Σ(p − y)², which
// the overall Brier score sums before dividing once.
func (l *LabelMetrics) fill(r *ranked, probs, y []float32, k, K, n int, thr32 float32) (brier float64) {
	r.load(probs, y, k, K, n)
	l.Positives, l.Negatives = len(r.pos), len(r.neg)
	if r.defined() {
		l.AUROC = defined(r.auroc())
		l.AUPRC = defined(r.averagePrecision())
	}
	for i, j := 0, k; i < n; i, j = i+1, j+K {
		p, t := float64(probs[j]), float64(y[j])
		brier += (p - t) * (p - t)
		pred, pos := probs[j] > thr32, t == 1
		switch {
		case pred && pos:
			l.TP++
		case pred:
			l.FP++
		case pos:
			l.FN++
		}
	}
	if d := 2*l.TP + l.FP + l.FN; d > 0 {
		l.F1 = defined(2 * float64(l.TP) / float64(d))
	}
	l.Accuracy = defined(float64(n-l.FP-l.FN) / float64(n))
	l.Brier = defined(brier / float64(n))
	return brier
}

// macro is the unweighted mean of the defined per-label values and the
// number of labels left out; undefined when none is defined.
func macro(labels []LabelMetrics, get func(*LabelMetrics) Value) (Value, int) {
	var sum float64
	var count int
	for k := range labels {
		if v := get(&labels[k]); v.OK {
			sum += v.V
			count++
		}
	}
	if count == 0 {
		return undefined, len(labels)
	}
	return defined(sum / float64(count)), len(labels) - count
}

// logLoss is the mean over samples of the final-step loss ℓ averaged over
// labels, with no weights: from logits with ops.BCEWithLogits when given
// (exactly the objective's finalBCE), otherwise from probabilities clipped
// to [ProbClip, 1 − ProbClip].
func logLoss(probs, y, logits []float32, n, K int) float64 {
	var total float64
	for i := range n {
		var sum float64
		for j := i * K; j < i*K+K; j++ {
			if logits != nil {
				l, _ := ops.BCEWithLogits(logits[j], y[j], 1)
				sum += l
				continue
			}
			p := min(max(float64(probs[j]), ProbClip), 1-ProbClip)
			if y[j] == 1 {
				sum -= math.Log(p)
			} else {
				sum -= math.Log1p(-p)
			}
		}
		total += sum / float64(K)
	}
	return total / float64(n)
}

// precisionAtK is the mean over samples of the fraction of true labels among
// the sample's k highest-scored labels (Lipton et al. 2016's precision at
// 10). When scores tie across the k-th place, the tied labels share the
// remaining places: a group of g tied labels holding m true ones that gets r
// of the k places counts r·m/g, the expected count under a random order of
// the ties.
func precisionAtK(probs, y []float32, n, K, k int) float64 {
	keys := make([]uint64, K)
	var total float64
	for i := range n {
		row, lab := probs[i*K:i*K+K], y[i*K:i*K+K]
		for j := range K {
			// Descending by score: complement the order key. The low bit
			// carries the label.
			keys[j] = uint64(^ordKey(row[j]))<<1 | uint64(lab[j])
		}
		slices.Sort(keys)
		var hits float64
		taken := 0
		for a := 0; a < K && taken < k; {
			b, m := a, 0
			for b < K && keys[b]>>1 == keys[a]>>1 {
				m += int(keys[b] & 1)
				b++
			}
			g := b - a
			if taken+g <= k {
				hits += float64(m)
				taken += g
			} else {
				hits += float64(m) * float64(k-taken) / float64(g)
				taken = k
			}
			a = b
		}
		total += hits / float64(k)
	}
	return total / float64(n)
}
