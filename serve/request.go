package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/trnn/trnn"
)

// inferRequest is the protocol's inference request. Parameters, of the
// request and of each tensor, are ignored: the protocol defines none.
type inferRequest struct {
	ID      *string         `json:"id"`
	Inputs  []requestInput  `json:"inputs"`
	Outputs []requestOutput `json:"outputs"`
}

type requestOutput struct {
	Name string `json:"name"`
}

type requestInput struct {
	Name     string          `json:"name"`
	Shape    []int           `json:"shape"`
	Datatype string          `json:"datatype"`
	Data     json.RawMessage `json:"data"`
}

// httpError is an answer other than 200: the status and the message of its
// {"error": ...} body.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(format string, args ...any) *httpError {
	return &httpError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// serverError is a 500: the model did not give what its declaration
// promises.
func serverError(format string, args ...any) *httpError {
	return &httpError{http.StatusInternalServerError, fmt.Sprintf(format, args...)}
}

// call is one checked infer request on its way through a batch: the input
// tensors in the model's order, and what the batcher needs to merge it.
type call struct {
	inputs []*trnn.Tensor
	rows   int
	// steps holds each row's valid steps (a batchable model's), which
	// decide the kernels its row takes; see chunk.go.
	steps []int
	// T is x's dimension 1, its steps, or 0 when the model has no x.
	T int
	// key is the inputs' dimensions other than the batch and a padded
	// time: only calls with equal keys merge.
	key  string
	want []bool // which outputs the request asks for
	// out collects the call's rows of each output, chunk by chunk.
	out     []*trnn.Tensor
	arrived time.Time // when it reached the batcher
	done    chan result
}

// result is what a call gets back: the model's outputs (rows of the
// call's own, in the model's output order), or an error.
type result struct {
	outputs []*trnn.Tensor
	err     error
}

