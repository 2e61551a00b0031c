package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/report"
	"github.com/streamgauge/streamgauge/results"
)

var (
	realRunOnce sync.Once
	realRunDir  string
	realRunErr  error
)

// realRun is one run of the built binary against the built-in simulator
// (60 requests at 20 req/s), shared by the report tests; an SLO that holds
// and one that fails give the report both marks. Treat it as read-only:
// tests that change a run copy it first.
func realRun(t *testing.T) string {
	t.Helper()
	realRunOnce.Do(func() {
		realRunDir = filepath.Join(filepath.Dir(binPath), "report-run")
		cmd := exec.Command(binPath, "run", "--rate", "20", "--requests", "60", "--output-tokens", "16",
			"--sim-ttft", "20ms", "--sim-itl", "3ms", "--slo", "ttft.p99<500ms", "--slo", "itl.p99<1ms", "--out", realRunDir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == exitSLO {
			err = nil // the failing SLO, as meant
		}
		if err != nil {
			realRunErr = fmt.Errorf("streamgauge run: %v\n%s", err, out.String())
		}
	})
	if realRunErr != nil {
		t.Fatal(realRunErr)
	}
	return realRunDir
}

// copyDir copies the files of a run directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// writeServerMetrics writes a hand-made server_metrics.jsonl over the run's
// first secs seconds: a queue that builds and drains, a batch that fills,
// and KV-cache usage following it, every 100 ms.
func writeServerMetrics(t *testing.T, dir string, secs float64) {
	t.Helper()
	var b strings.Builder
	for i := 0; float64(i)*0.1 <= secs; i++ {
		x := float64(i) * 0.1 / secs // 0..1 over the run
		bump := math.Sin(math.Pi * x)
		for _, s := range []struct {
			name string
			v    float64
		}{
			{"vllm:num_requests_waiting", math.Round(6 * bump * bump)},
			{"vllm:num_requests_running", math.Round(2 + 6*bump)},
			{"vllm:kv_cache_usage_perc", 0.05 + 0.7*bump},
		} {
			fmt.Fprintf(&b, `{"t_ns":%d,"name":%q,"value":%g}`+"\n", int64(float64(i)*1e8), s.name, s.v)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, analysis.ServerMetricsFile), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// chromium finds the headless browser, or skips the test when it is
// missing outside CI (CI installs Debian's chromium package and must run it).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but chromium is not installed: .ci/run must apt-get install chromium")
	}
	t.Skip("chromium is not installed (apt-get install chromium); this test renders the HTML report in it. With CI=true a missing chromium fails.")
	return ""
}

// runChromium runs headless chromium with args on a page.
func runChromium(t *testing.T, bin string, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.String(), errb.String()
}

// artifactDir is where the screenshot is kept: $STREAMGAUGE_ARTIFACTS, or
// artifacts/ at the repository root (git-ignored), which CI can upload.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("STREAMGAUGE_ARTIFACTS")
	if dir == "" {
		root, err := filepath.Abs(filepath.Join("..", ".."))
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// consoleTrouble matches what chromium logs (--enable-logging=stderr) for a
// page that is not clean: any console message (the report has no script,
// so any is an error, e.g. `INFO:CONSOLE:1] "Uncaught ReferenceError: ..."`),
// a blocked or failed load.
var consoleTrouble = regexp.MustCompile(`Uncaught|:CONSOLE|Refused to|net::ERR_|Failed to load resource|Not allowed to load`)

// TestReportHTMLInChromium is the done-when: the HTML report of a
// real run loads in headless Chromium without console errors, every
// expected plot is in the rendered page, and a screenshot is kept.
func TestReportHTMLInChromium(t *testing.T) {
	bin := chromium(t)
	run := copyDir(t, realRun(t))
	writeServerMetrics(t, run, 3)
	page := filepath.Join(t.TempDir(), "report.html")
	r := runCLI(t, nil, "report", run, "--format", "html", "-o", page)
	if r.code != 0 {
		t.Fatalf("report: exit %d\n%s", r.code, r.stderr)
	}
	url := "file://" + page

	// One load: the DOM as rendered on stdout, the console on stderr, and
	// a screenshot of the whole page.
	shot := filepath.Join(artifactDir(t), "report.png")
	os.Remove(shot)
	dom, logs := runChromium(t, bin, "--dump-dom", "--hide-scrollbars", "--screenshot="+shot, "--window-size=1400,5600", url)
	for _, line := range strings.Split(logs, "\n") {
		if consoleTrouble.MatchString(line) {
			t.Errorf("chromium reported a page error: %s", line)
		}
	}
	want := append(append([]string{}, report.ReportPlotIDs...), report.ServerPlotIDs...)
	for _, id := range want {
		if !strings.Contains(dom, `<svg id="`+id+`"`) {
			t.Errorf("rendered page has no plot %s", id)
		}
	}
	for _, s := range []string{`id="slo-table"`, "✓", "✗", "ttft.p99&lt;500ms", `id="latency-table"`, `id="profile-table"`, "sim-ttft"} {
		if !strings.Contains(dom, s) {
			t.Errorf("rendered page lacks %q", s)
		}
	}
	b, err := os.ReadFile(shot)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) || len(b) < 50_000 {
		t.Fatalf("screenshot %s: %d bytes, %v: want a PNG of the whole page", shot, len(b), err)
	}
	html, _ := os.ReadFile(page)
	if err := os.WriteFile(filepath.Join(filepath.Dir(shot), "report.html"), html, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of the HTML report: %s (the page: %s)", shot, filepath.Join(filepath.Dir(shot), "report.html"))
}

// TestReportHdrLogMatchesSummaryJSON is the other done-when: the
// hdrlog output of a real run, read back by hdrhistogram-go's log reader,
// has summary.json's counts and percentiles.
func TestReportHdrLogMatchesSummaryJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("a load run of seconds: make check runs it")
	}
	run := realRun(t)
	var sum analysis.Summary
	if err := results.ReadJSON(run, results.SummaryFile, &sum); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	tagged := filepath.Join(out, "run.hlog")
	for _, args := range [][]string{
		{"report", run, "--format", "hdrlog", "-o", tagged},                                 // ns, one tagged file
		{"report", run, "--format", "hdrlog", "--hdrlog-unit", "us", "-o", out + "/us/"},    // µs, one file per metric
		{"report", run, "--format", "hdrlog", "--interval", "250ms", "-o", out + "/ns250/"}, // ns, per metric
	} {
		if r := runCLI(t, nil, args...); r.code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
	}
	type logSet struct {
		name  string
		unit  report.HdrLogUnit
		files map[string]string // metric → file ("" metric: tagged)
	}
	sets := []logSet{{"tagged ns", report.HdrLogNanoseconds, map[string]string{"": tagged}}, {"per metric us", report.HdrLogMicroseconds, map[string]string{}}, {"per metric ns 250ms", report.HdrLogNanoseconds, map[string]string{}}}
	for _, m := range analysis.Metrics {
		sets[1].files[m] = filepath.Join(out, "us", m+".hlog")
		sets[2].files[m] = filepath.Join(out, "ns250", m+".hlog")
	}
	for _, set := range sets {
		t.Run(set.name, func(t *testing.T) {
			got := map[string]*hdrhistogram.Histogram{}
			for metric, file := range set.files {
				f, err := os.Open(file)
				if err != nil {
					t.Fatal(err)
				}
				lr := hdrhistogram.NewHistogramLogReader(f)
				for {
					h, err := lr.NextIntervalHistogram()
					if err != nil {
						t.Fatal(err)
					}
					if h == nil {
						break
					}
					key := metric
					if key == "" {
						key = h.Tag()
					}
					if got[key] == nil {
						got[key] = hdrhistogram.New(1, 2*analysis.HistMaxUS*1000, analysis.HistDigits)
					}
					got[key].Merge(h)
				}
				f.Close()
			}
			scale := map[report.HdrLogUnit]float64{report.HdrLogMicroseconds: 1e3, report.HdrLogNanoseconds: 1e6}[set.unit]
			for _, m := range analysis.Metrics {
				st, h := sum.Metrics[m], got[m]
				if h == nil || h.TotalCount() != st.Count {
					t.Errorf("%s: log has %v samples, summary.json %d", m, h, st.Count)
					continue
				}
				if st.Count == 0 {
					continue
				}
				for _, c := range []struct {
					name string
					q    float64
					want float64
				}{{"p50", 50, st.P50}, {"p90", 90, st.P90}, {"p95", 95, st.P95}, {"p99", 99, st.P99}, {"p99.9", 99.9, st.P999}, {"max", 100, st.Max}} {
					v := float64(h.ValueAtQuantile(c.q)) / scale
					tol := 0.0 // µs: the summary's own histograms, exactly
					if set.unit == report.HdrLogNanoseconds {
						tol = 2*c.want/1024 + 0.001 // within 3 significant digits
					}
					if math.Abs(v-c.want) > tol {
						t.Errorf("%s %s: log %v ms, summary.json %v ms", m, c.name, v, c.want)
					}
				}
			}
		})
	}
}

