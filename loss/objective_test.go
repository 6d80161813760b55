package loss

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trnn/trnn/ops"
)

// B rows, T steps, N packed steps, K labels.

// forward is the loss alone: TR.ForwardBackward's sum, perSeq and finalBCE
// without a gradient buffer, the reference its gradient is checked against.
func (o *TR) forward(p *ops.Packing, K int,
	logits []float32, // [N, K] packed per-step logits
	y []float32, // [B, K] labels
	seqWeight []float32, // [B] or nil
	perSeq, finalBCE []float64, // [B] outputs, or nil
) (weightedSum float64) {
	return o.run(p, K, logits, y, seqWeight, perSeq, finalBCE, 0, nil)
}

// backward is the gradient alone: dlogits += scale·w_b·∂L_b/∂z as
// TR.ForwardBackward accumulates it.
func (o *TR) backward(p *ops.Packing, K int,
	logits []float32, // [N, K]
	y []float32, // [B, K]
	seqWeight []float32, // [B] or nil
	scale float32,
	dlogits []float32, // [N, K] accumulated
) {
	o.run(p, K, logits, y, seqWeight, nil, nil, scale, dlogits)
}

// batch is a test batch in padded form [B, T, K] with its packed form.
type batch struct {
	lengths []int
	T, K    int
	padded  []float32 // [B, T, K]; NaN at padded steps unless a test says otherwise
	y       []float32 // [B, K]
	p       *ops.Packing
	packed  []float32 // [N, K]
}

// newBatch packs padded [B, T, K] logits. Padded steps are overwritten with
// NaN, so that any read of them would poison a loss or a gradient.
func newBatch(lengths []int, K int, padded, y []float32) *batch {
	T := slices.Max(lengths)
	bt := &batch{lengths: lengths, T: T, K: K, padded: padded, y: y, p: new(ops.Packing)}
	bt.p.Reset(lengths)
	bt.packed = make([]float32, bt.p.N()*K)
	for b, l := range lengths {
		for t := 0; t < T; t++ {
			src := bt.padded[(b*T+t)*K : (b*T+t)*K+K]
			if t >= l {
				for k := range src {
					src[k] = float32(math.NaN())
				}
				continue
			}
			copy(bt.packed[bt.p.Index(b, t)*K:], src)
		}
	}
	return bt
}

// scatter is the runtime's unpacking of a [N, K] gradient to [B, T, K]:
// zeros everywhere, then the valid steps.
func (bt *batch) scatter(d []float32) []float32 {
	out := make([]float32, len(bt.lengths)*bt.T*bt.K)
	for b, l := range bt.lengths {
		for t := 0; t < l; t++ {
			copy(out[(b*bt.T+t)*bt.K:(b*bt.T+t)*bt.K+bt.K], d[bt.p.Index(b, t)*bt.K:])
		}
	}
	return out
}

// randBatch draws logits on the grid 1/64 in [−4, 4] (so that z ± 2^−6 and
// z ± 2^−7 are exact in float32, for finite differences) and 0/1 labels.
func randBatch(rng *rand.Rand, lengths []int, K int) *batch {
	B, T := len(lengths), slices.Max(lengths)
	padded := make([]float32, B*T*K)
	for i := range padded {
		padded[i] = float32(rng.IntN(513)-256) / 64
	}
	y := make([]float32, B*K)
	for i := range y {
		y[i] = float32(rng.IntN(2))
	}
	return newBatch(lengths, K, padded, y)
}

