package serve

import (
	"log/slog"
	"regexp"
	"slices"
	"sync/atomic"

	"github.com/trnn/trnn"
)

// model is one served model: its session, its declared inputs and outputs,
// and how requests to it are batched.
type model struct {
	name    string
	sess    *trnn.Session
	inputs  []trnn.Value
	outputs []trnn.Value
	// imputes: the model replaces missing values itself, so a NaN (JSON
	// null) is a valid float input.
	imputes bool
	layout  layout
	batch   *batcher // nil when requests run one at a time
	log     *slog.Logger
	// unbatched is set when merging would change the model's answers (the
	// probe, or a run, found so): requests then run as they come.
	unbatched atomic.Bool
}

// metaMissing is the metadata key under which a trnn model says how it
// treats a missing input value: absent or "refuse" means it does not impute.
const metaMissing = "trnn.missing"

// layout is how requests to a model merge into one batch. The zero value is
// a model that is not batchable.
type layout struct {
	batchable bool
	// lengths is the index of the integer [batch] input holding each row's
	// valid steps, or -1.
	lengths int
	// x is the index of the input whose dimension 1 is a row's steps (the
	// float [batch, time, features] input), or -1.
	x int
	// pad: x's time dimension is a symbol of its own, so requests of
	// different lengths merge, padded to the longest.
	pad bool
	// time is that symbol; outputs with it as dimension 1 (timeOut) are cut
	// back to each request's steps.
	time    string
	timeOut []bool
}

// newModel describes the model sess under name.
func newModel(name string, sess *trnn.Session, log *slog.Logger) *model {
	m := &model{name: name, sess: sess, inputs: sess.Inputs(), outputs: sess.Outputs(), log: log}
	meta := sess.Metadata()
	if v := meta[metaMissing]; v != "" && v != "refuse" {
		m.imputes = true
	}
	m.layout = planLayout(m.inputs, m.outputs, meta[metaVersion] != "")
	return m
}

// metaVersion is the metadata key under which trnn records the release
// that wrote a model.
const metaVersion = "trnn.version"

// planLayout works out how requests with these inputs and outputs merge.
// Every input must have a known shape whose first dimension is the same
// named symbol, the batch, and every output a symbolic first dimension,
// which is taken to be the batch (runs check it). x, the input whose
// dimension 1 is a row's steps, is the float input of rank 3 when there is
// one, else the first input whose dimension 1 is symbolic (token ids
// [batch, time], say); an integer input of rank 1,
// alone of its kind and named as lengths are (or any, in a model trnn
// wrote), gives each row's valid steps. Requests merge when all their
// inputs' other dimensions agree. In a model trnn wrote (written), which
// never reads a padded step, requests of different lengths merge too, x
// padded along time, when its time dimension is a symbol no other input has
// and outputs have it only as their dimension 1, which is cut back.
// Padding another model could change its answers: it may pool over every
// step, padded or not.
func planLayout(inputs, outputs []trnn.Value, written bool) layout {
	l := layout{lengths: -1, x: -1}
	if !batchShapes(inputs, outputs) {
		return l
	}
	var xs, ints []int
	for i, v := range inputs {
		switch {
		case isFloat(v.DType) && len(v.Shape) == 3:
			xs = append(xs, i)
		case (v.DType == trnn.Int32 || v.DType == trnn.Int64) && len(v.Shape) == 1:
			ints = append(ints, i)
		}
	}
	if len(xs) == 1 {
		l.x = xs[0]
	} else {
		l.x = slices.IndexFunc(inputs, func(v trnn.Value) bool { return len(v.Shape) > 1 && v.Shape[1].Sym != "" })
	}
	if l.x >= 0 && len(ints) == 1 && (written || lengthsName.MatchString(inputs[ints[0]].Name)) {
		l.lengths = ints[0]
	}
	l.timeOut = make([]bool, len(outputs))
	if written && l.lengths >= 0 && len(xs) == 1 {
		l.pad, l.time = padTime(inputs[l.x], inputs, outputs, l.timeOut)
	}
	l.batchable = true
	return l
}

// timeName recognises a time dimension by its name, as trnn.Predict does:
// a model whose inputs begin with one is time-major, not batched.
var timeName = regexp.MustCompile(`(?i)^(t|time|times|steps?|seq|seq_?len(gth)?|sequence(_length)?|timesteps?)$`)

// lengthsName recognises an input holding each row's valid steps.
var lengthsName = regexp.MustCompile(`(?i)(^|_)(lens?|lengths?|seq_?lens?|seq_?lengths?|sequence_?lens?|sequence_?lengths?)$`)

// batchShapes reports whether every input has a known shape whose first
// dimension is one symbol, found nowhere else in the inputs, and every
// output a known shape with a symbolic first dimension.
func batchShapes(inputs, outputs []trnn.Value) bool {
	if len(inputs) == 0 || len(outputs) == 0 {
		return false
	}
	batch := ""
	if len(inputs[0].Shape) > 0 {
		batch = inputs[0].Shape[0].Sym
	}
	if batch == "" || batch == "?" || timeName.MatchString(batch) {
		return false
	}
	for _, v := range inputs {
		if len(v.Shape) == 0 || v.Shape[0].Sym != batch || symbolCount([]trnn.Value{v}, batch) != 1 {
			return false
		}
	}
	for _, v := range outputs {
		if len(v.Shape) == 0 || v.Shape[0].Sym == "" {
			return false
		}
	}
	return true
}

// padTime reports whether x may be padded along its time dimension, and
// returns that symbol, marking in timeOut the outputs that have it.
func padTime(x trnn.Value, inputs, outputs []trnn.Value, timeOut []bool) (bool, string) {
	t := x.Shape[1].Sym
	if t == "" || t == "?" || symbolCount(inputs, t) != 1 {
		return false, ""
	}
	for o, v := range outputs {
		for d, dim := range v.Shape[1:] {
			switch {
			case dim.Sym == "":
			case d == 0 && dim.Sym == t:
				timeOut[o] = true
			default:
				clear(timeOut)
				return false, ""
			}
		}
	}
	return true, t
}

// symbolCount is how many times sym appears in the inputs' shapes.
func symbolCount(inputs []trnn.Value, sym string) int {
	n := 0
	for _, v := range inputs {
		for _, d := range v.Shape {
			if d.Sym == sym {
				n++
			}
		}
	}
	return n
}

func isFloat(dt trnn.DType) bool { return dt == trnn.Float32 || dt == trnn.Float64 }
