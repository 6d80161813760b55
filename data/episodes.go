package data

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Shapes: N stays (sequences), F features, K labels, n steps of one stay.

// listfileName is the index of a folder in the episodes layout.
const listfileName = "listfile.csv"

// The listfile's columns besides the labels.
const (
	stayColumn   = "stay"
	periodColumn = "period_length"
	// singleLabel is the label column of a listfile with one label, class
	// or target.
	singleLabel = "y_true"
)

// listRow is one row of a listfile.
type listRow struct {
	line   int
	period float64   // NaN without a period_length column
	labels []float32 // [K]; nil when labels are not read
}

// stay is one sequence of the episodes layout: its file and its listfile
// rows, in listfile order.
type stay struct {
	name string
	rows []listRow
}

// episodes reads a folder in the episodes layout.
type episodes struct {
	dir, list string // the folder, and its listfile's path
	s         *Schema
	labelled  bool // the listfile's labels are read
	period    bool // the listfile has a period_length column
	budget    *budget
}

// readEpisodes reads a folder in the episodes layout (mimic3-benchmarks'
// task folders): listfile.csv lists each sequence's file, named in its
// column "stay", with an optional column "period_length" (a time) and the
// label columns, "y_true" for a single label, class or target, or
// s.Columns.Labels. Each stay's file is long-form CSV with the time column
// s.Columns.Step and the feature columns s.Columns.Features, and no id
// column: the stay's file name is the sequence's id.
//
// Per-sequence labels: each stay is listed once, and its period_length
// cuts the sequence (rows after that time are dropped; with bins, those of
// later bins). Per-step labels (s.PerStep): a stay listed at several
// period_lengths has each label on the step that holds that time (the last
// step at or before it, or its bin). Stays are read in parallel; the data
// set keeps listfile order, and of several defects the one of the earliest
// stay is reported.
func readEpisodes(dir string, s *Schema) (*Dataset, error) {
	ep, stays, err := openEpisodes(dir, s)
	if err != nil {
		return nil, err
	}
	steps, err := ep.readStays(stays)
	if err != nil {
		return nil, err
	}
	return ep.dataset(stays, steps), nil
}

// openEpisodes checks s for the episodes layout and reads dir's listfile.
func openEpisodes(dir string, s *Schema) (*episodes, []*stay, error) {
	ep := &episodes{dir: dir, list: filepath.Join(dir, listfileName), s: s}
	if s.Columns.Step == "" {
		return nil, nil, &Error{File: dir, Msg: "the episodes layout needs a time column: no step column is named (data.csv.step)"}
	}
	if len(s.Columns.Features) == 0 {
		return nil, nil, &Error{File: dir, Msg: "no feature columns are named (data.csv.features)"}
	}
	b, err := newBudget()
	if err != nil {
		return nil, nil, &Error{File: dir, Msg: err.Error(), Err: err}
	}
	ep.budget = b
	stays, err := ep.readListfile()
	if err != nil {
		return nil, nil, err
	}
	return ep, stays, nil
}

// dataset is the Dataset of stays, whose files gave steps.
func (ep *episodes) dataset(stays []*stay, steps []seqSteps) *Dataset {
	d := newDataset(ep.dir, ep.s, len(stays), ep.labelled, true)
	// Bins are named alike in every stay: one slice of names serves all,
	// rather than one per stay's reader.
	var names []string
	if ep.s.Bin > 0 {
		for _, st := range steps {
			if len(st.names) > len(names) {
				names = st.names
			}
		}
	}
	for i, st := range stays {
		d.IDs[i] = st.name
		d.X[i], d.StepValues[i] = steps[i].x, steps[i].names
		if names != nil {
			n := len(steps[i].names)
			d.StepValues[i] = names[:n:n]
		}
		switch {
		case d.YStep != nil:
			d.YStep[i] = steps[i].y
		case d.Y != nil:
			d.Y = append(d.Y, st.rows[0].labels...)
		}
	}
	return d
}

