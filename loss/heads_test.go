package loss

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/trnn/trnn/ops"
)

// B rows, T steps, N packed steps, W head width, K label entries per step.

// packSteps packs padded per-step values [B, T, K] to [N, K].
func packSteps(p *ops.Packing, T, K int, padded []float32) []float32 {
	out := make([]float32, p.N()*K)
	for b, l := range p.Lengths {
		for t := 0; t < l; t++ {
			copy(out[p.Index(b, t)*K:p.Index(b, t)*K+K], padded[(b*T+t)*K:])
		}
	}
	return out
}

// randClasses draws B class indices in [0, C).
func randClasses(rng *rand.Rand, B, C int) []float32 {
	y := make([]float32, B)
	for i := range y {
		y[i] = float32(rng.IntN(C))
	}
	return y
}

// randTargets draws real targets on the grid 1/16 in [−4, 4].
func randTargets(rng *rand.Rand, n int) []float32 {
	y := make([]float32, n)
	for i := range y {
		y[i] = float32(rng.IntN(129)-64) / 16
	}
	return y
}

// randStepLabels draws packed per-step labels [N, K] for head h with about
// half the entries unlabelled (NaN), and none at all in the rows listed in
// empty.
func randStepLabels(rng *rand.Rand, p *ops.Packing, h Head, W int, empty ...int) []float32 {
	K := W
	if h == HeadSoftmax {
		K = 1
	}
	y := make([]float32, p.N()*K)
	for i := range y {
		switch {
		case rng.IntN(2) == 0:
			y[i] = float32(math.NaN())
		case h == HeadSoftmax:
			y[i] = float32(rng.IntN(W))
		case h == HeadSigmoid:
			y[i] = float32(rng.IntN(2))
		default:
			y[i] = float32(rng.IntN(129)-64) / 16
		}
	}
	for _, b := range empty {
		for t := 0; t < p.Lengths[b]; t++ {
			for k := range K {
				y[p.Index(b, t)*K+k] = float32(math.NaN())
			}
		}
	}
	return y
}

func randWeights(rng *rand.Rand, B int) []float32 {
	w := make([]float32, B)
	for b := range w {
		w[b] = float32(rng.IntN(8)+1) / 4
	}
	return w
}

func TestHeadString(t *testing.T) {
	for h, want := range map[Head]string{HeadSigmoid: "sigmoid", HeadSoftmax: "softmax", HeadIdentity: "identity", 9: "Head(9)"} {
		if got := h.String(); got != want {
			t.Errorf("Head(%d).String() = %q; want %q", uint8(h), got, want)
		}
	}
}

func TestHeadsCheck(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want string // "" = valid
	}{
		{"softmax", (&SoftmaxTR{Alpha: 0.5, Average: LinearGain}).Check(), ""},
		{"softmax alpha", (&SoftmaxTR{Alpha: 2}).Check(), "target_replication.alpha: expected a number in [0, 1], found 2"},
		{"squared average", (&SquaredTR{Average: 5}).Check(), "target_replication.average: expected all_steps, exclude_final or linear_gain, found Average(5)"},
		{"squared alpha NaN", (&SquaredTR{Alpha: math.NaN()}).Check(), "target_replication.alpha: expected a number in [0, 1], found NaN"},
		{"per step", (&PerStep{Head: HeadSigmoid, PosWeight: []float32{1, 3}}).Check(2), ""},
		{"per step softmax", (&PerStep{Head: HeadSoftmax}).Check(4), ""},
		{"per step head", (&PerStep{Head: 3}).Check(1), "outputs: unknown head Head(3)"},
		{"per step pos_weight softmax", (&PerStep{Head: HeadSoftmax, PosWeight: []float32{1, 1}}).Check(2),
			"pos_weight: applies to sigmoid labels only, not to a softmax head"},
		{"per step pos_weight length", (&PerStep{PosWeight: []float32{1}}).Check(2), "pos_weight: expected one weight per label (2), found 1"},
		{"per step pos_weight value", (&PerStep{PosWeight: []float32{1, -1}}).Check(2), "pos_weight[1]: expected a positive finite number, found -1"},
	} {
		switch {
		case c.want == "" && c.err != nil:
			t.Errorf("%s: %v; want nil", c.name, c.err)
		case c.want != "" && (c.err == nil || c.err.Error() != c.want):
			t.Errorf("%s: %v; want %s", c.name, c.err, c.want)
		}
	}
}

