package interp

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trnn/trnn/graph"
)

// TestReduceMatchesNaive compares every Reduce op over every subset of
// the axes of a [2, 3, 4] tensor, kept or dropped, with a direct sum over
// the multi-indices.
func TestReduceMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	shape := []int{2, 3, 4}
	x := graph.NewTensor(graph.Float64, shape...)
	for i := range x.F64 {
		x.F64[i] = rng.Float64()*2 + 0.1 // positive, so that LogSum is defined
	}
	ops := []graph.Op{graph.OpReduceMean, graph.OpReduceSum, graph.OpReduceMax, graph.OpReduceMin, graph.OpReduceProd,
		graph.OpReduceL1, graph.OpReduceL2, graph.OpReduceLogSum, graph.OpReduceLogSumExp, graph.OpReduceSumSquare}
	for _, op := range ops {
		for mask := range 8 {
			var axes []int64
			for d := range 3 {
				if mask&(1<<d) != 0 {
					axes = append(axes, int64(d-3)) // negative axes
				}
			}
			for _, keep := range []int64{0, 1} {
				got := mustRun(t, op, map[string]graph.Attr{"axes": aInts(axes...), "keepdims": aInt(keep)}, x)
				wantClose(t, op.String(), got, naiveReduce(op, x, mask, keep == 1), 1e-12)
			}
		}
	}
}

// naiveReduce reduces x over the axes set in mask (all when mask is 0).
func naiveReduce(op graph.Op, x *graph.Tensor, mask int, keep bool) *graph.Tensor {
	if mask == 0 {
		mask = 1<<len(x.Shape) - 1
	}
	var outShape []int
	for d, n := range x.Shape {
		switch {
		case mask&(1<<d) == 0:
			outShape = append(outShape, n)
		case keep:
			outShape = append(outShape, 1)
		}
	}
	groups := map[int][]float64{}
	var order []int
	for i, v := range x.F64 {
		idx := onnxUnflatten(i, x.Shape)
		key := 0
		for d, n := range x.Shape {
			if mask&(1<<d) == 0 {
				key = key*n + idx[d]
			}
		}
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], v)
	}
	out := graph.NewTensor(graph.Float64, outShape...)
	for _, key := range order {
		out.F64[key] = naiveFold(op, groups[key])
	}
	return out
}

func naiveFold(op graph.Op, v []float64) float64 {
	var s, p, mx, mn, l1, sq, se = 0.0, 1.0, math.Inf(-1), math.Inf(1), 0.0, 0.0, 0.0
	for _, x := range v {
		s, p, l1, sq, se = s+x, p*x, l1+math.Abs(x), sq+x*x, se+math.Exp(x)
		mx, mn = math.Max(mx, x), math.Min(mn, x)
	}
	return map[graph.Op]float64{graph.OpReduceMean: s / float64(len(v)), graph.OpReduceSum: s, graph.OpReduceMax: mx,
		graph.OpReduceMin: mn, graph.OpReduceProd: p, graph.OpReduceL1: l1, graph.OpReduceL2: math.Sqrt(sq),
		graph.OpReduceLogSum: math.Log(s), graph.OpReduceLogSumExp: math.Log(se), graph.OpReduceSumSquare: sq}[op]
}

