package compiler

import (
	"os"
	"path/filepath"
	"testing"
)

// TestEpisodesFolders checks that data.train, training.validation.file and
// training.test.file may name a folder in the episodes layout: a path
// ending in a slash or without an extension, or a folder that exists next
// to the spec. Other extensions are still refused at their place, and a
// folder given with --validation is found from the working directory, not
// from the spec's folder.
func TestEpisodesFolders(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"train", "val.d", "test"} {
		if err := os.Mkdir(filepath.Join(dir, f), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	spec := filepath.Join(dir, "s.yaml")
	good := []string{
		"data: {train: train}\ntraining: {validation: {file: val.d}, test: {file: test}}\n",
		"data: {train: new}\ntraining: {validation: {file: val.d/}, test: {file: test.2/}}\n",
		"data: {train: new/}\ntraining: {validation: {file: other/}, test: {file: " + filepath.Join(dir, "test") + "}}\n",
	}
	for _, src := range good {
		s, err := Parse(spec, []byte(minimalSpec+src))
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		if s.Path(s.Data.Train) != filepath.Join(dir, s.Data.Train) {
			t.Errorf("%q: data.train resolves to %s", src, s.Path(s.Data.Train))
		}
	}

	bad := minimalSpec + "data: {train: trian.d}\ntraining: {validation: {file: val.h5}, test: {file: test.2}}\n"
	_, err := Parse(spec, []byte(bad))
	want := spec + ":4:15: data.train: must be an .npz, .csv or .parquet file, or a folder in the episodes layout, got \"trian.d\"\n" +
		spec + ":5:31: training.validation.file: must be an .npz, .csv or .parquet file, or a folder in the episodes layout, got \"val.h5\"\n" +
		spec + ":5:53: training.test.file: must be an .npz, .csv or .parquet file, or a folder in the episodes layout, got \"test.2\""
	if err == nil || err.Error() != want {
		t.Errorf("Parse(misspelt folders):\n got %v\nwant %s", err, want)
	}

	s, err := Parse(spec, []byte(minimalSpec))
	if err != nil {
		t.Fatal(err)
	}
	s.Training.Validation.File, s.Training.Validation.Split = "val.d", 0
	s.SetOrigin("training.validation.file", "--validation")
	if _, err := Compile(s); err == nil || err.Error() != `--validation: must be an .npz, .csv or .parquet file, or a folder in the episodes layout, got "val.d"` {
		t.Errorf("--validation val.d from another folder: %v", err)
	}
	s.Training.Validation.File = filepath.Join(dir, "val.d")
	if _, err := Compile(s); err != nil {
		t.Errorf("--validation %s: %v", s.Training.Validation.File, err)
	}
}
