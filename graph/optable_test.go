package graph_test

import (
	"testing"

	"github.com/trnn/trnn/graph"
)

func TestCheckTensor(t *testing.T) {
	for _, c := range []struct {
		t    *graph.Tensor
		want string
	}{
		{&graph.Tensor{DType: graph.Float32, Shape: []int{2, 3}, F32: make([]float32, 5)}, "5 elements for shape [2, 3] (6 expected)"},
		{&graph.Tensor{DType: graph.Float32, Shape: []int{-1}}, "negative dimension in shape [-1]"},
		{&graph.Tensor{DType: graph.DType(8), Shape: []int{1}}, "unsupported element type dtype(8)"},
		{&graph.Tensor{DType: graph.Int32, Shape: []int{1 << 20, 1 << 20}}, "shape [1048576, 1048576] has more than 2147483647 elements"},
		{nil, "missing tensor"},
	} {
		if err := graph.CheckTensor(c.t); err == nil || err.Error() != c.want {
			t.Errorf("CheckTensor: %v, want %q", err, c.want)
		}
	}
	if err := graph.CheckTensor(&graph.Tensor{DType: graph.Bool, Shape: []int{0, 4}}); err != nil {
		t.Errorf("empty tensor: %v", err)
	}
}
