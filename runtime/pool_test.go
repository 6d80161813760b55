package runtime

import (
	"sync/atomic"
	"testing"
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
