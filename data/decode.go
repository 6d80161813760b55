package data

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Shapes: N sequences (ids), F feature columns, K label columns, R rows of
// one sequence.

// decodeRecords reads a long-form table from src (a CSV or Parquet file;
// name is the file for messages) as s says: a header, then one row per
// step. s.Columns names the id column, the optional step column, the
// feature columns and the label columns; other columns are ignored; with
// s.StepOptional the step column is used only if the header has it, and
// s.LabelMode says whether the label columns must be there.
//
// Rows of one id need not be adjacent: sequences come out in order of
// first appearance. With a step column each sequence is ordered by it,
// numerically, and a step may appear only once per id; without one, file
// order is step order; with s.Bin the step column is a time and rows are
// binned (see Schema.Bin). A feature cell must hold a number, or one of
// its categories (s.Categories); an empty, NA, NaN or nan cell is a
// missing value, refused unless s.Missing. Labels are as s.Target says,
// the same on every row of an id, or with s.PerStep one per row, empty
// where that step has none. With a step column, the Dataset keeps each
// step's cell as written (Dataset.StepValues), or with bins each step's
// start time, so that output rows can name the steps as the file does.
func decodeRecords(name string, src recordSource, s *Schema) (*Dataset, error) {
	budget, err := newBudget()
	if err != nil {
		return nil, &Error{File: name, Msg: err.Error(), Err: err}
	}
	dec, err := newRecordDecoder(name, src, s, "", budget)
	if err != nil {
		return nil, err
	}
	seqs, err := dec.readRows()
	if err != nil {
		return nil, err
	}
	if len(seqs) == 0 {
		return nil, dec.errf(0, "", "no rows")
	}
	return dec.dataset(seqs)
}

// recordSeq accumulates the rows of one id.
type recordSeq struct {
	id     string
	line   int       // the first row's number (where the labels were read)
	labels []float32 // [K] per-sequence labels
	vals   []float32 // [R·F] in file order, NaN where missing
	steps  []float64 // [R] step values (times with bins), with a step column
	lines  []int     // [R] row numbers, with a step column
	texts  []string  // [R] step cells as written (copies), with a step column and no bins
	ylabs  []float32 // [R·K] per-step labels, NaN where a row has none
}

// recordDecoder reads one table: the header's column indices for each
// role, then the rows.
type recordDecoder struct {
	name   string // the file name for messages
	src    recordSource
	s      *Schema
	cols   Columns
	header []string // trimmed column names
	unit   string   // what the source's numbers count: "line" or "row"
	// single is the id of every row of a table without an id column (a
	// stay's file in the episodes layout), else "".
	single string
	budget *budget

	idCol, stepCol int // stepCol is -1 without a step column
	featCols       []int
	labelCols      []int            // nil when the labels are not read
	labels         []float32        // [K] the current row's labels
	cats           []map[string]int // [F] each category's index; nil for a numeric feature
	lp             labelParser
	binNames       []string // bin start times as step values, shared by every sequence
}

// newRecordDecoder checks s's roles (unless the table has a single
// sequence and no id column) and reads src's header.
func newRecordDecoder(name string, src recordSource, s *Schema, single string, b *budget) (*recordDecoder, error) {
	dec := &recordDecoder{name: name, src: src, s: s, cols: s.Columns, single: single, unit: "line", budget: b}
	if single == "" {
		if err := checkRoles(s.Columns, true); err != nil {
			return nil, dec.errf(0, "", "%s", err)
		}
	}
	if err := s.checkExtras(); err != nil {
		return nil, dec.errf(0, "", "%s", err)
	}
	dec.cats = categoryIndex(s.Categories, len(s.Columns.Features))
	dec.lp = newLabelParser(s)
	if err := dec.readHeader(); err != nil {
		return nil, err
	}
	return dec, nil
}

func (dec *recordDecoder) errf(line int, where, format string, args ...any) *Error {
	return &Error{File: dec.name, Line: line, Where: where, Msg: fmt.Sprintf(format, args...)}
}

