// Package trnn is the embedding API: it loads an ONNX sequence classifier
// (one exported by trnn, or any model built from the ONNX operators trnn
// reads, docs/onnx-import.md) and runs it inside a Go program.
//
//	s, err := trnn.Load("model.onnx")
//	probs, err := s.Predict(seqs)      // seqs[i] is sequence i: [steps][features]float32
//	steps, err := s.PredictSteps(seqs) // steps[i][t]: the probabilities after steps 0..t
//
// A Session is safe for concurrent use by any number of goroutines.
//
// Predict takes ragged sequences and does the batching: for a model with
// trnn's interface (inputs x float32 [batch, time, features] and lengths
// int32 [batch], output probs [batch, labels], or values [batch, targets]
// for a regression model) it sorts them by length and pads each batch to
// its longest; for other models it finds the one float input of rank 3
// (batch-major, or time-major when its dimension names or the lengths
// input say so), an optional integer lengths input, and the output (probs
// or values, or the only one). Without a lengths input, sequences are
// run in groups of equal length, so padding never reaches the model. The
// batches running at once hold at most 16 Mi elements of their widest
// per-step value (rows × padded steps × the wider of the features and a
// recurrent layer's gates), and sorting keeps padding small, so memory
// follows the input's size, not its longest sequence times its count. Run
// gives full control with named tensors.
//
// PredictSteps gives the probabilities after every step in one pass over
// each sequence, from the model's step_probs output, or for a model trnn
// exported without it, from the same model rebuilt with it
// (export.WithStepProbs, once per Session): time and memory linear in the
// sequences' lengths. Other models have no per-step output, and every
// prefix of every sequence is run through Predict's batching instead:
// memory stays within the same bound, time grows with the square of the
// lengths.
//
// Predict and PredictSteps refuse a NaN or infinite input value with a
// *NonFiniteInputError naming the sequence, step and feature (a NaN passes
// when the model's metadata trnn.missing names a method of imputing missing
// values), and a result that is not finite with a *NonFiniteOutputError
// naming the sequences.
//
// Errors name the model file and say what is wrong in one line; bad input
// never panics.
package trnn

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/runtime/interp"
)

// The types of Run's tensors and of the model's declared inputs and
// outputs. They are graph's, under names of their own, so that a program
// embedding trnn imports this package only.
type (
	// Tensor is a dense row-major tensor: Shape, and the data slice matching
	// DType (F32 for Float32, I32 for Int32, ...).
	Tensor = graph.Tensor
	// DType is a tensor element type.
	DType = graph.DType
	// Value describes a model input or output: name, element type, shape.
	Value = graph.Value
	// Shape is a declared shape; a Dim is a size or a symbol (Sym) such as
	// batch or time.
	Shape = graph.Shape
	Dim   = graph.Dim
)

// The element types trnn reads.
const (
	Float32 = graph.Float32
	Float64 = graph.Float64
	Int32   = graph.Int32
	Int64   = graph.Int64
	Bool    = graph.Bool
)

// Session is a loaded model. It is safe for concurrent use: what it learns
// on first use (PredictSteps' plan) is set up once.
type Session struct {
	path    string
	graph   *graph.Graph
	ip      *interp.Interpreter
	predict predictPlan

	// PredictSteps' plan, made on its first call: most programs never ask
	// for every step, and a rebuilt model costs a model's memory.
	stepsOnce sync.Once
	steps     stepPlan

	// NewStream's plan, made on its first call, for the same reason.
	streamOnce sync.Once
	stream     streamPlan
}

// predictPlan is how Predict maps sequences onto the model's inputs.
type predictPlan struct {
	err       error // why Predict cannot run this model; nil if it can
	x         graph.Value
	timeMajor bool
	batch     int // fixed batch size, 0 if dynamic
	steps     int // fixed number of steps, 0 if dynamic
	features  int // fixed feature count, 0 if taken from the data
	lengths   *graph.Value
	out       graph.Value
	// width is the widest per-step value of the model that batches are
	// sized by, besides the features: a recurrent layer's gates.
	width int
	// missing: the model imputes missing values, so a NaN input is valid.
	missing bool
}

// Load reads an ONNX model and prepares it to run. The error names the file
// and, for an unsupported or invalid model, the node or value at fault;
// errors.Is(err, export.ErrUnsupported) tells a model using ONNX features
// trnn does not implement from a damaged file.
func Load(path string) (*Session, error) {
	g, err := export.ReadONNX(path)
	if err != nil {
		return nil, err
	}
	return newSession(path, g)
}

// LoadBytes is Load for a model already in memory; name stands for the file
// in error messages.
func LoadBytes(name string, model []byte) (*Session, error) {
	g, err := export.DecodeONNX(name, model)
	if err != nil {
		return nil, err
	}
	return newSession(name, g)
}

func newSession(name string, g *graph.Graph) (*Session, error) {
	ip, err := interp.New(g)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	s := &Session{path: name, graph: g, ip: ip}
	s.predict = planPredict(g)
	return s, nil
}

