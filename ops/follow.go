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
// The bits are RunRows' on the whole batch: the follower computes its
// input products in windows of rows, with the outer-product kernel on Wᵀ,
// whose per-row results do not depend on the other rows of the product
// (rangeInput takes the same kernel on all of them at once).

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

// followWindow is the fewest rows of input the follower multiplies at
// once, but at the end of the batch: one row would take the GEMV kernel
// on all of Wᵀ for every step. The first window is smaller, so that the
// follower starts soon after the layer below.
const (
	followWindow      = 8
	followFirstWindow = 2
)

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
}

// followInput makes sure the input products of the first n packed rows are
// in sc.gates, waiting for the layer below to write them.
func (s *RNNRows) followInput(sc *RowScratch, n int) {
	if sc.ready >= n {
		return
	}
	I, G, N := s.I, s.G, s.p.N()
	window := followWindow
	if sc.ready == 0 {
		window = followFirstWindow
	}
	want := min(N, max(n, sc.ready+window))
	avail := min(N, s.src.await(want))
	r := sc.ready
	Gemm(false, false, avail-r, G, I, 1, s.x[r*I:avail*I], I, s.wT, G, 0, sc.gates[r*G:avail*G], G)
	sc.ready = avail
}

// Output is the layer's packed output y [N, H], which RunRows writes: the
// input of the layer above, which may read it as it is written (Follow).
// Call it after Start.
func (s *RNNRows) Output() []float32 { return s.y[:s.p.N()*s.H] }
