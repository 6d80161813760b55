package export_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/runtime"
)

// writeGoldenUpdate is the -update flag: rewrite the golden files instead of
// comparing with them. The flag may be shared with other tests of the
// package, so it is looked up before being defined.
var writeGoldenUpdate = func() *bool {
	if flag.Lookup("update") != nil {
		return nil
	}
	return flag.Bool("update", false, "rewrite golden files")
}()

func updating() bool {
	if writeGoldenUpdate != nil {
		return *writeGoldenUpdate
	}
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// demoConfig is the small model of the golden test: every kind of node the
// writer handles.
var demoConfig = progConfig{
	name:      "demo",
	layers:    []compiler.Layer{lstm(5), dropout(0.5), gru(3)},
	F:         4,
	K:         2,
	normalize: true,
	stepProbs: true,
	seed:      1,
}

const testVersion = "0.0.0-test"

// build is export.Build of the model runtime.ExportModel makes of prog, as
// the command line exports a checkpoint's program.
func build(prog *compiler.Program, opts export.Options) (*onnxpb.ModelProto, error) {
	m, err := runtime.ExportModel(prog, opts)
	if err != nil {
		return nil, err
	}
	return export.Build(m)
}

func mustBuild(t testing.TB, prog *compiler.Program, opts export.Options) *onnxpb.ModelProto {
	t.Helper()
	m, err := build(prog, opts)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return m
}

// dumpModel prints a model's interface, initializers, nodes and metadata
// one per line, for golden files and failure messages.
func dumpModel(m *onnxpb.ModelProto) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ir_version %d", m.GetIrVersion())
	for _, o := range m.GetOpsetImport() {
		fmt.Fprintf(&b, ", opset %q %d", o.GetDomain(), o.GetVersion())
	}
	fmt.Fprintf(&b, ", producer %s %s\n", m.GetProducerName(), m.GetProducerVersion())
	g := m.GetGraph()
	fmt.Fprintf(&b, "graph %q\n", g.GetName())
	vi := func(kind string, v *onnxpb.ValueInfoProto) {
		tt := v.GetType().GetTensorType()
		var dims []string
		for _, d := range tt.GetShape().GetDim() {
			if d.GetDimParam() != "" {
				dims = append(dims, d.GetDimParam())
			} else {
				dims = append(dims, strconv.FormatInt(d.GetDimValue(), 10))
			}
		}
		fmt.Fprintf(&b, "%s %s %s[%s]\n", kind, v.GetName(), onnxpb.TensorProto_DataType(tt.GetElemType()), strings.Join(dims, ","))
	}
	for _, v := range g.GetInput() {
		vi("input", v)
	}
	for _, v := range g.GetOutput() {
		vi("output", v)
	}
	for _, t := range g.GetInitializer() {
		fmt.Fprintf(&b, "initializer %s %s%v\n", t.GetName(), onnxpb.TensorProto_DataType(t.GetDataType()), t.GetDims())
	}
	for _, n := range g.GetNode() {
		fmt.Fprintf(&b, "node %s: %s(%s) -> %s", n.GetName(), n.GetOpType(), strings.Join(n.GetInput(), ", "), strings.Join(n.GetOutput(), ", "))
		for _, a := range n.GetAttribute() {
			switch a.GetType() {
			case onnxpb.AttributeProto_INT:
				fmt.Fprintf(&b, " %s=%d", a.GetName(), a.GetI())
			case onnxpb.AttributeProto_INTS:
				fmt.Fprintf(&b, " %s=%v", a.GetName(), a.GetInts())
			case onnxpb.AttributeProto_STRING:
				fmt.Fprintf(&b, " %s=%q", a.GetName(), a.GetS())
			default:
				fmt.Fprintf(&b, " %s=<%v>", a.GetName(), a.GetType())
			}
		}
		b.WriteByte('\n')
	}
	for _, p := range m.GetMetadataProps() {
		v := p.GetValue()
		if strings.Contains(v, "\n") {
			v = "|\n    " + strings.ReplaceAll(strings.TrimSuffix(v, "\n"), "\n", "\n    ")
		}
		fmt.Fprintf(&b, "metadata %s = %s\n", p.GetKey(), v)
	}
	return b.String()
}

