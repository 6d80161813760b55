package export

// Writing the Preprocess node: the ONNX model itself imputes, one-hot
// encodes, adds indicators and normalises, so that a consumer passes raw x
// with NaN gaps and category indices. Standard operators only, computing
// what ops.PreprocessForward computes, in the same float32 operations:
//
//	filled   = x, or with forward_fill a Scan along time whose state
//	           [B, F] starts at NaN (fill_in in the stateful model) and
//	           takes each observed value at a valid step
//	imputed  = Where(IsNaN(filled), fill, filled)    fill [F]: 0 (zero) or
//	           mean (mean, forward_fill) for a numeric feature, −1 (no
//	           category) for a categorical one; none with refuse
//	normed   = (imputed − mean) / std                mean 0 and std 1 at
//	           categorical features, which pass unchanged; none without
//	           normalisation
//	channels = runs of numeric features Gathered from normed, each
//	           categorical feature f as Cast(Equal(normed[..., f], 0..C−1)):
//	           NaN and an index that is no category give zeros
//	indicators = Cast(Not(IsNaN(x)))
//	out      = Concat(channels in feature order, indicators)
//
// Shape legend: B batch, T time, F features, C a feature's categories.

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/graph"
)

// Metadata keys of a model that preprocesses its input, which the writer
// derives from the Preprocess node (MetaCategories comes from the spec).
const (
	MetaMissing        = "trnn.missing"         // a spec's inputs.missing: refuse | zero | mean | forward_fill
	MetaIndicators     = "trnn.indicators"      // "true" | "false"
	MetaCategoryCounts = "trnn.category_counts" // JSON array of F ints: each feature's categories, 0 for numeric
	MetaCategories     = "trnn.categories"      // JSON object: each categorical feature's category names
)

// Names of the forward-fill state of the stateful model.
const (
	FillInput  = "fill_in"
	FillOutput = "fill_out"
)

// recordPreprocess checks the Preprocess node n, which must read x and be
// the only one.
func (e *exporter) recordPreprocess(n *graph.Node, in *seqValue) error {
	if in.name != graph.ValueX || e.pre != nil || e.norm != nil {
		return e.nodeErr(n, "preprocesses %q: only one Preprocess node, reading x, can be exported", in.name)
	}
	p, err := graph.PreprocessOf(n)
	if err != nil {
		return e.nodeErr(n, "%v", err)
	}
	if p.Normalize {
		std := e.param(n, "std")
		for f, v := range std.Tensor.F32 {
			if v == 0 && p.Categories[f] == 0 {
				return e.nodeErr(n, "parameter %s: element %d is 0, expected a nonzero deviation", std.Name, f)
			}
		}
	}
	e.pre, e.prep = n, p
	return nil
}

// fillsForward reports whether the model carries a forward-fill state.
func (e *exporter) fillsForward() bool {
	return e.pre != nil && e.prep.Missing == graph.MissingForwardFill
}

// preprocess emits the Preprocess node n reading x (batch-major).
func (e *exporter) preprocess(n *graph.Node, out *seqValue) {
	p := e.prep
	F := len(p.Categories)
	name := n.Name
	mean, std := e.param(n, "mean").Tensor.F32, e.param(n, "std").Tensor.F32
	src := graph.ValueX
	if p.Missing == graph.MissingForwardFill {
		src = e.forwardFill(name, F)
	}
	cur := src
	if p.Missing != graph.MissingRefuse {
		fill := make([]float32, F)
		for f, C := range p.Categories {
			switch {
			case C > 0:
				fill[f] = -1
			case p.Missing != graph.MissingZero:
				fill[f] = mean[f]
			}
		}
		e.node(name+".is_missing", "IsNaN", []string{src}, []string{name + ".is_missing"})
		fillName := e.addInit(name+".fill_value", &graph.Tensor{DType: graph.Float32, Shape: []int{F}, F32: fill})
		e.node(name+".impute", "Where", []string{name + ".is_missing", fillName, src}, []string{name + ".imputed"})
		cur = name + ".imputed"
	}
	if p.Normalize {
		m, s := make([]float32, F), make([]float32, F)
		for f, C := range p.Categories {
			m[f], s[f] = 0, 1
			if C == 0 {
				m[f], s[f] = mean[f], std[f]
			}
		}
		pm := e.param(n, "mean")
		ps := e.param(n, "std")
		mName := e.addInit(pm.Name, &graph.Tensor{DType: graph.Float32, Shape: []int{F}, F32: m})
		sName := e.addInit(ps.Name, &graph.Tensor{DType: graph.Float32, Shape: []int{F}, F32: s})
		e.node(name+".sub", "Sub", []string{cur, mName}, []string{name + ".centered"})
		e.node(name+".div", "Div", []string{name + ".centered", sName}, []string{name + ".normalized"})
		cur = name + ".normalized"
	}
	out.per, out.perTime = writePerName(out, false), false
	pieces := e.channels(name, cur, p)
	if p.Indicators {
		e.node(name+".x_missing", "IsNaN", []string{graph.ValueX}, []string{name + ".x_missing"})
		e.node(name+".observed", "Not", []string{name + ".x_missing"}, []string{name + ".observed"})
		e.node(name+".indicators", "Cast", []string{name + ".observed"}, []string{name + ".indicators"}, writeAttrInt("to", int64(graph.Float32)))
		pieces = append(pieces, name+".indicators")
	}
	switch {
	case len(pieces) == 1 && pieces[0] == graph.ValueX:
		e.node(name+".identity", "Identity", pieces, []string{out.per})
		return
	case len(pieces) == 1:
		e.rename(pieces[0], out.per)
		return
	}
	e.node(name+".concat", "Concat", pieces, []string{out.per}, writeAttrInt("axis", 2))
}

