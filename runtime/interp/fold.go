package interp

import (
	"fmt"
	"os"
	"strconv"

	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/fileio"
)

// Limits on constant folding at load. A node whose inputs are all
// constants is computed once, when the model loads; its output is a
// function of the file alone, so a model of a few kilobytes (a Constant
// doubled by 40 Concats) can ask for terabytes. Legitimate sequence models
// fold shapes, masks and small transposed weights, far below these bounds.
const (
	// EnvMaxFoldBytes names the environment variable that changes
	// MaxFoldBytes (a number of bytes).
	EnvMaxFoldBytes = "TRNN_MAX_FOLD_BYTES"
	// MaxFoldBytes bounds one value computed while folding.
	MaxFoldBytes int64 = 64 << 20
	// foldTotalFactor bounds all folded values together, as a multiple of
	// the per-value bound.
	foldTotalFactor = 4
)

// foldBudget allocates the tensors of folded values and stops folding,
// before the allocation, when a value or the total would pass the bound.
type foldBudget struct {
	perValue, total, used int64
}

// foldLimit is raised (as a panic, recovered by run) by the allocator when
// a kernel asks for more than the budget allows: the kernels allocate
// their own outputs and have no other way to be stopped before they do.
type foldLimit struct{ msg string }

func newFoldBudget() (*foldBudget, error) {
	per := MaxFoldBytes
	if s := os.Getenv(EnvMaxFoldBytes); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%s=%q: want a positive number of bytes", EnvMaxFoldBytes, s)
		}
		per = n
	}
	return &foldBudget{perValue: per, total: foldTotalFactor * per}, nil
}

func (b *foldBudget) alloc(dt graph.DType, shape []int) *graph.Tensor {
	n, err := graph.CheckedSize(shape)
	if err != nil {
		panic(foldLimit{err.Error()})
	}
	size := int64(n) * dtypeBytes(dt)
	switch {
	case size > b.perValue:
		panic(foldLimit{fmt.Sprintf("computing it from the model's constants when the model loads would make a value of %s, shape %s, over the %s limit (set %s to raise it)",
			fileio.Bytes(size), graph.FormatShape(shape), fileio.Bytes(b.perValue), EnvMaxFoldBytes)})
	case b.used+size > b.total:
		panic(foldLimit{fmt.Sprintf("the values computed from the model's constants when it loads pass %s in all (set %s to raise the limit)",
			fileio.Bytes(b.total), EnvMaxFoldBytes)})
	}
	b.used += size
	return graph.NewTensor(dt, shape...)
}

// run folds one step, turning a foldLimit into its error.
func (b *foldBudget) run(s step, st *state) (err error) {
	defer func() {
		if r := recover(); r != nil {
			fl, ok := r.(foldLimit)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("%s", fl.msg)
		}
	}()
	return s.run(st)
}

func dtypeBytes(dt graph.DType) int64 {
	switch dt {
	case graph.Float64, graph.Int64:
		return 8
	case graph.Bool:
		return 1
	}
	return 4
}
