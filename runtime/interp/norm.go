package interp

// Normalisations: LayerNormalization (Transformer layers) and
// BatchNormalization in inference mode (convolutional front ends).
//
// Shape legend: LayerNormalization views X as [rows, n], n the product of
// the dimensions from axis on; BatchNormalization's X is [N, C, D...] with
// statistics per channel C.

import (
	"fmt"
	"math"
	"slices"

	"github.com/trnn/trnn/graph"
)

var (
	_ kernel = (*layerNormKernel)(nil)
	_ kernel = (*batchNormKernel)(nil)
)

// layerNormKernel normalises each row of X to zero mean and unit variance
// (population variance, epsilon added), then scales and shifts it by
// Scale and B, which broadcast to the normalised shape X.shape[axis:].
// Outputs 1 and 2, when named, are each row's mean and 1/√(var + ε) in
// float32, of shape X.shape[:axis] followed by ones.
type layerNormKernel struct {
	operands
	axis    int64
	epsilon float64
}

func (k *layerNormKernel) run(st *state) error {
	x, scale, bias := k.arg(st, 0), k.arg(st, 1), k.arg(st, 2)
	if x.DType != graph.Float32 && x.DType != graph.Float64 {
		return fmt.Errorf("expected a float tensor, found %v", x.DType)
	}
	ax, err := normAxis(k.axis, len(x.Shape))
	if err != nil {
		return err
	}
	normShape := x.Shape[ax:]
	scaleF, err := paramAs(scale, "Scale", x.DType, normShape)
	if err != nil {
		return err
	}
	var biasF []float64
	if bias != nil {
		if biasF, err = paramAs(bias, "B", x.DType, normShape); err != nil {
			return err
		}
	}
	rows, n := graph.Size(x.Shape[:ax]), graph.Size(normShape)
	statShape := make([]int, len(x.Shape))
	for i := range statShape {
		statShape[i] = 1
	}
	copy(statShape, x.Shape[:ax])
	// Each output is made only when it is named.
	var outs [3]*graph.Tensor
	var stats [2][]float32
	for i := range outs {
		if i < len(k.out) && k.out[i] >= 0 {
			if i == 0 {
				outs[i] = st.alloc.get(x.DType, x.Shape)
			} else {
				outs[i] = st.alloc.get(graph.Float32, statShape)
				stats[i-1] = outs[i].F32
			}
		}
	}
	if x.DType == graph.Float32 {
		var y []float32
		if outs[0] != nil {
			y = outs[0].F32
		}
		layerNormRows(x.F32, y, rows, n, scaleF, biasF, k.epsilon, stats)
	} else {
		var y []float64
		if outs[0] != nil {
			y = outs[0].F64
		}
		layerNormRows(x.F64, y, rows, n, scaleF, biasF, k.epsilon, stats)
	}
	for i, t := range outs {
		if t != nil {
			st.vals[k.out[i]] = t
		}
	}
	return nil
}

// layerNormRows normalises each of the rows of n elements of x into y
// (when not nil), and records each row's mean and 1/√(var + eps) in stats[0] and
// stats[1] (when not nil).
func layerNormRows[T float32 | float64](x, y []T, rows, n int, scale, bias []float64, eps float64, stats [2][]float32) {
	line := make([]float64, n)
	for r := range rows {
		for j := range line {
			line[j] = float64(x[r*n+j])
		}
		mu, is := meanInvStd(line, eps)
		if y != nil {
			row := y[r*n : (r+1)*n]
			for j, v := range line {
				v = (v - mu) * is * scale[j]
				if bias != nil {
					v += bias[j]
				}
				row[j] = T(v)
			}
		}
		if stats[0] != nil {
			stats[0][r] = float32(mu)
		}
		if stats[1] != nil {
			stats[1][r] = float32(is)
		}
	}
}

// meanInvStd returns the mean of line and 1/√(variance + eps).
func meanInvStd(line []float64, eps float64) (mean, invStd float64) {
	for _, v := range line {
		mean += v
	}
	mean /= float64(len(line))
	variance := 0.0
	for _, v := range line {
		variance += (v - mean) * (v - mean)
	}
	variance /= float64(len(line))
	return mean, 1 / math.Sqrt(variance+eps)
}

// paramAs returns p broadcast to shape as float64 values. p must have the
// float type dt.
func paramAs(p *graph.Tensor, what string, dt graph.DType, shape []int) ([]float64, error) {
	if p.DType != dt {
		return nil, fmt.Errorf("%s is %v, X is %v", what, p.DType, dt)
	}
	b, err := broadcastShapes(p.Shape, shape)
	if err != nil || !slices.Equal(b, shape) {
		return nil, fmt.Errorf("%s has shape %s, which does not broadcast to %s", what, graph.FormatShape(p.Shape), graph.FormatShape(shape))
	}
	full, err := expand(p, int64s(shape), allocator{})
	if err != nil {
		return nil, err
	}
	v := make([]float64, full.Len())
	for i := range v {
		v[i] = floatAt(full, i)
	}
	return v, nil
}

// batchNormKernel is BatchNormalization with the running statistics:
// y = (x − mean)/√(var + ε)·scale + B per channel.
type batchNormKernel struct {
	operands
	epsilon float64
}

func (k *batchNormKernel) run(st *state) error {
	x := k.arg(st, 0)
	if x.DType != graph.Float32 && x.DType != graph.Float64 {
		return fmt.Errorf("expected a float tensor, found %v", x.DType)
	}
	if len(x.Shape) < 2 {
		return fmt.Errorf("X must have rank ≥ 2 ([N, C, ...]), found shape %s", graph.FormatShape(x.Shape))
	}
	c := x.Shape[1]
	// Per channel, y = x·a + b.
	a, b := make([]float64, c), make([]float64, c)
	var params [4][]float64
	for i, what := range []string{"scale", "B", "input_mean", "input_var"} {
		p := k.arg(st, i+1)
		if p.DType != graph.Float32 && p.DType != graph.Float64 {
			return fmt.Errorf("%s must be a float tensor, found %v", what, p.DType)
		}
		if len(p.Shape) != 1 || p.Shape[0] != c {
			return fmt.Errorf("%s has shape %s, want [%d] (the channels of X %s)", what, graph.FormatShape(p.Shape), c, graph.FormatShape(x.Shape))
		}
		params[i] = make([]float64, c)
		for j := range c {
			params[i][j] = floatAt(p, j)
		}
	}
	for j := range c {
		a[j] = params[0][j] / math.Sqrt(params[3][j]+k.epsilon)
		b[j] = params[1][j] - params[2][j]*a[j]
	}
	out := st.alloc.get(x.DType, x.Shape)
	outer, _, inner := axisSplit(x.Shape, 1)
	for o := range outer {
		for j := range c {
			base := (o*c + j) * inner
			for i := base; i < base+inner; i++ {
				setFloat(out, i, floatAt(x, i)*a[j]+b[j])
			}
		}
	}
	return k.set(st, out, nil)
}
