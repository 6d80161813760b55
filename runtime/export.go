package runtime

// The bridge between a compiled Program and the ONNX boundary: export
// writes and reads graphs and knows nothing of specs, so what a file says
// about the spec (names, defaults, the spec itself) is gathered here.

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
)

// ExportModel describes prog for the ONNX writer. Options left zero take
// the spec's export section: opts.Opset 0 is the spec's export.opset (then
// graph.DefaultOpset), and step_probs is written when opts.StepProbs or
// the spec's export.step_probs asks for it. The metadata names the spec,
// its features and labels, alpha, and holds the resolved spec as YAML with
// its export section set to what is written. Errors name what in the spec
// disagrees with the graph; the graph itself is checked by export.Build.
func ExportModel(prog *compiler.Program, opts export.Options) (*export.Model, error) {
	if prog == nil || prog.Graph == nil || prog.Spec == nil {
		return nil, fmt.Errorf("export: program has no graph or no spec")
	}
	spec, g := prog.Spec, prog.Graph
	if opts.Opset == 0 {
		opts.Opset = spec.Export.Opset
	}
	if opts.Opset == 0 {
		opts.Opset = graph.DefaultOpset
	}
	// A per_step model is trained and judged at every step: its per-step
	// output is always written.
	opts.StepProbs = opts.StepProbs || spec.Export.StepProbs || spec.Outputs.PerStep
	if err := checkSpecGraph(spec, g); err != nil {
		return nil, err
	}
	meta, err := specMeta(spec, opts)
	if err != nil {
		return nil, err
	}
	return &export.Model{Graph: g, Name: spec.Name, Meta: meta, Options: opts}, nil
}

// WriteModel writes prog as an ONNX model to w; see ExportModel and
// export.Build.
func WriteModel(w io.Writer, prog *compiler.Program, opts export.Options) error {
	m, err := ExportModel(prog, opts)
	if err != nil {
		return err
	}
	return export.WriteONNX(w, m)
}

// WriteModelFile writes prog as an ONNX model to path, atomically; see
// export.WriteONNXFile. Errors start with path.
func WriteModelFile(path string, prog *compiler.Program, opts export.Options) error {
	m, err := ExportModel(prog, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return export.WriteONNXFile(path, m)
}

// checkSpecGraph checks that the spec describes the graph compiled from it:
// the metadata the file carries is taken from the spec, the model from the
// graph.
func checkSpecGraph(spec *compiler.Spec, g *graph.Graph) error {
	for _, in := range g.Inputs {
		if in.Name == graph.ValueX && len(in.Shape) == 3 && in.Shape[2].Sym == "" && in.Shape[2].Size != spec.Inputs.Features {
			return fmt.Errorf("export: graph input x has %d features, the spec says %d", in.Shape[2].Size, spec.Inputs.Features)
		}
	}
	_, last, ok := graph.HeadOutputs(g)
	want := graph.ValueProbs
	if spec.Outputs.Kind() == compiler.KindTargets {
		want = graph.ValueValues
	}
	if ok && last != want {
		return fmt.Errorf("export: the graph's output is %s, the spec's outputs (%s) give %s", last, spec.Outputs.Kind(), want)
	}
	if v := g.Values[last]; ok && v != nil && len(v.Shape) > 0 {
		if K := v.Shape[len(v.Shape)-1]; K.Sym == "" && K.Size != spec.Outputs.Width() {
			return fmt.Errorf("export: output %s has %d %s, the spec says %d", last, K.Size, spec.Outputs.Kind(), spec.Outputs.Width())
		}
	}
	norm := spec.Inputs.Normalize
	if norm != compiler.NormalizeNone && norm != compiler.NormalizeStandard && norm != "" {
		return fmt.Errorf("export: spec %q: inputs.normalize is %q, expected none or standard", spec.Name, norm)
	}
	nodes := 0
	for _, n := range g.Nodes {
		if n != nil && n.Op == graph.OpNormalize {
			nodes++
		}
	}
	pre := 0
	for _, n := range g.Nodes {
		if n != nil && n.Op == graph.OpPreprocess {
			pre++
		}
	}
	if (pre > 0) != spec.Inputs.Preprocessed() {
		return fmt.Errorf("export: spec %q says missing %q with %d categorical feature(s) but the graph has %d Preprocess node(s)", spec.Name, spec.Inputs.Missing, countCategorical(spec), pre)
	}
	if pre == 0 && (nodes > 0) != (norm == compiler.NormalizeStandard) {
		return fmt.Errorf("export: spec %q says normalize %q but the graph has %d Normalize node(s)", spec.Name, norm, nodes)
	}
	return nil
}

// specMeta is the metadata an exported model takes from its spec.
func specMeta(spec *compiler.Spec, opts export.Options) (map[string]string, error) {
	F, K := spec.Inputs.Features, spec.Outputs.Width()
	feats := spec.Inputs.FeatureNames
	if len(feats) == 0 {
		feats = compiler.DefaultFeatureNames(F)
	}
	if len(feats) != F {
		return nil, fmt.Errorf("export: spec %q has %d feature names for %d features", spec.Name, len(feats), F)
	}
	labels := spec.Outputs.Names()
	if len(labels) == 0 && spec.Outputs.Kind() == compiler.KindLabels {
		labels = compiler.DefaultLabelNames(K)
	}
	if len(labels) != K {
		return nil, fmt.Errorf("export: spec %q has %d names for %d %s", spec.Name, len(labels), K, spec.Outputs.Kind())
	}
	fj, _ := json.Marshal(feats)
	lj, _ := json.Marshal(labels)
	yaml, err := compiler.MarshalSpec(exportedSpec(spec, opts))
	if err != nil {
		return nil, fmt.Errorf("export: writing the spec: %v", err)
	}
	meta := map[string]string{
		export.MetaSpecName:     spec.Name,
		export.MetaFeatureNames: string(fj),
		export.MetaLabelNames:   string(lj),
		export.MetaAlpha:        strconv.FormatFloat(spec.Objective.Alpha, 'g', -1, 64),
		export.MetaSpec:         string(yaml),
	}
	if countCategorical(spec) > 0 {
		cats := map[string][]string{}
		for f, c := range spec.Inputs.Categories {
			if c != nil {
				cats[feats[f]] = c
			}
		}
		cj, _ := json.Marshal(cats)
		meta[export.MetaCategories] = string(cj)
	}
	return meta, nil
}

// countCategorical is the number of the spec's categorical features.
func countCategorical(spec *compiler.Spec) int {
	n := 0
	for _, c := range spec.Inputs.Categories {
		if c != nil {
			n++
		}
	}
	return n
}

// exportedSpec is the spec as resolved for the file: its export section
// says what was written. The training data's file names stay behind: they
// are paths of the machine that trained the model, and nothing that uses
// the model needs them (the CSV column roles are kept).
func exportedSpec(spec *compiler.Spec, opts export.Options) *compiler.Spec {
	resolved := *spec
	resolved.Export = compiler.Export{Opset: opts.Opset, StepProbs: opts.StepProbs}
	resolved.Data.Train = ""
	if resolved.Training.Validation.File != "" {
		// Without the file the spec has no validation data, so no early
		// stopping either (the compiler would refuse patience).
		resolved.Training.Validation.File = ""
		resolved.Training.Validation.Patience = 0
	}
	return &resolved
}
