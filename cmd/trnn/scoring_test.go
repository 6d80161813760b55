package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/runtime"
)

// predictRows runs predict and returns its CSV rows, header first.
func predictRows(t *testing.T, args ...string) [][]string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "p.csv")
	status, stdout, stderr := trnnCmd(t, append(append([]string{"predict"}, args...), "-o", out)...)
	if status != 0 {
		t.Fatalf("predict %v: status %d\n%s%s", args, status, stdout, stderr)
	}
	return readCSV(t, out)
}

// unlabelled is d without its labels.
func unlabelled(d *data.Dataset) *data.Dataset {
	u := *d
	u.Y = nil
	return &u
}

// TestPredictUnlabelled: scoring new data is the main use of predict, and
// new data has no labels. predict reads NPZ files without y and CSV files
// without label columns, and gives the rows it gives for the same
// sequences with labels; labels are not read unless --with-labels asks for
// them, so label cells predict does not use never stop it. eval still
// needs labels and says so in one line naming the file.
func TestPredictUnlabelled(t *testing.T) {
	dir := t.TempDir()
	model, cols := defaultExport(t, dir)
	d := randomData(5, 3, 4, 9, 2)
	noLabels := cols
	noLabels.Labels = nil
	files := map[string]func(string) error{
		"l.npz": func(p string) error { return data.WriteNPZ(p, d) },
		"u.npz": func(p string) error { return data.WriteNPZ(p, unlabelled(d)) },
		"l.csv": func(p string) error { return data.WriteCSV(p, d, cols) },
		"u.csv": func(p string) error { return data.WriteCSV(p, unlabelled(d), noLabels) },
	}
	for name, write := range files {
		if err := write(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	want := predictRows(t, model, "--data", filepath.Join(dir, "l.npz"))
	if !slices.Equal(want[0], []string{"id", "p_y"}) || len(want) != 4 {
		t.Fatalf("predict on labelled data: %v", want)
	}
	for _, name := range []string{"u.npz", "u.csv", "l.csv"} {
		if got := predictRows(t, model, "--data", filepath.Join(dir, name)); !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
	// Label cells that are not labels: ignored, unless --with-labels.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("id,step,f0,f1,f2,y\na,0,1,2,3,maybe\n"), 0o644)
	predictRows(t, model, "--data", bad)
	status, _, stderr := trnnCmd(t, "predict", model, "--data", bad, "--with-labels")
	if status != 1 || !strings.HasPrefix(stderr, bad+`:2: column "y": labels must be 0 or 1, got "maybe"`) {
		t.Errorf("--with-labels on bad labels: status %d, %q", status, stderr)
	}

	// --with-labels adds the labels after the probabilities; without
	// labels to add, it is an error.
	got := predictRows(t, model, "--data", filepath.Join(dir, "l.npz"), "--with-labels")
	if !slices.Equal(got[0], []string{"id", "p_y", "y"}) || got[2][2] != "1" || got[1][2] != "0" || got[2][1] != want[2][1] {
		t.Errorf("--with-labels: %v", got)
	}
	got = predictRows(t, model, "--data", filepath.Join(dir, "l.csv"), "--with-labels", "--per-step")
	if !slices.Equal(got[0], []string{"id", "step", "p_y", "y"}) || len(got) != 1+4+9+2 || got[5][3] != "1" {
		t.Errorf("--with-labels --per-step: %v", got)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"predict", model, "--data", filepath.Join(dir, "u.npz"), "--with-labels"},
			filepath.Join(dir, "u.npz") + `: the data has no labels (no array "y"); --with-labels adds them to the predictions` + "\n"},
		{[]string{"eval", model, "--data", filepath.Join(dir, "u.npz")},
			filepath.Join(dir, "u.npz") + `: the data has no labels (no array "y"); ` + needLabels + "\n"},
		{[]string{"eval", model, "--data", filepath.Join(dir, "u.csv")},
			filepath.Join(dir, "u.csv") + `: the data has no labels (no label column "y"); ` + needLabels + "\n"},
	} {
		status, _, stderr := trnnCmd(t, c.args...)
		if status != 1 || stderr != c.want {
			t.Errorf("%v: status %d, %q; want %q", c.args[:1], status, stderr, c.want)
		}
	}
}

// TestPredictJoinsBackToTheInput: per-step rows carry the input's own ids
// and step values (hours 0.5, 2, 10 in step order, not 1, 2, 3), and
// probability columns are p_<label>, never the label's own name, for
// every label of the model.
func TestPredictJoinsBackToTheInput(t *testing.T) {
	dir := t.TempDir()
	spec := compiler.DefaultSpec()
	spec.Name = "two"
	spec.Inputs.Features, spec.Inputs.FeatureNames = 2, []string{"hr", "sbp"}
	spec.Layers = []compiler.Layer{{Kind: compiler.LayerGRU, Units: 4}}
	spec.Outputs.Labels, spec.Outputs.LabelNames = 2, []string{"died", "sepsis"}
	prog, err := compiler.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Initialize(); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "model.onnx")
	if err := runtime.WriteModelFile(model, prog, export.Options{}); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "in.csv")
	os.WriteFile(in, []byte("id,step,hr,sbp,died,sepsis\n"+
		"p7,10,1,2,1,0\n"+
		"p3,4,5,6,0,0\n"+
		"p7,0.5,3,4,1,0\n"+
		"p7,2,7,8,1,0\n"), 0o644)
	rows := predictRows(t, model, "--data", in, "--per-step", "--with-labels")
	want := [][]string{{"id", "step", "p_died", "p_sepsis", "died", "sepsis"},
		{"p7", "0.5"}, {"p7", "2"}, {"p7", "10"}, {"p3", "4"}}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %v", len(rows), len(want), rows)
	}
	for r, w := range want {
		if !slices.Equal(rows[r][:len(w)], w) {
			t.Errorf("row %d: %v, want %v", r, rows[r], w)
		}
	}
	if rows[1][4] != "1" || rows[4][4] != "0" {
		t.Errorf("labels: %v", rows)
	}
	seqRows := predictRows(t, model, "--data", in)
	if !slices.Equal(seqRows[0], []string{"id", "p_died", "p_sepsis"}) || seqRows[1][0] != "p7" ||
		seqRows[1][1] != rows[3][2] || seqRows[2][2] != rows[4][3] {
		t.Errorf("per sequence %v; the last steps %v and %v", seqRows, rows[3], rows[4])
	}
}

