package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trnn/trnn/compiler"
)

const specsDir = "../../testdata/specs"

func runCheck(t *testing.T, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	status = run(append([]string{"check"}, args...), strings.NewReader(""), &out, &errb)
	return status, out.String(), errb.String()
}

// TestCheckGood runs `trnn check` on every good spec: exit 0 and the graph
// listing of the spec's golden file (written by the compiler's tests).
func TestCheckGood(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(specsDir, "good", "*.yaml"))
	jsons, _ := filepath.Glob(filepath.Join(specsDir, "good", "*.json"))
	files = append(files, jsons...)
	if len(files) < 5 {
		t.Fatalf("found %d good specs", len(files))
	}
	for _, file := range files {
		status, stdout, stderr := runCheck(t, file)
		if status != 0 || stderr != "" {
			t.Errorf("check %s: status %d, stderr %q", file, status, stderr)
			continue
		}
		want, err := os.ReadFile(file + ".golden")
		if err != nil {
			t.Fatal(err)
		}
		if stdout != string(want) {
			t.Errorf("check %s printed\n%s\nwant (%s.golden)\n%s", file, stdout, file, want)
		}
	}
}

var positioned = regexp.MustCompile(`^[^:]+:[0-9]+:[0-9]+: \S|^\(and [0-9]+ more errors\)$`)

// TestCheckBad runs `trnn check` on every bad spec: exit 1, nothing on
// stdout, and one positioned line per problem on stderr, as the golden
// files of the compiler's tests list them (at most ten, then a count).
func TestCheckBad(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(specsDir, "bad", "*.yaml"))
	if len(files) < 25 {
		t.Fatalf("found %d bad specs", len(files))
	}
	for _, file := range files {
		status, stdout, stderr := runCheck(t, file)
		if status != 1 || stdout != "" {
			t.Errorf("check %s: status %d, stdout %q", file, status, stdout)
		}
		want, err := os.ReadFile(file + ".golden")
		if err != nil {
			t.Fatal(err)
		}
		wantLines := strings.Split(strings.TrimSuffix(string(want), "\n"), "\n")
		if len(wantLines) > 10 {
			wantLines = append(wantLines[:10], "(and "+itoa(len(wantLines)-10)+" more errors)")
		}
		// The golden files name the spec without its folder.
		got := strings.Split(strings.TrimSuffix(strings.ReplaceAll(stderr, file+":", filepath.Base(file)+":"), "\n"), "\n")
		if strings.Join(got, "\n") != strings.Join(wantLines, "\n") {
			t.Errorf("check %s printed\n%s\nwant\n%s", file, stderr, strings.Join(wantLines, "\n"))
		}
		for _, line := range got {
			if !positioned.MatchString(line) || strings.Contains(line, "goroutine") {
				t.Errorf("check %s: line %q is not a positioned error", file, line)
			}
		}
	}
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

// TestCheckResolved prints the resolved spec and parses it back.
func TestCheckResolved(t *testing.T) {
	file := filepath.Join(specsDir, "good", "mortality.yaml")
	status, stdout, stderr := runCheck(t, "--resolved", file)
	if status != 0 || stderr != "" {
		t.Fatalf("status %d stderr %q", status, stderr)
	}
	back, err := compiler.Parse(file, []byte(stdout))
	if err != nil {
		t.Fatalf("the resolved spec does not parse: %v\n%s", err, stdout)
	}
	orig, err := compiler.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	a, b := *orig, *back
	ma, _ := compiler.MarshalSpec(&a)
	mb, _ := compiler.MarshalSpec(&b)
	if string(ma) != string(mb) || back.Training.Validation.Patience != 5 || back.Objective.ClassWeight.W1 != 4 {
		t.Errorf("resolved spec differs from the original:\n%s\n---\n%s", ma, mb)
	}
	for _, field := range []string{"momentum: 0.0", "shuffle: true", "opset: 17", "average: all_steps", "normalize: standard"} {
		if !strings.Contains(stdout, field) {
			t.Errorf("resolved spec lacks %q:\n%s", field, stdout)
		}
	}
}

func TestCheckDot(t *testing.T) {
	file := filepath.Join(specsDir, "good", "graph_md.yaml")
	status, stdout, _ := runCheck(t, "--dot", file)
	want, err := os.ReadFile(file + ".dot")
	if err != nil {
		t.Fatal(err)
	}
	if status != 0 || stdout != string(want) {
		t.Errorf("status %d, printed\n%s\nwant\n%s", status, stdout, want)
	}
}

func TestCheckUsage(t *testing.T) {
	for _, c := range []struct {
		args   []string
		status int
		want   string
	}{
		{nil, 2, "trnn check: expected one spec file, got 0 argument(s) (see 'trnn check --help')\n"},
		{[]string{"a.yaml", "b.yaml"}, 2, "trnn check: expected one spec file, got 2 argument(s) (see 'trnn check --help')\n"},
		{[]string{"--dot", "--resolved", "a.yaml"}, 2, "trnn check: --resolved and --dot are exclusive (see 'trnn check --help')\n"},
		{[]string{"--colour", "a.yaml"}, 2, "trnn check: unknown flag: --colour (see 'trnn check --help')\n"},
		{[]string{filepath.Join(specsDir, "missing.yaml")}, 1, filepath.Join(specsDir, "missing.yaml") + ": cannot read spec: no such file or directory\n"},
		{[]string{specsDir}, 1, specsDir + ": a directory, not a spec; trnn check takes a spec file (YAML)\n"},
	} {
		status, stdout, stderr := runCheck(t, c.args...)
		if status != c.status || stderr != c.want || stdout != "" {
			t.Errorf("check %q: status %d, stdout %q, stderr %q; want status %d, stderr %q", c.args, status, stdout, stderr, c.status, c.want)
		}
	}
	status, stdout, _ := runCheck(t, "--help")
	if status != 0 || !strings.Contains(stdout, "trnn check mortality.yaml") || !strings.Contains(stdout, "--resolved") {
		t.Errorf("help: status %d\n%s", status, stdout)
	}
}
