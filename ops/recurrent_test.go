package ops

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
)

// Test harness of the fused recurrent kernels, shared by lstm_test.go and
// gru_test.go:
//
//   - packer: padded [B, T, w] batches in any row order ↔ the kernels' packed
//     layout, as the runtime does it;
//   - recCase: one LSTM or GRU problem (lengths, input, parameters, initial
//     states) run through the kernels, and through a float64 reference
//     written independently of them (per row, per step, on the padded layout,
//     straight from the ONNX equations);
//   - a loss that reads every output (y at valid steps, hT, cT) through fixed
//     random coefficients, so that its gradient reaches every parameter;
//   - gradient comparisons that print the max difference and the first bad
//     index.
//
// Shape legend: B rows, T steps, N packed steps, I input width, H hidden.

// packer lays out a padded batch whose rows come in any order.
type packer struct {
	p       Packing
	lengths []int // [B] in the caller's order
	order   []int // order[k] = caller row of packed row k
}

func newPacker(lengths []int) *packer {
	order := make([]int, len(lengths))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return lengths[order[a]] > lengths[order[b]] })
	sorted := make([]int, len(lengths))
	for k, b := range order {
		sorted[k] = lengths[b]
	}
	pk := &packer{lengths: lengths, order: order}
	pk.p.Reset(sorted)
	return pk
}

// packSeq copies the valid steps of src [B, T, w] into a new [N, w].
func (pk *packer) packSeq(src []float32, T, w int) []float32 {
	out := make([]float32, pk.p.N()*w)
	for k, b := range pk.order {
		for t := 0; t < pk.lengths[b]; t++ {
			r := pk.p.Index(k, t)
			copy(out[r*w:(r+1)*w], src[(b*T+t)*w:(b*T+t+1)*w])
		}
	}
	return out
}

// unpackSeq copies src [N, w] into a new [B, T, w], 0 at padded steps.
func (pk *packer) unpackSeq(src []float32, T, w int) []float32 {
	out := make([]float32, len(pk.order)*T*w)
	for k, b := range pk.order {
		for t := 0; t < pk.lengths[b]; t++ {
			r := pk.p.Index(k, t)
			copy(out[(b*T+t)*w:(b*T+t+1)*w], src[r*w:(r+1)*w])
		}
	}
	return out
}

// packRows reorders src [B, w] from the caller's row order to the packing's.
func (pk *packer) packRows(src []float32, w int) []float32 {
	if src == nil {
		return nil
	}
	out := make([]float32, len(src))
	for k, b := range pk.order {
		copy(out[k*w:(k+1)*w], src[b*w:(b+1)*w])
	}
	return out
}

// unpackRows is packRows' inverse.
func (pk *packer) unpackRows(src []float32, w int) []float32 {
	if src == nil {
		return nil
	}
	out := make([]float32, len(src))
	for k, b := range pk.order {
		copy(out[b*w:(b+1)*w], src[k*w:(k+1)*w])
	}
	return out
}

type recKind int

const (
	kindLSTM recKind = iota
	kindGRU0         // linear_before_reset = 0
	kindGRU1         // linear_before_reset = 1
)

func (k recKind) String() string {
	return [...]string{"lstm", "gru_lbr0", "gru_lbr1"}[k]
}

// recCase is one recurrent problem on a padded batch. vals holds, by name,
// "x" [B, T, I] padded, "W", "R", "B" in the kernels' layout, and optionally
// "P" (LSTM peepholes), "h0", "c0" [B, H] in the caller's row order.
type recCase struct {
	kind    recKind
	I, H, T int
	lengths []int
	vals    map[string][]float32
	// Loss coefficients (float32-representable): L = Σ_valid ay·y + Σ ah·hT + Σ ac·cT.
	ay, ah, ac []float64
	// Gradients the loss does not want (kernel given nil), by name.
	skip map[string]bool

	pk   *packer
	lc   LSTMCache
	gc   GRUCache
	keep bool // reuse the caches across runs (the default); false = fresh each run
}

// paramOrder lists the names of the problem's inputs and parameters.
func (c *recCase) paramOrder() []string {
	var names []string
	for _, n := range []string{"x", "W", "R", "B", "P", "h0", "c0"} {
		if c.vals[n] != nil {
			names = append(names, n)
		}
	}
	return names
}

// newRecCase draws a problem: uniform(−s, s) weights (s = 0.6, large enough
// to drive the gates off their linear region), inputs in (−1, 1), and
// padded positions of x filled with NaN: nothing may read them.
func newRecCase(kind recKind, I, H int, lengths []int, peep, h0, c0 bool, seed uint64) *recCase {
	rng := rand.New(rand.NewPCG(seed, 7))
	T := slices.Max(lengths)
	B := len(lengths)
	gates := 4
	nb := 4
	if kind != kindLSTM {
		gates, nb = 3, 6
	}
	uni := func(n int, s float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32((2*rng.Float64() - 1) * s)
		}
		return v
	}
	c := &recCase{kind: kind, I: I, H: H, T: T, lengths: lengths, vals: map[string][]float32{}, keep: true}
	x := uni(B*T*I, 1)
	for b, l := range lengths {
		for t := l; t < T; t++ {
			for k := 0; k < I; k++ {
				x[(b*T+t)*I+k] = float32(math.NaN())
			}
		}
	}
	c.vals["x"] = x
	c.vals["W"] = uni(gates*H*I, 0.6)
	c.vals["R"] = uni(gates*H*H, 0.6)
	c.vals["B"] = uni(nb*H, 0.6)
	if peep && kind == kindLSTM {
		c.vals["P"] = uni(3*H, 0.6)
	}
	if h0 {
		c.vals["h0"] = uni(B*H, 0.8)
	}
	if c0 && kind == kindLSTM {
		c.vals["c0"] = uni(B*H, 0.8)
	}
	coef := func(n int) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = float64(float32(2*rng.Float64() - 1))
		}
		return v
	}
	c.ay = coef(B * T * H)
	c.ah = coef(B * H)
	if kind == kindLSTM {
		c.ac = coef(B * H)
	}
	c.pk = newPacker(lengths)
	return c
}

// loss evaluates L in float64 from outputs in the caller's layout.
func (c *recCase) loss(y, hT, cT func(i int) float64) float64 {
	B, T, H := len(c.lengths), c.T, c.H
	var L float64
	for b, l := range c.lengths {
		for t := 0; t < l; t++ {
			for j := 0; j < H; j++ {
				i := (b*T+t)*H + j
				L += c.ay[i] * y(i)
			}
		}
	}
	for i := 0; i < B*H; i++ {
		L += c.ah[i] * hT(i)
		if c.ac != nil {
			L += c.ac[i] * cT(i)
		}
	}
	return L
}

