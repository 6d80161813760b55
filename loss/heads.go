package loss

import (
	"fmt"
	"math"

	"github.com/trnn/trnn/ops"
)

// B rows, T_b row b's length, N packed steps (Σ T_b), W head width (C
// classes or K targets), K label entries per step.

// Head is the output layer a loss reads logits through.
type Head uint8

const (
	// HeadSigmoid: K independent sigmoid labels, binary cross-entropy.
	HeadSigmoid Head = iota
	// HeadSoftmax: one softmax over C classes, cross-entropy.
	HeadSoftmax
	// HeadIdentity: K real targets, squared error.
	HeadIdentity
)

var headNames = [...]string{
	HeadSigmoid:  "sigmoid",
	HeadSoftmax:  "softmax",
	HeadIdentity: "identity",
}

// String is the head's name, e.g. "softmax".
func (h Head) String() string {
	if int(h) < len(headNames) {
		return headNames[h]
	}
	return fmt.Sprintf("Head(%d)", uint8(h))
}

// SoftmaxTR is target replication with a softmax head over C classes. For a
// sequence of length T with per-step logits z_t ∈ R^C and class c,
//
//	ℓ(z, c) = −log softmax(z)_c = logsumexp(z) − z_c
//	L       = Alpha · Σ_t g_t · ℓ(z_t, c) + (1 − Alpha) · ℓ(z_T, c)
//
// with g_t as in TR. Class weights are not inside: the caller passes the
// weight of each row's class as its sequence weight. The zero value is
// final-step cross-entropy.
type SoftmaxTR struct {
	Alpha   float64 // weight of the replicated term, in [0, 1]
	Average Average // step weights of the replicated term
}

// Check validates o; messages name the spec field at fault.
func (o *SoftmaxTR) Check() error {
	return (&TR{Alpha: o.Alpha, Average: o.Average}).Check(1)
}

// ForwardBackward is TR.ForwardBackward for classes: logits [N, C], y [B]
// class indices (an integral float32 in [0, C); anything else panics, as
// CheckClasses should have refused it), final[b] the final-step
// cross-entropy.
func (o *SoftmaxTR) ForwardBackward(p *ops.Packing, C int, logits, y, seqWeight []float32, scale float32,
	dlogits []float32, perSeq, final []float64) float64 {
	if dlogits == nil {
		panic("loss: SoftmaxTR.ForwardBackward: nil dlogits")
	}
	return runTR(HeadSoftmax, o.Alpha, o.Average, p, C, logits, y, seqWeight, perSeq, final, scale, dlogits)
}

// Loss is ForwardBackward without the gradient.
func (o *SoftmaxTR) Loss(p *ops.Packing, C int, logits, y, seqWeight []float32, perSeq, final []float64) float64 {
	return runTR(HeadSoftmax, o.Alpha, o.Average, p, C, logits, y, seqWeight, perSeq, final, 0, nil)
}

// SquaredTR is target replication with an identity head over K real
// targets:
//
//	ℓ(z, y) = (1/K) Σ_k (z_k − y_k)²
//	L       = Alpha · Σ_t g_t · ℓ(z_t, y) + (1 − Alpha) · ℓ(z_T, y)
//
// with g_t as in TR. The zero value is final-step squared error.
type SquaredTR struct {
	Alpha   float64 // weight of the replicated term, in [0, 1]
	Average Average // step weights of the replicated term
}

// Check validates o; messages name the spec field at fault.
func (o *SquaredTR) Check() error {
	return (&TR{Alpha: o.Alpha, Average: o.Average}).Check(1)
}

// ForwardBackward is TR.ForwardBackward for regression: logits [N, K],
// y [B, K] targets, final[b] the final-step squared error.
func (o *SquaredTR) ForwardBackward(p *ops.Packing, K int, logits, y, seqWeight []float32, scale float32,
	dlogits []float32, perSeq, final []float64) float64 {
	if dlogits == nil {
		panic("loss: SquaredTR.ForwardBackward: nil dlogits")
	}
	return runTR(HeadIdentity, o.Alpha, o.Average, p, K, logits, y, seqWeight, perSeq, final, scale, dlogits)
}

// Loss is ForwardBackward without the gradient.
func (o *SquaredTR) Loss(p *ops.Packing, K int, logits, y, seqWeight []float32, perSeq, final []float64) float64 {
	return runTR(HeadIdentity, o.Alpha, o.Average, p, K, logits, y, seqWeight, perSeq, final, 0, nil)
}

