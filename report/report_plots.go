package report

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/streamgauge/streamgauge/analysis"
)

// PlotKinds are the single plots a report can draw (streamgauge report
// --format png --plot KIND).
var PlotKinds = []string{"cdf", "percentiles", "throughput", "tokens", "inflight", "errors", "lengths", "server"}

// CDFMetrics are the metrics whose distributions a report plots.
var CDFMetrics = []string{"ttft", "itl", "tpot", "e2e"}

// timeLabel is the x label of every over-time plot.
const timeLabel = "time since start (s)"

// Plot returns one of the report's plots, for a PNG: kind is one of
// PlotKinds; metric picks the metric of "cdf" (default: ttft, itl, tpot and
// e2e overlaid) and "percentiles" (default ttft), the input or output
// lengths of "lengths" (default output) and the server series of "server"
// (queue, running or kv; default queue).
func (r *Report) Plot(kind, metric string) (*plot.Plot, error) {
	switch kind {
	case "cdf":
		if metric == "" {
			return r.cdfAll(), nil
		}
		if !slices.Contains(analysis.Metrics, metric) {
			return nil, fmt.Errorf("unknown metric %q (one of %s)", metric, strings.Join(analysis.Metrics, ", "))
		}
		return r.cdf(metric), nil
	case "percentiles":
		switch metric {
		case "":
			metric = "ttft"
		case "ttft", "itl":
		default:
			return nil, fmt.Errorf("percentiles over time: metric %q: want ttft or itl", metric)
		}
		return r.percentiles(metric), nil
	case "throughput":
		return r.throughput(), nil
	case "tokens":
		return r.tokens(), nil
	case "inflight":
		return r.inflight(), nil
	case "errors":
		return r.errorsOverTime(), nil
	case "lengths":
		switch metric {
		case "", "output":
			return r.lengths("output"), nil
		case "input":
			return r.lengths("input"), nil
		}
		return nil, fmt.Errorf("lengths: %q: want input or output", metric)
	case "server":
		if r.server == nil {
			return nil, fmt.Errorf("run %s has no %s (run with --scrape-metrics)", r.Run.Dir, analysis.ServerMetricsFile)
		}
		if metric == "" {
			metric = "queue"
		}
		for _, c := range serverCategories {
			if c.key == metric {
				return r.serverPlot(c), nil
			}
		}
		return nil, fmt.Errorf("server: %q: want queue, running or kv", metric)
	}
	return nil, fmt.Errorf("unknown plot %q (one of %s)", kind, strings.Join(PlotKinds, ", "))
}

// histograms decodes the summary's histograms for the CDFs.
func (r *Report) histograms() PlotRun {
	pr, err := PlotRunFromSummary(r.Run.Name(), r.Summary)
	if err != nil {
		// A summary.json with a damaged histogram still gets a report; its
		// CDFs say there are no samples.
		return PlotRun{Name: r.Run.Name(), Histograms: map[string]*hdrhistogram.Histogram{}}
	}
	return pr
}

// sloThresholds returns the latency SLOs on metric, for CDF plots.
func (r *Report) sloThresholds(metric string) []Threshold {
	var out []Threshold
	for _, res := range r.Summary.SLO {
		s, err := analysis.ParseSLO(res.Expr)
		if err != nil || s.Kind != analysis.KindLatency || s.Metric != metric {
			continue
		}
		out = append(out, Threshold{Label: "SLO " + res.Expr, Value: s.Threshold})
	}
	return out
}

func (r *Report) cdf(metric string) *plot.Plot {
	return CDFPlot(metric, []PlotRun{r.histograms()}, r.sloThresholds(metric)...)
}

// cdfAll overlays the CDFs of ttft, itl, tpot and e2e.
func (r *Report) cdfAll() *plot.Plot {
	hs := r.histograms()
	runs := make([]PlotRun, 0, len(CDFMetrics))
	for _, m := range CDFMetrics {
		runs = append(runs, PlotRun{Name: m, Histograms: map[string]*hdrhistogram.Histogram{"all": hs.Histograms[m]}})
	}
	p := CDFPlot("all", runs)
	p.Title.Text = "latency CDFs: " + strings.Join(CDFMetrics, ", ")
	p.X.Label.Text = "latency (ms, log scale)"
	return p
}

