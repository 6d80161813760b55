package interp

import (
	"math"

	"github.com/trnn/trnn/graph"
)

// onnxRecurrentNaive computes an ONNX LSTM (op = OpLSTM) or GRU (OpGRU)
// exactly as recurrent does, but directly from the ONNX equations on the
// padded layout, row by row and step by step in float64, with the same
// rule for padded steps. It is the oracle of the adapter's tests. All three
// outputs are returned (yc nil for the GRU).
func onnxRecurrentNaive(op graph.Op, in rnnInputs, a rnnAttrs) (y, yh, yc *graph.Tensor, err error) {
	d, err := checkRNN(op, in, a)
	if err != nil {
		return nil, nil, nil, err
	}
	if d.layout == 0 {
		y, yh = graph.NewTensor(graph.Float32, d.T, d.D, d.B, d.H), graph.NewTensor(graph.Float32, d.D, d.B, d.H)
	} else {
		y, yh = graph.NewTensor(graph.Float32, d.B, d.T, d.D, d.H), graph.NewTensor(graph.Float32, d.B, d.D, d.H)
	}
	if op == graph.OpLSTM {
		yc = graph.NewTensor(graph.Float32, yh.Shape...)
	}
	for dir := range d.D {
		for b := range d.B {
			naiveRow(op, in, a, d, dir, b, y, yh, yc)
		}
	}
	return y, yh, yc, nil
}

// naiveRow runs row b in direction dir, writing its steps of y and its
// final state to yh and yc (nil for the GRU). A row of length 0 leaves
// them 0.
func naiveRow(op graph.Op, in rnnInputs, a rnnAttrs, d rnnDims, dir, b int, y, yh, yc *graph.Tensor) {
	H := d.H
	reverse := a.Direction == graph.DirReverse || dir == 1
	l := d.T
	if in.SeqLens != nil {
		l = int(in.SeqLens.I32[b])
	}
	if l == 0 {
		return
	}
	h, c := make([]float64, H), make([]float64, H)
	for j := range H {
		h[j] = naiveAt(in.H0, d.hIndex(b, dir)*H+j)
		c[j] = naiveAt(in.C0, d.hIndex(b, dir)*H+j)
	}
	for k := range l {
		s := k
		if reverse {
			s = l - 1 - k
		}
		wx, rh := naiveGates(in, d, dir, in.X.F32[d.xIndex(b, s)*d.I:], h)
		if op == graph.OpLSTM {
			h = naiveLSTMStep(in, d, dir, wx, rh, c)
		} else {
			h = naiveGRUStep(in, a, d, dir, wx, rh, h)
		}
		for j := range H {
			y.F32[d.yIndex(b, s, dir)*H+j] = float32(h[j])
		}
	}
	for j := range H {
		yh.F32[d.hIndex(b, dir)*H+j] = float32(h[j])
		if yc != nil {
			yc.F32[d.hIndex(b, dir)*H+j] = float32(c[j])
		}
	}
}

// naiveAt is t's element i, or 0 for an omitted input.
func naiveAt(t *graph.Tensor, i int) float64 {
	if t == nil {
		return 0
	}
	return float64(t.F32[i])
}

func naiveSigmoid(v float64) float64 { return 1 / (1 + math.Exp(-v)) }

// naiveGates returns, for every gate row g of direction dir,
// wx[g] = x·W_gᵀ + Wb_g and rh[g] = h·R_gᵀ + Rb_g.
func naiveGates(in rnnInputs, d rnnDims, dir int, x []float32, h []float64) (wx, rh []float64) {
	I, H, G := d.I, d.H, d.gates*d.H
	W := in.W.F32[dir*G*I:]
	R := in.R.F32[dir*G*H:]
	bOff := dir * 2 * G
	wx, rh = make([]float64, G), make([]float64, G)
	for g := range G {
		var sw, sr float64
		for i := range I {
			sw += float64(x[i]) * float64(W[g*I+i])
		}
		for i := range H {
			sr += h[i] * float64(R[g*H+i])
		}
		wx[g] = sw + naiveAt(in.B, bOff+g)
		rh[g] = sr + naiveAt(in.B, bOff+G+g)
	}
	return wx, rh
}

// naiveLSTMStep updates the cell c in place and returns the new hidden
// state, gates in ONNX's order i, o, f, c with peepholes.
func naiveLSTMStep(in rnnInputs, d rnnDims, dir int, wx, rh, c []float64) []float64 {
	H := d.H
	nh := make([]float64, H)
	for j := range H {
		p := func(gate int) float64 { return naiveAt(in.P, dir*3*H+gate*H+j) }
		ig := naiveSigmoid(wx[j] + rh[j] + p(0)*c[j])
		fg := naiveSigmoid(wx[2*H+j] + rh[2*H+j] + p(2)*c[j])
		cc := math.Tanh(wx[3*H+j] + rh[3*H+j])
		c[j] = fg*c[j] + ig*cc
		og := naiveSigmoid(wx[H+j] + rh[H+j] + p(1)*c[j])
		nh[j] = og * math.Tanh(c[j])
	}
	return nh
}

// naiveGRUStep returns the new hidden state, gates in ONNX's order z, r, h,
// with the reset gate applied before (linear_before_reset = 0) or after
// (= 1) the recurrent product of the candidate.
func naiveGRUStep(in rnnInputs, a rnnAttrs, d rnnDims, dir int, wx, rh, h []float64) []float64 {
	H, G := d.H, d.gates*d.H
	R := in.R.F32[dir*G*H:]
	bOff := dir * 2 * G
	r := make([]float64, H)
	for j := range H {
		r[j] = naiveSigmoid(wx[H+j] + rh[H+j])
	}
	nh := make([]float64, H)
	for j := range H {
		z := naiveSigmoid(wx[j] + rh[j])
		var hc float64
		if a.LinearBeforeReset {
			hc = math.Tanh(wx[2*H+j] + r[j]*rh[2*H+j])
		} else {
			var sr float64
			for i := range H {
				sr += r[i] * h[i] * float64(R[(2*H+j)*H+i])
			}
			hc = math.Tanh(wx[2*H+j] + sr + naiveAt(in.B, bOff+G+2*H+j))
		}
		nh[j] = (1-z)*hc + z*h[j]
	}
	return nh
}
