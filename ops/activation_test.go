package ops

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
	"testing"
)

// sigmoidRef and tanhRef are the float64 references the fast functions are
// tested against.
func sigmoidRef(x float32) float32 { return float32(1 / (1 + math.Exp(-float64(x)))) }
func tanhRef(x float32) float32    { return float32(math.Tanh(float64(x))) }

// ulps is the distance between a and b in units in the last place.
func ulps(a, b float32) int64 {
	ia, ib := int64(math.Float32bits(a)), int64(math.Float32bits(b))
	if ia < 0x80000000 != (ib < 0x80000000) { // opposite signs: count through zero
		return (ia & 0x7fffffff) + (ib & 0x7fffffff)
	}
	d := ia - ib
	if d < 0 {
		d = -d
	}
	return d
}

// TestActivationsAgainstFloat64 sweeps every float32 in [−30, 30] with a
// stride and the tails, and bounds the error against float64 math: at most 2
// ulp, or 1e-9 absolute for sigmoid's tiny values (where float32 cannot
// hold more).
func TestActivationsAgainstFloat64(t *testing.T) {
	var worstS, worstT int64
	check := func(x float32) {
		if d := ulps(sigmoid(x), sigmoidRef(x)); d > 2 && math.Abs(float64(sigmoid(x)-sigmoidRef(x))) > 1e-9 {
			t.Fatalf("sigmoid(%v) = %v, float64 gives %v (%d ulp)", x, sigmoid(x), sigmoidRef(x), d)
		} else if d > worstS && sigmoidRef(x) > 1e-30 {
			worstS = d
		}
		if d := ulps(tanh(x), tanhRef(x)); d > 2 {
			t.Fatalf("tanh(%v) = %v, float64 gives %v (%d ulp)", x, tanh(x), tanhRef(x), d)
		} else if d > worstT {
			worstT = d
		}
	}
	// Every 4099th float32 of [0, 30], both signs: about 260k points each.
	for b := uint32(0); b <= math.Float32bits(30); b += 4099 {
		x := math.Float32frombits(b)
		check(x)
		check(-x)
	}
	for _, x := range []float32{0, -0, 1e-30, -1e-30, 1e-8, 0.6249, 0.625, 0.6251, 9.0, 9.1, 9.2, 87, 88.3, 88.4, 89, 103, 104, 1e4, -1e4, 3e38, -3e38} {
		check(x)
	}
	t.Logf("worst error: sigmoid %d ulp, tanh %d ulp", worstS, worstT)
}

