package trnn

// Streaming: scoring a sequence step by step as its rows arrive, carrying
// the recurrent state between calls instead of running the prefix again.
//
// Shape legend: k steps pushed in one call, F features, K labels, W the
// width of one state value (a layer's hidden units).

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"

	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/runtime/interp"
)

// Stream scores one sequence as it grows: each Push appends steps and
// returns the probabilities after the last of them, what Predict gives on
// the whole sequence so far (to float32 rounding), for work proportional to
// the steps pushed. The recurrent state it carries between calls can be
// saved and restored as bytes (MarshalBinary, UnmarshalBinary), so that a
// service can keep the streams of many sequences in any store and resume
// each on any process that loaded the same model.
//
// A Stream is not safe for concurrent use; the streams of one Session are
// independent of each other and may run at once.
type Stream struct {
	s     *Session
	plan  *streamPlan
	state [][]float32 // [W] per plan.states
	probs []float32   // [K] after the last step pushed; nil before the first
	steps int64       // steps pushed so far

	// The model's inputs, reused from call to call, in the interpreter's
	// order: x's buffer grows to the longest push, and the state tensors
	// (stateIn, per plan.states) point at state. outs receives the outputs.
	args, outs []*graph.Tensor
	x, lengths *graph.Tensor
	stateIn    []*graph.Tensor
}

// streamPlan is how a Session's streams run: the stateful form of the
// model and its interface.
type streamPlan struct {
	err         error // why the model cannot stream; nil if it can
	ip          *interp.Interpreter
	features    int    // F
	labels      int    // K
	output      string // probs, or values for a regression model
	outputAt    int    // output's position among the interpreter's outputs
	states      []streamState
	missing     bool    // the model imputes missing values: NaN inputs pass
	fingerprint [8]byte // of the weights, so state goes back to its model only
}

// streamState is one state input of the stateful model and the output
// that gives it back.
type streamState struct {
	in, out           string
	outAt             int     // out's position among the interpreter's outputs
	inShape, outShape []int   // the shapes of one row: [1, W], or [1, 1, W] in the recurrent nodes' own form
	width             int     // W
	start             float32 // its value before the first step: 0, or NaN for fill_in (nothing observed yet)
}

// NewStream starts a stream over the model, at the beginning of a
// sequence. The model must be a stateful one (trnn export --stateful: x,
// lengths and state inputs h_in_i, c_in_i with their outputs h_out_i,
// c_out_i) or one trnn exported, which is rebuilt with its state
// (export.WithState) once per Session.
func (s *Session) NewStream() (*Stream, error) {
	p := s.streamPlan()
	if p.err != nil {
		return nil, fmt.Errorf("%s: %v", s.path, p.err)
	}
	st := &Stream{s: s, plan: p}
	st.Reset()
	return st, nil
}

func (s *Session) streamPlan() *streamPlan {
	s.streamOnce.Do(func() { s.stream = s.planStream() })
	return &s.stream
}

func (s *Session) planStream() streamPlan {
	g, ok, err := export.WithState(s.graph)
	if err != nil {
		return streamPlan{err: err}
	}
	if !ok {
		return streamPlan{err: errors.New("NewStream needs a stateful model (inputs h_in_0, ...: trnn export --stateful writes one) or a model trnn exported, which it rebuilds with its state; this model is neither")}
	}
	// A stream reads only probs and the state, and never feeds an empty
	// chunk: the nodes for anything else need not run.
	sg, ok := export.StreamGraph(g)
	if !ok {
		return streamPlan{err: errors.New("NewStream: a stateful model needs the output probs and an output for each state input")}
	}
	p, err := streamInterface(sg)
	if err != nil {
		return streamPlan{err: err}
	}
	if p.ip, err = interp.New(sg); err != nil {
		return streamPlan{err: fmt.Errorf("the model with its state: %v", err)}
	}
	outs := p.ip.OutputNames()
	p.outputAt = slices.Index(outs, p.output)
	for i := range p.states {
		p.states[i].outAt = slices.Index(outs, p.states[i].out)
	}
	m := g.Meta[metaMissing]
	p.missing = m != "" && m != "refuse"
	p.fingerprint = weightsFingerprint(sg)
	return p
}

