package runtime

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/loss"
	"github.com/trnn/trnn/ops"
)

// Names of the files a run directory holds.
const (
	ModelFile   = "model.onnx"
	MetricsFile = "metrics.csv"
	CurvesFile  = "curves.png"
)

// Options configure a training run.
type Options struct {
	// Dir is the run directory; it receives model.onnx, the checkpoint,
	// metrics.csv and curves.png after every epoch. "" writes nothing.
	Dir string
	// Version is trnn's version, recorded in checkpoints.
	Version string
	// Export writes prog as an ONNX model at path; the trainer calls it for
	// model.onnx, and nil writes none. Train passes WriteModelFile.
	Export func(prog *compiler.Program, path string) error
	// Progress receives progress reports; nil reports nothing.
	Progress Progress
	// Resume continues the run recorded in this checkpoint.
	Resume *Checkpoint
	// TrainFile and ValFile name the data, for the checkpoint's record, and
	// TrainData and ValData fingerprint them, so that a resumed run can
	// tell whether they changed.
	TrainFile, ValFile string
	TrainData, ValData *DataFingerprint
	// TestFile and TestData do the same for training.test.file: the
	// trainer never reads the test set, but a resumed run must find the
	// same one.
	TestFile string
	TestData *DataFingerprint
	// KeepStatistics keeps the program's normalisation statistics instead
	// of fitting them on the training data: they came with weights from
	// elsewhere (an ONNX model), and belong with them.
	KeepStatistics bool
	// InitFile names the ONNX model the program's weights came from, for
	// messages about them.
	InitFile string
	// stream reads the training sequences each epoch, when set by Train
	// (the package function); the training data set is then its skeleton
	// (scanSeqs).
	stream *seqStream
}

// Progress receives a run's progress. Calls come from the goroutine running
// Train.
type Progress interface {
	// Start announces a run of Train (the package function) once its data
	// are loaded and its directory is ready; a Trainer does not call it.
	Start(info RunInfo)
	// EpochStart announces an epoch of the given number of batches.
	EpochStart(epoch, epochs, batches int)
	// Batch reports batches done in the epoch, sequences done, and the
	// running mean of the objective over the epoch.
	Batch(done, sequences int, runningLoss float64)
	// EpochEnd reports the epoch's record; improved says whether the
	// monitored metric beat every earlier epoch, so that model.onnx now
	// holds this epoch's weights.
	EpochEnd(rec EpochRecord, improved bool)
	// Note reports a one-line remark (e.g. early stopping).
	Note(msg string)
}

// Result summarises a finished run.
type Result struct {
	Dir       string // the run directory (set by Train, the package function)
	Epochs    int    // epochs completed in total
	Trained   int    // epochs this call trained; 0 when a resumed run had none left
	Best      *Best  // nil without validation
	Stopped   bool   // early stopping ended the run
	History   []EpochRecord
	Program   *compiler.Program // the weights model.onnx holds
	ValMetric string
	// Test is model.onnx's evaluation on the test set, which test.json
	// holds (set by Train, the package function); nil without a test set.
	Test *TestReport
}

// Trainer trains one model. Create it with NewTrainer and call Train once.
type Trainer struct {
	m          *Model
	spec       *compiler.Spec
	trainSet   *data.Dataset
	valSet     *data.Dataset
	opts       Options
	opt        optimizer
	obj        loss.Objective
	rowWeight  []float32 // per training row: its class weight
	classW     [2]float64
	shards     []*shard
	eval       *evaluator // validation, reused every epoch
	grad       []float32  // reduced gradient [nTrain]
	chunkSq    []float64  // per chunk: Σ grad² (for clipping)
	idx        []int      // the current batch's dataset rows
	nShards    int
	batchRows  int
	epoch      int // 0-based epoch being trained
	batch      int // 0-based batch within the epoch
	step       int64
	lossScale  float32 // 1/B: the objective's gradient scale for the batch
	clipScale  float32 // the clipping factor applied before the update
	seed       uint64
	firstStep  int64 // t.step when Train began: the weights had not moved yet
	header     CheckpointHeader
	bestParams []float32
	shardFn    func(int)
	reduceFn   func(int)
	optFn      func(int)
	updateFn   func(int) // reduceFn then optFn: one pass when nothing clips
	// stream reads the training sequences from their file each epoch
	// (trainSet is then its skeleton: see scanSeqs); nil when trainSet
	// holds them.
	stream *seqStream
	// cur is the data set the batch's rows index, and curWeight their
	// weights: trainSet and rowWeight, or a streamed batch.
	cur       *data.Dataset
	curWeight []float32
}

