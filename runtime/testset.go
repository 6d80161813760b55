package runtime

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/loss"
	"github.com/trnn/trnn/ops"
	"github.com/trnn/trnn/runtime/interp"
)

// The test set (training.test) answers the question validation cannot:
// validation picked the best epoch, so its metrics are optimistic. The test
// set is held out before anything else is drawn from the training file,
// never reaches the trainer, and is evaluated once, on model.onnx as
// written, when training ends.

// TestFile is the name of the test set's report in a run directory.
const TestFile = "test.json"

// testStream separates the test split's random draws from the validation
// split's, which uses the training seed itself.
const testStream = 0x7e57

// TestReport is test.json: model.onnx evaluated on the test set, in the
// form `trnn eval --json` prints, with the epoch model.onnx holds.
type TestReport struct {
	loss.Report
	// Epoch is the epoch whose weights model.onnx holds.
	Epoch int `json:"epoch"`
	// Split is training.test.split when the test set was held out of the
	// training file (Data names that file); absent for a test file.
	Split float64 `json:"split,omitempty"`
	// Head replaces Report for the heads other than per-sequence sigmoid
	// labels; test.json then holds it with Epoch and Split.
	Head *HeadReport `json:"-"`
}

// headTestJSON is test.json for a HeadReport.
type headTestJSON struct {
	*HeadReport
	Epoch int     `json:"epoch"`
	Split float64 `json:"split,omitempty"`
}

// evaluateHeadTest is evaluateTest for the heads other than per-sequence
// sigmoid labels: model.onnx on the test set, without bootstrap intervals.
func (r *run) evaluateHeadTest(res *Result, model string) (*TestReport, error) {
	d := r.test
	last, steps, err := runModelFile(model, d, r.spec.Outputs.PerStep)
	if err != nil {
		return nil, err
	}
	e, err := EvaluateHead(r.spec, d, last, steps, nil)
	if err != nil {
		return nil, fmt.Errorf("%s on the test set: %v", model, err)
	}
	rep := &TestReport{Epoch: res.Epochs, Split: r.spec.Training.Test.Split}
	if res.Best != nil {
		rep.Epoch = res.Best.Epoch
	}
	rep.Head = NewHeadReport(model, d.Source, r.spec, e, d.N())
	rep.Report = loss.Report{Model: model, Data: d.Source, Sequences: d.N()}
	return rep, nil
}

// holdOutTest reads the test file, or holds the spec's test split out of
// the training data, before the validation split is drawn from what
// remains. A test file that is the training or the validation file, under
// any name, is refused: its metrics would not be held out.
func (r *run) holdOutTest(schema data.Schema) error {
	ts := r.spec.Training.Test
	if r.testFile != "" {
		for _, c := range []struct{ what, file string }{{"training", r.trainFile}, {"validation", r.valFile}} {
			if sameFile(r.testFile, c.file) {
				return fmt.Errorf("%s: the test file is also the %s data (%s); a test set must be held out of training and model selection",
					r.testFile, c.what, c.file)
			}
		}
		var err error
		r.test, err = data.Load(r.testFile, schema)
		return err
	}
	if ts.Split <= 0 {
		return nil
	}
	all := r.train
	r.train, r.test = all.Split(ts.Split, mix(r.spec.Training.Seed, testStream))
	if r.test.N() == 0 || r.train.N() == 0 {
		return fmt.Errorf("%s: %d sequences are too few to hold out training.test.split = %g", r.trainFile, all.N(), ts.Split)
	}
	return nil
}

