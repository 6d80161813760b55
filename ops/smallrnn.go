package ops

import (
	"sync/atomic"
	"unsafe"
)

// Inference forwards of an LSTM or GRU layer run by ranges of rows, so that
// the rows of one packed batch run on several goroutines at once, each
// range through every step on its own (a row's recurrence reads only its
// own earlier steps). They give exactly LSTMForward's and GRUForward's bits:
//
//   - the input product is inputProduct's: the same call on the whole batch
//     (WholeInput), or, where that call would run the outer-product kernel
//     on Wᵀ, whose per-row results do not depend on the other rows, one
//     product per range over its rows of every step (rangeInput);
//   - each step's recurrent product takes the kernel stepWeights.mul
//     chooses for the whole step (mulRows), so each row sums in the order
//     the full step gives it: Gemm's per-row results do not depend on the
//     other rows of the product, except that its dot-product path runs an
//     odd last row on its own kernel, which ranges starting and ending on
//     even rows (or at the step's end) reproduce;
//   - the cell runs the same vector and scalar code element by element.
//
// The cells run over all of a step's rows at once instead of one row at a
// time: with few hidden units a row is a single vector per gate, and the
// per-row kernel then waits on the latency of its activations' long
// dependency chains. For the LSTM (and the GRU with linear_before_reset)
// the range's gate rows are regrouped gate block by gate block (i of every
// row, then o, f, c), and the bias and peepholes repeated once per row, so
// that the kernel sees one row of n·H units whose vectors are independent
// of each other; the other GRU sums its rows' pre-activations into one
// buffer for one sigmoid and one tanh.
//
// Training does not use them: they keep nothing for a backward pass.

// RNNRows is the shared state of one layer's inference forward over a
// packed batch: Start it (then InputProduct), run RunRows on ranges of rows
// covering the batch (at once, on different goroutines, each with its own
// RowScratch), then Finish. The zero value is ready; it grows to the largest batch seen and is
// then reused without allocating.
type RNNRows struct {
	p     *Packing
	lstm  LSTMWeights
	gru   GRUWeights
	isGRU bool
	h0    []float32
	c0    []float32
	G, H  int
	rw    stepWeights
	rT    []float32 // Rᵀ made by stepWeights.prepare
	x     []float32 // [N, I] packed input
	I     int
	W     []float32 // [G, I]
	wT    []float32 // [I, G] Wᵀ when each range takes its own rows' input product (rangeInput), else nil
	gates []float32 // [N, G] x·Wᵀ, then the recurrent products (WholeInput only)
	y     []float32 // [N, H] packed output
	cell  []float32 // [N, H] LSTM C_t
	hr    []float32 // [N, H] GRU r⊙H_{t−1} or H_{t−1}·R_hᵀ + Rb_h
	zeros []float32 // [2G] standing in for a nil bias or peepholes
	// src and out are Follow's: the progress of x's writer and of y; win
	// the state of each window of input rows, whose products are in
	// gates; shareNext the next window the layer below may take (Feed).
	src, out  *Progress
	win       []atomic.Int32
	shareNext int
	// feed is the layer above, when this one computes some of its input
	// products (Feed).
	feed *RNNRows
}

// RowScratch is one goroutine's workspace for RNNRows.RunRows. The zero
// value is ready; it grows like RNNRows.
type RowScratch struct {
	tile  []float32 // LSTM: one step's gate rows, block by block (4 blocks)
	bias  []float32 // LSTM: the bias repeated per row, block by block (4 blocks)
	peep  []float32 // LSTM: the peepholes likewise (3 blocks)
	tanhC []float32 // LSTM: [n·H] tanh(C_t), not kept
	state []float32 // LSTM: [n·H] zeros, C_{−1} without c0; GRU: [n·3H] H_{t−1}·Rᵀ
	// fixed: the vector kernel takes every step whole, and the blocks of
	// tile, bias and peep (and rtile) lie stride apart for every step; else
	// the LSTM's lie m·H apart for a step of m rows (lstmCells) and the
	// GRU's cells run row by row.
	fixed  bool
	stride int
	// x and gates are a window of the range's input rows and their
	// products, step after step, when it takes its own (rangeInput): the
	// range's rows start..end−1 in its own order; pos is the next step's
	// first row; r0 and r1 the range.
	x, gates        []float32
	pos, start, end int
	r0, r1          int
	// nextWin is the first window of input rows the layer has not
	// checked, when it follows the one below (Follow).
	nextWin int
	// GRU: act holds a step's gate activations z, r [m, 2H] then its
	// candidates [m, H]; rtile is H_{t−1}·Rᵀ regrouped like tile.
	act, rtile []float32
	// lstmTail and gruTail hold the cells' padded tails (celltail.go), with
	// the layer's bias and peepholes copied in once.
	lstmTail lstmTail
	gruTail  gruTail
	// lstmBias and lstmPeep are the LSTM's bias and peepholes (or zeros)
	// for the cells run row by row (rowsMinH).
	lstmBias, lstmPeep []float32
}

