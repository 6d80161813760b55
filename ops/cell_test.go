package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The recurrent cells' step functions run the vector kernels of
// activation_amd64.s on the first vecLen(H) units of each row and the scalar
// cell functions on the rest. These tests check them against the scalar cell
// functions run on whole rows, bit for bit, for widths with and without a
// tail, inputs reaching every branch of the activations, and guard values
// around every slice.

// cellHs are the widths tried: below one vector, with tails of 1..7, and
// R1's and R2's widths.
var cellHs = []int{1, 5, 8, 13, 16, 24, 64, 67, 128}

// cellCases are the (rows, width) pairs tried: every width on 3 rows, and
// the widths with a tail on 37 rows too, whose tails fill several blocks of
// the padded kernel (celltail.go) and leave a partial last one.
func cellCases() [][2]int {
	var c [][2]int
	for _, H := range cellHs {
		c = append(c, [2]int{3, H})
		if H%8 != 0 {
			c = append(c, [2]int{37, H})
		}
	}
	return c
}

// cellRand returns n values, mostly in [−a, a], with a few large ones
// (saturating the gates) and zeros.
func cellRand(rng *rand.Rand, n int, a float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		switch rng.IntN(16) {
		case 0:
			v[i] = float32((2*rng.Float64() - 1) * 100)
		case 1:
			v[i] = 0
		default:
			v[i] = float32((2*rng.Float64() - 1) * a)
		}
	}
	return v
}

// guardedCopy returns a guarded copy of v and the guard check.
func guardedCopy(v []float32) ([]float32, func() bool) {
	s, ok := guarded(len(v), 0)
	copy(s, v)
	return s, ok
}

// lstmTailFor and gruTailFor prepare the padded tails the step functions
// take, as LSTMForward and GRUForward do once per layer.
func lstmTailFor(H int, bias, peep []float32) *lstmTail {
	t := new(lstmTail)
	t.prepare(H, bias, peep)
	return t
}

func gruTailFor(H int, bias []float32) *gruTail {
	t := new(gruTail)
	t.prepare(H, bias)
	return t
}

// expectBits fails unless got and want are bit-identical.
func expectBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Errorf("%s[%d] = %v, scalar %v", what, i, got[i], want[i])
			return
		}
	}
}

func TestLSTMCellsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 1))
	for _, c := range cellCases() {
		n, H := c[0], c[1]
		t.Run(fmt.Sprint("n=", n, "/H=", H), func(t *testing.T) {
			G := 4 * H
			g, cp := cellRand(rng, n*G, 6), cellRand(rng, n*H, 3)
			bias, peep := cellRand(rng, G, 1), cellRand(rng, 3*H, 1)
			dy, dh, dc := cellRand(rng, n*H, 1), cellRand(rng, n*H, 1), cellRand(rng, n*H, 1)
			in := [][]float32{cp, bias, peep, dy, dh, dc}
			saved := make([][]float32, len(in))
			for i, v := range in {
				saved[i] = append([]float32(nil), v...)
			}

			// Forward: the scalar cell on whole rows, then the step function.
			wg := append([]float32(nil), g...)
			wcell, wtanh, wy := make([]float32, n*H), make([]float32, n*H), make([]float32, n*H)
			for r := 0; r < n; r++ {
				lstmCellForward(0, H, wg[r*G:(r+1)*G], bias, peep, cp[r*H:(r+1)*H], wcell[r*H:(r+1)*H], wtanh[r*H:(r+1)*H], wy[r*H:(r+1)*H])
			}
			gg, okG := guardedCopy(g)
			cell, okC := guarded(n*H, float32(math.NaN()))
			tanhC, okT := guarded(n*H, float32(math.NaN()))
			y, okY := guarded(n*H, float32(math.NaN()))
			lstmStepForward(H, gg, cp, cell, tanhC, y, bias, peep, lstmTailFor(H, bias, peep))
			expectBits(t, "gates", gg, wg)
			expectBits(t, "cell", cell, wcell)
			expectBits(t, "tanhC", tanhC, wtanh)
			expectBits(t, "y", y, wy)
			if !okG() || !okC() || !okT() || !okY() {
				t.Errorf("forward wrote outside its outputs")
			}

			// Backward, with and without dy.
			for _, withDy := range []bool{true, false} {
				var dyr []float32
				if withDy {
					dyr = dy
				}
				wdG, wdc := make([]float32, n*G), append([]float32(nil), dc...)
				for r := 0; r < n; r++ {
					var d []float32
					if dyr != nil {
						d = dyr[r*H : (r+1)*H]
					}
					lstmCellBackward(0, H, wg[r*G:(r+1)*G], wtanh[r*H:(r+1)*H], cp[r*H:(r+1)*H], d, dh[r*H:(r+1)*H], wdc[r*H:(r+1)*H], wdG[r*G:(r+1)*G], peep)
				}
				dG, okD := guarded(n*G, float32(math.NaN()))
				dcc, okDc := guardedCopy(dc)
				lstmStepBackward(H, wg, wcell, wtanh, cp, dyr, dh, dcc, dG, peep, nil)
				expectBits(t, fmt.Sprintf("dG (dy %v)", withDy), dG, wdG)
				expectBits(t, fmt.Sprintf("dc (dy %v)", withDy), dcc, wdc)
				if !okD() || !okDc() {
					t.Errorf("backward (dy %v) wrote outside its outputs", withDy)
				}
			}
			for i, v := range in {
				if !bitsEqual(v, saved[i]) {
					t.Errorf("input %d was written", i)
				}
			}
		})
	}
}

func TestGRUCellsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 1))
	for _, c := range cellCases() {
		n, H := c[0], c[1]
		t.Run(fmt.Sprint("n=", n, "/H=", H), func(t *testing.T) {
			G := 3 * H
			g, rec := cellRand(rng, n*G, 6), cellRand(rng, n*G, 3)
			bias, hp := cellRand(rng, 2*G, 1), cellRand(rng, n*H, 1)
			dy, dh := cellRand(rng, n*H, 1), cellRand(rng, n*H, 1)
			in := [][]float32{rec, bias, hp, dy}
			saved := make([][]float32, len(in))
			for i, v := range in {
				saved[i] = append([]float32(nil), v...)
			}

			wg := append([]float32(nil), g...)
			whr, wy := make([]float32, n*H), make([]float32, n*H)
			for r := 0; r < n; r++ {
				gruCellForwardLBR(0, H, wg[r*G:(r+1)*G], rec[r*G:(r+1)*G], bias, hp[r*H:(r+1)*H], whr[r*H:(r+1)*H], wy[r*H:(r+1)*H])
			}
			gg, okG := guardedCopy(g)
			hr, okH := guarded(n*H, float32(math.NaN()))
			y, okY := guarded(n*H, float32(math.NaN()))
			gruStepForwardLBR(H, gg, rec, hp, hr, y, bias, gruTailFor(H, bias))
			expectBits(t, "gates", gg, wg)
			expectBits(t, "hr", hr, whr)
			expectBits(t, "y", y, wy)
			if !okG() || !okH() || !okY() {
				t.Errorf("forward wrote outside its outputs")
			}

			for _, withDy := range []bool{true, false} {
				var dyr []float32
				if withDy {
					dyr = dy
				}
				wdG, wdxh, wdh := make([]float32, n*G), make([]float32, n*H), append([]float32(nil), dh...)
				for r := 0; r < n; r++ {
					var d []float32
					if dyr != nil {
						d = dyr[r*H : (r+1)*H]
					}
					gruCellBackwardLBR(0, H, wg[r*G:(r+1)*G], hp[r*H:(r+1)*H], whr[r*H:(r+1)*H], d, wdh[r*H:(r+1)*H], wdG[r*G:(r+1)*G], wdxh[r*H:(r+1)*H])
				}
				dG, okD := guarded(n*G, float32(math.NaN()))
				dxh, okX := guarded(n*H, float32(math.NaN()))
				dhh, okDh := guardedCopy(dh)
				gruStepBackwardLBR(H, wg, hp, whr, dyr, dhh, dG, dxh)
				expectBits(t, fmt.Sprintf("dG (dy %v)", withDy), dG, wdG)
				expectBits(t, fmt.Sprintf("dxh (dy %v)", withDy), dxh, wdxh)
				expectBits(t, fmt.Sprintf("dh (dy %v)", withDy), dhh, wdh)
				if !okD() || !okX() || !okDh() {
					t.Errorf("backward (dy %v) wrote outside its outputs", withDy)
				}
			}
			for i, v := range in {
				if !bitsEqual(v, saved[i]) {
					t.Errorf("input %d was written", i)
				}
			}
		})
	}
}

