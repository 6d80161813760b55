package data

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// nan is a missing value as the readers store it.
var nan = float32(math.NaN())

// gapCols are the columns of the tests of missing values, categories and
// label kinds: a numeric and a categorical feature.
var gapCols = Columns{ID: "id", Step: "t", Features: []string{"hr", "gcs"}, Labels: []string{"y"}}

var gcs = []string{"1 No Response", "2 To pain", "3 To speech", "4 Spontaneously"}

func gapSchema() *Schema {
	return &Schema{Columns: gapCols, Missing: true, Categories: [][]string{nil, gcs}}
}

func decodeText(t *testing.T, text string, s *Schema) (*Dataset, error) {
	t.Helper()
	return decodeCSV("data.csv", strings.NewReader(text), s)
}

// wantExact fails unless err's message is exactly want.
func wantExact(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil || err.Error() != want {
		t.Errorf("error\n  %v\nwant exactly\n  %s", err, want)
	}
}

func TestMissingCells(t *testing.T) {
	// Every spelling of a missing value, in a numeric and in a categorical
	// column; a row with every feature missing is still a step.
	text := "id,t,hr,gcs,y\n" +
		"a,0,80, 2 To pain ,1\n" +
		"a,1,,4 Spontaneously,1\n" +
		"a,2,NA,NA,1\n" +
		"a,3, NaN ,,1\n" +
		"a,4,nan,nan,1\n" +
		"b,0,90,1 No Response,0\n"
	d, err := decodeText(t, text, gapSchema())
	if err != nil {
		t.Fatal(err)
	}
	want := &Dataset{F: 2, K: 1,
		X:   [][]float32{{80, 1, nan, 3, nan, nan, nan, nan, nan, nan}, {90, 0}},
		Y:   []float32{1, 0},
		IDs: []string{"a", "b"}, FeatureNames: gapCols.Features, LabelNames: gapCols.Labels}
	if !d.Equal(want) {
		t.Errorf("got %v %v, want %v", d.X, d.Y, want.X)
	}

	// Without Missing, each is refused, and the message says how to allow it.
	refused := &Schema{Columns: gapCols, Categories: [][]string{nil, gcs}}
	for _, tc := range []struct{ row, want string }{
		{"a,0,,1 No Response,1", `data.csv:2: column "hr": empty cell (missing values are refused unless the spec sets inputs.missing)`},
		{"a,0,NA,1 No Response,1", `data.csv:2: column "hr": missing value "NA" (missing values are refused unless the spec sets inputs.missing)`},
		{"a,0,NaN,1 No Response,1", `data.csv:2: column "hr": missing value "NaN" (missing values are refused unless the spec sets inputs.missing)`},
		{"a,0,80,,1", `data.csv:2: column "gcs": empty cell (missing values are refused unless the spec sets inputs.missing)`},
		{"a,0,80,nan,1", `data.csv:2: column "gcs": missing value "nan" (missing values are refused unless the spec sets inputs.missing)`},
	} {
		_, err := decodeText(t, "id,t,hr,gcs,y\n"+tc.row+"\n", refused)
		wantExact(t, err, tc.want)
	}
	// Missing values never reach Inf: it is refused as before.
	_, err = decodeText(t, "id,t,hr,gcs,y\na,0,inf,NA,1\n", gapSchema())
	wantExact(t, err, `data.csv:2: column "hr": values must be finite float32 numbers, got "inf"`)
}

func TestCategories(t *testing.T) {
	s := gapSchema()
	_, err := decodeText(t, "id,t,hr,gcs,y\na,0,80,1 No Response,1\na,1,80,5 Confused,1\n", s)
	wantExact(t, err, `data.csv:3: column "gcs": unknown category "5 Confused" (want one of "1 No Response", "2 To pain", "3 To speech", "4 Spontaneously")`)
	// An index is not a category's name in a CSV file.
	_, err = decodeText(t, "id,t,hr,gcs,y\na,0,80,1,1\n", s)
	wantExact(t, err, `data.csv:2: column "gcs": unknown category "1" (want one of "1 No Response", "2 To pain", "3 To speech", "4 Spontaneously")`)

	// A long list is shortened; a category spelled like a missing value
	// is that category.
	many := make([]string, 30)
	for i := range many {
		many[i] = fmt.Sprint("c", i)
	}
	many[7] = "NA"
	s.Categories = [][]string{nil, many}
	_, err = decodeText(t, "id,t,hr,gcs,y\na,0,80,zz,1\n", s)
	if err == nil || !strings.HasSuffix(err.Error(), `"c18", "c19", … 10 more)`) {
		t.Errorf("long list: %v", err)
	}
	d, err := decodeText(t, "id,t,hr,gcs,y\na,0,80,NA,1\na,1,80,c29,1\na,2,80,,1\n", s)
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits(d.X[0], []float32{80, 7, 80, 29, 80, nan}) {
		t.Errorf("categories read as %v", d.X[0])
	}
}