func f32at(s []float32) func(int) float64 { return func(i int) float64 { return float64(s[i]) } }
func f64at(s []float64) func(int) float64 { return func(i int) float64 { return s[i] } }

// forward runs the kernel and returns y [B, T, H] (0 at padding), hT and cT
// [B, H] in the caller's layout (cT nil for the GRU).
func (c *recCase) forward() (y, hT, cT []float32) {
	pk, H := c.pk, c.H
	B, N := pk.p.Rows(), pk.p.N()
	x := pk.packSeq(c.vals["x"], c.T, c.I)
	yp := make([]float32, N*H)
	hTp := make([]float32, B*H)
	if !c.keep {
		c.lc, c.gc = LSTMCache{}, GRUCache{}
	}
	if c.kind == kindLSTM {
		cTp := make([]float32, B*H)
		LSTMForward(&pk.p, c.lstmWeights(), x, pk.packRows(c.vals["h0"], H), pk.packRows(c.vals["c0"], H), yp, hTp, cTp, &c.lc)
		cT = pk.unpackRows(cTp, H)
	} else {
		GRUForward(&pk.p, c.gruWeights(), x, pk.packRows(c.vals["h0"], H), yp, hTp, &c.gc)
	}
	return pk.unpackSeq(yp, c.T, H), pk.unpackRows(hTp, H), cT
}

func (c *recCase) lstmWeights() LSTMWeights {
	return LSTMWeights{I: c.I, H: c.H, W: c.vals["W"], R: c.vals["R"], B: c.vals["B"], P: c.vals["P"]}
}

func (c *recCase) gruWeights() GRUWeights {
	return GRUWeights{I: c.I, H: c.H, W: c.vals["W"], R: c.vals["R"], B: c.vals["B"], LinearBeforeReset: c.kind == kindGRU1}
}

// kernelLoss is L evaluated (in float64) on the kernel's float32 outputs.
func (c *recCase) kernelLoss() float64 {
	y, hT, cT := c.forward()
	return c.loss(f32at(y), f32at(hT), f32at(cT))
}

// grads runs forward and backward and returns ∂L/∂ of every input and
// parameter, by name, in the caller's layout ("x" [B, T, I], 0 at padding).
func (c *recCase) grads() map[string][]float32 {
	pk, H, T, I := c.pk, c.H, c.T, c.I
	B, N := pk.p.Rows(), pk.p.N()
	c.forward()
	x := pk.packSeq(c.vals["x"], T, I)
	ay32 := make([]float32, len(c.ay))
	for i, v := range c.ay {
		ay32[i] = float32(v)
	}
	dy := pk.packSeq(ay32, T, H)
	toF32 := func(v []float64) []float32 {
		if v == nil {
			return nil
		}
		o := make([]float32, len(v))
		for i, a := range v {
			o[i] = float32(a)
		}
		return o
	}
	dhT := pk.packRows(toF32(c.ah), H)
	dcT := pk.packRows(toF32(c.ac), H)
	want := func(name string, n int) []float32 {
		if c.skip[name] {
			return nil
		}
		return make([]float32, n)
	}
	g := map[string][]float32{}
	if c.kind == kindLSTM {
		gr := LSTMGrads{DX: want("x", N*I), DW: want("W", 4*H*I), DR: want("R", 4*H*H), DB: want("B", 4*H),
			DH0: want("h0", B*H), DC0: want("c0", B*H)}
		if c.vals["P"] != nil {
			gr.DP = want("P", 3*H)
		}
		LSTMBackward(&pk.p, c.lstmWeights(), x, &c.lc, dy, dhT, dcT, gr)
		g["W"], g["R"], g["B"], g["P"] = gr.DW, gr.DR, gr.DB, gr.DP
		g["x"], g["h0"], g["c0"] = gr.DX, gr.DH0, gr.DC0
	} else {
		gr := GRUGrads{DX: want("x", N*I), DW: want("W", 3*H*I), DR: want("R", 3*H*H), DB: want("B", 6*H), DH0: want("h0", B*H)}
		GRUBackward(&pk.p, c.gruWeights(), x, &c.gc, dy, dhT, gr)
		g["W"], g["R"], g["B"], g["x"], g["h0"] = gr.DW, gr.DR, gr.DB, gr.DX, gr.DH0
	}
	if g["x"] != nil {
		g["x"] = pk.unpackSeq(g["x"], T, I)
	}
	g["h0"] = pk.unpackRows(g["h0"], H)
	g["c0"] = pk.unpackRows(g["c0"], H)
	return g
}

// vals64 copies the problem's values to float64 for the reference.
func (c *recCase) vals64() map[string][]float64 {
	m := map[string][]float64{}
	for n, v := range c.vals {
		w := make([]float64, len(v))
		for i, a := range v {
			w[i] = float64(a)
		}
		m[n] = w
	}
	return m
}

