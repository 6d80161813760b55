package data

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// taskSchema is the schema that reads the files of a synthetic task with
// the columns cols.
func taskSchema(task string, cols Columns) Schema {
	return Schema{Features: len(cols.Features), Labels: 1, Columns: cols, Target: SynthTaskTarget(task),
		Classes: SynthTaskClasses(task), PerStep: SynthTaskPerStep(task)}
}

// sameData fails unless d and e hold the same steps and labels, bit for bit
// (ids, names and step values aside).
func sameData(t *testing.T, what string, d, e *Dataset) {
	t.Helper()
	a, b := *d, *e
	a.IDs, b.IDs, a.FeatureNames, b.FeatureNames, a.LabelNames, b.LabelNames = nil, nil, nil, nil, nil, nil
	if !a.Equal(&b) {
		n := min(2, d.N(), e.N()) // the first sequences tell what went wrong
		t.Errorf("%s: read back other data (%d sequences, the first %d shown):\n%v %v %v\nwant\n%v %v %v",
			what, e.N(), n, e.X[:n], e.Y, e.YStep[:min(n, len(e.YStep))], d.X[:n], d.Y, d.YStep[:min(n, len(d.YStep))])
	}
}

// TestWriteLabelsRoundTrip: the data of every synthetic task (per-step
// labels, classes and targets per step and per sequence), written as CSV,
// Parquet and an episodes folder, with classes as names or as indices,
// reads back as the NPZ form does. Sequences of 3 and 4 steps have no
// labelled step: the episodes form must keep them all the same.
func TestWriteLabelsRoundTrip(t *testing.T) {
	cols := SynthColumns(3, 1)
	stays := Columns{Step: EpisodesTime, Features: cols.Features, Labels: cols.Labels}
	for _, task := range SynthTasks {
		d, err := SynthTask(task, SynthOptions{N: 24, MinLen: 3, MaxLen: 12, F: 3, Seed: 5, PosRate: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		npz := filepath.Join(dir, "d.npz")
		if err := WriteNPZ(npz, d); err != nil {
			t.Fatal(err)
		}
		ref, err := Load(npz, taskSchema(task, cols))
		if err != nil {
			t.Fatalf("%s: %v", task, err)
		}
		sameData(t, task+": in memory", ref, d)
		for _, names := range []bool{true, false} {
			opt := TableOptions{Columns: cols}
			if names {
				opt.Classes = SynthTaskClasses(task)
			}
			for _, form := range []struct {
				name string
				bin  float64
			}{{"d.csv", 0}, {"d.parquet", 0}, {"ep", 0}, {"ep", 1}} {
				path := filepath.Join(dir, strconv.FormatBool(names), form.name)
				s := taskSchema(task, cols)
				if form.name == "ep" {
					s = taskSchema(task, stays)
					s.Bin = form.bin
					err = WriteEpisodes(path, d, opt)
				} else {
					err = os.MkdirAll(filepath.Dir(path), 0o755)
					if err == nil {
						err = WriteTable(path, d, opt)
					}
				}
				if err != nil {
					t.Fatalf("%s: %v", task, err)
				}
				e, err := Load(path, s)
				what := task + ", " + form.name + " bin " + strconv.FormatFloat(form.bin, 'g', -1, 64) + ", class names " + strconv.FormatBool(names)
				if err != nil {
					t.Fatalf("%s: %v", what, err)
				}
				sameData(t, what, ref, e)
			}
		}
	}
}

// TestWriteEpisodesPerStep: the listfile of per-step labels has a row per
// labelled step at the time its stay file gives that step, classes by
// name; a sequence without a labelled step is listed at its last step.
func TestWriteEpisodesPerStep(t *testing.T) {
	d := &Dataset{F: 1, K: 1, Target: LabelClass, IDs: []string{"a", "b"},
		X:          [][]float32{{1, 2, 3}, {4}},
		YStep:      [][]float32{{nan, 2, 0}, {nan}},
		StepValues: [][]string{{"0.5", "1.25", "2"}, {"0.75"}}}
	dir := filepath.Join(t.TempDir(), "ep")
	opt := TableOptions{Columns: Columns{ID: "id", Features: []string{"hr"}, Labels: []string{"los"}}, Classes: []string{"short", "mid", "long"}}
	if err := WriteEpisodes(dir, d, opt); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "listfile.csv"))
	if err != nil {
		t.Fatal(err)
	}
	want := "stay,period_length,y_true\na_timeseries.csv,1.25,long\na_timeseries.csv,2,short\nb_timeseries.csv,0.75,\n"
	if string(b) != want {
		t.Errorf("listfile.csv:\n%s\nwant\n%s", b, want)
	}
	opt.Classes = nil
	if err := WriteTable(filepath.Join(dir, "..", "d.csv"), d, opt); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(filepath.Join(dir, "..", "d.csv"))
	if want := "id,hr,los\na,1,\na,2,2\na,3,0\nb,4,\n"; string(b) != want {
		t.Errorf("CSV with class indices:\n%s\nwant\n%s", b, want)
	}
}

