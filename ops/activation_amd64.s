//go:build amd64 && !purego

#include "textflag.h"

// AVX2 kernels for the activations and the recurrent cells (contracts in
// activation_amd64.go). Every one repeats, lane by lane, the float32
// operations of its scalar counterpart in activation.go, lstm.go or gru.go,
// in the same order and without fused multiply-adds, so that the results
// are bit-identical; the comments give the scalar expression each block
// mirrors. Go assembler operand order: sources first, destination last, so
// VSUBPS a, b, d computes d = b − a, VDIVPS a, b, d computes d = b / a,
// and VMINPS a, b, d and VMAXPS a, b, d return a when either is NaN.

// Constants (vecConst in activation_amd64.go), 8 lanes each.
#define ONE     ·vecConst+0x000(SB)
#define LOG2E   ·vecConst+0x020(SB)
#define LN2HI   ·vecConst+0x040(SB)
#define LN2LO   ·vecConst+0x060(SB)
#define EXPP0   ·vecConst+0x080(SB)
#define EXPP1   ·vecConst+0x0a0(SB)
#define EXPP2   ·vecConst+0x0c0(SB)
#define EXPP3   ·vecConst+0x0e0(SB)
#define EXPP4   ·vecConst+0x100(SB)
#define EXPP5   ·vecConst+0x120(SB)
#define SIGHI   ·vecConst+0x140(SB)
#define SIGN    ·vecConst+0x160(SB)
#define BIAS    ·vecConst+0x180(SB)
#define BIASM1  ·vecConst+0x1a0(SB)
#define TWO     ·vecConst+0x1c0(SB)
#define TANHSAT ·vecConst+0x1e0(SB)
#define ABS     ·vecConst+0x200(SB)
#define SIGLO   ·vecConst+0x220(SB)


// EXPM1 runs expParts on x, which the caller has limited to [sigLo, sigHi]
// (a NaN lane stays NaN): n = fn = float32(x·log2e) rounded to the nearest
// integer, ties to even, r = (x − fn·ln2Hi) − fn·ln2Lo, t = r·r, p from
// three linear pieces in r by Horner in t (x holds each of the last two in
// turn), and y = m = p·t + r, so that e^x = 2^n·(1 + m). r, n, y, t and x
// are written, n as a float.
#define EXPM1(x, r, n, y, t) \
	VMULPS     LOG2E, x, n;  \
	VROUNDPS   $0, n, n;     \
	VMULPS     LN2HI, n, t;  \
	VSUBPS     t, x, r;      \
	VMULPS     LN2LO, n, t;  \
	VSUBPS     t, r, r;      \
	VMULPS     r, r, t;      \
	VMULPS     EXPP0, r, y;  \
	VADDPS     EXPP1, y, y;  \
	VMULPS     EXPP2, r, x;  \
	VADDPS     EXPP3, x, x;  \
	VMULPS     t, y, y;      \
	VADDPS     x, y, y;      \
	VMULPS     EXPP4, r, x;  \
	VADDPS     EXPP5, x, x;  \
	VMULPS     t, y, y;      \
	VADDPS     x, y, y;      \
	VMULPS     t, y, y;      \
	VADDPS     r, y, y

// EXPRED is EXPM1 with y = m + 1 and n converted to int32 lanes, so that
// exp32(x) = y·2^n rounded once.
#define EXPRED(x, r, n, y, t) \
	EXPM1(x, r, n, y, t);    \
	VADDPS     ONE, y, y;    \
	VCVTTPS2DQ n, n

