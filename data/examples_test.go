package data

import (
	"testing"

	"github.com/trnn/trnn/compiler"
)

// TestExamples parses the bundled example specs and loads their data the
// way `trnn train` does, and checks that the data files are exactly what
// their documented `trnn synth` commands make.
func TestExamples(t *testing.T) {
	quick := DefaultSynthOptions()
	small := DefaultSynthOptions()
	small.N, small.MinLen, small.MaxLen, small.Seed = 200, 20, 60, 2
	for _, tc := range []struct {
		spec string
		made SynthOptions // the trnn synth options in the spec's comment
	}{
		{"../examples/quickstart.yaml", quick},
		{"../examples/quickstart-csv.yaml", small},
	} {
		spec, err := compiler.ParseFile(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Load(spec.Path(spec.Data.Train), spec)
		if err != nil {
			t.Fatal(err)
		}
		want := Synth(tc.made)
		if d.IDs != nil { // CSV: ids 0..N-1 in order
			for i, id := range d.IDs {
				if id != want.ID(i) {
					t.Fatalf("%s: sequence %d has id %q", tc.spec, i, id)
				}
			}
			d.IDs, d.FeatureNames, d.LabelNames = nil, nil, nil
		}
		if !d.Equal(want) {
			t.Errorf("%s: %s differs from what trnn synth makes; regenerate it with the command in the spec's comment", tc.spec, spec.Data.Train)
		}
		t.Logf("%s: %d sequences, %d steps, %d features, %d positive", tc.spec, d.N(), d.Steps(), d.F, d.Positives()[0])
	}
}
