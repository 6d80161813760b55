package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trnn/trnn/data"
)

func init() { subcommands = append(subcommands, newSynthCommand) }

// synthLong is synth's help text.
const synthLong = `synth writes synthetic labelled sequences whose evidence sits in the first
few steps of long sequences: each sequence has an early event in one or two
features whose sign gives the label (flipped for 5% of them), then only
noise that looks the same for both classes. A model trained on the final
step alone must carry the evidence through many steps; target replication
gives every step a direct signal. docs/data.md tells the whole story.

The file kind follows the extension of FILE: .npz (x float32 [N, T, F],
lengths int32 [N], y float32 [N] or [N, K]), .csv or .parquet (long form:
columns id, step, f0, f1, ..., then y for one label or y0, y1, ...). A name
without an extension (or ending in /) is a new folder in the episodes
layout: listfile.csv (stay, y_true) and one CSV file per sequence with a
time column Hours. The same flags and seed always give the same data.

--task makes data shaped like the other mimic3-benchmarks tasks, in any of
the kinds above, with the same early evidence: decompensation (a 0/1 label
at every step, 1 in the last 24 steps of the sequences that deteriorate),
los (the remaining steps at every step, in 10 buckets: classes b0 ... b9),
los-regression (the remaining steps at every step, a number), classes (one
of 4 classes per sequence, c0 ... c3) and regression (one number per
sequence). The first four steps of a sequence have no per-step label: NaN
in NPZ (y is [N, T], NaN at padding too), an empty cell or a null in the
label column y of CSV and Parquet, and no row in an episodes folder, whose
listfile.csv has a row per labelled step (stay, period_length: the step's
Hours, y_true), as mimic3-benchmarks' has. synth then prints the spec
sections that read what it wrote.

--gaps and --categorical make the data a clinical chart looks like: values
go missing (NaN in NPZ, empty cells in CSV, nulls in Parquet) at rates that
differ by feature, whole steps go missing sometimes, and two Glasgow coma
scale items follow the numeric features as category names (their index in
NPZ). The first gcs_eye observation tells the label too, so forward fill
and missingness indicators matter. --irregular gives the steps times within
their hour (read them with data.bin: 1). synth then prints the spec
sections that read what it wrote.

--mimic3 writes ICU stays charted as in mimic3-benchmarks' task folders, for
examples/mimic3-ihm.yaml and examples/mimic3-phenotyping.yaml (docs/data.md).`

// synthExample is synth's help examples.
const synthExample = `  # the quickstart's data set
  trnn synth -o examples/quickstart.npz

  # 500 sequences of 10 to 30 steps, 4 features, 3 labels, as CSV
  trnn synth -o small.csv --n 500 --min-len 10 --max-len 30 --features 4 --labels 3

  # a chart with 30% of the values missing and two categorical features, as Parquet
  trnn synth -o chart.parquet --gaps 0.3 --categorical

  # such a chart as an episodes folder (listfile.csv and one CSV per stay), with irregular times
  trnn synth -o episodes/ --gaps 0.3 --categorical --irregular

  # per-step labels for examples/mimic3-decompensation.yaml
  trnn synth -o examples/decompensation.npz --task decompensation --n 1000 --min-len 40 --max-len 120

  # length of stay in 10 buckets, as an episodes folder
  trnn synth -o los/ --task los --n 1000 --min-len 48 --max-len 96

  # 3000 ICU stays of 48 hours, in-hospital mortality (--labels 25: phenotypes)
  trnn synth --mimic3 -o examples/data/mimic3-ihm/ --n 3000`

