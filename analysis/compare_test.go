package analysis_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
	"github.com/streamgauge/streamgauge/results"
)

func cell(t *testing.T, c *analysis.Comparison, metric string, cand int) analysis.CompareCell {
	t.Helper()
	for _, r := range c.Rows {
		if r.Metric == metric {
			return r.Candidates[cand]
		}
	}
	t.Fatalf("no row %s", metric)
	return analysis.CompareCell{}
}

// TestComparePointEstimates: compare's point estimates, computed exactly
// from the records, agree with the summary's histograms (3 significant
// digits), itl weighting included, whether the run is resampled request by
// request or in blocks (over MaxClusters requests, where clusters are
// merged as the records stream in).
func TestComparePointEstimates(t *testing.T) {
	for _, tc := range []struct {
		n        int
		clusters [2]int // the range Clusters() must fall in
	}{
		{1500, [2]int{1500, 1500}},
		{analysis.MaxClusters, [2]int{analysis.MaxClusters, analysis.MaxClusters}},
		{analysis.MaxClusters + 1, [2]int{analysis.MaxClusters/2 + 1, analysis.MaxClusters/2 + 1}},
		{9000, [2]int{analysis.MaxClusters/2 + 1, analysis.MaxClusters}},
	} {
		t.Run(fmt.Sprint(tc.n), func(t *testing.T) { testPointEstimates(t, tc.n, tc.clusters) })
	}
}

func testPointEstimates(t *testing.T, n int, clusters [2]int) {
	recs := analysistest.BaseSynth().Records(rand.New(rand.NewPCG(3, 0)), n)
	a := analysis.NewAccumulator()
	for _, r := range recs {
		a.Append(r)
	}
	sum, err := a.Summary(analysis.RunMeta{OpenLoop: true})
	if err != nil {
		t.Fatal(err)
	}
	s := analysis.NewRunSamples("x", recs, nil, false)
	if c := s.Clusters(); c < clusters[0] || c > clusters[1] {
		t.Errorf("%d requests in %d clusters, want %d to %d", n, c, clusters[0], clusters[1])
	}
	if s.Requests() != n {
		t.Errorf("Requests() = %d, want %d", s.Requests(), n)
	}
	c, err := analysis.Compare(s, []*analysis.RunSamples{s}, analysis.CompareOptions{Resamples: 100, Metrics: append(slices.Clone(analysis.CompareMetrics), "itl.mean", "icl.p99.9", "lag.p50")})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"throughput.output_tokens_per_s": sum.Throughput.OutputTokensPerS,
		"throughput.requests_per_s":      sum.Throughput.RequestsPerS,
		"goodput.ratio":                  sum.Goodput.Ratio,
		"error_rate":                     sum.ErrorRate,
		"itl.mean":                       sum.Metrics["itl"].Mean,
		"icl.p99.9":                      sum.Metrics["icl"].P999,
		"lag.p50":                        sum.Metrics["lag"].P50,
	}
	for _, m := range []string{"ttft", "itl", "tpot", "e2e"} {
		st := sum.Metrics[m]
		want[m+".p50"], want[m+".p90"], want[m+".p99"] = st.P50, st.P90, st.P99
	}
	for _, r := range c.Rows {
		w, ok := want[r.Metric]
		if !ok {
			t.Errorf("unexpected row %s", r.Metric)
			continue
		}
		got := float64(r.Baseline)
		if math.Abs(got-w) > 1e-3*math.Abs(w)+1e-9 {
			t.Errorf("%s = %v, summary says %v", r.Metric, got, w)
		}
		// A run against itself: no change, nothing significant.
		if cl := r.Candidates[0]; cl.Diff != 0 || cl.Significant || cl.Verdict != analysis.VerdictSame {
			t.Errorf("%s against itself: %+v", r.Metric, cl)
		}
	}
}

func TestCompareReproducible(t *testing.T) {
	base := analysistest.BaseSynth().Samples("base", 1, 800)
	cand := analysistest.Synth{Rate: 10, TTFTScale: 1.05, ITLScale: 1, FailRate: 0.01}.Samples("cand", 2, 800)
	run := func(procs int, seed uint64) []byte {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		c, err := analysis.Compare(base, []*analysis.RunSamples{cand}, analysis.CompareOptions{Seed: seed, Resamples: 300})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(c)
		return b
	}
	first := run(1, 7)
	if again := run(4, 7); !bytes.Equal(first, again) {
		t.Error("same seed, different GOMAXPROCS: different comparison")
	}
	if other := run(2, 8); bytes.Equal(first, other) {
		t.Error("different seeds gave identical intervals")
	}
}

