package data

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeFolder writes files (name → content) into a new folder.
func writeFolder(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// episodeSchema reads stays with the columns mimic3-benchmarks writes: a
// time "Hours", a numeric and a categorical variable.
func episodeSchema() Schema {
	return Schema{
		Features: 2, Labels: 1,
		Columns:    Columns{ID: "stay", Step: "Hours", Features: []string{"Heart Rate", "Glascow coma scale eye opening"}, Labels: []string{"died"}},
		Missing:    true,
		Categories: [][]string{nil, {"None", "To Pain", "To Speech", "Spontaneously"}},
		Bin:        1,
	}
}

const (
	stayHeader = "Hours,Heart Rate,Glascow coma scale eye opening,Capillary refill rate\n"
	// stayA: times out of order, a gap at hour 1, rows after hour 2.
	stayA = stayHeader + "2.5,90,,\n0.25,80,To Pain,\n0.75,81,,0\n3.5,95,Spontaneously,\n47.9,70,,\n"
	stayB = stayHeader + "0,60,None,\n"
)

func TestEpisodesPerSequence(t *testing.T) {
	dir := writeFolder(t, map[string]string{
		"listfile.csv": "stay,period_length,y_true\nb.csv,48,0\na.csv,3,1\n",
		"a.csv":        stayA,
		"b.csv":        stayB,
	})
	d, err := Load(dir, episodeSchema())
	if err != nil {
		t.Fatal(err)
	}
	// Listfile order; a is cut at 3 hours: bins 0..3 (3.5 falls in bin 3,
	// the one holding 3), 47.9 dropped.
	if !slices.Equal(d.IDs, []string{"b.csv", "a.csv"}) || !slices.Equal(d.Y, []float32{0, 1}) {
		t.Errorf("ids %v, labels %v", d.IDs, d.Y)
	}
	wantA := []float32{81, 1, nan, nan, 90, nan, 95, 3}
	if !sameBits(d.X[1], wantA) || !sameBits(d.X[0], []float32{60, 0}) {
		t.Errorf("X = %v\nwant a = %v", d.X, wantA)
	}
	if !slices.Equal(d.StepValues[1], []string{"0", "1", "2", "3"}) || d.Source != dir {
		t.Errorf("step values %v, source %q", d.StepValues, d.Source)
	}

	// Without bins, the cut keeps rows at or before period_length, and the
	// steps are the rows, named by their times as written.
	s := episodeSchema()
	s.Bin = 0
	d, err = Load(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.StepValues[1], []string{"0.25", "0.75", "2.5"}) || !sameBits(d.X[1], []float32{80, 1, 81, nan, 90, nan}) {
		t.Errorf("without bins: %v %v", d.StepValues[1], d.X[1])
	}

	// Without period_length, a sequence is its whole file; labels named as
	// the spec names them.
	dir = writeFolder(t, map[string]string{"listfile.csv": "stay,died\na.csv,1\n", "a.csv": stayA})
	if d, err = Load(dir, episodeSchema()); err != nil || d.Len(0) != 48 || d.Y[0] != 1 {
		t.Errorf("whole file: %v, %d steps", err, d.Len(0))
	}
}

func TestEpisodesPerStep(t *testing.T) {
	// Decompensation: one row per stay and hour; a period_length labels
	// the bin holding it, past the last row too (empty steps).
	dir := writeFolder(t, map[string]string{
		"listfile.csv": "stay,period_length,y_true\na.csv,1,0\nb.csv,0.5,1\na.csv,4,1\na.csv,2,0\n",
		"a.csv":        stayA,
		"b.csv":        stayB,
	})
	s := episodeSchema()
	s.PerStep = true
	s.Columns.Labels = []string{"decomp"}
	d, err := Load(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	if d.Len(0) != 48 || !sameBits(d.YStep[0][:6], []float32{nan, 0, 0, nan, 1, nan}) || !sameBits(d.YStep[1], []float32{1}) {
		t.Errorf("YStep = %v %v", d.YStep[0][:6], d.YStep[1])
	}
	if !slices.Equal(d.LabelNames, []string{"decomp"}) {
		t.Errorf("label names %v", d.LabelNames)
	}
	// A label past the last row adds empty steps up to its bin.
	dir = writeFolder(t, map[string]string{"listfile.csv": "stay,period_length,y_true\nb.csv,2.5,1\n", "b.csv": stayB})
	d, err = Load(dir, s)
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits(d.X[0], []float32{60, 0, nan, nan, nan, nan}) || !sameBits(d.YStep[0], []float32{nan, nan, 1}) ||
		!slices.Equal(d.StepValues[0], []string{"0", "1", "2"}) {
		t.Errorf("extended: %v %v %v", d.X[0], d.YStep[0], d.StepValues[0])
	}
	// Without bins, the label goes to the last step at or before its time.
	s.Bin = 0
	dir = writeFolder(t, map[string]string{"listfile.csv": "stay,period_length,y_true\na.csv,0.5,1\na.csv,100,0\n", "a.csv": stayA})
	if d, err = Load(dir, s); err != nil {
		t.Fatal(err)
	}
	if !sameBits(d.YStep[0], []float32{1, nan, nan, nan, 0}) {
		t.Errorf("without bins: %v", d.YStep[0])
	}
}

func TestEpisodesLabels(t *testing.T) {
	// Phenotyping: label columns named as the spec names them; classes and
	// targets in y_true.
	s := episodeSchema()
	s.Labels = 2
	s.Columns.Labels = []string{"sepsis", "shock"}
	dir := writeFolder(t, map[string]string{"listfile.csv": "stay,period_length,shock,sepsis\na.csv,10,1,0\n", "a.csv": stayA})
	d, err := Load(dir, s)
	if err != nil || !slices.Equal(d.Y, []float32{0, 1}) {
		t.Fatalf("phenotypes: %v %v", err, d)
	}
	s.Labels = 1
	s.Columns.Labels = []string{"los"}
	s.Target, s.Classes = LabelClass, []string{"short", "long"}
	dir = writeFolder(t, map[string]string{"listfile.csv": "stay,y_true\na.csv,long\nb.csv,0\n", "a.csv": stayA, "b.csv": stayB})
	if d, err = Load(dir, s); err != nil || !slices.Equal(d.Y, []float32{1, 0}) {
		t.Errorf("classes: %v %v", err, d)
	}
	// Unlabelled data: no label column.
	s.LabelMode = LabelsOptional
	dir = writeFolder(t, map[string]string{"listfile.csv": "stay\na.csv\n", "a.csv": stayA})
	if d, err = Load(dir, s); err != nil || d.Labelled() {
		t.Errorf("unlabelled: %v", err)
	}
}

func TestEpisodesBad(t *testing.T) {
	list := func(rows string) map[string]string {
		return map[string]string{"listfile.csv": "stay,period_length,y_true\n" + rows, "a.csv": stayA, "b.csv": stayB}
	}
	perStep := func(s *Schema) { s.PerStep = true }
	noMissing := func(s *Schema) { s.PerStep, s.Missing, s.Categories = true, false, nil }
	for _, tc := range []struct {
		name  string
		files map[string]string
		edit  func(*Schema)
		want  string // after the folder's path and "/"
	}{
		{"no listfile", map[string]string{"a.csv": stayA}, nil,
			": is a directory without listfile.csv (a folder of data must be in the episodes layout: listfile.csv and one CSV file per sequence)"},
		{"missing stay file", list("a.csv,1,0\nc.csv,1,1\n"), nil, `/listfile.csv:3: stay "c.csv": no such file in the folder`},
		{"listed twice", list("a.csv,1,0\nb.csv,1,1\na.csv,2,1\n"), nil,
			`/listfile.csv:4: stay "a.csv": listed twice (first on line 2); a stay listed at several period_lengths has per-step labels, which need outputs.per_step: true`},
		{"same period twice", list("a.csv,1,0\na.csv,1,1\n"), perStep, `/listfile.csv:3: stay "a.csv": listed twice at period_length 1 (first on line 2)`},
		{"same step twice", list("a.csv,1.5,0\na.csv,1.2,1\n"), perStep, `/listfile.csv:3: stay "a.csv": period_length 1.2 labels the same step as line 2`},
		{"bad period", list("a.csv,soon,0\n"), nil, `/listfile.csv:2: column "period_length": want a time, a finite number ≥ 0, got "soon"`},
		{"negative period", list("a.csv,-1,0\n"), nil, `/listfile.csv:2: column "period_length": want a time, a finite number ≥ 0, got "-1"`},
		{"path in stay", list("../a.csv,1,0\n"), nil, `/listfile.csv:2: column "stay": want the name of a file in the folder, got "../a.csv"`},
		{"bad label", list("a.csv,1,2\n"), nil, `/listfile.csv:2: column "y_true": labels must be 0 or 1, got "2"`},
		{"no label column", map[string]string{"listfile.csv": "stay,period_length\na.csv,1\n", "a.csv": stayA}, nil,
			`/listfile.csv:1: missing label column "died" or "y_true" (header has: "stay", "period_length")`},
		{"no stay column", map[string]string{"listfile.csv": "file,y_true\na.csv,1\n"}, nil,
			`/listfile.csv:1: missing column "stay" (header has: "file", "y_true")`},
		{"per step without period", map[string]string{"listfile.csv": "stay,y_true\na.csv,1\n", "a.csv": stayA}, perStep,
			`/listfile.csv:1: per-step labels need a "period_length" column: each row labels the step that holds that time`},
		{"nothing before the period", list("a.csv,0.1,1\n"), func(s *Schema) { s.Bin = 0 },
			`/listfile.csv:2: stay "a.csv": no rows at or before period_length 0.1`},
		{"label before the first time", list("a.csv,0.1,1\n"), func(s *Schema) { s.Bin, s.PerStep = 0, true },
			`/listfile.csv:2: stay "a.csv": period_length 0.1 comes before the stay's first time, 0.25`},
		{"label past the end without missing values", map[string]string{"listfile.csv": "stay,period_length,y_true\nb.csv,3,1\n", "b.csv": "Hours,Heart Rate,Glascow coma scale eye opening\n0,60,1\n"},
			noMissing, `/listfile.csv:2: stay "b.csv": period_length 3 is in step 3, after the stay's last step 0: the steps between are empty, missing values are refused unless the spec sets inputs.missing`},
		{"bad cell in a stay", map[string]string{"listfile.csv": "stay,y_true\na.csv,1\nb.csv,0\n", "a.csv": stayA, "b.csv": stayB + "1,fast,None,\n"}, nil,
			`/b.csv:3: column "Heart Rate": not a number: "fast"`},
		{"unknown category in a stay", map[string]string{"listfile.csv": "stay,y_true\nb.csv,0\n", "b.csv": stayB + "1,61,Eyes open,\n"}, nil,
			`/b.csv:3: column "Glascow coma scale eye opening": unknown category "Eyes open" (want one of "None", "To Pain", "To Speech", "Spontaneously")`},
		{"missing column in a stay", map[string]string{"listfile.csv": "stay,y_true\nb.csv,0\n", "b.csv": "Hours,Heart Rate\n0,1\n"}, nil,
			`/b.csv:1: missing column "Glascow coma scale eye opening" (header has: "Hours", "Heart Rate")`},
		{"empty stay", map[string]string{"listfile.csv": "stay,y_true\nb.csv,0\n", "b.csv": stayHeader}, nil, `/b.csv: no rows`},
		{"negative time", map[string]string{"listfile.csv": "stay,y_true\nb.csv,0\n", "b.csv": stayHeader + "-0.5,60,None,\n"}, nil,
			`/b.csv:2: column "Hours": time -0.5 is negative (with data.bin the step column is a time from 0)`},
		{"column twice", map[string]string{"listfile.csv": "stay,y_true,stay\na.csv,1,b.csv\n"}, nil,
			`/listfile.csv:1: column "stay" appears twice in the header`},
		{"empty listfile", map[string]string{"listfile.csv": "stay,y_true\n"}, nil, `/listfile.csv: no rows: list one stay per row`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFolder(t, tc.files)
			s := episodeSchema()
			if tc.edit != nil {
				tc.edit(&s)
			}
			_, err := Load(dir, s)
			wantExact(t, err, dir+tc.want)
		})
	}
	s := episodeSchema()
	s.Columns.Step = ""
	_, err := Load(t.TempDir(), s)
	if err == nil || !strings.HasSuffix(err.Error(), ": the episodes layout needs a time column: no step column is named (data.csv.step)") {
		t.Errorf("no time column: %v", err)
	}
}

// TestEpisodesParallelDeterministic: stays are read in parallel, yet the
// data set keeps listfile order and the error reported is the earliest
// stay's, whatever the scheduling.
func TestEpisodesParallelDeterministic(t *testing.T) {
	files := map[string]string{}
	var list strings.Builder
	list.WriteString("stay,y_true\n")
	for i := range 60 {
		name := fmt.Sprintf("s%02d.csv", 59-i)
		fmt.Fprintf(&list, "%s,%d\n", name, i%2)
		var b strings.Builder
		b.WriteString(stayHeader)
		for h := range i%7 + 1 {
			fmt.Fprintf(&b, "%d.5,%d,,\n", h, 60+i)
		}
		files[name] = b.String()
	}
	files["listfile.csv"] = list.String()
	dir := writeFolder(t, files)
	first, err := Load(dir, episodeSchema())
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		d, err := Load(dir, episodeSchema())
		if err != nil || !d.Equal(first) {
			t.Fatalf("a second read differs: %v", err)
		}
	}
	if first.IDs[0] != "s59.csv" || first.Len(3) != 4 || first.X[3][0] != 63 {
		t.Errorf("order: %v, len %d", first.IDs[:4], first.Len(3))
	}
	// Two bad stays: the earlier one in the listfile is reported.
	for _, name := range []string{"s10.csv", "s50.csv"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(stayHeader+"0,x,,\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for range 5 {
		_, err := Load(dir, episodeSchema())
		wantExact(t, err, filepath.Join(dir, "s50.csv")+`:2: column "Heart Rate": not a number: "x"`)
	}
}