// streamInterface checks that g has the stateful model's interface and
// returns its plan: inputs x float32 [batch, time, F], lengths int32
// [batch] and state inputs float32 [batch, W] (or [1, batch, W], as
// export.StreamGraph declares them), each with its output of the same
// width, and the output probs [batch, K]; F, K and W fixed, the batch free
// or 1.
func streamInterface(g *graph.Graph) (streamPlan, error) {
	var p streamPlan
	outs := map[string]graph.Value{}
	for _, v := range g.Outputs {
		outs[v.Name] = v
	}
	for _, v := range g.Inputs {
		out, isState := export.StatePair(v.Name)
		row, ok := streamRow(v)
		switch {
		case v.Name == graph.ValueX && v.DType == graph.Float32 && len(v.Shape) == 3 && ok:
			p.features = row[2]
		case v.Name == graph.ValueLengths && v.DType == graph.Int32 && len(v.Shape) == 1 && ok:
		case isState && v.DType == graph.Float32 && ok && row[len(row)-1] > 0:
			st := streamState{in: v.Name, out: out, inShape: row, width: row[len(row)-1]}
			o := outs[out]
			if st.outShape, ok = streamRow(o); !ok || o.DType != graph.Float32 || st.outShape[len(st.outShape)-1] != st.width {
				return p, fmt.Errorf("NewStream: state input %s %v has no output %s of its width", v.Name, v.Shape, out)
			}
			if v.Name == "fill_in" {
				st.start = float32(math.NaN())
			}
			p.states = append(p.states, st)
		default:
			return p, fmt.Errorf("NewStream: input %s %v %v is not one of a stateful model's (x float32 [batch, time, F], lengths int32 [batch], state float32 [batch, W] with its output)", v.Name, v.DType, v.Shape)
		}
	}
	p.output = graph.ValueProbs
	if _, ok := outs[graph.ValueValues]; ok {
		p.output = graph.ValueValues
	}
	probs, ok := outs[p.output]
	row, rowOK := streamRow(probs)
	if !ok || !rowOK || len(row) != 2 || probs.DType != graph.Float32 || p.features == 0 || len(p.states) == 0 {
		return p, errors.New("NewStream: a stateful model needs inputs x, lengths and state, and the output probs (or values) float32 [batch, K]")
	}
	p.labels = row[1]
	return p, nil
}

// streamRow returns the shape of v for one row, with one step where v
// has a time dimension: [1, ...] with v's fixed sizes, where the batch is
// free or 1, the time of x free and any other dimension fixed (a leading
// 1 before the batch, as the recurrent nodes' state has, allowed); ok is
// false for any other shape.
func streamRow(v graph.Value) (row []int, ok bool) {
	sh := v.Shape
	if len(sh) == 3 && sh[0].Sym == "" && sh[0].Size == 1 && v.Name != graph.ValueX {
		row, sh = []int{1}, sh[1:] // [1, batch, W]
	}
	if len(sh) == 0 || sh[0].Sym == "" && sh[0].Size != 1 {
		return nil, false
	}
	row = append(row, 1)
	for i, d := range sh[1:] {
		switch {
		case v.Name == graph.ValueX && i == 0 && d.Sym != "":
			row = append(row, 1)
		case d.Sym != "" || d.Size < 1:
			return nil, false
		default:
			row = append(row, d.Size)
		}
	}
	return row, true
}

