package interp

// Helpers: goroutines that run the upper layers of stacks, their parts
// (fusedstack.go) and the row ranges of one-layer classifiers (fused.go)
// for calls on other goroutines.
//
// A goroutine started for each call would come too late: waking a parked
// thread takes tens of microseconds on a virtual machine (the idle CPU
// itself must be woken), as long as a whole layer of a short sequence
// takes. So a helper, after each task, stays awake and spins a while for
// the next before it parks (helperSpin, which adapts to how often the
// calls come), as ONNX Runtime's thread pool does by default. A call that
// finds no helper awake runs its layers itself, one after another, and
// wakes one for the calls that follow.

import (
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"time"
)

// helperSpin is how long a helper stays awake after a short task: it
// covers the gap between back-to-back calls, at the cost of that much CPU
// time when the calls stop. After a long task it stays awake for
// 1/helperSpinShare of the task's time instead, which covers the gap
// between calls of a large batch (the head, the next call's packing: a
// few hundred microseconds) at the same share of CPU time.
//
// A helper woken within helperRewake of parking had parked too soon: the
// calls come with gaps longer than its spin (Predict copies each batch in,
// some tens of microseconds, before it runs), and each then waited for
// the wake-up. It doubles its spin, up to helperSpinMax; one that slept
// longer goes back to helperSpin. Calls in a loop thus find it awake
// (Predict on the external classifier's 256 rows: 0.37–0.48 → 0.27–0.34
// ms), and sporadic ones (a server's lone requests) cost 50 µs of spin.
const (
	helperSpin      = 50 * time.Microsecond
	helperSpinMax   = 400 * time.Microsecond
	helperRewake    = time.Millisecond
	helperSpinShare = 8
)

// A helper's states.
const (
	helperAwake   = iota // waiting for a task, spinning
	helperParked         // waiting for a task, asleep
	helperClaimed        // a caller is handing it a task
	helperBusy           // running its task
)

type helper struct {
	state atomic.Int32
	task  helperTask
	wake  chan struct{}
}

// helperTask is a helper's task: run(w, i), where run is a method
// expression (no closure, so handing a task off allocates nothing).
type helperTask struct {
	run func(*fusedWork, int)
	w   *fusedWork
	i   int
}

// helpers are started at the first call that hands one a task, one per
// core but the caller's.
var helpers struct {
	once sync.Once
	hs   []*helper
}

// handOff gives t to a helper that is awake, and reports whether one took
// it. When none is awake, it wakes a parked one for later calls.
func handOff(t helperTask) bool {
	helpers.once.Do(startHelpers)
	if claim(t, helperAwake) {
		return true
	}
	for _, h := range helpers.hs {
		if h.state.CompareAndSwap(helperParked, helperAwake) {
			h.wake <- struct{}{}
			break
		}
	}
	return false
}

// handOffOrWake gives t to a helper that is awake or, failing that, to a
// parked one, which it wakes; it reports whether one took it (not when
// every helper is busy). A task long enough to outlast the wake-up is
// better started late on a helper than run after the caller's own.
func handOffOrWake(t helperTask) bool {
	helpers.once.Do(startHelpers)
	return claim(t, helperAwake) || claim(t, helperParked)
}

// claim gives t to a helper in state from, waking it if it was parked.
func claim(t helperTask, from int32) bool {
	for _, h := range helpers.hs {
		if h.state.CompareAndSwap(from, helperClaimed) {
			h.task = t
			h.state.Store(helperBusy)
			if from == helperParked {
				h.wake <- struct{}{}
			}
			return true
		}
	}
	return false
}

// waitPending waits, spinning, until n reaches 0: a parked goroutine
// would wait as long to be woken as a helper does.
func waitPending(n *atomic.Int32) {
	for spins := 1; n.Load() > 0; spins++ {
		if spins%4096 == 0 {
			goruntime.Gosched()
		}
	}
}

func startHelpers() {
	for range goruntime.GOMAXPROCS(0) - 1 {
		h := &helper{wake: make(chan struct{}, 1)}
		h.state.Store(helperParked)
		helpers.hs = append(helpers.hs, h)
		go h.loop()
	}
}

// loop runs tasks, spinning after each and after waking (helperSpin)
// before it parks.
func (h *helper) loop() {
	<-h.wake
	spin := helperSpin
	deadline := time.Now().Add(spin)
	for spins := 1; ; spins++ {
		if h.state.Load() == helperBusy {
			t := h.task
			h.task = helperTask{}
			start := time.Now()
			t.run(t.w, t.i)
			h.state.Store(helperAwake)
			now := time.Now()
			deadline = now.Add(max(spin, now.Sub(start)/helperSpinShare))
			continue
		}
		if spins%1024 != 0 {
			continue
		}
		if time.Now().After(deadline) && h.state.CompareAndSwap(helperAwake, helperParked) {
			parked := time.Now()
			<-h.wake
			spin = nextSpin(spin, time.Since(parked))
			deadline = time.Now().Add(spin)
			continue
		}
		goruntime.Gosched()
	}
}

// nextSpin is a helper's spin after it slept for slept having spun spin.
func nextSpin(spin, slept time.Duration) time.Duration {
	if slept < helperRewake {
		return min(2*spin, helperSpinMax)
	}
	return helperSpin
}
