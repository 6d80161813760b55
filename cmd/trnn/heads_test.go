package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/runtime"
)

// TestSynthTask: --task writes, byte for byte, the NPZ file of data.SynthTask
// with the other flags' sizes and seed, and CSV, Parquet and an episodes
// folder that the spec sections it prints read as the same data; it
// refuses unknown tasks and the flags of the default story.
func TestSynthTask(t *testing.T) {
	dir := t.TempDir()
	for _, task := range data.SynthTasks {
		d, err := data.SynthTask(task, data.SynthOptions{N: 12, MinLen: 3, MaxLen: 9, F: 3, Seed: 4, PosRate: 0.3})
		if err != nil {
			t.Fatal(err)
		}
		for _, form := range []string{".npz", ".csv", ".parquet", "/"} {
			out := filepath.Join(dir, task+strings.TrimSuffix(form, "/"))
			if form == "/" {
				out += "-episodes/"
			}
			status, stdout, errs := trnnCmd(t, "synth", "-o", out, "--task", task, "--n", "12", "--min-len", "3", "--max-len", "9", "--seed", "4")
			if status != 0 || !strings.Contains(stdout, "task "+task+", 12 sequences") {
				t.Fatalf("synth --task %s -o %s: status %d, %s%s", task, out, status, stdout, errs)
			}
			if form == ".npz" {
				want := filepath.Join(dir, "want.npz")
				if err := data.WriteNPZ(want, d); err != nil {
					t.Fatal(err)
				}
				a, _ := os.ReadFile(out)
				b, _ := os.ReadFile(want)
				if !bytes.Equal(a, b) {
					t.Errorf("synth --task %s wrote other data than data.SynthTask", task)
				}
			}
			got := loadPrintedSpec(t, stdout, dir)
			if !sameSteps(got, d) {
				t.Errorf("synth --task %s -o %s: the spec it prints reads other data than data.SynthTask", task, out)
			}
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", filepath.Join(dir, "x.csv"), "--task", "los", "--gaps", "0.2"}, "--gaps does not apply to --task: a task's data has one label, on a regular grid of steps with every value observed"},
		{[]string{"-o", filepath.Join(dir, "x"), "--task", "los", "--labels", "2"}, "--labels does not apply to --task"},
		{[]string{"-o", filepath.Join(dir, "x.npz"), "--task", "mortality"}, `--task: expected one of [decompensation los los-regression classes regression], got "mortality"`},
	} {
		status, _, errs := trnnCmd(t, append([]string{"synth"}, c.args...)...)
		if status != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("synth %v: status %d, %q; want %q", c.args, status, errs, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
		t.Error("a refused synth --task wrote its folder")
	}
}

// loadPrintedSpec loads the data that the spec sections synth printed in
// stdout read, as training does.
func loadPrintedSpec(t *testing.T, stdout, dir string) *data.Dataset {
	t.Helper()
	_, sections, ok := strings.Cut(stdout, "a spec reads it with:\n")
	if !ok {
		t.Fatalf("synth printed no spec sections:\n%s", stdout)
	}
	spec, err := compiler.Parse(filepath.Join(dir, "printed.yaml"), []byte(sections+"layers: [{lstm: {units: 2}}]\n"))
	if err != nil {
		t.Fatalf("the printed spec sections: %v\n%s", err, sections)
	}
	d, err := data.Load(spec.Path(spec.Data.Train), runtime.DataSchema(spec))
	if err != nil {
		t.Fatalf("the printed spec sections: %v\n%s", err, sections)
	}
	return d
}

// sameSteps reports whether d and e hold the same steps and labels, bit
// for bit, whatever their ids, names and step values.
func sameSteps(d, e *data.Dataset) bool {
	bits := func(x, y []float32) bool {
		return slices.EqualFunc(x, y, func(u, v float32) bool { return math.Float32bits(u) == math.Float32bits(v) })
	}
	rows := func(x, y [][]float32) bool { return slices.EqualFunc(x, y, bits) }
	return d.F == e.F && d.K == e.K && d.Target == e.Target && rows(d.X, e.X) && bits(d.Y, e.Y) &&
		(d.Y == nil) == (e.Y == nil) && rows(d.YStep, e.YStep) && (d.YStep == nil) == (e.YStep == nil)
}

// headSession compiles and exports a model with the given outputs section,
// and loads it as eval and predict do.
func headSession(t *testing.T, outputs string) (*trnn.Session, *compiler.Spec) {
	t.Helper()
	spec, err := compiler.Parse("heads.yaml", []byte("inputs: {features: 3}\nlayers: [{gru: {units: 5}}]\noutputs: "+outputs+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := compiler.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Initialize(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := runtime.WriteModel(&buf, prog, export.Options{}); err != nil {
		t.Fatal(err)
	}
	sess, err := trnn.LoadBytes("heads.onnx", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	back, err := modelSpec("heads.onnx", sess)
	if err != nil {
		t.Fatal(err)
	}
	return sess, back
}

// TestEvalHeads: eval of a model of classes, targets and per-step labels
// reports the kind's metrics (JSON and table; the confusion matrix for
// classes) and refuses the flags of sigmoid labels.
func TestEvalHeads(t *testing.T) {
	for _, c := range []struct {
		outputs, task string
		metrics       []string
		table         []string
	}{
		{"{classes: [a, b, c, d]}", data.TaskClasses, []string{"loss", "accuracy", "macro_auroc", "kappa"},
			[]string{"4 classes, final step", "confusion matrix over sequences (rows: true class, columns: predicted class)", "  a  "}},
		{"{classes: [b0, b1, b2, b3, b4, b5, b6, b7, b8, b9], per_step: true}", data.TaskLOS, []string{"step_kappa", "step_accuracy", "accuracy"},
			[]string{"10 classes, last labelled step", "confusion matrix over labelled steps"}},
		{"{targets: [v]}", data.TaskRegression, []string{"loss", "mse", "mae", "r2"}, []string{"1 target, final step", "r2 "}},
		{"{labels: 1, per_step: true}", data.TaskDecompensation, []string{"auroc", "step_auroc", "step_auprc", "step_loss"},
			[]string{"1 label, last labelled step, and step_ metrics over", "step_auroc"}},
	} {
		sess, spec := headSession(t, c.outputs)
		d, err := data.SynthTask(c.task, data.SynthOptions{N: 30, MinLen: 6, MaxLen: 12, F: 3, Seed: 1, PosRate: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		cmd := newEvalCmd()
		f := &evalFlags{dataFile: "d.npz"}
		rep, err := evaluateHead(cmd, "m.onnx", f, sess, spec, d)
		if err != nil {
			t.Fatalf("%s: %v", c.outputs, err)
		}
		js, _ := json.Marshal(rep)
		var back struct {
			Head    string              `json:"head"`
			Metrics map[string]*float64 `json:"metrics"`
		}
		if err := json.Unmarshal(js, &back); err != nil {
			t.Fatal(err)
		}
		for _, m := range c.metrics {
			if v, ok := back.Metrics[m]; !ok || v == nil {
				t.Errorf("%s: eval --json has no %s: %s", c.outputs, m, js)
			}
		}
		var table bytes.Buffer
		writeHeadTable(&table, rep)
		for _, s := range c.table {
			if !strings.Contains(table.String(), s) {
				t.Errorf("%s: the table lacks %q:\n%s", c.outputs, s, table.String())
			}
		}
		cmd.Flags().Set("threshold", "best_f1")
		if _, err := evaluateHead(cmd, "m.onnx", f, sess, spec, d); err == nil || !strings.Contains(err.Error(), "--threshold: applies to models of per-sequence sigmoid labels, and m.onnx is a model of") {
			t.Errorf("%s: --threshold gave %v", c.outputs, err)
		}
	}
}

// TestPredictHeads: predict names its columns p_<class> and v_<target>, and
// writes one row per step for a per-step model, with the step's label.
func TestPredictHeads(t *testing.T) {
	for _, c := range []struct {
		outputs, task string
		perStep       bool
		header        string
		rows          int
	}{
		{"{classes: [short, long]}", data.TaskClasses, false, "id,p_short,p_long,y", 5},
		{"{targets: [hours, cost]}", data.TaskRegression, false, "id,v_hours,v_cost", 5},
		{"{classes: [b0, b1, b2], per_step: true}", data.TaskLOS, true, "id,step,p_b0,p_b1,p_b2,y", 5 * 6},
	} {
		sess, spec := headSession(t, c.outputs)
		d, err := data.SynthTask(c.task, data.SynthOptions{N: 5, MinLen: 6, MaxLen: 6, F: 3, Seed: 1, PosRate: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		if spec.Outputs.Kind() == compiler.KindTargets {
			d.Y = nil // unlabelled data: no label columns
		}
		cols := newPredColumns(spec.Outputs)
		var out bytes.Buffer
		if c.perStep {
			err = writeStepPredictions(&out, sess, d, cols)
		} else {
			err = writePredictions(&out, sess, d, cols)
		}
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if lines[0] != c.header || len(lines) != 1+c.rows {
			t.Errorf("%s: header %q and %d rows, want %q and %d:\n%s", c.outputs, lines[0], len(lines)-1, c.header, c.rows, out.String())
		}
		if c.perStep {
			// The first four steps have no label: an empty cell.
			if !strings.HasSuffix(lines[1], ",") || strings.HasSuffix(lines[5], ",") {
				t.Errorf("per-step labels: %q, %q", lines[1], lines[5])
			}
		}
	}
}

// TestCheckPrintsTheHead: trnn check names the head and the loss.
func TestCheckPrintsTheHead(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ outputs, objective, want string }{
		{"{classes: [a, b, c]}", "{target_replication: {alpha: 0.25, average: linear_gain}}", "head: softmax over 3 classes; loss: cross-entropy, target replication α=0.25 linear_gain"},
		{"{targets: 2, normalize_targets: true}", "{target_replication: {alpha: 0}}", "head: identity, 2 regression targets, standardised on the training split and restored in the model; loss: squared error, final step only (target replication α=0)"},
		{"{labels: 1, per_step: true}", "{pos_weight: [3]}", "head: sigmoid, 1 binary label at every step; loss: binary cross-entropy with pos_weight, mean over labelled steps (per_step)"},
	} {
		file := filepath.Join(dir, "s.yaml")
		src := fmt.Sprintf("inputs: {features: 2}\nlayers: [{lstm: {units: 3}}]\noutputs: %s\nobjective: %s\n", c.outputs, c.objective)
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		status, stdout, stderr := trnnCmd(t, "check", file)
		if status != 0 || !strings.HasSuffix(stdout, c.want+"\n") {
			t.Errorf("check %s: status %d, %s%s\nwant the line %s", c.outputs, status, stdout, stderr, c.want)
		}
	}
}
