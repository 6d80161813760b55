package compiler

import (
	"strings"
	"testing"
)

// TestTestSet: training.test parses into Training.Test, has a default
// bootstrap, marshals back only when set (so resolved specs and the models
// embedding them stay as they were without one), and resolves its file
// against the spec's folder.
func TestTestSet(t *testing.T) {
	s, err := Parse("dir/s.yaml", []byte(minimalSpec))
	if err != nil {
		t.Fatal(err)
	}
	if s.Training.Test != (Test{Bootstrap: DefaultBootstrap}) || s.Training.Test.HasTest() {
		t.Errorf("default test: %+v", s.Training.Test)
	}
	y, err := MarshalSpec(s)
	if err != nil || strings.Contains(string(y), "test:") {
		t.Errorf("a spec without a test set marshals with one:\n%s", y)
	}
	for _, c := range []struct {
		src  string
		want Test
		yaml string
	}{
		{"training: {test: {split: 0.1}}\n", Test{Split: 0.1, Bootstrap: DefaultBootstrap},
			"  test:\n    split: 0.1\n    bootstrap: 1000\n"},
		{"training: {test: {file: held.npz, bootstrap: 0}}\n", Test{File: "held.npz"},
			"  test:\n    split: 0.0\n    file: held.npz\n    bootstrap: 0\n"},
		{"training: {test: {bootstrap: 50}}\n", Test{Bootstrap: 50},
			"  test:\n    split: 0.0\n    bootstrap: 50\n"},
	} {
		s, err := Parse("dir/s.yaml", []byte(minimalSpec+c.src))
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		if s.Training.Test != c.want {
			t.Errorf("%s: test %+v, want %+v", c.src, s.Training.Test, c.want)
		}
		y, err := MarshalSpec(s)
		if err != nil || !strings.Contains(string(y), c.yaml) {
			t.Errorf("%s: marshals as\n%s\nwant it to hold\n%s", c.src, y, c.yaml)
			continue
		}
		back, err := Parse("dir/s.yaml", y)
		if err != nil {
			t.Fatal(err)
		}
		assertSameSpec(t, s, back)
	}
	s, _ = Parse("dir/s.yaml", []byte(minimalSpec+"training: {test: {file: held.npz}}\n"))
	if p := s.Path(s.Training.Test.File); p != "dir/held.npz" {
		t.Errorf("test file resolves to %q", p)
	}
	// A test split beside the default validation split of 0.2.
	if _, err := Parse("s.yaml", []byte(minimalSpec+"training: {test: {split: 0.8}}\n")); err == nil ||
		!strings.Contains(err.Error(), "training.test.split: with validation.split 0.2, must leave sequences to train on") {
		t.Errorf("test split 0.8 with the default validation split: %v", err)
	}
}