// Inputs describes the tensors Run needs: name, element type and shape
// (symbolic dimensions such as batch and time have Sym set).
func (s *Session) Inputs() []Value { return cloneValues(s.graph.Inputs) }

// Outputs describes the tensors Run returns.
func (s *Session) Outputs() []Value { return cloneValues(s.graph.Outputs) }

func cloneValues(vs []graph.Value) []Value {
	out := make([]Value, len(vs))
	for i, v := range vs {
		out[i] = Value{Name: v.Name, DType: v.DType, Shape: slices.Clone(v.Shape)}
	}
	return out
}

// Metadata returns the model's metadata_props (a copy). Models exported by
// trnn carry feature and label names and normalisation statistics under the
// keys export.Meta*.
func (s *Session) Metadata() map[string]string {
	m := maps.Clone(s.graph.Meta)
	if m == nil {
		m = map[string]string{}
	}
	return m
}

// Run runs the model on named input tensors (one per entry of Inputs) and
// returns every output by name. Inputs are checked against the declared
// types and shapes and never modified; the outputs belong to the caller.
func (s *Session) Run(inputs map[string]*Tensor) (map[string]*Tensor, error) {
	out, err := s.ip.Run(inputs)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", s.path, err)
	}
	return out, nil
}

// Predict runs the model on sequences of any lengths (seqs[i] is sequence i,
// seqs[i][t] its features at step t) and returns one row of outputs per
// sequence: the probabilities of each label, for trnn's models. It checks
// that every step has the model's number of features and every value is a
// finite number (see NonFiniteInputError), and that every output is
// (NonFiniteOutputError).
func (s *Session) Predict(seqs [][][]float32) ([][]float32, error) {
	p := &s.predict
	F, err := s.checkShapes(seqs)
	if err != nil {
		return nil, err
	}
	// The values are checked as they are copied into the batches (feed),
	// one pass over them instead of two; a batch holding one it refuses
	// does not run. On any error, the first refused value of all, if
	// there is one, is what is reported, as when it was checked first.
	res, err := s.predictRows(seqs, F)
	if err != nil {
		if ferr := p.checkFinite(s.path, seqs); ferr != nil {
			return nil, ferr
		}
		if errors.Is(err, errNotFinite) {
			err = fmt.Errorf("%s: %v", s.path, err)
		}
		return nil, err
	}
	if bad := nonFiniteRows(res); bad != nil {
		return nil, &NonFiniteOutputError{Model: s.path, Output: p.out.Name, Seqs: bad}
	}
	return res, nil
}

// PredictSteps runs the model on sequences of any lengths, as Predict, and
// returns for each sequence one row of outputs per step: res[i][t] is what
// Predict returns for the first t+1 steps of sequence i (up to rounding:
// a per-step head is computed by another kernel than a last-step one). An
// empty sequence gets no rows. The output is taken from the model's
// step_probs, or the model rebuilt with it, in one pass; for other models
// every prefix is run (see the package documentation). An output that is
// not finite is reported with the first step where it is not.
func (s *Session) PredictSteps(seqs [][][]float32) ([][][]float32, error) {
	F, err := s.check(seqs)
	if err != nil {
		return nil, err
	}
	sp := s.stepPlan()
	if sp.err != nil {
		return nil, fmt.Errorf("%s: %v", s.path, sp.err)
	}
	var res [][][]float32
	out := sp.plan.out.Name
	if sp.ip != nil {
		res, err = s.stepRows(sp, seqs, F)
	} else {
		res, err = s.prefixRows(seqs, F)
		out = s.predict.out.Name
	}
	if err != nil {
		return nil, err
	}
	if bad, steps := nonFiniteSteps(res); bad != nil {
		return nil, &NonFiniteOutputError{Model: s.path, Output: out, Seqs: bad, Steps: steps}
	}
	return res, nil
}

// check checks seqs against the model as Predict and PredictSteps need and
// returns the feature count.
func (s *Session) check(seqs [][][]float32) (int, error) {
	F, err := s.checkShapes(seqs)
	if err != nil {
		return 0, err
	}
	if err := s.predict.checkFinite(s.path, seqs); err != nil {
		return 0, err
	}
	return F, nil
}

// checkShapes is check without the values' check (checkFinite).
func (s *Session) checkShapes(seqs [][][]float32) (int, error) {
	p := &s.predict
	if p.err != nil {
		return 0, fmt.Errorf("%s: %v", s.path, p.err)
	}
	F, err := p.checkSeqs(seqs)
	if err != nil {
		return 0, fmt.Errorf("%s: %v", s.path, err)
	}
	return F, nil
}

// errNotFinite is runBatch's refusal of a batch holding an input value
// that checkFinite refuses; Predict then reports the first of all.
var errNotFinite = errors.New("an input value is not a finite number")

