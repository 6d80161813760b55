//go:build amd64 && !purego

#include "textflag.h"

// AVX2+FMA kernels for Gemm (see gemm_amd64.go for their contracts).
// Go assembler operand order: sources first, destination last, so
// VFMADD231PS x, y, z computes z += x·y.

// gemmMask<>: 16 lanes of all-ones then 16 of zeros. The 8 lanes starting
// at byte (16−v)·4 are a mask of the first v lanes (v ≤ 8), and the 16
// starting there the mask of the first v of 16.
DATA gemmMask<>+0x00(SB)/8, $0xffffffffffffffff
DATA gemmMask<>+0x08(SB)/8, $0xffffffffffffffff
DATA gemmMask<>+0x10(SB)/8, $0xffffffffffffffff
DATA gemmMask<>+0x18(SB)/8, $0xffffffffffffffff
DATA gemmMask<>+0x20(SB)/8, $0xffffffffffffffff
DATA gemmMask<>+0x28(SB)/8, $0xffffffffffffffff
DATA gemmMask<>+0x30(SB)/8, $0xffffffffffffffff
DATA gemmMask<>+0x38(SB)/8, $0xffffffffffffffff
DATA gemmMask<>+0x40(SB)/8, $0
DATA gemmMask<>+0x48(SB)/8, $0
DATA gemmMask<>+0x50(SB)/8, $0
DATA gemmMask<>+0x58(SB)/8, $0
DATA gemmMask<>+0x60(SB)/8, $0
DATA gemmMask<>+0x68(SB)/8, $0
DATA gemmMask<>+0x70(SB)/8, $0
DATA gemmMask<>+0x78(SB)/8, $0
GLOBL gemmMask<>(SB), RODATA|NOPTR, $128

// ---------------------------------------------------------------------------
// gemmOuter16
//
// Registers: SI op(A) at the current row block, BX its row stride and DX its
// column stride (bytes), R8 ldb, R9 C at the current row block, R10 ldc,
// R11 rows left. In a tile loop: AX op(A) row 0 and R12 row 3 at step p,
// CX B row p, R13 steps left; DI walks C's rows in the epilogue.
// Full strips: Y0–Y11 accumulators, Y12/Y13 B row, Y14/Y15 broadcasts,
// then alpha/beta. Masked strips: Y0–Y7 accumulators, Y8/Y9 B row, Y10/Y11
// broadcasts, Y12/Y13 column masks, Y14/Y15 alpha/beta.

// ROW16 multiplies the broadcast op(A) element at addr into one row of
// accumulators: acc0, acc1 += A(i,p)·B(p, 0..15).
#define ROW16(addr, t, b0, b1, acc0, acc1) \
	VBROADCASTSS addr, t; \
	VFMADD231PS  b0, t, acc0; \
	VFMADD231PS  b1, t, acc1

// OUT16 stores row DI of C = alpha·acc; OUT16B C = alpha·acc + beta·C.
#define OUT16(acc0, acc1) \
	VMULPS  Y14, acc0, acc0; \
	VMULPS  Y14, acc1, acc1; \
	VMOVUPS acc0, (DI); \
	VMOVUPS acc1, 32(DI); \
	ADDQ    R10, DI

#define OUT16B(acc0, acc1) \
	VMULPS      Y14, acc0, acc0; \
	VMULPS      Y14, acc1, acc1; \
	VFMADD231PS (DI), Y15, acc0; \
	VFMADD231PS 32(DI), Y15, acc1; \
	VMOVUPS     acc0, (DI); \
	VMOVUPS     acc1, 32(DI); \
	ADDQ        R10, DI

// OUTM16 and OUTM16B are OUT16 and OUT16B under the column masks Y12/Y13.
#define OUTM16(acc0, acc1) \
	VMULPS     Y14, acc0, acc0; \
	VMULPS     Y14, acc1, acc1; \
	VMASKMOVPS acc0, Y12, (DI); \
	VMASKMOVPS acc1, Y13, 32(DI); \
	ADDQ       R10, DI

#define OUTM16B(acc0, acc1) \
	VMULPS      Y14, acc0, acc0; \
	VMULPS      Y14, acc1, acc1; \
	VMASKMOVPS  (DI), Y12, Y8; \
	VFMADD231PS Y8, Y15, acc0; \
	VMASKMOVPS  32(DI), Y13, Y9; \
	VFMADD231PS Y9, Y15, acc1; \
	VMASKMOVPS  acc0, Y12, (DI); \
	VMASKMOVPS  acc1, Y13, 32(DI); \
	ADDQ        R10, DI

