package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"gonum.org/v1/plot/vg"

	"github.com/trnn/trnn/internal/fileio"
	"github.com/trnn/trnn/internal/plots"
	"github.com/trnn/trnn/loss"
)

// maxLabelPanels bounds the panels of roc.png and pr.png: a model with
// thousands of labels would make a figure of gigapixels.
const maxLabelPanels = 48

// handful is how many labels' panels stand in one row; more make a grid of
// small multiples.
const handful = 5

// evalPlots is what writeEvalPlots wrote.
type evalPlots struct {
	ROC, PR *plots.Drawing
	Shown   int // labels drawn: all of them, or the first maxLabelPanels
}

// writeEvalPlots draws one ROC and one precision–recall panel per label
// into dir/roc.png and dir/pr.png: in one row for a handful of labels, as
// small multiples in a grid beyond. Each ROC panel has the chance diagonal
// and each precision–recall panel the no-skill line at the label's
// prevalence (a model that ranks at random has precision equal to it at
// every recall). A label with one class only in the data gets an empty
// panel that says so; the data must have both classes for some label.
func writeEvalPlots(dir string, probs, y []float32, labels []string, m *loss.Metrics) (*evalPlots, error) {
	K := m.K
	defined := false
	for _, l := range m.Labels {
		defined = defined || l.AUROC.OK
	}
	if !defined {
		return nil, fmt.Errorf("--plots: every label has one class only in this data, so ROC and precision-recall curves are undefined")
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, usageError{fmt.Errorf("--plots %s: a file, not a folder; --plots takes the folder to write roc.png and pr.png into", dir)}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%s: %v", dir, fileio.Bare(err))
	}
	shown := min(K, maxLabelPanels)
	roc, pr := labelFigure(shown), labelFigure(shown)
	for k := range shown {
		scores, truth := labelColumn(probs, y, k, K)
		name := labels[k]
		if K == 1 {
			name = ""
		}
		r, p := labelPanels(scores, truth, name, m.Labels[k])
		roc.Panels, pr.Panels = append(roc.Panels, r), append(pr.Panels, p)
	}
	out := &evalPlots{Shown: shown}
	var err error
	if out.ROC, err = plots.Write(filepath.Join(dir, "roc.png"), roc); err != nil {
		return nil, err
	}
	if out.PR, err = plots.Write(filepath.Join(dir, "pr.png"), pr); err != nil {
		return nil, err
	}
	return out, nil
}

// labelFigure lays out n labels' panels: one large panel for one label, a
// row for a handful, a near-square grid beyond.
func labelFigure(n int) plots.Figure {
	if n == 1 {
		return plots.Figure{Cols: 1, Width: 5 * vg.Inch, Height: 5.6 * vg.Inch}
	}
	cols := n
	if n > handful {
		cols = int(math.Ceil(math.Sqrt(float64(n))))
	}
	return plots.Figure{Cols: cols, Width: 3.4 * vg.Inch, Height: 3.9 * vg.Inch}
}

// labelColumn copies label k's probabilities and truths out of [n, K].
func labelColumn(probs, y []float32, k, K int) (scores, truth []float32) {
	n := len(probs) / K
	scores, truth = make([]float32, n), make([]float32, n)
	for i := range n {
		scores[i], truth[i] = probs[i*K+k], y[i*K+k]
	}
	return scores, truth
}

// labelPanels are one label's ROC and precision–recall panels; name is ""
// for a model's only label.
func labelPanels(scores, truth []float32, name string, l loss.LabelMetrics) (roc, pr plots.Panel) {
	prefix := "ROC"
	if name != "" {
		prefix = name
	}
	roc = plots.Panel{XLabel: "false positive rate", YLabel: "true positive rate", Diagonal: true, Unit: true, MarkX: math.NaN()}
	pr = plots.Panel{XLabel: "recall", YLabel: "precision", Unit: true, MarkX: math.NaN()}
	if !l.AUROC.OK {
		roc.Title = fmt.Sprintf("%s: one class only, undefined", prefix)
		pr.Title = roc.Title
		return roc, pr
	}
	fpr, tpr := loss.ROC(scores, truth)
	rec, prec := loss.PR(scores, truth)
	roc.Title = fmt.Sprintf("%s: AUROC %s", prefix, metricFormat(l.AUROC.V))
	roc.Lines = []plots.Series{{Name: "model", X: fpr, Y: tpr}}
	if name == "" {
		prefix = "Precision-recall"
	}
	prevalence := float64(l.Positives) / float64(l.Positives+l.Negatives)
	pr.Title = fmt.Sprintf("%s: AUPRC %s", prefix, metricFormat(l.AUPRC.V))
	pr.Lines = []plots.Series{{Name: "model", X: rec, Y: prec}}
	pr.References = []plots.Series{{Name: "no skill (prevalence " + metricFormat(prevalence) + ")",
		X: []float64{0, 1}, Y: []float64{prevalence, prevalence}}}
	return roc, pr
}

// metricFormat is the one format of metric values in eval's tables and
// figures.
func metricFormat(v float64) string { return fmt.Sprintf("%.4f", v) }

// note is what eval adds after the file names when the figures leave
// labels out.
func (e *evalPlots) note(K int) string {
	if e == nil || e.Shown == K {
		return ""
	}
	return fmt.Sprintf(" (the first %d of %d labels)", e.Shown, K)
}
