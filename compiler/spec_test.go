package compiler

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/trnn/trnn/graph"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/specs and the fuzz seed corpus")

const specsDir = "../testdata/specs"

// specFiles lists the spec files (.yaml, .json) of a testdata folder.
func specFiles(t testing.TB, dir string) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*.yaml", "*.json"} {
		m, err := filepath.Glob(filepath.Join(specsDir, dir, pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no spec files in %s", filepath.Join(specsDir, dir))
	}
	return files
}

// golden compares got with the golden file, or rewrites it under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./compiler -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (rerun with -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestGoodSpecs compiles every good spec, checks the graph listing against
// its golden file, and checks that the resolved spec parses back to the
// same spec.
func TestGoodSpecs(t *testing.T) {
	files := specFiles(t, "good")
	if len(files) < 5 {
		t.Fatalf("want at least 5 good specs, have %d", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			prog, err := CompileFile(file)
			if err != nil {
				t.Fatalf("CompileFile: %v", err)
			}
			if err := graph.Verify(prog.Graph); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			var listing bytes.Buffer
			if err := graph.WriteGraph(&listing, prog.Graph); err != nil {
				t.Fatal(err)
			}
			golden(t, file+".golden", listing.Bytes())

			resolved, err := MarshalSpec(prog.Spec)
			if err != nil {
				t.Fatal(err)
			}
			back, err := Parse(file, resolved)
			if err != nil {
				t.Fatalf("the resolved spec does not parse: %v\n%s", err, resolved)
			}
			assertSameSpec(t, prog.Spec, back)
			again, _ := MarshalSpec(back)
			if !bytes.Equal(resolved, again) {
				t.Errorf("MarshalSpec is not stable:\n%s\n---\n%s", resolved, again)
			}
			if prog.Spec.Dir != filepath.Dir(file) {
				t.Errorf("Dir = %q, want %q", prog.Spec.Dir, filepath.Dir(file))
			}
		})
	}
}

// assertSameSpec compares two specs' exported fields.
func assertSameSpec(t *testing.T, want, got *Spec) {
	t.Helper()
	a, b := *want, *got
	a.src, b.src = nil, nil
	if !reflect.DeepEqual(a, b) {
		t.Errorf("specs differ:\nwant %+v\n got %+v", a, b)
	}
}

// expectation is one expected error: its line and a regexp its message
// (without the position) must match.
type expectation struct {
	line int
	re   *regexp.Regexp
	src  string
}

// errorMarker finds inline expectations: a comment `# ERROR "re" ["re"...]`
// on the line an error must be reported on (go/types' convention). Each
// regexp is written as is between double quotes; a quote inside it is
// written \", which the regexp reads as a quote too.
var errorMarker = regexp.MustCompile(`#\s*ERROR\s+(.*)$`)

// expectations reads the expected errors of a bad spec: the inline markers,
// or for files that cannot carry a comment (an empty file, a binary file,
// JSON) a sidecar NAME.errors whose lines are `LINE "re" ["re"...]`.
func expectations(t *testing.T, file string) []expectation {
	t.Helper()
	var exps []expectation
	parse := func(where string, line int, rest string) {
		for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimSpace(rest) {
			s, n, ok := markerRegexp(rest)
			if !ok {
				t.Fatalf("%s: bad ERROR marker %q: want \"regexp\"...", where, rest)
			}
			re, err := regexp.Compile(s)
			if err != nil {
				t.Fatalf("%s: bad regexp %q: %v", where, s, err)
			}
			exps = append(exps, expectation{line: line, re: re, src: s})
			rest = rest[n:]
		}
	}
	if side, err := os.ReadFile(file + ".errors"); err == nil {
		for i, l := range strings.Split(strings.TrimSpace(string(side)), "\n") {
			num, rest, _ := strings.Cut(l, " ")
			line, err := strconv.Atoi(num)
			if err != nil {
				t.Fatalf("%s.errors:%d: want LINE \"regexp\"...", file, i+1)
			}
			parse(fmt.Sprintf("%s.errors:%d", file, i+1), line, rest)
		}
		return exps
	}
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(src), "\n") {
		if m := errorMarker.FindStringSubmatch(l); m != nil {
			parse(fmt.Sprintf("%s:%d", file, i+1), i+1, m[1])
		}
	}
	return exps
}

// markerRegexp reads a double-quoted regexp at the start of s and returns
// it and the length of s it spans.
func markerRegexp(s string) (string, int, bool) {
	if !strings.HasPrefix(s, `"`) {
		return "", 0, false
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return s[1:i], i + 1, true
		}
	}
	return "", 0, false
}

