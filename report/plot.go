package report

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"image/color"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/streamgauge/streamgauge/analysis"
)

// Plots are drawn in Go with gonum/plot, to SVG for HTML reports (inline, so
// a report is one file that works offline) and to PNG for pasting into
// issues. The helpers here are shared by the run report, compare and sweep.

// Plot sizes: a wide panel (time series, stacked so their time axes line
// up) and a half-width panel (CDFs, histograms).
const (
	PlotWideWidth  = 10 * vg.Inch
	PlotWideHeight = 2.6 * vg.Inch
	PlotHalfWidth  = 5 * vg.Inch
	PlotHalfHeight = 3.4 * vg.Inch
)

// plotFont is Liberation Sans, metric-compatible with Arial and Helvetica,
// so text laid out here fits where a browser draws it in either.
var plotFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

// plotColors is a colour-blind-friendly palette (Okabe-Ito, then greys).
var plotColors = []color.RGBA{
	{0, 114, 178, 255},   // blue
	{230, 159, 0, 255},   // orange
	{0, 158, 115, 255},   // bluish green
	{204, 121, 167, 255}, // reddish purple
	{86, 180, 233, 255},  // sky blue
	{213, 94, 0, 255},    // vermillion
	{240, 228, 66, 255},  // yellow
	{0, 0, 0, 255},       // black
	{120, 120, 120, 255}, // grey
}

func plotColor(i int) color.RGBA { return plotColors[i%len(plotColors)] }

func withAlpha(c color.RGBA, a uint8) color.NRGBA {
	return color.NRGBA{R: c.R, G: c.G, B: c.B, A: a}
}

// newPlot returns a plot with the report's fonts and a light grid.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(plotFont, 12)
	p.Title.Padding = vg.Points(6)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(plotFont, 10)
		a.Tick.Label.Font = font.From(plotFont, 9)
		a.Tick.Length = vg.Points(4)
		a.Tick.Marker = plot.TickerFunc(linearTicks)
		a.Padding = vg.Points(2)
	}
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Legend.TextStyle.Font = font.From(plotFont, 9)
	p.Legend.Top = true
	p.Legend.ThumbnailWidth = vg.Points(18)
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{Y: 225}
	g.Horizontal.Color = color.Gray{Y: 225}
	p.Add(g)
	return p
}

func lineStyle(i int) draw.LineStyle {
	return draw.LineStyle{Color: plotColor(i), Width: vg.Points(1.5)}
}

// addLine adds a line named name (in the legend when not empty).
func addLine(p *plot.Plot, name string, xys plotter.XYs, sty draw.LineStyle, step plotter.StepKind) {
	if len(xys) == 0 {
		return
	}
	l := &plotter.Line{XYs: xys, LineStyle: sty, StepStyle: step}
	p.Add(l)
	if name != "" {
		p.Legend.Add(name, l)
	}
}

// noData writes a note in the middle of an empty plot and gives its axes a
// range, so an empty panel still reads as "nothing happened here".
func noData(p *plot.Plot, note string) {
	x, y := emptyAxis(&p.X), emptyAxis(&p.Y)
	lbl, err := plotter.NewLabels(plotter.XYLabels{
		XYs:    plotter.XYs{{X: x, Y: y}},
		Labels: []string{note},
	})
	if err != nil {
		return
	}
	lbl.TextStyle[0].Font = font.From(plotFont, 11)
	lbl.TextStyle[0].Color = color.Gray{Y: 110}
	lbl.TextStyle[0].XAlign = draw.XCenter
	lbl.TextStyle[0].YAlign = draw.YCenter
	p.Add(lbl)
}

// emptyAxis gives an axis with no data a range its scale can draw (a log
// scale cannot hold 0) and returns the middle of that range.
func emptyAxis(a *plot.Axis) float64 {
	_, logScale := a.Scale.(plot.LogScale)
	if logScale && a.Min <= 0 {
		a.Min = 0
	}
	if a.Min >= a.Max {
		a.Min, a.Max = 0, 1
		if logScale {
			a.Min, a.Max = 1, 10
		}
	}
	if logScale {
		return math.Sqrt(a.Min * a.Max)
	}
	return (a.Min + a.Max) / 2
}

