package runtime

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/loss"
	"github.com/trnn/trnn/runtime/interp"
)

// writeTestSpec writes runSpec with extra training fields and its data
// (80 sequences) into a new folder and returns the spec's path.
func writeTestSpec(t *testing.T, training string) string {
	t.Helper()
	spec := writeRunSpec(t)
	src := strings.Replace(runSpec, "validation: {split: 0.25}", training, 1)
	if err := os.WriteFile(spec, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return spec
}

// loadRun loads the data of the spec file as Train does.
func loadRun(t *testing.T, spec string) *run {
	t.Helper()
	s, err := compiler.ParseFile(spec)
	if err != nil {
		t.Fatal(err)
	}
	r := &run{spec: s, trainFile: s.Path(s.Data.Train), testFile: s.Path(s.Training.Test.File)}
	if err := r.loadData(); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestTestSplitIsHeldOut: the test split is disjoint from training and
// validation, together they cover the file, it is the same on every load,
// and it does not depend on the validation split; validation.split stays a
// fraction of the whole file.
func TestTestSplitIsHeldOut(t *testing.T) {
	r := loadRun(t, writeTestSpec(t, "validation: {split: 0.25}, test: {split: 0.2}"))
	seen := map[string]string{}
	for _, part := range []struct {
		name string
		d    *data.Dataset
	}{{"train", r.train}, {"val", r.val}, {"test", r.test}} {
		for i := range part.d.N() {
			id := part.d.ID(i)
			if prev, ok := seen[id]; ok {
				t.Errorf("sequence %s is in %s and %s", id, prev, part.name)
			}
			seen[id] = part.name
		}
	}
	if len(seen) != 80 || r.test.N() != 16 || r.val.N() != 20 || r.train.N() != 44 {
		t.Errorf("%d sequences: train %d, val %d, test %d; want 44, 20, 16", len(seen), r.train.N(), r.val.N(), r.test.N())
	}
	again := loadRun(t, writeTestSpec(t, "validation: {split: 0.25}, test: {split: 0.2}"))
	other := loadRun(t, writeTestSpec(t, "validation: {split: 0.1}, test: {split: 0.2}"))
	if !slices.Equal(again.test.IDs, r.test.IDs) || !slices.Equal(other.test.IDs, r.test.IDs) {
		t.Errorf("test sets %v, %v and %v differ", r.test.IDs, again.test.IDs, other.test.IDs)
	}
	// Stratified: the test set keeps the file's share of positives.
	if p := r.test.Positives()[0]; p < 5 || p > 8 {
		t.Errorf("%d positives among 16 test sequences; the file has 40%%", p)
	}
}

// TestTrainEvaluatesTheTestSet: at the end of training, model.onnx (the
// best epoch) is evaluated on the test set; test.json holds the metrics
// `trnn eval` would print, with seeded bootstrap intervals, and a resumed
// run writes the same test.json as a straight one.
func TestTrainEvaluatesTheTestSet(t *testing.T) {
	spec := writeTestSpec(t, "validation: {split: 0.25}, test: {split: 0.2, bootstrap: 50}")
	dir := filepath.Join(t.TempDir(), "run")
	var rec recorder
	res, err := Train(context.Background(), Config{SpecFile: spec, Out: dir, Progress: &rec})
	if err != nil {
		t.Fatal(err)
	}
	if rec.starts[0].Test != 16 || rec.starts[0].Train != 44 || res.Test == nil {
		t.Fatalf("start %+v, test report %v", rec.starts[0], res.Test)
	}
	var got TestReport
	b, err := os.ReadFile(filepath.Join(dir, TestFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	// The metrics of model.onnx on the held-out sequences, computed here
	// by running the whole test set at once.
	r := loadRun(t, spec)
	probs, err := runExported(filepath.Join(dir, ModelFile), r.test)
	if err != nil {
		t.Fatal(err)
	}
	met, err := loss.Evaluate(probs, r.test.Y, r.test.N(), 1, loss.EvalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	auroc, _ := met.Get("auroc")
	if res.Best == nil || got.Epoch != res.Best.Epoch || got.Sequences != 16 || got.Split != 0.2 ||
		res.Test.Metrics["auroc"].V != auroc || !strings.Contains(string(b), `"auroc": `) {
		t.Errorf("test.json: epoch %d (best %+v), %d sequences, split %v, auroc %v; want auroc %v\n%s",
			got.Epoch, res.Best, got.Sequences, got.Split, res.Test.Metrics["auroc"], auroc, b)
	}
	bs := res.Test.Bootstrap
	if bs == nil || bs.Replicates != 50 || bs.Seed != 5 || bs.Intervals["auroc"].Defined != 50 || !strings.Contains(string(b), `"intervals"`) {
		t.Errorf("bootstrap %+v", bs)
	}

	// One epoch, then resumed to the spec's three: the same test set and
	// model, so the same report.
	resumed := filepath.Join(t.TempDir(), "resumed")
	if _, err := Train(context.Background(), Config{SpecFile: spec, Out: resumed, Epochs: 1, EpochsSet: true}); err != nil {
		t.Fatal(err)
	}
	res2, err := Train(context.Background(), Config{Resume: resumed, Epochs: 3, EpochsSet: true})
	if err != nil {
		t.Fatal(err)
	}
	a, b2 := *res.Test, *res2.Test
	a.Model, b2.Model = "", ""
	if !reflect.DeepEqual(a, b2) {
		t.Errorf("resumed run's test report differs:\n%+v\n%+v", a, b2)
	}
}

// TestTestFileRules: a test file is read as a test set, may not be the
// training data under another name, and a resumed run refuses one that
// changed. Without a test set, no test.json is written.
func TestTestFileRules(t *testing.T) {
	spec := writeTestSpec(t, "validation: {split: 0.25}, test: {file: held.npz, bootstrap: 0}")
	folder := filepath.Dir(spec)
	held := data.Synth(data.SynthOptions{N: 30, MinLen: 2, MaxLen: 10, F: 3, K: 1, Seed: 9, PosRate: 0.4})
	if err := data.WriteNPZ(filepath.Join(folder, "held.npz"), held); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Train(context.Background(), Config{SpecFile: spec, Out: dir, Epochs: 1, EpochsSet: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Test == nil || res.Test.Sequences != 30 || res.Test.Bootstrap != nil || res.Test.Split != 0 {
		t.Errorf("test report %+v", res.Test)
	}
	c, err := ReadCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil || filepath.Base(c.Header.TestFile) != "held.npz" || c.Header.TestData == nil {
		t.Fatalf("checkpoint: test file %q, fingerprint %v, %v", c.Header.TestFile, c.Header.TestData, err)
	}
	held.Y[0] = 1 - held.Y[0]
	if err := data.WriteNPZ(filepath.Join(folder, "held.npz"), held); err != nil {
		t.Fatal(err)
	}
	if _, err := Train(context.Background(), Config{Resume: dir, Epochs: 2, EpochsSet: true}); err == nil ||
		!strings.Contains(err.Error(), "the test data changed since the run started") {
		t.Errorf("resuming on a changed test file: %v", err)
	}

	// The training file under another name.
	spec2 := writeTestSpec(t, "test: {file: same.npz}")
	if err := os.Link(filepath.Join(filepath.Dir(spec2), "data.npz"), filepath.Join(filepath.Dir(spec2), "same.npz")); err != nil {
		t.Fatal(err)
	}
	_, err = Train(context.Background(), Config{SpecFile: spec2, Out: filepath.Join(t.TempDir(), "r")})
	if err == nil || !strings.Contains(err.Error(), "the test file is also the training data") {
		t.Errorf("test file linked to the training file: %v", err)
	}

	plain := filepath.Join(t.TempDir(), "plain")
	res, err = Train(context.Background(), Config{SpecFile: writeRunSpec(t), Out: plain, Epochs: 1, EpochsSet: true})
	if err != nil || res.Test != nil {
		t.Fatalf("no test set: %v, %v", res.Test, err)
	}
	if _, err := os.Stat(filepath.Join(plain, TestFile)); err == nil {
		t.Error("test.json written without a test set")
	}
}

// runExported runs the ONNX model at path on all of d as one padded batch
// and returns probs [N·K]: an oracle for predictModelFile's batching.
func runExported(path string, d *data.Dataset) ([]float32, error) {
	g, err := export.ReadONNX(path)
	if err != nil {
		return nil, err
	}
	ip, err := interp.New(g)
	if err != nil {
		return nil, err
	}
	idx := make([]int, d.N())
	for i := range idx {
		idx[i] = i
	}
	x, lengths, T := d.Padded(idx)
	out, err := ip.Run(map[string]*graph.Tensor{
		graph.ValueX:       graph.FromF32(x, d.N(), T, d.F),
		graph.ValueLengths: {DType: graph.Int32, Shape: []int{d.N()}, I32: lengths},
	})
	if err != nil {
		return nil, err
	}
	return out[graph.ValueProbs].F32, nil
}
