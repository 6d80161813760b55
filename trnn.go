// Package trnn is the embedding API: it loads an ONNX sequence classifier
// (one exported by trnn, or any model built from the ONNX operators trnn
// reads, docs/onnx-import.md) and runs it inside a Go program.
//
//	s, err := trnn.Load("model.onnx")
//	probs, err := s.Predict(seqs) // seqs[i] is sequence i: [steps][features]float32
//
// A Session is safe for concurrent use by any number of goroutines.
//
// Predict takes ragged sequences and does the batching: for a model with
// trnn's interface (inputs x float32 [batch, time, features] and lengths
// int32 [batch], output probs [batch, labels]) it pads them into one batch;
// for other models it finds the one float input of rank 3 (batch-major, or
// time-major when its dimension names or the lengths input say so), an
// optional integer lengths input, and the output (probs, or the only one).
// Without a lengths input, sequences are run in groups of equal length, so
// padding never reaches the model. Run gives full control with named tensors.
//
// Errors name the model file and say what is wrong in one line; bad input
// never panics.
package trnn

import (
	"fmt"
	"maps"
	"regexp"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

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

// Session is a loaded model. It is immutable and safe for concurrent use.
type Session struct {
	path    string
	graph   *graph.Graph
	ip      *interp.Interpreter
	predict predictPlan
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
// that every step has the model's number of features.
func (s *Session) Predict(seqs [][][]float32) ([][]float32, error) {
	p := &s.predict
	if p.err != nil {
		return nil, fmt.Errorf("%s: %v", s.path, p.err)
	}
	F, err := p.checkSeqs(seqs)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", s.path, err)
	}
	res := make([][]float32, len(seqs))
	batches := p.batches(seqs)
	// Rows are independent: batches run concurrently, each writing only its
	// own rows of res. The first failing batch (in order) is reported.
	errs := make([]error, len(batches))
	workers := min(goruntime.GOMAXPROCS(0), len(batches))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b := int(next.Add(1)) - 1
				if b >= len(batches) {
					return
				}
				errs[b] = s.predictBatch(seqs, batches[b], F, res)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return res, nil
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

// batches groups the sequences (by index) into the batches Predict runs:
// every sequence at once when the model takes lengths, else one group per
// length, so that padding never reaches a model that cannot mask it. A
// fixed batch size splits groups further; otherwise large groups are split
// so that every core gets work.
func (p *predictPlan) batches(seqs [][][]float32) [][]int {
	var groups [][]int
	if p.lengths != nil {
		all := make([]int, len(seqs))
		for i := range all {
			all[i] = i
		}
		groups = append(groups, all)
	} else {
		byLen := map[int][]int{}
		for i, seq := range seqs {
			byLen[len(seq)] = append(byLen[len(seq)], i)
		}
		for _, l := range slices.Sorted(maps.Keys(byLen)) {
			groups = append(groups, byLen[l])
		}
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
		batches = append(batches, splitBalanced(seqs, g, min(goruntime.GOMAXPROCS(0), len(g)/predictMinRows))...)
	}
	return batches
}

// predictMinRows is the fewest sequences worth a batch of their own when
// Predict splits work across cores.
const predictMinRows = 64

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

// predictBatch runs the sequences idx as one padded batch and stores their
// rows of output in res. A fixed batch size larger than len(idx) is filled
// with empty rows.
func (s *Session) predictBatch(seqs [][][]float32, idx []int, F int, res [][]float32) error {
	p := &s.predict
	B := len(idx)
	if p.batch > 0 {
		B = p.batch
	}
	T := p.steps
	if T == 0 {
		for _, i := range idx {
			T = max(T, len(seqs[i]))
		}
	}
	shape := []int{B, T, F}
	if p.timeMajor {
		shape = []int{T, B, F}
	}
	x := graph.NewTensor(p.x.DType, shape...)
	for b, i := range idx {
		for t, step := range seqs[i] {
			off := (b*T + t) * F
			if p.timeMajor {
				off = (t*B + b) * F
			}
			for f, v := range step {
				if x.DType == graph.Float32 {
					x.F32[off+f] = v
				} else {
					x.F64[off+f] = float64(v)
				}
			}
		}
	}
	inputs := map[string]*graph.Tensor{p.x.Name: x}
	if p.lengths != nil {
		l := graph.NewTensor(p.lengths.DType, B)
		for b, i := range idx {
			if l.DType == graph.Int32 {
				l.I32[b] = int32(len(seqs[i]))
			} else {
				l.I64[b] = int64(len(seqs[i]))
			}
		}
		inputs[p.lengths.Name] = l
	}
	outs, err := s.Run(inputs)
	if err != nil {
		return err
	}
	y := outs[p.out.Name]
	if y == nil || (y.DType != graph.Float32 && y.DType != graph.Float64) || len(y.Shape) < 1 || len(y.Shape) > 2 || y.Shape[0] != B {
		got := "nothing"
		if y != nil {
			got = y.DType.String() + " " + graph.FormatShape(y.Shape)
		}
		return fmt.Errorf("%s: output %q: Predict expects float [%d, labels] for a batch of %d, got %s", s.path, p.out.Name, B, B, got)
	}
	K := 1
	if len(y.Shape) == 2 {
		K = y.Shape[1]
	}
	for b, i := range idx {
		row := make([]float32, K)
		for k := range row {
			if y.DType == graph.Float32 {
				row[k] = y.F32[b*K+k]
			} else {
				row[k] = float32(y.F64[b*K+k])
			}
		}
		res[i] = row
	}
	return nil
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
	// Output: probs, else the only output.
	i := slices.IndexFunc(g.Outputs, func(v graph.Value) bool { return v.Name == graph.ValueProbs })
	if i < 0 {
		if len(g.Outputs) != 1 {
			names := make([]string, len(g.Outputs))
			for j, v := range g.Outputs {
				names[j] = v.Name
			}
			p.err = fmt.Errorf("Predict needs an output named probs or a single output; the model's outputs are %s (use Run)", strings.Join(names, ", "))
			return p
		}
		i = 0
	}
	p.out = g.Outputs[i]
	return p
}

// ErrUnsupported is export.ErrUnsupported: Load's error matches it
// (errors.Is) when the model uses ONNX features trnn does not implement.
var ErrUnsupported = export.ErrUnsupported