// predictRows runs seqs, checked, in the batches of Predict's plan and
// returns each sequence's output row.
func (s *Session) predictRows(seqs [][][]float32, F int) ([][]float32, error) {
	p := &s.predict
	res := make([][]float32, len(seqs))
	batches := p.batches(seqs, F)
	if len(batches) == 1 {
		return res, s.predictBatch(res, seqs, batches[0], F)
	}
	err := parallel(len(batches), func(b int) error {
		return s.predictBatch(res, seqs, batches[b], F)
	})
	return res, err
}

// predictBatch runs the batch idx of seqs and stores each sequence's
// output row in res.
func (s *Session) predictBatch(res [][]float32, seqs [][][]float32, idx []int, F int) error {
	p := &s.predict
	y, B, _, fb, err := s.runBatch(s.ip, p, seqs, idx, F)
	if err != nil {
		return err
	}
	defer fb.done(y)
	if len(y.Shape) < 1 || len(y.Shape) > 2 || y.Shape[0] != B {
		return s.outputError(p, y, fmt.Sprintf("[%d, labels]", B), B)
	}
	K := 1
	if len(y.Shape) == 2 {
		K = y.Shape[1]
	}
	for b, i := range idx {
		res[i] = floats(make([]float32, K), y, b*K)
	}
	return nil
}

// stepRows runs seqs, checked, through the per-step output sp plans and
// returns each sequence's rows, one per valid step.
func (s *Session) stepRows(sp *stepPlan, seqs [][][]float32, F int) ([][][]float32, error) {
	p := &sp.plan
	res := make([][][]float32, len(seqs))
	batches := p.batches(seqs, F)
	err := parallel(len(batches), func(b int) error {
		idx := batches[b]
		y, B, T, fb, err := s.runBatch(sp.ip, p, seqs, idx, F)
		if err != nil {
			return err
		}
		defer fb.done(y)
		if len(y.Shape) != 3 || y.Shape[0] != B || y.Shape[1] != T {
			return s.outputError(p, y, fmt.Sprintf("[%d, %d, labels]", B, T), B)
		}
		K := y.Shape[2]
		for b, i := range idx {
			L := len(seqs[i])
			all := floats(make([]float32, L*K), y, b*T*K) // the row's valid steps are contiguous
			rows := make([][]float32, L)
			for t := range rows {
				rows[t] = all[t*K : (t+1)*K : (t+1)*K]
			}
			res[i] = rows
		}
		return nil
	})
	return res, err
}

// prefixRows gives every step's output of a model without a per-step one:
// each prefix of each sequence is a sequence of its own to Predict's
// batching, whose budget bounds the memory however long the sequences.
func (s *Session) prefixRows(seqs [][][]float32, F int) ([][][]float32, error) {
	var prefixes [][][]float32
	for _, seq := range seqs {
		for t := range seq {
			prefixes = append(prefixes, seq[:t+1])
		}
	}
	rows, err := s.predictRows(prefixes, F)
	if err != nil {
		return nil, err
	}
	res := make([][][]float32, len(seqs))
	for i, seq := range seqs {
		res[i], rows = rows[:len(seq):len(seq)], rows[len(seq):]
	}
	return res, nil
}

// floats fills dst with y's elements from off on, as float32, and
// returns it.
func floats(dst []float32, y *graph.Tensor, off int) []float32 {
	if y.DType == graph.Float32 {
		copy(dst, y.F32[off:])
		return dst
	}
	for k := range dst {
		dst[k] = float32(y.F64[off+k])
	}
	return dst
}