// TILESTART resets the tile pointers to the current row block.
#define TILESTART \
	MOVQ SI, AX; \
	LEAQ (SI)(BX*2), R12; \
	ADDQ BX, R12; \
	MOVQ b+40(FP), CX; \
	MOVQ k+8(FP), R13

// TILESTEP moves the tile pointers to step p+1 and loops to label while
// steps are left.
#define TILESTEP(label) \
	ADDQ DX, AX; \
	ADDQ DX, R12; \
	ADDQ R8, CX; \
	DECQ R13; \
	JNZ  label

// EPILOGUE loads alpha and beta and jumps to nobeta when beta = 0 (either
// sign), leaving DI at the block's first row of C.
#define EPILOGUE(nobeta) \
	VBROADCASTSS alpha+80(FP), Y14; \
	VBROADCASTSS beta+84(FP), Y15; \
	MOVQ         R9, DI; \
	MOVL         beta+84(FP), AX; \
	ANDL         $0x7fffffff, AX; \
	JZ           nobeta

// func gemmOuter16(m, k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, nv int, alpha, beta float32)
TEXT ·gemmOuter16(SB), NOSPLIT, $0-88
	MOVQ m+0(FP), R11
	MOVQ a+16(FP), SI
	MOVQ rsA+24(FP), BX
	SHLQ $2, BX
	MOVQ csA+32(FP), DX
	SHLQ $2, DX
	MOVQ ldb+48(FP), R8
	SHLQ $2, R8
	MOVQ c+56(FP), R9
	MOVQ ldc+64(FP), R10
	SHLQ $2, R10
	MOVQ nv+72(FP), AX
	CMPQ AX, $16
	JNE  masked

full6:
	CMPQ   R11, $6
	JLT    full4
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	TILESTART

full6k:
	VMOVUPS (CX), Y12
	VMOVUPS 32(CX), Y13
	ROW16((AX), Y14, Y12, Y13, Y0, Y1)
	ROW16((AX)(BX*1), Y15, Y12, Y13, Y2, Y3)
	ROW16((AX)(BX*2), Y14, Y12, Y13, Y4, Y5)
	ROW16((R12), Y15, Y12, Y13, Y6, Y7)
	ROW16((R12)(BX*1), Y14, Y12, Y13, Y8, Y9)
	ROW16((R12)(BX*2), Y15, Y12, Y13, Y10, Y11)
	TILESTEP(full6k)
	EPILOGUE(full6b0)
	OUT16B(Y0, Y1)
	OUT16B(Y2, Y3)
	OUT16B(Y4, Y5)
	OUT16B(Y6, Y7)
	OUT16B(Y8, Y9)
	OUT16B(Y10, Y11)
	JMP full6next

full6b0:
	OUT16(Y0, Y1)
	OUT16(Y2, Y3)
	OUT16(Y4, Y5)
	OUT16(Y6, Y7)
	OUT16(Y8, Y9)
	OUT16(Y10, Y11)

full6next:
	SUBQ $6, R11
	LEAQ (BX)(BX*2), AX
	LEAQ (SI)(AX*2), SI
	LEAQ (R10)(R10*2), AX
	LEAQ (R9)(AX*2), R9
	JMP  full6

full4:
	CMPQ   R11, $4
	JLT    full2
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	TILESTART

full4k:
	VMOVUPS (CX), Y12
	VMOVUPS 32(CX), Y13
	ROW16((AX), Y14, Y12, Y13, Y0, Y1)
	ROW16((AX)(BX*1), Y15, Y12, Y13, Y2, Y3)
	ROW16((AX)(BX*2), Y14, Y12, Y13, Y4, Y5)
	ROW16((R12), Y15, Y12, Y13, Y6, Y7)
	TILESTEP(full4k)
	EPILOGUE(full4b0)
	OUT16B(Y0, Y1)
	OUT16B(Y2, Y3)
	OUT16B(Y4, Y5)
	OUT16B(Y6, Y7)
	JMP full4next

full4b0:
	OUT16(Y0, Y1)
	OUT16(Y2, Y3)
	OUT16(Y4, Y5)
	OUT16(Y6, Y7)

full4next:
	SUBQ $4, R11
	LEAQ (SI)(BX*4), SI
	LEAQ (R9)(R10*4), R9