// StartLSTM readies an LSTM layer over the packed batch p: x [N, I] is its
// input (read by InputProduct, or range by range by RunRows: WholeInput),
// h0 and c0 [B, H] as LSTMForward takes them, nil = 0. p, w, x, h0 and c0
// must stay unchanged until Finish.
func (s *RNNRows) StartLSTM(p *Packing, w LSTMWeights, x, h0, c0 []float32) {
	const fn = "RNNRows.StartLSTM"
	w.check(fn)
	s.start(fn, p, 4*w.H, w.H, w.I, x, h0, w.W, w.WT)
	checkLen(fn, "c0", c0, p.Rows()*w.H, true)
	s.lstm, s.isGRU, s.c0 = w, false, c0
	s.cell = grown(s.cell, p.N()*w.H)
	s.rw.prepare(w.R, w.RT, w.RP, s.G, s.H, p.Rows(), false, &s.rT)
}

// StartGRU is StartLSTM for a GRU layer.
func (s *RNNRows) StartGRU(p *Packing, w GRUWeights, x, h0 []float32) {
	const fn = "RNNRows.StartGRU"
	w.check(fn)
	s.start(fn, p, 3*w.H, w.H, w.I, x, h0, w.W, w.WT)
	s.gru, s.isGRU, s.c0 = w, true, nil
	s.hr = grown(s.hr, p.N()*w.H)
	s.rw.prepare(w.R, w.RT, w.RP, s.G, s.H, p.Rows(), false, &s.rT)
}

// start is what StartLSTM and StartGRU share: the checks, the buffers and
// where the input product is made.
func (s *RNNRows) start(fn string, p *Packing, G, H, I int, x, h0, W, WT []float32) {
	checkPacking(fn, p)
	N := p.N()
	checkLen(fn, "x", x, N*I, false)
	checkLen(fn, "h0", h0, p.Rows()*H, true)
	s.p, s.G, s.H, s.h0, s.x, s.I = p, G, H, h0, x, I
	s.y = grown(s.y, N*H)
	s.zeros = grown(s.zeros, 2*G)
	clear(s.zeros)
	s.wT, s.W = nil, W
	if WT != nil && gemmPacksTransB(N, G) {
		// inputProduct would run the outer-product kernel on Wᵀ, whose
		// per-row results do not depend on the other rows: each range
		// takes its own rows, on its own core.
		s.wT = WT
		return
	}
	s.gates = grown(s.gates, N*G)
}

// WholeInput reports whether InputProduct must run, on the whole packed
// input, before the ranges; otherwise each range reads only its own rows
// of x, so that x may be filled range by range, just before RunRows.
func (s *RNNRows) WholeInput() bool { return s.wT == nil && s.p.N() > 0 }

// InputProduct computes every row's input product at once, when
// WholeInput.
func (s *RNNRows) InputProduct() {
	if s.WholeInput() {
		inputProduct(s.p.N(), s.G, s.I, s.x, s.W, nil, s.gates)
	}
}

// rangeInput readies the input products of rows r0..r1−1: when the ranges
// take theirs (s.wT), the rows of several steps are copied together and
// multiplied at once into sc.gates, a window of steps at a time, as the
// steps reach them (inputWindow: one product instead of one per step, each
// element with the same bits either way); else they are in s.gates
// (WholeInput). stepGates then hands them out.
func (s *RNNRows) rangeInput(r0, r1 int, sc *RowScratch) {
	sc.pos, sc.start, sc.end, sc.r0, sc.r1 = 0, 0, 0, r0, r1
	if s.wT == nil {
		return
	}
	if s.src != nil {
		sc.nextWin = 0
		return
	}
	rows := max(r1-r0, inputWindowRows(s.G))
	sc.x = grown(sc.x, rows*s.I)
	sc.gates = grown(sc.gates, rows*s.G)
}

