package serve

// Running a batch of calls as chunks that give every row the same bits
// whatever it is batched with.
//
// trnn's float32 GEMM (ops.Gemm, on CPUs with AVX2 and FMA) picks its
// kernel by the product's shape, and the kernels round differently: a
// product A·Bᵀ with at most 32 rows takes dot products of rows, two rows at
// a time, and the last row of an odd count alone, with another order of
// additions; a larger one takes an outer-product kernel. The recurrent step
// of an LSTM or GRU is such a product over the rows still running at that
// step, and the input projection one over every (row, step) pair, so a
// row's probabilities depend, in their last bit, on how many other rows
// share its batch and how long they are. (The outer-product kernel itself
// gives each element the same bits for any number of rows, and so does the
// pure-Go kernel of other CPUs, on which chunks cost copies for nothing.)
//
// A chunk is therefore shaped so that every row takes the same kernels in
// any chunk:
//   - at most chunkRows rows, so every row-count product is one of dot
//     products;
//   - each number of steps held by an even number of rows, so the rows
//     running at any step are even and none is ever the odd last one;
//   - at least minSteps (row, step) pairs, so the input projection always
//     takes the outer-product kernel.
// Rows are added to meet the last two: copies of the chunk's own rows,
// whose outputs are dropped. A request alone is run the same way, which is
// what makes a batched answer equal to an unbatched one. Rows are
// independent in a batchable model, so any split of a batch into chunks
// gives the same answers.

import (
	"cmp"
	"slices"

	"github.com/trnn/trnn"
)

const (
	// chunkRows is the most rows a chunk holds, extra rows included: the
	// largest row count ops.Gemm runs as dot products.
	chunkRows = 32
	// minSteps is the fewest (row, step) pairs a chunk computes: one more
	// than the largest count ops.Gemm runs as dot products.
	minSteps = chunkRows + 1
)

// rowRef is row r of call c, which runs steps steps.
type rowRef struct {
	c     *call
	r     int
	steps int
}

// chunk is the rows of one run: the calls' rows, then the extra rows,
// copies of some of them (each with its own steps), whose outputs are
// dropped.
type chunk struct {
	rows  []rowRef
	extra []rowRef
}

// planChunks splits rows into chunks of the shape described above. Rows
// are sorted by steps first, so that equal steps pair without copies.
// maxCopy bounds a copy's steps: 0 when a copy may run any number (x is
// padded), else the steps every row has (a model without lengths) or x's
// time dimension. With maxCopy 1, no chunk of chunkRows rows reaches
// minSteps pairs, so none needs to.
func planChunks(rows []rowRef, maxCopy int) []chunk {
	slices.SortStableFunc(rows, func(a, b rowRef) int { return cmp.Compare(b.steps, a.steps) })
	var chunks []chunk
	start := 0
	for end := 1; end <= len(rows); end++ {
		if end < len(rows) && extraRows(rows[start:end+1], maxCopy)+end+1-start <= chunkRows {
			continue
		}
		chunks = append(chunks, chunk{rows: rows[start:end], extra: extras(rows[start:end], maxCopy)})
		start = end
	}
	if len(chunks) > 1 {
		if b := balance(rows, len(chunks), maxCopy); b != nil {
			return b
		}
	}
	return chunks
}

// balance deals sorted rows to k chunks, each run of equal steps whole, in
// snake order (chunk 0 to k−1, then back), so that every chunk mixes long
// and short rows: chunks run on separate cores, and a batch takes as long
// as its slowest. It returns nil when a chunk would be over chunkRows.
func balance(rows []rowRef, k, maxCopy int) []chunk {
	bins := make([][]rowRef, k)
	for i, run := 0, 0; i < len(rows); run++ {
		j := i
		for j < len(rows) && rows[j].steps == rows[i].steps {
			j++
		}
		b := run % (2 * k)
		if b >= k {
			b = 2*k - 1 - b
		}
		bins[b] = append(bins[b], rows[i:j]...)
		i = j
	}
	chunks := make([]chunk, 0, k)
	for _, bin := range bins {
		if len(bin) == 0 {
			continue
		}
		if len(bin)+extraRows(bin, maxCopy) > chunkRows {
			return nil
		}
		chunks = append(chunks, chunk{rows: bin, extra: extras(bin, maxCopy)})
	}
	return chunks
}

// extraRows is how many rows extras adds to rows.
func extraRows(rows []rowRef, maxCopy int) int {
	odd, total := parity(rows)
	n := len(odd)
	if total < minSteps && maxCopy != 1 {
		n += 2 * pairsFor(total, maxCopy)
	}
	return n
}

