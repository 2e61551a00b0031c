package report

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"github.com/streamgauge/streamgauge/internal/plural"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/results"
)

// The HTML pages are one self-contained file each: inline CSS, inline SVG
// plots, no script and no network, so they open offline and attach to CI
// runs as they are.

// htmlCSS is shared by the run, compare and sweep pages.
const htmlCSS = `
:root { --fg: #1d2430; --muted: #5b6472; --line: #dfe3ea; --bg: #f6f7f9; --ok: #0a7d38; --bad: #b3261e; --warn: #8a5a00; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 "Liberation Sans", Arial, Helvetica, sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
p.lede, p.note { color: var(--muted); margin: 4px 0 10px; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: bold; font-size: 13px; vertical-align: middle; margin-left: 8px; }
.badge.pass { background: #dff3e6; color: var(--ok); } .badge.fail { background: #fbe2df; color: var(--bad); } .badge.none { background: #e8eaee; color: var(--muted); }
.warn { background: #fff4d6; border: 1px solid #f0d58c; color: var(--warn); padding: 8px 12px; border-radius: 6px; margin: 10px 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; margin: 12px 0; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.card .k { color: var(--muted); font-size: 12px; } .card .v { font-size: 19px; font-weight: bold; } .card .s { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); margin: 6px 0 12px; font-size: 13px; }
th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { background: #eef1f5; font-weight: bold; } td.l, th.l { text-align: left; white-space: normal; }
td.pass { color: var(--ok); font-weight: bold; text-align: center; } td.fail { color: var(--bad); font-weight: bold; text-align: center; }
table.settings td { text-align: left; white-space: normal; word-break: break-word; } table.settings td.k { color: var(--muted); width: 220px; }
figure { margin: 0 0 10px; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 6px; }
figure figcaption { color: var(--muted); font-size: 12px; padding: 2px 6px 4px; }
svg.plot { display: block; width: 100%; height: auto; }
svg.plot text { font-family: "Liberation Sans", Arial, Helvetica, sans-serif !important; }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
@media (max-width: 800px) { .grid2 { grid-template-columns: 1fr; } }
code { background: #eef1f5; padding: 1px 4px; border-radius: 3px; }
footer { color: var(--muted); font-size: 12px; margin-top: 32px; }
`

// Figure is one plot of an HTML page.
type Figure struct {
	ID      string
	Caption string
	SVG     template.HTML
}

type card struct{ Key, Value, Sub string }

type sloRow struct {
	Pass                                  bool
	Expr, Observed, Threshold, Margin, Mk string
}

type statRow struct {
	Metric                                   string
	Count                                    int64
	Mean, P50, P90, P95, P99, P999, Max, Min string
}

type kv struct{ Key, Value string }

type runPage struct {
	CSS           template.CSS
	Title         string
	Dir           string
	Verdict       string // pass, fail, none
	VerdictText   string
	Lede          string
	Warnings      []string
	Cards         []card
	SLOs          []sloRow
	Stats         []statRow
	CDFs          []Figure
	Timeline      []Figure
	Server        []Figure
	ServerNote    string
	Lengths       []Figure
	Settings      []kv
	Profile       []kv
	Generated     string
	TimelineWidth string
}

// pageHead opens every HTML page streamgauge writes (run report, compare,
// sweep): the document head with the page's title and inline CSS, then the
// body's main element. The templates go on from there.
const pageHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>{{.CSS}}</style>
</head>
<body>
<main>
`

var runTemplate = template.Must(template.New("run").Parse(pageHead + `<header>
<h1>{{.Title}} <span class="badge {{.Verdict}}" id="verdict">{{.VerdictText}}</span></h1>
<p class="lede">{{.Lede}}</p>
<p class="lede">run directory <code>{{.Dir}}</code></p>
{{range .Warnings}}<div class="warn">{{.}}</div>
{{end}}</header>

<section id="summary">
<h2>Summary</h2>
<div class="cards">{{range .Cards}}<div class="card"><div class="k">{{.Key}}</div><div class="v">{{.Value}}</div><div class="s">{{.Sub}}</div></div>{{end}}</div>
</section>

