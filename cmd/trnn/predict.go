package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/graph"
	"github.com/trnn/trnn/internal/atomicfile"
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
			d, err := data.Load(dataFile, spec)
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

func writeHeader(w io.Writer, first []string, labels []string, K int) {
	for i, f := range first {
		if i > 0 {
			io.WriteString(w, ",")
		}
		io.WriteString(w, csvField(f))
	}
	for k := 0; k < K; k++ {
		io.WriteString(w, ","+csvField(labels[k]))
	}
	io.WriteString(w, "\n")
}

func writePredictions(w io.Writer, sess *trnn.Session, d *data.Dataset, labels []string) error {
	probs, err := predictAll(sess, d)
	if err != nil {
		return err
	}
	writeHeader(w, []string{"id"}, labels, d.K)
	for i := 0; i < d.N(); i++ {
		io.WriteString(w, csvField(seqID(d, i)))
		for _, p := range probs[i*d.K : (i+1)*d.K] {
			io.WriteString(w, ","+formatProb(p))
		}
		io.WriteString(w, "\n")
	}
	return nil
}

// writeStepPredictions writes the probabilities after every valid step.
func writeStepPredictions(w io.Writer, sess *trnn.Session, d *data.Dataset, labels []string) error {
	writeHeader(w, []string{"id", "step"}, labels, d.K)
	K := d.K
	hasStep := false
	for _, o := range sess.Outputs() {
		hasStep = hasStep || o.Name == "step_probs"
	}
	const batch = 64
	for lo := 0; lo < d.N(); lo += batch {
		hi := min(lo+batch, d.N())
		var rows [][]float32 // [Σ lengths][K], sequence by sequence
		if hasStep {
			x, lengths, T := d.Padded(indices(lo, hi))
			B := hi - lo
			res, err := sess.Run(map[string]*graph.Tensor{
				"x":       graph.FromF32(x, B, T, d.F),
				"lengths": {DType: graph.Int32, Shape: []int{B}, I32: lengths},
			})
			if err != nil {
				return err
			}
			sp := res["step_probs"]
			for b := 0; b < B; b++ {
				for t := 0; t < int(lengths[b]); t++ {
					o := (b*T + t) * K
					rows = append(rows, sp.F32[o:o+K])
				}
			}
		} else {
			var prefixes [][][]float32
			for i := lo; i < hi; i++ {
				s := sequence(d, i)
				for t := 1; t <= len(s); t++ {
					prefixes = append(prefixes, s[:t])
				}
			}
			var err error
			if rows, err = sess.Predict(prefixes); err != nil {
				return err
			}
		}
		r := 0
		for i := lo; i < hi; i++ {
			for t := 0; t < d.Len(i); t++ {
				io.WriteString(w, csvField(seqID(d, i))+","+strconv.Itoa(t+1))
				for _, p := range rows[r] {
					io.WriteString(w, ","+formatProb(p))
				}
				io.WriteString(w, "\n")
				r++
			}
		}
	}
	return nil
}

func indices(lo, hi int) []int {
	idx := make([]int, hi-lo)
	for i := range idx {
		idx[i] = lo + i
	}
	return idx
}

// csvField quotes a field when CSV requires it.
func csvField(s string) string {
	for _, r := range s {
		if r == ',' || r == '"' || r == '\n' || r == '\r' {
			q := []byte{'"'}
			for _, c := range []byte(s) {
				if c == '"' {
					q = append(q, '"')
				}
				q = append(q, c)
			}
			return string(append(q, '"'))
		}
	}
	return s
}
