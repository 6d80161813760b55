package compiler

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/trnn/trnn/graph"
)

// Validate checks every rule of docs/spec.md on the spec's values and
// returns an ErrorList of all problems, or nil.
//
// For a spec parsed from a file, each error points at the value in the file
// ("spec.yaml:12:5: layers[0].lstm.units: must be a positive integer, got
// -3"). A field changed since parsing (a command-line override) is not the
// file's fault: its error has no position and names the field, or the flag
// recorded with SetOrigin ("--epochs: must be a positive integer, got 0").
// A spec built in Go has no positions at all.
func (s *Spec) Validate() error {
	v := &validator{s: s, src: s.src}
	v.run()
	v.errs.RemoveMultiples()
	return v.errs.Err()
}

// SetOrigin records that the value of field, a spec path such as
// "training.epochs" or "data.train", now comes from somewhere other than the
// spec file, such as a command-line flag ("--epochs"). Validation errors
// about the field then name origin instead of a place in the file.
//
// A path given on the command line should be stored absolute (or relative
// to Dir), since Path resolves relative paths against Dir.
func (s *Spec) SetOrigin(field, origin string) {
	if s.src == nil {
		s.src = &source{pos: map[string]Pos{}, bad: map[string]bool{}, snap: map[string]string{}}
	}
	if s.src.origin == nil {
		s.src.origin = map[string]string{}
	}
	s.src.origin[field] = origin
}

// Path resolves a data path of the spec (Data.Train, Validation.File, Test.File)
// against the spec file's folder. Absolute paths and specs without a folder
// are returned unchanged.
func (s *Spec) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || s.Dir == "" {
		return p
	}
	return filepath.Join(s.Dir, p)
}

// complete fills in what the spec derives from other fields: the name from
// the file name, generated feature and label names, the CSV columns from the
// names, and no validation split when a validation file replaces it. src may
// be nil.
func (s *Spec) complete(filename string, src *source) {
	if s.Name == "" && !src.written("name") {
		s.Name = defaultName(filename)
	}
	if s.Inputs.FeatureNames == nil && s.Inputs.Features >= 1 && s.Inputs.Features <= MaxFeatures {
		s.Inputs.FeatureNames = DefaultFeatureNames(s.Inputs.Features)
	}
	if s.Outputs.LabelNames == nil && s.Outputs.Labels >= 1 && s.Outputs.Labels <= MaxLabels {
		s.Outputs.LabelNames = DefaultLabelNames(s.Outputs.Labels)
	}
	s.resolveCategorical()
	if s.Outputs.TargetNames == nil && s.Outputs.Targets >= 1 && s.Outputs.Targets <= MaxLabels {
		s.Outputs.TargetNames = DefaultLabelNames(s.Outputs.Targets)
	}
	if s.Training.Validation.Monitor == DefaultMonitor && !src.written("training.validation.monitor") {
		s.Training.Validation.Monitor = DefaultMonitorFor(s.Outputs)
	}
	if c := s.Data.CSV; c != nil {
		if c.Features == nil && !src.rejected("data.csv.features") {
			c.Features = slices.Clone(s.Inputs.FeatureNames)
		}
		if c.Labels == nil && !src.rejected("data.csv.labels") {
			c.Labels = slices.Clone(s.Outputs.LabelColumns())
		}
	}
	if s.Training.Validation.File != "" && src != nil && !src.written("training.validation.split") {
		s.Training.Validation.Split = 0
	}
}

// rejected is isBad for a source that may be nil (a spec built in Go).
func (s *source) rejected(path string) bool { return s != nil && s.isBad(path) }

// defaultName is a spec file's base name without its extension.
func defaultName(filename string) string {
	base := filepath.Base(filename)
	base = strings.TrimSuffix(base, filepath.Ext(base))
	if base == "" || base == "." || base == string(filepath.Separator) {
		return "model"
	}
	return base
}

// generatedNames returns prefix0 .. prefix{n-1}.
// DefaultFeatureNames are the names of F features given by a count: f0,
// f1, ...
func DefaultFeatureNames(F int) []string { return generatedNames("f", F) }