func TestCheckClasses(t *testing.T) {
	if err := CheckClasses([]float32{0, 2, 1, 2}, 3); err != nil {
		t.Errorf("valid classes: %v", err)
	}
	for _, c := range []struct {
		y    []float32
		want string
	}{
		{[]float32{0, 3}, "y[1]: expected a class index in 0..2, found 3"},
		{[]float32{1.5}, "y[0]: expected a class index in 0..2, found 1.5"},
		{[]float32{0, 0, -1}, "y[2]: expected a class index in 0..2, found -1"},
		{[]float32{float32(math.NaN())}, "y[0]: expected a class index in 0..2, found NaN"},
		{[]float32{float32(math.Inf(1))}, "y[0]: expected a class index in 0..2, found +Inf"},
		{[]float32{3e9}, "y[0]: expected a class index in 0..2, found 3e+09"},
	} {
		if err := CheckClasses(c.y, 3); err == nil || err.Error() != c.want {
			t.Errorf("CheckClasses(%v) = %v; want %s", c.y, err, c.want)
		}
	}
}

// TestSoftmaxTRHandWorked: with all-zero logits over C = 4 classes every
// step has ℓ = ln 4 and ∂ℓ/∂z = 1/4 − [j = c], whatever α; logits (ln 3, 0)
// over 2 classes give softmax (3/4, 1/4).
func TestSoftmaxTRHandWorked(t *testing.T) {
	bt := newBatch([]int{3}, 4, make([]float32, 12), nil)
	o := SoftmaxTR{Alpha: 0.5, Average: LinearGain}
	d := make([]float32, 12)
	perSeq, final := make([]float64, 1), make([]float64, 1)
	total := o.ForwardBackward(bt.p, 4, bt.packed, []float32{2}, []float32{3}, 1, d, perSeq, final)
	if l4 := math.Log(4); !near(total, 3*l4, 1e-15) || !near(perSeq[0], l4, 1e-15) || !near(final[0], l4, 1e-15) {
		t.Errorf("total %.17g, L %.17g, final %.17g; want 3·ln 4, ln 4, ln 4", total, perSeq[0], final[0])
	}
	// Coefficients: ½·(1/6, 2/6, 3/6) + (0, 0, ½) = (1/12, 1/6, 3/4), times w = 3.
	for t0, c := range []float64{0.25, 0.5, 2.25} {
		for j := range 4 {
			want := c * 0.25
			if j == 2 {
				want = c * -0.75
			}
			if got := d[bt.p.Index(0, t0)*4+j]; !near(float64(got), want, 1e-7) {
				t.Errorf("grad[step %d, class %d] = %.9g; want %.9g", t0, j, got, want)
			}
		}
	}
	bt = newBatch([]int{1}, 2, []float32{ln3, 0}, nil)
	d = make([]float32, 2)
	l := (&SoftmaxTR{}).ForwardBackward(bt.p, 2, bt.packed, []float32{1}, nil, 1, d, nil, nil)
	if !near(l, math.Log(4), handTol) || !near(float64(d[0]), 0.75, handTol) || !near(float64(d[1]), -0.75, handTol) {
		t.Errorf("logits (ln 3, 0), class 1: loss %.10g, grad %v; want ln 4, (3/4, −3/4)", l, d)
	}
}

// TestSquaredTRHandWorked: K = 2 targets (1, −2), T = 2, logits (1, 0)
// then (3, −2): ℓ_1 = (0 + 4)/2 = 2, ℓ_2 = (4 + 0)/2 = 2; exclude final with
// α = ½: L = ½·2 + ½·2 = 2; coefficients (½, ½): at scale 2 the gradient
// is 2·½·2(z − y)/2 = (0, 2) then (2, 0).
func TestSquaredTRHandWorked(t *testing.T) {
	bt := newBatch([]int{2}, 2, []float32{1, 0, 3, -2}, nil)
	d := make([]float32, 4)
	final := make([]float64, 1)
	o := SquaredTR{Alpha: 0.5, Average: ExcludeFinal}
	total := o.ForwardBackward(bt.p, 2, bt.packed, []float32{1, -2}, nil, 2, d, nil, final)
	if total != 2 || final[0] != 2 || !slices.Equal(bt.scatter(d), []float32{0, 2, 2, 0}) {
		t.Errorf("total %v, final %v, grad %v; want 2, 2, (0 2 2 0) at scale 2", total, final[0], bt.scatter(d))
	}
}