// refForward is the float64 reference: each row on its own, each valid step
// in turn, from the ONNX equations, on the padded layout. It returns y
// [B, T, H] (0 at padded steps), hT, cT [B, H] (0 for a row of length 0;
// cT nil for the GRU).
func (c *recCase) refForward(v map[string][]float64) (y, hT, cT []float64) {
	B, T, I, H := len(c.lengths), c.T, c.I, c.H
	y = make([]float64, B*T*H)
	hT = make([]float64, B*H)
	if c.kind == kindLSTM {
		cT = make([]float64, B*H)
	}
	W, R, bias := v["W"], v["R"], v["B"]
	// dot returns row u of M (width k) · vec.
	dot := func(M []float64, u, k int, vec []float64) float64 {
		s := 0.0
		for q := 0; q < k; q++ {
			s += M[u*k+q] * vec[q]
		}
		return s
	}
	sig := func(a float64) float64 { return 1 / (1 + math.Exp(-a)) }
	for b, l := range c.lengths {
		h := make([]float64, H)
		cell := make([]float64, H)
		if v["h0"] != nil {
			copy(h, v["h0"][b*H:(b+1)*H])
		}
		if v["c0"] != nil {
			copy(cell, v["c0"][b*H:(b+1)*H])
		}
		for t := 0; t < l; t++ {
			xt := v["x"][(b*T+t)*I : (b*T+t+1)*I]
			nh := make([]float64, H)
			nc := make([]float64, H)
			for j := 0; j < H; j++ {
				switch c.kind {
				case kindLSTM:
					// Blocks in W, R, B: 0 = i, 1 = o, 2 = f, 3 = c; P: 0 = i, 1 = o, 2 = f.
					pre := func(blk int) float64 {
						u := blk*H + j
						return dot(W, u, I, xt) + dot(R, u, H, h) + bias[u]
					}
					var pi, po, pf float64
					if P := v["P"]; P != nil {
						pi, po, pf = P[j], P[H+j], P[2*H+j]
					}
					ig := sig(pre(0) + pi*cell[j])
					fg := sig(pre(2) + pf*cell[j])
					cc := math.Tanh(pre(3))
					nc[j] = fg*cell[j] + ig*cc
					og := sig(pre(1) + po*nc[j])
					nh[j] = og * math.Tanh(nc[j])
				default:
					// Blocks: 0 = z, 1 = r, 2 = h; B = Wb (z, r, h) then Rb (z, r, h).
					xw := func(blk int) float64 { return dot(W, blk*H+j, I, xt) + bias[blk*H+j] }
					hr := func(blk int) float64 { return dot(R, blk*H+j, H, h) + bias[3*H+blk*H+j] }
					z := sig(xw(0) + hr(0))
					var hh float64
					if c.kind == kindGRU1 {
						r := sig(xw(1) + hr(1))
						hh = math.Tanh(xw(2) + r*hr(2))
					} else {
						// (r ⊙ H_{t−1})·R_hᵀ needs every unit's reset gate.
						rh := make([]float64, H)
						for q := 0; q < H; q++ {
							rq := sig(dot(W, H+q, I, xt) + bias[H+q] + dot(R, H+q, H, h) + bias[4*H+q])
							rh[q] = rq * h[q]
						}
						hh = math.Tanh(xw(2) + dot(R, 2*H+j, H, rh) + bias[5*H+j])
					}
					nh[j] = (1-z)*hh + z*h[j]
				}
			}
			h, cell = nh, nc
			copy(y[(b*T+t)*H:(b*T+t+1)*H], h)
		}
		if l > 0 {
			copy(hT[b*H:(b+1)*H], h)
			if cT != nil {
				copy(cT[b*H:(b+1)*H], cell)
			}
		}
	}
	return y, hT, cT
}

// refLoss is L on the reference's outputs.
func (c *recCase) refLoss(v map[string][]float64) float64 {
	y, hT, cT := c.refForward(v)
	return c.loss(f64at(y), f64at(hT), f64at(cT))
}

// refGrads is the central-difference gradient of refLoss in float64 with
// respect to every input and parameter (step 1e-6: truncation ~1e-12 and
// rounding ~1e-10 relative, far below what is compared).
func (c *recCase) refGrads() map[string][]float64 {
	v := c.vals64()
	out := map[string][]float64{}
	const eps = 1e-6
	for _, name := range c.paramOrder() {
		p := v[name]
		g := make([]float64, len(p))
		for i := range p {
			if math.IsNaN(p[i]) {
				continue // a padded position of x: read by nothing, gradient 0
			}
			old := p[i]
			p[i] = old + eps
			lp := c.refLoss(v)
			p[i] = old - eps
			lm := c.refLoss(v)
			p[i] = old
			g[i] = (lp - lm) / (2 * eps)
		}
		out[name] = g
	}
	return out
}

// kernelNumGrads is the central-difference gradient of kernelLoss, the
// float32 kernel's own outputs, with respect to every input and parameter,
// each perturbed by ±eps in float32.
func (c *recCase) kernelNumGrads(eps float32) map[string][]float64 {
	out := map[string][]float64{}
	for _, name := range c.paramOrder() {
		p := c.vals[name]
		g := make([]float64, len(p))
		for i := range p {
			if math.IsNaN(float64(p[i])) {
				continue
			}
			old := p[i]
			p[i] = old + eps
			hi := float64(p[i])
			lp := c.kernelLoss()
			p[i] = old - eps
			lo := float64(p[i])
			lm := c.kernelLoss()
			p[i] = old
			g[i] = (lp - lm) / (hi - lo) // the step actually taken in float32
		}
		out[name] = g
	}
	return out
}

// mismatch compares got with want elementwise under |got − want| ≤ atol +
// rtol·|want| and returns the largest difference and the first index that
// breaks the bound (−1 if none).
func mismatch(got []float32, want []float64, atol, rtol float64) (maxDiff float64, firstBad int) {
	firstBad = -1
	if len(got) != len(want) {
		return math.Inf(1), 0
	}
	for i := range got {
		d := math.Abs(float64(got[i]) - want[i])
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		maxDiff = max(maxDiff, d)
		if d > atol+rtol*math.Abs(want[i]) && firstBad < 0 {
			firstBad = i
		}
	}
	return maxDiff, firstBad
}

// expectClose fails t unless got matches want (see mismatch), printing the
// max difference and the first bad index.
func expectClose(t *testing.T, what string, got []float32, want []float64, atol, rtol float64) {
	t.Helper()
	d, bad := mismatch(got, want, atol, rtol)
	if bad >= 0 {
		if len(got) != len(want) {
			t.Errorf("%s: %d values, want %d", what, len(got), len(want))
			return
		}
		t.Errorf("%s: max |diff| %.3g; first bad index %d: got %.9g, want %.9g (atol %g, rtol %g)",
			what, d, bad, got[bad], want[bad], atol, rtol)
	}
}

func to64(s []float32) []float64 {
	o := make([]float64, len(s))
	for i, v := range s {
		o[i] = float64(v)
	}
	return o
}

// Tolerances of the gradient checks.
//
// Against the float64 reference (its gradients by central differences in
// float64, step 1e-6, accurate to ~1e-9): what remains is the kernels'
// float32 rounding, ~6e-8 relative per operation, carried through T steps of
// recurrence and sums over up to N rows. On these problems (|gradients| ≤ 2)
// it stays below 2e-7 (measured); atol 2e-6 + rtol 1e-5 leaves a margin of
// ten, while a wrong term moves a gradient by far more (a 1% error in one
// entry is caught, see TestGradCheckRejectsWrongGradient).
//
// Against central differences of the float32 kernel itself (step ε = 1e-2,
// the loss summed in float64): the outputs' float32 rounding gives the loss a
// noise δ ≈ 1e-7·Σ|terms| ≈ 1e-6, which the quotient turns into δ/ε ≈ 1e-4 at
// worst, and truncation adds ε²·|L‴|/6 ≈ 1e-5. Measured worst difference:
// 6e-5. atol 3e-4 + rtol 1e-3 holds that with a margin of five and still
// catches a 1% error in a gradient of size ≥ 0.05.
const (
	refAtol, refRtol = 2e-6, 1e-5
	numAtol, numRtol = 3e-4, 1e-3
	numEps           = 1e-2
)