// TestBadSpecs checks that every bad spec yields exactly the errors its
// markers expect, on the expected lines, and exactly the lines of its golden
// file (which pins the columns).
func TestBadSpecs(t *testing.T) {
	files := specFiles(t, "bad")
	if len(files) < 25 {
		t.Fatalf("want at least 25 bad specs, have %d", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			exps := expectations(t, file)
			if len(exps) == 0 {
				t.Fatalf("%s has no ERROR markers and no .errors file", file)
			}
			_, err := CompileFile(file)
			if err == nil {
				t.Fatalf("CompileFile succeeded, want errors")
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is %T, want ErrorList: %v", err, err)
			}
			matched := make([]bool, len(exps))
			var all strings.Builder
			for _, e := range list {
				all.WriteString(e.Error() + "\n")
				if e.Pos.File != file || e.Pos.Line < 1 || e.Pos.Col < 1 {
					t.Errorf("error without a position in the file: %v", e)
				}
				if strings.Contains(e.Msg, "\n") || e.Msg == "" {
					t.Errorf("message is not one non-empty line: %q", e.Msg)
				}
				found := false
				for i, x := range exps {
					if !matched[i] && x.line == e.Pos.Line && x.re.MatchString(e.Msg) {
						matched[i], found = true, true
						break
					}
				}
				if !found {
					t.Errorf("unexpected error: %v", e)
				}
			}
			for i, x := range exps {
				if !matched[i] {
					t.Errorf("%s:%d: missing error matching %q", file, x.line, x.src)
				}
			}
			// The golden file is what `trnn check NAME` prints in the
			// spec's folder: positions name the file without its folder.
			golden(t, file+".golden", []byte(strings.ReplaceAll(all.String(), file+":", filepath.Base(file)+":")))
		})
	}
}

// TestParseNeverPanicsOnTruncation parses every prefix of every spec: each
// result is a spec or positioned errors.
func TestParseNeverPanicsOnTruncation(t *testing.T) {
	for _, file := range append(specFiles(t, "good"), specFiles(t, "bad")...) {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n <= len(src); n += max(1, len(src)/41) {
			checkParse(t, src[:n])
		}
	}
}

func TestErrorList(t *testing.T) {
	var l ErrorList
	for i := 12; i >= 1; i-- {
		l.Addf(Pos{File: "s.yaml", Line: i, Col: 3}, "problem %d", i)
	}
	l.Add(Pos{File: "s.yaml", Line: 2, Col: 1}, "earlier on line 2")
	l.Add(Pos{File: "s.yaml", Line: 2, Col: 1}, "earlier on line 2")
	l.RemoveMultiples()
	lines := strings.Split(l.Error(), "\n")
	want := []string{
		"s.yaml:1:3: problem 1",
		"s.yaml:2:1: earlier on line 2",
		"s.yaml:2:3: problem 2",
	}
	if len(lines) != 11 || !reflect.DeepEqual(lines[:3], want) || lines[10] != "(and 3 more errors)" {
		t.Errorf("Error() =\n%s", l.Error())
	}
	if (ErrorList{}).Err() != nil {
		t.Error("an empty list is not nil as an error")
	}
	for _, c := range []struct {
		e    Error
		want string
	}{
		{Error{Pos{"s.yaml", 3, 4}, "m"}, "s.yaml:3:4: m"},
		{Error{Pos{File: "s.yaml"}, "m"}, "s.yaml: m"},
		{Error{Pos{}, "--epochs: m"}, "--epochs: m"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
}

func TestSuggest(t *testing.T) {
	for _, c := range []struct {
		got   string
		known []string
		want  string
	}{
		{"unit", []string{"units"}, "units"},
		{"lsmt", layerKindNames, "lstm"},
		{"GRU", layerKindNames, "gru"},
		{"dropot", layerKindNames, "dropout"},
		{"conv", layerKindNames, ""},
		{"lerning_rate", []string{"optimizer", "learning_rate"}, "learning_rate"},
		{"rate", []string{"learning_rate"}, ""},
		{"2", []string{"0", "1"}, ""},
	} {
		if got := suggest(c.got, c.known); got != c.want {
			t.Errorf("suggest(%q) = %q, want %q", c.got, got, c.want)
		}
	}
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "abc", 3}, {"kitten", "sitting", 3}, {"lsmt", "lstm", 1}, {"abc", "abc", 0}, {"ab", "ba", 1}} {
		if d := editDistance(c.a, c.b); d != c.d {
			t.Errorf("editDistance(%q, %q) = %d, want %d", c.a, c.b, d, c.d)
		}
	}
}