// gradChunks is the number of fixed slices the parameter vector is cut into
// for reduction, clipping and the optimizer; fixed so sums do not depend on
// the number of workers.
const gradChunks = 16

// NewTrainer prepares training of prog on train, validating on val (nil for
// none). It fits normalisation statistics (unless opts.KeepStatistics) and
// balanced class weights on train unless opts.Resume restores them. A
// fresh run (no opts.Resume) of a program whose parameters hold nothing
// yet (not Initialized) starts from the seeded initial weights, drawn into
// a copy: prog itself is never modified.
func NewTrainer(prog *compiler.Program, train, val *data.Dataset, opts Options) (_ *Trainer, err error) {
	spec := prog.Spec
	if opts.Resume == nil && !prog.Initialized {
		prog = ownParams(prog)
		if err := prog.Initialize(); err != nil {
			return nil, err
		}
	}
	m, err := NewModel(prog)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	t := &Trainer{m: m, spec: spec, trainSet: train, valSet: val, opts: opts, seed: spec.Training.Seed, stream: opts.stream, cur: train}
	if train.N() == 0 {
		return nil, fmt.Errorf("%s: no sequences to train on", train.Source)
	}
	yK := m.plan.head.yK
	if train.F != m.plan.F || train.K != yK {
		return nil, fmt.Errorf("%s: %d features and %d labels, the spec declares %d and %d", train.Source, train.F, train.K, m.plan.F, yK)
	}
	if val != nil && (val.F != m.plan.F || val.K != yK) {
		return nil, fmt.Errorf("%s: %d features and %d labels, the spec declares %d and %d", val.Source, val.F, val.K, m.plan.F, yK)
	}
	for _, d := range []*data.Dataset{train, val} {
		if err := checkLabels(spec, m.plan.head, d); err != nil {
			return nil, err
		}
	}
	tr := spec.Training
	if t.opt, err = newOptimizer(tr.Optimizer, m.plan.nTrain, tr.LearningRate, tr.Momentum, tr.WeightDecay); err != nil {
		return nil, err
	}
	t.batchRows = min(tr.BatchSize, train.N()) // a batch never holds more than the data
	nShards := (t.batchRows + ShardRows - 1) / ShardRows
	T := train.MaxLen()
	if val != nil {
		T = max(T, val.MaxLen())
	}
	for i := 0; i < nShards; i++ {
		t.shards = append(t.shards, m.newShard(min(ShardRows, t.batchRows), min(ShardRows, t.batchRows)*T, true))
	}
	t.grad = make([]float32, m.plan.nTrain)
	t.chunkSq = make([]float64, gradChunks)
	t.idx = make([]int, 0, t.batchRows)
	t.shardFn, t.reduceFn, t.optFn, t.updateFn = t.shardStep, t.reduceChunk, t.optChunk, t.updateChunk

	if r := opts.Resume; r != nil {
		if err := t.restore(r); err != nil {
			return nil, err
		}
	} else {
		if !opts.KeepStatistics {
			if err := t.fitStatistics(); err != nil {
				return nil, err
			}
			if err := t.fitTargetStatistics(); err != nil {
				return nil, err
			}
		}
		if err := t.setClassWeights(); err != nil {
			return nil, err
		}
	}
	if err := t.setObjective(); err != nil {
		return nil, err
	}
	t.curWeight = t.rowWeight
	t.eval = m.newEvaluator()
	return t, nil
}

// setObjective builds the objective of the spec's head and objective
// section, with the row weights the class weights give each training
// sequence.
func (t *Trainer) setObjective() error {
	posWeight, rowWeight, err := t.headWeights()
	if err != nil {
		return err
	}
	if t.obj, err = newObjective(t.spec, t.m.plan.head, posWeight); err != nil {
		return err
	}
	t.rowWeight = rowWeight
	if rowWeight != nil {
		return nil
	}
	t.rowWeight = make([]float32, t.trainSet.N())
	h := t.m.plan.head
	if t.spec.Objective.ClassWeight != nil && h.kind == compiler.KindLabels && !h.perStep {
		loss.SequenceWeights(t.trainSet.Y, t.trainSet.K, t.classW[0], t.classW[1], t.rowWeight)
	} else {
		for i := range t.rowWeight {
			t.rowWeight[i] = 1
		}
	}
	return nil
}

