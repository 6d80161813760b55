package ops

import "fmt"

// The fused, length-masked GRU over a packed batch, forward and backward.
//
// Shape legend: B rows, T steps, N packed steps (Σ lengths), I input width,
// H hidden units. Gate blocks are in ONNX's order z, r, h (GRUGate*).
//
// Equations (ONNX GRU, default activations; ⊙ elementwise, σ sigmoid):
//
//	z_t = σ(x_t·W_zᵀ + H_{t−1}·R_zᵀ + Wb_z + Rb_z)
//	r_t = σ(x_t·W_rᵀ + H_{t−1}·R_rᵀ + Wb_r + Rb_r)
//	ĥ_t = tanh(x_t·W_hᵀ + (r_t⊙H_{t−1})·R_hᵀ + Rb_h + Wb_h)     linear_before_reset = 0
//	ĥ_t = tanh(x_t·W_hᵀ + r_t⊙(H_{t−1}·R_hᵀ + Rb_h) + Wb_h)     linear_before_reset = 1
//	H_t = (1 − z_t)⊙ĥ_t + z_t⊙H_{t−1}
//
// linear_before_reset = 1 is PyTorch's and cuDNN's GRU, the form trnn trains
// and exports; 0 is ONNX's default, found in imported models. A row's steps
// t ≥ len are not computed; hT is the state at its last valid step, and 0
// for a row of length 0 whatever h0 holds (ONNX Runtime's rule).

// GRUWeights are one GRU layer's parameters, as stored in the graph
// (docs/graph.md) and, per direction, in ONNX.
type GRUWeights struct {
	I, H int       // input width, hidden units
	W    []float32 // [3H, I] input weights, gate blocks z, r, h
	R    []float32 // [3H, H] recurrent weights, gate blocks z, r, h
	B    []float32 // [6H] input bias Wb (z, r, h) then recurrent bias Rb (z, r, h); nil = 0
	// LinearBeforeReset selects ONNX's linear_before_reset = 1 form.
	LinearBeforeReset bool
	// WT [I, 3H] and RT [H, 3H] are Wᵀ and Rᵀ, or nil, and RP Rᵀ in
	// panels (RecurrentPanels), or nil, as in LSTMWeights.
	WT, RT, RP []float32
}

// GRUGrads are where GRUBackward accumulates gradients (it adds to them: a
// separate step zeroes them). A nil slice is a gradient not wanted.
type GRUGrads struct {
	DX  []float32 // [N, I] packed, like x
	DW  []float32 // [3H, I]
	DR  []float32 // [3H, H]
	DB  []float32 // [6H] Wb then Rb, like B
	DH0 []float32 // [B, H]
}

// GRUCache holds what GRUForward keeps for GRUBackward and the workspace of
// both, with the same contract as LSTMCache: the zero value is ready, it
// grows only for a batch larger than any before (or beyond Reserve), its
// buffers are reused without being zeroed, and GRUBackward reads the latest
// GRUForward on the same cache, which it does not change.
type GRUCache struct {
	fwd, bwd arena
	sum      []float64 // [3H] column sums for dB

	rows, n, h int
	hasH0, lbr bool
	valid      bool

	gates []float32 // [N, 3H] activations z, r, ĥ
	hr    []float32 // [N, H] lbr=1: H_{t−1}·R_hᵀ + Rb_h; lbr=0: r_t⊙H_{t−1}
	hprev []float32 // [N, H] H_{t−1} of each packed row (h0 or 0 at t = 0)
	rec   []float32 // [B, 3H] lbr=1: H_{t−1}·Rᵀ of one step
	zeros []float32 // [6H] zeros, standing in for a nil B

	// dG [N, 3H]: ∂L/∂ of the pre-activations of z and r, and in the h block
	// the gradient on the recurrent side: lbr=1 ∂L/∂(H_{t−1}·R_hᵀ + Rb_h),
	// lbr=0 ∂L/∂ĥ's pre-activation (the same on both sides).
	dG  []float32
	dxh []float32 // [N, H] lbr=1: ∂L/∂ĥ's pre-activation (input side)
	dh  []float32 // [B, H] ∂L/∂H flowing back through the steps
	drh []float32 // [B, H] lbr=0: ∂L/∂(r_t⊙H_{t−1}) of one step

	rT    []float32 // [H, 3H] Rᵀ for the forward's wide steps (stepWeights)
	wT    []float32 // [I, 3H] Wᵀ for a training forward (trainInputWeights)
	dwT   []float32 // [I, 3H] ∂L/∂Wᵀ for a narrow input (addWeightGrad)
	train bool      // sized by Reserve: steps of a few rows read rT too
}

