package runtime

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
)

// TestExamples parses the bundled example specs and loads their data the
// way training does, and checks that the data files are exactly what
// their documented `trnn synth` commands make.
func TestExamples(t *testing.T) {
	quick := data.DefaultSynthOptions()
	small := data.DefaultSynthOptions()
	small.N, small.MinLen, small.MaxLen, small.Seed = 200, 20, 60, 2
	for _, tc := range []struct {
		spec string
		made data.SynthOptions // the trnn synth options in the spec's comment
	}{
		{"../examples/quickstart.yaml", quick},
		{"../examples/quickstart-csv.yaml", small},
	} {
		spec, err := compiler.ParseFile(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		d, err := data.Load(spec.Path(spec.Data.Train), DataSchema(spec))
		if err != nil {
			t.Fatal(err)
		}
		want := data.Synth(tc.made)
		if d.IDs != nil { // CSV: ids 0..N-1 in order
			for i, id := range d.IDs {
				if id != want.ID(i) {
					t.Fatalf("%s: sequence %d has id %q", tc.spec, i, id)
				}
			}
			d.IDs, d.FeatureNames, d.LabelNames = nil, nil, nil
		}
		if d.F != want.F || d.K != want.K || !slices.EqualFunc(d.X, want.X, slices.Equal[[]float32]) || !slices.Equal(d.Y, want.Y) {
			t.Errorf("%s: %s differs from what trnn synth makes; regenerate it with the command in the spec's comment", tc.spec, spec.Data.Train)
		}
		t.Logf("%s: %d sequences, %d steps, %d features, %d positive", tc.spec, d.N(), d.Steps(), d.F, d.Positives()[0])
	}
}

// TestDataSchema: a spec's data.csv section names the CSV columns; without
// one, the columns are id, an optional step and the spec's names.
func TestDataSchema(t *testing.T) {
	spec, err := compiler.Parse("s.yaml", []byte("inputs: {features: 3}\noutputs: {labels: 2}\nlayers: [{lstm: {units: 2}}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := DataSchema(spec)
	want := data.Columns{ID: "id", Step: "step", Features: []string{"f0", "f1", "f2"}, Labels: []string{"y0", "y1"}}
	if s.Features != 3 || s.Labels != 2 || !s.StepOptional || s.Columns.ID != want.ID || s.Columns.Step != want.Step ||
		!slices.Equal(s.Columns.Features, want.Features) || !slices.Equal(s.Columns.Labels, want.Labels) {
		t.Fatalf("default schema %+v, want %+v with an optional step", s, want)
	}

	spec.Data.CSV = &compiler.CSVColumns{ID: "stay", Step: "hour", Features: []string{"a", "b", "c"}, Labels: []string{"d", "e"}}
	s = DataSchema(spec)
	if s.StepOptional || s.Columns.ID != "stay" || s.Columns.Step != "hour" || !slices.Equal(s.Columns.Features, []string{"a", "b", "c"}) {
		t.Fatalf("data.csv schema %+v", s)
	}
	// The step column named by data.csv is required.
	path := filepath.Join(t.TempDir(), "d.csv")
	if err := os.WriteFile(path, []byte("stay,a,b,c,d,e\n1,1,2,3,0,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := data.Load(path, s); err == nil || err.Error() != path+`:1: missing column "hour" (header has: "stay", "a", "b", "c", "d", "e")` {
		t.Fatalf("data.csv step column missing: %v", err)
	}
}

// TestSynthLabelsFitASpec: synthetic data never has more labels than a spec
// may declare.
func TestSynthLabelsFitASpec(t *testing.T) {
	if data.MaxSynthLabels != compiler.MaxLabels {
		t.Fatalf("data.MaxSynthLabels = %d, compiler.MaxLabels = %d", data.MaxSynthLabels, compiler.MaxLabels)
	}
}

// TestTaskExamples compiles the mimic3-benchmarks-shaped examples and checks
// that their data files are, byte for byte, what the `trnn synth --task`
// commands in their comments write.
func TestTaskExamples(t *testing.T) {
	for _, task := range []string{data.TaskDecompensation, data.TaskLOS, data.TaskLOSRegression} {
		spec, err := compiler.ParseFile("../examples/mimic3-" + task + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := compiler.Compile(spec); err != nil {
			t.Fatal(err)
		}
		if !spec.Outputs.PerStep {
			t.Errorf("%s: outputs.per_step is not set", task)
		}
		d, err := data.SynthTask(task, data.SynthOptions{N: 800, MinLen: 48, MaxLen: 96, F: 3, Seed: 1, PosRate: 0.3})
		if err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(t.TempDir(), "want.npz")
		if err := data.WriteNPZ(want, d); err != nil {
			t.Fatal(err)
		}
		a, errA := os.ReadFile(spec.Path(spec.Data.Train))
		b, errB := os.ReadFile(want)
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s: %s differs from what trnn synth makes (%v, %v); regenerate it with the command in the spec's comment", task, spec.Data.Train, errA, errB)
		}
	}
}
