package serve

import (
	"errors"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trnn/trnn"
)

// batcher merges a model's concurrent calls into batches of up to maxBatch
// rows: a collecting goroutine forms them and a pool of workers, one per
// core, runs them. A batch is ready when it is full or its first call has
// waited maxDelay; while every worker is busy it keeps growing, so that
// under load batches fill without any delay at all.
type batcher struct {
	m        *model
	maxBatch int
	maxDelay time.Duration
	calls    chan *call   // from the handlers
	work     chan []*call // to the workers
	quit     chan struct{}
	wg       sync.WaitGroup
	observe  func(rows int) // the batch-size metric
}

// newBatcher starts m's batcher; queue is how many calls may wait to join
// a batch (the server's in-flight limit, so a handler never blocks there).
func newBatcher(m *model, maxBatch int, maxDelay time.Duration, queue int, observe func(int)) *batcher {
	b := &batcher{
		m: m, maxBatch: maxBatch, maxDelay: maxDelay,
		calls: make(chan *call, queue), work: make(chan []*call),
		quit: make(chan struct{}), observe: observe,
	}
	b.wg.Add(1)
	go b.collect()
	for range runtime.GOMAXPROCS(0) {
		b.wg.Add(1)
		go b.worker()
	}
	return b
}

// stop ends the goroutines. Calls still queued are never answered: stop
// comes after the requests in flight are.
func (b *batcher) stop() {
	close(b.quit)
	b.wg.Wait()
}

// forming is the batch a batcher is forming, and the calls that wait for
// a later one: calls whose dimensions do not merge with it, and calls that
// would take it past maxBatch rows.
type forming struct {
	batch   []*call
	rows    int
	steps   int  // Σ rows × T of the calls: the batch's work before padding
	maxT    int  // the longest T, which a padded x takes
	full    bool // no more calls fit
	expired bool // the first call has waited maxDelay
	held    []*call
}

// padFloor is the padded size (rows × steps) under which a batch is never
// split to save padding: below it, padding costs less than a batch more.
const padFloor = 1 << 14

// collect forms batches and hands each to a worker once it is full or its
// first call has waited maxDelay. While every worker is busy it keeps
// taking calls in, so that batches grow under load.
func (b *batcher) collect() {
	defer b.wg.Done()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var f forming
	for {
		var out chan<- []*call
		if len(f.batch) > 0 && (f.full || f.expired) {
			out = b.work
		}
		select {
		case c := <-b.calls:
			if len(f.batch) == 0 {
				b.start(&f, c, timer)
			} else {
				b.add(&f, c)
			}
		case <-timer.C:
			f.expired = true
		case out <- f.batch:
			timer.Stop()
			held := f.held
			f = forming{}
			for _, c := range held {
				if len(f.batch) == 0 {
					b.start(&f, c, timer)
				} else {
					b.add(&f, c)
				}
			}
		case <-b.quit:
			return
		}
	}
}

// start begins a batch with c, its timer running from c's arrival.
func (b *batcher) start(f *forming, c *call, timer *time.Timer) {
	f.batch, f.rows, f.steps, f.maxT = []*call{c}, c.rows, c.rows*c.T, c.T
	f.full = f.rows >= b.maxBatch
	wait := b.maxDelay - time.Since(c.arrived)
	f.expired = wait <= 0
	if !f.expired {
		timer.Reset(wait)
	}
}

// add puts c in the batch, or among the held calls when it does not fit:
// its dimensions differ, it would take the batch past maxBatch rows, or,
// when x is padded, past padFloor and twice its steps, which bounds the
// memory and work that padding adds.
func (b *batcher) add(f *forming, c *call) {
	rows, steps, maxT := f.rows+c.rows, f.steps+c.rows*c.T, max(f.maxT, c.T)
	switch {
	case c.key != f.batch[0].key:
		f.held = append(f.held, c)
	case b.m.layout.pad && rows*maxT > padFloor && rows*maxT > 2*steps:
		f.held = append(f.held, c)
	case f.full || rows > b.maxBatch:
		f.held = append(f.held, c)
		f.full = true
	default:
		f.batch, f.rows, f.steps, f.maxT = append(f.batch, c), rows, steps, maxT
		f.full = f.rows >= b.maxBatch
	}
}

func (b *batcher) worker() {
	defer b.wg.Done()
	for {
		select {
		case calls := <-b.work:
			rows := 0
			for _, c := range calls {
				rows += c.rows
			}
			b.observe(rows)
			b.m.run(calls)
		case <-b.quit:
			return
		}
	}
}

// run runs calls as one batch and answers each. When the batch fails, each
// call runs again alone, so that an error reaches only the request that
// caused it. When the model's outputs turn out not to follow the batch,
// the model stops batching, and calls run as they come.
func (m *model) run(calls []*call) {
	err := m.runMerged(calls)
	var he *httpError
	if errors.As(err, &he) && he.status == http.StatusInternalServerError {
		if !m.unbatched.Swap(true) {
			m.log.Warn("model outputs do not follow the batch: requests run one at a time", "model", m.name, "error", err)
		}
		for _, c := range calls {
			err := m.runAlone(c)
			c.done <- result{outputs: c.out, err: err}
		}
		return
	}
	if err == nil || len(calls) == 1 {
		for _, c := range calls {
			c.done <- result{outputs: c.out, err: err}
		}
		return
	}
	for _, c := range calls {
		err := m.runMerged([]*call{c})
		c.done <- result{outputs: c.out, err: err}
	}
}

// runMerged runs the calls' rows in chunks (chunk.go), on as many cores
// as there are chunks, and leaves each call's outputs in its out.
func (m *model) runMerged(calls []*call) error {
	var rows []rowRef
	for _, c := range calls {
		c.out = make([]*trnn.Tensor, len(m.outputs))
		for r := range c.rows {
			rows = append(rows, rowRef{c, r, c.steps[r]})
		}
	}
	maxCopy := 0 // copies run any number of steps: x is padded
	if !m.layout.pad {
		maxCopy = max(1, calls[0].T)
	}
	chunks := planChunks(rows, maxCopy)
	outs := make([][]*trnn.Tensor, len(chunks))
	errs := make([]error, len(chunks))
	var next atomic.Int64
	work := func() {
		for i := int(next.Add(1)) - 1; i < len(chunks); i = int(next.Add(1)) - 1 {
			outs[i], errs[i] = m.runChunk(chunks[i])
		}
	}
	// This goroutine takes chunks too: a request alone, one chunk, starts
	// no other.
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(chunks)) - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	for i, ch := range chunks {
		if errs[i] != nil {
			return errs[i]
		}
		if err := m.scatter(ch, outs[i]); err != nil {
			return err
		}
	}
	return nil
}

// runAlone runs a call that is not batched (the model is not batchable, or
// the request has no rows) on the model as it is.
func (m *model) runAlone(c *call) error {
	inputs := make(map[string]*trnn.Tensor, len(m.inputs))
	for i, v := range m.inputs {
		inputs[v.Name] = c.inputs[i]
	}
	out, err := m.sess.Run(inputs)
	if err != nil {
		return badRequest("%v", err)
	}
	c.out = make([]*trnn.Tensor, len(m.outputs))
	for o, v := range m.outputs {
		if c.out[o] = out[v.Name]; c.out[o] == nil {
			return serverError("the model gave no output %q", v.Name)
		}
	}
	return nil
}
