package runtime

// Shape legend: B rows in a batch or shard, T steps, N packed steps (Σ
// lengths), F features, K labels, W a value's width.

import (
	"fmt"
	goruntime "runtime"
	"slices"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/ops"
)

// ShardRows is the most sequences one shard of a batch holds. Shards are the
// unit of parallel work; their layout depends on the batch alone.
const ShardRows = 16

// Model is a sequence-form program bound to parameter values: the trainer
// updates it, and it predicts final-step probabilities directly. Its methods
// are not safe for concurrent use.
type Model struct {
	prog *compiler.Program
	plan *seqPlan
	// Trainable parameters live in one flat vector (and their gradients in
	// another of the same layout), fitted statistics in a second one.
	train []float32
	fixed []float32
	pool  *pool
}

// paramSlot places a graph parameter in the model's flat vectors.
type paramSlot struct {
	name      string
	shape     []int
	trainable bool
	off, size int
}

// seqPlan is a sequence-form graph prepared for execution.
type seqPlan struct {
	F, K      int
	widths    []int          // per value index: its width W
	valueIdx  map[string]int // value name → index
	xIdx      int            // the input x
	logitsIdx int            // the head's output
	nodes     []seqNode      // nodes x → logits, in execution order
	params    []paramSlot
	paramIdx  map[string]int
	nTrain    int
	nFixed    int
	head      headInfo
}

// seqNode is one executable node of a sequence-form graph. Nodes keep no
// per-batch state themselves: it lives in the shard (nodeState), so shards
// can run concurrently.
type seqNode interface {
	// newState returns the per-shard workspace for up to rows sequences and
	// n packed steps; without train, for the forward pass only.
	newState(rows, n int, train bool) any
	// forward computes the node's outputs from its inputs for s's packing.
	forward(m *Model, s *shard, st any, train bool)
	// backward accumulates the gradients of the node's inputs and
	// parameters from the gradient of its output.
	backward(m *Model, s *shard, st any)
}

// NewModel prepares a compiled program for training and inference. The
// program's parameter values are copied: the Program itself is not modified.
func NewModel(prog *compiler.Program) (*Model, error) {
	g := prog.Graph
	if g.Form != graph.FormSequence {
		return nil, fmt.Errorf("runtime: NewModel needs a sequence-form graph, got %s form", g.Form)
	}
	pl := &seqPlan{valueIdx: map[string]int{}, paramIdx: map[string]int{}}
	m := &Model{prog: prog, plan: pl}
	for _, p := range g.Params {
		if p.Tensor == nil || p.Tensor.DType != graph.Float32 {
			return nil, fmt.Errorf("runtime: parameter %s: want float32 data", p.Name)
		}
		sl := paramSlot{name: p.Name, shape: p.Tensor.Shape, trainable: p.Trainable, size: len(p.Tensor.F32)}
		if p.Trainable {
			sl.off = pl.nTrain
			pl.nTrain += sl.size
		} else {
			sl.off = pl.nFixed
			pl.nFixed += sl.size
		}
		pl.paramIdx[p.Name] = len(pl.params)
		pl.params = append(pl.params, sl)
	}
	m.train = make([]float32, pl.nTrain)
	m.fixed = make([]float32, pl.nFixed)
	for i, p := range g.Params {
		copy(m.paramData(i), p.Tensor.F32)
	}
	width := func(name string) (int, error) {
		v := g.Values[name]
		if v == nil || len(v.Shape) == 0 {
			return 0, fmt.Errorf("runtime: value %q has no shape", name)
		}
		d := v.Shape[len(v.Shape)-1]
		if d.Sym != "" {
			return 0, fmt.Errorf("runtime: value %q has a symbolic width", name)
		}
		return d.Size, nil
	}
	addValue := func(name string) (int, error) {
		if i, ok := pl.valueIdx[name]; ok {
			return i, nil
		}
		w, err := width(name)
		if err != nil {
			return 0, err
		}
		pl.valueIdx[name] = len(pl.widths)
		pl.widths = append(pl.widths, w)
		return len(pl.widths) - 1, nil
	}
	var err error
	if pl.xIdx, err = addValue(graph.ValueX); err != nil {
		return nil, err
	}
	pl.F = pl.widths[pl.xIdx]
	for _, n := range g.Nodes {
		if isHeadOp(n.Op) {
			continue // the outputs past the logits are computed directly
		}
		node, err := newSeqNode(m, n, addValue)
		if err != nil {
			return nil, err
		}
		pl.nodes = append(pl.nodes, node)
	}
	li, ok := pl.valueIdx[graph.ValueLogits]
	if !ok {
		return nil, fmt.Errorf("runtime: graph %q has no %q value", g.Name, graph.ValueLogits)
	}
	pl.logitsIdx = li
	pl.K = pl.widths[li]
	pl.head = newHeadInfo(prog.Spec, pl.K)
	m.pool = newPool(goruntime.GOMAXPROCS(0))
	return m, nil
}

// Close stops the model's workers.
func (m *Model) Close() { m.pool.Close() }

// paramData returns the storage of parameter i (a graph param index).
func (m *Model) paramData(i int) []float32 {
	sl := m.plan.params[i]
	if sl.trainable {
		return m.train[sl.off : sl.off+sl.size : sl.off+sl.size]
	}
	return m.fixed[sl.off : sl.off+sl.size : sl.off+sl.size]
}