// RenderSVG draws p as a standalone SVG document of the given size.
func RenderSVG(w io.Writer, p *plot.Plot, width, height vg.Length) error {
	c := vgsvg.New(width, height)
	p.Draw(draw.New(c))
	if _, err := c.WriteTo(w); err != nil {
		return fmt.Errorf("write svg: %w", err)
	}
	return nil
}

// RenderPNG draws p as a PNG image of the given size at 144 dpi (sharp on
// high-density screens, small enough to paste into an issue).
func RenderPNG(w io.Writer, p *plot.Plot, width, height vg.Length) error {
	c := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(144))
	p.Draw(draw.New(c))
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(w); err != nil {
		return fmt.Errorf("write png: %w", err)
	}
	return nil
}

// svgSize matches the width and height attributes vgsvg writes.
var svgSize = regexp.MustCompile(`^<svg width="[^"]*" height="[^"]*"`)

// inlineSVG turns a vgsvg document into an element for an HTML page: no XML
// prolog, an id and an accessible title, and no fixed size (the page's CSS
// scales it; the viewBox keeps its proportions).
func inlineSVG(doc []byte, id, title string) (template.HTML, error) {
	s := string(doc)
	i := strings.Index(s, "<svg ")
	if i < 0 {
		return "", errors.New("render svg: no <svg> element")
	}
	s = s[i:]
	attrs := fmt.Sprintf(`<svg id="%s" class="plot" role="img" aria-label="%s"`, template.HTMLEscapeString(id), template.HTMLEscapeString(title))
	s = svgSize.ReplaceAllLiteralString(s, attrs)
	if j := strings.Index(s, ">"); j >= 0 {
		s = s[:j+1] + "<title>" + template.HTMLEscapeString(title) + "</title>" + s[j+1:]
	}
	return template.HTML(s), nil // #nosec: vgsvg escapes every text it writes
}

// plotSVG renders p for an HTML page.
func plotSVG(p *plot.Plot, width, height vg.Length, id string) (template.HTML, error) {
	var buf bytes.Buffer
	if err := RenderSVG(&buf, p, width, height); err != nil {
		return "", err
	}
	return inlineSVG(buf.Bytes(), id, p.Title.Text)
}

