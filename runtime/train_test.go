package runtime

import (
	"context"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
)

// testSpec is a small spec exercising every sequence op: normalisation,
// LSTM, dropout, GRU and the head.
const testSpec = `
name: t
inputs: {features: 3, normalize: standard}
layers:
  - lstm: {units: 8}
  - dropout: {rate: 0.25}
  - gru: {units: 6}
outputs: {labels: 2}
objective:
  target_replication: {alpha: 0.5}
training:
  optimizer: adam
  learning_rate: 0.01
  batch_size: 20
  epochs: 4
  seed: 3
  validation: {split: 0, monitor: macro_auroc}
`

// compileSpec compiles src, edited by edit, and draws its initial weights.
func compileSpec(t testing.TB, src string, edit func(*compiler.Spec)) *compiler.Program {
	t.Helper()
	spec, err := compiler.Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(spec)
	}
	prog, err := compiler.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Initialize(); err != nil {
		t.Fatal(err)
	}
	return prog
}

func synth(n, K int, seed uint64) *data.Dataset {
	return data.Synth(data.SynthOptions{N: n, MinLen: 1, MaxLen: 12, F: 3, K: K, Seed: seed, PosRate: 0.4})
}

// train runs a trainer to the end and returns its model's trainable weights.
func train(t testing.TB, prog *compiler.Program, tr, val *data.Dataset, opts Options) ([]float32, *Result) {
	t.Helper()
	trn, err := NewTrainer(prog, tr, val, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer trn.Close()
	res, err := trn.Train(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), trn.m.train...), res
}

func sameBits(a, b []float32) (int, bool) {
	if len(a) != len(b) {
		return -1, false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return i, false
		}
	}
	return 0, true
}

// TestTrainingLearns: the objective falls and the weights move.
func TestTrainingLearns(t *testing.T) {
	prog := compileSpec(t, testSpec, nil)
	d := synth(200, 2, 1)
	w0 := append([]float32(nil), prog.Graph.Param("layers.0.W").Tensor.F32...)
	_, res := train(t, prog, d, nil, Options{})
	h := res.History
	if len(h) != 4 || !(h[3].TrainLoss < h[0].TrainLoss) {
		t.Fatalf("training loss did not fall over 4 epochs: %+v", h)
	}
	if i, same := sameBits(w0, res.Program.Graph.Param("layers.0.W").Tensor.F32); same || i < 0 {
		t.Fatal("weights did not change")
	}
	// The compiled program itself is never modified.
	if _, same := sameBits(w0, prog.Graph.Param("layers.0.W").Tensor.F32); !same {
		t.Fatal("training modified the compiled program's parameters")
	}
}

// TestTrainingIsDeterministic: the same seed gives bit-identical weights,
// whatever the number of workers.
func TestTrainingIsDeterministic(t *testing.T) {
	d := synth(150, 2, 2)
	var runs [][]float32
	for _, workers := range []int{2, 1, 2} {
		prog := compileSpec(t, testSpec, nil)
		trn, err := NewTrainer(prog, d, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		trn.m.pool.Close()
		trn.m.pool = newPool(workers)
		if _, err := trn.Train(context.Background()); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, append([]float32(nil), trn.m.train...))
		trn.Close()
	}
	for r := 1; r < len(runs); r++ {
		if i, same := sameBits(runs[0], runs[r]); !same {
			t.Fatalf("run %d differs from run 0 at parameter %d: %v vs %v", r, i, runs[r][i], runs[0][i])
		}
	}
	prog := compileSpec(t, testSpec, func(s *compiler.Spec) { s.Training.Seed = 4 })
	other, _ := train(t, prog, d, nil, Options{})
	if _, same := sameBits(runs[0], other); same {
		t.Fatal("another seed gave the same weights")
	}
}

