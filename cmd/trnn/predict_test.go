package main

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/runtime"
)

// defaultExport writes, into dir, the model.onnx trnn exports by default
// (no step_probs) for a quickstart-like spec with seeded weights: 3
// features, normalised, an LSTM of 16 units, 1 label. It returns the
// model's path and the data columns of its spec.
func defaultExport(t *testing.T, dir string) (string, data.Columns) {
	t.Helper()
	spec := compiler.DefaultSpec()
	spec.Name = "linear"
	spec.Inputs.Features = 3
	spec.Layers = []compiler.Layer{{Kind: compiler.LayerLSTM, Units: 16}}
	spec.Outputs.Labels = 1
	prog, err := compiler.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := prog.Initialize(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "model.onnx")
	if err := runtime.WriteModelFile(path, prog, export.Options{}); err != nil {
		t.Fatal(err)
	}
	s := prog.Spec
	return path, data.Columns{ID: "id", Step: "step", Features: s.Inputs.FeatureNames, Labels: s.Outputs.LabelNames}
}

// randomData makes sequences of the given lengths with F normal features
// and one label.
func randomData(seed uint64, F int, lengths ...int) *data.Dataset {
	rng := rand.New(rand.NewPCG(seed, 1))
	d := &data.Dataset{F: F, K: 1}
	for i, L := range lengths {
		x := make([]float32, L*F)
		for j := range x {
			x[j] = float32(rng.NormFloat64())
		}
		d.X = append(d.X, x)
		d.Y = append(d.Y, float32(i%2))
	}
	return d
}

// TestPredictPerStepIsLinear: `predict --per-step` on a default export (no
// step_probs) ran every prefix of a sequence, padded together: T×T×F
// floats, 3.9 GB for 5000 steps. It now takes one pass, and allocates far
// less than T²·F floats; its rows are what the prefixes give.
func TestPredictPerStepIsLinear(t *testing.T) {
	dir := t.TempDir()
	model, _ := defaultExport(t, dir)
	const T, F = 5000, 3
	long := filepath.Join(dir, "long.npz")
	if err := data.WriteNPZ(long, randomData(1, F, T)); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "steps.csv")
	var before, after goruntime.MemStats
	goruntime.ReadMemStats(&before)
	status, stdout, stderr := trnnCmd(t, "predict", model, "--data", long, "--per-step", "-o", out)
	goruntime.ReadMemStats(&after)
	if status != 0 {
		t.Fatalf("predict --per-step: status %d\n%s%s", status, stdout, stderr)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	quadratic := uint64(T * T * F * 4)
	t.Logf("predict --per-step on %d steps allocated %d MiB; the prefixes padded together hold %d MiB", T, allocated>>20, quadratic>>20)
	if allocated > quadratic/32 {
		t.Fatalf("predict --per-step allocated %d MiB for one sequence of %d steps", allocated>>20, T)
	}
	if rows := readCSV(t, out); len(rows) != T+1 || rows[T][1] != strconv.Itoa(T) {
		t.Fatalf("%d rows, the last %v; want %d steps", len(rows)-1, rows[len(rows)-1], T)
	}

	// On short sequences, the rows are the old way's: Predict on every
	// prefix.
	d := randomData(2, F, 1, 17, 40, 3)
	short := filepath.Join(dir, "short.npz")
	if err := data.WriteNPZ(short, d); err != nil {
		t.Fatal(err)
	}
	if status, stdout, stderr := trnnCmd(t, "predict", model, "--data", short, "--per-step", "-o", out); status != 0 {
		t.Fatalf("predict --per-step: status %d\n%s%s", status, stdout, stderr)
	}
	sess, err := trnn.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	var prefixes [][][]float32
	for i := range d.N() {
		s := sequence(d, i)
		for n := 1; n <= len(s); n++ {
			prefixes = append(prefixes, s[:n])
		}
	}
	want, err := sess.Predict(prefixes)
	if err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, out)[1:]
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	worst := 0.0
	for r, row := range rows {
		p, err := strconv.ParseFloat(row[2], 32)
		if err != nil {
			t.Fatal(err)
		}
		worst = math.Max(worst, math.Abs(p-float64(want[r][0])))
	}
	if worst > 1e-6 {
		t.Fatalf("predict --per-step differs from Predict on each prefix by %g", worst)
	}
	t.Logf("predict --per-step vs Predict on each prefix: max |Δ| = %.2g", worst)
}