// at names row number n in the source's terms: "line 3" or "row 3".
func (dec *recordDecoder) at(n int) string { return dec.unit + " " + strconv.Itoa(n) }

// readErr passes the source's own *Error on and wraps any other failure.
func (dec *recordDecoder) readErr(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{File: dec.name, Msg: "cannot read: " + trimPkg(err), Err: err}
}

// readHeader reads the header row and finds the column of every role,
// reporting the first role whose column is missing or ambiguous. Label
// columns are looked for as s.LabelMode says: always, only if the header
// has at least one of them, or never.
func (dec *recordDecoder) readHeader() error {
	header, err := dec.src.Header()
	if err != nil {
		return dec.readErr(err)
	}
	header = slices.Clone(header)
	column := map[string]int{}
	for j, h := range header {
		h = strings.TrimSpace(h)
		header[j] = h
		if _, dup := column[h]; dup {
			column[h] = -1 - j // ambiguous; an error only if a role names it
		} else {
			column[h] = j
		}
	}
	dec.header = header
	// The header's line in a CSV file; a Parquet file's column names are
	// on no row.
	hline := dec.src.Line()
	var e *Error
	find := func(name string) int {
		j, ok := column[name]
		switch {
		case e != nil:
		case !ok:
			e = dec.errf(hline, "", "missing column %q (header has: %s)", name, listNames(header))
		case j < 0:
			e = dec.errf(hline, "", "column %q appears twice in the header", name)
		}
		return j
	}
	cols := dec.cols
	dec.idCol = -1
	if dec.single == "" {
		dec.idCol = find(cols.ID)
	}
	dec.stepCol = -1
	if _, ok := column[cols.Step]; cols.Step != "" && (ok || !dec.s.StepOptional) {
		dec.stepCol = find(cols.Step)
	}
	if e == nil && dec.s.Bin > 0 && dec.stepCol < 0 {
		e = dec.errf(hline, "", "data.bin needs a time column: no step column %q (header has: %s)", cols.Step, listNames(header))
	}
	dec.featCols = make([]int, len(cols.Features))
	for k, c := range cols.Features {
		dec.featCols[k] = find(c)
	}
	if dec.single == "" && readLabels(dec.s.LabelMode, column, cols.Labels) {
		dec.labelCols = make([]int, len(cols.Labels))
		for k, c := range cols.Labels {
			dec.labelCols[k] = find(c)
		}
	}
	dec.labels = make([]float32, len(dec.labelCols))
	if e != nil { // a nil *Error must not become a non-nil error
		return e
	}
	return nil
}

// readLabels reports whether the label columns are read: always when they
// are required, never when ignored, and when optional as soon as the header
// has one of them (a missing one is then an error, as it is when required).
func readLabels(mode LabelMode, column map[string]int, labels []string) bool {
	switch mode {
	case LabelsIgnored:
		return false
	case LabelsOptional:
		for _, c := range labels {
			if _, ok := column[c]; ok {
				return true
			}
		}
		return false
	}
	return true
}

// readRows reads every row after the header into sequences, in order of
// each id's first appearance.
func (dec *recordDecoder) readRows() ([]*recordSeq, error) {
	var seqs []*recordSeq
	byID := map[string]*recordSeq{}
	for first := true; ; first = false {
		rec, line, id, err := dec.nextRow(first)
		if err == io.EOF {
			return seqs, nil
		}
		if err != nil {
			return nil, err
		}
		s := byID[id]
		if s == nil {
			s = dec.newSeq(id, line)
			byID[s.id] = s
			seqs = append(seqs, s)
		} else if err := dec.sameLabels(s, line); err != nil {
			return nil, err
		}
		if err := dec.readStep(s, rec, line); err != nil {
			return nil, err
		}
	}
}

