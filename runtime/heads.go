package runtime

// The heads a spec's outputs section chooses: sigmoid labels, a softmax over
// classes, or an identity for regression targets; labels per sequence or per
// step. The network up to the logits is the same for all of them: the head
// decides the objective on the logits, how the labels are laid out in a
// shard, what the logits become (probabilities or values) and the metrics.
//
// Shape legend: B rows, N packed steps, W head width (K labels, C classes or
// K targets), yK label entries per sequence or per step (W, or 1 for
// classes: the class index).

import (
	"fmt"
	"math"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/loss"
)

// headInfo is what the runtime knows about a model's head.
type headInfo struct {
	kind    string // compiler.KindLabels, KindClasses or KindTargets
	perStep bool
	W       int // head width
	yK      int // label entries per sequence, or per step when perStep
}

func newHeadInfo(spec *compiler.Spec, W int) headInfo {
	h := headInfo{kind: spec.Outputs.Kind(), perStep: spec.Outputs.PerStep, W: W, yK: W}
	if h.kind == compiler.KindClasses {
		h.yK = 1
	}
	return h
}

// isHeadOp reports whether op computes the model's outputs from the
// logits: the trainer works on the logits (the objective includes the
// head), so it has no node for these.
func isHeadOp(op graph.Op) bool {
	switch op {
	case graph.OpSigmoid, graph.OpSoftmax, graph.OpIdentity, graph.OpDenormalize, graph.OpLastStep:
		return true
	}
	return false
}

// Activate turns logits [n·W] into what the exported model outputs, in
// place: probabilities (sigmoid labels, softmax over classes) or values
// (regression targets, de-normalised when the spec standardises them).
func (m *Model) Activate(v []float32) {
	W := m.plan.K
	switch m.plan.head.kind {
	case compiler.KindClasses:
		for i := 0; i+W <= len(v); i += W {
			softmaxRow(v[i : i+W])
		}
	case compiler.KindTargets:
		mean, std := m.Param(compiler.ParamTargetMean), m.Param(compiler.ParamTargetStd)
		if mean == nil {
			return
		}
		for i := range v {
			v[i] = v[i]*std[i%W] + mean[i%W]
		}
	default:
		Sigmoid(v)
	}
}

// softmaxRow is the softmax of z in place, computed as ONNX Runtime's
// Softmax does: exponentials of z − max, divided by their sum.
func softmaxRow(z []float32) {
	m := z[0]
	for _, v := range z[1:] {
		m = max(m, v)
	}
	var sum float32
	for i, v := range z {
		e := float32(math.Exp(float64(v - m)))
		z[i] = e
		sum += e
	}
	for i := range z {
		z[i] /= sum
	}
}

// loadLabels copies the labels of the shard's rows: [B·yK] per sequence, or
// packed [N·yK] per step (NaN where a step has none); regression targets
// are standardised with the fitted statistics when the spec says so. Data
// without labels (prediction) leaves the buffer as it is.
func (m *Model) loadLabels(s *shard, d *data.Dataset) {
	h := m.plan.head
	yK := h.yK
	if h.perStep {
		if d.YStep == nil {
			return
		}
		for b, row := range s.rows {
			ys := d.YStep[row]
			for t := 0; t < s.lens[b]; t++ {
				o := s.pk.Index(b, t) * yK
				copy(s.y[o:o+yK], ys[t*yK:(t+1)*yK])
			}
		}
		m.standardise(s.y[:s.pk.N()*yK])
		return
	}
	if d.Y == nil {
		return
	}
	for b, row := range s.rows {
		copy(s.y[b*yK:(b+1)*yK], d.Y[row*yK:(row+1)*yK])
	}
	m.standardise(s.y[:len(s.rows)*yK])
}

// standardise maps targets y [·K] to (y − mean) / std in place when the
// spec normalises targets (NaN, no label, stays NaN).
func (m *Model) standardise(y []float32) {
	mean, std := m.Param(compiler.ParamTargetMean), m.Param(compiler.ParamTargetStd)
	if mean == nil {
		return
	}
	K := len(mean)
	for i, v := range y {
		y[i] = (v - mean[i%K]) / std[i%K]
	}
}

// labelRows is the number of label entries a shard holds for rows
// sequences and n packed steps.
func (h headInfo) labelRows(rows, n int) int {
	if h.perStep {
		return n * h.yK
	}
	return rows * h.yK
}

