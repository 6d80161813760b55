//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 forms of the activation and cell kernels of activation_amd64.s
// (contracts in activation_amd64.go), 16 lanes at a time. Each instruction is its AVX2
// counterpart on ZMM registers, in the same order, so every lane computes the
// same float32 operations and the results are the AVX2 kernels' bits. Three
// substitutions, none of which changes a result: constants are broadcast from
// the first lane of vecConst's 8-lane entries (.BCST), blends become merges
// under a mask register (K1 holds tanh's negative lanes, K2 the others), and
// VROUNDPS $1 becomes VRNDSCALEPS $1 (both round to −∞ to an integer). The
// logic operations are the doubleword forms (VPXORD, VPANDD, VPORD), which
// need only AVX512F.

#define ONE     ·vecConst+0x000(SB)
#define HALF    ·vecConst+0x020(SB)
#define LOG2E   ·vecConst+0x040(SB)
#define LN2HI   ·vecConst+0x060(SB)
#define LN2LO   ·vecConst+0x080(SB)
#define EXPP0   ·vecConst+0x0a0(SB)
#define EXPP1   ·vecConst+0x0c0(SB)
#define EXPP2   ·vecConst+0x0e0(SB)
#define EXPP3   ·vecConst+0x100(SB)
#define EXPP4   ·vecConst+0x120(SB)
#define EXPP5   ·vecConst+0x140(SB)
#define EXPHI   ·vecConst+0x160(SB)
#define INF     ·vecConst+0x180(SB)
#define SIGN    ·vecConst+0x1a0(SB)
#define BIAS    ·vecConst+0x1c0(SB)
#define BIASM1  ·vecConst+0x1e0(SB)
#define TWO     ·vecConst+0x200(SB)
#define TANHLIM ·vecConst+0x220(SB)
#define TANHSAT ·vecConst+0x240(SB)
#define TANHP0  ·vecConst+0x260(SB)
#define TANHP1  ·vecConst+0x280(SB)
#define TANHP2  ·vecConst+0x2a0(SB)
#define TANHP3  ·vecConst+0x2c0(SB)
#define TANHP4  ·vecConst+0x2e0(SB)
#define SIGLO   ·vecConst+0x300(SB)
#define TANHCAP ·vecConst+0x320(SB)

#define LT    $0x11
#define GT    $0x1e
#define UNORD $0x03

// EXPREDZ is EXPRED of activation_amd64.s on 16 lanes.
#define EXPREDZ(x, r, n, y, t) \
	VMULPS.BCST LOG2E, x, n;  \
	VADDPS.BCST HALF, n, n;   \
	VRNDSCALEPS $1, n, n;     \
	VMULPS.BCST LN2HI, n, t;  \
	VSUBPS      t, x, r;      \
	VMULPS.BCST LN2LO, n, t;  \
	VSUBPS      t, r, r;      \
	VMULPS.BCST EXPP0, r, y;  \
	VADDPS.BCST EXPP1, y, y;  \
	VMULPS      r, y, y;      \
	VADDPS.BCST EXPP2, y, y;  \
	VMULPS      r, y, y;      \
	VADDPS.BCST EXPP3, y, y;  \
	VMULPS      r, y, y;      \
	VADDPS.BCST EXPP4, y, y;  \
	VMULPS      r, y, y;      \
	VADDPS.BCST EXPP5, y, y;  \
	VMULPS      r, r, t;      \
	VMULPS      t, y, y;      \
	VADDPS      r, y, y;      \
	VADDPS.BCST ONE, y, y;    \
	VCVTTPS2DQ  n, n

// SIGMOIDZ is SIGMOID on 16 lanes; Z0–Z4 and K2 are clobbered.
#define SIGMOIDZ(x, out) \
	VPXORD.BCST  SIGN, x, Z3;        \
	VMAXPS.BCST  SIGLO, Z3, Z4;      \
	VMINPS.BCST  EXPHI, Z4, Z4;      \
	EXPREDZ(Z4, Z0, Z1, Z2, out);    \
	VPADDD.BCST  BIASM1, Z1, Z1;     \
	VPSLLD       $23, Z1, Z1;        \
	VMULPS       Z1, Z2, Z2;         \
	VADDPS       Z2, Z2, out;        \
	VCMPPS.BCST  GT, EXPHI, Z3, K2;  \
	VBROADCASTSS INF, K2, out;       \
	VCMPPS       UNORD, Z3, Z3, K2;  \
	VMOVAPS      Z3, K2, out;        \
	VADDPS.BCST  ONE, out, out;      \
	VBROADCASTSS ONE, Z0;            \
	VDIVPS       out, Z0, out

// TANHZ is TANH on 16 lanes; x is kept, out ≠ x, Z0–Z7, K1 and K2 are
// clobbered. K1 takes the place of TANH's Y5 (the lanes with x < 0).
#define TANHZ(x, out) \
	VMULPS       x, x, Z3;              \
	VMULPS.BCST  TANHP0, Z3, Z4;        \
	VADDPS.BCST  TANHP1, Z4, Z4;        \
	VMULPS       Z3, Z4, Z4;            \
	VADDPS.BCST  TANHP2, Z4, Z4;        \
	VMULPS       Z3, Z4, Z4;            \
	VADDPS.BCST  TANHP3, Z4, Z4;        \
	VMULPS       Z3, Z4, Z4;            \
	VADDPS.BCST  TANHP4, Z4, Z4;        \
	VMULPS       Z3, Z4, Z4;            \
	VMULPS       x, Z4, Z4;             \
	VADDPS       x, Z4, Z4;             \
	VPXORD       Z3, Z3, Z3;            \
	VCMPPS       LT, Z3, x, K1;         \
	VMOVAPS      x, Z3;                 \
	VPXORD.BCST  SIGN, x, K1, Z3;       \
	VADDPS       Z3, Z3, Z6;            \
	VBROADCASTSS TANHCAP, Z0;           \
	VMINPS       Z6, Z0, Z6;            \
	EXPREDZ(Z6, Z0, Z1, Z2, Z7);        \
	VPADDD.BCST  BIAS, Z1, Z1;          \
	VPSLLD       $23, Z1, Z1;           \
	VMULPS       Z1, Z2, out;           \
	VCMPPS       UNORD, Z6, Z6, K2;     \
	VMOVAPS      Z6, K2, out;           \
	VADDPS.BCST  ONE, out, out;         \
	VBROADCASTSS TWO, Z0;               \
	VDIVPS       out, Z0, out;          \
	VBROADCASTSS ONE, Z0;               \
	VSUBPS       out, Z0, out;          \
	VPXORD.BCST  SIGN, out, K1, out;    \
	VPANDD.BCST  SIGN, x, Z0;           \
	VPORD.BCST   ONE, Z0, Z0;           \
	VCMPPS.BCST  GT, TANHSAT, Z3, K2;   \
	VMOVAPS      Z0, K2, out;           \
	VCMPPS.BCST  LT, TANHLIM, Z3, K2;   \
	VMOVAPS      Z4, K2, out

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

