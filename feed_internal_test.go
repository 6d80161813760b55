package trnn

import (
	"slices"
	"sync"
	"testing"

	"github.com/trnn/trnn/graph"
)

// TestFeedTensorReuse: feed's input tensors come back from the pool zeroed
// and reshaped (a shorter batch must not see the last one's values in its
// padding), and only when large enough; other types are always new.
func TestFeedTensorReuse(t *testing.T) {
	var pool sync.Pool
	dirty := graph.NewTensor(graph.Float32, 2, 3, 4)
	for i := range dirty.F32 {
		dirty.F32[i] = 7
	}
	pool.Put(dirty)
	got := feedTensor(graph.Float32, []int{1, 5, 4}, &pool)
	if got != dirty || !slices.Equal(got.Shape, []int{1, 5, 4}) || len(got.F32) != 20 || slices.ContainsFunc(got.F32, func(v float32) bool { return v != 0 }) {
		t.Fatalf("reused tensor %v %v, want the pooled one, [1 5 4] and zeros", got.Shape, got.F32)
	}
	pool.Put(got)
	if big := feedTensor(graph.Float32, []int{3, 3, 4}, &pool); big == dirty || len(big.F32) != 36 {
		t.Error("a tensor too small was reused")
	}
	if f64 := feedTensor(graph.Float64, []int{1, 2, 3}, &pool); f64.DType != graph.Float64 || len(f64.F64) != 6 {
		t.Error("float64 feed")
	}
}