// newCall checks req against m's inputs and returns the call that runs it.
// Every check the batch could fail on is made here, so that one request's
// mistake never fails the others batched with it.
func (m *model) newCall(req *inferRequest, maxRows int) (*call, error) {
	byName, err := m.requestInputs(req)
	if err != nil {
		return nil, err
	}
	c := &call{inputs: make([]*trnn.Tensor, len(m.inputs))}
	syms := map[string]symbolSize{}
	for i, v := range m.inputs {
		in := byName[v.Name]
		if err := checkShape(v, in, syms); err != nil {
			return nil, err
		}
		if m.layout.batchable && in.Shape[0] > maxRows {
			return nil, &httpError{http.StatusRequestEntityTooLarge,
				fmt.Sprintf("input %q: %d rows, over the limit of %d rows per request", v.Name, in.Shape[0], maxRows)}
		}
		if c.inputs[i], err = m.decodeInput(v, in); err != nil {
			return nil, err
		}
	}
	if c.want, err = m.wanted(req); err != nil {
		return nil, err
	}
	if m.layout.batchable {
		if err := m.batchInfo(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// requestInputs indexes req's inputs by name: each of the model's inputs
// once, and nothing else.
func (m *model) requestInputs(req *inferRequest) (map[string]*requestInput, error) {
	byName := map[string]*requestInput{}
	for i := range req.Inputs {
		in := &req.Inputs[i]
		if byName[in.Name] != nil {
			return nil, badRequest("input %q is given twice", in.Name)
		}
		if !m.hasInput(in.Name) {
			return nil, badRequest("unknown input %q (the model's inputs are %s)", in.Name, valueNames(m.inputs))
		}
		byName[in.Name] = in
	}
	for _, v := range m.inputs {
		if byName[v.Name] == nil {
			return nil, badRequest("missing input %q (%s %s)", v.Name, datatype(v.DType), declaredShape(v.Shape))
		}
	}
	return byName, nil
}

func (m *model) hasInput(name string) bool {
	for _, v := range m.inputs {
		if v.Name == name {
			return true
		}
	}
	return false
}

// symbolSize is the size a symbolic dimension took where it first
// appeared, in input in.
type symbolSize struct {
	size int
	in   string
}

// checkShape checks in's datatype and shape against v, the model's input:
// the same rank, its fixed dimensions, and each symbol one size across the
// inputs (syms records the first). "?" binds nothing.
func checkShape(v trnn.Value, in *requestInput, syms map[string]symbolSize) error {
	if in.Datatype == "" {
		return badRequest("input %q: no datatype, the model takes %s", v.Name, datatype(v.DType))
	}
	if in.Datatype != datatype(v.DType) {
		return badRequest("input %q: datatype %s, the model takes %s", v.Name, clip(in.Datatype), datatype(v.DType))
	}
	if v.Shape != nil && len(in.Shape) != len(v.Shape) {
		return badRequest("input %q: shape %s has rank %d, the model takes %s (rank %d)",
			v.Name, formatShape(in.Shape), len(in.Shape), declaredShape(v.Shape), len(v.Shape))
	}
	n := 1
	for d, size := range in.Shape {
		if size < 0 {
			return badRequest("input %q: shape %s has a negative dimension", v.Name, formatShape(in.Shape))
		}
		if size > 0 && n > maxElements/size {
			return badRequest("input %q: shape %s holds over %d elements", v.Name, formatShape(in.Shape), maxElements)
		}
		n *= size
		if v.Shape == nil {
			continue
		}
		switch dim := v.Shape[d]; {
		case dim.Sym == "" && dim.Size != size:
			return badRequest("input %q: dimension %d is %d, the model takes %d (shape %s)", v.Name, d, size, dim.Size, declaredShape(v.Shape))
		case dim.Sym != "" && dim.Sym != "?":
			if first, ok := syms[dim.Sym]; ok && first.size != size {
				return badRequest("input %q: dimension %d (%s) is %d, but %s is %d in input %q", v.Name, d, dim.Sym, size, dim.Sym, first.size, first.in)
			} else if !ok {
				syms[dim.Sym] = symbolSize{size, v.Name}
			}
		}
	}
	return nil
}

// decodeInput reads in's data, whose shape checkShape accepted, as v.
// Every element takes at least two bytes of data but the last, which
// bounds the tensor allocated before the data are counted.
func (m *model) decodeInput(v trnn.Value, in *requestInput) (*trnn.Tensor, error) {
	want := elements(in.Shape)
	if len(in.Data) == 0 || string(in.Data) == "null" {
		if want == 0 {
			return newTensor(v.DType, in.Shape), nil
		}
		return nil, badRequest("input %q: no data", v.Name)
	}
	if want > len(in.Data)/2+1 {
		count := scanData(in.Data, func(int, []byte) {})
		return nil, badRequest("input %q: %d values, shape %s holds %d", v.Name, count, formatShape(in.Shape), want)
	}
	t, count, firstNull, err := decodeData(in.Data, v.DType, in.Shape)
	if count != want {
		return nil, badRequest("input %q: %d values, shape %s holds %d", v.Name, count, formatShape(in.Shape), want)
	}
	if err != nil {
		return nil, badRequest("input %q: %v", v.Name, err)
	}
	if firstNull >= 0 && !m.imputes {
		return nil, badRequest("input %q: element %d is null (a missing value), and the model does not impute missing values", v.Name, firstNull)
	}
	return t, nil
}

// wanted returns which outputs req asks for: those it names, or all.
func (m *model) wanted(req *inferRequest) ([]bool, error) {
	want := make([]bool, len(m.outputs))
	for _, o := range req.Outputs {
		i := -1
		for j, v := range m.outputs {
			if v.Name == o.Name {
				i = j
			}
		}
		if i < 0 {
			return nil, badRequest("unknown output %q requested (the model's outputs are %s)", o.Name, valueNames(m.outputs))
		}
		want[i] = true
	}
	if len(req.Outputs) == 0 {
		for i := range want {
			want[i] = true
		}
	}
	return want, nil
}

// batchInfo sets what the batcher needs of c: its rows, each row's steps,
// x's time dimension and the key of the calls it merges with. It checks
// each length against x's steps: padding would otherwise let a length
// past a request's own steps read another's zeros instead of failing.
func (m *model) batchInfo(c *call) error {
	l := &m.layout
	c.rows = c.inputs[0].Shape[0]
	var key strings.Builder
	for i, t := range c.inputs {
		for d, size := range t.Shape[1:] {
			if l.pad && i == l.x && d == 0 {
				continue
			}
			fmt.Fprintf(&key, "%d,", size)
		}
		key.WriteByte(';')
	}
	c.key = key.String()
	steps := 1
	if l.x >= 0 {
		steps = c.inputs[l.x].Shape[1]
		c.T = steps
	}
	c.steps = make([]int, c.rows)
	for r := range c.steps {
		c.steps[r] = steps
		if l.lengths < 0 {
			continue
		}
		n := lengthAt(c.inputs[l.lengths], r)
		if n < 0 || n > int64(steps) {
			return badRequest("input %q: element %d is %d, outside 0..%d, the steps of input %q",
				m.inputs[l.lengths].Name, r, n, steps, m.inputs[l.x].Name)
		}
		c.steps[r] = int(n)
	}
	return nil
}

// lengthAt is element r of an integer tensor.
func lengthAt(t *trnn.Tensor, r int) int64 {
	if t.DType == trnn.Int32 {
		return int64(t.I32[r])
	}
	return t.I64[r]
}

// valueNames lists values' names as messages show them: "x", "lengths".
func valueNames(vs []trnn.Value) string {
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = fmt.Sprintf("%q", v.Name)
	}
	return strings.Join(names, ", ")
}

// formatShape prints a request's shape: [2, 3, 4].
func formatShape(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// declaredShape prints a model's declared shape: [batch, time, 3].
func declaredShape(s trnn.Shape) string {
	if s == nil {
		return "of any shape"
	}
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = d.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
