package main

import (
	"bytes"
	"encoding/csv"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/ortcheck"
	"github.com/trnn/trnn/runtime"
)

// TestMain lets a test run the trnn command in a child process (to kill it
// mid-epoch): the child is this test binary with TRNN_RUN_MAIN set.
func TestMain(m *testing.M) {
	if os.Getenv("TRNN_RUN_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// trnnCmd runs the command line in this process.
func trnnCmd(t *testing.T, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	status = run(args, strings.NewReader(""), &out, &errb)
	return status, out.String(), errb.String()
}

const e2eSpec = `name: e2e
inputs: {features: 3, normalize: standard}
layers:
  - lstm: {units: 12}
  - dropout: {rate: 0.2}
  - lstm: {units: 8}
outputs: {labels: 1}
objective:
  target_replication: {alpha: 0.5}
training:
  optimizer: adam
  learning_rate: 0.01
  batch_size: 16
  epochs: %EPOCHS%
  seed: 7
  validation: {split: 0.25, monitor: auroc}
data: {train: %DATA%}
`

// setup writes a data set of n sequences and a spec training on it for
// epochs epochs into a new temporary folder, and returns the spec's path.
func setup(t *testing.T, n, epochs int, dataFile string) (spec string, d *data.Dataset) {
	t.Helper()
	dir := t.TempDir()
	d = data.Synth(data.SynthOptions{N: n, MinLen: 2, MaxLen: 16, F: 3, K: 1, Seed: 3, PosRate: 0.4})
	if err := data.WriteNPZ(filepath.Join(dir, dataFile), d); err != nil {
		t.Fatal(err)
	}
	src := strings.NewReplacer("%EPOCHS%", strconv.Itoa(epochs), "%DATA%", dataFile).Replace(e2eSpec)
	spec = filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(spec, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return spec, d
}

// weights reads the trainable parameters a run directory's checkpoint holds.
func weights(t *testing.T, dir string) map[string][]float32 {
	t.Helper()
	c, err := runtime.ReadCheckpoint(filepath.Join(dir, runtime.CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]float32{}
	for name, v := range c.Tensors {
		if strings.HasPrefix(name, "param/") || strings.HasPrefix(name, "best/") {
			out[name] = v
		}
	}
	return out
}

func sameWeights(t *testing.T, what string, a, b map[string][]float32) {
	t.Helper()
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("%s: %d vs %d tensors", what, len(a), len(b))
	}
	for name, va := range a {
		vb := b[name]
		if len(va) != len(vb) {
			t.Fatalf("%s: %s has %d vs %d values", what, name, len(va), len(vb))
		}
		for i := range va {
			if math.Float32bits(va[i]) != math.Float32bits(vb[i]) {
				t.Fatalf("%s: %s[%d] = %v vs %v", what, name, i, va[i], vb[i])
			}
		}
	}
}

// TestTrainEvalPredict runs the main job end to end: train writes the run
// directory; eval and predict read model.onnx through the Go runtime and
// agree with the trainer's in-memory predictions; export rebuilds the same
// model from the checkpoint.
func TestTrainEvalPredict(t *testing.T) {
	spec, d := setup(t, 120, 3, "train.npz")
	dir := filepath.Join(t.TempDir(), "run")
	status, out, errs := trnnCmd(t, "train", spec, "-o", dir)
	if status != 0 {
		t.Fatalf("train: status %d\n%s%s", status, out, errs)
	}
	for _, want := range []string{"training e2e: 90 sequences, validating on 30", "epoch 3/3", "val_auroc", "model.onnx holds epoch"} {
		if !strings.Contains(out, want) {
			t.Errorf("train output lacks %q:\n%s", want, out)
		}
	}
	for _, f := range []string{runtime.ModelFile, runtime.CheckpointFile, runtime.MetricsFile, runtime.CurvesFile} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("run directory lacks %s (%v)", f, err)
		}
	}
	rows := readCSV(t, filepath.Join(dir, runtime.MetricsFile))
	wantHeader := "epoch,train_loss,train_final_loss,val_loss,val_auroc,val_auprc,val_accuracy,val_f1,val_brier,seconds"
	if got := strings.Join(rows[0], ","); got != wantHeader || len(rows) != 4 {
		t.Fatalf("metrics.csv: header %q and %d rows, want %q and 3 epochs", got, len(rows)-1, wantHeader)
	}

	// ONNX Runtime's predictions from the exported model: an independent
	// implementation of the same network.
	ortcheck.Require(t)
	idx := make([]int, d.N())
	for i := range idx {
		idx[i] = i
	}
	x, lengths, T := d.Padded(idx)
	model, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := ortcheck.Run(model, map[string]*graph.Tensor{
		"x":       graph.FromF32(x, d.N(), T, d.F),
		"lengths": {DType: graph.Int32, Shape: []int{d.N()}, I32: lengths},
	}, []string{"probs"})
	if err != nil {
		t.Fatal(err)
	}
	probs := ref["probs"].F32

	dataFile := filepath.Join(filepath.Dir(spec), "train.npz")
	predFile := filepath.Join(t.TempDir(), "pred.csv")
	if status, out, errs := trnnCmd(t, "predict", filepath.Join(dir, "model.onnx"), "--data", dataFile, "-o", predFile); status != 0 {
		t.Fatalf("predict: status %d\n%s%s", status, out, errs)
	}
	pred := readCSV(t, predFile)
	if strings.Join(pred[0], ",") != "id,p_y" || len(pred) != d.N()+1 {
		t.Fatalf("predict: header %v and %d rows, want id,p_y and %d", pred[0], len(pred)-1, d.N())
	}
	worst := 0.0
	for i, row := range pred[1:] {
		p, _ := strconv.ParseFloat(row[1], 64)
		if row[0] != strconv.Itoa(i) {
			t.Fatalf("predict row %d has id %q", i, row[0])
		}
		worst = math.Max(worst, math.Abs(p-float64(probs[i])))
	}
	if worst > 1e-6 {
		t.Fatalf("model.onnx through the Go runtime differs from ONNX Runtime by %g", worst)
	}
	t.Logf("train → export → import → predict vs ONNX Runtime: max |Δ| = %.2g", worst)

	// Per-step rows: one per valid step; the last step of each sequence is
	// its final-step prediction.
	stepFile := filepath.Join(t.TempDir(), "steps.csv")
	if status, _, errs := trnnCmd(t, "predict", filepath.Join(dir, "model.onnx"), "--data", dataFile, "--per-step", "-o", stepFile); status != 0 {
		t.Fatalf("predict --per-step: %s", errs)
	}
	steps := readCSV(t, stepFile)
	total := 0
	for i := 0; i < d.N(); i++ {
		total += d.Len(i)
	}
	if strings.Join(steps[0], ",") != "id,step,p_y" || len(steps) != total+1 {
		t.Fatalf("predict --per-step: header %v and %d rows, want id,step,p_y and %d", steps[0], len(steps)-1, total)
	}
	r := 1
	for i := 0; i < d.N(); i++ {
		r += d.Len(i)
		last := steps[r-1]
		p, _ := strconv.ParseFloat(last[2], 64)
		if last[0] != strconv.Itoa(i) || last[1] != strconv.Itoa(d.Len(i)) || math.Abs(p-float64(probs[i])) > 1e-6 {
			t.Fatalf("sequence %d: last per-step row %v, want step %d and %v", i, last, d.Len(i), probs[i])
		}
	}

	status, out, errs = trnnCmd(t, "eval", filepath.Join(dir, "model.onnx"), "--data", dataFile)
	if status != 0 || !strings.Contains(out, "auroc") || !strings.Contains(out, "120 sequences") {
		t.Fatalf("eval: status %d\n%s%s", status, out, errs)
	}
	status, out, _ = trnnCmd(t, "eval", filepath.Join(dir, runtime.CheckpointFile), "--data", dataFile, "--json")
	if status != 0 || !strings.Contains(out, `"auroc":`) {
		t.Fatalf("eval --json on the checkpoint: status %d\n%s", status, out)
	}

	exported := filepath.Join(t.TempDir(), "again.onnx")
	if status, _, errs := trnnCmd(t, "export", filepath.Join(dir, runtime.CheckpointFile), "-o", exported); status != 0 {
		t.Fatalf("export: %s", errs)
	}
	a, _ := trnn.Load(filepath.Join(dir, "model.onnx"))
	b, err := trnn.Load(exported)
	if err != nil {
		t.Fatal(err)
	}
	seqs := [][][]float32{sequence(d, 0), sequence(d, 1)}
	pa, _ := a.Predict(seqs)
	pb, _ := b.Predict(seqs)
	if pa[0][0] != pb[0][0] || pa[1][0] != pb[1][0] {
		t.Fatalf("exported checkpoint predicts %v, model.onnx %v", pb, pa)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return rows
}

// TestTrainKilledAndResumed kills training with SIGKILL in the middle of an
// epoch, resumes it, and ends with exactly the weights and the model.onnx
// of an uninterrupted run.
func TestTrainKilledAndResumed(t *testing.T) {
	const epochs = 30 // long enough that the kill lands well before the end
	spec, _ := setup(t, 1200, epochs, "train.npz")
	straight := filepath.Join(t.TempDir(), "straight")
	if status, _, errs := trnnCmd(t, "train", spec, "-o", straight, "-q"); status != 0 {
		t.Fatalf("train: %s", errs)
	}

	dir := filepath.Join(t.TempDir(), "killed")
	cmd := exec.Command(os.Args[0], "train", spec, "-o", dir, "-q")
	cmd.Env = append(os.Environ(), "TRNN_RUN_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for the first checkpoint, then kill within the next epoch.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if _, err := runtime.ReadCheckpoint(filepath.Join(dir, runtime.CheckpointFile)); err == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no checkpoint appeared")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(5 * time.Millisecond) // into the next epoch
	cmd.Process.Signal(syscall.SIGKILL)
	err := cmd.Wait()
	c, cerr := runtime.ReadCheckpoint(filepath.Join(dir, runtime.CheckpointFile))
	if cerr != nil {
		t.Fatalf("the killed run left no readable checkpoint: %v", cerr)
	}
	if c.Header.Epoch >= epochs {
		t.Fatalf("the run finished all %d epochs before it was killed: nothing was interrupted (%v)", epochs, err)
	}
	t.Logf("killed during epoch %d of %d (%v)", c.Header.Epoch+1, epochs, err)

	status, out, errs := trnnCmd(t, "train", "--resume", dir)
	if status != 0 {
		t.Fatalf("resume: status %d\n%s%s", status, out, errs)
	}
	if !strings.Contains(out, "resuming after epoch") {
		t.Errorf("resume output does not say where it resumes:\n%s", out)
	}
	sameWeights(t, "resumed vs uninterrupted", weights(t, straight), weights(t, dir))
	ma, _ := os.ReadFile(filepath.Join(straight, runtime.ModelFile))
	mb, _ := os.ReadFile(filepath.Join(dir, runtime.ModelFile))
	if !bytes.Equal(ma, mb) {
		t.Fatal("model.onnx of the resumed run differs from the uninterrupted run's")
	}
	rows := readCSV(t, filepath.Join(dir, runtime.MetricsFile))
	if len(rows) != epochs+1 {
		t.Fatalf("metrics.csv of the resumed run has %d epochs, want %d", len(rows)-1, epochs)
	}
}

// TestTrainInitRoundTrip: a model exported by trnn initialises a new run
// exactly: after an epoch at learning rate 0 the weights are the model's.
func TestTrainInitRoundTrip(t *testing.T) {
	spec, _ := setup(t, 80, 2, "train.npz")
	first := filepath.Join(t.TempDir(), "first")
	if status, _, errs := trnnCmd(t, "train", spec, "-o", first, "-q"); status != 0 {
		t.Fatalf("train: %s", errs)
	}
	src, _ := os.ReadFile(spec)
	zero := strings.Replace(string(src), "learning_rate: 0.01", "learning_rate: 0", 1)
	zeroSpec := filepath.Join(filepath.Dir(spec), "zero.yaml")
	os.WriteFile(zeroSpec, []byte(zero), 0o644)
	second := filepath.Join(t.TempDir(), "second")
	if status, out, errs := trnnCmd(t, "train", zeroSpec, "--init", filepath.Join(first, runtime.ModelFile), "--epochs", "1", "--seed", "99", "-o", second, "-q"); status != 0 {
		t.Fatalf("train --init: status %d\n%s%s", status, out, errs)
	}
	w1, w2 := weights(t, first), weights(t, second)
	for name, v := range w2 {
		if !strings.HasPrefix(name, "param/") {
			continue
		}
		want, ok := w1["best/"+strings.TrimPrefix(name, "param/")]
		if !ok {
			want = w1[name] // not trainable: the statistics
		}
		sameWeights(t, "after --init and a zero-rate epoch", map[string][]float32{name: want}, map[string][]float32{name: v})
	}
}

// TestTrainCSVAndNPZAgree: the same data as CSV and as NPZ train the same
// weights.
func TestTrainCSVAndNPZAgree(t *testing.T) {
	spec, d := setup(t, 60, 2, "train.npz")
	dir := filepath.Dir(spec)
	cols := data.Columns{ID: "id", Step: "step", Features: []string{"f0", "f1", "f2"}, Labels: []string{"y"}}
	if err := data.WriteCSV(filepath.Join(dir, "train.csv"), d, cols); err != nil {
		t.Fatal(err)
	}
	a, b := filepath.Join(t.TempDir(), "npz"), filepath.Join(t.TempDir(), "csv")
	if status, _, errs := trnnCmd(t, "train", spec, "-o", a, "-q"); status != 0 {
		t.Fatal(errs)
	}
	if status, _, errs := trnnCmd(t, "train", spec, "--data", filepath.Join(dir, "train.csv"), "-o", b, "-q"); status != 0 {
		t.Fatal(errs)
	}
	sameWeights(t, "CSV vs NPZ", weights(t, a), weights(t, b))
}

// TestTrainErrors: bad command lines and bad data get one-line errors.
func TestTrainErrors(t *testing.T) {
	spec, _ := setup(t, 40, 1, "train.npz")
	dir := filepath.Join(t.TempDir(), "run")
	if status, _, errs := trnnCmd(t, "train", spec, "-o", dir, "-q"); status != 0 {
		t.Fatal(errs)
	}
	bad := filepath.Join(filepath.Dir(spec), "bad.npz")
	os.WriteFile(bad, []byte("PK\x03\x04 not really a zip"), 0o644)
	cases := []struct {
		args   []string
		status int
		want   string
	}{
		{[]string{"train", spec, "-o", dir}, 1, "already holds a run"},
		{[]string{"train", "--resume", dir, "--seed", "3"}, 2, "only --epochs may change"},
		{[]string{"train", "--resume", filepath.Join(dir, "nope")}, 1, "no such file"},
		{[]string{"train", spec, "--epochs", "-2", "-o", t.TempDir()}, 2, "--epochs: must be a positive integer, got -2"},
		{[]string{"train", spec, "--epochs", "0", "-o", t.TempDir()}, 2, "--epochs: must be a positive integer, got 0"},
		{[]string{"train", spec, "--batch-size", "0", "-o", t.TempDir()}, 2, "--batch-size: must be a positive integer, got 0"},
		{[]string{"train", spec, "--seed", "-1", "-o", t.TempDir()}, 2, `invalid argument "-1" for "--seed"`},
		{[]string{"train", spec, "--learning-rate", "-1", "-o", t.TempDir()}, 2, "--learning-rate: must be a non-negative number, got -1"},
		{[]string{"train", spec, "--validation", "val.txt", "-o", t.TempDir()}, 2, `--validation: must be an .npz, .csv or .parquet file, or a folder in the episodes layout, got "val.txt"`},
		{[]string{"train", "--resume", dir, "--learning-rate", "0.1"}, 2, "only --epochs may change"},
		{[]string{"train", spec, "--data", bad, "-o", t.TempDir()}, 1, "bad.npz"},
		{[]string{"train", spec, "--data", filepath.Join(dir, "missing.npz"), "-o", t.TempDir()}, 1, "missing.npz"},
		{[]string{"train"}, 2, "expected one spec file"},
		{[]string{"eval", filepath.Join(dir, "model.onnx")}, 2, "--data FILE is required"},
		{[]string{"predict", spec, "--data", bad}, 1, "spec.yaml"},
		{[]string{"export", filepath.Join(dir, runtime.CheckpointFile)}, 2, "-o FILE is required"},
		{[]string{"export", spec, "-o", filepath.Join(t.TempDir(), "m.onnx")}, 1, "not a trnn checkpoint"},
		{[]string{"export", filepath.Join(dir, runtime.CheckpointFile), "-o", filepath.Join(t.TempDir(), "m.onnx"), "--opset", "99"}, 2, "--opset: must be an integer from 14 to 21, got 99"},
	}
	for _, c := range cases {
		status, _, errs := trnnCmd(t, c.args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if status != c.status || !strings.Contains(errs, c.want) || len(lines) != 1 || strings.Contains(errs, "goroutine") {
			t.Errorf("trnn %s: status %d, stderr %q; want status %d and one line containing %q", strings.Join(c.args, " "), status, errs, c.status, c.want)
		}
	}
}

// TestResumeFromAnotherDirectory: a run started with relative paths
// resumes from any working directory.
func TestResumeFromAnotherDirectory(t *testing.T) {
	spec, _ := setup(t, 40, 3, "train.npz")
	t.Chdir(filepath.Dir(spec))
	if status, _, errs := trnnCmd(t, "train", "spec.yaml", "--epochs", "1", "-o", "run", "-q"); status != 0 {
		t.Fatal(errs)
	}
	run := filepath.Join(filepath.Dir(spec), "run")
	t.Chdir(t.TempDir())
	if status, out, errs := trnnCmd(t, "train", "--resume", run); status != 0 || !strings.Contains(out, "already finished its 1 epochs") {
		t.Fatalf("resume of a finished run: status %d\n%s%s", status, out, errs)
	}
	if status, out, errs := trnnCmd(t, "train", "--resume", run, "--epochs", "3"); status != 0 || !strings.Contains(out, "epoch 3/3") {
		t.Fatalf("resume from elsewhere: status %d\n%s%s", status, out, errs)
	}
}

// TestForceKeepsTheOldRunUntilTheNewOneStarts: a --force run that fails
// its checks leaves the earlier run as it was.
func TestForceKeepsTheOldRunUntilTheNewOneStarts(t *testing.T) {
	spec, _ := setup(t, 40, 1, "train.npz")
	dir := filepath.Join(t.TempDir(), "run")
	if status, _, errs := trnnCmd(t, "train", spec, "-o", dir, "-q"); status != 0 {
		t.Fatal(errs)
	}
	if status, _, _ := trnnCmd(t, "train", spec, "-o", dir, "--force", "--init", spec); status == 0 {
		t.Fatal("--init with a spec file instead of a model should fail")
	}
	for _, f := range []string{runtime.ModelFile, runtime.CheckpointFile, runtime.MetricsFile, runtime.CurvesFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the failed --force run removed %s", f)
		}
	}
}

// TestRunDirLockedAgainstSecondRun: while one trnn process trains into a
// directory, a second one — fresh, forced or resuming — is refused in one
// line naming the first one's process id, and leaves the run alone.
func TestRunDirLockedAgainstSecondRun(t *testing.T) {
	spec, _ := setup(t, 1200, 500, "train.npz")
	dir := filepath.Join(t.TempDir(), "run")
	first := exec.Command(os.Args[0], "train", spec, "-o", dir, "-q")
	first.Env = append(os.Environ(), "TRNN_RUN_MAIN=1")
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		first.Process.Kill()
		first.Wait()
	}()
	pid := strconv.Itoa(first.Process.Pid)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if b, _ := os.ReadFile(filepath.Join(dir, ".trnn.lock")); strings.TrimSpace(string(b)) == pid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first run never locked its directory")
		}
		time.Sleep(5 * time.Millisecond)
	}
	want := dir + ": in use by another trnn run (process " + pid + "); wait for it to finish or use another directory\n"
	for _, args := range [][]string{
		{"train", spec, "-o", dir, "--force"},
		{"train", spec, "-o", dir},
		{"train", "--resume", dir},
	} {
		second := exec.Command(os.Args[0], args...)
		second.Env = append(os.Environ(), "TRNN_RUN_MAIN=1")
		var stderr bytes.Buffer
		second.Stderr = &stderr
		err := second.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.HasSuffix(stderr.String(), want) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("trnn %s: %v, stderr %q; want status 1 and %q", strings.Join(args, " "), err, stderr.String(), want)
		}
	}
	if err := first.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the first run ended during the test: %v", err)
	}
}

