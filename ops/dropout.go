package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Inverted dropout, forward and backward. It runs while training only; at
// inference the runtime skips the op (it is the identity there).
//
// Shape legend: N packed steps, H width; the op is elementwise, so only
// the element count matters.
//
// With rate r, each element is kept with probability 1−r and scaled by
// 1/(1−r), or set to 0, so that E[y] = x:
//
//	y    = x·mask,  mask ∈ {0, 1/(1−r)}
//	dx  += dy·mask
//
// # Randomness
//
// The caller supplies the generator (the runtime seeds a PCG per shard and
// step from the run's seed, so runs are reproducible and resumable).
// DropoutForward draws ⌈len(x)/2⌉ values with rng.Uint64, in order: element
// 2i uses the low 32 bits of draw i and element 2i+1 the high 32 bits, and
// an element is dropped when its 32 bits, as an unsigned number u, satisfy
// u < round(r·2³²). The drop probability is therefore r to within 2⁻³³.

// DropoutForward applies inverted dropout with rate ∈ [0, 1) and records the
// multiplier of every element for DropoutBackward.
//
//	x    [N·H] input
//	y    [N·H] output; may be x itself
//	mask [N·H] written: 1/(1−rate) where the element is kept, 0 where dropped
//
// Rate 0 is the identity (y = x, mask = 1) and draws nothing. It panics on a
// rate outside [0, 1) (the compiler validates the spec's rate).
func DropoutForward(rate float32, rng *rand.Rand, x, y, mask []float32) {
	const fn = "DropoutForward"
	if !(rate >= 0 && rate < 1) {
		panic(fmt.Sprintf("ops: %s: rate = %v, want 0 ≤ rate < 1", fn, rate))
	}
	checkLen(fn, "y", y, len(x), false)
	checkLen(fn, "mask", mask, len(x), false)
	y, mask = y[:len(x)], mask[:len(x)]
	if rate == 0 {
		copy(y, x)
		for i := range mask {
			mask[i] = 1
		}
		return
	}
	threshold := uint32(math.Round(float64(rate) * (1 << 32))) // fits: float32 rate ≤ 1 − 2⁻²⁴
	scale := float32(1 / (1 - float64(rate)))
	n := len(x)
	i := 0
	for ; i+1 < n; i += 2 {
		u := rng.Uint64()
		m0, m1 := scale, scale
		if uint32(u) < threshold {
			m0 = 0
		}
		if uint32(u>>32) < threshold {
			m1 = 0
		}
		mask[i], mask[i+1] = m0, m1
		y[i], y[i+1] = x[i]*m0, x[i+1]*m1
	}
	if i < n {
		m0 := scale
		if uint32(rng.Uint64()) < threshold {
			m0 = 0
		}
		mask[i] = m0
		y[i] = x[i] * m0
	}
}

// DropoutBackward accumulates dx += dy·mask, with the mask DropoutForward
// recorded.
//
//	mask [N·H] from DropoutForward
//	dy   [N·H] ∂L/∂y
//	dx   [N·H] ∂L/∂x, accumulated
func DropoutBackward(mask, dy, dx []float32) {
	const fn = "DropoutBackward"
	checkLen(fn, "dy", dy, len(mask), false)
	checkLen(fn, "dx", dx, len(mask), false)
	dy, dx = dy[:len(mask)], dx[:len(mask)]
	for i, m := range mask {
		dx[i] += float32(dy[i] * m) // rounded product: no fused multiply-add, same bits on every GOAMD64
	}
}
