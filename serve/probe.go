package serve

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/trnn/trnn"
)

// The chunk shape (chunk.go) gives a row the same kernels in any chunk
// when the model's products run over rows, or over (row, step) pairs of a
// recurrent layer. A model that computes over other groupings of its rows
// (a pooled time axis reshaped into rows, say) can still give a row
// other bits in another batch. probe tries: it runs random rows alone and
// merged, and a model whose answers differ is not batched.
const (
	probeRows  = 24 // rows merged: more than one chunk, with rows of equal steps
	probeSteps = 12 // a symbolic dimension's size; 1 to 2·probeSteps for a padded x
)

// probe reports why merging would change m's answers, or nil when it gives
// every row the bits it gets alone.
func (m *model) probe() error {
	rng := rand.New(rand.NewPCG(14, 14))
	calls := make([]*call, probeRows)
	alone := make([][]*trnn.Tensor, probeRows)
	for i := range calls {
		calls[i] = m.probeCall(rng)
		if err := m.runMerged(calls[i : i+1]); err != nil {
			return err
		}
		alone[i] = calls[i].out
	}
	if err := m.runMerged(calls); err != nil {
		return err
	}
	for i, c := range calls {
		for o, y := range c.out {
			if !sameBits(y, alone[i][o]) {
				return fmt.Errorf("output %q of a row differs in a batch from the row alone", m.outputs[o].Name)
			}
		}
	}
	return nil
}

// probeCall makes a call of one random row: floats drawn from a normal
// distribution, lengths within the steps, other integers 0. Symbolic
// dimensions are probeSteps, and a padded x has a random number of steps.
func (m *model) probeCall(rng *rand.Rand) *call {
	c := &call{inputs: make([]*trnn.Tensor, len(m.inputs)), want: make([]bool, len(m.outputs))}
	for o := range c.want {
		c.want[o] = true
	}
	T := probeSteps
	if m.layout.pad {
		T = 1 + rng.IntN(2*probeSteps)
	}
	for i, v := range m.inputs {
		shape := []int{1}
		for d, dim := range v.Shape[1:] {
			switch {
			case dim.Sym == "":
				shape = append(shape, dim.Size)
			case i == m.layout.x && d == 0:
				shape = append(shape, T)
			default:
				shape = append(shape, probeSteps)
			}
		}
		t := newTensor(v.DType, shape)
		for k := range t.F32 {
			t.F32[k] = float32(rng.NormFloat64())
		}
		for k := range t.F64 {
			t.F64[k] = rng.NormFloat64()
		}
		c.inputs[i] = t
	}
	if l := m.layout.lengths; l >= 0 {
		T = c.inputs[m.layout.x].Shape[1]
		if t := c.inputs[l]; t.DType == trnn.Int32 {
			t.I32[0] = int32(rng.IntN(T + 1))
		} else {
			t.I64[0] = int64(rng.IntN(T + 1))
		}
	}
	if err := m.batchInfo(c); err != nil {
		panic("serve: a probe's row does not fit its model: " + err.Error())
	}
	return c
}

// sameBits reports whether two tensors hold the same elements, bit for bit.
func sameBits(a, b *trnn.Tensor) bool {
	if a == nil || b == nil || a.DType != b.DType || !slices.Equal(a.Shape, b.Shape) {
		return a == b
	}
	switch a.DType {
	case trnn.Float32:
		return slices.EqualFunc(a.F32, b.F32, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
	case trnn.Float64:
		return slices.EqualFunc(a.F64, b.F64, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
	}
	return slices.Equal(a.I32, b.I32) && slices.Equal(a.I64, b.I64) && slices.Equal(a.B, b.B)
}