// newObjective is the loss of the spec's head: target replication with
// the head's step loss, or the mean over labelled steps for per_step.
func newObjective(spec *compiler.Spec, h headInfo, posWeight []float32) (loss.Objective, error) {
	o := spec.Objective
	if h.perStep {
		ps := &loss.PerStep{Head: lossHead(h.kind), PosWeight: posWeight}
		if err := ps.Check(h.W); err != nil {
			return nil, fmt.Errorf("objective.%v", err)
		}
		return ps, nil
	}
	avg, err := loss.ParseAverage(o.Average)
	if err != nil {
		return nil, err
	}
	switch h.kind {
	case compiler.KindClasses:
		obj := &loss.SoftmaxTR{Alpha: o.Alpha, Average: avg}
		if err := obj.Check(); err != nil {
			return nil, fmt.Errorf("objective.%v", err)
		}
		return obj, nil
	case compiler.KindTargets:
		obj := &loss.SquaredTR{Alpha: o.Alpha, Average: avg}
		if err := obj.Check(); err != nil {
			return nil, fmt.Errorf("objective.%v", err)
		}
		return obj, nil
	}
	obj := &loss.TR{Alpha: o.Alpha, Average: avg, PosWeight: posWeight}
	if err := obj.Check(h.W); err != nil {
		return nil, fmt.Errorf("objective.%v", err)
	}
	return obj, nil
}

func lossHead(kind string) loss.Head {
	switch kind {
	case compiler.KindClasses:
		return loss.HeadSoftmax
	case compiler.KindTargets:
		return loss.HeadIdentity
	}
	return loss.HeadSigmoid
}

// fitTargetStatistics sets targets.mean and targets.std from the training
// split's labels (every labelled step, per step), as the inputs'
// statistics are fitted: population deviation, 1 below 1e-6.
func (t *Trainer) fitTargetStatistics() error {
	mean, std := t.m.Param(compiler.ParamTargetMean), t.m.Param(compiler.ParamTargetStd)
	if mean == nil || std == nil {
		return nil
	}
	K := len(mean)
	var rows [][]float32
	d := t.trainSet
	if d.YStep != nil {
		rows = d.YStep
	} else {
		rows = [][]float32{d.Y}
	}
	sum, sq := make([]float64, K), make([]float64, K)
	n := make([]int, K)
	for _, r := range rows {
		for i, v := range r {
			if !math.IsNaN(float64(v)) {
				sum[i%K] += float64(v)
				n[i%K]++
			}
		}
	}
	for k := range mean {
		if n[k] == 0 {
			return fmt.Errorf("%s: target %s has no value to standardise it by (outputs.normalize_targets)", d.Source, t.spec.Outputs.TargetNames[k])
		}
		mean[k] = float32(sum[k] / float64(n[k]))
	}
	for _, r := range rows {
		for i, v := range r {
			if !math.IsNaN(float64(v)) {
				dv := float64(v) - float64(mean[i%K])
				sq[i%K] += dv * dv
			}
		}
	}
	for k := range std {
		s := math.Sqrt(sq[k] / float64(n[k]))
		if s < 1e-6 {
			s = 1
		}
		std[k] = float32(s)
	}
	return nil
}

// headWeights sets the trainer's row weights and positive weights for the
// heads other than per-sequence binary labels (which setClassWeights and
// NewTrainer handle as before): class weights per class, and for per-step
// binary labels, class_weight {0: w0, 1: w1} as a row weight w0 with a
// positive weight w1/w0, which weighs every labelled step by its class.
func (t *Trainer) headWeights() (posWeight []float32, rowWeight []float32, err error) {
	spec, h, d := t.spec, t.m.plan.head, t.trainSet
	o := spec.Objective
	if pw := o.PosWeight; pw != nil {
		posWeight = make([]float32, len(pw))
		for i, w := range pw {
			posWeight[i] = float32(w)
		}
	}
	switch {
	case h.kind == compiler.KindClasses && !h.perStep && (o.ClassWeights != nil || o.ClassWeight != nil):
		w, err := t.classWeights()
		if err != nil {
			return nil, nil, err
		}
		rowWeight = make([]float32, d.N())
		for i := range rowWeight {
			rowWeight[i] = float32(w[int(d.Y[i])])
		}
	case h.kind == compiler.KindLabels && h.perStep && o.ClassWeight != nil:
		w0, w1 := t.classW[0], t.classW[1]
		if !(w0 > 0) {
			return nil, nil, fmt.Errorf("objective.class_weight: with per_step labels, the weight of class 0 must be positive, got %g", w0)
		}
		posWeight = []float32{float32(w1 / w0)}
		rowWeight = make([]float32, d.N())
		for i := range rowWeight {
			rowWeight[i] = float32(w0)
		}
	}
	return posWeight, rowWeight, nil
}

