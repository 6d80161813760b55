// Package plots draws the PNG figures trnn writes: training curves for a run
// directory, and ROC and precision–recall curves for `trnn eval --plots`.
// It uses gonum/plot; every function writes one file and returns a Drawing
// that describes what it drew (panels, lines, where the legend went), or an
// error naming the file. Legends sit below their plots, never over a line.
package plots

import (
	"image/color"

	"gonum.org/v1/plot/vg"
)

// Series is one named line of a figure.
type Series struct {
	Name string
	X, Y []float64 // NaN values in Y break the line
}

var palette = []color.Color{
	color.RGBA{R: 31, G: 119, B: 180, A: 255},
	color.RGBA{R: 255, G: 127, B: 14, A: 255},
	color.RGBA{R: 44, G: 160, B: 44, A: 255},
	color.RGBA{R: 214, G: 39, B: 40, A: 255},
	color.RGBA{R: 148, G: 103, B: 189, A: 255},
}

// Panel is one plot of a figure.
type Panel struct {
	Title, XLabel, YLabel string
	Lines                 []Series
	// MarkX, when not NaN, draws a vertical dashed line (e.g. the best epoch).
	MarkX     float64
	MarkLabel string
	// Diagonal draws the y = x reference line of a ROC plot.
	Diagonal bool
	// Unit fixes both axes to [0, 1].
	Unit bool
	// References are dashed grey lines with a legend entry each, such as
	// a precision–recall panel's no-skill line.
	References []Series
}

// Curves writes the training curves of a run: losses per epoch on the left,
// the monitored validation metric on the right (when there is one), with the
// best epoch marked.
func Curves(path string, panels ...Panel) (*Drawing, error) {
	return Write(path, Figure{Panels: panels, Width: 6 * vg.Inch, Height: 4.8 * vg.Inch})
}

// Single writes one panel, e.g. a ROC or a precision–recall curve.
func Single(path string, p Panel) (*Drawing, error) {
	return Write(path, Figure{Panels: []Panel{p}, Width: 5 * vg.Inch, Height: 5.6 * vg.Inch})
}
