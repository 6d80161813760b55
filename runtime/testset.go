package runtime

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

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
	b, err := json.MarshalIndent(rep, "", "  ")
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
// and returns probs [N·K] in d's order. Sequences run in batches of similar
// length, so that padding stays small.
func predictModelFile(path string, d *data.Dataset) ([]float32, error) {
	g, err := export.ReadONNX(path)
	if err != nil {
		return nil, err
	}
	ip, err := interp.New(g)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	order := make([]int, d.N())
	for i := range order {
		order[i] = i
	}
	ops.SortByLength(order, d.Len)
	probs := make([]float32, d.N()*d.K)
	for lo := 0; lo < len(order); lo += predictBatch {
		idx := order[lo:min(lo+predictBatch, len(order))]
		x, lengths, T := d.Padded(idx)
		out, err := ip.Run(map[string]*graph.Tensor{
			graph.ValueX:       graph.FromF32(x, len(idx), T, d.F),
			graph.ValueLengths: {DType: graph.Int32, Shape: []int{len(idx)}, I32: lengths},
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		p := out[graph.ValueProbs].F32
		for b, i := range idx {
			copy(probs[i*d.K:(i+1)*d.K], p[b*d.K:(b+1)*d.K])
		}
	}
	return probs, nil
}
