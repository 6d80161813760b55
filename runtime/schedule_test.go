package runtime

import (
	"path/filepath"
	"testing"

	"github.com/trnn/trnn/compiler"
)

// TestReduceOnPlateauFollowsKeras steps the schedule through a trace of
// validation losses and compares the learning rates with those Keras'
// ReduceLROnPlateau(factor=0.5, patience=2, min_delta=0.01, cooldown=1,
// min_lr=2e-4) gives for it, worked out by hand from its on_epoch_end.
func TestReduceOnPlateauFollowsKeras(t *testing.T) {
	spec := compiler.DefaultSpec()
	spec.Training.LearningRate = 0.001
	spec.Training.Validation.Monitor = "loss"
	spec.Training.LRSchedule = &compiler.LRSchedule{ReduceOnPlateau: &compiler.ReduceOnPlateau{
		Factor: 0.5, Patience: 2, MinDelta: 0.01, Cooldown: 1, MinLR: 0.0002}}
	opt := &adam{lr: 0.001}
	tr := &Trainer{spec: spec, opt: opt}
	trace := []struct {
		loss    float64 // NaN: undefined this epoch
		lr      float64 // the rate the epoch trained with
		reduced bool
	}{
		{1.0, 0.001, false},    // best = 1.0
		{0.995, 0.001, false},  // not by more than 0.01: wait 1
		{0.99, 0.001, true},    // wait 2: halve, cooldown 1
		{0.98, 0.0005, false},  // cooldown ends; 0.98 < 0.99: best
		{0.975, 0.0005, false}, // wait 1
		{0.97, 0.0005, true},   // wait 2: halve
		{0.96, 0.00025, false}, // cooldown ends; best
		{0.9, 0.00025, false},  // best
		{-1, 0.00025, false},   // undefined: nothing changes
		{0.9, 0.00025, false},  // wait 1
		{0.9, 0.00025, true},   // wait 2: halve, but not below min_lr
		{0.9, 0.0002, false},   // cooldown ends; wait 1
		{0.9, 0.0002, false},   // wait 2, at min_lr already: no change
		{0.9, 0.0002, false},   // wait 3
		{0.5, 0.0002, false},   // best
	}
	for i, e := range trace {
		rec := EpochRecord{Epoch: i + 1, Val: map[string]float64{}}
		if e.loss >= 0 {
			rec.Val["loss"] = e.loss
		}
		note := tr.stepSchedule(&rec)
		if rec.LR != e.lr || (note != "") != e.reduced {
			t.Fatalf("epoch %d (loss %v): trained with %v and noted %q, want %v (reduced %v)", i+1, e.loss, rec.LR, note, e.lr, e.reduced)
		}
		if opt.lr != tr.header.Schedule.LR {
			t.Fatalf("epoch %d: the optimizer runs at %v, the schedule says %v", i+1, opt.lr, tr.header.Schedule.LR)
		}
	}
}

// TestMinDeltaCountsOnlyLargeGains: with min_delta, a new best epoch that
// gains less than min_delta over the last counted improvement still counts
// as stale for early stopping, while model.onnx follows it.
func TestMinDeltaCountsOnlyLargeGains(t *testing.T) {
	spec := compiler.DefaultSpec()
	spec.Training.Validation.MinDelta = 0.01
	tr := &Trainer{spec: spec}
	for i, e := range []struct {
		auroc float64
		best  bool // a new best epoch
		stale int
	}{{0.5, true, 0}, {0.505, true, 1}, {0.508, true, 2}, {0.52, true, 0}, {0.51, false, 1}, {0.531, true, 0}} {
		tr.countStale(e.auroc, true, e.best)
		if tr.header.Stale != e.stale {
			t.Fatalf("epoch %d (auroc %v): stale %d, want %d", i+1, e.auroc, tr.header.Stale, e.stale)
		}
	}
}

// TestEarlyStoppingMinDelta trains with patience 2 and a min_delta no
// gain can pass: the run stops after epoch 3, where without min_delta it
// goes on.
func TestEarlyStoppingMinDelta(t *testing.T) {
	d := synth(120, 2, 7)
	tr, val := d.Split(0.25, 1)
	run := func(minDelta float64) *Result {
		prog := compileSpec(t, testSpec, func(s *compiler.Spec) {
			s.Training.Epochs = 6
			s.Training.Validation.Split = 0.25
			s.Training.Validation.Patience = 2
			s.Training.Validation.MinDelta = minDelta
		})
		_, res := train(t, prog, tr, val, Options{})
		return res
	}
	if res := run(2); !res.Stopped || res.Epochs != 3 {
		t.Fatalf("min_delta 2: stopped=%v after %d epochs, want a stop after epoch 3", res.Stopped, res.Epochs)
	}
	if res := run(0); res.Epochs < 4 {
		t.Fatalf("min_delta 0: the run ended after %d epochs; the metric improves on this data", res.Epochs)
	}
}

// plateauSpec halves the learning rate after every epoch that does not
// beat the best by more than 1 (none does): 0.01, 0.005, 0.0025, ...
func plateauSpec(epochs int) func(*compiler.Spec) {
	return func(s *compiler.Spec) {
		s.Training.Epochs = epochs
		s.Training.Validation.Split = 0.25 // the rule asks for validation data; the test passes its own
		s.Training.LRSchedule = &compiler.LRSchedule{ReduceOnPlateau: &compiler.ReduceOnPlateau{Factor: 0.5, MinDelta: 1}}
	}
}

// TestScheduleResumeEquivalence: with the learning rate changing every
// epoch, 4 epochs straight equal 2, a checkpoint and 2 more, bit for bit;
// and the schedule does change the weights.
func TestScheduleResumeEquivalence(t *testing.T) {
	d := synth(160, 2, 5)
	trainSet, val := d.Split(0.25, 1)
	straight, sres := train(t, compileSpec(t, testSpec, plateauSpec(4)), trainSet, val, Options{Dir: t.TempDir()})
	for i, want := range []float64{0.01, 0.01, 0.005, 0.0025} {
		if got := sres.History[i].LR; got != want {
			t.Fatalf("epoch %d trained at %v, want %v", i+1, got, want)
		}
	}
	dir := t.TempDir()
	train(t, compileSpec(t, testSpec, plateauSpec(2)), trainSet, val, Options{Dir: dir})
	ck, err := ReadCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if s := ck.Header.Schedule; s == nil || s.LR != 0.005 {
		t.Fatalf("the checkpoint after 2 epochs holds schedule %+v, want lr 0.005", s)
	}
	resumed, _ := train(t, compileSpec(t, testSpec, plateauSpec(4)), trainSet, val, Options{Dir: dir, Resume: ck})
	if i, same := sameBits(straight, resumed); !same {
		t.Fatalf("resumed run differs from the straight run at parameter %d: %v vs %v", i, resumed[i], straight[i])
	}
	plain, _ := train(t, compileSpec(t, testSpec, func(s *compiler.Spec) { s.Training.Epochs = 4 }), trainSet, val, Options{})
	if _, same := sameBits(straight, plain); same {
		t.Fatal("the schedule changed nothing")
	}
}
