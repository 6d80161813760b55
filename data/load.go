package data

import (
	"fmt"
	"os"
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
	Features, Labels int     // counts every file must have (Labels is 1 for classes: one column holds the class)
	Columns          Columns // the CSV columns
	StepOptional     bool    // the step column is used only if the header has it (the spec named no columns)
	LabelMode        LabelMode
	// Model says that the counts are a model's inputs and outputs rather
	// than a spec's: a file that does not fit is then told what the model
	// expects, by name ("the model expects 3 features (f0, f1, f2)").
	Model bool

	// Missing allows missing values in features: NaN in NPZ, an empty or
	// NA cell in CSV (spec inputs.missing other than refuse). Without it
	// they are refused.
	Missing bool
	// Categories is nil or has one entry per feature; a non-nil entry
	// makes that feature categorical: a CSV cell holds one of these
	// strings, an NPZ value the index of one, and the Dataset the index.
	Categories [][]string
	// Bin > 0 makes the step column a time, binned into steps of width
	// Bin: step = floor(time/Bin), the last observation of each feature in
	// a bin wins, bins without rows are all-missing steps (which need
	// Missing), and a sequence runs from bin 0 to its last bin.
	Bin float64
	// Target says what the labels hold: 0/1 (the zero value), a class
	// from Classes (one label column; a CSV cell holds the class's name or
	// index, an NPZ value its index), or any finite real.
	Target  LabelKind
	Classes []string
	// PerStep: the labels are per step (Dataset.YStep), a CSV cell on each
	// row and y [N, T] or [N, T, K] in NPZ, missing where a step has no
	// label.
	PerStep bool
}

// LabelKind says what a data set's labels hold.
type LabelKind uint8

const (
	// LabelBinary labels are 0 or 1.
	LabelBinary LabelKind = iota
	// LabelClass labels are a class index in [0, len(Schema.Classes)).
	LabelClass
	// LabelValue labels are any finite real (regression targets).
	LabelValue
)

// LabelMode says what Load does with a file's labels. Scoring new data is
// the main use of a trained model, and new data has no labels yet; only
// training and evaluation need them.
type LabelMode uint8

const (
	// LabelsRequired refuses a file without labels.
	LabelsRequired LabelMode = iota
	// LabelsOptional reads the labels of a file that has them (an NPZ
	// array y, or every label column of a CSV header) and gives a Dataset
	// without labels (Y nil) for a file that has none. A CSV header with
	// some label columns but not all is refused, as it is with
	// LabelsRequired.
	LabelsOptional
	// LabelsIgnored never reads labels, even when the file has them: a
	// caller that does not use them must not refuse a file for them.
	LabelsIgnored
)

// Load reads the data file path (already resolved by the caller) with the
// reader its extension names, .npz, .csv or .parquet (in any letter case),
// or a folder in the episodes layout, and checks
// the result against s: F must equal s.Features and K s.Labels. An NPZ
// file's counts are checked from its array headers, before its data is
// read. A CSV file's columns are s.Columns; with s.StepOptional, its step
// column is used only if the header has it (otherwise file order is step
// order). s.LabelMode says whether labels must be there; a Dataset read
// without labels has Y nil and K = s.Labels.
func Load(path string, s Schema) (*Dataset, error) {
	var (
		d   *Dataset
		err error
	)
	if err := s.checkExtras(); err != nil {
		return nil, &Error{File: path, Msg: err.Error(), Err: err}
	}
	if st, serr := os.Stat(path); serr == nil && st.IsDir() {
		if d, err = readEpisodes(path, &s); err != nil {
			return nil, err
		}
		if err := d.checkCounts(s); err != nil {
			return nil, err
		}
		return d, nil
	}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".npz":
		d, err = readNPZ(path, &s)
	case ".csv":
		d, err = readCSVFile(path, &s)
	case ".parquet":
		d, err = readParquetFile(path, &s)
	default:
		if ext == "" {
			ext = "none"
		}
		return nil, &Error{File: path, Msg: fmt.Sprintf("unknown data file kind (extension %s), want .npz, .csv or .parquet, or a folder in the episodes layout", ext)}
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
// labels. The message says whose they are, the spec's or the model's.
func (d *Dataset) checkCounts(s Schema) error {
	// A CSV file's columns are named (FeatureNames set); an NPZ file's are x and y.
	x, y := npzFeatures, npzLabels
	if d.FeatureNames != nil {
		x, y = csvFeatures, csvLabels
	}
	if err := s.countError(d.Source, x, d.F, false); err != nil {
		return err
	}
	return s.countError(d.Source, y, d.K, true)
}

// How a file states its counts, for countError: an NPZ file by its arrays'
// shapes, a CSV file by the columns named.
const (
	npzFeatures = "x has %d features per step"
	npzLabels   = "y has %d labels per sequence"
	// npzStepLabels is npzLabels for per-step labels.
	npzStepLabels = "y has %d labels per step"
	csvFeatures   = "%d feature columns are named"
	csvLabels     = "%d label columns are named"
)

// countError reports a count the file states (what, formatting got) that
// differs from the schema's features (or labels), or returns nil.
func (s *Schema) countError(file, what string, got int, labels bool) error {
	want, names, noun := s.Features, s.Columns.Features, "feature"
	if labels {
		want, names, noun = s.Labels, s.Columns.Labels, "label"
	}
	if got == want {
		return nil
	}
	if !s.Model {
		return &Error{File: file, Msg: fmt.Sprintf(what+", the spec declares %d", got, want)}
	}
	return &Error{File: file, Msg: fmt.Sprintf(what+", the model expects %s", got, countNames(want, noun, names))}
}

// countNames is "3 features (f0, f1, f2)": a count with its names, the
// first ten of them when there are more.
func countNames(n int, noun string, names []string) string {
	s := fmt.Sprintf("%d %s", n, noun)
	if n != 1 {
		s += "s"
	}
	if len(names) != n || n == 0 {
		return s
	}
	const most = 10
	list := strings.Join(names[:min(n, most)], ", ")
	if n > most {
		list += fmt.Sprintf(" and %d more", n-most)
	}
	return s + " (" + list + ")"
}