// Reserve sizes c for forward and backward on batches of up to rows
// sequences and n packed steps of a layer of i inputs and h hidden units,
// so that later calls within those bounds allocate nothing. It makes c a training cache: its forward
// steps of a few rows read Rᵀ in place (stepWeights), faster, and rounded
// otherwise than an inference cache's.
func (c *GRUCache) Reserve(rows, n, i, h int) {
	c.fwd.reset(gruFwdSize(rows, n, h))
	c.bwd.reset(gruBwdSize(rows, n, h))
	c.sum = grown(c.sum, 3*h)
	reserveStepWeights(&c.rT, rows, 3*h, h)
	c.wT = grown(c.wT, 3*h*i)
	c.dwT = grown(c.dwT, 3*h*i)
	c.train = true
}

func gruFwdSize(rows, n, h int) int { return 3*n*h + 2*n*h + 3*rows*h + 6*h }
func gruBwdSize(rows, n, h int) int { return 3*n*h + n*h + 2*rows*h }

// GRUForward runs one GRU layer over the packed batch p.
//
//	x   [N, I] packed input
//	h0  [B, H] initial hidden state; nil = 0
//	y   [N, H] packed output H_t, every element written
//	hT  [B, H] hidden state at each row's last valid step (0 for length 0); nil = not wanted
//
// Rows of h0 and hT are in p's row order. c keeps what GRUBackward needs.
// Shapes are not validated beyond a panic on inconsistent lengths.
func GRUForward(p *Packing, w GRUWeights, x, h0, y, hT []float32, c *GRUCache) {
	const fn = "GRUForward"
	checkPacking(fn, p)
	B, N, T, I, H := p.Rows(), p.N(), p.Steps(), w.I, w.H
	w.check(fn)
	checkLen(fn, "x", x, N*I, false)
	checkLen(fn, "y", y, N*H, false)
	checkLen(fn, "h0", h0, B*H, true)
	checkLen(fn, "hT", hT, B*H, true)

	G := 3 * H
	c.fwd.reset(gruFwdSize(B, N, H))
	c.gates = c.fwd.take(N * G)
	c.hr = c.fwd.take(N * H)
	c.hprev = c.fwd.take(N * H)
	c.rec = c.fwd.take(B * G)
	c.zeros = c.fwd.take(2 * G)
	clear(c.zeros)
	c.rows, c.n, c.h, c.hasH0, c.lbr, c.valid = B, N, H, h0 != nil, w.LinearBeforeReset, true

	if N > 0 {
		inputProduct(N, G, I, x, w.W, trainInputWeights(w.W, w.WT, N, G, I, c.train, &c.wT), c.gates)
		n0 := p.Active[0]
		if h0 != nil {
			copy(c.hprev[:n0*H], h0)
		} else {
			clear(c.hprev[:n0*H])
		}
	}
	bias := w.B
	if bias == nil {
		bias = c.zeros
	}
	var rw stepWeights
	rw.prepare(w.R, w.RT, w.RP, G, H, B, c.train, &c.rT)
	var tail gruTail
	if w.LinearBeforeReset {
		tail.prepare(H, bias)
	}
	for t := 0; t < T; t++ {
		n, off := p.Active[t], p.Offset[t]
		g := c.gates[off*G : (off+n)*G]
		hp := c.hprev[off*H : (off+n)*H]
		hr := c.hr[off*H : (off+n)*H]
		yt := y[off*H : (off+n)*H]
		recur := t > 0 || h0 != nil
		if w.LinearBeforeReset {
			rec := c.rec[:n*G]
			if recur {
				rw.mul(n, 0, G, hp, 0, rec, G)
			} else {
				clear(rec)
			}
			gruStepForwardLBR(H, g, rec, hp, hr, yt, bias, &tail)
		} else {
			if recur {
				// z and r blocks: H_{t−1}·R_{zr}ᵀ.
				rw.mul(n, 0, 2*H, hp, 1, g, G)
			}
			gruStepResetGates(H, g, hp, hr, bias)
			if recur {
				// h block: (r_t⊙H_{t−1})·R_hᵀ.
				rw.mul(n, 2*H, H, hr, 1, g[2*H:], G)
			}
			gruStepCandidate(H, g, hp, yt, bias)
		}
		if t+1 < T {
			next, nn := p.Offset[t+1], p.Active[t+1]
			copy(c.hprev[next*H:(next+nn)*H], yt[:nn*H])
		}
	}
	writeFinalState(p, y, hT, H)
}

// gruStepForwardLBR applies the gates of one step in the
// linear_before_reset = 1 form. g [n, 3H] holds x·Wᵀ and is overwritten by
// the activations z, r, ĥ; rec [n, 3H] is H_{t−1}·Rᵀ; hp, hr, y are [n, H]:
// hr receives H_{t−1}·R_hᵀ + Rb_h; bias [6H]. Each row runs the vector
// kernel on its first vecLen(H) units and the rest padded to a vector
// (celltail.go) through tail, which the caller prepared for H and bias; or
// without vector kernels gruCellForwardLBR, with the same bits.
func gruStepForwardLBR(H int, g, rec, hp, hr, y, bias []float32, tail *gruTail) {
	G := 3 * H
	m := vecLen(H)
	bias = bias[:2*G]
	for r := 0; r*G < len(g); r++ {
		gr := g[r*G : (r+1)*G]
		rc := rec[r*G : (r+1)*G]
		hpr, hrr, yr := hp[r*H:(r+1)*H], hr[r*H:(r+1)*H], y[r*H:(r+1)*H]
		if m > 0 {
			gruCellForwardAsm(m, H, &gr[0], &rc[0], &bias[0], &hpr[0], &hrr[0], &yr[0])
		}
		if m < H && !haveVecAsm {
			gruCellForwardLBR(m, H, gr, rc, bias, hpr, hrr, yr)
		}
	}
	if hasTail(H) { // the units the vector kernel left
		n, k := len(g)/G, tailRows(m, H)
		for r := 0; r < n; r += k {
			tail.run(m, H, r, min(k, n-r), g, rec, hp, hr, y)
		}
	}
}

// gruCellForwardLBR is one row of gruStepForwardLBR for units j0..H−1: gr,
// rc [3H] and bias [6H] are one row of its operands, hp, hr, y [H].
// Products that feed a sum are rounded on their own (activation.go), as in
// the vector kernel.
func gruCellForwardLBR(j0, H int, gr, rc, bias, hp, hr, y []float32) {
	gz, gR, gh := gr[j0:H], gr[H+j0:2*H], gr[2*H+j0:3*H]
	rz, rr, rh := rc[j0:H], rc[H+j0:2*H], rc[2*H+j0:3*H]
	wbz, wbr, wbh := bias[j0:H], bias[H+j0:2*H], bias[2*H+j0:3*H]
	rbz, rbr, rbh := bias[3*H+j0:4*H], bias[4*H+j0:5*H], bias[5*H+j0:6*H]
	m := len(gz)
	gR, gh, rz, rr, rh = gR[:m], gh[:m], rz[:m], rr[:m], rh[:m]
	wbz, wbr, wbh, rbz, rbr, rbh = wbz[:m], wbr[:m], wbh[:m], rbz[:m], rbr[:m], rbh[:m]
	hp, hr, y = hp[j0:H][:m], hr[j0:H][:m], y[j0:H][:m]
	for j := range gz {
		z := sigmoid(gz[j] + wbz[j] + rz[j] + rbz[j])
		rg := sigmoid(gR[j] + wbr[j] + rr[j] + rbr[j])
		hn := rh[j] + rbh[j]
		hh := tanh(gh[j] + wbh[j] + float32(rg*hn))
		gz[j], gR[j], gh[j] = z, rg, hh
		hr[j] = hn
		y[j] = float32((1-z)*hh) + float32(z*hp[j])
	}
}

