package runtime

import (
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"time"
)

// pool runs the tasks of a call, 0..n-1, on the calling goroutine and on
// persistent workers. Which goroutine runs which index is not fixed, so
// tasks must write only to memory their index owns: results then never
// depend on scheduling.
//
// A training step is a few pool calls of a millisecond or two. Waking a
// parked worker takes tens of microseconds on a virtual machine (the idle
// CPU itself must be woken), and so does waking a caller parked on a wait
// group: with workers on a channel and the caller on a wait group, R1's
// calls took 50–65 µs more than their longest task, about 5% of its
// training time (18–30 µs now).
// So the caller takes tasks too and waits for the workers spinning, and a
// worker, after its share of a call, stays awake a while for the next
// before it parks.
//
// Run allocates nothing: fn should be a method value created once (creating
// a method value or closure per call would allocate).
type pool struct {
	mu      sync.Mutex // one call at a time
	workers []*poolWorker
	fn      func(int) // the call's tasks, while it runs
	n       int64
	next    atomic.Int64 // the next task to take
	pending atomic.Int32 // workers given the call and not yet done
	closed  atomic.Bool
	once    sync.Once
}

// A worker's states.
const (
	workerAwake   = iota // waiting for a call, spinning
	workerParked         // waiting for a call, asleep
	workerClaimed        // a caller is giving it a call
	workerBusy           // taking the call's tasks
)

type poolWorker struct {
	state atomic.Int32
	wake  chan struct{}
}

// workerSpin is how long a worker stays awake after a short call; after a
// long one it stays 1/workerSpinShare of the call's time, which covers the
// gap between the calls of a training step, at that share of CPU time once
// the calls stop.
const (
	workerSpin      = 50 * time.Microsecond
	workerSpinShare = 8
)

// newPool makes a pool that runs a call's tasks on up to workers
// goroutines, the caller's among them (at least 1).
func newPool(workers int) *pool {
	p := &pool{}
	for range workers - 1 {
		w := &poolWorker{wake: make(chan struct{}, 1)}
		w.state.Store(workerParked)
		p.workers = append(p.workers, w)
		go p.loop(w)
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
		if !p.claim(w) {
			p.pending.Add(-1)
		}
	}
	p.drain()
	for spins := 1; p.pending.Load() > 0; spins++ {
		if spins%4096 == 0 {
			goruntime.Gosched()
		}
	}
	p.fn = nil
}

// claim gives the call to w if it is waiting, waking it if it is parked.
func (p *pool) claim(w *poolWorker) bool {
	if w.state.CompareAndSwap(workerAwake, workerClaimed) {
		w.state.Store(workerBusy)
		return true
	}
	if w.state.CompareAndSwap(workerParked, workerClaimed) {
		w.state.Store(workerBusy)
		w.wake <- struct{}{}
		return true
	}
	return false
}

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

// loop is worker w: it takes the tasks of each call it is given, then
// spins before it parks, until the pool is closed.
func (p *pool) loop(w *poolWorker) {
	<-w.wake
	deadline := time.Now().Add(workerSpin)
	for spins := 1; !p.closed.Load(); spins++ {
		if w.state.Load() == workerBusy {
			start := time.Now()
			p.drain()
			w.state.Store(workerAwake)
			p.pending.Add(-1)
			now := time.Now()
			deadline = now.Add(max(workerSpin, now.Sub(start)/workerSpinShare))
			continue
		}
		if spins%1024 != 0 {
			continue
		}
		if time.Now().After(deadline) && w.state.CompareAndSwap(workerAwake, workerParked) {
			<-w.wake
			deadline = time.Now().Add(workerSpin)
			continue
		}
		goruntime.Gosched()
	}
}

// Close stops the workers. The pool must not be used afterwards.
func (p *pool) Close() {
	p.once.Do(func() {
		p.closed.Store(true)
		for _, w := range p.workers {
			if w.state.CompareAndSwap(workerParked, workerClaimed) {
				w.wake <- struct{}{}
			}
		}
	})
}