// runTR is the kernel of SoftmaxTR and SquaredTR, TR.run with the step loss
// of head h; with a nil dlogits it computes the loss alone. Step t of row b
// has coefficient c_t = alpha·g_t + (1−alpha)·[t = T_b], so
// ∂L_b/∂z_t = c_t·∂ℓ/∂z_t; non-final steps with c_t = 0 are skipped.
func runTR(h Head, alpha float64, avg Average, p *ops.Packing, W int,
	logits []float32, // [N, W]
	y []float32, // [B] classes (softmax) or [B, W] targets (identity)
	seqWeight []float32, // [B] or nil
	perSeq, final []float64, // [B] outputs, or nil
	scale float32,
	dlogits []float32, // [N, W] accumulated, or nil
) float64 {
	yK, name := W, "SquaredTR"
	if h == HeadSoftmax {
		yK, name = 1, "SoftmaxTR"
	}
	B := p.Rows()
	checkHeadShapes(name, p, W, yK, B, logits, y, seqWeight, perSeq, final, dlogits)
	if int(avg) >= len(averageNames) {
		panic(fmt.Sprintf("loss: %s: invalid %v", name, avg))
	}
	var total float64
	for b := 0; b < B; b++ {
		T := p.Lengths[b]
		if T == 0 {
			setRow(perSeq, final, b, 0, math.NaN())
			continue
		}
		w := weight(seqWeight, b)
		yb := y[b*yK : b*yK+yK]
		gradScale := float64(scale) * w
		var trSum, last float64 // Σ_t g_t·ℓ_t and ℓ_T
		for t := 0; t < T; t++ {
			g := stepGain(avg, t, T)
			isFinal := t == T-1
			c := alpha * g
			if isFinal {
				c += 1 - alpha
			}
			if c == 0 && !isFinal {
				continue
			}
			i := (p.Offset[t] + b) * W
			var dz []float32
			if dlogits != nil && c != 0 {
				dz = dlogits[i : i+W]
			}
			lt := stepLoss(h, logits[i:i+W], yb, gradScale*c, dz)
			trSum += g * lt
			if isFinal {
				last = lt
			}
		}
		L := alpha*trSum + (1-alpha)*last
		total += w * L
		setRow(perSeq, final, b, L, last)
	}
	return total
}

// stepLoss is ℓ(z, y) of one step for a softmax head (y holds the class) or
// an identity head (y holds the K targets), and accumulates
// dz += gc·∂ℓ/∂z when dz is non-nil.
func stepLoss(h Head, z, y []float32, gc float64, dz []float32) float64 {
	if h == HeadSoftmax {
		return softmaxCE(z, classOf(y[0], len(z)), gc, dz)
	}
	var sum float64
	inv := 1 / float64(len(z))
	for k, zk := range z {
		d := float64(zk) - float64(y[k])
		sum += d * d
		if dz != nil {
			dz[k] += float32(gc * inv * 2 * d)
		}
	}
	return sum * inv
}

// softmaxCE is −log softmax(z)_c = (m − z_c) + log Σ_j e^{z_j − m} with m =
// max_j z_j, so that no exponent is positive and every finite logit gives a
// finite loss; it accumulates dz_j += gc·(softmax(z)_j − [j = c]) when dz is
// non-nil.
func softmaxCE(z []float32, c int, gc float64, dz []float32) float64 {
	m := float64(z[0])
	for _, v := range z[1:] {
		m = math.Max(m, float64(v))
	}
	var s float64
	for _, v := range z {
		s += math.Exp(float64(v) - m)
	}
	if dz != nil {
		for j, v := range z {
			d := math.Exp(float64(v)-m) / s
			if j == c {
				d--
			}
			dz[j] += float32(gc * d)
		}
	}
	return (m - float64(z[c])) + math.Log(s)
}

// classOf is the class index v holds; it panics when v is not an integer
// in [0, C), which CheckClasses refuses before training.
func classOf(v float32, C int) int {
	if !(v >= 0 && v < float32(C) && v == float32(int(v))) {
		panic(fmt.Sprintf("loss: class label %v is not an index in [0, %d)", v, C))
	}
	return int(v)
}

func weight(seqWeight []float32, b int) float64 {
	if seqWeight == nil {
		return 1
	}
	return float64(seqWeight[b])
}

// setRow stores row b's loss L and final-step loss in the optional outputs.
func setRow(perSeq, final []float64, b int, L, last float64) {
	if perSeq != nil {
		perSeq[b] = L
	}
	if final != nil {
		final[b] = last
	}
}

// checkHeadShapes panics, naming the objective, when a buffer does not fit
// B rows, N packed steps, W logits and yK label entries per row (or, for a
// per-step objective, per packed step).
func checkHeadShapes(name string, p *ops.Packing, W, yK, yRows int,
	logits, y, seqWeight []float32, perSeq, final []float64, dlogits []float32) {
	B, N := p.Rows(), p.N()
	switch {
	case W < 1:
		panic(fmt.Sprintf("loss: %s: width W = %d, want ≥ 1", name, W))
	case len(logits) != N*W:
		panic(fmt.Sprintf("loss: %s: len(logits) = %d, want N·W = %d·%d", name, len(logits), N, W))
	case len(y) != yRows*yK:
		panic(fmt.Sprintf("loss: %s: len(y) = %d, want %d·%d", name, len(y), yRows, yK))
	case seqWeight != nil && len(seqWeight) != B:
		panic(fmt.Sprintf("loss: %s: len(seqWeight) = %d, want B = %d", name, len(seqWeight), B))
	case perSeq != nil && len(perSeq) != B:
		panic(fmt.Sprintf("loss: %s: len(perSeq) = %d, want B = %d", name, len(perSeq), B))
	case final != nil && len(final) != B:
		panic(fmt.Sprintf("loss: %s: len(final) = %d, want B = %d", name, len(final), B))
	case dlogits != nil && len(dlogits) != N*W:
		panic(fmt.Sprintf("loss: %s: len(dlogits) = %d, want N·W = %d·%d", name, len(dlogits), N, W))
	}
}

// CheckClasses reports the first entry of y [n] that is not a class index
// in 0..C−1, as "y[i]: expected a class index in 0..C−1, found v".
func CheckClasses(y []float32, C int) error {
	for i, v := range y {
		if !(v >= 0 && v < float32(C) && v == float32(int(v))) {
			return fmt.Errorf("y[%d]: expected a class index in 0..%d, found %s", i, C-1, formatFloat(float64(v)))
		}
	}
	return nil
}
