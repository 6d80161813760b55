package main

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/ortcheck"
)

// TestPredictExternalModelMatchesONNXRuntime: `trnn predict` on a standard
// ONNX classifier built outside trnn (Transpose → LSTM(sequence_lens) →
// Squeeze → Gemm → Sigmoid, and a bidirectional GRU variant) writes ONNX
// Runtime's answers for the same padded batch.
func TestPredictExternalModelMatchesONNXRuntime(t *testing.T) {
	ortcheck.Require(t)
	for _, name := range []string{"lstm_classifier", "gru_classifier"} {
		model := filepath.Join("..", "..", "testdata", "onnx", name+".onnx")
		const F, K = 5, 3
		rng := rand.New(rand.NewPCG(1, 2))
		d := &data.Dataset{Source: "x.npz", F: F, K: K}
		for i := 0; i < 40; i++ {
			L := 1 + rng.IntN(20)
			seq := make([]float32, L*F)
			for j := range seq {
				seq[j] = float32(rng.NormFloat64())
			}
			d.X = append(d.X, seq)
			d.Y = append(d.Y, make([]float32, K)...)
		}
		dir := t.TempDir()
		npz := filepath.Join(dir, "x.npz")
		if err := data.WriteNPZ(npz, d); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "pred.csv")
		if status, stdout, errs := trnnCmd(t, "predict", model, "--data", npz, "-o", out); status != 0 {
			t.Fatalf("%s: predict: status %d\n%s%s", name, status, stdout, errs)
		}
		rows := readCSV(t, out)
		if len(rows) != d.N()+1 || len(rows[0]) != 1+K {
			t.Fatalf("%s: %d rows of %d columns, want %d of %d", name, len(rows)-1, len(rows[0]), d.N(), 1+K)
		}

		idx := make([]int, d.N())
		for i := range idx {
			idx[i] = i
		}
		x, lengths, T := d.Padded(idx)
		for i := range x { // garbage in the padding must not matter
			if b, tt := i/(T*F), (i/F)%T; tt >= int(lengths[b]) {
				x[i] = float32(math.NaN())
			}
		}
		b, err := os.ReadFile(model)
		if err != nil {
			t.Fatal(err)
		}
		res, err := ortcheck.Run(b, map[string]*graph.Tensor{
			"input":    graph.FromF32(x, d.N(), T, F),
			"seq_lens": {DType: graph.Int32, Shape: []int{d.N()}, I32: lengths},
		}, []string{"output"})
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for i, row := range rows[1:] {
			for k := 0; k < K; k++ {
				p, err := strconv.ParseFloat(row[1+k], 64)
				if err != nil {
					t.Fatal(err)
				}
				worst = math.Max(worst, math.Abs(p-float64(res["output"].F32[i*K+k])))
			}
		}
		if worst > 1e-5 {
			t.Fatalf("%s: trnn predict differs from ONNX Runtime by %g", name, worst)
		}
		t.Logf("%s: trnn predict vs ONNX Runtime %s: max |Δ| = %.2g", name, ortcheck.Version(), worst)
	}
}
