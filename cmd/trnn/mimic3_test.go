package main

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/ortcheck"
	"github.com/trnn/trnn/runtime"
)

// TestExampleSpecsCompile: every spec under examples/ parses and compiles,
// and the two clinical ones read mimic3-benchmarks' 17 variables, five of
// them categorical, as the synthetic stays name them.
func TestExampleSpecsCompile(t *testing.T) {
	specs, err := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	if err != nil || len(specs) < 5 {
		t.Fatalf("examples: %v, %d specs", err, len(specs))
	}
	for _, path := range specs {
		if _, err := compiler.CompileFile(path); err != nil {
			t.Errorf("%s: %v", path, err)
		}
	}
	for _, c := range []struct {
		name string
		K    int
	}{{"mimic3-ihm.yaml", 1}, {"mimic3-phenotyping.yaml", 25}} {
		s, err := compiler.ParseFile(filepath.Join("..", "..", "examples", c.name))
		if err != nil {
			t.Fatal(err)
		}
		cols, cats := data.Mimic3Table(c.K)
		if !slices.Equal(s.Inputs.FeatureNames, cols.Features) || !slices.EqualFunc(s.Inputs.Categories, cats, slices.Equal) ||
			s.Inputs.Missing != compiler.MissingForwardFill || !s.Inputs.Indicators || s.Data.Bin != 1 {
			t.Errorf("%s: inputs %+v, data %+v", c.name, s.Inputs, s.Data)
		}
		if c.K > 1 && !slices.Equal(s.Outputs.LabelNames, cols.Labels) {
			t.Errorf("%s: labels %q, want the phenotypes %q", c.name, s.Outputs.LabelNames, cols.Labels)
		}
	}
}

// TestSynthMimic3Flag: --mimic3 writes stays named and laid out as
// mimic3-benchmarks' task folders (48 hours unless --min-len and --max-len
// say otherwise, 25 phenotype columns with --labels 25), the same for the
// same seed, and refuses the flags of the plain story.
func TestSynthMimic3Flag(t *testing.T) {
	dir := t.TempDir()
	synth := func(out string, args ...string) {
		t.Helper()
		if status, _, errs := trnnCmd(t, append([]string{"synth", "--mimic3", "-o", out, "--n", "20"}, args...)...); status != 0 {
			t.Fatalf("synth --mimic3 %v: %s", args, errs)
		}
	}
	synth(filepath.Join(dir, "a"))
	synth(filepath.Join(dir, "b"))
	list := readCSV(t, filepath.Join(dir, "a", "listfile.csv"))
	cols, _ := data.Mimic3Table(1)
	if len(list) != 21 || !slices.Equal(list[0], []string{"stay", "y_true"}) {
		t.Fatalf("listfile header %q, %d rows", list[0], len(list)-1)
	}
	for _, row := range list[1:] {
		if !strings.HasSuffix(row[0], "_timeseries.csv") || !strings.Contains(row[0], "_episode") {
			t.Errorf("stay %q is not named like 10011_episode1_timeseries.csv", row[0])
		}
		stay := readCSV(t, filepath.Join(dir, "a", row[0]))
		if !slices.Equal(stay[0], append([]string{"Hours"}, cols.Features...)) {
			t.Fatalf("stay header %q", stay[0])
		}
		last, err := strconv.ParseFloat(stay[len(stay)-1][0], 64)
		if err != nil || last < 40 || last >= 48 {
			t.Errorf("%s: last row at %v hours, want within the 48th", row[0], stay[len(stay)-1][0])
		}
		again, _ := os.ReadFile(filepath.Join(dir, "b", row[0]))
		if first, _ := os.ReadFile(filepath.Join(dir, "a", row[0])); string(first) != string(again) {
			t.Errorf("%s: the same seed wrote another file", row[0])
		}
	}

	synth(filepath.Join(dir, "p.csv"), "--labels", "25", "--min-len", "5", "--max-len", "10", "--seed", "2")
	rows := readCSV(t, filepath.Join(dir, "p.csv"))
	pheno, _ := data.Mimic3Table(25)
	if want := append(append([]string{"stay", "Hours"}, pheno.Features...), pheno.Labels...); !slices.Equal(rows[0], want) {
		t.Fatalf("--labels 25 as CSV: header %q", rows[0])
	}
	for _, r := range rows[1:] {
		if h, err := strconv.ParseFloat(r[1], 64); err != nil || h >= 10 {
			t.Fatalf("--max-len 10: a row at %q hours", r[1])
		}
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", filepath.Join(dir, "x"), "--features", "4"}, "--features does not apply to --mimic3"},
		{[]string{"-o", filepath.Join(dir, "x"), "--gaps", "0.2"}, "--gaps does not apply to --mimic3"},
		{[]string{"-o", filepath.Join(dir, "x.npz")}, "--mimic3: an NPZ file has no times"},
		{[]string{"-o", filepath.Join(dir, "x"), "--labels", "3"}, "--labels: with --mimic3, 1 (in-hospital mortality) or 25 (phenotypes), got 3"},
		{[]string{"-o", filepath.Join(dir, "x"), "--min-len", "60"}, ""},
		{[]string{"-o", filepath.Join(dir, "a")}, "is a folder; give a file name"},
	} {
		status, _, errs := trnnCmd(t, append([]string{"synth", "--mimic3", "--n", "2"}, c.args...)...)
		if c.want == "" && status != 0 || c.want != "" && (status != 2 || !strings.Contains(errs, c.want) || strings.Count(errs, "\n") != 1) {
			t.Errorf("synth --mimic3 %v: status %d, %q; want %q", c.args, status, errs, c.want)
		}
	}
}