// extras returns the copies that give rows the chunk shape: one of a row
// of each steps count an odd number of rows hold, then pairs of copies of
// the longest row until the chunk computes minSteps (row, step) pairs.
func extras(rows []rowRef, maxCopy int) []rowRef {
	odd, total := parity(rows)
	var out []rowRef
	for _, i := range odd {
		out = append(out, rows[i])
	}
	if total >= minSteps || maxCopy == 1 {
		return out
	}
	src := rows[0] // the longest: rows are sorted
	for range pairsFor(total, maxCopy) {
		steps := (minSteps - total + 1) / 2
		if maxCopy > 0 {
			steps = min(steps, maxCopy)
		}
		total += 2 * steps
		out = append(out, rowRef{src.c, src.r, steps}, rowRef{src.c, src.r, steps})
	}
	return out
}

// parity returns, for each steps count that an odd number of rows hold,
// the index of one such row, and the rows' total steps.
func parity(rows []rowRef) (odd []int, total int) {
	for i := 0; i < len(rows); {
		j := i
		for j < len(rows) && rows[j].steps == rows[i].steps {
			total += rows[j].steps
			j++
		}
		if (j-i)%2 == 1 {
			odd = append(odd, i)
		}
		i = j
	}
	return odd, total
}

// pairsFor is how many pairs of copies take total steps to minSteps.
func pairsFor(total, maxCopy int) int {
	if total >= minSteps {
		return 0
	}
	if maxCopy == 0 {
		return 1
	}
	return (minSteps - total + 2*maxCopy - 1) / (2 * maxCopy)
}

// runChunk runs one chunk through the model and returns its outputs, in
// the model's order, each with a row for each of the chunk's rows.
func (m *model) runChunk(ch chunk) ([]*trnn.Tensor, error) {
	out, err := m.sess.Run(m.chunkInputs(ch))
	if err != nil {
		return nil, badRequest("%v", err)
	}
	R := len(ch.rows) + len(ch.extra)
	ys := make([]*trnn.Tensor, len(m.outputs))
	for o, v := range m.outputs {
		y := out[v.Name]
		if y == nil || len(y.Shape) == 0 || y.Shape[0] != R {
			return nil, serverError("output %q: expected %d rows, got shape %s", v.Name, R, shapeOf(y))
		}
		ys[o] = y
	}
	return ys, nil
}

// scatter copies the outputs ys of chunk ch to the calls its real rows
// belong to: the outputs each call asked for.
func (m *model) scatter(ch chunk, ys []*trnn.Tensor) error {
	for o, y := range ys {
		for k, row := range ch.rows {
			if !row.c.want[o] {
				continue
			}
			if err := m.copyOutput(o, y, k, row); err != nil {
				return err
			}
		}
	}
	return nil
}

func shapeOf(t *trnn.Tensor) string {
	if t == nil {
		return "none"
	}
	return formatShape(t.Shape)
}

// chunkInputs builds the chunk's input tensors: each row's slice of its
// call's inputs, x padded with zeros to the chunk's longest, and each
// extra row's lengths set to its steps.
func (m *model) chunkInputs(ch chunk) map[string]*trnn.Tensor {
	l := &m.layout
	rows := slices.Concat(ch.rows, ch.extra)
	T := 0
	if l.pad {
		for _, row := range rows {
			T = max(T, row.c.T, row.steps)
		}
	}
	first := rows[0].c
	inputs := make(map[string]*trnn.Tensor, len(m.inputs))
	for i, v := range m.inputs {
		shape := slices.Clone(first.inputs[i].Shape)
		shape[0] = len(rows)
		if l.pad && i == l.x {
			shape[1] = T
		}
		t := newTensor(v.DType, shape)
		per := elements(shape[1:])
		for k, row := range rows {
			src := row.c.inputs[i]
			n := elements(src.Shape[1:])
			t.CopyElems(k*per, src, row.r*n, n)
		}
		inputs[v.Name] = t
	}
	if l.lengths >= 0 {
		t := inputs[m.inputs[l.lengths].Name]
		for k := len(ch.rows); k < len(rows); k++ {
			if t.DType == trnn.Int32 {
				t.I32[k] = int32(rows[k].steps)
			} else {
				t.I64[k] = int64(rows[k].steps)
			}
		}
	}
	return inputs
}

// copyOutput copies row k of y, the model's output o for a chunk, into
// row.c's output o, cut back to the call's steps along time.
func (m *model) copyOutput(o int, y *trnn.Tensor, k int, row rowRef) error {
	c, v := row.c, m.outputs[o]
	rest := y.Shape[1:]
	per := elements(rest)
	n := per
	shape := append([]int{c.rows}, rest...)
	if m.layout.timeOut[o] {
		if rest[0] < c.T {
			return serverError("output %q: %d steps, expected at least %d", v.Name, rest[0], c.T)
		}
		shape[1] = c.T
		n = c.T * elements(rest[1:])
	}
	dst := c.out[o]
	if dst == nil {
		dst = newTensor(y.DType, shape)
		c.out[o] = dst
	} else if dst.DType != y.DType || !slices.Equal(dst.Shape, shape) {
		return serverError("output %q: shape %s in one chunk, %s in another", v.Name, formatShape(dst.Shape), formatShape(shape))
	}
	dst.CopyElems(row.r*n, y, k*per, n)
	return nil
}