// near reports |got − want| ≤ tol·max(1, |want|).
func near(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func TestParseAverage(t *testing.T) {
	for _, a := range []Average{AllSteps, ExcludeFinal, LinearGain} {
		got, err := ParseAverage(a.String())
		if err != nil || got != a {
			t.Errorf("ParseAverage(%q) = %v, %v; want %v", a.String(), got, err, a)
		}
	}
	_, err := ParseAverage("last_step")
	const want = `target_replication.average: expected all_steps, exclude_final or linear_gain, found "last_step"`
	if err == nil || err.Error() != want {
		t.Errorf("ParseAverage(last_step) error = %v; want %s", err, want)
	}
	if s := Average(7).String(); s != "Average(7)" {
		t.Errorf("Average(7).String() = %q", s)
	}
}

func TestTRCheck(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	for _, c := range []struct {
		o   TR
		K   int
		err string // "" = valid
	}{
		{TR{}, 1, ""},
		{TR{Alpha: 1, Average: LinearGain, PosWeight: []float32{0.5, 2}}, 2, ""},
		{TR{Alpha: -0.1}, 1, "target_replication.alpha: expected a number in [0, 1], found -0.1"},
		{TR{Alpha: 1.5}, 1, "target_replication.alpha: expected a number in [0, 1], found 1.5"},
		{TR{Alpha: math.NaN()}, 1, "target_replication.alpha: expected a number in [0, 1], found NaN"},
		{TR{Average: 3}, 1, "target_replication.average: expected all_steps, exclude_final or linear_gain, found Average(3)"},
		{TR{PosWeight: []float32{1, 2}}, 3, "pos_weight: expected one weight per label (3), found 2"},
		{TR{PosWeight: []float32{1, 0}}, 2, "pos_weight[1]: expected a positive finite number, found 0"},
		{TR{PosWeight: []float32{-2, 1}}, 2, "pos_weight[0]: expected a positive finite number, found -2"},
		{TR{PosWeight: []float32{inf}}, 1, "pos_weight[0]: expected a positive finite number, found +Inf"},
		{TR{PosWeight: []float32{1, nan}}, 2, "pos_weight[1]: expected a positive finite number, found NaN"},
	} {
		err := c.o.Check(c.K)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%+v.Check(%d) = %v; want nil", c.o, c.K, err)
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("%+v.Check(%d) = %v; want %s", c.o, c.K, err, c.err)
		}
	}
}

// Logits whose BCE terms are simple: σ(0) = 1/2, σ(ln 3) = 3/4,
// σ(−ln 3) = 1/4. So for y = 1: ℓ(0) = ln 2, ℓ(ln 3) = ln(4/3),
// ℓ(−ln 3) = ln 4, with ∂ℓ/∂z = σ − 1 = −1/2, −1/4, −3/4; for y = 0:
// ℓ(ln 3) = ln 4, ℓ(−ln 3) = ln(4/3), ∂ℓ/∂z = σ = 3/4, 1/4. ln 3 is rounded
// to float32, which moves these values by about 2e-8: the hand-worked tests
// use a tolerance of 1e-7.
var ln3 = float32(math.Log(3))

const handTol = 1e-7

