package ops

import "fmt"

// Shape legend for the GEMM files:
//
//	m  rows of op(A) and of C
//	n  columns of op(B) and of C
//	k  the inner dimension: columns of op(A), rows of op(B)
//
// A matrix X with leading dimension ldx is stored row-major: element (r, c)
// of the stored matrix is x[r*ldx+c]. op(A) is A when transA is false (A
// stored m×k) and Aᵀ when it is true (A stored k×m); likewise op(B) is B
// (stored k×n) or Bᵀ (stored n×k).

// Gemm computes C = alpha·op(A)·op(B) + beta·C on row-major float32
// matrices, where op(X) is X or Xᵀ: op(A) is m×k, op(B) is k×n, C is m×n,
// and lda, ldb, ldc are the row strides of A, B and C as stored. With
// beta = 0, C is overwritten and its previous contents (even NaN) are not read.
// It runs on the calling goroutine.
//
// As in BLAS, A and B are not read when alpha = 0 or k = 0: C becomes beta·C
// (zeros when beta = 0). Only the m×n window of C is written, and it must
// not overlap A or B. Gemm allocates nothing and may be called from several
// goroutines at once. It uses an
// AVX2+FMA kernel when the CPU has one, with an AVX-512 kernel for wide
// products when the CPU has that too (the same bits: each element takes
// the same FMAs in the same order), and a blocked pure-Go kernel
// otherwise; they accumulate in float32, in an order that differs from
// gemmNaive's, so results agree with it to rounding.
//
// Gemm panics (a programming error) when a dimension is negative, a stride is
// smaller than its matrix's row, or a slice is too short for its matrix.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmWith(gemmDefault, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// GEMM implementations. gemmDefault is the one Gemm uses, chosen once at
// package initialisation from the CPU's features; tests run every
// implementation available through gemmWith.
const (
	gemmUseGo     = iota // blocked pure Go, every architecture
	gemmUseAsm           // AVX2+FMA assembly (amd64)
	gemmUseAVX512        // gemmUseAsm with AVX-512 for 32-column strips (amd64)
)

var gemmDefault = gemmUseGo

// gemmHasAsm reports whether Gemm runs the assembly kernels.
func gemmHasAsm() bool { return gemmDefault != gemmUseGo }