// timePlot is an over-time plot on the report's shared time axis; call
// clampTime when its data is added (which widens the axis to fit).
func (r *Report) timePlot(title, yLabel string) *plot.Plot {
	p := newPlot(title, timeLabel, yLabel)
	r.clampTime(p)
	return p
}

// clampTime sets the shared time axis: from the run's start to its last
// request, the same for every over-time plot so that they line up.
func (r *Report) clampTime(p *plot.Plot) { p.X.Min, p.X.Max = 0, r.tl.endS() }

// fitY sets a y range from 0 with headroom for the legend (in the top
// right corner): about 8% of the height per entry.
func fitY(p *plot.Plot, ymax float64, legendEntries int) {
	p.Y.Min = 0
	switch {
	case ymax <= 0:
		p.Y.Max = 1
	case legendEntries > 0:
		n := min(legendEntries, 8)
		p.Y.Max = ymax / (0.96 - 0.08*float64(n))
	default:
		p.Y.Max = ymax * 1.08
	}
}

// rateLine returns a step line of per-bucket values divided by the
// bucket's length (a rate per second), or not divided.
func (r *Report) stepLine(value func(b *tbucket) float64, perSecond bool) (plotter.XYs, float64) {
	var xys plotter.XYs
	var ymax float64
	for i := range r.tl.buckets {
		start, length := r.tl.spanS(i)
		v := value(&r.tl.buckets[i])
		if perSecond {
			v /= length
		}
		xys = append(xys, plotter.XY{X: start, Y: v})
		ymax = max(ymax, v)
	}
	if n := len(xys); n > 0 {
		xys = append(xys, plotter.XY{X: r.tl.endS(), Y: xys[n-1].Y})
	}
	return xys, ymax
}

func (r *Report) percentiles(metric string) *plot.Plot {
	p := r.timePlot(metric+" p50 and p99 over time", metric+" (ms)")
	defer r.clampTime(p)
	var p50, p99 plotter.XYs
	var ymax float64
	for i := range r.tl.buckets {
		b := &r.tl.buckets[i]
		h := b.ttft
		if metric == "itl" {
			h = b.itl
		}
		if h == nil || h.TotalCount() == 0 {
			continue
		}
		start, length := r.tl.spanS(i)
		x := start + length/2
		v50, v99 := analysis.Quantile(h, 0.5), analysis.Quantile(h, 0.99)
		p50 = append(p50, plotter.XY{X: x, Y: v50})
		p99 = append(p99, plotter.XY{X: x, Y: v99})
		ymax = max(ymax, v99)
	}
	if len(p50) == 0 {
		noData(p, "no "+metric+" samples")
		return p
	}
	if len(p50) > 1 {
		band := make(plotter.XYs, 0, 2*len(p50))
		band = append(band, p99...)
		for i := len(p50) - 1; i >= 0; i-- {
			band = append(band, p50[i])
		}
		if poly, err := plotter.NewPolygon(band); err == nil {
			poly.Color = withAlpha(plotColor(0), 40)
			poly.LineStyle.Width = 0
			p.Add(poly)
		}
	}
	addLine(p, "p99", p99, lineStyle(1), plotter.NoStep)
	addLine(p, "p50", p50, lineStyle(0), plotter.NoStep)
	if len(p50) == 1 { // one bucket: a line needs two points, show markers
		for i, xys := range []plotter.XYs{p50, p99} {
			if sc, err := plotter.NewScatter(xys); err == nil {
				sc.GlyphStyle = draw.GlyphStyle{Color: plotColor(i), Radius: vg.Points(3), Shape: draw.CircleGlyph{}}
				p.Add(sc)
			}
		}
	}
	fitY(p, ymax, 2)
	return p
}

func (r *Report) throughput() *plot.Plot {
	p := r.timePlot("completed requests per second", "requests/s")
	defer r.clampTime(p)
	ok, m1 := r.stepLine(func(b *tbucket) float64 { return float64(b.ok) }, true)
	failed, m2 := r.stepLine(func(b *tbucket) float64 { return float64(b.failed) }, true)
	addLine(p, "succeeded", ok, lineStyle(0), plotter.PostStep)
	if m2 > 0 {
		addLine(p, "failed", failed, lineStyle(5), plotter.PostStep)
	}
	if len(ok) == 0 {
		noData(p, "no requests")
	}
	entries := 1
	if m2 > 0 {
		entries = 2
	}
	fitY(p, max(m1, m2), entries)
	return p
}