func TestTRHandWorked(t *testing.T) {
	l2, l43, l4 := math.Log(2), math.Log(4.0/3), math.Log(4)
	type want struct {
		total  float64
		perSeq []float64
		final  []float64
		grad   []float64 // padded [B, T, K]
	}
	cases := []struct {
		name    string
		o       TR
		lengths []int
		K       int
		logits  []float32 // padded [B, T, K]
		y       []float32
		w       []float32
		want    want
	}{
		// One sequence, T = 3, y = 1, logits (0, ln 3, −ln 3):
		// ℓ_t = (ln 2, ln 4/3, ln 4).
		{
			// α = 0: L = ℓ_3 = ln 4; only the final step has a gradient, −3/4.
			name: "alpha0", o: TR{Alpha: 0}, lengths: []int{3}, K: 1,
			logits: []float32{0, ln3, -ln3}, y: []float32{1},
			want: want{l4, []float64{l4}, []float64{l4}, []float64{0, 0, -0.75}},
		},
		{
			// α = 1, all steps: L = (ln 2 + ln 4/3 + ln 4)/3 = ln(32/3)/3;
			// every step has coefficient 1/3: (−1/6, −1/12, −1/4).
			name: "alpha1_all_steps", o: TR{Alpha: 1}, lengths: []int{3}, K: 1,
			logits: []float32{0, ln3, -ln3}, y: []float32{1},
			want: want{math.Log(32.0/3) / 3, []float64{math.Log(32.0/3) / 3}, []float64{l4},
				[]float64{-1.0 / 6, -1.0 / 12, -0.25}},
		},
		{
			// α = 1/2, all steps: L = ½·ln(32/3)/3 + ½·ln 4; coefficients
			// (1/6, 1/6, 1/6 + 1/2 = 2/3): gradient (−1/12, −1/24, −1/2).
			name: "alpha_half_all_steps", o: TR{Alpha: 0.5}, lengths: []int{3}, K: 1,
			logits: []float32{0, ln3, -ln3}, y: []float32{1},
			want: want{math.Log(32.0/3)/6 + l4/2, []float64{math.Log(32.0/3)/6 + l4/2}, []float64{l4},
				[]float64{-1.0 / 12, -1.0 / 24, -0.5}},
		},
		{
			// α = 1/2, exclude final: L = ½·(ln 2 + ln 4/3)/2 + ½·ln 4
			// = ¼·ln(8/3) + ½·ln 4; coefficients (1/4, 1/4, 1/2):
			// gradient (−1/8, −1/16, −3/8).
			name: "alpha_half_exclude_final", o: TR{Alpha: 0.5, Average: ExcludeFinal}, lengths: []int{3}, K: 1,
			logits: []float32{0, ln3, -ln3}, y: []float32{1},
			want: want{math.Log(8.0/3)/4 + l4/2, []float64{math.Log(8.0/3)/4 + l4/2}, []float64{l4},
				[]float64{-1.0 / 8, -1.0 / 16, -3.0 / 8}},
		},
		{
			// α = 1/2, linear gain: step weights t/6 = (1/6, 2/6, 3/6);
			// L = ½·(ln 2 + 2·ln 4/3 + 3·ln 4)/6 + ½·ln 4; coefficients
			// (1/12, 1/6, 1/4 + 1/2 = 3/4): gradient (−1/24, −1/24, −9/16).
			name: "alpha_half_linear_gain", o: TR{Alpha: 0.5, Average: LinearGain}, lengths: []int{3}, K: 1,
			logits: []float32{0, ln3, -ln3}, y: []float32{1},
			want: want{(l2+2*l43+3*l4)/12 + l4/2, []float64{(l2+2*l43+3*l4)/12 + l4/2}, []float64{l4},
				[]float64{-1.0 / 24, -1.0 / 24, -9.0 / 16}},
		},
		{
			// α = 1, exclude final: L = (ln 2 + ln 4/3)/2 = ln(8/3)/2; the
			// final step has coefficient 0 (no gradient) yet gives finalBCE.
			name: "alpha1_exclude_final", o: TR{Alpha: 1, Average: ExcludeFinal}, lengths: []int{3}, K: 1,
			logits: []float32{0, ln3, -ln3}, y: []float32{1},
			want: want{math.Log(8.0/3) / 2, []float64{math.Log(8.0/3) / 2}, []float64{l4},
				[]float64{-0.25, -0.125, 0}},
		},
		{
			// T = 1 with exclude final uses ℓ_1: y = 0, z = ln 3: L = ln 4 for
			// any α, gradient σ = 3/4.
			name: "T1_exclude_final", o: TR{Alpha: 0.5, Average: ExcludeFinal}, lengths: []int{1}, K: 1,
			logits: []float32{ln3}, y: []float32{0},
			want: want{l4, []float64{l4}, []float64{l4}, []float64{0.75}},
		},
		{
			// T = 1, linear gain: the one weight is 1/1 = 1, L = ℓ_1 = ln 4/3.
			name: "T1_linear_gain", o: TR{Alpha: 0.7, Average: LinearGain}, lengths: []int{1}, K: 1,
			logits: []float32{-ln3}, y: []float32{0},
			want: want{l43, []float64{l43}, []float64{l43}, []float64{0.25}},
		},
		{
			// Mixed lengths (2, 1), class_weight {0: 0.5, 1: 4}, α = 1/2.
			// Row 0: y = 1, logits (0, ln 3): ℓ = (ln 2, ln 4/3),
			// L_0 = ½·(ln 2 + ln 4/3)/2 + ½·ln 4/3 = ¼·ln(8/3) + ½·ln(4/3),
			// weight 4; coefficients (1/4, 3/4): gradient 4·(−1/8, −3/16).
			// Row 1: y = 0, logit −ln 3: L_1 = ln 4/3, weight 1/2;
			// coefficient 1: gradient ½·1/4 = 1/8.
			// total = 4·L_0 + ½·L_1.
			name: "mixed_class_weight", o: TR{Alpha: 0.5}, lengths: []int{2, 1}, K: 1,
			logits: []float32{0, ln3, -ln3, 0}, y: []float32{1, 0}, w: []float32{4, 0.5},
			want: want{4*(math.Log(8.0/3)/4+l43/2) + l43/2, []float64{math.Log(8.0/3)/4 + l43/2, l43},
				[]float64{l43, l43}, []float64{-0.5, -0.75, 0.125, 0}},
		},
		{
			// pos_weight (3, 5), K = 2, y = (1, 0), T = 2, α = 1/2.
			// Step 1, logits (0, 0): terms 3·ln 2 and ln 2 (label 1 is
			// negative: its pos_weight does not apply): ℓ_1 = 2·ln 2.
			// Step 2, logits (ln 3, ln 3): 3·ln 4/3 and ln 4:
			// ℓ_2 = (3·ln 4/3 + ln 4)/2.
			// L = ½·(ℓ_1 + ℓ_2)/2 + ½·ℓ_2 = ¼·ℓ_1 + ¾·ℓ_2; finalBCE has no
			// weights: (ln 4/3 + ln 4)/2.
			// Gradient: coefficients (1/4, 3/4), each over K = 2:
			// step 1: (1/8·3·(−1/2), 1/8·1/2) = (−3/16, 1/16);
			// step 2: (3/8·3·(−1/4), 3/8·3/4) = (−9/32, 9/32).
			name: "pos_weight", o: TR{Alpha: 0.5, PosWeight: []float32{3, 5}}, lengths: []int{2}, K: 2,
			logits: []float32{0, 0, ln3, ln3}, y: []float32{1, 0},
			want: want{l2/2 + 0.75*(3*l43+l4)/2, []float64{l2/2 + 0.75*(3*l43+l4)/2}, []float64{(l43 + l4) / 2},
				[]float64{-3.0 / 16, 1.0 / 16, -9.0 / 32, 9.0 / 32}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bt := newBatch(c.lengths, c.K, slices.Clone(c.logits), c.y)
			B := len(c.lengths)
			perSeq, final := make([]float64, B), make([]float64, B)
			d := make([]float32, len(bt.packed))
			total := c.o.ForwardBackward(bt.p, c.K, bt.packed, bt.y, c.w, 1, d, perSeq, final)
			if !near(total, c.want.total, handTol) {
				t.Errorf("total = %.10g; want %.10g", total, c.want.total)
			}
			for b := range B {
				if !near(perSeq[b], c.want.perSeq[b], handTol) || !near(final[b], c.want.final[b], handTol) {
					t.Errorf("row %d: L = %.10g, final = %.10g; want %.10g, %.10g",
						b, perSeq[b], final[b], c.want.perSeq[b], c.want.final[b])
				}
			}
			g := bt.scatter(d)
			for i, v := range g {
				if !near(float64(v), c.want.grad[i], handTol) {
					t.Errorf("grad[%d] = %.10g; want %.10g", i, v, c.want.grad[i])
				}
			}
		})
	}
}

