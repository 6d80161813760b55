package data

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var hrCols = Columns{ID: "patient", Step: "hour", Features: []string{"hr", "sbp"}, Labels: []string{"died"}}

func readCSVString(t *testing.T, text string, cols Columns) (*Dataset, error) {
	t.Helper()
	return decodeCSV("data.csv", strings.NewReader(text), cols, false)
}

func TestReadCSVInterleavedAndSorted(t *testing.T) {
	// p2's rows come before and between p1's; steps are out of order and
	// must sort numerically (10 after 9, 2.5 between 2 and 3); an extra
	// column is ignored; cells may be padded and quoted.
	text := "\uFEFFpatient,hour,note,hr,sbp,died\n" +
		"p2,3,x,20,200,0\n" +
		"p1,10,x,1.10,110,1\n" +
		"p2,1,\"a, b\",21,201,0\n" +
		"p1,9,x,1.9,109,1\n" +
		" p1 , 2.5 ,x, 1.25 ,102.5, 1 \n" +
		"p3,-1,x,-3,-30,0\n"
	d, err := readCSVString(t, text, hrCols)
	if err != nil {
		t.Fatal(err)
	}
	want := &Dataset{
		F: 2, K: 1,
		X: [][]float32{
			{21, 201, 20, 200},                // p2: hours 1, 3
			{1.25, 102.5, 1.9, 109, 1.1, 110}, // p1: hours 2.5, 9, 10
			{-3, -30},                         // p3
		},
		Y:            []float32{0, 1, 0},
		IDs:          []string{"p2", "p1", "p3"},
		FeatureNames: []string{"hr", "sbp"},
		LabelNames:   []string{"died"},
	}
	if !d.Equal(want) {
		t.Errorf("got  %v %v %v\nwant %v %v %v", d.X, d.Y, d.IDs, want.X, want.Y, want.IDs)
	}
	if d.Source != "data.csv" || d.ID(1) != "p1" || d.MaxLen() != 3 || d.Steps() != 6 {
		t.Errorf("Source %q, ID(1) %q, MaxLen %d, Steps %d", d.Source, d.ID(1), d.MaxLen(), d.Steps())
	}

	// Without a step column, file order is step order.
	noStep := hrCols
	noStep.Step = ""
	d, err = readCSVString(t, text, noStep)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.X[1], []float32{1.1, 110, 1.9, 109, 1.25, 102.5}) {
		t.Errorf("file order: p1 = %v", d.X[1])
	}
}

func TestReadCSVMultiLabel(t *testing.T) {
	cols := Columns{ID: "id", Features: []string{"a"}, Labels: []string{"l0", "l1", "l2"}}
	d, err := readCSVString(t, "id,l2,a,l0,l1\nx,1,0.5,0,1\ny,0,1,1,0\nx,1,0.25,0,1\n", cols)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Y, []float32{0, 1, 1, 1, 0, 0}) || d.K != 3 {
		t.Errorf("Y = %v (K %d), want labels in the order cols names them", d.Y, d.K)
	}
	if !slices.Equal(d.Positives(), []int{1, 1, 1}) {
		t.Errorf("Positives() = %v", d.Positives())
	}
}

