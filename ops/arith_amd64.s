//go:build amd64 && !purego

#include "textflag.h"

// Elementwise float32 arithmetic (contracts in arith_amd64.go): one IEEE
// operation a lane, 8 lanes (AVX2), the loop unrolled twice when it can.
// In Go's operand order VSUBPS b, a, d sets d = a − b.

// func addAsm8(n int, o, a, b *float32)
TEXT ·addAsm8(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX
	MOVQ o+8(FP), DI
	MOVQ a+16(FP), SI
	MOVQ b+24(FP), DX
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-16, BX

pairs:
	CMPQ    AX, BX
	JGE     single
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VADDPS  (DX)(AX*4), Y0, Y0
	VADDPS  32(DX)(AX*4), Y1, Y1
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	ADDQ    $16, AX
	JMP     pairs

single:
	CMPQ    AX, CX
	JGE     done
	VMOVUPS (SI)(AX*4), Y0
	VADDPS  (DX)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     single

done:
	VZEROUPPER
	RET

// func subAsm8(n int, o, a, b *float32)
TEXT ·subAsm8(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX
	MOVQ o+8(FP), DI
	MOVQ a+16(FP), SI
	MOVQ b+24(FP), DX
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-16, BX

pairs:
	CMPQ    AX, BX
	JGE     single
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VSUBPS  (DX)(AX*4), Y0, Y0
	VSUBPS  32(DX)(AX*4), Y1, Y1
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	ADDQ    $16, AX
	JMP     pairs

single:
	CMPQ    AX, CX
	JGE     done
	VMOVUPS (SI)(AX*4), Y0
	VSUBPS  (DX)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     single

done:
	VZEROUPPER
	RET

// func mulAsm8(n int, o, a, b *float32)
TEXT ·mulAsm8(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX
	MOVQ o+8(FP), DI
	MOVQ a+16(FP), SI
	MOVQ b+24(FP), DX
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-16, BX

pairs:
	CMPQ    AX, BX
	JGE     single
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VMULPS  (DX)(AX*4), Y0, Y0
	VMULPS  32(DX)(AX*4), Y1, Y1
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	ADDQ    $16, AX
	JMP     pairs

single:
	CMPQ    AX, CX
	JGE     done
	VMOVUPS (SI)(AX*4), Y0
	VMULPS  (DX)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     single

done:
	VZEROUPPER
	RET

// func divAsm8(n int, o, a, b *float32)
TEXT ·divAsm8(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX
	MOVQ o+8(FP), DI
	MOVQ a+16(FP), SI
	MOVQ b+24(FP), DX
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-16, BX

pairs:
	CMPQ    AX, BX
	JGE     single
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VDIVPS  (DX)(AX*4), Y0, Y0
	VDIVPS  32(DX)(AX*4), Y1, Y1
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	ADDQ    $16, AX
	JMP     pairs

single:
	CMPQ    AX, CX
	JGE     done
	VMOVUPS (SI)(AX*4), Y0
	VDIVPS  (DX)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     single

done:
	VZEROUPPER
	RET

// func addScalarAsm8(n int, o, a *float32, s float32)
TEXT ·addScalarAsm8(SB), NOSPLIT, $0-28
	MOVQ n+0(FP), CX
	MOVQ o+8(FP), DI
	MOVQ a+16(FP), SI
	VBROADCASTSS s+24(FP), Y2
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-16, BX

pairs:
	CMPQ    AX, BX
	JGE     single
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VADDPS  Y2, Y0, Y0
	VADDPS  Y2, Y1, Y1
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	ADDQ    $16, AX
	JMP     pairs

single:
	CMPQ    AX, CX
	JGE     done
	VMOVUPS (SI)(AX*4), Y0
	VADDPS  Y2, Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     single

done:
	VZEROUPPER
	RET

// func subScalarAsm8(n int, o, a *float32, s float32)
TEXT ·subScalarAsm8(SB), NOSPLIT, $0-28
	MOVQ n+0(FP), CX
	MOVQ o+8(FP), DI
	MOVQ a+16(FP), SI
	VBROADCASTSS s+24(FP), Y2
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-16, BX

pairs:
	CMPQ    AX, BX
	JGE     single
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VSUBPS  Y2, Y0, Y0
	VSUBPS  Y2, Y1, Y1
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	ADDQ    $16, AX
	JMP     pairs

single:
	CMPQ    AX, CX
	JGE     done
	VMOVUPS (SI)(AX*4), Y0
	VSUBPS  Y2, Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     single

done:
	VZEROUPPER
	RET

// func mulScalarAsm8(n int, o, a *float32, s float32)
TEXT ·mulScalarAsm8(SB), NOSPLIT, $0-28
	MOVQ n+0(FP), CX
	MOVQ o+8(FP), DI
	MOVQ a+16(FP), SI
	VBROADCASTSS s+24(FP), Y2
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-16, BX

pairs:
	CMPQ    AX, BX
	JGE     single
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VMULPS  Y2, Y0, Y0
	VMULPS  Y2, Y1, Y1
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	ADDQ    $16, AX
	JMP     pairs

single:
	CMPQ    AX, CX
	JGE     done
	VMOVUPS (SI)(AX*4), Y0
	VMULPS  Y2, Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     single

done:
	VZEROUPPER
	RET

// func divScalarAsm8(n int, o, a *float32, s float32)
TEXT ·divScalarAsm8(SB), NOSPLIT, $0-28
	MOVQ n+0(FP), CX
	MOVQ o+8(FP), DI
	MOVQ a+16(FP), SI
	VBROADCASTSS s+24(FP), Y2
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-16, BX

pairs:
	CMPQ    AX, BX
	JGE     single
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VDIVPS  Y2, Y0, Y0
	VDIVPS  Y2, Y1, Y1
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	ADDQ    $16, AX
	JMP     pairs

single:
	CMPQ    AX, CX
	JGE     done
	VMOVUPS (SI)(AX*4), Y0
	VDIVPS  Y2, Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     single

done:
	VZEROUPPER
	RET

// func scalarSubAsm8(n int, o *float32, s float32, b *float32)
TEXT ·scalarSubAsm8(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX
	MOVQ o+8(FP), DI
	VBROADCASTSS s+16(FP), Y2
	MOVQ b+24(FP), SI
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-16, BX

pairs:
	CMPQ    AX, BX
	JGE     single
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VSUBPS  Y0, Y2, Y0
	VSUBPS  Y1, Y2, Y1
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	ADDQ    $16, AX
	JMP     pairs

single:
	CMPQ    AX, CX
	JGE     done
	VMOVUPS (SI)(AX*4), Y0
	VSUBPS  Y0, Y2, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     single

done:
	VZEROUPPER
	RET

// func scalarDivAsm8(n int, o *float32, s float32, b *float32)
TEXT ·scalarDivAsm8(SB), NOSPLIT, $0-32
	MOVQ n+0(FP), CX
	MOVQ o+8(FP), DI
	VBROADCASTSS s+16(FP), Y2
	MOVQ b+24(FP), SI
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-16, BX

pairs:
	CMPQ    AX, BX
	JGE     single
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VDIVPS  Y0, Y2, Y0
	VDIVPS  Y1, Y2, Y1
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	ADDQ    $16, AX
	JMP     pairs

single:
	CMPQ    AX, CX
	JGE     done
	VMOVUPS (SI)(AX*4), Y0
	VDIVPS  Y0, Y2, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     single

done:
	VZEROUPPER
	RET
