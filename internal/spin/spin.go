// Package spin runs tasks handed to persistent goroutines that, after
// each task, stay awake a while, spinning, before they park.
//
// Waking a parked thread takes tens of microseconds on a virtual machine
// (the idle CPU itself must be woken): as long as a whole layer of a short
// sequence, and several percent of a training step made of calls of a
// millisecond or two. A worker that spins between calls takes the next at
// once, as ONNX Runtime's thread pool's threads do by default. The
// interpreter's helpers and training's pool both use one.
package spin

import (
	goruntime "runtime"
	"sync/atomic"
	"time"
)

// How long a worker spins: Spin after a short task, or 1/SpinShare of a
// long task's time, which covers the gap between calls of a large batch
// at that share of CPU time when the calls stop.
//
// A worker woken within Rewake of parking had parked too soon: the calls
// come with gaps longer than its spin (Predict copies each batch in before
// it runs), and each then waited for the wake-up. It doubles its spin, up
// to SpinMax; one that slept longer goes back to Spin. Calls in a loop thus
// find it awake (Predict on the external classifier's 256 rows: 0.37–0.48
// → 0.27–0.34 ms), and sporadic ones (a server's lone requests) cost 50 µs
// of spin.
const (
	Spin      = 50 * time.Microsecond
	SpinMax   = 400 * time.Microsecond
	Rewake    = time.Millisecond
	SpinShare = 8
)

// A worker's states.
const (
	awake   = iota // waiting for a task, spinning
	parked         // waiting for a task, asleep
	claimed        // a caller is handing it a task
	busy           // running its task
)

// Task is run(arg, i). With run a top-level function and arg a pointer,
// handing a task off allocates nothing. Done, if not nil, is decremented
// once the worker is free to be claimed again, so that a caller waiting on
// it (Wait) can claim the worker for its next call at once.
type Task struct {
	Run  func(arg any, i int)
	Arg  any
	I    int
	Done *atomic.Int32
}

// Worker is one goroutine that runs the tasks handed to it.
type Worker struct {
	state  atomic.Int32
	task   Task
	wake   chan struct{}
	closed atomic.Bool
}

// NewWorker starts a worker, parked.
func NewWorker() *Worker {
	w := &Worker{wake: make(chan struct{}, 1)}
	w.state.Store(parked)
	go w.loop()
	return w
}

// Claim gives t to w if it is awake, and reports whether it did.
func (w *Worker) Claim(t Task) bool { return w.claim(t, awake) }

// ClaimOrWake gives t to w if it is awake or parked, waking it if parked,
// and reports whether it did (not while it runs another task). A task
// long enough to outlast the wake-up is better started late on a worker
// than run after the caller's own.
func (w *Worker) ClaimOrWake(t Task) bool { return w.claim(t, awake) || w.claim(t, parked) }

func (w *Worker) claim(t Task, from int32) bool {
	if !w.state.CompareAndSwap(from, claimed) {
		return false
	}
	w.task = t
	w.state.Store(busy)
	if from == parked {
		w.wake <- struct{}{}
	}
	return true
}

// Wake wakes w if it is parked, for the calls that follow, and reports
// whether it did.
func (w *Worker) Wake() bool {
	if !w.state.CompareAndSwap(parked, awake) {
		return false
	}
	w.wake <- struct{}{}
	return true
}

// Close ends w once it has finished its task, if it runs one. It must not
// be given tasks afterwards.
func (w *Worker) Close() {
	w.closed.Store(true)
	if w.state.CompareAndSwap(parked, claimed) {
		w.wake <- struct{}{}
	}
}

// loop runs tasks, spinning after each and after waking before it parks,
// until the worker is closed.
func (w *Worker) loop() {
	<-w.wake
	spin := Spin
	deadline := time.Now().Add(spin)
	for spins := 1; !w.closed.Load(); spins++ {
		if w.state.Load() == busy {
			t := w.task
			w.task = Task{}
			start := time.Now()
			t.Run(t.Arg, t.I)
			w.state.Store(awake)
			if t.Done != nil {
				t.Done.Add(-1)
			}
			now := time.Now()
			deadline = now.Add(max(spin, now.Sub(start)/SpinShare))
			continue
		}
		if spins%1024 != 0 {
			continue
		}
		if time.Now().After(deadline) && w.state.CompareAndSwap(awake, parked) {
			asleep := time.Now()
			<-w.wake
			spin = nextSpin(spin, time.Since(asleep))
			deadline = time.Now().Add(spin)
			continue
		}
		goruntime.Gosched()
	}
}

// nextSpin is a worker's spin after it slept for slept having spun spin.
func nextSpin(spin, slept time.Duration) time.Duration {
	if slept < Rewake {
		return min(2*spin, SpinMax)
	}
	return Spin
}

// Wait waits, spinning, until n reaches 0: a goroutine parked on a wait
// group would wait as long to be woken as a parked worker does.
func Wait(n *atomic.Int32) {
	for spins := 1; n.Load() > 0; spins++ {
		if spins%4096 == 0 {
			goruntime.Gosched()
		}
	}
}