// parallel runs f(0..n-1) on up to GOMAXPROCS goroutines and returns the
// error of the first failing call in index order. Batches are independent:
// each writes only its own rows of the result. One batch runs on the
// calling goroutine: a hand-off would cost a small batch more than it runs.
func parallel(n int, f func(i int) error) error {
	if n == 1 {
		return f(0)
	}
	errs := make([]error, n)
	workers := min(goruntime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				errs[i] = f(i)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// checkSeqs checks that every step has the same number of features (the
// model's when it fixes it) and that no sequence is longer than a fixed
// time dimension allows, and returns the feature count.
func (p *predictPlan) checkSeqs(seqs [][][]float32) (int, error) {
	F := p.features
	for i, seq := range seqs {
		for t, step := range seq {
			if F == 0 {
				F = len(step)
			}
			if len(step) != F {
				if p.features == 0 {
					return 0, fmt.Errorf("sequence %d step %d: %d features, earlier steps have %d", i, t, len(step), F)
				}
				return 0, fmt.Errorf("sequence %d step %d: %d features, the model expects %d", i, t, len(step), F)
			}
		}
		if p.steps > 0 && len(seq) > p.steps {
			return 0, fmt.Errorf("sequence %d has %d steps, the model takes at most %d", i, len(seq), p.steps)
		}
		if p.steps > 0 && p.lengths == nil && len(seq) != p.steps {
			return 0, fmt.Errorf("sequence %d has %d steps; the model has no lengths input and takes exactly %d", i, len(seq), p.steps)
		}
	}
	if F == 0 {
		F = 1 // every sequence is empty: any width will do
	}
	return F, nil
}

// checkFinite refuses the first input value that is not a finite number,
// except NaN for a model that imputes missing values: the kernels would
// carry it silently into the output, or saturate an infinity into a
// plausible probability.
func (p *predictPlan) checkFinite(model string, seqs [][][]float32) error {
	for i, seq := range seqs {
		for t, step := range seq {
			if allFinite(step) {
				continue
			}
			for f, v := range step {
				if p.refused(v) {
					return &NonFiniteInputError{Model: model, Seq: i, Step: t, Feature: f, Value: v}
				}
			}
		}
	}
	return nil
}

// allFinite reports whether every value of xs is finite, without a branch
// per value: a value's exponent bits e are a multiple of 2²³ up to
// 0x7f800000 (infinity or NaN), and only that one carries into bit 31 when
// 2²³ is added.
func allFinite(xs []float32) bool { return nonFiniteBits(xs) == 0 }

// finite tests the exponent bits: all ones is an infinity or a NaN. One
// mask and compare per value, as Predict checks every input value.
func finite(v float32) bool { return math.Float32bits(v)&0x7f800000 != 0x7f800000 }

// nonFiniteRows returns the indices of the rows holding a value that is not
// finite, or nil.
func nonFiniteRows(rows [][]float32) []int {
	var bad []int
	for i, row := range rows {
		if !allFinite(row) {
			bad = append(bad, i)
		}
	}
	return bad
}

// nonFiniteSteps returns the sequences holding a value that is not finite,
// with the first such step of each, or nils.
func nonFiniteSteps(res [][][]float32) (seqs, steps []int) {
	for i, rows := range res {
		if t := slices.IndexFunc(rows, func(row []float32) bool { return !allFinite(row) }); t >= 0 {
			seqs, steps = append(seqs, i), append(steps, t)
		}
	}
	return seqs, steps
}

// NonFiniteInputError is Predict's and PredictSteps' refusal of an input
// value that is not a finite number: Value, at feature Feature of step Step
// of sequence Seq (each counted from 0). NaN is a missing value, refused
// unless the model imputes missing values.
type NonFiniteInputError struct {
	Model              string
	Seq, Step, Feature int
	Value              float32
}

func (e *NonFiniteInputError) Error() string {
	where := fmt.Sprintf("%s: sequence %d step %d feature %d", e.Model, e.Seq, e.Step, e.Feature)
	if math.IsNaN(float64(e.Value)) {
		return where + ": NaN (a missing value), and the model does not impute missing values"
	}
	return fmt.Sprintf("%s: %v, expected a finite number", where, e.Value)
}

// NonFiniteOutputError reports that the model's output Output holds NaN or
// an infinity for the sequences Seqs (indices into the call's sequences,
// ascending). For PredictSteps, Steps[j] is the first step of sequence
// Seqs[j] where it does; for Predict, Steps is nil.
type NonFiniteOutputError struct {
	Model  string
	Output string
	Seqs   []int
	Steps  []int
}

func (e *NonFiniteOutputError) Error() string {
	items := make([]string, len(e.Seqs))
	for j, i := range e.Seqs {
		items[j] = strconv.Itoa(i)
		if e.Steps != nil {
			items[j] += fmt.Sprintf(" (from step %d)", e.Steps[j])
		}
	}
	what := "sequence"
	if len(items) > 1 {
		what = "sequences"
	}
	return fmt.Sprintf("%s: output %q is not finite (NaN or ±Inf) for %s %s", e.Model, e.Output, what, listSome(items))
}

// listMax is how many items an error message lists.
const listMax = 10

// listSome joins items with commas, the first ten of them, then says how
// many more there are: "3, 17 and 4 more".
func listSome(items []string) string {
	if len(items) <= listMax {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:listMax], ", "), len(items)-listMax)
}

// batchBudget bounds the batches that run at once: together they hold at
// most 16 Mi elements (64 MiB of float32) of their widest per-step value,
// rows × padded steps × width, where width is the widest such value the
// model computes that Predict knows of (the features, or a recurrent
// layer's gates). Each of the GOMAXPROCS batches in flight gets its share.
// That keeps memory within a bound whatever the input, while GEMMs over
// thousands of steps stay efficient; a sequence over a share on its own
// runs alone.
const batchBudget = 16 << 20

// paddingFloor is the padded size (rows × padded steps) under which a
// batch is not cut to save padding: splitting a small batch costs more
// than its padding.
const paddingFloor = 1 << 16

