//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 forms of the activation and cell kernels of activation_amd64.s
// (contracts in activation_amd64.go), 16 lanes at a time. Each instruction is its AVX2
// counterpart on ZMM registers, in the same order, so every lane computes the
// same float32 operations and the results are the AVX2 kernels' bits. Three
// substitutions, none of which changes a result: constants are broadcast from
// the first lane of vecConst's 8-lane entries (.BCST or VBROADCASTSS),
// VROUNDPS $0 becomes VRNDSCALEPS $0 (both round to the nearest integer, ties
// to even), and the scaling by 2^n one VSCALEFPS (EXPREDZ, TANHZ). The logic
// operations are the doubleword forms (VPXORD, VPANDD, VPORD), which need
// only AVX512F.

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
#define TWO     ·vecConst+0x1c0(SB)
#define TANHSAT ·vecConst+0x1e0(SB)
#define ABS     ·vecConst+0x200(SB)
#define SIGLO   ·vecConst+0x220(SB)

// EXPM1Z is EXPM1 of activation_amd64.s on 16 lanes.
#define EXPM1Z(x, r, n, y, t) \
	VMULPS.BCST  LOG2E, x, n; \
	VRNDSCALEPS  $0, n, n;    \
	VMULPS.BCST  LN2HI, n, t; \
	VSUBPS       t, x, r;     \
	VMULPS.BCST  LN2LO, n, t; \
	VSUBPS       t, r, r;     \
	VMULPS       r, r, t;     \
	VMULPS.BCST  EXPP0, r, y; \
	VADDPS.BCST  EXPP1, y, y; \
	VMULPS.BCST  EXPP2, r, x; \
	VADDPS.BCST  EXPP3, x, x; \
	VMULPS       t, y, y;     \
	VADDPS       x, y, y;     \
	VMULPS.BCST  EXPP4, r, x; \
	VADDPS.BCST  EXPP5, x, x; \
	VMULPS       t, y, y;     \
	VADDPS       x, y, y;     \
	VMULPS       t, y, y;     \
	VADDPS       r, y, y

// EXPREDZ is EXPRED of activation_amd64.s on 16 lanes, except that n is left
// as the float fn: the callers scale by 2^n with VSCALEFPS, which rounds
// y·2^n once, as EXPRED's integer exponent arithmetic and multiplications do
// (the products it replaces are exact or round that same value).
#define EXPREDZ(x, r, n, y, t) \
	EXPM1Z(x, r, n, y, t);   \
	VADDPS.BCST ONE, y, y

// SIGMOIDZ is SIGMOID on 16 lanes; Z0–Z4 are clobbered.
#define SIGMOIDZ(x, out) \
	VPXORD.BCST  SIGN, x, Z3;        \
	VBROADCASTSS SIGLO, Z4;          \
	VMAXPS       Z3, Z4, Z4;         \
	VBROADCASTSS SIGHI, Z0;          \
	VMINPS       Z4, Z0, Z4;         \
	EXPREDZ(Z4, Z0, Z1, Z2, out);    \
	VSCALEFPS    Z1, Z2, out;        \
	VADDPS.BCST  ONE, out, out;      \
	VBROADCASTSS ONE, Z0;            \
	VDIVPS       out, Z0, out

// TANHZ is TANH on 16 lanes; x is kept, out ≠ x, Z0–Z3 and Z6 are
// clobbered. VSCALEFPS makes m·2^n and 2^n, both exact here.
#define TANHZ(x, out) \
	VPANDD.BCST  ABS, x, Z6;    \
	VBROADCASTSS TANHSAT, Z0;   \
	VMINPS       Z6, Z0, Z6;    \
	VADDPS       Z6, Z6, Z6;    \
	EXPM1Z(Z6, Z0, Z1, Z2, Z3); \
	VSCALEFPS    Z1, Z2, Z2;    \
	VBROADCASTSS ONE, Z0;       \
	VSCALEFPS    Z1, Z0, Z3;    \
	VSUBPS.BCST  ONE, Z3, Z3;   \
	VADDPS       Z3, Z2, Z2;    \
	VADDPS.BCST  TWO, Z2, Z3;   \
	VDIVPS       Z3, Z2, out;   \
	VPANDD.BCST  SIGN, x, Z0;   \
	VPORD        Z0, out, out

