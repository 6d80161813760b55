package runtime

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/export"
)

// headSpecs are specs of every kind of head, each trained on the synthetic
// task of that kind (data.SynthTask).
var headSpecs = []struct {
	name, task, spec, monitor string
}{
	{"classes", data.TaskClasses, `
inputs: {features: 3}
layers: [{lstm: {units: 8}}]
outputs: {classes: [a, b, c, d]}
objective: {target_replication: {alpha: 0.5}, class_weight: balanced}
training: {learning_rate: 0.02, batch_size: 20, epochs: 4, seed: 3, validation: {split: 0.25}}
`, "kappa"},
	{"targets", data.TaskRegression, `
inputs: {features: 3}
layers: [{gru: {units: 8}}]
outputs: {targets: [v]}
training: {learning_rate: 0.02, batch_size: 20, epochs: 4, seed: 3, validation: {split: 0.25}}
`, "mse"},
	{"targets-normalized", data.TaskRegression, `
inputs: {features: 3}
layers: [{gru: {units: 8}}]
outputs: {targets: [v], normalize_targets: true}
training: {learning_rate: 0.02, batch_size: 20, epochs: 4, seed: 3, validation: {split: 0.25, monitor: r2}}
`, "r2"},
	{"per-step-labels", data.TaskDecompensation, `
inputs: {features: 3}
layers: [{lstm: {units: 8}}]
outputs: {labels: 1, per_step: true}
objective: {class_weight: balanced}
training: {learning_rate: 0.02, batch_size: 20, epochs: 4, seed: 3, validation: {split: 0.25}}
`, "step_auroc"},
	{"per-step-classes", data.TaskLOS, `
inputs: {features: 3}
layers: [{gru: {units: 8}}]
outputs: {classes: [c0, c1, c2, c3, c4, c5, c6, c7, c8, c9], per_step: true}
training: {learning_rate: 0.02, batch_size: 20, epochs: 4, seed: 3, validation: {split: 0.25}}
`, "step_kappa"},
	{"per-step-targets", data.TaskLOSRegression, `
inputs: {features: 3}
layers: [{lstm: {units: 8}}]
outputs: {targets: [remaining], per_step: true, normalize_targets: true}
training: {learning_rate: 0.02, batch_size: 20, epochs: 4, seed: 3, validation: {split: 0.25}}
`, "step_mse"},
}

