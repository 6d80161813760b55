//go:build amd64 && !purego

#include "textflag.h"

// gemmDot4 (see gemmdot_amd64.go): gemmDot2's tiles for four rows, with
// AVX-512VL for registers beyond YMM15 and opmasks for the masked loads and
// stores, which read and write what gemmDot2's VMASKMOVPS do.
//
// Registers: SI, BX, R10, R11 A's rows 0–3; DI B at the current column
// block, R8 ldb in bytes, R9 C at the current column block; R12, R13, R14,
// DX B's four rows of the block (clamped); AX the byte offset along k, CX
// the end of the whole 8-float chunks. The count of columns left lives in
// the frame, as every general register is taken.
// Y0–Y15 accumulators (row r, column j in Y(4r+j)), Y16–Y23 loads, Y24–Y27
// reduction scratch, Y28/Y29 alpha/beta; K1 the mask of the last k mod 8
// elements, K2 the mask of the block's valid columns.

// REDUCE4Z is gemm_amd64.s's REDUCE4 with an EVEX extract, so that the
// scratch register xt may be above X15.
#define REDUCE4Z(r0, r1, r2, r3, x0, xt) \
	VHADDPS       r1, r0, r0; \
	VHADDPS       r3, r2, r2; \
	VHADDPS       r2, r0, r0; \
	VEXTRACTF32X4 $1, r0, xt; \
	VADDPS        xt, x0, x0

// FMAS4 adds the products of B row b (in Y) by A's rows in Y16–Y19 to the
// accumulators of column j of every row.
#define FMAS4(b, acc0, acc1, acc2, acc3) \
	VFMADD231PS b, Y16, acc0; \
	VFMADD231PS b, Y17, acc1; \
	VFMADD231PS b, Y18, acc2; \
	VFMADD231PS b, Y19, acc3

// func gemmDot4(n, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)
TEXT ·gemmDot4(SB), NOSPLIT, $8-72
	MOVQ n+0(FP), AX
	MOVQ AX, left-8(SP)
	MOVQ a+16(FP), SI
	MOVQ lda+24(FP), AX
	SHLQ $2, AX
	LEAQ (SI)(AX*1), BX
	LEAQ (SI)(AX*2), R10
	LEAQ (BX)(AX*2), R11
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R8
	SHLQ $2, R8
	MOVQ c+48(FP), R9
	MOVQ k+8(FP), CX
	ANDQ $7, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	VBROADCASTSS alpha+64(FP), Y28
	VBROADCASTSS beta+68(FP), Y29

dot4col:
	// K2 and the B rows as gemm_amd64.s's DOTBLOCK sets X14 and them.
	MOVQ    left-8(SP), CX
	MOVQ    $4, AX
	CMPQ    CX, AX
	CMOVQGT AX, CX
	MOVL    $1, AX
	SHLL    CX, AX
	DECL    AX
	KMOVW   AX, K2
	MOVQ    DI, R12
	LEAQ    (R12)(R8*1), R13
	CMPQ    CX, $2
	CMOVQLT R12, R13
	LEAQ    (R13)(R8*1), R14
	CMPQ    CX, $3
	CMOVQLT R13, R14
	LEAQ    (R14)(R8*1), DX
	CMPQ    CX, $4
	CMOVQLT R14, DX
	VXORPS  Y0, Y0, Y0
	VXORPS  Y1, Y1, Y1
	VXORPS  Y2, Y2, Y2
	VXORPS  Y3, Y3, Y3
	VXORPS  Y4, Y4, Y4
	VXORPS  Y5, Y5, Y5
	VXORPS  Y6, Y6, Y6
	VXORPS  Y7, Y7, Y7
	VXORPS  Y8, Y8, Y8
	VXORPS  Y9, Y9, Y9
	VXORPS  Y10, Y10, Y10
	VXORPS  Y11, Y11, Y11
	VXORPS  Y12, Y12, Y12
	VXORPS  Y13, Y13, Y13
	VXORPS  Y14, Y14, Y14
	VXORPS  Y15, Y15, Y15
	MOVQ    k+8(FP), CX
	ANDQ    $-8, CX
	SHLQ    $2, CX
	XORQ    AX, AX
	CMPQ    AX, CX
	JGE     dot4tail

