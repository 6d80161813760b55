package runtime

import (
	"fmt"
	"strconv"

	"github.com/trnn/trnn/compiler"
)

// The callbacks that watch the monitored validation metric between epochs,
// as Keras has them: early stopping's min_delta, and the learning-rate
// schedule reduce_on_plateau. Their state lives in the checkpoint header,
// so that a resumed run takes the same decisions, and the same steps, as an
// uninterrupted one.

// ScheduleState is training.lr_schedule's state after an epoch.
type ScheduleState struct {
	// LR is the learning rate the next epoch trains with.
	LR float64 `json:"lr"`
	// Best is the best value of the monitored metric that counted as an
	// improvement (by more than min_delta); nil before the first defined
	// value.
	Best *float64 `json:"best,omitempty"`
	// Wait counts the epochs since that improvement, outside cooldowns.
	Wait int `json:"wait"`
	// Cooldown counts down the epochs after a reduction in which Wait
	// stays 0.
	Cooldown int `json:"cooldown"`
}

// improves reports whether v beats ref by more than delta on the metric.
func improves(metric string, v, ref, delta float64) bool {
	if compiler.LowerIsBetter(metric) {
		return v < ref-delta
	}
	return v > ref+delta
}

// countStale updates early stopping's count of epochs without improvement
// after an epoch whose monitored value is v (ok: defined); best says that
// v is a new best epoch. Without min_delta every new best is an
// improvement. With it, an improvement must beat the last value that
// counted as one by more than min_delta (Keras' EarlyStopping), while the
// best epoch, which model.onnx holds, still follows any improvement.
func (t *Trainer) countStale(v float64, ok, best bool) {
	h := &t.header
	val := t.spec.Training.Validation
	if val.MinDelta == 0 {
		if best {
			h.Stale = 0
		} else {
			h.Stale++
		}
		return
	}
	if ok && (h.StopBest == nil || improves(val.Monitor, v, *h.StopBest, val.MinDelta)) {
		h.StopBest = &v
		h.Stale = 0
		return
	}
	h.Stale++
}

// staleNote says why early stopping ended the run.
func (t *Trainer) staleNote() string {
	h := &t.header
	val := t.spec.Training.Validation
	by := ""
	if val.MinDelta != 0 {
		by = " by more than " + strconv.FormatFloat(val.MinDelta, 'g', -1, 64)
	}
	return fmt.Sprintf("early stopping: val_%s has not improved%s for %d epochs (best %.4f at epoch %d)",
		val.Monitor, by, h.Stale, h.Best.Value, h.Best.Epoch)
}

// stepSchedule applies training.lr_schedule after an epoch: it records in
// rec the learning rate the epoch trained with and, when the monitored
// metric has stalled, lowers the rate the next epoch trains with. It
// returns a note for the user when it did, else "". Without a schedule it
// does nothing.
func (t *Trainer) stepSchedule(rec *EpochRecord) string {
	sched := t.spec.Training.LRSchedule
	if sched == nil || sched.ReduceOnPlateau == nil {
		return ""
	}
	r := sched.ReduceOnPlateau
	h := &t.header
	if h.Schedule == nil {
		h.Schedule = &ScheduleState{LR: t.spec.Training.LearningRate}
	}
	s := h.Schedule
	rec.LR = s.LR
	monitor := t.spec.Training.Validation.Monitor
	v, ok := rec.Val[monitor]
	if !ok {
		return "" // as Keras: an epoch without the metric changes nothing
	}
	// Keras' ReduceLROnPlateau.on_epoch_end, step by step.
	if s.Cooldown > 0 {
		s.Cooldown--
		s.Wait = 0
	}
	switch {
	case s.Best == nil || improves(monitor, v, *s.Best, r.MinDelta):
		s.Best = &v
		s.Wait = 0
	case s.Cooldown == 0:
		s.Wait++
		if s.Wait >= r.Patience && s.LR > r.MinLR {
			old, wait := s.LR, s.Wait
			s.LR = max(old*r.Factor, r.MinLR)
			t.opt.setLR(s.LR)
			s.Cooldown, s.Wait = r.Cooldown, 0
			return fmt.Sprintf("reduce_on_plateau: val_%s has not improved for %d epoch(s); learning rate %s → %s",
				monitor, wait, formatLR(old), formatLR(s.LR))
		}
	}
	return ""
}

// restoreSchedule sets the optimizer's learning rate from a checkpoint's
// schedule state, if any.
func (t *Trainer) restoreSchedule() {
	if s := t.header.Schedule; s != nil {
		t.opt.setLR(s.LR)
	}
}

func formatLR(lr float64) string { return strconv.FormatFloat(lr, 'g', 6, 64) }

// checkSchedule checks the header fields of the callbacks above, as
// checkHeader does the others.
func checkSchedule(h *CheckpointHeader) error {
	if s := h.Schedule; s != nil {
		switch {
		case !(s.LR >= 0) || !finite(s.LR):
			return fmt.Errorf("schedule.lr: expected a finite learning rate of 0 or more, found %g", s.LR)
		case s.Wait < 0 || s.Cooldown < 0:
			return fmt.Errorf("schedule: expected counts of 0 or more, found wait %d and cooldown %d", s.Wait, s.Cooldown)
		case s.Best != nil && !finite(*s.Best):
			return fmt.Errorf("schedule.best: expected a finite value, found %g", *s.Best)
		}
	}
	if b := h.StopBest; b != nil && !finite(*b) {
		return fmt.Errorf("stop_best: expected a finite value, found %g", *b)
	}
	for i, r := range h.History {
		if !(r.LR >= 0) || !finite(r.LR) {
			return fmt.Errorf("history[%d].lr: expected a finite learning rate of 0 or more, found %g", i, r.LR)
		}
	}
	return nil
}
