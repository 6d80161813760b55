package plots

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCurvesWritesAPNG(t *testing.T) {
	path := filepath.Join(t.TempDir(), "curves.png")
	x := []float64{1, 2, 3, 4}
	err := Curves(path,
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
}

func TestSingleErrorNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing-dir", "roc.png")
	err := Single(path, Panel{Lines: []Series{{Name: "roc", X: []float64{0, 1}, Y: []float64{0, 1}}}, MarkX: math.NaN()})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("want an error naming %s, got %v", path, err)
	}
}