// checkGrads runs both gradient checks of c.
func checkGrads(t *testing.T, c *recCase) {
	t.Helper()
	got := c.grads()
	ref := c.refGrads()
	num := c.kernelNumGrads(numEps)
	for _, name := range c.paramOrder() {
		if c.skip[name] {
			if got[name] != nil {
				t.Errorf("%s: d%s computed though not wanted", c.kind, name)
			}
			continue
		}
		expectClose(t, fmt.Sprintf("%s d%s vs float64 reference", c.kind, name), got[name], ref[name], refAtol, refRtol)
		expectClose(t, fmt.Sprintf("%s d%s vs float32 central differences", c.kind, name), got[name], num[name], numAtol, numRtol)
	}
}

// mixedLengths has lengths 1 and T = 5, a 0 and a repeat, in no order.
var mixedLengths = []int{3, 5, 0, 1, 5, 2}

// checkForwardVsRef compares the kernel's outputs with the reference's.
// float32 rounding through T ≤ 6 steps of size-1 activations stays below
// 1e-6; tolerance 5e-6.
func checkForwardVsRef(t *testing.T, c *recCase) {
	t.Helper()
	y, hT, cT := c.forward()
	ry, rhT, rcT := c.refForward(c.vals64())
	expectClose(t, c.kind.String()+" y", y, ry, 5e-6, 0)
	expectClose(t, c.kind.String()+" hT", hT, rhT, 5e-6, 0)
	if c.kind == kindLSTM {
		expectClose(t, c.kind.String()+" cT", cT, rcT, 5e-6, 0)
	}
}

// TestRecurrentGradients checks the gradient of every input and parameter of
// every op against central differences, on mixed lengths (0, 1, T), with a
// loss reading y, hT and cT.
func TestRecurrentGradients(t *testing.T) {
	cases := []struct {
		name string
		c    *recCase
	}{
		{"lstm", newRecCase(kindLSTM, 3, 4, mixedLengths, false, false, false, 1)},
		{"lstm_peephole_h0_c0", newRecCase(kindLSTM, 3, 4, mixedLengths, true, true, true, 2)},
		{"gru_lbr0", newRecCase(kindGRU0, 3, 4, mixedLengths, false, false, false, 3)},
		{"gru_lbr0_h0", newRecCase(kindGRU0, 3, 4, mixedLengths, false, true, false, 4)},
		{"gru_lbr1", newRecCase(kindGRU1, 3, 4, mixedLengths, false, false, false, 5)},
		{"gru_lbr1_h0", newRecCase(kindGRU1, 3, 4, mixedLengths, false, true, false, 6)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkForwardVsRef(t, tc.c)
			checkGrads(t, tc.c)
		})
	}
}

// TestRecurrentGradientsWithoutInitialState checks dh0 and dc0 when the
// forward took the initial state as 0 (no h0, c0 given).
func TestRecurrentGradientsWithoutInitialState(t *testing.T) {
	for _, kind := range []recKind{kindLSTM, kindGRU0, kindGRU1} {
		t.Run(kind.String(), func(t *testing.T) {
			c := newRecCase(kind, 2, 3, []int{4, 1, 2}, false, false, false, 11)
			got := c.grads()
			// The reference takes h0 = c0 = 0 explicitly to differentiate.
			B := len(c.lengths)
			c.vals["h0"] = make([]float32, B*c.H)
			if kind == kindLSTM {
				c.vals["c0"] = make([]float32, B*c.H)
			}
			ref := c.refGrads()
			wantDh0 := func(name string) {
				if got[name] == nil {
					t.Fatalf("d%s not computed", name)
				}
				expectClose(t, "d"+name, got[name], ref[name], refAtol, refRtol)
			}
			wantDh0("h0")
			if kind == kindLSTM {
				wantDh0("c0")
			}
		})
	}
}

// TestRecurrentGradientsPartial asks for some gradients only: the others
// must stay nil and the ones computed must not change.
func TestRecurrentGradientsPartial(t *testing.T) {
	for _, kind := range []recKind{kindLSTM, kindGRU0, kindGRU1} {
		t.Run(kind.String(), func(t *testing.T) {
			c := newRecCase(kind, 3, 2, mixedLengths, true, true, true, 21)
			all := c.grads()
			c.skip = map[string]bool{"x": true, "R": true, "h0": true}
			part := c.grads()
			for _, name := range c.paramOrder() {
				switch {
				case c.skip[name] && part[name] != nil:
					t.Errorf("d%s computed though not wanted", name)
				case !c.skip[name] && !slices.Equal(part[name], all[name]):
					t.Errorf("d%s differs when other gradients are skipped", name)
				}
			}
		})
	}
}

// TestGradCheckRejectsWrongGradient makes sure both gradient checks are
// tight enough to catch a wrong gradient: a 1% error in one entry of dR, or
// a dropped peephole term, must be reported.
func TestGradCheckRejectsWrongGradient(t *testing.T) {
	c := newRecCase(kindLSTM, 3, 4, mixedLengths, true, true, true, 2)
	got := c.grads()
	ref := c.refGrads()
	num := c.kernelNumGrads(numEps)
	dR := slices.Clone(got["R"])
	k := 0
	for i := range dR {
		if math.Abs(float64(dR[i])) > math.Abs(float64(dR[k])) {
			k = i
		}
	}
	dR[k] *= 1.01
	if _, bad := mismatch(dR, ref["R"], refAtol, refRtol); bad != k {
		t.Errorf("a 1%% error in dR[%d] passes the reference check (first bad %d)", k, bad)
	}
	if _, bad := mismatch(dR, num["R"], numAtol, numRtol); bad != k {
		t.Errorf("a 1%% error in dR[%d] passes the finite-difference check (first bad %d)", k, bad)
	}

	// A kernel whose backward ignored the output gate's peephole would
	// compute the gradients of the model without it: simulate by zeroing P_o
	// for the backward only.
	P := c.vals["P"]
	saved := slices.Clone(P)
	c.forward()
	H := c.H
	for j := 0; j < H; j++ {
		P[H+j] = 0
	}
	pk := c.pk
	x := pk.packSeq(c.vals["x"], c.T, c.I)
	ay := make([]float32, len(c.ay))
	for i, v := range c.ay {
		ay[i] = float32(v)
	}
	ah, ac := make([]float32, len(c.ah)), make([]float32, len(c.ac))
	for i := range ah {
		ah[i], ac[i] = float32(c.ah[i]), float32(c.ac[i])
	}
	wrong := LSTMGrads{DW: make([]float32, 4*H*c.I)}
	LSTMBackward(&pk.p, c.lstmWeights(), x, &c.lc, pk.packSeq(ay, c.T, H), pk.packRows(ah, H), pk.packRows(ac, H), wrong)
	copy(P, saved)
	if _, bad := mismatch(wrong.DW, ref["W"], refAtol, refRtol); bad < 0 {
		t.Errorf("a backward without the P_o term passes the reference check of dW")
	}
	if _, bad := mismatch(wrong.DW, num["W"], numAtol, numRtol); bad < 0 {
		t.Errorf("a backward without the P_o term passes the finite-difference check of dW")
	}
}