func TestCompareVerdicts(t *testing.T) {
	const n = 1000
	base := analysistest.BaseSynth().Samples("base", 1, n)
	tests := []struct {
		name   string
		cand   analysistest.Synth
		opt    analysis.CompareOptions
		metric string
		want   analysis.Verdict
	}{
		{"slower prefill is a regression", analysistest.Synth{Rate: 10, TTFTScale: 1.2, ITLScale: 1, FailRate: 0.005}, analysis.CompareOptions{}, "ttft.p50", analysis.VerdictRegression},
		{"faster prefill is an improvement", analysistest.Synth{Rate: 10, TTFTScale: 0.8, ITLScale: 1, FailRate: 0.005}, analysis.CompareOptions{}, "ttft.p90", analysis.VerdictImprovement},
		{"slower decode shows in tpot", analysistest.Synth{Rate: 10, TTFTScale: 1, ITLScale: 1.2, FailRate: 0.005}, analysis.CompareOptions{}, "tpot.p50", analysis.VerdictRegression},
		{"and in itl", analysistest.Synth{Rate: 10, TTFTScale: 1, ITLScale: 1.2, FailRate: 0.005}, analysis.CompareOptions{}, "itl.p90", analysis.VerdictRegression},
		{"a small significant worsening within tolerance", analysistest.Synth{Rate: 10, TTFTScale: 1, ITLScale: 1.03, FailRate: 0.005}, analysis.CompareOptions{}, "tpot.p50", analysis.VerdictWorse},
		{"the same worsening with no tolerance", analysistest.Synth{Rate: 10, TTFTScale: 1, ITLScale: 1.03, FailRate: 0.005}, analysis.CompareOptions{Tolerance: -1}, "tpot.p50", analysis.VerdictRegression},
		{"the same worsening with 2% tolerance", analysistest.Synth{Rate: 10, TTFTScale: 1, ITLScale: 1.03, FailRate: 0.005}, analysis.CompareOptions{Tolerance: 0.02}, "tpot.p50", analysis.VerdictRegression},
		{"a small improvement within tolerance", analysistest.Synth{Rate: 10, TTFTScale: 1, ITLScale: 0.97, FailRate: 0.005}, analysis.CompareOptions{}, "tpot.p50", analysis.VerdictBetter},
		{"a higher load is better throughput", analysistest.Synth{Rate: 13, TTFTScale: 1, ITLScale: 1, FailRate: 0.005}, analysis.CompareOptions{}, "throughput.requests_per_s", analysis.VerdictImprovement},
		{"a lower load is worse throughput", analysistest.Synth{Rate: 7, TTFTScale: 1, ITLScale: 1, FailRate: 0.005}, analysis.CompareOptions{}, "throughput.output_tokens_per_s", analysis.VerdictRegression},
		{"errors appearing", analysistest.Synth{Rate: 10, TTFTScale: 1, ITLScale: 1, FailRate: 0.05}, analysis.CompareOptions{}, "error_rate", analysis.VerdictRegression},
		{"goodput falling", analysistest.Synth{Rate: 10, TTFTScale: 1.3, ITLScale: 1, FailRate: 0.005}, analysis.CompareOptions{}, "goodput.ratio", analysis.VerdictRegression},
		{"an unchanged decode", analysistest.Synth{Rate: 10, TTFTScale: 1.2, ITLScale: 1, FailRate: 0.005}, analysis.CompareOptions{}, "tpot.p99", analysis.VerdictSame},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.Resamples = 1000
			tc.opt.Seed = 1
			c, err := analysis.Compare(base, []*analysis.RunSamples{tc.cand.Samples("cand", uint64(100+i), n)}, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			cl := cell(t, c, tc.metric, 0)
			if cl.Verdict != tc.want {
				t.Errorf("%s: %+v, want %s", tc.metric, cl, tc.want)
			}
			if tc.want == analysis.VerdictRegression && !c.Regression() {
				t.Errorf("Regression() = false with a regression on %s", tc.metric)
			}
			if lo, hi, d := float64(cl.CILow), float64(cl.CIHigh), float64(cl.Diff); !(lo <= d && d <= hi) {
				t.Errorf("change %v outside its interval [%v, %v]", d, lo, hi)
			}
		})
	}
	t.Run("errors from none: relative change undefined, still a regression", func(t *testing.T) {
		clean := analysistest.Synth{Rate: 10, TTFTScale: 1, ITLScale: 1, FailRate: 0}.Samples("clean", 5, n)
		c, err := analysis.Compare(clean, []*analysis.RunSamples{analysistest.Synth{Rate: 10, TTFTScale: 1, ITLScale: 1, FailRate: 0.03}.Samples("cand", 6, n)}, analysis.CompareOptions{Resamples: 1000})
		if err != nil {
			t.Fatal(err)
		}
		cl := cell(t, c, "error_rate", 0)
		if !math.IsNaN(float64(cl.Rel)) || cl.Verdict != analysis.VerdictRegression {
			t.Errorf("error_rate from 0: %+v", cl)
		}
		b, err := json.Marshal(cl)
		if err != nil || !strings.Contains(string(b), `"rel":null`) {
			t.Errorf("JSON %s (%v): want rel null", b, err)
		}
	})
}