// trGolden is testdata/tr_golden.json, written by testdata/gen_tr.py with
// PyTorch's binary_cross_entropy_with_logits and autograd in float64.
type trGolden struct {
	Source string
	Cases  []struct {
		Name      string
		Lengths   []int
		K         int
		Alpha     float64
		Average   string
		W         []float32
		PosWeight []float32 `json:"pos_weight"`
		Logits    []float32 // [B, T, K]
		Y         []float32
		Total     float64
		PerSeq    []float64 `json:"per_seq"`
		FinalBCE  []float64 `json:"final_bce"`
		Grad      []float64 // [B, T, K]
	}
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("testdata/%s: %v", name, err)
	}
}

// TestTRGoldenPyTorch compares loss, per-row losses, final-step losses and
// the gradient with PyTorch's, through the padded [B, T, K] round trip:
// padded steps hold NaN on the way in and must come back exactly 0.
func TestTRGoldenPyTorch(t *testing.T) {
	var g trGolden
	readJSON(t, "tr_golden.json", &g)
	if len(g.Cases) == 0 {
		t.Fatal("tr_golden.json has no cases")
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			avg, err := ParseAverage(c.Average)
			if err != nil {
				t.Fatal(err)
			}
			o := TR{Alpha: c.Alpha, Average: avg, PosWeight: c.PosWeight}
			if err := o.Check(c.K); err != nil {
				t.Fatal(err)
			}
			bt := newBatch(c.Lengths, c.K, c.Logits, c.Y)
			B := len(c.Lengths)
			perSeq, final := make([]float64, B), make([]float64, B)
			d := make([]float32, len(bt.packed))
			total := o.ForwardBackward(bt.p, c.K, bt.packed, bt.y, c.W, 1, d, perSeq, final)
			if !near(total, c.Total, 1e-12) {
				t.Errorf("total = %.17g; PyTorch %.17g (%s)", total, c.Total, g.Source)
			}
			for b := range B {
				if !near(perSeq[b], c.PerSeq[b], 1e-12) || !near(final[b], c.FinalBCE[b], 1e-12) {
					t.Errorf("row %d: L = %.17g, final = %.17g; PyTorch %.17g, %.17g",
						b, perSeq[b], final[b], c.PerSeq[b], c.FinalBCE[b])
				}
			}
			grad := bt.scatter(d)
			var maxDiff float64
			bad := -1
			for i, v := range grad {
				diff := math.Abs(float64(v) - c.Grad[i])
				if diff > maxDiff {
					maxDiff = diff
				}
				if bad < 0 && !near(float64(v), c.Grad[i], 1e-6) {
					bad = i
				}
				if bt.padded[i] != bt.padded[i] && v != 0 { // NaN: a padded step
					t.Errorf("grad[%d] at a padded step = %g; want exactly 0", i, v)
				}
			}
			if bad >= 0 {
				t.Errorf("gradient: max |diff| = %.3g; first bad index %d: %.9g, PyTorch %.9g",
					maxDiff, bad, grad[bad], c.Grad[bad])
			}

			// The loss alone and the gradient alone agree with ForwardBackward bit for bit.
			perSeq2, final2 := make([]float64, B), make([]float64, B)
			if total2 := o.forward(bt.p, c.K, bt.packed, bt.y, c.W, perSeq2, final2); total2 != total ||
				!slices.Equal(perSeq2, perSeq) || !slices.Equal(final2, final) {
				t.Errorf("forward = %.17g, %v, %v; ForwardBackward %.17g, %v, %v", total2, perSeq2, final2, total, perSeq, final)
			}
			d2 := make([]float32, len(d))
			o.backward(bt.p, c.K, bt.packed, bt.y, c.W, 1, d2)
			if !slices.Equal(d2, d) {
				t.Errorf("backward differs from ForwardBackward")
			}
		})
	}
}

