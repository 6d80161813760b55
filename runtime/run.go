package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/internal/atomicfile"
	"github.com/trnn/trnn/internal/fileio"
)

// Config describes a training run for Train: what to train, on which data,
// and in which run directory.
type Config struct {
	// SpecFile is the spec to compile and train. Program, set instead, is
	// trained as compiled; its spec names the data and the training plan.
	SpecFile string
	Program  *compiler.Program
	// Out is the run directory; "" means runs/<spec name>.
	Out string
	// Data and Validation replace the spec's data.train and its validation
	// (a split of the training data, or training.validation.file).
	Data, Validation string
	// Init starts from the weights of this ONNX model, statistics
	// included, which must have the spec's architecture (see
	// export.InitParams); a checkpoint gives its best weights, and a run
	// directory its model.onnx.
	Init string
	// Resume continues the run in this directory from its checkpoint, with
	// the checkpoint's own spec and data: only Epochs (and
	// AllowDataChange) may be set with it.
	Resume string
	// AllowDataChange lets a resumed run continue although its data files
	// are no longer those the checkpoint fingerprinted; without it, Train
	// refuses (the flag --allow-data-change).
	AllowDataChange bool
	// Epochs, BatchSize and Seed replace the spec's training fields when
	// their Set flag is true; errors about them name the command-line flags
	// (--epochs, --batch-size, --seed). A Program takes none of them.
	Epochs, BatchSize                int
	Seed                             uint64
	EpochsSet, BatchSizeSet, SeedSet bool
	// LearningRate replaces training.learning_rate when LearningRateSet
	// (the flag --learning-rate); a resumed run keeps its own.
	LearningRate    float64
	LearningRateSet bool
	// Force starts over in a directory that already holds a run. Its files
	// are removed only once the new run's spec, data and Init model have
	// all been read.
	Force bool
	// Version is trnn's version, recorded in the checkpoint and model.onnx.
	Version string
	// Progress receives the run's progress; nil reports nothing.
	Progress Progress
}

// RunInfo describes a run as Train starts it, once its data are loaded and
// its directory is ready.
type RunInfo struct {
	Name    string // the spec's name
	Dir     string // the run directory
	Train   int    // training sequences
	Val     int    // validation sequences; 0 without validation
	Test    int    // test sequences held out; 0 without a test set
	Monitor string // the metric validation monitors
	Epochs  int    // epochs the run has in all
	Resumed bool   // the run continues from its checkpoint
	Done    int    // epochs the checkpoint holds (resumed runs)
	Stopped bool   // early stopping had ended the resumed run
}

// StandardisedLossNote is what a run with outputs.normalize_targets says
// before its first epoch: its training losses and its validation figures
// are on different scales, which would otherwise read as a bug.
const StandardisedLossNote = "train_loss and train_final_loss are in standardised units (outputs.normalize_targets); val_loss and the metrics are in the data's units"

// ErrResumeConflict is returned when a Config resumes a run and also sets
// what only the run itself decides: a spec or program, data, Init, Seed,
// BatchSize, LearningRate, or another directory.
var ErrResumeConflict = errors.New("a resumed run keeps its own spec and data; only the number of epochs may change")

// Train runs a whole training job and owns its run directory: it compiles
// the spec (or continues the run in cfg.Resume), loads the data and holds
// out the test and validation splits, starts from the seeded initial
// weights, cfg.Init's or the checkpoint's, and trains, writing model.onnx,
// checkpoint.trnn, metrics.csv and curves.png after every epoch; with a
// test set (training.test) it then evaluates model.onnx on it and writes
// test.json (Result.Test). A directory that already holds any of these
// files is refused unless cfg.Force, and even then its files stay until
// everything else has been checked.
//
// Train holds an exclusive lock on the run directory (fileio.LockDir) from
// before it reads anything there until it returns: a second Train on the
// same directory, in this process or another, is refused with the
// holder's process id. Under the lock it removes the temporary files that
// killed runs left there. The checkpoint fingerprints the data files, and
// a resumed run whose data changed is refused unless cfg.AllowDataChange.
//
// Errors name the file or field at fault. When ctx ends the run early, Train
// returns ErrInterrupted with a Result naming the run directory and the
// epochs its checkpoint holds (its Program is nil): the run continues with
// cfg.Resume set to that directory.
func Train(ctx context.Context, cfg Config) (*Result, error) {
	r := &run{cfg: cfg}
	defer r.unlock()
	if err := r.setup(); err != nil {
		return nil, err
	}
	if err := r.loadData(); err != nil {
		return nil, err
	}
	if err := r.checkData(); err != nil {
		return nil, err
	}
	tr, err := r.newTrainer()
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	h := &tr.header
	idle := r.resume != nil && (h.Stopped || h.Epoch >= r.spec.Training.Epochs)
	if p := cfg.Progress; p != nil {
		info := RunInfo{Name: r.spec.Name, Dir: r.dir, Train: r.train.N(), Monitor: r.spec.Training.Validation.Monitor,
			Epochs: r.spec.Training.Epochs, Resumed: r.resume != nil, Done: h.Epoch, Stopped: h.Stopped}
		if r.val != nil {
			info.Val = r.val.N()
		}
		if r.test != nil {
			info.Test = r.test.N()
		}
		p.Start(info)
		if r.spec.Outputs.NormalizeTargets {
			p.Note(StandardisedLossNote)
		}
		if r.stream != nil {
			p.Note(fmt.Sprintf("%s: %d training sequences are streamed through a shuffle buffer of %d (data.shuffle_buffer)", r.trainFile, r.train.N(), r.stream.buffer))
		}
	}
	if idle {
		res := tr.result()
		res.Dir = r.dir
		return r.finishTest(res)
	}
	done := h.Epoch
	res, err := tr.Train(ctx)
	if errors.Is(err, ErrInterrupted) {
		return &Result{Dir: r.dir, Epochs: h.Epoch, Trained: h.Epoch - done, Best: h.Best, Stopped: h.Stopped,
			History: h.History, ValMetric: r.spec.Training.Validation.Monitor}, err
	}
	if err != nil {
		return nil, err
	}
	res.Dir, res.Trained = r.dir, res.Epochs-done
	return r.finishTest(res)
}