<section id="slo">
<h2>SLOs</h2>
{{if .SLOs}}<table id="slo-table">
<tr><th></th><th class="l">SLO</th><th>observed</th><th>threshold</th><th>margin</th></tr>
{{range .SLOs}}<tr><td class="{{if .Pass}}pass{{else}}fail{{end}}">{{.Mk}}</td><td class="l"><code>{{.Expr}}</code></td><td>{{.Observed}}</td><td>{{.Threshold}}</td><td>{{.Margin}}</td></tr>
{{end}}</table>
{{else}}<p class="note" id="slo-table">No SLOs were set for this run (add <code>--slo 'ttft.p99&lt;500ms'</code> to judge one).</p>{{end}}
</section>

<section id="latency">
<h2>Latency distributions</h2>
<p class="note">Each curve is a cumulative distribution: read the latency (x, log scale) at which it crosses a percentile (y). The y axis stretches toward the tail, so 0→90, 90→99 and 99→99.9 get equal room; the x axis starts at p1 (the minimum is in the table). Dashed red lines are SLO limits. Failed requests are not included.</p>
<table id="latency-table">
<tr><th class="l">metric (ms)</th><th>count</th><th>min</th><th>mean</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>p99.9</th><th>max</th></tr>
{{range .Stats}}<tr><td class="l">{{.Metric}}</td><td>{{.Count}}</td><td>{{.Min}}</td><td>{{.Mean}}</td><td>{{.P50}}</td><td>{{.P90}}</td><td>{{.P95}}</td><td>{{.P99}}</td><td>{{.P999}}</td><td>{{.Max}}</td></tr>
{{end}}</table>
<div class="grid2">{{range .CDFs}}<figure>{{.SVG}}<figcaption>{{.Caption}}</figcaption></figure>{{end}}</div>
</section>

<section id="timeline">
<h2>Over time</h2>
<p class="note">All plots below share one time axis (seconds since the run started, buckets of {{.TimelineWidth}}). Latency samples are placed when they were observed: ttft at the first token, itl at each token; completions and failures at the end of the request.</p>
{{range .Timeline}}<figure>{{.SVG}}<figcaption>{{.Caption}}</figcaption></figure>
{{end}}</section>

<section id="server">
<h2>Server metrics</h2>
{{if .ServerNote}}<p class="note">{{.ServerNote}}</p>{{end}}
{{range .Server}}<figure>{{.SVG}}<figcaption>{{.Caption}}</figcaption></figure>
{{end}}</section>

<section id="lengths">
<h2>Request lengths</h2>
<div class="grid2">{{range .Lengths}}<figure>{{.SVG}}<figcaption>{{.Caption}}</figcaption></figure>{{end}}</div>
</section>

