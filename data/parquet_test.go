package data

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

// writeParquetRows writes rows of the struct type T to a new Parquet file
// with the library's writer (the struct's fields are the columns, in
// order; pointer fields are optional) and returns its path.
func writeParquetRows[T any](t testing.TB, name string, rows []T, opts ...parquet.WriterOption) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[T](f, opts...)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// readParquetAll reads every row of a Parquet file through parquetSource,
// copying each (Next reuses its slice).
func readParquetAll(path string) (header []string, rows [][]string, err error) {
	s, err := openParquet(path)
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	header, _ = s.Header()
	for {
		rec, err := s.Next()
		if err == io.EOF {
			return header, rows, nil
		}
		if err != nil {
			return header, rows, err
		}
		if s.Line() != len(rows)+1 || s.Where() != "row "+strconv.Itoa(len(rows)+1) {
			return nil, nil, fmt.Errorf("row %d: Line %d, Where %q", len(rows)+1, s.Line(), s.Where())
		}
		rows = append(rows, slices.Clone(rec))
	}
}

// TestParquetDuckDB reads a file DuckDB wrote (testdata/duckdb: two row
// groups; strings, 32- and 64-bit integers, an unsigned one, a decimal,
// floats, doubles with nulls and NaN, booleans) and checks every cell
// against the formulas that made it.
func TestParquetDuckDB(t *testing.T) {
	path := filepath.Join("testdata", "duckdb", "stays.parquet")
	header, rows, err := readParquetAll(path)
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := []string{"stay", "hour", "hr", "temp", "gcs_eye", "big", "unsigned", "price", "flag", "y"}
	if !slices.Equal(header, wantHeader) {
		t.Fatalf("header %q, want %q", header, wantHeader)
	}
	s, err := openParquet(path)
	if err != nil {
		t.Fatal(err)
	}
	if g := len(s.groups); g != 2 {
		t.Errorf("%d row groups, want 2 (the reader must cross a row group boundary)", g)
	}
	s.Close()
	if len(rows) != 3000 {
		t.Fatalf("%d rows, want 3000", len(rows))
	}
	gcs := []string{"1 No Response", "2 To pain", "3 To speech", "4 Spontaneously"}
	for i, row := range rows {
		hr := strconv.FormatFloat(float64(i%97)*0.5+60, 'g', -1, 64)
		if i%7 == 3 || i%11 == 5 { // null, NaN
			hr = ""
		}
		eye := gcs[i%4]
		if i%9 == 0 {
			eye = ""
		}
		cents := i%1000 - 500
		price := fmt.Sprintf("%d.%02d", cents/100, abs(cents%100))
		if cents < 0 && cents > -100 {
			price = "-" + price
		}
		want := []string{
			"s" + strconv.Itoa(i/50), strconv.Itoa(i % 50), hr,
			strconv.FormatFloat(float64(float32(i%13)*0.125), 'g', -1, 32), eye,
			strconv.FormatInt(int64(i)*1000003-5000000000, 10), strconv.Itoa(4000000000 + i), price,
			map[bool]string{true: "1", false: "0"}[i%3 == 0], strconv.Itoa(i / 50 % 2),
		}
		if !slices.Equal(row, want) {
			t.Fatalf("row %d: %q\nwant    %q", i+1, row, want)
		}
	}
}

func abs(x int) int { return max(x, -x) }