// inputWindowBytes bounds the input products a range computes ahead of
// its steps: a whole batch's at once (megabytes for a few hundred rows)
// would go out to memory and come back, where a window stays in the
// core's L2 cache with the steps' weights.
const inputWindowBytes = 256 << 10

// inputWindowRows is how many rows' input products of G gates a window
// holds, at least one step's rows.
func inputWindowRows(G int) int { return max(1, inputWindowBytes/(4*G)) }

// inputWindow computes into sc.gates the input products of the range's
// rows from step t on, for as many steps as inputWindowRows allows, and at
// least step t's. The rows are copied together first unless they already
// lie together in s.x, as the steps of a range of all the batch's rows do.
func (s *RNNRows) inputWindow(sc *RowScratch, t int) {
	I, G := s.I, s.G
	limit := inputWindowRows(G)
	_, first := s.stepRows(t, sc.r0, sc.r1)
	n, together, end := 0, true, t
	for ; end < s.p.Steps(); end++ {
		m, at := s.stepRows(end, sc.r0, sc.r1)
		if m == 0 || n > 0 && n+m > limit {
			break
		}
		together = together && at == first+n
		n += m
	}
	var x []float32
	if together {
		x = s.x[first*I : (first+n)*I]
	} else {
		x = sc.x[:n*I]
		for k := 0; t < end; t++ {
			m, at := s.stepRows(t, sc.r0, sc.r1)
			copy(x[k*I:(k+m)*I], s.x[at*I:(at+m)*I])
			k += m
		}
	}
	Gemm(false, false, n, G, I, 1, x, I, s.wT, G, 0, sc.gates[:n*G], G)
	sc.start, sc.end = sc.pos, sc.pos+n
}

// stepGates returns the input products of the range's step t, of m rows
// from packed row at (rangeInput).
func (s *RNNRows) stepGates(sc *RowScratch, t, at, m int) []float32 {
	G := s.G
	if s.wT == nil {
		return s.gates[at*G : (at+m)*G]
	}
	if s.src != nil {
		s.followInput(sc, at+m)
		return s.gates[at*G : (at+m)*G]
	}
	if sc.pos == sc.end {
		s.inputWindow(sc, t)
	}
	g := sc.gates[(sc.pos-sc.start)*G : (sc.pos-sc.start+m)*G]
	sc.pos += m
	return g
}

// RunRows runs every step of rows r0..r1−1 of the batch. r0 must be even,
// and r1 even or the batch's row count, so that the rows' recurrent
// products take the kernels of the whole batch's (see the file comment).
// Different goroutines may run disjoint ranges at once.
func (s *RNNRows) RunRows(r0, r1 int, sc *RowScratch) {
	if r0 < 0 || r0 > r1 || r1 > s.p.Rows() || r0%2 != 0 || (r1%2 != 0 && r1 != s.p.Rows()) {
		panic("ops: RNNRows.RunRows: rows must be an even-aligned range of the batch")
	}
	if (s.src != nil || s.out != nil) && (r0 != 0 || r1 != s.p.Rows()) {
		panic("ops: RNNRows.RunRows: a layer that follows another runs the whole batch")
	}
	if r0 == r1 {
		return
	}
	if s.isGRU {
		s.gruRows(r0, r1, sc)
		return
	}
	s.lstmRows(r0, r1, sc)
}

// mulRows is stepWeights.mul for rows r0..r0+m−1 of a step of n rows and
// columns j0..j0+nc−1 of a product whose caller, in the packed forward,
// asks mul for full columns: it takes the kernel mul takes for all n rows
// and full columns, so that every row gets the bits mul gives it (for
// even-aligned ranges, as RunRows requires). Either kernel computes each
// element of C on its own, so a block of columns has the full product's.
func (s *stepWeights) mulRows(n, full, m, j0, nc int, hp []float32, beta float32, c []float32, ldc int) {
	if n == 1 && nc == full {
		// The step's one row (its range's): mul's GEMV over the panels,
		// with Gemm's bits on Rᵀ.
		s.mul(n, j0, nc, hp, beta, c, ldc)
		return
	}
	if s.rT != nil && (gemmPacksTransB(n, full) || s.given && n == 1 && gemmFastRow()) {
		Gemm(false, false, m, nc, s.H, 1, hp, s.H, s.rT[j0:], s.G, beta, c, ldc)
		return
	}
	Gemm(false, true, m, nc, s.H, 1, hp, s.H, s.r[j0*s.H:], s.H, beta, c, ldc)
}

