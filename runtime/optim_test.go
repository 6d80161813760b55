package runtime

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// TestOptimizersMatchPyTorch replays the fixed gradients of
// testdata/golden/optim/optim.json (written by torch.optim in
// make_golden.py) and compares every step's parameters.
func TestOptimizersMatchPyTorch(t *testing.T) {
	b, err := os.ReadFile("../testdata/golden/optim/optim.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		P0    []float32   `json:"p0"`
		Grads [][]float32 `json:"grads"`
		Cases []struct {
			Kind        string      `json:"kind"`
			LR          float64     `json:"lr"`
			Momentum    float64     `json:"momentum"`
			WeightDecay float64     `json:"weight_decay"`
			Params      [][]float32 `json:"params"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	for _, c := range g.Cases {
		o, err := newOptimizer(c.Kind, len(g.P0), c.LR, c.Momentum, c.WeightDecay)
		if err != nil {
			t.Fatal(err)
		}
		p := append([]float32(nil), g.P0...)
		for s, grad := range g.Grads {
			// Two disjoint ranges, as the trainer splits the vector over workers.
			o.step(p, grad, 0, 2, int64(s+1))
			o.step(p, grad, 2, len(p), int64(s+1))
			for i := range p {
				if d := math.Abs(float64(p[i] - c.Params[s][i])); d > 2e-6 {
					t.Fatalf("%s lr=%g m=%g wd=%g: step %d param %d = %v, torch %v (diff %.2g)",
						c.Kind, c.LR, c.Momentum, c.WeightDecay, s+1, i, p[i], c.Params[s][i], d)
				}
			}
		}
	}
}

func TestUnknownOptimizer(t *testing.T) {
	if _, err := newOptimizer("rmsprop", 3, 0.1, 0, 0); err == nil {
		t.Fatal("want an error for an unknown optimizer")
	}
}
