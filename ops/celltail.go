package ops

// The units of a row that the vector cell kernels leave (H not a multiple of
// 8: the last H mod 8) would run through the scalar cell, whose
// exponentials cost ten times a vector lane's: on a bidirectional LSTM of
// 12 units, half of the whole model's time. Instead the tails of several
// rows are copied side by side into one block of tailLanes lanes, padded
// with zeros, and run through the vector kernel at once. Every lane is
// computed on its own, so the units keep their bits (the kernels' contract,
// tested against the scalar cells), and a padding lane's zeros give finite
// values that are dropped.

// tailLanes is the width of the block: one 16-lane vector, or two of 8.
const tailLanes = 16

// tailRows is how many rows' tails of H − m units one block takes.
func tailRows(m, H int) int { return tailLanes / (H - m) }

// copyBlocks copies units m..H−1 of each of the k blocks of src (H apart)
// to dst's blocks (tailLanes apart), at lane j.
func copyBlocks(dst, src []float32, k, m, H, j int) {
	for q := range k {
		copyShort(dst[q*tailLanes+j:(q+1)*tailLanes], src[q*H+m:(q+1)*H])
	}
}

// backBlocks copies H − m lanes of each of src's k blocks from lane j back
// to units m..H−1 of dst's.
func backBlocks(dst, src []float32, k, m, H, j int) {
	for q := range k {
		copyShort(dst[q*H+m:(q+1)*H], src[q*tailLanes+j:])
	}
}

// copyShort is copy for the few elements of a tail (at most 7), which a
// loop moves faster than a call to memmove.
func copyShort(dst, src []float32) {
	n := min(len(dst), len(src))
	dst, src = dst[:n], src[:n]
	for i := range dst {
		dst[i] = src[i]
	}
}

// lstmTail holds the tails of a group of rows, block by block as the kernel
// reads them (h = tailLanes apart).
type lstmTail struct {
	g, bias     [4 * tailLanes]float32
	peep        [3 * tailLanes]float32
	cp, c, t, y [tailLanes]float32
}

// hasTail reports whether rows of H units leave units to the padded
// blocks.
func hasTail(H int) bool { return haveVecAsm && vecLen(H) < H }

// prepare copies the tails of bias [4H] and peep [3H], which every row of
// every step shares, to each row's place in the block, once for a layer's
// steps; without a tail it does nothing.
func (s *lstmTail) prepare(H int, bias, peep []float32) {
	if !hasTail(H) {
		return
	}
	m := vecLen(H)
	for r := range tailRows(m, H) {
		copyBlocks(s.bias[:], bias, 4, m, H, r*(H-m))
		copyBlocks(s.peep[:], peep, 3, m, H, r*(H-m))
	}
}

// run is lstmCellForward(m, H, …) on rows r0..r0+rows−1 of one step
// (rows ≤ tailRows), through the vector kernel; g, cp, cell, tanhC and y
// are lstmStepForward's.
func (s *lstmTail) run(m, H, r0, rows int, g, cp, cell, tanhC, y []float32) {
	n := H - m
	clear(s.g[:])
	clear(s.cp[:])
	for r := range rows {
		row, j := r0+r, r*n
		copyBlocks(s.g[:], g[4*H*row:4*H*(row+1)], 4, m, H, j)
		copyShort(s.cp[j:j+n], cp[row*H+m:(row+1)*H])
	}
	lstmCellForwardAsm(tailLanes, tailLanes, &s.g[0], &s.bias[0], &s.peep[0], &s.cp[0], &s.c[0], &s.t[0], &s.y[0])
	for r := range rows {
		row, j := r0+r, r*n
		backBlocks(g[4*H*row:4*H*(row+1)], s.g[:], 4, m, H, j)
		copyShort(cell[row*H+m:(row+1)*H], s.c[j:])
		copyShort(tanhC[row*H+m:(row+1)*H], s.t[j:])
		copyShort(y[row*H+m:(row+1)*H], s.y[j:])
	}
}

// gruTail is lstmTail for gruCellForwardLBR: gates and H_{t−1}·Rᵀ in 3
// blocks, the biases Wb and Rb in 6.
type gruTail struct {
	g, rec    [3 * tailLanes]float32
	bias      [6 * tailLanes]float32
	hp, hr, y [tailLanes]float32
}

// prepare is lstmTail.prepare for the GRU's bias [6H].
func (s *gruTail) prepare(H int, bias []float32) {
	if !hasTail(H) {
		return
	}
	m := vecLen(H)
	for r := range tailRows(m, H) {
		copyBlocks(s.bias[:], bias, 6, m, H, r*(H-m))
	}
}

// run is gruCellForwardLBR(m, H, …) on rows r0..r0+rows−1 of one step, as
// lstmTail.run; g, rec, hp, hr and y are gruStepForwardLBR's.
func (s *gruTail) run(m, H, r0, rows int, g, rec, hp, hr, y []float32) {
	n := H - m
	clear(s.g[:])
	clear(s.rec[:])
	clear(s.hp[:])
	for r := range rows {
		row, j := r0+r, r*n
		copyBlocks(s.g[:], g[3*H*row:3*H*(row+1)], 3, m, H, j)
		copyBlocks(s.rec[:], rec[3*H*row:3*H*(row+1)], 3, m, H, j)
		copyShort(s.hp[j:j+n], hp[row*H+m:(row+1)*H])
	}
	gruCellForwardAsm(tailLanes, tailLanes, &s.g[0], &s.rec[0], &s.bias[0], &s.hp[0], &s.hr[0], &s.y[0])
	for r := range rows {
		row, j := r0+r, r*n
		backBlocks(g[3*H*row:3*H*(row+1)], s.g[:], 3, m, H, j)
		copyShort(hr[row*H+m:(row+1)*H], s.hr[j:])
		copyShort(y[row*H+m:(row+1)*H], s.y[j:])
	}
}