// stepRows returns how many of rows r0..r1−1 step t runs (0 when none),
// and the packed index of the first.
func (s *RNNRows) stepRows(t, r0, r1 int) (m, at int) {
	n := s.p.Active[t]
	return max(0, min(n, r1)-r0), s.p.Offset[t] + r0
}

// prevRows is the packed index of row r0 at step t−1 (t ≥ 1).
func (s *RNNRows) prevRows(t, r0 int) int { return s.p.Offset[t-1] + r0 }

// lstmRows is RunRows for an LSTM. (Products into the tile's blocks
// directly, 8 columns each, run Gemm's masked edge kernel and cost several
// times the regrouping.)
func (s *RNNRows) lstmRows(r0, r1 int, sc *RowScratch) {
	H, G := s.H, s.G
	sc.readyLSTM(s, r1-r0)
	s.rangeInput(r0, r1, sc)
	for t := range s.p.Steps() {
		m, at := s.stepRows(t, r0, r1)
		if m == 0 {
			break
		}
		g := s.stepGates(sc, t, at, m)
		var hp, cp []float32
		if t > 0 {
			prev := s.prevRows(t, r0)
			hp, cp = s.y[prev*H:(prev+m)*H], s.cell[prev*H:(prev+m)*H]
		} else {
			hp, cp = rowsOf(s.h0, r0, m, H), rowsOf(s.c0, r0, m, H)
			if cp == nil {
				cp = sc.state[:m*H]
			}
		}
		if hp != nil {
			s.rw.mulRows(s.p.Active[t], G, m, 0, G, hp, 1, g, G)
		}
		cell, y := s.cell[at*H:(at+m)*H], s.y[at*H:(at+m)*H]
		if H >= rowsMinH {
			lstmStepForward(H, g, cp, cell, sc.tanhC[:m*H], y, sc.lstmBias, sc.lstmPeep, &sc.lstmTail)
		} else {
			tile := sc.tile
			regroup(tile, g, m, H, sc.tileStride(m, H), 4)
			sc.lstmCells(s, m, tile, cp, cell, y)
		}
		s.stepDone(at + m)
	}
}

// rowsOf is rows r0..r0+m−1 of x [B, H], or nil when x is.
func rowsOf(x []float32, r0, m, H int) []float32 {
	if x == nil {
		return nil
	}
	return x[r0*H : (r0+m)*H]
}

// readyLSTM sizes sc for up to n rows of s and repeats the bias and the
// peepholes once per row (zeros when absent, as LSTMForward).
func (sc *RowScratch) readyLSTM(s *RNNRows, n int) {
	H := s.H
	nH := n * H
	sc.fixed = vecLen(H) == H
	sc.stride = nH
	if sc.fixed {
		sc.stride = blockStride(nH)
	}
	S := sc.stride
	sc.tile = grown(sc.tile, 4*S)
	sc.bias = grown(sc.bias, 4*S)
	sc.peep = grown(sc.peep, 3*S)
	sc.tanhC = grown(sc.tanhC, nH)
	sc.state = grown(sc.state, nH)
	clear(sc.state)
	bias, peep := s.lstm.B, s.lstm.P
	if bias == nil {
		bias = s.zeros[:4*H]
	}
	if peep == nil {
		peep = s.zeros[:3*H]
	}
	sc.lstmBias, sc.lstmPeep = bias, peep
	sc.lstmTail.prepare(H, bias, peep)
	if H < rowsMinH {
		repeatBlocks(sc.bias, bias, 4, n, H, S)
		repeatBlocks(sc.peep, peep, 3, n, H, S)
	}
}

// rowsMinH is the least hidden size whose cells run row by row, as in the
// packed forward: from 32 units a row holds enough independent vectors for
// the kernel to overlap their activations, and regrouping the rows costs
// more than it saves (measured: 3× faster regrouped at 8 units, 1.3× at
// 16, even at 32, 15% slower at 64).
const rowsMinH = 32