// gemmWith is Gemm with an explicit choice of implementation.
func gemmWith(impl int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemmCheck(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		gemmScale(m, n, beta, c, ldc)
		return
	}
	if impl == gemmUseAsm || impl == gemmUseAVX512 {
		gemmAsm(impl == gemmUseAVX512, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	gemmGo(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmCheck panics unless the dimensions, strides and slice lengths describe
// matrices that fit their slices. The kernels then index without checks (the
// assembly one cannot check), so this is what keeps them in bounds.
func gemmCheck(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("ops: Gemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	gemmCheckMatrix("A", "lda", a, ar, ac, lda)
	gemmCheckMatrix("B", "ldb", b, br, bc, ldb)
	gemmCheckMatrix("C", "ldc", c, m, n, ldc)
}

func gemmCheckMatrix(name, ldName string, x []float32, rows, cols, ld int) {
	if ld < max(cols, 1) {
		panic(fmt.Sprintf("ops: Gemm: %s=%d is less than the %d columns of %s", ldName, ld, cols, name))
	}
	if rows > 0 && cols > 0 && len(x) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("ops: Gemm: %s has %d elements, %d×%d with stride %d needs %d", name, len(x), rows, cols, ld, (rows-1)*ld+cols))
	}
}

// gemmScale sets C = beta·C on the m×n window, writing zeros when beta = 0.
func gemmScale(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		if beta != 1 {
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// gemmNaive computes C = alpha·op(A)·op(B) + beta·C on row-major matrices,
// exactly as Gemm does. For float32 it is the reference for Gemm's tests;
// for float64 it is the ONNX operators' kernel.
func gemmNaive[T float32 | float64](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s T
			for p := 0; p < k; p++ {
				var av, bv T
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += av * bv
			}
			if beta == 0 {
				c[i*ldc+j] = alpha * s
			} else {
				c[i*ldc+j] = alpha*s + beta*c[i*ldc+j]
			}
		}
	}
}

// GemmF64 is Gemm on float64 matrices, by the reference kernel: float64
// operands (ONNX's Gemm on doubles) have no fast kernel. Unlike Gemm it
// checks nothing: the caller has validated the dimensions.
func GemmF64(transA, transB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	gemmNaive(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmGoKC is the depth of the k blocks of gemmGo: a 2-row block of op(A)
// and a 4-column strip of op(B) over gemmGoKC steps stay in L1.
const gemmGoKC = 256

// gemmGo computes C = alpha·op(A)·op(B) + beta·C for m, n, k ≥ 1 and
// alpha ≠ 0 in pure Go, blocked in 2×4 tiles of C held in registers, in k
// blocks of gemmGoKC. It reads both operands in place through element
// strides (each tile's rows of op(A) and columns of op(B) advance by one
// stride per step), so every transpose combination runs the same kernel
// with no packing and no buffers. It is Gemm's kernel on CPUs without
// AVX2+FMA.
//
// The tile is 2×4 rather than 4×4 because Go keeps float32 values in 15
// XMM registers on amd64: a 4×4 tile's 16 accumulators and 8 operands
// spill to the stack on every step, and measure 2–3 times slower than 2×4
// (8 accumulators, 6 operands).
func gemmGo(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	// Element (i, p) of op(A) is a[i*rsA+p*csA]; (p, j) of op(B) is b[p*rsB+j*csB].
	rsA, csA := lda, 1
	if transA {
		rsA, csA = 1, lda
	}
	rsB, csB := ldb, 1
	if transB {
		rsB, csB = 1, ldb
	}
	for pc := 0; pc < k; pc += gemmGoKC {
		kb := min(gemmGoKC, k-pc)
		bet := beta
		if pc > 0 {
			bet = 1
		}
		for i := 0; i < m; i += 2 {
			mb := min(2, m-i)
			for j := 0; j < n; j += 4 {
				nb := min(4, n-j)
				gemmGoTile(mb, nb, kb, alpha, a, i*rsA+pc*csA, rsA, csA, b, pc*rsB+j*csB, rsB, csB, bet, c[i*ldc+j:], ldc)
			}
		}
	}
}

// gemmGoTile computes the mb×nb (≤ 2×4) tile of C at c[0] over kb steps of
// the inner dimension: op(A)(r, p) is a[oa+r*rsA+p*csA] and op(B)(p, q) is
// b[ob+p*rsB+q*csB]. Missing rows and columns of a partial tile repeat the
// last valid one, so every read is in bounds; their results are not stored.
func gemmGoTile(mb, nb, kb int, alpha float32, a []float32, oa, rsA, csA int, b []float32, ob, rsB, csB int, beta float32, c []float32, ldc int) {
	a1 := min(1, mb-1) * rsA
	b1 := min(1, nb-1) * csB
	b2 := min(2, nb-1) * csB
	b3 := min(3, nb-1) * csB
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	for p := 0; p < kb; p++ {
		x0, x1 := a[oa], a[oa+a1]
		y0, y1, y2, y3 := b[ob], b[ob+b1], b[ob+b2], b[ob+b3]
		oa += csA
		ob += rsB
		c00 += x0 * y0
		c01 += x0 * y1
		c02 += x0 * y2
		c03 += x0 * y3
		c10 += x1 * y0
		c11 += x1 * y1
		c12 += x1 * y2
		c13 += x1 * y3
	}
	acc := [2][4]float32{{c00, c01, c02, c03}, {c10, c11, c12, c13}}
	for r := 0; r < mb; r++ {
		row := c[r*ldc : r*ldc+nb]
		for q := range row {
			if beta == 0 {
				row[q] = alpha * acc[r][q]
			} else {
				row[q] = alpha*acc[r][q] + beta*row[q]
			}
		}
	}
}