// TestResumeRefusesChangedData: --resume refuses data that changed since
// the checkpoint, naming the file, and --allow-data-change overrides.
func TestResumeRefusesChangedData(t *testing.T) {
	spec, _ := setup(t, 40, 1, "train.npz")
	dir := filepath.Join(t.TempDir(), "run")
	if status, _, errs := trnnCmd(t, "train", spec, "-o", dir, "-q"); status != 0 {
		t.Fatal(errs)
	}
	train := filepath.Join(filepath.Dir(spec), "train.npz")
	other := data.Synth(data.SynthOptions{N: 40, MinLen: 2, MaxLen: 16, F: 3, K: 1, Seed: 4, PosRate: 0.4})
	if err := data.WriteNPZ(train, other); err != nil {
		t.Fatal(err)
	}
	status, _, errs := trnnCmd(t, "train", "--resume", dir, "--epochs", "2", "-q")
	if status != 1 || !strings.HasPrefix(errs, train+": the training data changed since the run started") ||
		!strings.Contains(errs, "--allow-data-change") || strings.Count(errs, "\n") != 1 {
		t.Fatalf("resume on changed data: status %d, %q", status, errs)
	}
	if status, _, errs := trnnCmd(t, "train", "--resume", dir, "--epochs", "2", "-q", "--allow-data-change"); status != 0 {
		t.Fatalf("--allow-data-change: status %d, %s", status, errs)
	}
}

