package runtime

import "sync"

// pool is a set of persistent worker goroutines. Run hands out the task
// indices 0..n-1 to the workers and returns when all are done. Which worker
// runs which index is not fixed, so tasks must write only to memory their
// index owns: results then never depend on scheduling.
//
// Run allocates nothing: fn should be a method value created once (creating
// a method value or closure per call would allocate).
type pool struct {
	tasks chan poolTask
	wg    sync.WaitGroup
	once  sync.Once
}

type poolTask struct {
	fn func(int)
	i  int
}

// newPool starts workers goroutines (at least 1).
func newPool(workers int) *pool {
	if workers < 1 {
		workers = 1
	}
	p := &pool{tasks: make(chan poolTask, 64)}
	for w := 0; w < workers; w++ {
		go func() {
			for t := range p.tasks {
				t.fn(t.i)
				p.wg.Done()
			}
		}()
	}
	return p
}

// Run calls fn(i) for i in 0..n-1 on the workers and waits for all calls.
// With n == 1 it calls fn on the calling goroutine.
func (p *pool) Run(n int, fn func(int)) {
	if n == 1 {
		fn(0)
		return
	}
	p.wg.Add(n)
	for i := 0; i < n; i++ {
		p.tasks <- poolTask{fn, i}
	}
	p.wg.Wait()
}

// Close stops the workers. The pool must not be used afterwards.
func (p *pool) Close() { p.once.Do(func() { close(p.tasks) }) }
