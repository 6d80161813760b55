package plots

import (
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

func TestCurvesWritesAPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "curves.png")
	x := []float64{1, 2, 3, 4}
	d, err := Curves(path,
		Panel{Title: "loss", XLabel: "epoch", Lines: []Series{
			{Name: "train", X: x, Y: []float64{0.7, 0.5, 0.4, 0.35}},
			{Name: "val", X: x, Y: []float64{0.72, math.NaN(), 0.45, 0.44}},
		}, MarkX: math.NaN()},
		Panel{Title: "val auroc", XLabel: "epoch", Lines: []Series{
			{Name: "auroc", X: x, Y: []float64{0.6, 0.7, 0.8, 0.78}},
		}, MarkX: 3, MarkLabel: "best (epoch 3)"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("curves.png is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() <= b.Dy() {
		t.Fatalf("two panels side by side should be wider than tall, got %v", b)
	}
	checkLegendsOutside(t, d)
	if len(d.Panels) != 2 {
		t.Fatalf("%d panels drawn, want 2", len(d.Panels))
	}
	// The NaN breaks the validation line in two segments.
	type line struct {
		kind   LineKind
		name   string
		points int
	}
	want := [][]line{
		{{SeriesLine, "train", 4}, {SeriesLine, "val", 1}, {SeriesLine, "val", 2}},
		{{SeriesLine, "auroc", 4}, {MarkerLine, "best (epoch 3)", 2}},
	}
	for i, p := range d.Panels {
		var got []line
		for _, l := range p.Lines {
			got = append(got, line{l.Kind, l.Name, l.Points})
		}
		if !slices.Equal(got, want[i]) {
			t.Errorf("panel %d drew %v, want %v", i, got, want[i])
		}
	}
	if m := d.Panels[1].Lines[1]; m.First.X != 3 || m.Last.X != 3 {
		t.Errorf("the best-epoch marker runs from %v to %v, want x = 3", m.First, m.Last)
	}
	if e := d.Panels[1].Entries; !slices.Equal(e, []string{"auroc", "best (epoch 3)"}) {
		t.Errorf("legend entries %v", e)
	}
}

// checkLegendsOutside: no legend box overlaps its panel's plotting area,
// where the lines and markers are.
func checkLegendsOutside(t *testing.T, d *Drawing) {
	t.Helper()
	for i, p := range d.Panels {
		if len(p.Entries) == 0 {
			continue
		}
		if overlaps(p.Legend, p.Data) {
			t.Errorf("panel %d (%s): legend %v overlaps the plotting area %v", i, p.Title, p.Legend, p.Data)
		}
		if p.Legend.Min.Y < p.Tile.Min.Y || p.Legend.Max.X > p.Tile.Max.X {
			t.Errorf("panel %d (%s): legend %v outside its tile %v", i, p.Title, p.Legend, p.Tile)
		}
	}
}

// TestGridOfPanels: a figure of seven panels in rows of three is three
// rows high, each panel in its own tile, with its reference lines.
func TestGridOfPanels(t *testing.T) {
	path := filepath.Join(t.TempDir(), "grid.png")
	var panels []Panel
	for i := range 7 {
		panels = append(panels, Panel{Title: fmt.Sprint("label ", i), Unit: true, MarkX: math.NaN(),
			Lines:      []Series{{Name: "model", X: []float64{0, 0.5, 1}, Y: []float64{1, 0.8, 0.3}}},
			References: []Series{{Name: "no skill", X: []float64{0, 1}, Y: []float64{0.3, 0.3}}}})
	}
	d, err := Write(path, Figure{Panels: panels, Cols: 3, Width: 3 * vg.Inch, Height: 3 * vg.Inch})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 3*3*96 || cfg.Height != 3*3*96 {
		t.Fatalf("grid of 7 in rows of 3: %d×%d pixels, want 864×864", cfg.Width, cfg.Height)
	}
	checkLegendsOutside(t, d)
	for i, p := range d.Panels {
		for j, q := range d.Panels[:i] {
			if overlaps(p.Tile, q.Tile) {
				t.Fatalf("panels %d and %d overlap", j, i)
			}
		}
		if len(p.Lines) != 2 || p.Lines[0].Kind != ReferenceLine || p.Lines[1].Kind != SeriesLine {
			t.Errorf("panel %d drew %v", i, p.Lines)
		}
	}
}

func TestSingleErrorNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing-dir", "roc.png")
	_, err := Single(path, Panel{Lines: []Series{{Name: "roc", X: []float64{0, 1}, Y: []float64{0, 1}}}, MarkX: math.NaN()})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("want an error naming %s, got %v", path, err)
	}
}

// overlaps reports whether two rectangles share more than an edge.
func overlaps(a, b vg.Rectangle) bool {
	return a.Min.X < b.Max.X && b.Min.X < a.Max.X && a.Min.Y < b.Max.Y && b.Min.Y < a.Max.Y
}
