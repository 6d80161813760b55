package data

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestLabelModes: new data to score has no labels yet. Optional labels are
// read when the file has them and absent otherwise; ignored labels are not
// read even when the file holds values that are not labels; required
// labels are refused when missing, as before.
func TestLabelModes(t *testing.T) {
	dir := t.TempDir()
	d := Synth(SynthOptions{N: 12, MinLen: 2, MaxLen: 5, F: 3, K: 1, Seed: 7, PosRate: 0.5})
	unlabelled := d.Subset([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	unlabelled.Y = nil
	write := func(name string, f func(string) error) string {
		p := filepath.Join(dir, name)
		if err := f(p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cols := SynthColumns(3, 1)
	noLabelCols := cols
	noLabelCols.Labels = nil
	files := map[string]string{
		"labelled.npz":   write("labelled.npz", func(p string) error { return WriteNPZ(p, d) }),
		"unlabelled.npz": write("unlabelled.npz", func(p string) error { return WriteNPZ(p, unlabelled) }),
		"labelled.csv":   write("labelled.csv", func(p string) error { return WriteCSV(p, d, cols) }),
		"unlabelled.csv": write("unlabelled.csv", func(p string) error { return WriteCSV(p, unlabelled, noLabelCols) }),
		// Label cells that are not labels: read only when labels are.
		"notlabels.csv": write("notlabels.csv", func(p string) error {
			return os.WriteFile(p, []byte("id,step,f0,f1,f2,y\na,0,1,2,3,maybe\n"), 0o644)
		}),
	}
	schema := countSchema()
	for _, c := range []struct {
		file     string
		mode     LabelMode
		labelled bool
		err      string
	}{
		{"labelled.npz", LabelsRequired, true, ""},
		{"labelled.npz", LabelsOptional, true, ""},
		{"labelled.npz", LabelsIgnored, false, ""},
		{"unlabelled.npz", LabelsRequired, false, `: missing array "y" (found: x, lengths)`},
		{"unlabelled.npz", LabelsOptional, false, ""},
		{"unlabelled.npz", LabelsIgnored, false, ""},
		{"labelled.csv", LabelsOptional, true, ""},
		{"labelled.csv", LabelsIgnored, false, ""},
		{"unlabelled.csv", LabelsRequired, false, `:1: missing column "y" (header has: "id", "step", "f0", "f1", "f2")`},
		{"unlabelled.csv", LabelsOptional, false, ""},
		{"notlabels.csv", LabelsOptional, false, `:2: column "y": labels must be 0 or 1, got "maybe"`},
		{"notlabels.csv", LabelsIgnored, false, ""},
	} {
		s := schema
		s.LabelMode = c.mode
		path := files[c.file]
		e, err := Load(path, s)
		if c.err != "" {
			wantError(t, err, path+c.err)
			continue
		}
		if err != nil {
			t.Errorf("%s, mode %d: %v", c.file, c.mode, err)
			continue
		}
		e.check("test")
		if e.Labelled() != c.labelled || e.K != 1 || (e.LabelNames != nil) != (c.labelled && e.FeatureNames != nil) {
			t.Errorf("%s, mode %d: labelled %v, K %d, label names %v; want labelled %v", c.file, c.mode, e.Labelled(), e.K, e.LabelNames, c.labelled)
		}
		if c.labelled && !slices.Equal(e.Y, d.Y) {
			t.Errorf("%s, mode %d: labels %v, want %v", c.file, c.mode, e.Y, d.Y)
		}
		if c.file != "notlabels.csv" && !slices.Equal(e.X[5], d.X[5]) {
			t.Errorf("%s, mode %d: sequence 5 differs", c.file, c.mode)
		}
	}

	// Some label columns but not all: an error whatever the mode asks,
	// except when labels are ignored.
	two := Schema{Features: 3, Labels: 2, Columns: Columns{ID: "id", Step: "step", Features: []string{"f0", "f1", "f2"}, Labels: []string{"y", "z"}},
		LabelMode: LabelsOptional}
	_, err := Load(files["labelled.csv"], two)
	wantError(t, err, files["labelled.csv"]+`:1: missing column "z" (header has: "id", "step", "f0", "f1", "f2", "y")`)
	two.LabelMode = LabelsIgnored
	if e, err := Load(files["labelled.csv"], two); err != nil || e.Labelled() || e.K != 2 {
		t.Errorf("labels ignored: %v", err)
	}
	// A model with two labels scores a file whose y has one only if the
	// labels are not read.
	two.LabelMode = LabelsOptional
	_, err = Load(files["labelled.npz"], two)
	wantError(t, err, files["labelled.npz"]+": y has 1 labels per sequence, the spec declares 2")
}

// TestUnlabelledDataset: a data set without labels subsets, splits and
// writes without touching labels.
func TestUnlabelledDataset(t *testing.T) {
	d := small()
	d.Y = nil
	d.check("test")
	if d.Labelled() || d.Labels(0) != nil || !slices.Equal(d.Positives(), []int{0}) {
		t.Fatalf("Labelled %v, Labels %v, Positives %v", d.Labelled(), d.Labels(0), d.Positives())
	}
	s := d.Subset([]int{3, 1})
	if s.Labelled() || s.N() != 2 {
		t.Errorf("Subset: labelled %v, N %d", s.Labelled(), s.N())
	}
	tr, val := d.Split(0.5, 3)
	if tr.N() != 2 || val.N() != 2 || tr.Labelled() || val.Labelled() {
		t.Errorf("Split: %d and %d sequences", tr.N(), val.N())
	}
	path := filepath.Join(t.TempDir(), "d.csv")
	err := WriteCSV(path, d, Columns{ID: "id", Features: []string{"a", "b"}, Labels: []string{"y"}})
	wantError(t, err, path+": 2 feature and 1 label columns named for data with 2 features and 1 labels")
	if err := WriteCSV(path, d, Columns{ID: "id", Features: []string{"a", "b"}}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "id,a,b\n0,1,2\n0,3,4\n0,5,6\n1,7,8\n2,9,10\n2,11,12\n3,13,14\n" {
		t.Errorf("unlabelled CSV:\n%s", b)
	}
}

// TestStepValues: per-step output joins back to the input by the step
// column's own values (hours 0.5, 2, 10), not by positions 1, 2, 3; the
// values follow the steps through sorting, subsets and writing.
func TestStepValues(t *testing.T) {
	text := "patient,hour,hr,sbp,died\n" +
		"p1,10,1,2,1\n" +
		"p2,7,5,6,0\n" +
		"p1, 0.50 ,3,4,1\n" +
		"p1,2,7,8,1\n"
	d, err := readCSVString(t, text, hrCols)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.StepValues[0], []string{"0.50", "2", "10"}) || !slices.Equal(d.StepValues[1], []string{"7"}) {
		t.Fatalf("step values %q", d.StepValues)
	}
	if !slices.Equal(d.X[0], []float32{3, 4, 7, 8, 1, 2}) || d.StepValue(0, 2) != "10" || d.StepValue(1, 0) != "7" {
		t.Errorf("X %v, StepValue(0, 2) %q", d.X[0], d.StepValue(0, 2))
	}
	s := d.Subset([]int{1, 0})
	if s.StepValue(1, 0) != "0.50" || s.StepValue(0, 0) != "7" {
		t.Errorf("Subset step values %q", s.StepValues)
	}
	path := filepath.Join(t.TempDir(), "out.csv")
	if err := WriteCSV(path, d, hrCols); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "patient,hour,hr,sbp,died\np1,0.50,3,4,1\np1,2,7,8,1\np1,10,1,2,1\np2,7,5,6,0\n" {
		t.Errorf("written:\n%s", b)
	}

	// Without a step column, steps are counted from 1 in file order.
	noStep := hrCols
	noStep.Step = ""
	d, err = readCSVString(t, text, noStep)
	if err != nil {
		t.Fatal(err)
	}
	if d.StepValues != nil || d.StepValue(0, 2) != "3" {
		t.Errorf("file order: step values %q, StepValue(0, 2) %q", d.StepValues, d.StepValue(0, 2))
	}
	mustPanic(t, "data: test: sequence 0 has 3 steps and 2 step values", func() {
		e := small()
		e.StepValues = [][]string{{"a", "b"}, {"c"}, {"d", "e"}, {"f"}}
		e.check("test")
	})
}