// TestCompareAdjust: comparing 16 metrics at once, an unadjusted 95%
// interval per metric calls something significant in most comparisons of a
// run with itself; the adjustment keeps that rare.
func TestCompareAdjust(t *testing.T) {
	base := analysistest.BaseSynth().Samples("base", 1, 500)
	cand := analysistest.BaseSynth().Samples("cand", 2, 500)
	for _, adj := range []string{analysis.AdjustFDR, analysis.AdjustHolm, analysis.AdjustNone} {
		c, err := analysis.Compare(base, []*analysis.RunSamples{cand}, analysis.CompareOptions{Resamples: 400, Adjust: adj})
		if err != nil {
			t.Fatal(err)
		}
		if c.Adjust != adj {
			t.Errorf("Adjust = %q", c.Adjust)
		}
		for _, r := range c.Rows {
			cl := r.Candidates[0]
			p, pa := float64(cl.PValue), float64(cl.PAdjusted)
			if math.IsNaN(p) {
				continue
			}
			switch {
			case adj == analysis.AdjustNone && pa != p:
				t.Errorf("%s none: adjusted %v != p %v", r.Metric, pa, p)
			case pa < p || pa > 1:
				t.Errorf("%s %s: adjusted p %v outside [p=%v, 1]", r.Metric, adj, pa, p)
			}
			if cl.Significant != (pa < 0.05) {
				t.Errorf("%s: significant %v with adjusted p %v", r.Metric, cl.Significant, pa)
			}
			// The interval excludes 0 exactly when the unadjusted p-value
			// is under 5%.
			lo, hi := float64(cl.CILow), float64(cl.CIHigh)
			if excl := lo > 0 || hi < 0; excl != (p < 0.05) && math.Abs(p-0.05) > 0.01 {
				t.Errorf("%s: interval [%v, %v] and p %v disagree", r.Metric, lo, hi, p)
			}
		}
	}
}

func TestCompareOptionsErrors(t *testing.T) {
	s := analysistest.BaseSynth().Samples("a", 1, 50)
	tests := []struct {
		opt   analysis.CompareOptions
		cands []*analysis.RunSamples
		want  string
	}{
		{analysis.CompareOptions{}, nil, "no candidate"},
		{analysis.CompareOptions{Metrics: []string{"ttft.p99", "latency.p99", "ttft.max"}}, []*analysis.RunSamples{s}, "latency.p99: unknown metric"},
		{analysis.CompareOptions{Metrics: []string{"ttft.max"}}, []*analysis.RunSamples{s}, `"max" is not a statistic compare can resample`},
		{analysis.CompareOptions{Resamples: 10}, []*analysis.RunSamples{s}, "at least 100"},
		{analysis.CompareOptions{Adjust: "bonferroni"}, []*analysis.RunSamples{s}, `adjust "bonferroni"`},
		{analysis.CompareOptions{Confidence: 1.5}, []*analysis.RunSamples{s}, "confidence"},
	}
	for _, tc := range tests {
		if _, err := analysis.Compare(s, tc.cands, tc.opt); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Compare(%+v) = %v, want an error containing %q", tc.opt, err, tc.want)
		}
	}
	c, err := analysis.Compare(s, []*analysis.RunSamples{s}, analysis.CompareOptions{Metrics: []string{"ttfb.p95", "lag.p99.9", "icl.mean", "ttfo.p50"}, Resamples: 100})
	if err != nil || len(c.Rows) != 4 || c.Rows[2].Unit != "ms" {
		t.Errorf("extra metrics: %v, %+v", err, c)
	}
	if len(c.Warnings) == 0 || !strings.Contains(c.Warnings[0], "a has only 50 measured requests") {
		t.Errorf("warnings %q, want one about the small run", c.Warnings)
	}
}

