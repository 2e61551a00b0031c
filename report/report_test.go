package report_test

import (
	"bytes"
	"encoding/csv"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot/vg"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
	"github.com/streamgauge/streamgauge/report"
	"github.com/streamgauge/streamgauge/results"
)

// reportRun is a run directory made by hand: requests.jsonl is the
// fixture's 30 records (0 to 5 s), run.json names two SLOs, there is no
// summary.json (a run cut short), and server_metrics.jsonl holds vLLM's
// gauges every 500 ms, one unknown series, two malformed lines and one
// sample long after the run.
const reportRun = "testdata/report_run"

func TestWriteCSVGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := report.WriteCSV(&buf, reportRun); err != nil {
		t.Fatal(err)
	}
	analysistest.Golden(t, *update, "report_csv.golden.csv", buf.Bytes())
	rows, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], report.CSVColumns) {
		t.Errorf("header = %v, want %v", rows[0], report.CSVColumns)
	}
	if len(rows) != 31 {
		t.Errorf("%d rows, want a header and 30 records", len(rows))
	}
	for i, row := range rows {
		if len(row) != len(report.CSVColumns) {
			t.Errorf("row %d has %d fields, want %d", i, len(row), len(report.CSVColumns))
		}
	}
}

func TestCSVWriter(t *testing.T) {
	tests := []struct {
		name string
		recs []*results.Record
		want []string // rows after the header, joined by commas
	}{
		{"no records: header only", nil, nil},
		{"message with a comma, quote and newline", []*results.Record{{
			ID: "x", SentNS: 1_500_000, DoneNS: 2_000_000, E2EMS: 0.5, ICLMS: []float64{},
			Error: &results.Error{Kind: results.KindStream, Message: "bad \"frame\", then\nEOF"},
		}}, []string{`x,,,0.000,1.500,,2.000,0.000,,,,,0.500,,,0,0,,,,0,0,0,false,false,stream_error,"bad ""frame"", then` + "\nEOF\",0.000"}},
		// lag_ms + connect_ms = sent_ms - scheduled_ms (docs/reports.md).
		{"lag and connect add up to sent minus scheduled", []*results.Record{{
			ID: "c", ScheduledNS: 10_000_000, SentNS: 12_500_000, DoneNS: 20_000_000, LagMS: 2, ConnectMS: 0.5, E2EMS: 7.5, HTTPStatus: 200, OutputTokensSource: results.SourceUsage,
		}}, []string{"c,,,10.000,12.500,,20.000,2.000,,,,,7.500,,,0,0,usage,,,0,0,200,false,false,,,0.500"}},
		{"session turn and icl", []*results.Record{{
			ID: "s1", Session: 3, Turn: 2, FirstTokenNS: 5_000_000, TTFTMS: results.Ms(5), ICLMS: []float64{1, 3.25},
			OutputTokens: 3, OutputTokensSource: results.SourceUsage, Frames: 3, HTTPStatus: 200, SLOOK: true,
		}}, []string{"s1,3,2,0.000,0.000,5.000,0.000,0.000,,5.000,,,0.000,2.125,3.250,0,3,usage,,,0,3,200,false,true,,,0.000"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			c := report.NewCSVWriter(&buf)
			for _, r := range tc.recs {
				if err := c.Append(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			want := strings.Join(report.CSVColumns, ",") + "\n"
			for _, r := range tc.want {
				want += r + "\n"
			}
			if buf.String() != want {
				t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
			}
		})
	}
}

func TestCSVWriterError(t *testing.T) {
	c := report.NewCSVWriter(failWriter{})
	if err := c.Flush(); err == nil {
		t.Error("Flush to a failing writer: no error")
	}
}

// TestMarkdownGolden pins `report --format markdown` of the hand-made run:
// the summary rebuilt from its records, its SLOs judged from run.json.
func TestMarkdownGolden(t *testing.T) {
	s, rebuilt, err := analysis.LoadJudgedSummary(reportRun)
	if err != nil {
		t.Fatal(err)
	}
	if !rebuilt {
		t.Error("LoadSummary of a run without summary.json: rebuilt = false")
	}
	var buf bytes.Buffer
	if err := report.WriteMarkdown(&buf, s, s.SLO); err != nil {
		t.Fatal(err)
	}
	analysistest.Golden(t, *update, "report_markdown.golden.md", buf.Bytes())
}

// readHdrLog reads an interval log with hdrhistogram-go's reader and merges
// the intervals of each tag ("" when untagged) into one histogram.
func readHdrLog(t *testing.T, r io.Reader) (map[string]*hdrhistogram.Histogram, map[string][]*hdrhistogram.Histogram) {
	t.Helper()
	lr := hdrhistogram.NewHistogramLogReader(r)
	merged := map[string]*hdrhistogram.Histogram{}
	intervals := map[string][]*hdrhistogram.Histogram{}
	for {
		h, err := lr.NextIntervalHistogram()
		if err != nil {
			t.Fatal(err)
		}
		if h == nil {
			break
		}
		tag := h.Tag()
		if merged[tag] == nil {
			merged[tag] = hdrhistogram.New(1, 2*analysis.HistMaxUS*1000, analysis.HistDigits)
		}
		if dropped := merged[tag].Merge(h); dropped != 0 {
			t.Fatalf("%s: %d values dropped in merge", tag, dropped)
		}
		intervals[tag] = append(intervals[tag], h)
	}
	return merged, intervals
}

// checkAgainstSummary compares a histogram read back from a log with the
// summary's stats of the metric: counts equal; percentiles equal for µs
// logs, within the histograms' precision (3 significant digits: one bucket
// is at most 1/1024 of the value) for ns logs.
func checkAgainstSummary(t *testing.T, metric string, h *hdrhistogram.Histogram, st analysis.Stats, unit report.HdrLogUnit) {
	t.Helper()
	if h == nil {
		if st.Count != 0 {
			t.Errorf("%s: not in the log, summary has %d samples", metric, st.Count)
		}
		return
	}
	if h.TotalCount() != st.Count {
		t.Errorf("%s: log count %d, summary %d", metric, h.TotalCount(), st.Count)
	}
	if st.Count == 0 {
		return
	}
	scale := 1e3
	if unit == report.HdrLogNanoseconds {
		scale = 1e6
	}
	for _, c := range []struct {
		name string
		q    float64
		want float64
	}{{"p50", 50, st.P50}, {"p90", 90, st.P90}, {"p95", 95, st.P95}, {"p99", 99, st.P99}, {"p99.9", 99.9, st.P999}, {"max", 100, st.Max}} {
		got := float64(h.ValueAtQuantile(c.q)) / scale
		if c.name == "max" {
			got = float64(h.Max()) / scale
		}
		tol := 0.0
		if unit == report.HdrLogNanoseconds {
			tol = 2*c.want/1024 + 0.001
		}
		if math.Abs(got-c.want) > tol {
			t.Errorf("%s %s: log %v ms, summary %v ms (tolerance %v)", metric, c.name, got, c.want, tol)
		}
	}
}

// writeOutOfOrderRun writes a run of n records over secs seconds whose
// done times go back and forth (as concurrent requests finish), with a
// few records far behind the others.
func writeOutOfOrderRun(t *testing.T, n int, secs float64) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "run")
	w, err := results.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		done := int64(float64(i) / float64(n) * secs * 1e9)
		if i%7 == 3 {
			done -= 800_000_000 // out of order within the lateness window
		}
		if i%97 == 50 {
			done -= 4_000_000_000 // far behind: lands in a later interval
		}
		done = max(done, 1)
		ttft := 20 + float64(i%50)
		e2e := ttft + 40 + float64(i%13)
		r := &results.Record{
			ID: strconv.Itoa(i), SentNS: max(done-int64(e2e*1e6), 0), DoneNS: done,
			FirstTokenNS: done - int64((e2e-ttft)*1e6), LagMS: 0.1 * float64(i%9),
			TTFBMS: results.Ms(ttft / 2), TTFTMS: results.Ms(ttft), TTFOMS: results.Ms(ttft), E2EMS: e2e,
			TPOTMS: results.Ms((e2e - ttft) / 4), ICLMS: []float64{10, 12.5, 7, float64(i%11) + 0.5}, FrameTokens: []int{1, 1, 2, 1, 3},
			InputTokens: 100, OutputTokens: 8, OutputTokensSource: results.SourceUsage, Frames: 5, HTTPStatus: 200,
		}
		if i%31 == 0 {
			r.Error = &results.Error{Kind: results.KindHTTP5xx, Message: "503"}
		}
		if i < 10 {
			r.Warmup = true
		}
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestHdrLogMatchesSummary is the done-when: the interval log, read
// back by hdrhistogram-go's reader, has the summary's counts and
// percentiles, whatever the unit and layout.
func TestHdrLogMatchesSummary(t *testing.T) {
	if testing.Short() && raceDetector {
		t.Skip("sequential, and about 30 times slower under the race detector: make check runs it")
	}
	start := time.Date(2026, 1, 2, 3, 4, 5, 500_000_000, time.UTC)
	runs := map[string]string{"hand-made run": reportRun, "out-of-order run": writeOutOfOrderRun(t, 150, 6)}
	for runName, dir := range runs {
		sum, _, err := analysis.LoadJudgedSummary(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, unit := range []report.HdrLogUnit{report.HdrLogMicroseconds, report.HdrLogNanoseconds} {
			for _, perMetric := range []bool{false, true} {
				name := runName + "/" + string(unit)
				if perMetric {
					name += "/one file per metric"
				}
				t.Run(name, func(t *testing.T) {
					opt := report.HdrLogOptions{Unit: unit, Start: start, Lateness: 2 * time.Second}
					bufs := map[string]*bytes.Buffer{}
					var l *report.HdrLog
					var err error
					if perMetric {
						ws := map[string]io.Writer{}
						for _, m := range analysis.Metrics {
							bufs[m] = &bytes.Buffer{}
							ws[m] = bufs[m]
						}
						l, err = report.NewHdrLogPerMetric(ws, opt)
					} else {
						bufs[""] = &bytes.Buffer{}
						l, err = report.NewHdrLog(bufs[""], opt)
					}
					if err != nil {
						t.Fatal(err)
					}
					if err := results.ReadRecords(dir, l.Append); err != nil {
						t.Fatal(err)
					}
					if err := l.Close(); err != nil {
						t.Fatal(err)
					}
					var tagged map[string]*hdrhistogram.Histogram
					var taggedIvs map[string][]*hdrhistogram.Histogram
					if !perMetric {
						tagged, taggedIvs = readHdrLog(t, bufs[""])
					}
					for _, m := range analysis.Metrics {
						var h *hdrhistogram.Histogram
						var intervals []*hdrhistogram.Histogram
						if perMetric {
							merged, ivs := readHdrLog(t, bufs[m])
							if len(merged) != 1 || merged[""] == nil {
								t.Fatalf("%s log: tags %v, want untagged", m, keys(merged))
							}
							h, intervals = merged[""], ivs[""]
						} else {
							h, intervals = tagged[m], taggedIvs[m]
						}
						checkAgainstSummary(t, m, h, sum.Metrics[m], unit)
						// Intervals are consecutive seconds, stamped from the
						// run's start (the log's BaseTime).
						for i, iv := range intervals {
							wantStart := start.UnixMilli() + int64(i)*1000
							if d := iv.StartTimeMs() - wantStart; d < -1 || d > 1 || iv.EndTimeMs()-iv.StartTimeMs() < 999 {
								t.Errorf("%s interval %d: %d..%d ms, want %d..+1000", m, i, iv.StartTimeMs(), iv.EndTimeMs(), wantStart)
								break
							}
						}
					}
				})
			}
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestHdrLogOptions(t *testing.T) {
	tests := []struct {
		name    string
		opt     report.HdrLogOptions
		wantErr string
	}{
		{"defaults", report.HdrLogOptions{}, ""},
		{"one metric", report.HdrLogOptions{Metrics: []string{"ttft"}, Interval: 250 * time.Millisecond}, ""},
		{"unknown metric", report.HdrLogOptions{Metrics: []string{"ttfx"}}, `unknown metric "ttfx"`},
		{"bad unit", report.HdrLogOptions{Unit: "ms"}, `unit "ms"`},
		{"interval too short", report.HdrLogOptions{Interval: time.Microsecond}, "shorter than 1ms"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			_, err := report.NewHdrLog(&buf, tc.opt)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(buf.String(), "#[Histogram log format version 1.3]") {
					t.Errorf("no format version line:\n%s", buf.String())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want %q", err, tc.wantErr)
			}
		})
	}
	if _, err := report.NewHdrLogPerMetric(map[string]io.Writer{"ttft": io.Discard}, report.HdrLogOptions{}); err == nil {
		t.Error("NewHdrLogPerMetric without a writer for every metric: no error")
	}
}

func TestHdrLogLate(t *testing.T) {
	var buf bytes.Buffer
	l, err := report.NewHdrLog(&buf, report.HdrLogOptions{Metrics: []string{"e2e"}, Lateness: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, done := range []int64{500e6, 9_500e6, 1_200e6, 9_900e6} { // the third is 8 s behind
		if err := l.Append(&results.Record{E2EMS: 10, DoneNS: done, ICLMS: []float64{}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.Late() != 1 {
		t.Errorf("Late() = %d, want 1", l.Late())
	}
	text := buf.String()
	merged, ivs := readHdrLog(t, &buf)
	if merged["e2e"].TotalCount() != 4 {
		t.Errorf("%d samples in the log, want all 4", merged["e2e"].TotalCount())
	}
	if len(ivs["e2e"]) != 10 {
		t.Errorf("%d intervals, want 10 (0 s to 10 s, empty ones too)", len(ivs["e2e"]))
	}
	if !strings.Contains(text, "1 records finished more than 2s out of order") {
		t.Errorf("no comment about the late record:\n%s", text)
	}
}

var svgID = regexp.MustCompile(`<svg id="([^"]+)"`)

func TestReportHTML(t *testing.T) {
	rep, err := report.LoadReport(reportRun, report.ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.SummaryRebuilt || rep.Records != 30 || !rep.ServerMetricsFound() {
		t.Errorf("rebuilt %v, records %d, server metrics %v; want true, 30, true", rep.SummaryRebuilt, rep.Records, rep.ServerMetricsFound())
	}
	var buf bytes.Buffer
	if err := rep.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	var ids []string
	for _, m := range svgID.FindAllStringSubmatch(page, -1) {
		ids = append(ids, m[1])
	}
	want := append(slices.Clone(report.ReportPlotIDs), report.ServerPlotIDs...)
	for _, id := range want {
		if !slices.Contains(ids, id) {
			t.Errorf("no <svg id=%q> (have %v)", id, ids)
		}
	}
	for _, s := range []string{
		"<title>ttft CDF</title>", "✗ 1 of 2 SLOs failed", "ttft.p99&lt;300ms", "error_rate&lt;1%",
		"summary was rebuilt", "Authorization: [redacted]", ">5m<", // timeout as a duration
		"vllm:num_preemptions_total", "2 malformed lines", "SLO ttft.p99&lt;300ms",
	} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	// Self-contained and script-free: the target URL shows as text, but
	// nothing is loaded from anywhere.
	for _, bad := range []string{"<script", `src="http`, `href="http`, "@import", "url("} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains %q", bad)
		}
	}
	kv := svgByID(t, page, "plot-server-kv")
	if !strings.Contains(kv, "vllm:kv_cache_usage_perc") || strings.Contains(kv, "vllm:gpu_cache_usage_perc") {
		t.Error("KV plot: want the kv_cache_usage_perc series only (gpu_cache_usage_perc is its older name)")
	}
}

// svgByID returns the <svg> element with the given id.
func svgByID(t *testing.T, page, id string) string {
	t.Helper()
	i := strings.Index(page, `<svg id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no svg %s", id)
	}
	j := strings.Index(page[i:], "</svg>")
	return page[i : i+j]
}

func TestReportHTMLWithoutServerMetrics(t *testing.T) {
	dir := analysistest.CopyRun(t, reportRun)
	if err := os.Remove(filepath.Join(dir, analysis.ServerMetricsFile)); err != nil {
		t.Fatal(err)
	}
	rep, err := report.LoadReport(dir, report.ReportOptions{Interval: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Interval() != 250*time.Millisecond {
		t.Errorf("Interval() = %s, want the 250ms asked for", rep.Interval())
	}
	var buf bytes.Buffer
	if err := rep.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, id := range report.ServerPlotIDs {
		if strings.Contains(page, `id="`+id+`"`) {
			t.Errorf("server plot %s without server metrics", id)
		}
	}
	if !strings.Contains(page, "--scrape-metrics") {
		t.Error("no hint on how to get server metrics")
	}
}

func TestReportWithoutRecords(t *testing.T) {
	dir := analysistest.CopyRun(t, reportRun)
	s, _, err := analysis.LoadJudgedSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := results.WriteJSON(dir, results.SummaryFile, s); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, results.RequestsFile)); err != nil {
		t.Fatal(err)
	}
	rep, err := report.LoadReport(dir, report.ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rep.WriteHTML(&buf); err != nil {
		t.Fatal(err)
	}
	if !rep.NoRecords || !strings.Contains(buf.String(), "requests.jsonl is missing") || !strings.Contains(buf.String(), `<svg id="plot-cdf-ttft"`) {
		t.Error("a run with summary.json only: want the CDFs and a note that the records are missing")
	}
}

func TestLoadReportErrors(t *testing.T) {
	if _, err := report.LoadReport(filepath.Join(t.TempDir(), "nope"), report.ReportOptions{}); err == nil {
		t.Error("LoadReport of a missing directory: no error")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, results.RunFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A damaged run.json is read around (with a warning, see cmd's
	// TestDamagedRunFiles); with nothing else to read, the error names what
	// is missing.
	if _, err := report.LoadReport(dir, report.ReportOptions{}); err == nil || !strings.Contains(err.Error(), results.RequestsFile) {
		t.Errorf("LoadReport with a malformed run.json and no records = %v, want an error naming %s", err, results.RequestsFile)
	}
}

// TestReportPlots renders every single plot as a PNG.
func TestReportPlots(t *testing.T) {
	if testing.Short() && raceDetector {
		t.Skip("sequential rendering, about 30 times slower under the race detector: make check runs it")
	}
	rep, err := report.LoadReport(reportRun, report.ReportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind, metric string
		wantErr      string
	}{
		{"cdf", "", ""}, {"cdf", "ttft", ""}, {"cdf", "lag", ""}, {"cdf", "nope", "unknown metric"},
		{"percentiles", "", ""}, {"percentiles", "itl", ""}, {"percentiles", "e2e", "want ttft or itl"},
		{"throughput", "", ""}, {"tokens", "", ""}, {"inflight", "", ""}, {"errors", "", ""},
		{"lengths", "", ""}, {"lengths", "input", ""}, {"lengths", "x", "want input or output"},
		{"server", "", ""}, {"server", "kv", ""}, {"server", "running", ""}, {"server", "gpu", "want queue"},
		{"pie", "", "unknown plot"},
	}
	for _, tc := range tests {
		t.Run(tc.kind+"/"+tc.metric, func(t *testing.T) {
			p, err := rep.Plot(tc.kind, tc.metric)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := report.RenderPNG(&buf, p, 3*vg.Inch, 2*vg.Inch); err != nil { // small: fast under -race
				t.Fatal(err)
			}
			if !bytes.HasPrefix(buf.Bytes(), []byte("\x89PNG\r\n\x1a\n")) {
				t.Error("not a PNG")
			}
		})
	}
}

// syntheticRun is a run whose histograms hold n log-normal-ish samples
// around median ms, for the compare and sweep pages.
func syntheticRun(name string, median float64, n int) report.PlotRun {
	pr := report.PlotRun{Name: name, Histograms: map[string]*hdrhistogram.Histogram{}}
	for _, m := range report.CDFMetrics {
		h := analysis.NewHistogram()
		scale := map[string]float64{"ttft": 1, "itl": 0.1, "tpot": 0.11, "e2e": 8}[m]
		for i := range n {
			z := (float64(i)+0.5)/float64(n)*6 - 3 // -3..3
			_ = h.RecordValue(int64(median * scale * math.Exp(0.4*z) * 1000))
		}
		pr.Histograms[m] = h
	}
	return pr
}

func TestWriteCompareHTML(t *testing.T) {
	runs := []report.PlotRun{syntheticRun("fcfs", 200, 2000), syntheticRun("continuous", 120, 2000), {Name: "empty"}}
	cmp := &analysis.Comparison{
		Baseline:   analysis.RunRef{Name: "fcfs"},
		Candidates: []analysis.RunRef{{Name: "continuous"}},
		Rows: []analysis.CompareRow{{Metric: "ttft.p99", Unit: "ms", Better: "lower", Baseline: 650,
			Candidates: []analysis.CompareCell{{Run: "continuous", Value: 390, Rel: -0.4, Verdict: analysis.VerdictImprovement}}},
			{Metric: "error_rate", Unit: "ratio", Better: "lower", Baseline: 0.0025,
				Candidates: []analysis.CompareCell{{Run: "continuous", Value: 0.0475, Rel: 18, Verdict: analysis.VerdictRegression}}}},
		Warnings: []string{"runs differ in input-tokens", "continuous: the load generator was saturated (lag p99 12.00 ms)"},
	}
	var buf bytes.Buffer
	// The command passes the warnings as notes too: each shows once.
	if err := report.WriteCompareHTML(&buf, report.CompareHTML{Title: "fcfs vs continuous", Runs: runs, Comparison: cmp, Notes: cmp.Warnings}); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, m := range report.CDFMetrics {
		svg := svgByID(t, page, "plot-compare-"+m)
		for _, name := range []string{"fcfs", "continuous"} {
			if !strings.Contains(svg, ">"+name+"<") {
				t.Errorf("%s plot: no legend entry %s", m, name)
			}
		}
	}
	// Values, changes and verdicts read as on the terminal: ms with two
	// decimals, shares as percentages.
	for _, s := range []string{"fcfs vs continuous", "fcfs (baseline)", "390.00 (-40.0%) ✓ improvement", "runs differ in input-tokens", `class="pass"`,
		"error_rate (%), lower is better", ">0.25%<", "4.75% (&#43;1800.0%) ✗ regression"} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	if n := strings.Count(page, "load generator was saturated"); n != 1 {
		t.Errorf("the saturation warning shows %d times, want once", n)
	}
	if err := report.WriteCompareHTML(io.Discard, report.CompareHTML{}); err == nil {
		t.Error("WriteCompareHTML with no run: no error")
	}
}

func TestWriteSweepHTML(t *testing.T) {
	pts := func(scale float64) []report.SweepPoint {
		var out []report.SweepPoint
		for i, rate := range []float64{2, 4, 8, 12, 16, 20} {
			lat := scale * (100 + 40*math.Pow(rate/10, 4))
			out = append(out, report.SweepPoint{Throughput: math.Min(rate, 14), Latency: lat, Label: "rate " + string(rune('0'+i)), Pass: lat < 500})
		}
		return out
	}
	tests := []struct {
		name string
		opt  report.SweepPlotOptions
		want []string
	}{
		{"capacity and slo", report.SweepPlotOptions{Title: "ttft p99 vs throughput", Capacity: 12.4, SLO: 500, SLOLabel: "ttft.p99<500ms"}, []string{"capacity 12.4", "ttft.p99&lt;500ms", "continuous", "fcfs"}},
		{"log y, custom labels", report.SweepPlotOptions{LogY: true, XLabel: "output tok/s", YLabel: "itl p99 (ms)", Capacity: 10, CapacityLabel: "max 10 req/s"}, []string{"output tok/s", "itl p99 (ms)", "max 10 req/s"}},
		{"defaults", report.SweepPlotOptions{}, []string{"latency vs throughput", "throughput (req/s)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := report.WriteSweepHTML(&buf, report.SweepHTML{
				Title:  "sweep",
				Charts: []report.SweepChart{{Series: []report.SweepSeries{{Name: "fcfs", Points: pts(1.5)}, {Name: "continuous", Points: pts(1)}}, Options: tc.opt, Caption: "one curve per scheduler"}},
				Table:  [][]string{{"rate", "ttft p99"}, {"2", "101"}},
			})
			if err != nil {
				t.Fatal(err)
			}
			page := buf.String()
			svg := svgByID(t, page, "plot-sweep-1")
			for _, s := range tc.want {
				if !strings.Contains(svg, s) {
					t.Errorf("plot lacks %q", s)
				}
			}
			if !strings.Contains(page, `id="sweep-table"`) {
				t.Error("no table")
			}
		})
	}
	t.Run("no points", func(t *testing.T) {
		var buf bytes.Buffer
		if err := report.WriteSweepHTML(&buf, report.SweepHTML{Charts: []report.SweepChart{{}}}); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), "no sweep points") {
			t.Error("an empty chart does not say so")
		}
	})
}

func TestCDFPlotEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := report.RenderSVG(&buf, report.CDFPlot("ttft", nil), report.PlotHalfWidth, report.PlotHalfHeight); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "no ttft samples") {
		t.Error("empty CDF does not say so")
	}
}

// TestLoadReportRebuildsDamagedSummary: a summary.json cut short, empty or
// of the wrong shape is rebuilt from the records, as LoadJudgedSummary
// does, and every record is counted.
func TestLoadReportRebuildsDamagedSummary(t *testing.T) {
	for _, tc := range []struct {
		name    string
		summary []byte
	}{
		{"cut short", []byte(`{"requests": {"total": 3`)},
		{"empty", nil},
		{"not an object", []byte("[1, 2]\n")},
		{"missing", []byte("-")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := analysistest.CopyRun(t, reportRun)
			if string(tc.summary) != "-" {
				if err := os.WriteFile(filepath.Join(dir, results.SummaryFile), tc.summary, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, rebuilt, err := analysis.LoadJudgedSummary(dir)
			if err != nil || !rebuilt {
				t.Fatalf("LoadJudgedSummary = rebuilt %v, %v", rebuilt, err)
			}
			rep, err := report.LoadReport(dir, report.ReportOptions{})
			if err != nil || !rep.SummaryRebuilt || rep.Summary.Requests != want.Requests || rep.Records != want.Requests.Total {
				t.Errorf("LoadReport = %v: rebuilt %v", err, rep != nil && rep.SummaryRebuilt)
			}
		})
	}
}
