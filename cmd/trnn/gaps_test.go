package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/ortcheck"
	"github.com/trnn/trnn/runtime"
)

const gapsSpec = `name: gaps
inputs:
  features: [hr, sbp, gcs]
  categorical:
    gcs: ["1 None", "2 Pain", "3 Speech", "4 Spontaneous"]
  missing: %MISSING%
  indicators: %INDICATORS%
layers:
  - gru: {units: 8}
outputs: {labels: [died]}
training:
  learning_rate: 0.02
  batch_size: 16
  epochs: 4
  seed: 3
  validation: {split: 0.25, monitor: auroc}
data:
  train: stays.csv
  bin: 1.0
  csv: {id: stay, step: hours}
`

// writeGapsCSV writes n stays of irregular, gappy rows: times in hours
// (several rows may share a bin, some bins have none), empty and NA cells,
// and the coma scale as text. Death follows a low first coma score.
func writeGapsCSV(t *testing.T, path string, n int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(4, 4))
	gcs := []string{"1 None", "2 Pain", "3 Speech", "4 Spontaneous"}
	var b strings.Builder
	b.WriteString("stay,hours,hr,sbp,gcs,died\n")
	for s := range n {
		first := rng.IntN(4)
		died := 0
		if first < 2 {
			died = 1
		}
		h := 0.0
		for r := range 2 + rng.IntN(12) {
			cell := func(v string) string {
				switch x := rng.Float64(); {
				case x < 0.25:
					return ""
				case x < 0.3:
					return "NA"
				}
				return v
			}
			g := cell(gcs[rng.IntN(4)])
			if r == 0 {
				g = gcs[first]
			}
			fmt.Fprintf(&b, "s%d,%.2f,%s,%s,%q,%d\n", s, h, cell(strconv.Itoa(60+rng.IntN(60))), cell(strconv.Itoa(90+rng.IntN(50))), g, died)
			h += rng.Float64() * 2.5
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeGapsSpec(t *testing.T, dir, missing string, indicators bool) string {
	t.Helper()
	src := strings.NewReplacer("%MISSING%", missing, "%INDICATORS%", strconv.FormatBool(indicators)).Replace(gapsSpec)
	path := filepath.Join(dir, "gaps-"+missing+".yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTrainFromCSVWithGaps: a CSV with empty and NA cells, irregular times
// and a categorical text column trains, and the model it writes, run by
// ONNX Runtime on the raw rows (NaN gaps, category indices), gives what
// trnn predict gives.
func TestTrainFromCSVWithGaps(t *testing.T) {
	dir := t.TempDir()
	writeGapsCSV(t, filepath.Join(dir, "stays.csv"), 120)
	for _, c := range []struct {
		missing    string
		indicators bool
		channels   string
	}{
		{"forward_fill", true, "inputs: 3 features (1 categorical → 4 one-hot channels), missing: forward_fill with indicators → 9 channels"},
		{"zero", false, "inputs: 3 features (1 categorical → 4 one-hot channels), missing: zero → 6 channels"},
	} {
		spec := writeGapsSpec(t, dir, c.missing, c.indicators)
		if status, out, errs := trnnCmd(t, "check", spec); status != 0 || !strings.Contains(out, c.channels) {
			t.Fatalf("check: status %d, want %q in\n%s%s", status, c.channels, out, errs)
		}
		run := filepath.Join(dir, "run-"+c.missing)
		status, out, errs := trnnCmd(t, "train", spec, "-o", run, "--quiet")
		if status != 0 {
			t.Fatalf("train %s: status %d\n%s%s", c.missing, status, out, errs)
		}
		model := filepath.Join(run, runtime.ModelFile)
		pred := filepath.Join(dir, "pred-"+c.missing+".csv")
		if status, out, errs := trnnCmd(t, "predict", model, "--data", filepath.Join(dir, "stays.csv"), "-o", pred); status != 0 {
			t.Fatalf("predict: status %d\n%s%s", status, out, errs)
		}
		rows := readCSV(t, pred)
		if len(rows) != 121 {
			t.Fatalf("predict wrote %d rows, want 120 and a header", len(rows)-1)
		}
		if status, out, errs := trnnCmd(t, "eval", model, "--data", filepath.Join(dir, "stays.csv")); status != 0 || !strings.Contains(out, "auroc") {
			t.Fatalf("eval: status %d\n%s%s", status, out, errs)
		}
		checkGapsWithORT(t, model, filepath.Join(dir, "stays.csv"), rows[1:])
		steps := filepath.Join(dir, "steps-"+c.missing+".csv")
		if status, out, errs := trnnCmd(t, "predict", model, "--data", filepath.Join(dir, "stays.csv"), "--per-step", "-o", steps); status != 0 {
			t.Fatalf("predict --per-step: status %d\n%s%s", status, out, errs)
		}
		last := map[string]string{}
		for _, row := range readCSV(t, steps)[1:] {
			last[row[0]] = row[2]
		}
		for _, row := range rows[1:] {
			a, _ := strconv.ParseFloat(row[1], 64)
			b, _ := strconv.ParseFloat(last[row[0]], 64)
			if math.Abs(a-b) > 1e-6 {
				t.Fatalf("stay %s: the last per-step probability %v differs from predict's %v", row[0], b, a)
			}
		}
		step := filepath.Join(dir, "step-"+c.missing+".onnx")
		if status, out, errs := trnnCmd(t, "export", filepath.Join(run, runtime.CheckpointFile), "-o", step, "--stateful"); status != 0 {
			t.Fatalf("export --stateful: status %d\n%s%s", status, out, errs)
		}
		s, err := trnn.Load(step)
		if err != nil {
			t.Fatal(err)
		}
		fill := slices.ContainsFunc(s.Inputs(), func(v graph.Value) bool { return v.Name == export.FillInput })
		if fill != (c.missing == "forward_fill") {
			t.Fatalf("export --stateful with missing: %s: fill_in among the inputs %v: %v", c.missing, s.Inputs(), fill)
		}
	}
}

// checkGapsWithORT runs the model in ONNX Runtime on the raw rows of file
// and compares with predict's rows (id, p_died).
func checkGapsWithORT(t *testing.T, model, file string, pred [][]string) {
	t.Helper()
	ortcheck.Require(t)
	d, err := data.Load(file, data.Schema{Features: 3, Labels: 1, LabelMode: data.LabelsIgnored, Missing: true, Bin: 1,
		Categories: [][]string{nil, nil, {"1 None", "2 Pain", "3 Speech", "4 Spontaneous"}},
		Columns:    data.Columns{ID: "stay", Step: "hours", Features: []string{"hr", "sbp", "gcs"}, Labels: []string{"died"}}})
	if err != nil {
		t.Fatal(err)
	}
	gaps := 0
	for _, seq := range d.X {
		for _, v := range seq {
			if math.IsNaN(float64(v)) {
				gaps++
			}
		}
	}
	if gaps == 0 {
		t.Fatal("the data has no gaps")
	}
	idx := make([]int, d.N())
	for i := range idx {
		idx[i] = i
	}
	x, lengths, T := d.Padded(idx)
	b, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ortcheck.Run(b, map[string]*graph.Tensor{
		"x":       graph.FromF32(x, d.N(), T, d.F),
		"lengths": {DType: graph.Int32, Shape: []int{d.N()}, I32: lengths},
	}, []string{"probs"})
	if err != nil {
		t.Fatal(err)
	}
	for i, row := range pred {
		p, _ := strconv.ParseFloat(row[1], 64)
		if row[0] != d.ID(i) || math.Abs(p-float64(out["probs"].F32[i])) > 1e-5 {
			t.Fatalf("stay %s: predict %v, ONNX Runtime %v (row %v)", d.ID(i), p, out["probs"].F32[i], row)
		}
	}
	t.Logf("%s: %d stays with %d missing values; predict agrees with ONNX Runtime", filepath.Base(model), d.N(), gaps)
}

// TestGapsErrors: an unknown category is an error naming the file, line
// and column; with missing: refuse an empty cell is refused.
func TestGapsErrors(t *testing.T) {
	dir := t.TempDir()
	writeGapsCSV(t, filepath.Join(dir, "stays.csv"), 20)
	b, _ := os.ReadFile(filepath.Join(dir, "stays.csv"))
	lines := strings.Split(string(b), "\n")
	lines[1] = strings.Replace(lines[1], "Pain", "Pian", 1)
	lines[1] = strings.Replace(lines[1], "None", "Nnoe", 1)
	lines[1] = strings.Replace(lines[1], "Speech", "Speeck", 1)
	lines[1] = strings.Replace(lines[1], "Spontaneous", "Spontaneuos", 1)
	if err := os.WriteFile(filepath.Join(dir, "stays.csv"), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := writeGapsSpec(t, dir, "mean", true)
	status, _, errs := trnnCmd(t, "train", spec, "-o", filepath.Join(dir, "run"), "--quiet")
	if status == 0 || !strings.Contains(errs, "stays.csv:2") || !strings.Contains(errs, "gcs") {
		t.Fatalf("an unknown category: status %d, want an error naming stays.csv:2 and column gcs:\n%s", status, errs)
	}
	t.Logf("unknown category: %s", strings.TrimSpace(errs))
	writeGapsCSV(t, filepath.Join(dir, "stays.csv"), 20)
	src, _ := os.ReadFile(spec)
	refuse := strings.Replace(strings.Replace(string(src), "missing: mean", "missing: refuse", 1), "indicators: true", "indicators: false", 1)
	if err := os.WriteFile(spec, []byte(refuse), 0o644); err != nil {
		t.Fatal(err)
	}
	status, _, errs = trnnCmd(t, "train", spec, "-o", filepath.Join(dir, "run"), "--quiet")
	if status == 0 || !strings.Contains(errs, "stays.csv:") {
		t.Fatalf("an empty cell with missing: refuse: status %d, want an error naming the file and line:\n%s", status, errs)
	}
	t.Logf("missing: refuse: %s", strings.TrimSpace(errs))
}
