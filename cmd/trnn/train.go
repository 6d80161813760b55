package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/export"
	"github.com/trnn/trnn/runtime"
)

func init() { subcommands = append(subcommands, newTrainCmd) }

type trainFlags struct {
	out, data, validation, init, resume string
	epochs, batchSize                   int
	seed                                uint64
	quiet, force                        bool
	epochsSet, batchSet, seedSet        bool // given on the command line
}

func newTrainCmd() *cobra.Command {
	var f trainFlags
	c := &cobra.Command{
		Use:   "train SPEC",
		Short: "Train a model with target replication and write a run directory",
		Long: `Train compiles SPEC, trains it on the spec's data (or --data) with the
target-replication objective, validates on the final step after every epoch,
and writes the run directory (-o, default runs/<spec name>):

  model.onnx       the best epoch's model (the last epoch's without validation)
  checkpoint.trnn  everything needed to resume the run
  metrics.csv      one row per epoch: losses, validation metrics, seconds
  curves.png       losses and the monitored metric per epoch

Training can be interrupted (Ctrl-C, or killed) and continued with --resume
DIR, which ends with exactly the weights an uninterrupted run would have.`,
		Example: `  trnn train examples/quickstart.yaml
  trnn train spec.yaml --data train.npz --validation val.npz --epochs 30 -o runs/exp1
  trnn train --resume runs/exp1 --epochs 40
  trnn train spec.yaml --init pretrained.onnx -o runs/finetune`,
		Args: func(c *cobra.Command, args []string) error {
			if f.resume != "" && len(args) <= 1 || len(args) == 1 {
				return nil
			}
			return exactArgs(1, "one spec file")(c, args)
		},
		RunE: func(c *cobra.Command, args []string) error {
			spec := ""
			if len(args) == 1 {
				spec = args[0]
			}
			fl := c.Flags()
			f.epochsSet, f.batchSet, f.seedSet = fl.Changed("epochs"), fl.Changed("batch-size"), fl.Changed("seed")
			return runTrain(c, spec, &f)
		},
	}
	fl := c.Flags()
	fl.StringVarP(&f.out, "output", "o", "", "run directory (default runs/<spec name>)")
	fl.StringVar(&f.data, "data", "", "training data file (.npz or .csv), instead of the spec's data.train")
	fl.StringVar(&f.validation, "validation", "", "validation data file, instead of a split of the training data")
	fl.IntVar(&f.epochs, "epochs", 0, "number of epochs (overrides training.epochs)")
	fl.Uint64Var(&f.seed, "seed", 0, "random seed (overrides training.seed)")
	fl.IntVar(&f.batchSize, "batch-size", 0, "sequences per batch (overrides training.batch_size)")
	fl.StringVar(&f.init, "init", "", "start from the weights of this ONNX model (same architecture)")
	fl.StringVar(&f.resume, "resume", "", "continue the run in this directory from its checkpoint")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print nothing but errors")
	fl.BoolVar(&f.force, "force", false, "start over in a run directory that already holds a run")
	return c
}

