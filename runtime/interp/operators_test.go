package interp

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/ops"
)

// onnxRandF32 returns a float32 tensor of the given shape with values in
// [-2, 2).
func onnxRandF32(rng *rand.Rand, shape ...int) *graph.Tensor {
	t := graph.NewTensor(graph.Float32, shape...)
	for i := range t.F32 {
		t.F32[i] = float32(rng.Float64()*4 - 2)
	}
	return t
}

// onnxRandI64 returns an int64 tensor with values in [-5, 5], never 0 when
// nonzero is set.
func onnxRandI64(rng *rand.Rand, nonzero bool, shape ...int) *graph.Tensor {
	t := graph.NewTensor(graph.Int64, shape...)
	for i := range t.I64 {
		v := rng.Int64N(11) - 5
		for nonzero && v == 0 {
			v = rng.Int64N(11) - 5
		}
		t.I64[i] = v
	}
	return t
}

// onnxRefIndex maps a multi-index of a broadcast output to the flat index of
// an operand of the given shape (numpy's rule, computed the slow way).
func onnxRefIndex(idx []int, shape []int) int {
	off := len(idx) - len(shape)
	flat := 0
	for i, d := range shape {
		v := idx[off+i]
		if d == 1 {
			v = 0
		}
		flat = flat*d + v
	}
	return flat
}

// onnxUnflatten returns the multi-index of flat index i in shape.
func onnxUnflatten(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		idx[d] = i % shape[d]
		i /= shape[d]
	}
	return idx
}

// onnxMustEqual fails unless got equals want (shape, dtype and data).
func onnxMustEqual(t *testing.T, what string, got, want *graph.Tensor) {
	t.Helper()
	if got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) {
		t.Fatalf("%s: got %v %v, want %v %v", what, got.DType, graph.FormatShape(got.Shape), want.DType, graph.FormatShape(want.Shape))
	}
	if !reflect.DeepEqual(got, want) {
		for _, pair := range [][2]any{{got.F32, want.F32}, {got.F64, want.F64}, {got.I32, want.I32}, {got.I64, want.I64}, {got.B, want.B}} {
			if !reflect.DeepEqual(pair[0], pair[1]) {
				t.Fatalf("%s: data %v, want %v", what, pair[0], pair[1])
			}
		}
	}
}

var onnxBroadcastCases = [][2][]int{
	{{2, 3, 4}, {2, 3, 4}},
	{{2, 3, 4}, {4}},
	{{2, 1, 4}, {3, 1}},
	{{}, {2, 3}},
	{{2, 3}, {}},
	{{1}, {5, 1, 1}},
	{{0, 3}, {1, 3}},
	{{3, 1, 5}, {3, 4, 1}},
	{{1, 1}, {1}},
	{{4, 1}, {1, 6}},
	{{2, 1, 3, 1}, {1, 5, 1, 2}},
}

func TestONNXBinaryMatchesBroadcastReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range onnxBroadcastCases {
		a, b := onnxRandF32(rng, c[0]...), onnxRandF32(rng, c[1]...)
		ai, bi := onnxRandI64(rng, false, c[0]...), onnxRandI64(rng, true, c[1]...)
		aCopy, bCopy := clone(a, allocator{}), clone(b, allocator{})
		shape, err := broadcastShapes(c[0], c[1])
		if err != nil {
			t.Fatal(err)
		}
		for _, op := range []graph.Op{graph.OpAdd, graph.OpSub, graph.OpMul, graph.OpDiv, graph.OpLess, graph.OpGreater, graph.OpEqual} {
			got, err := binary(op, a, b, allocator{})
			if err != nil {
				t.Fatalf("%v %v: %v", op, c, err)
			}
			goti, err := binary(op, ai, bi, allocator{})
			if err != nil {
				t.Fatalf("%v %v int64: %v", op, c, err)
			}
			if !slices.Equal(got.Shape, shape) || !slices.Equal(goti.Shape, shape) {
				t.Fatalf("%v %v: shape %v, want %v", op, c, got.Shape, shape)
			}
			for i := range graph.Size(shape) {
				idx := onnxUnflatten(i, shape)
				x, y := a.F32[onnxRefIndex(idx, c[0])], b.F32[onnxRefIndex(idx, c[1])]
				xi, yi := ai.I64[onnxRefIndex(idx, c[0])], bi.I64[onnxRefIndex(idx, c[1])]
				var want float32
				var wanti int64
				var wantb, wantbi bool
				switch op {
				case graph.OpAdd:
					want, wanti = x+y, xi+yi
				case graph.OpSub:
					want, wanti = x-y, xi-yi
				case graph.OpMul:
					want, wanti = x*y, xi*yi
				case graph.OpDiv:
					want, wanti = x/y, xi/yi
				case graph.OpLess:
					wantb, wantbi = x < y, xi < yi
				case graph.OpGreater:
					wantb, wantbi = x > y, xi > yi
				case graph.OpEqual:
					wantb, wantbi = x == y, xi == yi
				}
				if got.DType == graph.Bool {
					if got.B[i] != wantb || goti.B[i] != wantbi {
						t.Fatalf("%v %v at %v: got %v/%v, want %v/%v", op, c, idx, got.B[i], goti.B[i], wantb, wantbi)
					}
				} else if got.F32[i] != want || goti.I64[i] != wanti {
					t.Fatalf("%v %v at %v: got %v/%v, want %v/%v", op, c, idx, got.F32[i], goti.I64[i], want, wanti)
				}
			}
		}
		onnxMustEqual(t, "input a after ops", a, aCopy)
		onnxMustEqual(t, "input b after ops", b, bCopy)
	}
}