func TestReadCSVBad(t *testing.T) {
	const head = "patient,hour,hr,sbp,died\n"
	for _, tc := range []struct {
		name, text, want string
		cols             *Columns
	}{
		{"not a number", head + "p1,0,80,120,0\np1,1,abc,120,0\n", `data.csv:3: column "hr": not a number: "abc"`, nil},
		{"empty cell", head + "p1,0,80,,0\n", `data.csv:2: column "sbp": empty cell (missing values are not imputed)`, nil},
		{"NaN", head + "p1,0,NaN,120,0\n", `data.csv:2: column "hr": values must be finite float32 numbers, got "NaN"`, nil},
		{"Inf", head + "p1,0,80,-inf,0\n", `data.csv:2: column "sbp": values must be finite float32 numbers, got "-inf"`, nil},
		{"float32 overflow", head + "p1,0,1e39,120,0\n", `data.csv:2: column "hr": values must be finite float32 numbers, got "1e39"`, nil},
		{"float64 overflow", head + "p1,0,1e999,120,0\n", `data.csv:2: column "hr": values must be finite float32 numbers, got "1e999"`, nil},
		{"label changes", head + "p7,0,80,120,0\np8,0,80,120,1\np7,1,80,120,1\n",
			`data.csv:4: id "p7": label "died" changes from 0 to 1 within one sequence (first row on line 2)`, nil},
		{"label not 0/1", head + "p1,0,80,120,0.5\n", `data.csv:2: column "died": labels must be 0 or 1, got "0.5"`, nil},
		{"label text", head + "p1,0,80,120,yes\n", `data.csv:2: column "died": labels must be 0 or 1, got "yes"`, nil},
		{"label empty", head + "p1,0,80,120,\n", `data.csv:2: column "died": empty cell, want a label 0 or 1`, nil},
		{"missing column", "patient,hour,sbp,died\np1,0,120,0\n", `data.csv:1: missing column "hr" (header has: "patient", "hour", "sbp", "died")`, nil},
		{"missing id column", "hour,hr,sbp,died\n", `data.csv:1: missing column "patient" (header has: "hour", "hr", "sbp", "died")`, nil},
		{"duplicate header", "patient,hour,hr,sbp,hr,died\n", `data.csv:1: column "hr" appears twice in the header`, nil},
		{"duplicate step", head + "p3,1,80,120,0\np3,4,80,120,0\np4,4,1,1,1\np3,4.0,80,120,0\n",
			`data.csv:5: id "p3": step 4.0 appears twice (first on line 3)`, nil},
		{"first duplicate in file order", head + "a,1,1,1,0\nb,2,1,1,0\nb,2,1,1,0\na,1,1,1,0\n",
			`data.csv:4: id "b": step 2 appears twice (first on line 3)`, nil},
		{"bad step", head + "p1,one,80,120,0\n", `data.csv:2: column "hour": step must be a finite number, got "one"`, nil},
		{"empty step", head + "p1,,80,120,0\n", `data.csv:2: column "hour": step must be a finite number, got ""`, nil},
		{"empty id", head + ",0,80,120,0\n", `data.csv:2: column "patient": empty id`, nil},
		{"short row", head + "p1,0,80,120\n", `data.csv:2: row has 4 fields, the header has 5`, nil},
		{"long row", head + "p1,0,80,120,0\np1,1,80,120,0,9\n", `data.csv:3: row has 6 fields, the header has 5`, nil},
		{"bad quote", head + "p1,0,8\"0,120,0\n", `data.csv:2: malformed CSV at character 7: bare " in non-quoted-field`, nil},
		{"no rows", head, `data.csv: no rows`, nil},
		{"empty file", "", `data.csv: empty file, want a header row and one row per step`, nil},
		{"no id named", head, `data.csv: no id column is named (data.csv.id)`, &Columns{Features: []string{"hr"}, Labels: []string{"died"}}},
		{"no features named", head, `data.csv: no feature columns are named (data.csv.features)`, &Columns{ID: "patient", Labels: []string{"died"}}},
		{"no labels named", head, `data.csv: no label columns are named (data.csv.labels)`, &Columns{ID: "patient", Features: []string{"hr"}}},
		{"two roles", head, `data.csv: column "hr" is named both as the feature and as a label`,
			&Columns{ID: "patient", Features: []string{"hr"}, Labels: []string{"hr"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cols := hrCols
			if tc.cols != nil {
				cols = *tc.cols
			}
			_, err := readCSVString(t, tc.text, cols)
			wantError(t, err, tc.want)
			if err.Error() != tc.want {
				t.Errorf("error\n  %s\nwant exactly\n  %s", err, tc.want)
			}
		})
	}
}

func TestReadCSVFile(t *testing.T) {
	dir := t.TempDir()
	_, err := ReadCSV(filepath.Join(dir, "none.csv"), hrCols)
	wantError(t, err, filepath.Join(dir, "none.csv")+": cannot open: no such file or directory")
	_, err = ReadCSV(dir, hrCols)
	wantError(t, err, dir+": is a directory, want a CSV file")
}

// TestCSVNPZSame writes the same data both ways and reads it back: the two
// readers must give identical data sets (values bit for bit).
func TestCSVNPZSame(t *testing.T) {
	for _, k := range []int{1, 2} {
		d := Synth(SynthOptions{N: 60, MinLen: 1, MaxLen: 12, F: 3, K: k, Seed: 3, PosRate: 0.5})
		dir := t.TempDir()
		cols := SynthColumns(d.F, d.K)
		if err := WriteCSV(filepath.Join(dir, "d.csv"), d, cols); err != nil {
			t.Fatal(err)
		}
		if err := WriteNPZ(filepath.Join(dir, "d.npz"), d); err != nil {
			t.Fatal(err)
		}
		c, err := ReadCSV(filepath.Join(dir, "d.csv"), cols)
		if err != nil {
			t.Fatal(err)
		}
		n, err := ReadNPZ(filepath.Join(dir, "d.npz"))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(c.FeatureNames, cols.Features) || !slices.Equal(c.LabelNames, cols.Labels) {
			t.Errorf("CSV names %v %v", c.FeatureNames, c.LabelNames)
		}
		for i := range c.N() {
			if c.ID(i) != n.ID(i) {
				t.Fatalf("sequence %d: CSV id %q, NPZ id %q", i, c.ID(i), n.ID(i))
			}
		}
		c.IDs, c.FeatureNames, c.LabelNames = nil, nil, nil
		if !c.Equal(n) || !n.Equal(d) {
			t.Errorf("K=%d: CSV, NPZ and the original differ", k)
		}
	}
}

// TestCSVFloatRoundTrip checks that WriteCSV's shortest float32 text reads
// back to the same bits through ReadCSV's float64 parse and narrowing, for
// random bit patterns (every exponent) and values near decimal boundaries.
func TestCSVFloatRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const n = 20000
	d := &Dataset{F: 1, K: 1, X: make([][]float32, 1), Y: []float32{1}}
	x := make([]float32, 0, n)
	for len(x) < n {
		v := math.Float32frombits(r.Uint32())
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			continue
		}
		x = append(x, v, math.Nextafter32(0.1*float32(len(x)), 1), math.SmallestNonzeroFloat32, math.MaxFloat32, -0.0)
	}
	d.X[0] = x
	path := filepath.Join(t.TempDir(), "f.csv")
	cols := SynthColumns(1, 1)
	if err := WriteCSV(path, d, cols); err != nil {
		t.Fatal(err)
	}
	e, err := ReadCSV(path, cols)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range e.X[0] {
		if math.Float32bits(v) != math.Float32bits(x[i]) {
			t.Fatalf("value %d: wrote %g (%#x), read %g (%#x)", i, x[i], math.Float32bits(x[i]), v, math.Float32bits(v))
		}
	}
}

