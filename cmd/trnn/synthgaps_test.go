package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestSynthGapFlags: --gaps leaves empty cells at about its rate,
// --categorical adds the GCS columns holding category names, --irregular
// gives the steps times within their hour and leaves out the steps with
// nothing observed; a folder gets the episodes layout, and the printed spec
// names the categories.
func TestSynthGapFlags(t *testing.T) {
	dir := t.TempDir()
	synth := func(out string, args ...string) string {
		t.Helper()
		status, stdout, errs := trnnCmd(t, append([]string{"synth", "-o", out, "--n", "200", "--min-len", "5", "--max-len", "20"}, args...)...)
		if status != 0 {
			t.Fatalf("synth %v: %s", args, errs)
		}
		return stdout
	}
	empty := func(rows [][]string, from int) float64 {
		n, all := 0, 0
		for _, r := range rows[1:] {
			for _, c := range r[from:] {
				all++
				if c == "" {
					n++
				}
			}
		}
		return float64(n) / float64(all)
	}
	if out := synth(filepath.Join(dir, "p.csv")); strings.Contains(out, "a spec reads it with") {
		t.Errorf("without flags a CSV file needs no spec fragment:\n%s", out)
	}
	plain := readCSV(t, filepath.Join(dir, "p.csv"))
	if e := empty(plain, 2); e != 0 || len(plain[0]) != 6 {
		t.Fatalf("without flags: %.2f empty, header %q", e, plain[0])
	}
	synth(filepath.Join(dir, "g.csv"), "--gaps", "0.4")
	gaps := readCSV(t, filepath.Join(dir, "g.csv"))
	if e := empty(gaps, 2); e < 0.25 || e > 0.45 || len(gaps) != len(plain) {
		t.Errorf("--gaps 0.4: %.2f of the feature cells empty in %d rows (%d without gaps)", e, len(gaps)-1, len(plain)-1)
	}
	out := synth(filepath.Join(dir, "c.csv"), "--categorical")
	cat := readCSV(t, filepath.Join(dir, "c.csv"))
	if want := []string{"id", "step", "f0", "f1", "f2", "gcs_eye", "gcs_verbal", "y"}; !slices.Equal(cat[0], want) {
		t.Fatalf("--categorical: header %q, want %q", cat[0], want)
	}
	for _, r := range cat[1:] {
		if !strings.HasPrefix(r[5], strconv.Itoa(int(r[5][0]-'0'))+" ") || r[5] > "5" {
			t.Fatalf("--categorical: gcs_eye %q is not a category", r[5])
		}
	}
	if !strings.Contains(out, `    gcs_eye: ["1 No Response", "2 To pain", "3 To speech", "4 Spontaneously"]`) ||
		!strings.Contains(out, "features: [f0, f1, f2, gcs_eye, gcs_verbal]") {
		t.Errorf("--categorical: the printed spec does not list the categories:\n%s", out)
	}
	synth(filepath.Join(dir, "i.csv"), "--gaps", "0.6", "--irregular")
	irr := readCSV(t, filepath.Join(dir, "i.csv"))
	whole, onHour := 0, 0
	for _, r := range irr[1:] {
		if strings.Join(r[2:5], "") == "" {
			whole++
		}
		h, err := strconv.ParseFloat(r[1], 64)
		if err != nil {
			t.Fatalf("--irregular: step %q is not a time", r[1])
		}
		if h == float64(int(h)) {
			onHour++
		}
	}
	if onHour > len(irr)/20 {
		t.Errorf("--irregular: %d of %d times fall on the hour", onHour, len(irr)-1)
	}
	if len(irr) >= len(plain) || whole > 200 { // at most the last step of each sequence is empty
		t.Errorf("--irregular: %d rows of %d, %d empty", len(irr)-1, len(plain)-1, whole)
	}
	out = synth(filepath.Join(dir, "ep"), "--gaps", "0.3", "--categorical")
	list := readCSV(t, filepath.Join(dir, "ep", "listfile.csv"))
	if len(list) != 201 || !slices.Equal(list[0], []string{"stay", "y_true"}) {
		t.Errorf("episodes: listfile header %q, %d rows", list[0], len(list)-1)
	}
	stay := readCSV(t, filepath.Join(dir, "ep", list[1][0]))
	if !slices.Equal(stay[0], []string{"Hours", "f0", "f1", "f2", "gcs_eye", "gcs_verbal"}) {
		t.Errorf("episodes: stay header %q", stay[0])
	}
	if !strings.Contains(out, "  bin: 1.0\n  csv: {id: stay, step: Hours}\n") || !strings.Contains(out, "missing: forward_fill") {
		t.Errorf("episodes: printed spec\n%s", out)
	}
	synth(filepath.Join(dir, "q.parquet"), "--gaps", "0.3", "--categorical")
	if b, err := os.ReadFile(filepath.Join(dir, "q.parquet")); err != nil || !strings.HasPrefix(string(b), "PAR1") {
		t.Errorf(".parquet: %v, not a Parquet file", err)
	}
}

// TestSynthOutputKinds: what -o may name, and the messages for what it
// may not.
func TestSynthOutputKinds(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f.csv"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", filepath.Join(dir, "x.npz"), "--irregular"}, "--irregular: an NPZ file has no times; write .csv, .parquet or a folder"},
		{[]string{"-o", filepath.Join(dir, "x.txt")}, "unknown file kind, want a name ending in .npz, .csv or .parquet, or a folder (the episodes layout)"},
		{[]string{"-o", dir}, "is a folder; give a file name, such as " + filepath.Join(dir, "data.npz") + ", or a new or empty folder for the episodes layout"},
		{[]string{"-o", filepath.Join(dir, "f.csv") + "/"}, "is a file; give a name ending in .npz, .csv or .parquet, or a new folder for the episodes layout"},
		{[]string{"-o", filepath.Join(dir, "y.csv"), "--gaps", "1"}, "--gaps: must be in [0, 1), got 1"},
	} {
		status, _, errs := trnnCmd(t, append([]string{"synth"}, c.args...)...)
		if status != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("synth %q: status %d, %q; want status 2 and %q", c.args, status, errs, c.want)
		}
	}
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if status, _, errs := trnnCmd(t, "synth", "-o", empty, "--n", "3"); status != 0 {
		t.Errorf("an empty folder: status %d, %s", status, errs)
	}
	if _, err := os.Stat(filepath.Join(empty, "listfile.csv")); err != nil {
		t.Errorf("an empty folder: %v", err)
	}
}
