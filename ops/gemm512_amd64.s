//go:build amd64 && !purego

#include "textflag.h"

// The AVX-512 outer-product kernel for Gemm (see gemm512_amd64.go). It
// computes every element of C exactly as gemmOuter16 does (acc = 0, then
// acc += op(A)(i,p)·B(p,j) by one FMA per step p in order, then alpha·acc,
// plus beta·C by one more FMA), only 32 columns at a time, so the two
// kernels give the same bits.
//
// Registers: SI op(A) at the current row block, BX its row stride and DX its
// column stride (bytes), R8 ldb, R9 C at the current row block, R10 ldc,
// R11 rows left. In a tile loop: AX, R12 and DI op(A) rows 0, 3 and 6 at
// step p, CX B row p, R13 steps left; DI walks C's rows in the epilogue.
// Z0–Z15 accumulators (two per row), Z16/Z17 B row, Z18–Z25 broadcasts,
// Z30/Z31 alpha/beta.

// ZROW multiplies the broadcast op(A) element at addr into one row of
// accumulators: acc0, acc1 += A(i,p)·B(p, 0..31).
#define ZROW(addr, t, acc0, acc1) \
	VBROADCASTSS addr, t; \
	VFMADD231PS  Z16, t, acc0; \
	VFMADD231PS  Z17, t, acc1

// Z8STEP is one step p of the eight-row tile: acc += op(A)(0..7, p)·B(p, ·),
// then the pointers move to step p+1 and R13 counts down (flags set).
#define Z8STEP \
	VMOVUPS (CX), Z16; \
	VMOVUPS 64(CX), Z17; \
	ZROW((AX), Z18, Z0, Z1); \
	ZROW((AX)(BX*1), Z19, Z2, Z3); \
	ZROW((AX)(BX*2), Z20, Z4, Z5); \
	ZROW((R12), Z21, Z6, Z7); \
	ZROW((R12)(BX*1), Z22, Z8, Z9); \
	ZROW((R12)(BX*2), Z23, Z10, Z11); \
	ZROW((DI), Z24, Z12, Z13); \
	ZROW((DI)(BX*1), Z25, Z14, Z15); \
	ADDQ    DX, AX; \
	ADDQ    DX, R12; \
	ADDQ    DX, DI; \
	ADDQ    R8, CX; \
	DECQ    R13

// Z4STEP and Z2STEP are Z8STEP for the four- and two-row tiles of the rows
// an eight-row tile leaves: AX and R12 address rows 0 and 3. Their B row
// serves four or two rows instead of one, so a product of a few rows does
// not read all of B once per row, and their four or more accumulators keep
// both FMA pipes busy where one row's two wait on the FMA latency.
#define Z4STEP \
	VMOVUPS (CX), Z16; \
	VMOVUPS 64(CX), Z17; \
	ZROW((AX), Z18, Z0, Z1); \
	ZROW((AX)(BX*1), Z19, Z2, Z3); \
	ZROW((AX)(BX*2), Z20, Z4, Z5); \
	ZROW((R12), Z21, Z6, Z7); \
	ADDQ    DX, AX; \
	ADDQ    DX, R12; \
	ADDQ    R8, CX; \
	DECQ    R13

#define Z2STEP \
	VMOVUPS (CX), Z16; \
	VMOVUPS 64(CX), Z17; \
	ZROW((AX), Z18, Z0, Z1); \
	ZROW((AX)(BX*1), Z19, Z2, Z3); \
	ADDQ    DX, AX; \
	ADDQ    R8, CX; \
	DECQ    R13

// ZOUT stores row DI of C = alpha·acc; ZOUTB C = alpha·acc + beta·C.
#define ZOUT(acc0, acc1) \
	VMULPS  Z30, acc0, acc0; \
	VMULPS  Z30, acc1, acc1; \
	VMOVUPS acc0, (DI); \
	VMOVUPS acc1, 64(DI); \
	ADDQ    R10, DI

#define ZOUTB(acc0, acc1) \
	VMULPS      Z30, acc0, acc0; \
	VMULPS      Z30, acc1, acc1; \
	VFMADD231PS (DI), Z31, acc0; \
	VFMADD231PS 64(DI), Z31, acc1; \
	VMOVUPS     acc0, (DI); \
	VMOVUPS     acc1, 64(DI); \
	ADDQ        R10, DI

// ZBETA leaves DI at the block's first row of C and jumps to nobeta when
// beta = 0 (either sign).
#define ZBETA(nobeta) \
	MOVQ R9, DI; \
	MOVL beta+76(FP), AX; \
	ANDL $0x7fffffff, AX; \
	JZ   nobeta

