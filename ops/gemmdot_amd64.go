//go:build amd64 && !purego

package ops

import "golang.org/x/sys/cpu"

// haveGemmDot4 reports whether gemmDot4 can run: it needs AVX-512VL for the
// EVEX encodings of YMM16–YMM31 and the opmask registers.
var haveGemmDot4 = haveGemmAVX512 && cpu.X86.HasAVX512VL

// gemmDot4 is gemmDot2 for four rows of A and C (rows at a+i·lda and
// c+i·ldc, i < 4): it reads each block of four B rows once per four rows of
// A rather than once per two, which is what bounds a batched recurrent step,
// whose weights do not fit in L1. Its 4×4 tiles hold the 16 accumulators in
// YMM0–YMM15 and load into YMM16 and up; every element takes gemmDot2's
// FMAs in gemmDot2's order, with the same tail (masked loads give zeros
// past k), the same horizontal reduction and the same alpha and beta
// arithmetic, so each row's bits are those gemmDot2 gives it.
//
//go:noescape
func gemmDot4(n, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// gemmDot8 is gemmDot4 for eight rows of A and C, in ZMM registers that
// each hold two of gemmDot2's YMM accumulators (one column, two rows):
// with the same products summed in the same lanes in the same order, and
// the reduction adding the same pairs, each row's bits are gemmDot2's,
// for twice the FMAs per instruction.
//
//go:noescape
func gemmDot8(n, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)