func taskData(t testing.TB, task string, n int, seed uint64) *data.Dataset {
	t.Helper()
	d, err := data.SynthTask(task, data.SynthOptions{N: n, MinLen: 6, MaxLen: 30, F: 3, Seed: seed, PosRate: 0.4})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestHeadsTrain trains every kind of head: its objective falls, validation
// reports the kind's metrics under their names (the monitored one
// included), and the model written to the run directory (whose export
// Train checks against the trainer's own predictions) holds the kind's
// output.
func TestHeadsTrain(t *testing.T) {
	for _, c := range headSpecs {
		t.Run(c.name, func(t *testing.T) {
			prog := compileSpec(t, c.spec, nil)
			if got := prog.Spec.Training.Validation.Monitor; got != c.monitor {
				t.Fatalf("monitor %q, want %q", got, c.monitor)
			}
			d := taskData(t, c.task, 160, 1)
			trainSet, val := d.Split(0.25, 1)
			dir := t.TempDir()
			exp := func(p *compiler.Program, path string) error {
				if err := WriteModelFile(path, p, export.Options{}); err != nil {
					return err
				}
				return verifyExport(path, p, val)
			}
			_, res := train(t, prog, trainSet, val, Options{Dir: dir, Export: exp})
			h := res.History
			if !(h[len(h)-1].TrainLoss < h[0].TrainLoss) {
				t.Fatalf("training loss did not fall: first %v, last %v", h[0].TrainLoss, h[len(h)-1].TrainLoss)
			}
			if _, ok := h[len(h)-1].Val[c.monitor]; !ok {
				t.Fatalf("validation has no %s: %v", c.monitor, h[len(h)-1].Val)
			}
			for _, name := range prog.Spec.Outputs.Monitors() {
				// At the last labelled step of a length-of-stay task
				// every sequence is in bucket 0: its AUROC is undefined.
				lastOnly := prog.Spec.Outputs.PerStep && !strings.HasPrefix(name, compiler.StepMetricPrefix)
				if _, ok := h[len(h)-1].Val[name]; !ok && !lastOnly && !strings.HasSuffix(name, "precision_at_10") {
					t.Errorf("validation has no %s: %v", name, h[len(h)-1].Val)
				}
			}
			// metrics.csv has a column for each of the kind's metrics,
			// filled in (but where undefined, at the last labelled step).
			csv, err := os.ReadFile(filepath.Join(dir, MetricsFile))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
			header, row := strings.Split(lines[0], ","), strings.Split(lines[len(lines)-1], ",")
			for j, col := range header {
				if row[j] == "" && !prog.Spec.Outputs.PerStep {
					t.Errorf("metrics.csv: %s is empty in the last epoch:\n%s", col, csv)
				}
			}
			if !strings.Contains(lines[0], ",val_"+c.monitor+",") {
				t.Errorf("metrics.csv has no val_%s: %s", c.monitor, lines[0])
			}
			last, steps, err := runModelFile(filepath.Join(dir, ModelFile), val, prog.Spec.Outputs.PerStep)
			if err != nil {
				t.Fatal(err)
			}
			W := prog.Spec.Outputs.Width()
			if len(last) != val.N()*W || (prog.Spec.Outputs.PerStep && len(steps) != val.N()) {
				t.Fatalf("model.onnx gave %d values and %d step rows for %d sequences of %d", len(last), len(steps), val.N(), W)
			}
			if prog.Spec.Outputs.Kind() == compiler.KindClasses {
				for i := 0; i < val.N(); i++ {
					var sum float64
					for _, p := range last[i*W : (i+1)*W] {
						sum += float64(p)
					}
					if math.Abs(sum-1) > 1e-5 {
						t.Fatalf("probs of sequence %d sum to %v", i, sum)
					}
				}
			}
		})
	}
}

// TestHeadsResume: for every kind, 3 epochs straight equal 2 epochs, a
// checkpoint and 1 more, bit for bit.
func TestHeadsResume(t *testing.T) {
	for _, c := range headSpecs {
		t.Run(c.name, func(t *testing.T) {
			d := taskData(t, c.task, 100, 2)
			trainSet, val := d.Split(0.25, 1)
			epochs := func(n int) func(*compiler.Spec) { return func(s *compiler.Spec) { s.Training.Epochs = n } }
			straight, sres := train(t, compileSpec(t, c.spec, epochs(3)), trainSet, val, Options{})
			dir := t.TempDir()
			train(t, compileSpec(t, c.spec, epochs(2)), trainSet, val, Options{Dir: dir})
			ck, err := ReadCheckpoint(filepath.Join(dir, CheckpointFile))
			if err != nil {
				t.Fatal(err)
			}
			resumed, rres := train(t, compileSpec(t, c.spec, epochs(3)), trainSet, val, Options{Dir: dir, Resume: ck})
			if i, same := sameBits(straight, resumed); !same {
				t.Fatalf("resumed run differs at parameter %d: %v vs %v", i, resumed[i], straight[i])
			}
			if a, b := sres.History[2].Val[c.monitor], rres.History[2].Val[c.monitor]; a != b {
				t.Fatalf("val_%s %v after resuming, %v straight", c.monitor, b, a)
			}
		})
	}
}

// TestHeadLabelErrors: labels a head cannot learn from are refused with the
// file, the sequence (and step) and what is wrong.
func TestHeadLabelErrors(t *testing.T) {
	classes := taskData(t, data.TaskClasses, 20, 1)
	classes.Source = "c.npz"
	classes.Y[3] = 4
	steps := taskData(t, data.TaskDecompensation, 20, 1)
	steps.Source = "s.npz"
	steps.YStep[2][5] = 0.5
	values := taskData(t, data.TaskRegression, 20, 1)
	values.Source = "v.npz"
	values.Y[1] = float32(math.NaN())
	perSeq := synth(20, 1, 1)
	perSeq.Source = "p.npz"
	for _, c := range []struct {
		spec string
		d    *data.Dataset
		want string
	}{
		{headSpecs[0].spec, classes, "c.npz: sequence 3, class: expected a class index 0..3 (outputs.classes has 4 classes), found 4"},
		{headSpecs[3].spec, steps, "s.npz: sequence 2, step 6, label y: expected a binary label 0 or 1, found 0.5"},
		{headSpecs[1].spec, values, "v.npz: sequence 1, target v: the label is missing (NaN); only outputs.per_step allows unlabelled steps"},
		{headSpecs[3].spec, perSeq, "p.npz: outputs.per_step is set, but the data has labels per sequence, not per step"},
		{headSpecs[1].spec, steps, "s.npz: the data has labels per step; set outputs.per_step to train on them"},
	} {
		_, err := NewTrainer(compileSpec(t, c.spec, nil), c.d, nil, Options{})
		if err == nil || err.Error() != c.want {
			t.Errorf("NewTrainer: %v\nwant %s", err, c.want)
		}
	}
}

// TestInitRefusesAnotherKind: --init takes weights from a model of the same
// kind of head only, and says which kinds differ.
func TestInitRefusesAnotherKind(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "labels.onnx")
	labels := compileSpec(t, "inputs: {features: 3}\nlayers: [{lstm: {units: 8}}]\noutputs: {labels: 4}\n", nil)
	if err := WriteModelFile(file, labels, export.Options{}); err != nil {
		t.Fatal(err)
	}
	_, err := initProgram(compileSpec(t, headSpecs[0].spec, nil), file)
	want := file + ": is a model of labels, the spec's outputs are classes; --init takes the weights of a model with the same kind of head"
	if err == nil || err.Error() != want {
		t.Fatalf("initProgram: %v\nwant %s", err, want)
	}
	classes := compileSpec(t, headSpecs[0].spec, nil)
	cfile := filepath.Join(dir, "classes.onnx")
	if err := WriteModelFile(cfile, classes, export.Options{}); err != nil {
		t.Fatal(err)
	}
	p, err := initProgram(compileSpec(t, headSpecs[0].spec, func(s *compiler.Spec) { s.Training.Seed = 9 }), cfile)
	if err != nil {
		t.Fatal(err)
	}
	if _, same := sameBits(p.Graph.Param("head.W").Tensor.F32, classes.Graph.Param("head.W").Tensor.F32); !same {
		t.Fatal("--init from a classes model did not copy its head")
	}
}

