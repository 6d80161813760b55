package loss

import (
	"fmt"
	"math"

	"github.com/trnn/trnn/ops"
)

// B rows, T_b row b's length, N packed steps (Σ T_b), K labels.

// Average is how the target-replication term weights the steps of a
// sequence.
type Average uint8

const (
	// AllSteps averages steps t = 1..T (the paper's definition).
	AllSteps Average = iota
	// ExcludeFinal averages steps t = 1..T−1; a sequence of length 1 uses
	// its only step.
	ExcludeFinal
	// LinearGain weights step t by t / Σ_{s≤T} s = 2t / (T(T+1)).
	LinearGain
)

var averageNames = [...]string{
	AllSteps:     "all_steps",
	ExcludeFinal: "exclude_final",
	LinearGain:   "linear_gain",
}

// String is the spec's name of a, e.g. "all_steps".
func (a Average) String() string {
	if int(a) < len(averageNames) {
		return averageNames[a]
	}
	return fmt.Sprintf("Average(%d)", uint8(a))
}

// ParseAverage reads the spec's target_replication.average value.
func ParseAverage(s string) (Average, error) {
	for a, name := range averageNames {
		if s == name {
			return Average(a), nil
		}
	}
	return 0, fmt.Errorf("target_replication.average: expected all_steps, exclude_final or linear_gain, found %q", s)
}

// Objective is a training objective over packed per-step logits: TR
// (sigmoid labels), SoftmaxTR (classes), SquaredTR (regression targets) and
// PerStep (labels given per step). W is the width of the head: K labels, C
// classes or K targets. y is [B, K] per-sequence labels (TR, SquaredTR),
// [B] class indices as float32 (SoftmaxTR) or, for PerStep, packed [N, K]
// per-step labels with NaN where a step has no label (K = 1, a class index,
// for a softmax head). An Objective is only read by its methods, so one
// value may serve concurrent shards.
type Objective interface {
	// ForwardBackward returns Σ_b w_b·L_b, accumulates dlogits +=
	// scale·w_b·∂L_b/∂z and fills perSeq[b] with L_b and final[b] with the
	// unweighted final-step loss (per step: the loss at row b's last
	// labelled step, NaN if none) when they are non-nil; see
	// TR.ForwardBackward.
	ForwardBackward(p *ops.Packing, W int, logits, y, seqWeight []float32, scale float32,
		dlogits []float32, perSeq, final []float64) float64
	// Loss is ForwardBackward without the gradient.
	Loss(p *ops.Packing, W int, logits, y, seqWeight []float32, perSeq, final []float64) float64
}

var (
	_ Objective = (*TR)(nil)
	_ Objective = (*SoftmaxTR)(nil)
	_ Objective = (*SquaredTR)(nil)
	_ Objective = (*PerStep)(nil)
)

// TR is the target-replication objective of Lipton et al. (ICLR 2016). For
// a sequence of length T with per-step logits z_t ∈ R^K and labels y ∈ {0,1}^K,
//
//	ℓ(z, y) = (1/K) Σ_k BCEWithLogits(z_k, y_k, PosWeight[k])
//	L       = Alpha · Σ_t g_t · ℓ(z_t, y) + (1 − Alpha) · ℓ(z_T, y)
//
// with step weights g_t (Σ_t g_t = 1) chosen by Average: 1/T (AllSteps);
// 1/(T−1) for t < T and 0 at T, or 1 when T = 1 (ExcludeFinal); 2t/(T(T+1))
// (LinearGain). Alpha = 0 is final-step BCE, bit for bit.
//
// The zero value is final-step BCE with no positive weights. A TR is only
// read by its methods, so one value may serve concurrent shards.
type TR struct {
	Alpha     float64   // weight of the replicated term, in [0, 1]
	Average   Average   // step weights of the replicated term
	PosWeight []float32 // [K] weight of each label's positive term, or nil for 1
}

