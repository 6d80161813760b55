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

// Figure is a grid of panels written to one PNG file: Cols panels per row
// (all in one row when 0), each Width × Height.
type Figure struct {
	Panels        []Panel
	Cols          int
	Width, Height vg.Length
}

// Drawing describes what Write drew, in the figure's coordinates (points
// from the lower left corner), so that tests can check a figure's
// structure without reading pixels.
type Drawing struct {
	Width, Height vg.Length
	Panels        []DrawnPanel
}

// DrawnPanel is one panel of a Drawing.
type DrawnPanel struct {
	Title string
	Tile  vg.Rectangle // the panel's share of the figure
	Data  vg.Rectangle // the plotting area inside the axes
	// Legend is the legend's box, below the plot and outside Data, so that
	// it never hides a line or a marker; empty without entries.
	Legend  vg.Rectangle
	Entries []string // the legend's entries, in order
	Lines   []DrawnLine
}

// LineKind tells the lines of a panel apart.
type LineKind int

const (
	SeriesLine    LineKind = iota // a Panel's Lines
	ReferenceLine                 // the diagonal and the References
	MarkerLine                    // the vertical mark at MarkX
)

// DrawnLine is one line (or one segment of a series broken at NaN values)
// of a panel: its kind, its name (the diagonal has none), how many points
// it joins and the first and last of them, in data coordinates.
type DrawnLine struct {
	Kind        LineKind
	Name        string
	Points      int
	First, Last plotter.XY
}

// legendGap separates the legend from the axis label above it, and
// legendPad from the panel below.
const (
	legendGap = 4 * vg.Millimeter
	legendPad = 3 * vg.Millimeter
)

// Write draws the figure into path (atomically) and describes what it
// drew. Each panel's legend goes below its plot, so the plotting area
// never holds it.
func Write(path string, f Figure) (*Drawing, error) {
	if len(f.Panels) == 0 {
		return nil, fmt.Errorf("%s: nothing to plot", path)
	}
	cols := f.Cols
	if cols <= 0 || cols > len(f.Panels) {
		cols = len(f.Panels)
	}
	rows := (len(f.Panels) + cols - 1) / cols
	w, h := f.Width, f.Height
	if w == 0 || h == 0 {
		w, h = 5*vg.Inch, 4*vg.Inch
	}
	img := vgimg.New(w*vg.Length(cols), h*vg.Length(rows))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter, PadY: vg.Millimeter,
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
	d := &Drawing{Width: w * vg.Length(cols), Height: h * vg.Length(rows), Panels: make([]DrawnPanel, len(f.Panels))}
	built := make([]*plot.Plot, len(f.Panels))
	legends := make([]*plot.Legend, len(f.Panels))
	// One legend strip height for every panel, so that their plotting
	// areas line up.
	strip := vg.Length(0)
	for i, pn := range f.Panels {
		d.Panels[i] = DrawnPanel{Title: pn.Title}
		var err error
		if built[i], legends[i], err = build(pn, &d.Panels[i]); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		if len(d.Panels[i].Entries) > 0 {
			strip = max(strip, legends[i].Rectangle(dc).Size().Y+legendGap+legendPad)
		}
	}
	for i := range f.Panels {
		drawPanel(tiles.At(dc, i%cols, i/cols), built[i], legends[i], strip, &d.Panels[i])
	}
	if err := atomicfile.Write(path, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
		return err
	}); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return d, nil
}

// drawPanel draws the plot p into the tile c, above a strip of the given
// height that holds its legend, and records where they went in dp.
func drawPanel(c draw.Canvas, p *plot.Plot, leg *plot.Legend, strip vg.Length, dp *DrawnPanel) {
	dp.Tile = c.Rectangle
	pc := draw.Crop(c, 0, 0, strip, 0)
	p.Draw(pc)
	dp.Data = p.DataCanvas(pc).Rectangle
	if len(dp.Entries) > 0 {
		size := leg.Rectangle(c).Size()
		// Aligned with the plotting area's left edge, just under the tile's
		// plot.
		x0, y1 := dp.Data.Min.X, c.Min.Y+strip-legendGap
		dp.Legend = vg.Rectangle{Min: vg.Point{X: x0, Y: y1 - size.Y}, Max: vg.Point{X: x0 + size.X, Y: y1}}
		leg.Draw(draw.Canvas{Canvas: c.Canvas, Rectangle: dp.Legend})
	}
}

