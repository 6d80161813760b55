package compiler

import (
	"fmt"

	"github.com/goccy/go-yaml/ast"

	"github.com/trnn/trnn/graph"
)

// The input preprocessing of inputs.categorical, inputs.missing and
// inputs.indicators: parsing, validation, marshalling, and the widths the
// lowering derives from it.

// categoricalEntry is one feature of inputs.categorical as the file lists
// it.
type categoricalEntry struct {
	feature    string
	categories []string
}

// categorical decodes inputs.categorical: {feature: [category, ...], ...},
// in the file's order.
func (d *decoder) categorical(path string, n ast.Node) {
	const want = "a mapping from feature names to lists of categories"
	m, ok := d.node(n).(*ast.MappingNode)
	if !ok {
		d.typeError(path, n, want)
		return
	}
	entries := []categoricalEntry{}
	seen := map[string]Pos{}
	for _, mv := range m.Values {
		name, kpos, ok := d.key(path, mv)
		if !ok {
			continue
		}
		child := joinPath(path, name)
		if first, dup := seen[name]; dup {
			d.errorf(kpos, "%s: duplicate feature, first given at line %d", child, first.Line)
			continue
		}
		seen[name] = kpos
		d.src.pos[child] = valuePos(kpos, d.pos(mv.Value))
		if mv.Value == nil {
			d.typeError(child, nil, "a list of categories")
			continue
		}
		cats, ok := d.strList(child, mv.Value, "a list of categories", "a category (a string)")
		if !ok {
			continue
		}
		entries = append(entries, categoricalEntry{feature: name, categories: cats})
	}
	d.spec.categorical = entries
}

// resolveCategorical sets Inputs.Categories from the parsed
// inputs.categorical once the feature names are known. Names that are not
// features are left for the validator to report.
func (s *Spec) resolveCategorical() {
	in := &s.Inputs
	if s.categorical == nil || in.Categories != nil || len(in.FeatureNames) != in.Features {
		return
	}
	cats := make([][]string, in.Features)
	found := 0
	for _, e := range s.categorical {
		for f, name := range in.FeatureNames {
			if name == e.feature {
				cats[f] = e.categories
				found++
			}
		}
	}
	if found > 0 {
		in.Categories = cats
	}
	if found == len(s.categorical) {
		// Inputs.Categories says it all: a spec parsed back from
		// MarshalSpec, which lists them in feature order, is the same.
		s.categorical = nil
	}
}

// Preprocessed reports whether the spec's inputs need the Preprocess node:
// missing values imputed, categorical features, or indicators. Without it
// x is only normalised, as before these fields existed.
func (in *Inputs) Preprocessed() bool {
	return in.Missing != MissingRefuse && in.Missing != "" || in.Indicators || in.Categories != nil
}

// EncodedWidth is the number of channels the preprocessing gives the first
// layer: one per numeric feature, one per category of a categorical
// feature, and one indicator per feature when Indicators is set.
func (in *Inputs) EncodedWidth() int { return in.Preprocess().Width() }

// preprocess checks inputs.categorical, inputs.missing and
// inputs.indicators.
func (v *validator) preprocess() {
	in := &v.s.Inputs
	v.enum("inputs.missing", in.Missing, missingNames)
	if in.Indicators && in.Missing == MissingRefuse {
		v.check(false, "inputs.indicators", in.Indicators,
			"is true but inputs.missing is refuse: with no missing values every indicator would be 1; set inputs.missing to zero, mean or forward_fill")
	}
	for _, e := range v.s.categorical {
		p := joinPath("inputs.categorical", e.feature)
		found := false
		for _, name := range in.FeatureNames {
			found = found || name == e.feature
		}
		hint := ""
		if s := suggestValue(e.feature, in.FeatureNames); s != "" {
			hint = fmt.Sprintf(" (did you mean %s?)", s)
		}
		v.check(found, p, e.feature, "%s is not one of inputs.features%s", quoteShort(e.feature), hint)
	}
	if in.Categories == nil || in.Features < 1 || in.Features > MaxFeatures {
		return
	}
	if len(in.Categories) != in.Features {
		v.check(false, "inputs.categorical", len(in.Categories),
			"must have one entry per feature (%d), got %d", in.Features, len(in.Categories))
		return
	}
	for f, cats := range in.Categories {
		if cats == nil || f >= len(in.FeatureNames) {
			continue
		}
		p := joinPath("inputs.categorical", in.FeatureNames[f])
		v.check(len(cats) > 0, p, len(cats), "must list at least one category, got an empty list")
		v.unique(p, cats, "category", nil)
	}
	if w := in.EncodedWidth(); w > MaxFeatures {
		v.check(false, "inputs.categorical", w,
			"the one-hot channels and indicators make %d inputs to the first layer, more than the limit of %d", w, MaxFeatures)
	}
}