// alignedSVGs renders plots of the same size whose data areas line up
// horizontally, so stacked time series share one time axis: each plot's
// left and right margins are widened to the largest among them.
func alignedSVGs(plots []*plot.Plot, ids []string, width, height vg.Length) ([]template.HTML, error) {
	canvases := make([]*vgsvg.Canvas, len(plots))
	left := make([]vg.Length, len(plots))
	right := make([]vg.Length, len(plots))
	var maxL, maxR vg.Length
	for i, p := range plots {
		canvases[i] = vgsvg.New(width, height)
		dc := draw.New(canvases[i])
		data := p.DataCanvas(dc)
		left[i], right[i] = data.Min.X-dc.Min.X, dc.Max.X-data.Max.X
		maxL, maxR = max(maxL, left[i]), max(maxR, right[i])
	}
	out := make([]template.HTML, len(plots))
	for i, p := range plots {
		dc := draw.New(canvases[i])
		p.Draw(draw.Crop(dc, maxL-left[i], -(maxR - right[i]), 0, 0))
		var buf bytes.Buffer
		if _, err := canvases[i].WriteTo(&buf); err != nil {
			return nil, fmt.Errorf("write svg: %w", err)
		}
		s, err := inlineSVG(buf.Bytes(), ids[i], p.Title.Text)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// tailScale is a percentile axis (0-100) stretched toward the tail: equal
// steps from 0 to 90, 90 to 99, 99 to 99.9, so p99 and p99.9 get as much
// room as the median.
type tailScale struct{}

func tailStretch(pct float64) float64 {
	q := min(max(pct/100, 0), 1-1e-9)
	return -math.Log10(1 - q)
}

func (tailScale) Normalize(lo, hi, x float64) float64 {
	a, b := tailStretch(lo), tailStretch(hi)
	return (tailStretch(x) - a) / (b - a)
}

// tailTicks labels 0, 50, 90, 99, 99.9 ... up to the axis' top.
func tailTicks(lo, hi float64) []plot.Tick {
	ticks := []plot.Tick{{Value: 0, Label: "0"}, {Value: 25}, {Value: 50, Label: "50"}, {Value: 75}}
	for _, v := range []float64{90, 99, 99.9, 99.99, 99.999} {
		if v > hi+1e-9 {
			break
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
	}
	return ticks
}

// logTicks labels a log-scaled axis: 1-2-5 steps when it spans less than
// three decades, powers of ten beyond, and plain linear ticks when it
// spans less than one (where powers of ten would leave it unlabelled).
func logTicks(lo, hi float64) []plot.Tick {
	if lo <= 0 || hi <= lo || hi/lo < 10 {
		return linearTicks(lo, hi)
	}
	steps := []float64{1, 2, 5}
	if hi/lo > 1000 {
		steps = []float64{1}
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(lo)); e <= math.Ceil(math.Log10(hi)); e++ {
		base := math.Pow(10, e)
		for m := 1; m < 10; m++ {
			v := base * float64(m)
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			for _, s := range steps {
				if float64(m) == s {
					t.Label = formatTick(v)
				}
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

// linearTicks labels about eight round values (steps of 1, 2, 2.5 or 5
// times a power of ten) with unlabelled minor ticks between them.
func linearTicks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	raw := (hi - lo) / 8
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	minor := step / 5
	if math.Abs(step/mag-2) < 1e-9 {
		minor = step / 4
	}
	var ticks []plot.Tick
	for i := math.Ceil(lo / minor); i*minor <= hi*(1+1e-12)+minor*1e-9; i++ {
		v := i * minor
		t := plot.Tick{Value: v}
		if r := math.Abs(v/step - math.Round(v/step)); r < 1e-6 {
			t.Label = formatTick(math.Round(v/step) * step)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// formatTick writes a tick value without exponent or trailing zeros.
func formatTick(v float64) string {
	s := strings.TrimRight(strconv.FormatFloat(v, 'f', 6, 64), "0")
	return strings.TrimSuffix(s, ".")
}

// PlotRun is one run in an overlaid plot: a name for the legend and its
// latency histograms in microseconds (as in summary.json), by metric.
type PlotRun struct {
	Name       string
	Histograms map[string]*hdrhistogram.Histogram
}

// PlotRunFromSummary decodes a summary's histograms.
func PlotRunFromSummary(name string, s *analysis.Summary) (PlotRun, error) {
	pr := PlotRun{Name: name, Histograms: map[string]*hdrhistogram.Histogram{}}
	for m, enc := range s.Histograms {
		h, err := analysis.DecodeHistogram(enc)
		if err != nil {
			return PlotRun{}, fmt.Errorf("%s: %s histogram: %w", name, m, err)
		}
		pr.Histograms[m] = h
	}
	return pr, nil
}

// Threshold is a labelled value drawn across a plot (an SLO's limit).
type Threshold struct {
	Label string
	Value float64
}

// cdfPoints returns the CDF of a µs histogram as (ms, percent) points for a
// post-step line, thinned to what a plot can show (steps closer than 0.5%
// in latency merge). The last point (100%) is pulled down to top, the
// axis' ceiling.
func cdfPoints(h *hdrhistogram.Histogram, top float64) plotter.XYs {
	total := h.TotalCount()
	if total == 0 {
		return nil
	}
	bars := h.Distribution()
	var pts plotter.XYs
	var cum int64
	lastX := math.Inf(-1)
	first := true
	for i, b := range bars {
		if b.Count == 0 {
			continue
		}
		cum += b.Count
		x := math.Max(float64(b.To)/1000, 0.001)
		y := min(100*float64(cum)/float64(total), top)
		if first {
			pts = append(pts, plotter.XY{X: math.Max(float64(b.From)/1000, 0.001), Y: 0})
			first = false
		}
		lastInRun := i == len(bars)-1 || cum == total
		if n := len(pts); n > 1 && !lastInRun && math.Log10(x)-math.Log10(lastX) < 0.002 {
			pts[n-1] = plotter.XY{X: x, Y: y}
			continue
		}
		pts = append(pts, plotter.XY{X: x, Y: y})
		lastX = x
		if cum == total {
			break
		}
	}
	return pts
}

// cdfTop is the percentile axis' ceiling for n samples: 1 - 1/(2n), so the
// last step shows, capped at 99.99.
func cdfTop(n int64) float64 {
	if n <= 0 {
		return 99
	}
	return min(100*(1-1/(2*float64(n))), 99.99)
}

// CDFPlot draws the cumulative distribution of metric for each run,
// overlaid: latency (ms) on a log axis, the share of samples at or below it
// on a percentile axis stretched toward the tail (read p50, p90, p99 off the
// grid lines). Thresholds are drawn as dashed vertical lines.
func CDFPlot(metric string, runs []PlotRun, thresholds ...Threshold) *plot.Plot {
	p := newPlot(metric+" CDF", metric+" (ms, log scale)", "percentile")
	p.Y.Scale = tailScale{}
	p.Y.Tick.Marker = plot.TickerFunc(tailTicks)
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.TickerFunc(logTicks)
	p.Legend.Left = true
	var n int64
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range runs {
		if h := r.Histograms[metric]; h != nil && h.TotalCount() > 0 {
			n = max(n, h.TotalCount())
			// The axis starts at p1, not at the minimum: a few near-zero
			// samples (frames read together) would otherwise squeeze the
			// distribution into the right edge. The curve then enters at
			// about 1%, which shows the cut.
			lo = min(lo, math.Max(analysis.Quantile(h, 0.01), 0.001))
			hi = max(hi, math.Max(float64(h.Max())/1000, 0.001))
		}
	}
	top := cdfTop(n)
	drawn := 0
	for i, r := range runs {
		h := r.Histograms[metric]
		if h == nil || h.TotalCount() == 0 {
			continue
		}
		name := r.Name
		if len(runs) == 1 {
			name = ""
		}
		addLine(p, name, cdfPoints(h, top), lineStyle(i), plotter.PostStep)
		drawn++
	}
	for i, t := range thresholds {
		if t.Value <= 0 {
			continue
		}
		lo, hi = min(lo, t.Value), max(hi, t.Value)
		sty := draw.LineStyle{Color: color.RGBA{200, 0, 0, 255}, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}
		if i > 0 {
			sty.Color = color.RGBA{140, 0, 0, 255}
		}
		addLine(p, t.Label, plotter.XYs{{X: t.Value, Y: 0}, {X: t.Value, Y: top}}, sty, plotter.NoStep)
	}
	p.Y.Min, p.Y.Max = 0, top
	if drawn == 0 {
		p.X.Scale = plot.LinearScale{}
		p.X.Tick.Marker = plot.DefaultTicks{}
		p.Y.Scale = plot.LinearScale{}
		noData(p, "no "+metric+" samples")
		return p
	}
	// A little room either side, so the first and last steps show.
	p.X.Min, p.X.Max = lo/1.15, hi*1.15
	return p
}

// SweepPoint is one load level of a sweep: the throughput it achieved and
// the latency statistic plotted against it.
type SweepPoint struct {
	Throughput float64
	Latency    float64
	// Label names the point (e.g. "rate 20"); Pass says whether the SLOs
	// held there (failed points are drawn hollow).
	Label string
	Pass  bool
}

// SweepSeries is one curve: a run group or a latency statistic.
type SweepSeries struct {
	Name   string
	Points []SweepPoint
}

// SweepPlotOptions label a latency-throughput plot.
type SweepPlotOptions struct {
	Title  string
	XLabel string // default "throughput (req/s)"
	YLabel string // default "latency (ms)"
	// Capacity, when > 0, marks the highest throughput that met the SLOs
	// with a vertical line labelled CapacityLabel.
	Capacity      float64
	CapacityLabel string
	// SLO, when > 0, draws the latency limit as a dashed horizontal line.
	SLO      float64
	SLOLabel string
	// LogY puts latency on a log axis (for curves that blow up past
	// capacity).
	LogY bool
}

// SweepPlot draws latency against throughput, one line per series with a
// marker per load level (filled where the SLOs held, hollow where they did
// not), and the capacity and the SLO limit when given.
func SweepPlot(series []SweepSeries, opt SweepPlotOptions) *plot.Plot {
	if opt.XLabel == "" {
		opt.XLabel = "throughput (req/s)"
	}
	if opt.YLabel == "" {
		opt.YLabel = "latency (ms)"
	}
	if opt.Title == "" {
		opt.Title = "latency vs throughput"
	}
	p := newPlot(opt.Title, opt.XLabel, opt.YLabel)
	p.Legend.Left = true
	if opt.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.TickerFunc(logTicks)
	}
	var ymin, ymax, xmax float64 = math.Inf(1), 0, 0
	drew := false
	for i, s := range series {
		var xys plotter.XYs
		for _, pt := range s.Points {
			if opt.LogY && pt.Latency <= 0 {
				continue
			}
			xys = append(xys, plotter.XY{X: pt.Throughput, Y: pt.Latency})
			ymin, ymax, xmax = min(ymin, pt.Latency), max(ymax, pt.Latency), max(xmax, pt.Throughput)
		}
		if len(xys) == 0 {
			continue
		}
		drew = true
		addLine(p, s.Name, xys, lineStyle(i), plotter.NoStep)
		var pass, fail plotter.XYs
		for _, pt := range s.Points {
			if opt.LogY && pt.Latency <= 0 {
				continue
			}
			if pt.Pass {
				pass = append(pass, plotter.XY{X: pt.Throughput, Y: pt.Latency})
			} else {
				fail = append(fail, plotter.XY{X: pt.Throughput, Y: pt.Latency})
			}
		}
		if len(pass) > 0 {
			sc, _ := plotter.NewScatter(pass)
			sc.GlyphStyle = draw.GlyphStyle{Color: plotColor(i), Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}}
			p.Add(sc)
		}
		if len(fail) > 0 {
			sc, _ := plotter.NewScatter(fail)
			sc.GlyphStyle = draw.GlyphStyle{Color: plotColor(i), Radius: vg.Points(3.5), Shape: draw.RingGlyph{}}
			p.Add(sc)
		}
	}
	if !drew {
		noData(p, "no sweep points")
		return p
	}
	if opt.SLO > 0 {
		ymin, ymax = min(ymin, opt.SLO), max(ymax, opt.SLO)
		label := opt.SLOLabel
		if label == "" {
			label = "SLO " + formatTick(opt.SLO)
		}
		addLine(p, label, plotter.XYs{{X: 0, Y: opt.SLO}, {X: max(xmax, opt.Capacity) * 1.05, Y: opt.SLO}},
			draw.LineStyle{Color: color.RGBA{200, 0, 0, 255}, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}, plotter.NoStep)
	}
	if opt.LogY {
		p.Y.Min, p.Y.Max = ymin/1.3, ymax*1.3
	} else {
		p.Y.Min, p.Y.Max = 0, ymax*1.1
	}
	p.X.Min, p.X.Max = 0, max(xmax, opt.Capacity)*1.05
	if opt.Capacity > 0 {
		label := opt.CapacityLabel
		if label == "" {
			label = "capacity " + strconv.FormatFloat(opt.Capacity, 'f', 1, 64)
		}
		addLine(p, label, plotter.XYs{{X: opt.Capacity, Y: p.Y.Min}, {X: opt.Capacity, Y: p.Y.Max}},
			draw.LineStyle{Color: color.RGBA{0, 130, 0, 255}, Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(6), vg.Points(3)}}, plotter.NoStep)
	}
	return p
}
