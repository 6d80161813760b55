// Package plots draws the PNG figures trnn writes: training curves for a run
// directory, and ROC and precision–recall curves for `trnn eval --plots`.
// It uses gonum/plot; every function writes one file and returns an error
// naming it on failure.
package plots

import (
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/trnn/trnn/internal/atomicfile"
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
	// LegendBottom puts the legend in the lower right corner, out of the
	// way of curves that rise (the default is the upper right).
	LegendBottom bool
}

// Curves writes the training curves of a run: losses per epoch on the left,
// the monitored validation metric on the right (when there is one), with the
// best epoch marked.
func Curves(path string, panels ...Panel) error {
	return writePanels(path, panels, 6*vg.Inch, 4*vg.Inch)
}

// Single writes one panel, e.g. a ROC or a precision–recall curve.
func Single(path string, p Panel) error {
	return writePanels(path, []Panel{p}, 5*vg.Inch, 5*vg.Inch)
}

func writePanels(path string, panels []Panel, w, h vg.Length) error {
	if len(panels) == 0 {
		return fmt.Errorf("%s: nothing to plot", path)
	}
	img := vgimg.New(w*vg.Length(len(panels)), h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: len(panels), PadX: vg.Millimeter, PadY: vg.Millimeter,
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
	for i, pn := range panels {
		p, err := build(pn)
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		p.Draw(tiles.At(dc, i, 0))
	}
	if err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
		return err
	}); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

func build(pn Panel) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pn.Title
	p.X.Label.Text = pn.XLabel
	p.Y.Label.Text = pn.YLabel
	p.Add(plotter.NewGrid())
	p.Legend.Top = !pn.LegendBottom
	if pn.Unit {
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	}
	if pn.Diagonal {
		l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
		if err != nil {
			return nil, err
		}
		l.Color = color.Gray{Y: 160}
		l.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
		p.Add(l)
	}
	for i, s := range pn.Lines {
		for _, seg := range segments(s) {
			l, err := plotter.NewLine(seg)
			if err != nil {
				return nil, err
			}
			l.Color = palette[i%len(palette)]
			l.Width = vg.Points(1.5)
			p.Add(l)
			if len(seg) <= 60 {
				sc, err := plotter.NewScatter(seg)
				if err != nil {
					return nil, err
				}
				sc.Color = l.Color
				sc.Radius = vg.Points(2)
				p.Add(sc)
			}
		}
		// One legend entry per series, with a line of its colour.
		ll, _ := plotter.NewLine(plotter.XYs{{}})
		ll.Color = palette[i%len(palette)]
		ll.Width = vg.Points(1.5)
		p.Legend.Add(s.Name, ll)
	}
	if !math.IsNaN(pn.MarkX) && pn.MarkLabel != "" {
		ymin, ymax := p.Y.Min, p.Y.Max
		if ymin >= ymax {
			ymin, ymax = 0, 1
		}
		l, err := plotter.NewLine(plotter.XYs{{X: pn.MarkX, Y: ymin}, {X: pn.MarkX, Y: ymax}})
		if err != nil {
			return nil, err
		}
		l.Color = color.Gray{Y: 90}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
		p.Add(l)
		p.Legend.Add(pn.MarkLabel, l)
	}
	return p, nil
}

// segments splits a series at NaN values.
func segments(s Series) []plotter.XYs {
	var out []plotter.XYs
	var cur plotter.XYs
	for i := range s.X {
		if i >= len(s.Y) || math.IsNaN(s.Y[i]) || math.IsInf(s.Y[i], 0) {
			if len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
			continue
		}
		cur = append(cur, plotter.XY{X: s.X[i], Y: s.Y[i]})
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