// weightsFingerprint identifies a model by its weights: the shape and
// data of every float32 parameter, in the order the nodes read them. Names
// and the graph's other constants are left out, so that the same network
// gives the same fingerprint as a stateful file and rebuilt from the model
// trnn exported with or without step_probs (which name layers and order
// constants differently).
func weightsFingerprint(g *graph.Graph) [8]byte {
	h := sha256.New()
	var buf [8]byte
	put := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	seen := map[string]bool{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			p := g.Param(in)
			if p == nil || p.Tensor.DType != graph.Float32 || seen[in] {
				continue
			}
			seen[in] = true
			put(uint64(len(p.Tensor.Shape)))
			for _, d := range p.Tensor.Shape {
				put(uint64(d))
			}
			for _, v := range p.Tensor.F32 {
				put(uint64(math.Float32bits(v)))
			}
		}
	}
	var fp [8]byte
	copy(fp[:], h.Sum(nil))
	return fp
}

// Reset takes the stream back to the beginning of a sequence.
func (st *Stream) Reset() {
	st.state = make([][]float32, len(st.plan.states))
	for i, ss := range st.plan.states {
		st.state[i] = make([]float32, ss.width)
		for j := range st.state[i] {
			st.state[i][j] = ss.start
		}
	}
	st.probs, st.steps = nil, 0
}

// Steps is the number of steps pushed since the beginning of the sequence.
func (st *Stream) Steps() int64 { return st.steps }

// Push appends steps (steps[t] holds the F features of one step) to the
// sequence and returns the probabilities after the last of them: what
// Predict returns for the whole sequence pushed so far. Its work is that of
// running the model over len(steps) steps, whatever the sequence's length.
// Pushing no steps returns the probabilities after the last step pushed
// before (an error at the beginning of a sequence). The input is checked
// as Predict checks it, NonFiniteInputError naming Seq 0 and the step's
// position in the whole sequence; on any error the stream is unchanged.
func (st *Stream) Push(steps [][]float32) ([]float32, error) {
	p, path := st.plan, st.s.path
	if len(steps) == 0 {
		if st.probs == nil {
			return nil, fmt.Errorf("%s: Push: no step pushed yet, so no probabilities", path)
		}
		return slices.Clone(st.probs), nil
	}
	if err := st.check(steps); err != nil {
		return nil, err
	}
	if err := p.ip.RunArgs(st.feed(steps), st.outs); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	probs, next, err := st.read(st.outs)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if !allFinite(probs) {
		last := int(st.steps) + len(steps) - 1
		return nil, &NonFiniteOutputError{Model: path, Output: p.output, Seqs: []int{0}, Steps: []int{last}}
	}
	// The outputs go back to the interpreter at the next call (RunArgs):
	// the stream keeps copies.
	for i, row := range next {
		copy(st.state[i], row)
	}
	st.probs, st.steps = append(st.probs[:0], probs...), st.steps+int64(len(steps))
	return slices.Clone(probs), nil
}

// check checks every step's feature count and values.
func (st *Stream) check(steps [][]float32) error {
	p := st.plan
	for t, step := range steps {
		at := int(st.steps) + t
		if len(step) != p.features {
			return fmt.Errorf("%s: Push: step %d has %d features, the model expects %d", st.s.path, at, len(step), p.features)
		}
		for f, v := range step {
			if !finite(v) && !(p.missing && math.IsNaN(float64(v))) {
				return &NonFiniteInputError{Model: st.s.path, Seq: 0, Step: at, Feature: f, Value: v}
			}
		}
	}
	return nil
}

