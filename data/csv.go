package data

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Shapes: N sequences (ids), F feature columns, K label columns.

// csvOptions are what Load's Schema adds to the columns: whether the step
// column is used only if the header has it, and what to do with labels.
type csvOptions struct {
	stepIfPresent bool
	labels        LabelMode
}

// readCSVFile reads a long-form CSV data file: a header row, then one row
// per step. cols names the id column, the optional step column, the
// feature columns and the label columns; other columns are ignored. Rows
// of one id need not be adjacent: sequences come out in order of first
// appearance. With a step column each sequence is ordered by it,
// numerically, and a step may appear only once per id; without one, file
// order is step order. Every cell of a named column must hold a value: an
// empty cell is refused, never imputed. Labels must be 0 or 1 and the same
// on every row of an id. With a step column, the Dataset keeps each step's
// cell as written (Dataset.StepValues), so that output rows can name the
// steps as the file does.
func readCSVFile(path string, cols Columns, opt csvOptions) (*Dataset, error) {
	f, size, err := openData(path, "a CSV file")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// A file that grows while it is read (one being appended to) must not
	// take memory past the size that passed the limit.
	r := &io.LimitedReader{R: f, N: size + 1}
	d, err := decodeCSV(path, r, cols, opt)
	if r.N == 0 {
		return nil, &Error{File: path, Msg: errGrew.Error(), Err: errGrew}
	}
	return d, err
}

// csvSeq accumulates the rows of one id.
type csvSeq struct {
	id     string
	line   int       // line of the first row (where the labels were read)
	labels []float32 // [K]
	vals   []float32 // [rows·F] in file order
	steps  []float64 // [rows] step values, when there is a step column
	lines  []int     // [rows] file lines, when there is a step column
	texts  []string  // [rows] step cells as written (copies), when there is a step column
}

// csvDecoder reads one CSV file: the header's column indices for each role,
// then the rows.
type csvDecoder struct {
	name   string // the file name for messages
	cols   Columns
	cr     *csv.Reader
	header []string // trimmed column names

	idCol, stepCol int // stepCol is -1 without a step column
	featCols       []int
	labelCols      []int     // nil when the labels are not read
	labels         []float32 // [K] the current row's labels ([0] when not read)
}

// decodeCSV reads CSV data from r; name is the file name for messages. With
// opt.stepIfPresent, cols.Step is used only if the header has that column;
// opt.labels says whether the label columns must be there.
func decodeCSV(name string, r io.Reader, cols Columns, opt csvOptions) (*Dataset, error) {
	dec := &csvDecoder{name: name, cols: cols}
	if err := checkRoles(cols, true); err != nil {
		return nil, dec.errf(0, "", "%s", err)
	}
	dec.cr = csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	dec.cr.FieldsPerRecord = -1
	dec.cr.ReuseRecord = true
	if err := dec.readHeader(opt); err != nil {
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

func (dec *csvDecoder) errf(line int, where, format string, args ...any) *Error {
	return &Error{File: dec.name, Line: line, Where: where, Msg: fmt.Sprintf(format, args...)}
}

// parseErr reports an error of the CSV reader: malformed CSV at a place,
// or a failure to read the file.
func (dec *csvDecoder) parseErr(err error) *Error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Error{File: dec.name, Line: pe.Line, Msg: fmt.Sprintf("malformed CSV at character %d: %v", pe.Column, pe.Err), Err: err}
	}
	return &Error{File: dec.name, Msg: "cannot read: " + trimPkg(err), Err: err}
}