// batches groups the sequences (by index) into the batches Predict runs.
// With a lengths input they are sorted by length and cut where a batch
// would exceed its share of batchBudget or pad more than it holds; without
// one, each length is a group of its own, so that padding never reaches a
// model that cannot mask it, cut to the budget. A fixed batch size splits
// groups further; otherwise large groups are split so that every core gets
// work, unless the model's recurrent layer shares them out (coreParts).
func (p *predictPlan) batches(seqs [][][]float32, F int) [][]int {
	if len(seqs) == 1 {
		return oneBatch // what the rules below make of one sequence
	}
	// In elements of one step's widest value: a batch of B rows padded to
	// T steps may hold B·T ≤ steps.
	steps := max(1, batchBudget/goruntime.GOMAXPROCS(0)/max(p.width, F, 1))
	var groups [][]int
	if p.lengths != nil {
		groups = p.byLength(seqs, steps)
	} else {
		groups = p.sameLength(seqs, steps)
	}
	var batches [][]int
	for _, g := range groups {
		if p.batch > 0 {
			for len(g) > 0 {
				n := min(len(g), p.batch)
				batches = append(batches, g[:n])
				g = g[n:]
			}
			continue
		}
		batches = append(batches, splitBalanced(seqs, g, p.coreParts(len(g)))...)
	}
	return batches
}

// oneBatch is the batches of one sequence; callers only read it.
var oneBatch = [][]int{{0}}

// byLength sorts the sequences by length and cuts them into batches: a
// batch ends before a sequence that would take it past maxSteps padded
// steps, or, once it is past paddingFloor, make padding more than half of
// it. Sorted, the rows of a batch have similar lengths, so one
// long sequence among many short ones no longer pads them all to its
// length. Each batch lists its longest sequence first.
func (p *predictPlan) byLength(seqs [][][]float32, maxSteps int) [][]int {
	idx := sortedByLength(seqs)
	var out [][]int
	start, steps := 0, 0
	for j, i := range idx {
		L := len(seqs[i])
		T := max(L, p.steps) // the batch's padded length, with this row
		rows := j - start + 1
		over := rows > maxSteps/max(1, T)
		wasteful := !over && p.steps == 0 && rows*T > paddingFloor && rows*T > 2*(steps+L)
		if rows > 1 && (over || wasteful) {
			out = append(out, idx[start:j])
			start, steps = j, 0
		}
		steps += L
	}
	if start < len(idx) {
		out = append(out, idx[start:])
	}
	for _, b := range out {
		slices.Reverse(b) // longest first, the order the model's recurrent layers sort rows into
	}
	return out
}

// sortedByLength returns the indices of seqs sorted by length, stably. It
// sorts keys of length and index as integers: a stable sort with a
// comparison function took 30 µs for 256 sequences, as long as a sixth of
// their run.
func sortedByLength(seqs [][][]float32) []int {
	keys := make([]uint64, len(seqs))
	for i, seq := range seqs {
		keys[i] = uint64(len(seq))<<32 | uint64(i)
	}
	slices.Sort(keys)
	idx := make([]int, len(seqs))
	for j, k := range keys {
		idx[j] = int(k & (1<<32 - 1))
	}
	return idx
}

// sameLength groups the sequences by length, each group cut to maxSteps
// padded steps.
func (p *predictPlan) sameLength(seqs [][][]float32, maxSteps int) [][]int {
	byLen := map[int][]int{}
	for i, seq := range seqs {
		byLen[len(seq)] = append(byLen[len(seq)], i)
	}
	var out [][]int
	for _, l := range slices.Sorted(maps.Keys(byLen)) {
		g := byLen[l]
		n := max(1, maxSteps/max(1, l, p.steps))
		for len(g) > n {
			out = append(out, g[:n])
			g = g[n:]
		}
		out = append(out, g)
	}
	return out
}

// predictMinRows is the fewest sequences worth a batch of their own when
// Predict splits work across cores.
const predictMinRows = 64

// coreParts is how many batches Predict cuts a group of n sequences into
// so that every core gets work. A model with a lengths input and a
// recurrent layer takes the group whole: the layer packs the rows by
// length and deals them to the cores itself, and batches of their own
// would only run the cores' shares side by side, each split again (4%
// slower on 256 rows of two 64-unit LSTM layers).
func (p *predictPlan) coreParts(n int) int {
	if p.lengths != nil && p.width > 0 {
		return 1
	}
	return min(goruntime.GOMAXPROCS(0), n/predictMinRows)
}

// splitBalanced cuts the sequences idx into up to parts consecutive batches
// of about equal total length.
func splitBalanced(seqs [][][]float32, idx []int, parts int) [][]int {
	if parts <= 1 {
		return [][]int{idx}
	}
	total := 0
	for _, i := range idx {
		total += len(seqs[i]) + 1
	}
	var out [][]int
	start, acc := 0, 0
	for j, i := range idx {
		acc += len(seqs[i]) + 1
		if len(out) < parts-1 && acc*parts >= total*(len(out)+1) {
			out = append(out, idx[start:j+1])
			start = j + 1
		}
	}
	if start < len(idx) {
		out = append(out, idx[start:])
	}
	return out
}

