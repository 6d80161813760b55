package ops

// stepWeights is a recurrent layer's R [G, H] as its forward steps multiply
// by it. Gemm with Bᵀ packs R's columns afresh at every step whose product
// has more than a few rows; for those steps the layer transposes R once per
// call instead, into rT [H, G], and multiplies by it in place. Gemm then
// runs the same kernel on the same values in the same order (its packed
// and in-place paths differ only in where they read B), so results keep
// their bits. In training (a cache sized by Reserve), steps of a few rows
// (stepInPlaceMinRows up to Gemm's packing threshold) read rT in place
// too: there the outer-product kernel runs 15–50% faster than the dot
// products of R's rows that Gemm would take (BenchmarkGemmDotStep), with
// AVX-512 and with AVX2 alike, so that the two still train the same bits.
// Inference keeps the dot products for those steps, because serving's
// batches (serve/chunk.go) rely on a step of at most 32 rows giving each
// row its bits whatever the count.
//
// An inference session gives Rᵀ itself, made once per model; then, where
// Gemm has a GEMV kernel, steps of one row read it too, by a GEMV that sums
// in the order of the wide products instead of Gemm's dot products, so
// their results agree with the in-place ones to rounding, not bit for bit.
//
// Rᵀ in panels (RecurrentPanels), when given, serves the one-row steps
// instead, with the same bits.
type stepWeights struct {
	r     []float32 // [G, H]
	rT    []float32 // [H, G] Rᵀ, or nil: no step is wide enough to need it
	rP    []float32 // Rᵀ in panels (RecurrentPanels), or nil
	G, H  int
	given bool // rT is the caller's: one-row steps read it
	train bool // steps of a few rows read rT too (fewRowsInPlace)
	flip  bool // the one-row steps' next panel order: last first
}

// prepare sets s to R for steps of at most rows rows, with Rᵀ when such
// steps read it: rT when the caller has it (nil = not), else transposed
// into *buf (grown as needed, not zeroed); rP is Rᵀ in panels, or nil.
// train is whether steps of a few rows read Rᵀ too (a training cache).
func (s *stepWeights) prepare(r, rT, rP []float32, G, H, rows int, train bool, buf *[]float32) {
	s.r, s.rT, s.rP, s.G, s.H, s.given, s.train, s.flip = r, nil, rP, G, H, rT != nil, train, false
	if rT != nil {
		s.rT = rT
		return
	}
	if !gemmPacksTransB(rows, G) && !(train && fewRowsInPlace(rows)) {
		return
	}
	if cap(*buf) < G*H {
		*buf = make([]float32, G*H)
	}
	s.rT = (*buf)[:G*H]
	transposeTo(s.rT, r, G, H)
}

// transposeTo sets dst [cols, rows] to src [rows, cols] transposed. A
// training step transposes each layer's R once per shard: written an
// element at a time down dst's columns, every write missed once a layer's
// rows passed the L1 cache (2.1 ns an element for 128 units). With AVX2 and
// both sides multiples of 8 (a layer's G and H usually are) 8×8 blocks go
// through registers, whole 32-byte runs in and out; otherwise blocks of
// 16×16 keep a block's reads and writes within 16 cache lines, and write a
// contiguous run of dst at a time.
func transposeTo(dst, src []float32, rows, cols int) {
	n := rows * cols
	dst, src = dst[:n], src[:n]
	if haveVecAsm && n > 0 && rows%8 == 0 && cols%8 == 0 {
		transpose8Asm(&dst[0], &src[0], rows, cols)
		return
	}
	const blk = 16
	for i0 := 0; i0 < rows; i0 += blk {
		i1 := min(i0+blk, rows)
		for j0 := 0; j0 < cols; j0 += blk {
			j1 := min(j0+blk, cols)
			for j := j0; j < j1; j++ {
				out := dst[j*rows+i0 : j*rows+i1]
				for k := range out {
					out[k] = src[(i0+k)*cols+j]
				}
			}
		}
	}
}

// gemvPanel is the width of the panels of RecurrentPanels: a panel of a
// layer of 64 units is 16 KB, half the core's L1 cache.
const gemvPanel = 64

// RecurrentPanels returns rT, a recurrent layer's Rᵀ [H, G], laid out for
// the steps of one row: in panels of 64 columns, each [H, 64] contiguous,
// or nil where those steps would not read it (G not a multiple of 64, or
// no GEMV kernel on this CPU). The whole Rᵀ of a layer of 64 units (64
// KB) does not fit in the core's L1 cache, and as a step reads it in the
// order the step before did, every read misses; the steps take the panels
// in alternate order instead, so that the panels a step reads last are
// the next step's first and are still in L1. The bits are those of Rᵀ
// read whole, by Gemm.
func RecurrentPanels(rT []float32, H, G int) []float32 {
	if G%gemvPanel != 0 || !gemmFastRow() || len(rT) != G*H {
		return nil
	}
	p := make([]float32, len(rT))
	for q := 0; q < G/gemvPanel; q++ {
		panel := p[q*H*gemvPanel : (q+1)*H*gemvPanel]
		for k := range H {
			copy(panel[k*gemvPanel:(k+1)*gemvPanel], rT[k*G+q*gemvPanel:])
		}
	}
	return p
}

