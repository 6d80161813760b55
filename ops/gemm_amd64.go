//go:build amd64 && !purego

package ops

import "golang.org/x/sys/cpu"

// haveGemmAsm reports whether the CPU (and the OS, which must save the YMM
// registers) supports the AVX2+FMA kernels.
var haveGemmAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

func init() {
	switch {
	case haveGemmAVX512:
		gemmDefault = gemmUseAVX512
	case haveGemmAsm:
		gemmDefault = gemmUseAsm
	}
}

const (
	// gemmKC is the depth of the k blocks of the outer-product path: a
	// 16-column strip of op(B) over gemmKC steps is 16 KB and stays in L1
	// while every row block of op(A) streams past it.
	gemmKC = 256

	// gemmDotMaxM is the largest m for which C = A·Bᵀ runs as dot products
	// of rows (gemmDot2/gemmDot1), which need no packing; larger products
	// pack Bᵀ into 16-column strips once and run the outer-product kernel,
	// unless n ≤ gemmDotMaxN, where a 16-column strip would be mostly
	// padding (a dense head with a few labels).
	gemmDotMaxM = 32
	gemmDotMaxN = 8
)

// gemmPacksTransB reports whether Gemm(false, true, m, n, ...) packs Bᵀ,
// and so gives the bits of Gemm(false, false, m, n, ...) on Bᵀ stored: the
// pure-Go kernel always does (it reads either layout in the same order);
// the assembly one unless it takes dot products.
func gemmPacksTransB(m, n int) bool {
	return gemmDefault == gemmUseGo || m > gemmDotMaxM && n > gemmDotMaxN
}

// gemmFastRow reports whether Gemm(false, false, 1, n, ...) has a GEMV
// kernel (AVX-512) rather than the outer-product kernel's one-row tile,
// which waits on the latency of two accumulators.
func gemmFastRow() bool { return gemmDefault == gemmUseAVX512 }

// The kernels of gemm_amd64.s. Strides are in elements; pointers address
// the first element used. Callers guarantee m, n, k ≥ 1 and that every
// addressed element lies inside its slice (gemmCheck).

// gemmOuter16 computes the m×nv block of C at c (nv ≤ 16 columns) as
// alpha·Σ_{p<k} op(A)(i, p)·op(B)(p, 0..nv-1) + beta·C, with op(A)(i, p) at
// a[i*rsA+p*csA] and op(B)(p, j) at b[p*ldb+j]. It runs a 6×16 register
// tile (12 YMM accumulators) down the rows, then 4-, 2- and 1-row tiles for
// the rest; when nv < 16 it uses masked loads and stores (4×16 tiles) and
// touches nothing past column nv. With beta = 0, C is not read.
//
//go:noescape
func gemmOuter16(m, k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, nv int, alpha, beta float32)

// gemmDot2 computes two rows of C = alpha·A·Bᵀ + beta·C over all n
// columns: C(r, j) for r < 2 from the dot products of A's rows a, a+lda with
// B's rows b+j·ldb, each k long. It runs 2×4 tiles of 8-lane partial sums,
// a masked load for the last k mod 8 elements, and masked stores for the
// last n mod 4 columns, whose B rows repeat the last valid one.
//
//go:noescape
func gemmDot2(n, k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// gemmDot1 is gemmDot2 for one row of A and C, with two sets of
// accumulators over alternating 8-element chunks to hide the FMA latency.
//
//go:noescape
func gemmDot1(n, k int, a *float32, b *float32, ldb int, c *float32, alpha, beta float32)

// gemmAsm computes C = alpha·op(A)·op(B) + beta·C for m, n, k ≥ 1 and
// alpha ≠ 0 with the AVX2+FMA kernels:
//
//   - A·B and Aᵀ·B read both operands in place: op(A) by element strides
//     (broadcasts), B's rows as 16-float vectors, in k blocks of gemmKC.
//   - A·Bᵀ with m ≤ gemmDotMaxM (the recurrent step of an RNN: few rows,
//     the same weights every step) or n ≤ gemmDotMaxN takes dot products of
//     A's and B's rows, which are both contiguous along k; with wide, eight
//     or four rows at a time (gemmDot8, gemmDot4), which give each row
//     gemmDot2's bits.
//   - Other products with Bᵀ pack one k block of a 16-column strip of op(B)
//     at a time into a stack buffer (gemmPackedB).
//
// It allocates nothing: the only buffer lives on the caller's stack, so
// concurrent calls share no state.
//
// With wide, the AVX-512 kernel takes the leading 32-column strips of C,
// with the same bits as the AVX2 kernel.
func gemmAsm(wide, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if transB {
		if !transA && (m <= gemmDotMaxM || n <= gemmDotMaxN) {
			i := 0
			if wide && haveGemmDot4 {
				for ; i+8 <= m; i += 8 {
					gemmDot8(n, k, &a[i*lda], lda, &b[0], ldb, &c[i*ldc], ldc, alpha, beta)
				}
				for ; i+4 <= m; i += 4 {
					gemmDot4(n, k, &a[i*lda], lda, &b[0], ldb, &c[i*ldc], ldc, alpha, beta)
				}
			}
			for ; i+2 <= m; i += 2 {
				gemmDot2(n, k, &a[i*lda], lda, &b[0], ldb, &c[i*ldc], ldc, alpha, beta)
			}
			if i < m {
				gemmDot1(n, k, &a[i*lda], &b[0], ldb, &c[i*ldc], alpha, beta)
			}
			return
		}
		j := 0
		if wide {
			j = gemmPackedB32(transA, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		}
		if j < n {
			gemmPackedB(transA, m, n-j, k, alpha, a, lda, b[j*ldb:], ldb, beta, c[j:], ldc)
		}
		return
	}
	rsA, csA := lda, 1
	if transA {
		rsA, csA = 1, lda
	}
	for pc := 0; pc < k; pc += gemmKC {
		kb := min(gemmKC, k-pc)
		bet := beta
		if pc > 0 {
			bet = 1
		}
		j := 0
		if wide {
			j = gemmOuter32(m, n, pc, kb, alpha, a, rsA, csA, b, ldb, bet, c, ldc)
		}
		for ; j < n; j += 16 {
			gemmOuter16(m, kb, &a[pc*csA], rsA, csA, &b[pc*ldb+j], ldb, &c[j], ldc, min(16, n-j), alpha, bet)
		}
	}
}

// gemmPackedB is gemmAsm for op(B) = Bᵀ (B stored n×k): each k block of
// each 16-column strip of Bᵀ is transposed into a 16-float-wide stack buffer
// (element (p, jj) at buf[p*16+jj]) and multiplied by the outer-product
// kernel. Packing costs O(n·k), small beside the O(m·n·k) product when m is
// large. It is a separate function so that callers on the other paths do
// not pay for clearing the buffer.
func gemmPackedB(transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	var buf [gemmKC * 16]float32
	rsA, csA := lda, 1
	if transA {
		rsA, csA = 1, lda
	}
	for pc := 0; pc < k; pc += gemmKC {
		kb := min(gemmKC, k-pc)
		bet := beta
		if pc > 0 {
			bet = 1
		}
		for j := 0; j < n; j += 16 {
			nv := min(16, n-j)
			for jj := 0; jj < nv; jj++ {
				src := b[(j+jj)*ldb+pc : (j+jj)*ldb+pc+kb]
				dst := buf[jj:]
				for p, v := range src {
					dst[p*16] = v
				}
			}
			gemmOuter16(m, kb, &a[pc*csA], rsA, csA, &buf[0], 16, &c[j], ldc, nv, alpha, bet)
		}
	}
}
