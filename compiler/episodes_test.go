package compiler

import (
	"os"
	"path/filepath"
	"testing"
)

// TestEpisodesFolders checks that data.train, training.validation.file and
// training.test.file may name a folder in the episodes layout: a path
// ending in a slash or without an extension, whether it exists or not, so
// that the spec a checkpoint or a model holds parses anywhere. Other
// extensions are refused at their place; one that names an existing folder
// (next to the spec, or from the working directory for --validation) is
// told to end in a slash.
func TestEpisodesFolders(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"train", "val.d", "test"} {
		if err := os.Mkdir(filepath.Join(dir, f), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	spec := filepath.Join(dir, "s.yaml")
	good := []string{
		"data: {train: train}\ntraining: {validation: {file: val.d/}, test: {file: test}}\n",
		"data: {train: new}\ntraining: {validation: {file: other/}, test: {file: test.2/}}\n",
		"data: {train: new/}\ntraining: {validation: {file: x.parquet}, test: {file: " + filepath.Join(dir, "test") + "}}\n",
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
		// The spec as a checkpoint holds it parses away from its folder.
		out, _ := MarshalSpec(s)
		if _, err := Parse(filepath.Join(t.TempDir(), "run", "checkpoint.trnn (spec)"), out); err != nil {
			t.Errorf("%q: the resolved spec does not parse elsewhere: %v", src, err)
		}
	}

	bad := minimalSpec + "data: {train: trian.d}\ntraining: {validation: {file: val.h5}, test: {file: val.d}}\n"
	_, err := Parse(spec, []byte(bad))
	want := spec + ":4:15: data.train: must be an .npz, .csv or .parquet file, or a folder in the episodes layout, got \"trian.d\"\n" +
		spec + ":5:31: training.validation.file: must be an .npz, .csv or .parquet file, or a folder in the episodes layout, got \"val.h5\"\n" +
		spec + ":5:53: training.test.file: \"val.d\" is a folder: write it with a trailing slash (val.d/) to read it in the episodes layout"
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
	t.Chdir(dir)
	if _, err := Compile(s); err == nil || err.Error() != `--validation: "val.d" is a folder: write it with a trailing slash (val.d/) to read it in the episodes layout` {
		t.Errorf("--validation val.d from the spec's folder: %v", err)
	}
	s.Training.Validation.File += "/"
	if _, err := Compile(s); err != nil {
		t.Errorf("--validation %s: %v", s.Training.Validation.File, err)
	}
}