func (r *Report) tokens() *plot.Plot {
	p := r.timePlot("output tokens per second (as streamed)", "tokens/s")
	defer r.clampTime(p)
	xys, ymax := r.stepLine(func(b *tbucket) float64 { return b.outTok }, true)
	l := &plotter.Line{XYs: xys, LineStyle: lineStyle(2), StepStyle: plotter.PostStep, FillColor: withAlpha(plotColor(2), 50)}
	if len(xys) > 0 {
		p.Add(l)
	} else {
		noData(p, "no requests")
	}
	fitY(p, ymax, 0)
	return p
}

func (r *Report) inflight() *plot.Plot {
	p := r.timePlot("requests in flight (mean per bucket)", "requests")
	defer r.clampTime(p)
	xys, ymax := r.stepLine(func(b *tbucket) float64 { return b.inflightNS / 1e9 }, true)
	if len(xys) > 0 {
		p.Add(&plotter.Line{XYs: xys, LineStyle: lineStyle(3), StepStyle: plotter.PostStep, FillColor: withAlpha(plotColor(3), 50)})
	} else {
		noData(p, "no requests")
	}
	fitY(p, ymax, 0)
	return p
}

// errorColors keeps one colour per error kind across reports.
var errorColors = map[string]color.RGBA{
	"connect": plotColor(7), "timeout": plotColor(1), "http_4xx": plotColor(3), "http_429": plotColor(6),
	"http_5xx": plotColor(5), "stream_error": plotColor(4), "protocol": plotColor(2), "canceled": plotColor(8),
}

// errorsOverTime stacks the failures of each kind per second.
func (r *Report) errorsOverTime() *plot.Plot {
	p := r.timePlot("failed requests per second, by error kind", "failures/s")
	defer r.clampTime(p)
	kinds := make([]string, 0, len(r.tl.kinds))
	for k := range r.tl.kinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	if len(kinds) == 0 {
		fitY(p, 0, 0)
		noData(p, "no failed requests")
		return p
	}
	// Draw the cumulative totals from the top layer down, so each band
	// shows one kind.
	stack := make([][]float64, len(kinds))
	var ymax float64
	for i := range r.tl.buckets {
		_, length := r.tl.spanS(i)
		var cum float64
		for j, k := range kinds {
			cum += float64(r.tl.buckets[i].errs[k]) / length
			stack[j] = append(stack[j], cum)
		}
		ymax = max(ymax, cum)
	}
	for j := len(kinds) - 1; j >= 0; j-- {
		h := &plotter.Histogram{FillColor: errorColor(kinds[j], j), LineStyle: draw.LineStyle{Width: 0}}
		for i := range r.tl.buckets {
			start, length := r.tl.spanS(i)
			h.Bins = append(h.Bins, plotter.HistogramBin{Min: start, Max: start + length, Weight: stack[j][i]})
		}
		p.Add(h)
	}
	for j, k := range kinds { // legend in reading order
		p.Legend.Add(k, &plotter.Histogram{FillColor: errorColor(k, j)})
	}
	fitY(p, ymax, len(kinds))
	return p
}

func errorColor(kind string, i int) color.RGBA {
	if c, ok := errorColors[kind]; ok {
		return c
	}
	return plotColor(i)
}

// lengths draws the histogram of input (as sent) or output (as received)
// lengths in tokens.
func (r *Report) lengths(which string) *plot.Plot {
	h, title := r.outputLen, "output length (tokens received, successful requests)"
	if which == "input" {
		h, title = r.inputLen, "input length (tokens sent)"
	}
	p := newPlot(title, "tokens", "requests")
	if h.TotalCount() == 0 {
		noData(p, "no requests")
		return p
	}
	bins := lengthBins(h, 40)
	hist := &plotter.Histogram{Bins: bins, FillColor: withAlpha(plotColor(0), 160), LineStyle: draw.LineStyle{Color: color.White, Width: vg.Points(0.5)}}
	p.Add(hist)
	var ymax float64
	for _, b := range bins {
		ymax = max(ymax, b.Weight)
	}
	fitY(p, ymax, 0)
	p.X.Min, p.X.Max = bins[0].Min, bins[len(bins)-1].Max
	if len(bins) == 1 { // one length: a narrow bar, not a wall
		pad := math.Max(3, 0.05*bins[0].Max)
		p.X.Min, p.X.Max = bins[0].Min-pad, bins[0].Max+pad
	}
	return p
}

