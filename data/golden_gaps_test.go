package data

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// gapsSchema reads the fixtures make_gaps.py writes.
func gapsSchema(step string) Schema {
	return Schema{
		Features: 3, Labels: 1,
		Columns:    Columns{ID: "id", Step: step, Features: []string{"hr", "gcs", "temp"}, Labels: []string{"y"}},
		Missing:    true,
		Categories: [][]string{nil, {"1 No Response", "2 To pain", "3 To speech", "4 Spontaneously"}, nil},
		Bin:        1,
		PerStep:    true,
	}
}

// TestBinnedLikeNumPy: irregular rows binned by the CSV reader and by the
// episodes reader equal the same stays binned by NumPy (make_gaps.py), bit
// for bit, missing values and unlabelled steps included.
func TestBinnedLikeNumPy(t *testing.T) {
	dir := filepath.Join(fixtures, "gaps")
	want, err := Load(filepath.Join(dir, "binned.npz"), gapsSchema("hours"))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := Load(filepath.Join(dir, "raw.csv"), gapsSchema("hours"))
	if err != nil {
		t.Fatal(err)
	}
	ep, err := Load(filepath.Join(dir, "episodes"), gapsSchema("Hours"))
	if err != nil {
		t.Fatal(err)
	}
	if raw.N() != want.N() || ep.N() != want.N() {
		t.Fatalf("%d and %d sequences, NumPy has %d", raw.N(), ep.N(), want.N())
	}
	for _, got := range []*Dataset{raw, ep} {
		for i := range got.N() {
			// Ids: "s3" in raw.csv, "103_episode1_timeseries.csv" in the
			// folder; the NPZ file's index otherwise.
			id := got.ID(i)
			n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSuffix(id, "_episode1_timeseries.csv"), "s"))
			if err != nil {
				t.Fatalf("id %q", id)
			}
			n %= 100
			if !sameBits(got.X[i], want.X[n]) || !sameBits(got.YStep[i], want.YStep[n]) {
				t.Errorf("%s, stay %s:\n got x %v y %v\nwant x %v y %v", got.Source, id, got.X[i], got.YStep[i], want.X[n], want.YStep[n])
			}
			for s, v := range got.StepValues[i] {
				if v != fmt.Sprint(s) {
					t.Errorf("%s, stay %s: step %d named %q", got.Source, id, s, v)
					break
				}
			}
		}
	}
}