func TestONNXIntegerDivTruncatesTowardZero(t *testing.T) {
	a := &graph.Tensor{DType: graph.Int32, Shape: []int{4}, I32: []int32{7, -7, 7, -7}}
	b := &graph.Tensor{DType: graph.Int32, Shape: []int{4}, I32: []int32{2, 2, -2, -2}}
	got, err := binary(graph.OpDiv, a, b, allocator{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{3, -3, -3, 3}; !slices.Equal(got.I32, want) {
		t.Fatalf("got %v, want %v", got.I32, want)
	}
}

func TestONNXBinaryErrors(t *testing.T) {
	f := graph.NewTensor(graph.Float32, 2, 3)
	for _, c := range []struct {
		op   graph.Op
		a, b *graph.Tensor
		want string
	}{
		{graph.OpAdd, f, graph.NewTensor(graph.Float32, 4), "shapes [2, 3] and [4] are not broadcastable"},
		{graph.OpAdd, f, graph.NewTensor(graph.Int64, 3), "operands have different types: float32 and int64"},
		{graph.OpDiv, &graph.Tensor{DType: graph.Int64, Shape: []int{2}, I64: []int64{1, 2}}, &graph.Tensor{DType: graph.Int64, Shape: []int{2}, I64: []int64{1, 0}}, "integer division by zero"},
		{graph.OpAnd, f, f, "expected bool operands, found float32"},
		{graph.OpAdd, graph.NewTensor(graph.Bool, 1), graph.NewTensor(graph.Bool, 1), "expected numeric operands, found bool"},
	} {
		_, err := binary(c.op, c.a, c.b, allocator{})
		if err == nil || err.Error() != c.want {
			t.Errorf("%v: error %v, want %q", c.op, err, c.want)
		}
	}
}

func TestONNXBoolOps(t *testing.T) {
	a := &graph.Tensor{DType: graph.Bool, Shape: []int{2, 2}, B: []bool{true, true, false, false}}
	b := &graph.Tensor{DType: graph.Bool, Shape: []int{2}, B: []bool{true, false}}
	and, err := binary(graph.OpAnd, a, b, allocator{})
	if err != nil {
		t.Fatal(err)
	}
	eq, err := binary(graph.OpEqual, a, b, allocator{})
	if err != nil {
		t.Fatal(err)
	}
	not, err := unary(graph.OpNot, a, allocator{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(and.B, []bool{true, false, false, false}) || !slices.Equal(eq.B, []bool{true, false, false, true}) || !slices.Equal(not.B, []bool{false, false, true, true}) {
		t.Fatalf("and %v, equal %v, not %v", and.B, eq.B, not.B)
	}
}

func TestONNXWhereBroadcastsThreeWays(t *testing.T) {
	cond := &graph.Tensor{DType: graph.Bool, Shape: []int{2, 1}, B: []bool{true, false}}
	x := &graph.Tensor{DType: graph.Int64, Shape: []int{3}, I64: []int64{1, 2, 3}}
	y := &graph.Tensor{DType: graph.Int64, Shape: []int{}, I64: []int64{-1}}
	got, err := where(cond, x, y, allocator{})
	if err != nil {
		t.Fatal(err)
	}
	onnxMustEqual(t, "where", got, &graph.Tensor{DType: graph.Int64, Shape: []int{2, 3}, I64: []int64{1, 2, 3, -1, -1, -1}})
	if _, err := where(x, x, y, allocator{}); err == nil || err.Error() != "condition must be bool, found int64" {
		t.Fatalf("error %v", err)
	}
}

func TestONNXExpand(t *testing.T) {
	x := &graph.Tensor{DType: graph.Float32, Shape: []int{3, 1}, F32: []float32{1, 2, 3}}
	got, err := expand(x, []int64{2, 1, 2}, allocator{})
	if err != nil {
		t.Fatal(err)
	}
	onnxMustEqual(t, "expand", got, &graph.Tensor{DType: graph.Float32, Shape: []int{2, 3, 2}, F32: []float32{1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3}})
	// A 1 in the target keeps the input's dimension (bidirectional rule).
	got, err = expand(x, []int64{1, 1}, allocator{})
	if err != nil {
		t.Fatal(err)
	}
	onnxMustEqual(t, "expand keeps", got, x)
	if _, err := expand(x, []int64{2, 2}, allocator{}); err == nil || !strings.Contains(err.Error(), "not broadcastable") {
		t.Fatalf("error %v", err)
	}
	if _, err := expand(x, []int64{1 << 20, 3, 1 << 20}, allocator{}); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("huge expand: error %v", err)
	}
}

func TestONNXUnary(t *testing.T) {
	x := &graph.Tensor{DType: graph.Float32, Shape: []int{4}, F32: []float32{-1, 0, 2, float32(math.NaN())}}
	relu, _ := unary(graph.OpRelu, x, allocator{})
	if relu.F32[0] != 0 || relu.F32[1] != 0 || relu.F32[2] != 2 || !math.IsNaN(float64(relu.F32[3])) {
		t.Fatalf("relu %v", relu.F32)
	}
	// Sigmoid and Tanh on 37 values (vectors and a tail) against the
	// shared activations one value at a time (their scalar path), bit for
	// bit.
	xs := &graph.Tensor{DType: graph.Float32, Shape: []int{37}, F32: make([]float32, 37)}
	for i := range xs.F32 {
		xs.F32[i] = float32(i-18) / 3
	}
	xs.F32[5] = float32(math.NaN())
	sig, _ := unary(graph.OpSigmoid, xs, allocator{})
	th, _ := unary(graph.OpTanh, xs, allocator{})
	one := make([]float32, 1)
	for i, v := range xs.F32 {
		ops.SigmoidVec(one, []float32{v})
		s := one[0]
		ops.TanhVec(one, []float32{v})
		if math.Float32bits(sig.F32[i]) != math.Float32bits(s) || math.Float32bits(th.F32[i]) != math.Float32bits(one[0]) {
			t.Fatalf("sigmoid/tanh differ from the shared activations at %d", i)
		}
	}
	x64 := &graph.Tensor{DType: graph.Float64, Shape: []int{1}, F64: []float64{0.5}}
	s64, _ := unary(graph.OpSigmoid, x64, allocator{})
	if math.Abs(s64.F64[0]-1/(1+math.Exp(-0.5))) > 1e-16 {
		t.Fatalf("float64 sigmoid %v", s64.F64[0])
	}
	ri, _ := unary(graph.OpRelu, &graph.Tensor{DType: graph.Int32, Shape: []int{2}, I32: []int32{-3, 4}}, allocator{})
	if !slices.Equal(ri.I32, []int32{0, 4}) {
		t.Fatalf("int relu %v", ri.I32)
	}
	id, _ := unary(graph.OpIdentity, x, allocator{})
	if &id.F32[0] == &x.F32[0] {
		t.Fatal("Identity aliases its input")
	}
	if _, err := unary(graph.OpTanh, ri, allocator{}); err == nil || err.Error() != "expected a float tensor, found int32" {
		t.Fatalf("error %v", err)
	}
}

func TestONNXMatMulMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ a, b, want []int }{
		{[]int{3, 4}, []int{4, 5}, []int{3, 5}},
		{[]int{4}, []int{4, 5}, []int{5}},
		{[]int{3, 4}, []int{4}, []int{3}},
		{[]int{4}, []int{4}, []int{}},
		{[]int{2, 3, 4}, []int{4, 5}, []int{2, 3, 5}},
		{[]int{2, 1, 3, 4}, []int{5, 4, 2}, []int{2, 5, 3, 2}},
		{[]int{3, 0}, []int{0, 2}, []int{3, 2}},
	} {
		a, b := onnxRandF32(rng, c.a...), onnxRandF32(rng, c.b...)
		got, err := matMul(a, b, allocator{})
		if err != nil {
			t.Fatalf("%v·%v: %v", c.a, c.b, err)
		}
		if !slices.Equal(got.Shape, c.want) {
			t.Fatalf("%v·%v: shape %v, want %v", c.a, c.b, got.Shape, c.want)
		}
		// Reference: float64 sums over the numpy-promoted operands.
		as, bs := c.a, c.b
		if len(as) == 1 {
			as = []int{1, as[0]}
		}
		if len(bs) == 1 {
			bs = []int{bs[0], 1}
		}
		m, k, n := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
		batch, _ := broadcastShapes(as[:len(as)-2], bs[:len(bs)-2])
		full := append(append(slices.Clone(batch), m), n)
		for i := range graph.Size(full) {
			idx := onnxUnflatten(i, full)
			bi := idx[:len(batch)]
			ao := onnxRefIndex(bi, as[:len(as)-2]) * m * k
			bo := onnxRefIndex(bi, bs[:len(bs)-2]) * k * n
			r, col := idx[len(batch)], idx[len(batch)+1]
			var s float64
			for p := range k {
				s += float64(a.F32[ao+r*k+p]) * float64(b.F32[bo+p*n+col])
			}
			if d := math.Abs(float64(got.F32[i]) - s); d > 1e-5 {
				t.Fatalf("%v·%v at %v: got %v, want %v", c.a, c.b, idx, got.F32[i], s)
			}
		}
	}
	ai := &graph.Tensor{DType: graph.Int64, Shape: []int{2, 2}, I64: []int64{1, 2, 3, 4}}
	got, err := matMul(ai, ai, allocator{})
	if err != nil || !slices.Equal(got.I64, []int64{7, 10, 15, 22}) {
		t.Fatalf("int64 matmul %v %v", got, err)
	}
	if _, err := matMul(graph.NewTensor(graph.Float32, 2, 3), graph.NewTensor(graph.Float32, 2, 3), allocator{}); err == nil || err.Error() != "shapes [2, 3] and [2, 3]: inner dimensions 3 and 2 differ" {
		t.Fatalf("error %v", err)
	}
}

func TestONNXGemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	M, K, N := 3, 4, 5
	for _, ta := range []bool{false, true} {
		for _, tb := range []bool{false, true} {
			for _, cShape := range [][]int{nil, {}, {N}, {1, N}, {M, 1}, {M, N}} {
				as, bs := []int{M, K}, []int{K, N}
				if ta {
					as = []int{K, M}
				}
				if tb {
					bs = []int{N, K}
				}
				a, b := onnxRandF32(rng, as...), onnxRandF32(rng, bs...)
				var c *graph.Tensor
				if cShape != nil {
					c = onnxRandF32(rng, cShape...)
				}
				const alpha, beta = 0.5, -1.5
				got, err := gemm(a, b, c, ta, tb, alpha, beta, allocator{})
				if err != nil {
					t.Fatal(err)
				}
				for i := range M {
					for j := range N {
						var s float64
						for p := range K {
							av, bv := a.F32[i*K+p], b.F32[p*N+j]
							if ta {
								av = a.F32[p*M+i]
							}
							if tb {
								bv = b.F32[j*K+p]
							}
							s += float64(av) * float64(bv)
						}
						s *= alpha
						if c != nil {
							s += beta * float64(c.F32[onnxRefIndex([]int{i, j}, cShape)])
						}
						if d := math.Abs(float64(got.F32[i*N+j]) - s); d > 1e-5 {
							t.Fatalf("transA=%v transB=%v C%v at (%d,%d): got %v, want %v", ta, tb, cShape, i, j, got.F32[i*N+j], s)
						}
					}
				}
			}
		}
	}
	_, err := gemm(graph.NewTensor(graph.Float32, 2, 3), graph.NewTensor(graph.Float32, 3, 4), graph.NewTensor(graph.Float32, 3, 4), false, false, 1, 1, allocator{})
	if err == nil || err.Error() != "C has shape [3, 4], which does not broadcast to [2, 4]" {
		t.Fatalf("error %v", err)
	}
}

