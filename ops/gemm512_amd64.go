//go:build amd64 && !purego

package ops

import "golang.org/x/sys/cpu"

// haveGemmAVX512 reports whether the CPU (and the OS, which must save the
// ZMM registers) supports gemmOuter32Z besides the AVX2+FMA kernels.
var haveGemmAVX512 = haveGemmAsm && cpu.X86.HasAVX512F

// gemmOuter32Z is gemmOuter16 for a strip of exactly 32 columns, with
// AVX-512: it computes the m×32 block of C at c as
// alpha·Σ_{p<k} op(A)(i, p)·op(B)(p, 0..31) + beta·C, with op(A)(i, p) at
// a[i*rsA+p*csA] and op(B)(p, j) at b[p*ldb+j], in 8×32 register tiles (16
// ZMM accumulators), then one tile each of 4 and 2 rows and a single row
// for the rest. Every element takes the same FMAs in the same order as in
// gemmOuter16, so the two agree bit for bit, and a row's bits do not
// depend on the tile it falls in. With beta = 0, C is not read.
//
//go:noescape
func gemmOuter32Z(m, k int, a *float32, rsA, csA int, b *float32, ldb int, c *float32, ldc int, alpha, beta float32)

// gemmRow128Z is gemmOuter32Z for one row and 128 columns (a GEMV):
// C(0, 0..127) = alpha·Σ_{p<k} op(A)(0, p)·B(p, 0..127) + beta·C, with
// op(A)(0, p) at a[p*csA]. Eight accumulators of 16 columns, each taking
// one FMA per step, hide the FMA latency that one row's two accumulators
// in gemmOuter32Z wait on; each element takes the same FMAs in the same
// order, so the bits are gemmOuter16's.
//
//go:noescape
func gemmRow128Z(k int, a *float32, csA int, b *float32, ldb int, c *float32, alpha, beta float32)

// gemmRow64Z is gemmRow128Z for 64 columns, with four accumulators
// (enough to hide the FMA latency) and the same bits.
//
//go:noescape
func gemmRow64Z(k int, a *float32, csA int, b *float32, ldb int, c *float32, alpha, beta float32)

// gemvPanels computes c = a·B + beta·c for one row a [k] and B [k, n]
// stored in panels of gemvPanel columns (panel q, [k, gemvPanel], at
// b[q·k·gemvPanel:]), n a multiple of gemvPanel, the panels taken last
// first when reverse is set. It runs the one-row kernel (gemmRow64Z, with
// gemmRow128Z's bits) on each panel in Gemm's k blocks, so every element
// takes the FMAs of Gemm(false, false, 1, n, k, 1, a, k, B, n, beta, c, n)
// in their order: the same bits, in whichever order the panels run. Only
// with gemmFastRow.
func gemvPanels(reverse bool, n, k int, a, b []float32, beta float32, c []float32) {
	P := n / gemvPanel
	if n%gemvPanel != 0 || len(a) < k || len(b) < n*k || len(c) < n {
		panic("ops: gemvPanels: operands do not match the sizes")
	}
	for i := range P {
		q := i
		if reverse {
			q = P - 1 - i
		}
		panel := b[q*k*gemvPanel:]
		for pc := 0; pc < k; pc += gemmKC {
			bet := beta
			if pc > 0 {
				bet = 1
			}
			gemmRow64Z(min(gemmKC, k-pc), &a[pc], 1, &panel[pc*gemvPanel], gemvPanel, &c[q*gemvPanel], 1, bet)
		}
	}
}

// gemmOuter32 runs the k block pc (kb steps) of C = alpha·op(A)·B + beta·C
// with B read in place, over the leading 32-column strips of C, and returns
// the number of columns done (n rounded down to a multiple of 32). One row
// takes 128 columns at a time. Several rows go eight at a time through
// every strip (gemmOuter32Tiles).
func gemmOuter32(m, n, pc, kb int, alpha float32, a []float32, rsA, csA int, b []float32, ldb int, beta float32, c []float32, ldc int) int {
	j := 0
	if m == 1 {
		for ; j+128 <= n; j += 128 {
			gemmRow128Z(kb, &a[pc*csA], csA, &b[pc*ldb+j], ldb, &c[j], alpha, beta)
		}
	}
	if m >= 16 && (csA != 1 || m*kb > gemmTilesMinA) {
		return gemmOuter32Tiles(m, n, pc, kb, alpha, a, rsA, csA, b, ldb, beta, c, ldc)
	}
	for ; j+32 <= n; j += 32 {
		gemmOuter32Z(m, kb, &a[pc*csA], rsA, csA, &b[pc*ldb+j], ldb, &c[j], ldc, alpha, beta)
	}
	return j
}

// gemmTilesMinA is the size (elements) of a k block of op(A) past which
// gemmOuter32 takes it tile by tile: 256 KB, a quarter of the L2 cache.
const gemmTilesMinA = 64 << 10

// gemmOuter32Tiles is gemmOuter32's strips taken eight rows at a time
// through every strip, the last m mod 8 rows together: a tile's rows of
// op(A) stay in L1 while the strips of B, which the L2 cache holds, pass
// by, where strip after strip would read all of A's block again for each.
// gemmOuter32 takes this order where that block is large, or op(A) is Aᵀ
// (each step of k then reads its own line of A): 5% faster on the weight
// gradients of a layer of 128 units (512×128×480, Aᵀ), whose gate
// gradients are a megabyte; the step products of a few dozen rows, whose
// A is small, run 2–4% faster strip after strip. gemmOuter32Z takes the
// same rows in the same tiles either way, and a tile does not change a
// row's bits.
func gemmOuter32Tiles(m, n, pc, kb int, alpha float32, a []float32, rsA, csA int, b []float32, ldb int, beta float32, c []float32, ldc int) int {
	J := n &^ 31
	for i := 0; i < m; i += 8 {
		rows := min(8, m-i)
		ai := a[pc*csA+i*rsA:]
		for j := 0; j < J; j += 32 {
			gemmOuter32Z(rows, kb, &ai[0], rsA, csA, &b[pc*ldb+j], ldb, &c[i*ldc+j], ldc, alpha, beta)
		}
	}
	return J
}

// gemmPackedB32 is gemmPackedB over the leading 32-column strips of
// op(B) = Bᵀ, packed 32 floats wide for gemmOuter32Z; it returns the number
// of columns done. The rest of the columns are gemmPackedB's.
func gemmPackedB32(transA bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) int {
	n32 := n &^ 31
	if n32 == 0 {
		return 0
	}
	var buf [gemmKC * 32]float32
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
		for j := 0; j < n32; j += 32 {
			for jj := 0; jj < 32; jj++ {
				src := b[(j+jj)*ldb+pc : (j+jj)*ldb+pc+kb]
				dst := buf[jj:]
				for p, v := range src {
					dst[p*32] = v
				}
			}
			gemmOuter32Z(m, kb, &a[pc*csA], rsA, csA, &buf[0], 32, &c[j], ldc, alpha, bet)
		}
	}
	return n32
}