// TestParquetRoundTrip: values written by the library come back as cells
// that parse to exactly the values written, null and NaN as empty cells,
// across many small row groups and batch boundaries.
func TestParquetRoundTrip(t *testing.T) {
	type row struct {
		ID    string   `parquet:"id"`
		Step  int64    `parquet:"step"`
		X     *float64 `parquet:"x,optional"`
		F32   float32  `parquet:"f32"`
		Cat   *string  `parquet:"cat,optional"`
		Small int8     `parquet:"small"`
		U64   uint64   `parquet:"u64"`
		Flag  bool     `parquet:"flag"`
	}
	r := rand.New(rand.NewPCG(1, 2))
	specials := []float64{0, math.Copysign(0, -1), math.MaxFloat64, -math.SmallestNonzeroFloat64, 1e-300, 0.1, math.Inf(1), math.NaN()}
	var rows []row
	for i := range 1000 {
		x := math.Float64frombits(r.Uint64())
		if i < len(specials) {
			x = specials[i]
		}
		rr := row{ID: fmt.Sprintf("p%d", i/37), Step: int64(i%37) - 5, X: &x, F32: math.Float32frombits(r.Uint32()),
			Small: int8(i), U64: math.MaxUint64 - uint64(i), Flag: i%2 == 0}
		if i%5 == 1 {
			rr.X = nil
		}
		if i%3 != 0 {
			c := fmt.Sprintf("cat %d, \"quoted\"", i%4)
			rr.Cat = &c
		}
		rows = append(rows, rr)
	}
	path := writeParquetRows(t, "rt.parquet", rows, parquet.MaxRowsPerRowGroup(7), parquet.PageBufferSize(512))
	header, got, err := readParquetAll(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"id", "step", "x", "f32", "cat", "small", "u64", "flag"}; !slices.Equal(header, want) {
		t.Fatalf("header %q, want %q", header, want)
	}
	if len(got) != len(rows) {
		t.Fatalf("%d rows, want %d", len(got), len(rows))
	}
	for i, rr := range rows {
		c := got[i]
		x, err := strconv.ParseFloat(c[2], 64)
		switch {
		case rr.X == nil || math.IsNaN(*rr.X):
			if c[2] != "" {
				t.Errorf("row %d: x %q, want an empty cell for null or NaN", i+1, c[2])
			}
		case err != nil && !math.IsInf(*rr.X, 0) || math.Float64bits(x) != math.Float64bits(*rr.X):
			t.Errorf("row %d: x %q reads back as %v, want %v", i+1, c[2], x, *rr.X)
		}
		f, err := strconv.ParseFloat(c[3], 32)
		if math.IsNaN(float64(rr.F32)) {
			if c[3] != "" {
				t.Errorf("row %d: f32 %q, want an empty cell for NaN", i+1, c[3])
			}
		} else if err != nil && !math.IsInf(float64(rr.F32), 0) || math.Float32bits(float32(f)) != math.Float32bits(rr.F32) {
			t.Errorf("row %d: f32 %q reads back as %v, want %v", i+1, c[3], float32(f), rr.F32)
		}
		cat := ""
		if rr.Cat != nil {
			cat = *rr.Cat
		}
		want := []string{rr.ID, strconv.FormatInt(rr.Step, 10), c[2], c[3], cat, strconv.Itoa(int(rr.Small)),
			strconv.FormatUint(rr.U64, 10), map[bool]string{true: "1", false: "0"}[rr.Flag]}
		if !slices.Equal(c, want) {
			t.Fatalf("row %d: %q\nwant    %q", i+1, c, want)
		}
	}
}

func TestDecimalCell(t *testing.T) {
	for _, c := range []struct {
		digits string
		scale  int
		want   string
	}{
		{"12345", 0, "12345"}, {"12345", 2, "123.45"}, {"-5", 2, "-0.05"}, {"5", 1, "0.5"},
		{"-500", 2, "-5.00"}, {"0", 3, "0.000"}, {"-12345", 5, "-0.12345"},
	} {
		if got := decimalCell(c.digits, c.scale); got != c.want {
			t.Errorf("decimalCell(%q, %d) = %q, want %q", c.digits, c.scale, got, c.want)
		}
	}
}

