package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/protobuf/proto"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/export/onnxpb"
	"github.com/trnn/trnn/runtime"
)

// flagTests names, for every flag of every command, a test that fails when
// the flag is ignored: it checks the flag's effect, not only that it
// parses. TestEveryFlagHasATest keeps the list complete.
var flagTests = map[string]string{
	"check --resolved": "TestCheckResolved",
	"check --dot":      "TestCheckDot",

	"train --output":            "TestTrainFlagOutput",
	"train --data":              "TestTrainFlagsData",
	"train --validation":        "TestTrainFlagsData",
	"train --epochs":            "TestTrainFlagsPlan",
	"train --seed":              "TestTrainFlagsPlan",
	"train --batch-size":        "TestTrainFlagsPlan",
	"train --learning-rate":     "TestTrainFlagsPlan",
	"train --init":              "TestTrainInitFromEveryKind",
	"train --resume":            "TestTrainKilledAndResumed",
	"train --quiet":             "TestTrainFlagOutput",
	"train --force":             "TestOutputsWithoutCheckpointNeedForce",
	"train --allow-data-change": "TestResumeRefusesChangedData",
	"train --cpuprofile":        "TestTrainCPUProfile",

	"eval --data":      "TestEvalMatchesScikitLearn",
	"eval --json":      "TestEvalMatchesScikitLearn",
	"eval --threshold": "TestEvalMatchesScikitLearn",
	"eval --plots":     "TestEvalPlotsFlag",
	"eval --bootstrap": "TestEvalBootstrap",
	"eval --seed":      "TestEvalBootstrap",
	"eval --columns":   "TestColumnsFlag",

	"predict --data":     "TestTrainEvalPredict",
	"predict --output":   "TestOutputFlagsMakeFolders",
	"predict --per-step": "TestTrainEvalPredict",

	"predict --columns":     "TestColumnsFlag",
	"predict --with-labels": "TestPredictUnlabelled",

	"export --output":     "TestExportFlags",
	"export --opset":      "TestExportFlags",
	"export --step-probs": "TestExportFlags",
	"export --last":       "TestExportFlags",
	"export --stateful":   "TestExportStateful",
	"export --triton":     "TestExportTriton",
	"export --name":       "TestExportTriton",
	"export --max-batch":  "TestExportTriton",

	"run --input":      "TestRunNodeTests",
	"run --output-dir": "TestRunNodeTests",

	"synth --output":      "TestSynthFlags",
	"synth --n":           "TestSynthFlags",
	"synth --min-len":     "TestSynthFlags",
	"synth --max-len":     "TestSynthFlags",
	"synth --features":    "TestSynthFlags",
	"synth --labels":      "TestSynthFlags",
	"synth --seed":        "TestSynthFlags",
	"synth --pos-rate":    "TestSynthFlags",
	"synth --task":        "TestSynthTask",
	"synth --gaps":        "TestSynthGapFlags",
	"synth --categorical": "TestSynthGapFlags",
	"synth --irregular":   "TestSynthGapFlags",
	"synth --mimic3":      "TestSynthMimic3Flag",

	"serve --addr":          "TestServeBatchFlags",
	"serve --max-batch":     "TestServeBatchFlags",
	"serve --max-delay":     "TestServeBatchFlags",
	"serve --log-format":    "TestServeBatchFlags",
	"serve --log-level":     "TestServeBatchFlags",
	"serve --max-body":      "TestServeLimitFlags",
	"serve --max-rows":      "TestServeLimitFlags",
	"serve --max-in-flight": "TestServeLimitFlags",
	"serve --drain-timeout": "TestServeDrainTimeout",

	"bench infer --data":       "TestBenchInfer",
	"bench infer --batch":      "TestBenchInfer",
	"bench infer --repeat":     "TestBenchInfer",
	"bench infer --json":       "TestBenchInfer",
	"bench infer --via":        "TestBenchInfer",
	"bench infer --cpuprofile": "TestBenchInferCPUProfile",
}

