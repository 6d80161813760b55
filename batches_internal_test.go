package trnn

import (
	goruntime "runtime"
	"testing"

	"github.com/trnn/trnn/graph"
)

// TestPredictBatchesAcrossCores: Predict cuts a large group of sequences
// into one batch per core, except for a model whose recurrent layer packs
// the rows by length (it has a lengths input) and deals them to the cores
// itself, which takes the group whole. Either way every sequence is in
// exactly one batch.
func TestPredictBatchesAcrossCores(t *testing.T) {
	defer goruntime.GOMAXPROCS(goruntime.GOMAXPROCS(2))
	const F = 13
	seqs := make([][][]float32, 256)
	for i := range seqs {
		seqs[i] = make([][]float32, 12+i%37)
	}
	lengths := &graph.Value{Name: "lengths"}
	for _, c := range []struct {
		name  string
		plan  predictPlan
		count int
	}{
		{"lengths and a recurrent layer", predictPlan{lengths: lengths, width: 256}, 1},
		{"lengths, no recurrent layer", predictPlan{lengths: lengths}, 2},
		{"a recurrent layer, no lengths: a batch per length", predictPlan{width: 256}, 37},
	} {
		batches := c.plan.batches(seqs, F)
		seen := make([]int, len(seqs))
		for _, b := range batches {
			for _, i := range b {
				seen[i]++
			}
		}
		for i, n := range seen {
			if n != 1 {
				t.Fatalf("%s: sequence %d is in %d batches", c.name, i, n)
			}
		}
		if len(batches) != c.count {
			t.Errorf("%s: %d batches of 256 sequences on 2 cores, want %d", c.name, len(batches), c.count)
		}
	}
}