// channels emits the encoded features of v [B, T, F] in feature order and
// returns their values: v itself when every feature is numeric, else runs
// of numeric features and one one-hot block per categorical feature.
func (e *exporter) channels(name, v string, p graph.Preprocess) []string {
	categorical := false
	for _, C := range p.Categories {
		categorical = categorical || C > 0
	}
	if !categorical {
		return []string{v}
	}
	var pieces []string
	var run []int64
	flush := func() {
		if len(run) == 0 {
			return
		}
		idx := e.addInit(fmt.Sprintf("%s.numeric_%d", name, run[0]), &graph.Tensor{DType: graph.Int64, Shape: []int{len(run)}, I64: run})
		piece := fmt.Sprintf("%s.features_%d", name, run[0])
		e.node(piece, "Gather", []string{v, idx}, []string{piece}, writeAttrInt("axis", 2))
		pieces, run = append(pieces, piece), nil
	}
	for f, C := range p.Categories {
		if C == 0 {
			run = append(run, int64(f))
			continue
		}
		flush()
		col := fmt.Sprintf("%s.feature_%d", name, f)
		idx := e.addInit(col+".index", &graph.Tensor{DType: graph.Int64, Shape: []int{1}, I64: []int64{int64(f)}})
		e.node(col, "Gather", []string{v, idx}, []string{col}, writeAttrInt("axis", 2))
		e.node(col+".one_hot", "Equal", []string{col, e.categoryRange(C)}, []string{col + ".one_hot"})
		e.node(col+".cast", "Cast", []string{col + ".one_hot"}, []string{col + ".channels"}, writeAttrInt("to", int64(graph.Float32)))
		pieces = append(pieces, col+".channels")
	}
	flush()
	return pieces
}

// categoryRange returns a float32 [C] initializer holding 0, 1, ..., C−1.
func (e *exporter) categoryRange(C int) string {
	r := make([]float32, C)
	for k := range r {
		r[k] = float32(k)
	}
	return e.addInit("const.categories_"+strconv.Itoa(C), &graph.Tensor{DType: graph.Float32, Shape: []int{C}, F32: r})
}

// forwardFill emits the Scan along time that carries each feature's last
// observed value and returns the filled x [B, T, F]. The state advances at
// valid steps only, so padding, whatever it holds, leaves it as it was at
// each row's last valid step: that is fill_out in the stateful model.
func (e *exporter) forwardFill(name string, F int) string {
	valid := name + ".valid"
	e.mask()
	e.node(name+".valid", "Unsqueeze", []string{"mask.valid", e.axes(2)}, []string{valid})
	init := FillInput
	if !e.m.Stateful {
		init = e.nanState(name, F)
	}
	final := name + ".fill_final"
	if e.m.Stateful {
		final = FillOutput
	}
	filled := name + ".filled"
	e.node(name+".forward_fill", "Scan", []string{init, graph.ValueX, valid}, []string{final, filled},
		&onnxpb.AttributeProto{Name: proto.String("body"), Type: onnxpb.AttributeProto_GRAPH.Enum(), G: fillBody(name, F)},
		writeAttrInt("num_scan_inputs", 2),
		writeAttrInts("scan_input_axes", 1, 1),
		writeAttrInts("scan_output_axes", 1))
	return filled
}

// nanState emits a float32 [B, F] tensor of NaN: nothing observed yet.
func (e *exporter) nanState(name string, F int) string {
	nan := e.addInit(name+".nan", &graph.Tensor{DType: graph.Float32, Shape: []int{1, F}, F32: nanSlice(F)})
	first := e.addInit("const.first", &graph.Tensor{DType: graph.Int64, Shape: []int{1}, I64: []int64{0}})
	width := e.addInit(name+".width", &graph.Tensor{DType: graph.Int64, Shape: []int{1}, I64: []int64{int64(F)}})
	e.node(name+".x_shape", "Shape", []string{graph.ValueX}, []string{name + ".x_shape"})
	e.node(name+".batch", "Gather", []string{name + ".x_shape", first}, []string{name + ".batch"}, writeAttrInt("axis", 0))
	e.node(name+".state_shape", "Concat", []string{name + ".batch", width}, []string{name + ".state_shape"}, writeAttrInt("axis", 0))
	e.node(name+".fill_init", "Expand", []string{nan, name + ".state_shape"}, []string{name + ".fill_init"})
	return name + ".fill_init"
}