// TestTRAlphaZeroIsFinalBCE: with α = 0 the objective is the final-step
// BCE exactly, for every averaging, and non-final steps get no gradient.
func TestTRAlphaZeroIsFinalBCE(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	bt := randBatch(rng, []int{6, 5, 5, 3, 1, 1}, 3)
	B := len(bt.lengths)
	for _, avg := range []Average{AllSteps, ExcludeFinal, LinearGain} {
		o := TR{Alpha: 0, Average: avg}
		perSeq, final := make([]float64, B), make([]float64, B)
		d := make([]float32, len(bt.packed))
		total := o.ForwardBackward(bt.p, bt.K, bt.packed, bt.y, nil, 0.5, d, perSeq, final)
		var sum float64
		for b := range B {
			if perSeq[b] != final[b] {
				t.Errorf("%v: row %d: L = %.17g; final-step BCE %.17g (want equal bit for bit)", avg, b, perSeq[b], final[b])
			}
			// The final-step BCE itself, computed here term by term.
			var want float64
			for k := range bt.K {
				l, _ := ops.BCEWithLogits(bt.packed[bt.p.Last(b)*bt.K+k], bt.y[b*bt.K+k], 1)
				want += l
			}
			want /= float64(bt.K)
			if final[b] != want {
				t.Errorf("%v: row %d: final = %.17g; want %.17g", avg, b, final[b], want)
			}
			sum += final[b]
		}
		if total != sum {
			t.Errorf("%v: total = %.17g; Σ final-step BCE = %.17g", avg, total, sum)
		}
		for b, l := range bt.lengths {
			for s := 0; s < l; s++ {
				for k := range bt.K {
					v := d[bt.p.Index(b, s)*bt.K+k]
					_, dz := ops.BCEWithLogits(bt.packed[bt.p.Index(b, s)*bt.K+k], bt.y[b*bt.K+k], 1)
					want := float32(0)
					if s == l-1 {
						want = float32(0.5 / float64(bt.K) * float64(dz))
					}
					if v != want {
						t.Errorf("%v: grad (row %d, step %d, label %d) = %g; want %g", avg, b, s, k, v, want)
					}
				}
			}
		}
	}
}