// feed sets the model's inputs to one row of k steps and the state. The
// interpreter neither keeps nor writes its inputs, so they are reused.
func (st *Stream) feed(steps [][]float32) []*graph.Tensor {
	p := st.plan
	k, F := len(steps), p.features
	if st.args == nil {
		st.x = &graph.Tensor{DType: graph.Float32, Shape: []int{1, 0, F}}
		st.lengths = &graph.Tensor{DType: graph.Int32, Shape: []int{1}, I32: []int32{0}}
		in := map[string]*graph.Tensor{graph.ValueX: st.x, graph.ValueLengths: st.lengths}
		st.stateIn = make([]*graph.Tensor, len(p.states))
		for i, ss := range p.states {
			st.stateIn[i] = &graph.Tensor{DType: graph.Float32, Shape: ss.inShape}
			in[ss.in] = st.stateIn[i]
		}
		for _, name := range p.ip.InputNames() {
			st.args = append(st.args, in[name])
		}
		st.outs = make([]*graph.Tensor, len(p.ip.OutputNames()))
	}
	st.x.F32 = slices.Grow(st.x.F32[:0], k*F)[:k*F]
	for t, step := range steps {
		copy(st.x.F32[t*F:], step)
	}
	st.x.Shape[1], st.lengths.I32[0] = k, int32(k)
	for i, t := range st.stateIn {
		t.F32 = st.state[i]
	}
	return st.args
}

// read takes the probabilities and the next state from the outputs, in
// the interpreter's order, which belong to the caller of RunArgs.
func (st *Stream) read(out []*graph.Tensor) (probs []float32, next [][]float32, err error) {
	p := st.plan
	row := func(at int, name string, shape []int) ([]float32, error) {
		var t *graph.Tensor
		if at >= 0 {
			t = out[at]
		}
		if t == nil || t.DType != graph.Float32 || !slices.Equal(t.Shape, shape) {
			return nil, fmt.Errorf("output %s: expected float32 %s", name, graph.FormatShape(shape))
		}
		return t.F32, nil
	}
	if probs, err = row(p.outputAt, p.output, []int{1, p.labels}); err != nil {
		return nil, nil, err
	}
	next = make([][]float32, len(p.states))
	for i, ss := range p.states {
		if next[i], err = row(ss.outAt, ss.out, ss.outShape); err != nil {
			return nil, nil, err
		}
	}
	return probs, next, nil
}

// The saved state's format, little-endian:
//
//	magic        8 bytes "trnnstrm"
//	version      uint16, streamVersion
//	fingerprint  8 bytes, of the model's weights
//	steps        uint64, steps pushed so far
//	probs        uint32 K (0 before the first step), then K float32
//	states       uint32 count, then for each: uint16 name length, the
//	             name, uint32 W, W float32
//	checksum     uint32, CRC-32 (IEEE) of everything before it
const (
	streamMagic   = "trnnstrm"
	streamVersion = 1
)

// MarshalBinary saves the stream's state: where it is in the sequence and
// the recurrent state it carries, in a versioned format with a checksum
// (UnmarshalBinary reads it back).
func (st *Stream) MarshalBinary() ([]byte, error) {
	le := binary.LittleEndian
	b := append([]byte(streamMagic), 0, 0)
	le.PutUint16(b[len(streamMagic):], streamVersion)
	b = append(b, st.plan.fingerprint[:]...)
	b = le.AppendUint64(b, uint64(st.steps))
	b = appendFloats(b, st.probs)
	b = le.AppendUint32(b, uint32(len(st.state)))
	for i, ss := range st.plan.states {
		b = le.AppendUint16(b, uint16(len(ss.in)))
		b = append(b, ss.in...)
		b = appendFloats(b, st.state[i])
	}
	return le.AppendUint32(b, crc32.ChecksumIEEE(b)), nil
}

func appendFloats(b []byte, v []float32) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// UnmarshalBinary restores a state MarshalBinary saved, from a stream of a
// model with the same weights. Bytes that are not such a state (another
// format or version, a damaged copy, another model's state, values that
// are not finite) are an error, and leave the stream unchanged.
func (st *Stream) UnmarshalBinary(data []byte) error {
	steps, probs, state, err := st.plan.decodeState(data)
	if err != nil {
		return fmt.Errorf("%s: stream state: %v", st.s.path, err)
	}
	st.steps, st.probs, st.state = steps, probs, state
	return nil
}