// TestResumeEquivalence: 4 epochs straight equal 2 epochs, a checkpoint,
// and 2 more from it, bit for bit, with validation and early-stopping state
// carried over.
func TestResumeEquivalence(t *testing.T) {
	d := synth(160, 2, 5)
	trainSet, val := d.Split(0.25, 1)
	spec := func(epochs int) func(*compiler.Spec) {
		return func(s *compiler.Spec) { s.Training.Epochs = epochs }
	}
	straightDir := t.TempDir()
	straight, sres := train(t, compileSpec(t, testSpec, spec(4)), trainSet, val, Options{Dir: straightDir})

	dir := t.TempDir()
	train(t, compileSpec(t, testSpec, spec(2)), trainSet, val, Options{Dir: dir})
	ck, err := ReadCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if ck.Header.Epoch != 2 {
		t.Fatalf("checkpoint after 2 epochs records epoch %d", ck.Header.Epoch)
	}
	resumed, rres := train(t, compileSpec(t, testSpec, spec(4)), trainSet, val, Options{Dir: dir, Resume: ck})
	if i, same := sameBits(straight, resumed); !same {
		t.Fatalf("resumed run differs from the straight run at parameter %d: %v vs %v", i, resumed[i], straight[i])
	}
	if sres.Best.Epoch != rres.Best.Epoch || sres.Best.Value != rres.Best.Value || len(rres.History) != 4 {
		t.Fatalf("best epoch or history differ: straight %+v (%d epochs), resumed %+v (%d epochs)", sres.Best, len(sres.History), rres.Best, len(rres.History))
	}
	for i := range sres.History {
		a, b := sres.History[i], rres.History[i]
		if a.TrainLoss != b.TrainLoss || a.Val["macro_auroc"] != b.Val["macro_auroc"] {
			t.Fatalf("epoch %d record differs: %+v vs %+v", i+1, a, b)
		}
	}
	// The best weights, which model.onnx holds, are the same too.
	bs, br := sres.Program.Graph.Param("head.W").Tensor.F32, rres.Program.Graph.Param("head.W").Tensor.F32
	if _, same := sameBits(bs, br); !same {
		t.Fatal("best weights differ after resuming")
	}
}

// TestNoValidationKeepsLastEpoch: without validation the exported program
// holds the last epoch's weights.
func TestNoValidationKeepsLastEpoch(t *testing.T) {
	final, res := train(t, compileSpec(t, testSpec, nil), synth(100, 2, 6), nil, Options{})
	got := make([]float32, 0, len(final))
	for _, p := range res.Program.Graph.Params {
		if p.Trainable {
			got = append(got, p.Tensor.F32...)
		}
	}
	if _, same := sameBits(final, got); !same || res.Best != nil {
		t.Fatalf("without validation the result should hold the last weights and no best epoch (best %+v)", res.Best)
	}
}

// TestUndefinedMonitorKeepsLatestModel: when the monitored metric is
// undefined (validation data with one class only), model.onnx follows the
// latest epoch instead of never being written.
func TestUndefinedMonitorKeepsLatestModel(t *testing.T) {
	d := synth(120, 2, 13)
	var negatives []int
	for i := 0; i < d.N(); i++ {
		if d.Y[2*i] == 0 && d.Y[2*i+1] == 0 {
			negatives = append(negatives, i)
		}
	}
	val := d.Subset(negatives)
	exports := 0
	// Patience counts from the first defined value: with none, training
	// runs every epoch and does not stop early.
	prog := compileSpec(t, testSpec, func(s *compiler.Spec) {
		s.Training.Validation.Split = 0.25
		s.Training.Validation.Patience = 1
	})
	final, res := train(t, prog, d, val, Options{
		Dir:    t.TempDir(),
		Export: func(*compiler.Program, string) error { exports++; return nil },
	})
	if res.Best != nil || exports != 4 || res.Stopped || res.Epochs != 4 {
		t.Fatalf("want 4 epochs, no best epoch, no early stop and model.onnx written every epoch; got best %+v, stopped %v after %d epochs, %d writes", res.Best, res.Stopped, res.Epochs, exports)
	}
	got := res.Program.Graph.Param("head.W").Tensor.F32
	if _, same := sameBits(final[len(final)-len(got)-2:len(final)-2], got); !same {
		t.Fatal("the result does not hold the latest weights")
	}
}

