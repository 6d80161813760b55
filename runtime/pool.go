package runtime

import (
	"sync"
	"sync/atomic"

	"github.com/trnn/trnn/internal/spin"
)

// pool runs the tasks of a call, 0..n-1, on the calling goroutine and on
// persistent workers. Which goroutine runs which index is not fixed, so
// tasks must write only to memory their index owns: results then never
// depend on scheduling.
//
// A training step is a few pool calls of a millisecond or two. With workers
// parked on a channel and the caller on a wait group, R1's calls took
// 50–65 µs more than their longest task, about 5% of its training time
// (18–30 µs now): waking each costs tens of microseconds on a virtual
// machine. So the caller takes tasks too and waits for the workers
// spinning, and the workers spin between calls (internal/spin).
//
// Run allocates nothing: fn should be a method value created once (creating
// a method value or closure per call would allocate).
type pool struct {
	mu      sync.Mutex // one call at a time
	workers []*spin.Worker
	fn      func(int) // the call's tasks, while it runs
	n       int64
	next    atomic.Int64 // the next task to take
	pending atomic.Int32 // workers given the call and not yet free again
	once    sync.Once
}

// newPool makes a pool that runs a call's tasks on up to workers
// goroutines, the caller's among them (at least 1).
func newPool(workers int) *pool {
	p := &pool{}
	for range workers - 1 {
		p.workers = append(p.workers, spin.NewWorker())
	}
	return p
}

// Run calls fn(i) for i in 0..n-1 and waits for all calls. With n == 1 it
// calls fn on the calling goroutine alone.
func (p *pool) Run(n int, fn func(int)) {
	if n == 1 {
		fn(0)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fn, p.n = fn, int64(n)
	p.next.Store(0)
	for _, w := range p.workers[:min(n-1, len(p.workers))] {
		p.pending.Add(1)
		if !w.ClaimOrWake(spin.Task{Run: drainTask, Arg: p, Done: &p.pending}) {
			p.pending.Add(-1)
		}
	}
	p.drain()
	spin.Wait(&p.pending)
	p.fn = nil
}

// drainTask is a worker's share of a call of the pool p.
func drainTask(p any, _ int) { p.(*pool).drain() }

// drain takes the call's tasks until none is left.
func (p *pool) drain() {
	for {
		i := p.next.Add(1) - 1
		if i >= p.n {
			return
		}
		p.fn(int(i))
	}
}

// Close stops the workers. The pool must not be used afterwards.
func (p *pool) Close() {
	p.once.Do(func() {
		for _, w := range p.workers {
			w.Close()
		}
	})
}
