package ops

import "fmt"

// The fused, length-masked LSTM over a packed batch, forward and backward.
//
// Shape legend: B rows, T steps, N packed steps (Σ lengths), I input width,
// H hidden units. Gate blocks are in ONNX's order i, o, f, c (LSTMGate*).
//
// Equations (ONNX LSTM, default activations; ⊙ elementwise, σ sigmoid):
//
//	i_t = σ(x_t·W_iᵀ + H_{t−1}·R_iᵀ + P_i⊙C_{t−1} + b_i)
//	f_t = σ(x_t·W_fᵀ + H_{t−1}·R_fᵀ + P_f⊙C_{t−1} + b_f)
//	c_t = tanh(x_t·W_cᵀ + H_{t−1}·R_cᵀ + b_c)
//	C_t = f_t⊙C_{t−1} + i_t⊙c_t
//	o_t = σ(x_t·W_oᵀ + H_{t−1}·R_oᵀ + P_o⊙C_t + b_o)
//	H_t = o_t⊙tanh(C_t)
//
// b is ONNX's Wb + Rb. A row's steps t ≥ len are not computed: its state
// stays where its last valid step left it and the final states hT, cT are
// taken there; a row of length 0 has hT = cT = 0 whatever h0 and c0 hold
// (ONNX Runtime's rule).

// LSTMWeights are one LSTM layer's parameters, as stored in the graph
// (docs/graph.md) and, with W and R given per direction, in ONNX.
type LSTMWeights struct {
	I, H int       // input width, hidden units
	W    []float32 // [4H, I] input weights, gate blocks i, o, f, c
	R    []float32 // [4H, H] recurrent weights, gate blocks i, o, f, c
	B    []float32 // [4H] one bias per gate (ONNX's Wb + Rb); nil = 0
	P    []float32 // [3H] peepholes, blocks i, o, f; nil = none

	// WT [I, 4H] and RT [H, 4H] are Wᵀ and Rᵀ, or nil. LSTMForward reads
	// them where Gemm would otherwise pack W or R afresh (large batches),
	// with the same results; a model that runs many batches with the same
	// weights transposes them once. Steps of one row then read RT by a
	// GEMV, whose results agree with Gemm's dot products to rounding only
	// (stepWeights): training leaves them nil.
	WT, RT []float32

	// RP is Rᵀ laid out by RecurrentPanels, or nil. Steps of one row read
	// it instead of RT, with the bits they have with RT.
	RP []float32
}

// LSTMGrads are where LSTMBackward accumulates gradients (it adds to them: a
// separate step zeroes them). A nil slice is a gradient not wanted.
type LSTMGrads struct {
	DX  []float32 // [N, I] packed, like x
	DW  []float32 // [4H, I]
	DR  []float32 // [4H, H]
	DB  []float32 // [4H]
	DP  []float32 // [3H]; only with peepholes
	DH0 []float32 // [B, H]
	DC0 []float32 // [B, H]
}

// LSTMCache holds what LSTMForward keeps for LSTMBackward and the workspace
// of both. The zero value is ready to use; it grows (allocating) when a batch
// is larger than any before it, so after Reserve, or after the largest batch
// has been seen once, forward and backward allocate nothing. Its buffers are
// reused without being zeroed: every element a call reads was written by it
// or by the forward it follows.
//
// A cache serves one layer of one shard: LSTMBackward reads the values left
// by the latest LSTMForward on the same cache, which must have had the same
// packing, weights and input. Backward does not change them, so it may be
// called again.
type LSTMCache struct {
	fwd, bwd arena
	sum      []float64 // [4H] column sums for dB

	rows, n, h int  // B, N, H of the latest forward; n < 0 before any
	hasH0      bool // whether the latest forward had h0
	valid      bool // a forward has filled the cache

	gates []float32 // [N, 4H] gate activations i, o, f, c
	cell  []float32 // [N, H] C_t
	tanhC []float32 // [N, H] tanh(C_t)
	hprev []float32 // [N, H] H_{t−1} of each packed row (h0 or 0 at t = 0)
	c0    []float32 // [B, H] C_{−1}: c0, or zeros
	zeros []float32 // [4H] zeros, standing in for a nil B or P

	dG     []float32 // [N, 4H] ∂L/∂ gate pre-activations
	dh, dc []float32 // [B, H] ∂L/∂H, ∂L/∂C flowing back through the steps

	rT    []float32 // [H, 4H] Rᵀ for the forward's wide steps (stepWeights)
	wT    []float32 // [I, 4H] Wᵀ for a training forward (trainInputWeights)
	dwT   []float32 // [I, 4H] ∂L/∂Wᵀ for a narrow input (addWeightGrad)
	train bool      // sized by Reserve: steps of a few rows read rT too
}

