package data

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"codeberg.org/sbinet/npyio/npz"

	"github.com/trnn/trnn/internal/atomicfile"
)

// Shapes: N sequences, T = d.MaxLen(), F features, K labels.

// WriteNPZ writes d as an NPZ file that Load reads back equal (ids, names
// and step values are not stored): x float32 [N, T, F] right-padded with
// zeros, lengths int32 [N], and, when d has labels, y float32 [N] for one
// label, else [N, K], or per-step labels y [N, T] for one label, else
// [N, T, K], NaN past each length. The arrays are Deflate-compressed. The file is replaced atomically: readers
// see the old file or the complete new one.
func WriteNPZ(path string, d *Dataset) error {
	d.check("WriteNPZ")
	if d.N() == 0 {
		return &Error{File: path, Msg: "cannot write a data set with no sequences"}
	}
	return writeAtomic(path, func(w io.Writer) error { return encodeNPZ(w, d) })
}

// encodeNPZ writes d as an NPZ archive to w.
func encodeNPZ(w io.Writer, d *Dataset) error {
	idx := make([]int, d.N())
	for i := range idx {
		idx[i] = i
	}
	flat, lengths, T := d.Padded(idx)
	// npyio takes the shape from nested slices: views into flat, no copy.
	x := make([][][]float32, d.N())
	rows := make([][]float32, d.N()*T)
	for i := range x {
		x[i] = rows[i*T : (i+1)*T]
		for t := range x[i] {
			o := (i*T + t) * d.F
			x[i][t] = flat[o : o+d.F]
		}
	}
	type array struct {
		name string
		v    any
	}
	arrays := []array{{"x.npy", x}, {"lengths.npy", lengths}}
	if d.YStep != nil {
		arrays = append(arrays, array{"y.npy", stepLabels(d, T)})
	} else if d.Labelled() {
		var y any = d.Y
		if d.K > 1 {
			y2 := make([][]float32, d.N())
			for i := range y2 {
				y2[i] = d.Labels(i)
			}
			y = y2
		}
		arrays = append(arrays, array{"y.npy", y})
	}
	zw := npz.NewWriter(w)
	for _, a := range arrays {
		if err := zw.Write(a.name, a.v); err != nil {
			return err
		}
	}
	return zw.Close()
}

// stepLabels is d's per-step labels as nested slices, [N][T] for one label,
// else [N][T][K], NaN past each length.
func stepLabels(d *Dataset, T int) any {
	flat := nans(d.N() * T * d.K)
	for i, y := range d.YStep {
		copy(flat[i*T*d.K:], y)
	}
	rows := make([][]float32, d.N()*T)
	for r := range rows {
		rows[r] = flat[r*d.K : (r+1)*d.K]
	}
	if d.K == 1 {
		y := make([][]float32, d.N())
		for i := range y {
			y[i] = flat[i*T : (i+1)*T]
		}
		return y
	}
	y := make([][][]float32, d.N())
	for i := range y {
		y[i] = rows[i*T : (i+1)*T]
	}
	return y
}

// WriteCSV writes d as a long-form CSV file that ReadCSV reads back equal
// with the same cols: a header (id, step if cols.Step is set, the features,
// the labels), then one row per step, sequences in order, steps named by
// d's step values, or numbered from 0 without them. Values are written in
// the shortest form that reads back to the same float32 (a missing value as
// NaN); per-step labels are written on their rows, empty where a step has
// none. Data without
// labels is written without label columns, and cols.Labels must be empty.
// The file is replaced atomically.
func WriteCSV(path string, d *Dataset, cols Columns) error {
	d.check("WriteCSV")
	if err := checkRoles(cols, d.Labelled()); err != nil {
		return &Error{File: path, Msg: err.Error()}
	}
	if K := len(cols.Labels); len(cols.Features) != d.F || d.Labelled() && K != d.K || !d.Labelled() && K != 0 {
		return &Error{File: path, Msg: fmt.Sprintf("%d feature and %d label columns named for data with %d features and %d labels",
			len(cols.Features), len(cols.Labels), d.F, d.K)}
	}
	if d.N() == 0 {
		return &Error{File: path, Msg: "cannot write a data set with no sequences"}
	}
	return writeAtomic(path, func(w io.Writer) error { return encodeCSV(w, d, cols) })
}

// encodeCSV writes d as long-form CSV to w.
func encodeCSV(w io.Writer, d *Dataset, cols Columns) error {
	cw := csv.NewWriter(w)
	rec := []string{cols.ID}
	if cols.Step != "" {
		rec = append(rec, cols.Step)
	}
	rec = append(rec, cols.Features...)
	rec = append(rec, cols.Labels...)
	if err := cw.Write(rec); err != nil {
		return err
	}
	var buf []byte
	for i := range d.N() {
		labels := make([]string, len(d.Labels(i)))
		for k, v := range d.Labels(i) {
			labels[k] = strconv.FormatFloat(float64(v), 'g', -1, 32)
		}
		id := d.ID(i)
		for t := range d.Len(i) {
			if d.YStep != nil {
				labels = stepCells(labels[:0], d.YStep[i][t*d.K:(t+1)*d.K])
			}
			rec = append(rec[:0], id)
			if cols.Step != "" {
				step := strconv.Itoa(t)
				if d.StepValues != nil {
					step = d.StepValues[i][t]
				}
				rec = append(rec, step)
			}
			for _, v := range d.X[i][t*d.F : (t+1)*d.F] {
				buf = strconv.AppendFloat(buf[:0], float64(v), 'g', -1, 32)
				rec = append(rec, string(buf))
			}
			rec = append(rec, labels...)
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// stepCells appends one step's labels as CSV cells to cells: empty where
// the step has no label.
func stepCells(cells []string, y []float32) []string {
	for _, v := range y {
		if v != v {
			cells = append(cells, "")
		} else {
			cells = append(cells, strconv.FormatFloat(float64(v), 'g', -1, 32))
		}
	}
	return cells
}

// writeAtomic writes a file through a temporary file in the same folder,
// renamed over path once complete.
func writeAtomic(path string, write func(io.Writer) error) error {
	var werr error // an error of write itself, as opposed to the file's
	err := atomicfile.Write(path, func(w io.Writer) error {
		werr = write(w)
		return werr
	})
	switch {
	case err == nil:
		return nil
	case werr != nil:
		return &Error{File: path, Msg: "cannot write: " + trimPkg(werr), Err: werr}
	}
	return fileError(path, "cannot write", err)
}
