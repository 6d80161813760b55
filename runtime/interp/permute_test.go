package interp

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPermuteMatchesNaive: permute, which drops unit dimensions, merges
// contiguous ones and walks up to three by nested loops, gives what
// reading every output element at its own offset gives, for ranks 0 to 9
// (past the odometer's fixed counters), random orders of dimensions with
// sizes of 1, and strides reversed (as a Slice with negative steps reads);
// an empty result reads nothing.
func TestPermuteMatchesNaive(t *testing.T) {
	// An empty result reads nothing, even from a base past the end (a
	// Slice starting at the end of every axis).
	permute(make([]int32, 0), make([]int32, 6), 9, []int{1, 0}, []int{3, 1})
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 400 {
		r := trial % 10
		in := make([]int, r)
		for i := range in {
			in[i] = 1 + rng.IntN(4)
		}
		src := make([]int32, 1)
		inSt := make([]int, r)
		for i := r - 1; i >= 0; i-- {
			inSt[i] = len(src)
			src = make([]int32, len(src)*in[i])
		}
		for i := range src {
			src[i] = int32(i)
		}
		perm := rng.Perm(r)
		shape, st := make([]int, r), make([]int, r)
		base := 0
		for i, d := range perm {
			shape[i], st[i] = in[d], inSt[d]
			if rng.IntN(3) == 0 { // walk this dimension backwards
				base += st[i] * (shape[i] - 1)
				st[i] = -st[i]
			}
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		got := make([]int32, n)
		permute(got, src, base, shape, st)
		want := make([]int32, n)
		idx := make([]int, r)
		for o := range want {
			off := base
			for d := range idx {
				off += idx[d] * st[d]
			}
			want[o] = src[off]
			for d := r - 1; d >= 0; d-- {
				if idx[d]++; idx[d] < shape[d] {
					break
				}
				idx[d] = 0
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s: shape %v strides %v base %d: got %v, want %v", fmt.Sprint("trial ", trial), shape, st, base, got, want)
		}
	}
}