func runTrain(c *cobra.Command, specPath string, f *trainFlags) error {
	stdout, stderr := c.OutOrStdout(), c.ErrOrStderr()
	if f.quiet {
		stdout = io.Discard
	}
	var (
		spec   *compiler.Spec
		resume *runtime.Checkpoint
		err    error
	)
	if f.resume != "" {
		if specPath != "" || f.data != "" || f.validation != "" || f.seedSet || f.batchSet || f.init != "" || (f.out != "" && f.out != f.resume) {
			return usageError{errors.New("trnn train --resume DIR continues a run with its own spec and data; only --epochs may change")}
		}
		ckpt := filepath.Join(f.resume, runtime.CheckpointFile)
		if resume, err = runtime.ReadCheckpoint(ckpt); err != nil {
			return err
		}
		if spec, err = compiler.Parse(ckpt+" (spec)", []byte(resume.Header.Spec)); err != nil {
			return err
		}
		spec.Dir = resume.Header.SpecDir
		f.out = f.resume
		f.data, f.validation = resume.Header.TrainFile, resume.Header.ValFile
	} else if spec, err = compiler.ParseFile(specPath); err != nil {
		return err
	}
	if err := applyOverrides(spec, f); err != nil {
		return err
	}
	prog, err := compiler.Compile(spec)
	if err != nil {
		if f.epochsSet && f.epochs < 1 || f.batchSet && f.batchSize < 1 {
			return usageError{err}
		}
		return err
	}
	trainFile := f.data
	if trainFile == "" {
		if spec.Data.Train == "" {
			return fmt.Errorf("%s: data.train is not set; give the training data with --data FILE", specPath)
		}
		trainFile = spec.Path(spec.Data.Train)
	}
	valFile := f.validation
	if valFile == "" && spec.Training.Validation.File != "" {
		valFile = spec.Path(spec.Training.Validation.File)
	}
	dir := f.out
	if dir == "" {
		dir = filepath.Join("runs", spec.Name)
	}
	if resume == nil {
		if err := checkRunDir(dir, f.force); err != nil {
			return err
		}
	}
	all, err := data.Load(trainFile, spec)
	if err != nil {
		return err
	}
	train, val := all, (*data.Dataset)(nil)
	if valFile != "" {
		if val, err = data.Load(valFile, spec); err != nil {
			return err
		}
	} else if s := spec.Training.Validation.Split; s > 0 {
		train, val = all.Split(s, spec.Training.Seed)
		if val.N() == 0 || train.N() == 0 {
			return fmt.Errorf("%s: %d sequences are too few to hold out training.validation.split = %g", trainFile, all.N(), s)
		}
	}

	opts := runtime.Options{
		// Absolute data paths in the checkpoint: --resume works from any
		// working directory.
		Dir: dir, Version: version, Resume: resume, TrainFile: absPath(trainFile), ValFile: absPath(valFile),
		Export: func(p *compiler.Program, path string) error {
			return export.WriteONNXFile(path, p, export.Options{Version: version})
		},
	}
	if !f.quiet {
		opts.Progress = newProgress(stdout, stderr, val != nil, spec.Training.Validation.Monitor)
	}
	tr, err := runtime.NewTrainer(prog, train, val, opts)
	if err != nil {
		return err
	}
	defer tr.Close()
	if f.init != "" {
		g, err := export.ReadONNX(f.init)
		if err != nil {
			return err
		}
		// The model's own statistics (or none) replace the ones just fitted.
		if err := tr.Model().InitFrom(f.init, g); err != nil {
			return err
		}
	}
	if resume == nil {
		// Only now, with everything checked, is an earlier run replaced.
		if err := prepareRunDir(dir, f.force); err != nil {
			return err
		}
	}
	if resume != nil {
		if err := tr.RewriteReports(); err != nil {
			return err
		}
	}

	fmt.Fprintf(stdout, "training %s: %d sequences", spec.Name, train.N())
	if val != nil {
		fmt.Fprintf(stdout, ", validating on %d (final step, monitoring %s)", val.N(), spec.Training.Validation.Monitor)
	}
	fmt.Fprintf(stdout, "; run directory %s\n", dir)
	if resume != nil {
		h := resume.Header
		switch {
		case h.Stopped:
			fmt.Fprintf(stdout, "the run was stopped early after epoch %d; nothing to resume\n", h.Epoch)
			return nil
		case h.Epoch >= spec.Training.Epochs:
			fmt.Fprintf(stdout, "the run already finished its %d epochs; give --epochs N to train longer\n", h.Epoch)
			return nil
		}
		fmt.Fprintf(stdout, "resuming after epoch %d of %d\n", h.Epoch, spec.Training.Epochs)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	res, err := tr.Train(ctx)
	if errors.Is(err, runtime.ErrInterrupted) {
		return fmt.Errorf("training interrupted; continue with: trnn train --resume %s", dir)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "done in %s: ", time.Since(start).Round(100*time.Millisecond))
	if res.Best != nil {
		fmt.Fprintf(stdout, "model.onnx holds epoch %d (val_%s %.4f)", res.Best.Epoch, res.Best.Metric, res.Best.Value)
	} else {
		fmt.Fprintf(stdout, "model.onnx holds epoch %d", res.Epochs)
	}
	fmt.Fprintf(stdout, "\n  %s\n  %s\n  %s\n  %s\n",
		filepath.Join(dir, runtime.ModelFile), filepath.Join(dir, runtime.CheckpointFile),
		filepath.Join(dir, runtime.MetricsFile), filepath.Join(dir, runtime.CurvesFile))
	return nil
}

// applyOverrides sets the spec fields given on the command line; errors
// in them name the flag (Compile checks them).
func applyOverrides(spec *compiler.Spec, f *trainFlags) error {
	t := &spec.Training
	if f.epochsSet {
		t.Epochs = f.epochs
		spec.SetOrigin("training.epochs", "--epochs")
	}
	if f.seedSet {
		t.Seed = f.seed
		spec.SetOrigin("training.seed", "--seed")
	}
	if f.batchSet {
		t.BatchSize = f.batchSize
		spec.SetOrigin("training.batch_size", "--batch-size")
	}
	if f.validation != "" && f.resume == "" {
		t.Validation.File = f.validation
		t.Validation.Split = 0
		spec.SetOrigin("training.validation.file", "--validation")
	}
	return nil
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

// checkRunDir refuses to train into a directory that holds an earlier run
// unless force is set.
func checkRunDir(dir string, force bool) error {
	if _, err := os.Stat(filepath.Join(dir, runtime.CheckpointFile)); err == nil && !force {
		return fmt.Errorf("%s already holds a run (%s); continue it with --resume %s, or start over with --force",
			dir, runtime.CheckpointFile, dir)
	}
	return nil
}

// prepareRunDir creates dir, removing an earlier run's files when force
// is set.
func prepareRunDir(dir string, force bool) error {
	if err := checkRunDir(dir, force); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s: cannot create the run directory: %v", dir, strings.TrimPrefix(err.Error(), "mkdir "+dir+": "))
	}
	if force {
		for _, name := range []string{runtime.CheckpointFile, runtime.MetricsFile, runtime.CurvesFile, runtime.ModelFile} {
			os.Remove(filepath.Join(dir, name))
		}
	}
	return nil
}
