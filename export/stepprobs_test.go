package export_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/runtime"
	"github.com/trnn/trnn/runtime/interp"
)

// Shape legend: B rows, T steps, F features, K labels.

// decodedExport writes prog as model.onnx without step_probs, at opset,
// and reads it back.
func decodedExport(t *testing.T, c progConfig) *graph.Graph {
	t.Helper()
	var buf bytes.Buffer
	if err := runtime.WriteModel(&buf, testProgram(t, c), export.Options{Opset: c.opset, Version: testVersion}); err != nil {
		t.Fatal(err)
	}
	g, err := export.DecodeONNX(c.name+".onnx", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// randomBatch is a padded batch [B, T, F] with garbage past each length
// (lengths 0..T, one row of each extreme).
func randomBatch(rng *rand.Rand, B, T, F int) (x, lengths *graph.Tensor) {
	x = graph.NewTensor(graph.Float32, B, T, F)
	lengths = graph.NewTensor(graph.Int32, B)
	for b := range B {
		lengths.I32[b] = int32(rng.IntN(T + 1))
	}
	lengths.I32[0], lengths.I32[B-1] = int32(T), 0
	for i := range x.F32 {
		x.F32[i] = float32(rng.NormFloat64() * 2)
		if step := i / F % T; step >= int(lengths.I32[i/(T*F)]) {
			x.F32[i] = 1e3
		}
	}
	return x, lengths
}

func runGraph(t *testing.T, g *graph.Graph, x, lengths *graph.Tensor) map[string]*graph.Tensor {
	t.Helper()
	ip, err := interp.New(g)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ip.Run(map[string]*graph.Tensor{graph.ValueX: x, graph.ValueLengths: lengths})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWithStepProbsRebuildsTrnnModels: a model trnn exported without
// step_probs, rebuilt, gives the original's probs bit for bit, and
// step_probs whose value at each row's last valid step is probs (up to the
// rounding of a MatMul beside a Gemm) and 0 past it.
func TestWithStepProbsRebuildsTrnnModels(t *testing.T) {
	for _, c := range []progConfig{
		{name: "quickstart", layers: []compiler.Layer{lstm(32)}, F: 3, K: 1, normalize: true, seed: 1},
		{name: "stack", layers: []compiler.Layer{lstm(7), dropout(0.3), gru(5)}, F: 4, K: 3, seed: 2, opset: 14},
		{name: "gru", layers: []compiler.Layer{gru(6), lstm(4)}, F: 2, K: 2, normalize: true, seed: 3, opset: 21},
	} {
		src := decodedExport(t, c)
		rebuilt, ok, err := export.WithStepProbs(src)
		if err != nil || !ok {
			t.Fatalf("%s: WithStepProbs: ok %v, %v", c.name, ok, err)
		}
		if len(rebuilt.Outputs) != 2 || rebuilt.Outputs[0].Name != graph.ValueProbs || rebuilt.Outputs[1].Name != graph.ValueStepProbs {
			t.Fatalf("%s: outputs %v", c.name, rebuilt.Outputs)
		}
		rng := rand.New(rand.NewPCG(c.seed, 11))
		const B, T = 9, 13
		x, lengths := randomBatch(rng, B, T, c.F)
		want := runGraph(t, src, x, lengths)[graph.ValueProbs]
		got := runGraph(t, rebuilt, x, lengths)
		probs, steps := got[graph.ValueProbs], got[graph.ValueStepProbs]
		for i, v := range want.F32 {
			if math.Float32bits(v) != math.Float32bits(probs.F32[i]) {
				t.Fatalf("%s: probs[%d] = %v, the original gives %v", c.name, i, probs.F32[i], v)
			}
		}
		worst := 0.0
		K := c.K
		for b := range B {
			L := int(lengths.I32[b])
			for s := range T {
				for k := range K {
					v := steps.F32[(b*T+s)*K+k]
					switch {
					case s >= L && v != 0:
						t.Fatalf("%s: step_probs[%d, %d, %d] = %v past the row's %d steps", c.name, b, s, k, v, L)
					case s == L-1:
						worst = math.Max(worst, math.Abs(float64(v-want.F32[b*K+k])))
					}
				}
			}
		}
		if worst > 1e-6 {
			t.Fatalf("%s: step_probs at the last valid step differs from probs by %g", c.name, worst)
		}
		t.Logf("%s: step_probs at the last step vs probs: max |Δ| = %.2g", c.name, worst)

		again, ok, err := export.WithStepProbs(rebuilt)
		if again != rebuilt || !ok || err != nil {
			t.Errorf("%s: a graph with step_probs: %p, %v, %v; want itself", c.name, again, ok, err)
		}
	}
}

// TestWithStepProbsRefusesOtherModels: models that are not trnn's exports
// without step_probs come back ok = false, never rebuilt approximately.
func TestWithStepProbsRefusesOtherModels(t *testing.T) {
	dir := filepath.Join("..", "testdata", "onnx")
	// lstm_classifier has trnn's node structure but its own input names and
	// separate recurrent biases (Rb ≠ 0); gru_classifier is bidirectional.
	for _, name := range []string{"lstm_classifier", "gru_classifier"} {
		g, err := export.ReadONNX(filepath.Join(dir, name+".onnx"))
		if err != nil {
			t.Fatal(err)
		}
		if out, ok, err := export.WithStepProbs(g); ok || err != nil || out != nil {
			t.Errorf("%s: ok %v, %v", name, ok, err)
		}
		// Under trnn's names, the structure alone does not pass.
		renameValues(g, map[string]string{"input": graph.ValueX, "seq_lens": graph.ValueLengths, "output": graph.ValueProbs})
		if out, ok, err := export.WithStepProbs(g); ok || err != nil || out != nil {
			t.Errorf("%s under trnn's names: ok %v, %v", name, ok, err)
		}
	}

	base := progConfig{name: "base", layers: []compiler.Layer{lstm(5)}, F: 3, K: 2, normalize: true, seed: 4}
	edits := map[string]func(g *graph.Graph){
		// InitParams would fold the recurrent bias into one.
		"recurrent bias": func(g *graph.Graph) {
			B := g.Param("layers.0.B").Tensor.F32
			B[len(B)-1] = 0.5
		},
		// InitParams reads the head's weights and ignores what follows.
		"extra node": func(g *graph.Graph) {
			for _, n := range g.Nodes {
				if n.Op == graph.OpSigmoid {
					n.Inputs[0] = "head.relu"
				}
			}
			i := len(g.Nodes) - 1
			relu := &graph.Node{Name: "head.relu", Op: graph.OpRelu, Inputs: []string{"logits.last"}, Outputs: []string{"head.relu"}}
			g.Nodes = append(g.Nodes[:i], relu, g.Nodes[i])
		},
		"renamed input": func(g *graph.Graph) {
			g.Inputs[0].Name = "features"
		},
		"not tensor form": func(g *graph.Graph) { g.Form = graph.FormSequence },
	}
	for what, edit := range edits {
		g := decodedExport(t, base)
		if _, ok, err := export.WithStepProbs(g); !ok || err != nil {
			t.Fatalf("%s: the unedited model: ok %v, %v", what, ok, err)
		}
		edit(g)
		if out, ok, err := export.WithStepProbs(g); ok || err != nil || out != nil {
			t.Errorf("%s: ok %v, %v; want not rebuilt", what, ok, err)
		}
	}
	if _, ok, err := export.WithStepProbs(nil); ok || err != nil {
		t.Errorf("nil graph: ok %v, %v", ok, err)
	}
}

// renameValues renames graph inputs, outputs and node operands.
func renameValues(g *graph.Graph, names map[string]string) {
	rename := func(s *string) {
		if n, ok := names[*s]; ok {
			*s = n
		}
	}
	for i := range g.Inputs {
		rename(&g.Inputs[i].Name)
	}
	for i := range g.Outputs {
		rename(&g.Outputs[i].Name)
	}
	for _, n := range g.Nodes {
		for i := range n.Inputs {
			rename(&n.Inputs[i])
		}
		for i := range n.Outputs {
			rename(&n.Outputs[i])
		}
	}
}