// TestSoftmaxTRAlphaZeroIsFinalCE: with α = 0 the objective is the
// final-step cross-entropy exactly, for every averaging, and non-final
// steps get no gradient.
func TestSoftmaxTRAlphaZeroIsFinalCE(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	const C = 5
	bt := randBatch(rng, []int{6, 5, 5, 3, 1, 1}, C)
	y := randClasses(rng, len(bt.lengths), C)
	for _, avg := range []Average{AllSteps, ExcludeFinal, LinearGain} {
		o := SoftmaxTR{Alpha: 0, Average: avg}
		perSeq, final := make([]float64, 6), make([]float64, 6)
		d := make([]float32, len(bt.packed))
		total := o.ForwardBackward(bt.p, C, bt.packed, y, nil, 0.5, d, perSeq, final)
		var sum float64
		for b, l := range bt.lengths {
			z := bt.packed[bt.p.Last(b)*C : bt.p.Last(b)*C+C]
			// −log softmax(z)_c, written out plainly.
			var s float64
			for _, v := range z {
				s += math.Exp(float64(v))
			}
			want := math.Log(s) - float64(z[int(y[b])])
			if perSeq[b] != final[b] || !near(final[b], want, 1e-14) {
				t.Errorf("%v: row %d: L = %.17g, final %.17g; want both %.17g", avg, b, perSeq[b], final[b], want)
			}
			sum += final[b]
			for s := 0; s < l-1; s++ {
				for j := range C {
					if v := d[bt.p.Index(b, s)*C+j]; v != 0 {
						t.Errorf("%v: row %d, step %d: gradient %g; want 0", avg, b, s, v)
					}
				}
			}
		}
		if total != sum {
			t.Errorf("%v: total = %.17g; Σ final-step CE = %.17g", avg, total, sum)
		}
	}
}

// TestPerStepFullyLabelledIsTR: when every step carries the sequence's
// label, the per-step loss is TR with α = 1 over all steps (the mean over
// steps of the mean over entries), for each head.
func TestPerStepFullyLabelledIsTR(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	lengths := []int{5, 3, 3, 1}
	const W = 3
	bt := randBatch(rng, lengths, W)
	w := randWeights(rng, len(lengths))
	for _, c := range []struct {
		h  Head
		o  Objective
		y  []float32 // [B, K]
		pw []float32
	}{
		{HeadSigmoid, &TR{Alpha: 1, PosWeight: []float32{2, 1, 0.5}}, bt.y, []float32{2, 1, 0.5}},
		{HeadSoftmax, &SoftmaxTR{Alpha: 1}, randClasses(rng, 4, W), nil},
		{HeadIdentity, &SquaredTR{Alpha: 1}, randTargets(rng, 4*W), nil},
	} {
		K := len(c.y) / len(lengths)
		ys := make([]float32, bt.p.N()*K)
		for b, l := range lengths {
			for s := 0; s < l; s++ {
				copy(ys[bt.p.Index(b, s)*K:], c.y[b*K:b*K+K])
			}
		}
		ps := PerStep{Head: c.h, PosWeight: c.pw}
		d1, d2 := make([]float32, len(bt.packed)), make([]float32, len(bt.packed))
		l1 := ps.ForwardBackward(bt.p, W, bt.packed, ys, w, 0.25, d1, nil, nil)
		l2 := c.o.ForwardBackward(bt.p, W, bt.packed, c.y, w, 0.25, d2, nil, nil)
		if !near(l1, l2, 1e-14) {
			t.Errorf("%v: per-step loss %.17g; TR α = 1 %.17g", c.h, l1, l2)
		}
		for i := range d1 {
			if !near(float64(d1[i]), float64(d2[i]), 1e-6) {
				t.Errorf("%v: gradient %d: per step %.9g; TR %.9g", c.h, i, d1[i], d2[i])
			}
		}
	}
}