// sameFile reports whether a and b are one existing file.
func sameFile(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

// valFraction is the fraction of what remains after the test split that
// validation takes, so that validation.split stays a fraction of the whole
// training file, as docs/spec.md states. Without a test split it is
// validation.split itself.
func (r *run) valFraction() float64 {
	t := r.spec.Training
	if r.testFile != "" || t.Test.Split <= 0 {
		return t.Validation.Split
	}
	return t.Validation.Split / (1 - t.Test.Split)
}

// finishTest evaluates model.onnx on the test set, when there is one,
// writes test.json and adds the report to res.
func (r *run) finishTest(res *Result) (*Result, error) {
	if r.test == nil {
		return res, nil
	}
	rep, err := r.evaluateTest(res)
	if err != nil {
		return nil, err
	}
	var v any = rep
	if rep.Head != nil {
		v = headTestJSON{HeadReport: rep.Head, Epoch: rep.Epoch, Split: rep.Split}
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("%s: %v", TestFile, err)
	}
	if err := writeFileAtomic(filepath.Join(r.dir, TestFile), append(b, '\n')); err != nil {
		return nil, err
	}
	res.Test = rep
	return res, nil
}

// evaluateTest runs model.onnx, read back from the run directory, on the
// test set and computes its metrics at the default threshold, with
// bootstrap intervals seeded by the training seed.
func (r *run) evaluateTest(res *Result) (*TestReport, error) {
	model := filepath.Join(r.dir, ModelFile)
	d := r.test
	if o := r.spec.Outputs; o.Kind() != compiler.KindLabels || o.PerStep {
		return r.evaluateHeadTest(res, model)
	}
	probs, err := predictModelFile(model, d)
	if err != nil {
		return nil, err
	}
	met, err := loss.Evaluate(probs, d.Y, d.N(), d.K, loss.EvalOptions{})
	if err != nil {
		return nil, fmt.Errorf("%s on the test set: %v", model, err)
	}
	ts, seed := r.spec.Training.Test, r.spec.Training.Seed
	rep := &TestReport{Epoch: res.Epochs, Split: ts.Split}
	if res.Best != nil {
		rep.Epoch = res.Best.Epoch
	}
	rep.Report = *loss.NewReport(model, d.Source, met, r.spec.Outputs.LabelNames, loss.ThresholdRule{Value: met.Threshold})
	if ts.Bootstrap > 0 {
		iv, err := loss.Bootstrap(probs, d.Y, d.N(), d.K, loss.EvalOptions{}, ts.Bootstrap, seed)
		if err != nil {
			return nil, fmt.Errorf("%s on the test set: %v", model, err)
		}
		rep.AddBootstrap(iv, ts.Bootstrap, seed)
	}
	return rep, nil
}

// predictBatch is how many sequences predictModelFile runs at once: the
// padded batch stays small beside the data however long the sequences.
const predictBatch = 64

// predictModelFile runs the ONNX model file at path on every sequence of d
// and returns its last-step output (probs, or values for regression)
// [N·K] in d's order. Sequences run in batches of similar length, so that
// padding stays small.
func predictModelFile(path string, d *data.Dataset) ([]float32, error) {
	last, _, err := runModelFile(path, d, false)
	return last, err
}

// runModelFile is predictModelFile that, with steps, also returns the
// per-step output (step_probs or step_values) [N][len_i·K], which the
// model must have.
func runModelFile(path string, d *data.Dataset, withSteps bool) (last []float32, steps [][]float32, err error) {
	g, err := export.ReadONNX(path)
	if err != nil {
		return nil, nil, err
	}
	stepName, lastName := graph.ValueStepProbs, graph.ValueProbs
	for _, v := range g.Outputs {
		if v.Name == graph.ValueValues {
			stepName, lastName = graph.ValueStepValues, graph.ValueValues
		}
	}
	ip, err := interp.New(g)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", path, err)
	}
	order := make([]int, d.N())
	for i := range order {
		order[i] = i
	}
	ops.SortByLength(order, d.Len)
	var K int
	if withSteps {
		steps = make([][]float32, d.N())
	}
	for lo := 0; lo < len(order); lo += predictBatch {
		idx := order[lo:min(lo+predictBatch, len(order))]
		x, lengths, T := d.Padded(idx)
		out, err := ip.Run(map[string]*graph.Tensor{
			graph.ValueX:       graph.FromF32(x, len(idx), T, d.F),
			graph.ValueLengths: {DType: graph.Int32, Shape: []int{len(idx)}, I32: lengths},
		})
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", path, err)
		}
		p := out[lastName]
		if p == nil || (withSteps && out[stepName] == nil) {
			return nil, nil, fmt.Errorf("%s: the model has no output %s", path, lastName)
		}
		if last == nil {
			K = p.Shape[len(p.Shape)-1]
			last = make([]float32, d.N()*K)
		}
		for b, i := range idx {
			copy(last[i*K:(i+1)*K], p.F32[b*K:(b+1)*K])
			if withSteps {
				n := d.Len(i) * K
				steps[i] = append([]float32(nil), out[stepName].F32[b*T*K:b*T*K+n]...)
			}
		}
	}
	return last, steps, nil
}