func TestONNXTranspose(t *testing.T) {
	x := &graph.Tensor{DType: graph.Int64, Shape: []int{2, 3, 4}, I64: make([]int64, 24)}
	for i := range x.I64 {
		x.I64[i] = int64(i)
	}
	for _, perm := range [][]int64{nil, {0, 1, 2}, {1, 0, 2}, {2, 0, 1}, {0, 2, 1}} {
		got, err := transpose(x, perm, allocator{})
		if err != nil {
			t.Fatal(err)
		}
		p := perm
		if p == nil {
			p = []int64{2, 1, 0}
		}
		for i := range got.I64 {
			idx := onnxUnflatten(i, got.Shape)
			src := make([]int, 3)
			for j, d := range p {
				src[d] = idx[j]
			}
			if want := int64((src[0]*3+src[1])*4 + src[2]); got.I64[i] != want {
				t.Fatalf("perm %v at %v: got %d, want %d", perm, idx, got.I64[i], want)
			}
		}
	}
	if _, err := transpose(x, []int64{0, 0, 1}, allocator{}); err == nil || err.Error() != "perm [0 0 1] is not a permutation of 0..2" {
		t.Fatalf("error %v", err)
	}
}

func TestONNXSqueezeUnsqueezeReshape(t *testing.T) {
	x := graph.NewTensor(graph.Float32, 1, 3, 1, 2)
	for i := range x.F32 {
		x.F32[i] = float32(i)
	}
	for _, c := range []struct {
		name string
		f    func() (*graph.Tensor, error)
		want []int
		err  string
	}{
		{"squeeze all", func() (*graph.Tensor, error) { return squeeze(x, nil, allocator{}) }, []int{3, 2}, ""},
		{"squeeze -2", func() (*graph.Tensor, error) { return squeeze(x, []int64{-2}, allocator{}) }, []int{1, 3, 2}, ""},
		{"squeeze non-1", func() (*graph.Tensor, error) { return squeeze(x, []int64{1}, allocator{}) }, nil, "cannot squeeze axis 1 of shape [1, 3, 1, 2]: its size is 3, not 1"},
		{"squeeze out of range", func() (*graph.Tensor, error) { return squeeze(x, []int64{4}, allocator{}) }, nil, "axis 4 out of range for rank 4"},
		{"unsqueeze", func() (*graph.Tensor, error) { return unsqueeze(x, []int64{0, -1}, allocator{}) }, []int{1, 1, 3, 1, 2, 1}, ""},
		{"unsqueeze unsorted", func() (*graph.Tensor, error) { return unsqueeze(x, []int64{5, 0}, allocator{}) }, []int{1, 1, 3, 1, 2, 1}, ""},
		{"unsqueeze twice", func() (*graph.Tensor, error) { return unsqueeze(x, []int64{0, -6}, allocator{}) }, nil, "axis -6 listed twice"},
		{"reshape -1", func() (*graph.Tensor, error) { return reshape(x, []int64{-1, 2}, false, allocator{}) }, []int{3, 2}, ""},
		{"reshape 0", func() (*graph.Tensor, error) { return reshape(x, []int64{0, 0, -1}, false, allocator{}) }, []int{1, 3, 2}, ""},
		{"reshape bad", func() (*graph.Tensor, error) { return reshape(x, []int64{4, -1}, false, allocator{}) }, nil, "cannot reshape [1, 3, 1, 2] (6 elements) to [4 -1]"},
		{"reshape two -1", func() (*graph.Tensor, error) { return reshape(x, []int64{-1, -1}, false, allocator{}) }, nil, "shape [-1 -1] has more than one -1"},
		{"reshape allowzero", func() (*graph.Tensor, error) {
			return reshape(graph.NewTensor(graph.Float32, 0, 3), []int64{3, 0}, true, allocator{})
		}, []int{3, 0}, ""},
		{"reshape allowzero -1", func() (*graph.Tensor, error) {
			return reshape(graph.NewTensor(graph.Float32, 0, 3), []int64{0, -1}, true, allocator{})
		}, nil, "cannot infer the -1 of shape [0 -1] for 0 elements"},
	} {
		got, err := c.f()
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%s: error %v, want %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !slices.Equal(got.Shape, c.want) || (got.Len() > 0 && !slices.Equal(got.F32, x.F32)) {
			t.Errorf("%s: got %v %v", c.name, got.Shape, got.F32)
		}
	}
}

