package ops

import "math"

// Activation functions shared by every kernel, so that the LSTM, the GRU and
// the Sigmoid op agree to the last bit. They are evaluated in float64 and
// rounded once, which keeps them within half an ulp of the exact value: well
// inside the 1e-5 agreement expected against ONNX Runtime, whose own
// functions are approximations.

// sigmoid is the logistic function 1/(1+e^−x).
func sigmoid(x float32) float32 {
	return float32(1 / (1 + math.Exp(-float64(x))))
}

// tanh is the hyperbolic tangent.
func tanh(x float32) float32 {
	return float32(math.Tanh(float64(x)))
}

// Sigmoid is the logistic function 1/(1+e^−x), as every kernel computes it.
func Sigmoid(x float32) float32 { return sigmoid(x) }

// Tanh is the hyperbolic tangent, as every kernel computes it.
func Tanh(x float32) float32 { return tanh(x) }
