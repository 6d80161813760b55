package trnn

import (
	"math"
	"testing"
)

// TestFlatRow: a sequence's steps are read as one row only when they are
// consecutive slices of one array that the first step's capacity reaches.
func TestFlatRow(t *testing.T) {
	const F = 3
	backing := make([]float32, 4*F)
	for i := range backing {
		backing[i] = float32(i)
	}
	cut := func(starts ...int) [][]float32 {
		seq := make([][]float32, len(starts))
		for t, s := range starts {
			seq[t] = backing[s : s+F]
		}
		return seq
	}
	capped := cut(0, F, 2*F)
	for t := range capped {
		capped[t] = capped[t][:F:F]
	}
	separate := [][]float32{make([]float32, F), make([]float32, F)}
	for _, c := range []struct {
		name string
		seq  [][]float32
		want int // the row's length, or −1 for nil
	}{
		{"consecutive", cut(0, F, 2*F, 3*F), 4 * F},
		{"consecutive from step 1 of the array", cut(F, 2*F), 2 * F},
		{"one step", cut(2 * F), F},
		{"capped at each step", capped, -1},
		{"out of order", cut(F, 0), -1},
		{"overlapping", cut(0, 1, 2), -1},
		{"a gap", cut(0, 2*F), -1},
		{"separate arrays", separate, -1},
		{"no steps", nil, -1},
	} {
		row := flatRow(c.seq, F)
		if c.want < 0 {
			if row != nil {
				t.Errorf("%s: got a row of %d values, want none", c.name, len(row))
			}
			continue
		}
		if len(row) != c.want {
			t.Fatalf("%s: got %d values, want %d", c.name, len(row), c.want)
		}
		for i, step := range c.seq {
			for f, v := range step {
				if row[i*F+f] != v {
					t.Errorf("%s: row[%d] = %v, step %d feature %d is %v", c.name, i*F+f, row[i*F+f], i, f, v)
				}
			}
		}
	}
	if flatRow(cut(0, F), 0) != nil {
		t.Error("F = 0 gave a row")
	}
}

// TestNonFiniteBits: every non-finite value, at any position of a slice of
// any length (the four-way loop and its tail), sets the bit; finite
// extremes do not.
func TestNonFiniteBits(t *testing.T) {
	finite := []float32{0, -0, 1, -1, 3.4028235e38, -3.4028235e38, 1e-45, -1e-45, 1.1754944e-38}
	bad := []uint32{0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0x7fbfffff}
	for n := range 11 {
		xs := make([]float32, n)
		for i := range xs {
			xs[i] = finite[i%len(finite)]
		}
		if nonFiniteBits(xs) != 0 {
			t.Fatalf("%d finite values: %#x", n, nonFiniteBits(xs))
		}
		for i := range n {
			for _, b := range bad {
				ys := append([]float32(nil), xs...)
				ys[i] = math.Float32frombits(b)
				if nonFiniteBits(ys) == 0 {
					t.Fatalf("length %d, %#08x at %d: not found", n, b, i)
				}
			}
		}
	}
}

// TestByLengthLongestFirst: Predict's batches list their longest sequence
// first, the order the recurrent layers sort rows into, so that they need
// not sort again; every sequence is in one batch.
func TestByLengthLongestFirst(t *testing.T) {
	seqs := make([][][]float32, 300)
	for i := range seqs {
		seqs[i] = make([][]float32, (i*37)%50)
	}
	seen := make([]bool, len(seqs))
	for _, b := range (&predictPlan{}).byLength(seqs, 2000) {
		for j, i := range b {
			if seen[i] {
				t.Fatalf("sequence %d in two batches", i)
			}
			seen[i] = true
			if j > 0 && len(seqs[i]) > len(seqs[b[j-1]]) {
				t.Fatalf("batch %v: sequence %d (%d steps) after %d (%d steps)", b, i, len(seqs[i]), b[j-1], len(seqs[b[j-1]]))
			}
		}
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("sequence %d in no batch", i)
		}
	}
}