func TestCompareProfiles(t *testing.T) {
	withProfile := func(name string, p map[string]any) *analysis.RunSamples {
		s := analysistest.BaseSynth().Samples(name, 1, 200)
		s.Profile = p
		return s
	}
	base := withProfile("base", map[string]any{"rate": 10.0, "output-tokens": "128", "api": "openai-chat", "target": "http://a", "seed": 1.0, "sim-itl": "10ms", "turns": ""})
	same := withProfile("same", map[string]any{"rate": 10.0, "output-tokens": "128", "api": "openai-chat", "target": "http://b", "seed": 2.0, "sim-itl": "20ms"})
	other := withProfile("other", map[string]any{"rate": 20.0, "output-tokens": "256", "api": "openai-chat", "trace": "t.csv"})
	c, err := analysis.Compare(base, []*analysis.RunSamples{same, other}, analysis.CompareOptions{Resamples: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Mismatches) != 1 || c.Mismatches[0].Run != "other" {
		t.Fatalf("mismatches %+v, want only run other", c.Mismatches)
	}
	var keys []string
	for _, k := range c.Mismatches[0].Keys {
		keys = append(keys, k.Key)
	}
	if got := strings.Join(keys, " "); got != "rate output-tokens trace" {
		t.Errorf("differing keys %q, want rate output-tokens trace (target, seed and server settings are what is compared)", got)
	}
	var warned bool
	for _, w := range c.Warnings {
		if strings.Contains(w, `other differs from base in workload or load: rate (10 vs 20), output-tokens ("128" vs "256"), trace (unset vs "t.csv")`) {
			warned = true
		}
	}
	if !warned {
		t.Errorf("warnings %q lack the mismatch line", c.Warnings)
	}
}

// writeRun makes a run directory from records, with run.json and, when
// withSummary, summary.json.
func writeRun(t *testing.T, dir string, recs []*results.Record, profile map[string]any, withSummary bool) {
	t.Helper()
	w, err := results.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	a := analysis.NewAccumulator(analysis.WithLatencyFromScheduled(profile["latency-from"] == "scheduled"))
	for _, r := range recs {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
		a.Append(r)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if profile != nil {
		if err := results.WriteJSON(dir, results.RunFile, results.RunInfo{Tool: "streamgauge", Profile: profile}); err != nil {
			t.Fatal(err)
		}
	}
	if withSummary {
		s, err := a.Summary(analysis.RunMeta{RequestedRate: 10, OpenLoop: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := results.WriteJSON(dir, results.SummaryFile, s); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadRunSamples(t *testing.T) {
	recs := analysistest.BaseSynth().Records(rand.New(rand.NewPCG(9, 0)), 300)
	recs[0].Warmup = true
	recs[1].Error = &results.Error{Kind: results.KindCanceled}
	recs[1].TTFTMS = nil
	recs[2].LagMS = 1000 // a request that waited a second for its send
	dir := filepath.Join(t.TempDir(), "run-a")
	writeRun(t, dir, recs, map[string]any{"rate": 10.0, "latency-from": "scheduled"}, true)
	s, err := analysis.LoadRunSamples(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "run-a" || s.Dir != dir || s.Requests() != 298 || s.Profile["rate"] != 10.0 {
		t.Errorf("samples %s in %s: %d requests, profile %v", s.Name, s.Dir, s.Requests(), s.Profile)
	}
	ok := 0
	for _, r := range recs[2:] {
		if r.Error == nil {
			ok++
		}
	}
	if s.OK() != ok {
		t.Errorf("OK() = %d, want %d", s.OK(), ok)
	}
	// The run counted latency from the scheduled send: so does compare.
	sum, _, err := analysis.LoadSummary(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := analysis.Compare(s, []*analysis.RunSamples{s}, analysis.CompareOptions{Resamples: 100, Metrics: []string{"ttft.p99", "goodput.ratio"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := float64(c.Rows[0].Baseline), sum.Metrics["ttft"].P99; math.Abs(got-want) > 1e-3*want {
		t.Errorf("ttft.p99 %v, summary %v", got, want)
	}
	// --goodput recomputes which requests are good.
	g, _ := analysis.ParseGoodput("ttft<=1ms")
	s2, err := analysis.LoadRunSamples(dir, g)
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := analysis.Compare(s2, []*analysis.RunSamples{s2}, analysis.CompareOptions{Resamples: 100, Metrics: []string{"goodput.ratio"}})
	if c2.Rows[0].Baseline != 0 || c.Rows[1].Baseline == 0 {
		t.Errorf("goodput ratio %v with ttft<=1ms, %v from slo_ok", c2.Rows[0].Baseline, c.Rows[1].Baseline)
	}
	// Without g, the run's own goodput conditions (run.json) decide.
	own := filepath.Join(t.TempDir(), "own")
	writeRun(t, own, recs, map[string]any{"rate": 10.0, "goodput": "ttft<=1ms"}, false)
	s3, err := analysis.LoadRunSamples(own, nil)
	if err != nil {
		t.Fatal(err)
	}
	c3, _ := analysis.Compare(s3, []*analysis.RunSamples{s3}, analysis.CompareOptions{Resamples: 100, Metrics: []string{"goodput.ratio"}})
	if c3.Rows[0].Baseline != 0 {
		t.Errorf("goodput ratio %v under run.json's ttft<=1ms", c3.Rows[0].Baseline)
	}
	bad := filepath.Join(t.TempDir(), "bad")
	writeRun(t, bad, recs[:10], map[string]any{"goodput": "ttft<=1"}, false)
	if _, err := analysis.LoadRunSamples(bad, nil); err == nil || !strings.Contains(err.Error(), "run.json: goodput: ttft<=1") {
		t.Errorf("a malformed goodput in run.json: %v", err)
	}
	if _, err := analysis.LoadRunSamples(t.TempDir(), nil); err == nil {
		t.Error("a directory without requests.jsonl: no error")
	}
}

// TestCompareWarnings: a saturated generator and a missing run.json are
// said.
func TestCompareWarnings(t *testing.T) {
	recs := analysistest.BaseSynth().Records(rand.New(rand.NewPCG(9, 0)), 200)
	for _, r := range recs {
		r.LagMS = 20 // saturated
	}
	root := t.TempDir()
	writeRun(t, filepath.Join(root, "sat"), recs, map[string]any{"rate": 10.0}, true)
	writeRun(t, filepath.Join(root, "bare"), analysistest.BaseSynth().Records(rand.New(rand.NewPCG(8, 0)), 200), nil, false)
	a, err := analysis.LoadRunSamples(filepath.Join(root, "sat"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := analysis.LoadRunSamples(filepath.Join(root, "bare"), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := analysis.Compare(a, []*analysis.RunSamples{b}, analysis.CompareOptions{Resamples: 100})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(c.Warnings, "\n")
	for _, want := range []string{"sat: the load generator was saturated (lag p99 20", "bare has no run.json"} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
}

// TestCompareEmptySide: a baseline or candidate with no measured request
// that succeeded is an error naming each such run, never "no regression".
func TestCompareEmptySide(t *testing.T) {
	good := analysistest.BaseSynth().Samples("good", 1, 200)
	failed := analysistest.Synth{Rate: 10, TTFTScale: 1, ITLScale: 1, FailRate: 1}.Samples("all-failed", 2, 50)
	warm := analysistest.BaseSynth().Records(analysistest.NewRand(3), 20)
	for _, r := range warm {
		r.Warmup = true
	}
	warmOnly := analysis.NewRunSamples("warmup-only", warm, nil, false)
	none := analysis.NewRunSamples("none", nil, nil, false)
	tests := []struct {
		name  string
		base  *analysis.RunSamples
		cands []*analysis.RunSamples
		want  []string // one line each; nil for no error
	}{
		{"both have evidence", good, []*analysis.RunSamples{analysistest.BaseSynth().Samples("b", 4, 200)}, nil},
		{"empty candidate", good, []*analysis.RunSamples{none}, []string{"candidate run none has no requests: nothing to judge"}},
		{"every candidate request failed", good, []*analysis.RunSamples{failed},
			[]string{"candidate run all-failed has no measured request that succeeded (of 50: 50 failed): nothing to judge"}},
		{"warm-up only candidate", good, []*analysis.RunSamples{warmOnly},
			[]string{"candidate run warmup-only has no measured request that succeeded (of 20: 20 warm-up): nothing to judge; lengthen the run or shorten --warmup (or --warmup-requests)"}},
		{"empty baseline and a second candidate", none, []*analysis.RunSamples{good, failed},
			[]string{"baseline run none has no requests", "candidate run all-failed has no measured request"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := analysis.Compare(tc.base, tc.cands, analysis.CompareOptions{Resamples: 200, Seed: 1})
			if tc.want == nil {
				if err != nil || c == nil {
					t.Fatalf("Compare = %v", err)
				}
				return
			}
			var e *analysis.EmptyRunError
			if !errors.As(err, &e) || c != nil {
				t.Fatalf("Compare = %v, want an EmptyRunError", err)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("error %q: want %d lines", err, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("line %d %q, want it to start with %q", i, lines[i], w)
				}
			}
		})
	}
}