// TestEarlyStopping: with patience 1 and a learning rate of 0 nothing
// improves after the first epoch, so training stops after epoch 2.
func TestEarlyStopping(t *testing.T) {
	d := synth(120, 2, 7)
	tr, val := d.Split(0.25, 1)
	prog := compileSpec(t, testSpec, func(s *compiler.Spec) {
		s.Training.Epochs = 10
		s.Training.Validation.Split = 0.25
		s.Training.Validation.Patience = 1
	})
	prog.Spec.Training.LearningRate = 0
	_, res := train(t, prog, tr, val, Options{})
	if !res.Stopped || res.Epochs != 2 || res.Best.Epoch != 1 {
		t.Fatalf("want a stop after epoch 2 with the best at epoch 1, got stopped=%v epochs=%d best=%+v", res.Stopped, res.Epochs, res.Best)
	}
}

// TestNonFiniteLossStopsTraining names the epoch and batch.
func TestNonFiniteLossStopsTraining(t *testing.T) {
	prog := compileSpec(t, testSpec, nil)
	prog.Graph.Param("head.b").Tensor.F32[0] = float32(math.NaN())
	trn, err := NewTrainer(prog, synth(60, 2, 8), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer trn.Close()
	_, err = trn.Train(context.Background())
	if err == nil || !strings.Contains(err.Error(), "epoch 1, batch 1: the training loss is NaN") {
		t.Fatalf("want an error naming epoch 1, batch 1, got %v", err)
	}
}

// TestInterruptedTraining stops between batches with ErrInterrupted.
func TestInterruptedTraining(t *testing.T) {
	trn, err := NewTrainer(compileSpec(t, testSpec, nil), synth(60, 2, 9), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer trn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := trn.Train(ctx); err != ErrInterrupted {
		t.Fatalf("want ErrInterrupted, got %v", err)
	}
}

// TestTrainStepAllocatesNothing: a steady-state optimizer step allocates
// nothing.
func TestTrainStepAllocatesNothing(t *testing.T) {
	d := synth(64, 2, 10)
	trn, err := NewTrainer(compileSpec(t, testSpec, nil), d, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer trn.Close()
	rows := make([]int, 20)
	for i := range rows {
		rows[i] = i
	}
	trn.trainStep(rows) // warm up: buffers grow to this batch
	if a := testing.AllocsPerRun(20, func() { trn.trainStep(rows) }); a != 0 {
		t.Fatalf("a training step allocates %.1f times, want 0", a)
	}
}

// TestShardGradientMatchesFiniteDifferences checks the whole model's
// gradient, through Normalize, LSTM, GRU, the head and the objective with
// class weights, against central differences of the objective, for every
// trainable parameter of a small model (dropout rate 0 so the objective is a
// function of the weights).
func TestShardGradientMatchesFiniteDifferences(t *testing.T) {
	src := strings.Replace(testSpec, "rate: 0.25", "rate: 0.0", 1)
	src = strings.Replace(src, "labels: 2}", "labels: 1}\n  # binary", 1)
	prog := compileSpec(t, src, func(s *compiler.Spec) {
		s.Objective.ClassWeight = &compiler.ClassWeight{W0: 0.5, W1: 2}
		s.Training.Validation.Monitor = "auroc"
		s.Training.BatchSize = 40
	})
	d := synth(37, 1, 11) // three shards: the check covers their reduction
	trn, err := NewTrainer(prog, d, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer trn.Close()
	rows := make([]int, d.N())
	for i := range rows {
		rows[i] = i
	}
	objective := func() float64 {
		idx := append([]int(nil), rows...)
		n := assignShards(d, idx, trn.shards)
		var sum float64
		for s := 0; s < n; s++ {
			sh := trn.shards[s]
			trn.m.load(sh, d)
			for b, row := range sh.rows {
				sh.w[b] = trn.rowWeight[row]
			}
			trn.m.forward(sh, false)
			B := len(sh.rows)
			logits := sh.act[trn.m.plan.logitsIdx]
			// Scale 0 into a scratch buffer: the loss alone.
			sum += trn.obj.ForwardBackward(&sh.pk, 1, logits, sh.y[:B], sh.w[:B], 0, make([]float32, len(logits)), nil, nil)
		}
		return sum / float64(len(rows))
	}
	// The analytic gradient: one step's reduced gradient, before the update.
	idx := append([]int(nil), rows...)
	trn.idx = idx
	trn.nShards = assignShards(d, trn.idx, trn.shards)
	trn.lossScale = 1 / float32(len(rows))
	for s := 0; s < trn.nShards; s++ {
		trn.shardStep(s)
	}
	for c := 0; c < gradChunks; c++ {
		trn.reduceChunk(c)
	}
	grad := append([]float32(nil), trn.grad...)
	w := trn.m.train
	worst := 0.0
	for i := range w {
		orig := w[i]
		h := float32(1e-2) * float32(math.Max(1, math.Abs(float64(orig))))
		w[i] = orig + h
		hp := float64(w[i] - orig)
		lp := objective()
		w[i] = orig - h
		hm := float64(orig - w[i])
		lm := objective()
		w[i] = orig
		fd := (lp - lm) / (hp + hm)
		// float32 forward passes: differences of objectives near 0.5 carry
		// ~1e-7 relative rounding, divided by 2h = 2e-2: ~1e-5 absolute,
		// plus the O(h²) truncation of the central difference.
		if d := math.Abs(fd - float64(grad[i])); d > 2e-4+2e-2*math.Abs(fd) {
			t.Fatalf("parameter %d: gradient %v, finite difference %v", i, grad[i], fd)
		} else if d > worst {
			worst = d
		}
	}
	t.Logf("%d parameters, worst |gradient − finite difference| %.2g", len(w), worst)
}

// TestGradientClipping: with clip_norm the update is the unclipped one
// scaled by clip_norm/‖g‖ (torch.nn.utils.clip_grad_norm_), and unchanged
// when the norm is below clip_norm.
func TestGradientClipping(t *testing.T) {
	d := synth(24, 2, 14)
	rows := make([]int, 20)
	for i := range rows {
		rows[i] = i
	}
	// step returns the parameter change of one SGD step at rate 1.
	step := func(clip float64) []float64 {
		prog := compileSpec(t, testSpec, func(s *compiler.Spec) {
			s.Training.Optimizer = "sgd"
			s.Training.LearningRate = 1
			s.Training.ClipNorm = clip
		})
		trn, err := NewTrainer(prog, d, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer trn.Close()
		before := append([]float32(nil), trn.m.train...)
		trn.trainStep(append([]int(nil), rows...))
		delta := make([]float64, len(before))
		for i := range delta {
			delta[i] = float64(trn.m.train[i]) - float64(before[i])
		}
		return delta
	}
	free := step(0)
	var norm float64
	for _, g := range free {
		norm += g * g
	}
	norm = math.Sqrt(norm)
	if same := step(2 * norm); !equalWithin(same, free, 0) {
		t.Fatal("clipping above the gradient norm changed the update")
	}
	c := norm / 10
	clipped := step(c)
	want := make([]float64, len(free))
	for i := range want {
		want[i] = free[i] * c / (norm + 1e-6)
	}
	if !equalWithin(clipped, want, 1e-6*norm) {
		t.Fatalf("clipped update is not the free one scaled by %g", c/norm)
	}
}

func equalWithin(a, b []float64, tol float64) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol {
			return false
		}
	}
	return true
}

// TestPredictIndependentOfBatchComposition: a sequence's prediction does
// not depend on which other sequences share its batch, up to float32
// rounding (the GEMM kernel chosen depends on the number of rows, and with
// it the order of a few additions).
func TestPredictIndependentOfBatchComposition(t *testing.T) {
	prog := compileSpec(t, testSpec, nil)
	m, err := NewModel(prog)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	d := synth(300, 2, 12)
	all := m.Predict(d)
	sub := d.Subset([]int{299, 5, 17})
	part := m.Predict(sub)
	for j, i := range []int{299, 5, 17} {
		for k := 0; k < 2; k++ {
			if math.Abs(float64(all[i*2+k]-part[j*2+k])) > 1e-6 {
				t.Fatalf("sequence %d label %d: %v in the full set, %v alone", i, k, all[i*2+k], part[j*2+k])
			}
		}
	}
}

// TestNaNLossNamesNormalisation: a loss that is not finite because
// normalising a feature overflows float32 names the feature, the sequence,
// the step and the values.
func TestNaNLossNamesNormalisation(t *testing.T) {
	prog := compileSpec(t, testSpec, nil)
	d := synth(60, 2, 8)
	// Feature 1 sits at −3e38 but for one step at +3e38: the mean is near
	// −3e38, and x − mean overflows there.
	for _, seq := range d.X {
		for k := 1; k < len(seq); k += 3 {
			seq[k] = -3e38
		}
	}
	d.X[7][3*1+1] = 3e38
	d.Source = "train.npz"
	trn, err := NewTrainer(prog, d, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer trn.Close()
	_, err = trn.Train(context.Background())
	want := regexp.MustCompile(`^epoch 1, batch \d+: the training loss is (NaN|[+-]Inf): normalising feature f1 overflows float32 at sequence 7, step 1: \(x − mean\) / std with x = 3e\+38, mean = -2\.\d+e\+38, std = \d\.\d+e\+37; rescale the feature in train\.npz$`)
	if err == nil || !want.MatchString(err.Error()) {
		t.Fatalf("got %v, want a match of %s", err, want)
	}
}

// TestNaNLossNamesDivergence: weights that became non-finite in training
// are named, with the usual advice.
func TestNaNLossNamesDivergence(t *testing.T) {
	trn, err := NewTrainer(compileSpec(t, testSpec, nil), synth(60, 2, 8), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer trn.Close()
	// After the first batch, a weight becomes infinite, as an update far
	// too large leaves it.
	trn.opts.Progress = &diverge{w: trn.m.Param("head.W")}
	_, err = trn.Train(context.Background())
	want := "epoch 1, batch 2: the training loss is NaN: parameter head.W[4] became +Inf in training; lower training.learning_rate or set training.clip_norm"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
}

// diverge is a Progress that sets w[4] to +Inf after the first batch.
type diverge struct {
	recorder
	w []float32
}

func (d *diverge) Batch(done, _ int, _ float64) {
	if done == 1 {
		d.w[4] = float32(math.Inf(1))
	}
}

// TestFreshRunInitialises: a compiled program holds no initial weights
// (zeros); a fresh trainer draws them into its own copy, exactly as
// Program.Initialize does, and a resumed one does not draw them at all.
func TestFreshRunInitialises(t *testing.T) {
	spec, err := compiler.Parse("test.yaml", []byte(testSpec))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := compiler.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if prog.Initialized {
		t.Fatal("Compile says its parameters are initialised")
	}
	trn, err := NewTrainer(prog, synth(40, 2, 1), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer trn.Close()
	want := compileSpec(t, testSpec, nil)
	for _, name := range []string{"layers.0.W", "layers.0.R", "layers.0.B", "layers.2.R", "head.W"} {
		if _, same := sameBits(trn.m.Param(name), want.Graph.Param(name).Tensor.F32); !same {
			t.Errorf("%s: the trainer's initial values are not Initialize's", name)
		}
		for _, v := range prog.Graph.Param(name).Tensor.F32 {
			if v != 0 {
				t.Fatalf("%s: the trainer wrote the caller's program", name)
			}
		}
	}
}
