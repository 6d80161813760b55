package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestRNNRowsSameBits: RNNRows, its rows split into one, two or three
// even-aligned ranges, gives LSTMForward's and GRUForward's bits for y, hT
// and cT, with every GEMM implementation as Gemm's default, with and
// without the transposed weights an inference session gives, initial
// states and peepholes, for batches whose steps run Gemm's dot-product
// kernels (few rows, odd counts) and its outer-product ones (many rows),
// and hidden sizes that the vector kernels take whole or in part.
func TestRNNRowsSameBits(t *testing.T) {
	defer func(d int) { gemmDefault = d }(gemmDefault)
	rng := rand.New(rand.NewPCG(11, 12))
	for _, impl := range gemmImpls(t) {
		gemmDefault = impl.id
		for i, kind := range []recKind{kindLSTM, kindGRU0, kindGRU1} {
			for _, H := range []int{8, 5, 16, 32, 64} {
				for _, B := range []int{1, 7, 40, 90} {
					lengths := make([]int, B)
					for b := range lengths {
						lengths[b] = rng.IntN(13)
					}
					lengths[0] = 12
					given, extra := (B+H)%2 == 0, (B+i)%2 == 1
					c := newRecCase(kind, 5, H, lengths, extra, extra, !extra, uint64(B*H+i))
					name := fmt.Sprintf("%s/%v/H=%d/B=%d/given=%v", impl.name, kind, H, B, given)
					checkRNNRows(t, name, c, given)
				}
			}
		}
	}
}

// checkRNNRows compares RNNRows with the packed forward on c.
func checkRNNRows(t *testing.T, name string, c *recCase, given bool) {
	t.Helper()
	pk, H, I := c.pk, c.H, c.I
	B, N := pk.p.Rows(), pk.p.N()
	G := 4 * H
	if c.kind != kindLSTM {
		G = 3 * H
	}
	x := pk.packSeq(c.vals["x"], c.T, I)
	h0, c0 := pk.packRows(c.vals["h0"], H), pk.packRows(c.vals["c0"], H)
	wantY, wantH, wantC := make([]float32, N*H), make([]float32, B*H), make([]float32, B*H)
	lw, gw := c.lstmWeights(), c.gruWeights()
	if given {
		lw.WT, lw.RT = transposed(lw.W, G, I), transposed(lw.R, G, H)
		lw.RP = RecurrentPanels(lw.RT, H, G) // nil but where G is a multiple of 64
		gw.WT, gw.RT, gw.RP = lw.WT, lw.RT, lw.RP
	}
	var s RNNRows
	if c.kind == kindLSTM {
		LSTMForward(&pk.p, lw, x, h0, c0, wantY, wantH, wantC, new(LSTMCache))
	} else {
		GRUForward(&pk.p, gw, x, h0, wantY, wantH, new(GRUCache))
		wantC = nil
	}
	for _, cuts := range [][]int{{B}, {2 * (B / 4), B}, {2 * (B / 6), 2 * (B / 3), B}} {
		if c.kind == kindLSTM {
			s.StartLSTM(&pk.p, lw, x, h0, c0)
		} else {
			s.StartGRU(&pk.p, gw, x, h0)
		}
		s.InputProduct()
		r0 := 0
		for _, r1 := range cuts {
			s.RunRows(r0, r1, new(RowScratch))
			r0 = r1
		}
		y, hT := make([]float32, N*H), make([]float32, B*H)
		var cT []float32
		if wantC != nil {
			cT = make([]float32, B*H)
		}
		s.Finish(y, hT, cT)
		for _, o := range []struct {
			what      string
			got, want []float32
		}{{"y", y, wantY}, {"hT", hT, wantH}, {"cT", cT, wantC}} {
			if !bitsEqual(o.got, o.want) {
				t.Fatalf("%s cuts %v: %s differs from the packed forward's", name, cuts, o.what)
			}
		}
	}
}

// TestRNNRowsRejectsOddRanges: a range that starts or ends on an odd row
// inside the batch would change which of Gemm's kernels its rows get.
func TestRNNRowsRejectsOddRanges(t *testing.T) {
	c := newRecCase(kindLSTM, 3, 8, []int{4, 3, 3, 2, 1}, false, false, false, 1)
	var s RNNRows
	s.StartLSTM(&c.pk.p, c.lstmWeights(), c.pk.packSeq(c.vals["x"], c.T, c.I), nil, nil)
	for _, r := range [][2]int{{1, 5}, {0, 3}, {2, 6}, {4, 2}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RunRows(%d, %d) did not panic", r[0], r[1])
				}
			}()
			s.RunRows(r[0], r[1], new(RowScratch))
		}()
	}
	s.RunRows(0, 4, new(RowScratch))
	s.RunRows(4, 5, new(RowScratch))
	s.RunRows(2, 2, new(RowScratch))
	s.Finish(nil, nil, make([]float32, 5*8))
	var g RNNRows
	gc := newRecCase(kindGRU0, 3, 8, []int{4, 3, 3, 2, 1}, false, false, false, 1)
	g.StartGRU(&gc.pk.p, gc.gruWeights(), gc.pk.packSeq(gc.vals["x"], gc.T, gc.I), nil)
	defer func() {
		if recover() == nil {
			t.Error("Finish with cT on a GRU did not panic")
		}
	}()
	g.Finish(nil, nil, make([]float32, 5*8))
}
