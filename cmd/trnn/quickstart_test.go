package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/trnn/trnn/runtime"
)

// TestQuickstartHeadline pins what the README's quickstart shows: on the
// bundled data, target replication (α = 0.5) reaches a validation AUROC of
// 0.9 within the spec's 10 epochs, while the final-step loss alone (α = 0)
// stays near chance, at most 0.6 in every epoch.
func TestQuickstartHeadline(t *testing.T) {
	src, err := os.ReadFile("../../examples/quickstart.yaml")
	if err != nil {
		t.Fatal(err)
	}
	npz, err := filepath.Abs("../../examples/quickstart.npz")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		alpha string
		check func(best float64) bool
		want  string
	}{
		{"0.5", func(best float64) bool { return best >= 0.9 }, "≥ 0.9"},
		{"0", func(best float64) bool { return best <= 0.6 }, "≤ 0.6"},
	} {
		spec := strings.Replace(string(src), "alpha: 0.5", "alpha: "+c.alpha, 1)
		spec = strings.Replace(spec, "train: quickstart.npz", "train: "+npz, 1)
		if !strings.Contains(spec, "alpha: "+c.alpha) || !strings.Contains(spec, npz) {
			t.Fatal("examples/quickstart.yaml no longer has alpha: 0.5 and train: quickstart.npz")
		}
		file := filepath.Join(t.TempDir(), "quickstart.yaml")
		if err := os.WriteFile(file, []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "run")
		trainOK(t, file, "-o", dir, "-q")
		rows := readCSV(t, filepath.Join(dir, runtime.MetricsFile))
		col := -1
		for j, name := range rows[0] {
			if name == "val_auroc" {
				col = j
			}
		}
		if col < 0 || len(rows) != 11 {
			t.Fatalf("α = %s: metrics.csv has columns %v and %d epochs, want val_auroc and 10", c.alpha, rows[0], len(rows)-1)
		}
		best := 0.0
		var trace []string
		for _, r := range rows[1:] {
			v, err := strconv.ParseFloat(r[col], 64)
			if err != nil {
				t.Fatal(err)
			}
			best = max(best, v)
			trace = append(trace, r[col])
		}
		t.Logf("α = %s: val_auroc by epoch %s", c.alpha, strings.Join(trace, " "))
		if !c.check(best) {
			t.Errorf("α = %s: the best validation AUROC over 10 epochs is %.4f, want %s", c.alpha, best, c.want)
		}
	}
}