// TestMimic3ExampleEndToEnd trains examples/mimic3-ihm.yaml for an epoch on
// a few synthetic stays, as its comment says, then evaluates and scores the
// episodes folder: predict names rows by stay and hourly step, gives what
// it gives for the same stays as a long-form CSV file and what ONNX Runtime
// gives on the raw hourly rows (NaN gaps, category indices); a folder
// without labels is scored by predict and refused by eval.
func TestMimic3ExampleEndToEnd(t *testing.T) {
	dir := t.TempDir()
	ep, table := filepath.Join(dir, "ihm")+"/", filepath.Join(dir, "ihm.csv")
	for _, out := range []string{ep, table} {
		if status, _, errs := trnnCmd(t, "synth", "--mimic3", "-o", out, "--n", "60", "--min-len", "12", "--max-len", "24", "--pos-rate", "0.3"); status != 0 {
			t.Fatal(errs)
		}
	}
	run := filepath.Join(dir, "run")
	spec := filepath.Join("..", "..", "examples", "mimic3-ihm.yaml")
	status, out, errs := trnnCmd(t, "train", spec, "--data", ep, "--epochs", "1", "-o", run, "--quiet")
	if status != 0 {
		t.Fatalf("train: status %d\n%s%s", status, out, errs)
	}
	if _, err := os.Stat(filepath.Join(run, "test.json")); err != nil {
		t.Errorf("the test split was not scored: %v", err)
	}
	onFolder, onTable := evalJSON(t, run, "--data", ep), evalJSON(t, run, "--data", table)
	if a, b := onFolder.Metrics["auroc"], onTable.Metrics["auroc"]; !a.OK || a != b || onFolder.Sequences != 60 {
		t.Errorf("eval: auroc %v on the folder, %v on the CSV file, %d stays", a, b, onFolder.Sequences)
	}
	p := predictRows(t, run, "--data", ep)
	q := predictRows(t, run, "--data", table)
	if len(p) != 61 || !slices.Equal(p[0], []string{"id", "p_died"}) {
		t.Fatalf("predict on the folder: header %q, %d rows", p[0], len(p)-1)
	}
	for i := 1; i < len(p); i++ {
		if p[i][0] != q[i][0]+"_timeseries.csv" || p[i][1] != q[i][1] {
			t.Errorf("row %d: %q on the folder, %q on the CSV file", i, p[i], q[i])
		}
	}
	mimic3WithORT(t, filepath.Join(run, runtime.ModelFile), ep, p)
	steps := predictRows(t, run, "--data", ep, "--per-step")
	if !slices.Equal(steps[1][:2], []string{p[1][0], "0"}) || !slices.Equal(steps[2][:2], []string{p[1][0], "1"}) {
		t.Errorf("predict --per-step: rows %q, %q, want the first stay's hours 0 and 1", steps[1], steps[2])
	}

	list := filepath.Join(ep, "listfile.csv")
	rows := readCSV(t, list)
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(r[0] + "\n")
	}
	if err := os.WriteFile(list, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if u := predictRows(t, run, "--data", ep); !slices.EqualFunc(u, p, slices.Equal) {
		t.Error("predict on the folder without labels gives other rows")
	}
	status, _, errs = trnnCmd(t, "eval", run, "--data", ep)
	if status == 0 || !strings.Contains(errs, "the data has no labels") {
		t.Errorf("eval without labels: status %d, %s", status, errs)
	}
}

// mimic3WithORT runs model in ONNX Runtime on the stays of the episodes
// folder dir, binned by the hour, gaps as NaN and categories as indices,
// and compares with predict's rows (id, p_died).
func mimic3WithORT(t *testing.T, model, dir string, pred [][]string) {
	t.Helper()
	ortcheck.Require(t)
	cols, cats := data.Mimic3Table(1)
	d, err := data.Load(dir, data.Schema{Features: 17, Labels: 1, Columns: cols, Categories: cats, Missing: true, Bin: 1, LabelMode: data.LabelsIgnored})
	if err != nil {
		t.Fatal(err)
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
	gaps := 0
	for _, v := range x {
		if v != v {
			gaps++
		}
	}
	for i, row := range pred[1:] {
		p, _ := strconv.ParseFloat(row[1], 64)
		if row[0] != d.ID(i) || math.Abs(p-float64(out["probs"].F32[i])) > 1e-5 {
			t.Fatalf("stay %s: predict %v, ONNX Runtime %v", d.ID(i), row, out["probs"].F32[i])
		}
	}
	if gaps < len(x)/3 {
		t.Errorf("%d of %d hourly values missing: the stays should be full of gaps", gaps, len(x))
	}
}
