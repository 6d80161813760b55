package ops

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

// stackLayer is one layer of a stack test: its kind and weights, drawn by
// newRecCase for its input width.
type stackLayer struct {
	kind recKind
	c    *recCase
	lw   LSTMWeights
	gw   GRUWeights
}

// newStack draws layers of the given kinds, each reading the one below,
// with Wᵀ and Rᵀ given as an inference session gives them.
func newStack(kinds []recKind, I, H int, lengths []int, seed uint64) []stackLayer {
	layers := make([]stackLayer, len(kinds))
	for l, kind := range kinds {
		c := newRecCase(kind, I, H, lengths, l%2 == 0, l == 1, l == 1, seed+uint64(l))
		G := 3 * H
		if kind == kindLSTM {
			G = 4 * H
		}
		lw, gw := c.lstmWeights(), c.gruWeights()
		lw.WT, lw.RT = transposed(lw.W, G, I), transposed(lw.R, G, H)
		gw.WT, gw.RT = lw.WT, lw.RT
		layers[l] = stackLayer{kind: kind, c: c, lw: lw, gw: gw}
		I = H
	}
	return layers
}

// start starts layer l's RNNRows on the packed input x.
func (sl *stackLayer) start(s *RNNRows, p *Packing, x []float32) {
	c := sl.c
	h0, c0 := c.pk.packRows(c.vals["h0"], c.H), c.pk.packRows(c.vals["c0"], c.H)
	if sl.kind == kindLSTM {
		s.StartLSTM(p, sl.lw, x, h0, c0)
	} else {
		s.StartGRU(p, sl.gw, x, h0)
	}
}

// forward runs the layer with the packed forward, for reference.
func (sl *stackLayer) forward(p *Packing, x, y, hT []float32) {
	c := sl.c
	h0, c0 := c.pk.packRows(c.vals["h0"], c.H), c.pk.packRows(c.vals["c0"], c.H)
	if sl.kind == kindLSTM {
		LSTMForward(p, sl.lw, x, h0, c0, y, hT, nil, new(LSTMCache))
	} else {
		GRUForward(p, sl.gw, x, h0, y, hT, new(GRUCache))
	}
}

// runFollowing runs the stack's layers at once, layer l on a goroutine of
// its own following layer l−1, and returns the top layer's y and hT, and
// the first panic of any layer.
func runFollowing(layers []stackLayer, p *Packing, x []float32, H int, feed bool) (y, hT []float32, panicked any) {
	L := len(layers)
	rows := make([]RNNRows, L)
	prog := make([]Progress, L)
	for l := range layers {
		in := x
		if l > 0 {
			in = rows[l-1].Output()
		}
		layers[l].start(&rows[l], p, in)
		if l == 0 {
			rows[l].InputProduct()
		}
		var src *Progress
		if l > 0 {
			src = &prog[l-1]
		}
		rows[l].Follow(src, &prog[l])
	}
	for l := range L - 1 {
		if feed {
			rows[l].Feed(&rows[l+1])
		}
	}
	var wg sync.WaitGroup
	panics := make([]any, L)
	for l := range layers {
		wg.Go(func() {
			defer func() {
				if r := recover(); r != nil {
					panics[l] = r
					prog[l].Fail()
				}
			}()
			rows[l].RunRows(0, p.Rows(), new(RowScratch))
		})
	}
	wg.Wait()
	for _, r := range panics {
		if r != nil {
			return nil, nil, r
		}
	}
	y, hT = make([]float32, p.N()*H), make([]float32, p.Rows()*H)
	rows[L-1].Finish(y, hT, nil)
	for l := range L - 1 {
		rows[l].Finish(nil, nil, nil)
	}
	return y, hT, nil
}