// run is a training job being set up: its spec and program, the run it
// resumes, where its data and run directory are, the data once loaded with
// their fingerprints, and the run directory's lock once taken.
type run struct {
	cfg                Config
	spec               *compiler.Spec
	prog               *compiler.Program
	resume             *Checkpoint
	trainFile, valFile string
	dir                string
	train, val         *data.Dataset
	trainFP, valFP     *DataFingerprint
	testFile           string        // "" without a test file
	test               *data.Dataset // nil without a test set
	testFP             *DataFingerprint
	release            func() // releases the run directory's lock; nil until taken
	// stream reads the training data each epoch when the file has more
	// sequences than the shuffle buffer (train is then its skeleton), and
	// sample holds a few of them to check exports on; both nil otherwise.
	stream *seqStream
	sample *data.Dataset
}

// setup resolves what the Config asks for: the spec with its overrides,
// compiled; the data files; and the run directory, which must not hold a
// run unless the job resumes it or cfg.Force.
func (r *run) setup() error {
	cfg := &r.cfg
	if err := r.resolveSpec(); err != nil {
		return err
	}
	spec := r.spec
	r.trainFile = cfg.Data
	if r.trainFile == "" {
		if spec.Data.Train == "" {
			where := cfg.SpecFile
			if where == "" {
				where = "spec " + spec.Name
			}
			return fmt.Errorf("%s: data.train is not set; give the training data with --data FILE", where)
		}
		r.trainFile = spec.Path(spec.Data.Train)
	}
	r.valFile = cfg.Validation
	if r.valFile == "" && spec.Training.Validation.File != "" {
		r.valFile = spec.Path(spec.Training.Validation.File)
	}
	r.testFile = spec.Path(spec.Training.Test.File)
	if err := r.checkSpecPaths(); err != nil {
		return err
	}
	r.dir = cfg.Out
	if r.dir == "" {
		r.dir = filepath.Join("runs", spec.Name)
	}
	if r.resume != nil {
		return nil
	}
	if err := r.lock(r.dir); err != nil {
		return err
	}
	return checkRunDir(r.dir, cfg.Force)
}

// lock takes the lock on the run directory dir (see fileio.LockDir),
// unless this run holds it already or dir does not exist yet: a directory
// is locked before anything in it is read or written, and one that does
// not exist is created and locked only once the run is ready to start
// (prepareRunDir), so that a run refused early leaves nothing behind.
// Holding the lock, the run removes the temporary files of its outputs
// that a killed run left behind: no other run can be writing them.
func (r *run) lock(dir string) error {
	if r.release != nil {
		return nil
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil // the error, if any, comes from what reads or creates dir
	}
	release, err := fileio.LockDir(dir)
	if err != nil {
		return err
	}
	r.release = release
	atomicfile.RemoveStale(dir, runFiles...)
	return nil
}

// unlock releases the run directory's lock, if taken.
func (r *run) unlock() {
	if r.release != nil {
		r.release()
		r.release = nil
	}
}

