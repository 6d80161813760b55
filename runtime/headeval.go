package runtime

// Metrics of every head: the final-step metrics of sigmoid labels
// (loss.Evaluate), of classes (loss.EvaluateClasses) and of targets
// (loss.EvaluateRegression); for per_step models, the same at each
// sequence's last labelled step and over every labelled step.
//
// Shape legend: n sequences, W head width, yK label entries per sequence or
// per step.

import (
	"fmt"
	"math"
	"slices"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/loss"
)

// HeadEval is a model's predictions on labelled data, judged by its head's
// metrics. Of each pair of fields, the one of the head's kind is set.
type HeadEval struct {
	Kind    string // compiler.KindLabels, KindClasses or KindTargets
	PerStep bool
	// At each sequence's last step; per_step: its last labelled step.
	Labels     *loss.Metrics
	Classes    *loss.ClassMetrics
	Regression *loss.RegressionMetrics
	// Over every labelled step (per_step only).
	StepLabels     *loss.Metrics
	StepClasses    *loss.ClassMetrics
	StepRegression *loss.RegressionMetrics
	// Steps is the number of labelled steps the step metrics cover, and
	// Sequences the number of sequences with one (per_step only).
	Steps, Sequences int
}

// metricSet is what the three kinds of metrics share.
type metricSet interface {
	Get(name string) (float64, bool)
}

// Metrics returns every defined metric by name; those over every labelled
// step are prefixed with compiler.StepMetricPrefix.
func (e *HeadEval) Metrics() map[string]float64 {
	out := map[string]float64{}
	add := func(prefix string, m metricSet, names []string) {
		for _, n := range names {
			if v, ok := m.Get(n); ok {
				out[prefix+n] = v
			}
		}
	}
	last, step, names := e.sets()
	if last != nil {
		add("", last, names)
	}
	if step != nil {
		add(compiler.StepMetricPrefix, step, names)
	}
	return out
}

// sets returns the head's final-step and step metrics (nil when absent)
// and their names.
func (e *HeadEval) sets() (last, step metricSet, names []string) {
	switch e.Kind {
	case compiler.KindClasses:
		names = e.Classes.Names()
		if e.Classes != nil {
			last = e.Classes
		}
		if e.StepClasses != nil {
			step = e.StepClasses
		}
	case compiler.KindTargets:
		names = e.Regression.Names()
		if e.Regression != nil {
			last = e.Regression
		}
		if e.StepRegression != nil {
			step = e.StepRegression
		}
	default:
		names = loss.MetricNames()
		if e.Labels != nil {
			last = e.Labels
		}
		if e.StepLabels != nil {
			step = e.StepLabels
		}
	}
	return last, step, names
}

