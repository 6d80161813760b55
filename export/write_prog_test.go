package export_test

// Test programs: sequence-form graphs with random "trained" parameters, and
// an independent float64 forward pass over the same parameters that the
// exported models are checked against.
//
// Shape legend: B rows, T steps, F features, H hidden units, K labels.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trnn/trnn/compiler"
)

// progConfig describes a test model.
type progConfig struct {
	name      string
	layers    []compiler.Layer // lstm, gru and dropout entries, as in a spec
	F, K      int
	normalize bool
	stepProbs bool // the spec's export.step_probs
	opset     int  // the spec's export.opset (0 = default)
	seed      uint64
	edit      func(*compiler.Spec) // changes to the spec before compiling; nil = none
}

func lstm(units int) compiler.Layer { return compiler.Layer{Kind: compiler.LayerLSTM, Units: units} }
func gru(units int) compiler.Layer  { return compiler.Layer{Kind: compiler.LayerGRU, Units: units} }
func dropout(rate float64) compiler.Layer {
	return compiler.Layer{Kind: compiler.LayerDropout, Rate: rate}
}

// describe is a short name for a layer stack: "lstm7-drop-lstm5".
func describe(layers []compiler.Layer) string {
	var s []string
	for _, l := range layers {
		if l.Kind == compiler.LayerDropout {
			s = append(s, "drop")
		} else {
			s = append(s, fmt.Sprintf("%s%d", l.Kind, l.Units))
		}
	}
	return strings.Join(s, "-")
}

// testSpec is the spec of a test model, from the compiler's defaults.
func testSpec(c progConfig) *compiler.Spec {
	spec := compiler.DefaultSpec()
	spec.Name = c.name
	spec.Inputs.Features = c.F
	spec.Inputs.Normalize = compiler.NormalizeNone
	if c.normalize {
		spec.Inputs.Normalize = compiler.NormalizeStandard
	}
	spec.Layers = c.layers
	spec.Outputs.Labels = c.K
	spec.Objective.Alpha = 0.5
	for i := 0; i < c.F; i++ {
		spec.Inputs.FeatureNames = append(spec.Inputs.FeatureNames, fmt.Sprintf("feat_%d", i))
	}
	if c.K == 1 {
		spec.Outputs.LabelNames = []string{"died"}
	} else {
		for i := 0; i < c.K; i++ {
			spec.Outputs.LabelNames = append(spec.Outputs.LabelNames, fmt.Sprintf("dx_%d", i))
		}
	}
	return spec
}

// testProgram compiles the model c describes with compiler.Compile and gives
// it random "trained" parameters: weights uniform in ±0.6, biases in ±0.4,
// non-trivial normalisation statistics. The spec's export section is set
// after compiling to c.opset and c.stepProbs, values the compiler might
// refuse, so that the exporter's own checks are tested.
func testProgram(t testing.TB, c progConfig) *compiler.Program {
	t.Helper()
	spec := testSpec(c)
	if c.edit != nil {
		c.edit(spec)
	}
	prog, err := compiler.Compile(spec)
	if err != nil {
		t.Fatalf("compiling %s: %v", c.name, err)
	}
	prog.Spec.Export = compiler.Export{Opset: c.opset, StepProbs: c.stepProbs}
	rng := rand.New(rand.NewPCG(c.seed, 0x5eed))
	for _, p := range prog.Graph.Params {
		f := p.Tensor.F32
		switch {
		case p.Name == compiler.ParamMean:
			for i := range f {
				f[i] = float32(rng.Float64()*4 - 2)
			}
		case p.Name == compiler.ParamStd:
			for i := range f {
				f[i] = float32(0.5 + rng.Float64()*2)
			}
		case strings.HasSuffix(p.Name, ".B") || strings.HasSuffix(p.Name, ".b"):
			for i := range f {
				f[i] = float32(rng.Float64()*0.8 - 0.4)
			}
		default:
			for i := range f {
				f[i] = float32(rng.Float64()*1.2 - 0.6)
			}
		}
	}
	return prog
}

