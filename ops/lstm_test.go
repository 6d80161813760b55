package ops

import (
	"math"
	"testing"
)

// TestLSTMWorkedExample is a case small enough to follow by hand: I = H = 1,
// no peepholes, rows of lengths 3, 0 and 1 (caller order), zero initial
// state. With W = (i 0.5, o −0.4, f 0.3, c 0.8), R = (0.2, 0.1, −0.3, 0.6),
// B = (0.1, −0.2, 0.4, 0), the recurrence
//
//	i = σ(0.5x + 0.2h + 0.1)   f = σ(0.3x − 0.3h + 0.4)   c̃ = tanh(0.8x + 0.6h)
//	C = f·C + i·c̃              o = σ(−0.4x + 0.1h − 0.2)  h = o·tanh(C)
//
// gives (values computed separately in float64):
//
//	row 0, x = 1:    i .645656306 f .668187772 c̃ .664036770 C .428739528 o .354343694 h .143249595
//	row 0, x = −1:   i .408214835 f .514252418 c̃ −.613210354 C −.029841224 o .553377072 h −.016508549
//	row 0, x = 0.5:  i .585816695 f .635283859 c̃ .371442012 C .198639284 o .400915769 h .078606458
//	row 2, x = 2:    i .750260106 f .731058579 c̃ .921668554 C .691491147 o .268941421 h .161079529
func TestLSTMWorkedExample(t *testing.T) {
	lengths := []int{3, 0, 1}
	pk := newPacker(lengths) // packed rows: caller rows 0, 2, 1
	const T = 3
	nan := float32(math.NaN())
	x := pk.packSeq([]float32{1, -1, 0.5, nan, nan, nan, 2, nan, nan}, T, 1)
	w := LSTMWeights{I: 1, H: 1,
		W: []float32{0.5, -0.4, 0.3, 0.8}, R: []float32{0.2, 0.1, -0.3, 0.6}, B: []float32{0.1, -0.2, 0.4, 0}}
	y := make([]float32, pk.p.N())
	hT, cT := make([]float32, 3), make([]float32, 3)
	var c LSTMCache
	LSTMForward(&pk.p, w, x, nil, nil, y, hT, cT, &c)
	expectClose(t, "y", pk.unpackSeq(y, T, 1), []float64{
		0.143249595, -0.016508549, 0.078606458,
		0, 0, 0,
		0.161079529, 0, 0}, 1e-7, 0)
	expectClose(t, "hT", pk.unpackRows(hT, 1), []float64{0.078606458, 0, 0.161079529}, 1e-7, 0)
	expectClose(t, "cT", pk.unpackRows(cT, 1), []float64{0.198639284, 0, 0.691491147}, 1e-7, 0)

	// Backward of L = hT of row 2 alone (one step from C = 0):
	//   ∂L/∂W_c = o·(1 − tanh²C)·i·(1 − c̃²)·x      ∂L/∂W_o = tanh(C)·o·(1 − o)·x
	//   ∂L/∂W_i = o·(1 − tanh²C)·c̃·i·(1 − i)·x     ∂L/∂W_f = 0 (C_{t−1} = 0)
	// with rows 0 and 1 contributing nothing.
	const i, o, cc, C, xv = 0.750260106, 0.268941421, 0.921668554, 0.691491147, 2.0
	tc := math.Tanh(C)
	dC := o * (1 - tc*tc)
	dW := make([]float32, 4)
	dhT := pk.packRows([]float32{0, 0, 1}, 1)
	LSTMBackward(&pk.p, w, x, &c, nil, dhT, nil, LSTMGrads{DW: dW})
	expectClose(t, "dW", dW, []float64{
		dC * cc * i * (1 - i) * xv, // i
		tc * o * (1 - o) * xv,      // o
		0,                          // f
		dC * i * (1 - cc*cc) * xv,  // c
	}, 1e-6, 0)
}

// TestLSTMGolden compares a 2-layer stack with PyTorch (float64 results for
// float32 inputs; testdata/golden/recurrent/make_golden.py): outputs, final
// states of both layers, loss, and the gradients of x and of every layer's
// W, R and B, with a row of length 0 added to the batch.
func TestLSTMGolden(t *testing.T) {
	g := loadGolden(t, "lstm.json")
	if g.Kind != "lstm" {
		t.Fatalf("lstm.json holds a %q case", g.Kind)
	}
	for _, zpos := range []int{0, 2, g.B} {
		runGolden(t, g, zpos)
	}
}
