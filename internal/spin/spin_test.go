package spin

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestSpinAdapts: a worker woken soon after it parked doubles its spin, up
// to SpinMax; one that slept long goes back to Spin.
func TestSpinAdapts(t *testing.T) {
	for _, c := range []struct {
		spin, slept, want time.Duration
	}{
		{Spin, 100 * time.Microsecond, 2 * Spin},
		{2 * Spin, 900 * time.Microsecond, 4 * Spin},
		{SpinMax, 10 * time.Microsecond, SpinMax},
		{3 * SpinMax / 4, 10 * time.Microsecond, SpinMax},
		{SpinMax, Rewake, Spin},
		{2 * Spin, time.Second, Spin},
	} {
		if got := nextSpin(c.spin, c.slept); got != c.want {
			t.Errorf("spin %v, slept %v: next spin %v, want %v", c.spin, c.slept, got, c.want)
		}
	}
}

type counter struct{ sum atomic.Int64 }

func add(c any, i int) { c.(*counter).sum.Add(int64(i)) }

// TestWorkerRunsTasks: a worker takes a task parked (woken) or awake, not
// while it runs another; Done reaches 0 only when it can be claimed again.
func TestWorkerRunsTasks(t *testing.T) {
	w := NewWorker()
	defer w.Close()
	var c counter
	var done atomic.Int32
	if w.Claim(Task{Run: add, Arg: &c, I: 1, Done: &done}) {
		t.Fatal("a parked worker was claimed as awake")
	}
	for i := 1; i <= 50; i++ {
		done.Store(1)
		if !w.ClaimOrWake(Task{Run: add, Arg: &c, I: i, Done: &done}) {
			t.Fatalf("task %d: the worker, done with the last, was not free", i)
		}
		Wait(&done)
		if i%10 == 0 {
			time.Sleep(4 * SpinMax) // let it park
		}
	}
	if got := c.sum.Load(); got != 50*51/2 {
		t.Errorf("the tasks added %d, want %d", got, 50*51/2)
	}
	block := make(chan struct{})
	done.Store(1)
	w.ClaimOrWake(Task{Run: func(any, int) { <-block }, Done: &done})
	if w.ClaimOrWake(Task{Run: add, Arg: &c}) || w.Wake() {
		t.Error("a busy worker took another task or was woken")
	}
	close(block)
	Wait(&done)
}