// Check validates o for K labels; messages name the spec field at fault.
func (o *TR) Check(K int) error {
	if !(o.Alpha >= 0 && o.Alpha <= 1) {
		return fmt.Errorf("target_replication.alpha: expected a number in [0, 1], found %v", o.Alpha)
	}
	if int(o.Average) >= len(averageNames) {
		return fmt.Errorf("target_replication.average: expected all_steps, exclude_final or linear_gain, found %v", o.Average)
	}
	if o.PosWeight != nil {
		if len(o.PosWeight) != K {
			return fmt.Errorf("pos_weight: expected one weight per label (%d), found %d", K, len(o.PosWeight))
		}
		for k, w := range o.PosWeight {
			if !(w > 0) || math.IsInf(float64(w), 1) {
				return fmt.Errorf("pos_weight[%d]: expected a positive finite number, found %v", k, w)
			}
		}
	}
	return nil
}

// stepGain is g_t, the weight of step t (0-based) of a length-T sequence in
// the replicated term.
func stepGain(avg Average, t, T int) float64 {
	switch avg {
	case ExcludeFinal:
		if T == 1 {
			return 1
		}
		if t == T-1 {
			return 0
		}
		return 1 / float64(T-1)
	case LinearGain:
		return 2 * float64(t+1) / (float64(T) * float64(T+1))
	default:
		return 1 / float64(T)
	}
}

// ForwardBackward returns Σ_b w_b·L_b over the rows of p, with w_b =
// seqWeight[b] (1 when seqWeight is nil), and accumulates dlogits +=
// scale·w_b·∂L_b/∂z for every valid step of every row b, in one pass over the
// logits. Only the N·K entries of the packed buffer are written. When
// non-nil, perSeq[b] receives the unweighted L_b and finalBCE[b] the
// unweighted final-step loss ℓ(z_{T_b}, y_b) with no positive weights, what
// validation reports. A row of length 0 has L_b = 0, no gradient, and
// finalBCE[b] = NaN: it has no final step.
func (o *TR) ForwardBackward(p *ops.Packing, K int,
	logits []float32, // [N, K]
	y []float32, // [B, K]
	seqWeight []float32, // [B] or nil
	scale float32,
	dlogits []float32, // [N, K] accumulated
	perSeq, finalBCE []float64, // [B] outputs, or nil
) (weightedSum float64) {
	if dlogits == nil {
		panic("loss: TR.ForwardBackward: nil dlogits")
	}
	return o.run(p, K, logits, y, seqWeight, perSeq, finalBCE, scale, dlogits)
}

// Loss is ForwardBackward without the gradient: the same sum, perSeq and
// finalBCE, bit for bit.
func (o *TR) Loss(p *ops.Packing, K int,
	logits []float32, // [N, K]
	y []float32, // [B, K]
	seqWeight []float32, // [B] or nil
	perSeq, finalBCE []float64, // [B] outputs, or nil
) (weightedSum float64) {
	return o.run(p, K, logits, y, seqWeight, perSeq, finalBCE, 0, nil)
}

// run is the kernel behind ForwardBackward; with a nil dlogits it computes
// the loss alone.
//
// Step t of row b enters L_b with coefficient c_t = Alpha·g_t + (1−Alpha)·[t = T_b]
// and each label's BCE with a further 1/K, so
//
//	∂L_b/∂z_{t,k} = c_t/K · ∂BCE/∂z.
//
// Steps with c_t = 0 that are not final (all of them when Alpha = 0) are
// skipped: their loss is multiplied by 0 and their gradient is 0.
func (o *TR) run(p *ops.Packing, K int, logits, y, seqWeight []float32,
	perSeq, finalBCE []float64, scale float32, dlogits []float32) float64 {
	B, N := p.Rows(), p.N()
	o.checkShapes(B, N, K, logits, y, seqWeight, perSeq, finalBCE, dlogits)
	alpha := o.Alpha
	fK := float64(K)
	pw := o.PosWeight
	var total float64
	for b := 0; b < B; b++ {
		T := p.Lengths[b]
		if T == 0 {
			if perSeq != nil {
				perSeq[b] = 0
			}
			if finalBCE != nil {
				finalBCE[b] = math.NaN()
			}
			continue
		}
		w := 1.0
		if seqWeight != nil {
			w = float64(seqWeight[b])
		}
		yb := y[b*K : b*K+K]
		gradScale := float64(scale) * w / fK
		var trSum, last float64 // Σ_t g_t·ℓ_t and ℓ_T
		for t := 0; t < T; t++ {
			g := stepGain(o.Average, t, T)
			final := t == T-1
			c := alpha * g
			if final {
				c += 1 - alpha
			}
			if c == 0 && !final {
				continue
			}
			i := (p.Offset[t] + b) * K
			zt := logits[i : i+K]
			var dz []float32
			if dlogits != nil && c != 0 {
				dz = dlogits[i : i+K]
			}
			sum, _ := bceSum(zt, yb, pw, gradScale*c, dz, false)
			lt := sum / fK
			trSum += g * lt
			if final {
				last = lt
			}
		}
		L := alpha*trSum + (1-alpha)*last
		total += w * L
		if perSeq != nil {
			perSeq[b] = L
		}
		if finalBCE != nil {
			if pw == nil {
				finalBCE[b] = last
			} else {
				finalBCE[b] = finalStepBCE(logits[p.Last(b)*K:p.Last(b)*K+K], yb)
			}
		}
	}
	return total
}