// gruStepResetGates is the first half of a linear_before_reset = 0 step:
// g [n, 3H] holds the z and r pre-activations without bias, overwritten by
// z and r; hr [n, H] receives r⊙H_{t−1}. The z and r blocks are adjacent in
// g and in both halves of the bias, so each row is one pass adding biases
// and one sigmoidVec over 2H units.
func gruStepResetGates(H int, g, hp, hr, bias []float32) {
	G := 3 * H
	wb, rb := bias[0:2*H], bias[3*H:5*H]
	for r := 0; r*G < len(g); r++ {
		gzr := g[r*G : r*G+2*H]
		hpr, hrr := hp[r*H:(r+1)*H], hr[r*H:(r+1)*H]
		wb, rb = wb[:len(gzr)], rb[:len(gzr)]
		for j := range gzr {
			gzr[j] = gzr[j] + wb[j] + rb[j]
		}
		sigmoidVec(gzr, gzr)
		gR := gzr[H:]
		hpr, hrr = hpr[:len(gR)], hrr[:len(gR)]
		for j := range gR {
			hrr[j] = gR[j] * hpr[j]
		}
	}
}

// gruStepCandidate is the second half of a linear_before_reset = 0 step: the
// h block of g holds the candidate's pre-activation without bias,
// overwritten by ĥ (one tanhVec per row); y [n, H] receives H_t.
func gruStepCandidate(H int, g, hp, y, bias []float32) {
	G := 3 * H
	wbh, rbh := bias[2*H:3*H], bias[5*H:6*H]
	for r := 0; r*G < len(g); r++ {
		gr := g[r*G : (r+1)*G]
		gz, gh := gr[0:H], gr[2*H:3*H]
		hpr, yr := hp[r*H:(r+1)*H], y[r*H:(r+1)*H]
		m := len(gz)
		gh, hpr, yr = gh[:m], hpr[:m], yr[:m]
		wbh, rbh = wbh[:m], rbh[:m]
		for j := range gh {
			gh[j] = gh[j] + wbh[j] + rbh[j]
		}
		tanhVec(gh, gh)
		for j, z := range gz {
			yr[j] = float32((1-z)*gh[j]) + float32(z*hpr[j])
		}
	}
}

// GRUBackward is GRUForward's backward pass through time. It reads the values
// c kept from the forward on the same p, w and x, and accumulates into g the
// gradients of a loss whose gradients with respect to the forward's outputs
// are
//
//	dy   [N, H] ∂L/∂y, packed; nil = 0
//	dhT  [B, H] ∂L/∂hT; nil = 0
//
// Rows of length 0 contribute nothing. g.DH0 is the gradient with respect to
// h0, also when the forward took it as 0.
func GRUBackward(p *Packing, w GRUWeights, x []float32, c *GRUCache, dy, dhT []float32, g GRUGrads) {
	const fn = "GRUBackward"
	checkPacking(fn, p)
	B, N, I, H := p.Rows(), p.N(), w.I, w.H
	w.check(fn)
	if !c.valid || c.rows != B || c.n != N || c.h != H || c.lbr != w.LinearBeforeReset {
		panic(fmt.Sprintf("ops: %s: cache holds no forward of this batch (B=%d N=%d H=%d)", fn, B, N, H))
	}
	G := 3 * H
	checkLen(fn, "x", x, N*I, false)
	checkLen(fn, "dy", dy, N*H, true)
	checkLen(fn, "dhT", dhT, B*H, true)
	checkLen(fn, "DX", g.DX, N*I, true)
	checkLen(fn, "DW", g.DW, G*I, true)
	checkLen(fn, "DR", g.DR, G*H, true)
	checkLen(fn, "DB", g.DB, 2*G, true)
	checkLen(fn, "DH0", g.DH0, B*H, true)
	if N == 0 {
		return
	}

	c.bwd.reset(gruBwdSize(B, N, H))
	c.dG = c.bwd.take(N * G)
	if w.LinearBeforeReset {
		c.dxh = c.bwd.take(N * H)
	} else {
		c.dxh = nil
	}
	c.dh = c.bwd.take(B * H)
	c.drh = c.bwd.take(B * H)
	if dhT != nil {
		copy(c.dh, dhT)
	} else {
		clear(c.dh)
	}
	c.sum = grown(c.sum, G)
	// The two forms share no step kernel: the reset gate sits on opposite
	// sides of R_h, so the gradients through it take different GEMMs.
	if w.LinearBeforeReset {
		gruBackwardLBR(p, w, x, c, dy, g)
	} else {
		gruBackwardReset(p, w, x, c, dy, g)
	}
}