// TestWriteSparsePerStep: Sparse leaves out a step whose features are all
// missing only when it has no label, so binned reading gives back every
// label.
func TestWriteSparsePerStep(t *testing.T) {
	d := &Dataset{F: 2, K: 1, IDs: []string{"a"},
		X:          [][]float32{{1, 2, nan, nan, nan, nan, 3, nan}},
		YStep:      [][]float32{{nan, 1, nan, 0}},
		StepValues: [][]string{{"0", "1", "2", "3"}}}
	cols := Columns{ID: "id", Step: EpisodesTime, Features: []string{"hr", "sbp"}, Labels: []string{"y"}}
	opt := TableOptions{Columns: cols, Sparse: true}
	dir := t.TempDir()
	for _, name := range []string{"d.csv", "d.parquet", "ep"} {
		path := filepath.Join(dir, name)
		var err error
		if name == "ep" {
			err = WriteEpisodes(path, d, opt)
		} else {
			err = WriteTable(path, d, opt)
		}
		if err != nil {
			t.Fatal(err)
		}
		e, err := Load(path, Schema{Features: 2, Labels: 1, Columns: cols, Bin: 1, Missing: true, PerStep: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sameData(t, name, d, e)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "d.csv"))
	if want := "id,Hours,hr,sbp,y\na,0,1,2,\na,1,,,1\na,3,3,,0\n"; string(b) != want {
		t.Errorf("Sparse CSV:\n%s\nwant\n%s", b, want)
	}
}

// TestWriteClassesRefused: named classes need labels that are class
// indices.
func TestWriteClassesRefused(t *testing.T) {
	d, err := SynthTask(TaskLOS, SynthOptions{N: 3, MinLen: 6, MaxLen: 8, F: 1, Seed: 1, PosRate: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	opt := TableOptions{Columns: SynthColumns(1, 1), Classes: []string{"short"}}
	path := filepath.Join(dir, "d.csv")
	err = WriteTable(path, d, opt)
	if err == nil || !strings.HasPrefix(err.Error(), path+": sequence 0, step 4: label ") || !strings.HasSuffix(err.Error(), " is not a class index in [0, 1)") {
		t.Errorf("a bucket past the classes named: %v", err)
	}
	d.Target = LabelValue
	wantExact(t, WriteEpisodes(dir, d, opt), dir+": classes are named for labels that are not classes (a single label holding a class index)")
	c, err := SynthTask(TaskClasses, SynthOptions{N: 3, MinLen: 6, MaxLen: 8, F: 1, Seed: 1, PosRate: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	c.Y[1] = nan
	opt.Classes = slices.Repeat([]string{"c"}, TaskClassCount)
	wantExact(t, WriteTable(path, c, opt), path+": sequence 1: label NaN is not a class index in [0, 4)")
}