// DefaultLabelNames are the names of K labels given by a count: y for one
// label, else y0, y1, ...
func DefaultLabelNames(K int) []string {
	if K == 1 {
		return []string{"y"}
	}
	return generatedNames("y", K)
}

func generatedNames(prefix string, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s%d", prefix, i)
	}
	return names
}

// isGenerated reports whether names are the ones complete generates for a
// count.
func isGenerated(names []string, prefix string, one string) bool {
	if len(names) == 1 && one != "" {
		return names[0] == one
	}
	for i, n := range names {
		if len(n) <= len(prefix) || n[:len(prefix)] != prefix || n[len(prefix):] != strconv.Itoa(i) {
			return false
		}
	}
	return true
}

// validator checks a Spec's values against the rules of docs/spec.md.
type validator struct {
	s   *Spec
	src *source // nil for a spec built in Go
	// record is set while validating a freshly parsed spec: every checked
	// value is remembered, so a later Validate can tell which fields were
	// changed after parsing.
	record bool
	errs   ErrorList
}

// check reports the message at path unless ok. cur is the field's current
// value: it is recorded when parsing and compared later, to tell whether the
// file still holds it.
func (v *validator) check(ok bool, path string, cur any, format string, args ...any) {
	if v.src != nil {
		if v.src.isBad(path) {
			return
		}
		if v.record {
			v.src.snap[path] = fmt.Sprint(cur)
		}
	}
	if ok {
		return
	}
	pos, name := v.at(path, cur)
	v.errs.Add(pos, name+": "+fmt.Sprintf(format, args...))
}

// at returns where to report a problem with path and the name to give it.
func (v *validator) at(path string, cur any) (Pos, string) {
	if v.src == nil {
		return Pos{}, path
	}
	if o := v.src.origin[path]; o != "" {
		return Pos{}, o
	}
	if old, ok := v.src.snap[path]; (ok && old != fmt.Sprint(cur)) || v.src.file == "" {
		return Pos{}, path
	}
	return v.src.lookup(path), path
}

func (v *validator) bad(path string) bool { return v.src != nil && v.src.isBad(path) }

// enum checks that val is one of names, suggesting the nearest.
func (v *validator) enum(path, val string, names []string) {
	hint := ""
	if s := suggestValue(val, names); s != "" {
		hint = fmt.Sprintf(" (did you mean %s?)", s)
	}
	v.check(slices.Contains(names, val), path, val, "must be %s, got %s%s", oneOf(names), quoteShort(val), hint)
}

func finite(x float64) bool { return !math.IsInf(x, 0) && !math.IsNaN(x) }

// Rules shared by several fields; each message says the rule it checks.

func (v *validator) positiveInt(path string, x, limit int) {
	v.check(x >= 1, path, x, "must be a positive integer, got %d", x)
	if x >= 1 {
		v.check(x <= limit, path, x, "must be at most %d, got %d", limit, x)
	}
}

func (v *validator) nonNegative(path string, x float64) {
	v.check(x >= 0 && finite(x), path, x, "must be a non-negative number, got %g", x)
}

// weight checks a loss weight: non-negative (positive when positive is
// set) and finite in float32, the objective's precision.
func (v *validator) weight(path string, x float64, positive bool) {
	switch {
	case positive && !(x > 0):
		v.check(false, path, x, "must be a positive number, got %g", x)
	case !positive && !(x >= 0):
		v.check(false, path, x, "must be a non-negative number, got %g", x)
	default:
		v.check(x <= math.MaxFloat32, path, x, "must be at most 3.4e38 (a float32), got %g", x)
	}
}

func (v *validator) unitInterval(path string, x float64, note string) {
	v.check(x >= 0 && x < 1, path, x, "must be in [0, 1), got %g%s", x, note)
}