// Reserve sizes c for forward and backward on batches of up to rows
// sequences and n packed steps of a layer of i inputs and h hidden units,
// so that later calls within those bounds allocate nothing. It makes c a training cache: its forward
// steps of a few rows read Rᵀ in place (stepWeights), faster, and rounded
// otherwise than an inference cache's.
func (c *LSTMCache) Reserve(rows, n, i, h int) {
	c.fwd.reset(lstmFwdSize(rows, n, h))
	c.bwd.reset(lstmBwdSize(rows, n, h))
	c.sum = grown(c.sum, 4*h)
	reserveStepWeights(&c.rT, rows, 4*h, h)
	c.wT = grown(c.wT, 4*h*i)
	c.dwT = grown(c.dwT, 4*h*i)
	c.train = true
}

func lstmFwdSize(rows, n, h int) int { return 4*n*h + 3*n*h + rows*h + 4*h }
func lstmBwdSize(rows, n, h int) int { return 4*n*h + 2*rows*h }

// LSTMForward runs one LSTM layer over the packed batch p.
//
//	x   [N, I] packed input
//	h0  [B, H] initial hidden state; nil = 0
//	c0  [B, H] initial cell state; nil = 0
//	y   [N, H] packed output H_t, every element written
//	hT  [B, H] hidden state at each row's last valid step (0 for length 0); nil = not wanted
//	cT  [B, H] cell state likewise; nil = not wanted
//
// Rows of h0, c0, hT and cT are in p's row order. c keeps what LSTMBackward
// needs. Shapes are not validated beyond a panic on inconsistent lengths.
func LSTMForward(p *Packing, w LSTMWeights, x, h0, c0, y, hT, cT []float32, c *LSTMCache) {
	const fn = "LSTMForward"
	checkPacking(fn, p)
	B, N, T, I, H := p.Rows(), p.N(), p.Steps(), w.I, w.H
	w.check(fn)
	checkLen(fn, "x", x, N*I, false)
	checkLen(fn, "y", y, N*H, false)
	checkLen(fn, "h0", h0, B*H, true)
	checkLen(fn, "c0", c0, B*H, true)
	checkLen(fn, "hT", hT, B*H, true)
	checkLen(fn, "cT", cT, B*H, true)

	G := 4 * H
	c.fwd.reset(lstmFwdSize(B, N, H))
	c.gates = c.fwd.take(N * G)
	c.cell = c.fwd.take(N * H)
	c.tanhC = c.fwd.take(N * H)
	c.hprev = c.fwd.take(N * H)
	c.c0 = c.fwd.take(B * H)
	c.zeros = c.fwd.take(G)
	clear(c.zeros)
	c.rows, c.n, c.h, c.hasH0, c.valid = B, N, H, h0 != nil, true

	if c0 != nil {
		copy(c.c0, c0)
	} else {
		clear(c.c0)
	}
	if N > 0 {
		// Input projection of every valid step at once.
		inputProduct(N, G, I, x, w.W, trainInputWeights(w.W, w.WT, N, G, I, c.train, &c.wT), c.gates)
		n0 := p.Active[0]
		if h0 != nil {
			copy(c.hprev[:n0*H], h0)
		} else {
			clear(c.hprev[:n0*H])
		}
	}
	bias, peep := w.B, w.P
	if bias == nil {
		bias = c.zeros
	}
	if peep == nil {
		peep = c.zeros[:3*H]
	}
	var rw stepWeights
	rw.prepare(w.R, w.RT, w.RP, G, H, p.Rows(), c.train, &c.rT)
	var tail lstmTail
	tail.prepare(H, bias, peep)
	for t := 0; t < T; t++ {
		n, off := p.Active[t], p.Offset[t]
		g := c.gates[off*G : (off+n)*G]
		if t > 0 || h0 != nil {
			rw.mul(n, 0, G, c.hprev[off*H:(off+n)*H], 1, g, G)
		}
		cprev := c.c0[:n*H]
		if t > 0 {
			prev := p.Offset[t-1]
			cprev = c.cell[prev*H : (prev+n)*H]
		}
		yt := y[off*H : (off+n)*H]
		lstmStepForward(H, g, cprev, c.cell[off*H:(off+n)*H], c.tanhC[off*H:(off+n)*H], yt, bias, peep, &tail)
		if t+1 < T {
			next, nn := p.Offset[t+1], p.Active[t+1]
			copy(c.hprev[next*H:(next+nn)*H], yt[:nn*H])
		}
	}
	writeFinalState(p, y, hT, H)
	writeFinalState(p, c.cell, cT, H)
}