func TestReduceEdgeCases(t *testing.T) {
	x := f32s([]int{2, 2}, 1, 2, 3, 4)
	// Opset 18 (13 for ReduceSum): the axes are input 1.
	got := mustRun(t, graph.OpReduceSum, nil, x, i64s([]int{1}, 1))
	wantClose(t, "axes input", got, f32s([]int{2, 1}, 3, 7), 0)
	got = mustRun(t, graph.OpReduceMean, map[string]graph.Attr{"keepdims": aInt(0)}, x, i64s([]int{0}))
	wantClose(t, "empty axes input", got, f32s(nil, 2.5), 0)
	got = mustRun(t, graph.OpReduceMean, map[string]graph.Attr{"noop_with_empty_axes": aInt(1)}, x, i64s([]int{0}))
	wantClose(t, "noop_with_empty_axes", got, x, 0)
	// Reductions over nothing give the op's value on the empty set.
	empty := f32s([]int{2, 0})
	for op, want := range map[graph.Op]float32{graph.OpReduceSum: 0, graph.OpReduceProd: 1,
		graph.OpReduceMax: float32(math.Inf(-1)), graph.OpReduceMin: float32(math.Inf(1)),
		graph.OpReduceMean: float32(math.NaN()), graph.OpReduceLogSumExp: float32(math.Inf(-1))} {
		got := mustRun(t, op, map[string]graph.Attr{"axes": aInts(1)}, empty)
		wantClose(t, op.String()+" of nothing", got, f32s([]int{2, 1}, want, want), 0)
	}
	got = mustRun(t, graph.OpReduceMax, map[string]graph.Attr{"axes": aInts(1)}, i32s([]int{1, 0}))
	wantClose(t, "int32 Max of nothing", got, i32s([]int{1, 1}, math.MinInt32), 0)
	// LogSumExp shifts by the maximum: e^1000 would overflow.
	got = mustRun(t, graph.OpReduceLogSumExp, nil, f64s([]int{2}, 1000, 1000))
	wantClose(t, "LogSumExp of large values", got, f64s([]int{1}, 1000+math.Ln2), 1e-15)
	got = mustRun(t, graph.OpReduceMean, map[string]graph.Attr{"axes": aInts(0)}, i64s([]int{2}, -3, 0))
	wantClose(t, "int64 Mean truncates", got, i64s([]int{1}, -1), 0)
	got = mustRun(t, graph.OpReduceMax, nil, f32s([]int{3}, 1, float32(math.NaN()), 2))
	wantClose(t, "Max with NaN", got, f32s([]int{1}, float32(math.NaN())), 0)
	for _, c := range []struct {
		attrs map[string]graph.Attr
		ins   []*graph.Tensor
		want  string
	}{
		{map[string]graph.Attr{"axes": aInts(2)}, []*graph.Tensor{x}, "axis 2 out of range for rank 2"},
		{map[string]graph.Attr{"axes": aInts(0, -2)}, []*graph.Tensor{x}, "axis -2 listed twice"},
		{nil, []*graph.Tensor{x, f32s([]int{1}, 0)}, "axes must be int64"},
		{nil, []*graph.Tensor{bools([]int{1}, true)}, "expected a numeric tensor"},
	} {
		if _, err := runOp(t, graph.OpReduceSum, c.attrs, 1, c.ins...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ReduceSum: error %v, want %q", err, c.want)
		}
	}
}

func TestArgMaxArgMin(t *testing.T) {
	x := f32s([]int{2, 3}, 1, 3, 3, 2, float32(math.NaN()), 0)
	wantClose(t, "ArgMax axis 1", mustRun(t, graph.OpArgMax, map[string]graph.Attr{"axis": aInt(1)}, x), i64s([]int{2, 1}, 1, 1), 0)
	last := map[string]graph.Attr{"axis": aInt(-1), "keepdims": aInt(0), "select_last_index": aInt(1)}
	wantClose(t, "ArgMax last", mustRun(t, graph.OpArgMax, last, x), i64s([]int{2}, 2, 1), 0)
	wantClose(t, "ArgMin axis 0", mustRun(t, graph.OpArgMin, nil, x), i64s([]int{1, 3}, 0, 1, 1), 0)
	if _, err := runOp(t, graph.OpArgMax, map[string]graph.Attr{"axis": aInt(1)}, 1, f32s([]int{2, 0})); err == nil {
		t.Error("ArgMax over an empty axis: no error")
	}
}

