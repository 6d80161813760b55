package data

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/trnn/trnn/compiler"
)

// Load reads the data file path (already resolved by the caller) with the
// reader its extension names, .npz or .csv (in any letter case), and checks
// the result against spec: F must equal spec.Inputs.Features and K
// spec.Outputs.Labels.
//
// A CSV file's columns are spec.Data.CSV. When the spec has no data.csv
// section, the id column is "id", the step column is "step" if the header
// has one (otherwise file order is step order), and the features and labels
// are the spec's feature and label names (f0, f1, ... and y, or y0, y1, ...
// when the spec gives counts).
func Load(path string, spec *compiler.Spec) (*Dataset, error) {
	var (
		d   *Dataset
		err error
	)
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".npz":
		d, err = ReadNPZ(path)
	case ".csv":
		if spec.Data.CSV != nil {
			d, err = ReadCSV(path, *spec.Data.CSV)
		} else {
			d, err = readCSVFile(path, DefaultCSVColumns(spec), true)
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
	if err := d.CheckSpec(spec); err != nil {
		return nil, err
	}
	return d, nil
}

// DefaultCSVColumns are the CSV columns Load uses for a spec without a
// data.csv section: id "id", step "step" (used only if the header has it),
// and the spec's feature and label names.
func DefaultCSVColumns(spec *compiler.Spec) compiler.CSVColumns {
	return compiler.CSVColumns{
		ID:       "id",
		Step:     "step",
		Features: spec.Inputs.FeatureNames,
		Labels:   spec.Outputs.LabelNames,
	}
}

// CheckSpec checks that d has the spec's numbers of features and labels.
func (d *Dataset) CheckSpec(spec *compiler.Spec) error {
	// A CSV file's columns are named (FeatureNames set); an NPZ file's are x and y.
	x, y := "x has %d features per step", "y has %d labels per sequence"
	if d.FeatureNames != nil {
		x, y = "%d feature columns are named", "%d label columns are named"
	}
	if d.F != spec.Inputs.Features {
		return &Error{File: d.Source, Msg: fmt.Sprintf(x+", the spec declares %d", d.F, spec.Inputs.Features)}
	}
	if d.K != spec.Outputs.Labels {
		return &Error{File: d.Source, Msg: fmt.Sprintf(y+", the spec declares %d", d.K, spec.Outputs.Labels)}
	}
	return nil
}
