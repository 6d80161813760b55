package ops

import (
	"math"
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
