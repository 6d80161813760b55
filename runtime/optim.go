package runtime

import (
	"fmt"
	"math"

	"github.com/trnn/trnn/ops"
)

// An optimizer updates the flat trainable-parameter vector from its gradient.
// The conventions are PyTorch's (torch.optim.SGD, Adam, AdamW with default
// betas and eps), so a run can be compared step by step with a PyTorch run.
type optimizer interface {
	// step applies one update to params[lo:hi] from grad[lo:hi]; t is the
	// 1-based step number. Calls on disjoint ranges may run concurrently.
	step(params, grad []float32, lo, hi int, t int64)
	// state returns the optimizer's per-parameter buffers by name, for
	// checkpoints; the slices alias the optimizer's storage.
	state() map[string][]float32
	// setLR changes the learning rate of the following steps.
	setLR(lr float64)
}

func newOptimizer(kind string, n int, lr, momentum, weightDecay float64) (optimizer, error) {
	switch kind {
	case "sgd":
		o := &sgd{lr: float32(lr), momentum: float32(momentum), wd: float32(weightDecay)}
		if momentum != 0 {
			o.buf = make([]float32, n)
		}
		return o, nil
	case "adam", "adamw":
		return &adam{lr: lr, wd: weightDecay, decoupled: kind == "adamw",
			beta1: 0.9, beta2: 0.999, eps: 1e-8,
			m: make([]float32, n), v: make([]float32, n)}, nil
	}
	return nil, fmt.Errorf("runtime: unknown optimizer %q", kind)
}

// sgd is stochastic gradient descent with optional momentum and L2 weight
// decay: g = grad + wd·p; buf = momentum·buf + g; p −= lr·buf.
type sgd struct {
	lr, momentum, wd float32
	buf              []float32 // momentum buffer; nil without momentum
}

func (o *sgd) step(p, g []float32, lo, hi int, _ int64) {
	p, g = p[lo:hi], g[lo:hi:hi]
	// Products are rounded on their own (float32(…)), so no GOAMD64 level
	// fuses them into a multiply-add and the updates are the same everywhere.
	if o.buf == nil {
		for i := range p {
			p[i] -= float32(o.lr * (g[i] + float32(o.wd*p[i])))
		}
		return
	}
	buf := o.buf[lo:hi:hi]
	for i := range p {
		d := g[i] + float32(o.wd*p[i])
		buf[i] = float32(o.momentum*buf[i]) + d
		p[i] -= float32(o.lr * buf[i])
	}
}

func (o *sgd) setLR(lr float64) { o.lr = float32(lr) }

func (o *sgd) state() map[string][]float32 {
	if o.buf == nil {
		return map[string][]float32{}
	}
	return map[string][]float32{"momentum": o.buf}
}

// adam is Adam (Kingma & Ba) with bias correction, as torch.optim.Adam:
//
//	g = grad + wd·p                      (Adam: L2 decay in the gradient)
//	m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//	p −= lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + eps)
//
// With decoupled set it is AdamW: p ← p·(1 − lr·wd) first, and g = grad.
type adam struct {
	lr, wd, beta1, beta2, eps float64
	decoupled                 bool
	m, v                      []float32
}

func (o *adam) step(p, g []float32, lo, hi int, t int64) {
	bc1 := 1 - math.Pow(o.beta1, float64(t))
	bc2 := 1 - math.Pow(o.beta2, float64(t))
	ops.AdamStep(p[lo:hi], g[lo:hi], o.m[lo:hi], o.v[lo:hi], ops.AdamHyper{
		B1: float32(o.beta1), B2: float32(o.beta2),
		StepSize:   float32(o.lr / bc1),
		InvSqrtBC2: float32(1 / math.Sqrt(bc2)),
		Eps:        float32(o.eps),
		WD:         float32(o.wd),
		Decay:      float32(1 - o.lr*o.wd),
		Decoupled:  o.decoupled,
	})
}

func (o *adam) setLR(lr float64) { o.lr = lr }

func (o *adam) state() map[string][]float32 {
	return map[string][]float32{"exp_avg": o.m, "exp_avg_sq": o.v}
}