func TestReportFormats(t *testing.T) {
	run := realRun(t)
	cut := copyDir(t, run) // a run cut short: no summary.json
	if err := os.Remove(filepath.Join(cut, results.SummaryFile)); err != nil {
		t.Fatal(err)
	}
	summaryJSON, err := os.ReadFile(filepath.Join(run, results.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		code   int
		check  func(t *testing.T, stdout, stderr string)
		stderr string
	}{
		{"table by default", []string{"report", run}, 0, func(t *testing.T, s, _ string) {
			for _, w := range []string{"ttft", "itl", "throughput", "✓ ttft.p99<500ms", "✗ itl.p99<1ms"} {
				if !strings.Contains(s, w) {
					t.Errorf("table lacks %q:\n%s", w, s)
				}
			}
		}, ""},
		{"markdown", []string{"report", run, "--format", "markdown"}, 0, func(t *testing.T, s, _ string) {
			if !strings.HasPrefix(s, "### streamgauge") || !strings.Contains(s, "| metric (ms) |") {
				t.Errorf("not the markdown summary:\n%s", s)
			}
		}, ""},
		{"json is summary.json", []string{"report", run, "--format", "json"}, 0, func(t *testing.T, s, _ string) {
			if s != string(summaryJSON) {
				t.Error("json output differs from summary.json")
			}
		}, ""},
		{"json rebuilt from requests.jsonl", []string{"report", cut, "--format", "json"}, 0, func(t *testing.T, s, _ string) {
			var got, want analysis.Summary
			if err := json.Unmarshal([]byte(s), &got); err != nil {
				t.Fatal(err)
			}
			_ = json.Unmarshal(summaryJSON, &want)
			got.Requests.Sent = want.Requests.Sent // the generator's count: unknown to a rebuild
			if got.Requests != want.Requests || got.Metrics["ttft"] != want.Metrics["ttft"] || got.Metrics["itl"] != want.Metrics["itl"] {
				t.Errorf("rebuilt summary differs:\n got %+v %+v\nwant %+v %+v", got.Requests, got.Metrics["ttft"], want.Requests, want.Metrics["ttft"])
			}
			if len(got.SLO) != 2 || got.Pass {
				t.Errorf("rebuilt summary's SLOs %+v: want run.json's two, judged", got.SLO)
			}
		}, "summary rebuilt from requests.jsonl"},
		{"csv", []string{"report", run, "--format", "csv"}, 0, func(t *testing.T, s, _ string) {
			rows, err := csv.NewReader(strings.NewReader(s)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != 61 || strings.Join(rows[0], ",") != strings.Join(report.CSVColumns, ",") {
				t.Errorf("%d rows, header %v", len(rows), rows[0])
			}
		}, ""},
		{"png to a file", []string{"report", run, "--format", "png", "--plot", "percentiles", "--metric", "itl", "-o", filepath.Join(out, "itl.png")}, 0, func(t *testing.T, _, _ string) {
			b, err := os.ReadFile(filepath.Join(out, "itl.png"))
			if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
				t.Errorf("itl.png: %v", err)
			}
		}, ""},
		{"png cdf of a cut-short run", []string{"report", cut, "--format", "png", "-o", filepath.Join(out, "cdf.png")}, 0, nil, "summary rebuilt"},
		{"hdrlog to stdout", []string{"report", run, "--format", "hdrlog", "--metric", "ttft"}, 0, func(t *testing.T, s, _ string) {
			if !strings.Contains(s, "#[StartTime: ") || !strings.Contains(s, "Tag=ttft,") || strings.Contains(s, "Tag=itl,") {
				t.Errorf("not a ttft interval log:\n%.400s", s)
			}
		}, ""},
		{"html to stdout", []string{"report", run, "--format", "html"}, 0, func(t *testing.T, s, _ string) {
			if !strings.HasPrefix(s, "<!DOCTYPE html>") || !strings.Contains(s, `<svg id="plot-cdf-ttft"`) {
				t.Error("not the HTML report")
			}
		}, ""},
		{"unknown format", []string{"report", run, "--format", "pdf"}, exitUsage, nil, `--format "pdf": want one of table, markdown`},
		{"unknown plot", []string{"report", run, "--format", "png", "--plot", "pie"}, exitUsage, nil, `unknown plot "pie"`},
		{"unknown hdrlog metric", []string{"report", run, "--format", "hdrlog", "--metric", "ttfx"}, exitUsage, nil, `unknown metric "ttfx"`},
		{"bad hdrlog unit", []string{"report", run, "--format", "hdrlog", "--hdrlog-unit", "ms"}, exitUsage, nil, `unit "ms"`},
		{"missing run dir", []string{"report", filepath.Join(out, "nope")}, exitUsage, nil, "RUN_DIR"},
		{"not a run dir", []string{"report", out}, exitUsage, nil, "not a run directory"},
		{"no run dir", []string{"report"}, exitUsage, nil, "accepts 1 arg"},
		{"output dir missing", []string{"report", run, "-o", filepath.Join(out, "no", "such", "file.txt")}, exitUsage, nil, "does not exist"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstderr: %s", r.code, tc.code, r.stderr)
			}
			if tc.stderr != "" && !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("stderr %q lacks %q", r.stderr, tc.stderr)
			}
			if tc.check != nil {
				tc.check(t, r.stdout, r.stderr)
			}
		})
	}
	// No partial or temporary files are left behind.
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left in the output directory", e.Name())
		}
	}
}

func TestReportHelp(t *testing.T) {
	r := runCLI(t, nil, "report", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "streamgauge report") {
		t.Errorf("report --help: exit %d:\n%s", r.code, r.stdout)
	}
}
