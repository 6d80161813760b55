package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/runtime"
)

func init() { subcommands = append(subcommands, newTrainCmd) }

type trainFlags struct {
	out, data, validation, init, resume string
	epochs, batchSize                   int
	seed                                uint64
	lr                                  float64
	quiet, force, allowDataChange       bool
	epochsSet, batchSet, seedSet, lrSet bool // given on the command line
}

func newTrainCmd() *cobra.Command {
	var f trainFlags
	var cpuProfile string
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
DIR, which ends with exactly the weights an uninterrupted run would have.
The checkpoint fingerprints the data files (size and SHA-256), and --resume
refuses data that changed since unless --allow-data-change is given.

A directory that holds any of these files is refused unless --force. While
a run trains, its directory is locked: a second run on it is refused with
the first one's process id.`,
		Example: `  trnn train examples/quickstart.yaml
  trnn train spec.yaml --data train.npz --validation val.npz --epochs 30 --learning-rate 0.003 -o runs/exp1
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
			f.lrSet = fl.Changed("learning-rate")
			stop, err := startCPUProfile(cpuProfile)
			if err != nil {
				return err
			}
			err = runTrain(c, spec, &f)
			return errors.Join(err, stop())
		},
	}
	fl := c.Flags()
	fl.StringVarP(&f.out, "output", "o", "", "run directory (default runs/<spec name>)")
	fl.StringVar(&f.data, "data", "", "training data (an .npz, .csv or .parquet file, or a folder in the episodes layout), instead of the spec's data.train")
	fl.StringVar(&f.validation, "validation", "", "validation data file, instead of a split of the training data")
	fl.IntVar(&f.epochs, "epochs", 0, "number of epochs (overrides training.epochs)")
	fl.Uint64Var(&f.seed, "seed", 0, "random seed (overrides training.seed)")
	fl.IntVar(&f.batchSize, "batch-size", 0, "sequences per batch (overrides training.batch_size)")
	fl.Float64Var(&f.lr, "learning-rate", 0, "learning rate (overrides training.learning_rate)")
	fl.StringVar(&f.init, "init", "", "start from the weights of this model (same architecture): an ONNX file, a checkpoint or a run directory")
	fl.StringVar(&f.resume, "resume", "", "continue the run in this directory (or of this checkpoint file) from its checkpoint")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print nothing but errors")
	fl.BoolVar(&f.force, "force", false, "start over in a run directory that already holds a run or trnn's outputs")
	fl.BoolVar(&f.allowDataChange, "allow-data-change", false, "with --resume: continue although the data files changed since the checkpoint")
	fl.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof reads it)")
	return c
}

func runTrain(c *cobra.Command, specPath string, f *trainFlags) error {
	if specPath != "" {
		if err := checkSpecPath(specPath, "trnn train"); err != nil {
			return err
		}
	}
	if sniff(f.resume) == kindCheckpoint {
		f.resume = filepath.Dir(f.resume) // the run directory the checkpoint is in
	}
	cfg := runtime.Config{
		SpecFile: specPath, Out: f.out, Data: f.data, Validation: f.validation, Init: f.init, Resume: f.resume,
		Epochs: f.epochs, BatchSize: f.batchSize, Seed: f.seed,
		EpochsSet: f.epochsSet, BatchSizeSet: f.batchSet, SeedSet: f.seedSet,
		LearningRate: f.lr, LearningRateSet: f.lrSet,
		Force: f.force, AllowDataChange: f.allowDataChange, Version: version,
	}
	var p *progress // nil prints nothing but errors (--quiet)
	if !f.quiet {
		p = newProgress(c.OutOrStdout(), c.ErrOrStderr())
		cfg.Progress = p
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := runtime.Train(ctx, cfg)
	switch {
	case errors.Is(err, runtime.ErrInterrupted):
		return fmt.Errorf("training interrupted; continue with: trnn train --resume %s", res.Dir)
	case errors.Is(err, runtime.ErrResumeConflict):
		return usageError{errors.New("trnn train --resume DIR continues a run with its own spec and data; only --epochs may change")}
	case err != nil && badOverride(err):
		return usageError{err}
	case err != nil:
		return err
	}
	if p != nil {
		p.Done(res)
	}
	return nil
}

// badOverride reports whether err is the spec's refusal of a value given on
// the command line (--epochs 0, --learning-rate -1, --validation x.txt): a
// bad command line rather than a bad spec. Such errors have no position in
// a file and name the flag, which Spec.SetOrigin recorded.
func badOverride(err error) bool {
	var list compiler.ErrorList
	if !errors.As(err, &list) {
		return false
	}
	for _, e := range list {
		if e.Pos.File == "" && strings.HasPrefix(e.Msg, "--") {
			return true
		}
	}
	return false
}
