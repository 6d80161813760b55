package interp

// Helpers: workers (internal/spin) that run the upper layers of stacks,
// their parts (fusedstack.go) and the row ranges of one-layer classifiers
// (fused.go) for calls on other goroutines. A goroutine started for each
// call would come too late: see internal/spin. A call that finds no helper
// awake runs its layers itself, one after another, and wakes one for the
// calls that follow.

import (
	goruntime "runtime"
	"sync"

	"github.com/trnn/trnn/internal/spin"
)

// helpers are started at the first call that hands one a task, one per
// core but the caller's.
var helpers struct {
	once sync.Once
	ws   []*spin.Worker
}

func startHelpers() {
	for range goruntime.GOMAXPROCS(0) - 1 {
		helpers.ws = append(helpers.ws, spin.NewWorker())
	}
}

// handOff gives t to a helper that is awake, and reports whether one took
// it. When none is awake, with wake it gives t to a parked one, waking it
// (a task long enough to outlast the wake-up is better started late on a
// helper than run after the caller's own); without, it only wakes one for
// the calls that follow.
func handOff(t spin.Task, wake bool) bool {
	helpers.once.Do(startHelpers)
	for _, w := range helpers.ws {
		if w.Claim(t) {
			return true
		}
	}
	for _, w := range helpers.ws {
		if wake && w.ClaimOrWake(t) {
			return true
		}
		if !wake && w.Wake() {
			return false
		}
	}
	return false
}

// The helpers' tasks, each on the *fusedWork it is given.

func followLayerTask(w any, l int) { w.(*fusedWork).followLayer(l) }
func stackPartTask(w any, i int)   { w.(*fusedWork).runStackPart(i, true) }
func rangesTask(w any, i int)      { w.(*fusedWork).work(i) }