func TestActivationsSpecialValues(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	cases := []struct {
		name      string
		got, want float32
	}{
		{"sigmoid(+Inf)", sigmoid(inf), 1},
		{"sigmoid(-Inf)", sigmoid(-inf), 0},
		{"tanh(+Inf)", tanh(inf), 1},
		{"tanh(-Inf)", tanh(-inf), -1},
		{"sigmoid(0)", sigmoid(0), 0.5},
		{"tanh(0)", tanh(0), 0},
		{"tanh(9.1)", tanh(9.1), 1},
		{"tanh(-1e-30)", tanh(-1e-30), -1e-30},
		{"exp32(0)", exp32(0), 1},
		{"exp32(1)", exp32(1), float32(math.E)},
		{"exp32(89)", exp32(89), inf},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if s, th := sigmoid(nan), tanh(nan); s == s || th == th {
		t.Errorf("sigmoid(NaN) = %v, tanh(NaN) = %v, want NaN", s, th)
	}
	if th := tanh(float32(math.Copysign(0, -1))); math.Float32bits(th) != 1<<31 {
		t.Errorf("tanh(-0) = %v (%#08x), want -0", th, math.Float32bits(th))
	}
	// exp32 stays accurate up to the largest float, and at the lower end
	// of its range.
	for _, x := range []float32{-80, -79.9, 88.7, 88.72} {
		got, want := exp32(x), float32(math.Exp(float64(x)))
		if d := ulps(got, want); d > 2 {
			t.Errorf("exp32(%v) = %v, want %v (%d ulp)", x, got, want, d)
		}
	}
}

// TestSigmoid: the exported Sigmoid, which the runtime turns logits into
// probabilities with, is the kernels' sigmoid bit for bit, within 1e-6
// relative of the float64 logistic function (results below float32's normal
// range, σ(x) < 1.2e-38, may be 0), and in [0, 1] even for extreme logits.
func TestSigmoid(t *testing.T) {
	x := []float32{0, 1, -1, 4.5, -4.5, 20, -20, 88, -88, 100, -100, 1e-8, -1e-8, float32(math.Inf(1)), float32(math.Inf(-1))}
	rng := rand.New(rand.NewPCG(21, 22))
	x = append(x, gcRandom(rng, 200, -15, 15)...)
	for _, v := range x {
		y := Sigmoid(v)
		if math.Float32bits(y) != math.Float32bits(sigmoid(v)) {
			t.Fatalf("Sigmoid(%v) = %v, sigmoid gives %v", v, y, sigmoid(v))
		}
		want := 1 / (1 + math.Exp(-float64(v)))
		if got := float64(y); !(got >= 0 && got <= 1) || math.Abs(got-want) > 1e-6*want+0x1p-126 {
			t.Fatalf("σ(%v) = %v, want %v", v, got, want)
		}
	}
}

// activationGrid returns the inputs on which the vector kernels are checked
// against the scalar functions, bit for bit: every 4099th float32 bit
// pattern (all exponents, both signs, subnormals, NaNs with many payloads),
// every 2039th float32 of [−30, 30], 64 consecutive floats on both sides of
// every threshold (±sigLo, ±sigHi: sigmoid's clamps; ±88.72, where e^u
// overflows, and its half; ±103.28, where it would underflow; tanhSat; ±10)
// and of every point where exp32's n changes (x·log2e halfway between
// integers, n = −150..129) or tanh's (half that), and the special values.
func activationGrid() []float32 {
	var xs []float32
	for b := uint64(0); b < 1<<32; b += 4099 {
		xs = append(xs, math.Float32frombits(uint32(b)))
	}
	for b := uint32(0); b <= math.Float32bits(30); b += 2039 {
		x := math.Float32frombits(b)
		xs = append(xs, x, -x)
	}
	around := func(c float32) {
		b := math.Float32bits(c)
		for d := uint32(0); d < 64; d++ {
			xs = append(xs, math.Float32frombits(b+d), math.Float32frombits(b-d))
		}
	}
	for _, c := range []float32{sigHi, sigLo, 88.72284, 103.27893, 44.36142, tanhSat, 10} {
		around(c)
		around(-c)
	}
	for n := -150; n <= 129; n++ {
		c := float32((float64(n) - 0.5) * math.Ln2)
		if c != 0 {
			around(c)
			around(-c)
			around(c / 2) // where tanh's e^(2a) changes n
			around(-c / 2)
		}
	}
	nan := func(b uint32) float32 { return math.Float32frombits(b) }
	xs = append(xs, 0, float32(math.Copysign(0, -1)), 1, -1,
		float32(math.Inf(1)), float32(math.Inf(-1)), math.MaxFloat32, -math.MaxFloat32,
		math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32,
		math.Float32frombits(0x007fffff), math.Float32frombits(0x00800000), // largest subnormal, smallest normal
		nan(0x7fc00000), nan(0xffc00000), nan(0x7fc12345), nan(0xffc54321), // quiet NaNs
		nan(0x7f800001), nan(0xff812345), nan(0x7fbfffff)) // signaling NaNs
	return xs
}

// TestVecActivationsBitIdentical checks that sigmoidVec and tanhVec give,
// on every input of activationGrid, the bits of sigmoid and tanh (NaNs
// included: same payload, same quieting), whether the element falls in the
// vector part or the scalar tail, and that they write nothing past dst.
func TestVecActivationsBitIdentical(t *testing.T) {
	if !haveVecAsm {
		t.Skip("no vector kernels in this build or on this CPU: sigmoidVec and tanhVec are the scalar loop")
	}
	xs := activationGrid()
	for _, f := range []struct {
		name   string
		vec    func(dst, src []float32)
		scalar func(float32) float32
	}{{"sigmoid", sigmoidVec, sigmoid}, {"tanh", tanhVec, tanh}} {
		bad := 0
		// Chunks of 1021 elements: 127 vectors of 8 and a tail of 5.
		const chunk = 1021
		dst, ok := guarded(chunk, 0)
		for lo := 0; lo < len(xs); lo += chunk {
			src := xs[lo:min(lo+chunk, len(xs))]
			d := dst[:len(src)]
			f.vec(d, src)
			for i, x := range src {
				want := f.scalar(x)
				if math.Float32bits(d[i]) != math.Float32bits(want) {
					if bad++; bad <= 10 {
						t.Errorf("%sVec(%v = %#08x)[lane %d] = %v (%#08x), %s gives %v (%#08x)",
							f.name, x, math.Float32bits(x), i%8, d[i], math.Float32bits(d[i]), f.name, want, math.Float32bits(want))
					}
				}
			}
		}
		if !ok() {
			t.Errorf("%sVec wrote outside dst", f.name)
		}
		if bad > 0 {
			t.Errorf("%sVec: %d of %d inputs differ from the scalar function", f.name, bad, len(xs))
		}
	}
}

// TestVecActivationsInPlace checks dst == src, every length from 0 to 40
// (tails of 0..7 after 0..5 vectors), and that src is not written.
func TestVecActivationsInPlace(t *testing.T) {
	for n := 0; n <= 40; n++ {
		src := make([]float32, n)
		for i := range src {
			src[i] = float32(i)*0.37 - 7
		}
		orig := append([]float32(nil), src...)
		for _, f := range []struct {
			name   string
			vec    func(dst, src []float32)
			scalar func(float32) float32
		}{{"sigmoid", sigmoidVec, sigmoid}, {"tanh", tanhVec, tanh}} {
			out := make([]float32, n)
			f.vec(out, src)
			inplace := append([]float32(nil), src...)
			f.vec(inplace, inplace)
			for i := range src {
				want := f.scalar(orig[i])
				if out[i] != want || inplace[i] != want {
					t.Fatalf("n=%d: %sVec[%d] = %v, in place %v, want %v", n, f.name, i, out[i], inplace[i], want)
				}
			}
			if !bitsEqual(src, orig) {
				t.Fatalf("n=%d: %sVec wrote its source", n, f.name)
			}
		}
	}
}

// activationChecksum is an FNV-1a hash of the bits of sigmoid and tanh on
// activationGrid, recorded from this implementation. Every build must
// reproduce it: with and without the assembly (-tags purego), at every
// GOAMD64 level, on every architecture. A compiler fusing a multiply-add
// that the code leaves fusable changes it. Change it only with the
// algorithm, and then check the vector kernels too.
const activationChecksum = 0x27b420bb892a7ab6

func TestActivationsChecksum(t *testing.T) {
	h := fnv.New64a()
	var b [8]byte
	for _, x := range activationGrid() {
		s, th := math.Float32bits(sigmoid(x)), math.Float32bits(tanh(x))
		b[0], b[1], b[2], b[3] = byte(s), byte(s>>8), byte(s>>16), byte(s>>24)
		b[4], b[5], b[6], b[7] = byte(th), byte(th>>8), byte(th>>16), byte(th>>24)
		h.Write(b[:])
	}
	if got := h.Sum64(); got != activationChecksum {
		t.Errorf("checksum of sigmoid and tanh on the grid = %#x, want %#x: the scalar functions no longer compute the same bits", got, uint64(activationChecksum))
	}
}

func BenchmarkSigmoid(b *testing.B) {
	x := make([]float32, 1024)
	for i := range x {
		x[i] = float32(i-512) / 64
	}
	b.Run("fast", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for j, v := range x {
				x[j] = sigmoid(v) - 0.5
			}
		}
	})
	b.Run("float64", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for j, v := range x {
				x[j] = sigmoidRef(v) - 0.5
			}
		}
	})
}

func BenchmarkActivationVec(b *testing.B) {
	x := make([]float32, 1024)
	for i := range x {
		x[i] = float32(i-512) / 64
	}
	y := make([]float32, len(x))
	b.Run("sigmoid", func(b *testing.B) {
		for b.Loop() {
			sigmoidVec(y, x)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/elem")
	})
	b.Run("tanh", func(b *testing.B) {
		for b.Loop() {
			tanhVec(y, x)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/elem")
	})
}
