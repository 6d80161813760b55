package main

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/runtime"
)

// trainedRun trains the end-to-end spec for two epochs and returns the run
// directory.
func trainedRun(t *testing.T) string {
	t.Helper()
	spec, _ := setup(t, 120, 2, "train.npz")
	run := filepath.Join(t.TempDir(), "run")
	trainOK(t, spec, "-o", run, "-q")
	return run
}

// TestExportStateful: --stateful writes the state-in/state-out model (with
// --step-probs, its per-step output too), whose stream gives the
// probabilities the run's model gives on every prefix.
func TestExportStateful(t *testing.T) {
	run := trainedRun(t)
	step := filepath.Join(t.TempDir(), "step.onnx")
	if status, _, errs := trnnCmd(t, "export", run, "-o", step, "--stateful", "--step-probs"); status != 0 {
		t.Fatalf("export --stateful: %s", errs)
	}
	s, err := trnn.Load(step)
	if err != nil {
		t.Fatal(err)
	}
	var ins, outs []string
	for _, v := range s.Inputs() {
		ins = append(ins, v.Name)
	}
	for _, v := range s.Outputs() {
		outs = append(outs, v.Name)
	}
	// e2e: LSTM 12, dropout, LSTM 8.
	if want := []string{"x", "lengths", "h_in_0", "c_in_0", "h_in_1", "c_in_1"}; !slices.Equal(ins, want) {
		t.Errorf("inputs %v, want %v", ins, want)
	}
	if want := []string{"probs", "step_probs", "h_out_0", "c_out_0", "h_out_1", "c_out_1"}; !slices.Equal(outs, want) {
		t.Errorf("outputs %v, want %v", outs, want)
	}
	plain, err := trnn.Load(filepath.Join(run, runtime.ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.NewStream()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 3))
	var seq [][]float32
	for range 6 {
		var chunk [][]float32
		for range 1 + rng.IntN(4) {
			chunk = append(chunk, []float32{float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())})
		}
		seq = append(seq, chunk...)
		got, err := st.Push(chunk)
		if err != nil {
			t.Fatal(err)
		}
		want, err := plain.Predict([][][]float32{seq})
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(float64(got[0] - want[0][0])); d > 1e-6 {
			t.Fatalf("after %d steps: stream %v, the run's model %v", len(seq), got, want[0])
		}
	}
}

// TestExportTriton: --triton writes a repository entry from a checkpoint
// (named after the spec, _stateful with --stateful) or from a model file
// (named after it, or --name), with --max-batch as max_batch_size.
func TestExportTriton(t *testing.T) {
	run := trainedRun(t)
	repo := filepath.Join(t.TempDir(), "models")
	model := filepath.Join(run, runtime.ModelFile)
	for _, c := range []struct {
		args []string
		name string
		want []string // lines config.pbtxt must hold
	}{
		{[]string{run}, "e2e", []string{`name: "e2e"`, "max_batch_size: 64", `name: "lengths"`, "dynamic_batching { }"}},
		{[]string{run, "--stateful", "--max-batch", "0"}, "e2e_stateful", []string{"max_batch_size: 0", `name: "c_out_1"`, "dims: [ -1, 8 ]"}},
		{[]string{model, "--name", "other", "--max-batch", "8"}, "other", []string{`name: "other"`, "max_batch_size: 8", "dims: [ -1, 3 ]"}},
		{[]string{model}, "model", []string{`name: "model"`}},
	} {
		status, out, errs := trnnCmd(t, append([]string{"export", "--triton", repo}, c.args...)...)
		if status != 0 || !strings.Contains(out, filepath.Join(repo, c.name, "config.pbtxt")) {
			t.Fatalf("export --triton %v: status %d\n%s%s", c.args, status, out, errs)
		}
		cfg, err := os.ReadFile(filepath.Join(repo, c.name, "config.pbtxt"))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range c.want {
			if !strings.Contains(string(cfg), line) {
				t.Errorf("export --triton %v: config.pbtxt lacks %q:\n%s", c.args, line, cfg)
			}
		}
		if _, err := trnn.Load(filepath.Join(repo, c.name, "1", "model.onnx")); err != nil {
			t.Errorf("export --triton %v: %v", c.args, err)
		}
	}
	a, _ := os.ReadFile(model)
	if b, _ := os.ReadFile(filepath.Join(repo, "other", "1", "model.onnx")); !bytes.Equal(a, b) {
		t.Error("a model file is not copied as it is")
	}
}

// TestExportTritonErrors: misuse of the flags is a usage error (status 2),
// a name Triton cannot take an error.
func TestExportTritonErrors(t *testing.T) {
	run := trainedRun(t)
	repo := filepath.Join(t.TempDir(), "models")
	model := filepath.Join(run, runtime.ModelFile)
	for _, c := range []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{run, "--triton", repo, "-o", filepath.Join(repo, "m.onnx")}, 2, "not both"},
		{[]string{run, "-o", filepath.Join(repo, "m.onnx"), "--name", "m"}, 2, "apply to --triton only"},
		{[]string{run, "--triton", repo, "--max-batch", "-1"}, 2, "--max-batch: must be 0 or more"},
		{[]string{model, "--triton", repo, "--stateful"}, 2, "--stateful applies to a checkpoint"},
		{[]string{run, "--triton", repo, "--name", ".hidden"}, 1, `model name ".hidden"`},
	} {
		status, _, errs := trnnCmd(t, append([]string{"export"}, c.args...)...)
		if status != c.status || !strings.Contains(errs, c.want) {
			t.Errorf("export %v: status %d, %q; want %d and %q", c.args, status, errs, c.status, c.want)
		}
	}
	if _, err := os.Stat(repo); !os.IsNotExist(err) {
		t.Errorf("refused exports made the repository: %v", err)
	}
}