// blockStride is the distance between the gate blocks of a tile of nH
// units that the vector kernel takes whole: nH, moved on while two blocks
// would lie near a multiple of 4 KiB apart, where the CPU mistakes a load
// from one for a read of a store to another (4K aliasing) and stalls.
func blockStride(nH int) int {
	S := nH
	for near4K(S) || near4K(2*S) || near4K(3*S) {
		S += 64
	}
	return S
}

// near4K reports whether n floats lie within 256 bytes of a multiple of
// 4 KiB.
func near4K(n int) bool {
	r := (4 * n) % 4096
	return r < 256 || r > 4096-256
}

// repeatBlocks sets the first n·H elements of each of the k blocks of dst,
// S apart, to n copies of src's block [k, H].
func repeatBlocks(dst, src []float32, k, n, H, S int) {
	for q := range k {
		blk := src[q*H : (q+1)*H]
		for r := range n {
			copy(dst[q*S+r*H:q*S+(r+1)*H], blk)
		}
	}
}

// lstmCells runs the LSTM cell on m rows of one step: tile holds their
// gate pre-activations (without bias and peepholes) block by block,
// tileStride apart; cp [m, H] is C_{t−1}; cell and y [m, H] receive C_t and
// H_t. The rows run as one row of m·H units, the vector kernel taking what
// it can and lstmCellForward the rest, as in lstmStepForward.
func (sc *RowScratch) lstmCells(s *RNNRows, m int, tile, cp, cell, y []float32) {
	nH := m * s.H
	if sc.fixed {
		lstmCellForwardAsm(nH, sc.stride, &tile[0], &sc.bias[0], &sc.peep[0], &cp[0], &cell[0], &sc.tanhC[0], &y[0])
		return
	}
	// lstmCellForward takes blocks nH apart.
	sc.bias = shrinkBlocks(sc.bias, 4, nH)
	sc.peep = shrinkBlocks(sc.peep, 3, nH)
	bias, peep := sc.bias, sc.peep
	v := vecLen(nH)
	if v > 0 {
		lstmCellForwardAsm(v, nH, &tile[0], &bias[0], &peep[0], &cp[0], &cell[0], &sc.tanhC[0], &y[0])
	}
	lstmCellForward(v, nH, tile, bias, peep, cp, cell, sc.tanhC[:nH], y)
}

// tileStride is the distance between the blocks of the tile of m rows.
func (sc *RowScratch) tileStride(m, H int) int {
	if sc.fixed {
		return sc.stride
	}
	return m * H
}

// regroup copies the rows of g [m, k·H] into the k blocks of tile, S
// apart. Hidden sizes that are a multiple of 4 move as 4-float arrays, one
// 16-byte move each: a call to copy (memmove) per block would cost more
// than the move.
func regroup(tile, g []float32, m, H, S, k int) {
	G := k * H
	if H%4 != 0 {
		for r := range m {
			row := g[r*G : (r+1)*G]
			for q := range k {
				copy(tile[q*S+r*H:q*S+(r+1)*H], row[q*H:(q+1)*H])
			}
		}
		return
	}
	// Checked once here, the moves index without checks: they would cost
	// more than the moves.
	if len(g) < m*G || len(tile) < (k-1)*S+m*H {
		panic("ops: regroup: buffers too short")
	}
	gp, tp := unsafe.Pointer(unsafe.SliceData(g)), unsafe.Pointer(unsafe.SliceData(tile))
	if H == 8 {
		regroup8(tp, gp, m, k, 4*S)
		return
	}
	for r := range m {
		for q := range k {
			src, dst := unsafe.Add(gp, 4*(r*G+q*H)), unsafe.Add(tp, 4*(q*S+r*H))
			for j := 0; j < 4*H; j += 16 {
				*(*[4]float32)(unsafe.Add(dst, j)) = *(*[4]float32)(unsafe.Add(src, j))
			}
		}
	}
}

// regroup8 is regroup's loop for H = 8, unrolled: k blocks of 2 moves a
// row, the blocks sb bytes apart.
func regroup8(tp, gp unsafe.Pointer, m, k, sb int) {
	for r := range m {
		src, dst := unsafe.Add(gp, 32*k*r), unsafe.Add(tp, 32*r)
		for q := range k {
			d, s := unsafe.Add(dst, q*sb), unsafe.Add(src, 32*q)
			*(*[4]float32)(d) = *(*[4]float32)(s)
			*(*[4]float32)(unsafe.Add(d, 16)) = *(*[4]float32)(unsafe.Add(s, 16))
		}
	}
}