// decodeState parses and checks a saved state against the plan.
func (p *streamPlan) decodeState(data []byte) (steps int64, probs []float32, state [][]float32, err error) {
	const header = len(streamMagic) + 2
	if len(data) < header+4 || string(data[:len(streamMagic)]) != streamMagic {
		return 0, nil, nil, errors.New("not a trnn stream state")
	}
	if v := binary.LittleEndian.Uint16(data[len(streamMagic):]); v != streamVersion {
		return 0, nil, nil, fmt.Errorf("format version %d, expected %d", v, streamVersion)
	}
	body := data[:len(data)-4]
	if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(data[len(body):]) {
		return 0, nil, nil, errors.New("checksum mismatch: the bytes are damaged")
	}
	r := &stateReader{b: body[header:]}
	if fp := r.next(8); r.err == nil && [8]byte(fp) != p.fingerprint {
		return 0, nil, nil, errors.New("saved from a stream of another model (the weights differ)")
	}
	steps = int64(r.u64())
	probs = r.floats(p.labels)
	if n := r.u32(); r.err == nil && int(n) != len(p.states) {
		return 0, nil, nil, fmt.Errorf("%d state values, the model has %d", n, len(p.states))
	}
	state = make([][]float32, len(p.states))
	for i, ss := range p.states {
		if name := string(r.next(int(r.u16()))); r.err == nil && name != ss.in {
			return 0, nil, nil, fmt.Errorf("state value %d is %q, the model's is %s", i, name, ss.in)
		}
		state[i] = r.floats(ss.width)
	}
	if err := p.checkState(r, steps, probs, state); err != nil {
		return 0, nil, nil, err
	}
	return steps, probs, state, nil
}

// checkState checks what decodeState read: the bytes are used up, the
// probabilities are there exactly when steps were pushed, and every value
// is finite (a forward-fill state may be NaN: nothing observed yet).
func (p *streamPlan) checkState(r *stateReader, steps int64, probs []float32, state [][]float32) error {
	switch {
	case r.err != nil:
		return r.err
	case len(r.b) > 0:
		return fmt.Errorf("%d bytes after the state", len(r.b))
	case steps < 0:
		return fmt.Errorf("%d steps", steps)
	case (steps == 0) != (probs == nil):
		return fmt.Errorf("%d steps with %d probabilities", steps, len(probs))
	case !allFinite(probs):
		return errors.New("probabilities that are not finite")
	}
	for i, ss := range p.states {
		if len(state[i]) != ss.width {
			return fmt.Errorf("state %s holds %d values, expected %d", ss.in, len(state[i]), ss.width)
		}
		for _, v := range state[i] {
			if !finite(v) && !(math.IsNaN(float64(ss.start)) && math.IsNaN(float64(v))) {
				return fmt.Errorf("state %s holds %v, expected finite values", ss.in, v)
			}
		}
	}
	return nil
}

// stateReader reads a saved state's fields in order; the first read past
// the end sets err, and later reads return zeros.
type stateReader struct {
	b   []byte
	err error
}

func (r *stateReader) next(n int) []byte {
	if r.err != nil || n > len(r.b) {
		if r.err == nil {
			r.err = errors.New("truncated")
		}
		return make([]byte, max(n, 0))
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *stateReader) u16() uint16 { return binary.LittleEndian.Uint16(r.next(2)) }
func (r *stateReader) u32() uint32 { return binary.LittleEndian.Uint32(r.next(4)) }
func (r *stateReader) u64() uint64 { return binary.LittleEndian.Uint64(r.next(8)) }

// floats reads a float32 list that must be empty or hold width values.
func (r *stateReader) floats(width int) []float32 {
	n := r.u32()
	if r.err != nil || n == 0 {
		return nil
	}
	if int64(n) != int64(width) {
		r.err = fmt.Errorf("a list of %d values where %d are expected", n, width)
		return nil
	}
	b := r.next(4 * width)
	v := make([]float32, width)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}
