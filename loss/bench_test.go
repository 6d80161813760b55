package loss

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkTRForwardBackward: a mini-batch of 32 sequences of lengths 1..48
// with 128 labels.
func BenchmarkTRForwardBackward(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	lengths := make([]int, 32)
	for i := range lengths {
		lengths[i] = 48 - i*3/2
	}
	bt := randBatch(rng, lengths, 128)
	o := TR{Alpha: 0.5}
	d := make([]float32, len(bt.packed))
	final := make([]float64, len(lengths))
	b.SetBytes(int64(4 * len(bt.packed)))
	for b.Loop() {
		o.ForwardBackward(bt.p, 128, bt.packed, bt.y, nil, 1.0/32, d, nil, final)
	}
}

// BenchmarkEvaluate: 100 000 samples with 128 labels, the paper's setting
// at the scale the metrics are designed for.
func BenchmarkEvaluate(b *testing.B) {
	const n, K = 100000, 128
	rng := rand.New(rand.NewPCG(2, 2))
	probs, y := make([]float32, n*K), make([]float32, n*K)
	for i := range probs {
		y[i] = float32(rng.IntN(10) / 9)
		probs[i] = min(1, rng.Float32()*0.8+y[i]*0.2)
	}
	for b.Loop() {
		if _, err := Evaluate(probs, y, n, K, EvalOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