func TestONNXGatherConcatSlice(t *testing.T) {
	x := graph.NewTensor(graph.Int32, 3, 4)
	for i := range x.I32 {
		x.I32[i] = int32(i)
	}
	g, err := gather(x, &graph.Tensor{DType: graph.Int64, Shape: []int{2}, I64: []int64{-1, 0}}, 1, allocator{})
	if err != nil {
		t.Fatal(err)
	}
	onnxMustEqual(t, "gather axis 1", g, &graph.Tensor{DType: graph.Int32, Shape: []int{3, 2}, I32: []int32{3, 0, 7, 4, 11, 8}})
	g, err = gather(x, &graph.Tensor{DType: graph.Int32, Shape: []int{}, I32: []int32{2}}, 0, allocator{})
	if err != nil {
		t.Fatal(err)
	}
	onnxMustEqual(t, "gather scalar index", g, &graph.Tensor{DType: graph.Int32, Shape: []int{4}, I32: []int32{8, 9, 10, 11}})
	if _, err := gather(x, &graph.Tensor{DType: graph.Int64, Shape: []int{1}, I64: []int64{3}}, 0, allocator{}); err == nil || err.Error() != "index 3 (element 0 of indices) out of range for axis 0 of size 3" {
		t.Fatalf("error %v", err)
	}

	c, err := concat([]*graph.Tensor{x, onnxReshapeT(g, 1, 4)}, -2, allocator{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Shape, []int{4, 4}) || !slices.Equal(c.I32[12:], []int32{8, 9, 10, 11}) || !slices.Equal(c.I32[:12], x.I32) {
		t.Fatalf("concat %v %v", c.Shape, c.I32)
	}
	if _, err := concat([]*graph.Tensor{x, graph.NewTensor(graph.Int32, 3, 3)}, 0, allocator{}); err == nil || err.Error() != "input 1 has shape [3, 3], input 0 has [3, 4]: dimension 1 differs" {
		t.Fatalf("error %v", err)
	}

	for _, s := range []struct {
		starts, ends, axes, steps []int64
		want                      []int32
		shape                     []int
	}{
		{[]int64{1}, []int64{3}, []int64{1}, nil, []int32{1, 2, 5, 6, 9, 10}, []int{3, 2}},
		{[]int64{-1, 0}, []int64{-1000, 100}, nil, []int64{-1, 3}, []int32{8, 11, 4, 7, 0, 3}, []int{3, 2}},
		{[]int64{0, 3}, []int64{1 << 40, -1 << 40}, []int64{0, -1}, []int64{2, -2}, []int32{3, 1, 11, 9}, []int{2, 2}},
		{[]int64{5}, []int64{10}, []int64{0}, nil, nil, []int{0, 4}},
	} {
		got, err := slice(x, s.starts, s.ends, s.axes, s.steps, allocator{})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Shape, s.shape) || !slices.Equal(got.I32, s.want) && len(s.want) > 0 {
			t.Fatalf("slice %v: got %v %v, want %v %v", s, got.Shape, got.I32, s.shape, s.want)
		}
	}
	if _, err := slice(x, []int64{0}, []int64{1}, []int64{0}, []int64{0}, allocator{}); err == nil || err.Error() != "step of axis 0 is 0" {
		t.Fatalf("error %v", err)
	}
}

