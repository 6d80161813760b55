package data

import (
	"fmt"
	"path/filepath"
	"strings"
)

// Columns names a CSV file's columns by role.
type Columns struct {
	ID, Step         string // Step is optional: "" means file order is step order
	Features, Labels []string
}

// Schema is what Load checks a file against.
type Schema struct {
	Features, Labels int     // counts every file must have
	Columns          Columns // the CSV columns
	StepOptional     bool    // the step column is used only if the header has it (the spec named no columns)
}

// Load reads the data file path (already resolved by the caller) with the
// reader its extension names, .npz or .csv (in any letter case), and checks
// the result against s: F must equal s.Features and K s.Labels. A CSV
// file's columns are s.Columns; with s.StepOptional, its step column is
// used only if the header has it (otherwise file order is step order).
func Load(path string, s Schema) (*Dataset, error) {
	var (
		d   *Dataset
		err error
	)
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".npz":
		d, err = ReadNPZ(path)
	case ".csv":
		if s.StepOptional {
			d, err = readCSVFile(path, s.Columns, true)
		} else {
			d, err = ReadCSV(path, s.Columns)
		}
	default:
		if ext == "" {
			ext = "none"
		}
		return nil, &Error{File: path, Msg: fmt.Sprintf("unknown data file kind (extension %s), want .npz or .csv", ext)}
	}
	if err != nil {
		return nil, err
	}
	if err := d.checkCounts(s); err != nil {
		return nil, err
	}
	return d, nil
}

// checkCounts checks that d has the schema's numbers of features and
// labels. The schema comes from a spec, and the message says so.
func (d *Dataset) checkCounts(s Schema) error {
	// A CSV file's columns are named (FeatureNames set); an NPZ file's are x and y.
	x, y := "x has %d features per step", "y has %d labels per sequence"
	if d.FeatureNames != nil {
		x, y = "%d feature columns are named", "%d label columns are named"
	}
	if d.F != s.Features {
		return &Error{File: d.Source, Msg: fmt.Sprintf(x+", the spec declares %d", d.F, s.Features)}
	}
	if d.K != s.Labels {
		return &Error{File: d.Source, Msg: fmt.Sprintf(y+", the spec declares %d", d.K, s.Labels)}
	}
	return nil
}
