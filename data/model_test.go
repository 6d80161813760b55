package data

import (
	"path/filepath"
	"testing"
)

// TestCountsOfAModel: data that does not fit a model is told what the
// model expects, by name; data that does not fit a spec, what the spec
// declares.
func TestCountsOfAModel(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f4.npz")
	d := Synth(SynthOptions{N: 3, MinLen: 1, MaxLen: 2, F: 4, K: 2, Seed: 1, PosRate: 0.5})
	if err := WriteNPZ(path, d); err != nil {
		t.Fatal(err)
	}
	model := Schema{Features: 3, Labels: 2, Model: true, Columns: Columns{Features: []string{"hr", "sbp", "gcs"}, Labels: []string{"a", "b"}}}
	_, err := Load(path, model)
	wantError(t, err, path+": x has 4 features per step, the model expects 3 features (hr, sbp, gcs)")
	model.Features, model.Labels, model.Columns.Features, model.Columns.Labels = 4, 1, []string{"a", "b", "c", "d"}, []string{"died"}
	_, err = Load(path, model)
	wantError(t, err, path+": y has 2 labels per sequence, the model expects 1 label (died)")
	_, err = Load(path, Schema{Features: 3, Labels: 2})
	wantError(t, err, path+": x has 4 features per step, the spec declares 3")
	if got := countNames(12, "feature", []string{"f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11"}); got != "12 features (f0, f1, f2, f3, f4, f5, f6, f7, f8, f9 and 2 more)" {
		t.Errorf("countNames: %q", got)
	}
}
