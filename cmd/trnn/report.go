package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"text/tabwriter"

	"github.com/trnn/trnn/internal/plots"
	"github.com/trnn/trnn/loss"
	"github.com/trnn/trnn/runtime"
)

// metricTable writes one row per metric worth reporting for the report's
// label count: its value and, with bootstrap intervals, the 95% interval.
// eval and train's test summary print the same table.
func metricTable(w io.Writer, rep *loss.Report, indent string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := indent + "metric\tvalue"
	if rep.Bootstrap != nil {
		head += "\t95% CI"
	}
	fmt.Fprintln(tw, head)
	for _, n := range loss.Reported(rep.Labels) {
		v := rep.Metrics[n]
		row := fmt.Sprintf("%s%s\t%s", indent, n, valueString(v.V, v.OK))
		if rep.Bootstrap != nil {
			row += "\t" + intervalString(rep.Bootstrap.Intervals[n])
		}
		fmt.Fprintln(tw, row)
	}
	tw.Flush()
}

// intervalString is an interval as the tables print it: [lo, hi], or
// undefined when no resample defined the metric.
func intervalString(iv loss.Interval) string {
	if !iv.Lo.OK {
		return "undefined"
	}
	return fmt.Sprintf("[%s, %s]", metricFormat(iv.Lo.V), metricFormat(iv.Hi.V))
}

// bootstrapNote says how the intervals were drawn, and warns when a metric
// was undefined in some resamples (a label too rare for every resample to
// hold it), which makes its interval rest on fewer of them.
func bootstrapNote(w io.Writer, b *loss.BootstrapReport, names []string) {
	fmt.Fprintf(w, "95%% CI: percentile bootstrap over %d resamples of the sequences (seed %d)\n", b.Replicates, b.Seed)
	for _, n := range names {
		if iv := b.Intervals[n]; iv.Defined > 0 && iv.Defined < b.Replicates {
			fmt.Fprintf(w, "%s was undefined in %d of the resamples (one class only); its interval uses the other %d\n",
				n, b.Replicates-iv.Defined, iv.Defined)
		}
	}
}

// thresholdString is the threshold eval used, with the rule that chose it.
func thresholdString(rep *loss.Report) string {
	s := formatProb(float32(rep.Threshold))
	if rep.ThresholdRule != "" {
		s += " (chosen by " + rep.ThresholdRule + " on this data)"
	}
	return s
}

// writeTest prints the test set's metrics at the end of `trnn train`, when
// the run has a test set: what model.onnx scores on sequences that neither
// training nor the choice of the epoch saw.
func writeTest(w io.Writer, t *runtime.TestReport) {
	if t == nil {
		return
	}
	fmt.Fprintln(w)
	from := t.Data
	if t.Split > 0 {
		from = fmt.Sprintf("training.test.split %g of %s", t.Split, t.Data)
	}
	fmt.Fprintf(w, "test: model.onnx (epoch %d) on %d held-out sequences (%s), never trained on or used to pick the epoch\n",
		t.Epoch, t.Sequences, from)
	if t.Head != nil {
		writeHeadTable(w, t.Head)
		return
	}
	metricTable(w, &t.Report, "  ")
	if t.Bootstrap != nil {
		bootstrapNote(w, t.Bootstrap, loss.Reported(t.Labels))
	}
}

// ReliabilityFile is the reliability diagram eval --plots writes.
const ReliabilityFile = "reliability.png"

// writeReliability draws the reliability diagram of probs against y: the
// fraction of positives against the mean predicted probability in each
// non-empty bin of loss.Reliability, with the diagonal of perfect
// calibration. For several labels every (sample, label) pair is one
// prediction, as for ECE.
func writeReliability(dir string, probs, y []float32, ece loss.Value) (*plots.Drawing, error) {
	var x, frac []float64
	for _, b := range loss.Reliability(probs, y) {
		if b.Count > 0 {
			x, frac = append(x, b.MeanProb), append(frac, b.FracPos)
		}
	}
	title := "Reliability, ECE undefined"
	if ece.OK {
		title = "Reliability, ECE " + metricFormat(ece.V)
	}
	return plots.Single(filepath.Join(dir, ReliabilityFile), plots.Panel{
		Title: title, XLabel: "mean predicted probability", YLabel: "fraction of positives",
		Lines:    []plots.Series{{Name: fmt.Sprintf("model (%d equal-width bins)", loss.CalibrationBins), X: x, Y: frac}},
		Diagonal: true, Unit: true, MarkX: math.NaN(),
	})
}
