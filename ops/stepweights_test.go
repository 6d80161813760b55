package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// TestStepWeightsSameBits: a step's product by Rᵀ transposed once per call
// has the bits of Gemm's product by Rᵀ stored wherever it reads Rᵀ, and the
// bits of Gemm's product by R elsewhere, with every implementation as
// Gemm's default: steps of one row to many, the whole width and column
// blocks (the GRU's), beta 0 and 1, for training and inference. Both read
// Rᵀ on every step Gemm would pack R for; training on steps of four rows
// or more too; inference with the assembly kernels never on fewer than 33
// rows, which serve/chunk.go relies on.
func TestStepWeightsSameBits(t *testing.T) {
	defer func(d int) { gemmDefault = d }(gemmDefault)
	rng := rand.New(rand.NewPCG(3, 4))
	rnd := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	const H = 40
	for _, impl := range gemmImpls(t) {
		gemmDefault = impl.id
		for _, train := range []bool{false, true} {
			for _, G := range []int{3 * H, 4 * H} {
				r := rnd(G * H)
				rT := transposed(r, G, H)
				var buf []float32
				var step stepWeights
				step.prepare(r, nil, nil, G, H, 70, train, &buf)
				if step.rT == nil {
					t.Fatalf("%s: steps of 70 rows do not pack Rᵀ", impl.name)
				}
				for _, n := range []int{1, 3, 4, 7, 12, 32, 33, 70} {
					for _, blk := range [][2]int{{0, G}, {0, 2 * H}, {2 * H, H}} {
						for _, beta := range []float32{0, 1} {
							hp, c := rnd(n*H), rnd(n*G)
							want := append([]float32(nil), c...)
							read := "R"
							if n > 32 || impl.id == gemmUseGo || train && n >= 4 {
								read = "Rᵀ"
								Gemm(false, false, n, blk[1], H, 1, hp, H, rT[blk[0]:], G, beta, want[blk[0]:], G)
							} else {
								Gemm(false, true, n, blk[1], H, 1, hp, H, r[blk[0]*H:], H, beta, want[blk[0]:], G)
							}
							step.mul(n, blk[0], blk[1], hp, beta, c[blk[0]:], G)
							for i := range c {
								if math.Float32bits(c[i]) != math.Float32bits(want[i]) {
									t.Fatalf("%s", fmt.Sprintf("%s train=%v G=%d n=%d columns %v beta=%v: C[%d] = %v, Gemm on %s %v", impl.name, train, G, n, blk, beta, i, c[i], read, want[i]))
								}
							}
						}
					}
				}
			}
		}
	}
}

// transposed returns xᵀ for x [rows, cols].
func transposed(x []float32, rows, cols int) []float32 {
	t := make([]float32, len(x))
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			t[c*rows+r] = x[r*cols+c]
		}
	}
	return t
}

// TestRecurrentForwardWithTransposes: LSTMForward and GRUForward given Wᵀ
// and Rᵀ give the bits they give without on a batch wide enough to read
// them (70 rows), and within 1e-6 on a narrow one (5 rows), whose one-row
// steps read Rᵀ by a GEMV in another order of additions.
func TestRecurrentForwardWithTransposes(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	rnd := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 0.3)
		}
		return x
	}
	const I, H = 13, 24
	for _, B := range []int{70, 5} {
		lens := make([]int, B)
		for b := range lens {
			lens[b] = 20 - 15*b/B
		}
		var p Packing
		p.Reset(lens)
		N := p.N()
		x, h0 := rnd(N*I), rnd(B*H)
		lw := LSTMWeights{I: I, H: H, W: rnd(4 * H * I), R: rnd(4 * H * H), B: rnd(4 * H)}
		want, got := make([]float32, N*H), make([]float32, N*H)
		var c LSTMCache
		LSTMForward(&p, lw, x, h0, nil, want, nil, nil, &c)
		lw.WT, lw.RT = transposed(lw.W, 4*H, I), transposed(lw.R, 4*H, H)
		LSTMForward(&p, lw, x, h0, nil, got, nil, nil, &c)
		sameOrClose(t, fmt.Sprintf("LSTM, %d rows", B), B > 32, got, want)
		for _, lbr := range []bool{false, true} {
			gw := GRUWeights{I: I, H: H, W: rnd(3 * H * I), R: rnd(3 * H * H), B: rnd(6 * H), LinearBeforeReset: lbr}
			var gc GRUCache
			GRUForward(&p, gw, x, h0, want, nil, &gc)
			gw.WT, gw.RT = transposed(gw.W, 3*H, I), transposed(gw.R, 3*H, H)
			GRUForward(&p, gw, x, h0, got, nil, &gc)
			sameOrClose(t, fmt.Sprintf("GRU lbr=%v, %d rows", lbr, B), B > 32, got, want)
		}
	}
}

