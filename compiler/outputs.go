package compiler

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Kinds of head, as Outputs.Kind names them.
const (
	KindLabels  = "labels"  // sigmoid labels, binary cross-entropy
	KindClasses = "classes" // one softmax over classes, cross-entropy
	KindTargets = "targets" // regression, squared error
)

// Kind is the head the outputs section asks for: "labels", "classes" or
// "targets". A spec that sets several is refused by validation; Kind then
// prefers classes, then targets.
func (o Outputs) Kind() string {
	switch {
	case o.Classes != nil:
		return KindClasses
	case o.Targets != 0 || o.TargetNames != nil:
		return KindTargets
	}
	return KindLabels
}

// Width is the number of head outputs: K labels, C classes or K targets.
func (o Outputs) Width() int {
	switch o.Kind() {
	case KindClasses:
		return len(o.Classes)
	case KindTargets:
		return o.Targets
	}
	return o.Labels
}

// Names are the names of the head outputs, one per unit of Width: the
// label, class or target names.
func (o Outputs) Names() []string {
	switch o.Kind() {
	case KindClasses:
		return o.Classes
	case KindTargets:
		return o.TargetNames
	}
	return o.LabelNames
}

// Metric names of each kind of head. A per_step spec has each of them
// twice: at each sequence's last labelled step under the plain name, and
// over every labelled step with the prefix StepMetricPrefix.
var (
	classMetrics  = []string{"loss", "accuracy", "macro_auroc", "kappa"}
	targetMetrics = []string{"loss", "mse", "mae", "r2"}
)

// StepMetricPrefix starts the names of the metrics computed over every
// labelled step of a per_step model ("step_auroc").
const StepMetricPrefix = "step_"

// Monitors returns the metric names training.validation.monitor accepts for
// these outputs.
func (o Outputs) Monitors() []string {
	var names []string
	switch o.Kind() {
	case KindClasses:
		names = classMetrics
	case KindTargets:
		names = targetMetrics
	default:
		names = MonitorMetrics
	}
	if !o.PerStep {
		return slices.Clone(names)
	}
	out := slices.Clone(names)
	for _, n := range names {
		out = append(out, StepMetricPrefix+n)
	}
	return out
}

// DefaultMonitorFor is the metric validation monitors when the spec does
// not say: auroc for labels, kappa for classes (the benchmark's
// length-of-stay measure), mse for targets; over every labelled step for a
// per_step model.
func DefaultMonitorFor(o Outputs) string {
	m := DefaultMonitor
	switch o.Kind() {
	case KindClasses:
		m = "kappa"
	case KindTargets:
		m = "mse"
	}
	if o.PerStep {
		m = StepMetricPrefix + m
	}
	return m
}

// LowerIsBetter reports whether a smaller value of the monitored metric is an
// improvement.
func LowerIsBetter(metric string) bool {
	switch strings.TrimPrefix(metric, StepMetricPrefix) {
	case "loss", "brier", "mse", "mae":
		return true
	}
	return false
}

// LabelColumns are the data's label columns for these outputs: one per
// label or target, and one holding the class index for classes ("y" unless
// data.csv.labels names it).
func (o Outputs) LabelColumns() []string {
	if o.Kind() == KindClasses {
		return []string{"y"}
	}
	return o.Names()
}

// outputs checks the outputs section: exactly one of labels, classes and
// targets, each well formed, and the options that go with them.
func (v *validator) outputs() {
	o := v.s.Outputs
	var set []string
	if o.Labels != 0 || o.LabelNames != nil || v.src.written("outputs.labels") {
		set = append(set, KindLabels)
	}
	if o.Classes != nil || v.src.written("outputs.classes") {
		set = append(set, KindClasses)
	}
	if o.Targets != 0 || o.TargetNames != nil || v.src.written("outputs.targets") {
		set = append(set, KindTargets)
	}
	switch {
	case len(set) == 0 && v.src != nil:
		v.check(false, "outputs", "", "must give labels, classes or targets")
		return
	case len(set) == 0:
		set = []string{KindLabels} // a spec built in Go: report its labels
	case len(set) > 1:
		v.check(false, "outputs."+set[1], set, "give one of labels, classes and targets, got %s", strings.Join(set, " and "))
		return
	}
	switch set[0] {
	case KindLabels:
		v.names("outputs.labels", o.Labels, o.LabelNames, MaxLabels, "label", "y", "y")
	case KindClasses:
		n := len(o.Classes)
		v.check(n >= 2, "outputs.classes", n, "must list at least two classes, got %d", n)
		v.check(n <= MaxLabels, "outputs.classes", n, "must list at most %d classes, got %d", MaxLabels, n)
		v.unique("outputs.classes", o.Classes, "class name", nil)
	case KindTargets:
		v.names("outputs.targets", o.Targets, o.TargetNames, MaxLabels, "target", "y", "y")
	}
	if o.NormalizeTargets {
		v.check(set[0] == KindTargets, "outputs.normalize_targets", o.NormalizeTargets,
			"only applies to targets (regression), outputs has %s", set[0])
	}
}

