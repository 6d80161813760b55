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
// the result against s: F must equal s.Features and K s.Labels. An NPZ
// file's counts are checked from its array headers, before its data is
// read. A CSV file's columns are s.Columns; with s.StepOptional, its step
// column is used only if the header has it (otherwise file order is step
// order).
func Load(path string, s Schema) (*Dataset, error) {
	var (
		d   *Dataset
		err error
	)
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".npz":
		d, err = readNPZ(path, &s)
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
	x, y := npzFeatures, npzLabels
	if d.FeatureNames != nil {
		x, y = csvFeatures, csvLabels
	}
	if err := countError(d.Source, x, d.F, s.Features); err != nil {
		return err
	}
	return countError(d.Source, y, d.K, s.Labels)
}

// How a file states its counts, for countError: an NPZ file by its arrays'
// shapes, a CSV file by the columns named.
const (
	npzFeatures = "x has %d features per step"
	npzLabels   = "y has %d labels per sequence"
	csvFeatures = "%d feature columns are named"
	csvLabels   = "%d label columns are named"
)

// countError reports a count the file states (what, formatting got) that
// differs from the spec's, or returns nil.
func countError(file, what string, got, want int) error {
	if got == want {
		return nil
	}
	return &Error{File: file, Msg: fmt.Sprintf(what+", the spec declares %d", got, want)}
}