const minimalSpec = "inputs: {features: 2}\nlayers: [{lstm: {units: 3}}]\noutputs: {labels: 1}\n"

func TestDefaults(t *testing.T) {
	s, err := Parse("dir/run-1.yaml", []byte(minimalSpec))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultSpec()
	want.Name = "run-1"
	want.Dir = "dir"
	want.Inputs.Features, want.Inputs.FeatureNames = 2, []string{"f0", "f1"}
	want.Layers = []Layer{{Kind: LayerLSTM, Units: 3}}
	want.Outputs.Labels, want.Outputs.LabelNames = 1, []string{"y"}
	assertSameSpec(t, want, s)
	// The paper's defaults, spelled out.
	if s.Objective.Alpha != 0.5 || s.Objective.Average != "all_steps" || s.Training.Optimizer != "adam" ||
		s.Training.LearningRate != 0.001 || s.Training.BatchSize != 32 || s.Training.Epochs != 20 ||
		!s.Training.Shuffle || s.Training.Seed != 1 || s.Training.Validation.Split != 0.2 ||
		s.Training.Validation.Monitor != "auroc" || s.Training.Validation.Patience != 0 ||
		s.Export.Opset != 17 || s.Export.StepProbs || s.Inputs.Normalize != "standard" {
		t.Errorf("defaults: %+v", s)
	}
	s, err = Parse("s.yaml", []byte(minimalSpec+"outputs: {labels: 3}\n"))
	if err == nil {
		t.Fatal("duplicate outputs accepted")
	}
	s, err = Parse("s.yaml", []byte("inputs: {features: 2}\nlayers: [{lstm: {units: 3}}]\noutputs: {labels: 3}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Outputs.LabelNames; !reflect.DeepEqual(got, []string{"y0", "y1", "y2"}) {
		t.Errorf("label names %q", got)
	}
}

func TestValidationFileReplacesDefaultSplit(t *testing.T) {
	s, err := Parse("s.yaml", []byte(minimalSpec+"training: {validation: {file: v.npz, patience: 2}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Training.Validation.Split != 0 || s.Training.Validation.File != "v.npz" {
		t.Errorf("validation = %+v, want split 0 and the file", s.Training.Validation)
	}
	if _, err := Parse("s.yaml", []byte(minimalSpec+"training: {validation: {file: v.npz, split: 0}}\n")); err != nil {
		t.Errorf("file with split 0: %v", err)
	}
	s, err = Parse("s.yaml", []byte(minimalSpec+"training: {validation: {split: 0}}\n"))
	if err != nil || s.Training.Validation.Split != 0 {
		t.Errorf("split 0: %v %+v", err, s)
	}
}

func TestPathsResolveAgainstSpecFolder(t *testing.T) {
	s, err := Parse(filepath.Join("runs", "a", "s.yaml"), []byte(minimalSpec+"data: {train: d/train.npz}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Path(s.Data.Train), filepath.Join("runs", "a", "d", "train.npz"); got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
	if got := s.Path("/abs/x.npz"); got != "/abs/x.npz" {
		t.Errorf("absolute Path = %q", got)
	}
	out, _ := MarshalSpec(s)
	if !bytes.Contains(out, []byte("train: d/train.npz\n")) {
		t.Errorf("resolved spec does not keep the path as written:\n%s", out)
	}
}

// TestOverrides changes fields of a parsed spec as the command line does:
// errors about them name the field or the flag, without a position in the
// file, while errors the file still causes keep theirs.
func TestOverrides(t *testing.T) {
	src := minimalSpec + "training: {epochs: 3, batch_size: 0}\n"
	if _, err := Parse("s.yaml", []byte(src)); err == nil || err.Error() != "s.yaml:4:35: training.batch_size: must be a positive integer, got 0" {
		t.Fatalf("Parse: %v", err)
	}
	s, err := Parse("s.yaml", []byte(minimalSpec+"training: {epochs: 3}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s.Training.Epochs = 0
	s.SetOrigin("training.epochs", "--epochs")
	if _, err := Compile(s); err == nil || err.Error() != "--epochs: must be a positive integer, got 0" {
		t.Errorf("Compile after --epochs 0: %v", err)
	}
	s.Training.Epochs = 5
	s.Training.BatchSize = -1 // changed without SetOrigin
	if _, err := Compile(s); err == nil || err.Error() != "training.batch_size: must be a positive integer, got -1" {
		t.Errorf("Compile after changing batch_size: %v", err)
	}
	s.Training.BatchSize = 4
	s.Data.Train = "/tmp/x.h5"
	s.SetOrigin("data.train", "--data")
	if _, err := Compile(s); err == nil || err.Error() != `--data: must be an .npz, .csv or .parquet file, or a folder in the episodes layout, got "/tmp/x.h5"` {
		t.Errorf("Compile after --data x.h5: %v", err)
	}
	s.Data.Train = "/tmp/x.npz"
	s.Training.Validation.File = "/tmp/v.npz"
	prog, err := Compile(s)
	if err != nil {
		t.Fatalf("Compile after --validation: %v", err)
	}
	if prog.Spec.Training.Validation.Split != 0 {
		t.Errorf("a validation file given later still leaves split %g", prog.Spec.Training.Validation.Split)
	}
}

// TestHandBuiltSpec compiles a spec built in Go: defaults from DefaultSpec,
// names generated by Compile, errors without positions.
func TestHandBuiltSpec(t *testing.T) {
	s := DefaultSpec()
	s.Inputs.Features = 3
	s.Layers = []Layer{{Kind: LayerGRU, Units: 4}}
	s.Outputs.Labels = 2
	prog, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	if prog.Spec.Name != "model" || len(prog.Spec.Inputs.FeatureNames) != 3 || prog.Graph.Name != "model" {
		t.Errorf("spec not completed: %+v", prog.Spec)
	}
	bad := DefaultSpec()
	bad.Inputs.Features = 3
	bad.Layers = []Layer{{Kind: "rnn", Units: 4}}
	_, err = Compile(bad)
	want := "layers[0]: unknown layer kind \"rnn\", expected lstm, gru or dropout\noutputs.labels: must be a positive integer, got 0"
	if err == nil || err.Error() != want {
		t.Errorf("Compile = %v, want\n%s", err, want)
	}
	bad.Outputs.Labels = 1
	bad.Layers[0].Kind = LayerLSTM
	bad.Training.Epochs = 0
	bad.SetOrigin("training.epochs", "--epochs")
	bad.Training.BatchSize = 0
	_, err = Compile(bad)
	want = "training.batch_size: must be a positive integer, got 0\n--epochs: must be a positive integer, got 0"
	if err == nil || err.Error() != want {
		t.Errorf("Compile = %v, want\n%s", err, want)
	}
	if _, err := Compile(nil); err == nil {
		t.Error("Compile(nil) succeeded")
	}
}

// TestResolvedQuoting round-trips names that need quoting in YAML.
func TestResolvedQuoting(t *testing.T) {
	src := `name: "a: b # c"
inputs: {features: ["true", "null", "1e3", "with space", "quote\"d", "back\\slash", "é", "-x", "{x}", "~"]}
layers: [{lstm: {units: 3}}]
outputs: {labels: ["[y]"]}
data: {train: "my data/train.npz"}
`
	s, err := Parse("s.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := MarshalSpec(s)
	back, err := Parse("s.yaml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	assertSameSpec(t, s, back)
}

// TestDocsExamples keeps docs/spec.md honest: its complete example and its
// minimal spec compile, and the listing it shows is what graph.WriteGraph prints
// for the complete example.
func TestDocsExamples(t *testing.T) {
	doc, err := os.ReadFile("../docs/spec.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```(yaml)?\n(.*?)```").FindAllStringSubmatch(string(doc), -1)
	var yamls []string
	listing := ""
	for _, b := range blocks {
		if b[1] == "yaml" {
			yamls = append(yamls, b[2])
		} else if strings.HasPrefix(b[2], "graph ") {
			listing = b[2]
		}
	}
	if len(yamls) < 2 || listing == "" {
		t.Fatalf("docs/spec.md: found %d yaml blocks and listing %q", len(yamls), listing)
	}
	for i, y := range yamls {
		s, err := Parse("mortality.yaml", []byte(y))
		if err != nil {
			t.Fatalf("docs/spec.md yaml block %d: %v", i, err)
		}
		prog, err := Compile(s)
		if err != nil {
			t.Fatalf("docs/spec.md yaml block %d: %v", i, err)
		}
		if i == 0 {
			var b bytes.Buffer
			graph.WriteGraph(&b, prog.Graph)
			if b.String() != listing {
				t.Errorf("docs/spec.md shows\n%s\nbut graph.WriteGraph prints\n%s", listing, b.String())
			}
		}
	}
}

func TestClassWeightForms(t *testing.T) {
	for _, c := range []struct {
		src  string
		want ClassWeight
	}{
		{`{"inputs": {"features": 2}, "layers": [{"lstm": {"units": 3}}], "outputs": {"labels": 1}, "objective": {"class_weight": {"0": 1, "1": 3.5}}}`, ClassWeight{W0: 1, W1: 3.5}},
		{minimalSpec + "objective: {class_weight: {1: 2, 0: 0}}\n", ClassWeight{W0: 0, W1: 2}},
		{minimalSpec + "objective: {class_weight: balanced}\n", ClassWeight{Balanced: true}},
	} {
		s, err := Parse("s.yaml", []byte(c.src))
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		if s.Objective.ClassWeight == nil || *s.Objective.ClassWeight != c.want {
			t.Errorf("%s: class_weight %+v, want %+v", c.src, s.Objective.ClassWeight, c.want)
		}
	}
}

func TestParseFileErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("# padding\n"), maxSpecBytes/10+1), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "none.yaml"), filepath.Join(dir, "none.yaml") + ": cannot read spec: no such file or directory"},
		{dir, dir + ": cannot read spec: is a directory, not a file"},
		{big, big + ":1:1: file too large for a spec: more than 1048576 bytes"},
		{"/dev/zero", "/dev/zero: cannot read spec: is not a regular file (a character device)"},
		{fifo, fifo + ": cannot read spec: is not a regular file (a named pipe)"}, // without blocking
	} {
		if _, err := ParseFile(c.path); err == nil || err.Error() != c.want {
			t.Errorf("ParseFile(%s) = %v, want %q", c.path, err, c.want)
		}
	}
}

// TestSpecLayerCap: a spec of more than MaxLayers layers gets one
// positioned error at its layers list, whatever the size of the list.
func TestSpecLayerCap(t *testing.T) {
	for _, n := range []int{MaxLayers + 1, 5000} {
		var b strings.Builder
		b.WriteString("inputs: {features: 2}\noutputs: {labels: 1}\nlayers:\n")
		for range n {
			b.WriteString("  - gru: {units: 1}\n")
		}
		_, err := Parse("deep.yaml", []byte(b.String()))
		want := fmt.Sprintf("deep.yaml:3:1: layers: must list at most %d layers, got %d", MaxLayers, n)
		if err == nil || err.Error() != want {
			t.Errorf("%d layers: %v, want %q", n, err, want)
		}
	}
	var b strings.Builder
	b.WriteString("inputs: {features: 2}\noutputs: {labels: 1}\nlayers:\n")
	for range MaxLayers {
		b.WriteString("  - gru: {units: 1}\n")
	}
	s, err := Parse("deep.yaml", []byte(b.String()))
	if err != nil {
		t.Fatalf("%d layers: %v", MaxLayers, err)
	}
	if _, err := Compile(s); err != nil {
		t.Fatalf("%d layers: %v", MaxLayers, err)
	}
}

// TestCategoricalRoundTrip: inputs.categorical in any order resolves to
// one entry per feature, and the resolved spec parses back to the same
// spec.
func TestCategoricalRoundTrip(t *testing.T) {
	src := `
inputs:
  features: [hr, gcs, sbp, cap]
  categorical:
    cap: ["0", "1"]
    gcs: ["1 None", "2 Pain", "3 Speech"]
  missing: mean
  indicators: true
layers: [{lstm: {units: 4}}]
outputs: {labels: 1}
data: {train: x.csv, bin: 0.5, shuffle_buffer: 64, csv: {id: stay, step: t}}
`
	s, err := Parse("s.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{nil, {"1 None", "2 Pain", "3 Speech"}, nil, {"0", "1"}}
	if !reflect.DeepEqual(s.Inputs.Categories, want) {
		t.Fatalf("Categories = %q, want %q", s.Inputs.Categories, want)
	}
	if s.Inputs.EncodedWidth() != 2+3+2+4 || s.Data.Bin != 0.5 || s.Data.ShuffleBuffer != 64 {
		t.Fatalf("width %d, bin %v, shuffle_buffer %d", s.Inputs.EncodedWidth(), s.Data.Bin, s.Data.ShuffleBuffer)
	}
	out, _ := MarshalSpec(s)
	back, err := Parse("s.yaml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	assertSameSpec(t, s, back)
}
