package export_test

// Export then import: the interpreter must run trnn's own exported models
// and reproduce a float64 forward pass written here from the equations of
// docs/graph.md, on ragged batches with padding garbage and empty rows.

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/runtime"
	"github.com/trnn/trnn/runtime/interp"
)

// readRoundTripSpec is a spec with the given layers ("lstm:H", "gru:H",
// "dropout").
func readRoundTripSpec(t *testing.T, features, labels int, normalize string, layers ...string) *compiler.Program {
	t.Helper()
	s := compiler.DefaultSpec()
	s.Name = "roundtrip"
	s.Inputs.Features = features
	s.Inputs.Normalize = normalize
	s.Outputs.Labels = labels
	for _, l := range layers {
		if l == "dropout" {
			s.Layers = append(s.Layers, compiler.Layer{Kind: compiler.LayerDropout, Rate: 0.5})
			continue
		}
		kind, n, _ := strings.Cut(l, ":")
		units, err := strconv.Atoi(n)
		if err != nil {
			t.Fatalf("layer %q: %v", l, err)
		}
		s.Layers = append(s.Layers, compiler.Layer{Kind: kind, Units: units})
	}
	prog, err := compiler.Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	// Random parameters, with normalisation statistics away from 0 and 1.
	rng := rand.New(rand.NewPCG(uint64(len(layers)), uint64(labels)))
	for _, p := range prog.Graph.Params {
		for i := range p.Tensor.F32 {
			v := rng.Float64()*1.6 - 0.8
			if p.Name == "inputs.std" {
				v = 0.5 + rng.Float64()
			}
			p.Tensor.F32[i] = float32(v)
		}
	}
	return prog
}

// readReference runs a sequence-form program on one row (x [T][F]) in
// float64, from the equations, and returns the per-step probabilities.
func readReference(g *graph.Graph, x [][]float64) [][]float64 {
	param := func(name string) []float32 { return g.Param(name).Tensor.F32 }
	sig := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	vals := map[string][][]float64{graph.ValueX: x}
	for _, n := range g.Nodes {
		in := vals[n.Inputs[0]]
		out := make([][]float64, len(in))
		switch n.Op {
		case graph.OpNormalize:
			mean, std := param(n.Inputs[1]), param(n.Inputs[2])
			for t, row := range in {
				out[t] = make([]float64, len(row))
				for i, v := range row {
					out[t][i] = (v - float64(mean[i])) / float64(std[i])
				}
			}
		case graph.OpDropout:
			out = in
		case graph.OpDense:
			W, b := param(n.Inputs[1]), param(n.Inputs[2])
			K := len(b)
			for t, row := range in {
				out[t] = make([]float64, K)
				for k := range K {
					s := float64(b[k])
					for i, v := range row {
						s += float64(W[k*len(row)+i]) * v
					}
					out[t][k] = s
				}
			}
		case graph.OpSigmoid:
			for t, row := range in {
				out[t] = make([]float64, len(row))
				for i, v := range row {
					out[t][i] = sig(v)
				}
			}
		case graph.OpLSTM, graph.OpGRU:
			W, R, B := param(n.Inputs[1]), param(n.Inputs[2]), param(n.Inputs[3])
			H := int(n.Attrs["hidden_size"].Int)
			gates := 4
			if n.Op == graph.OpGRU {
				gates = 3
			}
			G := gates * H
			h, c := make([]float64, H), make([]float64, H)
			for t, row := range in {
				I := len(row)
				wx, rh := make([]float64, G), make([]float64, G)
				for gi := range G {
					for i, v := range row {
						wx[gi] += float64(W[gi*I+i]) * v
					}
					for i := range H {
						rh[gi] += float64(R[gi*H+i]) * h[i]
					}
				}
				nh := make([]float64, H)
				for j := range H {
					if n.Op == graph.OpLSTM { // one bias per gate, blocks i, o, f, c
						ig := sig(wx[j] + rh[j] + float64(B[j]))
						og := sig(wx[H+j] + rh[H+j] + float64(B[H+j]))
						fg := sig(wx[2*H+j] + rh[2*H+j] + float64(B[2*H+j]))
						cc := math.Tanh(wx[3*H+j] + rh[3*H+j] + float64(B[3*H+j]))
						c[j] = fg*c[j] + ig*cc
						nh[j] = og * math.Tanh(c[j])
					} else { // linear_before_reset = 1, B = Wb (z, r, h) then Rb (z, r, h)
						z := sig(wx[j] + rh[j] + float64(B[j]+B[G+j]))
						r := sig(wx[H+j] + rh[H+j] + float64(B[H+j]+B[G+H+j]))
						hc := math.Tanh(wx[2*H+j] + float64(B[2*H+j]) + r*(rh[2*H+j]+float64(B[G+2*H+j])))
						nh[j] = (1-z)*hc + z*h[j]
					}
				}
				h = nh
				out[t] = h
			}
		case graph.OpLastStep:
			continue
		default:
			panic("readReference: op " + n.Op.String())
		}
		vals[n.Outputs[0]] = out
	}
	return vals[graph.ValueStepProbs]
}