// Close releases the trainer's workers.
func (t *Trainer) Close() { t.m.Close() }

// fitStatistics sets the Normalize (or Preprocess) node's mean and std from the training
// split's valid steps.
func (t *Trainer) fitStatistics() error {
	if t.stream != nil {
		return t.fitStreamStatistics()
	}
	if ok, err := t.fitPreprocess(); ok {
		return err
	}
	mean, std := t.m.Param("inputs.mean"), t.m.Param("inputs.std")
	if mean == nil || std == nil {
		return nil
	}
	m, s, err := ops.FitNormalize(t.trainSet.X, t.trainSet.F)
	if err != nil {
		return fmt.Errorf("%s: %v", t.trainSet.Source, err)
	}
	copy(mean, m)
	copy(std, s)
	return nil
}

func (t *Trainer) setClassWeights() error {
	cw := t.spec.Objective.ClassWeight
	t.classW = [2]float64{1, 1}
	h := t.m.plan.head
	if cw == nil || h.kind != compiler.KindLabels {
		return nil // classes weigh themselves (Trainer.classWeights)
	}
	if cw.Balanced && h.perStep {
		w0, w1, err := balancedStepWeights(t.trainSet)
		if err != nil {
			return fmt.Errorf("%s: %v", t.trainSet.Source, err)
		}
		t.classW = [2]float64{w0, w1}
		return nil
	}
	if !cw.Balanced {
		t.classW = [2]float64{cw.W0, cw.W1}
		return nil
	}
	w0, w1, err := loss.BalancedWeights(t.trainSet.Y)
	if err != nil {
		return fmt.Errorf("%s: objective.%v", t.trainSet.Source, err)
	}
	t.classW = [2]float64{w0, w1}
	return nil
}

// ErrInterrupted is returned when the context ends a run early; the run
// directory holds the last completed epoch's checkpoint.
var ErrInterrupted = errors.New("training interrupted")

// Train runs the remaining epochs. It returns when the epochs are done,
// early stopping triggers, the loss stops being finite (an error naming the
// epoch and batch), or ctx is done (ErrInterrupted).
func (t *Trainer) Train(ctx context.Context) (*Result, error) {
	tr := t.spec.Training
	h := &t.header
	if h.Stopped {
		return t.result(), nil
	}
	perm := make([]int, t.trainSet.N())
	t.firstStep = t.step
	for t.epoch = h.Epoch; t.epoch < tr.Epochs; t.epoch++ {
		rec, err := t.trainEpoch(ctx, perm)
		if err != nil {
			return nil, err
		}
		improved, write, err := t.validateEpoch(&rec)
		if err != nil {
			return nil, err
		}
		note := t.stepSchedule(&rec)
		h.History = append(h.History, rec)
		h.Epoch = rec.Epoch
		stop := tr.Validation.Patience > 0 && h.Stale >= tr.Validation.Patience && h.Best != nil
		h.Stopped = stop
		if err := t.saveRun(write); err != nil {
			return nil, err
		}
		if t.opts.Progress != nil {
			t.opts.Progress.EpochEnd(rec, improved)
			if note != "" && !stop {
				t.opts.Progress.Note(note)
			}
		}
		if stop {
			if t.opts.Progress != nil {
				t.opts.Progress.Note(t.staleNote())
			}
			break
		}
	}
	return t.result(), nil
}

