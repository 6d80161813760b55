package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/compiler"
	"github.com/trnn/trnn/data"
)

func init() { subcommands = append(subcommands, newPredictCmd) }

func newPredictCmd() *cobra.Command {
	var (
		dataFile, out string
		pf            predictFlags
	)
	c := &cobra.Command{
		Use:   "predict MODEL --data FILE",
		Short: "Write each sequence's predicted probabilities as CSV",
		Long: `Predict runs MODEL (an exported model.onnx, a checkpoint, or a
run directory, which stands for its model.onnx) through the Go
runtime and writes a CSV with a header and one row per sequence: its id (the
CSV id column, or the sequence's index in an NPZ file), then the probability
of each label, in a column p_<label>, from the sequence's last valid step.
A model of classes writes p_<class> for each class; a regression model
writes its values in columns v_<target>. The data needs no labels;
--with-labels adds the file's own, by label name.

With --per-step it writes one row per valid step instead (id, step, then the
probabilities the model gives after reading the sequence up to that step);
the step is the CSV step column's value, or the step's position from 1. A
model trained on per-step labels (outputs.per_step) always writes one row
per step.
Models exported by trnn give these in one pass over each sequence; for
other models trnn runs every prefix, in batches of bounded size, which
takes time quadratic in the sequences' lengths.

--columns ROLE=NAME,... reads a CSV whose columns are named differently
from the model's names: the roles are id, step, its features and labels.

A model whose output is not finite for some sequence is an error naming the
sequences by id, and nothing is written. The output file may not be the model
or the data file, under any name.`,
		Example: `  trnn predict runs/quickstart/model.onnx --data examples/quickstart.npz -o predictions.csv
  trnn predict model.onnx --data patients.csv --per-step -o steps.csv
  trnn predict model.onnx --data new.csv --columns id=patient,step=hour,f0=heart_rate`,
		Args: exactArgs(1, "one model file"),
		RunE: func(c *cobra.Command, args []string) error {
			if dataFile == "" {
				return usageError{fmt.Errorf("trnn predict: --data FILE is required")}
			}
			toFile := out != "" && out != "-"
			if toFile {
				if err := checkScoresOutput(c.CommandPath(), out, args[0], dataFile); err != nil {
					return err
				}
			}
			sess, spec, err := openModel(args[0])
			if err != nil {
				return err
			}
			write, err := predictionWriter(sess, spec, dataFile, pf)
			if err != nil {
				return err
			}
			if !toFile {
				bw := bufio.NewWriter(c.OutOrStdout())
				if err := write(bw); err != nil {
					return err
				}
				return bw.Flush()
			}
			return writeOutput(out, write)
		},
	}
	c.Flags().StringVar(&dataFile, "data", "", "data to predict (required): an .npz, .csv or .parquet file, or a folder in the episodes layout")
	c.Flags().StringVarP(&out, "output", "o", "", "output CSV file, its folder created if missing (default: standard output)")
	c.Flags().BoolVar(&pf.perStep, "per-step", false, "one row per valid step instead of one per sequence")
	c.Flags().BoolVar(&pf.withLabels, "with-labels", false, "add the data's labels to each row (the data must have them)")
	c.Flags().StringVar(&pf.columns, "columns", "", "ROLE=NAME,...: the CSV's column for each role (id, step, the model's features and labels)")
	return c
}

// sequence returns sequence i of d as [steps][features] views of its data.
func sequence(d *data.Dataset, i int) [][]float32 {
	L := d.Len(i)
	s := make([][]float32, L)
	for t := range s {
		s[t] = d.X[i][t*d.F : (t+1)*d.F] // uncapped: Predict copies the row at once
	}
	return s
}

func formatProb(p float32) string { return strconv.FormatFloat(float64(p), 'g', -1, 32) }

// The prediction writers write through a csv.Writer into w, which the caller
// buffers and flushes: an error of w itself is sticky there and is reported
// by that flush, naming the output file, so the writers return only the
// model's errors.

// predColumns names the columns of the predictions: one per model output,
// p_<label> or p_<class> for a probability and v_<target> for a value
// (never the name itself, which a join with the input would confuse with
// its labels), then the data's label columns under their own names.
type predColumns struct {
	out, labels []string
}

func newPredColumns(o compiler.Outputs) predColumns {
	prefix := "p_"
	if o.Kind() == compiler.KindTargets {
		prefix = "v_"
	}
	c := predColumns{labels: o.LabelColumns()}
	for _, n := range o.Names() {
		c.out = append(c.out, prefix+n)
	}
	return c
}

