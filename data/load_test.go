package data

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// countSchema is the schema of a spec with "features: 3, labels: 1" and no
// data.csv section.
func countSchema() Schema {
	return Schema{
		Features: 3, Labels: 1,
		Columns:      Columns{ID: "id", Step: "step", Features: []string{"f0", "f1", "f2"}, Labels: []string{"y"}},
		StepOptional: true,
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	d := Synth(SynthOptions{N: 30, MinLen: 2, MaxLen: 6, F: 3, K: 1, Seed: 4, PosRate: 0.5})
	write := func(name string, f func(string) error) string {
		p := filepath.Join(dir, name)
		if err := f(p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	npzPath := write("d.NPZ", func(p string) error { return WriteNPZ(p, d) })
	csvPath := write("d.csv", func(p string) error { return WriteCSV(p, d, SynthColumns(3, 1)) })
	noStep := SynthColumns(3, 1)
	noStep.Step = ""
	noStepPath := write("nostep.csv", func(p string) error { return WriteCSV(p, d, noStep) })

	schema := countSchema()
	for _, p := range []string{npzPath, csvPath, noStepPath} {
		e, err := Load(p, schema)
		if err != nil {
			t.Fatal(err)
		}
		if e.Source != p || !slices.Equal(e.Y, d.Y) || e.N() != d.N() || !slices.Equal(e.X[7], d.X[7]) {
			t.Errorf("%s: read differently", p)
		}
	}

	// The default columns use the step column when the header has one: a
	// file with steps in reverse order comes out in step order.
	rev := "id,f0,f1,f2,y,step\na,1,1,1,0,2\na,2,2,2,0,1\n"
	revPath := write("rev.csv", func(p string) error { return os.WriteFile(p, []byte(rev), 0o644) })
	e, err := Load(revPath, schema)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.X[0], []float32{2, 2, 2, 1, 1, 1}) {
		t.Errorf("default step column not used: %v", e.X[0])
	}

	// Explicit columns from the spec's data.csv section.
	schema2 := countSchema()
	schema2.Columns = Columns{ID: "id", Step: "step", Features: []string{"f2", "f1", "f0"}, Labels: []string{"y"}}
	schema2.StepOptional = false
	e, err = Load(csvPath, schema2)
	if err != nil {
		t.Fatal(err)
	}
	if e.X[0][0] != d.X[0][2] || !slices.Equal(e.FeatureNames, []string{"f2", "f1", "f0"}) {
		t.Errorf("data.csv columns not used: %v %v", e.X[0][:3], e.FeatureNames)
	}
	schema2.Columns.Step = "hour"
	_, err = Load(csvPath, schema2)
	wantError(t, err, csvPath+`:1: missing column "hour" (header has: "id", "step", "f0", "f1", "f2", "y")`)

	// Counts that disagree with the spec.
	schema4 := countSchema()
	schema4.Features = 4
	_, err = Load(npzPath, schema4)
	wantError(t, err, npzPath+": x has 3 features per step, the spec declares 4")
	schema4 = countSchema()
	schema4.Labels = 2
	_, err = Load(npzPath, schema4)
	wantError(t, err, npzPath+": y has 1 labels per sequence, the spec declares 2")
	schema4.Columns = Columns{ID: "id", Features: []string{"f0", "f1", "f2"}, Labels: []string{"y"}}
	schema4.StepOptional = false
	_, err = Load(csvPath, schema4)
	wantError(t, err, csvPath+": 1 label columns are named, the spec declares 2")

	// Unknown kinds.
	_, err = Load(filepath.Join(dir, "d.h5"), schema)
	wantError(t, err, filepath.Join(dir, "d.h5")+": unknown data file kind (extension .h5), want .npz, .csv or .parquet, or a folder in the episodes layout")
	_, err = Load(filepath.Join(dir, "data"), schema)
	wantError(t, err, filepath.Join(dir, "data")+": unknown data file kind (extension none), want .npz, .csv or .parquet, or a folder in the episodes layout")
}
