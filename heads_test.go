package trnn_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/runtime"
)

// headSessions exports a model with the given outputs section twice, as
// the plain model and as the stateful one, and loads both.
func headSessions(t *testing.T, outputs string) (plain, stateful *trnn.Session) {
	t.Helper()
	spec, err := compiler.Parse("h.yaml", []byte("inputs: {features: 4}\nlayers: [{gru: {units: 6}}, {lstm: {units: 5}}]\noutputs: "+outputs+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := compiler.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Initialize(); err != nil {
		t.Fatal(err)
	}
	if p := prog.Graph.Param(compiler.ParamTargetStd); p != nil {
		p.Tensor.F32[0], prog.Graph.Param(compiler.ParamTargetMean).Tensor.F32[0] = 4, 20
	}
	load := func(opts export.Options) *trnn.Session {
		var buf bytes.Buffer
		if err := runtime.WriteModel(&buf, prog, opts); err != nil {
			t.Fatal(err)
		}
		s, err := trnn.LoadBytes("h.onnx", buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return load(export.Options{}), load(export.Options{Stateful: true})
}

// TestHeadsPredictAndStream: Predict gives a model of classes its
// probabilities (rows summing to 1) and a regression model its values;
// PredictSteps ends on Predict's output; a stream of the stateful model
// gives Predict's output at every chunk end.
func TestHeadsPredictAndStream(t *testing.T) {
	for _, outputs := range []string{"{classes: [a, b, c]}", "{targets: [hours], normalize_targets: true}", "{targets: 2, per_step: true}"} {
		plain, stateful := headSessions(t, outputs)
		rng := rand.New(rand.NewPCG(3, 3))
		seqs := randomSeqs(rng, 6, 20, 4)
		var kept [][][]float32
		for _, s := range seqs {
			if len(s) > 0 {
				kept = append(kept, s)
			}
		}
		want, err := plain.Predict(kept)
		if err != nil {
			t.Fatalf("%s: Predict: %v", outputs, err)
		}
		steps, err := plain.PredictSteps(kept)
		if err != nil {
			t.Fatalf("%s: PredictSteps: %v", outputs, err)
		}
		for i, seq := range kept {
			last := steps[i][len(seq)-1]
			var sum float64
			for k, v := range want[i] {
				sum += float64(v)
				if math.Abs(float64(v-last[k])) > 1e-5 {
					t.Fatalf("%s: sequence %d: Predict %v, PredictSteps at the last step %v", outputs, i, want[i], last)
				}
			}
			if outputs[1] == 'c' && math.Abs(sum-1) > 1e-5 {
				t.Fatalf("%s: probabilities sum to %v", outputs, sum)
			}
			_, got := pushInChunks(t, stateful, seq, len(seq), rng)
			for k, v := range got[len(got)-1] {
				if math.Abs(float64(v-want[i][k])) > streamTol*max(1, math.Abs(float64(v))) {
					t.Fatalf("%s: sequence %d: stream %v, Predict %v", outputs, i, got[len(got)-1], want[i])
				}
			}
		}
	}
}

// TestHeadsStepsWithoutStepOutput: a model of classes or targets exported
// without its per-step output is rebuilt with it (export.WithStepProbs),
// so PredictSteps and streams run it in one pass, and agree with Predict.
func TestHeadsStepsWithoutStepOutput(t *testing.T) {
	for _, outputs := range []string{"{classes: [a, b, c]}", "{targets: [hours], normalize_targets: true}", "{targets: 2}"} {
		plain, _ := headSessions(t, outputs)
		g, ok, err := export.WithStepProbs(plainGraph(t, outputs))
		if err != nil || !ok || !slices.ContainsFunc(g.Outputs, func(v trnn.Value) bool { return strings.HasPrefix(v.Name, "step_") }) {
			t.Fatalf("%s: WithStepProbs: ok %v, %v", outputs, ok, err)
		}
		rng := rand.New(rand.NewPCG(4, 4))
		var seqs [][][]float32
		for _, s := range randomSeqs(rng, 5, 15, 4) {
			if len(s) > 0 {
				seqs = append(seqs, s)
			}
		}
		want, err := plain.Predict(seqs)
		if err != nil {
			t.Fatal(err)
		}
		steps, err := plain.PredictSteps(seqs)
		if err != nil {
			t.Fatal(err)
		}
		for i, seq := range seqs {
			_, got := pushInChunks(t, plain, seq, 3, rng)
			for k := range want[i] {
				tol := 1e-5 * max(1, math.Abs(float64(want[i][k])))
				if math.Abs(float64(steps[i][len(seq)-1][k]-want[i][k])) > tol || math.Abs(float64(got[len(got)-1][k]-want[i][k])) > tol {
					t.Fatalf("%s: sequence %d: Predict %v, PredictSteps %v, stream %v", outputs, i, want[i], steps[i][len(seq)-1], got[len(got)-1])
				}
			}
		}
	}
}

// plainGraph is headSessions' plain model as the ONNX reader returns it.
func plainGraph(t *testing.T, outputs string) *graph.Graph {
	t.Helper()
	spec, err := compiler.Parse("h.yaml", []byte("inputs: {features: 4}\nlayers: [{gru: {units: 6}}, {lstm: {units: 5}}]\noutputs: "+outputs+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := compiler.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Initialize(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := runtime.WriteModel(&buf, prog, export.Options{}); err != nil {
		t.Fatal(err)
	}
	g, err := export.DecodeONNX("h.onnx", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return g
}
