package data

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

var hrCols = Columns{ID: "patient", Step: "hour", Features: []string{"hr", "sbp"}, Labels: []string{"died"}}

func readCSVString(t *testing.T, text string, cols Columns) (*Dataset, error) {
	t.Helper()
	return decodeCSV("data.csv", strings.NewReader(text), &Schema{Columns: cols})
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
		{"empty cell", head + "p1,0,80,,0\n", `data.csv:2: column "sbp": empty cell (missing values are refused unless the spec sets inputs.missing)`, nil},
		{"NaN", head + "p1,0,NaN,120,0\n", `data.csv:2: column "hr": missing value "NaN" (missing values are refused unless the spec sets inputs.missing)`, nil},
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
		n, err := readNPZ(filepath.Join(dir, "d.npz"), nil)
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

// TestBadCellEchoIsShort: a message repeats at most maxEcho characters of
// what a file holds, cut with "…" on a character boundary, in valid UTF-8,
// however long the cell, id, column name or array name.
func TestBadCellEchoIsShort(t *testing.T) {
	const head = "patient,hour,hr,sbp,died\n"
	long := strings.Repeat("a", 10000)
	cut := `"` + strings.Repeat("a", maxEcho-1) + `…"`
	for _, tc := range []struct {
		name, text, want string
	}{
		{"feature cell", head + "p1,0," + long + ",120,0\n", `data.csv:2: column "hr": not a number: ` + cut},
		{"label cell", head + "p1,0,80,120," + long + "\n", `data.csv:2: column "died": labels must be 0 or 1, got ` + cut},
		{"step cell", head + "p1," + long + ",80,120,0\n", `data.csv:2: column "hour": step must be a finite number, got ` + cut},
		{"id", head + long + ",0,80,120,0\n" + long + ",1,80,120,1\n",
			`data.csv:3: id ` + cut + `: label "died" changes from 0 to 1 within one sequence (first row on line 2)`},
		{"repeated long step", head + "p1,1." + strings.Repeat("0", 500) + ",80,120,0\np1,1." + strings.Repeat("0", 500) + ",80,120,0\n",
			`data.csv:3: id "p1": step 1.` + strings.Repeat("0", maxEcho-3) + `… appears twice (first on line 2)`},
		{"header names", "patient,hour," + long + ",sbp,died\n",
			`data.csv:1: missing column "hr" (header has: "patient", "hour", ` + cut + `, "sbp", "died")`},
		{"exactly maxEcho", head + "p1,0," + long[:maxEcho] + ",120,0\n", `data.csv:2: column "hr": not a number: "` + long[:maxEcho] + `"`},
		{"one more", head + "p1,0," + long[:maxEcho+1] + ",120,0\n", `data.csv:2: column "hr": not a number: ` + cut},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readCSVString(t, tc.text, hrCols)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error\n  %v\nwant\n  %s", err, tc.want)
			}
		})
	}
	// Multi-byte characters, escapes and invalid bytes: cut between
	// characters, never inside one or inside an escape.
	for _, cell := range []string{strings.Repeat("é", 5000), strings.Repeat("\x00", 5000), strings.Repeat("\xff", 5000),
		strings.Repeat("ab\t", 3000), "x" + strings.Repeat("日本", 3000)} {
		_, err := readCSVString(t, head+"p1,0,"+cell+",120,0\n", hrCols)
		msg := err.Error()
		q := msg[strings.Index(msg, `number: "`)+len(`number: "`) : len(msg)-1]
		if !utf8.ValidString(msg) || utf8.RuneCountInString(q) > maxEcho || !strings.HasSuffix(q, "…") {
			t.Errorf("cell %q…: echoed as %q (%d characters)", cell[:6], q, utf8.RuneCountInString(q))
		}
		if _, err := strconv.Unquote(`"` + strings.TrimSuffix(q, "…") + `"`); err != nil {
			t.Errorf("cell %q…: cut inside an escape: %q", cell[:6], q)
		}
	}
	// An NPZ file's dtype and array names.
	archive := zipBytes(t, entry(long+".npy", nil), entry("x.npy", npyBytes("{'descr': '<U"+long+"', 'fortran_order': False, 'shape': (1, 1, 1), }", nil)))
	_, err := decodeNPZ("d.npz", bytes.NewReader(archive), int64(len(archive)), nil)
	if want := `d.npz: x has dtype "<U` + strings.Repeat("a", maxEcho-3) + `…", which trnn does not read (want bool, integers or floats)`; err == nil || err.Error() != want {
		t.Errorf("long dtype: %v\nwant %s", err, want)
	}
	archive = zipBytes(t, entry(long+".npy", nil))
	_, err = decodeNPZ("d.npz", bytes.NewReader(archive), int64(len(archive)), nil)
	if want := `d.npz: missing array "x" (found: ` + strings.Repeat("a", maxEcho-1) + `…)`; err == nil || err.Error() != want {
		t.Errorf("long array name: %v\nwant %s", err, want)
	}
}

// TestBadCellTabEscaped: a tab or another control character in a cell, an
// id or a file name is shown escaped (\t, \x01), and escaping one part of
// a message leaves the quotes of the others alone.
func TestBadCellTabEscaped(t *testing.T) {
	const head = "patient,hour,hr,sbp,died\n"
	for _, tc := range []struct {
		name, file, text, want string
	}{
		{"tab in a cell", "data.csv", head + "p1,0,8\t0,120,0\n", `data.csv:2: column "hr": not a number: "8\t0"`},
		{"control character", "data.csv", head + "p1,0,8\x010,120,0\n", `data.csv:2: column "hr": not a number: "8\x010"`},
		{"tab in an id", "data.csv", head + "p\t1,0,80,120,0\np\t1,1,80,120,1\n",
			`data.csv:3: id "p\t1": label "died" changes from 0 to 1 within one sequence (first row on line 2)`},
		{"tab in the file name", "my\tdata.csv", head + "p1,0,abc,120,0\n", `my\tdata.csv:2: column "hr": not a number: "abc"`},
		{"newline in the file name", "my\ndata.csv", head + "p1,0,80,120,\n", `my\ndata.csv:2: column "died": empty cell, want a label 0 or 1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeCSV(tc.file, strings.NewReader(tc.text), &Schema{Columns: hrCols})
			if err == nil || err.Error() != tc.want {
				t.Errorf("error\n  %v\nwant\n  %s", err, tc.want)
			}
		})
	}
	archive := zipBytes(t, entry("a\tb.npy", nil))
	_, err := decodeNPZ("d.npz", bytes.NewReader(archive), int64(len(archive)), nil)
	if want := `d.npz: missing array "x" (found: a\tb)`; err == nil || err.Error() != want {
		t.Errorf("tab in an array name: %v\nwant %s", err, want)
	}
}