// TestEveryFlagHasATest lists the flags of every command and subcommand
// (as `trnn CMD --help` does) and fails for a flag that flagTests does not
// name, or names a test this package does not have.
func TestEveryFlagHasATest(t *testing.T) {
	defined := testFunctions(t)
	root := &cobra.Command{Use: "trnn"}
	for _, mk := range subcommands {
		root.AddCommand(mk())
	}
	var all []*cobra.Command
	for cmds := root.Commands(); len(cmds) > 0; cmds = cmds[1:] {
		all = append(all, cmds[0])
		cmds = append(cmds, cmds[0].Commands()...)
	}
	for _, c := range all {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Name == "help" {
				return
			}
			key := strings.TrimPrefix(c.CommandPath(), "trnn ") + " --" + f.Name
			test, ok := flagTests[key]
			switch {
			case !ok:
				t.Errorf("trnn %s has no test of its effect: add one and name it in flagTests", key)
			case !defined[test]:
				t.Errorf("trnn %s: flagTests names %s, which this package does not define", key, test)
			}
		})
	}
}

// testFunctions are the names of the Test functions of this package's
// test files.
func testFunctions(t *testing.T) map[string]bool {
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^func (Test\w+)\(`)
	out := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			out[m[1]] = true
		}
	}
	return out
}

// trainOK runs trnn train and fails the test unless it succeeds.
func trainOK(t *testing.T, args ...string) string {
	t.Helper()
	status, out, errs := trnnCmd(t, append([]string{"train"}, args...)...)
	if status != 0 {
		t.Fatalf("trnn train %s: status %d\n%s%s", strings.Join(args, " "), status, out, errs)
	}
	return out
}

// runSpec reads the resolved spec a run's checkpoint holds.
func runSpec(t *testing.T, dir string) *compiler.Spec {
	t.Helper()
	c, err := runtime.ReadCheckpoint(filepath.Join(dir, runtime.CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	s, err := compiler.Parse("checkpoint spec", []byte(c.Header.Spec))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func differentWeights(t *testing.T, what string, a, b map[string][]float32) {
	t.Helper()
	for name, va := range a {
		if !slices.Equal(va, b[name]) {
			return
		}
	}
	t.Fatalf("%s: the weights are the same as without it", what)
}

// TestTrainFlagsPlan: --epochs, --seed, --batch-size and --learning-rate
// replace the spec's values (the run's resolved spec says so) and change
// what is trained.
func TestTrainFlagsPlan(t *testing.T) {
	spec, _ := setup(t, 60, 2, "train.npz")
	base := filepath.Join(t.TempDir(), "base")
	trainOK(t, spec, "-o", base, "-q")
	w := weights(t, base)
	for _, c := range []struct {
		flag, value string
		check       func(s *compiler.Spec) bool
	}{
		{"--seed", "9", func(s *compiler.Spec) bool { return s.Training.Seed == 9 }},
		{"--batch-size", "7", func(s *compiler.Spec) bool { return s.Training.BatchSize == 7 }},
		{"--learning-rate", "0.05", func(s *compiler.Spec) bool { return s.Training.LearningRate == 0.05 }},
	} {
		dir := filepath.Join(t.TempDir(), "run")
		trainOK(t, spec, "-o", dir, "-q", c.flag, c.value)
		if !c.check(runSpec(t, dir)) {
			t.Errorf("%s %s: the run's spec does not hold it", c.flag, c.value)
		}
		differentWeights(t, c.flag, w, weights(t, dir))
	}
	one := filepath.Join(t.TempDir(), "one")
	trainOK(t, spec, "-o", one, "-q", "--epochs", "1")
	if rows := readCSV(t, filepath.Join(one, runtime.MetricsFile)); len(rows) != 2 {
		t.Errorf("--epochs 1: metrics.csv has %d epochs", len(rows)-1)
	}
	// At learning rate 0 nothing moves: one epoch or two, the same weights.
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	trainOK(t, spec, "-o", a, "-q", "--learning-rate", "0", "--epochs", "1")
	trainOK(t, spec, "-o", b, "-q", "--learning-rate", "0", "--epochs", "2")
	sameWeights(t, "--learning-rate 0 after 1 and 2 epochs", weights(t, a), weights(t, b))
}

// TestTrainFlagsData: --data trains on another file than the spec's, and
// --validation validates on a file instead of a split of the training data.
func TestTrainFlagsData(t *testing.T) {
	spec, _ := setup(t, 60, 1, "train.npz")
	folder := filepath.Dir(spec)
	other := data.Synth(data.SynthOptions{N: 44, MinLen: 2, MaxLen: 9, F: 3, K: 1, Seed: 8, PosRate: 0.4})
	val := data.Synth(data.SynthOptions{N: 13, MinLen: 2, MaxLen: 9, F: 3, K: 1, Seed: 9, PosRate: 0.4})
	otherFile, valFile := filepath.Join(folder, "other.npz"), filepath.Join(folder, "val.npz")
	if err := data.WriteNPZ(otherFile, other); err != nil {
		t.Fatal(err)
	}
	if err := data.WriteNPZ(valFile, val); err != nil {
		t.Fatal(err)
	}
	out := trainOK(t, spec, "-o", filepath.Join(t.TempDir(), "d"), "--data", otherFile)
	if !strings.Contains(out, "training e2e: 32 sequences, validating on 12") { // 44, split by class
		t.Errorf("--data %s: %s", otherFile, out)
	}
	out = trainOK(t, spec, "-o", filepath.Join(t.TempDir(), "v"), "--validation", valFile)
	if !strings.Contains(out, "training e2e: 60 sequences, validating on 13") {
		t.Errorf("--validation %s: %s", valFile, out)
	}
}

// TestTrainFlagOutput: -o is where the run goes (runs/NAME is left alone),
// and -q prints nothing.
func TestTrainFlagOutput(t *testing.T) {
	spec, _ := setup(t, 40, 1, "train.npz")
	t.Chdir(t.TempDir())
	out := trainOK(t, spec, "-o", "elsewhere/run")
	if _, err := os.Stat(filepath.Join("elsewhere", "run", runtime.ModelFile)); err != nil {
		t.Errorf("-o elsewhere/run: %v", err)
	}
	if _, err := os.Stat("runs"); err == nil {
		t.Error("-o: runs/ was written too")
	}
	if out == "" {
		t.Error("without -q, train printed nothing")
	}
	if out := trainOK(t, spec, "-o", "quiet", "-q"); out != "" {
		t.Errorf("-q printed %q", out)
	}
}

// TestTrainInitFromEveryKind: --init takes a model file, the checkpoint of
// a run (its best weights) or the run directory (its model.onnx), and all
// three start from the same weights.
func TestTrainInitFromEveryKind(t *testing.T) {
	spec, _ := setup(t, 60, 2, "train.npz")
	first := filepath.Join(t.TempDir(), "first")
	trainOK(t, spec, "-o", first, "-q")
	var runs []map[string][]float32
	for _, from := range []string{filepath.Join(first, runtime.ModelFile), filepath.Join(first, runtime.CheckpointFile), first} {
		dir := filepath.Join(t.TempDir(), "run")
		trainOK(t, spec, "-o", dir, "-q", "--init", from, "--learning-rate", "0", "--epochs", "1")
		runs = append(runs, weights(t, dir))
	}
	sameWeights(t, "--init checkpoint vs model.onnx", runs[0], runs[1])
	sameWeights(t, "--init run directory vs model.onnx", runs[0], runs[2])
	base := filepath.Join(t.TempDir(), "base")
	trainOK(t, spec, "-o", base, "-q", "--learning-rate", "0", "--epochs", "1")
	differentWeights(t, "--init", weights(t, base), runs[0])
}

// TestOutputFlagsMakeFolders: -o creates the folders above the file it
// names, and a folder given as -o is a bad command line that says so.
func TestOutputFlagsMakeFolders(t *testing.T) {
	spec, d := setup(t, 30, 1, "train.npz")
	run := filepath.Join(t.TempDir(), "run")
	trainOK(t, spec, "-o", run, "-q")
	dataFile := filepath.Join(filepath.Dir(spec), "train.npz")
	out := t.TempDir()
	for _, args := range [][]string{
		{"predict", run, "--data", dataFile, "-o", filepath.Join(out, "a", "b", "p.csv")},
		{"export", run, "-o", filepath.Join(out, "c", "m.onnx")},
		{"synth", "-o", filepath.Join(out, "d", "e", "s.npz"), "--n", "5"},
	} {
		if status, _, errs := trnnCmd(t, args...); status != 0 {
			t.Fatalf("trnn %s: status %d, %s", strings.Join(args, " "), status, errs)
		}
		if _, err := os.Stat(args[len(args)-1]); args[0] != "synth" && err != nil {
			t.Errorf("trnn %s wrote nothing: %v", args[0], err)
		}
	}
	if rows := readCSV(t, filepath.Join(out, "a", "b", "p.csv")); len(rows) != d.N()+1 {
		t.Errorf("predict -o: %d rows", len(rows)-1)
	}
	if _, err := os.Stat(filepath.Join(out, "d", "e", "s.npz")); err != nil {
		t.Errorf("synth -o: %v", err)
	}
	for _, args := range [][]string{
		{"predict", run, "--data", dataFile, "-o", out},
		{"export", run, "-o", out + "/"},
		{"synth", "-o", out},
	} {
		status, _, errs := trnnCmd(t, args...)
		if status != 2 || !strings.Contains(errs, "is a folder; give a file name, such as") {
			t.Errorf("trnn %s: status %d, %q; want status 2 saying -o is a folder", strings.Join(args, " "), status, errs)
		}
	}
}

// TestExportFlags: -o writes the model; the best epoch's weights by
// default and the latest with --last; --opset sets the model's opset and
// --step-probs adds the per-step output.
func TestExportFlags(t *testing.T) {
	spec, _ := setup(t, 120, 8, "train.npz")
	run := filepath.Join(t.TempDir(), "run")
	trainOK(t, spec, "-o", run, "-q", "--learning-rate", "0.05")
	ckpt := filepath.Join(run, runtime.CheckpointFile)
	c, err := runtime.ReadCheckpoint(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	if c.Header.Best == nil || c.Header.Best.Epoch == c.Header.Epoch {
		t.Fatalf("the run's best epoch is its last (%+v): --last would change nothing", c.Header.Best)
	}
	exportModel := func(args ...string) *onnxpb.ModelProto {
		t.Helper()
		out := filepath.Join(t.TempDir(), "m.onnx")
		if status, _, errs := trnnCmd(t, append([]string{"export", ckpt, "-o", out}, args...)...); status != 0 {
			t.Fatalf("export %v: %s", args, errs)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var m onnxpb.ModelProto
		if err := proto.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return &m
	}
	headW := func(m *onnxpb.ModelProto) []float32 {
		b, _ := proto.Marshal(m)
		g, err := export.DecodeONNX("m.onnx", b)
		if err != nil {
			t.Fatal(err)
		}
		return g.Param("head.W").Tensor.F32
	}
	plain := exportModel()
	if !slices.Equal(headW(plain), c.Tensors["best/head.W"]) {
		t.Error("export: head.W is not the best epoch's")
	}
	if !slices.Equal(headW(exportModel("--last")), c.Tensors["param/head.W"]) {
		t.Error("export --last: head.W is not the latest epoch's")
	}
	if v := exportModel("--opset", "14").OpsetImport[0].GetVersion(); v != 14 {
		t.Errorf("export --opset 14 wrote opset %d", v)
	}
	if v := plain.OpsetImport[0].GetVersion(); v != 17 {
		t.Errorf("export wrote opset %d, want the spec's 17", v)
	}
	outputs := func(m *onnxpb.ModelProto) (names []string) {
		for _, o := range m.Graph.Output {
			names = append(names, o.GetName())
		}
		return names
	}
	if o := outputs(plain); slices.Contains(o, "step_probs") {
		t.Errorf("export wrote outputs %v", o)
	}
	if o := outputs(exportModel("--step-probs")); !slices.Contains(o, "step_probs") {
		t.Errorf("export --step-probs wrote outputs %v", o)
	}
}

// TestSynthFlags: each flag of synth shows in the data it writes.
func TestSynthFlags(t *testing.T) {
	dir := t.TempDir()
	write := func(args ...string) string {
		t.Helper()
		out := filepath.Join(dir, strconv.Itoa(len(args))+strings.Join(args, "")+".npz")
		if status, _, errs := trnnCmd(t, append([]string{"synth", "-o", out}, args...)...); status != 0 {
			t.Fatalf("synth %v: %s", args, errs)
		}
		return out
	}
	load := func(file string, F, K int) *data.Dataset {
		t.Helper()
		d, err := data.Load(file, data.Schema{Features: F, Labels: K})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := load(write("--n", "40", "--min-len", "3", "--max-len", "7", "--features", "5", "--labels", "2", "--pos-rate", "0.9"), 5, 2)
	if d.N() != 40 {
		t.Errorf("--n 40: %d sequences", d.N())
	}
	lo, hi := 1<<30, 0
	for i := range d.N() {
		lo, hi = min(lo, d.Len(i)), max(hi, d.Len(i))
	}
	if lo < 3 || hi > 7 || lo == hi {
		t.Errorf("--min-len 3 --max-len 7: lengths from %d to %d", lo, hi)
	}
	pos := 0
	for _, p := range d.Positives() {
		pos += p
	}
	if rate := float64(pos) / float64(d.N()*d.K); rate < 0.75 {
		t.Errorf("--pos-rate 0.9: %.2f positive", rate)
	}
	a, b := load(write("--n", "10", "--seed", "5"), 3, 1), load(write("--n", "10", "--seed", "6"), 3, 1)
	if slices.Equal(a.X[0], b.X[0]) {
		t.Error("--seed: seeds 5 and 6 wrote the same data")
	}
}

// TestResumeFromCheckpointFile: --resume takes the run directory or the
// checkpoint file in it.
func TestResumeFromCheckpointFile(t *testing.T) {
	spec, _ := setup(t, 40, 1, "train.npz")
	dir := filepath.Join(t.TempDir(), "run")
	trainOK(t, spec, "-o", dir, "-q")
	out := trainOK(t, "--resume", filepath.Join(dir, runtime.CheckpointFile), "--epochs", "2")
	if !strings.Contains(out, "resuming after epoch 1 of 2") || !strings.Contains(out, "epoch 2/2") {
		t.Fatalf("--resume CHECKPOINT: %s", out)
	}
}

// TestTrainPlateauSchedule: with training.lr_schedule the epoch lines and
// metrics.csv show the learning rate, its reductions are announced, and a
// run resumed after epoch 3 ends with the weights and model.onnx of one
// trained straight through, its schedule state carried in the checkpoint.
func TestTrainPlateauSchedule(t *testing.T) {
	spec, _ := setup(t, 80, 6, "train.npz")
	src, _ := os.ReadFile(spec)
	sched := strings.Replace(string(src), "  validation: {split: 0.25, monitor: auroc}\n",
		"  validation: {split: 0.25, monitor: auroc}\n  lr_schedule:\n    reduce_on_plateau: {factor: 0.5, patience: 0, min_delta: 1}\n", 1)
	if sched == string(src) {
		t.Fatal("the test spec changed: cannot add lr_schedule")
	}
	os.WriteFile(spec, []byte(sched), 0o644)
	straight := filepath.Join(t.TempDir(), "straight")
	out := trainOK(t, spec, "-o", straight)
	// No gain passes min_delta 1: the rate halves after every epoch.
	for _, want := range []string{"lr 0.01 ", "lr 0.005 ", "lr 0.0025 ", "reduce_on_plateau: val_auroc has not improved for 1 epoch(s); learning rate 0.005 → 0.0025"} {
		if !strings.Contains(out, want) {
			t.Errorf("train output lacks %q:\n%s", want, out)
		}
	}
	rows := readCSV(t, filepath.Join(straight, runtime.MetricsFile))
	lr := slices.Index(rows[0], "lr")
	if lr < 0 || rows[1][lr] != "0.01" || rows[6][lr] != "0.000625" {
		t.Fatalf("metrics.csv: %v", rows)
	}
	dir := filepath.Join(t.TempDir(), "resumed")
	trainOK(t, spec, "-o", dir, "-q", "--epochs", "3")
	trainOK(t, "--resume", dir, "--epochs", "6", "-q")
	sameWeights(t, "resumed vs straight, with a schedule", weights(t, straight), weights(t, dir))
	a, _ := os.ReadFile(filepath.Join(straight, runtime.ModelFile))
	b, _ := os.ReadFile(filepath.Join(dir, runtime.ModelFile))
	if !slices.Equal(a, b) {
		t.Fatal("model.onnx of the resumed run differs")
	}
}

// TestVersion: trnn version prints the version models are stamped with and
// the opsets; --version, cobra's, agrees.
func TestVersion(t *testing.T) {
	status, out, errs := trnnCmd(t, "version")
	if status != 0 || !strings.HasPrefix(out, "trnn "+version+" (go") || !strings.Contains(out, "ONNX: writes opsets 14 to 21 (default 17)") {
		t.Fatalf("trnn version: status %d\n%s%s", status, out, errs)
	}
	if status, out, _ := trnnCmd(t, "--version"); status != 0 || !strings.Contains(out, version) {
		t.Fatalf("trnn --version: status %d, %q", status, out)
	}
}
