package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/report"
	"github.com/streamgauge/streamgauge/results"
)

// fakeRun describes a synthetic run directory: n requests at 10 req/s with
// ttft around ttftMS (±20%), 16 output tokens at itlMS each, and failRate
// of them failed.
type fakeRun struct {
	n        int
	ttftMS   float64
	itlMS    float64
	failRate float64
	seed     uint64
	profile  map[string]any
	summary  bool // write summary.json too
	// info is run.json's (its Tool and Profile are filled in); nil is a
	// run that completed.
	info *results.RunInfo
	// warmup marks every request as warm-up.
	warmup bool
}

func (f fakeRun) records() []*results.Record {
	rng := rand.New(rand.NewPCG(f.seed, 1))
	recs := make([]*results.Record, f.n)
	for i := range recs {
		sent := int64(i) * 100e6
		ttft := f.ttftMS * (0.8 + 0.4*rng.Float64())
		icl := make([]float64, 15)
		for j := range icl {
			icl[j] = f.itlMS * (0.9 + 0.2*rng.Float64())
		}
		e2e := ttft + 15*f.itlMS
		r := &results.Record{ID: fmt.Sprint(i), ScheduledNS: sent, SentNS: sent, DoneNS: sent + int64(e2e*1e6),
			TTFBMS: results.Ms(ttft / 2), TTFTMS: results.Ms(ttft), TTFOMS: results.Ms(ttft), E2EMS: e2e,
			TPOTMS: results.Ms(f.itlMS), ICLMS: icl, InputTokens: 100, OutputTokens: 16, OutputTokensSource: results.SourceUsage,
			Frames: 16, HTTPStatus: 200, SLOOK: true}
		if rng.Float64() < f.failRate {
			r.Error = &results.Error{Kind: results.KindHTTP5xx, Message: "503"}
			r.TTFTMS, r.TTFOMS, r.TPOTMS, r.ICLMS, r.OutputTokens, r.SLOOK = nil, nil, nil, nil, 0, false
		}
		r.Warmup = f.warmup
		recs[i] = r
	}
	return recs
}

