package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTrainTaskForms: the decompensation and length-of-stay examples'
// specs, their data section replaced by the one synth --task prints,
// train the same weights, bit for bit, on the task's episodes folder, CSV
// and Parquet files as on its NPZ file.
func TestTrainTaskForms(t *testing.T) {
	for _, task := range []string{"decompensation", "los"} {
		example, err := os.ReadFile(filepath.Join("..", "..", "examples", "mimic3-"+task+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		body, _, ok := strings.Cut(string(example), "\ndata:\n")
		if !ok {
			t.Fatalf("examples/mimic3-%s.yaml has no data section", task)
		}
		dir := t.TempDir()
		var ref map[string][]float32
		for _, name := range []string{"d.npz", "ep", "d.csv", "d.parquet"} {
			out := filepath.Join(dir, name)
			if name == "ep" {
				out += "/" // a folder in the episodes layout
			}
			status, stdout, errs := trnnCmd(t, "synth", "--task", task, "-o", out, "--n", "50", "--min-len", "6", "--max-len", "30", "--seed", "2")
			_, section, ok := strings.Cut(stdout, "\ndata:\n")
			if status != 0 || !ok {
				t.Fatalf("synth --task %s -o %s: status %d, %s%s", task, out, status, stdout, errs)
			}
			spec := filepath.Join(dir, "spec.yaml")
			if err := os.WriteFile(spec, []byte(body+"\ndata:\n"+section), 0o644); err != nil {
				t.Fatal(err)
			}
			run := filepath.Join(dir, "run-"+filepath.Base(out))
			if status, _, errs := trnnCmd(t, "train", spec, "-o", run, "-q", "--epochs", "2"); status != 0 {
				t.Fatalf("%s on %s: %s", task, out, errs)
			}
			if ref == nil {
				ref = weights(t, run)
			} else {
				sameWeights(t, task+": "+filepath.Base(out)+" vs NPZ", ref, weights(t, run))
			}
		}
	}
}
