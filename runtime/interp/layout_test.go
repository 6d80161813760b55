package interp

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/trnn/trnn/graph"
)

// wantErr fails t unless running op gives an error containing want.
func wantErr(t *testing.T, op graph.Op, attrs map[string]graph.Attr, nout int, want string, ins ...*graph.Tensor) {
	t.Helper()
	if _, err := runOp(t, op, attrs, nout, ins...); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%v: error %v, want %q", op, err, want)
	}
}

func TestConstantOfShape(t *testing.T) {
	got := mustRun(t, graph.OpConstantOfShape, nil, i64s([]int{2}, 2, 1))
	wantClose(t, "default", got, f32s([]int{2, 1}, 0, 0), 0)
	got = mustRun(t, graph.OpConstantOfShape, map[string]graph.Attr{"value": aTensor(i32s([]int{1}, 7))}, i64s([]int{0}))
	wantClose(t, "scalar", got, i32s(nil, 7), 0)
	wantErr(t, graph.OpConstantOfShape, nil, 1, "invalid dimension -1", i64s([]int{2}, 2, -1))
	wantErr(t, graph.OpConstantOfShape, nil, 1, "more than", i64s([]int{3}, 1<<20, 1<<20, 1<<20))
}

func TestSplit(t *testing.T) {
	x := f32s([]int{2, 7}, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13)
	for _, c := range []struct {
		attrs map[string]graph.Attr
		ins   []*graph.Tensor
		want  [][]float32
	}{
		{map[string]graph.Attr{"axis": aInt(1), "num_outputs": aInt(3)}, []*graph.Tensor{x},
			[][]float32{{0, 1, 2, 7, 8, 9}, {3, 4, 5, 10, 11, 12}, {6, 13}}},
		{map[string]graph.Attr{"axis": aInt(-1)}, []*graph.Tensor{x, i64s([]int{3}, 2, 0, 5)},
			[][]float32{{0, 1, 7, 8}, {}, {2, 3, 4, 5, 6, 9, 10, 11, 12, 13}}},
		{map[string]graph.Attr{"axis": aInt(1), "split": aInts(6, 1)}, []*graph.Tensor{x},
			[][]float32{{0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12}, {6, 13}}},
	} {
		outs, err := runOp(t, graph.OpSplit, c.attrs, len(c.want), c.ins...)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range c.want {
			wantClose(t, "Split", outs[i], f32s([]int{2, len(w) / 2}, w...), 0)
		}
	}
	got, err := runOp(t, graph.OpSplit, nil, 2, x)
	if err != nil {
		t.Fatal(err)
	}
	wantClose(t, "equal parts", got[1], f32s([]int{1, 7}, 7, 8, 9, 10, 11, 12, 13), 0)
	wantErr(t, graph.OpSplit, map[string]graph.Attr{"axis": aInt(1)}, 2, "does not split into 2 equal parts", x)
	wantErr(t, graph.OpSplit, map[string]graph.Attr{"axis": aInt(1)}, 2, "sums to 6", x, i64s([]int{2}, 3, 3))
	wantErr(t, graph.OpSplit, map[string]graph.Attr{"axis": aInt(1)}, 2, "3 sizes for 2 outputs", x, i64s([]int{3}, 3, 3, 1))
	wantErr(t, graph.OpSplit, map[string]graph.Attr{"axis": aInt(1), "num_outputs": aInt(4)}, 4, "does not split into 4 parts", f32s([]int{1, 5}, 1, 2, 3, 4, 5))
}