// TestOutputsWithoutCheckpointNeedForce: a directory holding a model.onnx
// (or metrics.csv, curves.png) of trnn's but no checkpoint needs --force.
func TestOutputsWithoutCheckpointNeedForce(t *testing.T) {
	spec, _ := setup(t, 40, 1, "train.npz")
	dir := t.TempDir()
	model := filepath.Join(dir, runtime.ModelFile)
	if err := os.WriteFile(model, []byte("someone's model"), 0o644); err != nil {
		t.Fatal(err)
	}
	status, _, errs := trnnCmd(t, "train", spec, "-o", dir, "-q")
	if status != 1 || !strings.Contains(errs, "already holds trnn outputs (model.onnx)") || !strings.Contains(errs, "--force") {
		t.Fatalf("status %d, %q", status, errs)
	}
	if b, _ := os.ReadFile(model); string(b) != "someone's model" {
		t.Fatal("the refused run replaced model.onnx")
	}
	if status, _, errs := trnnCmd(t, "train", spec, "-o", dir, "-q", "--force"); status != 0 {
		t.Fatalf("--force: status %d, %s", status, errs)
	}
}

// TestCheckpointBadMagic: eval, predict and export call a damaged
// checkpoint "not a trnn checkpoint", not "not an ONNX model".
func TestCheckpointBadMagic(t *testing.T) {
	spec, _ := setup(t, 40, 1, "train.npz")
	dir := filepath.Join(t.TempDir(), "run")
	if status, _, errs := trnnCmd(t, "train", spec, "-o", dir, "-q"); status != 0 {
		t.Fatal(errs)
	}
	ckpt := filepath.Join(dir, runtime.CheckpointFile)
	b, _ := os.ReadFile(ckpt)
	copy(b, "TRNNXXXX")
	os.WriteFile(ckpt, b, 0o644)
	train := filepath.Join(filepath.Dir(spec), "train.npz")
	for _, args := range [][]string{
		{"eval", ckpt, "--data", train},
		{"predict", ckpt, "--data", train, "-o", filepath.Join(t.TempDir(), "p.csv")},
		{"export", ckpt, "-o", filepath.Join(t.TempDir(), "m.onnx")},
	} {
		status, _, errs := trnnCmd(t, args...)
		if want := ckpt + ": not a trnn checkpoint (bad magic)\n"; status != 1 || errs != want {
			t.Errorf("trnn %s: status %d, %q; want %q", args[0], status, errs, want)
		}
	}
}
