package ops

import (
	"cmp"
	"fmt"
	"slices"
)

// Packing describes a batch of sequences stored time-major with the padding
// removed. Rows are ordered by non-increasing length; the packed row of
// (row b, step t), valid when t < Lengths[b], is Offset[t] + b.
//
// A Packing is reused across batches: Reset reslices its own storage and
// allocates only when a batch is larger than any before it.
type Packing struct {
	Lengths []int // [B] non-increasing; 0 is allowed
	Active  []int // [T] rows with length > t, non-increasing
	Offset  []int // [T+1] Offset[t] = Σ_{s<t} Active[s]; Offset[T] = N
}

// Reset lays out a batch whose row lengths, already sorted in non-increasing
// order, are lengths. It panics if they are not sorted or are negative.
func (p *Packing) Reset(lengths []int) {
	p.Lengths = append(p.Lengths[:0], lengths...)
	T := 0
	for b, l := range lengths {
		if l < 0 || (b > 0 && l > lengths[b-1]) {
			panic(fmt.Sprintf("ops: Packing.Reset: lengths not sorted non-increasing at row %d", b))
		}
		if l > T {
			T = l
		}
	}
	p.Active = p.Active[:0]
	p.Offset = append(p.Offset[:0], 0)
	b := len(lengths)
	for t := 0; t < T; t++ {
		for b > 0 && lengths[b-1] <= t {
			b--
		}
		p.Active = append(p.Active, b)
		p.Offset = append(p.Offset, p.Offset[t]+b)
	}
}

// Rows is B, the number of sequences.
func (p *Packing) Rows() int { return len(p.Lengths) }

// Steps is T, the longest length.
func (p *Packing) Steps() int { return len(p.Active) }

// N is the number of packed steps, Σ lengths.
func (p *Packing) N() int { return p.Offset[len(p.Offset)-1] }

// Index is the packed row of (row b, step t); t must be < Lengths[b].
func (p *Packing) Index(b, t int) int { return p.Offset[t] + b }

// Last is the packed row of row b's last valid step; Lengths[b] must be ≥ 1.
func (p *Packing) Last(b int) int { return p.Offset[p.Lengths[b]-1] + b }

// SortByLength reorders rows stably by non-increasing length, where
// length(r) is row r's number of steps: the row order Reset takes. Rows of
// equal length keep their order, so a batch's layout depends only on the
// batch. It allocates nothing, and leaves rows already in that order as
// they are in one pass (Predict hands its batches over sorted).
func SortByLength(rows []int, length func(row int) int) {
	longerFirst := func(a, b int) int { return cmp.Compare(length(b), length(a)) }
	if !slices.IsSortedFunc(rows, longerFirst) {
		slices.SortStableFunc(rows, longerFirst)
	}
}