// fdCheck compares the gradient ForwardBackward accumulates with
// Richardson-extrapolated central differences of Loss (error O(h⁴), h =
// 2^−7 so that z ± h and z ± 2h are exact in float32 on the 1/64 grid).
func fdCheck(t *testing.T, o Objective, p *ops.Packing, W int, logits, y, w []float32) {
	t.Helper()
	const scale = 0.75
	d := make([]float32, len(logits))
	o.ForwardBackward(p, W, logits, y, w, scale, d, nil, nil)
	f := func() float64 { return scale * o.Loss(p, W, logits, y, w, nil, nil) }
	const h = 1.0 / 128
	var maxDiff float64
	for i := range logits {
		z := logits[i]
		diff := func(h float32) float64 {
			logits[i] = z + h
			fp := f()
			logits[i] = z - h
			fm := f()
			logits[i] = z
			return (fp - fm) / (2 * float64(h))
		}
		fd := (4*diff(h) - diff(2*h)) / 3
		maxDiff = math.Max(maxDiff, math.Abs(float64(d[i])-fd))
		if !near(float64(d[i]), fd, 2e-7) {
			t.Errorf("packed logit %d: gradient %.9g; finite differences %.9g", i, d[i], fd)
		}
	}
	t.Logf("%d logits, max |gradient − finite differences| = %.2g", len(logits), maxDiff)
}

func TestHeadsTRGradientFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	lengths := []int{5, 4, 4, 2, 1, 1, 0}
	for _, alpha := range []float64{0, 0.5, 1} {
		for _, avg := range []Average{AllSteps, ExcludeFinal, LinearGain} {
			t.Run(fmt.Sprintf("softmax/alpha%g/%v", alpha, avg), func(t *testing.T) {
				const C = 4
				bt := randBatch(rng, lengths, C)
				fdCheck(t, &SoftmaxTR{Alpha: alpha, Average: avg}, bt.p, C, bt.packed,
					randClasses(rng, len(lengths), C), randWeights(rng, len(lengths)))
			})
			t.Run(fmt.Sprintf("squared/alpha%g/%v", alpha, avg), func(t *testing.T) {
				const K = 2
				bt := randBatch(rng, lengths, K)
				fdCheck(t, &SquaredTR{Alpha: alpha, Average: avg}, bt.p, K, bt.packed,
					randTargets(rng, len(lengths)*K), randWeights(rng, len(lengths)))
			})
		}
	}
}

// TestPerStepGradientFiniteDifferences: random masks, a row with no label
// at all (row 2), length-1 rows and a row of length 0.
func TestPerStepGradientFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	lengths := []int{6, 5, 4, 3, 1, 1, 1, 0}
	for _, c := range []struct {
		o PerStep
		W int
	}{
		{PerStep{Head: HeadSigmoid}, 1},
		{PerStep{Head: HeadSigmoid, PosWeight: []float32{2, 0.5, 3}}, 3},
		{PerStep{Head: HeadSoftmax}, 4},
		{PerStep{Head: HeadIdentity}, 2},
	} {
		t.Run(fmt.Sprintf("%v/W%d", c.o.Head, c.W), func(t *testing.T) {
			bt := randBatch(rng, lengths, c.W)
			y := randStepLabels(rng, bt.p, c.o.Head, c.W, 2)
			fdCheck(t, &c.o, bt.p, c.W, bt.packed, y, randWeights(rng, len(lengths)))

			// Row 2 (no label) and row 7 (length 0): no loss, no gradient,
			// no final-step loss.
			perSeq, final := make([]float64, len(lengths)), make([]float64, len(lengths))
			d := make([]float32, len(bt.packed))
			c.o.ForwardBackward(bt.p, c.W, bt.packed, y, nil, 1, d, perSeq, final)
			for _, b := range []int{2, 7} {
				if perSeq[b] != 0 || !math.IsNaN(final[b]) {
					t.Errorf("row %d: L = %v, final %v; want 0, NaN", b, perSeq[b], final[b])
				}
				for s := 0; s < lengths[b]; s++ {
					for j := range c.W {
						if v := d[bt.p.Index(b, s)*c.W+j]; v != 0 {
							t.Errorf("row %d, step %d: gradient %g; want 0", b, s, v)
						}
					}
				}
			}
		})
	}
}