// nextRow reads the next row, its number and its id, and parses its labels
// into dec.labels; io.EOF after the last row. first says that no row has
// been read yet.
func (dec *recordDecoder) nextRow(first bool) (rec []string, line int, id string, err error) {
	rec, err = dec.src.Next()
	if err == io.EOF {
		return nil, 0, "", err
	}
	if err != nil {
		return nil, 0, "", dec.readErr(err)
	}
	line = dec.src.Line()
	if first {
		dec.unit, _, _ = strings.Cut(dec.src.Where(), " ")
	}
	if len(rec) != len(dec.header) {
		return nil, 0, "", dec.errf(line, "", "row has %d fields, the header has %d", len(rec), len(dec.header))
	}
	id = dec.single
	if id == "" {
		if id = strings.TrimSpace(rec[dec.idCol]); id == "" {
			return nil, 0, "", dec.errf(line, fmt.Sprintf("column %q", dec.cols.ID), "empty id")
		}
	}
	if err := dec.readLabels(rec, line); err != nil {
		return nil, 0, "", err
	}
	return rec, line, id, nil
}

// newSeq starts the sequence of id at row line, with the row's labels.
func (dec *recordDecoder) newSeq(id string, line int) *recordSeq {
	// A copy: the cell shares its memory with the whole row.
	s := &recordSeq{id: strings.Clone(id), line: line}
	if !dec.s.PerStep {
		s.labels = slices.Clone(dec.labels)
	}
	return s
}

// readLabels parses the row's label cells into dec.labels.
func (dec *recordDecoder) readLabels(rec []string, line int) error {
	for k, j := range dec.labelCols {
		v, msg := dec.lp.parse(strings.TrimSpace(rec[j]))
		if msg != "" {
			return dec.errf(line, fmt.Sprintf("column %q", dec.cols.Labels[k]), "%s", msg)
		}
		dec.labels[k] = v
	}
	return nil
}

// sameLabels checks that the row's labels are those of the first row of
// its id: per-sequence labels belong to a sequence, not to a step.
func (dec *recordDecoder) sameLabels(s *recordSeq, line int) error {
	if dec.s.PerStep {
		return nil
	}
	for k, v := range dec.labels {
		if v != s.labels[k] {
			return dec.errf(line, "id "+quote(s.id), "label %q changes from %v to %v within one sequence (first row on %s)",
				dec.cols.Labels[k], s.labels[k], v, dec.at(s.line))
		}
	}
	return nil
}

// readStep appends the row's feature values, its per-step labels and its
// step when there is a step column, to s.
func (dec *recordDecoder) readStep(s *recordSeq, rec []string, line int) error {
	for k, j := range dec.featCols {
		v, msg := dec.feature(k, strings.TrimSpace(rec[j]))
		if msg != "" {
			return dec.errf(line, fmt.Sprintf("column %q", dec.cols.Features[k]), "%s", msg)
		}
		s.vals = append(s.vals, v)
	}
	if dec.s.PerStep {
		s.ylabs = append(s.ylabs, dec.labels...)
	}
	if dec.stepCol < 0 {
		return nil
	}
	cell := strings.TrimSpace(rec[dec.stepCol])
	v, err := parseDecimal(cell)
	where := fmt.Sprintf("column %q", dec.cols.Step)
	if cell == "" || err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		if dec.s.Bin > 0 {
			return dec.errf(line, where, "time must be a finite number, got %s", quote(cell))
		}
		return dec.errf(line, where, "step must be a finite number, got %s", quote(cell))
	}
	if dec.s.Bin > 0 {
		if msg := checkTime(v, dec.s.Bin); msg != "" {
			return dec.errf(line, where, "%s", msg)
		}
	} else {
		// A copy: the cell shares its memory with the whole row, which the
		// Dataset must not keep alive.
		s.texts = append(s.texts, strings.Clone(cell))
	}
	s.steps = append(s.steps, v)
	s.lines = append(s.lines, line)
	return nil
}

// missingCell reports whether a trimmed cell writes a missing value.
func missingCell(cell string) bool {
	return cell == "" || cell == "NA" || cell == "NaN" || cell == "nan"
}