// sameOrClose fails unless got equals want bit for bit (same) or within
// 1e-6.
func sameOrClose(t *testing.T, what string, same bool, got, want []float32) {
	t.Helper()
	if same {
		expectBits(t, what, got, want)
		return
	}
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); !(d <= 1e-6) {
			t.Fatalf("%s: y[%d] = %v, without the transposes %v", what, i, got[i], want[i])
		}
	}
}

// TestRecurrentPanelsSameBits: LSTMForward and GRUForward given Rᵀ in
// panels as well as Rᵀ give the bits they give with Rᵀ alone, on batches
// whose later steps have one row (those read the panels, in alternate
// order), with units whose LSTM gate width is 1, 3, 4 and 17 panels (17:
// the k blocks of Gemm's one-row kernel too), with and without h0 and c0;
// the GRU's where its column blocks (2H and H) are whole panels.
func TestRecurrentPanelsSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	rnd := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 0.3)
		}
		return x
	}
	const I = 7
	for _, H := range []int{16, 48, 64, 272} {
		lw := LSTMWeights{I: I, H: H, W: rnd(4 * H * I), R: rnd(4 * H * H), B: rnd(4 * H)}
		lw.WT, lw.RT = transposed(lw.W, 4*H, I), transposed(lw.R, 4*H, H)
		withP := lw
		withP.RP = RecurrentPanels(lw.RT, H, 4*H)
		if (withP.RP != nil) != gemmFastRow() {
			t.Fatalf("H=%d: panels %v, GEMV kernel %v", H, withP.RP != nil, gemmFastRow())
		}
		for _, lens := range [][]int{{9}, {9, 3, 3}, {1}} {
			var p Packing
			p.Reset(lens)
			B, N := p.Rows(), p.N()
			x, h0, c0 := rnd(N*I), rnd(B*H), rnd(B*H)
			for _, init := range [][2][]float32{{nil, nil}, {h0, c0}} {
				want, got := make([]float32, N*H), make([]float32, N*H)
				wantC, gotC := make([]float32, B*H), make([]float32, B*H)
				var c LSTMCache
				LSTMForward(&p, lw, x, init[0], init[1], want, nil, wantC, &c)
				LSTMForward(&p, withP, x, init[0], init[1], got, nil, gotC, &c)
				what := fmt.Sprintf("H=%d lengths %v h0 %v", H, lens, init[0] != nil)
				expectBits(t, what, got, want)
				expectBits(t, what+" cT", gotC, wantC)
				gruPanelsSameBits(t, what, &p, x, init[0] != nil, rnd)
			}
		}
	}
}

// gruPanelsSameBits is TestRecurrentPanelsSameBits for a GRU of 64 units,
// both forms, on p and x [N, 7], from h0 = 0 or, withH0, a random one.
func gruPanelsSameBits(t *testing.T, what string, p *Packing, x []float32, withH0 bool, rnd func(int) []float32) {
	t.Helper()
	const I, H = 7, 64
	for _, lbr := range []bool{false, true} {
		gw := GRUWeights{I: I, H: H, W: rnd(3 * H * I), R: rnd(3 * H * H), B: rnd(6 * H), LinearBeforeReset: lbr}
		gw.WT, gw.RT = transposed(gw.W, 3*H, I), transposed(gw.R, 3*H, H)
		withP := gw
		withP.RP = RecurrentPanels(gw.RT, H, 3*H)
		want, got := make([]float32, p.N()*H), make([]float32, p.N()*H)
		var c GRUCache
		var h []float32
		if withH0 {
			h = rnd(p.Rows() * H)
		}
		GRUForward(p, gw, x, h, want, nil, &c)
		GRUForward(p, withP, x, h, got, nil, &c)
		expectBits(t, fmt.Sprintf("GRU lbr=%v, %s", lbr, what), got, want)
	}
}

// TestRecurrentPanelsLayout: panel q of RecurrentPanels holds columns
// 64q..64q+63 of Rᵀ row after row; a gate width that is not a multiple of
// 64, or an Rᵀ of the wrong size, gets none.
func TestRecurrentPanelsLayout(t *testing.T) {
	if !gemmFastRow() {
		if RecurrentPanels(make([]float32, 64*16), 16, 64) != nil {
			t.Fatal("panels made for a CPU without the GEMV kernel")
		}
		return
	}
	const H, G = 3, 128
	rT := make([]float32, H*G)
	for i := range rT {
		rT[i] = float32(i)
	}
	p := RecurrentPanels(rT, H, G)
	for q := range G / 64 {
		for k := range H {
			for j := range 64 {
				if got, want := p[q*H*64+k*64+j], rT[k*G+q*64+j]; got != want {
					t.Fatalf("panel %d, row %d, column %d: %v, want %v", q, k, j, got, want)
				}
			}
		}
	}
	if RecurrentPanels(make([]float32, 3*96), 3, 96) != nil || RecurrentPanels(rT[1:], H, G) != nil {
		t.Error("panels made for a gate width of 96 or a short Rᵀ")
	}
}

