package interp

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/trnn/trnn/graph"
)

// convCase is one Conv configuration: spatial extents in, kernel k, and
// the attributes.
type convCase struct {
	N, C, M, G int
	in, k      []int
	spec       windowSpec
}

// randomConvCase draws a configuration of 1 to 3 spatial dimensions with
// every attribute exercised: groups, strides, dilations, explicit or
// automatic padding.
func randomConvCase(rng *rand.Rand) convCase {
	S := 1 + rng.IntN(3)
	c := convCase{N: 1 + rng.IntN(2), G: 1 + rng.IntN(2)}
	c.C, c.M = c.G*(1+rng.IntN(3)), c.G*(1+rng.IntN(3))
	for range S {
		c.in = append(c.in, 3+rng.IntN(5))
		c.k = append(c.k, 1+rng.IntN(3))
		c.spec.strides = append(c.spec.strides, int64(1+rng.IntN(2)))
		c.spec.dilations = append(c.spec.dilations, int64(1+rng.IntN(2)))
	}
	switch rng.IntN(4) {
	case 0:
		for range 2 * S {
			c.spec.pads = append(c.spec.pads, int64(rng.IntN(3)))
		}
		c.spec.autoPad = graph.AutoPadNotSet
	case 1:
		c.spec.autoPad = graph.AutoPadSameUpper
	case 2:
		c.spec.autoPad = graph.AutoPadSameLower
	default:
		c.spec.autoPad = graph.AutoPadValid
	}
	return c
}

// TestConvGemmMatchesNaive checks the im2col kernel against the direct
// definition on random configurations, float32 against float64.
func TestConvGemmMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	st := newState(0, 0)
	for i := range 300 {
		c := randomConvCase(rng)
		x := onnxRandF32(rng, append([]int{c.N, c.C}, c.in...)...)
		w := onnxRandF32(rng, append([]int{c.M, c.C / c.G}, c.k...)...)
		b := onnxRandF32(rng, c.M)
		if rng.IntN(3) == 0 {
			b = nil
		}
		got, err := conv(x, w, b, c.spec, c.G, st)
		if err != nil {
			if strings.Contains(err.Error(), "more than the") {
				continue // a dilated window wider than a small padded input
			}
			t.Fatalf("case %d %+v: %v", i, c, err)
		}
		want, err := conv(toF64(x), toF64(w), toF64(b), c.spec, c.G, st)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Shape, want.Shape) {
			t.Fatalf("case %d: shape %v, want %v", i, got.Shape, want.Shape)
		}
		for j, v := range want.F64 {
			if d := math.Abs(float64(got.F32[j]) - v); d > 1e-4*(1+math.Abs(v)) {
				t.Fatalf("case %d %+v: element %d is %v, want %v", i, c, j, got.F32[j], v)
			}
		}
		st.recycle(got)
	}
}

func toF64(t *graph.Tensor) *graph.Tensor {
	if t == nil {
		return nil
	}
	out := graph.NewTensor(graph.Float64, t.Shape...)
	for i, v := range t.F32 {
		out.F64[i] = float64(v)
	}
	return out
}