// lstmStepForward applies the gates to the rows of one step. g [n, 4H] holds
// the gate pre-activations without bias and peepholes and is overwritten by
// the activations i, o, f, c; cprev, cell, tanhC and y are [n, H]; bias
// [4H], peep [3H]. Each row runs the vector kernel on its first vecLen(H)
// units and the rest padded to a vector (celltail.go) through tail, which
// the caller prepared for H, bias and peep; or without vector kernels
// lstmCellForward, with the same bits.
func lstmStepForward(H int, g, cprev, cell, tanhC, y, bias, peep []float32, tail *lstmTail) {
	G := 4 * H
	m := vecLen(H)
	bias, peep = bias[:G], peep[:3*H]
	for r := 0; r*G < len(g); r++ {
		gr := g[r*G : (r+1)*G]
		cp := cprev[r*H : (r+1)*H]
		cr := cell[r*H : (r+1)*H]
		tr := tanhC[r*H : (r+1)*H]
		yr := y[r*H : (r+1)*H]
		if m > 0 {
			lstmCellForwardAsm(m, H, &gr[0], &bias[0], &peep[0], &cp[0], &cr[0], &tr[0], &yr[0])
		}
		if m < H && !haveVecAsm {
			lstmCellForward(m, H, gr, bias, peep, cp, cr, tr, yr)
		}
	}
	if hasTail(H) { // the units the vector kernel left
		n, k := len(g)/G, tailRows(m, H)
		for r := 0; r < n; r += k {
			tail.run(m, H, r, min(k, n-r), g, cprev, cell, tanhC, y)
		}
	}
}

// lstmCellForward is one row of lstmStepForward for units j0..H−1: gr
// [4H], bias [4H] and peep [3H] are one row of its operands, cp, cell,
// tanhC and y [H]. Products that feed a sum are rounded on their own
// (activation.go), as in the vector kernel.
func lstmCellForward(j0, H int, gr, bias, peep, cp, cell, tanhC, y []float32) {
	gi, gO, gf, gc := gr[j0:H], gr[H+j0:2*H], gr[2*H+j0:3*H], gr[3*H+j0:4*H]
	bi, bo, bf, bc := bias[j0:H], bias[H+j0:2*H], bias[2*H+j0:3*H], bias[3*H+j0:4*H]
	pi, po, pf := peep[j0:H], peep[H+j0:2*H], peep[2*H+j0:3*H]
	cp, cell, tanhC, y = cp[j0:H], cell[j0:H], tanhC[j0:H], y[j0:H]
	m := len(gi)
	gO, gf, gc = gO[:m], gf[:m], gc[:m]
	bi, bo, bf, bc = bi[:m], bo[:m], bf[:m], bc[:m]
	pi, po, pf = pi[:m], po[:m], pf[:m]
	cp, cell, tanhC, y = cp[:m], cell[:m], tanhC[:m], y[:m]
	for j := range gi {
		cpj := cp[j]
		i := sigmoid(gi[j] + bi[j] + float32(pi[j]*cpj))
		f := sigmoid(gf[j] + bf[j] + float32(pf[j]*cpj))
		cc := tanh(gc[j] + bc[j])
		cj := float32(f*cpj) + float32(i*cc)
		o := sigmoid(gO[j] + bo[j] + float32(po[j]*cj))
		tc := tanh(cj)
		gi[j], gO[j], gf[j], gc[j] = i, o, f, cc
		cell[j], tanhC[j] = cj, tc
		y[j] = o * tc
	}
}

