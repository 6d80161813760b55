package main

import (
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/runtime"
)

// TestHonestWorkflowExamples keeps the README's test-set and new-data
// examples true: quickstart-test.yaml is the quickstart with a test split
// and nothing else changed; quickstart-new.npz is what `trnn synth --n 300
// --seed 7` makes; quickstart-unlabelled.npz and new-patients.csv hold the
// five sequences `trnn synth --n 5 --seed 8` makes, without labels, the CSV
// with ids p101... and steps every half hour; and predict scores the two
// alike, naming the CSV's steps as it does.
func TestHonestWorkflowExamples(t *testing.T) {
	ex := filepath.Join("..", "..", "examples")
	quick, err := compiler.ParseFile(filepath.Join(ex, "quickstart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	test, err := compiler.ParseFile(filepath.Join(ex, "quickstart-test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if test.Training.Test != (compiler.Test{Split: 0.2, Bootstrap: 1000}) {
		t.Errorf("quickstart-test.yaml: training.test %+v", test.Training.Test)
	}
	quick.Name, quick.Training.Test = test.Name, test.Training.Test
	a, _ := compiler.MarshalSpec(quick)
	b, _ := compiler.MarshalSpec(test)
	if string(a) != string(b) {
		t.Errorf("quickstart-test.yaml differs from quickstart.yaml beyond its name and test set:\n%s\n---\n%s", a, b)
	}

	opts := data.DefaultSynthOptions()
	opts.N, opts.Seed = 300, 7
	schema := runtime.DataSchema(quick)
	fresh, err := data.Load(filepath.Join(ex, "quickstart-new.npz"), schema)
	if err != nil {
		t.Fatal(err)
	}
	if want := data.Synth(opts); !slices.EqualFunc(fresh.X, want.X, slices.Equal) || !slices.Equal(fresh.Y, want.Y) {
		t.Error("quickstart-new.npz is not what trnn synth --n 300 --seed 7 makes")
	}

	opts.N, opts.Seed = 5, 8
	want := data.Synth(opts)
	schema.LabelMode = data.LabelsOptional
	npz, err := data.Load(filepath.Join(ex, "quickstart-unlabelled.npz"), schema)
	if err != nil {
		t.Fatal(err)
	}
	schema.Columns = data.Columns{ID: "patient", Step: "hour", Features: []string{"f0", "f1", "f2"}, Labels: []string{"y"}}
	csv, err := data.Load(filepath.Join(ex, "new-patients.csv"), schema)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*data.Dataset{npz, csv} {
		if d.Labelled() || !slices.EqualFunc(d.X, want.X, slices.Equal) {
			t.Errorf("%s: labelled %v, or not the sequences of trnn synth --n 5 --seed 8", d.Source, d.Labelled())
		}
	}
	for i := range csv.N() {
		if csv.ID(i) != "p"+strconv.Itoa(101+i) || csv.StepValue(i, 3) != "1.5" {
			t.Errorf("new-patients.csv: sequence %d is %s, its fourth step %s", i, csv.ID(i), csv.StepValue(i, 3))
		}
	}

	model, _ := defaultExport(t, t.TempDir())
	p := predictRows(t, model, "--data", filepath.Join(ex, "quickstart-unlabelled.npz"))
	q := predictRows(t, model, "--data", filepath.Join(ex, "new-patients.csv"), "--columns", "id=patient,step=hour")
	for i := 1; i < len(p); i++ {
		if p[i][1] != q[i][1] || q[i][0] != csv.ID(i-1) {
			t.Errorf("row %d: %v and %v", i, p[i], q[i])
		}
	}
}
