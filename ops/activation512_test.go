//go:build amd64 && !purego

package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// with8Lanes runs f with the 16-lane kernels switched off, so that the
// 8-lane AVX2 kernels do all the vector work, and switches them back.
func with8Lanes(f func()) {
	saved := haveVec512
	haveVec512 = false
	defer func() { haveVec512 = saved }()
	f()
}

func skipWithout512(t *testing.T) {
	t.Helper()
	if !haveVec512 {
		t.Skip("the CPU has no AVX-512: the 8-lane kernels run alone")
	}
}

// TestVecKernels8Lanes runs the bit-identity tests of the activations and of
// the recurrent cells against the scalar functions with the AVX2 kernels
// alone, which the other tests leave to their tails on an AVX-512 CPU.
func TestVecKernels8Lanes(t *testing.T) {
	skipWithout512(t)
	with8Lanes(func() {
		t.Run("activations", TestVecActivationsBitIdentical)
		t.Run("inPlace", TestVecActivationsInPlace)
		t.Run("lstm", TestLSTMCellsBitIdentical)
		t.Run("gru", TestGRUCellsBitIdentical)
	})
}

// vec512Lengths are the lengths the 16-lane kernels are compared on: every
// multiple of 8 up to 160 (odd and even counts of 8, so with and without an
// 8-lane rest) and some longer rows.
func vec512Lengths() []int {
	var ns []int
	for n := 8; n <= 160; n += 8 {
		ns = append(ns, n)
	}
	return append(ns, 1000, 1024, 4104)
}

// special512 replaces about one element in eight of v with a hostile value:
// ±Inf, NaNs, ±0, huge and subnormal magnitudes, and values at the
// activations' thresholds.
func special512(rng *rand.Rand, v []float32) {
	sp := []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
		math.Float32frombits(0xffc54321), math.Float32frombits(0x7f800001), 0, float32(math.Copysign(0, -1)),
		math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32, 1e30, -1e30,
		sigHi, -sigHi, sigLo, -sigLo, 88.72, -88.72, 0.17, -0.17, tanhSat, -tanhSat, 80, -80, 10, -10}
	for i := range v {
		if rng.IntN(8) == 0 {
			v[i] = sp[rng.IntN(len(sp))]
		}
	}
}

// TestVec512ActivationsMatchAVX2: sigmoidAsm and tanhAsm give the same bits
// with the 16-lane kernels as with the 8-lane ones alone, on every length of
// vec512Lengths, for random inputs (mostly moderate, some saturating,
// hostile values mixed in) and on the whole of activationGrid.
func TestVec512ActivationsMatchAVX2(t *testing.T) {
	skipWithout512(t)
	rng := rand.New(rand.NewPCG(15, 16))
	for _, f := range []struct {
		name string
		asm  func(n int, dst, src *float32)
	}{{"sigmoid", sigmoidAsm}, {"tanh", tanhAsm}} {
		check := func(what string, src []float32) {
			got, ok := guarded(len(src), float32(math.NaN()))
			f.asm(len(src), &got[0], &src[0])
			want := make([]float32, len(src))
			with8Lanes(func() { f.asm(len(src), &want[0], &src[0]) })
			if !ok() {
				t.Errorf("%s %s: the 16-lane kernel wrote outside dst", f.name, what)
			}
			for i := range src {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Errorf("%s %s: [%d] %v (%#08x) gives %#08x, the AVX2 kernel %#08x", f.name, what, i, src[i],
						math.Float32bits(src[i]), math.Float32bits(got[i]), math.Float32bits(want[i]))
					return
				}
			}
		}
		for _, n := range vec512Lengths() {
			src := cellRand(rng, n, 12)
			special512(rng, src)
			check(fmt.Sprintf("n=%d", n), src)
		}
		grid := activationGrid()
		check("on the grid", grid[:len(grid)&^7])
	}
}