// TestTargetStatisticsRestoredInTheModel: with normalize_targets the
// trainer fits the targets' mean and deviation on the training split, and
// the model's values are in the data's units.
func TestTargetStatisticsRestoredInTheModel(t *testing.T) {
	d := taskData(t, data.TaskRegression, 120, 4)
	for i := range d.Y {
		d.Y[i] = 1000 + 50*d.Y[i]
	}
	_, res := train(t, compileSpec(t, headSpecs[2].spec, nil), d, nil, Options{})
	mean := res.Program.Graph.Param(compiler.ParamTargetMean).Tensor.F32[0]
	var want float64
	for _, v := range d.Y {
		want += float64(v)
	}
	want /= float64(d.N())
	if math.Abs(float64(mean)-want) > 1e-3 {
		t.Fatalf("targets.mean %v, want the training mean %v", mean, want)
	}
	m, err := NewModel(res.Program)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	v := m.Predict(d)
	m.Activate(v)
	var mse float64
	for i, y := range d.Y {
		mse += (float64(v[i]) - float64(y)) * (float64(v[i]) - float64(y))
	}
	if mse /= float64(d.N()); !(mse < 50*50*10*10/12.0) {
		t.Fatalf("MSE %v in the data's units is no better than predicting the mean", mse)
	}
}

// TestStandardisedLossNote: a run with normalize_targets says that its
// training losses are in standardised units, and a run without says
// nothing of the kind.
func TestStandardisedLossNote(t *testing.T) {
	dir := t.TempDir()
	if err := data.WriteNPZ(filepath.Join(dir, "d.npz"), taskData(t, data.TaskRegression, 40, 2)); err != nil {
		t.Fatal(err)
	}
	for _, norm := range []bool{true, false} {
		spec := filepath.Join(dir, fmt.Sprintf("s-%v.yaml", norm))
		text := fmt.Sprintf("inputs: {features: 3}\nlayers: [{gru: {units: 4}}]\noutputs: {targets: [v], normalize_targets: %v}\n"+
			"training: {epochs: 1, batch_size: 20, validation: {split: 0.25}}\ndata: {train: d.npz}\n", norm)
		if err := os.WriteFile(spec, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		var n noter
		if _, err := Train(context.Background(), Config{SpecFile: spec, Out: filepath.Join(dir, fmt.Sprint(norm)), Progress: &n}); err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(n.notes, StandardisedLossNote); got != norm {
			t.Errorf("normalize_targets %v: notes %q", norm, n.notes)
		}
	}
}