// gruBackwardLBR is GRUBackward in the linear_before_reset = 1 form, after
// the checks and with c's backward buffers laid out. The h block of dG is
// the gradient on the recurrent side of the reset gate and dxh the one on
// the input side, so the input weights and biases of the h block take dxh
// while R and the recurrent biases take dG.
func gruBackwardLBR(p *Packing, w GRUWeights, x []float32, c *GRUCache, dy []float32, g GRUGrads) {
	N, T, I, H := p.N(), p.Steps(), w.I, w.H
	G := 3 * H
	for t := T - 1; t >= 0; t-- {
		n, off := p.Active[t], p.Offset[t]
		var dyt []float32
		if dy != nil {
			dyt = dy[off*H : (off+n)*H]
		}
		dG := c.dG[off*G : (off+n)*G]
		dh := c.dh[:n*H]
		gruStepBackwardLBR(H, c.gates[off*G:(off+n)*G], c.hprev[off*H:(off+n)*H], c.hr[off*H:(off+n)*H],
			dyt, dh, dG, c.dxh[off*H:(off+n)*H])
		if t > 0 || g.DH0 != nil {
			Gemm(false, false, n, H, G, 1, dG, G, w.R, H, 1, dh, H)
		}
	}
	s0 := gruBackwardInitial(p, c, g)
	if g.DW != nil {
		addWeightGrad(2*H, I, N, c.dG, G, x, g.DW[:2*H*I], &c.dwT)
		addWeightGrad(H, I, N, c.dxh, H, x, g.DW[2*H*I:3*H*I], &c.dwT)
	}
	if g.DR != nil && s0 < N {
		Gemm(true, false, G, H, N-s0, 1, c.dG[s0*G:], G, c.hprev[s0*H:], H, 1, g.DR, H)
	}
	if g.DB != nil {
		addColSums(g.DB[:2*H], c.dG, N, G, c.sum)
		addColSums(g.DB[2*H:3*H], c.dxh, N, H, c.sum)
		addColSums(g.DB[3*H:], c.dG, N, G, c.sum)
	}
	if g.DX != nil {
		Gemm(false, false, N, I, 2*H, 1, c.dG, G, w.W, I, 1, g.DX, I)
		Gemm(false, false, N, I, H, 1, c.dxh, H, w.W[2*H*I:], I, 1, g.DX, I)
	}
}

// gruBackwardReset is GRUBackward in the linear_before_reset = 0 form, after
// the checks and with c's backward buffers laid out. Each step runs in two
// halves around a GEMM with R_h: the candidate's gradient must first reach
// r⊙H_{t−1} before the reset gate's can be formed. ĥ's pre-activation
// gradient is the same on both sides, so dG alone feeds every weight.
func gruBackwardReset(p *Packing, w GRUWeights, x []float32, c *GRUCache, dy []float32, g GRUGrads) {
	N, T, I, H := p.N(), p.Steps(), w.I, w.H
	G := 3 * H
	Rh := w.R[2*H*H:]
	for t := T - 1; t >= 0; t-- {
		n, off := p.Active[t], p.Offset[t]
		var dyt []float32
		if dy != nil {
			dyt = dy[off*H : (off+n)*H]
		}
		gates := c.gates[off*G : (off+n)*G]
		hp := c.hprev[off*H : (off+n)*H]
		dG := c.dG[off*G : (off+n)*G]
		dh := c.dh[:n*H]
		gruStepBackwardCandidate(H, gates, hp, dyt, dh, dG)
		drh := c.drh[:n*H]
		Gemm(false, false, n, H, H, 1, dG[2*H:], G, Rh, H, 0, drh, H)
		gruStepBackwardResetGate(H, gates, hp, drh, dh, dG)
		if t > 0 || g.DH0 != nil {
			Gemm(false, false, n, H, 2*H, 1, dG, G, w.R, H, 1, dh, H)
		}
	}
	s0 := gruBackwardInitial(p, c, g)
	if g.DW != nil {
		addWeightGrad(G, I, N, c.dG, G, x, g.DW, &c.dwT)
	}
	if g.DR != nil && s0 < N {
		Gemm(true, false, 2*H, H, N-s0, 1, c.dG[s0*G:], G, c.hprev[s0*H:], H, 1, g.DR, H)
		Gemm(true, false, H, H, N-s0, 1, c.dG[s0*G+2*H:], G, c.hr[s0*H:], H, 1, g.DR[2*H*H:], H)
	}
	if g.DB != nil {
		addColSums(g.DB[:G], c.dG, N, G, c.sum)
		addColSums(g.DB[G:], c.dG, N, G, c.sum)
	}
	if g.DX != nil {
		Gemm(false, false, N, I, G, 1, c.dG, G, w.W, I, 1, g.DX, I)
	}
}