func TestTile(t *testing.T) {
	x := i64s([]int{2, 2}, 1, 2, 3, 4)
	got := mustRun(t, graph.OpTile, nil, x, i64s([]int{2}, 2, 3))
	wantClose(t, "Tile", got, i64s([]int{4, 6},
		1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4,
		1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4), 0)
	wantClose(t, "zero repeats", mustRun(t, graph.OpTile, nil, x, i64s([]int{2}, 0, 3)), i64s([]int{0, 6}), 0)
	wantClose(t, "scalar", mustRun(t, graph.OpTile, nil, f32s(nil, 5), i64s([]int{0})), f32s(nil, 5), 0)
	wantErr(t, graph.OpTile, nil, 1, "repeats has 1 entries for an input of rank 2", x, i64s([]int{1}, 2))
	wantErr(t, graph.OpTile, nil, 1, "invalid entry -1", x, i64s([]int{2}, 1, -1))
}

func TestPad(t *testing.T) {
	x := f32s([]int{3}, 1, 2, 3)
	for mode, want := range map[string][]float32{
		"constant": {9, 9, 1, 2, 3, 9, 9},
		"reflect":  {3, 2, 1, 2, 3, 2, 1},
		"edge":     {1, 1, 1, 2, 3, 3, 3},
		"wrap":     {2, 3, 1, 2, 3, 1, 2},
	} {
		got := mustRun(t, graph.OpPad, map[string]graph.Attr{"mode": aString(mode)}, x, i64s([]int{2}, 2, 2), f32s(nil, 9))
		wantClose(t, mode, got, f32s([]int{7}, want...), 0)
	}
	// Negative pads crop; axes (opset 18) choose the padded axes.
	m := i32s([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	got := mustRun(t, graph.OpPad, nil, m, i64s([]int{2}, -1, 1), nil, i64s([]int{1}, 1))
	wantClose(t, "crop and axes", got, i32s([]int{2, 3}, 2, 3, 0, 5, 6, 0), 0)
	got = mustRun(t, graph.OpPad, map[string]graph.Attr{"mode": aString("edge")}, m, i64s([]int{4}, 1, 0, 0, 1))
	wantClose(t, "2-D edge", got, i32s([]int{3, 4}, 1, 2, 3, 3, 1, 2, 3, 3, 4, 5, 6, 6), 0)
	// Before opset 11: attributes.
	got = mustRun(t, graph.OpPad, map[string]graph.Attr{"pads": aInts(0, 1), "value": aFloat(-1)}, x)
	wantClose(t, "attributes", got, f32s([]int{4}, 1, 2, 3, -1), 0)
	got = mustRun(t, graph.OpPad, map[string]graph.Attr{"mode": aString("reflect")}, f32s([]int{1}, 4), i64s([]int{2}, 2, 1))
	wantClose(t, "reflect one element", got, f32s([]int{4}, 4, 4, 4, 4), 0)
	wantErr(t, graph.OpPad, map[string]graph.Attr{"mode": aString("edge")}, 1, "cannot pad an empty axis", f32s([]int{0}), i64s([]int{2}, 1, 0))
	wantErr(t, graph.OpPad, nil, 1, "invalid size -1", x, i64s([]int{2}, -2, -2))
	wantErr(t, graph.OpPad, nil, 1, "pads has 2 entries for 2 axes", m, i64s([]int{2}, 1, 1))
	wantErr(t, graph.OpPad, nil, 1, "constant_value must be a float32 scalar", x, i64s([]int{2}, 1, 1), i64s(nil, 0))
	wantErr(t, graph.OpPad, nil, 1, "invalid size", x, i64s([]int{2}, 0, math.MaxInt64))
}

func TestFlattenSizeCastLike(t *testing.T) {
	x := f32s([]int{2, 3, 1}, 1, 2, 3, 4, 5, 6)
	for axis, shape := range map[int64][]int{0: {1, 6}, 2: {6, 1}, 3: {6, 1}, -1: {6, 1}, -3: {1, 6}} {
		got := mustRun(t, graph.OpFlatten, map[string]graph.Attr{"axis": aInt(axis)}, x)
		wantClose(t, "Flatten", got, f32s(shape, 1, 2, 3, 4, 5, 6), 0)
	}
	wantErr(t, graph.OpFlatten, map[string]graph.Attr{"axis": aInt(4)}, 1, "axis 4 out of range", x)
	wantClose(t, "Size", mustRun(t, graph.OpSize, nil, x), i64s(nil, 6), 0)
	wantClose(t, "CastLike", mustRun(t, graph.OpCastLike, nil, f32s([]int{2}, 1.5, -2), i32s(nil, 0)), i32s([]int{2}, 1, -2), 0)
}

func TestTrilu(t *testing.T) {
	x := i64s([]int{2, 2, 3}, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
	got := mustRun(t, graph.OpTrilu, nil, x, i64s(nil, 1))
	wantClose(t, "upper k=1", got, i64s([]int{2, 2, 3}, 0, 2, 3, 0, 0, 6, 0, 8, 9, 0, 0, 12), 0)
	got = mustRun(t, graph.OpTrilu, map[string]graph.Attr{"upper": aInt(0)}, x, i64s([]int{1}, -1))
	wantClose(t, "lower k=−1", got, i64s([]int{2, 2, 3}, 0, 0, 0, 4, 0, 0, 0, 0, 0, 10, 0, 0), 0)
	got = mustRun(t, graph.OpTrilu, nil, bools([]int{2, 2}, true, true, true, true))
	wantClose(t, "bool upper", got, bools([]int{2, 2}, true, true, false, true), 0)
	wantErr(t, graph.OpTrilu, nil, 1, "rank ≥ 2", i64s([]int{2}, 1, 2))
}

func TestDropoutInference(t *testing.T) {
	x := f32s([]int{2}, 1, 2)
	outs, err := runOp(t, graph.OpDropout, nil, 2, x, f32s(nil, 0.5), bools(nil, false))
	if err != nil {
		t.Fatal(err)
	}
	wantClose(t, "output", outs[0], x, 0)
	wantClose(t, "mask", outs[1], bools([]int{2}, true, true), 0)
	if outs[0] == x {
		t.Error("Dropout returned its input, not a copy")
	}
	mustRun(t, graph.OpDropout, nil, x, f32s(nil, 0), bools(nil, true)) // training with ratio 0 is the identity
	wantErr(t, graph.OpDropout, nil, 1, "training mode with ratio 0.5", x, nil, bools(nil, true))
	wantErr(t, graph.OpDropout, nil, 1, "training_mode must be a bool scalar", x, nil, f32s(nil, 1))
}

func TestGatherScatterElements(t *testing.T) {
	data := f32s([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	got := mustRun(t, graph.OpGatherElements, map[string]graph.Attr{"axis": aInt(1)}, data, i32s([]int{2, 2}, -1, 0, 2, 2))
	wantClose(t, "GatherElements", got, f32s([]int{2, 2}, 3, 1, 6, 6), 0)
	got = mustRun(t, graph.OpGatherElements, nil, data, i64s([]int{1, 3}, 1, 0, 1))
	wantClose(t, "axis 0", got, f32s([]int{1, 3}, 4, 2, 6), 0)
	wantErr(t, graph.OpGatherElements, nil, 1, "index 2 (element 0 of indices) out of range", data, i64s([]int{1, 1}, 2))
	wantErr(t, graph.OpGatherElements, nil, 1, "larger than data", data, i64s([]int{1, 4}, 0, 0, 0, 0))
	wantErr(t, graph.OpGatherElements, nil, 1, "different ranks", data, i64s([]int{1}, 0))
	idx, upd := i64s([]int{1, 3}, 1, 1, 0), f32s([]int{1, 3}, 10, 20, 30)
	// Row 0 receives 30 at column 0 and, in turn, 10 and 20 at column 1.
	for red, want := range map[string][]float32{
		"none": {30, 20, 3, 4, 5, 6},
		"add":  {31, 32, 3, 4, 5, 6},
		"mul":  {30, 400, 3, 4, 5, 6},
		"max":  {30, 20, 3, 4, 5, 6},
		"min":  {1, 2, 3, 4, 5, 6},
	} {
		attrs := map[string]graph.Attr{"axis": aInt(1), "reduction": aString(red)}
		got := mustRun(t, graph.OpScatterElements, attrs, data, idx, upd)
		wantClose(t, "ScatterElements "+red, got, f32s([]int{2, 3}, want...), 0)
	}
	wantErr(t, graph.OpScatterElements, nil, 1, "updates [1, 2] and indices [1, 3] have different shapes", data, idx, f32s([]int{1, 2}, 1, 2))
}

func TestOneHot(t *testing.T) {
	values := f32s([]int{2}, -1, 5)
	got := mustRun(t, graph.OpOneHot, nil, i64s([]int{3}, 0, -1, 3), f32s(nil, 3), values)
	wantClose(t, "OneHot", got, f32s([]int{3, 3}, 5, -1, -1, -1, -1, 5, -1, -1, -1), 0)
	got = mustRun(t, graph.OpOneHot, map[string]graph.Attr{"axis": aInt(0)}, f32s([]int{2}, 1.7, 0), i32s([]int{1}, 2), i64s([]int{2}, 0, 1))
	wantClose(t, "axis 0, float indices", got, i64s([]int{2, 2}, 0, 1, 1, 0), 0)
	wantErr(t, graph.OpOneHot, nil, 1, "depth must be positive", i64s([]int{1}, 0), i64s(nil, 0), values)
	wantErr(t, graph.OpOneHot, nil, 1, "values must be [off, on]", i64s([]int{1}, 0), i64s(nil, 2), f32s([]int{3}, 0, 1, 2))
	wantErr(t, graph.OpOneHot, map[string]graph.Attr{"axis": aInt(2)}, 1, "axis 2 out of range", i64s([]int{1}, 0), i64s(nil, 2), values)
}

func TestNonZero(t *testing.T) {
	got := mustRun(t, graph.OpNonZero, nil, i32s([]int{2, 2}, 0, 3, 4, 0))
	wantClose(t, "NonZero", got, i64s([]int{2, 2}, 0, 1, 1, 0), 0)
	got = mustRun(t, graph.OpNonZero, nil, bools(nil, true))
	wantClose(t, "scalar", got, i64s([]int{1, 1}, 0), 0)
}

func TestTopK(t *testing.T) {
	nan := float32(math.NaN())
	x := f32s([]int{2, 4}, 3, 1, 3, 2, nan, 0, 5, 5)
	outs, err := runOp(t, graph.OpTopK, nil, 2, x, i64s([]int{1}, 2))
	if err != nil {
		t.Fatal(err)
	}
	wantClose(t, "values", outs[0], f32s([]int{2, 2}, 3, 3, nan, 5), 0)
	wantClose(t, "indices", outs[1], i64s([]int{2, 2}, 0, 2, 0, 2), 0)
	outs, err = runOp(t, graph.OpTopK, map[string]graph.Attr{"axis": aInt(0), "largest": aInt(0)}, 2, x, i64s([]int{1}, 1))
	if err != nil {
		t.Fatal(err)
	}
	wantClose(t, "smallest", outs[0], f32s([]int{1, 4}, 3, 0, 3, 2), 0)
	wantClose(t, "smallest indices", outs[1], i64s([]int{1, 4}, 0, 1, 0, 0), 0)
	outs, err = runOp(t, graph.OpTopK, nil, 2, x, i64s([]int{1}, 0))
	if err != nil || !slices.Equal(outs[0].Shape, []int{2, 0}) {
		t.Errorf("K = 0: %v", err)
	}
	wantErr(t, graph.OpTopK, nil, 2, "K must be one value in [0, 4]", x, i64s([]int{1}, 5))
	wantErr(t, graph.OpTopK, nil, 2, "expected a numeric tensor", bools([]int{1}, true), i64s([]int{1}, 1))
}