// func sigmoidAsm16(n int, dst, src *float32)
TEXT ·sigmoidAsm16(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ dst+8(FP), DI
	MOVQ src+16(FP), SI

sigLoopZ:
	VMOVUPS (SI), Z8
	SIGMOIDZ(Z8, Z9)
	VMOVUPS Z9, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JNZ     sigLoopZ
	VZEROUPPER
	RET

// func tanhAsm16(n int, dst, src *float32)
TEXT ·tanhAsm16(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ dst+8(FP), DI
	MOVQ src+16(FP), SI

tanhLoopZ:
	VMOVUPS (SI), Z8
	TANHZ(Z8, Z9)
	VMOVUPS Z9, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JNZ     tanhLoopZ
	VZEROUPPER
	RET

// func lstmCellForwardAsm16(m, h int, gr, bias, peep, cp, cell, tanhC, y *float32)
//
// lstmCellForwardAsm8 on 16 lanes: the same passes and registers.
TEXT ·lstmCellForwardAsm16(SB), NOSPLIT, $0-72
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

lstmFwdLoop1Z:
	VMOVUPS (R8), Z15

	// i = sigmoid(gi + bi + float32(pi·cp))
	VMOVUPS (SI), Z9
	VADDPS  (BX), Z9, Z9
	VMULPS  (DX), Z15, Z10
	VADDPS  Z10, Z9, Z9
	SIGMOIDZ(Z9, Z14)
	VMOVUPS Z14, (SI)

	// f = sigmoid(gf + bf + float32(pf·cp))
	VMOVUPS (SI)(R13*1), Z9
	VADDPS  (BX)(R13*1), Z9, Z9
	VMULPS  (DX)(R13*1), Z15, Z10
	VADDPS  Z10, Z9, Z9
	SIGMOIDZ(Z9, Z13)
	VMOVUPS Z13, (SI)(R13*1)

	// c = tanh(gc + bc)
	VMOVUPS (SI)(R14*1), Z9
	VADDPS  (BX)(R14*1), Z9, Z9
	TANHZ(Z9, Z12)
	VMOVUPS Z12, (SI)(R14*1)

	// C = float32(f·cp) + float32(i·c)
	VMULPS  Z15, Z13, Z13
	VMULPS  Z12, Z14, Z14
	VADDPS  Z14, Z13, Z11
	VMOVUPS Z11, (R9)

	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DX
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $16, CX
	JNZ  lstmFwdLoop1Z

	MOVQ m+0(FP), CX
	SUBQ AX, SI
	SUBQ AX, BX
	SUBQ AX, DX
	SUBQ AX, R9

lstmFwdLoop2Z:
	// o = sigmoid(go + bo + float32(po·C))
	VMOVUPS (R9), Z11
	VMOVUPS (SI)(R12*1), Z9
	VADDPS  (BX)(R12*1), Z9, Z9
	VMULPS  (DX)(R12*1), Z11, Z10
	VADDPS  Z10, Z9, Z9
	SIGMOIDZ(Z9, Z14)
	VMOVUPS Z14, (SI)(R12*1)

	// tanh(C), y = o·tanh(C)
	TANHZ(Z11, Z13)
	VMOVUPS Z13, (R10)
	VMULPS  Z13, Z14, Z13
	VMOVUPS Z13, (R11)

	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DX
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	SUBQ $16, CX
	JNZ  lstmFwdLoop2Z
	VZEROUPPER
	RET

// func gruCellForwardAsm16(m, h int, gr, rec, bias, hp, hr, y *float32)
//
// gruCellForwardAsm8 on 16 lanes: the same passes and registers.
TEXT ·gruCellForwardAsm16(SB), NOSPLIT, $0-64
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
	VBROADCASTSS ONE, Z15

gruFwdLoop1Z:
	// z = sigmoid(gz + Wbz + rz + Rbz)
	VMOVUPS (SI), Z9
	VADDPS  (BX), Z9, Z9
	VADDPS  (DI), Z9, Z9
	VADDPS  (DX), Z9, Z9
	SIGMOIDZ(Z9, Z14)
	VMOVUPS Z14, (SI)

	// r = sigmoid(gr + Wbr + rr + Rbr)
	VMOVUPS (SI)(R12*1), Z9
	VADDPS  (BX)(R12*1), Z9, Z9
	VADDPS  (DI)(R12*1), Z9, Z9
	VADDPS  (DX)(R12*1), Z9, Z9
	SIGMOIDZ(Z9, Z13)
	VMOVUPS Z13, (SI)(R12*1)

	// hr = rh + Rbh
	VMOVUPS (DI)(R13*1), Z10
	VADDPS  (DX)(R13*1), Z10, Z10
	VMOVUPS Z10, (R9)

	ADDQ $64, SI
	ADDQ $64, DI
	ADDQ $64, BX
	ADDQ $64, DX
	ADDQ $64, R9
	SUBQ $16, CX
	JNZ  gruFwdLoop1Z

	MOVQ m+0(FP), CX
	SUBQ AX, SI
	SUBQ AX, BX
	SUBQ AX, R9

gruFwdLoop2Z:
	// ĥ = tanh(gh + Wbh + float32(r·hr))
	VMOVUPS (SI)(R12*1), Z13
	VMULPS  (R9), Z13, Z10
	VMOVUPS (SI)(R13*1), Z9
	VADDPS  (BX)(R13*1), Z9, Z9
	VADDPS  Z10, Z9, Z9
	TANHZ(Z9, Z12)
	VMOVUPS Z12, (SI)(R13*1)

	// y = float32((1 − z)·ĥ) + float32(z·hp)
	VMOVUPS (SI), Z14
	VSUBPS  Z14, Z15, Z10
	VMULPS  Z12, Z10, Z10
	VMULPS  (R8), Z14, Z11
	VADDPS  Z11, Z10, Z10
	VMOVUPS Z10, (R10)

	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	SUBQ $16, CX
	JNZ  gruFwdLoop2Z
	VZEROUPPER
	RET


// func lstmCellBackwardAsm16(m, h int, gates, tanhC, cp, dy, dh, dc, dG, peep *float32)
//
// lstmCellBackwardAsm8 on 16 lanes: the same registers.
TEXT ·lstmCellBackwardAsm16(SB), NOSPLIT, $0-80
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
	VBROADCASTSS ONE, Z15

lstmBwdLoopZ:
	// dH = dh (+ dy)
	VMOVUPS (R10), Z0
	TESTQ   R9, R9
	JZ      lstmBwdNoDyZ
	VADDPS  (R9), Z0, Z0
	ADDQ    $64, R9

lstmBwdNoDyZ:
	// dO = dH·tanh(C)·o·(1 − o)
	VMOVUPS (SI)(R12*1), Z1
	VMOVUPS (DI), Z2
	VSUBPS  Z1, Z15, Z3
	VMULPS  Z2, Z0, Z4
	VMULPS  Z1, Z4, Z4
	VMULPS  Z3, Z4, Z4
	VMOVUPS Z4, (BX)(R12*1)

	// dC = dc + float32(dH·o·(1 − float32(tanh(C)²))) + float32(dO·po)
	VMULPS  Z2, Z2, Z5
	VSUBPS  Z5, Z15, Z5
	VMULPS  Z1, Z0, Z6
	VMULPS  Z5, Z6, Z6
	VADDPS  (R11), Z6, Z6
	VMULPS  (DX)(R12*1), Z4, Z7
	VADDPS  Z7, Z6, Z6

	// dI = dC·c·i·(1 − i)
	VMOVUPS (SI), Z1
	VMOVUPS (SI)(R14*1), Z2
	VMULPS  Z2, Z6, Z3
	VMULPS  Z1, Z3, Z3
	VSUBPS  Z1, Z15, Z4
	VMULPS  Z4, Z3, Z3
	VMOVUPS Z3, (BX)

	// dc̃ = dC·i·(1 − float32(c²))
	VMULPS  Z1, Z6, Z4
	VMULPS  Z2, Z2, Z5
	VSUBPS  Z5, Z15, Z5
	VMULPS  Z5, Z4, Z4
	VMOVUPS Z4, (BX)(R14*1)

	// dF = dC·cp·f·(1 − f)
	VMOVUPS (SI)(R13*1), Z1
	VMULPS  (R8), Z6, Z4
	VMULPS  Z1, Z4, Z4
	VSUBPS  Z1, Z15, Z5
	VMULPS  Z5, Z4, Z4
	VMOVUPS Z4, (BX)(R13*1)

	// dc = float32(dC·f) + float32(dI·pi) + float32(dF·pf)
	VMULPS  Z1, Z6, Z6
	VMULPS  (DX), Z3, Z3
	VADDPS  Z3, Z6, Z6
	VMULPS  (DX)(R13*1), Z4, Z4
	VADDPS  Z4, Z6, Z6
	VMOVUPS Z6, (R11)

	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DX
	ADDQ $64, DI
	ADDQ $64, R8
	ADDQ $64, R10
	ADDQ $64, R11
	SUBQ $16, CX
	JNZ  lstmBwdLoopZ
	VZEROUPPER
	RET

// func gruCellBackwardAsm16(m, h int, gates, hp, hr, dy, dh, dG, dxh *float32)
//
// gruCellBackwardAsm8 on 16 lanes: the same registers.
TEXT ·gruCellBackwardAsm16(SB), NOSPLIT, $0-72
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
	VBROADCASTSS ONE, Z15

gruBwdLoopZ:
	// dH = dh (+ dy)
	VMOVUPS (R10), Z0
	TESTQ   DI, DI
	JZ      gruBwdNoDyZ
	VADDPS  (DI), Z0, Z0
	ADDQ    $64, DI

gruBwdNoDyZ:
	// dxh = dH·(1 − z)·(1 − float32(ĥ²))
	VMOVUPS (SI), Z1
	VMOVUPS (SI)(R13*1), Z2
	VSUBPS  Z1, Z15, Z3
	VMULPS  Z3, Z0, Z4
	VMULPS  Z2, Z2, Z5
	VSUBPS  Z5, Z15, Z5
	VMULPS  Z5, Z4, Z4
	VMOVUPS Z4, (R11)

	// dz = dH·(hp − ĥ)·z·(1 − z)
	VMOVUPS (R8), Z5
	VSUBPS  Z2, Z5, Z5
	VMULPS  Z5, Z0, Z5
	VMULPS  Z1, Z5, Z5
	VMULPS  Z3, Z5, Z5
	VMOVUPS Z5, (BX)

	// dr = dxh·hr·r·(1 − r); dn = dxh·r
	VMOVUPS (SI)(R12*1), Z6
	VMULPS  (R9), Z4, Z7
	VMULPS  Z6, Z7, Z7
	VSUBPS  Z6, Z15, Z8
	VMULPS  Z8, Z7, Z7
	VMOVUPS Z7, (BX)(R12*1)
	VMULPS  Z6, Z4, Z7
	VMOVUPS Z7, (BX)(R13*1)

	// dh = dH·z
	VMULPS  Z1, Z0, Z0
	VMOVUPS Z0, (R10)

	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, R8
	ADDQ $64, R9
	ADDQ $64, R10
	ADDQ $64, R11
	SUBQ $16, CX
	JNZ  gruBwdLoopZ
	VZEROUPPER
	RET


// EXPM1Z2 and TANHZ2 are EXPM1Z and TANHZ on two vectors at once, their
// instructions interleaved so that the two chains of dependent operations
// overlap. Lane for lane they are the same operations, so the same bits.
// The second vector's scratch registers are the first's plus 16. A change
// to the single forms must be made here too, and in the four-chain forms
// below: TestVec512CellsMatchAVX2 compares widths that take them (32, 48,
// 136 units) with the AVX2 kernels.
#define EXPM1Z2(xa, ra, na, ya, ta, xb, rb, nb, yb, tb) \
	VMULPS.BCST  LOG2E, xa, na; \
	VMULPS.BCST  LOG2E, xb, nb; \
	VRNDSCALEPS  $0, na, na;    \
	VRNDSCALEPS  $0, nb, nb;    \
	VMULPS.BCST  LN2HI, na, ta; \
	VMULPS.BCST  LN2HI, nb, tb; \
	VSUBPS       ta, xa, ra;    \
	VSUBPS       tb, xb, rb;    \
	VMULPS.BCST  LN2LO, na, ta; \
	VMULPS.BCST  LN2LO, nb, tb; \
	VSUBPS       ta, ra, ra;    \
	VSUBPS       tb, rb, rb;    \
	VMULPS       ra, ra, ta;    \
	VMULPS       rb, rb, tb;    \
	VMULPS.BCST  EXPP0, ra, ya; \
	VMULPS.BCST  EXPP0, rb, yb; \
	VADDPS.BCST  EXPP1, ya, ya; \
	VADDPS.BCST  EXPP1, yb, yb; \
	VMULPS.BCST  EXPP2, ra, xa; \
	VMULPS.BCST  EXPP2, rb, xb; \
	VADDPS.BCST  EXPP3, xa, xa; \
	VADDPS.BCST  EXPP3, xb, xb; \
	VMULPS       ta, ya, ya;    \
	VMULPS       tb, yb, yb;    \
	VADDPS       xa, ya, ya;    \
	VADDPS       xb, yb, yb;    \
	VMULPS.BCST  EXPP4, ra, xa; \
	VMULPS.BCST  EXPP4, rb, xb; \
	VADDPS.BCST  EXPP5, xa, xa; \
	VADDPS.BCST  EXPP5, xb, xb; \
	VMULPS       ta, ya, ya;    \
	VMULPS       tb, yb, yb;    \
	VADDPS       xa, ya, ya;    \
	VADDPS       xb, yb, yb;    \
	VMULPS       ta, ya, ya;    \
	VMULPS       tb, yb, yb;    \
	VADDPS       ra, ya, ya;    \
	VADDPS       rb, yb, yb

#define TANHZ2(xa, outa, xb, outb) \
	VPANDD.BCST  ABS, xa, Z6;                             \
	VPANDD.BCST  ABS, xb, Z22;                            \
	VBROADCASTSS TANHSAT, Z0;                             \
	VBROADCASTSS TANHSAT, Z16;                            \
	VMINPS       Z6, Z0, Z6;                              \
	VMINPS       Z22, Z16, Z22;                           \
	VADDPS       Z6, Z6, Z6;                              \
	VADDPS       Z22, Z22, Z22;                           \
	EXPM1Z2(Z6, Z0, Z1, Z2, Z3, Z22, Z16, Z17, Z18, Z19); \
	VSCALEFPS    Z1, Z2, Z2;                              \
	VSCALEFPS    Z17, Z18, Z18;                           \
	VBROADCASTSS ONE, Z0;                                 \
	VBROADCASTSS ONE, Z16;                                \
	VSCALEFPS    Z1, Z0, Z3;                              \
	VSCALEFPS    Z17, Z16, Z19;                           \
	VSUBPS.BCST  ONE, Z3, Z3;                             \
	VSUBPS.BCST  ONE, Z19, Z19;                           \
	VADDPS       Z3, Z2, Z2;                              \
	VADDPS       Z19, Z18, Z18;                           \
	VADDPS.BCST  TWO, Z2, Z3;                             \
	VADDPS.BCST  TWO, Z18, Z19;                           \
	VDIVPS       Z3, Z2, outa;                            \
	VDIVPS       Z19, Z18, outb;                          \
	VPANDD.BCST  SIGN, xa, Z0;                            \
	VPANDD.BCST  SIGN, xb, Z16;                           \
	VPORD        Z0, outa, outa;                          \
	VPORD        Z16, outb, outb

// SIGMOIDZ4IF is SIGMOIDZ on four vectors at once, in place: the input and
// forget gates of lstmCellForwardAsm32's two vectors, in Z14, Z30 (i) and
// Z13, Z29 (f). Four chains of dependent operations, interleaved one
// operation apiece, keep the FP pipes fuller than one at a time (with
// SIGMOIDZ and TANHZ one after another instead of the four-chain forms,
// R1's cell ran 2.58–2.91 ns a unit against 2.39–2.52). Each chain is
// SIGMOIDZ's operations in SIGMOIDZ's order on its own registers, so the
// same bits. Z0–Z12 and Z16–Z22 are clobbered.
#define SIGMOIDZ4IF \
	VPXORD.BCST  SIGN, Z14, Z0;   \
	VPXORD.BCST  SIGN, Z30, Z5;   \
	VPXORD.BCST  SIGN, Z13, Z10;  \
	VPXORD.BCST  SIGN, Z29, Z18;  \
	VBROADCASTSS SIGLO, Z1;       \
	VBROADCASTSS SIGLO, Z6;       \
	VBROADCASTSS SIGLO, Z11;      \
	VBROADCASTSS SIGLO, Z19;      \
	VMAXPS       Z0, Z1, Z1;      \
	VMAXPS       Z5, Z6, Z6;      \
	VMAXPS       Z10, Z11, Z11;   \
	VMAXPS       Z18, Z19, Z19;   \
	VBROADCASTSS SIGHI, Z14;      \
	VBROADCASTSS SIGHI, Z30;      \
	VBROADCASTSS SIGHI, Z13;      \
	VBROADCASTSS SIGHI, Z29;      \
	VMINPS       Z1, Z14, Z1;     \
	VMINPS       Z6, Z30, Z6;     \
	VMINPS       Z11, Z13, Z11;   \
	VMINPS       Z19, Z29, Z19;   \
	VMULPS.BCST  LOG2E, Z1, Z3;   \
	VMULPS.BCST  LOG2E, Z6, Z8;   \
	VMULPS.BCST  LOG2E, Z11, Z16; \
	VMULPS.BCST  LOG2E, Z19, Z21; \
	VRNDSCALEPS  $0, Z3, Z3;      \
	VRNDSCALEPS  $0, Z8, Z8;      \
	VRNDSCALEPS  $0, Z16, Z16;    \
	VRNDSCALEPS  $0, Z21, Z21;    \
	VMULPS.BCST  LN2HI, Z3, Z14;  \
	VMULPS.BCST  LN2HI, Z8, Z30;  \
	VMULPS.BCST  LN2HI, Z16, Z13; \
	VMULPS.BCST  LN2HI, Z21, Z29; \
	VSUBPS       Z14, Z1, Z2;     \
	VSUBPS       Z30, Z6, Z7;     \
	VSUBPS       Z13, Z11, Z12;   \
	VSUBPS       Z29, Z19, Z20;   \
	VMULPS.BCST  LN2LO, Z3, Z14;  \
	VMULPS.BCST  LN2LO, Z8, Z30;  \
	VMULPS.BCST  LN2LO, Z16, Z13; \
	VMULPS.BCST  LN2LO, Z21, Z29; \
	VSUBPS       Z14, Z2, Z2;     \
	VSUBPS       Z30, Z7, Z7;     \
	VSUBPS       Z13, Z12, Z12;   \
	VSUBPS       Z29, Z20, Z20;   \
	VMULPS       Z2, Z2, Z14;     \
	VMULPS       Z7, Z7, Z30;     \
	VMULPS       Z12, Z12, Z13;   \
	VMULPS       Z20, Z20, Z29;   \
	VMULPS.BCST  EXPP0, Z2, Z4;   \
	VMULPS.BCST  EXPP0, Z7, Z9;   \
	VMULPS.BCST  EXPP0, Z12, Z17; \
	VMULPS.BCST  EXPP0, Z20, Z22; \
	VADDPS.BCST  EXPP1, Z4, Z4;   \
	VADDPS.BCST  EXPP1, Z9, Z9;   \
	VADDPS.BCST  EXPP1, Z17, Z17; \
	VADDPS.BCST  EXPP1, Z22, Z22; \
	VMULPS.BCST  EXPP2, Z2, Z1;   \
	VMULPS.BCST  EXPP2, Z7, Z6;   \
	VMULPS.BCST  EXPP2, Z12, Z11; \
	VMULPS.BCST  EXPP2, Z20, Z19; \
	VADDPS.BCST  EXPP3, Z1, Z1;   \
	VADDPS.BCST  EXPP3, Z6, Z6;   \
	VADDPS.BCST  EXPP3, Z11, Z11; \
	VADDPS.BCST  EXPP3, Z19, Z19; \
	VMULPS       Z14, Z4, Z4;     \
	VMULPS       Z30, Z9, Z9;     \
	VMULPS       Z13, Z17, Z17;   \
	VMULPS       Z29, Z22, Z22;   \
	VADDPS       Z1, Z4, Z4;      \
	VADDPS       Z6, Z9, Z9;      \
	VADDPS       Z11, Z17, Z17;   \
	VADDPS       Z19, Z22, Z22;   \
	VMULPS.BCST  EXPP4, Z2, Z1;   \
	VMULPS.BCST  EXPP4, Z7, Z6;   \
	VMULPS.BCST  EXPP4, Z12, Z11; \
	VMULPS.BCST  EXPP4, Z20, Z19; \
	VADDPS.BCST  EXPP5, Z1, Z1;   \
	VADDPS.BCST  EXPP5, Z6, Z6;   \
	VADDPS.BCST  EXPP5, Z11, Z11; \
	VADDPS.BCST  EXPP5, Z19, Z19; \
	VMULPS       Z14, Z4, Z4;     \
	VMULPS       Z30, Z9, Z9;     \
	VMULPS       Z13, Z17, Z17;   \
	VMULPS       Z29, Z22, Z22;   \
	VADDPS       Z1, Z4, Z4;      \
	VADDPS       Z6, Z9, Z9;      \
	VADDPS       Z11, Z17, Z17;   \
	VADDPS       Z19, Z22, Z22;   \
	VMULPS       Z14, Z4, Z4;     \
	VMULPS       Z30, Z9, Z9;     \
	VMULPS       Z13, Z17, Z17;   \
	VMULPS       Z29, Z22, Z22;   \
	VADDPS       Z2, Z4, Z4;      \
	VADDPS       Z7, Z9, Z9;      \
	VADDPS       Z12, Z17, Z17;   \
	VADDPS       Z20, Z22, Z22;   \
	VADDPS.BCST  ONE, Z4, Z4;     \
	VADDPS.BCST  ONE, Z9, Z9;     \
	VADDPS.BCST  ONE, Z17, Z17;   \
	VADDPS.BCST  ONE, Z22, Z22;   \
	VSCALEFPS    Z3, Z4, Z14;     \
	VSCALEFPS    Z8, Z9, Z30;     \
	VSCALEFPS    Z16, Z17, Z13;   \
	VSCALEFPS    Z21, Z22, Z29;   \
	VADDPS.BCST  ONE, Z14, Z14;   \
	VADDPS.BCST  ONE, Z30, Z30;   \
	VADDPS.BCST  ONE, Z13, Z13;   \
	VADDPS.BCST  ONE, Z29, Z29;   \
	VBROADCASTSS ONE, Z0;         \
	VBROADCASTSS ONE, Z5;         \
	VBROADCASTSS ONE, Z10;        \
	VBROADCASTSS ONE, Z18;        \
	VDIVPS       Z14, Z0, Z14;    \
	VDIVPS       Z30, Z5, Z30;    \
	VDIVPS       Z13, Z10, Z13;   \
	VDIVPS       Z29, Z18, Z29

// SIGTANHZ4OC is SIGMOIDZ in place on the output gates in Z14, Z30 and
// TANHZ from the cell states in Z11, Z27 into Z13, Z29, four chains
// interleaved as in SIGMOIDZ4IF (TANHZ's two first). Z0–Z10, Z12,
// Z15–Z22, K5 and K6 are clobbered.
#define SIGTANHZ4OC \
	VPANDD.BCST  ABS, Z11, Z10;   \
	VPANDD.BCST  ABS, Z27, Z18;   \
	VPXORD.BCST  SIGN, Z14, Z0;   \
	VPXORD.BCST  SIGN, Z30, Z5;   \
	VBROADCASTSS TANHSAT, Z12;    \
	VBROADCASTSS TANHSAT, Z19;    \
	VBROADCASTSS SIGLO, Z1;       \
	VBROADCASTSS SIGLO, Z6;       \
	VMINPS       Z10, Z12, Z10;   \
	VMINPS       Z18, Z19, Z18;   \
	VMAXPS       Z0, Z1, Z1;      \
	VMAXPS       Z5, Z6, Z6;      \
	VADDPS       Z10, Z10, Z10;   \
	VADDPS       Z18, Z18, Z18;   \
	VBROADCASTSS SIGHI, Z14;      \
	VBROADCASTSS SIGHI, Z30;      \
	VMULPS.BCST  LOG2E, Z10, Z15; \
	VMULPS.BCST  LOG2E, Z18, Z20; \
	VMINPS       Z1, Z14, Z1;     \
	VMINPS       Z6, Z30, Z6;     \
	VRNDSCALEPS  $0, Z15, Z15;    \
	VRNDSCALEPS  $0, Z20, Z20;    \
	VMULPS.BCST  LOG2E, Z1, Z3;   \
	VMULPS.BCST  LOG2E, Z6, Z8;   \
	VMULPS.BCST  LN2HI, Z15, Z17; \
	VMULPS.BCST  LN2HI, Z20, Z22; \
	VRNDSCALEPS  $0, Z3, Z3;      \
	VRNDSCALEPS  $0, Z8, Z8;      \
	VSUBPS       Z17, Z10, Z12;   \
	VSUBPS       Z22, Z18, Z19;   \
	VMULPS.BCST  LN2HI, Z3, Z14;  \
	VMULPS.BCST  LN2HI, Z8, Z30;  \
	VMULPS.BCST  LN2LO, Z15, Z17; \
	VMULPS.BCST  LN2LO, Z20, Z22; \
	VSUBPS       Z14, Z1, Z2;     \
	VSUBPS       Z30, Z6, Z7;     \
	VSUBPS       Z17, Z12, Z12;   \
	VSUBPS       Z22, Z19, Z19;   \
	VMULPS.BCST  LN2LO, Z3, Z14;  \
	VMULPS.BCST  LN2LO, Z8, Z30;  \
	VMULPS       Z12, Z12, Z17;   \
	VMULPS       Z19, Z19, Z22;   \
	VSUBPS       Z14, Z2, Z2;     \
	VSUBPS       Z30, Z7, Z7;     \
	VMULPS.BCST  EXPP0, Z12, Z16; \
	VMULPS.BCST  EXPP0, Z19, Z21; \
	VMULPS       Z2, Z2, Z14;     \
	VMULPS       Z7, Z7, Z30;     \
	VADDPS.BCST  EXPP1, Z16, Z16; \
	VADDPS.BCST  EXPP1, Z21, Z21; \
	VMULPS.BCST  EXPP0, Z2, Z4;   \
	VMULPS.BCST  EXPP0, Z7, Z9;   \
	VMULPS.BCST  EXPP2, Z12, Z10; \
	VMULPS.BCST  EXPP2, Z19, Z18; \
	VADDPS.BCST  EXPP1, Z4, Z4;   \
	VADDPS.BCST  EXPP1, Z9, Z9;   \
	VADDPS.BCST  EXPP3, Z10, Z10; \
	VADDPS.BCST  EXPP3, Z18, Z18; \
	VMULPS.BCST  EXPP2, Z2, Z1;   \
	VMULPS.BCST  EXPP2, Z7, Z6;   \
	VMULPS       Z17, Z16, Z16;   \
	VMULPS       Z22, Z21, Z21;   \
	VADDPS.BCST  EXPP3, Z1, Z1;   \
	VADDPS.BCST  EXPP3, Z6, Z6;   \
	VADDPS       Z10, Z16, Z16;   \
	VADDPS       Z18, Z21, Z21;   \
	VMULPS       Z14, Z4, Z4;     \
	VMULPS       Z30, Z9, Z9;     \
	VMULPS.BCST  EXPP4, Z12, Z10; \
	VMULPS.BCST  EXPP4, Z19, Z18; \
	VADDPS       Z1, Z4, Z4;      \
	VADDPS       Z6, Z9, Z9;      \
	VADDPS.BCST  EXPP5, Z10, Z10; \
	VADDPS.BCST  EXPP5, Z18, Z18; \
	VMULPS.BCST  EXPP4, Z2, Z1;   \
	VMULPS.BCST  EXPP4, Z7, Z6;   \
	VMULPS       Z17, Z16, Z16;   \
	VMULPS       Z22, Z21, Z21;   \
	VADDPS.BCST  EXPP5, Z1, Z1;   \
	VADDPS.BCST  EXPP5, Z6, Z6;   \
	VADDPS       Z10, Z16, Z16;   \
	VADDPS       Z18, Z21, Z21;   \
	VMULPS       Z14, Z4, Z4;     \
	VMULPS       Z30, Z9, Z9;     \
	VMULPS       Z17, Z16, Z16;   \
	VMULPS       Z22, Z21, Z21;   \
	VADDPS       Z1, Z4, Z4;      \
	VADDPS       Z6, Z9, Z9;      \
	VADDPS       Z12, Z16, Z16;   \
	VADDPS       Z19, Z21, Z21;   \
	VMULPS       Z14, Z4, Z4;     \
	VMULPS       Z30, Z9, Z9;     \
	VSCALEFPS    Z15, Z16, Z16;   \
	VSCALEFPS    Z20, Z21, Z21;   \
	VADDPS       Z2, Z4, Z4;      \
	VADDPS       Z7, Z9, Z9;      \
	VBROADCASTSS ONE, Z12;        \
	VBROADCASTSS ONE, Z19;        \
	VADDPS.BCST  ONE, Z4, Z4;     \
	VADDPS.BCST  ONE, Z9, Z9;     \
	VSCALEFPS    Z15, Z12, Z17;   \
	VSCALEFPS    Z20, Z19, Z22;   \
	VSCALEFPS    Z3, Z4, Z14;     \
	VSCALEFPS    Z8, Z9, Z30;     \
	VSUBPS.BCST  ONE, Z17, Z17;   \
	VSUBPS.BCST  ONE, Z22, Z22;   \
	VADDPS.BCST  ONE, Z14, Z14;   \
	VADDPS.BCST  ONE, Z30, Z30;   \
	VADDPS       Z17, Z16, Z16;   \
	VADDPS       Z22, Z21, Z21;   \
	VBROADCASTSS ONE, Z0;         \
	VBROADCASTSS ONE, Z5;         \
	VADDPS.BCST  TWO, Z16, Z17;   \
	VADDPS.BCST  TWO, Z21, Z22;   \
	VDIVPS       Z14, Z0, Z14;    \
	VDIVPS       Z30, Z5, Z30;    \
	VDIVPS       Z17, Z16, Z13;   \
	VDIVPS       Z22, Z21, Z29;   \
	VPANDD.BCST  SIGN, Z11, Z12;  \
	VPANDD.BCST  SIGN, Z27, Z19;  \
	VPORD        Z12, Z13, Z13;   \
	VPORD        Z19, Z29, Z29

// func lstmCellForwardAsm32(m, h int, gr, bias, peep, cp, cell, tanhC, y *float32)
//
// lstmCellForwardAsm16 on two vectors at a time (m a positive multiple of
// 32): the second vector's registers are the first's plus 16. The gates'
// activations run four chains at once where registers allow (the first
// pass's i and f, the second's o and tanh(C)), two for c (BenchmarkCells
// times R1's step, 16 rows of 64 units).
TEXT ·lstmCellForwardAsm32(SB), NOSPLIT, $0-72
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

lstmFwdLoop1P:
	VMOVUPS (R8), Z15
	VMOVUPS 64(R8), Z31

	// i = sigmoid(gi + bi + float32(pi·cp)), f = sigmoid(gf + bf + float32(pf·cp))
	VMOVUPS (SI), Z14
	VMOVUPS 64(SI), Z30
	VADDPS  (BX), Z14, Z14
	VADDPS  64(BX), Z30, Z30
	VMULPS  (DX), Z15, Z10
	VMULPS  64(DX), Z31, Z26
	VADDPS  Z10, Z14, Z14
	VADDPS  Z26, Z30, Z30
	VMOVUPS (SI)(R13*1), Z13
	VMOVUPS 64(SI)(R13*1), Z29
	VADDPS  (BX)(R13*1), Z13, Z13
	VADDPS  64(BX)(R13*1), Z29, Z29
	VMULPS  (DX)(R13*1), Z15, Z10
	VMULPS  64(DX)(R13*1), Z31, Z26
	VADDPS  Z10, Z13, Z13
	VADDPS  Z26, Z29, Z29
	SIGMOIDZ4IF
	VMOVUPS Z14, (SI)
	VMOVUPS Z30, 64(SI)
	VMOVUPS Z13, (SI)(R13*1)
	VMOVUPS Z29, 64(SI)(R13*1)

	// c = tanh(gc + bc)
	VMOVUPS (SI)(R14*1), Z9
	VMOVUPS 64(SI)(R14*1), Z25
	VADDPS  (BX)(R14*1), Z9, Z9
	VADDPS  64(BX)(R14*1), Z25, Z25
	TANHZ2(Z9, Z12, Z25, Z28)
	VMOVUPS Z12, (SI)(R14*1)
	VMOVUPS Z28, 64(SI)(R14*1)

	// C = float32(f·cp) + float32(i·c)
	VMULPS  Z15, Z13, Z13
	VMULPS  Z31, Z29, Z29
	VMULPS  Z12, Z14, Z14
	VMULPS  Z28, Z30, Z30
	VADDPS  Z14, Z13, Z11
	VADDPS  Z30, Z29, Z27
	VMOVUPS Z11, (R9)
	VMOVUPS Z27, 64(R9)

	ADDQ $128, SI
	ADDQ $128, BX
	ADDQ $128, DX
	ADDQ $128, R8
	ADDQ $128, R9
	SUBQ $32, CX
	JNZ  lstmFwdLoop1P

	MOVQ m+0(FP), CX
	SUBQ AX, SI
	SUBQ AX, BX
	SUBQ AX, DX
	SUBQ AX, R9

lstmFwdLoop2P:
	// o = sigmoid(go + bo + float32(po·C)), tanh(C), y = o·tanh(C)
	VMOVUPS (R9), Z11
	VMOVUPS 64(R9), Z27
	VMOVUPS (SI)(R12*1), Z14
	VMOVUPS 64(SI)(R12*1), Z30
	VADDPS  (BX)(R12*1), Z14, Z14
	VADDPS  64(BX)(R12*1), Z30, Z30
	VMULPS  (DX)(R12*1), Z11, Z10
	VMULPS  64(DX)(R12*1), Z27, Z26
	VADDPS  Z10, Z14, Z14
	VADDPS  Z26, Z30, Z30
	SIGTANHZ4OC
	VMOVUPS Z14, (SI)(R12*1)
	VMOVUPS Z30, 64(SI)(R12*1)
	VMOVUPS Z13, (R10)
	VMOVUPS Z29, 64(R10)
	VMULPS  Z13, Z14, Z13
	VMULPS  Z29, Z30, Z29
	VMOVUPS Z13, (R11)
	VMOVUPS Z29, 64(R11)

	ADDQ $128, SI
	ADDQ $128, BX
	ADDQ $128, DX
	ADDQ $128, R9
	ADDQ $128, R10
	ADDQ $128, R11
	SUBQ $32, CX
	JNZ  lstmFwdLoop2P
	VZEROUPPER
	RET
