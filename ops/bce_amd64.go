//go:build amd64 && !purego

package ops

import (
	"math"

	"golang.org/x/sys/cpu"
)

// haveBCEAsm reports whether bceRowAsm can run: it needs AVX-512 (F for
// the arithmetic, VL for the masked 8-lane float32 stores), and FMA, the
// condition under which math.Exp takes the path the kernel repeats.
var haveBCEAsm = cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL && cpu.X86.HasFMA && cpu.X86.HasAVX

// bceConst holds bceRowAsm's constants, 8 bytes apiece, which it names by
// offset: keep the order. The exponential's are those of math.Exp on amd64
// (Shibata's method: x = n·ln2 + r with ln2 in two parts, a degree-8 Taylor
// polynomial for t = e^(r/16) − 1, four doublings t ← t·(t + 2), which give
// e^r − 1, then 1 added and the scaling by 2ⁿ), so that the kernel repeats
// its operations.
var bceConst = func() [0x98/8 + len(log1pQ)]float64 {
	var c [0x98/8 + len(log1pQ)]float64
	copy(c[:], bceHead[:])
	copy(c[0x98/8:], log1pQ[:]) // 0x98…0xe0: log1pUnit's series, one copy of it
	return c
}()

// bceHead is bceConst up to log1pUnit's series, which follows it.
var bceHead = [0x98 / 8]float64{
	math.Float64frombits(1<<63 - 1),             // 0x00 |x| mask
	math.Float64frombits(1 << 63),               // 0x08 sign bit
	700,                                         // 0x10 above this |z|, the lane goes to BCEWithLogits
	1.4426950408889634073599246810018920,        // 0x18 log2(e)
	0.69314718055966295651160180568695068359375, // 0x20 ln2, upper part
	0.28235290563031577122588448175013436025525412068e-12, // 0x28 ln2, lower part
	0.0625,                     // 0x30
	2.4801587301587301587e-5,   // 0x38 1/8!
	1.9841269841269841270e-4,   // 0x40 1/7!
	1.3888888888888888889e-3,   // 0x48 1/6!
	8.3333333333333333333e-3,   // 0x50 1/5!
	4.1666666666666666667e-2,   // 0x58 1/4!
	1.6666666666666666667e-1,   // 0x60 1/3!
	0.5,                        // 0x68
	1,                          // 0x70
	2,                          // 0x78
	math.Float64frombits(1023), // 0x80 int64 1023, the exponent bias
	sqrt2m1,                    // 0x88
	math.Ln2,                   // 0x90
}

// bceRowAsm computes BCEWithLogits for the n ≤ 64 logits at z, with labels
// y and weights pw, into loss and dz, and returns a bit for each lane it
// left to the caller (|z| > 700 or NaN). It is bce_amd64.s.
//
//go:noescape
func bceRowAsm(n int, z, y, pw *float32, loss *float64, dz *float32) uint64
