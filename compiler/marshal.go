package compiler

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// MarshalSpec writes the spec as YAML with every default filled in: what
// `trnn check --resolved` prints. Parsing the output gives back the same
// spec (with Dir from the new file name). Feature and label names are
// written as a count when they are the generated ones.
func MarshalSpec(s *Spec) ([]byte, error) {
	if s == nil {
		return nil, fmt.Errorf("compiler: MarshalSpec: nil spec")
	}
	var w yamlWriter
	w.line(0, "name: %s", yamlString(s.Name))
	w.line(0, "inputs:")
	w.line(1, "features: %s", countOrNames(s.Inputs.Features, s.Inputs.FeatureNames, "f", ""))
	w.line(1, "normalize: %s", yamlString(s.Inputs.Normalize))
	w.inputsPreprocess(&s.Inputs)
	w.line(0, "layers:")
	for _, l := range s.Layers {
		switch l.Kind {
		case LayerDropout:
			w.line(1, "- %s: {rate: %s}", yamlString(l.Kind), yamlFloat64(l.Rate))
		default:
			w.line(1, "- %s: {units: %d}", yamlString(l.Kind), l.Units)
		}
	}
	w.line(0, "outputs:")
	w.outputs(&s.Outputs)
	w.objective(&s.Objective, &s.Outputs)
	w.training(&s.Training)
	w.data(&s.Data)
	w.line(0, "export:")
	w.line(1, "opset: %d", s.Export.Opset)
	w.line(1, "step_probs: %t", s.Export.StepProbs)
	return w.b.Bytes(), nil
}

// yamlWriter accumulates MarshalSpec's output; the longer sections have a
// method each.
type yamlWriter struct{ b bytes.Buffer }

// line writes one line at the given depth of two-space indentation.
func (w *yamlWriter) line(indent int, format string, args ...any) {
	w.b.WriteString(strings.Repeat("  ", indent))
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte('\n')
}

// objective writes the objective section; class_weight and pos_weight are
// left out when unset, since their absence is itself the default.
// outputs writes the outputs section; per_step and normalize_targets are
// written only when set, so that specs written before they existed
// marshal as they did.
func (w *yamlWriter) outputs(o *Outputs) {
	switch o.Kind() {
	case KindClasses:
		w.line(1, "classes: %s", yamlList(o.Classes))
	case KindTargets:
		w.line(1, "targets: %s", countOrNames(o.Targets, o.TargetNames, "y", "y"))
	default:
		w.line(1, "labels: %s", countOrNames(o.Labels, o.LabelNames, "y", "y"))
	}
	if o.PerStep {
		w.line(1, "per_step: true")
	}
	if o.NormalizeTargets {
		w.line(1, "normalize_targets: true")
	}
}

// A per_step spec has no target_replication (it does not apply), and no
// objective section at all without class weights: "objective:" alone is
// null, which Parse rejects.
func (w *yamlWriter) objective(o *Objective, out *Outputs) {
	if out.PerStep && o.ClassWeight == nil && o.ClassWeights == nil && o.PosWeight == nil {
		return
	}
	w.line(0, "objective:")
	if !out.PerStep {
		w.line(1, "target_replication:")
		w.line(2, "alpha: %s", yamlFloat64(o.Alpha))
		w.line(2, "average: %s", yamlString(o.Average))
	}
	if cw := o.ClassWeight; cw != nil {
		if cw.Balanced {
			w.line(1, "class_weight: balanced")
		} else {
			w.line(1, "class_weight: {0: %s, 1: %s}", yamlFloat64(cw.W0), yamlFloat64(cw.W1))
		}
	}
	if o.ClassWeights != nil {
		ws := make([]string, len(o.ClassWeights))
		for i, x := range o.ClassWeights {
			ws[i] = yamlString(out.Classes[i]) + ": " + yamlFloat64(x)
		}
		w.line(1, "class_weight: {%s}", strings.Join(ws, ", "))
	}
	if o.PosWeight != nil {
		ws := make([]string, len(o.PosWeight))
		for i, x := range o.PosWeight {
			ws[i] = yamlFloat64(x)
		}
		w.line(1, "pos_weight: [%s]", strings.Join(ws, ", "))
	}
}

