package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/export/onnxpb"
)

// benchSetup writes a default export and an NPZ of 9 sequences for it.
func benchSetup(t *testing.T) (model, npz string) {
	t.Helper()
	dir := t.TempDir()
	model, _ = defaultExport(t, dir)
	npz = filepath.Join(dir, "rows.npz")
	if err := data.WriteNPZ(npz, randomData(2, 3, 4, 9, 1, 7, 7, 2, 5, 3, 8)); err != nil {
		t.Fatal(err)
	}
	return model, npz
}

// benchJSON runs trnn bench infer with --json and decodes its line.
func benchJSON(t *testing.T, args ...string) benchResult {
	t.Helper()
	status, out, errs := trnnCmd(t, append([]string{"bench", "infer", "--json"}, args...)...)
	if status != 0 {
		t.Fatalf("bench infer %s: status %d: %s", strings.Join(args, " "), status, errs)
	}
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("--json printed %q, expected one line", out)
	}
	var r benchResult
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("--json printed %q: %v", out, err)
	}
	for name, v := range map[string]float64{"ms_per_batch": r.MsPerBatch, "p50_ms": r.P50, "p99_ms": r.P99} {
		if !(v > 0) || math.IsInf(v, 0) {
			t.Errorf("%s = %v, expected a positive time", name, v)
		}
	}
	if r.P50 > r.P99 {
		t.Errorf("p50 %v ms > p99 %v ms", r.P50, r.P99)
	}
	return r
}

// TestBenchInfer: --batch takes the data's first rows (all of them when it
// has fewer), --json prints design.md's four fields, the text form counts
// --repeat's runs, and --via run times Session.Run, which, unlike Predict,
// does not refuse an output that is not finite.
func TestBenchInfer(t *testing.T) {
	model, npz := benchSetup(t)
	if r := benchJSON(t, model, "--data", npz, "--batch", "4", "--repeat", "3"); r.Rows != 4 {
		t.Errorf("--batch 4: rows = %d", r.Rows)
	}
	if r := benchJSON(t, model, "--data", npz, "--batch", "500", "--repeat", "2", "--via", "run"); r.Rows != 9 {
		t.Errorf("--batch 500 of 9 sequences: rows = %d", r.Rows)
	}
	status, out, errs := trnnCmd(t, "bench", "infer", model, "--data", npz, "--repeat", "7")
	if status != 0 || !strings.Contains(out, "9 sequences per batch, 7 runs:") || !strings.Contains(out, "ms per batch") {
		t.Errorf("text output: status %d, %q %s", status, out, errs)
	}

	// The data's features are normal: Predict refuses the NaN outputs
	// of their logarithm, Run returns them.
	inf := nanModel(t)
	status, _, errs = trnnCmd(t, "bench", "infer", inf, "--data", npz, "--repeat", "1")
	if status != 1 || !strings.Contains(errs, "the model's output is not finite") {
		t.Errorf("--via predict on NaN outputs: status %d, %q", status, errs)
	}
	if r := benchJSON(t, inf, "--data", npz, "--repeat", "1", "--via", "run"); r.Rows != 9 {
		t.Errorf("--via run: rows = %d", r.Rows)
	}
}

// nanModel writes a model whose output [batch, 3] is the mean over time
// of log(x): NaN for a feature that is ever negative.
func nanModel(t *testing.T) string {
	t.Helper()
	mean := onnxNode("mean", "ReduceMean", []string{"logx"}, "y")
	mean.Attribute = []*onnxpb.AttributeProto{
		{Name: proto.String("axes"), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: []int64{1}},
		{Name: proto.String("keepdims"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(0)},
	}
	path := filepath.Join(t.TempDir(), "nan.onnx")
	writeONNX(t, path, &onnxpb.GraphProto{
		Input:  []*onnxpb.ValueInfoProto{onnxValue("x", "batch", "time", 3)},
		Output: []*onnxpb.ValueInfoProto{onnxValue("y", "batch", 3)},
		Node:   []*onnxpb.NodeProto{onnxNode("log", "Log", []string{"x"}, "logx"), mean},
	})
	return path
}

// TestBenchInferErrors: bad flags are usage errors naming the flag and
// what was found.
func TestBenchInferErrors(t *testing.T) {
	model, npz := benchSetup(t)
	npz6 := filepath.Join(t.TempDir(), "six.npz")
	if err := data.WriteNPZ(npz6, randomData(1, 6, 3, 2)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args   []string
		status int
		msg    string
	}{
		{[]string{model}, 2, "--data FILE is required"},
		{[]string{model, "--data", npz, "--batch", "0"}, 2, "--batch: expected a positive number of sequences, found 0"},
		{[]string{model, "--data", npz, "--repeat", "-1"}, 2, "--repeat: expected a positive number of runs, found -1"},
		{[]string{model, "--data", npz, "--via", "stream"}, 2, `--via: expected predict or run, found "stream"`},
		{[]string{model, "--data", filepath.Join(t.TempDir(), "none.npz")}, 1, "none.npz"},
		{[]string{filepath.Join("..", "..", "testdata", "corpus", "embedding_features_gru", "model.onnx"), "--data", npz6, "--via", "run"}, 1,
			`--via run: input "codes" int64 [batch, time]: expected a float32 input`},
	} {
		status, _, errs := trnnCmd(t, append([]string{"bench", "infer"}, c.args...)...)
		if status != c.status || !strings.Contains(errs, c.msg) || strings.Count(errs, "\n") != 1 {
			t.Errorf("bench infer %s: status %d, %q; expected status %d and %q in one line", strings.Join(c.args, " "), status, errs, c.status, c.msg)
		}
	}
}

// checkProfile fails unless path holds a gzip-compressed profile, as
// runtime/pprof writes.
func checkProfile(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("--cpuprofile: %v", err)
	}
	z, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("--cpuprofile wrote %d bytes that are not gzip: %v", len(b), err)
	}
	if raw, err := io.ReadAll(z); err != nil || len(raw) == 0 {
		t.Fatalf("--cpuprofile: %d bytes of profile, %v", len(raw), err)
	}
}

// TestBenchInferCPUProfile: --cpuprofile writes a profile, its folder
// created if missing.
func TestBenchInferCPUProfile(t *testing.T) {
	model, npz := benchSetup(t)
	prof := filepath.Join(t.TempDir(), "new", "infer.prof")
	benchJSON(t, model, "--data", npz, "--repeat", "20", "--cpuprofile", prof)
	checkProfile(t, prof)
}

// TestTrainCPUProfile: train --cpuprofile writes a profile and trains the
// same weights as without it.
func TestTrainCPUProfile(t *testing.T) {
	spec, _ := setup(t, 40, 1, "train.npz")
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	prof := filepath.Join(t.TempDir(), "profiles", "train.prof")
	trainOK(t, spec, "-o", a, "-q")
	trainOK(t, spec, "-o", b, "-q", "--cpuprofile", prof)
	checkProfile(t, prof)
	sameWeights(t, "--cpuprofile", weights(t, a), weights(t, b))
}
