package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/runtime"
)

// predictFlags are predict's flags about what it reads and writes.
type predictFlags struct {
	columns             string
	perStep, withLabels bool
}

// predictionWriter reads the data predict scores and returns the function
// that writes its rows. Predicting needs no labels, so they are read only
// for --with-labels, which then needs them.
func predictionWriter(sess *trnn.Session, spec *compiler.Spec, dataFile string, f predictFlags) (func(io.Writer) error, error) {
	need := ""
	if f.withLabels {
		need = "--with-labels adds them to the predictions"
	}
	d, err := loadScored(dataFile, spec, f.columns, need)
	if err != nil {
		return nil, err
	}
	cols := newPredColumns(spec.Outputs)
	return func(w io.Writer) error {
		if f.perStep || spec.Outputs.PerStep {
			return writeStepPredictions(w, sess, d, cols)
		}
		return writePredictions(w, sess, d, cols)
	}, nil
}

// loadScored reads the data file eval and predict score, with the model's
// columns remapped by --columns. Labels are read only when need says why
// they are needed, and data without them is then refused in one line that
// says where they would be and why; with need "", they are not read at all,
// so that scoring new data never depends on them.
func loadScored(dataFile string, spec *compiler.Spec, columns, need string) (*data.Dataset, error) {
	s := runtime.DataSchema(spec)
	s.Model = true // the counts are the model's, and messages say so
	s.LabelMode = data.LabelsIgnored
	if need != "" {
		s.LabelMode = data.LabelsOptional
	}
	if columns != "" {
		if ext := strings.ToLower(filepath.Ext(dataFile)); ext != ".csv" && ext != ".parquet" {
			return nil, usageError{fmt.Errorf("--columns: names a CSV or Parquet file's columns, and %s is neither", dataFile)}
		}
		if err := mapColumns(&s, spec, columns); err != nil {
			return nil, usageError{fmt.Errorf("--columns %s: %v", columns, err)}
		}
	}
	d, err := data.Load(dataFile, s)
	var de *data.Error
	if errors.As(err, &de) && strings.HasPrefix(de.Msg, "missing column") && columns == "" {
		de.Msg += "; --columns ROLE=NAME,... names the file's column for each of the model's roles"
	}
	if err != nil || need == "" || d.Labelled() {
		return d, err
	}
	where := `no array "y"`
	if d.FeatureNames != nil {
		where = "no label column " + strings.Join(quoteAll(s.Columns.Labels), ", ")
	}
	return nil, fmt.Errorf("%s: the data has no labels (%s); %s", dataFile, where, need)
}

func quoteAll(names []string) []string {
	q := make([]string, min(len(names), 10))
	for i := range q {
		q[i] = fmt.Sprintf("%q", names[i])
	}
	if len(names) > 10 {
		q = append(q, fmt.Sprintf("… %d more", len(names)-10))
	}
	return q
}
