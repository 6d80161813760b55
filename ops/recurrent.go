package ops

import "fmt"

// Machinery shared by the fused recurrent kernels (lstm.go, gru.go).
//
// Shape legend: B rows, T steps, N packed steps (Σ lengths), I input width,
// H hidden units, G gate width (4H for the LSTM, 3H for the GRU).
//
// Both kernels follow one plan (design.md, "Runtime principles"):
//
//   - forward: the input projection of all N packed rows is one GEMM; step t
//     then adds one recurrent GEMM over its Active[t] rows (contiguous in the
//     packed layout, rows sorted by length) and applies the gates row by row;
//   - backward: the steps run in reverse, each with one GEMM over its active
//     rows carrying the gradient to the previous state; the gradients of W, R
//     and x are then a few large GEMMs over all N rows;
//   - every buffer comes from a cache sized once and resliced per call, so a
//     steady-state forward + backward allocates nothing.
//
// hprev, the state each packed row started from (H_{t−1}, or h0/0 at t = 0),
// is kept per packed row: it makes the recurrent operand of step t contiguous
// and lets dR be one GEMM after the step loop.

// arena carves consecutive float32 slices out of one backing array, which it
// grows (allocating) only when asked for more than it has ever held. Slices
// it hands out are not zeroed: they hold whatever the previous call left.
type arena struct {
	buf  []float32
	used int
}

// reset makes room for n floats in total and starts carving from the front.
func (a *arena) reset(n int) {
	if cap(a.buf) < n {
		a.buf = make([]float32, n)
	}
	a.buf = a.buf[:cap(a.buf)]
	a.used = 0
}

// take returns the next n floats (not zeroed), capped at length n.
func (a *arena) take(n int) []float32 {
	s := a.buf[a.used : a.used+n : a.used+n]
	a.used += n
	return s
}

// grown returns s resliced to n elements, allocating only when its
// capacity is short. The contents are not zeroed.
func grown[T float32 | float64](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// addColSums adds to dst[j] the sum over rows r of m[r·ld+j], j < len(dst),
// summed in float64 (sum is scratch of at least len(dst) elements) so that a
// bias gradient over thousands of packed rows keeps float32 accuracy. Each
// column is summed over the rows in order; the vector kernel takes the first
// vecLen(len(dst)) columns, with the same bits.
func addColSums(dst []float32, m []float32, rows, ld int, sum []float64) {
	cols := len(dst)
	sum = sum[:cols]
	v := 0
	if rows > 0 {
		v = vecLen(cols)
	}
	if v > 0 {
		_ = m[(rows-1)*ld+v-1]
		colSumsAsm(rows, v, ld, &m[0], &sum[0])
	}
	tail := sum[v:]
	clear(tail)
	for r := 0; r < rows; r++ {
		row := m[r*ld+v : r*ld+cols]
		row = row[:len(tail)]
		for j := range tail {
			tail[j] += float64(row[j])
		}
	}
	for j, s := range sum {
		dst[j] += float32(s)
	}
}

// addRows adds src to dst elementwise (len(dst) elements).
func addRows(dst, src []float32) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] += src[i]
	}
}

// writeFinalState writes, for every row b, the H values of packed row
// Last(b) of src into dst[b] (0 for a row of length 0, ONNX Runtime's rule).
// A nil dst is skipped.
func writeFinalState(p *Packing, src, dst []float32, H int) {
	if dst == nil {
		return
	}
	for b, l := range p.Lengths {
		d := dst[b*H : (b+1)*H]
		if l == 0 {
			clear(d)
			continue
		}
		r := p.Offset[l-1] + b
		copy(d, src[r*H:(r+1)*H])
	}
}

// checkLen panics (a programming error: callers validate user input) unless
// s has exactly want elements, or is nil when optional.
func checkLen(fn, name string, s []float32, want int, optional bool) {
	if s == nil && optional {
		return
	}
	if len(s) != want {
		panic(fmt.Sprintf("ops: %s: len(%s) = %d, want %d", fn, name, len(s), want))
	}
}

// checkPacking panics unless p is a consistent layout (Offset and Active
// sized for its steps), which Packing.Reset guarantees.
func checkPacking(fn string, p *Packing) {
	if p == nil || len(p.Offset) != len(p.Active)+1 {
		panic(fmt.Sprintf("ops: %s: packing not laid out by Packing.Reset", fn))
	}
}