// headsGolden is testdata/heads_golden.json, written by
// testdata/gen_heads.py with PyTorch's cross_entropy, mse_loss and
// binary_cross_entropy_with_logits and autograd in float64. Labels and
// final-step losses hold null (nil here) where there is none.
type headsGolden struct {
	Source string
	Cases  []struct {
		Name      string
		Kind      string // softmax_tr, squared_tr or per_step
		Head      string
		Lengths   []int
		W         int
		Alpha     float64
		Average   string
		W8        []float32 `json:"w"`
		PosWeight []float32 `json:"pos_weight"`
		Logits    []float32 // [B, T, W]
		Y         []*float32
		Total     float64
		PerSeq    []float64 `json:"per_seq"`
		Final     []*float64
		Grad      []float64 // [B, T, W]
	}
}

func nanFor[F float32 | float64](v []*F) []F {
	out := make([]F, len(v))
	for i, p := range v {
		if p == nil {
			out[i] = F(math.NaN())
		} else {
			out[i] = *p
		}
	}
	return out
}

// goldenObjective is the objective a golden case names and its labels in
// the layout the objective reads.
func goldenObjective(t *testing.T, kind, head string, alpha float64, average string, pw []float32,
	bt *batch, y []float32) (Objective, []float32) {
	t.Helper()
	avg, err := ParseAverage(average)
	if err != nil {
		t.Fatal(err)
	}
	switch kind {
	case "softmax_tr":
		return &SoftmaxTR{Alpha: alpha, Average: avg}, y
	case "squared_tr":
		return &SquaredTR{Alpha: alpha, Average: avg}, y
	}
	h := map[string]Head{"sigmoid": HeadSigmoid, "softmax": HeadSoftmax, "identity": HeadIdentity}[head]
	return &PerStep{Head: h, PosWeight: pw}, packSteps(bt.p, bt.T, len(y)/(len(bt.lengths)*bt.T), y)
}

// TestHeadsGoldenPyTorch compares loss, per-row losses, final-step losses
// and the gradient with PyTorch's through the padded [B, T, W] round trip:
// padded steps hold NaN on the way in and must come back exactly 0.
func TestHeadsGoldenPyTorch(t *testing.T) {
	var g headsGolden
	readJSON(t, "heads_golden.json", &g)
	if len(g.Cases) != 12 {
		t.Fatalf("heads_golden.json has %d cases; want 12", len(g.Cases))
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			bt := newBatch(c.Lengths, c.W, c.Logits, nil)
			o, y := goldenObjective(t, c.Kind, c.Head, c.Alpha, c.Average, c.PosWeight, bt, nanFor(c.Y))
			B := len(c.Lengths)
			perSeq, final := make([]float64, B), make([]float64, B)
			d := make([]float32, len(bt.packed))
			total := o.ForwardBackward(bt.p, c.W, bt.packed, y, c.W8, 1, d, perSeq, final)
			if !near(total, c.Total, 1e-12) {
				t.Errorf("total = %.17g; PyTorch %.17g (%s)", total, c.Total, g.Source)
			}
			wantFinal := nanFor(c.Final)
			for b := range B {
				if !near(perSeq[b], c.PerSeq[b], 1e-12) || !(near(final[b], wantFinal[b], 1e-12) ||
					math.IsNaN(final[b]) && math.IsNaN(wantFinal[b])) {
					t.Errorf("row %d: L = %.17g, final = %.17g; PyTorch %.17g, %.17g",
						b, perSeq[b], final[b], c.PerSeq[b], wantFinal[b])
				}
			}
			grad := bt.scatter(d)
			var maxDiff float64
			bad := -1
			for i, v := range grad {
				maxDiff = math.Max(maxDiff, math.Abs(float64(v)-c.Grad[i]))
				if bad < 0 && !near(float64(v), c.Grad[i], 1e-6) {
					bad = i
				}
				if bt.padded[i] != bt.padded[i] && v != 0 {
					t.Errorf("grad[%d] at a padded step = %g; want exactly 0", i, v)
				}
			}
			if bad >= 0 {
				t.Errorf("gradient: max |diff| = %.3g; first bad index %d: %.9g, PyTorch %.9g",
					maxDiff, bad, grad[bad], c.Grad[bad])
			}
			perSeq2, final2 := make([]float64, B), make([]float64, B)
			if total2 := o.Loss(bt.p, c.W, bt.packed, y, c.W8, perSeq2, final2); total2 != total ||
				!slices.Equal(perSeq2, perSeq) || !slices.EqualFunc(final2, final, sameFloat) {
				t.Errorf("Loss = %.17g, %v, %v; ForwardBackward %.17g, %v, %v", total2, perSeq2, final2, total, perSeq, final)
			}
		})
	}
}