// resolveSpec finds the spec, from the checkpoint of the run resumed, the
// program given or the spec file, applies the overrides and compiles it.
// A resumed run's data files and directory replace the Config's.
func (r *run) resolveSpec() error {
	cfg := &r.cfg
	var err error
	switch {
	case cfg.Resume != "":
		if cfg.SpecFile != "" || cfg.Program != nil || cfg.Data != "" || cfg.Validation != "" || cfg.SeedSet || cfg.BatchSizeSet || cfg.LearningRateSet ||
			cfg.Init != "" || (cfg.Out != "" && cfg.Out != cfg.Resume) {
			return ErrResumeConflict
		}
		if err := r.lock(cfg.Resume); err != nil {
			return err
		}
		ckpt := filepath.Join(cfg.Resume, CheckpointFile)
		if r.resume, err = ReadCheckpoint(ckpt); err != nil {
			return err
		}
		if r.spec, err = compiler.Parse(ckpt+" (spec)", []byte(r.resume.Header.Spec)); err != nil {
			return err
		}
		r.spec.Dir = r.resume.Header.SpecDir
		cfg.Out = cfg.Resume
		cfg.Data, cfg.Validation = r.resume.Header.TrainFile, r.resume.Header.ValFile
	case cfg.Program != nil:
		return r.useProgram()
	default:
		if r.spec, err = compiler.ParseFile(cfg.SpecFile); err != nil {
			return err
		}
	}
	r.applyOverrides()
	r.prog, err = compiler.Compile(r.spec)
	return err
}

// useProgram takes cfg.Program as compiled. Overrides of the training plan
// would call for compiling anew (the seed initialises the weights), so
// they are refused; a validation file is recorded in a copy of its spec.
func (r *run) useProgram() error {
	cfg := &r.cfg
	if cfg.EpochsSet || cfg.BatchSizeSet || cfg.SeedSet || cfg.LearningRateSet {
		return errors.New("runtime: Train: Config.Program is compiled already; set epochs, batch size, seed and learning rate in its spec")
	}
	if cfg.Program.Spec == nil || cfg.Program.Graph == nil {
		return errors.New("runtime: Train: Config.Program has no spec or no graph")
	}
	spec := *cfg.Program.Spec
	if cfg.Validation != "" {
		spec.Training.Validation.File = cfg.Validation
		spec.Training.Validation.Split = 0
	}
	r.spec = &spec
	r.prog = &compiler.Program{Spec: r.spec, Graph: cfg.Program.Graph, Initialized: cfg.Program.Initialized}
	return nil
}

// applyOverrides sets the spec fields the Config replaces; Compile checks
// them, and its errors name the flag.
func (r *run) applyOverrides() {
	cfg, spec := &r.cfg, r.spec
	t := &spec.Training
	if cfg.EpochsSet {
		t.Epochs = cfg.Epochs
		spec.SetOrigin("training.epochs", "--epochs")
	}
	if cfg.SeedSet {
		t.Seed = cfg.Seed
		spec.SetOrigin("training.seed", "--seed")
	}
	if cfg.BatchSizeSet {
		t.BatchSize = cfg.BatchSize
		spec.SetOrigin("training.batch_size", "--batch-size")
	}
	if cfg.LearningRateSet {
		t.LearningRate = cfg.LearningRate
		spec.SetOrigin("training.learning_rate", "--learning-rate")
	}
	if cfg.Validation != "" && cfg.Resume == "" {
		t.Validation.File = cfg.Validation
		t.Validation.Split = 0
		spec.SetOrigin("training.validation.file", "--validation")
	}
}

// loadData reads the training data and the validation file, or holds out
// the spec's validation split of the training data. Training data that
// loadStream can stream is not loaded.
func (r *run) loadData() error {
	schema := DataSchema(r.spec)
	if ok, err := r.loadStream(schema); ok || err != nil {
		return err
	}
	all, err := data.Load(r.trainFile, schema)
	if err != nil {
		return err
	}
	r.train = all
	if err := r.holdOutTest(schema); err != nil {
		return err
	}
	if r.valFile != "" {
		r.val, err = data.Load(r.valFile, schema)
		return err
	}
	if s := r.spec.Training.Validation.Split; s > 0 {
		r.train, r.val = r.train.Split(r.valFraction(), r.spec.Training.Seed)
		if r.val.N() == 0 || r.train.N() == 0 {
			return fmt.Errorf("%s: %d sequences are too few to hold out training.validation.split = %g", r.trainFile, all.N(), s)
		}
	}
	return nil
}