func nanSlice(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(math.NaN())
	}
	return s
}

// fillBody is the Scan body of forward fill: (state [B, F], x_t [B, F],
// valid_t bool [B, 1]) → (state', filled_t), filled_t = Where(IsNaN(x_t),
// state, x_t) and state' = Where(valid_t, filled_t, state).
func fillBody(name string, F int) *onnxpb.GraphProto {
	p := name + ".body."
	node := func(op string, in []string, out string) *onnxpb.NodeProto {
		return &onnxpb.NodeProto{Name: proto.String(p + out), OpType: proto.String(op), Input: in, Output: []string{p + out}}
	}
	f := int64(F)
	return &onnxpb.GraphProto{
		Name: proto.String(name + ".fill"),
		Node: []*onnxpb.NodeProto{
			node("IsNaN", []string{p + "x_t"}, "x_missing"),
			node("Where", []string{p + "x_missing", p + "state", p + "x_t"}, "filled"),
			node("Where", []string{p + "valid_t", p + "filled", p + "state"}, "next"),
		},
		Input: []*onnxpb.ValueInfoProto{
			writeValueInfo(p+"state", graph.Float32, graph.DimBatch, f),
			writeValueInfo(p+"x_t", graph.Float32, graph.DimBatch, f),
			writeValueInfo(p+"valid_t", graph.Bool, graph.DimBatch, int64(1)),
		},
		Output: []*onnxpb.ValueInfoProto{
			writeValueInfo(p+"next", graph.Float32, graph.DimBatch, f),
			writeValueInfo(p+"filled", graph.Float32, graph.DimBatch, f),
		},
	}
}

// preprocessMeta adds the keys that describe the preprocessing to m.
func (e *exporter) preprocessMeta(m map[string]string) {
	delete(m, MetaMissing)
	delete(m, MetaIndicators)
	delete(m, MetaCategoryCounts)
	if e.pre == nil {
		return
	}
	p := e.prep
	m[MetaMissing] = p.Missing
	m[MetaIndicators] = strconv.FormatBool(p.Indicators)
	b, _ := json.Marshal(p.Categories)
	m[MetaCategoryCounts] = string(b)
	if p.Normalize {
		m[MetaNormalize] = "standard"
		m[MetaNormMean] = writeJSONFloats(e.param(e.pre, "mean").Tensor.F32)
		m[MetaNormStd] = writeJSONFloats(e.param(e.pre, "std").Tensor.F32)
	}
}

// preprocessFromMeta decodes the preprocessing a model trnn wrote describes
// in its metadata, for F features; ok is false when it has none.
func preprocessFromMeta(meta map[string]string, F int) (p graph.Preprocess, ok bool) {
	missing, has := meta[MetaMissing]
	if !has {
		return p, false
	}
	var counts []int
	if json.Unmarshal([]byte(meta[MetaCategoryCounts]), &counts) != nil || len(counts) != F {
		return p, false
	}
	ind, err := strconv.ParseBool(meta[MetaIndicators])
	if err != nil {
		return p, false
	}
	p = graph.Preprocess{Missing: missing, Categories: counts, Indicators: ind, Normalize: meta[MetaNormalize] == "standard"}
	// The node's own rules (the modes, the category counts) decide.
	n := &graph.Node{Op: graph.OpPreprocess, Attrs: p.Attrs()}
	if _, err := graph.PreprocessOf(n); err != nil {
		return p, false
	}
	return p, true
}

// preprocess adds the Preprocess node, as the compiler lowers it.
func (b *seqBuilder) preprocess(p graph.Preprocess) {
	F := b.width
	b.node("preprocess", graph.OpPreprocess, "x_encoded", p.Attrs(), b.param("inputs.mean", F), b.param("inputs.std", F))
	b.width = p.Width()
}

// preprocessStats sets the statistics of dst's Preprocess node n from the
// constants the writer makes of them: the numeric features' mean and std
// that normalise, or else the means that impute. What src does not hold
// stays the identity (mean 0, std 1): the model does not use it.
func (c *initCopy) preprocessStats(n *graph.Node) error {
	mean, std := c.param(n, "mean"), c.param(n, "std")
	clear(mean)
	for i := range std {
		std[i] = 1
	}
	p, err := graph.PreprocessOf(n)
	if err != nil {
		return err
	}
	F := len(mean)
	m, s, fill := c.constant(n.Inputs[1]), c.constant(n.Inputs[2]), c.constant(n.Name+".fill_value")
	for f, C := range p.Categories {
		switch {
		case C > 0:
		case p.Normalize && m != nil && s != nil && len(m.F32) == F && len(s.F32) == F:
			mean[f], std[f] = m.F32[f], s.F32[f]
		case fill != nil && len(fill.F32) == F && (p.Missing == graph.MissingMean || p.Missing == graph.MissingForwardFill):
			mean[f] = fill.F32[f]
		}
	}
	return nil
}
