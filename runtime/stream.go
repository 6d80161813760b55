package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/ops"
)

// Shapes: N sequences in the file, n training sequences, B the shuffle
// buffer (data.shuffle_buffer), F features.

// seqStream is training data read from its file once per pass rather than
// held: a Parquet file or an episodes folder with more sequences than the
// shuffle buffer. The trainer holds the training split's labels and
// lengths (its skeleton), and each epoch streams the sequences through a
// shuffle buffer of B of them.
type seqStream struct {
	file   string
	schema data.Schema
	rows   []int         // [n] the file index of each training sequence, increasing
	skel   *data.Dataset // the training sequences' skeleton (scanSeqs)
	buffer int           // B
}

// shuffleBuffer is data.shuffle_buffer, or its default.
func shuffleBuffer(spec *compiler.Spec) int {
	if b := spec.Data.ShuffleBuffer; b > 0 {
		return b
	}
	return compiler.DefaultShuffleBuffer
}

// each calls fn on every training sequence in file order, with its row in
// the training split. Training does not name steps: the sequences come
// without their step values, which would take a shuffle buffer more
// memory than the values themselves.
func (st *seqStream) each(fn func(row int, d *data.Dataset) error) error {
	j := 0
	err := eachSeq(st.file, st.schema, func(i int, d *data.Dataset) error {
		if j == len(st.rows) || st.rows[j] != i {
			return nil
		}
		if d.ID(0) != st.skel.ID(j) || d.Len(0) != st.skel.Len(j) {
			return st.changed(fmt.Sprintf("sequence %d is %s of %d steps, it was %s of %d", i+1, d.ID(0), d.Len(0), st.skel.ID(j), st.skel.Len(j)))
		}
		j++
		d.StepValues = nil
		return fn(j-1, d)
	})
	if err == nil && j < len(st.rows) {
		return st.changed(fmt.Sprintf("it ends before sequence %d", st.rows[j]+1))
	}
	return err
}

// changed reports that the file is no longer the one the run started
// with: its passes would not see the same sequences.
func (st *seqStream) changed(what string) error {
	return fmt.Errorf("%s: the training data changed while training (%s); start the run again", st.file, what)
}

// eachSeq calls fn on every sequence of file, with its index.
func eachSeq(file string, schema data.Schema, fn func(i int, d *data.Dataset) error) error {
	r, err := data.OpenSeqs(file, schema)
	if err != nil {
		return err
	}
	defer r.Close()
	for i := 0; ; i++ {
		d, err := r.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(i, d); err != nil {
			return err
		}
	}
}

// scanSeqs reads file once for what training needs of every sequence: its
// labels, id and length. It returns nil when the file has at most B
// sequences, or does not hold each id's rows together: Load reads it
// then. Otherwise each X[i] of the skeleton it returns is a view of one
// zero buffer: it has sequence i's length but none of its values.
func scanSeqs(file string, schema data.Schema, B int) (*data.Dataset, error) {
	var sk *data.Dataset
	var zeros []float32
	err := eachSeq(file, schema, func(i int, d *data.Dataset) error {
		if sk == nil {
			sk = &data.Dataset{Source: d.Source, F: d.F, K: d.K, Target: d.Target, FeatureNames: d.FeatureNames, LabelNames: d.LabelNames}
		}
		n := len(d.X[0])
		if n > len(zeros) {
			zeros = make([]float32, 2*n)
		}
		sk.X = append(sk.X, zeros[:n:n])
		sk.Y = append(sk.Y, d.Y...)
		sk.YStep = append(sk.YStep, d.YStep...)
		sk.IDs = append(sk.IDs, d.ID(0))
		return nil
	})
	if errors.Is(err, data.ErrNotContiguous) || err == nil && (sk == nil || sk.N() <= B) {
		return nil, nil
	}
	return sk, err
}

