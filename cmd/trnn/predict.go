package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/atomicfile"
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
with step_probs provide these directly; for others trnn runs every prefix.`,
		Example: `  trnn predict runs/quickstart/model.onnx --data examples/quickstart.npz -o predictions.csv
  trnn predict model.onnx --data patients.csv --per-step -o steps.csv`,
		Args: exactArgs(1, "one model file"),
		RunE: func(c *cobra.Command, args []string) error {
			if dataFile == "" {
				return usageError{fmt.Errorf("trnn predict: --data FILE is required")}
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
			if out == "" || out == "-" {
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

func seqID(d *data.Dataset, i int) string {
	if d.IDs != nil {
		return d.IDs[i]
	}
	return strconv.Itoa(i)
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
		rec[0] = seqID(d, i)
		for k, p := range probs[i*d.K : (i+1)*d.K] {
			rec[1+k] = formatProb(p)
		}
		cw.Write(rec)
	}
	return nil
}

// writeStepPredictions writes the probabilities after every valid step.
func writeStepPredictions(w io.Writer, sess *trnn.Session, d *data.Dataset, labels []string) error {
	cw := csv.NewWriter(w)
	defer cw.Flush()
	cw.Write(predictionHeader([]string{"id", "step"}, labels, d.K))
	hasStep := false
	for _, o := range sess.Outputs() {
		hasStep = hasStep || o.Name == "step_probs"
	}
	const batch = 64
	rec := make([]string, 2+d.K)
	for lo := 0; lo < d.N(); lo += batch {
		hi := min(lo+batch, d.N())
		rows, err := stepProbs(sess, d, lo, hi, hasStep)
		if err != nil {
			return err
		}
		r := 0
		for i := lo; i < hi; i++ {
			for t := 0; t < d.Len(i); t++ {
				rec[0], rec[1] = seqID(d, i), strconv.Itoa(t+1)
				for k, p := range rows[r] {
					rec[2+k] = formatProb(p)
				}
				cw.Write(rec)
				r++
			}
		}
	}
	return nil
}

// stepProbs returns the probabilities after each valid step of sequences
// lo..hi-1 of d, [Σ lengths][K] sequence by sequence: from the model's
// step_probs output when it has one (hasStep), else by running every
// prefix.
func stepProbs(sess *trnn.Session, d *data.Dataset, lo, hi int, hasStep bool) ([][]float32, error) {
	K := d.K
	var rows [][]float32
	if !hasStep {
		var prefixes [][][]float32
		for i := lo; i < hi; i++ {
			s := sequence(d, i)
			for t := 1; t <= len(s); t++ {
				prefixes = append(prefixes, s[:t])
			}
		}
		return sess.Predict(prefixes)
	}
	x, lengths, T := d.Padded(indices(lo, hi))
	B := hi - lo
	res, err := sess.Run(map[string]*graph.Tensor{
		"x":       graph.FromF32(x, B, T, d.F),
		"lengths": {DType: graph.Int32, Shape: []int{B}, I32: lengths},
	})
	if err != nil {
		return nil, err
	}
	sp := res["step_probs"]
	for b := 0; b < B; b++ {
		for t := 0; t < int(lengths[b]); t++ {
			o := (b*T + t) * K
			rows = append(rows, sp.F32[o:o+K])
		}
	}
	return rows, nil
}

func indices(lo, hi int) []int {
	idx := make([]int, hi-lo)
	for i := range idx {
		idx[i] = lo + i
	}
	return idx
}