// minimalConfig is the smallest model: one LSTM layer, one label, no
// normalisation, probs only.
var minimalConfig = progConfig{name: "minimal", layers: []compiler.Layer{lstm(3)}, F: 2, K: 1, seed: 2}

func TestGoldenNodeList(t *testing.T) {
	for _, tc := range []struct {
		file  string
		c     progConfig
		opset int
	}{
		{"demo_opset17.txt", demoConfig, 17},
		{"minimal_opset14.txt", minimalConfig, 14},
	} {
		prog := testProgram(t, tc.c)
		m := mustBuild(t, prog, export.Options{Opset: tc.opset, Version: testVersion})
		got := dumpModel(m)
		path := filepath.Join("..", "testdata", "golden", "export", tc.file)
		if updating() {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./export -run TestGoldenNodeList -update to create it)", err)
		}
		if got != string(want) {
			gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
			for i := 0; i < len(gl) || i < len(wl); i++ {
				var g, w string
				if i < len(gl) {
					g = gl[i]
				}
				if i < len(wl) {
					w = wl[i]
				}
				if g != w {
					t.Fatalf("%s: first difference at line %d:\n got: %s\nwant: %s\n(run with -update if the change is intended)", path, i+1, g, w)
				}
			}
		}
	}
}

// importerOps are the ONNX operators the importer reads; every node the
// writer emits must be one of them.
var importerOps = map[string]bool{}

func init() {
	for _, s := range strings.Fields("LSTM GRU Gemm MatMul Add Sub Div Mul Sigmoid Tanh Relu Transpose Squeeze Unsqueeze Reshape Gather Cast Constant Shape Concat Identity Range Less Greater Equal Where Slice Expand Not And") {
		importerOps[s] = true
	}
}

func initializer(m *onnxpb.ModelProto, name string) *onnxpb.TensorProto {
	for _, t := range m.GetGraph().GetInitializer() {
		if t.GetName() == name {
			return t
		}
	}
	return nil
}

func rawFloats(t *onnxpb.TensorProto) []float32 {
	raw := t.GetRawData()
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(uint32(raw[4*i]) | uint32(raw[4*i+1])<<8 | uint32(raw[4*i+2])<<16 | uint32(raw[4*i+3])<<24)
	}
	return out
}

func opTypes(m *onnxpb.ModelProto) []string {
	var out []string
	for _, n := range m.GetGraph().GetNode() {
		out = append(out, n.GetOpType())
	}
	return out
}

