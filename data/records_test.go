package data

import (
	"io"
	"strconv"
	"testing"
)

// rowSource is a table in memory that numbers its rows as a Parquet file
// does: "row N" from 1, and no line for the header.
type rowSource struct {
	header []string
	rows   [][]string
	n      int
}

var _ recordSource = (*rowSource)(nil)

func (r *rowSource) Header() ([]string, error) { return r.header, nil }

func (r *rowSource) Next() ([]string, error) {
	if r.n == len(r.rows) {
		return nil, io.EOF
	}
	r.n++
	return r.rows[r.n-1], nil
}

func (r *rowSource) Where() string { return "row " + strconv.Itoa(r.n) }

func (r *rowSource) Line() int { return r.n }

// TestDecodeRecordsFromAnotherSource: the decoder reads any recordSource
// the way it reads CSV, and its messages count in the source's terms.
func TestDecodeRecordsFromAnotherSource(t *testing.T) {
	s := gapSchema()
	header := []string{"id", "t", "hr", "gcs", "y"}
	src := &rowSource{header: header, rows: [][]string{{"a", "1", "", "2 To pain", "1"}, {"a", "0", "80", "", "1"}}}
	d, err := decodeRecords("f.parquet", src, s)
	if err != nil {
		t.Fatal(err)
	}
	csv, err := decodeText(t, "id,t,hr,gcs,y\na,1,,2 To pain,1\na,0,80,,1\n", s)
	if err != nil {
		t.Fatal(err)
	}
	if csv.Source = d.Source; !d.Equal(csv) {
		t.Errorf("parquet-like %v, CSV %v", d.X, csv.X)
	}
	src = &rowSource{header: header, rows: [][]string{{"a", "1", "1", "", "1"}, {"b", "1", "1", "", "1"}, {"a", "1", "1", "", "1"}}}
	_, err = decodeRecords("f.parquet", src, s)
	wantExact(t, err, `f.parquet:3: id "a": step 1 appears twice (first on row 1)`)
	src = &rowSource{header: header, rows: [][]string{{"a", "0", "1", "", "0"}, {"a", "1", "1", "", "1"}}}
	_, err = decodeRecords("f.parquet", src, s)
	wantExact(t, err, `f.parquet:2: id "a": label "y" changes from 0 to 1 within one sequence (first row on row 1)`)
	_, err = decodeRecords("f.parquet", &rowSource{header: header[:4]}, s)
	wantExact(t, err, `f.parquet: missing column "y" (header has: "id", "t", "hr", "gcs")`)
}