// refForward is the oracle: the model's forward pass in float64, written
// from ONNX's LSTM and GRU equations and the spec, reading the parameters by
// name. x is [B, T, F] row-major; rows are valid for t < lengths[b] (a
// length of 0 gives a zero state). It returns probs [B, K] and step_probs
// [B, T, K] (0 at padded steps).
func refForward(prog *compiler.Program, x []float32, B, T int, lengths []int32) (probs, stepProbs []float64) {
	spec, g := prog.Spec, prog.Graph
	F, K := spec.Inputs.Features, spec.Outputs.Labels
	p := func(name string) []float64 {
		t := g.Param(name).Tensor
		out := make([]float64, len(t.F32))
		for i, v := range t.F32 {
			out[i] = float64(v)
		}
		return out
	}
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	// seq[b][t] is the current layer's input at row b, step t.
	seq := make([][][]float64, B)
	for b := range seq {
		seq[b] = make([][]float64, lengths[b])
		for t := range seq[b] {
			row := make([]float64, F)
			for f := range row {
				row[f] = float64(x[(b*T+t)*F+f])
			}
			seq[b][t] = row
		}
	}
	if spec.Inputs.Normalize == "standard" {
		mean, std := p("inputs.mean"), p("inputs.std")
		for b := range seq {
			for _, row := range seq[b] {
				for f := range row {
					// float32 like the exported Sub and Div, so that
					// 1e6-sized inputs round the same way.
					row[f] = float64((float32(row[f]) - float32(mean[f])) / float32(std[f]))
				}
			}
		}
	}
	width := F
	last := make([][]float64, B) // state after each row's last valid step
	for i, l := range spec.Layers {
		if l.Kind == compiler.LayerDropout {
			continue
		}
		name := fmt.Sprintf("layers.%d", i)
		H := l.Units
		W, R, Bias := p(name+".W"), p(name+".R"), p(name+".B")
		// dot(M, row r, v) = Σ_j M[r, j]·v[j]
		dot := func(M []float64, r int, v []float64) float64 {
			s := 0.0
			for j, vj := range v {
				s += M[r*len(v)+j] * vj
			}
			return s
		}
		for b := range seq {
			h, c := make([]float64, H), make([]float64, H)
			for t, in := range seq[b] {
				nh := make([]float64, H)
				for k := 0; k < H; k++ {
					if l.Kind == compiler.LayerLSTM {
						// Gate blocks i, o, f, c; one bias per gate.
						gate := func(g int) float64 { return dot(W, g*H+k, in) + dot(R, g*H+k, h) + Bias[g*H+k] }
						ig, og, fg, cg := sig(gate(0)), sig(gate(1)), sig(gate(2)), math.Tanh(gate(3))
						c[k] = fg*c[k] + ig*cg
						nh[k] = og * math.Tanh(c[k])
					} else {
						// Gate blocks z, r, h; biases Wb then Rb;
						// linear_before_reset = 1.
						gate := func(g int) (float64, float64) {
							return dot(W, g*H+k, in) + Bias[g*H+k], dot(R, g*H+k, h) + Bias[3*H+g*H+k]
						}
						zx, zh := gate(0)
						rx, rh := gate(1)
						hx, hh := gate(2)
						z, r := sig(zx+zh), sig(rx+rh)
						cand := math.Tanh(hx + r*hh)
						nh[k] = (1-z)*cand + z*h[k]
					}
				}
				h = nh
				seq[b][t] = nh
			}
			last[b] = h
		}
		width = H
	}
	hw, hb := p("head.W"), p("head.b")
	head := func(v []float64) []float64 {
		out := make([]float64, K)
		for k := range out {
			s := hb[k]
			for j := 0; j < width; j++ {
				s += hw[k*width+j] * v[j]
			}
			out[k] = sig(s)
		}
		return out
	}
	probs = make([]float64, B*K)
	stepProbs = make([]float64, B*T*K)
	for b := 0; b < B; b++ {
		copy(probs[b*K:], head(last[b]))
		for t, h := range seq[b] {
			copy(stepProbs[(b*T+t)*K:], head(h))
		}
	}
	return probs, stepProbs
}