// gruBackwardInitial adds to g.DH0 the gradient left in c.dh once the steps
// are done, and returns the first packed row whose H_{t−1} feeds dR: rows of
// step 0 started from H = 0 unless h0 was given, and a zero H_{t−1}
// contributes nothing.
func gruBackwardInitial(p *Packing, c *GRUCache, g GRUGrads) (s0 int) {
	H := c.h
	if n0 := p.Active[0]; g.DH0 != nil {
		addRows(g.DH0[:n0*H], c.dh[:n0*H])
	}
	if !c.hasH0 {
		s0 = p.Active[0]
	}
	return s0
}

// gruStepBackwardLBR computes the gate gradients of one
// linear_before_reset = 1 step. gates [n, 3H] are z, r, ĥ; hp, hr [n, H] the
// forward's H_{t−1} and H_{t−1}·R_hᵀ + Rb_h; dy [n, H] (nil = 0). On entry
// dh [n, H] holds the gradient reaching H_t from later steps or the final
// state; on return it holds ∂L/∂H_{t−1} through the direct path z⊙H_{t−1},
// to which the caller's GEMM adds the path through R. dG [n, 3H] receives
// the z and r pre-activation gradients and ∂L/∂(H_{t−1}·R_hᵀ + Rb_h); dxh
// [n, H] receives ĥ's pre-activation gradient. Each row runs the vector
// kernel on its first vecLen(H) units and gruCellBackwardLBR on the rest,
// with the same bits.
func gruStepBackwardLBR(H int, gates, hp, hr, dy, dh, dG, dxh []float32) {
	G := 3 * H
	m := vecLen(H)
	for r := 0; r*G < len(gates); r++ {
		gr := gates[r*G : (r+1)*G]
		dr := dG[r*G : (r+1)*G]
		hpr, hrr, dhr, dxr := hp[r*H:(r+1)*H], hr[r*H:(r+1)*H], dh[r*H:(r+1)*H], dxh[r*H:(r+1)*H]
		var dyr []float32
		if dy != nil {
			dyr = dy[r*H : (r+1)*H]
		}
		if m > 0 {
			var dyp *float32
			if dyr != nil {
				dyp = &dyr[0]
			}
			gruCellBackwardAsm(m, H, &gr[0], &hpr[0], &hrr[0], dyp, &dhr[0], &dr[0], &dxr[0])
		}
		if m < H { // the units the vector kernel left
			gruCellBackwardLBR(m, H, gr, hpr, hrr, dyr, dhr, dr, dxr)
		}
	}
}