// TestConvSamePadding: SAME_UPPER keeps ceil(in/stride) positions and puts
// the odd padding at the end, SAME_LOWER at the beginning.
func TestConvSamePadding(t *testing.T) {
	x := graph.FromF32([]float32{1, 2, 3, 4}, 1, 1, 4)
	w := graph.FromF32([]float32{1, 10}, 1, 1, 2)
	for _, c := range []struct {
		pad  string
		want []float32
	}{
		{graph.AutoPadSameUpper, []float32{21, 32, 43, 4}},
		{graph.AutoPadSameLower, []float32{10, 21, 32, 43}},
		{graph.AutoPadValid, []float32{21, 32, 43}},
	} {
		y, err := conv(x, w, nil, windowSpec{autoPad: c.pad}, 1, newState(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(y.F32, c.want) {
			t.Errorf("%s: %v, want %v", c.pad, y.F32, c.want)
		}
	}
}

// TestConvOperandErrors: every mismatch is an error naming it, never a
// panic.
func TestConvOperandErrors(t *testing.T) {
	f := func(shape ...int) *graph.Tensor { return graph.NewTensor(graph.Float32, shape...) }
	for _, c := range []struct {
		x, w, b *graph.Tensor
		spec    windowSpec
		group   int
		want    string
	}{
		{f(1, 2, 5), f(3, 2), nil, windowSpec{}, 1, "same rank"},
		{f(2, 5), f(3, 2), nil, windowSpec{}, 1, "same rank"},
		{f(1, 2, 5), f(3, 1, 2), nil, windowSpec{}, 1, "does not fit"},
		{f(1, 4, 5), f(3, 2, 2), nil, windowSpec{}, 2, "does not fit"},
		{f(1, 2, 5), f(3, 2, 2), f(2), windowSpec{}, 1, "B must be [3]"},
		{f(1, 2, 5), f(3, 2, 2), nil, windowSpec{kernel: []int64{3}}, 1, "kernel_shape"},
		{f(1, 2, 5), f(3, 2, 0), nil, windowSpec{}, 1, "empty kernel"},
		{f(1, 2, 2), f(3, 2, 3), nil, windowSpec{}, 1, "more than the 2"},
		{f(1, 2, 5), f(3, 2, 2), nil, windowSpec{strides: []int64{1, 1}}, 1, "strides is for 2"},
		{f(1, 2, 5), graph.NewTensor(graph.Float64, 3, 2, 2), nil, windowSpec{}, 1, "one element type"},
		{graph.NewTensor(graph.Int64, 1, 2, 5), f(3, 2, 2), nil, windowSpec{}, 1, "float32 or float64"},
	} {
		_, err := conv(c.x, c.w, c.b, c.spec, c.group, newState(0, 0))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("X %v W %v: error %v, want one containing %q", c.x.Shape, c.w.Shape, err, c.want)
		}
	}
}

// poolRun runs a pool node on x and returns Y and, for MaxPool, Indices.
func poolRun(t *testing.T, op graph.Op, x *graph.Tensor, attrs map[string]graph.Attr) (*graph.Tensor, *graph.Tensor, error) {
	t.Helper()
	n := &graph.Node{Op: op, Attrs: attrs}
	st := newState(3, 0)
	st.vals[0] = x
	k := decodePool(n, operands{in: []int{0}, out: []int{1, 2}})
	err := k.run(st)
	return st.vals[1], st.vals[2], err
}

func ints(v ...int64) graph.Attr { return graph.Attr{Kind: graph.AttrInts, Ints: v} }

// TestAveragePoolPadding: with count_include_pad the padding inside the
// padded extent counts in the divisor; without it only input positions do.
func TestAveragePoolPadding(t *testing.T) {
	x := graph.FromF32([]float32{2, 4, 6}, 1, 1, 3)
	for _, c := range []struct {
		include int64
		want    []float32
	}{{0, []float32{3, 5}}, {1, []float32{2, 10.0 / 3}}} {
		y, _, err := poolRun(t, graph.OpAveragePool, x, map[string]graph.Attr{
			"kernel_shape": ints(3), "strides": ints(2), "pads": ints(1, 1),
			"count_include_pad": {Kind: graph.AttrInt, Int: c.include}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(y.F32, c.want) {
			t.Errorf("count_include_pad %d: %v, want %v", c.include, y.F32, c.want)
		}
	}
}

// TestMaxPoolIndices: the indices count the whole tensor, row-major or,
// with storage_order 1, column-major within each plane.
func TestMaxPoolIndices(t *testing.T) {
	// Two planes of 2×3; the maxima of the 2×2 windows at (0,0) and (0,1).
	x := graph.FromF32([]float32{1, 9, 3, 4, 5, 6, 7, 8, 9, 1, 2, 3}, 1, 2, 2, 3)
	for _, c := range []struct {
		order int64
		want  []int64
	}{{0, []int64{1, 1, 7, 8}}, {1, []int64{2, 2, 8, 10}}} {
		y, idx, err := poolRun(t, graph.OpMaxPool, x, map[string]graph.Attr{
			"kernel_shape": ints(2, 2), "storage_order": {Kind: graph.AttrInt, Int: c.order}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(y.F32, []float32{9, 9, 8, 9}) || !slices.Equal(idx.I64, c.want) {
			t.Errorf("storage_order %d: Y %v, Indices %v; want [9 9 8 9], %v", c.order, y.F32, idx.I64, c.want)
		}
	}
}

// TestMaxPoolSkipsNaNAndPadding: neither NaN nor padding is a maximum; a
// window holding neither anything else gives the lowest float.
func TestMaxPoolSkipsNaNAndPadding(t *testing.T) {
	nan := float32(math.NaN())
	x := graph.FromF32([]float32{nan, -3, -5}, 1, 1, 3)
	y, _, err := poolRun(t, graph.OpMaxPool, x, map[string]graph.Attr{"kernel_shape": ints(2), "pads": ints(2, 0)})
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{-math.MaxFloat32, -math.MaxFloat32, -3, -3}
	if !slices.Equal(y.F32, want) {
		t.Errorf("%v, want %v", y.F32, want)
	}
}

// TestPoolErrors: shapes the reader cannot see are errors, never panics.
func TestPoolErrors(t *testing.T) {
	for _, c := range []struct {
		x     *graph.Tensor
		attrs map[string]graph.Attr
		want  string
	}{
		{graph.NewTensor(graph.Float32, 2, 3), map[string]graph.Attr{"kernel_shape": ints(2)}, "at least one spatial"},
		{graph.NewTensor(graph.Float32, 1, 1, 4), map[string]graph.Attr{"kernel_shape": ints(2, 2)}, "2 spatial dimensions"},
		{graph.NewTensor(graph.Float32, 1, 1, 1), map[string]graph.Attr{"kernel_shape": ints(2)}, "more than the 1"},
		{graph.NewTensor(graph.Int32, 1, 1, 4), map[string]graph.Attr{"kernel_shape": ints(2)}, "float32 or float64"},
		{graph.NewTensor(graph.Float32, 1, 1, 4), map[string]graph.Attr{"kernel_shape": ints(2), "pads": ints(1, 1, 1, 1)}, "pads is for 2"},
	} {
		_, _, err := poolRun(t, graph.OpMaxPool, c.x, c.attrs)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("X %v %v: error %v, want one containing %q", c.x.Shape, c.attrs, err, c.want)
		}
	}
	st := newState(2, 0)
	st.vals[0] = graph.NewTensor(graph.Bool, 1, 1, 2)
	if err := (&globalPoolKernel{operands{in: []int{0}, out: []int{1}}, true}).run(st); err == nil {
		t.Error("GlobalMaxPool of bool: no error")
	}
}

// TestGlobalPools reduces each plane to its mean or maximum.
func TestGlobalPools(t *testing.T) {
	x := &graph.Tensor{DType: graph.Float64, Shape: []int{1, 2, 2, 2}, F64: []float64{1, 2, 3, 4, -1, -2, -3, -4}}
	for _, c := range []struct {
		isMax bool
		want  []float64
	}{{false, []float64{2.5, -2.5}}, {true, []float64{4, -1}}} {
		st := newState(2, 0)
		st.vals[0] = x
		if err := (&globalPoolKernel{operands{in: []int{0}, out: []int{1}}, c.isMax}).run(st); err != nil {
			t.Fatal(err)
		}
		if y := st.vals[1]; !slices.Equal(y.Shape, []int{1, 2, 1, 1}) || !slices.Equal(y.F64, c.want) {
			t.Errorf("max %v: %v %v, want [1 2 1 1] %v", c.isMax, y.Shape, y.F64, c.want)
		}
	}
}

// poolNaive is pooling by its definition, one kernel offset at a time: the
// oracle of avgPool and maxPool.
func poolNaive(x []float64, g *window, planes int, isMax, includePad bool) []float64 {
	I, O, K := graph.Size(g.in), graph.Size(g.out), graph.Size(g.kernel)
	y := make([]float64, planes*O)
	pos, koff := make([]int, len(g.in)), make([]int, len(g.in))
	for p := range planes {
		for o := range O {
			unravel(pos, o, g.out)
			sum, count, best, seen := 0.0, 0, -math.MaxFloat64, false
			for k := range K {
				unravel(koff, k, g.kernel)
				inPadded := true
				for i := range pos {
					q := pos[i]*g.stride[i] - g.pad[i] + koff[i]*g.dil[i]
					inPadded = inPadded && q >= -g.pad[i] && q < g.in[i]+g.padEnd[i]
				}
				if at, ok := g.at(pos, koff); ok {
					v := x[p*I+at]
					sum, count = sum+v, count+1
					if !seen || v > best {
						best, seen = v, true
					}
				} else if includePad && inPadded {
					count++
				}
			}
			switch {
			case isMax:
				y[p*O+o] = best
			case count > 0:
				y[p*O+o] = sum / float64(count)
			}
		}
	}
	return y
}

// TestPoolsMatchNaive checks both pools against the definition on random
// windows: 1 to 3 dimensions, strides, dilations, padding, ceil_mode.
func TestPoolsMatchNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 400 {
		c := randomConvCase(rng)
		c.spec.ceil = rng.IntN(2) == 0
		for range c.in {
			c.spec.kernel = append(c.spec.kernel, int64(1+rng.IntN(3)))
		}
		kernel := make([]int, len(c.spec.kernel))
		for j, v := range c.spec.kernel {
			kernel[j] = int(v)
		}
		g, err := c.spec.geometry(c.in, kernel)
		if err != nil {
			continue
		}
		planes := c.N * c.C
		x := make([]float64, planes*graph.Size(c.in))
		for j := range x {
			x[j] = rng.NormFloat64()
		}
		O := graph.Size(g.out)
		for _, isMax := range []bool{false, true} {
			include := rng.IntN(2) == 0
			got := make([]float64, planes*O)
			if isMax {
				maxPool(got, x, nil, g, false)
			} else {
				avgPool(got, x, g, include)
			}
			want := poolNaive(x, g, planes, isMax, include)
			for j := range want {
				if math.Abs(got[j]-want[j]) > 1e-12*(1+math.Abs(want[j])) {
					t.Fatalf("case %d %+v max %v: element %d is %v, want %v", i, c, isMax, j, got[j], want[j])
				}
			}
		}
	}
}

// TestConvDegenerateShapes: empty batches, channels and inputs padded to
// a window give empty or padding-only results, an empty input no window
// fits an error (shape nil), never a panic.
func TestConvDegenerateShapes(t *testing.T) {
	f := func(shape ...int) *graph.Tensor { return graph.NewTensor(graph.Float32, shape...) }
	for _, c := range []struct {
		x, w  *graph.Tensor
		spec  windowSpec
		shape []int
	}{
		{f(0, 2, 5), f(3, 2, 2), windowSpec{}, []int{0, 3, 4}},
		{f(1, 0, 5), f(3, 0, 2), windowSpec{}, []int{1, 3, 4}},
		{f(1, 2, 0), f(3, 2, 2), windowSpec{pads: []int64{1, 1}}, []int{1, 3, 1}},
		{f(1, 2, 0), f(3, 2, 2), windowSpec{autoPad: graph.AutoPadSameUpper}, []int{1, 3, 0}},
		{f(2, 1, 3, 0), f(1, 1, 1, 1), windowSpec{}, nil},
	} {
		y, err := conv(c.x, c.w, nil, c.spec, 1, newState(0, 0))
		if c.shape == nil {
			if err == nil {
				t.Errorf("X %v W %v: no error", c.x.Shape, c.w.Shape)
			}
			continue
		}
		if err != nil || !slices.Equal(y.Shape, c.shape) {
			t.Errorf("X %v W %v: %v, %v; want shape %v", c.x.Shape, c.w.Shape, y, err, c.shape)
		}
		if err == nil && slices.ContainsFunc(y.F32, func(v float32) bool { return v != 0 }) {
			t.Errorf("X %v W %v: nonzero output %v", c.x.Shape, c.w.Shape, y.F32)
		}
	}
}

// TestPoolDegenerateShapes: empty batches, channels and padded empty
// inputs pool without a panic.
func TestPoolDegenerateShapes(t *testing.T) {
	for _, shape := range [][]int{{0, 1, 4}, {1, 0, 4}, {1, 1, 0}, {2, 3, 0, 2}} {
		for _, op := range []graph.Op{graph.OpMaxPool, graph.OpAveragePool} {
			kernel := ints(2)
			pads := ints(1, 1)
			if len(shape) == 4 {
				kernel, pads = ints(2, 1), ints(1, 0, 1, 0)
			}
			y, idx, err := poolRun(t, op, graph.NewTensor(graph.Float32, shape...),
				map[string]graph.Attr{"kernel_shape": kernel, "pads": pads, "count_include_pad": {Kind: graph.AttrInt, Int: 1}})
			if err != nil {
				t.Errorf("%v %v: %v", op, shape, err)
				continue
			}
			if y.Len() != graph.Size(y.Shape) || (op == graph.OpMaxPool && idx.Len() != y.Len()) {
				t.Errorf("%v %v: Y %v", op, shape, y.Shape)
			}
		}
	}
}