func newSynthCommand() *cobra.Command {
	o := data.DefaultSynthOptions()
	var out, task string
	c := &cobra.Command{
		Use:     "synth -o FILE",
		Short:   "Generate a labelled sequence data set (NPZ, CSV, Parquet or an episodes folder)",
		Long:    synthLong,
		Example: synthExample,
		RunE:    func(c *cobra.Command, args []string) error { return runSynth(c, out, task, o) },
	}
	c.Args = func(c *cobra.Command, args []string) error {
		if len(args) != 0 {
			return usageError{fmt.Errorf("%s: takes no arguments, got %q (see 'trnn %s --help')", c.CommandPath(), args[0], c.Name())}
		}
		return nil
	}
	fl := c.Flags()
	fl.StringVarP(&out, "output", "o", "", "file to write, .npz, .csv or .parquet (its folder created if missing), or a new folder for the episodes layout")
	fl.IntVar(&o.N, "n", o.N, "number of sequences")
	fl.IntVar(&o.MinLen, "min-len", o.MinLen, "shortest sequence, in steps")
	fl.IntVar(&o.MaxLen, "max-len", o.MaxLen, "longest sequence, in steps")
	fl.IntVar(&o.F, "features", o.F, "features per step")
	fl.IntVar(&o.K, "labels", o.K, "labels per sequence (1 = binary)")
	fl.Uint64Var(&o.Seed, "seed", o.Seed, "random seed")
	fl.Float64Var(&o.PosRate, "pos-rate", o.PosRate, "probability that a label is 1")
	fl.Float64Var(&o.Gaps, "gaps", 0, "probability that an observation is missing, in [0, 1): features charted at different rates, whole steps missing sometimes")
	fl.BoolVar(&o.Categorical, "categorical", false, "add two categorical features (Glasgow coma scale items gcs_eye and gcs_verbal); an early gcs_eye tells the label")
	fl.BoolVar(&o.Irregular, "irregular", false, "steps get irregular times within each hour, and steps with nothing observed are left out (read with data.bin: 1); not for .npz")
	fl.StringVar(&task, "task", "", "a task shaped like mimic3-benchmarks': "+strings.Join(data.SynthTasks, ", "))
	fl.Bool("mimic3", false, "ICU stays charted like MIMIC-III with mimic3-benchmarks' 17 variables, as an episodes folder (or .csv, .parquet): in-hospital mortality, or with --labels 25 the phenotypes; lengths in hours (default 48)")
	return c
}

// runSynth writes the data of o to out and says what it wrote.
func runSynth(c *cobra.Command, out, task string, o data.SynthOptions) error {
	if mimic3, _ := c.Flags().GetBool("mimic3"); mimic3 {
		return runSynthMimic3(c, out, o)
	}
	if out == "" {
		return usageError{fmt.Errorf("%s: -o FILE is required (see 'trnn %s --help')", c.CommandPath(), c.Name())}
	}
	if err := o.Validate(); err != nil {
		return usageError{fmt.Errorf("%s: %v", c.CommandPath(), err)}
	}
	kind, err := synthKind(c.CommandPath(), out, o)
	if err != nil {
		return err
	}
	if task != "" {
		return synthTask(c, task, out, kind, o)
	}
	d := data.Synth(o)
	if err := writeSynth(out, kind, d, o); err != nil {
		return err
	}
	pos := 0
	for _, p := range d.Positives() {
		pos += p
	}
	fmt.Fprintf(c.OutOrStdout(), "wrote %s: %d sequences of %d to %d steps (%d in all), %d features, %d label(s), %.1f%% positive\n",
		out, d.N(), o.MinLen, o.MaxLen, d.Steps(), d.F, d.K, 100*float64(pos)/float64(d.N()*d.K))
	if spec := synthSpec(out, kind, "", o); spec != "" {
		fmt.Fprintf(c.OutOrStdout(), "a spec reads it with:\n%s", spec)
	}
	return nil
}

// synthTask writes the data of one of data.SynthTasks in the kind of file
// or folder kind, and prints the spec sections that read it.
func synthTask(c *cobra.Command, task, out, kind string, o data.SynthOptions) error {
	for _, name := range []string{"labels", "gaps", "categorical", "irregular"} {
		if c.Flags().Changed(name) {
			return usageError{fmt.Errorf("%s: --%s does not apply to --task: a task's data has one label, on a regular grid of steps with every value observed", c.CommandPath(), name)}
		}
	}
	d, err := data.SynthTask(task, o)
	if err != nil {
		return usageError{fmt.Errorf("%s: %v", c.CommandPath(), err)}
	}
	opt := data.TableOptions{Columns: data.SynthColumns(o.F, 1), Classes: data.SynthTaskClasses(task)}
	if kind != synthEpisodes {
		if err := makeParent(out); err != nil {
			return err
		}
	}
	switch kind {
	case synthEpisodes:
		err = data.WriteEpisodes(out, d, opt)
	case ".npz":
		err = data.WriteNPZ(out, d)
	default:
		err = data.WriteTable(out, d, opt)
	}
	if err != nil {
		return err
	}
	labels := d.N()
	if d.YStep != nil {
		labels = 0
		for _, y := range d.YStep {
			for _, v := range y {
				if !math.IsNaN(float64(v)) {
					labels++
				}
			}
		}
	}
	fmt.Fprintf(c.OutOrStdout(), "wrote %s: task %s, %d sequences of %d to %d steps (%d in all), %d features, %d labels\n",
		out, task, d.N(), o.MinLen, o.MaxLen, d.Steps(), d.F, labels)
	fmt.Fprintf(c.OutOrStdout(), "a spec reads it with:\n%s", synthSpec(out, kind, task, o))
	return nil
}