// TestRNNRowsFollowSameBits: a stack of LSTM and GRU layers run at once,
// each following the one below (Follow), and each computing some of the
// input products of the one above or not (Feed), gives the bits of the layers run
// one after another by the packed forward, for one row and several, with
// every GEMM implementation as Gemm's default, initial states and
// peepholes, and hidden sizes that the vector kernels take whole or in
// part.
func TestRNNRowsFollowSameBits(t *testing.T) {
	defer func(d int) { gemmDefault = d }(gemmDefault)
	for _, impl := range gemmImpls(t) {
		gemmDefault = impl.id
		for _, kinds := range [][]recKind{{kindLSTM, kindLSTM}, {kindGRU1, kindLSTM, kindGRU0}} {
			for _, H := range []int{64, 20, 8} {
				for _, lengths := range [][]int{{43}, {48, 48}, {40, 17, 0, 33, 9}} {
					name := fmt.Sprintf("%s/%v/H=%d/B=%d", impl.name, kinds, H, len(lengths))
					layers := newStack(kinds, 13, H, lengths, uint64(H+len(lengths)))
					pk := newPacker(lengths)
					x := pk.packSeq(layers[0].c.vals["x"], layers[0].c.T, 13)
					in := x
					var wantY, wantH []float32
					for l := range layers {
						wantY, wantH = make([]float32, pk.p.N()*H), make([]float32, len(lengths)*H)
						layers[l].forward(&pk.p, in, wantY, wantH)
						in = wantY
					}
					for _, feed := range []bool{false, true} {
						y, hT, panicked := runFollowing(layers, &pk.p, x, H, feed)
						if panicked != nil {
							t.Fatalf("%s feed=%v: %v", name, feed, panicked)
						}
						if !sameBits(y, wantY) || !sameBits(hT, wantH) {
							t.Fatalf("%s feed=%v: y or hT differ from the layers run one after another", name, feed)
						}
					}
				}
			}
		}
	}
}

// TestRNNRowsFollowStopsWhenBelowFails: a layer whose writer fails panics
// instead of waiting for rows that will not come.
func TestRNNRowsFollowStopsWhenBelowFails(t *testing.T) {
	_, above, _, src := followPair([]int{43}, 3)
	src.publish(5)
	go src.Fail()
	defer func() {
		r := recover()
		if s, ok := r.(string); !ok || !strings.Contains(s, "the layer below stopped") {
			t.Fatalf("recovered %v, want the layer below's failure", r)
		}
	}()
	above.RunRows(0, 1, new(RowScratch))
	t.Fatal("RunRows returned although the layer below failed")
}

// TestRNNRowsFollowRefusesMisuse: following needs the whole batch, and an
// input product that runs in windows; feeding, a layer that follows.
func TestRNNRowsFollowRefusesMisuse(t *testing.T) {
	below, above, layers, src := followPair([]int{43, 40}, 4)
	pk := layers[0].c.pk
	expectPanic(t, "ops: RNNRows.RunRows: a layer that follows another runs the whole batch", func() { above.RunRows(0, 0, new(RowScratch)) })
	lw := layers[1].lw
	lw.WT, lw.RT = nil, nil
	above.StartLSTM(&pk.p, lw, below.Output(), nil, nil)
	expectPanic(t, "ops: RNNRows.Follow: the layer's input product must run on the whole input first", func() { above.Follow(src, nil) })
	expectPanic(t, "ops: RNNRows.Feed: the layer fed must follow this one", func() { above.Feed(below) })
}

// followPair starts two LSTM layers of 16 units on rows of the given
// lengths, the one above following the one below through src.
func followPair(lengths []int, seed uint64) (below, above *RNNRows, layers []stackLayer, src *Progress) {
	layers = newStack([]recKind{kindLSTM, kindLSTM}, 13, 16, lengths, seed)
	pk := layers[0].c.pk
	below, above, src = new(RNNRows), new(RNNRows), new(Progress)
	layers[0].start(below, &pk.p, pk.packSeq(layers[0].c.vals["x"], layers[0].c.T, 13))
	layers[1].start(above, &pk.p, below.Output())
	above.Follow(src, nil)
	return below, above, layers, src
}
