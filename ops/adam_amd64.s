//go:build amd64 && !purego

#include "textflag.h"

// adamAsm and addToAsm (contracts in optim_amd64.go), sixteen float32 lanes
// at a time. Each instruction is one operation of adamGo, in its order and
// with one rounding (no fused multiply-add), so the bits are the same.

// func adamAsm(n int, p, grad, m, v *float32, h *AdamHyper)
TEXT ·adamAsm(SB), NOSPLIT, $0-48
	MOVQ n+0(FP), CX
	MOVQ p+8(FP), SI
	MOVQ grad+16(FP), DI
	MOVQ m+24(FP), R8
	MOVQ v+32(FP), R9
	MOVQ h+40(FP), R10
	VBROADCASTSS 0(R10), Z20  // β1
	VBROADCASTSS 4(R10), Z21  // β2
	VBROADCASTSS 8(R10), Z22  // step size
	VBROADCASTSS 12(R10), Z23 // 1/√(1−β2ᵗ)
	VBROADCASTSS 16(R10), Z24 // eps
	VBROADCASTSS 20(R10), Z25 // wd
	VBROADCASTSS 24(R10), Z26 // decay
	MOVL         $0x3f800000, AX
	VPBROADCASTD AX, Z27       // 1
	VSUBPS       Z20, Z27, Z28 // 1−β1
	VSUBPS       Z21, Z27, Z29 // 1−β2
	MOVBLZX      28(R10), DX   // decoupled
	XORQ         AX, AX

loop:
	VMOVUPS (SI)(AX*4), Z0 // p
	VMOVUPS (DI)(AX*4), Z1 // g
	TESTL   DX, DX
	JNZ     decoupled
	VMULPS  Z0, Z25, Z2
	VADDPS  Z2, Z1, Z1     // g + wd·p
	JMP     moments

decoupled:
	VMULPS Z26, Z0, Z0 // p·decay

moments:
	VMULPS  (R8)(AX*4), Z20, Z2
	VMULPS  Z1, Z28, Z3
	VADDPS  Z3, Z2, Z2     // m
	VMOVUPS Z2, (R8)(AX*4)
	VMULPS  (R9)(AX*4), Z21, Z3
	VMULPS  Z1, Z29, Z4
	VMULPS  Z1, Z4, Z4
	VADDPS  Z4, Z3, Z3     // v
	VMOVUPS Z3, (R9)(AX*4)
	VSQRTPS Z3, Z3
	VMULPS  Z23, Z3, Z3
	VADDPS  Z24, Z3, Z3    // denominator
	VMULPS  Z2, Z22, Z2
	VDIVPS  Z3, Z2, Z2
	VSUBPS  Z2, Z0, Z0
	VMOVUPS Z0, (SI)(AX*4)
	ADDQ    $16, AX
	CMPQ    AX, CX
	JLT     loop
	VZEROUPPER
	RET

// func addToAsm(n int, dst, src *float32)
TEXT ·addToAsm(SB), NOSPLIT, $0-24
	MOVQ n+0(FP), CX
	MOVQ dst+8(FP), DI
	MOVQ src+16(FP), SI
	XORQ AX, AX

add:
	VMOVUPS (DI)(AX*4), Z0
	VADDPS  (SI)(AX*4), Z0, Z0
	VMOVUPS Z0, (DI)(AX*4)
	ADDQ    $16, AX
	CMPQ    AX, CX
	JLT     add
	VZEROUPPER
	RET
