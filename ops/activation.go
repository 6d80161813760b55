package ops

import "math"

// Activation functions shared by every kernel, so that the LSTM, the GRU, the
// ONNX operators (Sigmoid, Tanh) and the runtime's probabilities agree to the
// last bit. They are evaluated in float32 from one polynomial exponential
// (Cephes' expf coefficients: range reduction by ln 2 split in two parts,
// then e^r − 1 ≈ r + r²·p(r), p of degree 5, on [−ln2/2, ln2/2]): sigmoid as
// 1/(1 + e^−x), tanh as e/(e + 2) with e = e^(2|x|) − 1. Both are within 2
// ulp of the exact value everywhere (activation_test.go checks a dense grid
// against float64 math). That is well inside the 1e-5 agreement expected against ONNX
// Runtime, whose own functions are approximations, and about three times
// cheaper than float64 math.Exp, which dominated training time.
//
// # One result in every build
//
// Each function is a fixed sequence of float32 operations, each rounded on
// its own. Go may fuse x*y + z into one fused multiply-add, which rounds
// once (the compiler does so on amd64 with GOAMD64=v3), so products that
// feed an addition are written float32(x*y): the conversion forces the
// rounding and forbids the fusion. The vector kernels (sigmoidVec, tanhVec
// and the recurrent cells' fused forms, in assembly where the CPU allows)
// run the same sequence lane by lane without fused multiply-adds, so every
// build, every GOAMD64 level and every kernel, scalar or vector, produces
// the same bits, and a vector kernel may leave a slice's tail to the scalar
// functions.

const (
	log2e   = 1.44269504088896341
	ln2Hi   = 0.693359375
	ln2Lo   = -2.12194440e-4
	expP0   = 1.9875691500e-4
	expP1   = 1.3981999507e-3
	expP2   = 8.3334519073e-3
	expP3   = 4.1665795894e-2
	expP4   = 1.6666665459e-1
	expP5   = 5.0000001201e-1
	sigLo   = -80 // e^u < 2^−24 below this, so 1 + e^u rounds to 1 as it would for any smaller u
	sigHi   = 89  // e^u overflows float32 from ln(MaxFloat32) ≈ 88.72 on, and exp32(89) is +Inf
	tanhSat = 9.1 // above this tanh rounds to ±1 in float32
)

// exp32 is e^x in float32 for x in [sigLo, sigHi] (NaN for NaN): 2^n·(1 + m)
// from expParts, rounded once. y·2^(n−⌊n/2⌋) is exact, and multiplying by
// 2^⌊n/2⌋ rounds, to +Inf on overflow; −115 ≤ n ≤ 128 keeps both factors
// normal powers of two.
func exp32(x float32) float32 {
	fn, m := expParts(x)
	y := m + 1
	n := int32(fn)
	n1 := n >> 1
	y *= math.Float32frombits(uint32(n-n1+127) << 23)
	return y * math.Float32frombits(uint32(n1+127)<<23)
}

// expParts splits e^x as 2^n·(1 + m): x = n·ln2 + r with n = fn an integer
// (rounded to nearest, ties to even) and |r| ≤ ln2/2, and m = p(r)·r² + r ≈ e^r − 1,
// which keeps its relative accuracy where r is tiny (tanh relies on it).
// p is Cephes' degree-5 polynomial evaluated as three linear pieces joined
// by Horner's rule in r²: the same operations as Horner's rule in r, in a
// dependency chain 4 operations shorter, which lets the vector kernels
// overlap more of their work.
func expParts(x float32) (fn, m float32) {
	fn = float32(math.RoundToEven(float64(float32(x * log2e))))
	r := float32(x-float32(fn*ln2Hi)) - float32(fn*ln2Lo)
	r2 := float32(r * r)
	p := float32(expP0*r) + expP1
	p = float32(p*r2) + (float32(expP2*r) + expP3)
	p = float32(p*r2) + (float32(expP4*r) + expP5)
	return fn, float32(p*r2) + r
}

