package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/trnn/trnn"
	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/internal/fileio"
	"github.com/trnn/trnn/internal/plots"
	"github.com/trnn/trnn/loss"
	"github.com/trnn/trnn/runtime"
)

func init() { subcommands = append(subcommands, newEvalCmd) }

func newEvalCmd() *cobra.Command {
	var (
		dataFile, plotDir string
		asJSON            bool
		threshold         float64
	)
	c := &cobra.Command{
		Use:   "eval MODEL --data FILE",
		Short: "Final-step metrics of a model on a data set",
		Long: `Eval runs MODEL (an exported model.onnx, or a checkpoint) through the Go
runtime on every sequence of FILE and reports metrics of the prediction at
each sequence's last valid step: log loss, AUROC, AUPRC, accuracy, F1 and
Brier score; for several labels also micro and macro averages, precision@10
and a per-label table. A metric the data cannot determine (a label with one
class only) is reported as undefined. The model gives probabilities, so the
log loss is computed from them clipped to [1e-7, 1 - 1e-7]; training's
val_loss is computed from the logits.`,
		Example: `  trnn eval runs/quickstart/model.onnx --data examples/quickstart.npz
  trnn eval model.onnx --data test.npz --json
  trnn eval model.onnx --data test.npz --plots figures/`,
		Args: exactArgs(1, "one model file"),
		RunE: func(c *cobra.Command, args []string) error {
			if dataFile == "" {
				return usageError{fmt.Errorf("trnn eval: --data FILE is required")}
			}
			if !(threshold > 0 && threshold < 1) {
				return usageError{fmt.Errorf("--threshold: must be in (0, 1), got %g", threshold)}
			}
			sess, spec, err := openModel(args[0])
			if err != nil {
				return err
			}
			d, err := data.Load(dataFile, runtime.DataSchema(spec))
			if err != nil {
				return err
			}
			probs, err := predictAll(sess, d)
			if err != nil {
				return err
			}
			met, err := loss.Evaluate(probs, d.Y, d.N(), d.K, loss.EvalOptions{Threshold: threshold})
			if err != nil {
				return fmt.Errorf("%s: %v", args[0], err)
			}
			if plotDir != "" {
				if err := writeEvalPlots(plotDir, probs, d.Y, met); err != nil {
					return err
				}
			}
			out := c.OutOrStdout()
			if asJSON {
				return writeEvalJSON(out, args[0], dataFile, spec.Outputs.LabelNames, met)
			}
			writeEvalTable(out, args[0], dataFile, spec.Outputs.LabelNames, met)
			if plotDir != "" {
				fmt.Fprintf(out, "\nwrote %s and %s\n", filepath.Join(plotDir, "roc.png"), filepath.Join(plotDir, "pr.png"))
			}
			return nil
		},
	}
	c.Flags().StringVar(&dataFile, "data", "", "data file (.npz or .csv) to evaluate on (required)")
	c.Flags().BoolVar(&asJSON, "json", false, "print the metrics as JSON")
	c.Flags().StringVar(&plotDir, "plots", "", "write roc.png and pr.png into this directory")
	c.Flags().Float64Var(&threshold, "threshold", 0.5, "probability above which a label is predicted positive (accuracy, F1)")
	return c
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

var headline = []string{"loss", "auroc", "auprc", "accuracy", "f1", "brier"}
var multiLabel = []string{"micro_auroc", "macro_auroc", "micro_auprc", "macro_auprc", "micro_f1", "macro_f1", "precision_at_10"}

func writeEvalTable(w io.Writer, model, dataFile string, labels []string, m *loss.Metrics) {
	fmt.Fprintf(w, "%s on %s: %d sequences, %d label(s), final step, threshold %g\n\n", model, dataFile, m.N, m.K, m.Threshold)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tvalue")
	names := headline
	if m.K > 1 {
		names = append(append([]string{}, headline...), multiLabel...)
	}
	for _, n := range names {
		fmt.Fprintf(tw, "%s\t%s\n", n, valueString(m.Get(n)))
	}
	tw.Flush()
	if m.K > 1 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "label\tpositives\tauroc\tauprc\tf1")
		for k, l := range m.Labels {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", labels[k], l.Positives, l.AUROC, l.AUPRC, l.F1)
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
	return fmt.Sprintf("%.4f", v)
}

func writeEvalJSON(w io.Writer, model, dataFile string, labels []string, m *loss.Metrics) error {
	type label struct {
		Name      string     `json:"name"`
		Positives int        `json:"positives"`
		AUROC     loss.Value `json:"auroc"`
		AUPRC     loss.Value `json:"auprc"`
		F1        loss.Value `json:"f1"`
	}
	doc := struct {
		Model     string                `json:"model"`
		Data      string                `json:"data"`
		Sequences int                   `json:"sequences"`
		Labels    int                   `json:"labels"`
		Threshold float64               `json:"threshold"`
		Metrics   map[string]loss.Value `json:"metrics"`
		PerLabel  []label               `json:"per_label,omitempty"`
	}{Model: model, Data: dataFile, Sequences: m.N, Labels: m.K, Threshold: m.Threshold, Metrics: map[string]loss.Value{}}
	for _, n := range loss.MetricNames() {
		v, ok := m.Get(n)
		doc.Metrics[n] = loss.Value{V: v, OK: ok}
	}
	if m.K > 1 {
		for k, l := range m.Labels {
			doc.PerLabel = append(doc.PerLabel, label{labels[k], l.Positives, l.AUROC, l.AUPRC, l.F1})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// writeEvalPlots draws the ROC and precision–recall curves (pooled over
// labels, i.e. micro-averaged, when there are several).
func writeEvalPlots(dir string, probs, y []float32, m *loss.Metrics) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("%s: %v", dir, fileio.Bare(err))
	}
	auroc, auprc := m.AUROC, m.AUPRC
	kind := ""
	if m.K > 1 {
		auroc, auprc, kind = m.MicroAUROC, m.MicroAUPRC, "micro-averaged "
	}
	if !auroc.OK {
		return fmt.Errorf("--plots: the data has one class only, so ROC and precision-recall curves are undefined")
	}
	fpr, tpr := loss.ROC(probs, y)
	rec, prec := loss.PR(probs, y)
	if err := plots.Single(filepath.Join(dir, "roc.png"), plots.Panel{
		Title: fmt.Sprintf("ROC, %sAUROC %.4f", kind, auroc.V), XLabel: "false positive rate", YLabel: "true positive rate",
		Lines: []plots.Series{{Name: "model", X: fpr, Y: tpr}}, Diagonal: true, Unit: true, MarkX: math.NaN(), LegendBottom: true,
	}); err != nil {
		return err
	}
	return plots.Single(filepath.Join(dir, "pr.png"), plots.Panel{
		Title: fmt.Sprintf("Precision-recall, %sAUPRC %.4f", kind, auprc.V), XLabel: "recall", YLabel: "precision",
		Lines: []plots.Series{{Name: "model", X: rec, Y: prec}}, Unit: true, MarkX: math.NaN(),
	})
}
