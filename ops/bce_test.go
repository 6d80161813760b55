package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bceRef is the textbook BCE of σ(z), evaluated in float64 for moderate z.
func bceRef(z, y, pw float64) float64 {
	s := 1 / (1 + math.Exp(-z))
	return -pw*y*math.Log(s) - (1-y)*math.Log(1-s)
}

func TestBCEWithLogits(t *testing.T) {
	for _, y := range []float32{0, 1, 0.25} {
		for _, pw := range []float32{1, 3.5} {
			for z := float32(-10); z <= 10; z += 0.37 { // where the textbook formula is still accurate
				l, dz := BCEWithLogits(z, y, pw)
				if want := bceRef(float64(z), float64(y), float64(pw)); math.Abs(l-want) > 1e-9*(1+want) {
					t.Fatalf("BCE(z=%v, y=%v, pw=%v) = %v, want %v", z, y, pw, l, want)
				}
				// Central difference of the loss in float64.
				h := 1e-4
				lp := bceRef(float64(z)+h, float64(y), float64(pw))
				lm := bceRef(float64(z)-h, float64(y), float64(pw))
				if fd := (lp - lm) / (2 * h); math.Abs(float64(dz)-fd) > 1e-6 {
					t.Fatalf("dBCE/dz(z=%v, y=%v, pw=%v) = %v, finite difference %v", z, y, pw, dz, fd)
				}
			}
		}
	}
}

// TestBCEWithLogitsExtremeLogits: finite loss and exact limits far out,
// where the textbook formula gives Inf or NaN.
func TestBCEWithLogitsExtremeLogits(t *testing.T) {
	cases := []struct {
		z, y     float32
		loss     float64
		dz       float32
		lossTol  float64
		describe string
	}{
		{1e4, 1, 0, 0, 0, "confident and right"},
		{1e4, 0, 1e4, 1, 0, "confident and wrong: loss ≈ z"},
		{-1e4, 0, 0, 0, 0, "confident and right, negative"},
		{-1e4, 1, 1e4, -1, 0, "confident and wrong, negative"},
		{3e38, 0, 3e38, 1, 1e32, "largest float32 logits"},
	}
	for _, c := range cases {
		l, dz := BCEWithLogits(c.z, c.y, 1)
		if math.IsNaN(l) || math.IsInf(l, 0) || math.Abs(l-c.loss) > c.lossTol || dz != c.dz {
			t.Errorf("%s: BCE(%v, %v) = %v, %v; want %v, %v", c.describe, c.z, c.y, l, dz, c.loss, c.dz)
		}
	}
}

// TestBCEWithLogitsRowSameBits: the row kernel gives BCEWithLogits' bits for
// every length up to two blocks (every tail), weights or none, fractional
// labels, and logits on both sides of 700, at the edges of float32 and at
// the zeros, infinities and NaN.
func TestBCEWithLogitsRowSameBits(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	special := []float32{0, float32(math.Copysign(0, -1)), 700, -700, 700.0001, -700.0001, 745, -750, 1e-30, -1e-30,
		math.MaxFloat32, -math.MaxFloat32, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
		0.3465736, -0.3465736, 0.8813736, 1e-8, 88.7, -103.9}
	for n := 0; n <= 2*bceBlock+3; n++ {
		for _, weighted := range []bool{false, true} {
			z, y, pw := make([]float32, n), make([]float32, n), []float32(nil)
			if weighted {
				pw = make([]float32, n)
			}
			for k := range z {
				switch rng.IntN(4) {
				case 0:
					z[k] = special[rng.IntN(len(special))]
				case 1:
					z[k] = float32(rng.NormFloat64() * 40)
				default:
					z[k] = float32(rng.NormFloat64() * 3)
				}
				y[k] = []float32{0, 1, float32(rng.Float64())}[rng.IntN(3)]
				if pw != nil {
					pw[k] = float32(rng.Float64() * 5)
				}
			}
			loss, dz := make([]float64, n+1), make([]float32, n+1)
			loss[n], dz[n] = 42, 42 // past the end: must stay
			BCEWithLogitsRow(z, y, pw, loss[:n], dz[:n])
			for k := range z {
				wl, wd := BCEWithLogits(z[k], y[k], posWeightAt(pw, k))
				if !sameFloat64(loss[k], wl) || !sameFloat32(dz[k], wd) {
					t.Fatalf("n=%d k=%d z=%v y=%v pw=%v: row gives %v, %v; BCEWithLogits %v, %v", n, k, z[k], y[k], posWeightAt(pw, k), loss[k], dz[k], wl, wd)
				}
			}
			if loss[n] != 42 || dz[n] != 42 {
				t.Fatalf("n=%d: the row kernel wrote past its end", n)
			}
		}
	}
}

// TestBCEWithLogitsRowDense sweeps every 997th float32 logit in [−710, 710]
// through the row kernel against the scalar, where math.Exp's range
// reduction switches integer after integer.
func TestBCEWithLogitsRowDense(t *testing.T) {
	var z, y []float32
	for b := uint32(0); b < 0x7f800000; b += 997 {
		v := math.Float32frombits(b)
		if v > 710 {
			break
		}
		z = append(z, v, -v)
		y = append(y, 1, 0)
	}
	loss, dz := make([]float64, len(z)), make([]float32, len(z))
	BCEWithLogitsRow(z, y, nil, loss, dz)
	for k := range z {
		if wl, wd := BCEWithLogits(z[k], y[k], 1); !sameFloat64(loss[k], wl) || !sameFloat32(dz[k], wd) {
			t.Fatalf("z=%v y=%v: row gives %v, %v; BCEWithLogits %v, %v", z[k], y[k], loss[k], dz[k], wl, wd)
		}
	}
}

func TestBCEWithLogitsRowLengths(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("a short dz did not panic")
		}
	}()
	BCEWithLogitsRow(make([]float32, 3), make([]float32, 3), nil, make([]float64, 3), make([]float32, 2))
}

// TestLog1pUnit: within 2 ulp of math.Log1p over [0, 1], both sides of
// where it changes form, and exact at 0.
func TestLog1pUnit(t *testing.T) {
	check := func(e float64) {
		got, want := log1pUnit(e), math.Log1p(e)
		if ulps := math.Abs(got-want) / ulp(want); ulps > 2 {
			t.Fatalf("log1pUnit(%v) = %v, math.Log1p %v: %.1f ulp apart", e, got, want, ulps)
		}
	}
	if log1pUnit(0) != 0 {
		t.Fatalf("log1pUnit(0) = %v", log1pUnit(0))
	}
	for i := 0; i <= 1<<20; i++ {
		check(float64(i) / (1 << 20))
	}
	for e := 1e-300; e < 1; e *= 1.01 {
		check(e)
	}
	for _, e := range []float64{sqrt2m1, math.Nextafter(sqrt2m1, 1), math.Nextafter(sqrt2m1, 0), 1, math.Nextafter(1, 0), 5e-324} {
		check(e)
	}
}

func ulp(x float64) float64 { return math.Nextafter(math.Abs(x), math.Inf(1)) - math.Abs(x) }

// sameFloat64 is bit equality, with every NaN equal to every NaN.
func sameFloat64(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || (a != a && b != b)
}

func sameFloat32(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}