// SIGMOID sets out = sigmoid(x) = 1 / (1 + exp32(u)), u = −x (Y3), as
// sigmoid does; x is kept unless it is out; Y0–Y4 are clobbered. u is
// clamped to [sigLo, sigHi] with the bounds as VMAXPS's and VMINPS's first
// sources, so that a NaN lane, returned as their second, stays NaN through
// what follows. In that range −115 ≤ n ≤ 128, so y·2^(n−1) is exact
// (normal) and the doubling that follows is the one rounding of y·2^n, to
// +Inf past the largest float, as in exp32.
#define SIGMOID(x, out) \
	VXORPS    SIGN, x, Y3;         \
	VMOVUPS   SIGLO, Y4;           \
	VMAXPS    Y3, Y4, Y4;          \
	VMOVUPS   SIGHI, Y0;           \
	VMINPS    Y4, Y0, Y4;          \
	EXPRED(Y4, Y0, Y1, Y2, out);   \
	VPADDD    BIASM1, Y1, Y1;      \
	VPSLLD    $23, Y1, Y1;         \
	VMULPS    Y1, Y2, Y2;          \
	VADDPS    Y2, Y2, out;         \
	VADDPS    ONE, out, out;       \
	VMOVUPS   ONE, Y0;             \
	VDIVPS    out, Y0, out

// TANH sets out = tanh(x) as tanh does; x is kept, out ≠ x, Y0–Y3 and Y6
// are clobbered:
//   - a = min(|x|, tanhSat) (Y6; VMINPS returns its last operand, |x|, on
//     NaN, so a NaN lane stays NaN through what follows and takes x's sign
//     at the end, as tanh's x + x);
//   - EXPM1 on a + a gives n ∈ [0, 26] and m; pow = 2^n from n's bits;
//   - e = float32(m·pow) + (pow − 1) (the product is exact), out = e/(e+2),
//     with x's sign bit put in.
#define TANH(x, out) \
	VANDPS     ABS, x, Y6;        \
	VMOVUPS    TANHSAT, Y0;       \
	VMINPS     Y6, Y0, Y6;        \
	VADDPS     Y6, Y6, Y6;        \
	EXPM1(Y6, Y0, Y1, Y2, Y3);    \
	VCVTTPS2DQ Y1, Y1;            \
	VPADDD     BIAS, Y1, Y1;      \
	VPSLLD     $23, Y1, Y1;       \
	VMULPS     Y1, Y2, Y2;        \
	VSUBPS     ONE, Y1, Y1;       \
	VADDPS     Y1, Y2, Y2;        \
	VADDPS     TWO, Y2, Y3;       \
	VDIVPS     Y3, Y2, out;       \
	VANDPS     SIGN, x, Y0;       \
	VORPS      Y0, out, out

