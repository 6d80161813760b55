package ops

import "testing"

// packedIndex is the packed row of (row b, step t), computed from the
// lengths alone (rows with length > s occupy step s's block): an
// independent statement of Packing's layout.
func packedIndex(lengths []int, b, t int) int {
	r := 0
	for s := 0; s < t; s++ {
		for _, l := range lengths {
			if l > s {
				r++
			}
		}
	}
	return r + b
}

// TestPackingLast: Last(b), where the objective and the runtime read each
// row's prediction, is the packed row of row b's step len−1 for every
// length from the longest down to 1, and no two rows share it.
func TestPackingLast(t *testing.T) {
	p := gcPacking()
	seen := map[int]int{} // packed row → sequence row
	for b, l := range p.Lengths {
		if l == 0 {
			continue
		}
		r := p.Last(b)
		if want := packedIndex(p.Lengths, b, l-1); r != want {
			t.Fatalf("Last(%d) = %d, want %d (length %d)", b, r, want, l)
		}
		if o, dup := seen[r]; dup {
			t.Fatalf("Last(%d) = Last(%d) = %d", b, o, r)
		}
		seen[r] = b
	}
}