// TestRecurrentPaddingInvariance writes 1e6 or NaN into the padded
// positions of x (and of the output gradient) and checks, through a padded →
// packed → kernel → padded round trip, that no output or gradient changes
// and that padded outputs and gradients are 0.
func TestRecurrentPaddingInvariance(t *testing.T) {
	for _, kind := range []recKind{kindLSTM, kindGRU0, kindGRU1} {
		t.Run(kind.String(), func(t *testing.T) {
			c := newRecCase(kind, 3, 4, mixedLengths, true, true, true, 31)
			T, I, H := c.T, c.I, c.H
			fill := func(v float32) {
				x := c.vals["x"]
				for b, l := range c.lengths {
					for s := l; s < T; s++ {
						for k := 0; k < I; k++ {
							x[(b*T+s)*I+k] = v
						}
						for j := 0; j < H; j++ {
							c.ay[(b*T+s)*H+j] = float64(v)
						}
					}
				}
			}
			type result struct {
				y, hT, cT []float32
				g         map[string][]float32
			}
			run := func(v float32) result {
				fill(v)
				y, hT, cT := c.forward()
				return result{y, hT, cT, c.grads()}
			}
			base := run(0)
			for _, v := range []float32{1e6, float32(math.NaN())} {
				r := run(v)
				same := func(what string, a, b []float32) {
					if !bitsEqual(a, b) {
						t.Errorf("padding %g changes %s", v, what)
					}
				}
				same("y", r.y, base.y)
				same("hT", r.hT, base.hT)
				same("cT", r.cT, base.cT)
				for _, name := range c.paramOrder() {
					same("d"+name, r.g[name], base.g[name])
				}
			}
			for b, l := range c.lengths {
				for s := l; s < T; s++ {
					for j := 0; j < H; j++ {
						if v := base.y[(b*T+s)*H+j]; v != 0 {
							t.Fatalf("y[%d,%d,%d] = %g at a padded step, want 0", b, s, j, v)
						}
					}
					for k := 0; k < I; k++ {
						if v := base.g["x"][(b*T+s)*I+k]; v != 0 {
							t.Fatalf("dx[%d,%d,%d] = %g at a padded step, want 0", b, s, k, v)
						}
					}
				}
				if l == 0 {
					for j := 0; j < H; j++ {
						if base.hT[b*H+j] != 0 || (base.cT != nil && base.cT[b*H+j] != 0) {
							t.Fatalf("row %d of length 0: final state not 0", b)
						}
						if base.g["h0"][b*H+j] != 0 {
							t.Fatalf("row %d of length 0: dh0 = %g, want 0", b, base.g["h0"][b*H+j])
						}
					}
				}
			}
		})
	}
}

func bitsEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestRecurrentRowOrder checks that reordering the rows of a batch (which
// changes the packing's tie order) reorders outputs and input gradients only
// and changes no weight gradient beyond summation order.
func TestRecurrentRowOrder(t *testing.T) {
	for _, kind := range []recKind{kindLSTM, kindGRU0, kindGRU1} {
		t.Run(kind.String(), func(t *testing.T) {
			c := newRecCase(kind, 3, 4, mixedLengths, false, true, true, 41)
			y, hT, _ := c.forward()
			g := c.grads()
			B, T, I, H := len(c.lengths), c.T, c.I, c.H
			perm := []int{4, 2, 0, 5, 1, 3} // new row k is old row perm[k]
			d := &recCase{kind: c.kind, I: I, H: H, T: T, vals: map[string][]float32{}, keep: true}
			d.lengths = make([]int, B)
			permute := func(src []float32, w int) []float32 {
				out := make([]float32, len(src))
				for k, b := range perm {
					copy(out[k*w:(k+1)*w], src[b*w:(b+1)*w])
				}
				return out
			}
			permute64 := func(src []float64, w int) []float64 {
				if src == nil {
					return nil
				}
				out := make([]float64, len(src))
				for k, b := range perm {
					copy(out[k*w:(k+1)*w], src[b*w:(b+1)*w])
				}
				return out
			}
			for k, b := range perm {
				d.lengths[k] = c.lengths[b]
			}
			for n, v := range c.vals {
				switch n {
				case "x":
					d.vals[n] = permute(v, T*I)
				case "h0", "c0":
					d.vals[n] = permute(v, H)
				default:
					d.vals[n] = v
				}
			}
			d.ay, d.ah, d.ac = permute64(c.ay, T*H), permute64(c.ah, H), permute64(c.ac, H)
			d.pk = newPacker(d.lengths)
			y2, hT2, _ := d.forward()
			g2 := d.grads()
			if !bitsEqual(y2, permute(y, T*H)) || !bitsEqual(hT2, permute(hT, H)) {
				t.Errorf("reordering rows changes outputs beyond their order")
			}
			if !bitsEqual(g2["x"], permute(g["x"], T*I)) {
				t.Errorf("reordering rows changes dx beyond its order")
			}
			for _, n := range []string{"W", "R", "B"} {
				expectClose(t, "d"+n+" after reordering rows", g2[n], to64(g[n]), 1e-6, 1e-5)
			}
		})
	}
}

// TestRecurrentStaleCache fills a reserved cache with NaN and runs a large
// batch then a smaller one on it: results must equal those of a fresh
// reserved (training) cache bit for bit (the kernels read only what they
// wrote).
func TestRecurrentStaleCache(t *testing.T) {
	reserve := func(c *recCase) {
		c.lc, c.gc = LSTMCache{}, GRUCache{}
		c.lc.Reserve(16, 64, c.I, 4)
		c.gc.Reserve(16, 64, c.I, 4)
	}
	for _, kind := range []recKind{kindLSTM, kindGRU0, kindGRU1} {
		t.Run(kind.String(), func(t *testing.T) {
			big := newRecCase(kind, 3, 4, []int{6, 6, 5, 4, 4, 2, 1}, true, true, true, 51)
			small := newRecCase(kind, 3, 4, mixedLengths, true, false, false, 52)
			reserve(small)
			wantY, wantH, wantC := small.forward()
			wantG := small.grads()

			nan := float32(math.NaN())
			poison := func(a *arena) {
				for i := range a.buf {
					a.buf[i] = nan
				}
			}
			reserve(small)
			for _, a := range []*arena{&small.lc.fwd, &small.lc.bwd, &small.gc.fwd, &small.gc.bwd} {
				poison(a)
			}
			for _, w := range [][]float32{small.lc.rT[:cap(small.lc.rT)], small.lc.wT, small.gc.rT[:cap(small.gc.rT)], small.gc.wT} {
				for i := range w {
					w[i] = nan // the transposed weights, rewritten by every forward
				}
			}
			// A larger batch through the same cache first.
			big.lc, big.gc = small.lc, small.gc
			big.grads()
			small.lc, small.gc = big.lc, big.gc
			y, h, cT := small.forward()
			g := small.grads()
			if !bitsEqual(y, wantY) || !bitsEqual(h, wantH) || !bitsEqual(cT, wantC) {
				t.Errorf("outputs differ on a reused, poisoned cache")
			}
			for _, n := range small.paramOrder() {
				if !bitsEqual(g[n], wantG[n]) {
					t.Errorf("d%s differs on a reused, poisoned cache", n)
				}
			}
		})
	}
}

// guarded returns a slice of n elements whose backing array continues with
// guard values, and a check that they are intact.
func guarded(n int, fill float32) ([]float32, func() bool) {
	const guard = 8
	buf := make([]float32, n+2*guard)
	for i := range buf {
		buf[i] = fill
	}
	const g = float32(-7.25)
	for i := 0; i < guard; i++ {
		buf[i], buf[n+guard+i] = g, g
	}
	return buf[guard : guard+n : guard+n], func() bool {
		for i := 0; i < guard; i++ {
			if buf[i] != g || buf[n+guard+i] != g {
				return false
			}
		}
		return true
	}
}

// TestRecurrentGuards surrounds every slice the kernels receive with guard
// values: outputs pre-filled with NaN must be fully written, nothing outside
// any slice may change, and inputs must not be written.
func TestRecurrentGuards(t *testing.T) {
	for _, kind := range []recKind{kindLSTM, kindGRU0, kindGRU1} {
		t.Run(kind.String(), func(t *testing.T) {
			rc := newRecCase(kind, 3, 4, mixedLengths, true, true, true, 61)
			pk := rc.pk
			B, N, I, H := pk.p.Rows(), pk.p.N(), rc.I, rc.H
			var checks []func() bool
			var inputs [][]float32
			var snapshots [][]float32
			in := func(src []float32) []float32 {
				if src == nil {
					return nil
				}
				s, ok := guarded(len(src), 0)
				copy(s, src)
				checks = append(checks, ok)
				inputs = append(inputs, s)
				snapshots = append(snapshots, slices.Clone(s))
				return s
			}
			out := func(n int, fill float32) []float32 {
				s, ok := guarded(n, fill)
				checks = append(checks, ok)
				return s
			}
			nan := float32(math.NaN())
			x := in(pk.packSeq(rc.vals["x"], rc.T, I))
			h0 := in(pk.packRows(rc.vals["h0"], H))
			c0 := in(pk.packRows(rc.vals["c0"], H))
			W, R, Bs, P := in(rc.vals["W"]), in(rc.vals["R"]), in(rc.vals["B"]), in(rc.vals["P"])
			dy := in(make([]float32, N*H))
			for i := range dy {
				dy[i] = float32(i%7) * 0.1
			}
			snapshots[len(snapshots)-1] = slices.Clone(dy)
			dhT := in(make([]float32, B*H))
			y, hT := out(N*H, nan), out(B*H, nan)
			G := 3
			if kind == kindLSTM {
				G = 4
			}
			dx, dW, dR := out(N*I, 0), out(G*H*I, 0), out(G*H*H, 0)
			var cT, dcT, dB, dP, dh0, dc0 []float32
			if kind == kindLSTM {
				cT, dcT = out(B*H, nan), in(make([]float32, B*H))
				dB, dP, dh0, dc0 = out(4*H, 0), out(3*H, 0), out(B*H, 0), out(B*H, 0)
				w := LSTMWeights{I: I, H: H, W: W, R: R, B: Bs, P: P}
				var c LSTMCache
				LSTMForward(&pk.p, w, x, h0, c0, y, hT, cT, &c)
				LSTMBackward(&pk.p, w, x, &c, dy, dhT, dcT, LSTMGrads{DX: dx, DW: dW, DR: dR, DB: dB, DP: dP, DH0: dh0, DC0: dc0})
			} else {
				dB, dh0 = out(6*H, 0), out(B*H, 0)
				w := GRUWeights{I: I, H: H, W: W, R: R, B: Bs, LinearBeforeReset: kind == kindGRU1}
				var c GRUCache
				GRUForward(&pk.p, w, x, h0, y, hT, &c)
				GRUBackward(&pk.p, w, x, &c, dy, dhT, GRUGrads{DX: dx, DW: dW, DR: dR, DB: dB, DH0: dh0})
			}
			for i, ok := range checks {
				if !ok() {
					t.Errorf("guard %d overwritten", i)
				}
			}
			for i := range inputs {
				if !bitsEqual(inputs[i], snapshots[i]) {
					t.Errorf("input %d written", i)
				}
			}
			for name, s := range map[string][]float32{"y": y, "hT": hT, "cT": cT, "dx": dx, "dW": dW, "dR": dR, "dB": dB, "dP": dP, "dh0": dh0, "dc0": dc0} {
				for i, v := range s {
					if math.IsNaN(float64(v)) {
						t.Errorf("%s[%d] not written (NaN)", name, i)
						break
					}
				}
			}
		})
	}
}

// TestRecurrentEmptyBatch runs batches with no valid step at all.
func TestRecurrentEmptyBatch(t *testing.T) {
	var p Packing
	p.Reset([]int{0, 0})
	H, I := 2, 3
	hT := []float32{1, 2, 3, 4}
	cT := []float32{1, 2, 3, 4}
	var lc LSTMCache
	w := LSTMWeights{I: I, H: H, W: make([]float32, 4*H*I), R: make([]float32, 4*H*H)}
	h0 := []float32{5, 5, 5, 5}
	LSTMForward(&p, w, []float32{}, h0, h0, []float32{}, hT, cT, &lc)
	dh0 := make([]float32, 4)
	LSTMBackward(&p, w, []float32{}, &lc, nil, []float32{1, 1, 1, 1}, nil, LSTMGrads{DH0: dh0, DW: make([]float32, 4*H*I)})
	if !slices.Equal(hT, make([]float32, 4)) || !slices.Equal(cT, make([]float32, 4)) || !slices.Equal(dh0, make([]float32, 4)) {
		t.Errorf("LSTM on rows of length 0: hT %v cT %v dh0 %v, want zeros", hT, cT, dh0)
	}
	var gc GRUCache
	gw := GRUWeights{I: I, H: H, W: make([]float32, 3*H*I), R: make([]float32, 3*H*H)}
	hT = []float32{1, 2, 3, 4}
	GRUForward(&p, gw, []float32{}, h0, []float32{}, hT, &gc)
	GRUBackward(&p, gw, []float32{}, &gc, nil, []float32{1, 1, 1, 1}, GRUGrads{DH0: dh0})
	if !slices.Equal(hT, make([]float32, 4)) || !slices.Equal(dh0, make([]float32, 4)) {
		t.Errorf("GRU on rows of length 0: hT %v dh0 %v, want zeros", hT, dh0)
	}
}

// TestRecurrentShapePanics checks that inconsistent shapes, a programming
// error, panic with the package prefix and say what is wrong.
func TestRecurrentShapePanics(t *testing.T) {
	var p Packing
	p.Reset([]int{2, 1})
	H, I := 2, 3
	w := LSTMWeights{I: I, H: H, W: make([]float32, 4*H*I), R: make([]float32, 4*H*H)}
	gw := GRUWeights{I: I, H: H, W: make([]float32, 3*H*I), R: make([]float32, 3*H*H)}
	x, y := make([]float32, 3*I), make([]float32, 3*H)
	cases := []struct {
		name, want string
		f          func()
	}{
		{"short x", "ops: LSTMForward: len(x) = 8, want 9", func() { LSTMForward(&p, w, x[:8], nil, nil, y, nil, nil, &LSTMCache{}) }},
		{"bad R", "ops: LSTMForward: len(R) = 3, want 16", func() {
			w2 := w
			w2.R = w.R[:3]
			LSTMForward(&p, w2, x, nil, nil, y, nil, nil, &LSTMCache{})
		}},
		{"bad h0", "ops: GRUForward: len(h0) = 2, want 4", func() { GRUForward(&p, gw, x, make([]float32, 2), y, nil, &GRUCache{}) }},
		{"no forward", "ops: LSTMBackward: cache holds no forward of this batch", func() {
			LSTMBackward(&p, w, x, &LSTMCache{}, nil, nil, nil, LSTMGrads{})
		}},
		{"dP without P", "ops: LSTMBackward: DP given without peepholes", func() {
			var c LSTMCache
			LSTMForward(&p, w, x, nil, nil, y, nil, nil, &c)
			LSTMBackward(&p, w, x, &c, nil, nil, nil, LSTMGrads{DP: make([]float32, 3*H)})
		}},
		{"gru form changed", "ops: GRUBackward: cache holds no forward of this batch", func() {
			var c GRUCache
			GRUForward(&p, gw, x, nil, y, nil, &c)
			gw2 := gw
			gw2.LinearBeforeReset = true
			GRUBackward(&p, gw2, x, &c, nil, nil, GRUGrads{})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				r := recover()
				msg, _ := r.(string)
				if len(msg) < len(tc.want) || msg[:len(tc.want)] != tc.want {
					t.Errorf("panic %q, want prefix %q", r, tc.want)
				}
			}()
			tc.f()
		})
	}
}