// func gemmOuter32Z(m, k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)
TEXT ·gemmOuter32Z(SB), NOSPLIT, $0-80
	MOVQ         m+0(FP), R11
	MOVQ         a+16(FP), SI
	MOVQ         rsA+24(FP), BX
	SHLQ         $2, BX
	MOVQ         csA+32(FP), DX
	SHLQ         $2, DX
	MOVQ         ldb+48(FP), R8
	SHLQ         $2, R8
	MOVQ         c+56(FP), R9
	MOVQ         ldc+64(FP), R10
	SHLQ         $2, R10
	VBROADCASTSS alpha+72(FP), Z30
	VBROADCASTSS beta+76(FP), Z31

z8:
	CMPQ   R11, $8
	JLT    z4
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	MOVQ   SI, AX
	LEAQ   (SI)(BX*2), R12
	ADDQ   BX, R12
	LEAQ   (R12)(BX*2), DI
	ADDQ   BX, DI
	MOVQ   b+40(FP), CX
	MOVQ   k+8(FP), R13
	CMPQ   DX, $4
	JNE    z8kp

z8k:
	Z8STEP
	JNZ     z8k
	JMP     z8end

	// op(A) = Aᵀ: each step reads its own line of A, a column stride
	// apart, which the hardware prefetchers do not follow across pages;
	// fetching the line eight steps ahead keeps a cold A (the gate
	// gradients of a shard, a megabyte) from stalling the FMAs.
z8kp:
	PREFETCHT0 (AX)(DX*8)
	Z8STEP
	JNZ     z8kp

z8end:
	ZBETA(z8b0)
	ZOUTB(Z0, Z1)
	ZOUTB(Z2, Z3)
	ZOUTB(Z4, Z5)
	ZOUTB(Z6, Z7)
	ZOUTB(Z8, Z9)
	ZOUTB(Z10, Z11)
	ZOUTB(Z12, Z13)
	ZOUTB(Z14, Z15)
	JMP     z8next

z8b0:
	ZOUT(Z0, Z1)
	ZOUT(Z2, Z3)
	ZOUT(Z4, Z5)
	ZOUT(Z6, Z7)
	ZOUT(Z8, Z9)
	ZOUT(Z10, Z11)
	ZOUT(Z12, Z13)
	ZOUT(Z14, Z15)

z8next:
	SUBQ $8, R11
	LEAQ (SI)(BX*8), SI
	LEAQ (R9)(R10*8), R9
	JMP  z8

z4:
	CMPQ   R11, $4
	JLT    z2
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	MOVQ   SI, AX
	LEAQ   (SI)(BX*2), R12
	ADDQ   BX, R12
	MOVQ   b+40(FP), CX
	MOVQ   k+8(FP), R13
	CMPQ   DX, $4
	JNE    z4kp

z4k:
	Z4STEP
	JNZ    z4k
	JMP    z4end

z4kp:
	PREFETCHT0 (AX)(DX*8)
	Z4STEP
	JNZ        z4kp

z4end:
	ZBETA(z4b0)
	ZOUTB(Z0, Z1)
	ZOUTB(Z2, Z3)
	ZOUTB(Z4, Z5)
	ZOUTB(Z6, Z7)
	JMP     z4next

z4b0:
	ZOUT(Z0, Z1)
	ZOUT(Z2, Z3)
	ZOUT(Z4, Z5)
	ZOUT(Z6, Z7)

z4next:
	SUBQ $4, R11
	LEAQ (SI)(BX*4), SI
	LEAQ (R9)(R10*4), R9

z2:
	CMPQ   R11, $2
	JLT    z1
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	MOVQ   SI, AX
	MOVQ   b+40(FP), CX
	MOVQ   k+8(FP), R13

z2k:
	Z2STEP
	JNZ    z2k
	ZBETA(z2b0)
	ZOUTB(Z0, Z1)
	ZOUTB(Z2, Z3)
	JMP     z2next

z2b0:
	ZOUT(Z0, Z1)
	ZOUT(Z2, Z3)

z2next:
	SUBQ $2, R11
	LEAQ (SI)(BX*2), SI
	LEAQ (R9)(R10*2), R9

z1:
	TESTQ  R11, R11
	JZ     zdone
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	MOVQ   SI, AX
	MOVQ   b+40(FP), CX
	MOVQ   k+8(FP), R13

z1k:
	VMOVUPS (CX), Z16
	VMOVUPS 64(CX), Z17
	ZROW((AX), Z18, Z0, Z1)
	ADDQ    DX, AX
	ADDQ    R8, CX
	DECQ    R13
	JNZ     z1k
	ZBETA(z1b0)
	ZOUTB(Z0, Z1)
	JMP     z1next

z1b0:
	ZOUT(Z0, Z1)

z1next:
	DECQ R11
	ADDQ BX, SI
	ADDQ R10, R9
	JMP  z1

zdone:
	VZEROUPPER
	RET

