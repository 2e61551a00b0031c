package analysis_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
	"github.com/streamgauge/streamgauge/results"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// TestSummaryGolden pins the whole summary of the fixture. The histograms are
// checked by round trip elsewhere and left out here.
func TestSummaryGolden(t *testing.T) {
	s := analysistest.Summarize(t, analysistest.LoadFixture(t), analysistest.OpenMeta())
	s.Histograms = nil
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	analysistest.Golden(t, *update, "summary.golden.json", append(b, '\n'))
}

func TestSummaryNumbers(t *testing.T) {
	s := analysistest.Summarize(t, analysistest.LoadFixture(t), analysistest.OpenMeta())

	wantCounts := analysis.Counts{Accounted: true, Total: 30, OK: 20, Failed: 5, Canceled: 2, Warmup: 3}
	if s.Requests != wantCounts {
		t.Errorf("requests = %+v, want %+v", s.Requests, wantCounts)
	}
	// The runner's count of sent requests must match the records.
	for sent, ok := range map[int64]bool{30: true, 31: false} {
		meta := analysistest.OpenMeta()
		meta.Sent = sent
		if got := analysistest.Summarize(t, analysistest.LoadFixture(t), meta).Requests; got.Accounted != ok || got.Sent != sent {
			t.Errorf("sent %d: requests %+v, want accounted %v", sent, got, ok)
		}
	}
	c := s.Requests
	if c.Total != c.OK+c.Failed+c.Canceled+c.Warmup {
		t.Errorf("total %d != ok+failed+canceled+warmup %d", c.Total, c.OK+c.Failed+c.Canceled+c.Warmup)
	}
	// The warm-up failure (w1) is not an error of the run.
	wantErrs := map[string]int64{"connect": 1, "http_429": 1, "http_5xx": 1, "stream_error": 1, "timeout": 1, "canceled": 2}
	if !reflect.DeepEqual(s.Errors, wantErrs) {
		t.Errorf("errors = %v, want %v", s.Errors, wantErrs)
	}

	// Measured window: first measured send (1.0 s) to the last measured end
	// (the timeout, 3.4 s + 600 ms). Warm-up and canceled records are outside.
	const window = 3.0
	// 20 ok, 2000 input tokens and 431 output tokens; 18 ok met their SLOs.
	checks := []struct {
		name      string
		got, want float64
	}{
		{"duration_s", s.DurationS, window},
		{"error_rate = failed/(ok+failed)", s.ErrorRate, 5.0 / 25},
		{"throughput.requests_per_s", s.Throughput.RequestsPerS, 20 / window},
		{"throughput.input_tokens_per_s", s.Throughput.InputTokensPerS, 2000 / window},
		{"throughput.output_tokens_per_s", s.Throughput.OutputTokensPerS, 431 / window},
		{"goodput.requests_per_s", s.Goodput.RequestsPerS, 18 / window},
		{"goodput.ratio", s.Goodput.Ratio, 18.0 / 25},
		// 25 measured sends spread over 2.4 s.
		{"generator.achieved_rate", s.Generator.AchievedRate, 24 / 2.4},
		{"generator.requested_rate", s.Generator.RequestedRate, 10},
		{"generator.cpu_seconds", s.Generator.CPUSeconds, 1.235},
		{"generator.cpu_us_per_output_token", s.Generator.CPUPerOutputTokenUS, math.Round(1.2345e6/431*1000) / 1000},
		// Both counts exist for ids 00, 03, 04, 05, 06; 03 (100 vs 90) and
		// 05 (50 vs 40) differ by more than 5%, 06 (100 vs 105) by exactly 5%.
		{"token_count_mismatch_ratio", s.TokenCountMismatchRatio, 2.0 / 5},
	}
	for _, ck := range checks {
		if !near(ck.got, ck.want) {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}

	// Failed requests enter lag only; canceled and warm-up enter nothing.
	wantN := map[string]int64{
		"lag": 25, "ttfb": 20, "ttft": 20, "ttfo": 20, "e2e": 20,
		"tpot": 19, // id 01 has a single output token
		"icl":  75, // 3 + 0 + 18*4
		"itl":  itlSamples(t),
	}
	if wantN["itl"] != 344 {
		t.Errorf("fixture itl samples = %d, want 344 (the fixture changed?)", wantN["itl"])
	}
	for m, n := range wantN {
		if got := s.Metrics[m].Count; got != n {
			t.Errorf("metrics.%s.count = %d, want %d", m, got, n)
		}
	}
	// Histogram values are exact to 3 significant digits.
	approx := []struct {
		name      string
		got, want float64
	}{
		{"ttft.min", s.Metrics["ttft"].Min, 80},
		{"ttft.max", s.Metrics["ttft"].Max, 270}, // 80 + 10*19
		{"ttfo.max", s.Metrics["ttfo"].Max, 300}, // id 02 reasons for 200 ms first
		{"e2e.min", s.Metrics["e2e"].Min, 90},
		{"lag.p50", s.Metrics["lag"].P50, 0.5},
		{"tpot.min", s.Metrics["tpot"].Min, 4.04},
		{"itl.min", s.Metrics["itl"].Min, 5}, // 100 ms / 20 tokens
	}
	for _, ck := range approx {
		if math.Abs(ck.got-ck.want) > 1e-3*ck.want {
			t.Errorf("%s = %v, want %v", ck.name, ck.got, ck.want)
		}
	}
	// Lag p99 is id 07's 12 ms.
	if p99 := s.Metrics["lag"].P99; math.Abs(p99-12) > 0.012 {
		t.Errorf("lag.p99 = %v, want 12 ms", p99)
	}
	if !s.GeneratorSaturated {
		t.Error("lag p99 12 ms in an open-loop run: generator_saturated is false")
	}
	if !s.Pass || len(s.SLO) != 0 || s.Clamped != 0 {
		t.Errorf("pass %v, slo %v, clamped %d: want true, [], 0", s.Pass, s.SLO, s.Clamped)
	}
	for _, m := range analysis.Metrics {
		st := s.Metrics[m]
		if !(st.Min <= st.P50 && st.P50 <= st.P90 && st.P90 <= st.P95 && st.P95 <= st.P99 && st.P99 <= st.P999 && st.P999 <= st.Max) {
			t.Errorf("%s percentiles out of order: %+v", m, st)
		}
		if st.Mean < st.Min || st.Mean > st.Max {
			t.Errorf("%s mean %v outside [min, max]", m, st.Mean)
		}
	}
}

// itlSamples counts itl samples from the fixture's raw JSON, independently
// of the accumulator: every token-bearing frame after the first of an ok,
// measured request gives k samples (k from frame_tokens, else 1).
func itlSamples(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile(analysistest.Fixture)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var r struct {
			Warmup      bool            `json:"warmup"`
			Error       json.RawMessage `json:"error"`
			ICL         []float64       `json:"icl_ms"`
			FrameTokens []int           `json:"frame_tokens"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		if r.Warmup || string(r.Error) != "null" {
			continue
		}
		if r.FrameTokens == nil {
			n += int64(len(r.ICL))
			continue
		}
		for _, k := range r.FrameTokens[1:] {
			n += int64(max(k, 1))
		}
	}
	return n
}

func TestITL(t *testing.T) {
	tests := []struct {
		name        string
		icl         []float64
		frameTokens []int
		wantICL     int64
		wantITL     int64
		min, max    float64 // of itl, ms, to the histogram's 3 digits
	}{
		// A frame of k tokens after gap g gives k samples of g/k; the first
		// frame's tokens (2) have no gap and belong to ttft.
		{"multi-token frames", []float64{30, 10, 40}, []int{2, 3, 1, 4}, 3, 8, 10, 10},
		{"one token per frame", []float64{10, 20}, []int{1, 1, 1}, 2, 2, 10, 20},
		{"no per-frame counts", []float64{10, 20}, nil, 2, 2, 10, 20},
		{"zero counts mean one", []float64{10, 20}, []int{0, 0, 0}, 2, 2, 10, 20},
		{"speculative burst", []float64{8}, []int{1, 8}, 1, 8, 1, 1},
		{"single frame", []float64{}, []int{5}, 0, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := analysis.NewAccumulator()
			a.Append(&results.Record{ID: "0", SentNS: 0, DoneNS: 1e9, E2EMS: 1000, TTFTMS: results.Ms(10), ICLMS: tc.icl, FrameTokens: tc.frameTokens, OutputTokens: 9})
			hs := a.Histograms()
			icl, itl := hs.Get("icl"), hs.Get("itl")
			if icl.TotalCount() != tc.wantICL {
				t.Errorf("icl count = %d, want %d", icl.TotalCount(), tc.wantICL)
			}
			if itl.TotalCount() != tc.wantITL {
				t.Errorf("itl count = %d, want %d", itl.TotalCount(), tc.wantITL)
			}
			st := analysis.StatsOf(itl)
			if math.Abs(st.Min-tc.min) > 1e-3*tc.min || math.Abs(st.Max-tc.max) > 1e-3*tc.max {
				t.Errorf("itl min/max = %v/%v, want %v/%v", st.Min, st.Max, tc.min, tc.max)
			}
		})
	}
}

func TestSaturation(t *testing.T) {
	rec := func(id string, lag float64) *results.Record {
		return &results.Record{ID: id, SentNS: 1e9, DoneNS: 2e9, E2EMS: 1000, LagMS: lag, ICLMS: []float64{}}
	}
	tests := []struct {
		name     string
		lags     []float64
		openLoop bool
		want     bool
	}{
		{"open loop, late generator", []float64{0.1, 0.2, 9}, true, true},
		{"closed loop, same lag", []float64{0.1, 0.2, 9}, false, false},
		{"open loop, on time", []float64{0.1, 0.2, 4.9}, true, false},
		// HDR reports a bucket's highest value, 5 ms reads as 5.003 ms.
		{"open loop, just below", []float64{4.99, 4.99, 4.99}, true, false},
		{"open loop, just above", []float64{5.1, 5.1}, true, true},
		{"open loop, no requests", nil, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := analysis.NewAccumulator()
			for i, l := range tc.lags {
				a.Append(rec(string(rune('a'+i)), l))
			}
			s, err := a.Summary(analysis.RunMeta{RequestedRate: 5, OpenLoop: tc.openLoop})
			if err != nil {
				t.Fatal(err)
			}
			if s.GeneratorSaturated != tc.want {
				t.Errorf("generator_saturated = %v with lag p99 %v, want %v", s.GeneratorSaturated, s.Metrics["lag"].P99, tc.want)
			}
			if s.Generator.OpenLoop != tc.openLoop {
				t.Errorf("generator.open_loop = %v", s.Generator.OpenLoop)
			}
		})
	}
}

// TestWarmupExcluded: the fixture's measured numbers do not move when the
// warm-up records are dropped, except the counts.
func TestWarmupExcluded(t *testing.T) {
	all := analysistest.LoadFixture(t)
	var measured []*results.Record
	for _, r := range all {
		if !r.Warmup {
			measured = append(measured, r)
		}
	}
	a, b := analysistest.Summarize(t, all, analysistest.OpenMeta()), analysistest.Summarize(t, measured, analysistest.OpenMeta())
	if a.Requests.Warmup != 3 || b.Requests.Warmup != 0 || a.Requests.Total != b.Requests.Total+3 {
		t.Fatalf("counts %+v and %+v", a.Requests, b.Requests)
	}
	a.Requests, b.Requests = analysis.Counts{}, analysis.Counts{}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("warm-up records changed the summary:\n%+v\n%+v", a, b)
	}
}

func TestEmptySummary(t *testing.T) {
	for _, open := range []bool{true, false} {
		s, err := analysis.NewAccumulator().Summary(analysis.RunMeta{OpenLoop: open, RequestedRate: 3, CPUSeconds: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		if s.Requests != (analysis.Counts{Accounted: true}) || s.DurationS != 0 || s.ErrorRate != 0 || s.Throughput != (analysis.Throughput{}) ||
			s.Generator.AchievedRate != 0 || s.GeneratorSaturated || !s.Pass {
			t.Errorf("empty summary: %+v", s)
		}
		// No NaN or Inf: the summary must encode.
		if _, err := json.Marshal(s); err != nil {
			t.Errorf("empty summary does not encode: %v", err)
		}
		for _, m := range analysis.Metrics {
			if _, ok := s.Metrics[m]; !ok {
				t.Errorf("metric %s missing", m)
			}
			if _, ok := s.Histograms[m]; !ok {
				t.Errorf("histogram %s missing", m)
			}
		}
	}
}

// TestOnlyFailures: a run where every request failed has an error rate of 1
// and no latencies, and still encodes.
func TestOnlyFailures(t *testing.T) {
	a := analysis.NewAccumulator()
	for i := range 4 {
		a.Append(&results.Record{ID: string(rune('a' + i)), SentNS: int64(i) * 1e9, DoneNS: int64(i)*1e9 + 5e6, E2EMS: 5, LagMS: 1,
			Error: &results.Error{Kind: results.KindConnect, Message: "refused"}})
	}
	s, err := a.Summary(analysistest.OpenMeta())
	if err != nil {
		t.Fatal(err)
	}
	if s.ErrorRate != 1 || s.Throughput.RequestsPerS != 0 || s.Goodput.Ratio != 0 || s.Metrics["ttft"].Count != 0 || s.Metrics["lag"].Count != 4 {
		t.Errorf("all failed: %+v", s)
	}
	if !near(s.Generator.AchievedRate, 1) {
		t.Errorf("achieved rate = %v, want 1", s.Generator.AchievedRate)
	}
	if _, err := json.Marshal(s); err != nil {
		t.Error(err)
	}
}

// TestSummarize: re-reading a run directory gives exactly the summary an
// in-memory accumulator gave during the run, histograms included.
func TestSummarize(t *testing.T) {
	recs := analysistest.LoadFixture(t)
	dir := filepath.Join(t.TempDir(), "run")
	w, err := results.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	live := analysis.NewAccumulator()
	for _, r := range recs {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
		live.Append(r)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want, err := live.Summary(analysistest.OpenMeta())
	if err != nil {
		t.Fatal(err)
	}
	got, err := analysis.Summarize(dir, analysistest.OpenMeta())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Summarize(dir) differs from the live accumulator:\n got %+v\nwant %+v", got, want)
	}

	t.Run("from the fixture file", func(t *testing.T) {
		dir := t.TempDir()
		b, err := os.ReadFile(analysistest.Fixture)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, results.RequestsFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := analysis.Summarize(dir, analysistest.OpenMeta())
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Error("Summarize(fixture) differs from the in-memory summary")
		}
	})
	t.Run("missing run", func(t *testing.T) {
		if _, err := analysis.Summarize(filepath.Join(t.TempDir(), "none"), analysistest.OpenMeta()); err == nil {
			t.Error("Summarize of a missing directory: no error")
		}
	})
}

// TestAccumulatorConcurrent: Append from many goroutines (run with -race)
// gives the sequential result.
func TestAccumulatorConcurrent(t *testing.T) {
	recs := analysistest.LoadFixture(t)
	want := analysistest.Summarize(t, recs, analysistest.OpenMeta())
	a := analysis.NewAccumulator()
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for i := g; i < len(recs); i += 6 {
				a.Append(recs[i])
			}
			_ = a.Histograms() // a reader racing the writers
		})
	}
	wg.Wait()
	got, err := a.Summary(analysistest.OpenMeta())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("concurrent Append gave a different summary")
	}
}

// TestSummaryJSONKeys checks summary.json against the design's field list.
func TestSummaryJSONKeys(t *testing.T) {
	s := analysistest.Summarize(t, analysistest.LoadFixture(t), analysistest.OpenMeta())
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	has := func(obj map[string]any, path string, keys ...string) {
		t.Helper()
		for _, k := range keys {
			if _, ok := obj[k]; !ok {
				t.Errorf("summary.json: %s%s missing", path, k)
			}
		}
	}
	has(m, "", "requests", "duration_s", "throughput", "goodput", "error_rate", "generator_saturated",
		"generator", "token_count_mismatch_ratio", "metrics", "slo", "pass", "histograms")
	has(m["requests"].(map[string]any), "requests.", "total", "ok", "failed", "warmup")
	has(m["throughput"].(map[string]any), "throughput.", "requests_per_s", "input_tokens_per_s", "output_tokens_per_s")
	has(m["goodput"].(map[string]any), "goodput.", "requests_per_s", "ratio")
	has(m["generator"].(map[string]any), "generator.", "requested_rate", "achieved_rate", "cpu_seconds")
	metrics := m["metrics"].(map[string]any)
	hists := m["histograms"].(map[string]any)
	for _, name := range []string{"lag", "ttfb", "ttft", "ttfo", "icl", "itl", "tpot", "e2e"} {
		st, ok := metrics[name].(map[string]any)
		if !ok {
			t.Errorf("metrics.%s missing", name)
			continue
		}
		has(st, "metrics."+name+".", "count", "min", "mean", "p50", "p90", "p95", "p99", "p99.9", "max")
		if _, ok := hists[name].(string); !ok {
			t.Errorf("histograms.%s missing", name)
		}
	}
	if slo, ok := m["slo"].([]any); !ok || len(slo) != 0 {
		t.Errorf("slo = %v, want an empty array", m["slo"])
	}
}

// TestAchievedRateSessions: the achieved rate counts arrivals (single
// requests and first turns), not later turns, which follow their session.
func TestAchievedRateSessions(t *testing.T) {
	rec := func(sentS float64, session, turn int) *results.Record {
		sent := int64(sentS * 1e9)
		return &results.Record{ID: fmt.Sprintf("%d.%d", session, turn), Session: session, Turn: turn,
			SentNS: sent, DoneNS: sent + 1e8, E2EMS: 100, ICLMS: []float64{}, SLOOK: true}
	}
	tests := []struct {
		name string
		recs []*results.Record
		want float64
	}{
		{"single requests", []*results.Record{rec(0, 0, 0), rec(1, 0, 0), rec(2, 0, 0)}, 1},
		{"sessions", []*results.Record{
			rec(0, 1, 1), rec(0.5, 1, 2), rec(0.9, 1, 3),
			rec(2, 2, 1), rec(2.5, 2, 2),
			rec(4, 3, 1), rec(4.2, 3, 2), rec(7, 3, 3), // a late turn does not stretch the span
		}, 2.0 / 4},
		{"one arrival", []*results.Record{rec(0, 1, 1), rec(3, 1, 2)}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := analysistest.Summarize(t, tc.recs, analysis.RunMeta{OpenLoop: true, RequestedRate: 1})
			if !near(s.Generator.AchievedRate, tc.want) {
				t.Errorf("achieved rate = %v, want %v", s.Generator.AchievedRate, tc.want)
			}
			if s.Requests.OK != int64(len(tc.recs)) {
				t.Errorf("ok = %d, want every turn (%d)", s.Requests.OK, len(tc.recs))
			}
		})
	}
}

// TestLatencyFromScheduled: with the option, ttfb, ttft, ttfo and e2e count
// from the scheduled send (adding lag); tpot, icl, itl and lag do not move.
func TestLatencyFromScheduled(t *testing.T) {
	r := &results.Record{ID: "0", ScheduledNS: 0, SentNS: 4e6, DoneNS: 104e6, LagMS: 4,
		TTFBMS: results.Ms(8), TTFTMS: results.Ms(20), TTFOMS: results.Ms(30), E2EMS: 100, TPOTMS: results.Ms(16),
		ICLMS: []float64{40, 40}, FrameTokens: []int{1, 2, 1}, OutputTokens: 6, SLOOK: true}
	tests := []struct {
		on   bool
		from string
		add  float64
	}{{false, "send", 0}, {true, "scheduled", 4}}
	for _, tc := range tests {
		t.Run(tc.from, func(t *testing.T) {
			s := analysistest.Summarize(t, []*results.Record{r}, analysis.RunMeta{})
			if tc.on {
				a := analysis.NewAccumulator(analysis.WithLatencyFromScheduled(true))
				a.Append(r)
				var err error
				if s, err = a.Summary(analysis.RunMeta{}); err != nil {
					t.Fatal(err)
				}
			}
			if s.LatencyFrom != tc.from {
				t.Errorf("latency_from = %q, want %q", s.LatencyFrom, tc.from)
			}
			want := map[string]float64{"ttfb": 8 + tc.add, "ttft": 20 + tc.add, "ttfo": 30 + tc.add, "e2e": 100 + tc.add,
				"tpot": 16, "lag": 4, "icl": 40}
			for m, v := range want {
				if got := s.Metrics[m].Min; math.Abs(got-v) > 1e-3*v {
					t.Errorf("%s = %v, want %v", m, got, v)
				}
			}
			if s.Metrics["itl"].Count != 3 {
				t.Errorf("itl count %d, want 3", s.Metrics["itl"].Count)
			}
		})
	}
}

// TestSummaryClampedValues: a value beyond the histograms' range (a start
// an hour late, a stream of two hours) is recorded at the range's top and
// counted, per metric and in total, never dropped.
func TestSummaryClampedValues(t *testing.T) {
	ttft := 20.0
	acc := analysis.NewAccumulator()
	recs := []*results.Record{
		{ID: "0", LagMS: 2 * 3600 * 1000, TTFTMS: &ttft, E2EMS: 100, SLOOK: true},
		{ID: "1", LagMS: 1, TTFTMS: &ttft, E2EMS: 2 * 3600 * 1000, SLOOK: true},
		{ID: "2", LagMS: 1, TTFTMS: &ttft, E2EMS: 100, SLOOK: true},
	}
	for _, r := range recs {
		if err := acc.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	s, err := acc.Summary(analysis.RunMeta{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"lag", "e2e"} {
		st := s.Metrics[m]
		if st.Count != 3 || st.Clamped != 1 || math.Abs(st.Max-3600*1000) > 3600 { // max within the histogram's 3 digits
			t.Errorf("%s: count %d, clamped %d, max %v ms: want 3, 1, 3600000", m, st.Count, st.Clamped, st.Max)
		}
	}
	if s.Clamped != 2 || s.Metrics["ttft"].Clamped != 0 {
		t.Errorf("clamped %d, ttft clamped %d: want 2, 0", s.Clamped, s.Metrics["ttft"].Clamped)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"clamped":2`, `"clamped":1`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("summary.json lacks %s", want)
		}
	}
}