// binning checks data.bin and data.shuffle_buffer.
func (v *validator) binning() {
	d := v.s.Data
	if d.Bin != 0 || (v.src != nil && v.src.written("data.bin")) {
		ok := d.Bin > 0 && finite(d.Bin)
		v.check(ok, "data.bin", d.Bin, "must be a positive number (the width of a step), got %g", d.Bin)
		switch {
		case !ok:
		case isNPZ(d.Train):
			v.check(false, "data.bin", d.Bin, "needs a step column holding each row's time, but data.train is an NPZ file, which has none")
		case d.CSV != nil && d.CSV.Step == "":
			v.check(false, "data.bin", d.Bin, "needs a step column holding each row's time; name it in data.csv.step")
		}
	}
	if d.ShuffleBuffer != 0 || (v.src != nil && v.src.written("data.shuffle_buffer")) {
		v.check(d.ShuffleBuffer >= 1, "data.shuffle_buffer", d.ShuffleBuffer, "must be a positive integer (sequences), got %d", d.ShuffleBuffer)
	}
}

// inputsPreprocess writes inputs.categorical, missing and indicators, or
// nothing for their defaults: specs written before they existed marshal as
// they did, and so do the models that embed them.
func (w *yamlWriter) inputsPreprocess(in *Inputs) {
	if in.Categories != nil {
		w.line(1, "categorical:")
		for f, cats := range in.Categories {
			if cats != nil && f < len(in.FeatureNames) {
				w.line(2, "%s: %s", yamlString(in.FeatureNames[f]), yamlList(cats))
			}
		}
	}
	if in.Missing != MissingRefuse && in.Missing != "" {
		w.line(1, "missing: %s", yamlString(in.Missing))
	}
	if in.Indicators {
		w.line(1, "indicators: true")
	}
}

// dataBinning writes data.bin and data.shuffle_buffer when set.
func (w *yamlWriter) dataBinning(d *Data) {
	if d.Bin != 0 {
		w.line(1, "bin: %s", yamlFloat64(d.Bin))
	}
	if d.ShuffleBuffer != 0 {
		w.line(1, "shuffle_buffer: %d", d.ShuffleBuffer)
	}
}

// Names of the Preprocess node and its output.
const (
	NodePreprocess = "preprocess"
	ValueXEncoded  = "x_encoded"
)

// lowerPreprocess adds the Preprocess node reading x, with the fitted
// statistics inputs.mean and inputs.std, and returns its output and width.
// The statistics start as the identity normalisation, as Normalize's do.
func lowerPreprocess(s *Spec, g *graph.Graph, param func(name, init string, trainable bool, shape ...int) string,
	node func(name string, op graph.Op, out string, attrs map[string]graph.Attr, inputs ...string)) (string, int) {
	in := &s.Inputs
	F := in.Features
	mean := param(ParamMean, InitFitted, false, F)
	std := param(ParamStd, InitFitted, false, F)
	for i := range g.Param(std).Tensor.F32 {
		g.Param(std).Tensor.F32[i] = 1
	}
	node(NodePreprocess, graph.OpPreprocess, ValueXEncoded, in.Preprocess().Attrs(), graph.ValueX, mean, std)
	return ValueXEncoded, in.EncodedWidth()
}

// Preprocess is what the Preprocess node of in does.
func (in *Inputs) Preprocess() graph.Preprocess {
	p := graph.Preprocess{Missing: in.Missing, Categories: make([]int, in.Features), Indicators: in.Indicators,
		Normalize: in.Normalize == NormalizeStandard}
	if p.Missing == "" {
		p.Missing = MissingRefuse
	}
	for f := range p.Categories {
		if f < len(in.Categories) {
			p.Categories[f] = len(in.Categories[f])
		}
	}
	return p
}
