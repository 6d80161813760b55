package runtime

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/internal/fileio"
)

// runSpec trains on data.npz beside it, holding out a quarter.
const runSpec = `
name: run
inputs: {features: 3, normalize: standard}
layers: [{lstm: {units: 6}}, {dropout: {rate: 0.2}}, {gru: {units: 4}}]
outputs: {labels: 1}
training: {optimizer: adam, learning_rate: 0.01, batch_size: 16, epochs: 3, seed: 5, validation: {split: 0.25}}
data: {train: data.npz}
`

// writeRunSpec writes runSpec and its data into a new folder and returns
// the spec's path.
func writeRunSpec(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	d := data.Synth(data.SynthOptions{N: 80, MinLen: 2, MaxLen: 10, F: 3, K: 1, Seed: 2, PosRate: 0.4})
	if err := data.WriteNPZ(filepath.Join(dir, "data.npz"), d); err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(spec, []byte(runSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	return spec
}

// recorder is a Progress that keeps what it is told.
type recorder struct {
	starts []RunInfo
	epochs []EpochRecord
}

func (r *recorder) Start(info RunInfo)              { r.starts = append(r.starts, info) }
func (r *recorder) EpochStart(epoch, epochs, n int) {}
func (r *recorder) Batch(done, seqs int, l float64) {}
func (r *recorder) EpochEnd(rec EpochRecord, _ bool) {
	r.epochs = append(r.epochs, rec)
}
func (r *recorder) Note(string) {}

func checkpointParams(t *testing.T, dir string) []float32 {
	t.Helper()
	c, err := ReadCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	var all []float32
	for _, e := range c.Header.Tensors {
		if strings.HasPrefix(e.Name, "param/") || strings.HasPrefix(e.Name, "best/") {
			all = append(all, c.Tensors[e.Name]...)
		}
	}
	return all
}

// TestTrainWritesTheRunDirectory: Train from a spec file writes every file
// of the run directory and reports the run it starts.
func TestTrainWritesTheRunDirectory(t *testing.T) {
	spec := writeRunSpec(t)
	dir := filepath.Join(t.TempDir(), "run")
	var rec recorder
	res, err := Train(context.Background(), Config{SpecFile: spec, Out: dir, Version: "test", Progress: &rec})
	if err != nil {
		t.Fatal(err)
	}
	if res.Dir != dir || res.Epochs != 3 || res.Trained != 3 || len(rec.epochs) != 3 {
		t.Fatalf("result %+v after %d reported epochs, want 3 epochs in %s", res, len(rec.epochs), dir)
	}
	want := RunInfo{Name: "run", Dir: dir, Train: 60, Val: 20, Monitor: "auroc", Epochs: 3}
	if len(rec.starts) != 1 || rec.starts[0] != want {
		t.Fatalf("Start got %+v, want %+v", rec.starts, want)
	}
	for _, f := range []string{ModelFile, CheckpointFile, MetricsFile, CurvesFile} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("run directory lacks %s (%v)", f, err)
		}
	}
	c, err := ReadCheckpoint(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	if abs, _ := filepath.Abs(filepath.Join(filepath.Dir(spec), "data.npz")); c.Header.TrainFile != abs || c.Header.TrnnVersion != "test" {
		t.Errorf("checkpoint records train file %q and version %q, want %q and test", c.Header.TrainFile, c.Header.TrnnVersion, abs)
	}
}

// TestTrainResumes: 1 epoch, then a resumed run to 3, ends with the weights
// of 3 epochs straight; resuming a finished run trains nothing.
func TestTrainResumes(t *testing.T) {
	spec := writeRunSpec(t)
	straight, dir := filepath.Join(t.TempDir(), "straight"), filepath.Join(t.TempDir(), "resumed")
	if _, err := Train(context.Background(), Config{SpecFile: spec, Out: straight}); err != nil {
		t.Fatal(err)
	}
	if _, err := Train(context.Background(), Config{SpecFile: spec, Out: dir, Epochs: 1, EpochsSet: true}); err != nil {
		t.Fatal(err)
	}
	var rec recorder
	res, err := Train(context.Background(), Config{Resume: dir, Epochs: 3, EpochsSet: true, Progress: &rec})
	if err != nil {
		t.Fatal(err)
	}
	if res.Trained != 2 || res.Epochs != 3 || !rec.starts[0].Resumed || rec.starts[0].Done != 1 {
		t.Fatalf("resumed run: result %+v, start %+v; want 2 epochs trained after 1", res, rec.starts)
	}
	if i, same := sameBits(checkpointParams(t, straight), checkpointParams(t, dir)); !same {
		t.Fatalf("resumed run differs from the straight run at value %d", i)
	}
	ma, _ := os.ReadFile(filepath.Join(straight, ModelFile))
	mb, _ := os.ReadFile(filepath.Join(dir, ModelFile))
	if len(ma) == 0 || string(ma) != string(mb) {
		t.Fatal("model.onnx of the resumed run differs from the straight run's")
	}
	res, err = Train(context.Background(), Config{Resume: dir})
	if err != nil || res.Trained != 0 || res.Epochs != 3 {
		t.Fatalf("resuming a finished run: %+v, %v; want nothing trained", res, err)
	}
}

// TestTrainGuardsTheRunDirectory: an earlier run is kept unless Force, and
// with Force until the new run's inputs have all been read.
func TestTrainGuardsTheRunDirectory(t *testing.T) {
	spec := writeRunSpec(t)
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Train(context.Background(), Config{SpecFile: spec, Out: dir, Epochs: 1, EpochsSet: true}); err != nil {
		t.Fatal(err)
	}
	before := checkpointParams(t, dir)
	_, err := Train(context.Background(), Config{SpecFile: spec, Out: dir})
	if err == nil || !strings.Contains(err.Error(), dir+" already holds a run (checkpoint.trnn)") {
		t.Fatalf("training into a run directory: %v", err)
	}
	_, err = Train(context.Background(), Config{SpecFile: spec, Out: dir, Force: true, Init: spec})
	if err == nil {
		t.Fatal("Init with a spec file instead of a model should fail")
	}
	if _, same := sameBits(before, checkpointParams(t, dir)); !same {
		t.Fatal("a failed forced run changed the earlier run")
	}
	res, err := Train(context.Background(), Config{SpecFile: spec, Out: dir, Force: true, Seed: 9, SeedSet: true})
	if err != nil || res.Epochs != 3 {
		t.Fatalf("forced run: %+v, %v", res, err)
	}
}

// TestTrainConfigErrors: what a Config cannot ask for.
func TestTrainConfigErrors(t *testing.T) {
	spec := writeRunSpec(t)
	ctx := context.Background()
	for _, cfg := range []Config{
		{Resume: t.TempDir(), SpecFile: spec},
		{Resume: t.TempDir(), Seed: 1, SeedSet: true},
		{Resume: t.TempDir(), Out: t.TempDir()},
	} {
		if _, err := Train(ctx, cfg); !errors.Is(err, ErrResumeConflict) {
			t.Errorf("Train(%+v) = %v, want ErrResumeConflict", cfg, err)
		}
	}
	prog := compileSpec(t, runSpec, nil)
	if _, err := Train(ctx, Config{Program: prog, Out: t.TempDir(), Seed: 1, SeedSet: true}); err == nil || !strings.Contains(err.Error(), "compiled already") {
		t.Errorf("a Program with a seed override: %v", err)
	}
	if _, err := Train(ctx, Config{SpecFile: spec, Out: t.TempDir(), Epochs: 0, EpochsSet: true}); err == nil || err.Error() != "--epochs: must be a positive integer, got 0" {
		t.Errorf("epochs 0: %v", err)
	}
	if _, err := Train(ctx, Config{SpecFile: spec, Out: t.TempDir(), Data: "nope.h5"}); err == nil || !strings.Contains(err.Error(), "nope.h5: unknown data file kind") {
		t.Errorf("unknown data kind: %v", err)
	}
}

// TestTrainInterrupted: a cancelled context ends the run with
// ErrInterrupted and a result naming the directory to resume.
func TestTrainInterrupted(t *testing.T) {
	spec := writeRunSpec(t)
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Train(ctx, Config{SpecFile: spec, Out: dir})
	if !errors.Is(err, ErrInterrupted) || res == nil || res.Dir != dir || res.Epochs != 0 {
		t.Fatalf("Train with a cancelled context: %+v, %v", res, err)
	}
}

// TestTrainInit: a run started from a model trnn exported holds exactly
// the model's weights and statistics after an epoch at learning rate 0.
func TestTrainInit(t *testing.T) {
	spec := writeRunSpec(t)
	first := filepath.Join(t.TempDir(), "first")
	if _, err := Train(context.Background(), Config{SpecFile: spec, Out: first}); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(filepath.Dir(spec), "zero.yaml")
	if err := os.WriteFile(zero, []byte(strings.Replace(runSpec, "learning_rate: 0.01", "learning_rate: 0", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	second := filepath.Join(t.TempDir(), "second")
	_, err := Train(context.Background(), Config{SpecFile: zero, Out: second, Init: filepath.Join(first, ModelFile),
		Epochs: 1, EpochsSet: true, Seed: 99, SeedSet: true})
	if err != nil {
		t.Fatal(err)
	}
	a, err := ReadCheckpoint(filepath.Join(first, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ReadCheckpoint(filepath.Join(second, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range b.Tensors {
		if !strings.HasPrefix(name, "param/") {
			continue
		}
		want, ok := a.Tensors["best/"+strings.TrimPrefix(name, "param/")]
		if !ok {
			want = a.Tensors[name] // not trainable: the statistics
		}
		if i, same := sameBits(want, v); !same {
			t.Fatalf("%s differs from the model's at %d", name, i)
		}
	}
}

// TestRunDirLockedAgainstSecondRun: while a run holds its directory's lock,
// a second Train on it, fresh, forced or resuming, is refused with the
// holder's process id and leaves the directory as it was.
func TestRunDirLockedAgainstSecondRun(t *testing.T) {
	spec := writeRunSpec(t)
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Train(context.Background(), Config{SpecFile: spec, Out: dir, Epochs: 1, EpochsSet: true}); err != nil {
		t.Fatal(err)
	}
	before := checkpointParams(t, dir)
	release, err := fileio.LockDir(dir) // as the first run's process would hold it
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%s: in use by another trnn run (process %d)", dir, os.Getpid())
	for _, cfg := range []Config{
		{SpecFile: spec, Out: dir},
		{SpecFile: spec, Out: dir, Force: true},
		{Resume: dir, Epochs: 2, EpochsSet: true},
	} {
		if _, err := Train(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Train(%+v) while the directory is locked: %v, want %q", cfg, err, want)
		}
	}
	if _, same := sameBits(before, checkpointParams(t, dir)); !same {
		t.Fatal("a refused run changed the run directory")
	}
	release()
	if _, err := Train(context.Background(), Config{Resume: dir, Epochs: 2, EpochsSet: true}); err != nil {
		t.Fatalf("resume after the lock is released: %v", err)
	}
	// Train releases its own lock when it returns.
	release, err = fileio.LockDir(dir)
	if err != nil {
		t.Fatalf("Train kept its lock: %v", err)
	}
	release()
}

// TestResumeRefusesChangedData: a resumed run whose training data changed
// since the checkpoint is refused, naming the file, unless
// AllowDataChange; a checkpoint without fingerprints (older trnn) resumes.
func TestResumeRefusesChangedData(t *testing.T) {
	spec := writeRunSpec(t)
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Train(context.Background(), Config{SpecFile: spec, Out: dir, Epochs: 1, EpochsSet: true}); err != nil {
		t.Fatal(err)
	}
	ckpt := filepath.Join(dir, CheckpointFile)
	c, err := ReadCheckpoint(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	dataFile := filepath.Join(filepath.Dir(spec), "data.npz")
	if fp, err := fingerprint(dataFile); err != nil || c.Header.TrainData == nil || *c.Header.TrainData != *fp || c.Header.ValData != nil {
		t.Fatalf("checkpoint fingerprints %+v / %+v, the data file's %+v (%v)", c.Header.TrainData, c.Header.ValData, fp, err)
	}
	other := data.Synth(data.SynthOptions{N: 80, MinLen: 2, MaxLen: 10, F: 3, K: 1, Seed: 3, PosRate: 0.4})
	if err := data.WriteNPZ(dataFile, other); err != nil {
		t.Fatal(err)
	}
	_, err = Train(context.Background(), Config{Resume: dir, Epochs: 2, EpochsSet: true})
	if err == nil || !strings.HasPrefix(err.Error(), c.Header.TrainFile+": the training data changed since the run started") ||
		!strings.Contains(err.Error(), "--allow-data-change") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("resume on changed data: %v", err)
	}
	if after, _ := ReadCheckpoint(ckpt); after.Header.Epoch != 1 {
		t.Fatal("the refused resume changed the checkpoint")
	}
	// An older checkpoint has no fingerprint to compare.
	c.Header.TrainData = nil
	if err := WriteCheckpoint(ckpt, c); err != nil {
		t.Fatal(err)
	}
	if _, err := Train(context.Background(), Config{Resume: dir, Epochs: 2, EpochsSet: true}); err != nil {
		t.Fatalf("resume of a checkpoint without fingerprints: %v", err)
	}
	// Allowed, the run goes on and records the new data's fingerprint.
	if err := data.WriteNPZ(dataFile, data.Synth(data.SynthOptions{N: 80, MinLen: 2, MaxLen: 10, F: 3, K: 1, Seed: 4, PosRate: 0.4})); err != nil {
		t.Fatal(err)
	}
	if _, err := Train(context.Background(), Config{Resume: dir, Epochs: 3, EpochsSet: true}); err == nil {
		t.Fatal("a second change went unnoticed")
	}
	if _, err := Train(context.Background(), Config{Resume: dir, Epochs: 3, EpochsSet: true, AllowDataChange: true}); err != nil {
		t.Fatalf("resume with AllowDataChange: %v", err)
	}
	fp, _ := fingerprint(dataFile)
	if c, err := ReadCheckpoint(ckpt); err != nil || c.Header.Epoch != 3 || *c.Header.TrainData != *fp {
		t.Fatalf("after the allowed resume: %v, %+v", err, c.Header.TrainData)
	}
}

// TestOutputsWithoutCheckpointNeedForce: any of trnn's outputs in the run
// directory, not only a checkpoint, needs Force.
func TestOutputsWithoutCheckpointNeedForce(t *testing.T) {
	spec := writeRunSpec(t)
	for _, name := range []string{ModelFile, MetricsFile, CurvesFile} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, name), []byte("precious"), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Train(context.Background(), Config{SpecFile: spec, Out: dir, Epochs: 1, EpochsSet: true})
		want := fmt.Sprintf("%s already holds trnn outputs (%s) but no checkpoint to resume; replace them with --force", dir, name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s alone: %v, want %q", name, err, want)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, name)); string(b) != "precious" {
			t.Errorf("the refused run changed %s", name)
		}
		if _, err := Train(context.Background(), Config{SpecFile: spec, Out: dir, Epochs: 1, EpochsSet: true, Force: true}); err != nil {
			t.Errorf("%s with Force: %v", name, err)
		}
	}
}

// TestStaleTempFilesRemovedByNextRun: the temporary files of a run killed
// while writing its outputs are removed by the next run in the directory;
// other files stay.
func TestStaleTempFilesRemovedByNextRun(t *testing.T) {
	spec := writeRunSpec(t)
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := Train(context.Background(), Config{SpecFile: spec, Out: dir, Epochs: 1, EpochsSet: true}); err != nil {
		t.Fatal(err)
	}
	stale := []string{".checkpoint.trnn.tmp2913", ".model.onnx.tmp77", ".metrics.csv.tmp1", ".curves.png.tmp4242"}
	for _, name := range append(stale, "notes.txt") {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Train(context.Background(), Config{Resume: dir, Epochs: 2, EpochsSet: true}); err != nil {
		t.Fatal(err)
	}
	for _, name := range stale {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("stale %s is still there", name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Errorf("a file of the user's was removed: %v", err)
	}
}

// TestNaNLossNamesInitWeights: a non-finite loss caused by non-finite
// weights in the --init model names the model and the parameter.
func TestNaNLossNamesInitWeights(t *testing.T) {
	spec := writeRunSpec(t)
	first := filepath.Join(t.TempDir(), "first")
	if _, err := Train(context.Background(), Config{SpecFile: spec, Out: first, Epochs: 1, EpochsSet: true}); err != nil {
		t.Fatal(err)
	}
	// Replace head.b's one value by NaN in the model's bytes: trnn itself
	// refuses to export such a model.
	c, err := ReadCheckpoint(filepath.Join(first, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	b := c.Tensors["best/head.b"]
	if b == nil {
		b = c.Tensors["param/head.b"]
	}
	model, err := os.ReadFile(filepath.Join(first, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	bits := binary.LittleEndian.AppendUint32(nil, math.Float32bits(b[0]))
	if n := bytes.Count(model, bits); n != 1 {
		t.Fatalf("head.b's bytes occur %d times in the model", n)
	}
	nan := binary.LittleEndian.AppendUint32(nil, 0x7fc00000)
	bad := filepath.Join(t.TempDir(), "nan.onnx")
	if err := os.WriteFile(bad, bytes.Replace(model, bits, nan, 1), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Train(context.Background(), Config{SpecFile: spec, Out: filepath.Join(t.TempDir(), "second"), Init: bad})
	want := "epoch 1, batch 1: the training loss is NaN: the weights taken from " + bad + " (--init) are not finite (head.b[0] = NaN)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}