// loadStream sets the run up to stream its training data when the file is
// streamable and has more sequences than the shuffle buffer; ok is false
// when the data must be loaded instead. The validation and test splits
// are held in memory, as are a few training sequences to check exports on.
func (r *run) loadStream(schema data.Schema) (ok bool, err error) {
	if !data.Streamable(r.trainFile) {
		return false, nil
	}
	all, err := scanSeqs(r.trainFile, schema, shuffleBuffer(r.spec))
	if all == nil || err != nil {
		return false, err
	}
	rows, valRows, testRows, err := r.splitRows(all, schema)
	if err != nil {
		return false, err
	}
	r.train = all.Subset(rows)
	r.stream = &seqStream{file: r.trainFile, schema: schema, rows: rows, skel: r.train, buffer: shuffleBuffer(r.spec)}
	var val, test, sample []*data.Dataset
	vi, ti, si := 0, 0, 0
	err = eachSeq(r.trainFile, schema, func(i int, d *data.Dataset) error {
		if i < all.N() && (d.ID(0) != all.ID(i) || d.Len(0) != all.Len(i)) {
			return r.stream.changed(fmt.Sprintf("sequence %d is %s of %d steps, it was %s of %d", i+1, d.ID(0), d.Len(0), all.ID(i), all.Len(i)))
		}
		switch {
		case vi < len(valRows) && valRows[vi] == i:
			val, vi = append(val, d), vi+1
		case ti < len(testRows) && testRows[ti] == i:
			test, ti = append(test, d), ti+1
		case si < verifySeqs && si < len(rows) && rows[si] == i:
			sample, si = append(sample, d), si+1
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	if vi < len(valRows) || ti < len(testRows) || si < min(verifySeqs, len(rows)) {
		return false, r.stream.changed("it ends before the sequences held out for validation and testing")
	}
	if val != nil {
		r.val = data.Concat(val)
	}
	if test != nil {
		r.test = data.Concat(test)
	}
	r.sample = data.Concat(sample)
	return true, nil
}

// splitRows holds out the test and validation splits of the file's
// sequences as loadData and holdOutTest do in memory, or reads the
// validation and test files, and returns the file indices of each part.
func (r *run) splitRows(all *data.Dataset, schema data.Schema) (rows, val, test []int, err error) {
	rows = make([]int, all.N())
	for i := range rows {
		rows[i] = i
	}
	tr := r.spec.Training
	if r.testFile != "" {
		if err := r.holdOutTest(schema); err != nil {
			return nil, nil, nil, err
		}
	} else if tr.Test.Split > 0 {
		rows, test = all.SplitIndex(tr.Test.Split, mix(tr.Seed, testStream))
		if len(rows) == 0 || len(test) == 0 {
			return nil, nil, nil, fmt.Errorf("%s: %d sequences are too few to hold out training.test.split = %g", r.trainFile, all.N(), tr.Test.Split)
		}
	}
	if r.valFile != "" {
		r.val, err = data.Load(r.valFile, schema)
		return rows, nil, test, err
	}
	if tr.Validation.Split <= 0 {
		return rows, nil, test, nil
	}
	ti, vi := all.Subset(rows).SplitIndex(r.valFraction(), tr.Seed)
	if len(ti) == 0 || len(vi) == 0 {
		return nil, nil, nil, fmt.Errorf("%s: %d sequences are too few to hold out training.validation.split = %g", r.trainFile, all.N(), tr.Validation.Split)
	}
	return pick(rows, ti), pick(rows, vi), test, nil
}

// pick is rows[idx[0]], rows[idx[1]], ...
func pick(rows, idx []int) []int {
	out := make([]int, len(idx))
	for j, i := range idx {
		out[j] = rows[i]
	}
	return out
}

// fitStreamStatistics fits the Normalize (or Preprocess) node's statistics
// as fitStatistics does, on the training split streamed from its file, in
// the same order and arithmetic: the same statistics, bit for bit.
func (t *Trainer) fitStreamStatistics() error {
	var mean, std []float32
	var acc statsAcc
	for _, n := range t.m.prog.Graph.Nodes {
		if n.Op == graph.OpPreprocess {
			p, err := graph.PreprocessOf(n)
			if err != nil {
				return err
			}
			mean, std = t.m.Param(n.Inputs[1]), t.m.Param(n.Inputs[2])
			acc = newPreprocStats(p.Categories)
			break
		}
	}
	if acc == nil {
		mean, std = t.m.Param(compiler.ParamMean), t.m.Param(compiler.ParamStd)
		if mean == nil || std == nil {
			return nil
		}
		acc = normStats{ops.NewNormStats(t.trainSet.F)}
	}
	err := t.stream.each(func(row int, d *data.Dataset) error {
		if err := acc.add(d.X[0]); err != nil {
			return fmt.Errorf("%s: sequence %s, %v", d.Source, d.ID(0), err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	acc.result(mean, std)
	return nil
}

// statsAcc accumulates input statistics one sequence at a time.
type statsAcc interface {
	add(seq []float32) error
	result(mean, std []float32)
}

// normStats is FitNormalize's accumulator.
type normStats struct{ s *ops.NormStats }

func (n normStats) add(seq []float32) error    { return n.s.AddSteps(seq) }
func (n normStats) result(mean, std []float32) { n.s.Result(mean, std) }

// preprocStats is ops.FitPreprocess's arithmetic one sequence at a time:
// Welford's update per numeric feature over its observed values, in
// float64.
type preprocStats struct {
	cats  []int
	count []int64
	m, m2 []float64
}

func newPreprocStats(cats []int) *preprocStats {
	F := len(cats)
	return &preprocStats{cats: cats, count: make([]int64, F), m: make([]float64, F), m2: make([]float64, F)}
}

func (p *preprocStats) add(seq []float32) error {
	F := len(p.cats)
	for k, v := range seq {
		f := k % F
		if p.cats[f] > 0 || v != v {
			continue
		}
		if math.IsInf(float64(v), 0) {
			return fmt.Errorf("step %d, feature %d: expected a finite value or NaN (missing), found %v", k/F, f, v)
		}
		p.count[f]++
		d := float64(v) - p.m[f]
		p.m[f] += d / float64(p.count[f])
		p.m2[f] += d * (float64(v) - p.m[f])
	}
	return nil
}

func (p *preprocStats) result(mean, std []float32) {
	for f := range p.cats {
		mean[f], std[f] = 0, 1
		if p.count[f] == 0 {
			continue
		}
		mean[f] = float32(p.m[f])
		if sd := math.Sqrt(p.m2[f] / float64(p.count[f])); sd >= ops.MinStd {
			std[f] = float32(sd)
		}
	}
}

// shuffler is a shuffle buffer: it holds up to B sequences and, once full,
// lets out a uniformly chosen one for each that comes in. Without a
// generator (training.shuffle off) sequences pass in file order.
type shuffler struct {
	rng  *rand.Rand
	seqs []*data.Dataset
	rows []int
	size int
}

// push adds row's sequence d and returns the one let out, if any.
func (s *shuffler) push(row int, d *data.Dataset) (int, *data.Dataset, bool) {
	if s.rng == nil {
		return row, d, true
	}
	if len(s.seqs) < s.size {
		s.seqs, s.rows = append(s.seqs, d), append(s.rows, row)
		return 0, nil, false
	}
	k := s.rng.IntN(s.size)
	outRow, out := s.rows[k], s.seqs[k]
	s.rows[k], s.seqs[k] = row, d
	return outRow, out, true
}

// drain shuffles what the buffer still holds, which then comes out in
// that order.
func (s *shuffler) drain() ([]int, []*data.Dataset) {
	if s.rng != nil {
		s.rng.Shuffle(len(s.seqs), func(i, j int) {
			s.seqs[i], s.seqs[j] = s.seqs[j], s.seqs[i]
			s.rows[i], s.rows[j] = s.rows[j], s.rows[i]
		})
	}
	return s.rows, s.seqs
}

// streamEpoch is trainEpoch for streamed data: the epoch's sequences come
// through a shuffle buffer seeded by the seed and the epoch, so that a
// resumed run streams each epoch as the first run did.
func (t *Trainer) streamEpoch(ctx context.Context) (EpochRecord, error) {
	n := t.trainSet.N()
	batches := (n + t.batchRows - 1) / t.batchRows
	if t.opts.Progress != nil {
		t.opts.Progress.EpochStart(t.epoch+1, t.spec.Training.Epochs, batches)
	}
	start := time.Now()
	sh := &shuffler{size: t.stream.buffer}
	if t.spec.Training.Shuffle {
		// The in-memory trainer's stream (Trainer.permutation): when the
		// training split fits the buffer (a file with more sequences than
		// the buffer, but held-out splits that leave fewer), no draw comes
		// before drain, whose shuffle then gives the in-memory order.
		sh.rng = rand.New(rand.NewPCG(t.seed, mix(0x5eed, uint64(t.epoch))))
	}
	b := &streamBatch{t: t, ctx: ctx}
	t.batch = 0
	err := t.stream.each(func(row int, d *data.Dataset) error {
		if row, d, ok := sh.push(row, d); ok {
			return b.add(row, d)
		}
		return nil
	})
	rows, seqs := sh.drain()
	for i := 0; err == nil && i < len(seqs); i++ {
		err = b.add(rows[i], seqs[i])
	}
	if err == nil && len(b.seqs) > 0 {
		err = b.step()
	}
	if err != nil {
		return EpochRecord{}, err
	}
	return EpochRecord{Epoch: t.epoch + 1, TrainLoss: b.lossSum / float64(n), TrainFinalLoss: b.finalSum / float64(n),
		Seconds: time.Since(start).Seconds(), Sequences: n}, nil
}

// streamBatch gathers a streamed epoch's batches and trains on each.
type streamBatch struct {
	t                 *Trainer
	ctx               context.Context
	seqs              []*data.Dataset
	weights           []float32
	idx               []int
	done              int
	lossSum, finalSum float64
}

// add appends training row's sequence d, and trains once the batch is full.
func (b *streamBatch) add(row int, d *data.Dataset) error {
	b.seqs = append(b.seqs, d)
	b.weights = append(b.weights, b.t.rowWeight[row])
	if len(b.seqs) < b.t.batchRows {
		return nil
	}
	return b.step()
}

// step trains on the batch gathered.
func (b *streamBatch) step() error {
	t := b.t
	if err := b.ctx.Err(); err != nil {
		return ErrInterrupted
	}
	t.cur, t.curWeight = data.Concat(b.seqs), b.weights
	b.idx = b.idx[:0]
	for i := range b.seqs {
		b.idx = append(b.idx, i)
	}
	l, f := t.trainStep(b.idx)
	if !finite(l) {
		return t.lossError(l)
	}
	b.lossSum += l
	b.finalSum += f
	b.done += len(b.seqs)
	t.batch++
	if t.opts.Progress != nil {
		t.opts.Progress.Batch(t.batch, b.done, b.lossSum/float64(b.done))
	}
	b.seqs, b.weights = b.seqs[:0], b.weights[:0]
	return nil
}
