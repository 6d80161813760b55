package ops

import "math"

// Activation functions shared by every kernel, so that the LSTM, the GRU and
// the Sigmoid op agree to the last bit. They are evaluated in float32 with a
// polynomial exponential (Cephes' expf coefficients: range reduction by
// ln 2 split in two parts, then a degree-6 polynomial on [−ln2/2, ln2/2]),
// within 2 ulp of the exact value everywhere (activation_test.go checks a
// dense grid against float64 math). That is well inside the 1e-5 agreement
// expected against ONNX Runtime, whose own functions are approximations, and
// about three times cheaper than float64 math.Exp, which dominated training
// time.

const (
	expHi   = 88.37626   // e^x overflows float32 above this
	expLo   = -103.27893 // e^x is 0 in float32 below this
	log2e   = 1.44269504088896341
	ln2Hi   = 0.693359375
	ln2Lo   = -2.12194440e-4
	expP0   = 1.9875691500e-4
	expP1   = 1.3981999507e-3
	expP2   = 8.3334519073e-3
	expP3   = 4.1665795894e-2
	expP4   = 1.6666665459e-1
	expP5   = 5.0000001201e-1
	tanhLim = 0.625 // below this tanh uses its own odd polynomial
	tanhP0  = -5.70498872745e-3
	tanhP1  = 2.06390887954e-2
	tanhP2  = -5.37397155531e-2
	tanhP3  = 1.33314422036e-1
	tanhP4  = -3.33332819422e-1
)

// exp32 is e^x in float32 (NaN for NaN, +Inf above expHi, 0 below expLo).
func exp32(x float32) float32 {
	switch {
	case x > expHi:
		return float32(math.Inf(1))
	case x < expLo:
		return 0
	case x != x:
		return x
	}
	// x = n·ln2 + r, |r| ≤ ln2/2, with n rounded to nearest.
	fn := float32(math.Floor(float64(x*log2e + 0.5)))
	r := x - fn*ln2Hi - fn*ln2Lo
	z := r * r
	p := ((((expP0*r+expP1)*r+expP2)*r+expP3)*r+expP4)*r + expP5
	y := p*z + r + 1
	// Scale by 2^n in two steps so that n down to −149 (subnormal results)
	// and up to 128 stay representable.
	n := int32(fn)
	if n < -125 {
		y *= math.Float32frombits(uint32(n+125+127) << 23)
		return y * math.Float32frombits(uint32(-125+127)<<23)
	}
	if n > 127 {
		y *= 2
		n--
	}
	return y * math.Float32frombits(uint32(n+127)<<23)
}

// sigmoid is the logistic function 1/(1+e^−x).
func sigmoid(x float32) float32 {
	return 1 / (1 + exp32(-x))
}

// tanh is the hyperbolic tangent.
func tanh(x float32) float32 {
	a := x
	if a < 0 {
		a = -a
	}
	if a < tanhLim {
		z := x * x
		return ((((tanhP0*z+tanhP1)*z+tanhP2)*z+tanhP3)*z+tanhP4)*z*x + x
	}
	if a > 9.1 { // tanh rounds to ±1 in float32
		if x != x {
			return x
		}
		return float32(math.Copysign(1, float64(x)))
	}
	t := 1 - 2/(exp32(2*a)+1)
	if x < 0 {
		return -t
	}
	return t
}

// Sigmoid is the logistic function 1/(1+e^−x), as every kernel computes it.
func Sigmoid(x float32) float32 { return sigmoid(x) }

// Tanh is the hyperbolic tangent, as every kernel computes it.
func Tanh(x float32) float32 { return tanh(x) }

// sigmoidRef and tanhRef are the float64 references the fast functions are
// tested against.
func sigmoidRef(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }
func tanhRef(x float32) float32    { return float32(math.Tanh(float64(x))) }
