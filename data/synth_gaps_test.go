package data

import (
	"bytes"
	"encoding/csv"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func isNaN(v float32) bool { return math.IsNaN(float64(v)) }

// TestSynthGapsKeepsNumbers: the gap story only hides values and adds
// columns: every observed numeric value is Synth's, and without the gap
// options Synth's data is what it always was.
func TestSynthGapsKeepsNumbers(t *testing.T) {
	o := SynthOptions{N: 200, MinLen: 5, MaxLen: 30, F: 3, K: 1, Seed: 4, PosRate: 0.3}
	plain := Synth(o)
	o.Gaps, o.Categorical = 0.4, true
	g := Synth(o)
	if g.F != 5 || g.N() != plain.N() || !slices.Equal(g.Y, plain.Y) {
		t.Fatalf("F %d, N %d: want 5 features, the same sequences and labels", g.F, g.N())
	}
	for i := range g.N() {
		if g.Len(i) != plain.Len(i) {
			t.Fatalf("sequence %d: %d steps, want %d", i, g.Len(i), plain.Len(i))
		}
		for s := range g.Len(i) {
			for f := range 3 {
				if v := g.X[i][s*5+f]; !isNaN(v) && v != plain.X[i][s*3+f] {
					t.Fatalf("sequence %d step %d feature %d: %v, want %v or NaN", i, s, f, v, plain.X[i][s*3+f])
				}
			}
		}
	}
	if h := Synth(o); !slices.EqualFunc(h.X, g.X, func(a, b []float32) bool {
		return slices.EqualFunc(a, b, func(x, y float32) bool { return x == y || isNaN(x) && isNaN(y) })
	}) {
		t.Error("the same options gave different data")
	}
}

// TestSynthGapsStory checks the rates and the evidence of addGaps' story:
// the share of missing values, features charted at different rates, whole
// missing steps, positives charted more often, categories in range, and a
// label told by the first GCS eye observation but not by the verbal item
// nor by the eye item late in the stay.
func TestSynthGapsStory(t *testing.T) {
	const P = 0.3
	o := SynthOptions{N: 3000, MinLen: 40, MaxLen: 60, F: 3, K: 1, Seed: 9, PosRate: 0.3, Gaps: P, Categorical: true}
	d := Synth(o)
	var missed, total, wholeSteps, steps [2]float64 // [negative, positive]
	var perFeature [5]float64
	first, verbal, last := make([]float64, d.N()), make([]float64, d.N()), make([]float64, d.N())
	for i := range d.N() {
		c := int(d.Y[i])
		for s := range d.Len(i) {
			step := d.X[i][s*5 : (s+1)*5]
			n := 0
			for f, v := range step {
				if isNaN(v) {
					n++
					perFeature[f]++
					continue
				}
				if f >= 3 && (v != float32(int(v)) || v < 0 || int(v) >= len(SynthCategorical[f-3].Categories)) {
					t.Fatalf("sequence %d step %d: categorical feature %d holds %v", i, s, f, v)
				}
			}
			missed[c] += float64(n)
			total[c] += 5
			steps[c]++
			if n == 5 {
				wholeSteps[c]++
			}
		}
		first[i], verbal[i], last[i] = firstObserved(d, i, 3), firstObserved(d, i, 4), lastObserved(d, i, 3)
	}
	rate := (missed[0] + missed[1]) / (total[0] + total[1])
	t.Logf("missing %.3f (negatives %.3f, positives %.3f), whole steps %.3f, per feature %v",
		rate, missed[0]/total[0], missed[1]/total[1], (wholeSteps[0]+wholeSteps[1])/(steps[0]+steps[1]), perFeature)
	if rate < 0.2 || rate > 0.35 {
		t.Errorf("%.3f of the values missing, want about --gaps 0.3 (a little less: positives are charted more often)", rate)
	}
	if r0, r1 := missed[0]/total[0], missed[1]/total[1]; r1 > 0.85*r0 {
		t.Errorf("positives miss %.3f of their values, negatives %.3f: want positives charted more often", r1, r0)
	}
	if w := (wholeSteps[0] + wholeSteps[1]) / (steps[0] + steps[1]); w < 0.03 {
		t.Errorf("%.3f of the steps wholly missing, want some", w)
	}
	if !slices.IsSorted(perFeature[:]) || perFeature[4] < 2*perFeature[0] {
		t.Errorf("missing values per feature %v: want rates rising over the features", perFeature)
	}
	// Low eye scores go with the outcome: the negated first category scores.
	for _, s := range [][]float64{first, verbal, last} {
		for i := range s {
			s[i] = -s[i]
		}
	}
	early, other, late := auroc(first, d.Y), auroc(verbal, d.Y), auroc(last, d.Y)
	t.Logf("AUROC of the first eye score %.3f, first verbal score %.3f, last eye score %.3f", early, other, late)
	if early < 0.68 || math.Abs(other-0.5) > 0.05 || late > early-0.05 {
		t.Errorf("AUROC first eye %.3f, verbal %.3f, last eye %.3f: want the first eye score to tell the label best", early, other, late)
	}
}

// firstObserved is sequence i's first observed value of feature f, or the
// middle of the GCS scale when it is never observed.
func firstObserved(d *Dataset, i, f int) float64 {
	for s := range d.Len(i) {
		if v := d.X[i][s*d.F+f]; !isNaN(v) {
			return float64(v)
		}
	}
	return 1.5
}

func lastObserved(d *Dataset, i, f int) float64 {
	for s := d.Len(i) - 1; s >= 0; s-- {
		if v := d.X[i][s*d.F+f]; !isNaN(v) {
			return float64(v)
		}
	}
	return 1.5
}

func TestSynthGapsValidate(t *testing.T) {
	for _, c := range []struct {
		o    SynthOptions
		want string
	}{
		{SynthOptions{N: 1, MinLen: 1, MaxLen: 1, F: 1, K: 1, PosRate: 0.5, Gaps: 1}, "--gaps: must be in [0, 1), got 1"},
		{SynthOptions{N: 1, MinLen: 1, MaxLen: 1, F: 1, K: 1, PosRate: 0.5, Gaps: -0.1}, "--gaps: must be in [0, 1), got -0.1"},
		{SynthOptions{N: 1, MinLen: 1, MaxLen: 1, F: 1, K: 1, PosRate: 0.5, Gaps: math.NaN()}, "--gaps: must be in [0, 1), got NaN"},
		{SynthOptions{N: 1 << 20, MinLen: 1, MaxLen: 64, F: 3, K: 1, PosRate: 0.5, Categorical: true},
			"--n × --max-len × (--features + 2 categorical): at most 2^28 values, got 1048576 × 64 × 5"},
	} {
		if err := c.o.Validate(); err == nil || err.Error() != c.want {
			t.Errorf("Validate() = %v, want %q", err, c.want)
		}
	}
	ok := SynthOptions{N: 1 << 20, MinLen: 1, MaxLen: 64, F: 3, K: 1, PosRate: 0.5}
	if err := ok.Validate(); err != nil {
		t.Errorf("without --categorical the 2 categorical features do not count: %v", err)
	}
}

// gapData is a small data set of the gap story with irregular times.
func gapData() (*Dataset, TableOptions) {
	o := SynthOptions{N: 30, MinLen: 2, MaxLen: 12, F: 2, K: 1, Seed: 3, PosRate: 0.4, Gaps: 0.5, Categorical: true, Irregular: true}
	cols, cats := SynthTable(o)
	return Synth(o), TableOptions{Columns: cols, Categories: cats}
}

// wantCells is step s of sequence i as a table holds it: empty when
// missing, the category's name, or the number.
func wantCells(d *Dataset, opt TableOptions, i, s int) []string {
	var c []string
	for f, v := range d.X[i][s*d.F : (s+1)*d.F] {
		switch {
		case isNaN(v):
			c = append(c, "")
		case opt.Categories[f] != nil:
			c = append(c, opt.Categories[f][int(v)])
		default:
			c = append(c, strconv.FormatFloat(float64(v), 'g', -1, 32))
		}
	}
	return c
}

// TestWriteTableCSVAndParquet: the CSV and the Parquet file hold every
// step (or, Sparse, every step with an observation and each sequence's
// last) with empty cells or nulls where values are missing and category
// names; the two read the same through their record sources.
func TestWriteTableCSVAndParquet(t *testing.T) {
	d, opt := gapData()
	for _, sparse := range []bool{false, true} {
		opt.Sparse = sparse
		dir := t.TempDir()
		csvPath, pqPath := filepath.Join(dir, "d.csv"), filepath.Join(dir, "d.parquet")
		if err := WriteTable(csvPath, d, opt); err != nil {
			t.Fatal(err)
		}
		if err := WriteTable(pqPath, d, opt); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(csvPath)
		rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		header := append([]string{"id", "step"}, opt.Columns.Features...)
		if !slices.Equal(rows[0], append(header, "y")) {
			t.Fatalf("CSV header %q", rows[0])
		}
		var want [][]string
		skipped := 0
		for i := range d.N() {
			for s := range d.Len(i) {
				cells := wantCells(d, opt, i, s)
				if sparse && s < d.Len(i)-1 && strings.Join(cells, "") == "" {
					skipped++
					continue
				}
				row := append([]string{d.ID(i), d.StepValues[i][s]}, cells...)
				want = append(want, append(row, strconv.Itoa(int(d.Y[i]))))
			}
		}
		if sparse == (skipped == 0) {
			t.Errorf("Sparse %v: %d steps left out", sparse, skipped)
		}
		if !slices.EqualFunc(rows[1:], want, slices.Equal) {
			t.Errorf("Sparse %v: CSV rows differ:\n%q\nwant\n%q", sparse, rows[1:4], want[:3])
		}
		// The Parquet file's columns come in the library's (name) order.
		pqHeader, pqRows, err := readParquetAll(pqPath)
		if err != nil {
			t.Fatal(err)
		}
		for r, row := range pqRows {
			byName := map[string]string{}
			for j, name := range pqHeader {
				byName[name] = row[j]
			}
			for j, name := range rows[0] {
				if byName[name] != rows[r+1][j] {
					t.Fatalf("Sparse %v: Parquet row %d column %q: %q, the CSV has %q", sparse, r+1, name, byName[name], rows[r+1][j])
				}
			}
		}
		if len(pqRows) != len(rows)-1 {
			t.Errorf("Sparse %v: %d Parquet rows, %d CSV rows", sparse, len(pqRows), len(rows)-1)
		}
	}
}

// TestWriteTableMatchesWriteCSV: data without gaps or categories is
// written byte for byte as WriteCSV writes it.
func TestWriteTableMatchesWriteCSV(t *testing.T) {
	d := Synth(SynthOptions{N: 20, MinLen: 2, MaxLen: 9, F: 3, K: 2, Seed: 1, PosRate: 0.5})
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.csv"), filepath.Join(dir, "b.csv")
	if err := WriteCSV(a, d, SynthColumns(3, 2)); err != nil {
		t.Fatal(err)
	}
	if err := WriteTable(b, d, TableOptions{Columns: SynthColumns(3, 2)}); err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(a)
	y, _ := os.ReadFile(b)
	if !bytes.Equal(x, y) {
		t.Error("WriteTable and WriteCSV wrote different files for the same data")
	}
}

// TestWriteEpisodes: the folder holds listfile.csv (stay, y_true) and one
// file per stay with Hours and the features.
func TestWriteEpisodes(t *testing.T) {
	d, opt := gapData()
	opt.Sparse = true
	dir := filepath.Join(t.TempDir(), "new", "episodes")
	if err := WriteEpisodes(dir, d, opt); err != nil {
		t.Fatal(err)
	}
	list := readCSVRows(t, filepath.Join(dir, "listfile.csv"))
	if !slices.Equal(list[0], []string{"stay", "y_true"}) || len(list) != d.N()+1 {
		t.Fatalf("listfile header %q, %d rows", list[0], len(list)-1)
	}
	for i := range d.N() {
		name := d.ID(i) + "_timeseries.csv"
		if !slices.Equal(list[i+1], []string{name, strconv.Itoa(int(d.Y[i]))}) {
			t.Fatalf("listfile row %d: %q", i+1, list[i+1])
		}
		rows := readCSVRows(t, filepath.Join(dir, name))
		if !slices.Equal(rows[0], append([]string{"Hours"}, opt.Columns.Features...)) {
			t.Fatalf("%s: header %q", name, rows[0])
		}
		r := 1
		for s := range d.Len(i) {
			cells := wantCells(d, opt, i, s)
			if s < d.Len(i)-1 && strings.Join(cells, "") == "" {
				continue
			}
			if want := append([]string{d.StepValues[i][s]}, cells...); !slices.Equal(rows[r], want) {
				t.Fatalf("%s row %d: %q, want %q", name, r, rows[r], want)
			}
			if h, _ := strconv.ParseFloat(rows[r][0], 64); int(h) != s {
				t.Fatalf("%s row %d: time %s is not within hour %d", name, r, rows[r][0], s)
			}
			r++
		}
		if r != len(rows) {
			t.Fatalf("%s: %d rows, want %d", name, len(rows)-1, r-1)
		}
	}
	d.IDs = make([]string, d.N())
	d.IDs[0] = "../escape"
	if err := WriteEpisodes(t.TempDir(), d, opt); err == nil || !strings.Contains(err.Error(), `id "../escape": cannot name a file after this id`) {
		t.Errorf("an id that is not a file name: %v", err)
	}
}

func readCSVRows(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(io.Reader(f)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestWriteTableRefuses: values that are not category indices, and column
// counts that do not fit, are refused with the file named.
func TestWriteTableRefuses(t *testing.T) {
	d, opt := gapData()
	path := filepath.Join(t.TempDir(), "bad.csv")
	for s := range d.Len(0) {
		if v := d.X[0][s*d.F+2]; !isNaN(v) {
			d.X[0][s*d.F+2] = 7
			break
		}
	}
	err := WriteTable(path, d, opt)
	if err == nil || !strings.HasPrefix(err.Error(), path+": sequence 0, step ") || !strings.Contains(err.Error(), `feature "gcs_eye" holds 7, not a category index in [0, 4)`) {
		t.Errorf("a bad category index: %v", err)
	}
	opt.Categories = opt.Categories[:2]
	if err := WriteTable(path, d, opt); err == nil || !strings.Contains(err.Error(), "4 feature and 1 label columns (2 with categories) named for data with 4 features") {
		t.Errorf("categories for 2 of 4 features: %v", err)
	}
	if err := WriteTable(filepath.Join(t.TempDir(), "d.txt"), d, TableOptions{Columns: opt.Columns}); err == nil || !strings.Contains(err.Error(), `unknown table kind (extension ".txt"), want .csv or .parquet`) {
		t.Errorf(".txt: %v", err)
	}
}