// refuseMissing is why a missing value is refused when the schema does not
// allow them.
const refuseMissing = "missing values are refused unless the spec sets inputs.missing"

// feature parses the trimmed cell of feature k, returning a message when
// the cell breaks a rule. A category's name takes precedence over the
// spellings of a missing value.
func (dec *recordDecoder) feature(k int, cell string) (float32, string) {
	nan := float32(math.NaN())
	if cats := dec.cats[k]; cats != nil {
		if i, ok := cats[cell]; ok {
			return float32(i), ""
		}
		switch {
		case missingCell(cell) && dec.s.Missing:
			return nan, ""
		case cell == "":
			return 0, "empty cell (" + refuseMissing + ")"
		case missingCell(cell):
			return 0, fmt.Sprintf("missing value %s (%s)", quote(cell), refuseMissing)
		}
		return 0, fmt.Sprintf("unknown category %s (want one of %s)", quote(cell), listNames(dec.s.Categories[k]))
	}
	switch {
	case missingCell(cell) && dec.s.Missing:
		return nan, ""
	case cell == "":
		return 0, "empty cell (" + refuseMissing + ")"
	case missingCell(cell):
		return 0, fmt.Sprintf("missing value %s (%s)", quote(cell), refuseMissing)
	}
	v, err := parseDecimal(cell)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange):
		return 0, "not a number: " + quote(cell)
	case math.IsNaN(v) || math.IsInf(float64(float32(v)), 0):
		return 0, "values must be finite float32 numbers, got " + quote(cell)
	}
	return float32(v), ""
}

// categoryIndex maps each categorical feature's categories (trimmed, as
// cells are) to their indices: [F], nil entries for numeric features.
func categoryIndex(cats [][]string, F int) []map[string]int {
	idx := make([]map[string]int, F)
	for f, list := range cats {
		if list == nil {
			continue
		}
		idx[f] = make(map[string]int, len(list))
		for i, c := range list {
			if _, dup := idx[f][strings.TrimSpace(c)]; !dup {
				idx[f][strings.TrimSpace(c)] = i
			}
		}
	}
	return idx
}

// dataset builds the Dataset from the sequences read, each ordered by its
// steps when there is a step column. Of the repeated steps, the one whose
// second row comes first in the file is reported.
func (dec *recordDecoder) dataset(seqs []*recordSeq) (*Dataset, error) {
	d := newDataset(dec.name, dec.s, len(seqs), dec.labelCols != nil, dec.stepCol >= 0)
	var bad *Error
	for i, s := range seqs {
		d.IDs[i] = s.id
		if d.Y != nil {
			d.Y = append(d.Y, s.labels...)
		}
		st, e := dec.steps(s)
		if e != nil {
			if bad == nil || e.Line > 0 && e.Line < bad.Line {
				bad = e
			}
			continue
		}
		d.X[i] = st.x
		if d.StepValues != nil {
			d.StepValues[i] = st.names
		}
		if d.YStep != nil {
			d.YStep[i] = st.y
		}
	}
	if bad != nil {
		return nil, bad
	}
	return d, nil
}

// newDataset makes the Dataset of n sequences that a table read as s says
// fills in: labels when labelled, step values when stepped.
func newDataset(name string, s *Schema, n int, labelled, stepped bool) *Dataset {
	cols := s.Columns
	d := &Dataset{
		Source:       name,
		F:            len(cols.Features),
		K:            len(cols.Labels),
		X:            make([][]float32, n),
		IDs:          make([]string, n),
		FeatureNames: slices.Clone(cols.Features),
		Target:       s.Target,
	}
	if labelled {
		d.LabelNames = slices.Clone(cols.Labels)
		if s.PerStep {
			d.YStep = make([][]float32, n)
		} else {
			d.Y = make([]float32, 0, n*d.K)
		}
	}
	if stepped {
		d.StepValues = make([][]string, n)
	}
	return d
}