func TestBuildStructure(t *testing.T) {
	for _, c := range []progConfig{
		{name: "l", layers: []compiler.Layer{lstm(6), dropout(0.3), lstm(4)}, F: 3, K: 2, seed: 2},
		{name: "g", layers: []compiler.Layer{gru(6), gru(4)}, F: 3, K: 1, normalize: true, stepProbs: true, seed: 3},
	} {
		t.Run(describe(c.layers), func(t *testing.T) {
			prog := testProgram(t, c)
			m := mustBuild(t, prog, export.Options{Version: testVersion})
			g := m.GetGraph()
			if m.GetIrVersion() != 8 || len(m.GetOpsetImport()) != 1 || m.GetOpsetImport()[0].GetDomain() != "" || m.GetOpsetImport()[0].GetVersion() != 17 {
				t.Errorf("ir_version %d, opset_import %v: want 8 and the default domain at 17", m.GetIrVersion(), m.GetOpsetImport())
			}
			if m.GetProducerName() != "trnn" || m.GetProducerVersion() != testVersion {
				t.Errorf("producer %q %q", m.GetProducerName(), m.GetProducerVersion())
			}
			recurrent := 0
			for _, n := range g.GetNode() {
				if !importerOps[n.GetOpType()] {
					t.Errorf("node %s: op %s is not one the importer reads", n.GetName(), n.GetOpType())
				}
				if n.GetDomain() != "" {
					t.Errorf("node %s: domain %q", n.GetName(), n.GetDomain())
				}
				if n.GetOpType() != "LSTM" && n.GetOpType() != "GRU" {
					continue
				}
				recurrent++
				// X, W, R, B, sequence_lens; no initial_h, initial_c, P.
				if len(n.GetInput()) != 5 || n.GetInput()[4] != "lengths" {
					t.Errorf("node %s inputs %v: want X, W, R, B, lengths", n.GetName(), n.GetInput())
				}
				attrs := map[string]*onnxpb.AttributeProto{}
				for _, a := range n.GetAttribute() {
					attrs[a.GetName()] = a
				}
				for _, forbidden := range []string{"clip", "layout", "activations", "input_forget"} {
					if attrs[forbidden] != nil {
						t.Errorf("node %s has attribute %s", n.GetName(), forbidden)
					}
				}
				if string(attrs["direction"].GetS()) != "forward" {
					t.Errorf("node %s: direction %q", n.GetName(), attrs["direction"].GetS())
				}
				if n.GetOpType() == "GRU" && attrs["linear_before_reset"].GetI() != 1 {
					t.Errorf("node %s: linear_before_reset %d", n.GetName(), attrs["linear_before_reset"].GetI())
				}
				H := int(attrs["hidden_size"].GetI())
				gates := 4
				if n.GetOpType() == "GRU" {
					gates = 3
				}
				// W and R: the same data, with a leading directions axis.
				for _, i := range []int{1, 2} {
					name := n.GetInput()[i]
					p := prog.Graph.Param(name).Tensor
					init := initializer(m, name)
					if init == nil || len(init.GetDims()) != 3 || init.GetDims()[0] != 1 || int(init.GetDims()[1]) != gates*H || int(init.GetDims()[2]) != p.Shape[1] {
						t.Fatalf("%s: initializer dims %v for param %v", name, init.GetDims(), p.Shape)
					}
					if got := rawFloats(init); !equalF32(got, p.F32) {
						t.Errorf("%s: initializer data differs from the parameter", name)
					}
				}
				bName := n.GetInput()[3]
				b := rawFloats(initializer(m, bName))
				pb := prog.Graph.Param(bName).Tensor.F32
				if len(b) != 2*gates*H {
					t.Fatalf("%s: %d values, want %d", bName, len(b), 2*gates*H)
				}
				if gates == 4 {
					// [Wb = the graph's bias, Rb = 0]
					if !equalF32(b[:4*H], pb) || !equalF32(b[4*H:], make([]float32, 4*H)) {
						t.Errorf("%s: want [bias, zeros], got %v (bias %v)", bName, b, pb)
					}
				} else if !equalF32(b, pb) {
					t.Errorf("%s: GRU bias not written as is", bName)
				}
			}
			if recurrent != 2 {
				t.Errorf("%d recurrent nodes, want 2 (dropout must disappear)", recurrent)
			}
			for _, n := range g.GetNode() {
				if strings.Contains(n.GetName(), "layers.1") && c.layers[1].Kind == compiler.LayerDropout {
					t.Errorf("node %s exported for a dropout layer", n.GetName())
				}
			}
			// Inputs and outputs.
			var ios []string
			for _, v := range g.GetInput() {
				ios = append(ios, "in:"+v.GetName())
			}
			for _, v := range g.GetOutput() {
				ios = append(ios, "out:"+v.GetName())
			}
			want := "in:x in:lengths out:probs"
			if c.stepProbs {
				want += " out:step_probs"
			}
			if strings.Join(ios, " ") != want {
				t.Errorf("graph inputs/outputs %v, want %s", ios, want)
			}
			// Normalisation folded in as Sub and Div.
			ops := strings.Join(opTypes(m), " ")
			if c.normalize != strings.HasPrefix(ops, "Sub Div Transpose") {
				t.Errorf("normalize=%v but nodes are %s", c.normalize, ops)
			}
			if !c.normalize && !strings.HasPrefix(ops, "Transpose") {
				t.Errorf("nodes %s: want a leading Transpose", ops)
			}
		})
	}
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func TestOpsetSelection(t *testing.T) {
	for _, tc := range []struct {
		spec, opt int
		want      int
		ir        int64
		err       string
	}{
		{0, 0, 17, 8, ""},
		{14, 0, 14, 7, ""},
		{15, 0, 15, 8, ""},
		{18, 0, 18, 8, ""},
		{19, 0, 19, 9, ""},
		{20, 0, 20, 9, ""},
		{14, 21, 21, 10, ""},
		{0, 13, 0, 0, "export: opset 13 is not supported: expected 14..21"},
		{0, 22, 0, 0, "export: opset 22 is not supported: expected 14..21"},
		{12, 0, 0, 0, "export: opset 12 is not supported: expected 14..21"},
		{0, -1, 0, 0, "export: opset -1 is not supported: expected 14..21"},
	} {
		c := demoConfig
		c.opset = tc.spec
		m, err := build(testProgram(t, c), export.Options{Opset: tc.opt})
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("spec opset %d, option %d: err = %v, want %q", tc.spec, tc.opt, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("spec opset %d, option %d: %v", tc.spec, tc.opt, err)
			continue
		}
		if got := m.GetOpsetImport()[0].GetVersion(); got != int64(tc.want) || m.GetIrVersion() != tc.ir {
			t.Errorf("spec opset %d, option %d: opset %d ir %d, want %d and %d", tc.spec, tc.opt, got, m.GetIrVersion(), tc.want, tc.ir)
		}
	}
}

func TestStepProbsOption(t *testing.T) {
	for _, tc := range []struct {
		spec, opt bool
		want      []string
	}{
		{false, false, []string{"probs"}},
		{false, true, []string{"probs", "step_probs"}},
		{true, false, []string{"probs", "step_probs"}},
	} {
		c := demoConfig
		c.stepProbs = tc.spec
		m := mustBuild(t, testProgram(t, c), export.Options{StepProbs: tc.opt})
		var got []string
		for _, o := range m.GetGraph().GetOutput() {
			got = append(got, o.GetName())
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("spec %v, option %v: outputs %v, want %v", tc.spec, tc.opt, got, tc.want)
		}
		// Without step_probs nothing per-step beyond the recurrent layers
		// is computed: no MatMul, no mask.
		hasMask := strings.Contains(strings.Join(opTypes(m), " "), "Range")
		if hasMask != (len(tc.want) == 2) {
			t.Errorf("spec %v, option %v: mask nodes present = %v", tc.spec, tc.opt, hasMask)
		}
	}
}

func metadataMap(m *onnxpb.ModelProto) map[string]string {
	out := map[string]string{}
	for _, p := range m.GetMetadataProps() {
		out[p.GetKey()] = p.GetValue()
	}
	return out
}

func TestMetadata(t *testing.T) {
	prog := testProgram(t, demoConfig)
	prog.Graph.Meta["origin"] = "unit test"
	prog.Graph.Meta[export.MetaVersion] = "stale" // the writer's keys win
	md := metadataMap(mustBuild(t, prog, export.Options{Version: "1.2.3"}))
	if md[export.MetaVersion] != "1.2.3" || md[export.MetaSpecName] != "demo" || md[export.MetaNormalize] != "standard" || md[export.MetaAlpha] != "0.5" || md["origin"] != "unit test" {
		t.Errorf("metadata %v", md)
	}
	var feats, labels []string
	if err := json.Unmarshal([]byte(md[export.MetaFeatureNames]), &feats); err != nil || strings.Join(feats, ",") != "feat_0,feat_1,feat_2,feat_3" {
		t.Errorf("%s = %s (%v)", export.MetaFeatureNames, md[export.MetaFeatureNames], err)
	}
	if err := json.Unmarshal([]byte(md[export.MetaLabelNames]), &labels); err != nil || strings.Join(labels, ",") != "dx_0,dx_1" {
		t.Errorf("%s = %s (%v)", export.MetaLabelNames, md[export.MetaLabelNames], err)
	}
	// The statistics read back to the very same float32 values.
	for key, param := range map[string]string{export.MetaNormMean: "inputs.mean", export.MetaNormStd: "inputs.std"} {
		var vals []float64
		if err := json.Unmarshal([]byte(md[key]), &vals); err != nil {
			t.Fatalf("%s = %s: %v", key, md[key], err)
		}
		want := prog.Graph.Param(param).Tensor.F32
		got := make([]float32, len(vals))
		for i, v := range vals {
			got[i] = float32(v)
		}
		if !equalF32(got, want) {
			t.Errorf("%s = %v, want %v", key, got, want)
		}
	}

	// The resolved spec parses back to the program's spec, with the export
	// section of this file.
	back, err := compiler.Parse("trnn.spec", []byte(md[export.MetaSpec]))
	if err != nil {
		t.Fatalf("%s does not parse: %v\n%s", export.MetaSpec, err, md[export.MetaSpec])
	}
	want := *prog.Spec
	want.Export = compiler.Export{Opset: 17, StepProbs: true}
	b1, _ := compiler.MarshalSpec(back)
	b2, _ := compiler.MarshalSpec(&want)
	if string(b1) != string(b2) || !reflect.DeepEqual(back.Layers, want.Layers) || back.Export != want.Export ||
		!reflect.DeepEqual(back.Inputs, want.Inputs) || !reflect.DeepEqual(back.Outputs, want.Outputs) {
		t.Errorf("%s parses to\n%+v\nwant\n%+v", export.MetaSpec, back, &want)
	}

	// Without normalisation: "none" and no statistics; generated names.
	c := demoConfig
	c.normalize = false
	prog = testProgram(t, c)
	prog.Spec.Inputs.FeatureNames = nil
	prog.Spec.Outputs.LabelNames = nil
	prog.Graph.Meta[export.MetaNormMean] = "[1]" // stale statistics are dropped
	md = metadataMap(mustBuild(t, prog, export.Options{}))
	if md[export.MetaNormalize] != "none" || md[export.MetaNormMean] != "" || md[export.MetaNormStd] != "" {
		t.Errorf("normalize none: metadata %v", md)
	}
	if md[export.MetaFeatureNames] != `["f0","f1","f2","f3"]` || md[export.MetaLabelNames] != `["y0","y1"]` || md[export.MetaVersion] != "(devel)" {
		t.Errorf("generated names: %s %s, version %s", md[export.MetaFeatureNames], md[export.MetaLabelNames], md[export.MetaVersion])
	}
}

// TestBuildErrors breaks a good program in one way at a time; each must be
// refused with a message naming what is wrong, and none may panic. The
// graph's own invariants are graph.Verify's, whose first message the
// writer repeats; the spec's agreement with the graph is checked by
// runtime.ExportModel.
func TestBuildErrors(t *testing.T) {
	node := func(p *compiler.Program, name string) *graph.Node {
		for _, n := range p.Graph.Nodes {
			if n.Name == name {
				return n
			}
		}
		t.Fatalf("no node %s", name)
		return nil
	}
	for _, tc := range []struct {
		name   string
		opts   export.Options
		mutate func(p *compiler.Program)
		want   string // regexp
	}{
		{"nil graph", export.Options{}, func(p *compiler.Program) { p.Graph = nil }, `^export: program has no graph or no spec$`},
		{"nil spec", export.Options{}, func(p *compiler.Program) { p.Spec = nil }, `^export: program has no graph or no spec$`},
		{"tensor form", export.Options{}, func(p *compiler.Program) { p.Graph.Form = graph.FormTensor },
			`^export: graph "demo" is in tensor form: only sequence-form graphs compiled from a spec can be exported$`},
		{"unknown op", export.Options{}, func(p *compiler.Program) { node(p, "sigmoid").Op = graph.OpTanh },
			`^export: graph "demo": node "sigmoid" \(Tanh\): op Tanh is not a sequence op`},
		{"W shape", export.Options{}, func(p *compiler.Program) { p.Graph.Param("layers.0.W").Tensor.Shape = []int{20, 5} },
			`^export: graph "demo": parameter "layers.0.W" has 80 values for shape \[20,5\]`},
		{"W input width", export.Options{}, func(p *compiler.Program) {
			w := p.Graph.Param("layers.0.W").Tensor
			w.Shape, w.F32 = []int{20, 3}, w.F32[:60]
		}, `^export: graph "demo": node "layers.0" \(LSTM\): W "layers.0.W" has shape \[20,3\], want \[20,4\]`},
		{"GRU bias", export.Options{}, func(p *compiler.Program) {
			b := p.Graph.Param("layers.2.B").Tensor
			b.Shape, b.F32 = []int{9}, b.F32[:9]
		}, `^export: graph "demo": node "layers.2" \(GRU\): B "layers.2.B" has shape \[9\], want \[18\]`},
		{"R not square blocks", export.Options{}, func(p *compiler.Program) { p.Graph.Param("layers.2.R").Tensor.Shape = []int{3, 9} },
			`^export: graph "demo": node "layers.2" \(GRU\): R "layers.2.R" has shape \[3,9\], want \[9,3\]`},
		{"hidden_size", export.Options{}, func(p *compiler.Program) {
			node(p, "layers.0").Attrs["hidden_size"] = graph.Attr{Kind: graph.AttrInt, Int: 6}
		},
			`^export: graph "demo": node "layers.0" \(LSTM\): W "layers.0.W" has shape \[20,4\], want \[24,4\]`},
		{"linear_before_reset", export.Options{}, func(p *compiler.Program) {
			node(p, "layers.2").Attrs["linear_before_reset"] = graph.Attr{Kind: graph.AttrInt, Int: 0}
		}, `^export: graph "demo": node "layers.2" \(GRU\): attribute linear_before_reset must be the int 1`},
		{"NaN weight", export.Options{}, func(p *compiler.Program) { p.Graph.Param("head.W").Tensor.F32[3] = float32(math.NaN()) },
			`^export: parameter head.W: element 3 is NaN, expected a finite value$`},
		{"Inf bias", export.Options{}, func(p *compiler.Program) { p.Graph.Param("head.b").Tensor.F32[1] = float32(math.Inf(-1)) },
			`^export: parameter head.b: element 1 is -Inf, expected a finite value$`},
		{"float64 param", export.Options{}, func(p *compiler.Program) {
			p.Graph.Param("head.b").Tensor = &graph.Tensor{DType: graph.Float64, Shape: []int{2}, F64: []float64{0, 0}}
		}, `^export: graph "demo": parameter "head.b" is float64, want float32`},
		{"zero std", export.Options{}, func(p *compiler.Program) { p.Graph.Param("inputs.std").Tensor.F32[2] = 0 },
			`^export: node "normalize" \(Normalize\): parameter inputs.std: element 2 is 0, expected a nonzero deviation$`},
		{"param is a value", export.Options{}, func(p *compiler.Program) { node(p, "head").Inputs[2] = "x" },
			`^export: graph "demo": node "head" \(Dense\): input b "x" is not a parameter`},
		{"undefined input", export.Options{}, func(p *compiler.Program) { node(p, "head").Inputs[0] = "layers.9.y" },
			`^export: graph "demo": node "head" \(Dense\): input "layers.9.y" is not defined`},
		{"redefined value", export.Options{}, func(p *compiler.Program) { node(p, "layers.2").Outputs[0] = "layers.0.y" },
			`^export: graph "demo": node "layers.2" \(GRU\): output "layers.0.y" is already defined as the output of node "layers.0"`},
		{"duplicate node name", export.Options{}, func(p *compiler.Program) { node(p, "layers.2").Name = "layers.0" },
			`^export: graph "demo": node name "layers.0" is used twice`},
		{"arity", export.Options{}, func(p *compiler.Program) { n := node(p, "layers.0"); n.Inputs = n.Inputs[:3] },
			`^export: graph "demo": node "layers.0" \(LSTM\): has 3 inputs and 1 outputs, want 4 and 1`},
		{"no probs", export.Options{}, func(p *compiler.Program) { p.Graph.Outputs = p.Graph.Outputs[:2] },
			`^export: graph "demo": graph output "probs" is missing`},
		{"no step_probs", export.Options{}, func(p *compiler.Program) { p.Graph.Outputs = p.Graph.Outputs[2:] },
			`^export: graph "demo": graph output "logits" is missing`},
		{"probs not last", export.Options{}, func(p *compiler.Program) {
			n := node(p, "last")
			n.Op = graph.OpSigmoid
			n.Inputs[0] = "logits"
		}, `^export: graph "demo": graph output "probs" is declared float32 \[batch,2\], but its producer gives float32 \[batch,time,2\]`},
		{"probs not last, declared so", export.Options{}, func(p *compiler.Program) {
			// A graph whose probs is per-step throughout: valid, but not
			// what the ONNX model's probs is.
			n := node(p, "last")
			n.Op = graph.OpSigmoid
			n.Inputs[0] = "logits"
			p.Graph.Outputs[2].Shape = p.Graph.Outputs[1].Shape
			p.Graph.Values["probs"].Shape = p.Graph.Values["step_probs"].Shape
		}, `^export: output probs is not taken at the last step \(it must come from a LastStep node\)$`},
		{"labels", export.Options{}, func(p *compiler.Program) { p.Spec.Outputs.Labels = 3 },
			`^export: output probs has 2 labels, the spec says 3$`},
		{"features", export.Options{}, func(p *compiler.Program) { p.Spec.Inputs.Features = 5 },
			`^export: graph input x has 4 features, the spec says 5$`},
		{"extra input", export.Options{}, func(p *compiler.Program) {
			p.Graph.Inputs = append(p.Graph.Inputs, graph.Value{Name: "mask", DType: graph.Float32})
		}, `^export: graph "demo": inputs are \["x" "lengths" "mask"\], want \[x lengths\]`},
		{"lengths dtype", export.Options{}, func(p *compiler.Program) { p.Graph.Inputs[1].DType = graph.Int64 },
			`^export: graph "demo": input lengths is int64 \[batch\], want int32 \[batch\]`},
		{"normalize mismatch", export.Options{}, func(p *compiler.Program) { p.Spec.Inputs.Normalize = "none" },
			`^export: spec "demo" says normalize "none" but the graph has 1 Normalize node\(s\)$`},
		{"normalize unknown", export.Options{}, func(p *compiler.Program) { p.Spec.Inputs.Normalize = "minmax" },
			`^export: spec "demo": inputs.normalize is "minmax", expected none or standard$`},
		{"feature names", export.Options{}, func(p *compiler.Program) { p.Spec.Inputs.FeatureNames = p.Spec.Inputs.FeatureNames[:3] },
			`^export: spec "demo" has 3 feature names for 4 features$`},
		{"LastStep of a recurrent input", export.Options{}, func(p *compiler.Program) {
			n := node(p, "layers.2")
			n.Inputs[0] = "probs"
		}, `^export: graph "demo": node "layers.2" \(GRU\): input "probs" is used before node "last" defines it`},
		{"name collision", export.Options{}, func(p *compiler.Program) {
			// A value named like the mask the writer builds.
			node(p, "normalize").Outputs[0] = "mask"
			node(p, "layers.0").Inputs[0] = "mask"
			v := *p.Graph.Values["x_norm"]
			v.Name = "mask"
			p.Graph.Values["mask"] = &v
			delete(p.Graph.Values, "x_norm")
		}, `^export: ONNX value "mask" is defined twice \(node "mask.unsqueeze"\)$`},
		{"values not inferred", export.Options{}, func(p *compiler.Program) {
			p.Graph.Values = nil
		}, `^export: graph "demo": Values is not filled in$`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog := testProgram(t, demoConfig)
			tc.mutate(prog)
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("Build panicked: %v", r)
					}
				}()
				_, err = build(prog, tc.opts)
			}()
			if err == nil {
				t.Fatalf("Build succeeded, want an error matching %s", tc.want)
			}
			if !regexp.MustCompile(tc.want).MatchString(err.Error()) {
				t.Errorf("error:\n  %v\nwant a match for\n  %s", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
		})
	}
	if _, err := export.Build(nil); err == nil {
		t.Error("Build(nil) succeeded")
	}
	if _, err := runtime.ExportModel(nil, export.Options{}); err == nil {
		t.Error("ExportModel(nil) succeeded")
	}
}

