package data

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// Shapes: N sequences, len_i steps, F features, K labels.

// TableOptions says how WriteTable and WriteEpisodes write a data set
// whose values may be missing (NaN) or categories (their index).
type TableOptions struct {
	Columns Columns
	// Categories has one entry per feature: the categories of a
	// categorical feature, whose values are indices into it, or nil for a
	// numeric one. nil: every feature is numeric.
	Categories [][]string
	// Classes names the classes of labels that are class indices
	// (LabelClass): a label cell then holds its class's name. nil: the
	// index, as a number.
	Classes []string
	// Sparse leaves out the steps whose every feature is missing, but the
	// last of each sequence and those with a per-step label: with times in
	// the step column, a reader that bins them (data.bin) gets them back as
	// empty bins.
	Sparse bool
}

// WriteTable writes d as a long-form table, CSV or Parquet by the
// extension of path (.csv or .parquet), with the columns of opt: id, step
// (d's step values, or the step's index from 0), the features, the labels.
// A missing value is an empty cell (CSV) or a null (Parquet), a
// categorical feature holds its category's name, and numbers are written
// in the shortest form that reads back to the same float32. Labels are the
// sequence's on each of its rows, or per-step labels each on its step's
// row, empty (null) where the step has none; a class is its name when
// opt.Classes names it, else its index. The file is replaced atomically.
func WriteTable(path string, d *Dataset, opt TableOptions) error {
	if err := opt.check(path, d); err != nil {
		return err
	}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".csv":
		return writeAtomic(path, func(w io.Writer) error { return encodeTableCSV(w, d, opt) })
	case ".parquet":
		return writeAtomic(path, func(w io.Writer) error { return encodeParquet(w, d, opt) })
	default:
		return &Error{File: path, Msg: fmt.Sprintf("unknown table kind (extension %q), want .csv or .parquet", ext)}
	}
}

// check reports options that do not fit d.
func (opt *TableOptions) check(path string, d *Dataset) error {
	d.check("WriteTable")
	cols := opt.Columns
	if err := checkRoles(cols, d.Labelled()); err != nil {
		return &Error{File: path, Msg: err.Error()}
	}
	if K := len(cols.Labels); len(cols.Features) != d.F || d.Labelled() && K != d.K || !d.Labelled() && K != 0 ||
		opt.Categories != nil && len(opt.Categories) != d.F {
		return &Error{File: path, Msg: fmt.Sprintf("%d feature and %d label columns (%d with categories) named for data with %d features and %d labels",
			len(cols.Features), len(cols.Labels), len(opt.Categories), d.F, d.K)}
	}
	if d.N() == 0 {
		return &Error{File: path, Msg: "cannot write a data set with no sequences"}
	}
	for i, x := range d.X {
		for j, v := range x {
			if f := j % d.F; opt.categorical(f) && !isIndex(v, len(opt.Categories[f])) {
				return &Error{File: path, Where: fmt.Sprintf("sequence %s, step %d", d.ID(i), j/d.F), Msg: fmt.Sprintf("feature %q holds %v, not a category index in [0, %d)", cols.Features[f], v, len(opt.Categories[f]))}
			}
		}
	}
	return opt.checkClasses(path, d)
}

// checkClasses checks that every label is an index into opt.Classes when
// they are named.
func (opt *TableOptions) checkClasses(path string, d *Dataset) error {
	if opt.Classes == nil {
		return nil
	}
	if d.Target != LabelClass || d.K != 1 {
		return &Error{File: path, Msg: "classes are named for labels that are not classes (a single label holding a class index)"}
	}
	for i := range d.N() {
		y := d.Labels(i)
		if d.YStep != nil {
			y = d.YStep[i]
		}
		for t, v := range y {
			if !isIndex(v, len(opt.Classes)) || d.YStep == nil && math.IsNaN(float64(v)) {
				where := "sequence " + d.ID(i)
				if d.YStep != nil {
					where += fmt.Sprintf(", step %d", t)
				}
				return &Error{File: path, Where: where, Msg: fmt.Sprintf("label %v is not a class index in [0, %d)", v, len(opt.Classes))}
			}
		}
	}
	return nil
}