dot4k:
	VMOVUPS (SI)(AX*1), Y16
	VMOVUPS (BX)(AX*1), Y17
	VMOVUPS (R10)(AX*1), Y18
	VMOVUPS (R11)(AX*1), Y19
	VMOVUPS (R12)(AX*1), Y20
	FMAS4(Y20, Y0, Y4, Y8, Y12)
	VMOVUPS (R13)(AX*1), Y21
	FMAS4(Y21, Y1, Y5, Y9, Y13)
	VMOVUPS (R14)(AX*1), Y22
	FMAS4(Y22, Y2, Y6, Y10, Y14)
	VMOVUPS (DX)(AX*1), Y23
	FMAS4(Y23, Y3, Y7, Y11, Y15)
	ADDQ    $32, AX
	CMPQ    AX, CX
	JLT     dot4k

dot4tail:
	MOVQ      k+8(FP), CX
	ANDQ      $7, CX
	JZ        dot4red
	VMOVUPS.Z (SI)(AX*1), K1, Y16
	VMOVUPS.Z (BX)(AX*1), K1, Y17
	VMOVUPS.Z (R10)(AX*1), K1, Y18
	VMOVUPS.Z (R11)(AX*1), K1, Y19
	VMOVUPS.Z (R12)(AX*1), K1, Y20
	FMAS4(Y20, Y0, Y4, Y8, Y12)
	VMOVUPS.Z (R13)(AX*1), K1, Y21
	FMAS4(Y21, Y1, Y5, Y9, Y13)
	VMOVUPS.Z (R14)(AX*1), K1, Y22
	FMAS4(Y22, Y2, Y6, Y10, Y14)
	VMOVUPS.Z (DX)(AX*1), K1, Y23
	FMAS4(Y23, Y3, Y7, Y11, Y15)

dot4red:
	REDUCE4Z(Y0, Y1, Y2, Y3, X0, X24)
	REDUCE4Z(Y4, Y5, Y6, Y7, X4, X25)
	REDUCE4Z(Y8, Y9, Y10, Y11, X8, X26)
	REDUCE4Z(Y12, Y13, Y14, Y15, X12, X27)
	VMULPS      X28, X0, X0
	VMULPS      X28, X4, X4
	VMULPS      X28, X8, X8
	VMULPS      X28, X12, X12
	MOVQ        ldc+56(FP), CX
	SHLQ        $2, CX
	LEAQ        (R9)(CX*2), DX
	MOVL        beta+68(FP), AX
	ANDL        $0x7fffffff, AX
	JZ          dot4store
	VMOVUPS.Z   (R9), K2, X16
	VFMADD231PS X16, X29, X0
	VMOVUPS.Z   (R9)(CX*1), K2, X17
	VFMADD231PS X17, X29, X4
	VMOVUPS.Z   (DX), K2, X18
	VFMADD231PS X18, X29, X8
	VMOVUPS.Z   (DX)(CX*1), K2, X19
	VFMADD231PS X19, X29, X12

dot4store:
	VMOVUPS X0, K2, (R9)
	VMOVUPS X4, K2, (R9)(CX*1)
	VMOVUPS X8, K2, (DX)
	VMOVUPS X12, K2, (DX)(CX*1)
	ADDQ    $16, R9
	LEAQ    (DI)(R8*4), DI
	SUBQ    $4, left-8(SP)
	JG      dot4col
	VZEROUPPER
	RET

// gemmDot8 (see gemmdot_amd64.go): each ZMM accumulator holds two of
// gemmDot2's YMM ones, the same column for two rows: rows 2i and 2i+1,
// column j in Z(4i+j), low half and high half. A pair of A's rows fills a
// ZMM (two loads), a chunk of a B row is broadcast to both halves, and a
// ZMM FMA then performs, lane for lane, the two YMM FMAs gemmDot2 would.
// The horizontal reduction runs on both halves at once with VSHUFPS and
// VADDPS, which add the same pairs as VHADDPS (in swapped operand order:
// the same sums). Registers: SI A's row 0, R11 its row 4, BX lda and R10
// 3·lda in bytes (SI and R11 move along k with AX); the rest as gemmDot4.

// HADDZ sets r0 to VHADDPS r1, r0 in every 128-bit lane; t and u are
// scratch.
#define HADDZ(r1, r0, t, u) \
	VSHUFPS $0x88, r1, r0, t; \
	VSHUFPS $0xdd, r1, r0, u; \
	VADDPS  u, t, r0