full2:
	CMPQ   R11, $2
	JLT    full1
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	TILESTART

full2k:
	VMOVUPS (CX), Y12
	VMOVUPS 32(CX), Y13
	ROW16((AX), Y14, Y12, Y13, Y0, Y1)
	ROW16((AX)(BX*1), Y15, Y12, Y13, Y2, Y3)
	TILESTEP(full2k)
	EPILOGUE(full2b0)
	OUT16B(Y0, Y1)
	OUT16B(Y2, Y3)
	JMP full2next

full2b0:
	OUT16(Y0, Y1)
	OUT16(Y2, Y3)

full2next:
	SUBQ $2, R11
	LEAQ (SI)(BX*2), SI
	LEAQ (R9)(R10*2), R9

full1:
	CMPQ   R11, $1
	JLT    done
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	TILESTART

full1k:
	VMOVUPS (CX), Y12
	VMOVUPS 32(CX), Y13
	ROW16((AX), Y14, Y12, Y13, Y0, Y1)
	TILESTEP(full1k)
	EPILOGUE(full1b0)
	OUT16B(Y0, Y1)
	JMP done

full1b0:
	OUT16(Y0, Y1)
	JMP done

masked:
	LEAQ    gemmMask<>(SB), CX
	MOVQ    $16, R13
	SUBQ    AX, R13
	VMOVUPS (CX)(R13*4), Y12
	VMOVUPS 32(CX)(R13*4), Y13

mask4:
	CMPQ   R11, $4
	JLT    mask2
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	TILESTART

mask4k:
	VMASKMOVPS (CX), Y12, Y8
	VMASKMOVPS 32(CX), Y13, Y9
	ROW16((AX), Y10, Y8, Y9, Y0, Y1)
	ROW16((AX)(BX*1), Y11, Y8, Y9, Y2, Y3)
	ROW16((AX)(BX*2), Y10, Y8, Y9, Y4, Y5)
	ROW16((R12), Y11, Y8, Y9, Y6, Y7)
	TILESTEP(mask4k)
	EPILOGUE(mask4b0)
	OUTM16B(Y0, Y1)
	OUTM16B(Y2, Y3)
	OUTM16B(Y4, Y5)
	OUTM16B(Y6, Y7)
	JMP mask4next

mask4b0:
	OUTM16(Y0, Y1)
	OUTM16(Y2, Y3)
	OUTM16(Y4, Y5)
	OUTM16(Y6, Y7)

mask4next:
	SUBQ $4, R11
	LEAQ (SI)(BX*4), SI
	LEAQ (R9)(R10*4), R9
	JMP  mask4

mask2:
	CMPQ   R11, $2
	JLT    mask1
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	TILESTART

mask2k:
	VMASKMOVPS (CX), Y12, Y8
	VMASKMOVPS 32(CX), Y13, Y9
	ROW16((AX), Y10, Y8, Y9, Y0, Y1)
	ROW16((AX)(BX*1), Y11, Y8, Y9, Y2, Y3)
	TILESTEP(mask2k)
	EPILOGUE(mask2b0)
	OUTM16B(Y0, Y1)
	OUTM16B(Y2, Y3)
	JMP mask2next

mask2b0:
	OUTM16(Y0, Y1)
	OUTM16(Y2, Y3)

mask2next:
	SUBQ $2, R11
	LEAQ (SI)(BX*2), SI
	LEAQ (R9)(R10*2), R9

mask1:
	CMPQ   R11, $1
	JLT    done
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	TILESTART

mask1k:
	VMASKMOVPS (CX), Y12, Y8
	VMASKMOVPS 32(CX), Y13, Y9
	ROW16((AX), Y10, Y8, Y9, Y0, Y1)
	TILESTEP(mask1k)
	EPILOGUE(mask1b0)
	OUTM16B(Y0, Y1)
	JMP done

mask1b0:
	OUTM16(Y0, Y1)

done:
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------
// gemmDot2 and gemmDot1
//
// Registers: SI A row 0 (BX row 1 in gemmDot2), DI B at the current column
// block, R8 ldb, R9 C at the current column block, R10 ldc, R11 columns
// left; R12, R13, R14, DX B's four rows of the block (clamped), AX the byte
// offset along k, CX the end of the whole 8-float chunks.
// Y0–Y7 accumulators, Y8–Y10 loads, Y11 the mask of the last k mod 8
// elements, Y12/Y13 alpha/beta, X14 the mask of the block's valid columns.