// finalStepBCE is ℓ(z, y) with no positive weights: (1/K) Σ_k BCE(z_k, y_k).
func finalStepBCE(z, y []float32) float64 {
	sum, _ := bceSum(z, y, nil, 0, nil, false)
	return sum / float64(len(z))
}

// bceSum returns Σ_k BCEWithLogits(z_k, y_k, pw_k) in k order (pw nil:
// weights of 1) and, with dz, adds gc·∂/∂z_k to dz_k. With skipUnlabelled,
// a NaN label's term is left out of the sum, of n and of dz. The row kernel
// gives BCEWithLogits' bits, so this is the plain loop, only faster.
func bceSum(z, y, pw []float32, gc float64, dz []float32, skipUnlabelled bool) (sum float64, n int) {
	var l [64]float64
	var d [64]float32
	for o := 0; o < len(z); o += len(l) {
		m := min(len(l), len(z)-o)
		var w []float32
		if pw != nil {
			w = pw[o : o+m]
		}
		ops.BCEWithLogitsRow(z[o:o+m], y[o:o+m], w, l[:m], d[:m])
		for k := range m {
			if skipUnlabelled && y[o+k] != y[o+k] {
				continue
			}
			sum += l[k]
			n++
			if dz != nil {
				dz[o+k] += float32(gc * float64(d[k]))
			}
		}
	}
	return sum, n
}

func (o *TR) checkShapes(B, N, K int, logits, y, seqWeight []float32, perSeq, finalBCE []float64, dlogits []float32) {
	switch {
	case K < 1:
		panic(fmt.Sprintf("loss: TR: K = %d labels, want ≥ 1", K))
	case len(logits) != N*K:
		panic(fmt.Sprintf("loss: TR: len(logits) = %d, want N·K = %d·%d", len(logits), N, K))
	case len(y) != B*K:
		panic(fmt.Sprintf("loss: TR: len(y) = %d, want B·K = %d·%d", len(y), B, K))
	case seqWeight != nil && len(seqWeight) != B:
		panic(fmt.Sprintf("loss: TR: len(seqWeight) = %d, want B = %d", len(seqWeight), B))
	case perSeq != nil && len(perSeq) != B:
		panic(fmt.Sprintf("loss: TR: len(perSeq) = %d, want B = %d", len(perSeq), B))
	case finalBCE != nil && len(finalBCE) != B:
		panic(fmt.Sprintf("loss: TR: len(finalBCE) = %d, want B = %d", len(finalBCE), B))
	case dlogits != nil && len(dlogits) != N*K:
		panic(fmt.Sprintf("loss: TR: len(dlogits) = %d, want N·K = %d·%d", len(dlogits), N, K))
	case o.PosWeight != nil && len(o.PosWeight) != K:
		panic(fmt.Sprintf("loss: TR: len(PosWeight) = %d, want K = %d", len(o.PosWeight), K))
	case int(o.Average) >= len(averageNames):
		panic(fmt.Sprintf("loss: TR: invalid %v", o.Average))
	}
}