func TestCumSum(t *testing.T) {
	x := i32s([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	for _, c := range []struct {
		exclusive, reverse int64
		want               []int32
	}{
		{0, 0, []int32{1, 3, 6, 4, 9, 15}},
		{1, 0, []int32{0, 1, 3, 0, 4, 9}},
		{0, 1, []int32{6, 5, 3, 15, 11, 6}},
		{1, 1, []int32{5, 3, 0, 11, 6, 0}},
	} {
		attrs := map[string]graph.Attr{"exclusive": aInt(c.exclusive), "reverse": aInt(c.reverse)}
		got := mustRun(t, graph.OpCumSum, attrs, x, i32s(nil, -1))
		wantClose(t, "CumSum", got, i32s([]int{2, 3}, c.want...), 0)
	}
	got := mustRun(t, graph.OpCumSum, nil, f32s([]int{2, 2}, 1, 2, 3, 4), i64s([]int{1}, 0))
	wantClose(t, "axis 0", got, f32s([]int{2, 2}, 1, 2, 4, 6), 0)
	if _, err := runOp(t, graph.OpCumSum, nil, 1, x, i64s([]int{2}, 0, 1)); err == nil {
		t.Error("CumSum with two axes: no error")
	}
}

func TestSoftmaxFamily(t *testing.T) {
	x := f64s([]int{2, 2}, 1, 1000, 3, 1000)
	e := math.Exp(2)
	got := mustRun(t, graph.OpSoftmax, map[string]graph.Attr{"axis": aInt(0)}, x)
	wantClose(t, "Softmax axis 0", got, f64s([]int{2, 2}, 1/(1+e), 0.5, e/(1+e), 0.5), 1e-15)
	got = mustRun(t, graph.OpLogSoftmax, nil, x)
	wantClose(t, "LogSoftmax of large values", got, f64s([]int{2, 2}, -999, 0, -997, 0), 1e-12)
	got = mustRun(t, graph.OpHardmax, map[string]graph.Attr{"axis": aInt(0)}, f32s([]int{2, 2}, 5, 1, 5, 2))
	wantClose(t, "Hardmax ties", got, f32s([]int{2, 2}, 1, 0, 0, 1), 0)
	inf := float32(math.Inf(-1))
	got = mustRun(t, graph.OpSoftmax, nil, f32s([]int{2, 2}, inf, 0, inf, inf))
	nan := float32(math.NaN())
	wantClose(t, "masked lines", got, f32s([]int{2, 2}, 0, 1, nan, nan), 0)
	if _, err := runOp(t, graph.OpSoftmax, map[string]graph.Attr{"axis": aInt(2)}, 1, x); err == nil {
		t.Error("Softmax axis 2 of a matrix: no error")
	}
	if _, err := runOp(t, graph.OpSoftmax, nil, 1, i64s([]int{1}, 1)); err == nil {
		t.Error("Softmax of int64: no error")
	}
}

func TestLayerNormalization(t *testing.T) {
	x := f32s([]int{2, 2}, 1, 3, 2, 2)
	scale, bias := f32s([]int{2}, 1, 2), f32s([]int{2}, 0, 10)
	outs, err := runOp(t, graph.OpLayerNormalization, map[string]graph.Attr{"epsilon": aFloat(0)}, 3, x, scale, bias)
	if err != nil {
		t.Fatal(err)
	}
	// Row 0: mean 2, variance 1; row 1: mean 2, variance 0 (so 0/0).
	nan := float32(math.NaN())
	wantClose(t, "Y", outs[0], f32s([]int{2, 2}, -1, 12, nan, nan), 1e-6)
	wantClose(t, "Mean", outs[1], f32s([]int{2, 1}, 2, 2), 0)
	wantClose(t, "InvStdDev", outs[2], f32s([]int{2, 1}, 1, float32(math.Inf(1))), 0)
	// axis 0 normalises everything; a [1] scale broadcasts; no bias.
	got := mustRun(t, graph.OpLayerNormalization, map[string]graph.Attr{"axis": aInt(0)}, f64s([]int{2, 2}, 0, 0, 4, 4), f64s([]int{1}, 2))
	wantClose(t, "axis 0", got, f64s([]int{2, 2}, -2, -2, 2, 2), 1e-5)
	for _, c := range []struct {
		ins  []*graph.Tensor
		want string
	}{
		{[]*graph.Tensor{x, f32s([]int{3}, 1, 1, 1)}, "Scale has shape [3], which does not broadcast to [2]"},
		{[]*graph.Tensor{x, scale, f64s([]int{2}, 0, 0)}, "B is float64, X is float32"},
		{[]*graph.Tensor{i64s([]int{1}, 1), i64s([]int{1}, 1)}, "expected a float tensor"},
	} {
		if _, err := runOp(t, graph.OpLayerNormalization, nil, 1, c.ins...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("LayerNormalization: error %v, want %q", err, c.want)
		}
	}
}

func TestBatchNormalization(t *testing.T) {
	scale, bias, mean, variance := f32s([]int{2}, 2, 1), f32s([]int{2}, 1, 0), f32s([]int{2}, 1, -1), f32s([]int{2}, 4, 1)
	attrs := map[string]graph.Attr{"epsilon": aFloat(0)}
	// [N, C]: (x − mean)/√var·scale + B per column.
	got := mustRun(t, graph.OpBatchNormalization, attrs, f32s([]int{2, 2}, 3, 0, 1, 1), scale, bias, mean, variance)
	wantClose(t, "[N, C]", got, f32s([]int{2, 2}, 3, 1, 1, 2), 1e-6)
	// [N, C, L]: the channel is dimension 1.
	got = mustRun(t, graph.OpBatchNormalization, attrs, f32s([]int{1, 2, 2}, 1, 3, -1, 0), scale, bias, mean, variance)
	wantClose(t, "[N, C, L]", got, f32s([]int{1, 2, 2}, 1, 3, 0, 1), 1e-6)
	if _, err := runOp(t, graph.OpBatchNormalization, attrs, 1, f32s([]int{1, 3, 1}, 1, 2, 3), scale, bias, mean, variance); err == nil ||
		!strings.Contains(err.Error(), "scale has shape [2], want [3]") {
		t.Errorf("three channels, two statistics: %v", err)
	}
	if _, err := runOp(t, graph.OpBatchNormalization, attrs, 1, f32s([]int{2}, 1, 2), scale, bias, mean, variance); err == nil {
		t.Error("X of rank 1: no error")
	}
}