// TestTRGradientFiniteDifferences checks every packed logit's gradient
// against central differences of the kernel's own float64 loss, improved
// by Richardson extrapolation: D = (4·D(h) − D(2h))/3, error O(h⁴), with
// h = 2^−7 so that z ± h and z ± 2h are exact in float32.
func TestTRGradientFiniteDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const scale = 0.75
	for _, c := range []struct {
		name    string
		o       TR
		lengths []int
		K       int
		weights bool
	}{
		{"all_steps", TR{Alpha: 0.5}, []int{5, 4, 4, 2, 1, 1, 0}, 2, false},
		{"exclude_final_weights", TR{Alpha: 0.3, Average: ExcludeFinal}, []int{4, 3, 1, 1}, 2, true},
		{"linear_gain_pos_weight", TR{Alpha: 0.8, Average: LinearGain, PosWeight: []float32{2, 0.5, 3.5}}, []int{6, 3, 3, 2}, 3, true},
		{"alpha1_exclude_final", TR{Alpha: 1, Average: ExcludeFinal}, []int{3, 2, 1}, 1, false},
		{"alpha0_weights", TR{Alpha: 0}, []int{4, 2, 2}, 2, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			bt := randBatch(rng, c.lengths, c.K)
			var w []float32
			if c.weights {
				w = make([]float32, len(c.lengths))
				for b := range w {
					w[b] = float32(rng.IntN(8)+1) / 4
				}
			}
			d := make([]float32, len(bt.packed))
			c.o.backward(bt.p, c.K, bt.packed, bt.y, w, scale, d)
			f := func() float64 { return scale * c.o.forward(bt.p, c.K, bt.packed, bt.y, w, nil, nil) }
			const h = 1.0 / 128
			var maxDiff float64
			for i := range bt.packed {
				z := bt.packed[i]
				diff := func(h float32) float64 {
					bt.packed[i] = z + h
					fp := f()
					bt.packed[i] = z - h
					fm := f()
					bt.packed[i] = z
					return (fp - fm) / (2 * float64(h))
				}
				fd := (4*diff(h) - diff(2*h)) / 3
				maxDiff = math.Max(maxDiff, math.Abs(float64(d[i])-fd))
				if !near(float64(d[i]), fd, 2e-7) {
					t.Errorf("packed logit %d: gradient %.9g; finite differences %.9g", i, d[i], fd)
				}
			}
			t.Logf("%d logits, max |gradient − finite differences| = %.2g", len(bt.packed), maxDiff)
		})
	}
}