func TestLabelKinds(t *testing.T) {
	classes := &Schema{Columns: gapCols, Missing: true, Categories: [][]string{nil, gcs}, Target: LabelClass, Classes: []string{"short", "medium", "long"}}
	head := "id,t,hr,gcs,y\n"
	d, err := decodeText(t, head+"a,0,1,NA,long\nb,0,2,NA,0\nc,0,3,NA, medium \nd,0,4,NA,1.0\n", classes)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Y, []float32{2, 0, 1, 1}) || d.Target != LabelClass || d.K != 1 {
		t.Errorf("classes read as %v (%v, K %d)", d.Y, d.Target, d.K)
	}
	for _, tc := range []struct{ cell, want string }{
		{"huge", `data.csv:2: column "y": unknown class (want "short", "medium", "long", or an index from 0 to 2), got "huge"`},
		{"3", `data.csv:2: column "y": unknown class (want "short", "medium", "long", or an index from 0 to 2), got "3"`},
		{"0.5", `data.csv:2: column "y": unknown class (want "short", "medium", "long", or an index from 0 to 2), got "0.5"`},
		{"-1", `data.csv:2: column "y": unknown class (want "short", "medium", "long", or an index from 0 to 2), got "-1"`},
		{"", `data.csv:2: column "y": empty cell, want a class ("short", "medium", "long", or an index from 0 to 2)`},
	} {
		_, err := decodeText(t, head+"a,0,1,NA,"+tc.cell+"\n", classes)
		wantExact(t, err, tc.want)
	}

	values := &Schema{Columns: Columns{ID: "id", Features: []string{"hr"}, Labels: []string{"los", "cost"}}, Target: LabelValue}
	d, err = decodeText(t, "id,hr,los,cost\na,1,12.5,-3e3\na,2,12.5,-3e3\n", values)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.Y, []float32{12.5, -3000}) || d.Target != LabelValue {
		t.Errorf("targets read as %v", d.Y)
	}
	for _, tc := range []struct{ cell, want string }{
		{"NaN", `data.csv:2: column "los": targets must be finite float32 numbers, got "NaN"`},
		{"1e39", `data.csv:2: column "los": targets must be finite float32 numbers, got "1e39"`},
		{"x", `data.csv:2: column "los": targets must be finite float32 numbers, got "x"`},
		{"", `data.csv:2: column "los": empty cell, want a target value`},
	} {
		_, err := decodeText(t, "id,hr,los,cost\na,1,"+tc.cell+",0\n", values)
		wantExact(t, err, tc.want)
	}
	_, err = decodeText(t, "id,hr,los,cost\na,1,2,0\na,2,3,0\n", values)
	wantExact(t, err, `data.csv:3: id "a": label "los" changes from 2 to 3 within one sequence (first row on line 2)`)
}

func TestPerStepCSV(t *testing.T) {
	s := &Schema{Columns: Columns{ID: "id", Step: "t", Features: []string{"hr"}, Labels: []string{"l0", "l1"}}, PerStep: true}
	// Rows out of order: labels follow their rows; a label may be missing
	// on its own.
	d, err := decodeText(t, "id,t,hr,l0,l1\na,2,3,1,\na,0,1,,\nb,5,9,0,1\na,1,2,NA,0\n", s)
	if err != nil {
		t.Fatal(err)
	}
	if d.Y != nil || !d.Labelled() || len(d.YStep) != 2 {
		t.Fatalf("Y %v YStep %v", d.Y, d.YStep)
	}
	if !sameBits(d.YStep[0], []float32{nan, nan, nan, 0, 1, nan}) || !sameBits(d.YStep[1], []float32{0, 1}) {
		t.Errorf("YStep = %v", d.YStep)
	}
	if !slices.Equal(d.X[0], []float32{1, 2, 3}) {
		t.Errorf("X = %v", d.X)
	}
	_, err = decodeText(t, "id,t,hr,l0,l1\na,0,1,2,\n", s)
	wantExact(t, err, `data.csv:2: column "l0": labels must be 0 or 1, got "2"`)
	// Unlabelled data stays unlabelled.
	s.LabelMode = LabelsOptional
	d, err = decodeText(t, "id,t,hr\na,0,1\n", s)
	if err != nil || d.Labelled() || d.YStep != nil {
		t.Errorf("without label columns: %v, labelled %v", err, d != nil && d.Labelled())
	}
	// Without per-step labels, a label that changes is refused as before.
	s.PerStep = false
	_, err = decodeText(t, "id,t,hr,l0,l1\na,0,1,0,0\na,1,1,1,0\n", s)
	wantExact(t, err, `data.csv:3: id "a": label "l0" changes from 0 to 1 within one sequence (first row on line 2)`)
}