// TestVec512CellsMatchAVX2: the LSTM and GRU step functions, forward and
// backward (with and without dy), give the same bits with the 16-lane
// kernels as with the 8-lane ones alone, for widths of every tail, with
// hostile values among the pre-activations and the incoming gradients.
func TestVec512CellsMatchAVX2(t *testing.T) {
	skipWithout512(t)
	rng := rand.New(rand.NewPCG(15, 17))
	const n = 3
	for _, H := range []int{8, 15, 16, 17, 24, 31, 32, 40, 48, 63, 64, 72, 100, 128, 136} {
		g := cellRand(rng, n*4*H, 6)
		special512(rng, g)
		cp, bias, peep := cellRand(rng, n*H, 3), cellRand(rng, 4*H, 1), cellRand(rng, 3*H, 1)
		lstm := func() [][]float32 {
			gg := append([]float32(nil), g...)
			cell, tanhC, y := make([]float32, n*H), make([]float32, n*H), make([]float32, n*H)
			lstmStepForward(H, gg, cp, cell, tanhC, y, bias, peep, lstmTailFor(H, bias, peep))
			return [][]float32{gg, cell, tanhC, y}
		}
		var want [][]float32
		with8Lanes(func() { want = lstm() })
		for i, got := range lstm() {
			if !bitsEqual(got, want[i]) {
				t.Errorf("LSTM H=%d: output %d (gates, cell, tanhC, y) differs from the AVX2 kernel's", H, i)
			}
		}
		fw := want
		dy, dh, dc := cellRand(rng, n*H, 1), cellRand(rng, n*H, 1), cellRand(rng, n*H, 1)
		special512(rng, dh)
		for _, d := range [][]float32{dy, nil} {
			lstmBack := func() [][]float32 {
				dG, dcc := make([]float32, n*4*H), append([]float32(nil), dc...)
				lstmStepBackward(H, fw[0], fw[1], fw[2], cp, d, dh, dcc, dG, peep, nil)
				return [][]float32{dG, dcc}
			}
			with8Lanes(func() { want = lstmBack() })
			for i, got := range lstmBack() {
				if !bitsEqual(got, want[i]) {
					t.Errorf("LSTM H=%d, dy %v: gradient %d (dG, dc) differs from the AVX2 kernel's", H, d != nil, i)
				}
			}
		}

		gg, rec, gbias := g[:n*3*H], cellRand(rng, n*3*H, 3), cellRand(rng, 6*H, 1)
		special512(rng, rec)
		hp := cellRand(rng, n*H, 1)
		gru := func() [][]float32 {
			gc := append([]float32(nil), gg...)
			hr, y := make([]float32, n*H), make([]float32, n*H)
			gruStepForwardLBR(H, gc, rec, hp, hr, y, gbias, gruTailFor(H, gbias))
			return [][]float32{gc, hr, y}
		}
		with8Lanes(func() { want = gru() })
		for i, got := range gru() {
			if !bitsEqual(got, want[i]) {
				t.Errorf("GRU H=%d: output %d (gates, hr, y) differs from the AVX2 kernel's", H, i)
			}
		}
		fw = want
		for _, d := range [][]float32{dy, nil} {
			gruBack := func() [][]float32 {
				dG, dxh, dhh := make([]float32, n*3*H), make([]float32, n*H), append([]float32(nil), dh...)
				gruStepBackwardLBR(H, fw[0], hp, fw[1], d, dhh, dG, dxh)
				return [][]float32{dG, dxh, dhh}
			}
			with8Lanes(func() { want = gruBack() })
			for i, got := range gruBack() {
				if !bitsEqual(got, want[i]) {
					t.Errorf("GRU H=%d, dy %v: gradient %d (dG, dxh, dh) differs from the AVX2 kernel's", H, d != nil, i)
				}
			}
		}
	}
}

// BenchmarkCellsAVX2 is BenchmarkCells with the 8-lane kernels alone, to
// compare with the 16-lane ones.
func BenchmarkCellsAVX2(b *testing.B) {
	with8Lanes(func() { BenchmarkCells(b) })
}

func BenchmarkActivationVecAVX2(b *testing.B) {
	with8Lanes(func() { BenchmarkActivationVec(b) })
}

// TestTrainingStepSameBitsAVX2: a training step of a reserved recurrent
// stack (LSTM, and GRU in both forms) gives the same outputs, input
// gradients and weight gradients bit for bit with AVX-512 (its GEMM and
// 16-lane cells) and with AVX2 alone, so that a run trains the same
// weights on either CPU. Batches of 13 rows and lengths 1–9 give steps of
// every count from 13 rows down, across the four rows from which training
// reads Rᵀ in place (stepInPlaceMinRows).
func TestTrainingStepSameBitsAVX2(t *testing.T) {
	skipWithout512(t)
	if !haveGemmAVX512 {
		t.Skip("no AVX-512 GEMM on this machine")
	}
	defer func(d int) { gemmDefault = d }(gemmDefault)
	for _, kind := range []recKind{kindLSTM, kindGRU0, kindGRU1} {
		run := func(gemm int, lanes8 bool) *recStack {
			gemmDefault = gemm
			s := newRecStack(kind, 13, 1, 9, 5, []int{40, 24}, 7)
			s.reserve()
			if lanes8 {
				with8Lanes(s.trainStep)
			} else {
				s.trainStep()
			}
			return s
		}
		wide, narrow := run(gemmUseAVX512, false), run(gemmUseAsm, true)
		for l := range wide.layers {
			a, b := wide.layers[l], narrow.layers[l]
			for _, v := range []struct {
				name string
				x, y []float32
			}{{"y", a.y, b.y}, {"weight gradients", a.gradBuffer, b.gradBuffer}, {"dx", a.dx, b.dx}} {
				if !bitsEqual(v.x, v.y) {
					t.Errorf("%s layer %d: %s differ between AVX-512 and AVX2", kind, l, v.name)
				}
			}
		}
	}
}