// checkData fingerprints the data files for the checkpoint and, when the
// run resumes, compares them with the fingerprints its checkpoint holds: a
// run continued on other data would have a different validation split and
// mix two data sets in one set of weights. Checkpoints written before
// fingerprints were recorded have none to compare.
func (r *run) checkData() (err error) {
	if r.trainFP, err = fingerprint(r.trainFile); err != nil {
		return fmt.Errorf("%s: %v", r.trainFile, err)
	}
	if r.valFile != "" {
		if r.valFP, err = fingerprint(r.valFile); err != nil {
			return fmt.Errorf("%s: %v", r.valFile, err)
		}
	}
	if r.testFile != "" {
		if r.testFP, err = fingerprint(r.testFile); err != nil {
			return fmt.Errorf("%s: %v", r.testFile, err)
		}
	}
	if r.resume == nil || r.cfg.AllowDataChange {
		return nil
	}
	h := r.resume.Header
	for _, c := range []struct {
		what, file string
		then, now  *DataFingerprint
	}{{"training", r.trainFile, h.TrainData, r.trainFP}, {"validation", r.valFile, h.ValData, r.valFP}, {"test", r.testFile, h.TestData, r.testFP}} {
		if c.then != nil && c.now != nil && *c.then != *c.now {
			return fmt.Errorf("%s: the %s data changed since the run started (then %v, now %v); resume with --allow-data-change to continue on the new data",
				c.file, c.what, c.then, c.now)
		}
	}
	return nil
}

// newTrainer prepares the trainer, starting from cfg.Init's weights when it
// is set, and only then, with everything checked, replaces an earlier run's
// files (or, resuming, rewrites the reports from the checkpoint's history).
func (r *run) newTrainer() (_ *Trainer, err error) {
	prog := r.prog
	if r.cfg.Init != "" {
		if prog, err = initProgram(r.prog, r.cfg.Init); err != nil {
			return nil, err
		}
	}
	opts := Options{
		// Absolute data paths in the checkpoint: a resumed run finds its
		// data from any working directory.
		Dir: r.dir, Version: r.cfg.Version, Resume: r.resume, TrainFile: absPath(r.trainFile), ValFile: absPath(r.valFile),
		TrainData: r.trainFP, ValData: r.valFP, InitFile: r.cfg.Init,
		TestFile: absPath(r.testFile), TestData: r.testFP,
		Export: func(p *compiler.Program, path string) error {
			if err := WriteModelFile(path, p, export.Options{Version: r.cfg.Version}); err != nil {
				return err
			}
			d := r.val
			switch {
			case d != nil:
			case r.sample != nil:
				d = r.sample
			default:
				d = r.train
			}
			return verifyExport(path, p, d)
		},
		Progress: r.cfg.Progress,
		// The model's own statistics (or none, mean 0 and std 1) come
		// with its weights.
		KeepStatistics: r.cfg.Init != "",
		stream:         r.stream,
	}
	tr, err := NewTrainer(prog, r.train, r.val, opts)
	if err != nil {
		return nil, err
	}
	if r.resume != nil {
		err = tr.writeReports()
	} else {
		err = r.prepareRunDir()
	}
	if err != nil {
		tr.Close()
		return nil, err
	}
	return tr, nil
}

// initProgram is prog with the weights of the ONNX model file (or of the
// checkpoint or run directory file names, see readInitModel), statistics
// included, in place of its own: every parameter comes from the model, so
// no initialiser runs. prog itself is not modified: its graph is shared
// but for the parameters.
func initProgram(prog *compiler.Program, file string) (*compiler.Program, error) {
	src, file, err := readInitModel(file)
	if err != nil {
		return nil, err
	}
	p := ownParams(prog)
	if err := export.InitParams(file, src, p.Graph); err != nil {
		return nil, err
	}
	p.Initialized = true
	return p, nil
}

// absPath is path made absolute, or "" for "".
func absPath(path string) string {
	if path == "" {
		return ""
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// runFiles are the files Train writes in a run directory.
var runFiles = []string{CheckpointFile, ModelFile, MetricsFile, CurvesFile, TestFile}

// checkRunDir refuses, unless force is set, to train into a directory that
// holds any of trnn's outputs: not only an earlier run's checkpoint, but
// also a model.onnx or metrics.csv without one, which the run would
// silently replace.
func checkRunDir(dir string, force bool) error {
	if force {
		return nil
	}
	var found []string
	for _, name := range runFiles {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			found = append(found, name)
		}
	}
	switch {
	case len(found) == 0:
		return nil
	case found[0] == CheckpointFile:
		return fmt.Errorf("%s already holds a run (%s); continue it with --resume %s, or start over with --force",
			dir, CheckpointFile, dir)
	}
	return fmt.Errorf("%s already holds trnn outputs (%s) but no checkpoint to resume; replace them with --force, or choose another directory",
		dir, strings.Join(found, ", "))
}

// prepareRunDir creates and locks the run directory, if not yet done,
// checks it again (another run may have finished there meanwhile), and
// removes an earlier run's files when cfg.Force is set.
func (r *run) prepareRunDir() error {
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return fmt.Errorf("%s: cannot create the run directory: %v", r.dir, fileio.Bare(err))
	}
	if err := r.lock(r.dir); err != nil {
		return err
	}
	if err := checkRunDir(r.dir, r.cfg.Force); err != nil {
		return err
	}
	if r.cfg.Force {
		for _, name := range runFiles {
			os.Remove(filepath.Join(r.dir, name))
		}
	}
	return nil
}
