package compiler

import "github.com/goccy/go-yaml/ast"

// training.lr_schedule: its decoder, rules and YAML form, kept together.

// lrScheduleKinds are the schedules training.lr_schedule may name.
var lrScheduleKinds = []string{"reduce_on_plateau"}

func (d *decoder) lrSchedule(path string, n ast.Node) {
	s := &LRSchedule{}
	errs := len(d.errs)
	ok := d.mapping(path, n, "a mapping naming one schedule (reduce_on_plateau)", []field{
		{"reduce_on_plateau", func(p string, v ast.Node) {
			// Fields left out take Keras' defaults.
			r := &ReduceOnPlateau{Factor: DefaultPlateauFactor, Patience: DefaultPlateauPatience, MinDelta: DefaultPlateauMinDelta}
			ok := d.mapping(p, v, "a mapping (factor, patience, min_delta, cooldown, min_lr)", []field{
				{"factor", d.setNum(&r.Factor, "a number in (0, 1)")},
				{"patience", d.setInt(&r.Patience, "a non-negative integer")},
				{"min_delta", d.setNum(&r.MinDelta, "a non-negative number")},
				{"cooldown", d.setInt(&r.Cooldown, "a non-negative integer")},
				{"min_lr", d.setNum(&r.MinLR, "a non-negative number")},
			})
			if ok {
				s.ReduceOnPlateau = r
			}
		}},
	})
	if ok {
		d.spec.Training.LRSchedule = s
	}
	if len(d.errs) > errs {
		// A misspelt schedule was reported as an unknown field: that it
		// names no schedule is the same problem.
		d.src.bad[path] = true
	}
}

// watch checks what acts on the monitored metric's progress: the metric
// itself, training.validation.min_delta and training.lr_schedule.
func (v *validator) watch() {
	t := v.s.Training
	if K := v.s.Outputs.Labels; t.Validation.Monitor == "precision_at_10" && K >= 1 && K <= 10 {
		// Every label is among each sequence's top 10: the value is the
		// labels' mean prevalence, whatever the model does.
		v.check(false, "training.validation.monitor", t.Validation.Monitor,
			"precision_at_10 means nothing with %d label(s), all of which are in every top 10; monitor auroc, micro_auroc or macro_auroc instead", K)
	}
	v.nonNegative("training.validation.min_delta", t.Validation.MinDelta)
	s := t.LRSchedule
	if s == nil {
		return
	}
	const path = "training.lr_schedule"
	r := s.ReduceOnPlateau
	if r == nil {
		v.check(false, path, "{}", "must name a schedule, %s", oneOf(lrScheduleKinds))
		return
	}
	const p = path + ".reduce_on_plateau"
	v.check(r.Factor > 0 && r.Factor < 1, p+".factor", r.Factor, "must be in (0, 1), got %g", r.Factor)
	v.check(r.Patience >= 0, p+".patience", r.Patience, "must be a non-negative integer, got %d", r.Patience)
	v.nonNegative(p+".min_delta", r.MinDelta)
	v.check(r.Cooldown >= 0, p+".cooldown", r.Cooldown, "must be a non-negative integer, got %d", r.Cooldown)
	v.nonNegative(p+".min_lr", r.MinLR)
	if r.MinLR >= 0 && finite(r.MinLR) {
		v.check(r.MinLR <= t.LearningRate, p+".min_lr", r.MinLR,
			"must be at most training.learning_rate (%g), got %g", t.LearningRate, r.MinLR)
	}
	v.check(t.Validation.Split > 0 || t.Validation.File != "", p, "reduce_on_plateau",
		"needs validation data to watch, but training.validation.split is 0 and there is no file")
}

// lrSchedule writes training.lr_schedule, or nothing when there is none:
// its absence is the default.
func (w *yamlWriter) lrSchedule(s *LRSchedule) {
	if s == nil {
		return
	}
	r := s.ReduceOnPlateau
	if r == nil {
		w.line(1, "lr_schedule: {}")
		return
	}
	w.line(1, "lr_schedule:")
	w.line(2, "reduce_on_plateau: {factor: %s, patience: %d, min_delta: %s, cooldown: %d, min_lr: %s}",
		yamlFloat64(r.Factor), r.Patience, yamlFloat64(r.MinDelta), r.Cooldown, yamlFloat64(r.MinLR))
}