// readListfile reads the listfile's rows, grouped by stay in order of
// first appearance.
func (ep *episodes) readListfile() ([]*stay, error) {
	f, size, err := openData(ep.list, "a CSV file")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &Error{File: ep.dir, Msg: "is a directory without " + listfileName + " (a folder of data must be in the episodes layout: " + listfileName + " and one CSV file per sequence)", Err: err}
		}
		return nil, err
	}
	defer f.Close()
	r := &io.LimitedReader{R: f, N: size + 1}
	lr := &listReader{ep: ep, src: newCSVSource(ep.list, r)}
	stays, err := lr.read()
	if r.N == 0 {
		return nil, &Error{File: ep.list, Msg: errGrew.Error(), Err: errGrew}
	}
	return stays, err
}

// listReader reads a listfile.
type listReader struct {
	ep                 *episodes
	src                *csvSource
	stayCol, periodCol int // periodCol is -1 without period_length
	labelCols          []int
	labelNames         []string
	lp                 labelParser
	byName             map[string]*stay
	periods            map[stayPeriod]int // the line of each stay at each period_length
	width              int                // the header's columns
}

// stayPeriod is a stay at one period_length.
type stayPeriod struct {
	name   string
	period float64
}

func (lr *listReader) errf(line int, where, format string, args ...any) *Error {
	return &Error{File: lr.ep.list, Line: line, Where: where, Msg: fmt.Sprintf(format, args...)}
}

// header finds the listfile's columns: stay, the optional period_length,
// and the labels as the schema's LabelMode says.
func (lr *listReader) header() error {
	header, err := lr.src.Header()
	if err != nil {
		return err
	}
	lr.width = len(header)
	column := map[string]int{}
	twice := map[string]bool{}
	for j, h := range header {
		h = strings.TrimSpace(h)
		if _, dup := column[h]; dup {
			twice[h] = true
		}
		column[h] = j
	}
	var ok bool
	if lr.stayCol, ok = column[stayColumn]; !ok {
		return lr.errf(1, "", "missing column %q (header has: %s)", stayColumn, listNames(header))
	}
	lr.periodCol = -1
	if j, ok := column[periodColumn]; ok {
		lr.periodCol = j
	}
	for _, c := range append([]string{stayColumn, periodColumn, singleLabel}, lr.ep.s.Columns.Labels...) {
		if twice[c] {
			return lr.errf(1, "", "column %q appears twice in the header", c)
		}
	}
	lr.ep.period = lr.periodCol >= 0
	s := lr.ep.s
	names := s.Columns.Labels
	if _, ok := column[singleLabel]; ok && len(names) == 1 {
		names = []string{singleLabel}
	}
	if !readLabels(s.LabelMode, column, names) {
		return nil
	}
	for _, n := range names {
		j, ok := column[n]
		if !ok {
			also := ""
			if len(names) == 1 {
				also = fmt.Sprintf(" or %q", singleLabel)
			}
			return lr.errf(1, "", "missing label column %q%s (header has: %s)", n, also, listNames(header))
		}
		lr.labelCols = append(lr.labelCols, j)
	}
	lr.labelNames = names
	lr.ep.labelled = true
	if s.PerStep && !lr.ep.period {
		return lr.errf(1, "", "per-step labels need a %q column: each row labels the step that holds that time", periodColumn)
	}
	return nil
}

// read reads the listfile's rows.
func (lr *listReader) read() ([]*stay, error) {
	if err := lr.header(); err != nil {
		return nil, err
	}
	lr.lp = newLabelParser(lr.ep.s)
	lr.byName = map[string]*stay{}
	lr.periods = map[stayPeriod]int{}
	var stays []*stay
	for {
		rec, err := lr.src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		st, err := lr.row(rec)
		if err != nil {
			return nil, err
		}
		if st != nil {
			stays = append(stays, st)
		}
	}
	if len(stays) == 0 {
		return nil, lr.errf(0, "", "no rows: list one stay per row")
	}
	return stays, nil
}

