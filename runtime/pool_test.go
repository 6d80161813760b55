package runtime

import (
	"fmt"
	goruntime "runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trnn/trnn/internal/spin"
)

func TestPoolRunsEveryIndexOnce(t *testing.T) {
	p := newPool(2)
	defer p.Close()
	for _, n := range []int{1, 2, 3, 17, 200} {
		hits := make([]int32, n)
		p.Run(n, func(i int) { atomic.AddInt32(&hits[i], 1) })
		for i, h := range hits {
			if h != 1 {
				t.Fatalf("n=%d: index %d ran %d times", n, i, h)
			}
		}
	}
}

type poolCounter struct{ sum []int64 }

func (c *poolCounter) task(i int) { c.sum[i] += int64(i) }

func TestPoolRunAllocatesNothing(t *testing.T) {
	p := newPool(2)
	defer p.Close()
	c := &poolCounter{sum: make([]int64, 8)}
	fn := c.task
	if a := testing.AllocsPerRun(100, func() { p.Run(8, fn) }); a != 0 {
		t.Fatalf("pool.Run allocates %.1f times per call, want 0", a)
	}
}

// TestPoolConcurrentCalls: calls from several goroutines at once each run
// their own tasks, every index once, whether the worker is awake
// (back-to-back calls) or parked (after a pause).
func TestPoolConcurrentCalls(t *testing.T) {
	p := newPool(2)
	defer p.Close()
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			for call := range 40 {
				n := 2 + (g+call)%9
				hits := make([]int32, n)
				p.Run(n, func(i int) { atomic.AddInt32(&hits[i], 1) })
				for i, h := range hits {
					if h != 1 {
						errs <- fmt.Errorf("caller %d call %d: index %d of %d ran %d times", g, call, i, n, h)
						return
					}
				}
				if call%10 == 9 {
					time.Sleep(2 * spin.SpinMax) // let the worker park
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestPoolCloseStopsWorkers: Close ends the workers, parked or awake.
func TestPoolCloseStopsWorkers(t *testing.T) {
	before := goruntime.NumGoroutine()
	awake, parked := newPool(3), newPool(3)
	awake.Run(4, func(int) {})
	parked.Run(4, func(int) {})
	time.Sleep(10 * spin.SpinMax)
	awake.Run(4, func(int) {})
	awake.Close()
	parked.Close()
	deadline := time.Now().Add(5 * time.Second)
	for goruntime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Close, %d before the pool", goruntime.NumGoroutine(), before)
		}
		time.Sleep(time.Millisecond)
	}
}
