package ops

import (
	"math"
	"testing"
)

// TestGRUWorkedExample is a case small enough to follow by hand: I = H = 1,
// rows of lengths 3, 0 and 1 (caller order), zero initial state, both forms.
// With W = (z 0.6, r −0.5, h 0.9), R = (0.3, 0.7, −0.8),
// Wb = (0.1, 0.2, −0.1), Rb = (−0.3, 0.1, 0.5):
//
//	z = σ(0.6x + 0.3h − 0.2)    r = σ(−0.5x + 0.7h + 0.3)
//	lbr 0: ĥ = tanh(0.9x − 0.8(r·h) + 0.5 − 0.1)
//	lbr 1: ĥ = tanh(0.9x + r(−0.8h + 0.5) − 0.1)
//	h = (1 − z)ĥ + z·h
//
// gives (values computed separately in float64):
//
//	lbr 0, row 0: x 1: z .598687660 r .450166003 ĥ .861723159 h .345820137
//	              x −1: z .332643296 r .739250006 ĥ −.607227722 h −.290202740
//	              x .5: z .503234749 r .461789169 ĥ .743029790 h .223071276
//	lbr 0, row 2: x 2: z .731058579 r .331812228 ĥ .975743130 h .262417744
//	lbr 1, row 0: x 1: z .598687660 r .450166003 ĥ .771928783 h .309784546
//	              x −1: z .330247772 r .734358404 ĥ −.672237950 h −.347927208
//	              x .5: z .498905461 r .451763229 ĥ .605398970 h .129779333
//	lbr 1, row 2: x 2: z .731058579 r .331812228 ĥ .953221527 h .256360752
func TestGRUWorkedExample(t *testing.T) {
	lengths := []int{3, 0, 1}
	pk := newPacker(lengths)
	const T = 3
	nan := float32(math.NaN())
	x := pk.packSeq([]float32{1, -1, 0.5, nan, nan, nan, 2, nan, nan}, T, 1)
	want := map[bool][]float64{
		false: {0.345820137, -0.290202740, 0.223071276, 0, 0, 0, 0.262417744, 0, 0},
		true:  {0.309784546, -0.347927208, 0.129779333, 0, 0, 0, 0.256360752, 0, 0},
	}
	for _, lbr := range []bool{false, true} {
		w := GRUWeights{I: 1, H: 1, W: []float32{0.6, -0.5, 0.9}, R: []float32{0.3, 0.7, -0.8},
			B: []float32{0.1, 0.2, -0.1, -0.3, 0.1, 0.5}, LinearBeforeReset: lbr}
		y := make([]float32, pk.p.N())
		hT := make([]float32, 3)
		var c GRUCache
		GRUForward(&pk.p, w, x, nil, y, hT, &c)
		expectClose(t, "y", pk.unpackSeq(y, T, 1), want[lbr], 1e-7, 0)
		expectClose(t, "hT", pk.unpackRows(hT, 1), []float64{want[lbr][2], 0, want[lbr][6]}, 1e-7, 0)

		// Backward of L = hT of row 2 alone (one step from h = 0, where the
		// two forms agree): h = (1 − z)ĥ, so
		//   ∂L/∂W_z = −ĥ·z(1 − z)·x    ∂L/∂W_h = (1 − z)(1 − ĥ²)·x
		//   ∂L/∂W_r = (1 − z)(1 − ĥ²)·(lbr 1: Rb_h = 0.5; lbr 0: 0)·r(1 − r)·x
		//   ∂L/∂Rb_h = (1 − z)(1 − ĥ²)·(lbr 1: r; lbr 0: 1)
		const z, r, xv = 0.731058579, 0.331812228, 2.0
		hh := 0.975743130
		rbh, dRbh := 0.0, 1.0
		if lbr {
			hh, rbh, dRbh = 0.953221527, 0.5, r
		}
		dpre := (1 - z) * (1 - hh*hh)
		dW := make([]float32, 3)
		dB := make([]float32, 6)
		GRUBackward(&pk.p, w, x, &c, nil, pk.packRows([]float32{0, 0, 1}, 1), GRUGrads{DW: dW, DB: dB})
		expectClose(t, "dW", dW, []float64{-hh * z * (1 - z) * xv, dpre * rbh * r * (1 - r) * xv, dpre * xv}, 1e-6, 0)
		expectClose(t, "dB", dB, []float64{
			-hh * z * (1 - z), dpre * rbh * r * (1 - r), dpre, // Wb z, r, h
			-hh * z * (1 - z), dpre * rbh * r * (1 - r), dpre * dRbh, // Rb z, r, h
		}, 1e-6, 0)
	}
}

// TestGRUGolden compares a 2-layer stack with PyTorch's GRU (ONNX's
// linear_before_reset = 1; testdata/golden/recurrent/make_golden.py):
// outputs, final states, loss and every gradient, with a row of length 0
// added to the batch.
func TestGRUGolden(t *testing.T) {
	g := loadGolden(t, "gru.json")
	if g.Kind != "gru" {
		t.Fatalf("gru.json holds a %q case", g.Kind)
	}
	for _, zpos := range []int{0, 2, g.B} {
		runGolden(t, g, zpos)
	}
}
