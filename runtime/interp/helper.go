package interp

// Helpers: goroutines that run the upper layers of stacks (fusedstack.go)
// for calls on other goroutines.
//
// A goroutine started for each call would come too late: waking a parked
// thread takes tens of microseconds on a virtual machine (the idle CPU
// itself must be woken), as long as a whole layer of a short sequence
// takes. So a helper, after each task, stays awake and spins a while for
// the next before it parks, as ONNX Runtime's thread pool does by default.
// A call that finds no helper awake runs its layers itself, one after
// another, and wakes one for the calls that follow.

import (
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"time"
)

// helperSpin is how long a helper stays awake after its last task: it
// covers the gap between back-to-back calls, at the cost of that much CPU
// time when the calls stop.
const helperSpin = 50 * time.Microsecond

// A helper's states.
const (
	helperAwake   = iota // waiting for a task, spinning
	helperParked         // waiting for a task, asleep
	helperClaimed        // a caller is handing it a task
	helperBusy           // running its task
)

type helper struct {
	state atomic.Int32
	w     *fusedWork // the task: layer l of w's stack
	l     int
	wake  chan struct{}
}

// helpers are started at the first stack that runs at once, one per core
// but the caller's.
var helpers struct {
	once sync.Once
	hs   []*helper
}

// handOff gives layer l of w's stack to a helper that is awake, and
// reports whether one took it. When none is awake, it wakes a parked one
// for later calls.
func handOff(w *fusedWork, l int) bool {
	helpers.once.Do(startHelpers)
	for _, h := range helpers.hs {
		if h.state.CompareAndSwap(helperAwake, helperClaimed) {
			h.w, h.l = w, l
			h.state.Store(helperBusy)
			return true
		}
	}
	for _, h := range helpers.hs {
		if h.state.CompareAndSwap(helperParked, helperAwake) {
			h.wake <- struct{}{}
			break
		}
	}
	return false
}

func startHelpers() {
	for range goruntime.GOMAXPROCS(0) - 1 {
		h := &helper{wake: make(chan struct{}, 1)}
		h.state.Store(helperParked)
		helpers.hs = append(helpers.hs, h)
		go h.loop()
	}
}

// loop runs tasks, spinning for helperSpin after each (and after waking)
// before it parks.
func (h *helper) loop() {
	<-h.wake
	deadline := time.Now().Add(helperSpin)
	for spins := 1; ; spins++ {
		if h.state.Load() == helperBusy {
			w, l := h.w, h.l
			h.w = nil
			w.followLayer(l)
			h.state.Store(helperAwake)
			deadline = time.Now().Add(helperSpin)
			continue
		}
		if spins%1024 != 0 {
			continue
		}
		if time.Now().After(deadline) && h.state.CompareAndSwap(helperAwake, helperParked) {
			<-h.wake
			deadline = time.Now().Add(helperSpin)
			continue
		}
		goruntime.Gosched()
	}
}