// lengthBins spreads an integer histogram over at most n equal bins of
// whole tokens.
func lengthBins(h *hdrhistogram.Histogram, n int) []plotter.HistogramBin {
	lo, hi := h.Min(), h.Max()
	width := max(int64(math.Ceil(float64(hi-lo+1)/float64(n))), 1)
	count := int((hi-lo)/width) + 1
	bins := make([]plotter.HistogramBin, count)
	for i := range bins {
		from := float64(lo + int64(i)*width)
		bins[i] = plotter.HistogramBin{Min: from - 0.5, Max: from + float64(width) - 0.5}
	}
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		v := (b.From + b.To) / 2
		i := min(max(int((v-lo)/width), 0), count-1)
		bins[i].Weight += float64(b.Count)
	}
	return bins
}

// serverCategory groups the names servers give one quantity.
type serverCategory struct {
	key, title, yLabel string
	names              []string
	// percent: the metrics are fractions (1 = full), shown in percent.
	percent bool
}

// serverCategories are the server series the report plots, by the names
// vLLM (and the simulator), SGLang and TGI export. A name may carry labels
// ("vllm:num_requests_running{model_name=...}").
var serverCategories = []serverCategory{
	{key: "queue", title: "server queue depth (requests waiting)", yLabel: "requests",
		names: []string{"vllm:num_requests_waiting", "sglang:num_queue_reqs", "tgi_queue_size"}},
	{key: "running", title: "server running requests (in the batch)", yLabel: "requests",
		names: []string{"vllm:num_requests_running", "sglang:num_running_reqs", "tgi_batch_current_size"}},
	{key: "kv", title: "server KV-cache usage", yLabel: "% of KV cache", percent: true,
		names: []string{"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc", "sglang:token_usage"}},
}

func baseName(name string) string {
	if i := strings.IndexByte(name, '{'); i >= 0 {
		return name[:i]
	}
	return name
}

// series returns the scraped names of a category, sorted; vLLM's older
// gpu_cache_usage_perc is dropped when kv_cache_usage_perc is there (they
// are the same number).
func (sm *serverMetrics) series(c serverCategory) []string {
	var out []string
	hasNewKV := false
	for n := range sm.names {
		if slices.Contains(c.names, baseName(n)) {
			out = append(out, n)
			hasNewKV = hasNewKV || baseName(n) == "vllm:kv_cache_usage_perc"
		}
	}
	if hasNewKV {
		out = slices.DeleteFunc(out, func(n string) bool { return baseName(n) == "vllm:gpu_cache_usage_perc" })
	}
	sort.Strings(out)
	return out
}

// unplotted returns the scraped names no category plots.
func (sm *serverMetrics) unplotted() []string {
	var out []string
	for n := range sm.names {
		known := false
		for _, c := range serverCategories {
			known = known || slices.Contains(c.names, baseName(n))
		}
		if !known {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

func (r *Report) serverPlot(c serverCategory) *plot.Plot {
	p := r.timePlot(c.title, c.yLabel)
	defer r.clampTime(p)
	names := r.server.series(c)
	var ymax float64
	for i, n := range names {
		var xys plotter.XYs
		for j := range r.tl.buckets {
			m, ok := r.tl.buckets[j].server[n]
			if !ok || m.n == 0 {
				continue
			}
			start, length := r.tl.spanS(j)
			v := m.sum / float64(m.n)
			if c.percent {
				v *= 100
			}
			xys = append(xys, plotter.XY{X: start + length/2, Y: v})
			ymax = max(ymax, v)
		}
		if len(xys) == 1 {
			xys = append(xys, plotter.XY{X: xys[0].X + 1e-9, Y: xys[0].Y})
		}
		addLine(p, n, xys, lineStyle(i), plotter.NoStep)
	}
	if len(names) == 0 {
		fitY(p, 0, 0)
		noData(p, "no "+strings.Join(c.names, " / ")+" in "+analysis.ServerMetricsFile)
		return p
	}
	fitY(p, ymax, len(names))
	if c.percent {
		p.Y.Max = max(p.Y.Max, 100)
	}
	return p
}
