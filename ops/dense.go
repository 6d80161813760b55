package ops

import "fmt"

// The time-distributed dense layer (the classifier head), forward and
// backward. It is applied to every packed step independently, so it sees
// the packed batch as N plain rows.
//
// Shape legend: N packed steps (rows), I input width, K output width.
//
//	y  = x·Wᵀ + b
//	dx += dy·W,  dW += dyᵀ·x,  db += Σ_rows dy

// DenseWeights are a dense layer's parameters as stored in the graph
// (docs/graph.md: head.W, head.b).
type DenseWeights struct {
	I, K int       // input width, output width
	W    []float32 // [K, I]
	B    []float32 // [K]; nil = 0
}

// DenseGrads are where DenseBackward accumulates gradients (it adds to them;
// a separate step zeroes them). A nil slice is a gradient not wanted.
type DenseGrads struct {
	DX []float32 // [N, I], like x
	DW []float32 // [K, I]
	DB []float32 // [K]
}

func (w DenseWeights) check(fn string) {
	if w.I < 1 || w.K < 1 {
		panic(fmt.Sprintf("ops: %s: I = %d, K = %d, want both ≥ 1", fn, w.I, w.K))
	}
	checkLen(fn, "W", w.W, w.K*w.I, false)
	checkLen(fn, "B", w.B, w.K, true)
}

// denseRows returns N, the number of rows of x [N, I].
func denseRows(fn string, w DenseWeights, x []float32) int {
	if len(x)%w.I != 0 {
		panic(fmt.Sprintf("ops: %s: len(x) = %d is not a multiple of I = %d", fn, len(x), w.I))
	}
	return len(x) / w.I
}

// DenseForward applies the layer to every row of x:
//
//	x [N, I] input (N = len(x)/I; 0 is allowed)
//	y [N, K] output y = x·Wᵀ + b, every element written; must not overlap x
//
// It allocates nothing.
func DenseForward(w DenseWeights, x, y []float32) {
	const fn = "DenseForward"
	w.check(fn)
	N := denseRows(fn, w, x)
	checkLen(fn, "y", y, N*w.K, false)
	if N == 0 {
		return
	}
	beta := float32(0)
	if w.B != nil {
		for r := 0; r < N; r++ {
			copy(y[r*w.K:(r+1)*w.K], w.B)
		}
		beta = 1
	}
	Gemm(false, true, N, w.K, w.I, 1, x, w.I, w.W, w.I, beta, y, w.K)
}

// DenseBackward accumulates the gradients of DenseForward given the
// gradient of the loss with respect to its output:
//
//	x  [N, I] the forward input
//	dy [N, K] ∂L/∂y
//	g.DX += dy·W          [N, I]
//	g.DW += dyᵀ·x         [K, I]
//	g.DB += Σ_rows dy     [K], summed in float64
//
// It allocates nothing.
func DenseBackward(w DenseWeights, x, dy []float32, g DenseGrads) {
	const fn = "DenseBackward"
	w.check(fn)
	N := denseRows(fn, w, x)
	checkLen(fn, "dy", dy, N*w.K, false)
	checkLen(fn, "DX", g.DX, N*w.I, true)
	checkLen(fn, "DW", g.DW, w.K*w.I, true)
	checkLen(fn, "DB", g.DB, w.K, true)
	if N == 0 {
		return
	}
	if g.DX != nil {
		Gemm(false, false, N, w.I, w.K, 1, dy, w.K, w.W, w.I, 1, g.DX, w.I)
	}
	if g.DW != nil {
		Gemm(true, false, w.K, w.I, N, 1, dy, w.K, x, w.I, 1, g.DW, w.I)
	}
	if g.DB != nil {
		addColumnSums(g.DB, dy, N, w.K)
	}
}

// addColumnSums adds to dst[j] the float64 sum of column j of m [rows, cols]
// (cols = len(dst)), eight columns at a time so the accumulators stay in
// registers and each row is read contiguously.
func addColumnSums(dst, m []float32, rows, cols int) {
	for j0 := 0; j0 < cols; j0 += 8 {
		w := min(8, cols-j0)
		var s [8]float64
		for r := 0; r < rows; r++ {
			row := m[r*cols+j0 : r*cols+j0+w]
			for q, v := range row {
				s[q] += float64(v)
			}
		}
		for q := 0; q < w; q++ {
			dst[j0+q] += float32(s[q])
		}
	}
}