// shrinkBlocks keeps the first nH elements of each of the k blocks of
// b [k, len(b)/k], moved to the stride nH: the repeated bias or peepholes
// of fewer rows (rows end, they never start, as the steps go on). Every
// block's destination lies at or before its source and after the blocks
// before it, so moving them in order overwrites nothing still to be read.
func shrinkBlocks(b []float32, k, nH int) []float32 {
	n := len(b) / k
	if n == nH {
		return b
	}
	for q := 1; q < k; q++ {
		copy(b[q*nH:(q+1)*nH], b[q*n:q*n+nH])
	}
	return b[:k*nH]
}

// gruRows is RunRows for a GRU: each step runs GRUForward's step code,
// over all of the step's rows at once where the activations allow
// (gruResetRows, gruCandidateRows, gruCellsLBR).
func (s *RNNRows) gruRows(r0, r1 int, sc *RowScratch) {
	H, G := s.H, s.G
	w := s.gru
	bias := w.B
	if bias == nil {
		bias = s.zeros
	}
	sc.readyGRU(s, r1-r0, bias)
	s.rangeInput(r0, r1, sc)
	for t := range s.p.Steps() {
		m, at := s.stepRows(t, r0, r1)
		if m == 0 {
			break
		}
		n := s.p.Active[t]
		g := s.stepGates(sc, t, at, m)
		hr, yt := s.hr[at*H:(at+m)*H], s.y[at*H:(at+m)*H]
		hp := rowsOf(s.h0, r0, m, H)
		if t > 0 {
			prev := s.prevRows(t, r0)
			hp = s.y[prev*H : (prev+m)*H]
		}
		if hp == nil {
			hp = sc.zeroRows(m * H)
		}
		recur := t > 0 || s.h0 != nil
		if w.LinearBeforeReset {
			rec := sc.state[:m*G]
			if recur {
				s.rw.mulRows(n, G, m, 0, G, hp, 0, rec, G)
			} else {
				clear(rec)
			}
			sc.gruCellsLBR(H, m, g, rec, hp, hr, yt, bias)
			s.stepDone(at + m)
			continue
		}
		if recur {
			s.rw.mulRows(n, 2*H, m, 0, 2*H, hp, 1, g, G)
		}
		if H >= rowsMinH {
			gruStepResetGates(H, g, hp, hr, bias)
		} else {
			sc.gruResetRows(H, m, g, hp, hr, bias)
		}
		if recur {
			s.rw.mulRows(n, H, m, 2*H, H, hr, 1, g[2*H:], G)
		}
		if H >= rowsMinH {
			gruStepCandidate(H, g, hp, yt, bias)
		} else {
			sc.gruCandidateRows(H, m, g, hp, yt, bias)
		}
		s.stepDone(at + m)
	}
}

// readyGRU sizes sc for up to n rows of a GRU; with linear_before_reset
// and a hidden size the vector kernel takes whole, it lays out the tiles
// of gruCellsLBR and repeats the bias (6 blocks) once per row.
func (sc *RowScratch) readyGRU(s *RNNRows, n int, bias []float32) {
	H := s.H
	sc.state = grown(sc.state, n*s.G)
	sc.act = grown(sc.act, 3*n*H)
	sc.fixed = s.gru.LinearBeforeReset && vecLen(H) == H && H < rowsMinH
	if !sc.fixed {
		if s.gru.LinearBeforeReset {
			sc.gruTail.prepare(H, bias)
		}
		return
	}
	S := blockStride(n * H)
	sc.stride = S
	sc.tile = grown(sc.tile, 3*S)
	sc.rtile = grown(sc.rtile, 3*S)
	sc.bias = grown(sc.bias, 6*S)
	repeatBlocks(sc.bias, bias, 6, n, H, S)
}

