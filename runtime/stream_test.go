package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
)

// streamSpec trains on a file named by its spec, with a test and a
// validation split held out, dropout drawing from the seed, and the
// shuffle and shuffle buffer the test chooses.
const streamSpec = `
name: stream
inputs: {features: 3, normalize: standard}
layers: [{lstm: {units: 6}}, {dropout: {rate: 0.2}}, {gru: {units: 4}}]
outputs: {labels: 1}
training: {optimizer: adam, learning_rate: 0.01, batch_size: 16, epochs: %d, seed: %d, shuffle: %v, validation: {split: 0.25}, test: {split: 0.1}}
data: {train: %s, shuffle_buffer: %d%s}
`

// streamData writes the same 90 sequences as data.npz, data.parquet and
// the episodes folder ep into a new folder.
func streamData(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	d := data.Synth(data.SynthOptions{N: 90, MinLen: 2, MaxLen: 12, F: 3, K: 1, Seed: 3, PosRate: 0.4})
	cols := data.Columns{ID: "id", Step: "step", Features: []string{"f0", "f1", "f2"}, Labels: []string{"y"}}
	if err := data.WriteNPZ(filepath.Join(dir, "data.npz"), d); err != nil {
		t.Fatal(err)
	}
	if err := data.WriteTable(filepath.Join(dir, "data.parquet"), d, data.TableOptions{Columns: cols}); err != nil {
		t.Fatal(err)
	}
	if err := data.WriteEpisodes(filepath.Join(dir, "ep"), d, data.TableOptions{Columns: cols}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// streamRun is a training run of streamSpec.
type streamRun struct {
	file           string
	epochs, buffer int
	seed           uint64
	shuffle        bool
}

// specName is the name of the run's spec file.
func (sr streamRun) specName() string {
	return fmt.Sprintf("spec-%d-%d-%d-%v-%s.yaml", sr.epochs, sr.buffer, sr.seed, sr.shuffle, strings.ReplaceAll(sr.file, ".", "-"))
}

// noter is a recorder that keeps its notes.
type noter struct {
	recorder
	notes []string
}

func (n *noter) Note(msg string) { n.notes = append(n.notes, msg) }

// train writes the run's spec into dir and trains it into a new run
// directory, which it returns with the notes the run gave.
func (sr streamRun) train(t *testing.T, dir string) (string, []string) {
	t.Helper()
	extra := ""
	if sr.file == "ep" {
		extra = ", csv: {id: stay, step: " + data.EpisodesTime + "}"
	}
	text := fmt.Sprintf(streamSpec, sr.epochs, sr.seed, sr.shuffle, sr.file, sr.buffer, extra)
	spec := filepath.Join(dir, sr.specName())
	if err := os.WriteFile(spec, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "run")
	var n noter
	if _, err := Train(context.Background(), Config{SpecFile: spec, Out: out, Progress: &n}); err != nil {
		t.Fatalf("%+v: %v", sr, err)
	}
	return out, n.notes
}

// streamed reports whether the notes say the training data was streamed.
func streamed(notes []string) bool {
	for _, n := range notes {
		if strings.Contains(n, "streamed through a shuffle buffer") {
			return true
		}
	}
	return false
}

// sameModel checks that runs a and b trained the same weights and, when
// bytes is set, wrote the same model.onnx (which holds the spec: a spec
// naming the columns of an episodes folder writes other bytes).
func sameModel(t *testing.T, what, a, b string, bytes bool) {
	t.Helper()
	if i, same := sameBits(checkpointParams(t, a), checkpointParams(t, b)); !same {
		t.Fatalf("%s: the checkpoints differ at value %d", what, i)
	}
	if !bytes {
		return
	}
	ma, err := os.ReadFile(filepath.Join(a, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	mb, err := os.ReadFile(filepath.Join(b, ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	if string(ma) != string(mb) {
		t.Fatalf("%s: model.onnx differs", what)
	}
}

// TestStreamEqualsNPZ: Parquet and episodes data train the NPZ file's
// model.onnx bit for bit when the shuffle buffer holds the whole data set
// (loaded, shuffled by the trainer's permutation), and when it does not
// but the data are not shuffled (streamed in file order: the statistics,
// the held-out splits and every batch are those of the NPZ run).
func TestStreamEqualsNPZ(t *testing.T) {
	dir := streamData(t)
	for _, c := range []struct {
		shuffle bool
		buffer  int
	}{{true, 90}, {false, 7}, {true, 60}} { // 60: streamed, but the 59 training sequences fit the buffer
		npz, notes := streamRun{file: "data.npz", epochs: 2, seed: 5, shuffle: c.shuffle, buffer: c.buffer}.train(t, dir)
		if streamed(notes) {
			t.Fatal("an NPZ file was streamed")
		}
		for _, file := range []string{"data.parquet", "ep"} {
			run, notes := streamRun{file: file, epochs: 2, seed: 5, shuffle: c.shuffle, buffer: c.buffer}.train(t, dir)
			if streamed(notes) != (c.buffer < 90) {
				t.Errorf("%s, buffer %d: notes %q", file, c.buffer, notes)
			}
			sameModel(t, fmt.Sprintf("%s, shuffle %v, buffer %d vs NPZ", file, c.shuffle, c.buffer), npz, run, file != "ep")
		}
	}
}

// TestStreamShuffleDeterministic: with a buffer smaller than the data set,
// the seed decides the order: the same seed gives the same model, another
// seed or another buffer size another, and the loss still goes down.
func TestStreamShuffleDeterministic(t *testing.T) {
	dir := streamData(t)
	base := streamRun{file: "data.parquet", epochs: 6, seed: 5, shuffle: true, buffer: 8}
	a, notes := base.train(t, dir)
	if !streamed(notes) {
		t.Fatalf("not streamed: notes %q", notes)
	}
	b, _ := base.train(t, dir)
	sameModel(t, "the same seed", a, b, true)
	other := base
	other.seed = 6
	c, _ := other.train(t, dir)
	other = base
	other.buffer = 20
	e, _ := other.train(t, dir)
	pa := checkpointParams(t, a)
	for _, run := range []string{c, e} {
		if _, same := sameBits(pa, checkpointParams(t, run)); same {
			t.Errorf("%s: another seed or buffer trained the same weights", run)
		}
	}
	ck, err := ReadCheckpoint(filepath.Join(a, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	h := ck.Header.History
	if len(h) != 6 || !(h[5].TrainLoss < h[0].TrainLoss) || h[0].Sequences != 59 {
		t.Fatalf("history %+v: want 6 epochs of 59 sequences (90 less 9 for test and 22 for validation), the loss going down", h)
	}
}

// TestStreamResume: a streamed run interrupted after an epoch and resumed
// ends with the weights of the run trained straight through.
func TestStreamResume(t *testing.T) {
	dir := streamData(t)
	base := streamRun{file: "ep", epochs: 3, seed: 5, shuffle: true, buffer: 8}
	straight, _ := base.train(t, dir)
	one := base
	one.epochs = 1
	run, notes := one.train(t, dir)
	if !streamed(notes) {
		t.Fatalf("not streamed: notes %q", notes)
	}
	res, err := Train(context.Background(), Config{Resume: run, Epochs: 3, EpochsSet: true})
	if err != nil || res.Trained != 2 {
		t.Fatalf("resume: %+v, %v", res, err)
	}
	sameModel(t, "resumed vs straight", straight, run, true)
	// Interrupted in the middle of the second epoch's stream: the resumed
	// run streams that epoch again from its start.
	out := filepath.Join(t.TempDir(), "cut")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &canceller{cancel: cancel}
	_, err = Train(ctx, Config{SpecFile: filepath.Join(dir, base.specName()), Out: out, Progress: p})
	if !errors.Is(err, ErrInterrupted) || p.epoch != 2 {
		t.Fatalf("interrupted run: %v in epoch %d", err, p.epoch)
	}
	if res, err = Train(context.Background(), Config{Resume: out}); err != nil || res.Trained != 2 {
		t.Fatalf("resume after the interruption: %+v, %v", res, err)
	}
	sameModel(t, "resumed after an interruption vs straight", straight, out, true)
}

// canceller is a recorder that cancels the run at the second batch of its
// second epoch.
type canceller struct {
	recorder
	cancel func()
	epoch  int
}

func (c *canceller) EpochStart(epoch, epochs, n int) { c.epoch = epoch }
func (c *canceller) Batch(done, seqs int, l float64) {
	if c.epoch == 2 && done == 2 {
		c.cancel()
	}
}

// TestStreamUnsortedParquet: a Parquet file whose ids' rows are not
// together cannot be streamed; it is loaded, and trains the weights of the
// same sequences from NPZ.
func TestStreamUnsortedParquet(t *testing.T) {
	dir := streamData(t)
	d, err := data.Load(filepath.Join(dir, "data.npz"), data.Schema{Features: 3, Labels: 1})
	if err != nil {
		t.Fatal(err)
	}
	cols := data.Columns{ID: "id", Step: "step", Features: []string{"f0", "f1", "f2"}, Labels: []string{"y"}}
	if err := data.WriteTable(filepath.Join(dir, "data.parquet"), interleaved(d), data.TableOptions{Columns: cols}); err != nil {
		t.Fatal(err)
	}
	r, err := data.OpenSeqs(filepath.Join(dir, "data.parquet"), schemaOf(t, cols))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for err == nil {
		_, err = r.Next()
	}
	if !strings.Contains(err.Error(), `comes back after other ids`) || !strings.Contains(err.Error(), `sort it by "id"`) {
		t.Fatalf("reading an unsorted file: %v", err)
	}
	npz, _ := streamRun{file: "data.npz", epochs: 2, seed: 5, shuffle: true, buffer: 7}.train(t, dir)
	pq, notes := streamRun{file: "data.parquet", epochs: 2, seed: 5, shuffle: true, buffer: 7}.train(t, dir)
	if streamed(notes) {
		t.Fatal("an unsorted file was streamed")
	}
	sameModel(t, "unsorted Parquet vs NPZ", npz, pq, true)
}

// interleaved is d with each sequence cut in two, first halves first, so
// that a table written from it has every id's rows in two places; read
// back by id it is d again.
func interleaved(d *data.Dataset) *data.Dataset {
	e := &data.Dataset{F: d.F, K: d.K}
	for half := range 2 {
		for i := range d.N() {
			n := d.Len(i)
			lo, hi := 0, (n+1)/2
			if half == 1 {
				lo, hi = hi, n
			}
			if lo == hi {
				continue
			}
			e.X = append(e.X, d.X[i][lo*d.F:hi*d.F])
			e.Y = append(e.Y, d.Labels(i)...)
			e.IDs = append(e.IDs, strconv.Itoa(i))
			var steps []string
			for s := lo; s < hi; s++ {
				steps = append(steps, strconv.Itoa(s))
			}
			e.StepValues = append(e.StepValues, steps)
		}
	}
	return e
}

// schemaOf is the schema of 3 features and a binary label in cols.
func schemaOf(t *testing.T, cols data.Columns) data.Schema {
	t.Helper()
	return data.Schema{Features: 3, Labels: 1, Columns: cols}
}

// TestStreamHeads: every kind of head trains on streamed Parquet data the
// weights it trains on the NPZ file (without shuffling, so that the
// streamed batches are the NPZ run's): per-sequence and per-step labels,
// classes and targets, their statistics and class weights included.
// TestStreamHeads: every kind of head trains on streamed data the weights
// it trains on the NPZ file (without shuffling, so that the streamed
// batches are the NPZ run's), statistics and class weights included:
// per-sequence heads from Parquet, per-step ones from an episodes folder
// whose listfile labels each step.
func TestStreamHeads(t *testing.T) {
	for _, c := range headSpecs {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			d := taskData(t, c.task, 80, 2)
			body := "name: h\n" + strings.Replace(c.spec, "epochs: 4, seed: 3", "epochs: 2, seed: 3, shuffle: false", 1)
			spec, err := compiler.Parse("h.yaml", []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if err := data.WriteNPZ(filepath.Join(dir, "d.npz"), d); err != nil {
				t.Fatal(err)
			}
			file, extra := "d.parquet", ""
			if spec.Outputs.PerStep {
				file, extra = "ep", ", csv: {id: stay, step: "+data.EpisodesTime+"}"
				writeStepFolder(t, filepath.Join(dir, file), d)
			} else if err := data.WriteTable(filepath.Join(dir, file), d, data.TableOptions{Columns: DataSchema(spec).Columns}); err != nil {
				t.Fatal(err)
			}
			runs := map[string]string{}
			for _, f := range []string{"d.npz", file} {
				path := filepath.Join(dir, f+".yaml")
				cfg := ", shuffle_buffer: 9"
				if f == file {
					cfg += extra
				}
				if err := os.WriteFile(path, []byte(body+"data: {train: "+f+cfg+"}\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				runs[f] = filepath.Join(dir, "run-"+f)
				var n noter
				if _, err := Train(context.Background(), Config{SpecFile: path, Out: runs[f], Progress: &n}); err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				if streamed(n.notes) != (f == file) {
					t.Fatalf("%s: notes %q", f, n.notes)
				}
			}
			sameModel(t, c.name+": streamed "+file+" vs NPZ", runs["d.npz"], runs[file], false)
		})
	}
}

// writeStepFolder writes d, whose labels are per step, as an episodes
// folder whose listfile lists each stay at the time of each labelled step
// (the step's index), with the label.
func writeStepFolder(t *testing.T, dir string, d *data.Dataset) {
	t.Helper()
	cols := data.Columns{ID: "id", Features: []string{"f0", "f1", "f2"}, Labels: []string{"y"}}
	if err := data.WriteEpisodes(dir, d, data.TableOptions{Columns: cols}); err != nil {
		t.Fatal(err)
	}
	list := "stay,period_length,y_true\n"
	for i, y := range d.YStep {
		for step, v := range y {
			if v == v {
				list += fmt.Sprintf("%s_timeseries.csv,%d,%s\n", d.ID(i), step, strconv.FormatFloat(float64(v), 'g', -1, 32))
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "listfile.csv"), []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
}

// rewriter is a recorder that replaces a file after the first epoch.
type rewriter struct {
	recorder
	write func()
}

func (r *rewriter) EpochEnd(rec EpochRecord, improved bool) {
	r.recorder.EpochEnd(rec, improved)
	if rec.Epoch == 1 {
		r.write()
	}
}

// TestStreamFileChanges: a streamed file that changes between two epochs
// stops the run with the file and what changed, rather than training on
// sequences the splits and statistics never saw.
func TestStreamFileChanges(t *testing.T) {
	dir := streamData(t)
	spec := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(spec, []byte(fmt.Sprintf(streamSpec, 3, 5, true, "data.parquet", 8, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "data.parquet")
	d, err := data.Load(file, schemaOf(t, data.Columns{ID: "id", Step: "step", Features: []string{"f0", "f1", "f2"}, Labels: []string{"y"}}))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		keep []int
		want string
	}{
		{[]int{0, 1, 2}, file + ": the training data changed while training (it ends before sequence "},
		{[]int{1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10}, file + `: the training data changed while training (sequence 1 is 1 of `},
	} {
		small := d.Subset(c.keep)
		p := &rewriter{write: func() {
			if err := data.WriteTable(file, small, data.TableOptions{Columns: data.Columns{ID: "id", Step: "step", Features: small.FeatureNames, Labels: small.LabelNames}}); err != nil {
				t.Error(err)
			}
		}}
		_, err := Train(context.Background(), Config{SpecFile: spec, Out: t.TempDir(), Progress: p, Force: true})
		if err == nil || !strings.HasPrefix(err.Error(), c.want) || len(p.epochs) != 1 {
			t.Errorf("after %d epochs: %v\nwant %s...", len(p.epochs), err, c.want)
		}
		if err := data.WriteTable(file, d, data.TableOptions{Columns: data.Columns{ID: "id", Step: "step", Features: d.FeatureNames, Labels: d.LabelNames}}); err != nil {
			t.Fatal(err)
		}
	}
}
