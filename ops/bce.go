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
// It is finite for every finite z: log σ(z) = −softplus(−z) and
// log(1−σ(z)) = −softplus(z), with softplus(u) = max(u, 0) + log1p(e^−|u|).
// For posWeight = 1 this is max(z, 0) − z·y + log(1 + e^−|z|).
func BCEWithLogits(z, y, posWeight float32) (loss float64, dz float32) {
	zz, yy, pw := float64(z), float64(y), float64(posWeight)
	spNeg := softplus(-zz) // −log σ(z)
	spPos := softplus(zz)  // −log(1−σ(z))
	loss = pw*yy*spNeg + (1-yy)*spPos
	s := 1 / (1 + math.Exp(-zz))
	dz = float32(pw*yy*(s-1) + (1-yy)*s)
	return loss, dz
}

// softplus is log(1 + e^u), computed without overflow.
func softplus(u float64) float64 {
	return math.Max(u, 0) + math.Log1p(math.Exp(-math.Abs(u)))
}