// TestGemvPanelsChecksSizes: the kernel, which indexes without checks,
// refuses operands shorter than the sizes say.
func TestGemvPanelsChecksSizes(t *testing.T) {
	for _, c := range []struct {
		n, k, la, lb, lc int
	}{{64, 4, 3, 256, 64}, {64, 4, 4, 255, 64}, {64, 4, 4, 256, 63}, {96, 4, 4, 384, 96}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%+v: no panic", c)
				}
			}()
			gemvPanels(false, c.n, c.k, make([]float32, c.la), make([]float32, c.lb), 1, make([]float32, c.lc))
		}()
	}
}

// TestTransposeTo: transposeTo matches the element-by-element transpose on
// shapes the 8×8 register blocks take (multiples of 8, a layer's G × H)
// and on shapes only the 16×16 blocks do, and writes nothing past
// rows·cols.
func TestTransposeTo(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 5))
	for _, sh := range [][2]int{{8, 8}, {8, 16}, {24, 40}, {256, 64}, {512, 128}, {192, 64}, {400, 100}, {13, 7}, {1, 9}, {17, 33}, {0, 8}} {
		rows, cols := sh[0], sh[1]
		src := make([]float32, rows*cols)
		for i := range src {
			src[i] = float32(rng.NormFloat64())
		}
		want := transposed(src, rows, cols)
		dst := make([]float32, rows*cols+3)
		guard := float32(math.Inf(-1))
		for i := range dst {
			dst[i] = guard
		}
		transposeTo(dst, src, rows, cols)
		if !bitsEqual(dst[:rows*cols], want) {
			t.Errorf("%d×%d: transposed wrong", rows, cols)
		}
		for i, v := range dst[rows*cols:] {
			if v != guard {
				t.Errorf("%d×%d: wrote %v past the end, at %d", rows, cols, v, rows*cols+i)
			}
		}
	}
}

// TestTrainingForwardSameBitsWide: a training cache's forward (Wᵀ and Rᵀ
// transposed once per call and read in place) gives an inference cache's
// bits (W packed by Gemm, Rᵀ read in place past 32 rows) where every step
// has more than 32 rows, for each recurrent kind and every Gemm kernel.
func TestTrainingForwardSameBitsWide(t *testing.T) {
	defer func(d int) { gemmDefault = d }(gemmDefault)
	for _, impl := range gemmImpls(t) {
		gemmDefault = impl.id
		for _, kind := range []recKind{kindLSTM, kindGRU0, kindGRU1} {
			infer := newRecStack(kind, 40, 6, 6, 13, []int{24, 16}, 5)
			train := newRecStack(kind, 40, 6, 6, 13, []int{24, 16}, 5)
			train.reserve()
			infer.forward()
			train.forward()
			for l := range infer.layers {
				if !bitsEqual(train.layers[l].y, infer.layers[l].y) {
					t.Errorf("%s %s layer %d: a training forward differs from an inference one", impl.name, kind, l)
				}
			}
		}
	}
}

// TestAddWeightGradSameBits: addWeightGrad adds the bits Gemm adds, with
// every kernel as Gemm's default, where it takes the transposed product
// (inputs fewer than 32, gate rows 32 or more) and where it does not,
// onto a gradient that already holds values, over several k blocks (k
// past gemmKC) and with a gate gradient wider than its rows (lda > m, the
// GRU's blocks).
func TestAddWeightGradSameBits(t *testing.T) {
	defer func(d int) { gemmDefault = d }(gemmDefault)
	rng := rand.New(rand.NewPCG(31, 7))
	rnd := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	var buf []float32
	for _, impl := range gemmImpls(t) {
		gemmDefault = impl.id
		for _, m := range []int{20, 48, 120, 256} {
			for _, n := range []int{1, 5, 13, 31, 32, 40} {
				for _, k := range []int{1, 100, 300, 600} {
					lda := m + 8
					a, b, dw := rnd(k*lda), rnd(k*n), rnd(m*n)
					want := append([]float32(nil), dw...)
					Gemm(true, false, m, n, k, 1, a, lda, b, n, 1, want, n)
					addWeightGrad(m, n, k, a, lda, b, dw, &buf)
					if !bitsEqual(dw, want) {
						t.Fatalf("%s m=%d n=%d k=%d: the transposed product's bits differ from Gemm's", impl.name, m, n, k)
					}
				}
			}
		}
	}
}