// REDUCE4ZZ is REDUCE4 on both halves of r0..r3: the four sums of the low
// halves land in r0's 128-bit lane 0, those of the high halves in lane 2.
#define REDUCE4ZZ(r0, r1, r2, r3, t, u) \
	HADDZ(r1, r0, t, u); \
	HADDZ(r3, r2, t, u); \
	HADDZ(r2, r0, t, u); \
	VSHUFF32X4 $0xb1, r0, r0, t; \
	VADDPS     t, r0, r0

// FMAZ4 adds the products of the B chunk b (broadcast) by A's row pairs in
// Z16–Z19 to the accumulators of column j of every pair.
#define FMAZ4(b, acc0, acc1, acc2, acc3) \
	VFMADD231PS b, Z16, acc0; \
	VFMADD231PS b, Z17, acc1; \
	VFMADD231PS b, Z18, acc2; \
	VFMADD231PS b, Z19, acc3

// CBETA adds beta·C, C masked to the block's columns, to row x (x·alpha),
// as gemmDot2 does.
#define CBETA(x, mem, t) \
	VMOVUPS.Z   mem, K2, t; \
	VFMADD231PS t, X29, x

// func gemmDot8(n, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)
TEXT ·gemmDot8(SB), NOSPLIT, $8-72
	MOVQ n+0(FP), AX
	MOVQ AX, left-8(SP)
	MOVQ a+16(FP), SI
	MOVQ lda+24(FP), BX
	SHLQ $2, BX
	LEAQ (BX)(BX*2), R10
	LEAQ (SI)(BX*4), R11
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R8
	SHLQ $2, R8
	MOVQ c+48(FP), R9
	MOVQ k+8(FP), CX
	ANDQ $7, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	VBROADCASTSS alpha+64(FP), Z28
	VBROADCASTSS beta+68(FP), Z29

dot8col:
	MOVQ    left-8(SP), CX
	MOVQ    $4, AX
	CMPQ    CX, AX
	CMOVQGT AX, CX
	MOVL    $1, AX
	SHLL    CX, AX
	DECL    AX
	KMOVW   AX, K2
	MOVQ    DI, R12
	LEAQ    (R12)(R8*1), R13
	CMPQ    CX, $2
	CMOVQLT R12, R13
	LEAQ    (R13)(R8*1), R14
	CMPQ    CX, $3
	CMOVQLT R13, R14
	LEAQ    (R14)(R8*1), DX
	CMPQ    CX, $4
	CMOVQLT R14, DX
	VXORPS  Y0, Y0, Y0
	VXORPS  Y1, Y1, Y1
	VXORPS  Y2, Y2, Y2
	VXORPS  Y3, Y3, Y3
	VXORPS  Y4, Y4, Y4
	VXORPS  Y5, Y5, Y5
	VXORPS  Y6, Y6, Y6
	VXORPS  Y7, Y7, Y7
	VXORPS  Y8, Y8, Y8
	VXORPS  Y9, Y9, Y9
	VXORPS  Y10, Y10, Y10
	VXORPS  Y11, Y11, Y11
	VXORPS  Y12, Y12, Y12
	VXORPS  Y13, Y13, Y13
	VXORPS  Y14, Y14, Y14
	VXORPS  Y15, Y15, Y15
	MOVQ    k+8(FP), CX
	ANDQ    $-8, CX
	SHLQ    $2, CX
	XORQ    AX, AX
	CMPQ    AX, CX
	JGE     dot8tail

dot8k:
	VMOVUPS         (SI), Y16
	VINSERTF64X4    $1, (SI)(BX*1), Z16, Z16
	VMOVUPS         (SI)(BX*2), Y17
	VINSERTF64X4    $1, (SI)(R10*1), Z17, Z17
	VMOVUPS         (R11), Y18
	VINSERTF64X4    $1, (R11)(BX*1), Z18, Z18
	VMOVUPS         (R11)(BX*2), Y19
	VINSERTF64X4    $1, (R11)(R10*1), Z19, Z19
	VBROADCASTF64X4 (R12)(AX*1), Z20
	FMAZ4(Z20, Z0, Z4, Z8, Z12)
	VBROADCASTF64X4 (R13)(AX*1), Z21
	FMAZ4(Z21, Z1, Z5, Z9, Z13)
	VBROADCASTF64X4 (R14)(AX*1), Z22
	FMAZ4(Z22, Z2, Z6, Z10, Z14)
	VBROADCASTF64X4 (DX)(AX*1), Z23
	FMAZ4(Z23, Z3, Z7, Z11, Z15)
	ADDQ            $32, SI
	ADDQ            $32, R11
	ADDQ            $32, AX
	CMPQ            AX, CX
	JLT             dot8k