func TestWriteCSVErrors(t *testing.T) {
	d := Synth(SynthOptions{N: 2, MinLen: 1, MaxLen: 2, F: 2, K: 1, Seed: 1, PosRate: 0.5})
	path := filepath.Join(t.TempDir(), "w.csv")
	err := WriteCSV(path, d, SynthColumns(3, 1))
	wantError(t, err, path+": 3 feature and 1 label columns named for data with 2 features and 1 labels")
	if _, serr := os.Stat(path); !os.IsNotExist(serr) {
		t.Errorf("a failed write left %s behind", path)
	}
	err = WriteCSV(filepath.Join(t.TempDir(), "no", "dir", "w.csv"), d, SynthColumns(2, 1))
	if err == nil || !strings.Contains(err.Error(), "cannot write: no such file or directory") {
		t.Errorf("writing into a missing folder: %v", err)
	}
	// Atomic replacement: an existing file is replaced whole, and no
	// temporary file is left in the folder.
	dir := t.TempDir()
	path = filepath.Join(dir, "w.csv")
	os.WriteFile(path, []byte("old"), 0o644)
	if err := WriteCSV(path, d, SynthColumns(2, 1)); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("folder holds %d entries after the write", len(entries))
	}
	if b, _ := os.ReadFile(path); !strings.HasPrefix(string(b), "id,step,f0,f1,y\n") {
		t.Errorf("file starts %q", b[:min(len(b), 20)])
	}
}

// TestCSVRefusesGoOnlyNumberSyntax: hexadecimal floats and digit
// separators are Go syntax, not numbers a data file holds.
func TestCSVRefusesGoOnlyNumberSyntax(t *testing.T) {
	for _, cell := range []string{"0x1p4", "1_0", "0X10"} {
		path := filepath.Join(t.TempDir(), "d.csv")
		os.WriteFile(path, []byte("id,step,f0,f1,y\na,0,"+cell+",1,0\n"), 0o644)
		_, err := ReadCSV(path, SynthColumns(2, 1))
		if err == nil || !strings.Contains(err.Error(), `not a number: "`+cell+`"`) {
			t.Errorf("cell %q: got %v", cell, err)
		}
	}
}