// readHeader reads the header row and finds the column of every role,
// reporting the first role whose column is missing or ambiguous. Label
// columns are looked for as opt.labels says: always, only if the header has
// at least one of them, or never.
func (dec *csvDecoder) readHeader(opt csvOptions) error {
	header, err := dec.cr.Read()
	if err == io.EOF {
		return dec.errf(0, "", "empty file, want a header row and one row per step")
	}
	if err != nil {
		return dec.parseErr(err)
	}
	header = slices.Clone(header)
	header[0] = strings.TrimPrefix(header[0], "\uFEFF") // a byte-order mark some spreadsheets write
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
	var e *Error
	find := func(name string) int {
		j, ok := column[name]
		switch {
		case e != nil:
		case !ok:
			e = dec.errf(1, "", "missing column %q (header has: %s)", name, listNames(header))
		case j < 0:
			e = dec.errf(1, "", "column %q appears twice in the header", name)
		}
		return j
	}
	cols := dec.cols
	dec.idCol = find(cols.ID)
	dec.stepCol = -1
	if _, ok := column[cols.Step]; cols.Step != "" && (ok || !opt.stepIfPresent) {
		dec.stepCol = find(cols.Step)
	}
	dec.featCols = make([]int, len(cols.Features))
	for k, c := range cols.Features {
		dec.featCols[k] = find(c)
	}
	if readLabels(opt.labels, column, cols.Labels) {
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
func (dec *csvDecoder) readRows() ([]*csvSeq, error) {
	var seqs []*csvSeq
	byID := map[string]*csvSeq{}
	for {
		rec, err := dec.cr.Read()
		if err == io.EOF {
			return seqs, nil
		}
		if err != nil {
			return nil, dec.parseErr(err)
		}
		line, _ := dec.cr.FieldPos(0)
		if len(rec) != len(dec.header) {
			return nil, dec.errf(line, "", "row has %d fields, the header has %d", len(rec), len(dec.header))
		}
		id := strings.TrimSpace(rec[dec.idCol])
		if id == "" {
			return nil, dec.errf(line, fmt.Sprintf("column %q", dec.cols.ID), "empty id")
		}
		if err := dec.readLabels(rec, line); err != nil {
			return nil, err
		}
		s := byID[id]
		if s == nil {
			s = &csvSeq{id: id, line: line, labels: slices.Clone(dec.labels)}
			byID[id] = s
			seqs = append(seqs, s)
		} else if err := dec.sameLabels(s, line); err != nil {
			return nil, err
		}
		if err := dec.readStep(s, rec, line); err != nil {
			return nil, err
		}
	}
}

// readLabels parses the row's label cells into dec.labels.
func (dec *csvDecoder) readLabels(rec []string, line int) error {
	for k, j := range dec.labelCols {
		cell := strings.TrimSpace(rec[j])
		v, err := parseDecimal(cell)
		switch {
		case cell == "":
			return dec.errf(line, fmt.Sprintf("column %q", dec.cols.Labels[k]), "empty cell, want a label 0 or 1")
		case err != nil || (v != 0 && v != 1):
			return dec.errf(line, fmt.Sprintf("column %q", dec.cols.Labels[k]), "labels must be 0 or 1, got %s", quote(cell))
		}
		dec.labels[k] = float32(v)
	}
	return nil
}

// sameLabels checks that the row's labels are those of the first row of
// its id: labels belong to a sequence, not to a step.
func (dec *csvDecoder) sameLabels(s *csvSeq, line int) error {
	for k, v := range dec.labels {
		if v != s.labels[k] {
			return dec.errf(line, "id "+quote(s.id), "label %q changes from %v to %v within one sequence (first row on line %d)",
				dec.cols.Labels[k], s.labels[k], v, s.line)
		}
	}
	return nil
}

// readStep appends the row's feature values, and its step when there is a
// step column, to s.
func (dec *csvDecoder) readStep(s *csvSeq, rec []string, line int) error {
	for k, j := range dec.featCols {
		cell := strings.TrimSpace(rec[j])
		v, err := parseDecimal(cell)
		where := fmt.Sprintf("column %q", dec.cols.Features[k])
		switch {
		case cell == "":
			return dec.errf(line, where, "empty cell (missing values are not imputed)")
		case err != nil && !errors.Is(err, strconv.ErrRange):
			return dec.errf(line, where, "not a number: %s", quote(cell))
		case math.IsNaN(v) || math.IsInf(float64(float32(v)), 0):
			return dec.errf(line, where, "values must be finite float32 numbers, got %s", quote(cell))
		}
		s.vals = append(s.vals, float32(v))
	}
	if dec.stepCol < 0 {
		return nil
	}
	cell := strings.TrimSpace(rec[dec.stepCol])
	v, err := parseDecimal(cell)
	if cell == "" || err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return dec.errf(line, fmt.Sprintf("column %q", dec.cols.Step), "step must be a finite number, got %s", quote(cell))
	}
	s.steps = append(s.steps, v)
	s.lines = append(s.lines, line)
	// A copy: the cell shares its memory with the whole row, which the
	// Dataset must not keep alive.
	s.texts = append(s.texts, strings.Clone(cell))
	return nil
}

// dataset builds the Dataset from the sequences read, each ordered by its
// steps when there is a step column. Of the repeated steps, the one whose
// second row comes first in the file is reported.
func (dec *csvDecoder) dataset(seqs []*csvSeq) (*Dataset, error) {
	F, K := len(dec.cols.Features), len(dec.cols.Labels)
	d := &Dataset{
		Source:       dec.name,
		F:            F,
		K:            K,
		X:            make([][]float32, len(seqs)),
		IDs:          make([]string, len(seqs)),
		FeatureNames: slices.Clone(dec.cols.Features),
	}
	if dec.labelCols != nil {
		d.Y = make([]float32, 0, len(seqs)*K)
		d.LabelNames = slices.Clone(dec.cols.Labels)
	}
	if dec.stepCol >= 0 {
		d.StepValues = make([][]string, len(seqs))
	}
	total := 0
	for _, s := range seqs {
		total += len(s.vals)
	}
	store := make([]float32, total) // every sequence's steps, contiguous
	var dup *Error
	for i, s := range seqs {
		d.IDs[i] = s.id
		d.Y = append(d.Y, s.labels...)
		x := store[:len(s.vals):len(s.vals)]
		store = store[len(s.vals):]
		d.X[i] = x
		if dec.stepCol < 0 {
			copy(x, s.vals)
			continue
		}
		order, e := stepOrder(s)
		if e != nil {
			if dup == nil || e.line < dup.Line {
				dup = dec.errf(e.line, "id "+quote(s.id), "step %s appears twice (first on line %d)", echo(e.text), e.first)
			}
			continue
		}
		d.StepValues[i] = make([]string, len(order))
		for r, o := range order {
			copy(x[r*F:(r+1)*F], s.vals[o*F:(o+1)*F])
			d.StepValues[i][r] = s.texts[o]
		}
	}
	if dup != nil {
		return nil, dup
	}
	return d, nil
}

// stepDup is a step that appears twice in one sequence: on line first, then
// on line line (file order).
type stepDup struct {
	line, first int
	text        string
}

// stepOrder returns s's rows sorted by step value (stably), or the
// duplicate step whose second row comes first in the file.
func stepOrder(s *csvSeq) ([]int, *stepDup) {
	order := make([]int, len(s.steps))
	for r := range order {
		order[r] = r
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case s.steps[a] < s.steps[b]:
			return -1
		case s.steps[a] > s.steps[b]:
			return 1
		}
		return 0
	})
	var dup *stepDup
	for r := 1; r < len(order); r++ {
		a, b := order[r-1], order[r] // a < b: the stable sort keeps file order among equals
		if s.steps[a] == s.steps[b] && (dup == nil || s.lines[b] < dup.line) {
			dup = &stepDup{line: s.lines[b], first: s.lines[a], text: s.texts[b]}
		}
	}
	if dup != nil {
		return nil, dup
	}
	return order, nil
}

