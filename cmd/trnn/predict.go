package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/internal/atomicfile"
	"github.com/trnn/trnn/internal/fileio"
	"github.com/trnn/trnn/runtime"
)

func init() { subcommands = append(subcommands, newPredictCmd) }

func newPredictCmd() *cobra.Command {
	var (
		dataFile, out string
		perStep       bool
	)
	c := &cobra.Command{
		Use:   "predict MODEL --data FILE",
		Short: "Write each sequence's predicted probabilities as CSV",
		Long: `Predict runs MODEL (an exported model.onnx, or a checkpoint) through the Go
runtime and writes a CSV with a header and one row per sequence: its id (the
CSV id column, or the sequence's index in an NPZ file), then one probability
column per label, named by label, from the sequence's last valid step.

With --per-step it writes one row per valid step instead (id, step, then the
probabilities the model gives after reading steps 1..step). Models exported
by trnn give these in one pass over each sequence, with or without
step_probs; for other models trnn runs every prefix, in batches of bounded
size, which takes time quadratic in the sequences' lengths.

A model whose output is not finite for some sequence is an error naming the
sequences by id, and nothing is written. The output file may not be the model
or the data file, under any name.`,
		Example: `  trnn predict runs/quickstart/model.onnx --data examples/quickstart.npz -o predictions.csv
  trnn predict model.onnx --data patients.csv --per-step -o steps.csv`,
		Args: exactArgs(1, "one model file"),
		RunE: func(c *cobra.Command, args []string) error {
			if dataFile == "" {
				return usageError{fmt.Errorf("trnn predict: --data FILE is required")}
			}
			toFile := out != "" && out != "-"
			if toFile {
				if err := fileio.CheckOutput(out, map[string]string{"the model": args[0], "--data": dataFile}); err != nil {
					return err
				}
			}
			sess, spec, err := openModel(args[0])
			if err != nil {
				return err
			}
			d, err := data.Load(dataFile, runtime.DataSchema(spec))
			if err != nil {
				return err
			}
			write := func(w io.Writer) error {
				if perStep {
					return writeStepPredictions(w, sess, d, spec.Outputs.LabelNames)
				}
				return writePredictions(w, sess, d, spec.Outputs.LabelNames)
			}
			if !toFile {
				bw := bufio.NewWriter(c.OutOrStdout())
				if err := write(bw); err != nil {
					return err
				}
				return bw.Flush()
			}
			var werr error // an error of the model, as opposed to the file's
			if err := atomicfile.Write(out, func(w io.Writer) error { werr = write(w); return werr }); err != nil {
				if werr != nil {
					return werr
				}
				return fmt.Errorf("%s: %v", out, err)
			}
			return nil
		},
	}
	c.Flags().StringVar(&dataFile, "data", "", "data file (.npz or .csv) to predict (required)")
	c.Flags().StringVarP(&out, "output", "o", "", "output CSV file (default: standard output)")
	c.Flags().BoolVar(&perStep, "per-step", false, "one row per valid step instead of one per sequence")
	return c
}

// sequence returns sequence i of d as [steps][features] views of its data.
func sequence(d *data.Dataset, i int) [][]float32 {
	L := d.Len(i)
	s := make([][]float32, L)
	for t := range s {
		s[t] = d.X[i][t*d.F : (t+1)*d.F : (t+1)*d.F]
	}
	return s
}

func formatProb(p float32) string { return strconv.FormatFloat(float64(p), 'g', -1, 32) }

// The prediction writers write through a csv.Writer into w, which the caller
// buffers and flushes: an error of w itself is sticky there and is reported
// by that flush, naming the output file, so the writers return only the
// model's errors.

// predictionHeader is the header row: the first columns, then one column
// per label.
func predictionHeader(first, labels []string, K int) []string {
	return append(append([]string(nil), first...), labels[:K]...)
}

func writePredictions(w io.Writer, sess *trnn.Session, d *data.Dataset, labels []string) error {
	probs, err := predictAll(sess, d)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	defer cw.Flush()
	cw.Write(predictionHeader([]string{"id"}, labels, d.K))
	rec := make([]string, 1+d.K)
	for i := 0; i < d.N(); i++ {
		rec[0] = d.ID(i)
		for k, p := range probs[i*d.K : (i+1)*d.K] {
			rec[1+k] = formatProb(p)
		}
		cw.Write(rec)
	}
	return nil
}

// stepChunk bounds the steps PredictSteps is given at once, so that the
// rows held before they are written stay small beside the data.
const stepChunk = 1 << 16

// writeStepPredictions writes the probabilities after every valid step,
// asking for them a chunk of sequences at a time.
func writeStepPredictions(w io.Writer, sess *trnn.Session, d *data.Dataset, labels []string) error {
	cw := csv.NewWriter(w)
	defer cw.Flush()
	cw.Write(predictionHeader([]string{"id", "step"}, labels, d.K))
	rec := make([]string, 2+d.K)
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
				rec[0], rec[1] = d.ID(lo+j), strconv.Itoa(t+1)
				for k, p := range row {
					rec[2+k] = formatProb(p)
				}
				cw.Write(rec)
			}
		}
		lo += len(seqs)
	}
	return nil
}

// seqError rewrites Predict's and PredictSteps' refusals of values that are
// not finite, which count the sequences of one call from 0 (sequence lo of
// d is the call's first), to name d's sequences by id and steps from 1, as
// the data and the per-step output do.
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
		return fmt.Errorf("%s: sequence %s step %d: feature %s is %s", in.Model, d.ID(lo+in.Seq), in.Step+1, feature, what)
	}
	var out *trnn.NonFiniteOutputError
	if !errors.As(err, &out) {
		return err
	}
	items := make([]string, len(out.Seqs))
	for j, i := range out.Seqs {
		items[j] = d.ID(lo + i)
		if out.Steps != nil {
			items[j] += fmt.Sprintf(" (from step %d)", out.Steps[j]+1)
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
