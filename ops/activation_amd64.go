//go:build amd64 && !purego

package ops

import (
	"math"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// haveVecAsm reports whether the CPU (and the OS, which must save the YMM
// registers) supports the AVX2 kernels of activation_amd64.s. They use no
// fused multiply-add (see activation.go), so AVX2 is all they need.
var haveVecAsm = cpu.X86.HasAVX2

// vecConst holds the constants of activation_amd64.s, each repeated in the 8
// lanes of a YMM register so that the assembly reads it as a memory operand.
// The assembly names them by offset (32 bytes apiece): keep the order.
var vecConst = [...][8]float32{
	splat(1),                               // 0x000 one
	splat(log2e),                           // 0x020
	splat(ln2Hi),                           // 0x040
	splat(ln2Lo),                           // 0x060
	splat(expP0),                           // 0x080
	splat(expP1),                           // 0x0a0
	splat(expP2),                           // 0x0c0
	splat(expP3),                           // 0x0e0
	splat(expP4),                           // 0x100
	splat(expP5),                           // 0x120
	splat(sigHi),                           // 0x140
	splat(math.Float32frombits(1 << 31)),   // 0x160 sign bit (−0)
	splat(math.Float32frombits(127)),       // 0x180 int32 127, the exponent bias
	splat(math.Float32frombits(126)),       // 0x1a0 int32 126, the bias of 2^(n−1)
	splat(2),                               // 0x1c0 two
	splat(tanhSat),                         // 0x1e0
	splat(math.Float32frombits(1<<31 - 1)), // 0x200 all bits but the sign: |x|
	splat(sigLo),                           // 0x220
}

func splat(v float32) [8]float32 { return [8]float32{v, v, v, v, v, v, v, v} }

// The kernels of activation_amd64.s. Each computes, on 8 lanes at a time,
// exactly the float32 operations of its scalar counterpart (same order, one
// rounding each, no fused multiply-add), so its results are bit-identical.
// n and m count elements, a positive multiple of 8; h is the element
// distance between the gate blocks of a row. Callers guarantee that every
// addressed element lies inside its slice. All but colSumsAsm have 16-lane
// AVX-512 forms in activation512_amd64.s (suffix 16, n and m a positive
// multiple of 16), with the same bits, which the functions without a suffix
// choose where the CPU has them; the LSTM cell's forward has a form on two
// vectors at once too (suffix 32, m a positive multiple of 32).

//go:noescape
func sigmoidAsm8(n int, dst, src *float32)

//go:noescape
func sigmoidAsm16(n int, dst, src *float32)

//go:noescape
func tanhAsm8(n int, dst, src *float32)

//go:noescape
func tanhAsm16(n int, dst, src *float32)

//go:noescape
func lstmCellForwardAsm8(m, h int, gr, bias, peep, cp, cell, tanhC, y *float32)

//go:noescape
func lstmCellForwardAsm16(m, h int, gr, bias, peep, cp, cell, tanhC, y *float32)

//go:noescape
func lstmCellForwardAsm32(m, h int, gr, bias, peep, cp, cell, tanhC, y *float32)

//go:noescape
func gruCellForwardAsm8(m, h int, gr, rec, bias, hp, hr, y *float32)

//go:noescape
func gruCellForwardAsm16(m, h int, gr, rec, bias, hp, hr, y *float32)

//go:noescape
func lstmCellBackwardAsm8(m, h int, gates, tanhC, cp, dy, dh, dc, dG, peep *float32)

//go:noescape
func lstmCellBackwardAsm16(m, h int, gates, tanhC, cp, dy, dh, dc, dG, peep *float32)

//go:noescape
func gruCellBackwardAsm8(m, h int, gates, hp, hr, dy, dh, dG, dxh *float32)

//go:noescape
func gruCellBackwardAsm16(m, h int, gates, hp, hr, dy, dh, dG, dxh *float32)

// haveVec512 reports whether the CPU (and the OS, which must save the ZMM
// registers) supports the 16-lane kernels. They need only AVX512F: the
// logic operations use its doubleword forms. A variable, so that tests can
// run the 8-lane kernels on a CPU that has both.
var haveVec512 = haveVecAsm && cpu.X86.HasAVX512F

// split16 is how many of m elements (a multiple of 8) the 16-lane kernels
// take: m rounded down to a multiple of 16, or 0 without AVX-512. The 8-lane
// kernel takes the remaining 8, if any; every element is computed on its own,
// so the split does not change a bit.
func split16(m int) int {
	if !haveVec512 {
		return 0
	}
	return m &^ 15
}

// at is p advanced by k float32 elements; nil (an absent dy) stays nil.
func at(p *float32, k int) *float32 {
	if p == nil {
		return nil
	}
	return (*float32)(unsafe.Add(unsafe.Pointer(p), 4*k))
}

// sigmoidAsm sets dst[i] = sigmoid(src[i]) for i < n.
func sigmoidAsm(n int, dst, src *float32) {
	k := split16(n)
	if k > 0 {
		sigmoidAsm16(k, dst, src)
	}
	if k < n {
		sigmoidAsm8(n-k, at(dst, k), at(src, k))
	}
}

// tanhAsm sets dst[i] = tanh(src[i]) for i < n.
func tanhAsm(n int, dst, src *float32) {
	k := split16(n)
	if k > 0 {
		tanhAsm16(k, dst, src)
	}
	if k < n {
		tanhAsm8(n-k, at(dst, k), at(src, k))
	}
}

// lstmCellForwardAsm is lstmCellForward on the first m units of one row:
// gr, bias hold the blocks i, o, f, c and peep the blocks i, o, f, each h
// apart.
func lstmCellForwardAsm(m, h int, gr, bias, peep, cp, cell, tanhC, y *float32) {
	k := split16(m)
	p := k &^ 31
	if p > 0 {
		lstmCellForwardAsm32(p, h, gr, bias, peep, cp, cell, tanhC, y)
	}
	if p < k {
		lstmCellForwardAsm16(k-p, h, at(gr, p), at(bias, p), at(peep, p), at(cp, p), at(cell, p), at(tanhC, p), at(y, p))
	}
	if k < m {
		lstmCellForwardAsm8(m-k, h, at(gr, k), at(bias, k), at(peep, k), at(cp, k), at(cell, k), at(tanhC, k), at(y, k))
	}
}

// lstmCellBackwardAsm is lstmCellBackward on the first m units of one row:
// gates and dG hold the blocks i, o, f, c and peep the blocks i, o, f, each
// h apart; dy may be nil.
func lstmCellBackwardAsm(m, h int, gates, tanhC, cp, dy, dh, dc, dG, peep *float32) {
	k := split16(m)
	if k > 0 {
		lstmCellBackwardAsm16(k, h, gates, tanhC, cp, dy, dh, dc, dG, peep)
	}
	if k < m {
		lstmCellBackwardAsm8(m-k, h, at(gates, k), at(tanhC, k), at(cp, k), at(dy, k), at(dh, k), at(dc, k), at(dG, k), at(peep, k))
	}
}

// gruCellForwardAsm is gruCellForwardLBR on the first m units of one row:
// gr and rec hold the blocks z, r, h and bias the blocks Wb z, r, h, Rb z, r,
// h, each h apart.
func gruCellForwardAsm(m, h int, gr, rec, bias, hp, hr, y *float32) {
	k := split16(m)
	if k > 0 {
		gruCellForwardAsm16(k, h, gr, rec, bias, hp, hr, y)
	}
	if k < m {
		gruCellForwardAsm8(m-k, h, at(gr, k), at(rec, k), at(bias, k), at(hp, k), at(hr, k), at(y, k))
	}
}

// gruCellBackwardAsm is gruCellBackwardLBR on the first m units of one row:
// gates and dG hold the blocks z, r, h, each h apart; dy may be nil.
func gruCellBackwardAsm(m, h int, gates, hp, hr, dy, dh, dG, dxh *float32) {
	k := split16(m)
	if k > 0 {
		gruCellBackwardAsm16(k, h, gates, hp, hr, dy, dh, dG, dxh)
	}
	if k < m {
		gruCellBackwardAsm8(m-k, h, at(gates, k), at(hp, k), at(hr, k), at(dy, k), at(dh, k), at(dG, k), at(dxh, k))
	}
}

// colSumsAsm sets sum[j] = Σ_{r<rows} float64(m[r*ld+j]) for j < cols,
// summing each column over the rows in order, like addColSums's loop; rows
// ≥ 1.
//
//go:noescape
func colSumsAsm(rows, cols, ld int, m *float32, sum *float64)
