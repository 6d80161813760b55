package export_test

// ONNX's own checker (Debian's python3-onnx) must accept every exported
// model: onnx.checker.check_model(model, full_check=True), which includes
// strict shape inference.

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/internal/ortcheck"
	"github.com/trnn/trnn/runtime"
)

// checkerPython is Debian's interpreter, which has python3-onnx; another
// python3 may come first on PATH. TRNN_CHECKER_PYTHON overrides it (the
// tests of the skip and CI paths point it at a missing file).
func checkerPython() string {
	if p := os.Getenv("TRNN_CHECKER_PYTHON"); p != "" {
		return p
	}
	return "/usr/bin/python3"
}

// runChecker runs testdata/python/check_model.py on paths and returns its
// output lines by path ("ok" or the failure reason). It skips the test when
// the checker is unavailable, or fails it when CI=true.
func runChecker(t *testing.T, paths []string) map[string]string {
	t.Helper()
	script := filepath.Join("..", "testdata", "python", "check_model.py")
	out, err := exec.Command(checkerPython(), append([]string{script}, paths...)...).CombinedOutput()
	var exit *exec.ExitError
	unavailable := ""
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == 3:
		unavailable = strings.TrimSpace(string(out))
	case err != nil && !errors.As(err, &exit):
		unavailable = err.Error()
	}
	if unavailable != "" {
		msg := fmt.Sprintf("onnx checker unavailable (%s); install python3-onnx with `make deps`", unavailable)
		if ortcheck.DepsRequired() {
			t.Fatalf("%s; dependencies are required here (CI or TRNN_REQUIRE_DEPS is set)", msg)
		}
		t.Skip(msg)
	}
	res := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		switch {
		case strings.HasPrefix(line, "ok "):
			res[strings.TrimPrefix(line, "ok ")] = "ok"
		case strings.HasPrefix(line, "FAIL "):
			path, reason, _ := strings.Cut(strings.TrimPrefix(line, "FAIL "), ": ")
			res[path] = reason
		default:
			t.Log(line)
		}
	}
	return res
}

// TestONNXChecker writes every model of the parity matrix at opsets 14 and
// 17 and has onnx.checker accept each. Debian's onnx 1.12 knows opsets up
// to 17 only, so the opset-21 models are checked by ONNX Runtime alone.
func TestONNXChecker(t *testing.T) {
	dir := t.TempDir()
	var paths []string
	for i, c := range ortMatrix() {
		if c.opset > 17 {
			continue
		}
		path := filepath.Join(dir, c.String()+".onnx")
		prog := testProgram(t, c.config(uint64(100+i)))
		if err := runtime.WriteModelFile(path, prog, export.Options{Opset: c.opset, StepProbs: c.stepProbs, Version: testVersion}); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	res := runChecker(t, paths)
	for _, p := range paths {
		switch r := res[p]; r {
		case "ok":
		case "":
			t.Errorf("%s: no verdict from the checker", filepath.Base(p))
		default:
			t.Errorf("%s: onnx.checker: %s", filepath.Base(p), r)
		}
	}
	t.Logf("onnx.checker (full_check) accepted %d of %d models", countOK(res, paths), len(paths))
}

func countOK(res map[string]string, paths []string) int {
	n := 0
	for _, p := range paths {
		if res[p] == "ok" {
			n++
		}
	}
	return n
}

// TestONNXCheckerRejects makes sure the harness reports a rejection: a model
// whose node reads a value nothing defines must fail the check.
func TestONNXCheckerRejects(t *testing.T) {
	m := mustBuild(t, testProgram(t, demoConfig), export.Options{})
	m.GetGraph().GetNode()[0].Input[0] = "undefined_value"
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "broken.onnx")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	res := runChecker(t, []string{path})
	if res[path] == "ok" || res[path] == "" {
		t.Errorf("the checker did not reject a broken model: %q", res[path])
	} else if !strings.Contains(res[path], "undefined_value") {
		t.Errorf("rejection does not name the undefined value: %s", res[path])
	}
}

// TestONNXCheckerMissing runs the checker test again in a child process with
// the interpreter pointed at a missing file: it is skipped without CI and
// fails with CI=true.
func TestONNXCheckerMissing(t *testing.T) {
	if os.Getenv("TRNN_CHECKER_PYTHON") != "" {
		t.Skip("already in the child process")
	}
	for _, tc := range []struct {
		ci       string
		wantFail bool
		want     string
	}{
		{"", false, "install python3-onnx with `make deps`"},
		{"true", true, "dependencies are required here"},
		{"1", true, "dependencies are required here"}, // any CI value, not only "true"
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestONNXCheckerRejects$", "-test.v")
		cmd.Env = append(os.Environ(), "TRNN_CHECKER_PYTHON=/nonexistent/python3", "CI="+tc.ci, "TRNN_REQUIRE_DEPS=")
		out, err := cmd.CombinedOutput()
		if (err != nil) != tc.wantFail || !strings.Contains(string(out), tc.want) {
			t.Errorf("CI=%q: failed=%v, want %v; output:\n%s", tc.ci, err != nil, tc.wantFail, out)
		}
		if !tc.wantFail && !strings.Contains(string(out), "--- SKIP") {
			t.Errorf("CI=%q: not skipped; output:\n%s", tc.ci, out)
		}
	}
}