func TestSubsetAndSplitCarryNewLabels(t *testing.T) {
	d := &Dataset{F: 1, K: 1, X: [][]float32{{1}, {2, 3}, {4}},
		YStep: [][]float32{{nan}, {0, 1}, {1}}, Target: LabelBinary}
	s := d.Subset([]int{2, 1})
	if s.Y != nil || !sameBits(s.YStep[0], []float32{1}) || !sameBits(s.YStep[1], []float32{0, 1}) || !s.Labelled() {
		t.Errorf("Subset YStep = %v, Y = %v", s.YStep, s.Y)
	}
	s.check("test")
	// Per-step labels split plainly at random: the split must not read Y.
	tr, val := d.Split(0.4, 1)
	if tr.N()+val.N() != 3 || tr.YStep == nil || val.YStep == nil {
		t.Errorf("split %d + %d", tr.N(), val.N())
	}

	// Classes are stratified: every class with two or more sequences
	// lands in both parts.
	c := &Dataset{F: 1, K: 1, Target: LabelClass}
	for i := range 30 {
		c.X = append(c.X, []float32{float32(i)})
		c.Y = append(c.Y, float32(i%3))
	}
	tr, val = c.Split(0.2, 7)
	for _, part := range []*Dataset{tr, val} {
		n := map[float32]int{}
		for _, v := range part.Y {
			n[v]++
		}
		if len(n) != 3 {
			t.Errorf("classes in a part: %v", n)
		}
	}
	if val.N() != 6 {
		t.Errorf("val has %d sequences, want 2 of each class", val.N())
	}
	// Targets are real values: a plain split, not one group per value.
	c.Target = LabelValue
	if _, val = c.Split(0.2, 7); val.N() != 6 {
		t.Errorf("regression val has %d sequences, want 6", val.N())
	}
}

func TestSchemaExtrasChecked(t *testing.T) {
	for _, tc := range []struct {
		s    Schema
		want string
	}{
		{Schema{Columns: gapCols, Categories: [][]string{nil}}, "categories are given for 1 features, the columns name 2"},
		{Schema{Columns: gapCols, Bin: -1}, "data.bin must be a positive number, got -1"},
		{Schema{Columns: gapCols, Target: LabelClass}, "no classes are named (outputs.classes)"},
		{Schema{Columns: gapCols, Categories: [][]string{nil, {}}}, "feature 1 is categorical with no categories"},
	} {
		_, err := decodeText(t, "id,t,hr,gcs,y\na,0,1,1,1\n", &tc.s)
		wantExact(t, err, "data.csv: "+tc.want)
	}
}

// TestWritePerStepRoundTrip: NPZ and CSV files written from a data set with
// missing values and per-step labels read back equal.
func TestWritePerStepRoundTrip(t *testing.T) {
	for _, K := range []int{1, 2} {
		cols := Columns{ID: "id", Step: "step", Features: []string{"a", "b"}, Labels: []string{"y0", "y1"}[:K]}
		d := &Dataset{F: 2, K: K, X: [][]float32{{1, nan, nan, nan, 3, 4}, {5, 6}}, IDs: []string{"0", "1"}}
		d.YStep = [][]float32{nans(3 * K), nans(K)}
		d.YStep[0][K] = 1   // step 1
		d.YStep[1][K-1] = 0 // step 0, last label
		s := Schema{Features: 2, Labels: K, Columns: cols, Missing: true, PerStep: true}
		dir := t.TempDir()
		for _, name := range []string{"d.npz", "d.csv"} {
			path := filepath.Join(dir, name)
			var err error
			if name == "d.npz" {
				err = WriteNPZ(path, d)
			} else {
				err = WriteCSV(path, d, cols)
			}
			if err != nil {
				t.Fatal(err)
			}
			e, err := Load(path, s)
			if err != nil {
				t.Fatalf("K %d, %s: %v", K, name, err)
			}
			if name == "d.npz" {
				e.IDs = []string{"0", "1"}
			}
			e.FeatureNames, e.LabelNames = nil, nil
			if !e.Equal(d) {
				t.Errorf("K %d, %s: read back %v %v, wrote %v %v", K, name, e.X, e.YStep, d.X, d.YStep)
			}
		}
	}
}