// row reads one listfile row, returning its stay when the row lists it
// first.
func (lr *listReader) row(rec []string) (*stay, error) {
	line := lr.src.Line()
	if len(rec) != lr.width {
		return nil, lr.errf(line, "", "row has %d fields, the header has %d", len(rec), lr.width)
	}
	name := strings.TrimSpace(rec[lr.stayCol])
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return nil, lr.errf(line, fmt.Sprintf("column %q", stayColumn), "want the name of a file in the folder, got %s", quote(name))
	}
	row := listRow{line: line, period: math.NaN()}
	if lr.periodCol >= 0 {
		cell := strings.TrimSpace(rec[lr.periodCol])
		v, err := parseDecimal(cell)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return nil, lr.errf(line, fmt.Sprintf("column %q", periodColumn), "want a time, a finite number ≥ 0, got %s", quote(cell))
		}
		if b := lr.ep.s.Bin; b > 0 && v/b >= maxBinSteps {
			return nil, lr.errf(line, fmt.Sprintf("column %q", periodColumn), "%s", checkTime(v, b))
		}
		row.period = v
	}
	if lr.labelCols != nil {
		row.labels = make([]float32, len(lr.labelCols))
		for k, j := range lr.labelCols {
			v, msg := lr.lp.parse(strings.TrimSpace(rec[j]))
			if msg != "" {
				return nil, lr.errf(line, fmt.Sprintf("column %q", lr.labelNames[k]), "%s", msg)
			}
			row.labels[k] = v
		}
	}
	return lr.add(name, row)
}

// add files row under its stay: a stay is listed once, or with per-step
// labels once per period_length.
func (lr *listReader) add(name string, row listRow) (*stay, error) {
	st := lr.byName[name]
	if st == nil {
		st = &stay{name: strings.Clone(name), rows: []listRow{row}}
		lr.byName[st.name] = st
		lr.periods[stayPeriod{st.name, row.period}] = row.line
		return st, nil
	}
	where := "stay " + quote(name)
	if !lr.ep.s.PerStep {
		return nil, lr.errf(row.line, where, "listed twice (first on line %d); a stay listed at several period_lengths has per-step labels, which need outputs.per_step: true",
			st.rows[0].line)
	}
	key := stayPeriod{st.name, row.period}
	if first, dup := lr.periods[key]; dup {
		return nil, lr.errf(row.line, where, "listed twice at period_length %s (first on line %d)", num(row.period), first)
	}
	lr.periods[key] = row.line
	st.rows = append(st.rows, row)
	return nil, nil
}

// readStays reads every stay's file, in parallel, and returns their steps
// in listfile order; an error is that of the earliest stay in the listfile.
func (ep *episodes) readStays(stays []*stay) ([]seqSteps, error) {
	steps := make([]seqSteps, len(stays))
	errs := make([]error, len(stays))
	var next atomic.Int64
	var firstBad atomic.Int64 // the earliest stay with an error so far
	firstBad.Store(int64(len(stays)))
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(stays)) {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				// Stays after a known error need not be read: the error
				// reported is the earliest one's, and every stay before it
				// is still read.
				if i >= int64(len(stays)) || i > firstBad.Load() {
					return
				}
				if steps[i], errs[i] = ep.readStay(stays[i]); errs[i] != nil {
					for b := firstBad.Load(); i < b && !firstBad.CompareAndSwap(b, i); b = firstBad.Load() {
					}
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return steps, nil
}

// readStay reads one stay's file into its steps, cut at its period_length
// or labelled at each, as the listfile says.
func (ep *episodes) readStay(st *stay) (seqSteps, error) {
	path := filepath.Join(ep.dir, st.name)
	first := st.rows[0]
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return seqSteps{}, &Error{File: ep.list, Line: first.line, Where: "stay " + quote(st.name), Msg: "no such file in the folder", Err: err}
	}
	f, size, err := openData(path, "a CSV file")
	if err != nil {
		return seqSteps{}, err
	}
	defer f.Close()
	r := &io.LimitedReader{R: f, N: size + 1}
	dec, seq, err := ep.decodeStay(path, r, st.name)
	if r.N == 0 {
		return seqSteps{}, &Error{File: path, Msg: errGrew.Error(), Err: errGrew}
	}
	if err != nil {
		return seqSteps{}, err
	}
	if !ep.s.PerStep && ep.period {
		if err := ep.cut(seq, st); err != nil {
			return seqSteps{}, err
		}
	}
	steps, e := dec.steps(seq)
	if e != nil {
		return seqSteps{}, e
	}
	if ep.s.PerStep && ep.labelled {
		if err := ep.placeLabels(dec, &steps, seq, st); err != nil {
			return seqSteps{}, err
		}
	}
	return steps, nil
}

