package runtime

import (
	"math/rand/v2"

	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/ops"
)

// shard is one slice of a batch and every buffer needed to run it: packed
// activations and their gradients per value, node workspaces, labels,
// weights and its own parameter gradient. Buffers are sized once for a
// capacity and resliced per batch; they are not zeroed between batches
// (every kernel writes its outputs in full, and gradients are cleared by
// zeroGrads).
type shard struct {
	train bool  // holds gradients and backward workspaces
	rows  []int // dataset row of each shard row, by descending length
	lens  []int
	pk    ops.Packing

	capRows, capN int
	act           [][]float32 // per value: packed [N·W]
	grad          [][]float32 // per value: packed [N·W]; nil for x
	actBuf        [][]float32 // full-capacity storage behind act
	gradBuf       [][]float32
	state         []any // per plan node

	y        []float32 // [B·yK] labels, or packed [N·yK] per step (see headInfo)
	w        []float32 // [B] sequence weights (class weights), 1 without
	dlogits  []float32 // alias of grad[logitsIdx]
	dtrain   []float32 // gradient of the trainable parameters
	perSeq   []float64 // [B] objective per sequence
	finalBCE []float64 // [B] final-step BCE per sequence
	loss     float64   // Σ w_i·L_i over the shard
	final    float64   // Σ final-step BCE over the shard

	pcg *rand.PCG
	rng *rand.Rand
}

// newShard returns a shard sized for rows sequences and n packed steps. A
// shard for training holds gradients and backward workspaces too; one for
// inference (train false) only what the forward pass needs.
func (m *Model) newShard(rows, n int, train bool) *shard {
	pl := m.plan
	s := &shard{
		train:   train,
		act:     make([][]float32, len(pl.widths)),
		grad:    make([][]float32, len(pl.widths)),
		actBuf:  make([][]float32, len(pl.widths)),
		gradBuf: make([][]float32, len(pl.widths)),
		state:   make([]any, len(pl.nodes)),
		rows:    make([]int, 0, rows),
		lens:    make([]int, 0, rows),
		pcg:     rand.NewPCG(0, 0),
	}
	if train {
		s.dtrain = make([]float32, pl.nTrain)
	}
	s.rng = rand.New(s.pcg)
	m.reserveShard(s, rows, n)
	return s
}

// reserveShard sizes s for a batch of rows sequences and n packed steps of m.
func (m *Model) reserveShard(s *shard, rows, n int) {
	if rows <= s.capRows && n <= s.capN && s.y != nil {
		return
	}
	rows, n = max(rows, s.capRows), max(n, s.capN)
	s.capRows, s.capN = rows, n
	pl := m.plan
	for i, w := range pl.widths {
		s.actBuf[i] = make([]float32, n*w)
		if i != pl.xIdx && s.train {
			s.gradBuf[i] = make([]float32, n*w)
		}
	}
	for i, node := range pl.nodes {
		s.state[i] = node.newState(rows, n, s.train)
	}
	s.y = make([]float32, pl.head.labelRows(rows, n))
	s.w = make([]float32, rows)
	s.perSeq = make([]float64, rows)
	s.finalBCE = make([]float64, rows)
	// rows and lens keep their contents: assignShards has filled them
	// for the batch being loaded.
}

// assignShards orders the batch idx (dataset rows) by descending length,
// stably, and deals it to shards round-robin, so every shard's rows stay in
// descending order and the shards get equal work. It returns the number of
// shards used, ⌈len(idx)/ShardRows⌉. idx is reordered in place.
func assignShards(d *data.Dataset, idx []int, shards []*shard) int {
	ops.SortByLength(idx, d.Len)
	n := (len(idx) + ShardRows - 1) / ShardRows
	for s := 0; s < n; s++ {
		sh := shards[s]
		sh.rows = sh.rows[:0]
		sh.lens = sh.lens[:0]
		for k := s; k < len(idx); k += n {
			sh.rows = append(sh.rows, idx[k])
			sh.lens = append(sh.lens, d.Len(idx[k]))
		}
	}
	return n
}

// load packs the shard's rows of d into its buffers: x packed [N·F] and the
// labels (loadLabels). Weights are left to the caller.
func (m *Model) load(s *shard, d *data.Dataset) {
	s.pk.Reset(s.lens)
	F := m.plan.F
	N := s.pk.N()
	m.reserveShard(s, len(s.rows), N)
	for i := range s.act {
		s.act[i] = s.actBuf[i][:N*m.plan.widths[i]]
		if s.gradBuf[i] != nil {
			s.grad[i] = s.gradBuf[i][:N*m.plan.widths[i]]
		}
	}
	x := s.act[m.plan.xIdx]
	for b, row := range s.rows {
		seq := d.X[row]
		for t := 0; t < s.lens[b]; t++ {
			o := s.pk.Index(b, t) * F
			copy(x[o:o+F], seq[t*F:(t+1)*F])
		}
	}
	m.loadLabels(s, d)
	s.dlogits = s.grad[m.plan.logitsIdx]
}

// zeroGrads clears the shard's value and parameter gradients.
func (s *shard) zeroGrads() {
	for _, g := range s.grad {
		clear(g)
	}
	clear(s.dtrain)
}
