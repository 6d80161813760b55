package export_test

// Parity with ONNX Runtime for the heads other than sigmoid labels: per-step
// binary labels, softmax classes (per sequence and per step) and regression
// targets (with and without normalize_targets, per sequence and per step),
// with LSTM and GRU layers, on the ragged batches of TestORTParity (padded
// steps of x hold NaN or ±1e6). ONNX Runtime, trnn's Go runtime reading the
// same file and the trainer's own forward pass (runtime.Model) must agree
// to 1e-5, per-step outputs must be exactly 0 at padded steps, a per-step
// model's last-step output must be its per-step output at the last valid
// step, and class probabilities must sum to 1.

import (
	"fmt"
	"math"
	"testing"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/ortcheck"
	"github.com/trnn/trnn/runtime"
)

// headCases are the outputs sections of the head parity matrix.
var headCases = []struct{ name, outputs, inputs string }{
	{"per-step-binary", "{labels: 1, per_step: true}", ""},
	{"per-step-labels", "{labels: 3, per_step: true}", ""},
	{"classes", "{classes: [a, b, c, d]}", ""},
	{"per-step-classes", "{classes: [a, b, c], per_step: true}", ""},
	{"targets", "{targets: 2}", ""},
	{"targets-normalized", "{targets: [u, v], normalize_targets: true}", ""},
	{"per-step-targets", "{targets: 1, per_step: true, normalize_targets: true}", ""},
	// The heads behind the in-graph preprocessing: gaps filled forward,
	// indicators and a categorical feature.
	{"per-step-classes-gaps", "{classes: [a, b, c], per_step: true}", gapInputs},
	{"per-step-targets-gaps", "{targets: 1, per_step: true, normalize_targets: true}", gapInputs},
}

// gapInputs is an inputs section with every preprocessing step.
const gapInputs = "{features: 5, categorical: {f4: [u, v, w]}, missing: forward_fill, indicators: true, normalize: standard}"

// headProgram compiles a model with the given outputs and cell, with
// seeded weights, input statistics and (with normalize_targets) target
// statistics away from the identity.
func headProgram(t *testing.T, outputs, inputs, cell string, seed uint64) *compiler.Program {
	t.Helper()
	if inputs == "" {
		inputs = "{features: 5}"
	}
	src := fmt.Sprintf("name: heads\ninputs: %s\nlayers: [{%s: {units: 7}}, {dropout: {rate: 0.5}}, {%s: {units: 4}}]\noutputs: %s\ntraining: {seed: %d}\n",
		inputs, cell, cell, outputs, seed)
	spec, err := compiler.Parse("heads.yaml", []byte(src))
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
	set := func(name string, f func(i int) float32) {
		if p := prog.Graph.Param(name); p != nil {
			for i := range p.Tensor.F32 {
				p.Tensor.F32[i] = f(i)
			}
		}
	}
	set(compiler.ParamMean, func(i int) float32 { return 0.1 * float32(i) })
	set(compiler.ParamStd, func(i int) float32 { return 0.5 + 0.25*float32(i) })
	set(compiler.ParamTargetMean, func(i int) float32 { return 7 - 3*float32(i) })
	set(compiler.ParamTargetStd, func(i int) float32 { return 2.5 + float32(i) })
	// A larger head spreads the outputs, so that the softmax is not flat.
	set(compiler.ParamHeadB, func(i int) float32 { return 0.3 * float32(i%3) })
	return prog
}

// TestORTParityHeads runs every head case, LSTM and GRU, in ONNX Runtime,
// the Go runtime and the trainer's forward pass.
func TestORTParityHeads(t *testing.T) {
	ortcheck.Require(t)
	var overall float64
	for i, hc := range headCases {
		for _, cell := range []string{compiler.LayerLSTM, compiler.LayerGRU} {
			t.Run(hc.name+"-"+cell, func(t *testing.T) {
				prog := headProgram(t, hc.outputs, hc.inputs, cell, uint64(200+i))
				worst := headParity(t, prog)
				overall = math.Max(overall, worst)
				t.Logf("max abs diff over runtimes and outputs: %.2e", worst)
			})
		}
	}
	t.Logf("over all head models: max abs diff %.2e", overall)
}