// goldenCase is a case written by testdata/golden/recurrent/make_golden.py:
// a 2-layer PyTorch stack over a padded batch, its outputs, loss and every
// gradient, in the kernels' layout (see the script).
type goldenCase struct {
	Source  string      `json:"source"`
	Kind    string      `json:"kind"`
	B       int         `json:"B"`
	T       int         `json:"T"`
	I       int         `json:"I"`
	H       int         `json:"H"`
	Layers  int         `json:"layers"`
	Lengths []int       `json:"lengths"`
	X       []float64   `json:"x"`
	Params  []goldenWRB `json:"params"`
	Ay      []float64   `json:"ay"`
	Ah      [][]float64 `json:"ah"`
	Ac      [][]float64 `json:"ac"`
	Y       []float64   `json:"y"`
	HT      [][]float64 `json:"hT"`
	CT      [][]float64 `json:"cT"`
	Loss    float64     `json:"loss"`
	Grads   struct {
		X      []float64   `json:"x"`
		Params []goldenWRB `json:"params"`
	} `json:"grads"`
}

type goldenWRB struct {
	W []float64 `json:"W"`
	R []float64 `json:"R"`
	B []float64 `json:"B"`
}

func loadGolden(t *testing.T, name string) *goldenCase {
	t.Helper()
	path := filepath.Join("..", "testdata", "golden", "recurrent", name)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (regenerate with /usr/bin/python3 testdata/golden/recurrent/make_golden.py)", err)
	}
	var g goldenCase
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if g.Layers != len(g.Params) || len(g.Lengths) != g.B || len(g.X) != g.B*g.T*g.I {
		t.Fatalf("%s: inconsistent case (layers %d, %d params, %d lengths, %d x values)", path, g.Layers, len(g.Params), len(g.Lengths), len(g.X))
	}
	return &g
}

func f32s(v []float64) []float32 {
	o := make([]float32, len(v))
	for i, a := range v {
		o[i] = float32(a)
	}
	return o
}

// Tolerances against the golden files, which hold float64 results for
// float32 inputs: the kernels' float32 rounding through two layers of T = 6
// steps measures ≤ 1.2e-7 on outputs and ≤ 3.2e-7 on gradients (sums over
// up to N rows); the bounds keep a margin of about ten.
const (
	goldenFwdTol             = 1e-6
	goldenGradAtol, goldenRt = 3e-6, 1e-5
)