// reserveStepWeights sizes *buf for prepare on the training steps of up to
// rows rows.
func reserveStepWeights(buf *[]float32, rows, G, H int) {
	if (gemmPacksTransB(rows, G) || fewRowsInPlace(rows)) && cap(*buf) < G*H {
		*buf = make([]float32, G*H)
	}
}

// mul computes C = hp·R[j0:j0+nc]ᵀ + beta·C for the n rows of hp [n, H],
// where C [n, nc] has row stride ldc: columns j0..j0+nc−1 of the step's
// recurrent product.
func (s *stepWeights) mul(n, j0, nc int, hp []float32, beta float32, c []float32, ldc int) {
	if s.rP != nil && n == 1 && j0%gemvPanel == 0 && nc%gemvPanel == 0 && gemmFastRow() {
		gemvPanels(s.flip, nc, s.H, hp, s.rP[j0*s.H:], beta, c)
		s.flip = !s.flip
		return
	}
	if s.rT != nil && (gemmPacksTransB(n, nc) || s.train && fewRowsInPlace(n) || s.given && n == 1 && gemmFastRow()) {
		Gemm(false, false, n, nc, s.H, 1, hp, s.H, s.rT[j0:], s.G, beta, c, ldc)
		return
	}
	Gemm(false, true, n, nc, s.H, 1, hp, s.H, s.r[j0*s.H:], s.H, beta, c, ldc)
}

// stepInPlaceMinRows is the fewest rows for which a training step reads Rᵀ
// in place where Gemm would take dot products: from four rows the
// outer-product kernels have a four-row tile, and beat them
// (BenchmarkGemmDotStep).
const stepInPlaceMinRows = 4

// fewRowsInPlace reports whether a training step of m rows reads Rᵀ in
// place even where Gemm would take dot products of R's rows. (The pure-Go
// kernel takes no dot products: gemmPacksTransB holds for it already.)
func fewRowsInPlace(m int) bool { return m >= stepInPlaceMinRows }

// trainInputWeights returns wT [I, G] for inputProduct: the caller's when
// it has it, else, in training (a cache sized by Reserve), W transposed
// into *buf (grown as needed) where Gemm would pack W for the product of
// N rows: the same bits for less work (the input products of R1's
// training step went from 12.3% to 10.8% of its time). Otherwise nil.
func trainInputWeights(W, wT []float32, N, G, I int, train bool, buf *[]float32) []float32 {
	if wT != nil || !train || !gemmPacksTransB(N, G) {
		return wT
	}
	*buf = grown(*buf, G*I)
	transposeTo(*buf, W, G, I)
	return *buf
}

// inputProduct computes gates [N, G] = x·Wᵀ for x [N, I] and W [G, I],
// reading wT [I, G] in place instead of W when the caller has it (nil =
// not) and Gemm would pack W: the same bits either way (stepWeights).
func inputProduct(N, G, I int, x, W, wT, gates []float32) {
	if wT != nil && gemmPacksTransB(N, G) {
		Gemm(false, false, N, G, I, 1, x, I, wT, G, 0, gates, G)
		return
	}
	Gemm(false, true, N, G, I, 1, x, I, W, I, 0, gates, G)
}

// weightGradNarrow is the most columns (a layer's inputs) for which
// addWeightGrad takes the transposed product: below one 32-column strip,
// Gemm runs the product's columns through the masked 16-column kernel.
const weightGradNarrow = 32

// addWeightGrad adds aᵀ·b to dw [m, n] (contiguous), a [k, m] with row
// stride lda and b [k, n]: a layer's input-weight gradient dGᵀ·x. With
// fewer inputs than a column strip (13 features) and the assembly kernels,
// Gemm would run all of a gate gradient's m rows through masked
// 16-column tiles (R1's first layer: 33 GFLOP/s, 4% of its training); the
// transposed product dwᵀ += bᵀ·a runs n rows across m columns in full
// tiles instead. It has the same bits: each element takes the same
// products (x·y = y·x exactly) in the same order of k, in the same k
// blocks, accumulated onto dwᵀ transposed into buf (grown as needed) and
// transposed back, as Gemm accumulates onto dw.
func addWeightGrad(m, n, k int, a []float32, lda int, b []float32, dw []float32, buf *[]float32) {
	if n >= weightGradNarrow || m < weightGradNarrow || !gemmHasAsm() {
		Gemm(true, false, m, n, k, 1, a, lda, b, n, 1, dw, n)
		return
	}
	t := grown(*buf, m*n)
	*buf = t
	transposeTo(t, dw, m, n)
	Gemm(true, false, n, m, k, 1, b, n, a, lda, 1, t, m)
	transposeTo(dw, t, n, m)
}
