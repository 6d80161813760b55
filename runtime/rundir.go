package runtime

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/internal/plots"
	"github.com/trnn/trnn/loss"
)

// saveRun writes the run directory after an epoch: model.onnx when
// writeModel (the weights it should hold changed), then the checkpoint, then
// metrics.csv and curves.png. The order makes a run killed at any point
// resumable: the checkpoint is the source of truth, and a resumed epoch
// rewrites the files after it identically.
func (t *Trainer) saveRun(writeModel bool) error {
	dir := t.opts.Dir
	if dir == "" {
		return nil
	}
	if writeModel && t.opts.Export != nil {
		if err := t.opts.Export(t.m.Program(), filepath.Join(dir, ModelFile)); err != nil {
			return err
		}
	}
	if err := WriteCheckpoint(filepath.Join(dir, CheckpointFile), t.checkpoint()); err != nil {
		return err
	}
	return t.writeReports()
}

// writeReports rewrites metrics.csv and curves.png from the history. A
// resumed run rewrites them first, dropping rows of epochs its checkpoint
// does not cover.
func (t *Trainer) writeReports() error {
	dir := t.opts.Dir
	if dir == "" {
		return nil
	}
	cols := t.valColumns()
	lr := t.spec.Training.LRSchedule != nil
	if err := writeFileAtomic(filepath.Join(dir, MetricsFile), metricsCSV(t.header.History, cols, lr)); err != nil {
		return err
	}
	_, err := curves(filepath.Join(dir, CurvesFile), t.header.History, t.valSet != nil, t.spec.Training.Validation.Monitor, t.header.Best)
	return err
}

// valColumns are the validation metrics metrics.csv reports: the headline
// ones for the label count (every metric of the head for classes, targets
// and per-step labels), plus the monitored metric.
func (t *Trainer) valColumns() []string {
	if t.valSet == nil {
		return nil
	}
	cols := []string{"loss", "auroc", "auprc", "accuracy", "f1", "brier"}
	if o := t.spec.Outputs; o.Kind() != compiler.KindLabels || o.PerStep {
		cols = slices.DeleteFunc(MetricOrder(o), func(n string) bool { return strings.HasSuffix(n, "ece") })
	} else if t.m.plan.K > 1 {
		cols = []string{"loss", "micro_auroc", "macro_auroc", "micro_auprc", "macro_auprc", "micro_f1", "macro_f1"}
		if loss.TopKMeaningful(t.m.plan.K) {
			cols = append(cols, "precision_at_10")
		}
	}
	mon := t.spec.Training.Validation.Monitor
	for _, c := range cols {
		if c == mon {
			return cols
		}
	}
	return append(cols, mon)
}

// metricsCSV formats the history: epoch, train_loss, train_final_loss, one
// val_<metric> column per validation metric (empty when undefined), the
// learning rate when lr (a schedule changes it), seconds.
func metricsCSV(history []EpochRecord, valCols []string, lr bool) []byte {
	var b bytes.Buffer
	b.WriteString("epoch,train_loss,train_final_loss")
	for _, c := range valCols {
		b.WriteString(",val_" + c)
	}
	if lr {
		b.WriteString(",lr")
	}
	b.WriteString(",seconds\n")
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 8, 64) }
	for _, r := range history {
		fmt.Fprintf(&b, "%d,%s,%s", r.Epoch, f(r.TrainLoss), f(r.TrainFinalLoss))
		for _, c := range valCols {
			b.WriteByte(',')
			if v, ok := r.Val[c]; ok {
				b.WriteString(f(v))
			}
		}
		if lr {
			b.WriteString("," + f(r.LR))
		}
		fmt.Fprintf(&b, ",%s\n", strconv.FormatFloat(r.Seconds, 'g', 6, 64))
	}
	return b.Bytes()
}

// curves draws the losses per epoch and, with validation, the monitored
// metric with the best epoch marked, and describes what it drew.
func curves(path string, history []EpochRecord, val bool, monitor string, best *Best) (*plots.Drawing, error) {
	n := len(history)
	x := make([]float64, n)
	train, trainFinal, valLoss, metric := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, r := range history {
		x[i] = float64(r.Epoch)
		train[i], trainFinal[i] = r.TrainLoss, r.TrainFinalLoss
		valLoss[i], metric[i] = math.NaN(), math.NaN()
		if v, ok := r.Val["loss"]; ok {
			valLoss[i] = v
		}
		if v, ok := r.Val[monitor]; ok {
			metric[i] = v
		}
	}
	mark, markLabel := math.NaN(), ""
	if best != nil {
		mark, markLabel = float64(best.Epoch), fmt.Sprintf("best: epoch %d", best.Epoch)
	}
	lossPanel := plots.Panel{Title: "Loss", XLabel: "epoch", YLabel: "loss", MarkX: mark, MarkLabel: markLabel,
		Lines: []plots.Series{
			{Name: "train (objective)", X: x, Y: train},
			{Name: "train (final step)", X: x, Y: trainFinal},
		}}
	if !val {
		return plots.Curves(path, lossPanel)
	}
	lossPanel.Lines = append(lossPanel.Lines, plots.Series{Name: "validation (final step)", X: x, Y: valLoss})
	return plots.Curves(path, lossPanel, plots.Panel{
		Title: "Validation " + displayName(monitor), XLabel: "epoch", YLabel: displayName(monitor),
		MarkX: mark, MarkLabel: markLabel,
		Lines: []plots.Series{{Name: "val_" + monitor, X: x, Y: metric}},
	})
}