// REDUCE4 sums each of r0..r3's 8 lanes into the 4 lanes of x0 (r0's low
// half), in order r0, r1, r2, r3; xt is scratch.
#define REDUCE4(r0, r1, r2, r3, x0, xt) \
	VHADDPS      r1, r0, r0; \
	VHADDPS      r3, r2, r2; \
	VHADDPS      r2, r0, r0; \
	VEXTRACTF128 $1, r0, xt; \
	VADDPS       xt, x0, x0

// DOTBLOCK sets X14 to the mask of min(R11, 4) columns and R12, R13, R14,
// DX to the block's B rows, repeating the last valid row past column n.
#define DOTBLOCK \
	MOVQ       $16, AX; \
	SUBQ       R11, AX; \
	MOVQ       $12, CX; \
	CMPQ       R11, $4; \
	CMOVQGE    CX, AX; \
	LEAQ       gemmMask<>(SB), CX; \
	VMOVUPS    (CX)(AX*4), X14; \
	MOVQ       DI, R12; \
	LEAQ       (R12)(R8*1), R13; \
	CMPQ       R11, $2; \
	CMOVQLT    R12, R13; \
	LEAQ       (R13)(R8*1), R14; \
	CMPQ       R11, $3; \
	CMOVQLT    R13, R14; \
	LEAQ       (R14)(R8*1), DX; \
	CMPQ       R11, $4; \
	CMOVQLT    R14, DX

// DOTSETUP loads the k tail mask into Y11 and alpha, beta into Y12, Y13.
#define DOTSETUP(kofs, aofs, bofs) \
	LEAQ         gemmMask<>(SB), CX; \
	MOVQ         kofs(FP), AX; \
	ANDQ         $7, AX; \
	NEGQ         AX; \
	ADDQ         $16, AX; \
	VMOVUPS      (CX)(AX*4), Y11; \
	VBROADCASTSS aofs(FP), Y12; \
	VBROADCASTSS bofs(FP), Y13

// func gemmDot2(n, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)
TEXT ·gemmDot2(SB), NOSPLIT, $0-72
	MOVQ n+0(FP), R11
	MOVQ a+16(FP), SI
	MOVQ lda+24(FP), BX
	LEAQ (SI)(BX*4), BX
	MOVQ b+32(FP), DI
	MOVQ ldb+40(FP), R8
	SHLQ $2, R8
	MOVQ c+48(FP), R9
	MOVQ ldc+56(FP), R10
	SHLQ $2, R10
	DOTSETUP(k+8, alpha+64, beta+68)

dot2col:
	DOTBLOCK
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ   k+8(FP), CX
	ANDQ   $-8, CX
	SHLQ   $2, CX
	XORQ   AX, AX
	CMPQ   AX, CX
	JGE    dot2tail

dot2k:
	VMOVUPS     (SI)(AX*1), Y8
	VMOVUPS     (BX)(AX*1), Y9
	VMOVUPS     (R12)(AX*1), Y10
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y10, Y9, Y4
	VMOVUPS     (R13)(AX*1), Y10
	VFMADD231PS Y10, Y8, Y1
	VFMADD231PS Y10, Y9, Y5
	VMOVUPS     (R14)(AX*1), Y10
	VFMADD231PS Y10, Y8, Y2
	VFMADD231PS Y10, Y9, Y6
	VMOVUPS     (DX)(AX*1), Y10
	VFMADD231PS Y10, Y8, Y3
	VFMADD231PS Y10, Y9, Y7
	ADDQ        $32, AX
	CMPQ        AX, CX
	JLT         dot2k

dot2tail:
	MOVQ        k+8(FP), CX
	ANDQ        $7, CX
	JZ          dot2red
	VMASKMOVPS  (SI)(AX*1), Y11, Y8
	VMASKMOVPS  (BX)(AX*1), Y11, Y9
	VMASKMOVPS  (R12)(AX*1), Y11, Y10
	VFMADD231PS Y10, Y8, Y0
	VFMADD231PS Y10, Y9, Y4
	VMASKMOVPS  (R13)(AX*1), Y11, Y10
	VFMADD231PS Y10, Y8, Y1
	VFMADD231PS Y10, Y9, Y5
	VMASKMOVPS  (R14)(AX*1), Y11, Y10
	VFMADD231PS Y10, Y8, Y2
	VFMADD231PS Y10, Y9, Y6
	VMASKMOVPS  (DX)(AX*1), Y11, Y10
	VFMADD231PS Y10, Y8, Y3
	VFMADD231PS Y10, Y9, Y7