// TestParquetRefusesColumns: nested, repeated and non-numeric columns are
// refused with the file and the column named, before any row is read.
func TestParquetRefusesColumns(t *testing.T) {
	type inner struct {
		A float64 `parquet:"a"`
	}
	type nested struct {
		ID  string `parquet:"id"`
		Obs inner  `parquet:"obs"`
	}
	type repeated struct {
		ID   string    `parquet:"id"`
		Vals []float64 `parquet:"vals"`
	}
	type stamped struct {
		ID   string    `parquet:"id"`
		When time.Time `parquet:"when,timestamp(millisecond)"`
	}
	type date struct {
		ID  string    `parquet:"id"`
		Day time.Time `parquet:"day,date"`
	}
	for _, c := range []struct {
		path, want string
	}{
		{writeParquetRows(t, "nested.parquet", []nested{{"a", inner{1}}}), "nested columns are not supported"},
		{writeParquetRows(t, "repeated.parquet", []repeated{{"a", []float64{1, 2}}}), `column "vals": repeated columns are not supported`},
		{writeParquetRows(t, "stamped.parquet", []stamped{{"a", time.Unix(0, 0)}}), `column "when": type TIMESTAMP(isAdjustedToUTC=true,unit=MILLIS) (INT64) is not supported: want numbers, booleans or strings`},
		{writeParquetRows(t, "date.parquet", []date{{"a", time.Unix(0, 0)}}), `column "day": type DATE (INT32) is not supported`},
	} {
		_, _, err := readParquetAll(c.path)
		var e *Error
		if !errors.As(err, &e) || !strings.HasPrefix(err.Error(), c.path+": ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an *Error naming the file and saying %q", filepath.Base(c.path), err, c.want)
		}
	}
}

// TestParquetDamaged: a truncated or garbled file, or one that is not
// Parquet at all, gives one line naming the file, never a panic or a
// silently short table.
func TestParquetDamaged(t *testing.T) {
	type row struct {
		ID string  `parquet:"id"`
		X  float64 `parquet:"x"`
		C  *string `parquet:"c,optional"`
	}
	var rows []row
	for i := range 300 {
		c := strconv.Itoa(i % 7)
		rows = append(rows, row{ID: fmt.Sprintf("p%d", i/10), X: float64(i) / 3, C: &c})
	}
	good, err := os.ReadFile(writeParquetRows(t, "good.parquet", rows, parquet.MaxRowsPerRowGroup(50)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	check := func(what string, b []byte) {
		t.Helper()
		path := filepath.Join(dir, "bad.parquet")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, got, err := readParquetAll(path)
		if err == nil {
			// Garbling a value's bytes can leave a readable file: then it
			// must still hold every row.
			if len(got) != len(rows) {
				t.Errorf("%s: %d rows without an error, want %d or an error", what, len(got), len(rows))
			}
			return
		}
		var e *Error
		if msg := err.Error(); !errors.As(err, &e) || !strings.HasPrefix(msg, path+": ") || strings.ContainsAny(msg, "\n\r") {
			t.Errorf("%s: %q, want one line naming the file", what, msg)
		}
	}
	for _, n := range []int{0, 3, 4, 8, len(good) / 2, len(good) - 9, len(good) - 8, len(good) - 1} {
		check(fmt.Sprintf("cut to %d bytes", n), good[:n])
	}
	r := rand.New(rand.NewPCG(3, 4))
	for k := range 300 {
		b := slices.Clone(good)
		for range 1 + k%4 {
			b[4+r.IntN(len(b)-12)] ^= byte(1 + r.IntN(255))
		}
		check(fmt.Sprintf("garbled %d", k), b)
	}
	check("CSV named .parquet", []byte("id,x\np1,1\n"))
}

// FuzzParquet feeds damaged Parquet files to Load: whatever the bytes, the
// answer is a data set that passes the checks of every read, or one
// *Error line naming the file, never a panic.
func FuzzParquet(f *testing.F) {
	type row struct {
		ID  string   `parquet:"id"`
		T   int32    `parquet:"t"`
		HR  *float64 `parquet:"hr,optional"`
		GCS *string  `parquet:"gcs,optional"`
		Y   int32    `parquet:"y"`
	}
	hr, eye := 80.5, "2 To pain"
	var rows []row
	for i := range 12 {
		rows = append(rows, row{ID: fmt.Sprintf("p%d", i/4), T: int32(i % 4), HR: &hr, GCS: &eye, Y: int32(i / 4 % 2)})
	}
	rows[5].HR, rows[6].GCS = nil, nil
	small, err := os.ReadFile(writeParquetRows(f, "seed.parquet", rows, parquet.MaxRowsPerRowGroup(5)))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(small)
	f.Add([]byte("PAR1PAR1"))
	path := filepath.Join(f.TempDir(), "fuzz.parquet")
	s := Schema{Features: 2, Labels: 1, Columns: gapCols, Categories: [][]string{nil, gcs}}
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := Load(path, s)
		checkRead(t, path, d, err)
	})
}
