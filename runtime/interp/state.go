package interp

import "github.com/trnn/trnn/graph"

// state is one call's working memory: the value of every slot, the free
// buffers of dead values, and the recurrent nodes' workspaces. Folding
// constants uses a state with no allocator (fresh tensors, which become
// the interpreter's constants) and no workspaces.
type state struct {
	vals  []*graph.Tensor // [slot]
	free  *freeLists
	rnn   []rnnWork // [recurrentKernel.work]
	alloc allocator
}

// freeLists holds the free buffers by element type: an array, not a map,
// as every kernel call takes one and gives one back.
type freeLists [graph.Float64 + 1][]*graph.Tensor

func newState(nslots, nrnn int) *state {
	s := &state{
		vals: make([]*graph.Tensor, nslots),
		free: new(freeLists),
		rnn:  make([]rnnWork, nrnn),
	}
	s.alloc = allocator{st: s}
	return s
}

// get returns a tensor of the given type and shape: the smallest free one
// large enough, resliced, else a new one. A recycled tensor's contents are
// not zeroed.
func (s *state) get(dt graph.DType, shape []int) *graph.Tensor {
	n := graph.Size(shape)
	list := s.free[dt]
	best := -1
	for i, t := range list {
		if capacity(t) >= n && (best < 0 || capacity(t) < capacity(list[best])) {
			best = i
		}
	}
	if best < 0 {
		return graph.NewTensor(dt, shape...)
	}
	t := list[best]
	list[best] = list[len(list)-1]
	s.free[dt] = list[:len(list)-1]
	reslice(t, shape)
	return t
}

// reslice gives t, whose capacity suffices, the shape and the length it
// implies.
func reslice(t *graph.Tensor, shape []int) {
	n := graph.Size(shape)
	t.Shape = append(t.Shape[:0], shape...)
	switch t.DType {
	case graph.Float32:
		t.F32 = t.F32[:n]
	case graph.Float64:
		t.F64 = t.F64[:n]
	case graph.Int32:
		t.I32 = t.I32[:n]
	case graph.Int64:
		t.I64 = t.I64[:n]
	case graph.Bool:
		t.B = t.B[:n]
	}
}

// put returns t's buffer to the free list.
func (s *state) put(t *graph.Tensor) {
	s.free[t.DType] = append(s.free[t.DType], t)
}

// recycle returns a kernel's scratch tensor, or a value it no longer
// needs, to the free list. A folding state keeps none: what it allocates
// is counted against the fold budget and left to the garbage collector.
func (s *state) recycle(t *graph.Tensor) {
	if s.free != nil && t != nil {
		s.put(t)
	}
}

// capacity is how many elements t's data slice can hold.
func capacity(t *graph.Tensor) int {
	switch t.DType {
	case graph.Float32:
		return cap(t.F32)
	case graph.Float64:
		return cap(t.F64)
	case graph.Int32:
		return cap(t.I32)
	case graph.Int64:
		return cap(t.I64)
	case graph.Bool:
		return cap(t.B)
	}
	return 0
}