func (v *validator) run() {
	s := v.s
	v.check(s.Name != "", "name", s.Name, "must not be empty")
	v.names("inputs.features", s.Inputs.Features, s.Inputs.FeatureNames, MaxFeatures, "feature", "f", "")
	v.enum("inputs.normalize", s.Inputs.Normalize, normalizeNames)
	v.preprocess()
	v.layers()
	v.outputs()
	v.objective()
	v.training()
	v.data()
	v.binning()
	v.check(s.Export.Opset >= graph.MinOpset && s.Export.Opset <= graph.MaxOpset, "export.opset", s.Export.Opset,
		"must be an integer from %d to %d (the opsets the exporter supports), got %d", graph.MinOpset, graph.MaxOpset, s.Export.Opset)
	if n, ok := paramCount(s); ok {
		v.check(n <= MaxParams, "layers", len(s.Layers),
			"the model would have %d parameters, more than the limit of %d", n, MaxParams)
	}
}

// names checks a count-or-names field (inputs.features, outputs.labels).
// The names generated for a count (prefix0, prefix1, ..., or one alone) are
// distinct by construction and not checked one by one.
func (v *validator) names(path string, n int, names []string, limit int, what, prefix, one string) {
	if names != nil && len(names) == 0 {
		v.check(false, path, n, "must list at least one %s name, got an empty list", what)
		return
	}
	v.positiveInt(path, n, limit)
	if n < 1 || n > limit {
		return
	}
	if len(names) != n {
		v.check(false, path, n, "has %d %ss but %d names", n, what, len(names))
		return
	}
	if isGenerated(names, prefix, one) {
		return // f0, f1, ... are distinct
	}
	v.unique(path, names, what+" name", nil)
}

// unique checks that names are non-empty and distinct; seen, when not nil,
// carries the names of other fields that must differ too (CSV columns).
func (v *validator) unique(path string, names []string, what string, seen map[string]string) {
	if seen == nil {
		seen = map[string]string{}
	}
	for i, name := range names {
		p := indexPath(path, i)
		if name == "" {
			v.check(false, p, name, "must be a non-empty %s", what)
			continue
		}
		first, dup := seen[name]
		v.check(!dup, p, name, "duplicate %s %s (also %s)", what, quoteShort(name), first)
		if !dup {
			seen[name] = p
		}
	}
}

func (v *validator) layers() {
	s := v.s
	if len(s.Layers) == 0 {
		v.check(false, "layers", len(s.Layers), "must list at least one layer (lstm or gru), got an empty list")
		return
	}
	if len(s.Layers) > MaxLayers {
		// One error for the list: checking each of thousands of layers
		// would only bury it.
		v.check(false, "layers", len(s.Layers), "must list at most %d layers, got %d", MaxLayers, len(s.Layers))
		return
	}
	prev := ""
	for i, l := range s.Layers {
		p := indexPath("layers", i)
		if v.bad(p) {
			prev = ""
			continue
		}
		switch l.Kind {
		case LayerLSTM, LayerGRU:
			v.positiveInt(p+"."+l.Kind+".units", l.Units, MaxUnits)
		case LayerDropout:
			// float32: the kernels see the rate in float32, where 1−1e-10 is 1.
			v.check(l.Rate >= 0 && float32(l.Rate) < 1, p+".dropout.rate", l.Rate, "must be in [0, 1), got %g", l.Rate)
			switch prev {
			case "":
				if i == 0 {
					v.check(false, p, l.Kind, "dropout must follow a recurrent layer (lstm or gru), not come first")
				}
			case LayerDropout:
				v.check(false, p, l.Kind, "dropout must follow a recurrent layer (lstm or gru), not another dropout")
			}
		default:
			v.check(false, p, l.Kind, "unknown layer kind %s, expected %s", quoteShort(l.Kind), oneOf(layerKindNames))
		}
		prev = l.Kind
	}
}