dot8tail:
	MOVQ         k+8(FP), CX
	ANDQ         $7, CX
	JZ           dot8red
	VMOVUPS.Z    (SI), K1, Y16
	VMOVUPS.Z    (SI)(BX*1), K1, Y24
	VINSERTF64X4 $1, Y24, Z16, Z16
	VMOVUPS.Z    (SI)(BX*2), K1, Y17
	VMOVUPS.Z    (SI)(R10*1), K1, Y25
	VINSERTF64X4 $1, Y25, Z17, Z17
	VMOVUPS.Z    (R11), K1, Y18
	VMOVUPS.Z    (R11)(BX*1), K1, Y26
	VINSERTF64X4 $1, Y26, Z18, Z18
	VMOVUPS.Z    (R11)(BX*2), K1, Y19
	VMOVUPS.Z    (R11)(R10*1), K1, Y27
	VINSERTF64X4 $1, Y27, Z19, Z19
	VMOVUPS.Z    (R12)(AX*1), K1, Y20
	VINSERTF64X4 $1, Y20, Z20, Z20
	FMAZ4(Z20, Z0, Z4, Z8, Z12)
	VMOVUPS.Z    (R13)(AX*1), K1, Y21
	VINSERTF64X4 $1, Y21, Z21, Z21
	FMAZ4(Z21, Z1, Z5, Z9, Z13)
	VMOVUPS.Z    (R14)(AX*1), K1, Y22
	VINSERTF64X4 $1, Y22, Z22, Z22
	FMAZ4(Z22, Z2, Z6, Z10, Z14)
	VMOVUPS.Z    (DX)(AX*1), K1, Y23
	VINSERTF64X4 $1, Y23, Z23, Z23
	FMAZ4(Z23, Z3, Z7, Z11, Z15)

dot8red:
	SUBQ          AX, SI
	SUBQ          AX, R11
	REDUCE4ZZ(Z0, Z1, Z2, Z3, Z24, Z25)
	REDUCE4ZZ(Z4, Z5, Z6, Z7, Z26, Z27)
	REDUCE4ZZ(Z8, Z9, Z10, Z11, Z24, Z25)
	REDUCE4ZZ(Z12, Z13, Z14, Z15, Z26, Z27)
	VMULPS        Z28, Z0, Z0
	VMULPS        Z28, Z4, Z4
	VMULPS        Z28, Z8, Z8
	VMULPS        Z28, Z12, Z12
	VEXTRACTF32X4 $2, Z0, X1
	VEXTRACTF32X4 $2, Z4, X5
	VEXTRACTF32X4 $2, Z8, X9
	VEXTRACTF32X4 $2, Z12, X13
	MOVQ          ldc+56(FP), CX
	SHLQ          $2, CX
	LEAQ          (CX)(CX*2), R13
	LEAQ          (R9)(CX*4), R12
	MOVL          beta+68(FP), AX
	ANDL          $0x7fffffff, AX
	JZ            dot8store
	CBETA(X0, (R9), X16)
	CBETA(X1, (R9)(CX*1), X17)
	CBETA(X4, (R9)(CX*2), X18)
	CBETA(X5, (R9)(R13*1), X19)
	CBETA(X8, (R12), X20)
	CBETA(X9, (R12)(CX*1), X21)
	CBETA(X12, (R12)(CX*2), X22)
	CBETA(X13, (R12)(R13*1), X23)

dot8store:
	VMOVUPS X0, K2, (R9)
	VMOVUPS X1, K2, (R9)(CX*1)
	VMOVUPS X4, K2, (R9)(CX*2)
	VMOVUPS X5, K2, (R9)(R13*1)
	VMOVUPS X8, K2, (R12)
	VMOVUPS X9, K2, (R12)(CX*1)
	VMOVUPS X12, K2, (R12)(CX*2)
	VMOVUPS X13, K2, (R12)(R13*1)
	ADDQ    $16, R9
	LEAQ    (DI)(R8*4), DI
	SUBQ    $4, left-8(SP)
	JG      dot8col
	VZEROUPPER
	RET
