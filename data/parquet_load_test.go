package data

import (
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/trnn/trnn/internal/fileio"
)

// sameValues reports whether a and b hold the same sequences, NaN equal to
// NaN, and the same labels.
func sameValues(a, b *Dataset) bool {
	same := func(x, y float32) bool { return x == y || isNaN(x) && isNaN(y) }
	return a.F == b.F && a.K == b.K && slices.Equal(a.Y, b.Y) &&
		slices.EqualFunc(a.X, b.X, func(p, q []float32) bool { return slices.EqualFunc(p, q, same) })
}

// TestLoadParquetDuckDB loads DuckDB's file end to end: ids, steps,
// numbers, nulls and NaN as missing values, category names as indices,
// labels.
func TestLoadParquetDuckDB(t *testing.T) {
	path := filepath.Join("testdata", "duckdb", "stays.parquet")
	s := Schema{Features: 3, Labels: 1, Missing: true, Categories: [][]string{nil, nil, gcs},
		Columns: Columns{ID: "stay", Step: "hour", Features: []string{"hr", "temp", "gcs_eye"}, Labels: []string{"y"}}}
	d, err := Load(path, s)
	if err != nil {
		t.Fatal(err)
	}
	if d.N() != 60 || d.F != 3 || d.K != 1 {
		t.Fatalf("N %d F %d K %d, want 60 stays of 3 features and 1 label", d.N(), d.F, d.K)
	}
	for i := range 3000 {
		seq, step := i/50, i%50
		if d.ID(seq) != "s"+strconv.Itoa(seq) || d.Len(seq) != 50 || d.StepValue(seq, step) != strconv.Itoa(step) || d.Y[seq] != float32(seq%2) {
			t.Fatalf("stay %d: id %q, %d steps, step %q, label %v", seq, d.ID(seq), d.Len(seq), d.StepValue(seq, step), d.Y[seq])
		}
		hr := float32(float64(i%97)*0.5 + 60)
		if i%7 == 3 || i%11 == 5 {
			hr = nan
		}
		eye := float32(i % 4)
		if i%9 == 0 {
			eye = nan
		}
		want := []float32{hr, float32(i%13) * 0.125, eye}
		if got := d.X[seq][step*3 : step*3+3]; !slices.EqualFunc(got, want, func(x, y float32) bool { return x == y || isNaN(x) && isNaN(y) }) {
			t.Fatalf("row %d: %v, want %v", i+1, got, want)
		}
	}
	// Without Missing the first null is refused, with the file and its row.
	s.Missing = false
	_, err = Load(path, s)
	if err == nil || !strings.HasPrefix(err.Error(), path+":1: ") || !strings.Contains(err.Error(), `column "gcs_eye"`) {
		t.Errorf("a null without inputs.missing: %v", err)
	}
}

// TestLoadParquetMatchesOtherFormats: the gap story's data written as
// NPZ, CSV, Parquet and an episodes folder loads to the same values; with
// irregular times, binned by the hour, too.
func TestLoadParquetMatchesOtherFormats(t *testing.T) {
	o := SynthOptions{N: 40, MinLen: 2, MaxLen: 15, F: 2, K: 1, Seed: 6, PosRate: 0.4, Gaps: 0.5, Categorical: true}
	cols, cats := SynthTable(o)
	dir := t.TempDir()
	load := func(path string, s Schema) *Dataset {
		t.Helper()
		d, err := Load(path, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	s := Schema{Features: 4, Labels: 1, Columns: cols, Missing: true, Categories: cats}
	d := Synth(o)
	npz := filepath.Join(dir, "d.npz")
	if err := WriteNPZ(npz, d); err != nil {
		t.Fatal(err)
	}
	want := load(npz, s)
	if !sameValues(want, d) {
		t.Fatal("the NPZ file does not hold the data written")
	}
	o.Irregular = true
	irregular := Synth(o)
	if !sameValues(irregular, d) {
		t.Fatal("--irregular changed the values")
	}
	ep := s
	ep.Columns.ID, ep.Columns.Step = "stay", EpisodesTime
	binned := s
	binned.Bin = 1
	binnedEp := ep
	binnedEp.Bin = 1
	for _, c := range []struct {
		name   string
		data   *Dataset
		schema Schema
		sparse bool
	}{
		{"d.csv", d, s, false}, {"d.parquet", d, s, false}, {"ep", d, ep, false},
		{"i.csv", irregular, binned, true}, {"i.parquet", irregular, binned, true}, {"iep", irregular, binnedEp, true},
	} {
		path := filepath.Join(dir, c.name)
		opt := TableOptions{Columns: cols, Categories: cats, Sparse: c.sparse}
		var err error
		if filepath.Ext(c.name) == "" {
			err = WriteEpisodes(path, c.data, opt)
		} else {
			err = WriteTable(path, c.data, opt)
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := load(path, c.schema); !sameValues(got, want) {
			t.Errorf("%s: loads to other values than the NPZ file", c.name)
		}
	}
}

// TestLoadParquetRefuses: the decoder's rules hold for Parquet, and its
// messages name the file, the row and the column.
func TestLoadParquetRefuses(t *testing.T) {
	type row struct {
		ID  string  `parquet:"id"`
		T   int32   `parquet:"t"`
		HR  float64 `parquet:"hr"`
		GCS *string `parquet:"gcs,optional"`
		Y   int32   `parquet:"y"`
	}
	pain, bad := "2 To pain", "6 Obeys"
	path := writeParquetRows(t, "bad.parquet", []row{{"a", 0, 80, &pain, 1}, {"a", 1, 81, nil, 1}, {"a", 2, 82, &bad, 1}})
	_, err := Load(path, Schema{Features: 2, Labels: 1, Columns: gapCols, Missing: true, Categories: [][]string{nil, gcs}})
	if err == nil || !strings.HasPrefix(err.Error(), path+":3: ") || !strings.Contains(err.Error(), `column "gcs"`) || !strings.Contains(err.Error(), `"6 Obeys"`) {
		t.Errorf("an unknown category: %v", err)
	}
	_, err = Load(path, Schema{Features: 2, Labels: 1, Columns: gapCols, Categories: [][]string{nil, gcs}})
	if err == nil || !strings.HasPrefix(err.Error(), path+":2: ") || !strings.Contains(err.Error(), `column "gcs"`) {
		t.Errorf("a null without Missing: %v", err)
	}
	cols := gapCols
	cols.Features = []string{"hr", "sbp"}
	_, err = Load(path, Schema{Features: 2, Labels: 1, Columns: cols})
	if err == nil || !strings.Contains(err.Error(), `missing column "sbp"`) {
		t.Errorf("a missing column: %v", err)
	}
}

// TestParquetDeclaredCells: a small file whose footer declares more values
// than the size limit holds is refused before any row is read.
func TestParquetDeclaredCells(t *testing.T) {
	type row struct {
		ID string  `parquet:"id"`
		X  float32 `parquet:"x"`
		Y  float32 `parquet:"y"`
	}
	rows := make([]row, 20000)
	for i := range rows {
		rows[i] = row{ID: "a", X: 1, Y: 0}
	}
	path := writeParquetRows(t, "many.parquet", rows, parquet.Compression(&parquet.Zstd))
	t.Setenv(fileio.EnvMaxBytes, "100000")
	_, err := openParquet(path)
	want := "declares 20000 rows of 3 columns, more than the 25000 values trnn reads from one file (set TRNN_MAX_FILE_BYTES to raise it)"
	if err == nil || err.Error() != path+": "+want {
		t.Errorf("got %v, want %s", err, want)
	}
}