// training writes the training section with its validation subsection.
func (w *yamlWriter) training(t *Training) {
	w.line(0, "training:")
	w.line(1, "optimizer: %s", yamlString(t.Optimizer))
	w.line(1, "learning_rate: %s", yamlFloat64(t.LearningRate))
	w.line(1, "momentum: %s", yamlFloat64(t.Momentum))
	w.line(1, "weight_decay: %s", yamlFloat64(t.WeightDecay))
	w.line(1, "clip_norm: %s", yamlFloat64(t.ClipNorm))
	w.line(1, "batch_size: %d", t.BatchSize)
	w.line(1, "epochs: %d", t.Epochs)
	w.line(1, "shuffle: %t", t.Shuffle)
	w.line(1, "seed: %d", t.Seed)
	w.line(1, "validation:")
	w.line(2, "split: %s", yamlFloat64(t.Validation.Split))
	if t.Validation.File != "" {
		w.line(2, "file: %s", yamlString(t.Validation.File))
	}
	w.line(2, "monitor: %s", yamlString(t.Validation.Monitor))
	w.line(2, "patience: %d", t.Validation.Patience)
	if t.Validation.MinDelta != 0 {
		w.line(2, "min_delta: %s", yamlFloat64(t.Validation.MinDelta))
	}
	w.lrSchedule(t.LRSchedule)
	w.test(&t.Test)
}

// test writes training.test, or nothing when the spec holds out no test set
// and keeps the default bootstrap: specs written before test sets existed
// marshal as they did, and so do the models that embed them.
func (w *yamlWriter) test(t *Test) {
	if !t.HasTest() && t.Bootstrap == DefaultBootstrap {
		return
	}
	w.line(1, "test:")
	w.line(2, "split: %s", yamlFloat64(t.Split))
	if t.File != "" {
		w.line(2, "file: %s", yamlString(t.File))
	}
	w.line(2, "bootstrap: %d", t.Bootstrap)
}

// data writes the data section, or nothing when the spec names no data: a
// bare "data:" key is null, which Parse rejects.
func (w *yamlWriter) data(d *Data) {
	if d.Train == "" && d.CSV == nil && d.Bin == 0 && d.ShuffleBuffer == 0 {
		return
	}
	w.line(0, "data:")
	if d.Train != "" {
		w.line(1, "train: %s", yamlString(d.Train))
	}
	w.dataBinning(d)
	if c := d.CSV; c != nil {
		w.line(1, "csv:")
		w.line(2, "id: %s", yamlString(c.ID))
		if c.Step != "" {
			w.line(2, "step: %s", yamlString(c.Step))
		}
		if c.Features != nil {
			w.line(2, "features: %s", yamlList(c.Features))
		}
		if c.Labels != nil {
			w.line(2, "labels: %s", yamlList(c.Labels))
		}
	}
}

// countOrNames writes a count when names are the generated ones.
func countOrNames(n int, names []string, prefix, one string) string {
	if len(names) == n && isGenerated(names, prefix, one) {
		return strconv.Itoa(n)
	}
	return yamlList(names)
}

func yamlList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = yamlString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// plainSafe matches strings YAML reads back as the same string when written
// unquoted, inside or outside a flow collection.
var plainSafe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_./-]*$`)

// yamlString writes s plain when that is unambiguous, else double-quoted.
func yamlString(s string) string {
	if plainSafe.MatchString(s) {
		switch strings.ToLower(s) {
		case "true", "false", "null", "yes", "no", "on", "off", "y", "n", "nan", "inf", "infinity":
		default:
			return s
		}
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// yamlFloat64 writes x so that it reads back as the same float64 and looks
// like a number with a fraction or exponent.
func yamlFloat64(x float64) string {
	s := strconv.FormatFloat(x, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEnN") {
		s += ".0"
	}
	return s
}
