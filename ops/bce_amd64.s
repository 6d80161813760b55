//go:build amd64 && !purego

#include "textflag.h"

// bceRowAsm (contract in bce_amd64.go): BCEWithLogits on eight logits at a
// time, in float64 lanes, each step the scalar code's operation with one
// rounding, so the results are its bits. The exponential repeats math.Exp's
// amd64 assembly on its fused multiply-add path (the one every AVX-512 CPU
// takes), including its rounding of n = x·log2(e) to the nearest integer;
// lanes with |z| ≤ 700 never reach its subnormal or overflow branches.

#define ABS    ·bceConst+0x00(SB)
#define SIGN   ·bceConst+0x08(SB)
#define SLOWZ  ·bceConst+0x10(SB)
#define LOG2E  ·bceConst+0x18(SB)
#define LN2U   ·bceConst+0x20(SB)
#define LN2L   ·bceConst+0x28(SB)
#define SIXTEENTH ·bceConst+0x30(SB)
#define T8     ·bceConst+0x38(SB)
#define T7     ·bceConst+0x40(SB)
#define T6     ·bceConst+0x48(SB)
#define T5     ·bceConst+0x50(SB)
#define T4     ·bceConst+0x58(SB)
#define T3     ·bceConst+0x60(SB)
#define HALF   ·bceConst+0x68(SB)
#define ONE    ·bceConst+0x70(SB)
#define TWO    ·bceConst+0x78(SB)
#define BIAS   ·bceConst+0x80(SB)
#define SQ2M1  ·bceConst+0x88(SB)
#define LN2    ·bceConst+0x90(SB)
#define Q0     ·bceConst+0x98(SB)
#define Q1     ·bceConst+0xa0(SB)
#define Q2     ·bceConst+0xa8(SB)
#define Q3     ·bceConst+0xb0(SB)
#define Q4     ·bceConst+0xb8(SB)
#define Q5     ·bceConst+0xc0(SB)
#define Q6     ·bceConst+0xc8(SB)
#define Q7     ·bceConst+0xd0(SB)
#define Q8     ·bceConst+0xd8(SB)
#define Q9     ·bceConst+0xe0(SB)

// Comparison predicates of VCMPPD.
#define NLE_UQ $0x06
#define GE_OQ  $0x1d
#define GT_OQ  $0x1e

// func bceRowAsm(n int, z, y, pw *float32, loss *float64, dz *float32) uint64
TEXT ·bceRowAsm(SB), NOSPLIT, $0-56
	MOVQ n+0(FP), DX
	MOVQ z+8(FP), SI
	MOVQ y+16(FP), DI
	MOVQ pw+24(FP), R8
	MOVQ loss+32(FP), R10
	MOVQ dz+40(FP), R11
	XORQ R12, R12 // lanes left to the caller
	XORQ R13, R13 // index of the block's first lane
	VPXORQ       Z14, Z14, Z14     // 0
	VBROADCASTSD ONE, Z18          // 1

loop:
	CMPQ DX, $0
	JLE  done
	MOVQ $0xff, AX
	CMPQ DX, $8
	JGE  full
	MOVQ DX, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX

full:
	KMOVW AX, K1
	VCVTPS2PD.Z (SI), K1, Z0 // z
	VCVTPS2PD.Z (DI), K1, Z1 // y
	VCVTPS2PD.Z (R8), K1, Z2 // pw

	// Lanes the kernel does not take: !(|z| ≤ 700).
	VPANDQ.BCST  ABS, Z0, Z3
	VCMPPD.BCST  NLE_UQ, SLOWZ, Z3, K1, K2
	KMOVW        K2, AX
	MOVQ         R13, CX
	SHLQ         CX, AX
	ORQ          AX, R12

	// e = math.Exp(x), x = −|z|.
	VPORQ.BCST        SIGN, Z3, Z4
	VMULPD.BCST       LOG2E, Z4, Z5
	VCVTPD2DQ         Z5, Y6
	VCVTDQ2PD         Y6, Z5
	VFNMADD231PD.BCST LN2U, Z5, Z4
	VFNMADD231PD.BCST LN2L, Z5, Z4
	VMULPD.BCST       SIXTEENTH, Z4, Z4
	VBROADCASTSD      T8, Z7
	VFMADD213PD.BCST  T7, Z4, Z7
	VFMADD213PD.BCST  T6, Z4, Z7
	VFMADD213PD.BCST  T5, Z4, Z7
	VFMADD213PD.BCST  T4, Z4, Z7
	VFMADD213PD.BCST  T3, Z4, Z7
	VFMADD213PD.BCST  HALF, Z4, Z7
	VFMADD213PD.BCST  ONE, Z4, Z7
	VMULPD            Z7, Z4, Z4
	VADDPD.BCST       TWO, Z4, Z7
	VMULPD            Z7, Z4, Z4
	VADDPD.BCST       TWO, Z4, Z7
	VMULPD            Z7, Z4, Z4
	VADDPD.BCST       TWO, Z4, Z7
	VMULPD            Z7, Z4, Z4
	VADDPD.BCST       TWO, Z4, Z7
	VFMADD213PD.BCST  ONE, Z7, Z4
	VPMOVSXDQ         Y6, Z5
	VPADDQ.BCST       BIAS, Z5, Z5
	VPSLLQ            $52, Z5, Z5
	VMULPD            Z5, Z4, Z4 // e

	// s = log1pUnit(e).
	VMOVAPD          Z4, Z8
	VCMPPD.BCST      GT_OQ, SQ2M1, Z4, K3
	VADDPD           Z18, Z8, K3, Z8
	VMULPD.BCST      HALF, Z8, K3, Z8
	VSUBPD           Z18, Z8, K3, Z8 // f
	VADDPD.BCST      TWO, Z8, Z9
	VDIVPD           Z9, Z8, Z9      // s
	VMULPD           Z9, Z9, Z10     // z = s²
	VBROADCASTSD     Q0, Z11
	VFMADD213PD.BCST Q1, Z10, Z11
	VFMADD213PD.BCST Q2, Z10, Z11
	VFMADD213PD.BCST Q3, Z10, Z11
	VFMADD213PD.BCST Q4, Z10, Z11
	VFMADD213PD.BCST Q5, Z10, Z11
	VFMADD213PD.BCST Q6, Z10, Z11
	VFMADD213PD.BCST Q7, Z10, Z11
	VFMADD213PD.BCST Q8, Z10, Z11
	VFMADD213PD.BCST Q9, Z10, Z11
	VMULPD           Z10, Z9, Z12
	VMULPD           Z11, Z12, Z12
	VADDPD           Z9, Z9, Z13
	VADDPD           Z12, Z13, Z13
	VADDPD.BCST      LN2, Z13, K3, Z13 // s

	// loss = pw·y·(max(−z, 0) + s) + (1−y)·(max(z, 0) + s)
	VPXORQ.BCST SIGN, Z0, Z15
	VMAXPD      Z14, Z15, Z15
	VADDPD      Z13, Z15, Z15 // −log σ(z)
	VMAXPD      Z14, Z0, Z16
	VADDPD      Z13, Z16, Z16 // −log(1−σ(z))
	VMULPD      Z1, Z2, Z17   // pw·y
	VSUBPD      Z1, Z18, Z19  // 1−y
	VMULPD      Z15, Z17, Z15
	VMULPD      Z16, Z19, Z16
	VADDPD      Z16, Z15, Z15
	VMOVUPD     Z15, K1, (R10)

	// dz = pw·y·(σ−1) + (1−y)·σ, σ = 1/(1+e) for z ≥ 0 and e/(1+e) below.
	VADDPD      Z18, Z4, Z20
	VCMPPD      GE_OQ, Z14, Z0, K4
	VMOVAPD     Z18, K4, Z4
	VDIVPD      Z20, Z4, Z21 // σ
	VSUBPD      Z18, Z21, Z22
	VMULPD      Z22, Z17, Z22
	VMULPD      Z21, Z19, Z23
	VADDPD      Z23, Z22, Z22
	VCVTPD2PS   Z22, Y22
	VMOVUPS     Y22, K1, (R11)

	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $32, R8
	ADDQ $64, R10
	ADDQ $32, R11
	ADDQ $8, R13
	SUBQ $8, DX
	JMP  loop

done:
	VZEROUPPER
	MOVQ R12, ret+48(FP)
	RET