func TestWriteONNXFile(t *testing.T) {
	prog := testProgram(t, demoConfig)
	dir := t.TempDir()
	path := filepath.Join(dir, "model.onnx")
	if err := runtime.WriteModelFile(path, prog, export.Options{Version: testVersion}); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := runtime.WriteModel(&buf, prog, export.Options{Version: testVersion}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, buf.Bytes()) {
		t.Error("WriteONNXFile and WriteONNX wrote different bytes")
	}
	// The program is only read.
	fresh := testProgram(t, demoConfig)
	for i, p := range prog.Graph.Params {
		if !equalF32(p.Tensor.F32, fresh.Graph.Params[i].Tensor.F32) || fmt.Sprint(p.Tensor.Shape) != fmt.Sprint(fresh.Graph.Params[i].Tensor.Shape) {
			t.Errorf("exporting changed parameter %s", p.Name)
		}
	}
	if len(prog.Graph.Nodes) != len(fresh.Graph.Nodes) || len(prog.Graph.Meta) != len(fresh.Graph.Meta) {
		t.Error("exporting changed the graph")
	}
	// Deterministic, and decodes back to what Build returns.
	var again bytes.Buffer
	runtime.WriteModel(&again, testProgram(t, demoConfig), export.Options{Version: testVersion})
	if !bytes.Equal(again.Bytes(), got) {
		t.Error("two exports of the same program differ")
	}
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(got, &m); err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(&m, mustBuild(t, prog, export.Options{Version: testVersion})) {
		t.Error("the written file does not decode to export.Build's model")
	}

	// A failed export leaves the existing file alone and no temporary files.
	bad := testProgram(t, demoConfig)
	bad.Graph.Param("head.W").Tensor.F32[0] = float32(math.NaN())
	err = runtime.WriteModelFile(path, bad, export.Options{})
	if err == nil || !strings.HasPrefix(err.Error(), path+": export: parameter head.W: element 0 is NaN") {
		t.Errorf("err = %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, got) {
		t.Error("a failed export changed the existing file")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %v, want only model.onnx", names)
	}
	if err := runtime.WriteModelFile(filepath.Join(dir, "missing", "model.onnx"), prog, export.Options{}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("writing into a missing folder: err = %v", err)
	}
	var fw failWriter
	if err := runtime.WriteModel(&fw, prog, export.Options{}); !errors.Is(err, errFailWriter) {
		t.Errorf("WriteONNX to a failing writer: err = %v", err)
	}
}

var errFailWriter = errors.New("disk full")

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errFailWriter }