// ---------------------------------------------------------------------------
// gemmRow128Z: one row of C over 128 columns. Eight ZMM accumulators take
// the FMAs of one step p each, so consecutive steps of an accumulator are
// eight FMAs apart and the latency is hidden; each element still takes
// gemmOuter16's FMAs in its order.
//
// Registers: AX op(A) at step p, DX its column stride (bytes), CX B row p,
// R8 ldb (bytes), R13 steps left, DI C. Z0–Z7 accumulators, Z16 broadcast,
// Z30/Z31 alpha/beta.

// func gemmRow128Z(k int, a *float32, csA int, b *float32, ldb int, c *float32, alpha, beta float32)
TEXT ·gemmRow128Z(SB), NOSPLIT, $0-56
	MOVQ         k+0(FP), R13
	MOVQ         a+8(FP), AX
	MOVQ         csA+16(FP), DX
	SHLQ         $2, DX
	MOVQ         b+24(FP), CX
	MOVQ         ldb+32(FP), R8
	SHLQ         $2, R8
	MOVQ         c+40(FP), DI
	VBROADCASTSS alpha+48(FP), Z30
	VBROADCASTSS beta+52(FP), Z31
	VPXORD       Z0, Z0, Z0
	VPXORD       Z1, Z1, Z1
	VPXORD       Z2, Z2, Z2
	VPXORD       Z3, Z3, Z3
	VPXORD       Z4, Z4, Z4
	VPXORD       Z5, Z5, Z5
	VPXORD       Z6, Z6, Z6
	VPXORD       Z7, Z7, Z7

r128k:
	VBROADCASTSS (AX), Z16
	VFMADD231PS  (CX), Z16, Z0
	VFMADD231PS  64(CX), Z16, Z1
	VFMADD231PS  128(CX), Z16, Z2
	VFMADD231PS  192(CX), Z16, Z3
	VFMADD231PS  256(CX), Z16, Z4
	VFMADD231PS  320(CX), Z16, Z5
	VFMADD231PS  384(CX), Z16, Z6
	VFMADD231PS  448(CX), Z16, Z7
	ADDQ         DX, AX
	ADDQ         R8, CX
	DECQ         R13
	JNZ          r128k

	VMULPS Z30, Z0, Z0
	VMULPS Z30, Z1, Z1
	VMULPS Z30, Z2, Z2
	VMULPS Z30, Z3, Z3
	VMULPS Z30, Z4, Z4
	VMULPS Z30, Z5, Z5
	VMULPS Z30, Z6, Z6
	VMULPS Z30, Z7, Z7
	MOVL   beta+52(FP), AX
	ANDL   $0x7fffffff, AX
	JZ     r128store
	VFMADD231PS (DI), Z31, Z0
	VFMADD231PS 64(DI), Z31, Z1
	VFMADD231PS 128(DI), Z31, Z2
	VFMADD231PS 192(DI), Z31, Z3
	VFMADD231PS 256(DI), Z31, Z4
	VFMADD231PS 320(DI), Z31, Z5
	VFMADD231PS 384(DI), Z31, Z6
	VFMADD231PS 448(DI), Z31, Z7

r128store:
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	VZEROUPPER
	RET

// gemmRow64Z: gemmRow128Z over 64 columns, four accumulators.

// func gemmRow64Z(k int, a *float32, csA int, b *float32, ldb int, c *float32, alpha, beta float32)
TEXT ·gemmRow64Z(SB), NOSPLIT, $0-56
	MOVQ         k+0(FP), R13
	MOVQ         a+8(FP), AX
	MOVQ         csA+16(FP), DX
	SHLQ         $2, DX
	MOVQ         b+24(FP), CX
	MOVQ         ldb+32(FP), R8
	SHLQ         $2, R8
	MOVQ         c+40(FP), DI
	VBROADCASTSS alpha+48(FP), Z30
	VBROADCASTSS beta+52(FP), Z31
	VPXORD       Z0, Z0, Z0
	VPXORD       Z1, Z1, Z1
	VPXORD       Z2, Z2, Z2
	VPXORD       Z3, Z3, Z3

r64k:
	VBROADCASTSS (AX), Z16
	VFMADD231PS  (CX), Z16, Z0
	VFMADD231PS  64(CX), Z16, Z1
	VFMADD231PS  128(CX), Z16, Z2
	VFMADD231PS  192(CX), Z16, Z3
	ADDQ         DX, AX
	ADDQ         R8, CX
	DECQ         R13
	JNZ          r64k

	VMULPS Z30, Z0, Z0
	VMULPS Z30, Z1, Z1
	VMULPS Z30, Z2, Z2
	VMULPS Z30, Z3, Z3
	MOVL   beta+52(FP), AX
	ANDL   $0x7fffffff, AX
	JZ     r64store
	VFMADD231PS (DI), Z31, Z0
	VFMADD231PS 64(DI), Z31, Z1
	VFMADD231PS 128(DI), Z31, Z2
	VFMADD231PS 192(DI), Z31, Z3

r64store:
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VZEROUPPER
	RET