func sameFloat(a, b float64) bool { return a == b || a != a && b != b }

// TestHeadsLargeLogits: cross-entropy stays finite and right at logits of
// ±1e30 and ±MaxFloat32: for z = (+m, −m), class 1, ℓ = 2m and the
// gradient is (1, −1).
func TestHeadsLargeLogits(t *testing.T) {
	for _, m := range []float32{1e4, 1e30, math.MaxFloat32} {
		bt := newBatch([]int{1}, 2, []float32{m, -m}, nil)
		d := make([]float32, 2)
		l := (&SoftmaxTR{Alpha: 0.5}).ForwardBackward(bt.p, 2, bt.packed, []float32{1}, nil, 1, d, nil, nil)
		if !near(l, 2*float64(m), 1e-15) || !slices.Equal(d, []float32{1, -1}) {
			t.Errorf("m = %g: loss %.17g, grad %v; want %g, (1, −1)", m, l, d, 2*float64(m))
		}
	}
}

// TestHeadsGuardsAndAllocs: only the N·W entries of dlogits are written,
// gradients accumulate, inputs are not written, and nothing is allocated.
func TestHeadsGuardsAndAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(29, 30))
	const W = 3
	bt := randBatch(rng, []int{4, 3, 1}, W)
	w := []float32{1, 2, 3}
	for _, c := range []struct {
		o Objective
		y []float32
	}{
		{&SoftmaxTR{Alpha: 0.5}, randClasses(rng, 3, W)},
		{&SquaredTR{Alpha: 0.5, Average: LinearGain}, randTargets(rng, 3*W)},
		{&PerStep{Head: HeadSigmoid, PosWeight: []float32{1, 2, 3}}, randStepLabels(rng, bt.p, HeadSigmoid, W)},
		{&PerStep{Head: HeadSoftmax}, randStepLabels(rng, bt.p, HeadSoftmax, W)},
		{&PerStep{Head: HeadIdentity}, randStepLabels(rng, bt.p, HeadIdentity, W)},
	} {
		const guard = 5
		const sentinel = float32(-12345.5)
		buf := make([]float32, guard+len(bt.packed)+guard)
		for i := range buf {
			buf[i] = sentinel
		}
		d := buf[guard : guard+len(bt.packed)]
		clear(d)
		logits, y, w0 := slices.Clone(bt.packed), slices.Clone(c.y), slices.Clone(w)
		c.o.ForwardBackward(bt.p, W, bt.packed, c.y, w, 1, d, nil, nil)
		once := slices.Clone(d)
		c.o.ForwardBackward(bt.p, W, bt.packed, c.y, w, 1, d, nil, nil)
		for i := range buf {
			if (i < guard || i >= guard+len(d)) && buf[i] != sentinel {
				t.Errorf("%T: guard value %d overwritten: %g", c.o, i, buf[i])
			}
		}
		for i := range d {
			if d[i] != 2*once[i] {
				t.Errorf("%T: dlogits[%d] after two calls = %g; want 2·%g", c.o, i, d[i], once[i])
			}
		}
		if !slices.Equal(logits, bt.packed) || !slices.EqualFunc(y, c.y, func(a, b float32) bool { return a == b || a != a && b != b }) ||
			!slices.Equal(w0, w) {
			t.Errorf("%T: inputs were written", c.o)
		}
		perSeq, final := make([]float64, 3), make([]float64, 3)
		if n := testing.AllocsPerRun(20, func() {
			c.o.ForwardBackward(bt.p, W, bt.packed, c.y, w, 0.5, d, perSeq, final)
			c.o.Loss(bt.p, W, bt.packed, c.y, w, perSeq, final)
		}); n != 0 {
			t.Errorf("%T: %v allocations per call; want 0", c.o, n)
		}
	}
}