// EvaluateHead computes the metrics of a model with spec's outputs on the
// labelled data d. last [n·W] holds its outputs (probabilities or values)
// at each sequence's last step; for a per_step model steps [n][len_i·W]
// holds them at every step, and last is not read. lastLogits, when
// non-nil, are the logits behind last for sigmoid labels: their loss is then
// exact.
func EvaluateHead(spec *compiler.Spec, d *data.Dataset, last []float32, steps [][]float32, lastLogits []float32) (*HeadEval, error) {
	h := newHeadInfo(spec, spec.Outputs.Width())
	e := &HeadEval{Kind: h.kind, PerStep: h.perStep}
	if err := checkLabels(spec, h, d); err != nil {
		return nil, err
	}
	var err error
	if !h.perStep {
		err = e.evaluate(h, false, last, d.Y, d.N(), lastLogits)
	} else {
		lastP, lastY, stepP, stepY := labelledSteps(h, d, steps)
		e.Sequences, e.Steps = len(lastY)/h.yK, len(stepY)/h.yK
		if e.Steps == 0 {
			return nil, fmt.Errorf("%s: no step has a label to evaluate", d.Source)
		}
		if err = e.evaluate(h, false, lastP, lastY, e.Sequences, nil); err == nil {
			err = e.evaluate(h, true, stepP, stepY, e.Steps, nil)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", d.Source, err)
	}
	return e, nil
}

// evaluate computes one set of metrics of n samples: preds [n·W] against
// y [n·yK].
func (e *HeadEval) evaluate(h headInfo, step bool, preds, y []float32, n int, logits []float32) error {
	switch h.kind {
	case compiler.KindClasses:
		m, err := loss.EvaluateClasses(preds, y, h.W)
		if step {
			e.StepClasses = m
		} else {
			e.Classes = m
		}
		return err
	case compiler.KindTargets:
		m, err := loss.EvaluateRegression(preds, y, n, h.W)
		if step {
			e.StepRegression = m
		} else {
			e.Regression = m
		}
		return err
	}
	m, err := loss.Evaluate(preds, y, n, h.W, loss.EvalOptions{Logits: logits})
	if step {
		e.StepLabels = m
	} else {
		e.Labels = m
	}
	return err
}

// labelledSteps gathers a per_step model's outputs and labels at the steps
// whose label entries are all present: over all of them (stepP [·W], stepY
// [·yK]) and at each sequence's last such step (lastP, lastY).
func labelledSteps(h headInfo, d *data.Dataset, steps [][]float32) (lastP, lastY, stepP, stepY []float32) {
	W, yK := h.W, h.yK
	for i, ys := range d.YStep {
		lastT := -1
		for t := 0; t < d.Len(i); t++ {
			y := ys[t*yK : (t+1)*yK]
			if !labelledEntries(y) {
				continue
			}
			stepP = append(stepP, steps[i][t*W:(t+1)*W]...)
			stepY = append(stepY, y...)
			lastT = t
		}
		if lastT >= 0 {
			lastP = append(lastP, steps[i][lastT*W:(lastT+1)*W]...)
			lastY = append(lastY, ys[lastT*yK:(lastT+1)*yK]...)
		}
	}
	return lastP, lastY, stepP, stepY
}

// labelledEntries reports whether no entry of y is NaN.
func labelledEntries(y []float32) bool {
	for _, v := range y {
		if math.IsNaN(float64(v)) {
			return false
		}
	}
	return true
}

// HeadReport is what `trnn eval --json` prints, and test.json holds, for
// the heads other than per-sequence sigmoid labels (whose report is
// loss.Report): every metric by name, null when undefined, and for classes
// the confusion matrix at the final (last labelled) step.
type HeadReport struct {
	Model     string `json:"model"`
	Data      string `json:"data"`
	Sequences int    `json:"sequences"`
	Head      string `json:"head"` // labels, classes or targets
	PerStep   bool   `json:"per_step,omitempty"`
	// LabelledSteps counts the steps the step_ metrics cover (per_step).
	LabelledSteps int                   `json:"labelled_steps,omitempty"`
	Names         []string              `json:"names"` // the labels, classes or targets
	Metrics       map[string]loss.Value `json:"metrics"`
	// Confusion counts sequences by true class (rows) and predicted class
	// (columns) at the final (last labelled) step, and StepConfusion
	// every labelled step (per_step); classes only.
	Confusion     [][]int `json:"confusion,omitempty"`
	StepConfusion [][]int `json:"step_confusion,omitempty"`
}

// NewHeadReport reports e, the metrics of model on the n sequences of the
// data file dataName, for spec's outputs.
func NewHeadReport(model, dataName string, spec *compiler.Spec, e *HeadEval, n int) *HeadReport {
	r := &HeadReport{Model: model, Data: dataName, Sequences: n, Head: e.Kind, PerStep: e.PerStep,
		LabelledSteps: e.Steps, Names: spec.Outputs.Names(), Metrics: map[string]loss.Value{}}
	last, step, names := e.sets()
	for prefix, m := range map[string]metricSet{"": last, compiler.StepMetricPrefix: step} {
		if m == nil {
			continue
		}
		for _, name := range names {
			v, ok := m.Get(name)
			r.Metrics[prefix+name] = loss.Value{V: v, OK: ok}
		}
	}
	if e.Classes != nil {
		r.Confusion = e.Classes.Confusion
	}
	if e.StepClasses != nil {
		r.StepConfusion = e.StepClasses.Confusion
	}
	return r
}

// MetricOrder is the order in which reports print the metrics of spec's
// outputs: the final-step ones, then those over every labelled step; for
// labels, those loss.Reported deems worth printing.
func MetricOrder(o compiler.Outputs) []string {
	var names []string
	switch o.Kind() {
	case compiler.KindClasses:
		names = (*loss.ClassMetrics)(nil).Names()
	case compiler.KindTargets:
		names = (*loss.RegressionMetrics)(nil).Names()
	default:
		names = loss.Reported(o.Labels)
	}
	if !o.PerStep {
		return names
	}
	out := slices.Clone(names)
	for _, n := range names {
		out = append(out, compiler.StepMetricPrefix+n)
	}
	return out
}
