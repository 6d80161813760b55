package loss

import (
	"fmt"
	"math"
	"slices"
)

// N samples, C classes; probs is [N, C] row-major, y [N] class indices.

var classMetricNames = []string{"loss", "accuracy", "macro_auroc", "kappa"}

// ClassMetrics are the final-step metrics of a softmax head over C classes.
type ClassMetrics struct {
	N, C int

	// Loss is the mean cross-entropy −log p_{i,y_i}, with each probability
	// clipped to [ProbClip, 1 − ProbClip] (rows are not renormalised).
	Loss Value
	// Accuracy is the fraction of samples whose predicted class, the
	// argmax of the row (the first on ties), is the true one.
	Accuracy Value
	// MacroAUROC is the mean of the one-vs-rest AUROCs of the classes that
	// y holds along with some other class; undefined when none does.
	MacroAUROC Value
	// Kappa is Cohen's kappa of the predicted against the true classes
	// with linear weights, scikit-learn's cohen_kappa_score(weights=
	// "linear"): the weight of a disagreement is the distance between the
	// two classes' ranks among the classes present in y or the
	// predictions. Undefined when only one class is present in both.
	Kappa Value

	ClassAUROC   []Value // [C] one-vs-rest AUROC of each class; undefined unless y holds it and another
	SkippedAUROC int     // classes left out of MacroAUROC
	Confusion    [][]int // [C][C] sample counts: rows the true class, columns the predicted one
}

// Names returns the names Get accepts, in a fixed order; the receiver may
// be nil.
func (*ClassMetrics) Names() []string { return slices.Clone(classMetricNames) }

// Get returns the metric called name (one of Names) and whether it is
// defined. It panics on an unknown name: names come from a validated spec.
func (m *ClassMetrics) Get(name string) (float64, bool) {
	var x Value
	switch name {
	case "loss":
		x = m.Loss
	case "accuracy":
		x = m.Accuracy
	case "macro_auroc":
		x = m.MacroAUROC
	case "kappa":
		x = m.Kappa
	default:
		panic(fmt.Sprintf("loss: ClassMetrics.Get: unknown metric %q", name))
	}
	return x.V, x.OK
}

// EvaluateClasses computes the metrics of probs [N, C] against the class
// indices y [N]. It returns an error, naming the place, for lengths that do
// not match, no samples, a probability outside [0, 1] or NaN, and a label
// that is not a class index.
func EvaluateClasses(probs, y []float32, C int) (*ClassMetrics, error) {
	if err := checkClassesEval(probs, y, C); err != nil {
		return nil, err
	}
	N := len(y)
	m := &ClassMetrics{N: N, C: C, MacroAUROC: undefined, Kappa: undefined,
		ClassAUROC: make([]Value, C), Confusion: make([][]int, C)}
	for c := range m.Confusion {
		m.Confusion[c] = make([]int, C)
	}
	onehot := make([]float32, N*C) // the one-vs-rest labels, in probs' layout
	var ce float64
	correct := 0
	for i, v := range y {
		c, row := int(v), probs[i*C:i*C+C]
		onehot[i*C+c] = 1
		pred := argmax(row)
		m.Confusion[c][pred]++
		if pred == c {
			correct++
		}
		ce -= clippedLog(row[c])
	}
	m.Loss = defined(ce / float64(N))
	m.Accuracy = defined(float64(correct) / float64(N))
	var r ranked
	for c := range C {
		r.load(probs, onehot, c, C, N)
		m.ClassAUROC[c] = undefined
		if r.defined() {
			m.ClassAUROC[c] = defined(r.auroc())
		}
	}
	var sum float64
	for _, v := range m.ClassAUROC {
		if v.OK {
			sum += v.V
		} else {
			m.SkippedAUROC++
		}
	}
	if n := C - m.SkippedAUROC; n > 0 {
		m.MacroAUROC = defined(sum / float64(n))
	}
	m.Kappa = linearKappa(m.Confusion)
	return m, nil
}

func checkClassesEval(probs, y []float32, C int) error {
	switch {
	case C < 1:
		return fmt.Errorf("classes: expected at least 1, found %d", C)
	case len(y) == 0:
		return fmt.Errorf("no samples to evaluate")
	case len(probs) != len(y)*C:
		return fmt.Errorf("probs: expected %d values (%d samples × %d classes), found %d", len(y)*C, len(y), C, len(probs))
	}
	if err := CheckClasses(y, C); err != nil {
		return err
	}
	for j, p := range probs {
		if !(p >= 0 && p <= 1) {
			return fmt.Errorf("probs[%d,%d]: expected a probability in [0, 1], found %s", j/C, j%C, formatFloat(float64(p)))
		}
	}
	return nil
}

// argmax is the index of the largest value of row, the first on ties.
func argmax(row []float32) int {
	best := 0
	for j, v := range row {
		if v > row[best] {
			best = j
		}
	}
	return best
}

// linearKappa is Cohen's kappa with linear weights from a confusion matrix
// (rows true, columns predicted), over the classes present in either:
// κ = 1 − Σ w_ij·O_ij / Σ w_ij·E_ij with w_ij = |rank(i) − rank(j)| and
// E_ij = row_i·col_j / n. Undefined when the denominator is 0 (one class).
func linearKappa(conf [][]int) Value {
	C := len(conf)
	rows, cols := make([]float64, C), make([]float64, C)
	var n float64
	for i := range C {
		for j := range C {
			rows[i] += float64(conf[i][j])
			cols[j] += float64(conf[i][j])
		}
		n += rows[i]
	}
	rank, r := make([]int, C), 0
	for c := range C {
		rank[c] = r
		if rows[c] > 0 || cols[c] > 0 {
			r++
		}
	}
	var obs, exp float64
	for i := range C {
		for j := range C {
			w := float64(rank[i] - rank[j])
			if w < 0 {
				w = -w
			}
			obs += w * float64(conf[i][j])
			exp += w * rows[i] * cols[j] / n
		}
	}
	if exp == 0 {
		return undefined
	}
	return defined(1 - obs/exp)
}

// clippedLog is log p with p clipped to [ProbClip, 1 − ProbClip], as
// Evaluate's loss from probabilities.
func clippedLog(p float32) float64 {
	return math.Log(min(max(float64(p), ProbClip), 1-ProbClip))
}
