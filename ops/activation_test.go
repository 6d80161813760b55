package ops

import (
	"math"
	"testing"
)

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
		{"exp32(0)", exp32(0), 1},
		{"exp32(1)", exp32(1), float32(math.E)},
		{"exp32(-104)", exp32(-104), 0},
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
	// Subnormal results of exp32 stay accurate.
	for _, x := range []float32{-87.5, -90, -95, -100, -103} {
		got, want := exp32(x), float32(math.Exp(float64(x)))
		if d := ulps(got, want); d > 2 {
			t.Errorf("exp32(%v) = %v, want %v (%d ulp)", x, got, want, d)
		}
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