// onnxReshapeT returns t with a new shape (same data).
func onnxReshapeT(t *graph.Tensor, shape ...int) *graph.Tensor {
	c := *t
	c.Shape = shape
	return &c
}

func TestONNXShapeRangeCastConstant(t *testing.T) {
	x := graph.NewTensor(graph.Float32, 2, 3, 4)
	for _, c := range []struct {
		start, end int64
		hasEnd     bool
		want       []int64
	}{
		{0, 0, false, []int64{2, 3, 4}},
		{1, 0, false, []int64{3, 4}},
		{-1, 0, false, []int64{4}},
		{0, -1, true, []int64{2, 3}},
		{-10, 10, true, []int64{2, 3, 4}},
		{2, 1, true, []int64{}},
	} {
		if got := shapeOf(x, c.start, c.end, c.hasEnd, allocator{}); !slices.Equal(got.I64, c.want) || got.Shape[0] != len(c.want) {
			t.Errorf("shape start=%d end=%d: %v, want %v", c.start, c.end, got.I64, c.want)
		}
	}

	sc := func(v float32) *graph.Tensor {
		return &graph.Tensor{DType: graph.Float32, Shape: []int{}, F32: []float32{v}}
	}
	r, err := arange(sc(1), sc(2), sc(0.25), allocator{})
	if err != nil || !slices.Equal(r.F32, []float32{1, 1.25, 1.5, 1.75}) {
		t.Fatalf("range %v %v", r, err)
	}
	ri := func(v int32) *graph.Tensor { return &graph.Tensor{DType: graph.Int32, Shape: []int{}, I32: []int32{v}} }
	r, err = arange(ri(10), ri(4), ri(-3), allocator{})
	if err != nil || !slices.Equal(r.I32, []int32{10, 7}) {
		t.Fatalf("range int %v %v", r, err)
	}
	r, err = arange(ri(10), ri(4), ri(3), allocator{})
	if err != nil || len(r.I32) != 0 || r.Shape[0] != 0 {
		t.Fatalf("empty range %v %v", r, err)
	}
	if _, err := arange(ri(0), ri(4), ri(0), allocator{}); err == nil || err.Error() != "delta is 0" {
		t.Fatalf("error %v", err)
	}
	if _, err := arange(sc(0), sc(1e30), sc(1), allocator{}); err == nil || !strings.Contains(err.Error(), "too many elements") {
		t.Fatalf("error %v", err)
	}

	f := &graph.Tensor{DType: graph.Float32, Shape: []int{5}, F32: []float32{2.7, -2.7, 0, 0.5, float32(math.NaN())}}
	ci, _ := cast(f, graph.Int64, allocator{})
	if !slices.Equal(ci.I64, []int64{2, -2, 0, 0, math.MinInt64}) {
		t.Fatalf("cast to int64 %v", ci.I64)
	}
	cb, _ := cast(f, graph.Bool, allocator{})
	if !slices.Equal(cb.B, []bool{true, true, false, true, true}) {
		t.Fatalf("cast to bool %v", cb.B)
	}
	cf, _ := cast(&graph.Tensor{DType: graph.Bool, Shape: []int{2}, B: []bool{true, false}}, graph.Float64, allocator{})
	if !slices.Equal(cf.F64, []float64{1, 0}) {
		t.Fatalf("cast bool to float64 %v", cf.F64)
	}
	c32, _ := cast(&graph.Tensor{DType: graph.Int64, Shape: []int{1}, I64: []int64{1<<32 + 5}}, graph.Int32, allocator{})
	if c32.I32[0] != 5 {
		t.Fatalf("int64→int32 should wrap, got %d", c32.I32[0])
	}
	if _, err := cast(f, graph.DType(10), allocator{}); err == nil || err.Error() != "cannot cast to dtype(10)" {
		t.Fatalf("error %v", err)
	}

	k := onnxConstant(t, "value_ints", graph.Attr{Kind: graph.AttrInts, Ints: []int64{4, 5}})
	onnxMustEqual(t, "value_ints", k, &graph.Tensor{DType: graph.Int64, Shape: []int{2}, I64: []int64{4, 5}})
	k = onnxConstant(t, "value_float", graph.Attr{Kind: graph.AttrFloat, Float: 1.5})
	onnxMustEqual(t, "value_float", k, &graph.Tensor{DType: graph.Float32, Shape: []int{}, F32: []float32{1.5}})
}

// onnxConstant decodes a Constant node with one value attribute and
// returns the value it produces.
func onnxConstant(t *testing.T, name string, a graph.Attr) *graph.Tensor {
	t.Helper()
	n := &graph.Node{Op: graph.OpConstant, Outputs: []string{"k"}, Attrs: map[string]graph.Attr{name: a}}
	k, err := decode(n, operands{out: []int{0}})
	if err != nil {
		t.Fatal(err)
	}
	st := &state{vals: make([]*graph.Tensor, 1)}
	if err := k.run(st); err != nil {
		t.Fatal(err)
	}
	return st.vals[0]
}
