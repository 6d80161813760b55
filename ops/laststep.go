package ops

import "fmt"

// LastStep, forward and backward: the per-sequence output at each row's
// last valid step, which is what the model predicts from (probs).
//
// Shape legend: B rows, N packed steps, K width.
//
//	out[b]            = x[Last(b)]   rows with length ≥ 1
//	out[b]            = 0            rows of length 0
//	dx[Last(b)]      += dout[b]

// LastStepForward gathers each row's last valid step from the packed batch.
//
//	p   the batch's packing
//	x   [N, K] packed input
//	out [B, K] output in p's row order, every element written
func LastStepForward(p *Packing, x, out []float32, k int) {
	const fn = "LastStepForward"
	lastStepCheck(fn, p, k)
	checkLen(fn, "x", x, p.N()*k, false)
	checkLen(fn, "out", out, p.Rows()*k, false)
	for b, l := range p.Lengths {
		o := out[b*k : (b+1)*k]
		if l == 0 {
			clear(o)
			continue
		}
		r := p.Last(b)
		copy(o, x[r*k:(r+1)*k])
	}
}

// LastStepBackward scatters the output gradient back to the packed rows it
// came from; rows of length 0 contribute nothing.
//
//	p    the batch's packing
//	dout [B, K] ∂L/∂out in p's row order
//	dx   [N, K] ∂L/∂x, accumulated
func LastStepBackward(p *Packing, dout, dx []float32, k int) {
	const fn = "LastStepBackward"
	lastStepCheck(fn, p, k)
	checkLen(fn, "dout", dout, p.Rows()*k, false)
	checkLen(fn, "dx", dx, p.N()*k, false)
	for b, l := range p.Lengths {
		if l == 0 {
			continue
		}
		r := p.Last(b)
		addRows(dx[r*k:(r+1)*k], dout[b*k:(b+1)*k])
	}
}

func lastStepCheck(fn string, p *Packing, k int) {
	checkPacking(fn, p)
	if k < 1 {
		panic(fmt.Sprintf("ops: %s: width %d, want ≥ 1", fn, k))
	}
}
