package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/runtime"
)

// TestTrainReportsTheTestSet: with training.test, train ends with the test
// set's metrics and intervals, and test.json holds exactly what `trnn eval
// --json` reports for model.onnx on the test file.
func TestTrainReportsTheTestSet(t *testing.T) {
	spec, _ := setup(t, 80, 2, "train.npz")
	held := data.Synth(data.SynthOptions{N: 40, MinLen: 2, MaxLen: 16, F: 3, K: 1, Seed: 11, PosRate: 0.4})
	heldFile := filepath.Join(filepath.Dir(spec), "held.npz")
	if err := data.WriteNPZ(heldFile, held); err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile(spec)
	src = []byte(strings.Replace(string(src), "  validation: {split: 0.25, monitor: auroc}\n",
		"  validation: {split: 0.25, monitor: auroc}\n  test: {file: held.npz, bootstrap: 100}\n", 1))
	if err := os.WriteFile(spec, src, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	status, out, errs := trnnCmd(t, "train", spec, "-o", dir)
	if status != 0 {
		t.Fatalf("train: status %d\n%s%s", status, out, errs)
	}
	for _, want := range []string{"testing on 40 held out", "\ntest: model.onnx (epoch ", "on 40 held-out sequences (" + heldFile + ")",
		"  auroc ", "95% CI: percentile bootstrap over 100 resamples", filepath.Join(dir, runtime.TestFile)} {
		if !strings.Contains(out, want) {
			t.Errorf("train's output lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, runtime.TestFile))
	if err != nil {
		t.Fatal(err)
	}
	var test runtime.TestReport
	if err := json.Unmarshal(b, &test); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, runtime.ModelFile)
	ev := evalJSON(t, model, "--data", heldFile, "--bootstrap", "100", "--seed", "7")
	if test.Model != model || test.Data != heldFile || test.Sequences != 40 || len(test.Metrics) != len(ev.Metrics) {
		t.Fatalf("test.json: %+v", test)
	}
	for name, v := range ev.Metrics {
		if test.Metrics[name] != v || test.Bootstrap.Intervals[name] != ev.Bootstrap.Intervals[name] {
			t.Errorf("%s: test.json %v %+v, eval %v %+v", name, test.Metrics[name], test.Bootstrap.Intervals[name], v, ev.Bootstrap.Intervals[name])
		}
	}
}