// gruCellsLBR is gruStepForwardLBR on m rows: when the vector kernel takes
// every unit (readyGRU), g and rec [m, 3H] are regrouped block by block and
// it runs once over the m·H units, else row by row.
func (sc *RowScratch) gruCellsLBR(H, m int, g, rec, hp, hr, y, bias []float32) {
	if !sc.fixed {
		gruStepForwardLBR(H, g, rec, hp, hr, y, bias, &sc.gruTail)
		return
	}
	S := sc.stride
	regroup(sc.tile, g, m, H, S, 3)
	regroup(sc.rtile, rec, m, H, S, 3)
	gruCellForwardAsm(m*H, S, &sc.tile[0], &sc.rtile[0], &sc.bias[0], &hp[0], &hr[0], &y[0])
}

// gruResetRows is gruStepResetGates on m rows at once: the z and r
// pre-activations of every row, summed in the same order, go through one
// sigmoidVec into sc.act [m, 2H] (each element is computed on its own, so
// the bits are the same), and hr receives r⊙H_{t−1}.
func (sc *RowScratch) gruResetRows(H, m int, g, hp, hr, bias []float32) {
	G, H2 := 3*H, 2*H
	act := sc.act[:m*H2]
	wb, rb := bias[0:H2], bias[3*H:5*H]
	for r := range m {
		gzr, a := g[r*G:r*G+H2], act[r*H2:(r+1)*H2]
		for j := range a {
			a[j] = gzr[j] + wb[j] + rb[j]
		}
	}
	sigmoidVec(act, act)
	for r := range m {
		gR, hpr, hrr := act[r*H2+H:(r+1)*H2], hp[r*H:(r+1)*H], hr[r*H:(r+1)*H]
		for j := range hrr {
			hrr[j] = gR[j] * hpr[j]
		}
	}
}

// gruCandidateRows is gruStepCandidate on m rows at once, with z from
// gruResetRows: the candidates' pre-activations go through one tanhVec
// (in sc.act after the z and r blocks), then y = (1−z)⊙ĥ + z⊙H_{t−1}.
func (sc *RowScratch) gruCandidateRows(H, m int, g, hp, y, bias []float32) {
	G, H2 := 3*H, 2*H
	hh := sc.act[m*H2 : m*H2+m*H]
	wbh, rbh := bias[2*H:3*H], bias[5*H:6*H]
	for r := range m {
		gh, d := g[r*G+H2:(r+1)*G], hh[r*H:(r+1)*H]
		for j := range d {
			d[j] = gh[j] + wbh[j] + rbh[j]
		}
	}
	tanhVec(hh, hh)
	for r := range m {
		z, hc, hpr, yr := sc.act[r*H2:r*H2+H], hh[r*H:(r+1)*H], hp[r*H:(r+1)*H], y[r*H:(r+1)*H]
		for j := range yr {
			yr[j] = float32((1-z[j])*hc[j]) + float32(z[j]*hpr[j])
		}
	}
}

// zeroRows is n zeros: H_{−1} of a GRU without h0. It uses the tail of
// the LSTM's scratch, which a GRU does not otherwise use.
func (sc *RowScratch) zeroRows(n int) []float32 {
	sc.tanhC = grown(sc.tanhC, n)
	clear(sc.tanhC)
	return sc.tanhC
}

// Finish writes the final states of the batch's rows, as LSTMForward and
// GRUForward do: hT, cT [B, H] (cT LSTM only), nil = not wanted; y [N, H],
// when not nil, receives the packed output. It drops the references Start
// took.
func (s *RNNRows) Finish(y, hT, cT []float32) {
	const fn = "RNNRows.Finish"
	B, N, H := s.p.Rows(), s.p.N(), s.H
	checkLen(fn, "y", y, N*H, true)
	checkLen(fn, "hT", hT, B*H, true)
	checkLen(fn, "cT", cT, B*H, true)
	if cT != nil && s.isGRU {
		panic("ops: RNNRows.Finish: a GRU has no cell state")
	}
	copy(y, s.y[:N*H])
	writeFinalState(s.p, s.y, hT, H)
	if cT != nil {
		writeFinalState(s.p, s.cell, cT, H)
	}
	s.Abandon()
}

// Abandon drops what Start, Follow and Feed gave s, as Finish does, without
// writing any output: for a run that failed, whose layers may not all have
// started. s keeps its buffers for the next Start.
func (s *RNNRows) Abandon() {
	s.p, s.h0, s.c0, s.x, s.wT = nil, nil, nil, nil, nil
	s.src, s.out, s.feed = nil, nil, nil
	s.lstm, s.gru = LSTMWeights{}, GRUWeights{}
}
