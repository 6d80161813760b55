package main

import (
	"fmt"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/trnn/trnn/data"
	"github.com/trnn/trnn/internal/plots"
	"github.com/trnn/trnn/loss"
)

// scoredLabels makes n sequences' probabilities and labels for K labels,
// informative but imperfect; label constant, when ≥ 0, has positives only.
func scoredLabels(n, K, constant int) (probs, y []float32) {
	rng := rand.New(rand.NewPCG(uint64(K), 2))
	probs, y = make([]float32, n*K), make([]float32, n*K)
	for j := range probs {
		if rng.Float64() < 0.3 || j%K == constant {
			y[j] = 1
		}
		probs[j] = float32(min(1, max(0, 0.35*float64(y[j])+0.65*rng.Float64())))
	}
	return probs, y
}

// TestEvalPlotsPerLabel: roc.png and pr.png have one panel per label, in
// one row for a handful and in a grid beyond; every ROC panel has the
// chance diagonal and every precision–recall panel the no-skill line at
// its label's prevalence, with the model's curve from (0, 0) or (0, 1) to
// recall 1; a label with one class only gets a panel without curves; no
// legend covers a plotting area.
func TestEvalPlotsPerLabel(t *testing.T) {
	for _, c := range []struct{ K, constant, cols int }{{1, -1, 1}, {3, -1, 3}, {7, 4, 3}} {
		t.Run(fmt.Sprint(c.K, " labels"), func(t *testing.T) {
			probs, y := scoredLabels(200, c.K, c.constant)
			m, err := loss.Evaluate(probs, y, 200, c.K, loss.EvalOptions{})
			if err != nil {
				t.Fatal(err)
			}
			labels := make([]string, c.K)
			for k := range labels {
				labels[k] = fmt.Sprint("label", k)
			}
			figs, err := writeEvalPlots(t.TempDir(), probs, y, labels, m)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range []*plots.Drawing{figs.ROC, figs.PR} {
				if len(d.Panels) != c.K {
					t.Fatalf("%d panels for %d labels", len(d.Panels), c.K)
				}
				if cols := countColumns(d); cols != c.cols {
					t.Errorf("%d labels in %d columns, want %d", c.K, cols, c.cols)
				}
				for _, p := range d.Panels {
					if len(p.Entries) > 0 && overlaps(p.Legend, p.Data) {
						t.Errorf("%s: the legend covers the plot", p.Title)
					}
				}
			}
			for k := range c.K {
				checkLabelPanels(t, figs.ROC.Panels[k], figs.PR.Panels[k], m.Labels[k], k == c.constant)
			}
		})
	}
}

func countColumns(d *plots.Drawing) int {
	xs := map[float64]bool{}
	for _, p := range d.Panels {
		xs[float64(p.Tile.Min.X)] = true
	}
	return len(xs)
}

func checkLabelPanels(t *testing.T, roc, pr plots.DrawnPanel, l loss.LabelMetrics, constant bool) {
	t.Helper()
	if constant {
		if !strings.Contains(roc.Title, "one class only") || len(pr.Lines) != 0 {
			t.Errorf("a label with one class only: ROC %q, precision-recall lines %v", roc.Title, pr.Lines)
		}
		return
	}
	if len(roc.Lines) != 2 || roc.Lines[0].Kind != plots.ReferenceLine || roc.Lines[0].Last.Y != 1 ||
		roc.Lines[1].Kind != plots.SeriesLine || roc.Lines[1].First.X != 0 || roc.Lines[1].Last.X != 1 || roc.Lines[1].Last.Y != 1 {
		t.Errorf("%s: ROC lines %+v", roc.Title, roc.Lines)
	}
	if !strings.Contains(roc.Title, metricFormat(l.AUROC.V)) || !strings.Contains(pr.Title, metricFormat(l.AUPRC.V)) {
		t.Errorf("titles %q and %q do not give AUROC %v and AUPRC %v", roc.Title, pr.Title, l.AUROC.V, l.AUPRC.V)
	}
	prevalence := float64(l.Positives) / float64(l.Positives+l.Negatives)
	if len(pr.Lines) != 2 {
		t.Fatalf("%s: precision-recall lines %+v", pr.Title, pr.Lines)
	}
	curve, noSkill := pr.Lines[1], pr.Lines[0]
	if curve.Kind != plots.SeriesLine || curve.First.X != 0 || curve.Last.X != 1 || curve.Points < 3 {
		t.Errorf("%s: the model's curve %+v", pr.Title, curve)
	}
	if noSkill.Kind != plots.ReferenceLine || noSkill.First.Y != prevalence || noSkill.Last.Y != prevalence ||
		!strings.HasPrefix(noSkill.Name, "no skill") || pr.Entries[0] != "model" {
		t.Errorf("%s: the no-skill line %+v, legend %v; want a reference at the prevalence %v", pr.Title, noSkill, pr.Entries, prevalence)
	}
}

// TestEvalPlotsFlag: eval --plots DIR writes roc.png and pr.png, images of
// one panel per label, and says so; --plots naming a file is refused.
func TestEvalPlotsFlag(t *testing.T) {
	const K = 7
	dir := t.TempDir()
	probs, y := scoredLabels(120, K, -1)
	d := &data.Dataset{F: K, K: K, Y: y}
	for i := range 120 {
		d.X = append(d.X, probs[i*K:(i+1)*K])
	}
	dataFile, model := filepath.Join(dir, "scores.npz"), filepath.Join(dir, "identity.onnx")
	if err := data.WriteNPZ(dataFile, d); err != nil {
		t.Fatal(err)
	}
	probsModel(t, model, K)
	figures := filepath.Join(dir, "figures")
	status, out, errs := trnnCmd(t, "eval", model, "--data", dataFile, "--plots", figures)
	if status != 0 || !strings.Contains(out, "wrote "+filepath.Join(figures, "roc.png")+", "+filepath.Join(figures, "pr.png")) {
		t.Fatalf("eval --plots: status %d\n%s%s", status, out, errs)
	}
	for _, name := range []string{"roc.png", "pr.png"} {
		f, err := os.Open(filepath.Join(figures, name))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		// Seven labels: a grid of three columns and three rows of
		// 3.4 × 3.9 inch panels at 96 dots per inch.
		if w, h := 3*3.4*96, 3*3.9*96; err != nil || math.Abs(float64(cfg.Width)-w) > 1 || math.Abs(float64(cfg.Height)-h) > 1 {
			t.Errorf("%s: %v, %d × %d pixels", name, err, cfg.Width, cfg.Height)
		}
	}
	status, _, errs = trnnCmd(t, "eval", model, "--data", dataFile, "--plots", dataFile)
	if status != 2 || !strings.Contains(errs, "a file, not a folder") {
		t.Errorf("--plots naming a file: status %d, %q", status, errs)
	}
}

// overlaps reports whether two rectangles share more than an edge.
func overlaps(a, b vg.Rectangle) bool {
	return a.Min.X < b.Max.X && b.Min.X < a.Max.X && a.Min.Y < b.Max.Y && b.Min.Y < a.Max.Y
}
