package data

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkRead asserts what every read must satisfy: an error is one *Error
// line starting with the file name, and a data set is well formed (at least
// one sequence, each with at least one step, finite values, labels 0 or 1).
func checkRead(t *testing.T, name string, d *Dataset, err error) {
	t.Helper()
	if err != nil {
		var e *Error
		msg := err.Error()
		if !errors.As(err, &e) || !strings.HasPrefix(msg, name+":") || strings.ContainsAny(msg, "\n\r") {
			t.Fatalf("bad error %q (%T)", msg, err)
		}
		return
	}
	d.check("fuzz")
	if d.N() == 0 {
		t.Fatal("no sequences and no error")
	}
	for i, x := range d.X {
		for _, v := range x {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("sequence %d holds %v", i, v)
			}
		}
	}
	for _, v := range d.Y {
		if v != 0 && v != 1 {
			t.Fatalf("label %v", v)
		}
	}
}

func FuzzReadNPZ(f *testing.F) {
	for _, dir := range []string{"good", "bad"} {
		files, _ := filepath.Glob(filepath.Join(fixtures, dir, "*.npz"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil && len(b) < 4096 {
				f.Add(b)
			}
		}
	}
	// Hostile archives: a duplicate entry, data past what the header
	// declares (stored and compressed), a compressed archive that reads.
	f4 := func(shape string) string {
		return "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }"
	}
	y := entry("y.npy", npyBytes(f4("(1,)"), f32bytes(1)))
	x := entry("x.npy", npyBytes(f4("(1, 1, 1)"), f32bytes(2)))
	f.Add(zipBytes(f, x, y, x))
	for _, store := range []bool{true, false} {
		f.Add(bombArchive(f, bombEntry{name: "x.npy", dict: f4("(1, 1, 3)"), zeros: 200, claim: 128 + 12, store: store},
			bombEntry{name: "y.npy", dict: f4("(1,)"), zeros: 4, store: store}))
	}
	f.Add(bombArchive(f, bombEntry{name: "x.npy", dict: f4("(2, 3, 2)"), zeros: 48}, bombEntry{name: "y.npy", dict: f4("(2,)"), zeros: 8}))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeNPZ("f.npz", bytes.NewReader(b), int64(len(b)), nil)
		checkRead(t, "f.npz", d, err)
		if err != nil {
			return
		}
		// What was read writes and reads back equal.
		var w bytes.Buffer
		if err := encodeNPZ(&w, d); err != nil {
			t.Fatal(err)
		}
		e, err := decodeNPZ("g.npz", bytes.NewReader(w.Bytes()), int64(w.Len()), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !e.Equal(d) {
			t.Fatal("round trip changed the data")
		}
	})
}

var fuzzCols = SynthColumns(2, 1)

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"id,step,f0,f1,y\na,0,1,2,0\nb,0,3,4,1\na,1,5,6,0\n",
		"id,step,f0,f1,y\na,1,1,2,0\na,0,3,4,0\n",
		"id,step,f0,f1,y\na,1,1,2,0\na,1,3,4,0\n",
		"id,f0,f1,y,step\n\"a\",1e3,-0,1,2.5\n",
		"id,step,f0,f1,y\na,0,NaN,2,0\n",
		"id,step,f0,f1,y\na,0,,2,0\n",
		"\ufeffid,step,f0,f1,y\n a , 0 , 1 , 2 , 1 \n",
		"id,step,f0,f1,y\na,0,1,2,0\na,1,1,2,1\n",
		"id,step,f0,f1\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeCSV("f.csv", bytes.NewReader(b), &Schema{Columns: fuzzCols, StepOptional: true})
		checkRead(t, "f.csv", d, err)
		if err != nil {
			return
		}
		var w bytes.Buffer
		if err := encodeCSV(&w, d, fuzzCols); err != nil {
			t.Fatal(err)
		}
		e, err := decodeCSV("g.csv", bytes.NewReader(w.Bytes()), &Schema{Columns: fuzzCols})
		if err != nil {
			t.Fatalf("reading back: %v\n%s", err, w.Bytes())
		}
		e.Source = d.Source
		if !e.Equal(d) {
			t.Fatalf("round trip changed the data:\n%s", w.Bytes())
		}
	})
}

// FuzzReadRecords reads tables with every feature of the record decoder on:
// missing cells, a categorical feature, time bins and per-step class
// labels. What is read is well formed: NaN only as a missing value or an
// unlabelled step, categorical values are indices, labels are classes.
func FuzzReadRecords(f *testing.F) {
	for _, s := range []string{
		"id,t,hr,gcs,y\na,0.5,1,b,\na,3,,NA,2\nb,0,NaN,a,0\n",
		"id,t,hr,gcs,y\na,2.5,1,b,1\na,2.5,2,,c\na,0.1,nan,c,\n",
		"id,t,hr,gcs,y\na,-1,1,b,\n",
		"id,t,hr,gcs,y\na,1e9,1,b,\n",
		"id,t,hr,gcs,y\na,1,1,zz,\n",
		"id,t,hr,gcs,y\na,1,1,a,3\n",
	} {
		f.Add([]byte(s), 1.0)
	}
	f.Add([]byte("id,t,hr,gcs,y\na,0.35,1,a,\n"), 0.1)
	// Empty bins cost memory no byte of the input pays for: a small limit
	// keeps each input's allocation small.
	f.Setenv("TRNN_MAX_FILE_BYTES", "1000000")
	f.Fuzz(func(t *testing.T, b []byte, bin float64) {
		if !(bin > 0 && bin < 1e6) {
			bin = 1
		}
		s := &Schema{Columns: Columns{ID: "id", Step: "t", Features: []string{"hr", "gcs"}, Labels: []string{"y"}},
			Missing: true, Categories: [][]string{nil, {"a", "b", "c"}}, Bin: bin,
			Target: LabelClass, Classes: []string{"a", "b", "c"}, PerStep: true}
		d, err := decodeCSV("f.csv", bytes.NewReader(b), s)
		if err != nil {
			checkRead(t, "f.csv", nil, err)
			return
		}
		d.check("fuzz")
		for i, x := range d.X {
			for j, v := range x {
				if math.IsInf(float64(v), 0) || j%2 == 1 && v == v && (v != float32(int(v)) || v < 0 || v > 2) {
					t.Fatalf("sequence %d value %d: %v", i, j, v)
				}
			}
			for _, v := range d.YStep[i] {
				if v == v && (v != float32(int(v)) || v < 0 || v > 2) {
					t.Fatalf("label %v", v)
				}
			}
		}
	})
}