// TestTRShards: the objective is a sum over rows, so a batch gives the sum
// of its rows taken one at a time, and the same gradient bit for bit; rows
// of equal length may be swapped, which swaps their outputs only.
func TestTRShards(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	lengths := []int{5, 4, 4, 2, 1}
	const K = 2
	bt := randBatch(rng, lengths, K)
	w := []float32{0.5, 4, 0.5, 4, 1}
	o := TR{Alpha: 0.4, Average: LinearGain, PosWeight: []float32{1.5, 0.25}}
	B := len(lengths)
	perSeq, final := make([]float64, B), make([]float64, B)
	d := make([]float32, len(bt.packed))
	total := o.ForwardBackward(bt.p, K, bt.packed, bt.y, w, 0.2, d, perSeq, final)
	full := bt.scatter(d)
	var sum float64
	for b, l := range lengths {
		row := newBatch([]int{l}, K, slices.Clone(bt.padded[b*bt.T*K:(b*bt.T+l)*K]), bt.y[b*K:b*K+K])
		ps, fb := make([]float64, 1), make([]float64, 1)
		dr := make([]float32, len(row.packed))
		sum += o.ForwardBackward(row.p, K, row.packed, row.y, w[b:b+1], 0.2, dr, ps, fb)
		if ps[0] != perSeq[b] || fb[0] != final[b] {
			t.Errorf("row %d alone: L = %.17g, final %.17g; in the batch %.17g, %.17g", b, ps[0], fb[0], perSeq[b], final[b])
		}
		if got, want := row.scatter(dr), full[b*bt.T*K:(b*bt.T+l)*K]; !slices.Equal(got, want) {
			t.Errorf("row %d alone: gradient %v; in the batch %v", b, got, want)
		}
	}
	if !near(sum, total, 1e-14) {
		t.Errorf("Σ over single rows = %.17g; batch total %.17g", sum, total)
	}

	// Swap rows 1 and 2 (both of length 4).
	sw := slices.Clone(bt.padded)
	n := bt.T * K
	copy(sw[1*n:2*n], bt.padded[2*n:3*n])
	copy(sw[2*n:3*n], bt.padded[1*n:2*n])
	ys := slices.Clone(bt.y)
	ys[2], ys[3], ys[4], ys[5] = bt.y[4], bt.y[5], bt.y[2], bt.y[3]
	ws := []float32{w[0], w[2], w[1], w[3], w[4]}
	sb := newBatch(lengths, K, sw, ys)
	ps := make([]float64, B)
	o.forward(sb.p, K, sb.packed, sb.y, ws, ps, nil)
	if ps[1] != perSeq[2] || ps[2] != perSeq[1] || ps[0] != perSeq[0] || ps[3] != perSeq[3] {
		t.Errorf("swapping rows 1 and 2: L = %v; before %v", ps, perSeq)
	}
}

// TestTRGuards: only the N·K entries of dlogits are written, gradients
// accumulate, and logits, labels and weights are not written.
func TestTRGuards(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	bt := randBatch(rng, []int{4, 3, 1}, 2)
	w := []float32{1, 2, 3}
	o := TR{Alpha: 0.5, PosWeight: []float32{2, 3}}
	const guard = 7
	const sentinel = float32(-12345.5)
	buf := make([]float32, guard+len(bt.packed)+guard)
	for i := range buf {
		buf[i] = sentinel
	}
	d := buf[guard : guard+len(bt.packed)]
	clear(d)
	logits, y, w0 := slices.Clone(bt.packed), slices.Clone(bt.y), slices.Clone(w)
	o.backward(bt.p, 2, bt.packed, bt.y, w, 1, d)
	once := slices.Clone(d)
	o.backward(bt.p, 2, bt.packed, bt.y, w, 1, d)
	for i := range buf {
		if (i < guard || i >= guard+len(d)) && buf[i] != sentinel {
			t.Errorf("guard value %d overwritten: %g", i, buf[i])
		}
	}
	for i := range d {
		if d[i] != 2*once[i] {
			t.Errorf("dlogits[%d] after two calls = %g; want 2·%g (accumulated)", i, d[i], once[i])
		}
		if once[i] == 0 {
			t.Errorf("dlogits[%d] = 0 with α = 1/2: every valid step has a gradient", i)
		}
	}
	if !slices.Equal(logits, bt.packed) || !slices.Equal(y, bt.y) || !slices.Equal(w0, w) {
		t.Error("inputs were written")
	}
}

// TestTRLargeLogits: the loss and gradient stay finite and right at logits
// of ±1e4, ±1e30 and ±MaxFloat32.
func TestTRLargeLogits(t *testing.T) {
	for _, z := range []float32{1e4, 1e30, math.MaxFloat32} {
		// One sequence, T = 2, K = 2, y = (1, 0); the logits are
		// (+z, −z) then (−z, +z): right then wrong, by z.
		// Step 1: ℓ = (0 + 0)/2 = 0 up to e^−z; gradient 0 (up to e^−z).
		// Step 2: ℓ = (z + z)/2 = z; ∂ℓ/∂z = (−1, +1)/2.
		// α = 1/2, all steps: L = ½·(0 + z)/2 + ½·z = ¾·z; gradient at
		// step 2 is (1/4 + 1/2)·(−1, 1)/2 = (−3/8, 3/8).
		bt := newBatch([]int{2}, 2, []float32{z, -z, -z, z}, []float32{1, 0})
		o := TR{Alpha: 0.5}
		d := make([]float32, 4)
		final := make([]float64, 1)
		total := o.ForwardBackward(bt.p, 2, bt.packed, bt.y, nil, 1, d, nil, final)
		if want := 0.75 * float64(z); !near(total, want, 1e-15) {
			t.Errorf("z = %g: loss %.17g; want %.17g", z, total, want)
		}
		if !near(final[0], float64(z), 1e-15) {
			t.Errorf("z = %g: final-step loss %.17g; want %g", z, final[0], z)
		}
		if want := []float32{0, 0, -0.375, 0.375}; !slices.Equal(d, want) {
			t.Errorf("z = %g: gradient %v; want %v", z, d, want)
		}
	}
}

func TestTRAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	bt := randBatch(rng, []int{8, 7, 7, 5, 3, 3, 1, 1}, 4)
	B := len(bt.lengths)
	w := make([]float32, B)
	for i := range w {
		w[i] = 1
	}
	perSeq, final := make([]float64, B), make([]float64, B)
	d := make([]float32, len(bt.packed))
	for _, o := range []TR{{Alpha: 0.5}, {Alpha: 0.3, Average: LinearGain, PosWeight: []float32{1, 2, 3, 4}}} {
		if n := testing.AllocsPerRun(20, func() {
			o.ForwardBackward(bt.p, 4, bt.packed, bt.y, w, 0.125, d, perSeq, final)
			o.forward(bt.p, 4, bt.packed, bt.y, w, perSeq, final)
			o.backward(bt.p, 4, bt.packed, bt.y, w, 0.125, d)
		}); n != 0 {
			t.Errorf("%+v: %v allocations per call; want 0", o, n)
		}
	}
}

// TestTRZeroLength: a row of length 0 has no loss, no gradient and no
// final-step loss (NaN), and does not disturb the other rows.
func TestTRZeroLength(t *testing.T) {
	bt := newBatch([]int{2, 0}, 1, []float32{0, ln3, 9, 9}, []float32{1, 1})
	perSeq, final := []float64{-1, -1}, []float64{-1, -1}
	total := (&TR{Alpha: 1}).forward(bt.p, 1, bt.packed, bt.y, []float32{1, 5}, perSeq, final)
	// Row 0: (ln 2 + ln 4/3)/2 = ln(8/3)/2.
	if want := math.Log(8.0/3) / 2; !near(total, want, handTol) || perSeq[1] != 0 || !math.IsNaN(final[1]) {
		t.Errorf("total %.10g, perSeq %v, final %v; want %.10g, [_ 0], [_ NaN]", total, perSeq, final, want)
	}
}

func TestTRShapePanics(t *testing.T) {
	var p ops.Packing
	p.Reset([]int{2, 1})
	ok := func() ([]float32, []float32) { return make([]float32, 6), make([]float32, 4) } // K = 2
	for _, c := range []struct {
		name string
		f    func()
	}{
		{"logits", func() { _, y := ok(); (&TR{}).forward(&p, 2, make([]float32, 5), y, nil, nil, nil) }},
		{"y", func() { z, _ := ok(); (&TR{}).forward(&p, 2, z, make([]float32, 2), nil, nil, nil) }},
		{"weights", func() { z, y := ok(); (&TR{}).forward(&p, 2, z, y, make([]float32, 3), nil, nil) }},
		{"perSeq", func() { z, y := ok(); (&TR{}).forward(&p, 2, z, y, nil, make([]float64, 1), nil) }},
		{"finalBCE", func() { z, y := ok(); (&TR{}).forward(&p, 2, z, y, nil, nil, make([]float64, 3)) }},
		{"dlogits", func() { z, y := ok(); (&TR{}).ForwardBackward(&p, 2, z, y, nil, 1, make([]float32, 4), nil, nil) }},
		{"nil dlogits", func() { z, y := ok(); (&TR{}).ForwardBackward(&p, 2, z, y, nil, 1, nil, nil, nil) }},
		{"pos_weight", func() { z, y := ok(); (&TR{PosWeight: []float32{1}}).forward(&p, 2, z, y, nil, nil, nil) }},
		{"K", func() { (&TR{}).forward(&p, 0, nil, nil, nil, nil, nil) }},
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