<section id="settings">
<h2>Run settings</h2>
<table class="settings" id="run-table">{{range .Settings}}<tr><td class="k">{{.Key}}</td><td>{{.Value}}</td></tr>{{end}}</table>
{{if .Profile}}<table class="settings" id="profile-table"><tr><th class="l" colspan="2">resolved profile (secrets redacted)</th></tr>{{range .Profile}}<tr><td class="k">{{.Key}}</td><td>{{.Value}}</td></tr>{{end}}</table>{{end}}
</section>
<footer>{{.Generated}}</footer>
</main>
</body>
</html>
`))

// ReportPlotIDs are the ids of the plots of a run's HTML report (the
// server plots only when the run holds server metrics).
var ReportPlotIDs = []string{
	"plot-cdf-ttft", "plot-cdf-itl", "plot-cdf-tpot", "plot-cdf-e2e",
	"plot-ttft-over-time", "plot-itl-over-time", "plot-throughput", "plot-tokens", "plot-inflight", "plot-errors",
	"plot-input-lengths", "plot-output-lengths",
}

// ServerPlotIDs are the ids of the server metric plots.
var ServerPlotIDs = []string{"plot-server-queue", "plot-server-running", "plot-server-kv"}

// WriteHTML writes the report as one self-contained HTML page.
func (r *Report) WriteHTML(w io.Writer) error {
	pg := runPage{CSS: template.CSS(htmlCSS), Dir: r.Run.Dir, TimelineWidth: time.Duration(r.tl.width).String()}
	s := r.Summary
	pg.Title = "streamgauge report: " + r.Run.Name()
	if base := filepath.Base(filepath.Clean(r.Run.Dir)); base != r.Run.Name() {
		pg.Title += " (" + base + ")"
	}
	switch {
	case len(s.SLO) == 0:
		pg.Verdict, pg.VerdictText = "none", "no SLOs"
	case analysis.AllPass(s.SLO):
		pg.Verdict, pg.VerdictText = "pass", "✓ "+sloVerdict(len(s.SLO), 0)
	default:
		failed := 0
		for _, x := range s.SLO {
			if !x.Pass {
				failed++
			}
		}
		pg.Verdict, pg.VerdictText = "fail", "✗ "+sloVerdict(len(s.SLO), failed)
	}
	pg.Lede = r.lede()
	pg.Warnings = r.warnings()
	pg.Cards = summaryCards(s)
	pg.SLOs = sloRows(s.SLO)
	pg.Stats = statRows(s)
	pg.Settings, pg.Profile = r.settings()
	pg.Generated = "generated by streamgauge report from " + r.Run.Dir

	var err error
	if pg.CDFs, err = renderFigures([]figSpec{
		{"plot-cdf-ttft", "time to first token: send to the first token-bearing frame", r.cdf("ttft")},
		{"plot-cdf-itl", "inter-token latency: each gap between tokens (a frame of k tokens counts k gaps of g/k)", r.cdf("itl")},
		{"plot-cdf-tpot", "time per output token, per request: (e2e − ttft) / (output tokens − 1)", r.cdf("tpot")},
		{"plot-cdf-e2e", "end to end: send to the end of the stream", r.cdf("e2e")},
	}, PlotHalfWidth, PlotHalfHeight, false); err != nil {
		return err
	}
	timeline := []figSpec{
		{"plot-ttft-over-time", "ttft p50 and p99 per time bucket; the shaded band lies between them", r.percentiles("ttft")},
		{"plot-itl-over-time", "itl p50 and p99 per time bucket", r.percentiles("itl")},
		{"plot-throughput", "requests finished per second, succeeded and failed", r.throughput()},
		{"plot-tokens", "output tokens per second, counted when their frame arrived", r.tokens()},
		{"plot-inflight", "requests in flight (sent, not yet finished), averaged over each bucket; warm-up included", r.inflight()},
		{"plot-errors", "failed and canceled requests per second, stacked by error kind", r.errorsOverTime()},
	}
	var server []figSpec
	if r.server != nil {
		for i, c := range serverCategories {
			server = append(server, figSpec{ServerPlotIDs[i], "from " + analysis.ServerMetricsFile + ": " + strings.Join(c.names, ", ") + " (mean per bucket)", r.serverPlot(c)})
		}
		if r.server.bad > 0 {
			pg.ServerNote = fmt.Sprintf("%s of %s %s skipped. ", plural.Count(r.server.bad, "malformed line"), analysis.ServerMetricsFile, plural.Noun(r.server.bad, "was", "were"))
		}
		if other := r.server.unplotted(); len(other) > 0 {
			pg.ServerNote += "Also scraped, not plotted: " + strings.Join(other, ", ") + "."
		}
	} else {
		pg.ServerNote = "This run has no server metrics. Run with --scrape-metrics URL (the server's Prometheus endpoint) to plot its queue depth, running requests and KV-cache usage here, on the same time axis as the plots above."
	}
	// The timeline and server plots are aligned together: one time axis.
	figs, err := renderFigures(append(timeline, server...), PlotWideWidth, PlotWideHeight, true)
	if err != nil {
		return err
	}
	pg.Timeline, pg.Server = figs[:len(timeline)], figs[len(timeline):]
	if pg.Lengths, err = renderFigures([]figSpec{
		{"plot-input-lengths", "input tokens of each measured request, as sent", r.lengths("input")},
		{"plot-output-lengths", "output tokens of each successful request, as received", r.lengths("output")},
	}, PlotHalfWidth, PlotHalfHeight*0.85, false); err != nil {
		return err
	}
	if err := runTemplate.Execute(w, pg); err != nil {
		return fmt.Errorf("write html: %w", err)
	}
	return nil
}

type figSpec struct {
	id, caption string
	p           *plot.Plot
}

// renderFigures renders plots to inline SVG, aligned on one time axis when
// asked.
func renderFigures(specs []figSpec, width, height vg.Length, aligned bool) ([]Figure, error) {
	figs := make([]Figure, len(specs))
	if aligned {
		plots := make([]*plot.Plot, len(specs))
		ids := make([]string, len(specs))
		for i, s := range specs {
			plots[i], ids[i] = s.p, s.id
		}
		svgs, err := alignedSVGs(plots, ids, width, height)
		if err != nil {
			return nil, err
		}
		for i, s := range specs {
			figs[i] = Figure{ID: s.id, Caption: s.caption, SVG: svgs[i]}
		}
		return figs, nil
	}
	for i, s := range specs {
		svg, err := plotSVG(s.p, width, height, s.id)
		if err != nil {
			return nil, err
		}
		figs[i] = Figure{ID: s.id, Caption: s.caption, SVG: svg}
	}
	return figs, nil
}

func (r *Report) lede() string {
	info := r.Run.Info
	var parts []string
	if !info.Start.IsZero() {
		parts = append(parts, "started "+info.Start.UTC().Format("2006-01-02 15:04:05 MST"))
	}
	if s := r.Summary; s.DurationS > 0 {
		parts = append(parts, fmt.Sprintf("measured window %s s", fixed(s.DurationS, 2)))
	}
	if info.Target != "" {
		t := info.Target
		if info.Simulated {
			t += " (built-in simulator)"
		}
		parts = append(parts, "target "+t)
	}
	if info.API != "" {
		parts = append(parts, "API "+info.API)
	}
	if load := describeProfileLoad(r.Run.Profile); load != "" {
		parts = append(parts, load)
	}
	return strings.Join(parts, " · ")
}

func describeProfileLoad(p map[string]any) string {
	if rate, _ := p["rate"].(float64); rate > 0 {
		arr, _ := p["arrival"].(string)
		if arr == "" {
			arr = "constant"
		}
		return fmt.Sprintf("open loop %s req/s (%s)", strconv.FormatFloat(rate, 'f', -1, 64), arr)
	}
	if c, _ := p["concurrency"].(float64); c > 0 {
		return "closed loop, " + plural.Count(int(c), "user")
	}
	return ""
}

func (r *Report) warnings() []string {
	var out []string
	s := r.Summary
	if r.Run.Info.Interrupted || r.SummaryRebuilt {
		msg := "This run was cut short."
		if r.SummaryRebuilt {
			msg = "summary.json is missing or damaged (the run was cut short?): the summary was rebuilt from requests.jsonl; the generator's CPU time is unknown."
		}
		out = append(out, msg)
	}
	if r.NoRecords {
		out = append(out, "requests.jsonl is missing: the plots over time and of request lengths are empty.")
	}
	if w := analysis.SaturationWarning(s); w != "" {
		// The same words as the terminal: the --max-concurrency cap when
		// sends waited for it, else the generator (or its saturated shards).
		out = append(out, capitalize(w)+".")
	}
	if s.Requests.OK == 0 {
		out = append(out, "No request succeeded: there are no latency samples to plot.")
	}
	return out
}

func summaryCards(s *analysis.Summary) []card {
	r := s.Requests
	measured := r.OK + r.Failed
	cards := []card{
		{"requests", strconv.FormatInt(measured, 10), fmt.Sprintf("%d ok, %d failed, %d canceled, %d warm-up", r.OK, r.Failed, r.Canceled, r.Warmup)},
		{"error rate", percent(s.ErrorRate), strings.TrimSpace(errorKinds(s.Errors))},
		{"throughput", reqRate(s.Throughput.RequestsPerS) + " req/s", fmt.Sprintf("%s output tok/s, %s input tok/s", tokRate(s.Throughput.OutputTokensPerS), tokRate(s.Throughput.InputTokensPerS))},
		{"goodput", reqRate(s.Goodput.RequestsPerS) + " req/s", percent(s.Goodput.Ratio) + " of requests met every per-request SLO"},
	}
	for _, m := range []string{"ttft", "itl", "e2e"} {
		st := s.Metrics[m]
		v := analysis.NoValue
		if st.Count > 0 {
			v = fmt.Sprintf("%s / %s ms", fms(st.P50), fms(st.P99))
		}
		cards = append(cards, card{m + " p50 / p99", v, plural.Count(st.Count, "sample")})
	}
	g := s.Generator
	rate := fmt.Sprintf("achieved %s req/s", reqRate(g.AchievedRate))
	if g.OpenLoop && g.RequestedRate > 0 {
		rate = fmt.Sprintf("requested %s, achieved %s req/s", reqRate(g.RequestedRate), reqRate(g.AchievedRate))
	}
	lag := s.Metrics["lag"]
	cards = append(cards, card{"generator lag p99", withMS(lag, lag.P99), rate})
	return cards
}

func sloRows(results []analysis.SLOResult) []sloRow {
	rows := make([]sloRow, 0, len(results))
	for _, r := range results {
		row := sloRow{Pass: r.Pass, Expr: r.Expr, Mk: MarkPass, Observed: analysis.FormatSLOValue(r, r.Value),
			Threshold: analysis.FormatSLOThreshold(r), Margin: analysis.FormatSLOValue(r, r.Margin)}
		if r.Op != "" {
			row.Threshold = r.Op + " " + row.Threshold
		}
		if !r.Pass {
			row.Mk = MarkFail
		}
		if r.Note != "" {
			row.Observed, row.Margin = r.Note, analysis.NoValue
		}
		rows = append(rows, row)
	}
	return rows
}

func statRows(s *analysis.Summary) []statRow {
	var rows []statRow
	for _, m := range analysis.Metrics {
		st := s.Metrics[m]
		rows = append(rows, statRow{Metric: m, Count: st.Count, Min: statMS(st, st.Min), Mean: statMS(st, st.Mean), P50: statMS(st, st.P50),
			P90: statMS(st, st.P90), P95: statMS(st, st.P95), P99: statMS(st, st.P99), P999: statMS(st, st.P999), Max: statMS(st, st.Max)})
	}
	return rows
}

// DurationSetting reports whether a profile key holds a duration, which
// run.json stores in nanoseconds and the HTML settings table shows as
// "10s". (profiles imports analysis, so the list lives here; a test checks
// it against every time.Duration field of profiles.Profile.)
func DurationSetting(key string) bool {
	for _, k := range profiles.KeyList() {
		if k.Name == key {
			return k.Kind == profiles.KindDuration
		}
	}
	return false
}

func (r *Report) settings() (run, profile []kv) {
	info := r.Run.Info
	if !r.Run.HasInfo {
		return []kv{{"run.json", "missing"}}, nil
	}
	add := func(k, v string) {
		if v != "" {
			run = append(run, kv{k, v})
		}
	}
	add("tool", strings.TrimSpace(info.Tool+" "+info.Version))
	if !info.Start.IsZero() {
		add("start", info.Start.UTC().Format(time.RFC3339))
	}
	if !info.End.IsZero() {
		add("end", info.End.UTC().Format(time.RFC3339))
	}
	add("target", info.Target)
	add("api", info.API)
	add("simulated", strconv.FormatBool(info.Simulated))
	if sim := info.Simulator; sim != nil {
		add("simulator", simulatorText(sim))
	}
	add("seed", strconv.FormatUint(info.Seed, 10))
	add("shard", info.Shard)
	if info.Interrupted {
		add("interrupted", "true")
	}
	add("latency from", r.Summary.LatencyFrom)
	keys := make([]string, 0, len(r.Run.Profile))
	for k := range r.Run.Profile {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		profile = append(profile, kv{k, settingValue(k, r.Run.Profile[k])})
	}
	return run, profile
}

// simulatorText is run.json's simulator in one line: the scheduler and
// its limits, then the cost model, its source and its terms.
func simulatorText(s *results.SimInfo) string {
	parts := []string{s.Scheduler}
	if s.TTFT != "" {
		parts = append(parts, "ttft "+s.TTFT, "itl "+s.ITL)
	}
	if s.MaxBatch > 0 {
		parts = append(parts, fmt.Sprintf("max-batch %d", s.MaxBatch))
	}
	if s.MaxStepTokens > 0 {
		parts = append(parts, fmt.Sprintf("max-step-tokens %d", s.MaxStepTokens))
	}
	if s.KVTokens > 0 {
		parts = append(parts, fmt.Sprintf("kv-tokens %d", s.KVTokens))
	}
	if s.PrefixCache {
		parts = append(parts, "prefix cache")
	}
	text := strings.Join(parts, ", ")
	if m := s.CostModel; m != nil {
		text += fmt.Sprintf("; cost model %s (%s): overhead %s, launch floor %s, decode launch floor %s, per token %s, weight read %s, per context token %g ns, KV %d tokens",
			m.Name, m.Source, m.Overhead, m.LaunchFloor, m.DecodeLaunchFloor, m.PerToken, m.WeightRead, m.PerContextTokenNS, m.KVTokens)
	}
	return text
}

// readableDuration is d as a flag would take it, without zero tails:
// 5m, 1h30m, 10s, 1.5s, 250ms.
func readableDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func settingValue(key string, v any) string {
	switch x := v.(type) {
	case float64:
		if DurationSetting(key) {
			return readableDuration(time.Duration(x))
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = settingValue("", e)
		}
		return strings.Join(parts, ", ")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
