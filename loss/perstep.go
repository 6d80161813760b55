package loss

import (
	"fmt"
	"math"

	"github.com/trnn/trnn/ops"
)

// B rows, T_b row b's length, N packed steps (Σ T_b), W head width, K label
// entries per step (W, or 1 for a softmax head: the class index).

// PerStep is deep supervision: labels are given per step, NaN where a step
// has none, and row b's loss is the mean over its labelled entries of the
// per-entry loss of Head:
//
//	sigmoid:  BCEWithLogits(z_{t,k}, y_{t,k}, PosWeight[k])   over labelled (t, k)
//	softmax:  −log softmax(z_t)_{y_t}                          over labelled t
//	identity: (z_{t,k} − y_{t,k})²                             over labelled (t, k)
//	L_b = Σ_entries ℓ / (number of labelled entries of row b)
//
// A row with no labelled entry has L_b = 0 and no gradient. PerStep is only
// read by its methods, so one value may serve concurrent shards.
type PerStep struct {
	Head      Head
	PosWeight []float32 // [K] sigmoid head only: weight of each label's positive term, or nil for 1
}

// Check validates o for a head of width W; messages name the spec field
// at fault.
func (o *PerStep) Check(W int) error {
	if int(o.Head) >= len(headNames) {
		return fmt.Errorf("outputs: unknown head %v", o.Head)
	}
	if o.PosWeight != nil && o.Head != HeadSigmoid {
		return fmt.Errorf("pos_weight: applies to sigmoid labels only, not to a %v head", o.Head)
	}
	return (&TR{PosWeight: o.PosWeight}).Check(W)
}

// ForwardBackward returns Σ_b w_b·L_b over the rows of p, with w_b =
// seqWeight[b] (1 when nil), and accumulates dlogits += scale·w_b·∂L_b/∂z.
// logits are [N, W]; y is packed like them, [N, K] with K = W, or K = 1 (the
// class index) for a softmax head. When non-nil, perSeq[b] receives L_b and
// final[b] the loss at row b's last labelled step (the mean over its
// labelled entries, with no positive weights), NaN when the row has none.
func (o *PerStep) ForwardBackward(p *ops.Packing, W int, logits, y, seqWeight []float32, scale float32,
	dlogits []float32, perSeq, final []float64) float64 {
	if dlogits == nil {
		panic("loss: PerStep.ForwardBackward: nil dlogits")
	}
	return o.run(p, W, logits, y, seqWeight, perSeq, final, scale, dlogits)
}

// Loss is ForwardBackward without the gradient.
func (o *PerStep) Loss(p *ops.Packing, W int, logits, y, seqWeight []float32, perSeq, final []float64) float64 {
	return o.run(p, W, logits, y, seqWeight, perSeq, final, 0, nil)
}

// run is the kernel behind ForwardBackward; with a nil dlogits it computes
// the loss alone. A first pass over row b's labels counts its labelled
// entries n_b (each entry's gradient is scaled by 1/n_b) and finds its last
// labelled step; the second computes the loss and the gradient.
func (o *PerStep) run(p *ops.Packing, W int,
	logits []float32, // [N, W]
	y []float32, // [N, K]
	seqWeight []float32, // [B] or nil
	perSeq, final []float64, // [B] outputs, or nil
	scale float32,
	dlogits []float32, // [N, W] accumulated, or nil
) float64 {
	K := W
	if o.Head == HeadSoftmax {
		K = 1
	}
	B := p.Rows()
	checkHeadShapes("PerStep", p, W, K, p.N(), logits, y, seqWeight, perSeq, final, dlogits)
	switch {
	case int(o.Head) >= len(headNames):
		panic(fmt.Sprintf("loss: PerStep: invalid %v", o.Head))
	case o.PosWeight != nil && (o.Head != HeadSigmoid || len(o.PosWeight) != W):
		panic(fmt.Sprintf("loss: PerStep: len(PosWeight) = %d with a %v head of width %d", len(o.PosWeight), o.Head, W))
	}
	var total float64
	for b := 0; b < B; b++ {
		n, lastT := 0, -1
		for t := 0; t < p.Lengths[b]; t++ {
			i := p.Index(b, t) * K
			if c := labelled(y[i : i+K]); c > 0 {
				n, lastT = n+c, t
			}
		}
		if n == 0 {
			setRow(perSeq, final, b, 0, math.NaN())
			continue
		}
		w := weight(seqWeight, b)
		gc := float64(scale) * w / float64(n)
		var sum float64
		for t := 0; t <= lastT; t++ {
			i := p.Index(b, t)
			z, yt := logits[i*W:i*W+W], y[i*K:i*K+K]
			var dz []float32
			if dlogits != nil {
				dz = dlogits[i*W : i*W+W]
			}
			s, _ := o.maskedStep(z, yt, o.PosWeight, gc, dz)
			sum += s
		}
		L := sum / float64(n)
		total += w * L
		if final != nil {
			i := p.Index(b, lastT)
			s, c := o.maskedStep(logits[i*W:i*W+W], y[i*K:i*K+K], nil, 0, nil)
			final[b] = s / float64(c)
		}
		if perSeq != nil {
			perSeq[b] = L
		}
	}
	return total
}

// labelled is the number of entries of y that are not NaN.
func labelled(y []float32) int {
	n := 0
	for _, v := range y {
		if v == v {
			n++
		}
	}
	return n
}

// maskedStep is the sum of one step's per-entry losses over its labelled
// entries and their number; it accumulates dz += gc·∂(sum)/∂z when dz is
// non-nil. Unlabelled entries get no gradient.
func (o *PerStep) maskedStep(z, y, pw []float32, gc float64, dz []float32) (sum float64, n int) {
	switch o.Head {
	case HeadSoftmax:
		if y[0] != y[0] {
			return 0, 0
		}
		return softmaxCE(z, classOf(y[0], len(z)), gc, dz), 1
	case HeadIdentity:
		for k, zk := range z {
			if y[k] != y[k] {
				continue
			}
			d := float64(zk) - float64(y[k])
			sum += d * d
			n++
			if dz != nil {
				dz[k] += float32(gc * 2 * d)
			}
		}
		return sum, n
	}
	return bceSum(z, y, pw, gc, dz, true)
}