// headObjective checks the objective fields that depend on the head: the
// target-replication form has no meaning for per-step labels, pos_weight
// belongs to sigmoid labels, and class weights to labels and classes.
func (v *validator) headObjective() {
	s := v.s
	o, out := s.Objective, s.Outputs
	kind := out.Kind()
	if out.PerStep && v.src.written("objective.target_replication") {
		v.check(false, "objective.target_replication", "target_replication",
			"does not apply with outputs.per_step: every step has its own label, so there is no final label to replicate; remove it (the loss is the mean over labelled steps)")
	}
	if o.PosWeight != nil && kind != KindLabels {
		v.check(false, "objective.pos_weight", o.PosWeight, "only applies to sigmoid labels, outputs has %s", kind)
	}
	if kind == KindTargets && (o.ClassWeight != nil || o.ClassWeights != nil) {
		v.check(false, "objective.class_weight", "class_weight", "does not apply to targets (regression)")
	}
	if kind == KindClasses && out.PerStep && (o.ClassWeight != nil || o.ClassWeights != nil) {
		v.check(false, "objective.class_weight", "class_weight", "does not apply to per-step classes; weigh classes with per_step: false")
	}
	if kind == KindClasses && o.ClassWeights != nil {
		var sum float64
		missing := false
		for i, w := range o.ClassWeights {
			p := joinPath("objective.class_weight", out.Classes[i])
			missing = missing || v.bad(p)
			v.weight(p, w, false)
			sum += w
		}
		v.check(sum > 0 || missing, "objective.class_weight", "class_weight", "the weights must not all be 0")
	}
	if o.ClassWeights != nil && kind != KindClasses {
		v.check(false, "objective.class_weight", "class_weight", "is a mapping from class names, which needs outputs.classes")
	}
}

// DescribeHead says in one line what the spec's head computes and which
// loss trains it, as `trnn check` prints it: "head: softmax over 10
// classes; loss: cross-entropy, target replication α=0.5 all_steps".
func DescribeHead(s *Spec) string {
	o, obj := s.Outputs, s.Objective
	var head, lossName string
	switch o.Kind() {
	case KindClasses:
		head, lossName = fmt.Sprintf("softmax over %d classes", len(o.Classes)), "cross-entropy"
	case KindTargets:
		head, lossName = fmt.Sprintf("identity, %d regression %s", o.Targets, plural(o.Targets, "target")), "squared error"
		if o.NormalizeTargets {
			head += ", standardised on the training split and restored in the model"
		}
	default:
		head, lossName = fmt.Sprintf("sigmoid, %d binary %s", o.Labels, plural(o.Labels, "label")), "binary cross-entropy"
		if obj.PosWeight != nil {
			lossName += " with pos_weight"
		}
	}
	if o.PerStep {
		head += " at every step"
		lossName += ", mean over labelled steps (per_step)"
	} else if obj.Alpha == 0 {
		lossName += ", final step only (target replication α=0)"
	} else {
		lossName += fmt.Sprintf(", target replication α=%s %s", strconv.FormatFloat(obj.Alpha, 'g', -1, 64), obj.Average)
	}
	switch {
	case obj.ClassWeight != nil && obj.ClassWeight.Balanced:
		lossName += ", class_weight balanced"
	case obj.ClassWeight != nil || obj.ClassWeights != nil:
		lossName += ", class_weight"
	}
	return "head: " + head + "; loss: " + lossName
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