// isIndex reports whether v is missing (NaN) or an index in [0, n).
func isIndex(v float32, n int) bool {
	return math.IsNaN(float64(v)) || v == float32(int(v)) && v >= 0 && int(v) < n
}

func (opt *TableOptions) categorical(f int) bool {
	return opt.Categories != nil && opt.Categories[f] != nil
}

// cell writes feature f's value v: "" when missing, the category's name,
// or the number.
func (opt *TableOptions) cell(f int, v float32) string {
	switch {
	case math.IsNaN(float64(v)):
		return ""
	case opt.categorical(f):
		return opt.Categories[f][int(v)]
	}
	return strconv.FormatFloat(float64(v), 'g', -1, 32)
}

// skip reports whether step t of sequence i is left out (Sparse): a
// labelled step never is, since its label would be lost with it.
func (opt *TableOptions) skip(d *Dataset, i, t int) bool {
	if !opt.Sparse || t == d.Len(i)-1 || d.YStep != nil && labelled(stepY(d, i, t)) {
		return false
	}
	for _, v := range d.X[i][t*d.F : (t+1)*d.F] {
		if !math.IsNaN(float64(v)) {
			return false
		}
	}
	return true
}

// stepY is the per-step labels of step t of sequence i ([K]).
func stepY(d *Dataset, i, t int) []float32 {
	return d.YStep[i][t*d.K : (t+1)*d.K]
}

// labelled reports whether a step's labels y [K] hold at least one label.
func labelled(y []float32) bool {
	for _, v := range y {
		if !math.IsNaN(float64(v)) {
			return true
		}
	}
	return false
}

// labelCells appends the cells of labels y [K] to cells: "" for a step
// without a label (NaN), the class's name when classes are named, else
// the number.
func (opt *TableOptions) labelCells(cells []string, y []float32) []string {
	for _, v := range y {
		switch {
		case math.IsNaN(float64(v)):
			cells = append(cells, "")
		case opt.Classes != nil:
			cells = append(cells, opt.Classes[int(v)])
		default:
			cells = append(cells, strconv.FormatFloat(float64(v), 'g', -1, 32))
		}
	}
	return cells
}

