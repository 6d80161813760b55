package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMimic3HeadExamples trains each mimic3-benchmarks-shaped example of a
// new head through the command line (two epochs), then evaluates and scores
// its test data with the model it wrote: the whole path a user walks, with
// the data files the examples ship.
func TestMimic3HeadExamples(t *testing.T) {
	for _, c := range []struct {
		example string
		metrics []string // eval --json must report these
		header  string   // predict's first columns
	}{
		{"mimic3-decompensation", []string{"step_auroc", "auroc"}, "id,step,p_"},
		{"mimic3-los", []string{"step_kappa", "step_accuracy"}, "id,step,p_"},
		{"mimic3-los-regression", []string{"step_mse", "step_mae", "step_r2"}, "id,step,v_"},
	} {
		t.Run(c.example, func(t *testing.T) {
			run := filepath.Join(t.TempDir(), "run")
			spec := filepath.Join("..", "..", "examples", c.example+".yaml")
			status, stdout, errs := trnnCmd(t, "train", spec, "-o", run, "--epochs", "2", "--quiet")
			if status != 0 {
				t.Fatalf("train: status %d\n%s%s", status, stdout, errs)
			}
			model := filepath.Join(run, "model.onnx")
			npz := filepath.Join("..", "..", "examples", c.example+".npz")
			status, stdout, errs = trnnCmd(t, "eval", model, "--data", npz, "--json")
			if status != 0 {
				t.Fatalf("eval: status %d\n%s%s", status, stdout, errs)
			}
			var rep struct {
				Metrics map[string]*float64 `json:"metrics"`
			}
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("eval --json: %v\n%s", err, stdout)
			}
			for _, m := range c.metrics {
				if v := rep.Metrics[m]; v == nil {
					t.Errorf("eval --json lacks %s: %s", m, stdout)
				}
			}
			out := filepath.Join(t.TempDir(), "pred.csv")
			status, stdout, errs = trnnCmd(t, "predict", model, "--data", npz, "-o", out)
			if status != 0 {
				t.Fatalf("predict: status %d\n%s%s", status, stdout, errs)
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(b), c.header) {
				t.Errorf("predict's header: %q, want it to start with %q", strings.SplitN(string(b), "\n", 2)[0], c.header)
			}
		})
	}
}