// LSTMBackward is LSTMForward's backward pass through time. It reads the
// values c kept from the forward on the same p, w and x, and accumulates into
// g the gradients of a loss whose gradients with respect to the forward's
// outputs are
//
//	dy   [N, H] ∂L/∂y, packed; nil = 0
//	dhT  [B, H] ∂L/∂hT; nil = 0
//	dcT  [B, H] ∂L/∂cT; nil = 0
//
// Rows of length 0 contribute nothing (their hT and cT are constants).
// g.DP needs peepholes (w.P). g.DH0 and g.DC0 are the gradients with
// respect to h0 and c0, also when the forward took them as 0.
func LSTMBackward(p *Packing, w LSTMWeights, x []float32, c *LSTMCache, dy, dhT, dcT []float32, g LSTMGrads) {
	const fn = "LSTMBackward"
	checkPacking(fn, p)
	B, N, I, H := p.Rows(), p.N(), w.I, w.H
	w.check(fn)
	if !c.valid || c.rows != B || c.n != N || c.h != H {
		panic(fmt.Sprintf("ops: %s: cache holds no forward of this batch (B=%d N=%d H=%d)", fn, B, N, H))
	}
	G := 4 * H
	checkLen(fn, "x", x, N*I, false)
	checkLen(fn, "dy", dy, N*H, true)
	checkLen(fn, "dhT", dhT, B*H, true)
	checkLen(fn, "dcT", dcT, B*H, true)
	checkLen(fn, "DX", g.DX, N*I, true)
	checkLen(fn, "DW", g.DW, G*I, true)
	checkLen(fn, "DR", g.DR, G*H, true)
	checkLen(fn, "DB", g.DB, G, true)
	checkLen(fn, "DH0", g.DH0, B*H, true)
	checkLen(fn, "DC0", g.DC0, B*H, true)
	if g.DP != nil && w.P == nil {
		panic("ops: LSTMBackward: DP given without peepholes")
	}
	checkLen(fn, "DP", g.DP, 3*H, true)
	if N == 0 {
		return
	}

	c.bwd.reset(lstmBwdSize(B, N, H))
	c.dG = c.bwd.take(N * G)
	c.dh = c.bwd.take(B * H)
	c.dc = c.bwd.take(B * H)
	lstmBackwardSteps(p, w, c, dy, dhT, dcT, g)
	lstmBackwardWeights(p, w, x, c, g)
}

