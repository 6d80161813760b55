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
// label, else [N, K]; per-step labels (YStep) are y [N, T] or [N, T, K],
// NaN where a step has no label and at padding. The arrays are Deflate-compressed. The file is replaced atomically: readers
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
	switch {
	case d.YStep != nil:
		arrays = append(arrays, array{"y.npy", stepLabelArray(d, T)})
	case d.Labelled():
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

// WriteCSV writes d as a long-form CSV file that ReadCSV reads back equal
// with the same cols: a header (id, step if cols.Step is set, the features,
// the labels), then one row per step, sequences in order, steps named by
// d's step values, or numbered from 0 without them. Values are written in
// the shortest form that reads back to the same float32. Data without
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