// sigmoid is the logistic function 1/(1+e^u), u = −x clamped to [sigLo,
// sigHi]: neither bound changes the result, and they keep exp32 free of
// cases (a NaN passes through).
func sigmoid(x float32) float32 {
	u := -x
	if u < sigLo {
		u = sigLo
	} else if u > sigHi {
		u = sigHi
	}
	return 1 / (1 + exp32(u))
}

// tanh is the hyperbolic tangent, as e/(e+2) with e = e^(2a) − 1 for
// a = |x| (capped at tanhSat), and x's sign put back. e is 2^n·m + (2^n − 1)
// from expParts, accurate near 0, where 1 − 2/(e^(2a)+1) would cancel, so
// one formula serves every x, within 2 ulp. (A polynomial for small |x|
// beside that formula, both computed and blended in the vector kernels,
// took 0.82 ns an element with AVX-512 against this one's 0.53.) a + a ≤
// 18.2 gives 0 ≤ n ≤ 26: 2^n·m is exact, and 2^n − 1 is exact up to n = 24
// and above it rounds by less than the sum e does.
func tanh(x float32) float32 {
	if x != x {
		return x + x // quieted, as the vector kernels' arithmetic does
	}
	a := min(float32(math.Abs(float64(x))), tanhSat)
	fn, m := expParts(a + a)
	pow := math.Float32frombits(uint32(int32(fn)+127) << 23)
	e := float32(m*pow) + (pow - 1)
	t := e / (e + 2)
	return float32(math.Copysign(float64(t), float64(x)))
}

// Sigmoid is the logistic function 1/(1+e^−x), as every kernel computes it.
func Sigmoid(x float32) float32 { return sigmoid(x) }

// SigmoidVec sets dst[i] = Sigmoid(src[i]) for i < len(dst), bit for bit,
// with the vector kernels where the CPU has them; src needs at least
// len(dst) elements and may be dst itself (not otherwise overlapping it).
// The ONNX Sigmoid operator of runtime/interp uses it.
func SigmoidVec(dst, src []float32) { sigmoidVec(dst, src) }

// TanhVec sets dst[i] to the hyperbolic tangent of src[i], as every kernel
// computes it, for i < len(dst), as SigmoidVec (the ONNX Tanh operator).
func TanhVec(dst, src []float32) { tanhVec(dst, src) }

// sigmoidVec sets dst[i] = sigmoid(src[i]) for i < len(dst), bit for bit;
// src needs at least len(dst) elements and may be dst itself (not otherwise
// overlapping it). Where the CPU has AVX2 it runs 8 lanes at a time.
func sigmoidVec(dst, src []float32) {
	src = src[:len(dst)]
	m := vecLen(len(dst))
	if m > 0 {
		sigmoidAsm(m, &dst[0], &src[0])
	}
	d, s := dst[m:], src[m:]
	s = s[:len(d)]
	for i := range d {
		d[i] = sigmoid(s[i])
	}
}

// tanhVec sets dst[i] = tanh(src[i]) for i < len(dst), bit for bit; src
// needs at least len(dst) elements and may be dst itself (not otherwise
// overlapping it). Where the CPU has AVX2 it runs 8 lanes at a time.
func tanhVec(dst, src []float32) {
	src = src[:len(dst)]
	m := vecLen(len(dst))
	if m > 0 {
		tanhAsm(m, &dst[0], &src[0])
	}
	d, s := dst[m:], src[m:]
	s = s[:len(d)]
	for i := range d {
		d[i] = tanh(s[i])
	}
}

// vecLen is how many of n elements the vector kernels take: n rounded down
// to a multiple of their 8 lanes, or 0 in a build or on a CPU without them.
// The scalar code finishes the rest.
func vecLen(n int) int {
	if !haveVecAsm {
		return 0
	}
	return n &^ 7
}