// checkpoint captures the trainer's state at an epoch boundary.
func (t *Trainer) checkpoint() *Checkpoint {
	h := t.header
	spec, err := compiler.MarshalSpec(t.spec)
	if err != nil {
		panic("runtime: resolved spec does not marshal: " + err.Error())
	}
	h.TrnnVersion = t.opts.Version
	h.Spec = string(spec)
	h.SpecDir = t.spec.Dir
	if abs, err := filepath.Abs(t.spec.Dir); err == nil && t.spec.Dir != "" {
		h.SpecDir = abs // resumable from any working directory
	}
	h.Step = t.step
	h.Optimizer = t.spec.Training.Optimizer
	h.TrainFile, h.ValFile = t.opts.TrainFile, t.opts.ValFile
	h.TrainData, h.ValData = t.opts.TrainData, t.opts.ValData
	h.TestFile, h.TestData = t.opts.TestFile, t.opts.TestData
	h.ClassWeight = t.classW
	h.Tensors = nil
	c := &Checkpoint{Tensors: map[string][]float32{}}
	add := func(name string, shape []int, v []float32) {
		h.Tensors = append(h.Tensors, TensorEntry{Name: name, Shape: shape})
		c.Tensors[name] = v
	}
	for i, p := range t.m.plan.params {
		add("param/"+p.name, p.shape, t.m.paramData(i))
	}
	if t.bestParams != nil {
		for _, p := range t.m.plan.params {
			if p.trainable {
				add("best/"+p.name, p.shape, t.bestParams[p.off:p.off+p.size])
			}
		}
	}
	for name, v := range t.opt.state() {
		add("optimizer/"+name, []int{len(v)}, v)
	}
	c.Header = h
	return c
}

// restore loads a checkpoint's state into the trainer.
func (t *Trainer) restore(c *Checkpoint) error {
	h := c.Header
	if h.Optimizer != t.spec.Training.Optimizer {
		return fmt.Errorf("checkpoint: optimizer %s, the spec now says %s", h.Optimizer, t.spec.Training.Optimizer)
	}
	for i, p := range t.m.plan.params {
		v, ok := c.Tensors["param/"+p.name]
		if !ok || len(v) != p.size {
			return fmt.Errorf("checkpoint: parameter %s missing or of another shape than the spec's", p.name)
		}
		copy(t.m.paramData(i), v)
	}
	if h.Best != nil {
		t.bestParams = make([]float32, t.m.plan.nTrain)
		for _, p := range t.m.plan.params {
			if !p.trainable {
				continue
			}
			v, ok := c.Tensors["best/"+p.name]
			if !ok || len(v) != p.size {
				return fmt.Errorf("checkpoint: best weights of %s missing", p.name)
			}
			copy(t.bestParams[p.off:], v)
		}
	}
	for name, v := range t.opt.state() {
		s, ok := c.Tensors["optimizer/"+name]
		if !ok || len(s) != len(v) {
			return fmt.Errorf("checkpoint: optimizer state %s missing", name)
		}
		copy(v, s)
	}
	t.step = h.Step
	t.classW = h.ClassWeight
	t.header = h
	t.restoreSchedule()
	return nil
}

// displayName is a metric's name as figures show it: "auroc" → "AUROC",
// "micro_auprc" → "micro AUPRC".
func displayName(metric string) string {
	words := strings.Split(metric, "_")
	for i, w := range words {
		switch w {
		case "auroc", "auprc":
			words[i] = strings.ToUpper(w)
		case "f1":
			words[i] = "F1"
		}
	}
	return strings.Join(words, " ")
}

// verifySeqs is how many sequences verifyExport compares.
const verifySeqs = 16

// verifyTolerance bounds |exported − trained| probabilities: float32
// rounding differs between the packed kernels and the exported graph's by
// about 1e-7.
const verifyTolerance = 1e-5

// verifyExport reads the model file just written back through the ONNX
// reader and interpreter, and checks that it predicts what the trainer's
// network prog does on the first sequences of d: a model file that silently
// disagreed with the trained network would be worse than none.
func verifyExport(path string, prog *compiler.Program, d *data.Dataset) error {
	idx := make([]int, min(verifySeqs, d.N()))
	for i := range idx {
		idx[i] = i
	}
	sub := d.Subset(idx)
	m, err := NewModel(prog)
	if err != nil {
		return err
	}
	defer m.Close()
	want := m.Predict(sub)
	m.Activate(want)
	perStep := m.plan.head.perStep
	got, gotSteps, err := runModelFile(path, sub, perStep)
	if err != nil {
		return err
	}
	unit := strings.TrimSuffix(m.plan.head.kind, "s") // label, class or target
	if err := verifyClose(path, "sequence", unit, got, want, m.plan.K); err != nil {
		return err
	}
	if !perStep {
		return nil
	}
	// A per-step model is judged at every step: its per-step output is
	// checked too.
	for i, steps := range m.PredictSteps(sub) {
		m.Activate(steps)
		if err := verifyClose(path, fmt.Sprintf("sequence %d, step", i), unit, gotSteps[i], steps, m.plan.K); err != nil {
			return err
		}
	}
	return nil
}

// verifyClose checks the exported model's outputs got against the
// trainer's want, rows of K named by row ("sequence", or the steps of one)
// and their entries by unit, within verifyTolerance (relative above 1, for
// regression values).
func verifyClose(path, row, unit string, got, want []float32, K int) error {
	for i := range want {
		if diff := math.Abs(float64(got[i] - want[i])); !(diff <= verifyTolerance*max(1, math.Abs(float64(want[i])))) {
			return fmt.Errorf("%s: the exported model differs from the trained one by %.3g at %s %d, %s %d (a bug in trnn: please report it)", path, diff, row, i/K, unit, i%K)
		}
	}
	return nil
}
