package data

import (
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// readAllSeqs reads path with a SeqReader to the end.
func readAllSeqs(t *testing.T, path string, s Schema) ([]*Dataset, error) {
	t.Helper()
	r, err := OpenSeqs(path, s)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var seqs []*Dataset
	for {
		d, err := r.Next()
		if err == io.EOF {
			return seqs, nil
		}
		if err != nil {
			return seqs, err
		}
		if d.N() != 1 {
			t.Fatalf("%s: a sequence read as %d", path, d.N())
		}
		seqs = append(seqs, d)
	}
}

// TestSeqReaderMatchesLoad: a Parquet file and an episodes folder, with
// gaps, categories and binned irregular times, read one sequence at a time
// give what Load gives, step values included; the folder has more stays
// than a window reads at once.
func TestSeqReaderMatchesLoad(t *testing.T) {
	o := SynthOptions{N: 40, MinLen: 2, MaxLen: 15, F: 2, K: 1, Seed: 6, PosRate: 0.4, Gaps: 0.5, Categorical: true}
	cols, cats := SynthTable(o)
	s := Schema{Features: 4, Labels: 1, Columns: cols, Missing: true, Categories: cats}
	ep := s
	ep.Columns.ID, ep.Columns.Step = "stay", EpisodesTime
	binned, binnedEp := s, ep
	binned.Bin, binnedEp.Bin = 1, 1
	d := Synth(o)
	o.Irregular = true
	irregular := Synth(o)
	dir := t.TempDir()
	for _, c := range []struct {
		name   string
		data   *Dataset
		schema Schema
	}{{"d.parquet", d, s}, {"ep", d, ep}, {"i.parquet", irregular, binned}, {"iep", irregular, binnedEp}} {
		path := filepath.Join(dir, c.name)
		opt := TableOptions{Columns: cols, Categories: cats, Sparse: c.schema.Bin > 0}
		var err error
		if filepath.Ext(c.name) == "" {
			err = WriteEpisodes(path, c.data, opt)
		} else {
			err = WriteTable(path, c.data, opt)
		}
		if err != nil {
			t.Fatal(err)
		}
		if !Streamable(path) {
			t.Fatalf("%s: not streamable", c.name)
		}
		want, err := Load(path, c.schema)
		if err != nil {
			t.Fatal(err)
		}
		seqs, err := readAllSeqs(t, path, c.schema)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := Concat(seqs)
		if len(seqs) != 40 || !got.Equal(want) || !slices.EqualFunc(got.StepValues, want.StepValues, slices.Equal) {
			t.Errorf("%s: %d sequences read one at a time differ from Load's", c.name, len(seqs))
		}
	}
	if Streamable(filepath.Join(dir, "d.npz")) || Streamable(filepath.Join(dir, "d.csv")) {
		t.Error("NPZ and CSV files are not streamed")
	}
}

// TestSeqReaderRefuses: an id whose rows come back after another id's,
// and the decoder's own rules, stop the reader with the file, the row and
// what is wrong; a folder's defect names the stay's file.
func TestSeqReaderRefuses(t *testing.T) {
	dir := t.TempDir()
	cols := Columns{ID: "id", Step: "step", Features: []string{"f0"}, Labels: []string{"y"}}
	s := Schema{Features: 1, Labels: 1, Columns: cols}
	d := &Dataset{F: 1, K: 1, X: [][]float32{{1, 2}, {3}, {4}}, Y: []float32{0, 1, 0}, IDs: []string{"a", "b", "a"},
		StepValues: [][]string{{"0", "1"}, {"0"}, {"2"}}}
	unsorted := filepath.Join(dir, "unsorted.parquet")
	if err := WriteTable(unsorted, d, TableOptions{Columns: cols}); err != nil {
		t.Fatal(err)
	}
	seqs, err := readAllSeqs(t, unsorted, s)
	want := unsorted + `:4: id "a": comes back after other ids (its rows began on row 1); a streamed file needs each id's rows together: sort it by "id"`
	if !errors.Is(err, ErrNotContiguous) || err.Error() != want || len(seqs) != 1 {
		t.Errorf("unsorted ids: %d sequences, %v\nwant %s", len(seqs), err, want)
	}
	if _, err := Load(unsorted, s); err != nil {
		t.Errorf("Load reads the unsorted file: %v", err)
	}
	d.IDs[2], d.Y[2] = "c", 1
	d.X[1] = []float32{float32(math.NaN())}
	bad := filepath.Join(dir, "bad.parquet")
	if err := WriteTable(bad, d, TableOptions{Columns: cols}); err != nil {
		t.Fatal(err)
	}
	if seqs, err := readAllSeqs(t, bad, s); len(seqs) != 0 || err == nil || !strings.HasPrefix(err.Error(), bad+`:3: column "f0": `) {
		t.Errorf("a bad value in the second sequence: %d sequences, %v", len(seqs), err)
	}
	if _, err := readAllSeqs(t, filepath.Join(dir, "none.parquet"), s); err == nil || !strings.Contains(err.Error(), "none.parquet") {
		t.Errorf("a missing file: %v", err)
	}
	d.X[1] = []float32{3}
	folder := filepath.Join(dir, "ep")
	if err := WriteEpisodes(folder, d, TableOptions{Columns: cols}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(folder, "c_timeseries.csv"), []byte("Hours,f0\n0,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ep := s
	ep.Columns.ID, ep.Columns.Step = "stay", EpisodesTime
	seqs, err = readAllSeqs(t, folder, ep)
	if len(seqs) != 0 || err == nil || !strings.HasPrefix(err.Error(), filepath.Join(folder, "c_timeseries.csv")+`:2: column "f0": not a number`) {
		t.Errorf("a bad stay: %d sequences, %v", len(seqs), err)
	}
}
