package main

// The corpus of exported sequence models (testdata/corpus, written with
// PyTorch's outputs by testdata/python/make_corpus.py) through the command
// line: `trnn run` on every model, and `trnn predict` on those that take x
// (and lengths) and give one output per sequence.

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
)

// corpusTol is the largest difference from PyTorch's float outputs
// accepted.
const corpusTol = 1e-5

// corpusSet is a corpus model's test data: the input files in order, and
// PyTorch's outputs by name.
type corpusSet struct {
	name, model string
	inputs      []string
	want        map[string]*graph.Tensor
	order       []string // output names, in the graph's order
}

func readCorpus(t *testing.T) []corpusSet {
	t.Helper()
	models, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "corpus", "*", "model.onnx"))
	if len(models) < 12 {
		t.Fatalf("the corpus holds %d models, want at least 12", len(models))
	}
	var sets []corpusSet
	for _, model := range models {
		dir := filepath.Dir(model)
		c := corpusSet{name: filepath.Base(dir), model: model, want: map[string]*graph.Tensor{}}
		c.inputs, _ = filepath.Glob(filepath.Join(dir, "test_data_set_0", "input_*.pb"))
		outputs, _ := filepath.Glob(filepath.Join(dir, "test_data_set_0", "output_*.pb"))
		slices.Sort(c.inputs) // fewer than 10 of each
		slices.Sort(outputs)
		for _, f := range outputs {
			y, name, err := export.ReadTensorFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c.want[name] = y
			c.order = append(c.order, name)
		}
		sets = append(sets, c)
	}
	return sets
}

// maxDiff is the largest difference between two tensors of one type and
// shape, +Inf when they differ in type, shape or an integer.
func maxDiff(got, want *graph.Tensor) float64 {
	if got == nil || got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) {
		return math.Inf(1)
	}
	worst := 0.0
	for i := range want.Len() {
		switch want.DType {
		case graph.Float32:
			d := math.Abs(float64(got.F32[i]) - float64(want.F32[i]))
			if math.IsNaN(d) {
				return math.Inf(1)
			}
			worst = max(worst, d)
		case graph.Int64:
			if got.I64[i] != want.I64[i] {
				return math.Inf(1)
			}
		default:
			return math.Inf(1)
		}
	}
	return worst
}

// TestCorpusRun runs every corpus model with `trnn run` on its committed
// inputs (named by the files) and compares the written outputs with
// PyTorch's. It lists each model's status and fails on any mismatch.
func TestCorpusRun(t *testing.T) {
	var report []string
	failed := 0
	for _, c := range readCorpus(t) {
		status := corpusRunCmd(t, c)
		if !strings.HasPrefix(status, "ok") {
			failed++
		}
		report = append(report, fmt.Sprintf("%-24s %s", c.name, status))
	}
	t.Logf("trnn run on the corpus:\n%s", strings.Join(report, "\n"))
	if failed > 0 {
		t.Errorf("%d corpus models fail through trnn run:\n%s", failed, strings.Join(report, "\n"))
	}
}

func corpusRunCmd(t *testing.T, c corpusSet) string {
	out := t.TempDir()
	args := []string{"run", c.model, "--output-dir", out}
	for _, f := range c.inputs {
		args = append(args, "--input", f)
	}
	if status, _, stderr := trnnCmd(t, args...); status != 0 {
		return fmt.Sprintf("FAIL status %d: %s", status, strings.TrimSpace(stderr))
	}
	worst := 0.0
	for _, name := range c.order {
		got, _, err := export.ReadTensorFile(filepath.Join(out, name+".pb"))
		if err != nil {
			return "FAIL " + err.Error()
		}
		worst = max(worst, maxDiff(got, c.want[name]))
	}
	if worst > corpusTol {
		return fmt.Sprintf("FAIL max |Δ| = %.3g", worst)
	}
	return fmt.Sprintf("ok   max |Δ| = %.2g", worst)
}

