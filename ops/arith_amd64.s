//go:build amd64 && !purego

#include "textflag.h"

// Elementwise float32 arithmetic (contracts in arith_amd64.go): one IEEE
// operation a lane, 8 lanes (AVX2), two vectors an iteration while 16
// elements are left, then one. In Go's operand order VSUBPS b, a, d sets
// d = a − b.

// LOOP runs OP on CX elements from SI into DI (AX counts them): Y0 and Y1
// are two vectors read from SI, and each step is OP X, S, Y (Y = S OP X in
// Intel's order); DENSE, RIGHT and LEFT choose X and S.
#define LOOP(OP, X0, S0, X1, S1) \
	XORQ AX, AX \
	MOVQ CX, BX \
	ANDQ $-16, BX \
pairs: \
	CMPQ    AX, BX \
	JGE     single \
	VMOVUPS (SI)(AX*4), Y0 \
	VMOVUPS 32(SI)(AX*4), Y1 \
	OP      X0, S0, Y0 \
	OP      X1, S1, Y1 \
	VMOVUPS Y0, (DI)(AX*4) \
	VMOVUPS Y1, 32(DI)(AX*4) \
	ADDQ    $16, AX \
	JMP     pairs \
single: \
	CMPQ    AX, CX \
	JGE     done \
	VMOVUPS (SI)(AX*4), Y0 \
	OP      X0, S0, Y0 \
	VMOVUPS Y0, (DI)(AX*4) \
	ADDQ    $8, AX \
	JMP     single \
done: \
	VZEROUPPER \
	RET

// DENSE(OP): func(n int, o, a, b *float32), o = a OP b.
#define DENSE(OP) \
	MOVQ n+0(FP), CX \
	MOVQ o+8(FP), DI \
	MOVQ a+16(FP), SI \
	MOVQ b+24(FP), DX \
	LOOP(OP, (DX)(AX*4), Y0, 32(DX)(AX*4), Y1)

// RIGHT(OP): func(n int, o, a *float32, s float32), o = a OP s.
#define RIGHT(OP) \
	MOVQ         n+0(FP), CX \
	MOVQ         o+8(FP), DI \
	MOVQ         a+16(FP), SI \
	VBROADCASTSS s+24(FP), Y2 \
	LOOP(OP, Y2, Y0, Y2, Y1)

// LEFT(OP): func(n int, o *float32, s float32, b *float32), o = s OP b.
#define LEFT(OP) \
	MOVQ         n+0(FP), CX \
	MOVQ         o+8(FP), DI \
	VBROADCASTSS s+16(FP), Y2 \
	MOVQ         b+24(FP), SI \
	LOOP(OP, Y0, Y2, Y1, Y2)

TEXT ·addAsm8(SB), NOSPLIT, $0-32
	DENSE(VADDPS)

TEXT ·subAsm8(SB), NOSPLIT, $0-32
	DENSE(VSUBPS)

TEXT ·mulAsm8(SB), NOSPLIT, $0-32
	DENSE(VMULPS)

TEXT ·divAsm8(SB), NOSPLIT, $0-32
	DENSE(VDIVPS)

TEXT ·addScalarAsm8(SB), NOSPLIT, $0-28
	RIGHT(VADDPS)

TEXT ·subScalarAsm8(SB), NOSPLIT, $0-28
	RIGHT(VSUBPS)

TEXT ·mulScalarAsm8(SB), NOSPLIT, $0-28
	RIGHT(VMULPS)

TEXT ·divScalarAsm8(SB), NOSPLIT, $0-28
	RIGHT(VDIVPS)

TEXT ·scalarSubAsm8(SB), NOSPLIT, $0-32
	LEFT(VSUBPS)

TEXT ·scalarDivAsm8(SB), NOSPLIT, $0-32
	LEFT(VDIVPS)
