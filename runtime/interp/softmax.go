package interp

// Softmax, LogSoftmax and Hardmax along one axis (their opset-13 form):
// the heads of classifiers and the weights of attention.
//
// Shape legend: the input is viewed as [outer, n, inner] around the axis;
// each of the outer·inner lines of n elements is normalised on its own.

import (
	"fmt"
	"math"

	"github.com/trnn/trnn/graph"
)

var _ kernel = (*softmaxKernel)(nil)

type softmaxKernel struct {
	operands
	op   graph.Op
	axis int64
}

func (k *softmaxKernel) run(st *state) error {
	x := k.arg(st, 0)
	if x.DType != graph.Float32 && x.DType != graph.Float64 {
		return fmt.Errorf("expected a float tensor, found %v", x.DType)
	}
	ax, err := normAxis(k.axis, len(x.Shape))
	if err != nil {
		return err
	}
	out := st.alloc.get(x.DType, x.Shape)
	outer, n, inner := axisSplit(x.Shape, ax)
	if x.DType == graph.Float32 {
		softmaxRun(k, x.F32, out.F32, outer, n, inner)
	} else {
		softmaxRun(k, x.F64, out.F64, outer, n, inner)
	}
	return k.set(st, out, nil)
}

// softmaxRun normalises each line of x into out, through a float64 copy
// of the line.
func softmaxRun[T float32 | float64](k *softmaxKernel, x, out []T, outer, n, inner int) {
	line := make([]float64, n)
	for o := range outer {
		for in := range inner {
			base := o*n*inner + in
			for j := range line {
				line[j] = float64(x[base+j*inner])
			}
			k.normalize(line)
			for j, v := range line {
				out[base+j*inner] = T(v)
			}
		}
	}
}

// normalize replaces one line by its Softmax, LogSoftmax or Hardmax. The
// exponentials are shifted by the line's maximum so that none overflows; a
// line whose maximum is infinite or NaN gives NaN, as in ONNX Runtime.
func (k *softmaxKernel) normalize(line []float64) {
	m, at := math.Inf(-1), 0
	for j, v := range line {
		if v > m || v != v && m == m {
			m, at = v, j
		}
	}
	if k.op == graph.OpHardmax {
		// The first maximum is 1, everything else 0.
		for j := range line {
			line[j] = 0
		}
		if len(line) > 0 {
			line[at] = 1
		}
		return
	}
	sum := 0.0
	if k.op == graph.OpLogSoftmax {
		for _, v := range line {
			sum += math.Exp(v - m)
		}
		ls := m + math.Log(sum)
		for j, v := range line {
			line[j] = v - ls
		}
		return
	}
	for j, v := range line {
		e := math.Exp(v - m)
		line[j] = e
		sum += e
	}
	for j := range line {
		line[j] /= sum
	}
}