// gruCellBackwardLBR is one row of gruStepBackwardLBR for units j0..H−1:
// gates, dG [3H] are one row of its operands, hp, hr, dh, dxh [H], dy [H]
// or nil. Products that feed a sum are rounded on their own
// (activation.go), as in the vector kernel.
func gruCellBackwardLBR(j0, H int, gates, hp, hr, dy, dh, dG, dxh []float32) {
	gz, gR, gh := gates[j0:H], gates[H+j0:2*H], gates[2*H+j0:3*H]
	dz, dR, dn := dG[j0:H], dG[H+j0:2*H], dG[2*H+j0:3*H]
	m := len(gz)
	gR, gh, dz, dR, dn = gR[:m], gh[:m], dz[:m], dR[:m], dn[:m]
	hp, hr, dh, dxh = hp[j0:H][:m], hr[j0:H][:m], dh[j0:H][:m], dxh[j0:H][:m]
	hasDy := dy != nil
	if hasDy {
		dy = dy[j0:H][:m]
	} else {
		dy = dh // never read; keeps dy's length known in the loop
	}
	for j := range gz {
		z, rg, hh := gz[j], gR[j], gh[j]
		dH := dh[j]
		if hasDy {
			dH += dy[j]
		}
		dhp := dH * (1 - z) * (1 - float32(hh*hh))
		dz[j] = dH * (hp[j] - hh) * z * (1 - z)
		dR[j] = dhp * hr[j] * rg * (1 - rg)
		dn[j] = dhp * rg
		dxh[j] = dhp
		dh[j] = dH * z
	}
}

// gruStepBackwardCandidate is the first half of a linear_before_reset = 0
// backward step: with dh as in gruStepBackwardLBR, it writes the z and ĥ
// pre-activation gradients into dG [n, 3H] and leaves in dh the direct path
// z⊙∂L/∂H_t.
func gruStepBackwardCandidate(H int, gates, hp, dy, dh, dG []float32) {
	G := 3 * H
	for r := 0; r*G < len(gates); r++ {
		gr := gates[r*G : (r+1)*G]
		gz, gh := gr[0:H], gr[2*H:3*H]
		dr := dG[r*G : (r+1)*G]
		dz, dhh := dr[0:H], dr[2*H:3*H]
		hpr, dhr := hp[r*H:(r+1)*H], dh[r*H:(r+1)*H]
		m := len(gz)
		gh, dz, dhh, hpr, dhr = gh[:m], dz[:m], dhh[:m], hpr[:m], dhr[:m]
		if dy != nil {
			addRows(dhr, dy[r*H:(r+1)*H])
		}
		for j := range gz {
			z, hh := gz[j], gh[j]
			dH := dhr[j]
			dz[j] = dH * (hpr[j] - hh) * z * (1 - z)
			dhh[j] = dH * (1 - z) * (1 - float32(hh*hh))
			dhr[j] = dH * z
		}
	}
}

// gruStepBackwardResetGate is the second half of a linear_before_reset = 0
// backward step: from drh [n, H] = ∂L/∂(r⊙H_{t−1}) it writes r's
// pre-activation gradient into dG and adds the path r⊙drh to dh.
func gruStepBackwardResetGate(H int, gates, hp, drh, dh, dG []float32) {
	G := 3 * H
	for r := 0; r*G < len(gates); r++ {
		gR := gates[r*G+H : r*G+2*H]
		dR := dG[r*G+H : r*G+2*H]
		hpr, drr, dhr := hp[r*H:(r+1)*H], drh[r*H:(r+1)*H], dh[r*H:(r+1)*H]
		m := len(gR)
		dR, hpr, drr, dhr = dR[:m], hpr[:m], drr[:m], dhr[:m]
		for j := range gR {
			rg := gR[j]
			d := drr[j]
			dR[j] = d * hpr[j] * rg * (1 - rg)
			dhr[j] += float32(d * rg)
		}
	}
}

// check panics unless w's slices match its sizes.
func (w *GRUWeights) check(fn string) {
	if w.I <= 0 || w.H <= 0 {
		panic(fmt.Sprintf("ops: %s: sizes I=%d H=%d", fn, w.I, w.H))
	}
	checkLen(fn, "W", w.W, 3*w.H*w.I, false)
	checkLen(fn, "R", w.R, 3*w.H*w.H, false)
	checkLen(fn, "B", w.B, 6*w.H, true)
	checkLen(fn, "WT", w.WT, 3*w.H*w.I, true)
	checkLen(fn, "RT", w.RT, 3*w.H*w.H, true)
	checkLen(fn, "RP", w.RP, 3*w.H*w.H, true)
}
