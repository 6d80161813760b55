package trnn

import (
	"math"
	"testing"
)

// TestAllFinite checks allFinite against finite on the values at the edges
// of the exponent range, alone and among finite ones.
func TestAllFinite(t *testing.T) {
	inf, nan := float32(math.Inf(1)), float32(math.NaN())
	edge := []float32{0, float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32,
		1, -1, inf, -inf, nan, -nan, math.Float32frombits(0x7f800001), math.Float32frombits(0xffffffff), math.Float32frombits(0x7f7fffff)}
	for _, v := range edge {
		for _, xs := range [][]float32{{v}, {1, 2, v}, {v, 3, 4, 5, 6}} {
			if got := allFinite(xs); got != finite(v) {
				t.Errorf("allFinite(%v) = %v, finite(%v) = %v", xs, got, v, finite(v))
			}
		}
	}
	if !allFinite(nil) {
		t.Error("allFinite(nil) = false")
	}
}
