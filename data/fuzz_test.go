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
