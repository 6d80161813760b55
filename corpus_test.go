package trnn_test

// The corpus: sequence models exported by torch.onnx.export (and two
// control-flow models built as converters emit them), written with
// PyTorch's outputs by testdata/python/make_corpus.py in the layout of
// ONNX's test data. Every model must load and reproduce PyTorch's outputs.

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
)

// corpusTol is the largest difference from PyTorch's float outputs
// accepted; integer outputs must be equal.
const corpusTol = 1e-5

// corpusMin is the number of models the corpus must hold.
const corpusMin = 12

// corpusModel is one model of the corpus with its test data.
type corpusModel struct {
	name, path string
	inputs     map[string]*graph.Tensor
	want       []namedTensor // in the graph's output order
}

type namedTensor struct {
	name string
	t    *graph.Tensor
}

// loadCorpus reads every model's test data (not the models themselves,
// whose loading is what the tests check).
func loadCorpus(t testing.TB) []corpusModel {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("testdata", "corpus", "*", "model.onnx"))
	if err != nil || len(dirs) < corpusMin {
		t.Fatalf("the corpus holds %d models, want at least %d (testdata/python/make_corpus.py writes them)", len(dirs), corpusMin)
	}
	var models []corpusModel
	for _, path := range dirs {
		dir := filepath.Dir(path)
		m := corpusModel{name: filepath.Base(dir), path: path, inputs: map[string]*graph.Tensor{}}
		set := filepath.Join(dir, "test_data_set_0")
		for _, f := range numberedFiles(t, set, "input") {
			x, name, err := export.ReadTensorFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m.inputs[name] = x
		}
		for _, f := range numberedFiles(t, set, "output") {
			y, name, err := export.ReadTensorFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m.want = append(m.want, namedTensor{name, y})
		}
		models = append(models, m)
	}
	return models
}

// numberedFiles lists prefix_0.pb, prefix_1.pb, ... in numeric order.
func numberedFiles(t testing.TB, dir, prefix string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, prefix+"_*.pb"))
	num := func(f string) int {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), prefix+"_"), ".pb"))
		if err != nil {
			t.Fatalf("unexpected file %s", f)
		}
		return n
	}
	slices.SortFunc(files, func(a, b string) int { return num(a) - num(b) })
	if len(files) == 0 {
		t.Fatalf("%s: no %s_*.pb files", dir, prefix)
	}
	return files
}

// corpusDiff compares got with want: the largest difference of a float
// output, or an error for a missing output, another type or shape, or
// unequal integers.
func corpusDiff(got map[string]*graph.Tensor, want []namedTensor) (float64, error) {
	worst := 0.0
	for _, w := range want {
		g := got[w.name]
		if g == nil {
			return 0, fmt.Errorf("output %q is missing", w.name)
		}
		if g.DType != w.t.DType || !slices.Equal(g.Shape, w.t.Shape) {
			return 0, fmt.Errorf("output %q is %v %s, PyTorch's is %v %s", w.name, g.DType, graph.FormatShape(g.Shape), w.t.DType, graph.FormatShape(w.t.Shape))
		}
		for i := range w.t.Len() {
			switch w.t.DType {
			case graph.Float32:
				worst = max(worst, math.Abs(float64(g.F32[i])-float64(w.t.F32[i])))
				if math.IsNaN(float64(g.F32[i])) != math.IsNaN(float64(w.t.F32[i])) {
					return 0, fmt.Errorf("output %q: element %d is %v, PyTorch's is %v", w.name, i, g.F32[i], w.t.F32[i])
				}
			case graph.Int64:
				if g.I64[i] != w.t.I64[i] {
					return 0, fmt.Errorf("output %q: element %d is %d, PyTorch's is %d", w.name, i, g.I64[i], w.t.I64[i])
				}
			default:
				return 0, fmt.Errorf("output %q: unexpected element type %v", w.name, w.t.DType)
			}
		}
	}
	return worst, nil
}

// TestCorpus runs every corpus model through Session.Run on its committed
// inputs and compares with PyTorch's outputs. It lists each model's status
// and fails on any that does not load, run or match.
func TestCorpus(t *testing.T) {
	var report []string
	failed := 0
	for _, m := range loadCorpus(t) {
		status := corpusRun(m)
		if !strings.HasPrefix(status, "ok") {
			failed++
		}
		report = append(report, fmt.Sprintf("%-24s %s", m.name, status))
	}
	t.Logf("corpus (Session.Run against PyTorch, tolerance %g):\n%s", corpusTol, strings.Join(report, "\n"))
	if failed > 0 {
		t.Errorf("%d corpus models do not match PyTorch:\n%s", failed, strings.Join(report, "\n"))
	}
}

// corpusRun loads and runs one model, and describes the outcome.
func corpusRun(m corpusModel) string {
	s, err := trnn.Load(m.path)
	if err != nil {
		return "FAIL load: " + err.Error()
	}
	got, err := s.Run(m.inputs)
	if err != nil {
		return "FAIL run: " + err.Error()
	}
	diff, err := corpusDiff(got, m.want)
	switch {
	case err != nil:
		return "FAIL " + err.Error()
	case diff > corpusTol:
		return fmt.Sprintf("FAIL max |Δ| = %.3g, over %g", diff, corpusTol)
	}
	return fmt.Sprintf("ok   max |Δ| = %.2g", diff)
}

// TestCorpusScript checks that the corpus is what the script writes: every
// model it lists is committed, and nothing else is.
func TestCorpusScript(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "python", "make_corpus.py"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range loadCorpus(t) {
		if !strings.Contains(string(b), strconv.Quote(m.name)) {
			t.Errorf("testdata/corpus/%s is not made by make_corpus.py", m.name)
		}
	}
}