dot2red:
	REDUCE4(Y0, Y1, Y2, Y3, X0, X8)
	REDUCE4(Y4, Y5, Y6, Y7, X4, X9)
	VMULPS      X12, X0, X0
	VMULPS      X12, X4, X4
	MOVL        beta+68(FP), CX
	ANDL        $0x7fffffff, CX
	JZ          dot2store
	VMASKMOVPS  (R9), X14, X8
	VFMADD231PS X8, X13, X0
	VMASKMOVPS  (R9)(R10*1), X14, X9
	VFMADD231PS X9, X13, X4

dot2store:
	VMASKMOVPS X0, X14, (R9)
	VMASKMOVPS X4, X14, (R9)(R10*1)
	ADDQ       $16, R9
	LEAQ       (DI)(R8*4), DI
	SUBQ       $4, R11
	JG         dot2col
	VZEROUPPER
	RET

// func gemmDot1(n, k int, a *float32, b *float32, ldb int, c *float32, alpha, beta float32)
TEXT ·gemmDot1(SB), NOSPLIT, $0-56
	MOVQ n+0(FP), R11
	MOVQ a+16(FP), SI
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R8
	SHLQ $2, R8
	MOVQ c+40(FP), R9
	DOTSETUP(k+8, alpha+48, beta+52)

dot1col:
	DOTBLOCK
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	MOVQ   k+8(FP), CX
	MOVQ   CX, BX
	ANDQ   $-8, CX
	SHLQ   $2, CX
	ANDQ   $-16, BX
	SHLQ   $2, BX
	XORQ   AX, AX
	CMPQ   AX, BX
	JGE    dot1one

dot1k:
	VMOVUPS     (SI)(AX*1), Y8
	VMOVUPS     32(SI)(AX*1), Y9
	VFMADD231PS (R12)(AX*1), Y8, Y0
	VFMADD231PS (R13)(AX*1), Y8, Y1
	VFMADD231PS (R14)(AX*1), Y8, Y2
	VFMADD231PS (DX)(AX*1), Y8, Y3
	VFMADD231PS 32(R12)(AX*1), Y9, Y4
	VFMADD231PS 32(R13)(AX*1), Y9, Y5
	VFMADD231PS 32(R14)(AX*1), Y9, Y6
	VFMADD231PS 32(DX)(AX*1), Y9, Y7
	ADDQ        $64, AX
	CMPQ        AX, BX
	JLT         dot1k

dot1one:
	CMPQ        AX, CX
	JGE         dot1tail
	VMOVUPS     (SI)(AX*1), Y8
	VFMADD231PS (R12)(AX*1), Y8, Y0
	VFMADD231PS (R13)(AX*1), Y8, Y1
	VFMADD231PS (R14)(AX*1), Y8, Y2
	VFMADD231PS (DX)(AX*1), Y8, Y3
	ADDQ        $32, AX

dot1tail:
	MOVQ        k+8(FP), CX
	ANDQ        $7, CX
	JZ          dot1red
	VMASKMOVPS  (SI)(AX*1), Y11, Y8
	VMASKMOVPS  (R12)(AX*1), Y11, Y10
	VFMADD231PS Y10, Y8, Y4
	VMASKMOVPS  (R13)(AX*1), Y11, Y10
	VFMADD231PS Y10, Y8, Y5
	VMASKMOVPS  (R14)(AX*1), Y11, Y10
	VFMADD231PS Y10, Y8, Y6
	VMASKMOVPS  (DX)(AX*1), Y11, Y10
	VFMADD231PS Y10, Y8, Y7

dot1red:
	VADDPS      Y4, Y0, Y0
	VADDPS      Y5, Y1, Y1
	VADDPS      Y6, Y2, Y2
	VADDPS      Y7, Y3, Y3
	REDUCE4(Y0, Y1, Y2, Y3, X0, X8)
	VMULPS      X12, X0, X0
	MOVL        beta+52(FP), CX
	ANDL        $0x7fffffff, CX
	JZ          dot1store
	VMASKMOVPS  (R9), X14, X8
	VFMADD231PS X8, X13, X0

dot1store:
	VMASKMOVPS X0, X14, (R9)
	ADDQ       $16, R9
	LEAQ       (DI)(R8*4), DI
	SUBQ       $4, R11
	JG         dot1col
	VZEROUPPER
	RET