// runGolden runs a golden case through the kernels, stacked as in the file,
// with one more row of length 0 (NaN input) inserted at row zpos, which
// PyTorch's packing cannot take: it must produce zeros and change nothing
// else. Outputs, loss and every gradient are compared with the file's.
func runGolden(t *testing.T, g *goldenCase, zpos int) {
	kind := kindLSTM
	if g.Kind == "gru" {
		kind = kindGRU1
	}
	T, H, L := g.T, g.H, g.Layers
	B := g.B + 1
	// Caller-order row k of the test batch is golden row src[k] (−1: the extra row).
	src := make([]int, B)
	lengths := make([]int, B)
	for k := range src {
		switch {
		case k < zpos:
			src[k] = k
		case k == zpos:
			src[k] = -1
		default:
			src[k] = k - 1
		}
		if src[k] >= 0 {
			lengths[k] = g.Lengths[src[k]]
		}
	}
	// rows expands golden [g.B, w] data to the test batch (fill for the extra row).
	rows := func(v []float64, w int, fill float64) []float64 {
		o := make([]float64, B*w)
		for k, s := range src {
			for i := 0; i < w; i++ {
				if s < 0 {
					o[k*w+i] = fill
				} else {
					o[k*w+i] = v[s*w+i]
				}
			}
		}
		return o
	}
	pk := newPacker(lengths)
	N := pk.p.N()
	x := f32s(rows(g.X, T*g.I, math.NaN()))
	for b, l := range lengths { // padded steps hold NaN too: nothing may read them
		for s := l; s < T; s++ {
			for k := 0; k < g.I; k++ {
				x[(b*T+s)*g.I+k] = float32(math.NaN())
			}
		}
	}

	type layer struct {
		I      int
		lw     LSTMWeights
		gw     GRUWeights
		lc     LSTMCache
		gc     GRUCache
		x, y   []float32 // packed input and output
		hT, cT []float32 // packing order
		dW, dR []float32
		dB, dx []float32
		dhT    []float32
		dcT    []float32
	}
	layers := make([]*layer, L)
	in := pk.packSeq(x, T, g.I)
	for l := 0; l < L; l++ {
		I := g.I
		if l > 0 {
			I = H
		}
		ly := &layer{I: I, x: in, y: make([]float32, N*H), hT: make([]float32, B*H), cT: make([]float32, B*H)}
		p := g.Params[l]
		ly.lw = LSTMWeights{I: I, H: H, W: f32s(p.W), R: f32s(p.R), B: f32s(p.B)}
		ly.gw = GRUWeights{I: I, H: H, W: f32s(p.W), R: f32s(p.R), B: f32s(p.B), LinearBeforeReset: true}
		if kind == kindLSTM {
			LSTMForward(&pk.p, ly.lw, ly.x, nil, nil, ly.y, ly.hT, ly.cT, &ly.lc)
		} else {
			GRUForward(&pk.p, ly.gw, ly.x, nil, ly.y, ly.hT, &ly.gc)
		}
		layers[l] = ly
		in = ly.y
	}

	// Outputs: the extra row must be 0; the others as in the file.
	y := pk.unpackSeq(layers[L-1].y, T, H)
	expectClose(t, g.Kind+" y", y, rows(g.Y, T*H, 0), goldenFwdTol, 0)
	for l, ly := range layers {
		expectClose(t, fmt.Sprintf("%s hT[layer %d]", g.Kind, l), pk.unpackRows(ly.hT, H), rows(g.HT[l], H, 0), goldenFwdTol, 0)
		if kind == kindLSTM {
			expectClose(t, fmt.Sprintf("%s cT[layer %d]", g.Kind, l), pk.unpackRows(ly.cT, H), rows(g.CT[l], H, 0), goldenFwdTol, 0)
		}
	}
	ay := rows(g.Ay, T*H, 1)
	loss := 0.0
	for b, l := range lengths {
		for s := 0; s < l; s++ {
			for j := 0; j < H; j++ {
				loss += ay[(b*T+s)*H+j] * float64(y[(b*T+s)*H+j])
			}
		}
	}
	ah := make([][]float64, L)
	ac := make([][]float64, L)
	for l, ly := range layers {
		ah[l] = rows(g.Ah[l], H, 1) // the extra row's coefficients are 1: its hT is constant
		hT := pk.unpackRows(ly.hT, H)
		for i := range hT {
			loss += ah[l][i] * float64(hT[i])
		}
		if kind == kindLSTM {
			ac[l] = rows(g.Ac[l], H, 1)
			cT := pk.unpackRows(ly.cT, H)
			for i := range cT {
				loss += ac[l][i] * float64(cT[i])
			}
		}
	}
	if d := math.Abs(loss - g.Loss); d > goldenFwdTol*float64(N*H) {
		t.Errorf("%s loss %.9g, want %.9g", g.Kind, loss, g.Loss)
	}

	// Backward from the top: each layer's dx is the dy of the one below.
	dy := pk.packSeq(f32s(ay), T, H)
	for l := L - 1; l >= 0; l-- {
		ly := layers[l]
		G := 4
		if kind != kindLSTM {
			G = 3
		}
		ly.dW, ly.dR, ly.dx = make([]float32, G*H*ly.I), make([]float32, G*H*H), make([]float32, N*ly.I)
		dhT := pk.packRows(f32s(ah[l]), H)
		if kind == kindLSTM {
			ly.dB = make([]float32, 4*H)
			LSTMBackward(&pk.p, ly.lw, ly.x, &ly.lc, dy, dhT, pk.packRows(f32s(ac[l]), H),
				LSTMGrads{DX: ly.dx, DW: ly.dW, DR: ly.dR, DB: ly.dB})
		} else {
			ly.dB = make([]float32, 6*H)
			GRUBackward(&pk.p, ly.gw, ly.x, &ly.gc, dy, dhT, GRUGrads{DX: ly.dx, DW: ly.dW, DR: ly.dR, DB: ly.dB})
		}
		dy = ly.dx
	}
	for l, ly := range layers {
		want := g.Grads.Params[l]
		expectClose(t, fmt.Sprintf("%s dW[layer %d]", g.Kind, l), ly.dW, want.W, goldenGradAtol, goldenRt)
		expectClose(t, fmt.Sprintf("%s dR[layer %d]", g.Kind, l), ly.dR, want.R, goldenGradAtol, goldenRt)
		expectClose(t, fmt.Sprintf("%s dB[layer %d]", g.Kind, l), ly.dB, want.B, goldenGradAtol, goldenRt)
	}
	dx := pk.unpackSeq(layers[0].dx, T, g.I)
	expectClose(t, g.Kind+" dx", dx, rows(g.Grads.X, T*g.I, 0), goldenGradAtol, goldenRt)
}
