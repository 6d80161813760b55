package ops

import "math"

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
func BCEWithLogits(z, y, posWeight float32) (loss float64, dz float32) {
	zz, yy, pw := float64(z), float64(y), float64(posWeight)
	e := math.Exp(-math.Abs(zz))
	s := math.Log1p(e)
	spNeg := math.Max(-zz, 0) + s // −log σ(z)
	spPos := math.Max(zz, 0) + s  // −log(1−σ(z))
	loss = pw*yy*spNeg + (1-yy)*spPos
	var sig float64 // σ(z), from e without overflow
	if zz >= 0 {
		sig = 1 / (1 + e)
	} else {
		sig = e / (1 + e)
	}
	dz = float32(pw*yy*(sig-1) + (1-yy)*sig)
	return loss, dz
}