// predictionHeader is the header row: the first columns, the outputs, then,
// when the rows carry them, the labels.
func predictionHeader(first []string, cols predColumns, withLabels bool) []string {
	h := append(slices.Clone(first), cols.out...)
	if withLabels {
		h = append(h, cols.labels...)
	}
	return h
}

// appendLabels appends sequence i's labels to rec, when d has them; with
// per-step labels, those of step t, empty where the step has none.
func appendLabels(rec []string, d *data.Dataset, i, t int) []string {
	labels := d.Labels(i)
	if d.YStep != nil {
		labels = d.YStep[i][t*d.K : (t+1)*d.K]
	}
	for _, v := range labels {
		if math.IsNaN(float64(v)) {
			rec = append(rec, "")
		} else {
			rec = append(rec, strconv.FormatFloat(float64(v), 'g', -1, 32))
		}
	}
	return rec
}

func writePredictions(w io.Writer, sess *trnn.Session, d *data.Dataset, cols predColumns) error {
	probs, err := predictAll(sess, d)
	if err != nil {
		return err
	}
	W := len(cols.out)
	cw := csv.NewWriter(w)
	defer cw.Flush()
	cw.Write(predictionHeader([]string{"id"}, cols, d.Labelled()))
	var rec []string
	for i := 0; i < d.N(); i++ {
		rec = append(rec[:0], d.ID(i))
		for _, p := range probs[i*W : (i+1)*W] {
			rec = append(rec, formatProb(p))
		}
		cw.Write(appendLabels(rec, d, i, d.Len(i)-1))
	}
	return nil
}

// stepChunk bounds the steps PredictSteps is given at once, so that the
// rows held before they are written stay small beside the data.
const stepChunk = 1 << 16

// writeStepPredictions writes the probabilities after every valid step,
// asking for them a chunk of sequences at a time.
func writeStepPredictions(w io.Writer, sess *trnn.Session, d *data.Dataset, cols predColumns) error {
	cw := csv.NewWriter(w)
	defer cw.Flush()
	cw.Write(predictionHeader([]string{"id", "step"}, cols, d.Labelled()))
	var rec []string
	for lo := 0; lo < d.N(); {
		var seqs [][][]float32
		steps := 0
		for hi := lo; hi < d.N() && (len(seqs) == 0 || steps+d.Len(hi) <= stepChunk); hi++ {
			seqs = append(seqs, sequence(d, hi))
			steps += d.Len(hi)
		}
		rows, err := sess.PredictSteps(seqs)
		if err != nil {
			return seqError(err, d, lo)
		}
		for j, seq := range rows {
			for t, row := range seq {
				rec = append(rec[:0], d.ID(lo+j), d.StepValue(lo+j, t))
				for _, p := range row {
					rec = append(rec, formatProb(p))
				}
				cw.Write(appendLabels(rec, d, lo+j, t))
			}
		}
		lo += len(seqs)
	}
	return nil
}

// seqError rewrites Predict's and PredictSteps' refusals of values that are
// not finite, which count the sequences of one call from 0 (sequence lo of
// d is the call's first), to name d's sequences by id and their steps as
// the data and the per-step output do (Dataset.StepValue).
func seqError(err error, d *data.Dataset, lo int) error {
	var in *trnn.NonFiniteInputError
	if errors.As(err, &in) {
		feature := strconv.Itoa(in.Feature)
		if d.FeatureNames != nil {
			feature = strconv.Quote(d.FeatureNames[in.Feature])
		}
		what := "NaN (a missing value), and the model does not impute missing values"
		if !math.IsNaN(float64(in.Value)) {
			what = fmt.Sprintf("%v, expected a finite number", in.Value)
		}
		return fmt.Errorf("%s: sequence %s step %s: feature %s is %s", in.Model, d.ID(lo+in.Seq), d.StepValue(lo+in.Seq, in.Step), feature, what)
	}
	var out *trnn.NonFiniteOutputError
	if !errors.As(err, &out) {
		return err
	}
	items := make([]string, len(out.Seqs))
	for j, i := range out.Seqs {
		items[j] = d.ID(lo + i)
		if out.Steps != nil {
			items[j] += fmt.Sprintf(" (from step %s)", d.StepValue(lo+i, out.Steps[j]))
		}
	}
	const most = 10
	list := strings.Join(items[:min(most, len(items))], ", ")
	if len(items) > most {
		list += fmt.Sprintf(" and %d more", len(items)-most)
	}
	which := "the sequence with id"
	if len(items) > 1 {
		which = "the sequences with ids"
	}
	return fmt.Errorf("%s: the model's output is not finite (NaN or ±Inf) for %s %s of %s", out.Model, which, list, d.Source)
}