// trainEpoch runs the batches of epoch t.epoch in the order perm receives
// (or as streamEpoch streams them) and returns the epoch's record without
// validation.
func (t *Trainer) trainEpoch(ctx context.Context, perm []int) (EpochRecord, error) {
	if t.stream != nil {
		return t.streamEpoch(ctx)
	}
	n := len(perm)
	batches := (n + t.batchRows - 1) / t.batchRows
	t.permutation(perm)
	if t.opts.Progress != nil {
		t.opts.Progress.EpochStart(t.epoch+1, t.spec.Training.Epochs, batches)
	}
	start := time.Now()
	var lossSum, finalSum float64
	for t.batch = 0; t.batch < batches; t.batch++ {
		if err := ctx.Err(); err != nil {
			return EpochRecord{}, ErrInterrupted
		}
		lo := t.batch * t.batchRows
		hi := min(lo+t.batchRows, n)
		l, f := t.trainStep(perm[lo:hi])
		if !finite(l) {
			return EpochRecord{}, t.lossError(l)
		}
		lossSum += l
		finalSum += f
		if t.opts.Progress != nil {
			t.opts.Progress.Batch(t.batch+1, hi, lossSum/float64(hi))
		}
	}
	return EpochRecord{Epoch: t.epoch + 1, TrainLoss: lossSum / float64(n), TrainFinalLoss: finalSum / float64(n),
		Seconds: time.Since(start).Seconds(), Sequences: n}, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// lossError explains the first training loss that is not finite, which
// ends the run. Its step's update was skipped, so the weights are those the
// batch ran with. Weights that are not finite before the run has taken a
// step came with it (an --init model, a checkpoint, the program given).
// Otherwise a normalised input that overflows float32 is the cause, even
// when the weights went bad first: an infinite input gives an infinite
// gradient while the loss may still be finite. Without either, the usual
// cause is a learning rate too high for the gradients.
func (t *Trainer) lossError(loss float64) error {
	where := fmt.Sprintf("epoch %d, batch %d: the training loss is %v", t.epoch+1, t.batch+1, loss)
	name, i, v, bad := t.nonFiniteParam()
	if bad && t.step == t.firstStep {
		from := "the initial weights are"
		switch {
		case t.opts.InitFile != "":
			from = fmt.Sprintf("the weights taken from %s (--init) are", t.opts.InitFile)
		case t.opts.Resume != nil:
			from = "the checkpoint's weights are"
		}
		return fmt.Errorf("%s: %s not finite (%s[%d] = %v)", where, from, name, i, v)
	}
	if msg := t.normalizeOverflow(); msg != "" {
		return fmt.Errorf("%s: %s", where, msg)
	}
	const advice = "lower training.learning_rate or set training.clip_norm"
	if bad {
		return fmt.Errorf("%s: parameter %s[%d] became %v in training; %s", where, name, i, v, advice)
	}
	return fmt.Errorf("%s; %s", where, advice)
}

// nonFiniteParam finds the first parameter value, statistics included,
// that is NaN or infinite.
func (t *Trainer) nonFiniteParam() (name string, index int, v float32, ok bool) {
	for i, p := range t.m.plan.params {
		for j, x := range t.m.paramData(i) {
			if !finite(float64(x)) {
				return p.name, j, x, true
			}
		}
	}
	return "", 0, 0, false
}

// normalizeOverflow describes the first training value that normalisation,
// computed as the forward pass does in float32, turns into an infinity or
// NaN (x − mean overflows when x and mean are near ±3.4e38 with opposite
// signs); "" when there is none or the spec does not normalise. Statistics
// that are not finite themselves are another fault (nonFiniteParam's).
func (t *Trainer) normalizeOverflow() string {
	mean, std := t.m.Param(compiler.ParamMean), t.m.Param(compiler.ParamStd)
	if mean == nil || std == nil {
		return ""
	}
	d := t.cur
	for i, seq := range d.X {
		for k, x := range seq {
			j := k % d.F
			if x != x {
				continue // a missing value, imputed before normalising
			}
			y := (x - mean[j]) / std[j]
			if finite(float64(y)) || !finite(float64(mean[j])) || !finite(float64(std[j])) {
				continue
			}
			seqName := strconv.Itoa(i)
			if d.IDs != nil {
				seqName = d.IDs[i]
			}
			feature := fmt.Sprintf("f%d", j)
			if names := t.spec.Inputs.FeatureNames; j < len(names) {
				feature = names[j]
			}
			where := ""
			if d.Source != "" {
				where = " in " + d.Source
			}
			return fmt.Sprintf("normalising feature %s overflows float32 at sequence %s, step %d: (x − mean) / std with x = %g, mean = %g, std = %g; rescale the feature%s",
				feature, seqName, k/d.F, x, mean[j], std[j], where)
		}
	}
	return ""
}

// validateEpoch adds the validation metrics to rec and updates the
// early-stopping state. improved: the monitored metric beat every earlier
// epoch; write: model.onnx must be rewritten with the current weights.
func (t *Trainer) validateEpoch(rec *EpochRecord) (improved, write bool, err error) {
	if t.valSet == nil {
		return false, true, nil // without validation model.onnx holds the last epoch
	}
	h := &t.header
	monitor := t.spec.Training.Validation.Monitor
	if rec.Val, err = t.validate(); err != nil {
		return false, false, fmt.Errorf("epoch %d: validation: %v", rec.Epoch, err)
	}
	v, ok := rec.Val[monitor]
	switch {
	case ok && (h.Best == nil || better(monitor, v, h.Best.Value)):
		h.Best = &Best{Epoch: rec.Epoch, Metric: monitor, Value: v}
		t.bestParams = append(t.bestParams[:0], t.m.train...)
		t.countStale(v, true, true)
		return true, true, nil
	case !ok && h.Best == nil:
		// Nothing to choose by yet: model.onnx follows the latest epoch
		// until the metric is defined, and patience counts from the first
		// defined value.
		if rec.Epoch == 1 && t.opts.Progress != nil {
			t.opts.Progress.Note(fmt.Sprintf("val_%s is undefined on the validation data (a label with one class only?); model.onnx holds the latest epoch until it is defined", monitor))
		}
		return false, true, nil
	}
	t.countStale(v, ok, false)
	return false, false, nil
}

func (t *Trainer) result() *Result {
	h := &t.header
	r := &Result{Epochs: h.Epoch, Best: h.Best, Stopped: h.Stopped, History: h.History, ValMetric: t.spec.Training.Validation.Monitor}
	r.Program = t.exportProgram()
	return r
}

// exportProgram is the program model.onnx holds: the best epoch's weights
// when validating, else the current ones.
func (t *Trainer) exportProgram() *compiler.Program {
	if t.valSet == nil || t.header.Best == nil {
		return t.m.Program()
	}
	cur := append([]float32(nil), t.m.train...)
	copy(t.m.train, t.bestParams)
	p := t.m.Program()
	copy(t.m.train, cur)
	return p
}

func better(metric string, v, best float64) bool {
	if compiler.LowerIsBetter(metric) {
		return v < best
	}
	return v > best
}

// permutation fills perm with the epoch's order of training rows: a seeded
// shuffle, or file order when shuffling is off.
func (t *Trainer) permutation(perm []int) {
	for i := range perm {
		perm[i] = i
	}
	if !t.spec.Training.Shuffle {
		return
	}
	r := rand.New(rand.NewPCG(t.seed, mix(0x5eed, uint64(t.epoch))))
	r.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
}

// trainStep runs one optimizer step on the batch rows and returns the sum
// over the batch of the weighted objective and of the final-step loss.
func (t *Trainer) trainStep(rows []int) (lossSum, finalSum float64) {
	t.idx = append(t.idx[:0], rows...)
	t.nShards = assignShards(t.cur, t.idx, t.shards)
	t.lossScale = 1 / float32(len(rows))
	t.m.pool.Run(t.nShards, t.shardFn)
	for _, s := range t.shards[:t.nShards] {
		lossSum += s.loss
		finalSum += s.final
	}
	if !finite(lossSum) {
		// The run stops here: keep the weights the batch ran with, which
		// lossError examines.
		return lossSum, finalSum
	}
	if t.spec.Training.ClipNorm <= 0 {
		// No global norm to wait for: each chunk is summed and applied in
		// one pass over the workers.
		t.step++
		t.clipScale = 1
		t.m.pool.Run(gradChunks, t.updateFn)
		return lossSum, finalSum
	}
	t.m.pool.Run(gradChunks, t.reduceFn)
	scale := float32(1)
	if c := t.spec.Training.ClipNorm; c > 0 {
		var sq float64
		for _, v := range t.chunkSq {
			sq += v
		}
		// torch.nn.utils.clip_grad_norm_: scale by c/(norm+1e-6) when below 1.
		if coef := c / (math.Sqrt(sq) + 1e-6); coef < 1 {
			scale = float32(coef)
		}
	}
	t.step++
	t.clipScale = scale
	t.m.pool.Run(gradChunks, t.optFn)
	return lossSum, finalSum
}

// shardStep is the forward, objective and backward pass of shard i.
func (t *Trainer) shardStep(i int) {
	s := t.shards[i]
	m := t.m
	m.load(s, t.cur)
	for b, row := range s.rows {
		s.w[b] = t.curWeight[row]
	}
	s.zeroGrads()
	s.pcg.Seed(t.seed, mix(uint64(t.epoch)<<32|uint64(t.batch), uint64(i)))
	m.forward(s, true)
	B := len(s.rows)
	s.loss = t.obj.ForwardBackward(&s.pk, m.plan.K, s.act[m.plan.logitsIdx], s.y[:m.plan.head.labelRows(B, s.pk.N())], s.w[:B],
		t.lossScale, s.dlogits, s.perSeq[:B], s.finalBCE[:B])
	s.final = 0
	for _, f := range s.finalBCE[:B] {
		if !math.IsNaN(f) || !m.plan.head.perStep {
			s.final += f // a row without a labelled step has no final loss
		}
	}
	m.backward(s)
}

// chunkRange is the slice [lo, hi) of the parameter vector chunk c covers.
func (t *Trainer) chunkRange(c int) (lo, hi int) {
	n := len(t.grad)
	return c * n / gradChunks, (c + 1) * n / gradChunks
}

// reduceChunk sums chunk c of the shard gradients, in shard order.
func (t *Trainer) reduceChunk(c int) {
	lo, hi := t.chunkRange(c)
	g := t.grad[lo:hi]
	copy(g, t.shards[0].dtrain[lo:hi])
	for _, s := range t.shards[1:t.nShards] {
		ops.AddTo(g, s.dtrain[lo:hi])
	}
	if t.spec.Training.ClipNorm <= 0 {
		return // the squares serve clipping alone
	}
	var sq float64
	for _, v := range g {
		sq += float64(v) * float64(v)
	}
	t.chunkSq[c] = sq
}

// updateChunk sums chunk c of the shard gradients and applies the
// optimizer to it, for training without clipping.
func (t *Trainer) updateChunk(c int) {
	t.reduceChunk(c)
	t.optChunk(c)
}

// optChunk applies the optimizer to chunk c, after clipping.
func (t *Trainer) optChunk(c int) {
	lo, hi := t.chunkRange(c)
	if s := t.clipScale; s != 1 {
		g := t.grad[lo:hi]
		for i := range g {
			g[i] *= s
		}
	}
	t.opt.step(t.m.train, t.grad, lo, hi, t.step)
}

// validate computes the final-step metrics on the validation set (and,
// per step, those over every labelled step).
func (t *Trainer) validate() (map[string]float64, error) {
	h := t.m.plan.head
	if h.kind == compiler.KindLabels && !h.perStep {
		met, err := evaluateMetrics(t.m, t.eval, t.valSet, loss.EvalOptions{})
		if err != nil {
			return nil, err
		}
		return metricMap(met), nil
	}
	e, err := evaluateModel(t.m, t.eval, t.valSet)
	if err != nil {
		return nil, err
	}
	return e.Metrics(), nil
}

// evaluateModel runs m on the labelled data d and computes its head's
// metrics.
func evaluateModel(m *Model, ev *evaluator, d *data.Dataset) (*HeadEval, error) {
	var last []float32
	var steps [][]float32
	if m.plan.head.perStep {
		last, steps = ev.runSteps(d)
		for _, st := range steps {
			m.Activate(st)
		}
	} else {
		last = ev.run(d)
	}
	logits := append([]float32(nil), last...)
	m.Activate(last)
	if m.plan.head.kind != compiler.KindLabels {
		logits = nil
	}
	return EvaluateHead(m.prog.Spec, d, last, steps, logits)
}

// metricMap holds the defined metrics by name.
func metricMap(met *loss.Metrics) map[string]float64 {
	out := map[string]float64{}
	for _, name := range loss.MetricNames() {
		if v, ok := met.Get(name); ok {
			out[name] = v
		}
	}
	return out
}

func evaluateMetrics(m *Model, ev *evaluator, d *data.Dataset, opts loss.EvalOptions) (*loss.Metrics, error) {
	logits := ev.run(d)
	probs := append([]float32(nil), logits...)
	Sigmoid(probs)
	opts.Logits = logits
	met, err := loss.Evaluate(probs, d.Y, d.N(), m.plan.K, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", d.Source, err)
	}
	return met, nil
}

// mix hashes two words into one (a splitmix64 finaliser): the same on every
// platform, so seeds derived with it reproduce everywhere.
func mix(a, b uint64) uint64 {
	z := a*0x9e3779b97f4a7c15 ^ (b + 0x632be59bd9b4e019)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