// func sigmoidAsm8(n int, dst, src *float32)
TEXT ·sigmoidAsm8(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ dst+8(FP), DI
	MOVQ src+16(FP), SI

sigLoop:
	VMOVUPS (SI), Y8
	SIGMOID(Y8, Y9)
	VMOVUPS Y9, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     sigLoop
	VZEROUPPER
	RET

// func tanhAsm8(n int, dst, src *float32)
TEXT ·tanhAsm8(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ dst+8(FP), DI
	MOVQ src+16(FP), SI

tanhLoop:
	VMOVUPS (SI), Y8
	TANH(Y8, Y9)
	VMOVUPS Y9, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNZ     tanhLoop
	VZEROUPPER
	RET

// func lstmCellForwardAsm8(m, h int, gr, bias, peep, cp, cell, tanhC, y *float32)
//
// Two passes over the row: i, f, c and C first, then o, tanh(C) and y. Each
// unit's operations are the same as in one pass, but the 8-lane chunks of a
// pass are independent of each other, so the out-of-order core overlaps the
// long dependency chains of their activations.
//
// SI gr, BX bias, DX peep at the current unit of block i; R12, R13, R14 the
// byte offsets of blocks o, f, c; R8 cp, R9 cell, R10 tanhC, R11 y; AX the
// row's byte length 4m, to rewind between the passes.
// Pass 1: Y15 C_{t−1}, Y14 i, Y13 f, Y12 c. Pass 2: Y11 C, Y14 o, Y13 tanh(C).
TEXT ·lstmCellForwardAsm8(SB), NOSPLIT, $0-72
	MOVQ m+0(FP), CX
	MOVQ h+8(FP), R12
	MOVQ gr+16(FP), SI
	MOVQ bias+24(FP), BX
	MOVQ peep+32(FP), DX
	MOVQ cp+40(FP), R8
	MOVQ cell+48(FP), R9
	MOVQ tanhC+56(FP), R10
	MOVQ y+64(FP), R11
	SHLQ $2, R12
	LEAQ (R12)(R12*1), R13
	LEAQ (R13)(R12*1), R14
	LEAQ (CX*4), AX

lstmFwdLoop1:
	VMOVUPS (R8), Y15

	// i = sigmoid(gi + bi + float32(pi·cp))
	VMOVUPS (SI), Y9
	VADDPS  (BX), Y9, Y9
	VMULPS  (DX), Y15, Y10
	VADDPS  Y10, Y9, Y9
	SIGMOID(Y9, Y14)
	VMOVUPS Y14, (SI)

	// f = sigmoid(gf + bf + float32(pf·cp))
	VMOVUPS (SI)(R13*1), Y9
	VADDPS  (BX)(R13*1), Y9, Y9
	VMULPS  (DX)(R13*1), Y15, Y10
	VADDPS  Y10, Y9, Y9
	SIGMOID(Y9, Y13)
	VMOVUPS Y13, (SI)(R13*1)

	// c = tanh(gc + bc)
	VMOVUPS (SI)(R14*1), Y9
	VADDPS  (BX)(R14*1), Y9, Y9
	TANH(Y9, Y12)
	VMOVUPS Y12, (SI)(R14*1)

	// C = float32(f·cp) + float32(i·c)
	VMULPS  Y15, Y13, Y13
	VMULPS  Y12, Y14, Y14
	VADDPS  Y14, Y13, Y11
	VMOVUPS Y11, (R9)

	ADDQ $32, SI
	ADDQ $32, BX
	ADDQ $32, DX
	ADDQ $32, R8
	ADDQ $32, R9
	SUBQ $8, CX
	JNZ  lstmFwdLoop1

	MOVQ m+0(FP), CX
	SUBQ AX, SI
	SUBQ AX, BX
	SUBQ AX, DX
	SUBQ AX, R9

lstmFwdLoop2:
	// o = sigmoid(go + bo + float32(po·C))
	VMOVUPS (R9), Y11
	VMOVUPS (SI)(R12*1), Y9
	VADDPS  (BX)(R12*1), Y9, Y9
	VMULPS  (DX)(R12*1), Y11, Y10
	VADDPS  Y10, Y9, Y9
	SIGMOID(Y9, Y14)
	VMOVUPS Y14, (SI)(R12*1)

	// tanh(C), y = o·tanh(C)
	TANH(Y11, Y13)
	VMOVUPS Y13, (R10)
	VMULPS  Y13, Y14, Y13
	VMOVUPS Y13, (R11)

	ADDQ $32, SI
	ADDQ $32, BX
	ADDQ $32, DX
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $32, R11
	SUBQ $8, CX
	JNZ  lstmFwdLoop2
	VZEROUPPER
	RET

// func lstmCellBackwardAsm8(m, h int, gates, tanhC, cp, dy, dh, dc, dG, peep *float32)
//
// SI gates, BX dG, DX peep at the current unit of block i; R12, R13, R14
// the byte offsets of blocks o, f, c; DI tanhC, R8 cp, R9 dy (0 = none),
// R10 dh, R11 dc. Y15 ones, Y0 dH, Y6 dC.
TEXT ·lstmCellBackwardAsm8(SB), NOSPLIT, $0-80
	MOVQ m+0(FP), CX
	MOVQ h+8(FP), R12
	MOVQ gates+16(FP), SI
	MOVQ tanhC+24(FP), DI
	MOVQ cp+32(FP), R8
	MOVQ dy+40(FP), R9
	MOVQ dh+48(FP), R10
	MOVQ dc+56(FP), R11
	MOVQ dG+64(FP), BX
	MOVQ peep+72(FP), DX
	SHLQ $2, R12
	LEAQ (R12)(R12*1), R13
	LEAQ (R13)(R12*1), R14
	VMOVUPS ONE, Y15

lstmBwdLoop:
	// dH = dh (+ dy)
	VMOVUPS (R10), Y0
	TESTQ   R9, R9
	JZ      lstmBwdNoDy
	VADDPS  (R9), Y0, Y0
	ADDQ    $32, R9

lstmBwdNoDy:
	// dO = dH·tanh(C)·o·(1 − o)
	VMOVUPS (SI)(R12*1), Y1
	VMOVUPS (DI), Y2
	VSUBPS  Y1, Y15, Y3
	VMULPS  Y2, Y0, Y4
	VMULPS  Y1, Y4, Y4
	VMULPS  Y3, Y4, Y4
	VMOVUPS Y4, (BX)(R12*1)

	// dC = dc + float32(dH·o·(1 − float32(tanh(C)²))) + float32(dO·po)
	VMULPS  Y2, Y2, Y5
	VSUBPS  Y5, Y15, Y5
	VMULPS  Y1, Y0, Y6
	VMULPS  Y5, Y6, Y6
	VADDPS  (R11), Y6, Y6
	VMULPS  (DX)(R12*1), Y4, Y7
	VADDPS  Y7, Y6, Y6

	// dI = dC·c·i·(1 − i)
	VMOVUPS (SI), Y1
	VMOVUPS (SI)(R14*1), Y2
	VMULPS  Y2, Y6, Y3
	VMULPS  Y1, Y3, Y3
	VSUBPS  Y1, Y15, Y4
	VMULPS  Y4, Y3, Y3
	VMOVUPS Y3, (BX)

	// dc̃ = dC·i·(1 − float32(c²))
	VMULPS  Y1, Y6, Y4
	VMULPS  Y2, Y2, Y5
	VSUBPS  Y5, Y15, Y5
	VMULPS  Y5, Y4, Y4
	VMOVUPS Y4, (BX)(R14*1)

	// dF = dC·cp·f·(1 − f)
	VMOVUPS (SI)(R13*1), Y1
	VMULPS  (R8), Y6, Y4
	VMULPS  Y1, Y4, Y4
	VSUBPS  Y1, Y15, Y5
	VMULPS  Y5, Y4, Y4
	VMOVUPS Y4, (BX)(R13*1)

	// dc = float32(dC·f) + float32(dI·pi) + float32(dF·pf)
	VMULPS  Y1, Y6, Y6
	VMULPS  (DX), Y3, Y3
	VADDPS  Y3, Y6, Y6
	VMULPS  (DX)(R13*1), Y4, Y4
	VADDPS  Y4, Y6, Y6
	VMOVUPS Y6, (R11)

	ADDQ $32, SI
	ADDQ $32, BX
	ADDQ $32, DX
	ADDQ $32, DI
	ADDQ $32, R8
	ADDQ $32, R10
	ADDQ $32, R11
	SUBQ $8, CX
	JNZ  lstmBwdLoop
	VZEROUPPER
	RET

// func gruCellForwardAsm8(m, h int, gr, rec, bias, hp, hr, y *float32)
//
// Two passes over the row, as in lstmCellForwardAsm8: z, r and hr first,
// then ĥ and y.
//
// SI gr, DI rec, BX bias (Wb), DX bias+3h (Rb) at the current unit of block
// z; R12, R13 the byte offsets of blocks r, h; R8 hp, R9 hr, R10 y; AX the
// row's byte length 4m. Y15 ones; pass 1: Y14 z, Y13 r; pass 2: Y13 r, Y12 ĥ.
TEXT ·gruCellForwardAsm8(SB), NOSPLIT, $0-64
	MOVQ m+0(FP), CX
	MOVQ h+8(FP), R12
	MOVQ gr+16(FP), SI
	MOVQ rec+24(FP), DI
	MOVQ bias+32(FP), BX
	MOVQ hp+40(FP), R8
	MOVQ hr+48(FP), R9
	MOVQ y+56(FP), R10
	SHLQ $2, R12
	LEAQ (R12)(R12*1), R13
	LEAQ (R13)(R12*1), DX
	ADDQ BX, DX
	LEAQ (CX*4), AX
	VMOVUPS ONE, Y15

gruFwdLoop1:
	// z = sigmoid(gz + Wbz + rz + Rbz)
	VMOVUPS (SI), Y9
	VADDPS  (BX), Y9, Y9
	VADDPS  (DI), Y9, Y9
	VADDPS  (DX), Y9, Y9
	SIGMOID(Y9, Y14)
	VMOVUPS Y14, (SI)

	// r = sigmoid(gr + Wbr + rr + Rbr)
	VMOVUPS (SI)(R12*1), Y9
	VADDPS  (BX)(R12*1), Y9, Y9
	VADDPS  (DI)(R12*1), Y9, Y9
	VADDPS  (DX)(R12*1), Y9, Y9
	SIGMOID(Y9, Y13)
	VMOVUPS Y13, (SI)(R12*1)

	// hr = rh + Rbh
	VMOVUPS (DI)(R13*1), Y10
	VADDPS  (DX)(R13*1), Y10, Y10
	VMOVUPS Y10, (R9)

	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, BX
	ADDQ $32, DX
	ADDQ $32, R9
	SUBQ $8, CX
	JNZ  gruFwdLoop1

	MOVQ m+0(FP), CX
	SUBQ AX, SI
	SUBQ AX, BX
	SUBQ AX, R9

gruFwdLoop2:
	// ĥ = tanh(gh + Wbh + float32(r·hr))
	VMOVUPS (SI)(R12*1), Y13
	VMULPS  (R9), Y13, Y10
	VMOVUPS (SI)(R13*1), Y9
	VADDPS  (BX)(R13*1), Y9, Y9
	VADDPS  Y10, Y9, Y9
	TANH(Y9, Y12)
	VMOVUPS Y12, (SI)(R13*1)

	// y = float32((1 − z)·ĥ) + float32(z·hp)
	VMOVUPS (SI), Y14
	VSUBPS  Y14, Y15, Y10
	VMULPS  Y12, Y10, Y10
	VMULPS  (R8), Y14, Y11
	VADDPS  Y11, Y10, Y10
	VMOVUPS Y10, (R10)

	ADDQ $32, SI
	ADDQ $32, BX
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $32, R10
	SUBQ $8, CX
	JNZ  gruFwdLoop2
	VZEROUPPER
	RET

// func gruCellBackwardAsm8(m, h int, gates, hp, hr, dy, dh, dG, dxh *float32)
//
// SI gates, BX dG at the current unit of block z; R12, R13 the byte offsets
// of blocks r, h; R8 hp, R9 hr, DI dy (0 = none), R10 dh, R11 dxh.
// Y15 ones, Y0 dH, Y1 z, Y4 the gradient at ĥ's pre-activation.
TEXT ·gruCellBackwardAsm8(SB), NOSPLIT, $0-72
	MOVQ m+0(FP), CX
	MOVQ h+8(FP), R12
	MOVQ gates+16(FP), SI
	MOVQ hp+24(FP), R8
	MOVQ hr+32(FP), R9
	MOVQ dy+40(FP), DI
	MOVQ dh+48(FP), R10
	MOVQ dG+56(FP), BX
	MOVQ dxh+64(FP), R11
	SHLQ $2, R12
	LEAQ (R12)(R12*1), R13
	VMOVUPS ONE, Y15

gruBwdLoop:
	// dH = dh (+ dy)
	VMOVUPS (R10), Y0
	TESTQ   DI, DI
	JZ      gruBwdNoDy
	VADDPS  (DI), Y0, Y0
	ADDQ    $32, DI

gruBwdNoDy:
	// dxh = dH·(1 − z)·(1 − float32(ĥ²))
	VMOVUPS (SI), Y1
	VMOVUPS (SI)(R13*1), Y2
	VSUBPS  Y1, Y15, Y3
	VMULPS  Y3, Y0, Y4
	VMULPS  Y2, Y2, Y5
	VSUBPS  Y5, Y15, Y5
	VMULPS  Y5, Y4, Y4
	VMOVUPS Y4, (R11)

	// dz = dH·(hp − ĥ)·z·(1 − z)
	VMOVUPS (R8), Y5
	VSUBPS  Y2, Y5, Y5
	VMULPS  Y5, Y0, Y5
	VMULPS  Y1, Y5, Y5
	VMULPS  Y3, Y5, Y5
	VMOVUPS Y5, (BX)

	// dr = dxh·hr·r·(1 − r); dn = dxh·r
	VMOVUPS (SI)(R12*1), Y6
	VMULPS  (R9), Y4, Y7
	VMULPS  Y6, Y7, Y7
	VSUBPS  Y6, Y15, Y8
	VMULPS  Y8, Y7, Y7
	VMOVUPS Y7, (BX)(R12*1)
	VMULPS  Y6, Y4, Y7
	VMOVUPS Y7, (BX)(R13*1)

	// dh = dH·z
	VMULPS  Y1, Y0, Y0
	VMOVUPS Y0, (R10)

	ADDQ $32, SI
	ADDQ $32, BX
	ADDQ $32, R8
	ADDQ $32, R9
	ADDQ $32, R10
	ADDQ $32, R11
	SUBQ $8, CX
	JNZ  gruBwdLoop
	VZEROUPPER
	RET

// func colSumsAsm(rows, cols, ld int, m *float32, sum *float64)
//
// Blocks of 16 columns (then one of 8): Y0–Y3 hold the block's float64 sums,
// to which each row adds its 16 floats, converted exactly. Each column is
// summed over the rows in order, as in the scalar loop.
// SI m at the block's first column, DI sum there, AX the current row, BX
// rows left, DX columns left, R8 the row stride in bytes.
TEXT ·colSumsAsm(SB), NOSPLIT, $0-40
	MOVQ rows+0(FP), CX
	MOVQ cols+8(FP), DX
	MOVQ ld+16(FP), R8
	MOVQ m+24(FP), SI
	MOVQ sum+32(FP), DI
	SHLQ $2, R8

colBlock16:
	CMPQ   DX, $16
	JLT    colBlock8
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	MOVQ   SI, AX
	MOVQ   CX, BX

colRow16:
	VCVTPS2PD (AX), Y4
	VCVTPS2PD 16(AX), Y5
	VCVTPS2PD 32(AX), Y6
	VCVTPS2PD 48(AX), Y7
	VADDPD    Y4, Y0, Y0
	VADDPD    Y5, Y1, Y1
	VADDPD    Y6, Y2, Y2
	VADDPD    Y7, Y3, Y3
	ADDQ      R8, AX
	DECQ      BX
	JNZ       colRow16
	VMOVUPD   Y0, (DI)
	VMOVUPD   Y1, 32(DI)
	VMOVUPD   Y2, 64(DI)
	VMOVUPD   Y3, 96(DI)
	ADDQ      $64, SI
	ADDQ      $128, DI
	SUBQ      $16, DX
	JMP       colBlock16

colBlock8:
	CMPQ   DX, $8
	JLT    colDone
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	MOVQ   SI, AX
	MOVQ   CX, BX

colRow8:
	VCVTPS2PD (AX), Y4
	VCVTPS2PD 16(AX), Y5
	VADDPD    Y4, Y0, Y0
	VADDPD    Y5, Y1, Y1
	ADDQ      R8, AX
	DECQ      BX
	JNZ       colRow8
	VMOVUPD   Y0, (DI)
	VMOVUPD   Y1, 32(DI)

colDone:
	VZEROUPPER
	RET
