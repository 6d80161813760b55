package ops

import (
	"runtime"
	"sync/atomic"
)

// Layers of a stack run at once, one goroutine each (RNNRows.Follow): the
// layer above takes the rows of the layer below as they are written,
// instead of waiting for the whole sequence. With one row (a lone request)
// a layer's steps cannot be split across cores, as each reads the one
// before; the layers can, as layer l's step t needs only layer l−1's
// steps up to t. Each layer then also reads only its own weights, which
// halves what each core's cache must hold.
//
// The bits are RunRows' on the whole batch: the follower's input products
// are computed in windows of rows (by the follower, or by the layer below
// when it feeds it), with the outer-product kernel on Wᵀ, whose per-row
// results do not depend on the other rows of the product (rangeInput takes
// the same kernel on a window of steps).

// Progress reports how many packed rows of a layer's output are complete:
// the rows of every step up to some step, for the layer above to read. The
// zero value reports none. It fills a cache line pair of its own, so that
// the cores writing two layers' Progress do not take each other's line
// at every step.
type Progress struct {
	rows atomic.Int64
	_    [120]byte
}

// progressFailed marks a layer that stopped without finishing.
const progressFailed = -1

// Reset readies p for another call.
func (p *Progress) Reset() { p.rows.Store(0) }

// Fail tells the layer above that the rows will not come (its writer
// panicked): the reader panics instead of waiting for ever.
func (p *Progress) Fail() { p.rows.Store(progressFailed) }

// publish reports the first n rows complete; nil discards the report.
func (p *Progress) publish(n int) {
	if p != nil {
		p.rows.Store(int64(n))
	}
}

// await waits until at least n rows are complete and returns how many
// are. It spins, yielding the processor now and then: the writer is
// running on another core and a step takes a microsecond or so, far less
// than parking a goroutine and waking it again.
func (p *Progress) await(n int) int {
	for spins := 1; ; spins++ {
		v := p.rows.Load()
		if v >= int64(n) {
			return int(v)
		}
		if v == progressFailed {
			panic("ops: RNNRows: the layer below stopped before writing its rows")
		}
		if spins%4096 == 0 {
			runtime.Gosched()
		}
	}
}

// The follower's input products are computed window by window, window j
// being the packed rows winStart(j)..winStart(j+1)−1: one row at a time
// would take the GEMV kernel on all of Wᵀ for every step. The first window
// is smaller, so that the follower starts soon after the layer below. The
// boundaries are fixed, so that the layer below can compute some windows
// (Feed) and the follower the others.
const (
	followWindow      = 8
	followFirstWindow = 2
	// followShareOf: the layer below, when it feeds the follower, leaves
	// it one window in followShareOf (the first among them) and takes
	// the others, so that the two layers' cores do about as much work.
	followShareOf = 4
)

// A window's states.
const (
	windowFree = iota
	windowTaken
	windowDone
)

// winStart is the first packed row of window j of a batch of N rows (N
// for j past the last window).
func winStart(j, N int) int {
	if j == 0 {
		return 0
	}
	return min(N, followFirstWindow+(j-1)*followWindow)
}

// winCount is the number of windows of a batch of N rows.
func winCount(N int) int {
	if N <= followFirstWindow {
		return min(N, 1)
	}
	return 1 + (N-followFirstWindow+followWindow-1)/followWindow
}

// Follow makes the next RunRows, which must then run the whole batch, read
// x as the layer below writes it, src reporting its complete rows (nil: x
// is complete), and report its own rows to out as it writes them (nil:
// nobody reads them). Call it after Start; with src, WholeInput must be
// false. Finish ends it.
func (s *RNNRows) Follow(src, out *Progress) {
	if src != nil && s.WholeInput() {
		panic("ops: RNNRows.Follow: the layer's input product must run on the whole input first")
	}
	s.src, s.out = src, out
	if src == nil {
		return
	}
	N := s.p.N()
	s.gates = grown(s.gates, N*s.G)
	if n := winCount(N); cap(s.win) < n {
		s.win = make([]atomic.Int32, n)
	} else {
		s.win = s.win[:n]
		for j := range s.win {
			s.win[j].Store(windowFree)
		}
	}
	s.shareNext = 0
}

// Feed makes the next RunRows compute some of above's input products as
// its own rows complete (followShareOf), above being the layer that
// follows s. Call it after above's Follow. Finish ends it.
func (s *RNNRows) Feed(above *RNNRows) {
	if above.src == nil || len(above.x) > 0 && &above.x[0] != &s.y[0] {
		panic("ops: RNNRows.Feed: the layer fed must follow this one")
	}
	s.feed = above
}

// followInput makes sure the input products of the first n packed rows are
// in s.gates: it computes the windows nobody has taken, waiting for the
// layer below to write their rows, and waits for the others.
func (s *RNNRows) followInput(sc *RowScratch, n int) {
	N := s.p.N()
	for ; sc.nextWin < len(s.win) && winStart(sc.nextWin, N) < n; sc.nextWin++ {
		j := sc.nextWin
		if s.win[j].CompareAndSwap(windowFree, windowTaken) {
			s.src.await(winStart(j+1, N))
			s.windowProduct(j)
			s.win[j].Store(windowDone)
			continue
		}
		for spins := 1; s.win[j].Load() != windowDone; spins++ {
			if s.src.rows.Load() == progressFailed {
				panic("ops: RNNRows: the layer below stopped before writing its rows")
			}
			if spins%4096 == 0 {
				runtime.Gosched()
			}
		}
	}
}

// share computes, for the layer s feeds, the input products of its
// windows whose rows the first avail rows complete, but one in
// followShareOf, when the follower has not taken them.
func (s *RNNRows) share(avail int) {
	a := s.feed
	N := a.p.N()
	for ; a.shareNext < len(a.win) && winStart(a.shareNext+1, N) <= avail; a.shareNext++ {
		j := a.shareNext
		if j%followShareOf != 0 && a.win[j].CompareAndSwap(windowFree, windowTaken) {
			a.windowProduct(j)
			a.win[j].Store(windowDone)
		}
	}
}

// windowProduct computes the input products of window j.
func (s *RNNRows) windowProduct(j int) {
	I, G, N := s.I, s.G, s.p.N()
	r0, r1 := winStart(j, N), winStart(j+1, N)
	Gemm(false, false, r1-r0, G, I, 1, s.x[r0*I:r1*I], I, s.wT, G, 0, s.gates[r0*G:r1*G], G)
}

// Output is the layer's packed output y [N, H], which RunRows writes: the
// input of the layer above, which may read it as it is written (Follow).
// Call it after Start.
func (s *RNNRows) Output() []float32 { return s.y[:s.p.N()*s.H] }

// stepDone reports the first n rows of y complete to the layer above and,
// when s feeds it, computes the input products of its windows they
// complete.
func (s *RNNRows) stepDone(n int) {
	s.out.publish(n)
	if s.feed != nil {
		s.share(n)
	}
}
