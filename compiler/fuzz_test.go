package compiler

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// errorLine is the shape of every line a parse error prints.
var errorLine = regexp.MustCompile(`^fuzz\.yaml:[1-9][0-9]*:[1-9][0-9]*: \S|^\(and [0-9]+ more errors\)$`)

// checkParse parses src and checks the parser's contract: it returns a spec
// or an ErrorList, every error is one positioned line, and a spec's resolved
// form parses back to the same spec.
func checkParse(t *testing.T, src []byte) {
	t.Helper()
	s, err := Parse("fuzz.yaml", src)
	if err != nil {
		if s != nil {
			t.Fatalf("Parse returned a spec and an error")
		}
		var list ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("error is %T %v, want a non-empty ErrorList", err, err)
		}
		for _, e := range list {
			if e.Pos.File != "fuzz.yaml" || e.Pos.Line < 1 || e.Pos.Col < 1 || e.Msg == "" || strings.ContainsAny(e.Msg, "\n\r") {
				t.Fatalf("malformed error %#v for input %q", e, src)
			}
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !errorLine.MatchString(line) {
				t.Fatalf("error line %q lacks a file:line:col position; input %q", line, src)
			}
		}
		return
	}
	out, err := MarshalSpec(s)
	if err != nil {
		t.Fatalf("MarshalSpec: %v", err)
	}
	back, err := Parse("fuzz.yaml", out)
	if err != nil {
		t.Fatalf("resolved spec does not parse: %v\ninput %q\nresolved:\n%s", err, src, out)
	}
	assertSameSpec(t, s, back)
}

// FuzzParse checks that no input makes the parser panic and that every
// error it reports is a positioned line. Its seed corpus,
// testdata/fuzz/FuzzParse, holds the specs of testdata/specs (rewritten by
// TestFuzzCorpus -update).
func FuzzParse(f *testing.F) {
	f.Add([]byte(minimalSpec))
	f.Fuzz(func(t *testing.T, src []byte) {
		checkParse(t, src)
	})
}

// TestFuzzCorpus checks that the seed corpus holds every spec of
// testdata/specs, and writes it under -update.
func TestFuzzCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	files := append(specFiles(t, "good"), specFiles(t, "bad")...)
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		entry := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", src)
		name := filepath.Join(dir, filepath.Base(filepath.Dir(file))+"-"+filepath.Base(file))
		if *update {
			if err := os.WriteFile(name, []byte(entry), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(name)
		if err != nil || string(got) != entry {
			t.Errorf("seed corpus entry %s is missing or stale (run go test ./compiler -run TestFuzzCorpus -update)", name)
		}
	}
}