// runBatch runs the sequences idx as one padded batch through ip, fed as p
// says, and returns p's output, a float tensor, with the batch's size B
// and padded length T. A fixed batch size larger than len(idx) is filled
// with empty rows. The caller reads y and then gives it back with fb.done,
// so that the next batch reuses its buffer and fb's inputs.
func (s *Session) runBatch(ip *interp.Interpreter, p *predictPlan, seqs [][][]float32, idx []int, F int) (y *graph.Tensor, B, T int, fb *feedBufs, err error) {
	fb = feedPool.Get().(*feedBufs)
	B, T, finite := p.feed(fb, seqs, idx, F)
	if !finite && p.refuses(seqs, idx) {
		feedPool.Put(fb)
		return nil, 0, 0, nil, errNotFinite
	}
	fb.args = resized(fb.args, ip.NumInputs())
	fb.outs = resized(fb.outs, ip.NumOutputs())
	xi, li, oi := ip.InputIndex(p.x.Name), -1, ip.OutputIndex(p.out.Name)
	if p.lengths != nil {
		li = ip.InputIndex(p.lengths.Name)
	}
	if xi < 0 || oi < 0 || p.lengths != nil && li < 0 {
		feedPool.Put(fb)
		return nil, 0, 0, nil, fmt.Errorf("%s: the model lacks an input or the output %q that its plan feeds or reads", s.path, p.out.Name)
	}
	fb.args[xi] = fb.x
	if li >= 0 {
		fb.args[li] = fb.l
	}
	fb.outs[oi], fb.y = fb.y, nil // given back
	if err := ip.RunArgs(fb.args, fb.outs); err != nil {
		feedPool.Put(fb)
		return nil, 0, 0, nil, fmt.Errorf("%s: %v", s.path, err)
	}
	y = fb.outs[oi]
	if y == nil || y.DType != graph.Float32 && y.DType != graph.Float64 {
		fb.done(nil)
		return nil, 0, 0, nil, s.outputError(p, y, "float", B)
	}
	return y, B, T, fb, nil
}

// feedBufs are what runBatch reuses from one batch to the next: the
// argument and output slices of RunArgs, the input tensors, and the output
// the caller has read, which the next batch gives back to the interpreter.
type feedBufs struct {
	args, outs []*graph.Tensor
	x, l, y    *graph.Tensor
}

var feedPool = sync.Pool{New: func() any { return new(feedBufs) }}

// done gives fb back once the caller has read y (nil: nothing to give
// back).
func (fb *feedBufs) done(y *graph.Tensor) {
	fb.y = y
	clear(fb.args)
	clear(fb.outs)
	feedPool.Put(fb)
}

// resized returns s with n elements, all nil.
func resized(s []*graph.Tensor, n int) []*graph.Tensor {
	if cap(s) < n {
		return make([]*graph.Tensor, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// zeroed returns t as a tensor of type dt and the given shape, all zeros,
// reusing its buffer when t is of that type and large enough.
func zeroed(t *graph.Tensor, dt graph.DType, shape ...int) *graph.Tensor {
	n := graph.Size(shape)
	if t == nil || t.DType != dt {
		return graph.NewTensor(dt, shape...)
	}
	switch {
	case dt == graph.Float32 && cap(t.F32) >= n:
		t.F32 = t.F32[:n]
		clear(t.F32)
	case dt == graph.Float64 && cap(t.F64) >= n:
		t.F64 = t.F64[:n]
		clear(t.F64)
	case dt == graph.Int32 && cap(t.I32) >= n:
		t.I32 = t.I32[:n]
	case dt == graph.Int64 && cap(t.I64) >= n:
		t.I64 = t.I64[:n]
	default:
		return graph.NewTensor(dt, shape...)
	}
	t.Shape = append(t.Shape[:0], shape...)
	return t
}

// outputError says that p's output y is not what the caller expects.
func (s *Session) outputError(p *predictPlan, y *graph.Tensor, want string, B int) error {
	got := "nothing"
	if y != nil {
		got = y.DType.String() + " " + graph.FormatShape(y.Shape)
	}
	return fmt.Errorf("%s: output %q: expected float %s for a batch of %d, got %s", s.path, p.out.Name, want, B, got)
}

// feed builds the inputs of the batch idx in fb.x and fb.l: x padded to
// the batch's longest sequence (or the model's fixed length), and lengths
// when the model has them. finite reports whether every value copied is a
// finite number.
func (p *predictPlan) feed(fb *feedBufs, seqs [][][]float32, idx []int, F int) (B, T int, finite bool) {
	B = len(idx)
	if p.batch > 0 {
		B = p.batch
	}
	T = p.steps
	if T == 0 {
		for _, i := range idx {
			T = max(T, len(seqs[i]))
		}
	}
	if p.timeMajor {
		fb.x = zeroed(fb.x, p.x.DType, T, B, F)
	} else {
		fb.x = zeroed(fb.x, p.x.DType, B, T, F)
	}
	x := fb.x
	var acc uint32 // nonFiniteBits of every value copied
	flat := x.DType == graph.Float32 && !p.timeMajor
	for b, i := range idx {
		if flat {
			if row := flatRow(seqs[i], F); row != nil {
				// One copy and one pass over the row's values, instead of
				// a short loop for each step.
				copy(x.F32[b*T*F:], row)
				acc |= nonFiniteBits(row)
				continue
			}
		}
		for t, step := range seqs[i] {
			off := (b*T + t) * F
			if p.timeMajor {
				off = (t*B + b) * F
			}
			step = step[:F] // checkSeqs: every step has F values
			acc |= nonFiniteBits(step)
			if x.DType == graph.Float32 {
				// A loop, not copy: a call to memmove per step of a few
				// features costs more than the moves.
				dst := x.F32[off : off+F : off+F]
				for f, v := range step {
					dst[f] = v
				}
				continue
			}
			for f, v := range step {
				x.F64[off+f] = float64(v)
			}
		}
	}
	if p.lengths != nil {
		fb.l = zeroed(fb.l, p.lengths.DType, B)
		l := fb.l
		for b := range B {
			n := 0
			if b < len(idx) {
				n = len(seqs[idx[b]])
			}
			if l.DType == graph.Int32 {
				l.I32[b] = int32(n)
			} else {
				l.I64[b] = int64(n)
			}
		}
	}
	return B, T, acc == 0
}

// flatRow returns the values of seq, of F values a step, as one slice when
// its steps lie one after another in one array (slices of a row cut into
// steps, as a dataset's are), else nil. The first step's capacity must
// reach the last: the row is that step extended, so it holds nothing the
// steps do not.
func flatRow(seq [][]float32, F int) []float32 {
	if len(seq) == 0 || F == 0 || cap(seq[0]) < len(seq)*F {
		return nil
	}
	row := seq[0][:len(seq)*F]
	for t, step := range seq {
		if len(step) < F || &step[0] != &row[t*F] {
			return nil
		}
	}
	return row
}

// nonFiniteBits is feed's test of xs: the sign bit of every value's
// exponent + 1, ORed, which is 0 when every value is finite. It reads the
// values' bits as integers, four independent ORs at a time.
func nonFiniteBits(xs []float32) uint32 {
	us := unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(xs))), len(xs))
	var a0, a1, a2, a3 uint32
	i := 0
	for ; i+4 <= len(us); i += 4 {
		u := us[i : i+4 : i+4]
		a0 |= u[0]&0x7f800000 + 0x00800000
		a1 |= u[1]&0x7f800000 + 0x00800000
		a2 |= u[2]&0x7f800000 + 0x00800000
		a3 |= u[3]&0x7f800000 + 0x00800000
	}
	for _, u := range us[i:] {
		a0 |= u&0x7f800000 + 0x00800000
	}
	// (e&0x7f800000) + 0x00800000 reaches bit 31 only for the exponent of
	// Inf and NaN, and then sets no other bit.
	return (a0 | a1 | a2 | a3) & 0x80000000
}