// decodeStay reads a stay's rows: one sequence, named after its file.
func (ep *episodes) decodeStay(path string, r io.Reader, name string) (*recordDecoder, *recordSeq, error) {
	s := *ep.s
	s.StepOptional = false // every stay needs its times
	dec, err := newRecordDecoder(path, newCSVSource(path, r), &s, name, ep.budget)
	if err != nil {
		return nil, nil, err
	}
	seqs, err := dec.readRows()
	if err != nil {
		return nil, nil, err
	}
	if len(seqs) == 0 {
		return nil, nil, dec.errf(0, "", "no rows")
	}
	return dec, seqs[0], nil
}

// cut drops the rows of seq after its period_length: later times, or with
// bins later bins.
func (ep *episodes) cut(seq *recordSeq, st *stay) error {
	p, bin := st.rows[0].period, ep.s.Bin
	keep := func(t float64) bool { return t <= p }
	if bin > 0 {
		keep = func(t float64) bool { return binOf(t, bin) <= binOf(p, bin) }
	}
	F := len(seq.vals) / len(seq.steps)
	n := 0
	for r, t := range seq.steps {
		if !keep(t) {
			continue
		}
		copy(seq.vals[n*F:(n+1)*F], seq.vals[r*F:(r+1)*F])
		seq.steps[n], seq.lines[n] = t, seq.lines[r]
		if seq.texts != nil {
			seq.texts[n] = seq.texts[r]
		}
		n++
	}
	if n == 0 {
		return &Error{File: ep.list, Line: st.rows[0].line, Where: "stay " + quote(st.name),
			Msg: fmt.Sprintf("no rows at or before period_length %s", num(p))}
	}
	seq.vals, seq.steps, seq.lines = seq.vals[:n*F], seq.steps[:n], seq.lines[:n]
	if seq.texts != nil {
		seq.texts = seq.texts[:n]
	}
	return nil
}

// placeLabels gives each listfile row's labels to the step that holds its
// period_length: its bin, or without bins the last step at or before it.
// With bins, a period_length past the stay's last row adds empty steps up
// to its bin (which need missing values allowed).
func (ep *episodes) placeLabels(dec *recordDecoder, steps *seqSteps, seq *recordSeq, st *stay) error {
	F, K := len(ep.s.Columns.Features), len(st.rows[0].labels)
	times := slices.Sorted(slices.Values(seq.steps))
	at := make([]int, len(st.rows))
	n := len(steps.x) / F
	for j, row := range st.rows {
		where := "stay " + quote(st.name)
		if ep.s.Bin > 0 {
			at[j] = binOf(row.period, ep.s.Bin)
		} else if at[j] = sortIndexAtOrBefore(times, row.period); at[j] < 0 {
			return &Error{File: ep.list, Line: row.line, Where: where, Msg: fmt.Sprintf("period_length %s comes before the stay's first time, %s",
				num(row.period), steps.names[0])}
		}
		if at[j] >= n && !ep.s.Missing {
			return &Error{File: ep.list, Line: row.line, Where: where, Msg: fmt.Sprintf("period_length %s is in step %d, after the stay's last step %d: %s",
				num(row.period), at[j], n-1, "the steps between are empty, "+refuseMissing)}
		}
		n = max(n, at[j]+1)
	}
	if grow := n - len(steps.x)/F; grow > 0 {
		if msg := ep.budget.take(grow * F); msg != "" {
			return &Error{File: ep.list, Line: st.rows[0].line, Where: "stay " + quote(st.name), Msg: msg}
		}
		steps.x = append(steps.x, nans(grow*F)...)
		steps.names = dec.binStarts(n)
	}
	steps.y = nans(n * K)
	by := make([]int, n) // the listfile line that labelled each step
	for j, row := range st.rows {
		t := at[j]
		if by[t] != 0 {
			return &Error{File: ep.list, Line: row.line, Where: "stay " + quote(st.name), Msg: fmt.Sprintf("period_length %s labels the same step as line %d",
				num(row.period), by[t])}
		}
		by[t] = row.line
		copy(steps.y[t*K:(t+1)*K], row.labels)
	}
	return nil
}

// sortIndexAtOrBefore is the index of the last of the sorted times at or
// before p, or -1.
func sortIndexAtOrBefore(times []float64, p float64) int {
	i, found := slices.BinarySearch(times, p)
	if found {
		for i+1 < len(times) && times[i+1] == p {
			i++
		}
		return i
	}
	return i - 1
}