// build makes the plot of pn, without its legend, which it returns apart,
// and records the lines in dp.
func build(pn Panel, dp *DrawnPanel) (*plot.Plot, *plot.Legend, error) {
	p := plot.New()
	p.Title.Text = pn.Title
	p.X.Label.Text = pn.XLabel
	p.Y.Label.Text = pn.YLabel
	p.Add(plotter.NewGrid())
	leg := plot.NewLegend()
	leg.Top, leg.Left = true, true
	leg.TextStyle.Font.Size = vg.Points(10)
	if pn.Unit {
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1
	}
	add := func(kind LineKind, name string, pts plotter.XYs, style func(*plotter.Line)) (*plotter.Line, error) {
		l, err := plotter.NewLine(pts)
		if err != nil {
			return nil, err
		}
		style(l)
		p.Add(l)
		dp.Lines = append(dp.Lines, DrawnLine{Kind: kind, Name: name, Points: len(pts), First: pts[0], Last: pts[len(pts)-1]})
		return l, nil
	}
	if pn.Diagonal {
		if _, err := add(ReferenceLine, "", plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}}, refStyle(color.Gray{Y: 160})); err != nil {
			return nil, nil, err
		}
	}
	// References go under the series, and into the legend after them.
	var refs []*plotter.Line
	for _, r := range pn.References {
		l, err := addReference(r, add)
		if err != nil {
			return nil, nil, err
		}
		refs = append(refs, l)
	}
	for i, s := range pn.Lines {
		if err := addSeries(p, &leg, dp, s, palette[i%len(palette)], add); err != nil {
			return nil, nil, err
		}
	}
	for i, r := range pn.References {
		leg.Add(r.Name, refs[i])
		dp.Entries = append(dp.Entries, r.Name)
	}
	if err := addMarker(p, &leg, dp, pn, add); err != nil {
		return nil, nil, err
	}
	return p, &leg, nil
}

type addLine func(kind LineKind, name string, pts plotter.XYs, style func(*plotter.Line)) (*plotter.Line, error)

func refStyle(c color.Color) func(*plotter.Line) {
	return func(l *plotter.Line) {
		l.Color = c
		l.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
	}
}

// addReference draws a reference line, grey and dashed.
func addReference(r Series, add addLine) (*plotter.Line, error) {
	pts := make(plotter.XYs, 0, len(r.X))
	for i := range r.X {
		pts = append(pts, plotter.XY{X: r.X[i], Y: r.Y[i]})
	}
	return add(ReferenceLine, r.Name, pts, refStyle(color.Gray{Y: 110}))
}

// addSeries draws one named series, broken at NaN values, with dots on its
// points when there are few, and one legend entry.
func addSeries(p *plot.Plot, leg *plot.Legend, dp *DrawnPanel, s Series, c color.Color, add addLine) error {
	style := func(l *plotter.Line) {
		l.Color = c
		l.Width = vg.Points(1.5)
	}
	for _, seg := range segments(s) {
		if _, err := add(SeriesLine, s.Name, seg, style); err != nil {
			return err
		}
		if len(seg) <= 60 {
			sc, err := plotter.NewScatter(seg)
			if err != nil {
				return err
			}
			sc.Color = c
			sc.Radius = vg.Points(2)
			p.Add(sc)
		}
	}
	thumb, _ := plotter.NewLine(plotter.XYs{{}})
	style(thumb)
	leg.Add(s.Name, thumb)
	dp.Entries = append(dp.Entries, s.Name)
	return nil
}

// addMarker draws the vertical mark at pn.MarkX across the panel's y range.
func addMarker(p *plot.Plot, leg *plot.Legend, dp *DrawnPanel, pn Panel, add addLine) error {
	if math.IsNaN(pn.MarkX) || pn.MarkLabel == "" {
		return nil
	}
	ymin, ymax := p.Y.Min, p.Y.Max
	if ymin >= ymax {
		ymin, ymax = 0, 1
	}
	l, err := add(MarkerLine, pn.MarkLabel, plotter.XYs{{X: pn.MarkX, Y: ymin}, {X: pn.MarkX, Y: ymax}}, func(l *plotter.Line) {
		l.Color = color.Gray{Y: 90}
		l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	})
	if err != nil {
		return err
	}
	leg.Add(pn.MarkLabel, l)
	dp.Entries = append(dp.Entries, pn.MarkLabel)
	return nil
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