// TestColumnsFlag: --columns maps a CSV whose columns are named otherwise
// onto the model's names, for predict and eval alike; mistakes in it are
// command-line errors (status 2) naming what is wrong.
func TestColumnsFlag(t *testing.T) {
	dir := t.TempDir()
	model, cols := defaultExport(t, dir)
	d := randomData(6, 3, 3, 5, 2, 4)
	std := filepath.Join(dir, "std.csv")
	if err := data.WriteCSV(std, d, cols); err != nil {
		t.Fatal(err)
	}
	renamed := filepath.Join(dir, "renamed.csv")
	other := data.Columns{ID: "patient", Step: "hour", Features: []string{"heart_rate", "f1", "bp"}, Labels: []string{"died"}}
	if err := data.WriteCSV(renamed, d, other); err != nil {
		t.Fatal(err)
	}
	const mapping = "id=patient, step=hour,f0=heart_rate,f2=bp,y=died"
	for _, perStep := range []bool{false, true} {
		a, b := []string{model, "--data", std}, []string{model, "--data", renamed, "--columns", mapping}
		if perStep {
			a, b = append(a, "--per-step"), append(b, "--per-step")
		}
		if want, got := predictRows(t, a...), predictRows(t, b...); !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("per-step %v: %v, want %v", perStep, got, want)
		}
	}
	_, want, _ := trnnCmd(t, "eval", model, "--data", std, "--json")
	status, got, stderr := trnnCmd(t, "eval", model, "--data", renamed, "--columns", mapping, "--json")
	if status != 0 || strings.ReplaceAll(got, renamed, std) != want {
		t.Errorf("eval --columns: status %d %s\n%s\nwant\n%s", status, stderr, got, want)
	}
	// A Parquet file's columns are mapped the same way.
	pq := filepath.Join(dir, "renamed.parquet")
	if err := data.WriteTable(pq, d, data.TableOptions{Columns: other}); err != nil {
		t.Fatal(err)
	}
	status, got, stderr = trnnCmd(t, "eval", model, "--data", pq, "--columns", mapping, "--json")
	if status != 0 || strings.ReplaceAll(got, pq, std) != want {
		t.Errorf("eval --columns on Parquet: status %d %s\n%s\nwant\n%s", status, stderr, got, want)
	}
	// Without --columns, the message says --columns exists.
	status, _, stderr = trnnCmd(t, "predict", model, "--data", renamed)
	if status != 1 || !strings.Contains(stderr, `missing column "id"`) || !strings.Contains(stderr, "--columns ROLE=NAME") {
		t.Errorf("no --columns: status %d, %q", status, stderr)
	}
	for _, c := range []struct{ value, want string }{
		{"f9=heart_rate", `"f9" is not a role of the model; roles are id, step, its features (f0, f1, f2) and its labels (y)`},
		{"stepp=hour", `"stepp" is not a role of the model (did you mean step?); roles are id, step, its features (f0, f1, f2) and its labels (y)`},
		{"id=patient,id=p", `role "id" is given twice`},
		{"f0=bp,f2=bp", `column "bp" would be both feature f0 and feature f2`},
		{"id=f1", `column "f1" would be both the id and feature f1`},
		{"patient", `expected ROLE=NAME items separated by commas, found "patient"`},
		{"step=", `expected ROLE=NAME items separated by commas, found "step="`},
	} {
		status, _, stderr := trnnCmd(t, "predict", model, "--data", renamed, "--columns", c.value)
		if status != 2 || stderr != "--columns "+c.value+": "+c.want+"\n" {
			t.Errorf("--columns %s: status %d, %q; want %q", c.value, status, stderr, c.want)
		}
	}
	npz := filepath.Join(dir, "d.npz")
	data.WriteNPZ(npz, d)
	status, _, stderr = trnnCmd(t, "eval", model, "--data", npz, "--columns", "id=patient")
	if status != 2 || !strings.Contains(stderr, "--columns: names a CSV or Parquet file's columns, and "+npz+" is neither") {
		t.Errorf("--columns with NPZ data: status %d, %q", status, stderr)
	}
}