// refused reports whether checkFinite refuses the value v: one that is not
// finite, but NaN (missing) for a model that imputes.
func (p *predictPlan) refused(v float32) bool {
	return !finite(v) && !(p.missing && math.IsNaN(float64(v)))
}

// refuses reports whether the sequences idx of seqs hold a value that
// checkFinite refuses.
func (p *predictPlan) refuses(seqs [][][]float32, idx []int) bool {
	for _, i := range idx {
		for _, step := range seqs[i] {
			for _, v := range step {
				if p.refused(v) {
					return true
				}
			}
		}
	}
	return false
}

// stepPlan is how PredictSteps gets every step's output in one pass: plan
// reads a per-step output of the model itself (ip is the session's) or of
// the graph export.WithStepProbs rebuilt from it (ip its own). ip nil: the
// model has neither, and every prefix is run through Predict's plan.
type stepPlan struct {
	err  error // the model was recognised but could not be rebuilt
	ip   *interp.Interpreter
	plan predictPlan
}

func (s *Session) stepPlan() *stepPlan {
	s.stepsOnce.Do(func() { s.steps = s.planSteps() })
	return &s.steps
}

func (s *Session) planSteps() stepPlan {
	if p, ok := stepOutput(s.graph, s.predict); ok {
		return stepPlan{ip: s.ip, plan: p}
	}
	// WithStepProbs returns a graph that has step_probs as it is: then
	// stepOutput above found that Predict cannot read it, and prefixes
	// are run.
	g, ok, err := export.WithStepProbs(s.graph)
	if err != nil || !ok || g == s.graph {
		return stepPlan{err: err}
	}
	ip, err := interp.New(g)
	if err != nil {
		return stepPlan{err: fmt.Errorf("the model rebuilt with step_probs: %v", err)}
	}
	p, ok := stepOutput(g, planPredict(g))
	if !ok {
		return stepPlan{err: fmt.Errorf("the model rebuilt with step_probs cannot be fed as Predict feeds it")}
	}
	return stepPlan{ip: ip, plan: p}
}