func (v *validator) objective() {
	s := v.s
	o := s.Objective
	v.check(o.Alpha >= 0 && o.Alpha <= 1, "objective.target_replication.alpha", o.Alpha,
		"must be in [0, 1], got %g", o.Alpha)
	v.enum("objective.target_replication.average", o.Average, averageNames)
	v.headObjective()
	if cw := o.ClassWeight; cw != nil && s.Outputs.Kind() == KindLabels {
		v.check(s.Outputs.Labels == 1, "objective.class_weight", *cw,
			"only applies to one (binary) label, outputs has %d labels; use pos_weight", s.Outputs.Labels)
		if !cw.Balanced {
			v.weight("objective.class_weight.0", cw.W0, false)
			v.weight("objective.class_weight.1", cw.W1, false)
			v.check(cw.W0 != 0 || cw.W1 != 0, "objective.class_weight", *cw, "the two weights must not both be 0")
		}
	}
	if o.PosWeight != nil && s.Outputs.Kind() == KindLabels {
		v.check(o.ClassWeight == nil, "objective.pos_weight", o.PosWeight,
			"cannot be combined with class_weight; give one or the other")
		v.check(len(o.PosWeight) == s.Outputs.Labels, "objective.pos_weight", o.PosWeight,
			"must have one weight per label (%d), got %d", s.Outputs.Labels, len(o.PosWeight))
		for i, w := range o.PosWeight {
			v.weight(indexPath("objective.pos_weight", i), w, true)
		}
	}
}

func (v *validator) training() {
	t := v.s.Training
	v.enum("training.optimizer", t.Optimizer, optimizerNames)
	v.nonNegative("training.learning_rate", t.LearningRate)
	v.unitInterval("training.momentum", t.Momentum, "")
	if t.Momentum != 0 && t.Optimizer != OptimizerSGD && slices.Contains(optimizerNames, t.Optimizer) {
		v.check(false, "training.momentum", t.Momentum,
			"only the sgd optimizer uses momentum, the optimizer is %s", t.Optimizer)
	}
	v.nonNegative("training.weight_decay", t.WeightDecay)
	v.nonNegative("training.clip_norm", t.ClipNorm)
	v.check(t.BatchSize >= 1, "training.batch_size", t.BatchSize, "must be a positive integer, got %d", t.BatchSize)
	v.check(t.Epochs >= 1, "training.epochs", t.Epochs, "must be a positive integer, got %d", t.Epochs)
	val := t.Validation
	v.unitInterval("training.validation.split", val.Split, " (0 means no validation)")
	if val.File != "" {
		v.check(val.Split == 0, "training.validation.split", val.Split,
			"cannot be combined with file, which replaces the split")
		v.dataFile("training.validation.file", val.File)
	}
	v.enum("training.validation.monitor", val.Monitor, v.s.Outputs.Monitors())
	v.check(val.Patience >= 0, "training.validation.patience", val.Patience,
		"must be a non-negative integer, got %d", val.Patience)
	if val.Patience > 0 {
		v.check(val.Split > 0 || val.File != "", "training.validation.patience", val.Patience,
			"early stopping needs validation data, but split is 0 and there is no file")
	}
	v.watch()
	v.test()
}

// MaxBootstrap bounds training.test.bootstrap: each replicate evaluates the
// whole test set again.
const MaxBootstrap = 100_000

// test checks training.test. A test set must stay out of training and of
// model selection, so it may not be the training or the validation file,
// and a split must leave data to train on beside the validation split.
func (v *validator) test() {
	t := v.s.Training
	ts := t.Test
	v.unitInterval("training.test.split", ts.Split, " (0 means no test set)")
	if ts.File != "" {
		v.check(ts.Split == 0, "training.test.split", ts.Split, "cannot be combined with file, which replaces the split")
		v.dataFile("training.test.file", ts.File)
		v.check(ts.File != v.s.Data.Train, "training.test.file", ts.File,
			"is the training file; a test set must be held out of training")
		v.check(ts.File != t.Validation.File, "training.test.file", ts.File,
			"is the validation file; a test set must be held out of model selection")
	}
	if ts.Split > 0 && ts.Split < 1 && t.Validation.File == "" && t.Validation.Split > 0 && t.Validation.Split < 1 {
		v.check(ts.Split+t.Validation.Split < 1, "training.test.split", ts.Split,
			"with validation.split %g, must leave sequences to train on (the two add up to %g)", t.Validation.Split, ts.Split+t.Validation.Split)
	}
	v.check(ts.Bootstrap >= 0 && ts.Bootstrap <= MaxBootstrap, "training.test.bootstrap", ts.Bootstrap,
		"must be an integer in [0, %d] (0 means no intervals), got %d", MaxBootstrap, ts.Bootstrap)
}

