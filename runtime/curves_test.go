package runtime

import (
	"path/filepath"
	"testing"

	"gonum.org/v1/plot/vg"

	"github.com/trnn/trnn/internal/plots"
)

// TestCurvesLayout: curves.png has the losses and the monitored metric,
// each with the best epoch marked at its epoch, and legends that stay
// below the plots, off every line and marker.
func TestCurvesLayout(t *testing.T) {
	var history []EpochRecord
	for e, auroc := range []float64{0.5, 0.7, 0.9, 0.85} {
		history = append(history, EpochRecord{Epoch: e + 1, TrainLoss: 0.7 - 0.1*float64(e), TrainFinalLoss: 0.6,
			Val: map[string]float64{"loss": 0.65, "auroc": auroc}})
	}
	d, err := curves(filepath.Join(t.TempDir(), CurvesFile), history, true, "auroc", &Best{Epoch: 3, Metric: "auroc", Value: 0.9})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Panels) != 2 {
		t.Fatalf("%d panels, want the losses and the metric", len(d.Panels))
	}
	for i, want := range [][]string{{"train (objective)", "train (final step)", "validation (final step)", "best: epoch 3"}, {"val_auroc", "best: epoch 3"}} {
		p := d.Panels[i]
		if len(p.Entries) != len(want) {
			t.Fatalf("panel %d legend %v, want %v", i, p.Entries, want)
		}
		for j := range want {
			if p.Entries[j] != want[j] {
				t.Fatalf("panel %d legend %v, want %v", i, p.Entries, want)
			}
		}
		marker := p.Lines[len(p.Lines)-1]
		if marker.Kind != plots.MarkerLine || marker.First.X != 3 || marker.Last.X != 3 {
			t.Errorf("panel %d: the last line %+v is not the best-epoch marker at 3", i, marker)
		}
		if overlap(p.Legend, p.Data) {
			t.Errorf("panel %d: the legend %v covers the plot %v", i, p.Legend, p.Data)
		}
	}
}

func overlap(a, b vg.Rectangle) bool {
	return a.Min.X < b.Max.X && b.Min.X < a.Max.X && a.Min.Y < b.Max.Y && b.Min.Y < a.Max.Y
}