func TestHeadsShapePanics(t *testing.T) {
	var p ops.Packing
	p.Reset([]int{2, 1}) // N = 3
	z := func(n int) []float32 { return make([]float32, n) }
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"softmax logits", func() { (&SoftmaxTR{}).Loss(&p, 2, z(5), z(2), nil, nil, nil) }},
		{"softmax y", func() { (&SoftmaxTR{}).Loss(&p, 2, z(6), z(4), nil, nil, nil) }},
		{"softmax class", func() { (&SoftmaxTR{}).Loss(&p, 2, z(6), []float32{0, 2}, nil, nil, nil) }},
		{"softmax nil dlogits", func() { (&SoftmaxTR{}).ForwardBackward(&p, 2, z(6), z(2), nil, 1, nil, nil, nil) }},
		{"squared y", func() { (&SquaredTR{}).Loss(&p, 2, z(6), z(2), nil, nil, nil) }},
		{"squared weights", func() { (&SquaredTR{}).Loss(&p, 2, z(6), z(4), z(3), nil, nil) }},
		{"squared perSeq", func() { (&SquaredTR{}).Loss(&p, 2, z(6), z(4), nil, make([]float64, 1), nil) }},
		{"squared final", func() { (&SquaredTR{}).Loss(&p, 2, z(6), z(4), nil, nil, make([]float64, 3)) }},
		{"squared dlogits", func() { (&SquaredTR{}).ForwardBackward(&p, 2, z(6), z(4), nil, 1, z(4), nil, nil) }},
		{"squared average", func() { (&SquaredTR{Average: 4}).Loss(&p, 2, z(6), z(4), nil, nil, nil) }},
		{"squared nil dlogits", func() { (&SquaredTR{}).ForwardBackward(&p, 2, z(6), z(4), nil, 1, nil, nil, nil) }},
		{"W", func() { (&SquaredTR{}).Loss(&p, 0, nil, nil, nil, nil, nil) }},
		{"per step y", func() { (&PerStep{}).Loss(&p, 2, z(6), z(4), nil, nil, nil) }},
		{"per step softmax y", func() { (&PerStep{Head: HeadSoftmax}).Loss(&p, 2, z(6), z(6), nil, nil, nil) }},
		{"per step class", func() { (&PerStep{Head: HeadSoftmax}).Loss(&p, 2, z(6), []float32{0, 1, 1.5}, nil, nil, nil) }},
		{"per step head", func() { (&PerStep{Head: 7}).Loss(&p, 2, z(6), z(6), nil, nil, nil) }},
		{"per step pos_weight", func() { (&PerStep{PosWeight: z(1)}).Loss(&p, 2, z(6), z(6), nil, nil, nil) }},
		{"per step nil dlogits", func() { (&PerStep{}).ForwardBackward(&p, 2, z(6), z(6), nil, 1, nil, nil, nil) }},
	} {
		func() {
			defer func() {
				r := recover()
				if s, _ := r.(string); !strings.HasPrefix(s, "loss: ") {
					t.Errorf("%s: recovered %v; want a panic prefixed \"loss: \"", c.name, r)
				}
			}()
			c.f()
		}()
	}
}

// TestTRLoss: TR.Loss, the Objective's loss alone, is TR's kernel without a
// gradient, bit for bit.
func TestTRLoss(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	bt := randBatch(rng, []int{5, 3, 3, 1, 0}, 2)
	w := randWeights(rng, 5)
	o := TR{Alpha: 0.4, Average: LinearGain, PosWeight: []float32{0.5, 2}}
	ps1, f1 := make([]float64, 5), make([]float64, 5)
	ps2, f2 := make([]float64, 5), make([]float64, 5)
	d := make([]float32, len(bt.packed))
	l1 := o.Loss(bt.p, 2, bt.packed, bt.y, w, ps1, f1)
	l2 := o.ForwardBackward(bt.p, 2, bt.packed, bt.y, w, 1, d, ps2, f2)
	if l1 != l2 || !slices.Equal(ps1, ps2) || !slices.EqualFunc(f1, f2, sameFloat) {
		t.Errorf("Loss = %.17g, %v, %v; ForwardBackward %.17g, %v, %v", l1, ps1, f1, l2, ps2, f2)
	}
}