// dataFile checks that a data file is NPZ, CSV or Parquet by its extension,
// or a folder in the episodes layout: a path ending in a slash or without
// an extension, as `trnn synth -o` takes one. The rule looks at the path
// alone, because the spec of a checkpoint or a model is parsed again away
// from its folder; a folder whose name has another extension is told to end
// in a slash. Whether a folder holds the layout is for the reader to say,
// with the file and line of what is wrong.
func (v *validator) dataFile(path, file string) {
	ext := strings.ToLower(filepath.Ext(file))
	folder := ext == "" || strings.HasSuffix(file, "/") || strings.HasSuffix(file, string(filepath.Separator))
	if !slices.Contains(dataExtensions, ext) && !folder && v.isFolder(path, file) {
		v.check(false, path, file, "%s is a folder: write it with a trailing slash (%s/) to read it in the episodes layout", quoteShort(file), file)
		return
	}
	v.check(slices.Contains(dataExtensions, ext) || folder, path, file,
		"must be an .npz, .csv or .parquet file, or a folder in the episodes layout, got %s", quoteShort(file))
}

// isFolder reports whether the data path file of field path names an
// existing folder. A path given on the command line is relative to the
// working directory, one written in the spec to the spec's folder.
func (v *validator) isFolder(path, file string) bool {
	resolved := v.s.Path(file)
	if v.src != nil && v.src.origin[path] != "" {
		resolved = file
	}
	st, err := os.Stat(resolved)
	return err == nil && st.IsDir()
}

func isNPZ(file string) bool { return strings.EqualFold(filepath.Ext(file), ".npz") }

func (v *validator) data() {
	s := v.s
	d := s.Data
	if d.Train != "" {
		v.dataFile("data.train", d.Train)
	}
	c := d.CSV
	if c == nil {
		return
	}
	if isNPZ(d.Train) {
		v.check(false, "data.csv", "csv", "only applies to CSV data, but data.train is an NPZ file")
	}
	v.check(c.ID != "", "data.csv.id", c.ID, "must name the column that identifies each sequence")
	if c.Features != nil {
		v.check(len(c.Features) == s.Inputs.Features, "data.csv.features", c.Features,
			"must name one column per feature (%d), got %d", s.Inputs.Features, len(c.Features))
	}
	if c.Labels != nil {
		n := len(s.Outputs.LabelColumns())
		v.check(len(c.Labels) == n, "data.csv.labels", c.Labels,
			"must name one column per label (%d), got %d", n, len(c.Labels))
	}
	seen := map[string]string{}
	if c.ID != "" {
		seen[c.ID] = "data.csv.id"
	}
	if c.Step != "" {
		v.check(c.Step != c.ID, "data.csv.step", c.Step, "column %s is already the id column", quoteShort(c.Step))
		seen[c.Step] = "data.csv.step"
	}
	v.unique("data.csv.features", c.Features, "column name", seen)
	v.unique("data.csv.labels", c.Labels, "column name", seen)
}

// paramCount is the number of parameters a spec compiles to, if its sizes
// are valid.
func paramCount(s *Spec) (int, bool) {
	I, K := s.Inputs.Features, s.Outputs.Width()
	if I < 1 || I > MaxFeatures || K < 1 || K > MaxLabels || len(s.Layers) > MaxLayers {
		return 0, false
	}
	if s.Inputs.Preprocessed() {
		I = s.Inputs.EncodedWidth() // the one-hot channels and indicators
	}
	n := 0
	if s.Inputs.Normalize == NormalizeStandard || s.Inputs.Preprocessed() {
		n += 2 * s.Inputs.Features
	}
	for _, l := range s.Layers {
		H := l.Units
		switch l.Kind {
		case LayerLSTM:
			if H < 1 || H > MaxUnits {
				return 0, false
			}
			n += 4*H*I + 4*H*H + 4*H
			I = H
		case LayerGRU:
			if H < 1 || H > MaxUnits {
				return 0, false
			}
			n += 3*H*I + 3*H*H + 6*H
			I = H
		}
	}
	return n + K*I + K, true
}