// BenchmarkCells times one step of each cell over a shard of R1 (16 rows,
// H = 64), as the step functions run it ("vec") and with the scalar cell
// functions on whole rows ("scalar"), in ns per unit.
func BenchmarkCells(b *testing.B) {
	const n, H = 16, 64
	rng := rand.New(rand.NewPCG(9, 1))
	perUnit := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n*H), "ns/unit")
	}
	{
		G := 4 * H
		g0, cp := cellRand(rng, n*G, 3), cellRand(rng, n*H, 2)
		bias, peep := cellRand(rng, G, 1), make([]float32, 3*H)
		g := make([]float32, n*G)
		cell, tanhC, y := make([]float32, n*H), make([]float32, n*H), make([]float32, n*H)
		dy, dh, dc, dG := cellRand(rng, n*H, 1), cellRand(rng, n*H, 1), make([]float32, n*H), make([]float32, n*G)
		b.Run("lstmForward/vec", func(b *testing.B) {
			tail := lstmTailFor(H, bias, peep)
			for b.Loop() {
				copy(g, g0)
				lstmStepForward(H, g, cp, cell, tanhC, y, bias, peep, tail)
			}
			perUnit(b)
		})
		b.Run("lstmForward/scalar", func(b *testing.B) {
			for b.Loop() {
				copy(g, g0)
				for r := 0; r < n; r++ {
					lstmCellForward(0, H, g[r*G:(r+1)*G], bias, peep, cp[r*H:(r+1)*H], cell[r*H:(r+1)*H], tanhC[r*H:(r+1)*H], y[r*H:(r+1)*H])
				}
			}
			perUnit(b)
		})
		b.Run("lstmBackward/vec", func(b *testing.B) {
			for b.Loop() {
				lstmStepBackward(H, g, cell, tanhC, cp, dy, dh, dc, dG, peep, nil)
			}
			perUnit(b)
		})
		b.Run("lstmBackward/scalar", func(b *testing.B) {
			for b.Loop() {
				for r := 0; r < n; r++ {
					lstmCellBackward(0, H, g[r*G:(r+1)*G], tanhC[r*H:(r+1)*H], cp[r*H:(r+1)*H], dy[r*H:(r+1)*H], dh[r*H:(r+1)*H], dc[r*H:(r+1)*H], dG[r*G:(r+1)*G], peep)
				}
			}
			perUnit(b)
		})
	}
	{
		G := 3 * H
		g0, rec := cellRand(rng, n*G, 3), cellRand(rng, n*G, 2)
		bias, hp := cellRand(rng, 2*G, 1), cellRand(rng, n*H, 1)
		g := make([]float32, n*G)
		hr, y := make([]float32, n*H), make([]float32, n*H)
		dy, dh, dG, dxh := cellRand(rng, n*H, 1), cellRand(rng, n*H, 1), make([]float32, n*G), make([]float32, n*H)
		b.Run("gruForward/vec", func(b *testing.B) {
			tail := gruTailFor(H, bias)
			for b.Loop() {
				copy(g, g0)
				gruStepForwardLBR(H, g, rec, hp, hr, y, bias, tail)
			}
			perUnit(b)
		})
		b.Run("gruForward/scalar", func(b *testing.B) {
			for b.Loop() {
				copy(g, g0)
				for r := 0; r < n; r++ {
					gruCellForwardLBR(0, H, g[r*G:(r+1)*G], rec[r*G:(r+1)*G], bias, hp[r*H:(r+1)*H], hr[r*H:(r+1)*H], y[r*H:(r+1)*H])
				}
			}
			perUnit(b)
		})
		b.Run("gruBackward/vec", func(b *testing.B) {
			for b.Loop() {
				gruStepBackwardLBR(H, g, hp, hr, dy, dh, dG, dxh)
			}
			perUnit(b)
		})
		b.Run("gruBackward/scalar", func(b *testing.B) {
			for b.Loop() {
				for r := 0; r < n; r++ {
					gruCellBackwardLBR(0, H, g[r*G:(r+1)*G], hp[r*H:(r+1)*H], hr[r*H:(r+1)*H], dy[r*H:(r+1)*H], dh[r*H:(r+1)*H], dG[r*G:(r+1)*G], dxh[r*H:(r+1)*H])
				}
			}
			perUnit(b)
		})
	}
}

// TestAddColSums checks addColSums against a float64 column sum written
// here, bit for bit (both sum each column over the rows in order), on widths
// with vector blocks of 16 and 8 and scalar tails, with a leading dimension
// larger than the width whose extra columns must not be read (NaN), and
// guard values around dst.
func TestAddColSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(10, 1))
	for _, rows := range []int{0, 1, 2, 37} {
		for _, cols := range []int{1, 7, 8, 15, 16, 24, 29, 256} {
			ld := cols + 3
			m := make([]float32, max(rows*ld, 1))
			for r := 0; r < rows; r++ {
				for j := 0; j < ld; j++ {
					if j < cols {
						m[r*ld+j] = float32((2*rng.Float64() - 1) * math.Pow(10, float64(rng.IntN(9)-4)))
					} else {
						m[r*ld+j] = float32(math.NaN())
					}
				}
			}
			dst, ok := guarded(cols, 0.5)
			sum := make([]float64, cols+5)
			addColSums(dst, m, rows, ld, sum)
			for j := 0; j < cols; j++ {
				var s float64
				for r := 0; r < rows; r++ {
					s += float64(m[r*ld+j])
				}
				if want := 0.5 + float32(s); math.Float32bits(dst[j]) != math.Float32bits(want) {
					t.Fatalf("rows=%d cols=%d: dst[%d] = %v, want %v", rows, cols, j, dst[j], want)
				}
			}
			if !ok() {
				t.Fatalf("rows=%d cols=%d: addColSums wrote outside dst", rows, cols)
			}
		}
	}
}
