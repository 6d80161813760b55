package ops

import (
	"slices"
	"testing"
)

// TestSortByLength: rows come out by non-increasing length, rows of equal
// length in their original order, and the result lays out a Packing.
func TestSortByLength(t *testing.T) {
	lens := []int{3, 5, 3, 0, 5, 1, 3}
	rows := []int{0, 1, 2, 3, 4, 5, 6}
	length := func(r int) int { return lens[r] }
	SortByLength(rows, length)
	if want := []int{1, 4, 0, 2, 6, 5, 3}; !slices.Equal(rows, want) {
		t.Fatalf("SortByLength = %v, want %v", rows, want)
	}
	sorted := make([]int, len(rows))
	for i, r := range rows {
		sorted[i] = lens[r]
	}
	var p Packing
	p.Reset(sorted) // panics unless sorted non-increasing
	if p.N() != 20 {
		t.Fatalf("N = %d, want 20", p.N())
	}
	if a := testing.AllocsPerRun(10, func() { SortByLength(rows, length) }); a != 0 {
		t.Fatalf("SortByLength allocates %.1f times, want 0", a)
	}
}