// TestCorpusPredict runs `trnn predict` on the corpus models that take x
// [batch, time, F] (or time-major) and perhaps lengths, and give one row
// per sequence: the rows of the committed batch, each cut to its length,
// must give PyTorch's outputs for the padded batch (the corpus pads with
// zeros and its longest row fills the time axis, so the two agree).
func TestCorpusPredict(t *testing.T) {
	var report []string
	failed, ran := 0, 0
	for _, c := range readCorpus(t) {
		sess, err := trnn.Load(c.model)
		if err != nil {
			t.Fatal(err)
		}
		x, lengths, timeMajor, ok := predictable(t, sess, c)
		if !ok {
			continue
		}
		ran++
		status := corpusPredict(t, c, x, lengths, timeMajor)
		if !strings.HasPrefix(status, "ok") {
			failed++
		}
		report = append(report, fmt.Sprintf("%-24s %s", c.name, status))
	}
	t.Logf("trnn predict on %d corpus models:\n%s", ran, strings.Join(report, "\n"))
	if ran < 10 {
		t.Errorf("trnn predict ran on %d corpus models, want at least 10", ran)
	}
	if failed > 0 {
		t.Errorf("%d corpus models fail through trnn predict:\n%s", failed, strings.Join(report, "\n"))
	}
}

// predictable returns the model's x and lengths inputs when it is one
// predict runs: a float input of rank 3, at most one integer input of rank
// 1 and no other, and an output [batch, K] it reads (probs, or the only
// output).
func predictable(t *testing.T, sess *trnn.Session, c corpusSet) (x, lengths *graph.Tensor, timeMajor, ok bool) {
	for _, f := range c.inputs {
		v, _, err := export.ReadTensorFile(f)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case v.DType == graph.Float32 && len(v.Shape) == 3 && x == nil:
			x = v
		case (v.DType == graph.Int64 || v.DType == graph.Int32) && len(v.Shape) == 1 && lengths == nil:
			lengths = v
		default:
			return nil, nil, false, false
		}
	}
	out := c.order[0]
	if _, hasProbs := c.want["probs"]; hasProbs {
		out = "probs"
	} else if len(c.order) > 1 {
		return nil, nil, false, false
	}
	if x == nil || len(c.want[out].Shape) != 2 {
		return nil, nil, false, false
	}
	in := sess.Inputs()[0]
	timeMajor = in.Shape[0].Sym == "time"
	return x, lengths, timeMajor, true
}

// corpusPredict writes the batch's rows as an NPZ file, runs trnn predict
// and compares its CSV with PyTorch's output.
func corpusPredict(t *testing.T, c corpusSet, x, lengths *graph.Tensor, timeMajor bool) string {
	B, T, F := x.Shape[0], x.Shape[1], x.Shape[2]
	if timeMajor {
		B, T = T, B
	}
	want := c.want["probs"]
	if want == nil {
		want = c.want[c.order[0]]
	}
	K := want.Shape[1]
	d := &data.Dataset{Source: "x.npz", F: F, K: K}
	for b := range B {
		L := T
		switch {
		case lengths == nil:
		case lengths.DType == graph.Int64:
			L = int(lengths.I64[b])
		default:
			L = int(lengths.I32[b])
		}
		seq := make([]float32, L*F)
		for s := range L {
			at := (b*T + s) * F
			if timeMajor {
				at = (s*B + b) * F
			}
			copy(seq[s*F:(s+1)*F], x.F32[at:at+F])
		}
		d.X = append(d.X, seq)
		d.Y = append(d.Y, make([]float32, K)...)
	}
	dir := t.TempDir()
	npz, csvPath := filepath.Join(dir, "x.npz"), filepath.Join(dir, "pred.csv")
	if err := data.WriteNPZ(npz, d); err != nil {
		t.Fatal(err)
	}
	if status, _, stderr := trnnCmd(t, "predict", c.model, "--data", npz, "-o", csvPath); status != 0 {
		return fmt.Sprintf("FAIL status %d: %s", status, strings.TrimSpace(stderr))
	}
	rows := readCSV(t, csvPath)
	if len(rows) != B+1 || len(rows[0]) != 1+K {
		return fmt.Sprintf("FAIL %d rows of %d columns, want %d of %d", len(rows)-1, len(rows[0]), B, 1+K)
	}
	worst := 0.0
	for b, row := range rows[1:] {
		for k := range K {
			p, err := strconv.ParseFloat(row[1+k], 64)
			if err != nil {
				return "FAIL " + err.Error()
			}
			worst = max(worst, math.Abs(p-float64(want.F32[b*K+k])))
		}
	}
	if worst > corpusTol {
		return fmt.Sprintf("FAIL max |Δ| = %.3g", worst)
	}
	return fmt.Sprintf("ok   max |Δ| = %.2g", worst)
}
