package data

import (
	"slices"
	"strconv"
	"testing"
)

func binSchema(bin float64) *Schema {
	return &Schema{Columns: Columns{ID: "id", Step: "hours", Features: []string{"hr", "gcs"}, Labels: []string{"y"}},
		Missing: true, Categories: [][]string{nil, gcs}, Bin: bin, PerStep: true}
}

func TestBinning(t *testing.T) {
	// Rows out of time order. Bin 0 ([0, 1)): hr 80 at 0.2, then 81 at
	// 0.7 (the last wins); gcs only at 0.2. Bin 1 is empty. Bin 2: two rows
	// at 2.5 (ties keep file order: the later row wins), a missing cell
	// does not erase an observation, and the label is the last labelled
	// row's. Bin 3: a row with every feature missing but a label.
	text := "id,hours,hr,gcs,y\n" +
		"a,0.7,81,,\n" +
		"a,2.5,90,3 To speech,1\n" +
		"b,0,50,1 No Response,1\n" +
		"a,0.2,80,2 To pain,0\n" +
		"a,2.5,91,,\n" +
		"a,2.9,,,0\n" +
		"a,3,NA,,1\n"
	d, err := decodeText(t, text, binSchema(1))
	if err != nil {
		t.Fatal(err)
	}
	wantX := []float32{81, 1, nan, nan, 91, 2, nan, nan}
	if !sameBits(d.X[0], wantX) {
		t.Errorf("a: X = %v\nwant   %v", d.X[0], wantX)
	}
	if !sameBits(d.YStep[0], []float32{0, nan, 0, 1}) || !sameBits(d.YStep[1], []float32{1}) {
		t.Errorf("YStep = %v", d.YStep)
	}
	if !slices.Equal(d.StepValues[0], []string{"0", "1", "2", "3"}) || !slices.Equal(d.StepValues[1], []string{"0"}) {
		t.Errorf("StepValues = %v", d.StepValues)
	}

	// Steps are named by their start time, without rounding noise.
	d, err = decodeText(t, "id,hours,hr,gcs,y\na,0.35,1,NA,\n", binSchema(0.1))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.StepValues[0], []string{"0", "0.1", "0.2", "0.3"}) || d.Len(0) != 4 {
		t.Errorf("bins of 0.1: %v", d.StepValues[0])
	}

	// The sequence starts at time 0, whatever its first row's time.
	d, err = decodeText(t, "id,hours,hr,gcs,y\na,5,1,NA,\n", binSchema(2))
	if err != nil || d.Len(0) != 3 || !sameBits(d.X[0][:4], []float32{nan, nan, nan, nan}) {
		t.Errorf("late start: %v %v", err, d)
	}
}

func TestBinningBad(t *testing.T) {
	const head = "id,hours,hr,gcs,y\n"
	for _, tc := range []struct {
		name, text, want string
		edit             func(*Schema)
	}{
		{"negative time", head + "a,0,1,NA,\na,-0.5,1,NA,\n",
			`data.csv:3: column "hours": time -0.5 is negative (with data.bin the step column is a time from 0)`, nil},
		{"huge time", head + "a,1e300,1,NA,\n",
			`data.csv:2: column "hours": time 1e+300 falls in step 1e+300, past the limit of 1048576 steps per sequence (data.bin is 1)`, nil},
		{"past the step limit", head + "a,1048576,1,NA,\n",
			`data.csv:2: column "hours": time 1048576 falls in step 1048576, past the limit of 1048576 steps per sequence (data.bin is 1)`, nil},
		{"not a time", head + "a,soon,1,NA,\n", `data.csv:2: column "hours": time must be a finite number, got "soon"`, nil},
		{"gap without missing values", "id,hours,hr,y\na,0,1,\na,2.5,1,\n",
			`data.csv: id "a": no rows in step 1 (times from 1 to 2): an empty step is missing values, missing values are refused unless the spec sets inputs.missing`,
			func(s *Schema) { s.Missing = false; s.Categories = nil; s.Columns.Features = []string{"hr"} }},
		{"no time column", "id,hr,gcs,y\na,1,NA,\n",
			`data.csv:1: data.bin needs a time column: no step column "hours" (header has: "id", "hr", "gcs", "y")`,
			func(s *Schema) { s.StepOptional = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := binSchema(1)
			if tc.edit != nil {
				tc.edit(s)
			}
			_, err := decodeText(t, tc.text, s)
			wantExact(t, err, tc.want)
		})
	}
}

// TestBinningBudget: empty bins cost memory no byte of the file pays for,
// so the steps binning creates are bounded in all by the size limit.
func TestBinningBudget(t *testing.T) {
	t.Setenv("TRNN_MAX_FILE_BYTES", "4000")
	// Two sequences of 400 steps of 2 features and a label: 2400 values of
	// the 1000 allowed.
	_, err := decodeText(t, "id,hours,hr,gcs,y\na,399,1,NA,\nb,399,1,NA,\n", binSchema(1))
	wantExact(t, err, `data.csv: id "a": the binned steps hold more than 3.9 KiB, the limit on what trnn reads (set TRNN_MAX_FILE_BYTES to raise it)`)
	if _, err := decodeText(t, "id,hours,hr,gcs,y\na,99,1,NA,\nb,99,1,NA,\n", binSchema(1)); err != nil {
		t.Errorf("within the budget: %v", err)
	}
}

// TestBinStartsReadBack checks that every step's name, a bin's start time
// as written, falls back in that step: rewriting binned data must not move
// rows. With bin 0.1 step 3's start "0.3" divides to 2.9999999999999996.
func TestBinStartsReadBack(t *testing.T) {
	for _, bin := range []float64{0.1, 0.3, 1.0 / 3, 0.7, 1, 2.5, 1e-3} {
		dec := &recordDecoder{s: binSchema(bin)}
		for b, name := range dec.binStarts(2000) {
			v, err := strconv.ParseFloat(name, 64)
			if err != nil {
				t.Fatal(err)
			}
			if got := binOf(v, bin); got != b {
				t.Fatalf("bin %g: step %d's start %q falls in step %d", bin, b, name, got)
			}
		}
	}
	// Times between starts still fall in the step they are in.
	if binOf(0.35, 0.1) != 3 || binOf(0.2999, 0.1) != 2 || binOf(2.9999, 1) != 2 {
		t.Errorf("binOf(0.35, 0.1) = %d, binOf(0.2999, 0.1) = %d, binOf(2.9999, 1) = %d",
			binOf(0.35, 0.1), binOf(0.2999, 0.1), binOf(2.9999, 1))
	}
}
