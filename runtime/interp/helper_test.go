package interp

import (
	"testing"
	"time"
)

// TestHelperSpinAdapts: a helper woken soon after it parked doubles its
// spin, up to helperSpinMax; one that slept long goes back to helperSpin.
func TestHelperSpinAdapts(t *testing.T) {
	for _, c := range []struct {
		spin, slept, want time.Duration
	}{
		{helperSpin, 100 * time.Microsecond, 2 * helperSpin},
		{2 * helperSpin, 900 * time.Microsecond, 4 * helperSpin},
		{helperSpinMax, 10 * time.Microsecond, helperSpinMax},
		{3 * helperSpinMax / 4, 10 * time.Microsecond, helperSpinMax},
		{helperSpinMax, helperRewake, helperSpin},
		{2 * helperSpin, time.Second, helperSpin},
	} {
		if got := nextSpin(c.spin, c.slept); got != c.want {
			t.Errorf("spin %v, slept %v: next spin %v, want %v", c.spin, c.slept, got, c.want)
		}
	}
}
