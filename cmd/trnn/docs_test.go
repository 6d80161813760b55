package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trnn/trnn/internal/ortcheck"
)

// snippet returns the first fenced block of the given language after the
// heading (or text) marker in the document.
func snippet(t *testing.T, doc, marker, lang string) string {
	t.Helper()
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, marker)
	if i < 0 {
		t.Fatalf("%s has no %q", doc, marker)
	}
	m := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```").FindStringSubmatch(s[i:])
	if m == nil {
		t.Fatalf("%s has no %s block after %q", doc, lang, marker)
	}
	return m[1]
}

// quickstartLayout makes a folder holding runs/quickstart/model.onnx, a
// model with the quickstart's inputs (3 features, 1 label), for the
// snippets that read it from the repository's root.
func quickstartLayout(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "runs", "quickstart")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	defaultExport(t, dir)
	return root
}

// need finds a program a test runs, or skips (fails where dependencies are
// required).
func need(t *testing.T, program string) string {
	t.Helper()
	path, err := exec.LookPath(program)
	if err != nil {
		if ortcheck.DepsRequired() {
			t.Fatalf("%s is not installed: %v", program, err)
		}
		t.Skipf("%s is not installed", program)
	}
	return path
}

// TestReadmeGoSnippet builds the README's Go program, as written, against
// this checkout, and runs it on a quickstart-like model; docs/workflow.md's
// must build too.
func TestReadmeGoSnippet(t *testing.T) {
	bin := buildSnippet(t, snippet(t, "../../README.md", "## In Go programs", "go"))
	buildSnippet(t, snippet(t, "../../docs/workflow.md", "## 7. Serve or embed", "go"))
	run := exec.Command(bin)
	run.Dir = quickstartLayout(t)
	out, err := run.CombinedOutput()
	if err != nil || !regexp.MustCompile(`^\[\[0\.\d+\] \[0\.\d+\]\] \[\[\[0\.\d+\] \[0\.\d+\]\] \[\[0\.\d+\]\]\]\n$`).Match(out) {
		t.Fatalf("the README's Go snippet: %v\n%s", err, out)
	}
}

// buildSnippet builds a Go program from a document, as written, in a module
// of its own that requires this checkout, and returns the binary.
func buildSnippet(t *testing.T, src string) string {
	t.Helper()
	goTool := need(t, "go")
	if !strings.Contains(src, `"github.com/trnn/trnn"`) {
		t.Fatal("the Go snippet does not import github.com/trnn/trnn")
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"main.go": src,
		"go.mod":  "module snippet\n\ngo 1.26\n\nrequire github.com/trnn/trnn v0.0.0\n\nreplace github.com/trnn/trnn => " + repo + "\n",
		"go.sum":  string(sum),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(mod, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(mod, "snippet")
	build := exec.Command(goTool, "build", "-o", bin, ".")
	build.Dir = mod
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("the Go snippet does not build: %v\n%s\n%s", err, out, src)
	}
	return bin
}

// TestOnnxNodeSnippet runs docs/onnx.md's Node.js snippet, as written,
// with the onnxruntime-node that make deps installs.
func TestOnnxNodeSnippet(t *testing.T) {
	node := need(t, "node")
	modules, err := filepath.Abs("../../.deps/ort/node_modules")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(modules, "onnxruntime-node")); err != nil {
		if ortcheck.DepsRequired() {
			t.Fatalf("onnxruntime-node is not installed (make deps): %v", err)
		}
		t.Skip("onnxruntime-node is not installed (make deps)")
	}
	root := quickstartLayout(t)
	js := filepath.Join(root, "snippet.js")
	if err := os.WriteFile(js, []byte(snippet(t, "../../docs/onnx.md", "**Node.js**", "js")), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, js)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	out, err := cmd.CombinedOutput()
	if err != nil || !regexp.MustCompile(`^\[ 2, 1 \] \[ 0\.\d+, 0\.\d+ \]\n$`).Match(out) {
		t.Fatalf("docs/onnx.md's Node.js snippet: %v\n%s", err, out)
	}
}