// Param returns the current values of the named parameter (aliasing the
// model's storage), or nil.
func (m *Model) Param(name string) []float32 {
	i, ok := m.plan.paramIdx[name]
	if !ok {
		return nil
	}
	return m.paramData(i)
}

// Program returns a copy of the model's program whose parameters hold the
// model's current values. The copy shares nothing mutable with the model.
func (m *Model) Program() *compiler.Program {
	g := *m.prog.Graph
	g.Params = make([]*graph.Param, len(m.prog.Graph.Params))
	for i, p := range m.prog.Graph.Params {
		q := *p
		t := *p.Tensor
		t.Shape = append([]int(nil), p.Tensor.Shape...)
		t.F32 = append([]float32(nil), m.paramData(i)...)
		q.Tensor = &t
		g.Params[i] = &q
	}
	return &compiler.Program{Spec: m.prog.Spec, Graph: &g, Initialized: true}
}

// ownParams is prog with copies of its parameters, which the caller may
// then write: the graph is shared but for them.
func ownParams(prog *compiler.Program) *compiler.Program {
	g := *prog.Graph
	g.Params = make([]*graph.Param, len(prog.Graph.Params))
	for i, p := range prog.Graph.Params {
		q, t := *p, *p.Tensor
		t.Shape = slices.Clone(t.Shape)
		t.F32 = slices.Clone(t.F32)
		q.Tensor = &t
		g.Params[i] = &q
	}
	return &compiler.Program{Spec: prog.Spec, Graph: &g, Initialized: prog.Initialized}
}

// evaluator runs inference over a dataset in batches of up to evalShards
// forward-only shards, which it keeps for its next run.
type evaluator struct {
	m      *Model
	shards []*shard
	idx    []int // dataset rows of the current batch
	d      *data.Dataset
	out    []float32
	// steps, when non-nil, receives every step's logits: [n][len_i·K].
	steps [][]float32
	fn    func(int)
}

// evalShards bounds the shards an evaluator runs at once.
const evalShards = 8

func (m *Model) newEvaluator() *evaluator {
	ev := &evaluator{m: m}
	ev.fn = ev.shardForward
	return ev
}

func (ev *evaluator) run(d *data.Dataset) []float32 {
	m := ev.m
	K := m.plan.K
	ev.d = d
	ev.out = make([]float32, d.N()*K)
	T := d.MaxLen()
	for len(ev.shards) < min(evalShards, (d.N()+ShardRows-1)/ShardRows) {
		ev.shards = append(ev.shards, m.newShard(ShardRows, ShardRows*T, false))
	}
	batch := len(ev.shards) * ShardRows
	for lo := 0; lo < d.N(); lo += batch {
		hi := min(lo+batch, d.N())
		ev.idx = ev.idx[:0]
		for i := lo; i < hi; i++ {
			ev.idx = append(ev.idx, i)
		}
		n := assignShards(d, ev.idx, ev.shards)
		m.pool.Run(n, ev.fn)
	}
	ev.d = nil
	return ev.out
}

func (ev *evaluator) shardForward(i int) {
	s := ev.shards[i]
	m := ev.m
	m.load(s, ev.d)
	m.forward(s, false)
	K := m.plan.K
	logits := s.act[m.plan.logitsIdx]
	for b, row := range s.rows {
		copy(ev.out[row*K:(row+1)*K], logits[s.pk.Last(b)*K:])
		if ev.steps != nil {
			st := ev.steps[row]
			for t := 0; t < s.lens[b]; t++ {
				i := s.pk.Index(b, t) * K
				copy(st[t*K:(t+1)*K], logits[i:i+K])
			}
		}
	}
}

// runSteps is run that also returns every step's logits, [n][len_i·K].
func (ev *evaluator) runSteps(d *data.Dataset) (last []float32, steps [][]float32) {
	K := ev.m.plan.K
	ev.steps = make([][]float32, d.N())
	for i := range ev.steps {
		ev.steps[i] = make([]float32, d.Len(i)*K)
	}
	last = ev.run(d)
	steps, ev.steps = ev.steps, nil
	return last, steps
}

// forward runs every node on shard s.
func (m *Model) forward(s *shard, train bool) {
	for i, n := range m.plan.nodes {
		n.forward(m, s, s.state[i], train)
	}
}

// backward runs every node's backward pass in reverse order; the gradient of
// the logits must be in s.grad[logitsIdx].
func (m *Model) backward(s *shard) {
	for i := len(m.plan.nodes) - 1; i >= 0; i-- {
		m.plan.nodes[i].backward(m, s, s.state[i])
	}
}

// Sigmoid maps logits to probabilities in place, as the exported model does.
func Sigmoid(v []float32) {
	for i, z := range v {
		v[i] = ops.Sigmoid(z)
	}
}

// Predict returns the logits at each sequence's last valid step, [n·K] in
// the dataset's order, running the model in inference mode (no dropout).
func (m *Model) Predict(d *data.Dataset) []float32 {
	ev := m.newEvaluator()
	return ev.run(d)
}

// PredictSteps returns the logits at every valid step, [n][len_i·K] in the
// dataset's order, in inference mode.
func (m *Model) PredictSteps(d *data.Dataset) [][]float32 {
	_, steps := m.newEvaluator().runSteps(d)
	return steps
}