// lstmBackwardSteps runs the recurrence of LSTMBackward from the last step to
// the first: it fills c.dG with every step's gate pre-activation gradients,
// accumulates g.DP, and adds to g.DH0 and g.DC0 what reaches the initial
// state.
func lstmBackwardSteps(p *Packing, w LSTMWeights, c *LSTMCache, dy, dhT, dcT []float32, g LSTMGrads) {
	T, H := p.Steps(), w.H
	G := 4 * H
	// Gradients arriving at each row's last valid step; rows that end later
	// receive theirs from the recurrence (the GEMM below overwrites them).
	if dhT != nil {
		copy(c.dh, dhT)
	} else {
		clear(c.dh)
	}
	if dcT != nil {
		copy(c.dc, dcT)
	} else {
		clear(c.dc)
	}
	peep := w.P
	if peep == nil {
		peep = c.zeros[:3*H]
	}
	for t := T - 1; t >= 0; t-- {
		n, off := p.Active[t], p.Offset[t]
		cprev := c.c0[:n*H]
		if t > 0 {
			prev := p.Offset[t-1]
			cprev = c.cell[prev*H : (prev+n)*H]
		}
		var dyt []float32
		if dy != nil {
			dyt = dy[off*H : (off+n)*H]
		}
		dG := c.dG[off*G : (off+n)*G]
		lstmStepBackward(H, c.gates[off*G:(off+n)*G], c.cell[off*H:(off+n)*H], c.tanhC[off*H:(off+n)*H],
			cprev, dyt, c.dh[:n*H], c.dc[:n*H], dG, peep, g.DP)
		if t > 0 || g.DH0 != nil {
			// ∂L/∂H_{t−1} of the rows active at t (all active at t−1).
			Gemm(false, false, n, H, G, 1, dG, G, w.R, H, 0, c.dh[:n*H], H)
		}
	}
	if n0 := p.Active[0]; g.DH0 != nil {
		addRows(g.DH0[:n0*H], c.dh[:n0*H])
	}
	if n0 := p.Active[0]; g.DC0 != nil {
		addRows(g.DC0[:n0*H], c.dc[:n0*H])
	}
}

// lstmBackwardWeights accumulates the gradients of W, R, the bias and x from
// the gate gradients lstmBackwardSteps left in c.dG, over all packed rows at
// once: one GEMM each instead of one per step.
func lstmBackwardWeights(p *Packing, w LSTMWeights, x []float32, c *LSTMCache, g LSTMGrads) {
	N, I, H := p.N(), w.I, w.H
	G := 4 * H
	if g.DW != nil {
		addWeightGrad(G, I, N, c.dG, G, x, g.DW, &c.dwT)
	}
	if g.DR != nil {
		// Rows of step 0 started from H = 0 unless h0 was given.
		s0 := 0
		if !c.hasH0 {
			s0 = p.Active[0]
		}
		if s0 < N {
			Gemm(true, false, G, H, N-s0, 1, c.dG[s0*G:], G, c.hprev[s0*H:], H, 1, g.DR, H)
		}
	}
	if g.DB != nil {
		c.sum = grown(c.sum, G)
		addColSums(g.DB, c.dG, N, G, c.sum)
	}
	if g.DX != nil {
		Gemm(false, false, N, I, G, 1, c.dG, G, w.W, I, 1, g.DX, I)
	}
}

// lstmStepBackward computes the gate gradients of the rows of one step.
// gates [n, 4H] are the activations, cell, tanhC, cprev [n, H] the forward's
// C_t, tanh(C_t), C_{t−1}; dy [n, H] (nil = 0). On entry dh, dc [n, H] hold
// the gradients reaching H_t and C_t from later steps or the final state; dh
// is only read (∂L/∂H_{t−1} has no direct path in the LSTM: the caller's
// GEMM writes it) and on return dc holds ∂L/∂C_{t−1}. dG [n, 4H] receives
// ∂L/∂ of the gate pre-activations; dP, if not nil, accumulates the
// peephole gradients. Each row runs the vector kernel on its first
// vecLen(H) units and lstmCellBackward on the rest, with the same bits.
func lstmStepBackward(H int, gates, cell, tanhC, cprev, dy, dh, dc, dG, peep, dP []float32) {
	G := 4 * H
	m := vecLen(H)
	peep = peep[:3*H]
	for r := 0; r*G < len(gates); r++ {
		gr := gates[r*G : (r+1)*G]
		dr := dG[r*G : (r+1)*G]
		tr := tanhC[r*H : (r+1)*H]
		cp := cprev[r*H : (r+1)*H]
		dhr := dh[r*H : (r+1)*H]
		dcr := dc[r*H : (r+1)*H]
		var dyr []float32
		if dy != nil {
			dyr = dy[r*H : (r+1)*H]
		}
		if m > 0 {
			var dyp *float32
			if dyr != nil {
				dyp = &dyr[0]
			}
			lstmCellBackwardAsm(m, H, &gr[0], &tr[0], &cp[0], dyp, &dhr[0], &dcr[0], &dr[0], &peep[0])
		}
		if m < H { // the units the vector kernel left
			lstmCellBackward(m, H, gr, tr, cp, dyr, dhr, dcr, dr, peep)
		}
		if dP != nil {
			di, dO, df := dr[0:H], dr[H:2*H], dr[2*H:3*H]
			dPi, dPo, dPf := dP[0:H], dP[H:2*H], dP[2*H:3*H]
			cr := cell[r*H : (r+1)*H]
			dO, df, dPi, dPo, dPf, cp, cr = dO[:H], df[:H], dPi[:H], dPo[:H], dPf[:H], cp[:H], cr[:H]
			for j := range di {
				dPi[j] += float32(di[j] * cp[j])
				dPf[j] += float32(df[j] * cp[j])
				dPo[j] += float32(dO[j] * cr[j])
			}
		}
	}
}