// classWeights is the weight of each class: the spec's, or "balanced",
// w_c = n / (C·n_c) over the training split's n sequences (scikit-learn's
// compute_class_weight), which needs every class present.
func (t *Trainer) classWeights() ([]float64, error) {
	o, classes := t.spec.Objective, t.spec.Outputs.Classes
	if o.ClassWeights != nil {
		return o.ClassWeights, nil
	}
	d := t.trainSet
	count := make([]int, len(classes))
	for _, v := range d.Y {
		count[int(v)]++
	}
	w := make([]float64, len(classes))
	for c, n := range count {
		if n == 0 {
			return nil, fmt.Errorf("%s: objective.class_weight: balanced needs every class in the training split, and class %s has no sequence", d.Source, classes[c])
		}
		w[c] = float64(d.N()) / (float64(len(classes)) * float64(n))
	}
	return w, nil
}

// balancedStepWeights is class_weight "balanced" for per-step binary
// labels: w_c = n / (2·n_c) over the n labelled steps of the training
// split.
func balancedStepWeights(d *data.Dataset) (w0, w1 float64, err error) {
	var n, n1 int
	for _, r := range d.YStep {
		for _, v := range r {
			switch v {
			case 1:
				n1++
				n++
			case 0:
				n++
			}
		}
	}
	if n1 == 0 || n1 == n {
		return 0, 0, fmt.Errorf("objective.class_weight: balanced needs both classes among the labelled steps, found %d of %d steps positive", n1, n)
	}
	return float64(n) / (2 * float64(n-n1)), float64(n) / (2 * float64(n1)), nil
}

// checkLabels refuses labels the head cannot learn from, naming the file,
// the sequence, the step and what is wrong: a class index out of range, a
// binary label other than 0 or 1, a target that is not finite, or a
// missing (NaN) label where labels are per sequence.
func checkLabels(spec *compiler.Spec, h headInfo, d *data.Dataset) error {
	if d == nil {
		return nil
	}
	if h.perStep {
		if d.YStep == nil {
			return fmt.Errorf("%s: outputs.per_step is set, but the data has labels per sequence, not per step", d.Source)
		}
		for i, r := range d.YStep {
			for j, v := range r {
				if math.IsNaN(float64(v)) {
					continue // an unlabelled step
				}
				if msg := badLabel(spec, h, v); msg != "" {
					return fmt.Errorf("%s: sequence %s, step %s, %s: %s", d.Source, d.ID(i), d.StepValue(i, j/h.yK), labelName(spec, j%h.yK), msg)
				}
			}
		}
		return nil
	}
	if d.Y == nil {
		return fmt.Errorf("%s: the data has labels per step; set outputs.per_step to train on them", d.Source)
	}
	for j, v := range d.Y {
		msg := badLabel(spec, h, v)
		if math.IsNaN(float64(v)) {
			msg = "the label is missing (NaN); only outputs.per_step allows unlabelled steps"
		}
		if msg != "" {
			return fmt.Errorf("%s: sequence %s, %s: %s", d.Source, d.ID(j/h.yK), labelName(spec, j%h.yK), msg)
		}
	}
	return nil
}

// badLabel says what is wrong with one label value v, or "".
func badLabel(spec *compiler.Spec, h headInfo, v float32) string {
	switch h.kind {
	case compiler.KindClasses:
		if C := h.W; !(v >= 0 && v < float32(C) && v == float32(int(v))) {
			return fmt.Sprintf("expected a class index 0..%d (outputs.classes has %d classes), found %v", C-1, C, v)
		}
	case compiler.KindTargets:
		if math.IsInf(float64(v), 0) {
			return fmt.Sprintf("expected a finite target, found %v", v)
		}
	default:
		if v != 0 && v != 1 {
			return fmt.Sprintf("expected a binary label 0 or 1, found %v", v)
		}
	}
	return ""
}

// labelName names label entry k for messages: "label y", "class", "target t".
func labelName(spec *compiler.Spec, k int) string {
	o := spec.Outputs
	switch o.Kind() {
	case compiler.KindClasses:
		return "class"
	case compiler.KindTargets:
		return "target " + o.TargetNames[k]
	}
	return "label " + o.LabelNames[k]
}