func TestReadRoundTripMatchesReference(t *testing.T) {
	for _, c := range []struct {
		layers    []string
		labels    int
		normalize string
		opset     int
	}{
		{[]string{"lstm:4"}, 1, compiler.NormalizeStandard, 17},
		{[]string{"gru:3"}, 2, compiler.NormalizeNone, 14},
		{[]string{"lstm:5", "dropout", "gru:4"}, 3, compiler.NormalizeStandard, 21},
		{[]string{"gru:2", "lstm:3"}, 1, compiler.NormalizeNone, 17},
	} {
		const F, B, T = 3, 5, 6
		prog := readRoundTripSpec(t, F, c.labels, c.normalize, c.layers...)
		var buf bytes.Buffer
		if err := runtime.WriteModel(&buf, prog, export.Options{Opset: c.opset, StepProbs: true}); err != nil {
			t.Fatal(err)
		}
		g, err := export.DecodeONNX("model.onnx", buf.Bytes())
		if err != nil {
			t.Fatalf("%v: %v", c.layers, err)
		}
		ip, err := interp.New(g)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(21, uint64(c.opset)))
		lens := []int32{6, 2, 0, 5, 1}
		x := graph.NewTensor(graph.Float32, B, T, F)
		for i := range x.F32 {
			x.F32[i] = float32(rng.Float64()*4 - 2)
		}
		for b, l := range lens { // garbage in the padding
			for s := int(l); s < T; s++ {
				for f := range F {
					x.F32[(b*T+s)*F+f] = 1e4
				}
			}
		}
		out, err := ip.Run(map[string]*graph.Tensor{
			graph.ValueX:       x,
			graph.ValueLengths: {DType: graph.Int32, Shape: []int{B}, I32: lens},
		})
		if err != nil {
			t.Fatalf("%v: %v", c.layers, err)
		}
		probs, steps := out[graph.ValueProbs], out[graph.ValueStepProbs]
		K := c.labels
		if probs == nil || steps == nil || fmt.Sprint(probs.Shape) != fmt.Sprint([]int{B, K}) || fmt.Sprint(steps.Shape) != fmt.Sprint([]int{B, T, K}) {
			t.Fatalf("%v: outputs %v", c.layers, out)
		}
		maxd := 0.0
		for b, l := range lens {
			rows := make([][]float64, l)
			for s := range rows {
				rows[s] = make([]float64, F)
				for f := range F {
					rows[s][f] = float64(x.F32[(b*T+s)*F+f])
				}
			}
			ref := readReference(prog.Graph, rows)
			for s := range T {
				for k := range K {
					want := 0.0 // padded steps are 0
					if s < int(l) {
						want = ref[s][k]
					}
					maxd = math.Max(maxd, math.Abs(float64(steps.F32[(b*T+s)*K+k])-want))
				}
			}
			for k := range K {
				want := 0.0
				if l > 0 {
					want = ref[l-1][k]
				} else { // an empty row: the head applied to a zero state
					want = readEmptyRowProb(prog.Graph, k)
				}
				if d := math.Abs(float64(probs.F32[b*K+k]) - want); d > 2e-6 {
					t.Fatalf("%v opset %d: probs[%d][%d] = %v, want %v", c.layers, c.opset, b, k, probs.F32[b*K+k], want)
				}
			}
		}
		if maxd > 2e-6 {
			t.Fatalf("%v opset %d: step_probs differ from the reference by %.3g", c.layers, c.opset, maxd)
		}
	}
}

// readEmptyRowProb is probs of a row of length 0: the last layer's state is
// 0 (ONNX Runtime's rule), so the head gives sigmoid(b).
func readEmptyRowProb(g *graph.Graph, k int) float64 {
	b := g.Param("head.b").Tensor.F32
	return 1 / (1 + math.Exp(-float64(b[k])))
}
