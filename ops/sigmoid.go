package ops

// The elementwise Sigmoid op, forward and backward. It turns the head's
// logits into per-step probabilities (step_probs); the objective reads the
// logits directly (BCEWithLogits), so training runs this op only for its
// output.
//
// Shape legend: N packed steps, K width (labels); the op is elementwise, so
// only the element count matters.
//
//	y  = σ(x) = 1/(1+e^−x)
//	dx += dy·y·(1−y)

// SigmoidForward sets y[i] = σ(x[i]) with the sigmoid every kernel shares
// (activation.go).
//
//	x [N·K] input
//	y [N·K] output; may be x itself
func SigmoidForward(x, y []float32) {
	checkLen("SigmoidForward", "y", y, len(x), false)
	y = y[:len(x)]
	for i, v := range x {
		y[i] = sigmoid(v)
	}
}

// SigmoidBackward accumulates dx += dy·y·(1−y), from the forward output y.
//
//	y  [N·K] the forward output σ(x)
//	dy [N·K] ∂L/∂y
//	dx [N·K] ∂L/∂x, accumulated
func SigmoidBackward(y, dy, dx []float32) {
	const fn = "SigmoidBackward"
	checkLen(fn, "dy", dy, len(y), false)
	checkLen(fn, "dx", dx, len(y), false)
	dy, dx = dy[:len(y)], dx[:len(y)]
	for i, s := range y {
		dx[i] += dy[i] * s * (1 - s)
	}
}