// headParity checks one model on every parity batch and returns the
// largest difference found.
func headParity(t *testing.T, prog *compiler.Program) float64 {
	t.Helper()
	o := prog.Spec.Outputs
	stepName, lastName := graph.ValueStepProbs, graph.ValueProbs
	if o.Kind() == compiler.KindTargets {
		stepName, lastName = graph.ValueStepValues, graph.ValueValues
	}
	model := exportBytes(t, prog, export.Options{StepProbs: true, Version: testVersion})
	s, err := ortcheck.Open(model, []string{"x", "lengths"}, []string{lastName, stepName})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ip := goRuntime(t, "heads.onnx", model)
	trainer, err := runtime.NewModel(prog)
	if err != nil {
		t.Fatal(err)
	}
	defer trainer.Close()
	W := o.Width()
	worst := 0.0
	for _, b := range parityBatches(5) {
		ortOut, goOut := runBoth(t, s, ip, b)
		d := &data.Dataset{F: 5, K: 1}
		d.X = b.dataset(1).X
		last := trainer.Predict(d)
		trainer.Activate(last)
		steps := trainer.PredictSteps(d)
		for _, st := range steps {
			trainer.Activate(st)
		}
		// The trainer's per-step outputs, padded as ONNX lays them out.
		trainerSteps := make([]float64, b.B*b.T*W)
		for r, st := range steps {
			for j, v := range st {
				trainerSteps[r*b.T*W+j] = float64(v)
			}
		}
		for _, c := range []struct {
			who  string
			out  map[string]*graph.Tensor
			last []float64
			step []float64
		}{
			{"onnx runtime vs trainer", ortOut, f64(last), trainerSteps},
			{"go runtime vs onnx runtime", goOut, tensorF64(ortOut[lastName]), tensorF64(ortOut[stepName])},
		} {
			worst = math.Max(worst, checkHead(t, c.who, b, W, lastName, stepName, c.out, c.last, c.step))
		}
		checkHeadInvariants(t, b, o, W, ortOut[lastName].F32, ortOut[stepName].F32)
	}
	return worst
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// checkHead compares one runtime's two outputs with the wanted ones.
func checkHead(t *testing.T, who string, b batch, W int, lastName, stepName string, got map[string]*graph.Tensor, last, step []float64) float64 {
	t.Helper()
	p, s := got[lastName], got[stepName]
	if p == nil || len(p.Shape) != 2 || p.Shape[0] != b.B || p.Shape[1] != W {
		t.Fatalf("%s %s: %s %+v, want [%d %d]", who, b.name, lastName, p, b.B, W)
	}
	if s == nil || len(s.Shape) != 3 || s.Shape[0] != b.B || s.Shape[1] != b.T || s.Shape[2] != W {
		t.Fatalf("%s %s: %s %+v, want [%d %d %d]", who, b.name, stepName, s, b.B, b.T, W)
	}
	dp, at := maxDiff(p.F32, last)
	if dp > parityTol {
		t.Errorf("%s %s: %s differ by %.3g at row %d, unit %d: %v vs %v", who, b.name, lastName, dp, at/W, at%W, p.F32[at], last[at])
	}
	ds, at := maxDiff(s.F32, step)
	if ds > parityTol {
		t.Errorf("%s %s: %s differ by %.3g at row %d, step %d, unit %d: %v vs %v", who, b.name, stepName, ds, at/(b.T*W), at/W%b.T, at%W, s.F32[at], step[at])
	}
	return math.Max(dp, ds)
}

// checkHeadInvariants: per-step outputs are exactly 0 at padded steps, the
// last-step output is the per-step one at each row's last valid step, and
// class probabilities sum to 1.
func checkHeadInvariants(t *testing.T, b batch, o compiler.Outputs, W int, last, steps []float32) {
	t.Helper()
	for r := 0; r < b.B; r++ {
		L := int(b.lengths[r])
		for step := L; step < b.T; step++ {
			for k := 0; k < W; k++ {
				if v := steps[(r*b.T+step)*W+k]; v != 0 || math.Signbit(float64(v)) {
					t.Fatalf("%s: per-step output [%d, %d, %d] = %v at a padded step, want 0", b.name, r, step, k, v)
				}
			}
		}
		for k := 0; k < W; k++ {
			if d := math.Abs(float64(last[r*W+k] - steps[(r*b.T+L-1)*W+k])); d > parityTol {
				t.Fatalf("%s: row %d: last-step output %v, per-step output at step %d %v", b.name, r, last[r*W+k], L-1, steps[(r*b.T+L-1)*W+k])
			}
		}
		if o.Kind() == compiler.KindClasses {
			var sum float64
			for _, v := range last[r*W : (r+1)*W] {
				sum += float64(v)
			}
			if math.Abs(sum-1) > 1e-6 {
				t.Fatalf("%s: row %d: probs sum to %v", b.name, r, sum)
			}
		}
	}
}
