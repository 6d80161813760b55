//go:build amd64 && !purego

#include "textflag.h"

// func transpose8Asm(dst, src *float32, rows, cols int)
//
// dst [cols, rows] = src [rows, cols] transposed, rows and cols positive
// multiples of 8, in 8×8 blocks held in registers: eight rows of the block
// are loaded, interleaved in pairs (VUNPCKLPS/VUNPCKHPS), in fours
// (VSHUFPS) and across the 128-bit halves (VPERM2F128), and stored as
// eight columns. Every load and store is a whole 32-byte run.
//
// Registers: SI src, DI dst, R10 src's row stride and R11 dst's (bytes),
// R12 the block's first row i, R13 its first column j, AX src at (i, j),
// DX dst at (j, i), BX and CX the block's rows.
TEXT ·transpose8Asm(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ cols+24(FP), R9
	LEAQ (R9*4), R10
	LEAQ (R8*4), R11
	XORQ R12, R12

rowLoop:
	MOVQ  R12, AX
	IMULQ R10, AX
	ADDQ  SI, AX
	LEAQ  (DI)(R12*4), DX
	XORQ  R13, R13

colLoop:
	MOVQ    AX, BX
	VMOVUPS (BX), Y0
	ADDQ    R10, BX
	VMOVUPS (BX), Y1
	ADDQ    R10, BX
	VMOVUPS (BX), Y2
	ADDQ    R10, BX
	VMOVUPS (BX), Y3
	ADDQ    R10, BX
	VMOVUPS (BX), Y4
	ADDQ    R10, BX
	VMOVUPS (BX), Y5
	ADDQ    R10, BX
	VMOVUPS (BX), Y6
	ADDQ    R10, BX
	VMOVUPS (BX), Y7

	// Pairs of rows: t0 = (r0₀ r1₀ r0₁ r1₁ | r0₄ r1₄ r0₅ r1₅), and so on.
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	// Fours: Y0 = columns 0 | 4 of rows 0–3, Y1 = 1 | 5, Y2 = 2 | 6,
	// Y3 = 3 | 7; Y4–Y7 the same of rows 4–7.
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7

	// Whole columns: low halves for columns 0–3, high for 4–7.
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15

	MOVQ    DX, CX
	VMOVUPS Y8, (CX)
	ADDQ    R11, CX
	VMOVUPS Y9, (CX)
	ADDQ    R11, CX
	VMOVUPS Y10, (CX)
	ADDQ    R11, CX
	VMOVUPS Y11, (CX)
	ADDQ    R11, CX
	VMOVUPS Y12, (CX)
	ADDQ    R11, CX
	VMOVUPS Y13, (CX)
	ADDQ    R11, CX
	VMOVUPS Y14, (CX)
	ADDQ    R11, CX
	VMOVUPS Y15, (CX)

	ADDQ $32, AX
	LEAQ (DX)(R11*8), DX
	ADDQ $8, R13
	CMPQ R13, R9
	JLT  colLoop

	ADDQ $8, R12
	CMPQ R12, R8
	JLT  rowLoop
	VZEROUPPER
	RET