// checkRoles checks that cols names an id, at least one feature, at least
// one label when labels are wanted, and no column twice.
func checkRoles(cols Columns, labels bool) error {
	if cols.ID == "" {
		return errors.New("no id column is named (data.csv.id)")
	}
	if len(cols.Features) == 0 {
		return errors.New("no feature columns are named (data.csv.features)")
	}
	if labels && len(cols.Labels) == 0 {
		return errors.New("no label columns are named (data.csv.labels)")
	}
	role := map[string]string{}
	add := func(name, r string) error {
		if name == "" {
			return fmt.Errorf("empty column name for a %s", r)
		}
		if prev, ok := role[name]; ok {
			return fmt.Errorf("column %q is named both as the %s and as a %s", name, prev, r)
		}
		role[name] = r
		return nil
	}
	if err := add(cols.ID, "id column"); err != nil {
		return err
	}
	if cols.Step != "" {
		if err := add(cols.Step, "step column"); err != nil {
			return err
		}
	}
	for _, c := range cols.Features {
		if err := add(c, "feature"); err != nil {
			return err
		}
	}
	for _, c := range cols.Labels {
		if err := add(c, "label"); err != nil {
			return err
		}
	}
	return nil
}

// listNames quotes up to 20 names for a message.
func listNames(names []string) string {
	const most = 20
	q := make([]string, 0, min(len(names), most)+1)
	for i, n := range names {
		if i == most {
			q = append(q, fmt.Sprintf("… %d more", len(names)-most))
			break
		}
		q = append(q, quote(n))
	}
	return strings.Join(q, ", ")
}

// parseDecimal reads a decimal number as other tools write them (123,
// -1.5, 2e-3, NaN, Inf). Go's hexadecimal floats (0x1p4) and digit
// separators (1_000) are refused: a spreadsheet or NumPy never writes them,
// so such a cell is a mistake rather than a number.
func parseDecimal(s string) (float64, error) {
	if strings.ContainsAny(s, "xX_") {
		return 0, strconv.ErrSyntax
	}
	return strconv.ParseFloat(s, 64)
}
