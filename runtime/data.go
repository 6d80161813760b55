package runtime

import (
	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
)

// DataSchema is what spec's data files must hold: its feature and label
// counts, and the CSV columns of its data.csv section; missing values when
// inputs.missing imputes them, categories of inputs.categorical, and
// data.bin's time bins. A spec without that
// section reads CSV files by the id column "id", the step column "step" if
// the header has one (otherwise file order is step order), and the spec's
// feature and label names (f0, f1, ... and y, or y0, y1, ... when the spec
// gives counts).
func DataSchema(spec *compiler.Spec) data.Schema {
	s := data.Schema{Features: spec.Inputs.Features, Labels: spec.Outputs.Labels,
		Missing: spec.Inputs.Missing != compiler.MissingRefuse && spec.Inputs.Missing != "", Categories: spec.Inputs.Categories,
		Bin: spec.Data.Bin}
	if c := spec.Data.CSV; c != nil {
		s.Columns = data.Columns{ID: c.ID, Step: c.Step, Features: c.Features, Labels: c.Labels}
		return s
	}
	s.Columns = data.Columns{ID: "id", Step: "step", Features: spec.Inputs.FeatureNames, Labels: spec.Outputs.LabelNames}
	s.StepOptional = true
	return s
}
