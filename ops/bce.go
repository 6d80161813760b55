package ops

import (
	"fmt"
	"math"
	"math/bits"
)

// BCEWithLogits returns the binary cross-entropy of the logit z against the
// label y ∈ {0, 1} (any y in [0, 1] is accepted), with the positive term
// weighted by posWeight (1 for plain BCE, as PyTorch's pos_weight), and its
// derivative with respect to z:
//
//	ℓ(z, y) = −posWeight·y·log σ(z) − (1−y)·log(1−σ(z))
//	∂ℓ/∂z   = posWeight·y·(σ(z)−1) + (1−y)·σ(z)
//
// It is finite for every finite z: with e = e^−|z| and s = log1p(e),
// −log σ(z) = max(−z, 0) + s and −log(1−σ(z)) = max(z, 0) + s. For
// posWeight = 1 this is max(z, 0) − z·y + log(1 + e^−|z|). One exponential
// and one logarithm serve the loss and σ(z) alike.
//
// The logarithm is log1pUnit, not math.Log1p, so that BCEWithLogitsRow's
// vector kernel can repeat it operation for operation; the derivative
// depends on math.Exp alone.
func BCEWithLogits(z, y, posWeight float32) (loss float64, dz float32) {
	zz, yy, pw := float64(z), float64(y), float64(posWeight)
	e := math.Exp(-math.Abs(zz))
	s := log1pUnit(e)
	spNeg := math.Max(-zz, 0) + s // −log σ(z)
	spPos := math.Max(zz, 0) + s  // −log(1−σ(z))
	// Each product is rounded on its own (float64(…)): no fused
	// multiply-add at any GOAMD64 level, as the vector kernel has none.
	loss = float64(pw*yy*spNeg) + float64((1-yy)*spPos)
	var sig float64 // σ(z), from e without overflow
	if zz >= 0 {
		sig = 1 / (1 + e)
	} else {
		sig = e / (1 + e)
	}
	dz = float32(float64(pw*yy*(sig-1)) + float64((1-yy)*sig))
	return loss, dz
}

// BCEWithLogitsRow sets loss[k], dz[k] = BCEWithLogits(z[k], y[k], pw[k])
// for every k < len(z), with the same bits; a nil pw stands for weights of 1.
// On AVX-512 it runs eight logits at a time (bce_amd64.s), which repeats
// math.Exp's operations so that the derivatives, which training sums into the
// gradients, are BCEWithLogits' own.
func BCEWithLogitsRow(z, y, pw []float32, loss []float64, dz []float32) {
	n := len(z)
	if len(y) < n || (pw != nil && len(pw) < n) || len(loss) < n || len(dz) < n {
		panic(fmt.Sprintf("ops: BCEWithLogitsRow: %d logits, %d labels, %d weights, %d losses, %d derivatives", n, len(y), len(pw), len(loss), len(dz)))
	}
	if !haveBCEAsm {
		for k, zk := range z {
			loss[k], dz[k] = BCEWithLogits(zk, y[k], posWeightAt(pw, k))
		}
		return
	}
	for o := 0; o < n; o += bceBlock {
		m := min(bceBlock, n-o)
		w := &bceOnes[0]
		if pw != nil {
			w = &pw[o]
		}
		// Lanes with |z| > 700 or NaN come back flagged: there e^−|z| is
		// subnormal or zero (or NaN), which the kernel does not repeat.
		for slow := bceRowAsm(m, &z[o], &y[o], w, &loss[o], &dz[o]); slow != 0; slow &= slow - 1 {
			k := o + bits.TrailingZeros64(slow)
			loss[k], dz[k] = BCEWithLogits(z[k], y[k], posWeightAt(pw, k))
		}
	}
}

// bceBlock is the most logits one call of the kernel takes: one bit each in
// its result.
const bceBlock = 64

// bceOnes stands in for a nil pw. It is only read.
var bceOnes = func() (o [bceBlock]float32) {
	for i := range o {
		o[i] = 1
	}
	return o
}()

func posWeightAt(pw []float32, k int) float32 {
	if pw == nil {
		return 1
	}
	return pw[k]
}

// sqrt2m1 is √2 − 1, where log1pUnit changes form.
const sqrt2m1 = 0.41421356237309504880

// log1pQ are the coefficients of Q(z) in log1pUnit, highest power first:
// 2/(2j+1) for j = 10 down to 1, the series of 2·atanh(s) = 2s + s·z·Q(z).
var log1pQ = [...]float64{2.0 / 21, 2.0 / 19, 2.0 / 17, 2.0 / 15, 2.0 / 13, 2.0 / 11, 2.0 / 9, 2.0 / 7, 2.0 / 5, 2.0 / 3}

// log1pUnit is log(1+e) for e in [0, 1]. It writes 1+e = 2^k·(1+f) with |f| ≤ 1 − 1/√2 (k = 0 and f = e
// for e ≤ √2−1, so small e lose nothing to rounding 1+e), and sums
// log(1+f) = 2·atanh(s), s = f/(2+f), |s| ≤ 0.172, to the term s^21, whose
// successor is below 10^−18 of the sum. Every product that meets an addition
// is exact (the halving and the doubling), rounded by an explicit conversion,
// or an explicit math.FMA, so the compiler cannot fuse differently from the
// assembly that repeats it. Within two ulps of math.Log1p (TestLog1pUnit).
func log1pUnit(e float64) float64 {
	f, k := e, 0.0
	if e > sqrt2m1 {
		f = (1+e)*0.5 - 1
		k = math.Ln2
	}
	s := f / (2 + f)
	z := s * s
	q := log1pQ[0]
	for _, c := range log1pQ[1:] {
		q = math.FMA(q, z, c)
	}
	r := float64(float64(s*z) * q) // rounded: not fused into the sum below
	return k + (2*s + r)
}
