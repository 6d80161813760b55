package trnn_test

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/runtime"
)

// fillModel writes a model that preprocesses its input: 4 features, the
// third categorical with 3 categories, forward fill with indicators.
func fillModel(t *testing.T) string {
	t.Helper()
	spec := compiler.DefaultSpec()
	spec.Name = "fill"
	spec.Inputs.Features = 4
	spec.Inputs.Missing, spec.Inputs.Indicators = compiler.MissingForwardFill, true
	spec.Inputs.Categories = [][]string{nil, nil, {"a", "b", "c"}, nil}
	spec.Layers = []compiler.Layer{{Kind: compiler.LayerGRU, Units: 5}}
	spec.Outputs.Labels = 2
	prog, err := compiler.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Initialize(); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(6, 6))
	for i := range prog.Graph.Param(compiler.ParamMean).Tensor.F32 {
		prog.Graph.Param(compiler.ParamMean).Tensor.F32[i] = float32(rng.NormFloat64())
		prog.Graph.Param(compiler.ParamStd).Tensor.F32[i] = float32(0.5 + rng.Float64())
	}
	path := filepath.Join(t.TempDir(), "fill.onnx")
	if err := runtime.WriteModelFile(path, prog, export.Options{}); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestStreamForwardFill: a stream over a model with forward fill carries
// the fill state from push to push: with gaps, it gives at every chunk end
// what Predict gives for the whole prefix.
func TestStreamForwardFill(t *testing.T) {
	s, err := trnn.Load(fillModel(t))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(10, 11))
	worst := 0.0
	for i := range 12 {
		seq := make([][]float32, 1+rng.IntN(40))
		for st := range seq {
			seq[st] = []float32{float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.IntN(3)), float32(rng.NormFloat64())}
			for f := range seq[st] {
				if rng.Float64() < 0.6 {
					seq[st][f] = float32(math.NaN())
				}
			}
		}
		ends, got := pushInChunks(t, s, seq, []int{1, 3, 40}[i%3], rng)
		prefixes := make([][][]float32, len(ends))
		for j, e := range ends {
			prefixes[j] = seq[:e]
		}
		want, err := s.Predict(prefixes)
		if err != nil {
			t.Fatal(err)
		}
		for j := range ends {
			for k, v := range got[j] {
				d := math.Abs(float64(v - want[j][k]))
				if !(d <= streamTol) {
					t.Fatalf("sequence %d after %d steps, label %d: stream %v, Predict %v", i, ends[j], k, v, want[j][k])
				}
				worst = max(worst, d)
			}
		}
	}
	t.Logf("max |stream − Predict| = %.2g", worst)
}
