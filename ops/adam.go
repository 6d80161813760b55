package ops

import (
	"fmt"
	"math"
)

// AdamHyper are one Adam step's scalars, in float32 as the update applies
// them (runtime's optimizer derives them from the learning rate, the betas
// and the step number). adam_amd64.s reads the fields by their offsets
// (4 bytes apiece, Decoupled at 28): keep the order.
type AdamHyper struct {
	B1, B2     float32 // β1, β2
	StepSize   float32 // lr/(1−β1ᵗ)
	InvSqrtBC2 float32 // 1/√(1−β2ᵗ)
	Eps        float32
	WD         float32 // L2 decay added to the gradient (Adam)
	Decay      float32 // 1 − lr·wd, applied to p first (AdamW)
	Decoupled  bool    // AdamW: Decay instead of WD
}

// AdamStep applies one Adam (or AdamW) update to p from g, with first and
// second moments m and v, element by element:
//
//	g' = g + wd·p  (Adam)   or   p ← p·(1 − lr·wd), g' = g  (AdamW)
//	m ← β1·m + (1−β1)·g';  v ← β2·v + (1−β2)·g'·g'
//	p ← p − stepSize·m / (√v·invSqrtBC2 + eps)
//
// in float32, one rounding per operation in that order. On AVX-512 it
// runs sixteen elements at a time (adam_amd64.s) with the same operations,
// so the bits are the scalar loop's.
func AdamStep(p, g, m, v []float32, h AdamHyper) {
	n := len(p)
	if len(g) < n || len(m) < n || len(v) < n {
		panic(fmt.Sprintf("ops: AdamStep: %d parameters, %d gradients, %d and %d moments", n, len(g), len(m), len(v)))
	}
	i := 0
	if haveOptimAsm && n >= 16 {
		i = n &^ 15
		adamAsm(i, &p[0], &g[0], &m[0], &v[0], &h)
	}
	adamGo(p[i:n], g[i:n], m[i:n], v[i:n], h)
}

func adamGo(p, g, m, v []float32, h AdamHyper) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	b1, b2 := h.B1, h.B2
	c1, c2 := 1-b1, 1-b2
	for i := range p {
		gi := g[i]
		// Products are rounded on their own (float32(…)): no fused
		// multiply-add at any GOAMD64 level, as in adamAsm.
		if h.Decoupled {
			p[i] *= h.Decay
		} else {
			gi += float32(h.WD * p[i])
		}
		m[i] = float32(b1*m[i]) + float32(c1*gi)
		v[i] = float32(b2*v[i]) + float32(c2*gi*gi)
		denom := float32(sqrt32(v[i])*h.InvSqrtBC2) + h.Eps
		p[i] -= h.StepSize * m[i] / denom
	}
}

// AddTo sets dst[i] += src[i] for every i < len(dst): the sums of shard
// gradients, sixteen at a time on AVX-512 (the same additions).
func AddTo(dst, src []float32) {
	n := len(dst)
	src = src[:n]
	i := 0
	if haveOptimAsm && n >= 16 {
		i = n &^ 15
		addToAsm(i, &dst[0], &src[0])
	}
	for ; i < n; i++ {
		dst[i] += src[i]
	}
}

// sqrt32 is the float32 square root: the float64 root of a float32, rounded
// to float32, is the correctly rounded float32 root (53 ≥ 2·24 + 2 bits),
// so it is VSQRTPS's.
func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }
