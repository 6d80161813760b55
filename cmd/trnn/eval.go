package main

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/loss"
)

func init() { subcommands = append(subcommands, newEvalCmd) }

func newEvalCmd() *cobra.Command {
	var f evalFlags
	c := &cobra.Command{
		Use:   "eval MODEL --data FILE",
		Short: "Final-step metrics of a model on a data set",
		Long: `Eval runs MODEL (an exported model.onnx, a checkpoint, or a
run directory, which stands for its model.onnx) through the Go
runtime on every sequence of FILE and reports metrics of the prediction at
each sequence's last valid step: log loss, AUROC, AUPRC, accuracy, F1 and
Brier score; for several labels also micro and macro averages, precision@10
(with more than 10 labels) and a per-label table. A model of classes gets
cross-entropy, accuracy, macro one-vs-rest AUROC, Cohen's kappa with linear
weights and the confusion matrix; a regression model MSE, MAE and R²; a
model trained on per-step labels the same metrics at each sequence's last
labelled step and, prefixed step_, over every labelled step. A metric the data cannot
determine (a label with one class only) is reported as undefined. The model gives probabilities, so the
log loss is computed from them clipped to [1e-7, 1 - 1e-7]; training's
val_loss is computed from the logits. ece is the expected calibration error
over 10 equal-width probability bins; --plots adds reliability.png.

--threshold is a number, or a rule that chooses one on this data and prints
it: best_f1, youden (sensitivity + specificity - 1), or sensitivity=S (the
highest threshold reaching S). --bootstrap N adds 95% confidence intervals
from N resamples of the sequences. The data must have labels; --columns
maps a CSV's columns as predict's does.`,
		Example: `  trnn eval runs/quickstart/model.onnx --data examples/quickstart-holdout.npz
  trnn eval model.onnx --data test.npz --json
  trnn eval model.onnx --data test.npz --plots figures/
  trnn eval model.onnx --data test.npz --bootstrap 1000 --threshold sensitivity=0.9`,
		Args: exactArgs(1, "one model file"),
		RunE: func(c *cobra.Command, args []string) error { return runEval(c, args[0], &f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.dataFile, "data", "", "data to evaluate on (required): an .npz, .csv or .parquet file, or a folder in the episodes layout")
	fl.BoolVar(&f.asJSON, "json", false, "print the metrics as JSON")
	fl.StringVar(&f.plotDir, "plots", "", "write roc.png, pr.png and reliability.png into this directory")
	fl.StringVar(&f.threshold, "threshold", "0.5", "probability above which a label is predicted positive, or best_f1, youden, sensitivity=S")
	fl.IntVar(&f.bootstrap, "bootstrap", 0, "95% confidence intervals from this many resamples of the sequences")
	fl.Uint64Var(&f.seed, "seed", 1, "with --bootstrap: the resampling seed")
	fl.StringVar(&f.columns, "columns", "", "ROLE=NAME,...: the CSV's column for each role (id, step, the model's features and labels)")
	return c
}

// runEval scores the model file against the labels of f.dataFile. Stages
// that print or draw come last, once every number is known.
func runEval(c *cobra.Command, model string, f *evalFlags) error {
	rep, ev, err := evaluate(c, model, f)
	if err != nil {
		return err
	}
	out := c.OutOrStdout()
	if ev.head != nil {
		if f.asJSON {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			return enc.Encode(ev.head)
		}
		writeHeadTable(out, ev.head)
		return nil
	}
	var figs *evalPlots
	if f.plotDir != "" {
		if figs, err = writeEvalPlots(f.plotDir, ev.probs, ev.d.Y, ev.labels, ev.met); err != nil {
			return err
		}
		if _, err := writeReliability(f.plotDir, ev.probs, ev.d.Y, ev.met.ECE); err != nil {
			return err
		}
	}
	if f.asJSON {
		return writeEvalJSON(out, rep)
	}
	writeEvalTable(out, rep, ev.met)
	if f.plotDir != "" {
		fmt.Fprintf(out, "\nwrote %s, %s and %s%s\n", filepath.Join(f.plotDir, "roc.png"), filepath.Join(f.plotDir, "pr.png"),
			filepath.Join(f.plotDir, ReliabilityFile), figs.note(ev.met.K))
	}
	return nil
}

// predictAll returns the final-step probabilities [n·K] of every sequence
// of d, running the model in batches.
func predictAll(sess *trnn.Session, d *data.Dataset) ([]float32, error) {
	const batch = 256
	out := make([]float32, 0, d.N()*d.K)
	seqs := make([][][]float32, 0, batch)
	for lo := 0; lo < d.N(); lo += batch {
		seqs = seqs[:0]
		for i := lo; i < min(lo+batch, d.N()); i++ {
			seqs = append(seqs, sequence(d, i))
		}
		p, err := sess.Predict(seqs)
		if err != nil {
			return nil, seqError(err, d, lo)
		}
		for _, row := range p {
			out = append(out, row...)
		}
	}
	return out, nil
}

func writeEvalTable(w io.Writer, rep *loss.Report, m *loss.Metrics) {
	fmt.Fprintf(w, "%s on %s: %d sequences, %d label(s), final step, threshold %s\n\n", rep.Model, rep.Data, m.N, m.K, thresholdString(rep))
	metricTable(w, rep, "")
	if rep.Bootstrap != nil {
		bootstrapNote(w, rep.Bootstrap, loss.Reported(m.K))
	}
	if m.K > 1 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "label\tpositives\tauroc\tauprc\tf1")
		for k, l := range m.Labels {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", rep.PerLabel[k].Name, l.Positives, valueString(l.AUROC.V, l.AUROC.OK),
				valueString(l.AUPRC.V, l.AUPRC.OK), valueString(l.F1.V, l.F1.OK))
		}
		tw.Flush()
		if s := m.SkippedAUROC; s > 0 {
			fmt.Fprintf(w, "\n%d label(s) have one class only in this data: their AUROC is undefined and left out of macro_auroc\n", s)
		}
	}
}

func valueString(v float64, ok bool) string {
	if !ok {
		return "undefined"
	}
	return metricFormat(v)
}

// writeEvalJSON prints the report: the form of a run's test.json.
func writeEvalJSON(w io.Writer, rep *loss.Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}
