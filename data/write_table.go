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
	// Sparse leaves out the steps whose every feature is missing, but the
	// last of each sequence: with times in the step column, a reader that
	// bins them (data.bin) gets them back as empty bins.
	Sparse bool
}

// WriteTable writes d as a long-form table, CSV or Parquet by the
// extension of path (.csv or .parquet), with the columns of opt: id, step
// (d's step values, or the step's index from 0), the features, the labels.
// A missing value is an empty cell (CSV) or a null (Parquet), a
// categorical feature holds its category's name, and numbers are written
// in the shortest form that reads back to the same float32. The file is
// replaced atomically.
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
			if f := j % d.F; opt.categorical(f) && !math.IsNaN(float64(v)) && (v != float32(int(v)) || v < 0 || int(v) >= len(opt.Categories[f])) {
				return &Error{File: path, Where: fmt.Sprintf("sequence %s, step %d", d.ID(i), j/d.F), Msg: fmt.Sprintf("feature %q holds %v, not a category index in [0, %d)", cols.Features[f], v, len(opt.Categories[f]))}
			}
		}
	}
	return nil
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

// skip reports whether step t of sequence i is left out (Sparse).
func (opt *TableOptions) skip(d *Dataset, i, t int) bool {
	if !opt.Sparse || t == d.Len(i)-1 {
		return false
	}
	for _, v := range d.X[i][t*d.F : (t+1)*d.F] {
		if !math.IsNaN(float64(v)) {
			return false
		}
	}
	return true
}

// labelCells writes sequence i's labels.
func labelCells(d *Dataset, i int) []string {
	labels := make([]string, len(d.Labels(i)))
	for k, v := range d.Labels(i) {
		labels[k] = strconv.FormatFloat(float64(v), 'g', -1, 32)
	}
	return labels
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
	for i := range d.N() {
		labels := labelCells(d, i)
		for t := range d.Len(i) {
			if opt.skip(d, i, t) {
				continue
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
// FLOATs. The library orders a table's columns by name.
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
	}
	schema := parquet.NewSchema("trnn", group)
	at := map[string]int{}
	for j, path := range schema.Columns() {
		at[path[0]] = j
	}
	pw := parquet.NewWriter(w, schema)
	row := make(parquet.Row, len(at))
	for i := range d.N() {
		for t := range d.Len(i) {
			if opt.skip(d, i, t) {
				continue
			}
			if err := parquetRow(row, at, d, &opt, i, t); err != nil {
				return err
			}
			if _, err := pw.WriteRows([]parquet.Row{row}); err != nil {
				return err
			}
		}
	}
	return pw.Close()
}

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
	for k, v := range d.Labels(i) {
		j := at[cols.Labels[k]]
		row[j] = parquet.ValueOf(v).Level(0, 0, j)
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
// WriteTable writes them; then listfile.csv, one row per sequence: stay
// (the file's name) and its labels, y_true for one label, else the label
// columns of opt. opt.Columns.ID and Step are not written. Each file is
// replaced atomically, listfile.csv last, so a folder with a listfile
// holds every file it lists.
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
	list := [][]string{append([]string{"stay"}, opt.Columns.Labels...)}
	if d.K == 1 {
		list[0] = []string{"stay", "y_true"}
	}
	for i := range d.N() {
		id := d.ID(i)
		if id == "" || id == "." || id == ".." || strings.ContainsAny(id, `/\`) {
			return &Error{File: dir, Where: "id " + quote(id), Msg: "cannot name a file after this id"}
		}
		name := id + "_timeseries.csv"
		path := filepath.Join(dir, name)
		if err := writeAtomic(path, func(w io.Writer) error { return encodeStay(w, d, i, &one) }); err != nil {
			return err
		}
		list = append(list, append([]string{name}, labelCells(d, i)...))
	}
	return writeAtomic(filepath.Join(dir, "listfile.csv"), func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.WriteAll(list); err != nil {
			return err
		}
		return cw.Error()
	})
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
