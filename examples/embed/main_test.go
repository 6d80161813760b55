package main

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/trnn/trnn/internal/ortcheck"
)

// heavy are modules an inference-only program must not link: plotting,
// YAML, NPZ and pickle readers, the command line and its progress bars.
var heavy = []string{
	"gonum.org/v1/plot",
	"codeberg.org/go-fonts",
	"codeberg.org/go-pdf",
	"github.com/goccy/go-yaml",
	"codeberg.org/sbinet/npyio",
	"github.com/nlpodyssey/gopickle",
	"github.com/spf13/cobra",
	"github.com/schollz/progressbar",
}

// trainer are trnn's packages that belong to training, not to running a
// model (runtime/interp, the interpreter, is runtime's subpackage and
// allowed).
var trainer = []string{
	"github.com/trnn/trnn/runtime",
	"github.com/trnn/trnn/compiler",
	"github.com/trnn/trnn/data",
	"github.com/trnn/trnn/loss",
}

// goTool returns the go command, failing under CI=true and skipping
// elsewhere when there is none.
func goTool(t *testing.T) string {
	t.Helper()
	g, err := exec.LookPath("go")
	if err != nil {
		if ortcheck.DepsRequired() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return g
}

// TestEmbedLinksOnlyInference builds the program and checks what it links:
// the modules recorded in the binary and the packages it imports.
func TestEmbedLinksOnlyInference(t *testing.T) {
	g := goTool(t)
	bin := filepath.Join(t.TempDir(), "embed")
	if out, err := exec.Command(g, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	mods, err := exec.Command(g, "version", "-m", bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	for _, line := range strings.Split(string(mods), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || (f[0] != "dep" && f[0] != "=>") {
			continue
		}
		for _, m := range heavy {
			if f[1] == m || strings.HasPrefix(f[1], m+"/") {
				t.Errorf("the binary links %s", f[1])
			}
		}
	}
	deps, err := exec.Command(g, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(deps)) {
		for _, p := range trainer {
			if pkg == p || (p != "github.com/trnn/trnn/runtime" && strings.HasPrefix(pkg, p+"/")) {
				t.Errorf("the program imports %s", pkg)
			}
		}
	}

	// It runs: three labels' probabilities for the bundled classifier.
	out, err := exec.Command(bin, filepath.Join("..", "..", "testdata", "onnx", "lstm_classifier.onnx")).Output()
	if err != nil {
		t.Fatalf("embed: %v", err)
	}
	probs := strings.Fields(strings.Trim(strings.TrimSpace(string(out)), "[]"))
	if len(probs) != 3 {
		t.Fatalf("output %q: want 3 probabilities", out)
	}
	for _, p := range probs {
		if v, err := strconv.ParseFloat(p, 64); err != nil || v < 0 || v > 1 {
			t.Fatalf("output %q: %q is not a probability", out, p)
		}
	}
}