// TestPredictOutputIsInputRefused: `predict --data in.csv -o in.csv`
// replaced the data with predictions. An output that is an input of the
// command, by its own name, a symbolic link or a hard link, is refused
// before anything is read or written.
func TestPredictOutputIsInputRefused(t *testing.T) {
	dir := t.TempDir()
	model, cols := defaultExport(t, dir)
	in := filepath.Join(dir, "in.csv")
	if err := data.WriteCSV(in, randomData(3, 3, 4, 2, 6), cols); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	sym, hard, modelLink := filepath.Join(dir, "sym.csv"), filepath.Join(dir, "hard.csv"), filepath.Join(dir, "model-link.onnx")
	if err := os.Symlink(in, sym); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(in, hard); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(model, modelLink); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ out, want string }{
		{in, "same file as --data"},
		{sym, "same file as --data"},
		{hard, "same file as --data"},
		{filepath.Join(dir, ".", "in.csv"), "same file as --data"},
		{modelLink, "same file as the model"},
	} {
		for _, perStep := range []bool{false, true} {
			args := []string{"predict", model, "--data", in, "-o", c.out}
			if perStep {
				args = append(args, "--per-step")
			}
			status, _, stderr := trnnCmd(t, args...)
			if status != 1 || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("-o %s: status %d, stderr %q; want a refusal saying %q", c.out, status, stderr, c.want)
			}
		}
	}
	if after, _ := os.ReadFile(in); string(after) != string(before) {
		t.Fatal("the data file changed")
	}
	if status, _, stderr := trnnCmd(t, "predict", model, "--data", in, "-o", filepath.Join(dir, "pred.csv")); status != 0 {
		t.Fatalf("predict into another file: %s", stderr)
	}
}

// TestPredictRefusesNonFiniteOutput: `predict` wrote NaN rows for a model
// that eval refuses. A model whose output is not finite is an error naming
// the sequences by id, and no file is written.
func TestPredictRefusesNonFiniteOutput(t *testing.T) {
	dir := t.TempDir()
	// lstm_classifier with the input weights of feature 0 at +Inf: a step
	// whose feature 0 is 0 gives Inf·0 = NaN, other values stay finite.
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "onnx", "lstm_classifier.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, init := range m.Graph.Initializer {
		if init.GetName() == "W" {
			for r := 0; r < len(init.RawData)/20; r++ {
				binary.LittleEndian.PutUint32(init.RawData[r*20:], math.Float32bits(float32(math.Inf(1))))
			}
		}
	}
	if b, err = proto.Marshal(&m); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "nan.onnx")
	if err := os.WriteFile(model, b, 0o644); err != nil {
		t.Fatal(err)
	}

	d := &data.Dataset{F: 5, K: 3, IDs: []string{"a", "b", "c", "d"}, Y: make([]float32, 12)}
	step := func(x0 float32) []float32 { return []float32{x0, 0.5, -0.5, 1, 0} }
	for _, seq := range [][][]float32{{step(1), step(2)}, {step(1), step(0), step(1)}, {step(0)}, {step(3)}} {
		var x []float32
		for _, s := range seq {
			x = append(x, s...)
		}
		d.X = append(d.X, x)
	}
	in := filepath.Join(dir, "in.csv")
	cols := data.Columns{ID: "id", Step: "step", Features: compiler.DefaultFeatureNames(5), Labels: compiler.DefaultLabelNames(3)}
	if err := data.WriteCSV(in, d, cols); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "pred.csv")
	for _, c := range []struct {
		perStep bool
		want    string
	}{
		{false, model + ": the model's output is not finite (NaN or ±Inf) for the sequences with ids b, c of " + in + "\n"},
		{true, model + ": the model's output is not finite (NaN or ±Inf) for the sequences with ids b (from step 1), c (from step 0) of " + in + "\n"},
	} {
		args := []string{"predict", model, "--data", in, "-o", out}
		if c.perStep {
			args = append(args, "--per-step")
		}
		status, _, stderr := trnnCmd(t, args...)
		if status != 1 || stderr != c.want {
			t.Errorf("per-step %v: status %d, stderr %q; want %q", c.perStep, status, stderr, c.want)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("per-step %v: %s was written", c.perStep, out)
		}
	}
}