// write makes the run directory dir.
func (f fakeRun) write(t *testing.T, dir string) string {
	t.Helper()
	w, err := results.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	acc := analysis.NewAccumulator()
	for _, r := range f.records() {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
		acc.Append(r)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	profile := f.profile
	if profile == nil {
		profile = map[string]any{"name": "fake", "rate": 10.0, "input-tokens": "100", "output-tokens": "16"}
	}
	info := results.RunInfo{Status: results.StatusCompleted, End: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if f.info != nil {
		info = *f.info
	}
	info.Tool, info.Profile = "streamgauge", profile
	if err := results.WriteJSON(dir, results.RunFile, info); err != nil {
		t.Fatal(err)
	}
	if f.summary {
		s, err := acc.Summary(analysis.RunMeta{RequestedRate: 10, OpenLoop: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := results.WriteJSON(dir, results.SummaryFile, s); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCheck(t *testing.T) {
	root := t.TempDir()
	run := fakeRun{n: 200, ttftMS: 100, itlMS: 10, failRate: 0.02, seed: 1, summary: true}.write(t, filepath.Join(root, "run"))
	withSLOs := fakeRun{n: 50, ttftMS: 100, itlMS: 10, seed: 2, summary: true,
		profile: map[string]any{"rate": 10.0, "slo": []string{"ttft.p99<50ms", "error_rate<1%"}}}.write(t, filepath.Join(root, "with-slos"))
	ownGoodput := fakeRun{n: 50, ttftMS: 100, itlMS: 10, seed: 2, summary: true,
		profile: map[string]any{"rate": 10.0, "goodput": "ttft<=90ms"}}.write(t, filepath.Join(root, "own-goodput"))
	cutShort := fakeRun{n: 50, ttftMS: 100, itlMS: 10, seed: 3}.write(t, filepath.Join(root, "cut-short"))
	// Runs that did not finish, or hold nothing to judge.
	killed := fakeRun{n: 50, ttftMS: 100, itlMS: 10, seed: 3, info: &results.RunInfo{}}.write(t, filepath.Join(root, "killed"))
	crashed := fakeRun{n: 412, ttftMS: 100, itlMS: 10, seed: 3, info: &results.RunInfo{Status: results.StatusRunning, PlannedRequests: 1000}}.write(t, filepath.Join(root, "crashed"))
	interrupted := fakeRun{n: 412, ttftMS: 100, itlMS: 10, seed: 3, summary: true,
		info: &results.RunInfo{Status: results.StatusInterrupted, Interrupted: true, End: time.Now(), PlannedRequests: 1000}}.write(t, filepath.Join(root, "interrupted"))
	aborted := fakeRun{n: 40, ttftMS: 100, itlMS: 10, seed: 3, summary: true, profile: map[string]any{"rate": 10.0, "duration": 60e9},
		info: &results.RunInfo{Status: results.StatusAborted, End: time.Now()}}.write(t, filepath.Join(root, "aborted"))
	short := fakeRun{n: 90, ttftMS: 100, itlMS: 10, seed: 3, summary: true,
		info: &results.RunInfo{Status: results.StatusCompleted, End: time.Now(), PlannedRequests: 100}}.write(t, filepath.Join(root, "short"))
	warmOnly := fakeRun{n: 20, ttftMS: 100, itlMS: 10, seed: 3, summary: true, warmup: true}.write(t, filepath.Join(root, "warmup-only"))
	allFailed := fakeRun{n: 20, ttftMS: 100, itlMS: 10, seed: 3, summary: true, failRate: 1}.write(t, filepath.Join(root, "all-failed"))
	noRequests := fakeRun{summary: true}.write(t, filepath.Join(root, "no-requests"))
	notRun := filepath.Join(root, "empty")
	os.Mkdir(notRun, 0o755)
	file := filepath.Join(root, "file")
	os.WriteFile(file, nil, 0o644)

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // substrings
		stderr []string
	}{
		{"all hold", []string{"check", run, "--slo", "ttft.p99<500ms", "--slo", "error_rate<5%,throughput.requests_per_s>5"}, exitOK,
			[]string{"✓ ttft.p99<500ms ", "✓ error_rate<5% ", "✓ throughput.requests_per_s>5 ", "SLOs: 3 passed, 0 failed"}, nil},
		{"one fails", []string{"check", run, "--slo", "ttft.p99<500ms", "--slo", "ttft.p50<50ms"}, exitSLO,
			[]string{"✓ ttft.p99<500ms", "✗ ttft.p50<50ms", "observed 10", "(margin -5", "SLOs: 1 passed, 1 failed"},
			[]string{"1 of 2 SLOs failed"}},
		{"malformed: unit missing", []string{"check", run, "--slo", "ttft.p99<500"}, exitUsage, nil,
			[]string{`streamgauge: --slo ttft.p99<500: 500 has no unit; a latency threshold needs us, ms or s (e.g. 500ms) (column 10: "500")`}},
		{"malformed: percentile of a rate", []string{"check", run, "--slo", "error_rate.p99<1%"}, exitUsage, nil,
			[]string{`--slo error_rate.p99<1%: error_rate is a rate, it has no percentiles (column 12: "p99")`}},
		{"malformed wins over a missing run", []string{"check", filepath.Join(root, "nope"), "--slo", "ttft.p99<5"}, exitUsage, nil, []string{"has no unit"}},
		{"missing run", []string{"check", filepath.Join(root, "nope"), "--slo", "ttft.p99<5ms"}, exitUsage, nil, []string{"no such file or directory"}},
		{"not a directory", []string{"check", file, "--slo", "ttft.p99<5ms"}, exitUsage, nil, []string{"not a directory"}},
		{"not a run", []string{"check", notRun, "--slo", "ttft.p99<5ms"}, exitUsage, nil, []string{"not a run directory"}},
		{"no SLOs anywhere", []string{"check", run}, exitUsage, nil, []string{"no SLOs to check: give --slo EXPR"}},
		{"the run's own SLOs", []string{"check", withSLOs}, exitSLO, []string{"✗ ttft.p99<50ms", "✓ error_rate<1%"}, []string{"1 of 2 SLOs failed"}},
		{"--slo replaces the run's", []string{"check", withSLOs, "--slo", "ttft.p99<1s"}, exitOK, []string{"✓ ttft.p99<1s", "SLOs: 1 passed, 0 failed"}, nil},
		{"summary rebuilt", []string{"check", cutShort, "--slo", "e2e.max<1s"}, exitOK, []string{"✓ e2e.max<1s"}, []string{"summary rebuilt from requests.jsonl"}},
		{"killed: no end time", []string{"check", killed, "--slo", "e2e.max<1s"}, exitRun, nil,
			[]string{"streamgauge: run " + killed + " did not finish (run.json has no end time: the process was killed or crashed) after 50 requests; pass --allow-partial to judge it anyway"}},
		{"killed, --allow-partial", []string{"check", killed, "--slo", "e2e.max<1s", "--allow-partial"}, exitOK, []string{"✓ e2e.max<1s"},
			[]string{"warning: run " + killed + " did not finish", "judged as it is (--allow-partial)"}},
		{"crashed: still running", []string{"check", crashed, "--slo", "e2e.max<1s"}, exitRun, nil,
			[]string{"run " + crashed + " did not finish (run.json still says running: the process was killed or crashed) after 412 of 1000 planned requests (41%); pass --allow-partial"}},
		{"interrupted", []string{"check", interrupted, "--slo", "e2e.max<1s"}, exitRun, nil,
			[]string{"run " + interrupted + " was interrupted after 412 of 1000 planned requests (41%); pass --allow-partial to judge it anyway"}},
		{"interrupted, --allow-partial, an SLO fails", []string{"check", interrupted, "--slo", "e2e.max<10ms", "--allow-partial"}, exitSLO, []string{"✗ e2e.max<10ms"},
			[]string{"was interrupted after 412 of 1000 planned requests (41%); judged as it is"}},
		{"aborted", []string{"check", aborted, "--slo", "e2e.max<1s"}, exitRun, nil,
			[]string{"was stopped early by --abort-on-fail (an SLO was lost) after 40 requests and 4.1 s of the planned 1m0s (7%)"}},
		{"fewer requests than planned", []string{"check", short, "--slo", "e2e.max<1s"}, exitRun, nil,
			[]string{"run " + short + " holds fewer requests than planned after 90 of 100 planned requests (90%)"}},
		{"only warm-up requests", []string{"check", warmOnly, "--slo", "e2e.max<1s"}, exitRun, nil,
			[]string{"run " + warmOnly + " has no measured request that succeeded (of 20: 20 warm-up): nothing to judge"}},
		{"every request failed", []string{"check", allFailed, "--slo", "error_rate<100%", "--allow-partial"}, exitRun, nil,
			[]string{"run " + allFailed + " has no measured request that succeeded (of 20: 20 failed): nothing to judge"}},
		{"no requests", []string{"check", noRequests, "--slo", "error_rate<1%"}, exitRun, nil,
			[]string{"run " + noRequests + " has no requests: nothing to judge"}},
		{"goodput recomputed", []string{"check", run, "--goodput", "ttft<=90ms", "--slo", "goodput.ratio>=0.9"}, exitSLO, []string{"✗ goodput.ratio>=0.9"}, nil},
		{"goodput as recorded", []string{"check", run, "--slo", "goodput.ratio>=0.9"}, exitOK, []string{"✓ goodput.ratio>=0.9"}, nil},
		{"the run's own goodput", []string{"check", ownGoodput, "--slo", "goodput.ratio>=0.9"}, exitSLO, []string{"✗ goodput.ratio>=0.9"}, nil},
		{"--goodput replaces the run's", []string{"check", ownGoodput, "--goodput", "ttft<=1s", "--slo", "goodput.ratio>=0.9"}, exitOK, []string{"✓ goodput.ratio>=0.9"}, nil},
		{"bad goodput", []string{"check", run, "--goodput", "ttft<=90", "--slo", "goodput.ratio>=0.9"}, exitUsage, nil, []string{"--goodput ttft<=90: 90 has no unit"}},
		{"bad format", []string{"check", run, "--slo", "ttft.p99<1s", "--format", "yaml"}, exitUsage, nil, []string{`--format "yaml": want table, markdown or json`}},
		{"no run dir", []string{"check", "--slo", "ttft.p99<1s"}, exitUsage, nil, []string{"accepts 1 arg"}},
		{"markdown", []string{"check", run, "--slo", "ttft.p99<500ms", "--format", "markdown"}, exitOK,
			[]string{"### streamgauge: ✅ 1 SLO held", "| ✅ | `ttft.p99<500ms` |", "| metric (ms) |"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, want := range tc.stdout {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
			for _, want := range tc.stderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if tc.code == exitUsage && strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
				t.Errorf("a usage error is one line:\n%s", r.stderr)
			}
		})
	}
}

func TestCheckOutputs(t *testing.T) {
	root := t.TempDir()
	run := fakeRun{n: 200, ttftMS: 100, itlMS: 10, failRate: 0.02, seed: 1, summary: true}.write(t, filepath.Join(root, "run"))
	junit := filepath.Join(root, "slo.xml")
	md := filepath.Join(root, "summary.md")
	os.WriteFile(md, []byte("# earlier step\n"), 0o644)
	args := []string{"check", run, "--slo", "ttft.p99<500ms", "--slo", "ttft.p50<50ms", "--slo", "error_rate<1%",
		"--format", "json", "--junit", junit, "--junit-suite", "nightly", "--markdown", md}
	r := runCLI(t, nil, args...)
	if r.code != exitSLO {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var rep report.SLOReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("--format json: %v\n%s", err, r.stdout)
	}
	if rep.Pass || rep.Passed != 1 || rep.Failed != 2 || rep.SLO[1].Expr != "ttft.p50<50ms" || rep.SLO[1].Margin >= 0 {
		t.Errorf("JSON report %+v", rep)
	}

	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Tests  int `xml:"tests,attr"`
		Failed int `xml:"failures,attr"`
		Suite  struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("--junit: %v\n%s", err, b)
	}
	if doc.Tests != 3 || doc.Failed != 2 || doc.Suite.Name != "nightly" || len(doc.Suite.Cases) != 3 ||
		doc.Suite.Cases[0].Failure != nil || doc.Suite.Cases[1].Failure == nil ||
		!strings.HasPrefix(doc.Suite.Cases[1].Failure.Message, "observed ") || !strings.Contains(doc.Suite.Cases[1].Failure.Message, ", threshold < 50 ms") {
		t.Errorf("JUnit report:\n%s", b)
	}

	// --markdown appends, so several steps can write $GITHUB_STEP_SUMMARY.
	r = runCLI(t, nil, args...)
	b, _ = os.ReadFile(md)
	if !strings.HasPrefix(string(b), "# earlier step\n") || strings.Count(string(b), "### streamgauge: ❌ 2 of 3 SLOs failed") != 2 {
		t.Errorf("--markdown file:\n%s", b)
	}
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	if r := runCLI(t, nil, "check", run, "--slo", "ttft.p99<1s", "--junit", filepath.Join(root, "no", "such", "dir.xml")); r.code != exitUsage || !strings.Contains(r.stderr, "--junit") {
		t.Errorf("unwritable --junit: exit %d, %s", r.code, r.stderr)
	}
}

// TestCheckMargins pins the numbers a failing gate prints: the ✗ line names
// the SLO (with its threshold) and the observed value.
func TestCheckMargins(t *testing.T) {
	dir := fakeRun{n: 100, ttftMS: 100, itlMS: 10, seed: 4, summary: true}.write(t, filepath.Join(t.TempDir(), "run"))
	sum, _, err := analysis.LoadSummary(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "check", dir, "--slo", "ttft.max<0.1s")
	want := fmt.Sprintf("✗ ttft.max<0.1s  observed %s s (margin %s s)",
		trimFloat(sum.Metrics["ttft"].Max/1000), trimFloat((100-sum.Metrics["ttft"].Max)/1000))
	if r.code != exitSLO || !strings.Contains(r.stdout, want) {
		t.Errorf("exit %d, stdout:\n%s\nwant %q", r.code, r.stdout, want)
	}
}

func trimFloat(v float64) string {
	scale := math.Pow(10, 3-math.Floor(math.Log10(math.Abs(v))))
	return fmt.Sprint(math.Round(v*scale) / scale)
}