// stepOutput returns p reading g's step_probs instead of its last-step
// output, when g has one Predict can read as [batch, time, labels]: the
// model batch-major, with a lengths input so that padding cannot reach a
// valid step.
func stepOutput(g *graph.Graph, p predictPlan) (predictPlan, bool) {
	i := slices.IndexFunc(g.Outputs, func(v graph.Value) bool {
		return v.Name == graph.ValueStepProbs || v.Name == graph.ValueStepValues
	})
	if i < 0 || p.err != nil || p.lengths == nil || p.timeMajor || g.Outputs[i].Shape != nil && len(g.Outputs[i].Shape) != 3 {
		return p, false
	}
	p.out = g.Outputs[i]
	return p, true
}

// timeName and batchName recognise dimension names.
var (
	timeName  = regexp.MustCompile(`(?i)^(t|time|times|steps?|seq|seq_?len(gth)?|sequence(_length)?|timesteps?)$`)
	batchName = regexp.MustCompile(`(?i)^(n|b|batch|batch_?size)$`)
)

// planPredict works out how Predict feeds g, or why it cannot.
func planPredict(g *graph.Graph) predictPlan {
	var p predictPlan
	var xs, ints, others []graph.Value
	for _, v := range g.Inputs {
		switch {
		case (v.DType == graph.Float32 || v.DType == graph.Float64) && (v.Shape == nil || len(v.Shape) == 3):
			xs = append(xs, v)
		case (v.DType == graph.Int32 || v.DType == graph.Int64) && (v.Shape == nil || len(v.Shape) == 1):
			ints = append(ints, v)
		default:
			others = append(others, v)
		}
	}
	describe := func() string {
		parts := make([]string, len(g.Inputs))
		for i, v := range g.Inputs {
			parts[i] = fmt.Sprintf("%s %v %s", v.Name, v.DType, v.Shape)
		}
		return strings.Join(parts, ", ")
	}
	if len(xs) != 1 || len(ints) > 1 || len(others) > 0 {
		p.err = fmt.Errorf("Predict needs one float input [batch, time, features] and at most one integer lengths input [batch]; the model's inputs are %s (use Run)", describe())
		return p
	}
	p.x = xs[0]
	if len(ints) == 1 {
		l := ints[0]
		p.lengths = &l
	}
	// Layout: the lengths input's batch dimension, else dimension names.
	if sh := p.x.Shape; sh != nil {
		d0, d1 := sh[0], sh[1]
		switch {
		case p.lengths != nil && p.lengths.Shape != nil && p.lengths.Shape[0].Sym != "" && p.lengths.Shape[0].Sym != "?" &&
			p.lengths.Shape[0].Sym == d1.Sym && d0.Sym != d1.Sym:
			p.timeMajor = true
		case timeName.MatchString(d0.Sym) && (batchName.MatchString(d1.Sym) || d1.Sym == graph.DimBatch):
			p.timeMajor = true
		}
		b, t := d0, d1
		if p.timeMajor {
			b, t = d1, d0
		}
		if b.Sym == "" {
			p.batch = b.Size
		}
		if t.Sym == "" {
			p.steps = t.Size
		}
		if sh[2].Sym == "" {
			p.features = sh[2].Size
		}
		if p.batch == 0 && b.Sym == "" || p.features == 0 && sh[2].Sym == "" {
			p.err = fmt.Errorf("input %q has shape %s: Predict cannot feed a dimension of size 0", p.x.Name, p.x.Shape)
			return p
		}
	}
	// Output: probs (values for a regression model), else the only output.
	i := slices.IndexFunc(g.Outputs, func(v graph.Value) bool { return v.Name == graph.ValueProbs || v.Name == graph.ValueValues })
	if i < 0 {
		if len(g.Outputs) != 1 {
			names := make([]string, len(g.Outputs))
			for j, v := range g.Outputs {
				names[j] = v.Name
			}
			p.err = fmt.Errorf("Predict needs an output named probs or values, or a single output; the model's outputs are %s (use Run)", strings.Join(names, ", "))
			return p
		}
		i = 0
	}
	p.out = g.Outputs[i]
	p.width = recurrentWidth(g)
	m := g.Meta[metaMissing]
	p.missing = m != "" && m != "refuse"
	return p
}

// metaMissing is the metadata key under which a model says how it treats a
// missing (NaN) input value, as a spec's inputs.missing does: absent or
// "refuse" means that it does not impute them.
const metaMissing = "trnn.missing"

// recurrentWidth is the widest per-step value of g's recurrent layers that
// Predict can size batches by: the gates of all directions, the rows of W
// [directions, gates·H, I] when it is a constant.
func recurrentWidth(g *graph.Graph) int {
	w := 0
	for _, n := range g.Nodes {
		if n.Op != graph.OpLSTM && n.Op != graph.OpGRU || len(n.Inputs) < 2 {
			continue
		}
		if W := g.Param(n.Inputs[1]); W != nil && len(W.Tensor.Shape) == 3 {
			w = max(w, W.Tensor.Shape[0]*W.Tensor.Shape[1])
		}
	}
	return w
}

// ErrUnsupported is export.ErrUnsupported: Load's error matches it
// (errors.Is) when the model uses ONNX features trnn does not implement.
var ErrUnsupported = export.ErrUnsupported