// lstmCellBackward is one row of lstmStepBackward for units j0..H−1: gates,
// dG [4H] and peep [3H] are one row of its operands, tanhC, cp, dh, dc [H],
// dy [H] or nil. Products that feed a sum are rounded on their own
// (activation.go), as in the vector kernel.
func lstmCellBackward(j0, H int, gates, tanhC, cp, dy, dh, dc, dG, peep []float32) {
	gi, gO, gf, gc := gates[j0:H], gates[H+j0:2*H], gates[2*H+j0:3*H], gates[3*H+j0:4*H]
	di, dO, df, dcc := dG[j0:H], dG[H+j0:2*H], dG[2*H+j0:3*H], dG[3*H+j0:4*H]
	pi, po, pf := peep[j0:H], peep[H+j0:2*H], peep[2*H+j0:3*H]
	tanhC, cp, dh, dc = tanhC[j0:H], cp[j0:H], dh[j0:H], dc[j0:H]
	m := len(gi)
	gO, gf, gc = gO[:m], gf[:m], gc[:m]
	di, dO, df, dcc = di[:m], dO[:m], df[:m], dcc[:m]
	pi, po, pf = pi[:m], po[:m], pf[:m]
	tanhC, cp, dh, dc = tanhC[:m], cp[:m], dh[:m], dc[:m]
	hasDy := dy != nil
	if hasDy {
		dy = dy[j0:H][:m]
	} else {
		dy = dh // never read; keeps dy's length known in the loop
	}
	for j := range gi {
		i, o, f, cc := gi[j], gO[j], gf[j], gc[j]
		tc := tanhC[j]
		dH := dh[j]
		if hasDy {
			dH += dy[j]
		}
		dop := dH * tc * o * (1 - o)
		dC := dc[j] + float32(dH*o*(1-float32(tc*tc))) + float32(dop*po[j])
		dip := dC * cc * i * (1 - i)
		dfp := dC * cp[j] * f * (1 - f)
		dcp := dC * i * (1 - float32(cc*cc))
		dc[j] = float32(dC*f) + float32(dip*pi[j]) + float32(dfp*pf[j])
		di[j], dO[j], df[j], dcc[j] = dip, dop, dfp, dcp
	}
}

// check panics unless w's slices match its sizes.
func (w *LSTMWeights) check(fn string) {
	if w.I <= 0 || w.H <= 0 {
		panic(fmt.Sprintf("ops: %s: sizes I=%d H=%d", fn, w.I, w.H))
	}
	checkLen(fn, "W", w.W, 4*w.H*w.I, false)
	checkLen(fn, "R", w.R, 4*w.H*w.H, false)
	checkLen(fn, "B", w.B, 4*w.H, true)
	checkLen(fn, "P", w.P, 3*w.H, true)
	checkLen(fn, "WT", w.WT, 4*w.H*w.I, true)
	checkLen(fn, "RT", w.RT, 4*w.H*w.H, true)
	checkLen(fn, "RP", w.RP, 4*w.H*w.H, true)
}