// encodeTableCSV writes d as long-form CSV to w.
func encodeTableCSV(w io.Writer, d *Dataset, opt TableOptions) error {
	cols := opt.Columns
	cw := csv.NewWriter(w)
	rec := []string{cols.ID}
	if cols.Step != "" {
		rec = append(rec, cols.Step)
	}
	rec = append(append(rec, cols.Features...), cols.Labels...)
	if err := cw.Write(rec); err != nil {
		return err
	}
	var labels []string
	for i := range d.N() {
		labels = opt.labelCells(labels[:0], d.Labels(i))
		for t := range d.Len(i) {
			if opt.skip(d, i, t) {
				continue
			}
			if d.YStep != nil {
				labels = opt.labelCells(labels[:0], stepY(d, i, t))
			}
			rec = append(rec[:0], d.ID(i))
			if cols.Step != "" {
				rec = append(rec, stepCell(d, i, t))
			}
			for f, v := range d.X[i][t*d.F : (t+1)*d.F] {
				rec = append(rec, opt.cell(f, v))
			}
			if err := cw.Write(append(rec, labels...)); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// stepCell names step t of sequence i in a step column: its step value,
// or its index from 0 without step values, as WriteCSV does.
func stepCell(d *Dataset, i, t int) string {
	if d.StepValues != nil {
		return d.StepValues[i][t]
	}
	return strconv.Itoa(t)
}

// encodeParquet writes d as a long-form Parquet table to w: id a string,
// step a DOUBLE (the step values) or an INT64 (the index), numeric
// features optional FLOATs, categorical ones optional strings, labels
// FLOATs or named classes strings (optional for per-step labels, null
// where a step has none), in row groups of at most parquetGroupRows rows,
// Snappy compressed. The library orders a table's columns by name.
func encodeParquet(w io.Writer, d *Dataset, opt TableOptions) error {
	cols := opt.Columns
	group := parquet.Group{cols.ID: parquet.String()}
	if cols.Step != "" {
		group[cols.Step] = parquet.Leaf(parquet.Int64Type)
		if d.StepValues != nil {
			group[cols.Step] = parquet.Leaf(parquet.DoubleType)
		}
	}
	for f, name := range cols.Features {
		group[name] = parquet.Optional(parquet.Leaf(parquet.FloatType))
		if opt.categorical(f) {
			group[name] = parquet.Optional(parquet.String())
		}
	}
	for _, name := range cols.Labels {
		group[name] = parquet.Leaf(parquet.FloatType)
		if opt.Classes != nil {
			group[name] = parquet.String()
		}
		if d.YStep != nil {
			group[name] = parquet.Optional(group[name])
		}
	}
	schema := parquet.NewSchema("trnn", group)
	at := map[string]int{}
	for j, path := range schema.Columns() {
		at[path[0]] = j
	}
	// Row groups of a bounded size keep the writer's buffers bounded too
	// (a single group would hold the whole table until Close); Snappy is
	// what most writers use by default.
	pw := parquet.NewWriter(w, schema, parquet.MaxRowsPerRowGroup(parquetGroupRows), parquet.Compression(&parquet.Snappy))
	batch := make([]parquet.Row, parquetBatch)
	for r := range batch {
		batch[r] = make(parquet.Row, len(at))
	}
	n := 0
	flush := func() error {
		_, err := pw.WriteRows(batch[:n])
		n = 0
		return err
	}
	for i := range d.N() {
		for t := range d.Len(i) {
			if opt.skip(d, i, t) {
				continue
			}
			if err := parquetRow(batch[n], at, d, &opt, i, t); err != nil {
				return err
			}
			if n++; n == len(batch) {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	return pw.Close()
}

// parquetGroupRows is the most rows WriteTable puts in one Parquet row
// group: 60·2048, as DuckDB writes them.
const parquetGroupRows = 122_880

// parquetRow fills row with step t of sequence i; at gives each column's
// index in the schema.
func parquetRow(row parquet.Row, at map[string]int, d *Dataset, opt *TableOptions, i, t int) error {
	cols := opt.Columns
	row[at[cols.ID]] = parquet.ValueOf(d.ID(i)).Level(0, 0, at[cols.ID])
	if cols.Step != "" {
		step := parquet.ValueOf(int64(t))
		if d.StepValues != nil {
			v, err := strconv.ParseFloat(d.StepValues[i][t], 64)
			if err != nil {
				return fmt.Errorf("sequence %s: step %q is not a number", d.ID(i), d.StepValues[i][t])
			}
			step = parquet.ValueOf(v)
		}
		row[at[cols.Step]] = step.Level(0, 0, at[cols.Step])
	}
	for f, v := range d.X[i][t*d.F : (t+1)*d.F] {
		j := at[cols.Features[f]]
		switch {
		case math.IsNaN(float64(v)):
			row[j] = parquet.NullValue().Level(0, 0, j)
		case opt.categorical(f):
			row[j] = parquet.ValueOf(opt.Categories[f][int(v)]).Level(0, 1, j)
		default:
			row[j] = parquet.ValueOf(v).Level(0, 1, j)
		}
	}
	y, def := d.Labels(i), 0 // def: the definition level of a value
	if d.YStep != nil {
		y, def = stepY(d, i, t), 1
	}
	for k, v := range y {
		j := at[cols.Labels[k]]
		switch {
		case math.IsNaN(float64(v)) && def == 1:
			row[j] = parquet.NullValue().Level(0, 0, j)
		case opt.Classes != nil:
			row[j] = parquet.ValueOf(opt.Classes[int(v)]).Level(0, def, j)
		default:
			row[j] = parquet.ValueOf(v).Level(0, def, j)
		}
	}
	return nil
}

// EpisodesTime is the time column of each sequence's file in the episodes
// layout that WriteEpisodes writes, as mimic3-benchmarks names it.
const EpisodesTime = "Hours"

// WriteEpisodes writes d in the episodes layout into the folder dir,
// created if missing: one CSV file per sequence, named after its id
// ("<id>_timeseries.csv"), with the time column Hours (the step values,
// or the step's index from 0) and the feature columns written as
// WriteTable writes them; then listfile.csv, whose label columns are
// y_true for one label, else the label columns of opt, with labels
// written as WriteTable writes them:
//
//   - per-sequence labels: a row per sequence, stay (the file's name) and
//     its labels;
//   - per-step labels: stay, period_length and the labels, a row per
//     labelled step, as mimic3-benchmarks lists decompensation and length
//     of stay. A step's period_length is its time as its row in the stay's
//     file writes it (the Hours cell: a bin's start time for binned data),
//     so a reader, binning or not, places the label on the step that row
//     is in. A sequence without a labelled step is listed once, at its
//     last step with empty labels, so that it is not lost.
//
// opt.Columns.ID and Step are not written. Each file is replaced
// atomically, listfile.csv last, so a folder with a listfile holds every
// file it lists.
func WriteEpisodes(dir string, d *Dataset, opt TableOptions) error {
	if err := opt.check(dir, d); err != nil {
		return err
	}
	if !d.Labelled() {
		return &Error{File: dir, Msg: "the episodes layout needs labels"}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fileError(dir, "cannot create the folder", err)
	}
	one := opt
	one.Columns = Columns{Step: EpisodesTime, Features: opt.Columns.Features}
	for i := range d.N() {
		id := d.ID(i)
		if id == "" || id == "." || id == ".." || strings.ContainsAny(id, `/\`) {
			return &Error{File: dir, Where: "id " + quote(id), Msg: "cannot name a file after this id"}
		}
		path := filepath.Join(dir, stayFile(d, i))
		if err := writeAtomic(path, func(w io.Writer) error { return encodeStay(w, d, i, &one) }); err != nil {
			return err
		}
	}
	return writeAtomic(filepath.Join(dir, listfileName), func(w io.Writer) error { return encodeListfile(w, d, &opt) })
}

// stayFile is the name of sequence i's file in the episodes layout.
func stayFile(d *Dataset, i int) string { return d.ID(i) + "_timeseries.csv" }

// encodeListfile writes the listfile of d's stays, as WriteEpisodes says.
func encodeListfile(w io.Writer, d *Dataset, opt *TableOptions) error {
	cw := csv.NewWriter(w)
	header := []string{stayColumn}
	if d.YStep != nil {
		header = append(header, periodColumn)
	}
	if d.K == 1 {
		header = append(header, singleLabel)
	} else {
		header = append(header, opt.Columns.Labels...)
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	var rec []string
	for i := range d.N() {
		name := stayFile(d, i)
		if d.YStep == nil {
			rec = opt.labelCells(append(rec[:0], name), d.Labels(i))
			if err := cw.Write(rec); err != nil {
				return err
			}
			continue
		}
		listed := false
		for t := range d.Len(i) {
			if y := stepY(d, i, t); labelled(y) || !listed && t == d.Len(i)-1 {
				listed = true
				rec = opt.labelCells(append(rec[:0], name, stepCell(d, i, t)), y)
				if err := cw.Write(rec); err != nil {
					return err
				}
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// encodeStay writes sequence i as one stay's CSV file: the time column,
// then the features.
func encodeStay(w io.Writer, d *Dataset, i int, opt *TableOptions) error {
	cw := csv.NewWriter(w)
	rec := append([]string{opt.Columns.Step}, opt.Columns.Features...)
	if err := cw.Write(rec); err != nil {
		return err
	}
	for t := range d.Len(i) {
		if opt.skip(d, i, t) {
			continue
		}
		rec = append(rec[:0], stepCell(d, i, t))
		for f, v := range d.X[i][t*d.F : (t+1)*d.F] {
			rec = append(rec, opt.cell(f, v))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
