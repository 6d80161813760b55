package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trnn/trnn/internal/ortcheck"
)

func TestParityOnForeignClassifiers(t *testing.T) {
	ortcheck.Require(t)
	// The forward classifiers run fused; a batch of 256 splits their rows
	// across the cores.
	for _, m := range []string{"lstm_classifier.onnx", "gru_classifier.onnx", "gru_forward_classifier.onnx", "lstm_classifier.onnx@256"} {
		var out, errb bytes.Buffer
		m, batch, _ := strings.Cut(m, "@")
		if batch == "" {
			batch = "3"
		}
		path := filepath.Join("..", "..", "testdata", "onnx", m)
		if code := run([]string{"-batch", batch, "-steps", "5", path}, &out, &errb); code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", m, code, out.String(), errb.String())
		}
		if !strings.Contains(out.String(), "max |trnn - ort|") {
			t.Errorf("%s: output %q names no difference", m, out.String())
		}
	}
}

func TestTolerance(t *testing.T) {
	ortcheck.Require(t)
	var out, errb bytes.Buffer
	path := filepath.Join("..", "..", "testdata", "onnx", "lstm_classifier.onnx")
	// A negative tolerance no difference can meet: the command must fail.
	if code := run([]string{"-tol", "-1", path}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "differ by more than") {
		t.Errorf("tol -1: exit %d, stderr %q", code, errb.String())
	}
}

func TestUsageAndBadModel(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "usage: ortparity") {
		t.Errorf("no model: exit %d, stderr %q", code, errb.String())
	}
	ortcheck.Require(t)
	bad := filepath.Join(t.TempDir(), "bad.onnx")
	if err := os.WriteFile(bad, []byte("not a model"), 0o600); err != nil {
		t.Fatal(err)
	}
	errb.Reset()
	if code := run([]string{bad}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "bad.onnx") {
		t.Errorf("bad model: exit %d, stderr %q", code, errb.String())
	}
}

func TestDepsRequired(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv(ortcheck.EnvRequire, "")
	if ortcheck.DepsRequired() {
		t.Error("required with neither variable set")
	}
	for _, v := range []string{"1", "true", "yes"} {
		t.Setenv("CI", v)
		if !ortcheck.DepsRequired() {
			t.Errorf("CI=%s does not require the dependencies", v)
		}
	}
}
