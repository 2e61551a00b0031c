package analysis_test

import (
	"math"
	"reflect"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/results"
)

func ip(v int) *int { return &v }

// ok is a successful request with ttft ms, our input count in and the
// server's account set by with.
func ok(ttft float64, in int, with func(*results.Record)) *results.Record {
	r := &results.Record{TTFTMS: results.Ms(ttft), E2EMS: ttft + 10, InputTokens: in, OutputTokens: 2, SLOOK: true}
	if with != nil {
		with(r)
	}
	return r
}

// TestServerAccount: the summary's server block is built only from what the
// server reported, and says how many requests each part rests on.
func TestServerAccount(t *testing.T) {
	tests := []struct {
		name string
		recs []*results.Record
		want *analysis.ServerAccount
	}{
		{"nothing reported", []*results.Record{ok(10, 100, nil), ok(12, 100, nil)}, nil},
		{
			"input counts: one of three beyond 5%, mean signed difference",
			[]*results.Record{
				ok(10, 100, func(r *results.Record) { r.ServerInputTokens = ip(100) }),
				ok(10, 100, func(r *results.Record) { r.ServerInputTokens = ip(104) }),
				ok(10, 100, func(r *results.Record) { r.ServerInputTokens = ip(112) }),
				ok(10, 100, nil), // not reported: not counted
			},
			&analysis.ServerAccount{InputTokensReported: 3, InputTokensCompared: 3, InputMismatchRatio: 1.0 / 3, InputMeanRelativeDiff: 0.053},
		},
		{
			"an input count taken from the server is not compared with itself",
			[]*results.Record{ok(10, 77, func(r *results.Record) {
				r.ServerInputTokens, r.InputTokensSource = ip(77), results.InputFromServer
			})},
			&analysis.ServerAccount{InputTokensReported: 1},
		},
		{
			"cache hits: summed tokens over requests reporting both",
			[]*results.Record{
				ok(10, 1000, func(r *results.Record) { r.ServerInputTokens, r.ServerCachedTokens = ip(1000), ip(900) }),
				ok(10, 3000, func(r *results.Record) { r.ServerInputTokens, r.ServerCachedTokens = ip(3000), ip(0) }),
				ok(10, 5000, func(r *results.Record) { r.ServerInputTokens = ip(5000) }), // no cache report
			},
			&analysis.ServerAccount{InputTokensReported: 3, InputTokensCompared: 3, CachedTokensReported: 2, CacheHitRatio: 900.0 / 4000},
		},
		{
			"timings and the rest of ttft, floored at zero",
			[]*results.Record{
				ok(50, 10, func(r *results.Record) {
					r.ServerPrefillMS, r.ServerDecodeMS, r.ServerRequestID = results.Ms(20), results.Ms(100), "id-1"
				}),
				ok(5, 10, func(r *results.Record) { r.ServerPrefillMS = results.Ms(8) }), // server clock says more than ours
			},
			&analysis.ServerAccount{RequestIDsReported: 1, Timings: map[string]analysis.Stats{
				analysis.ServerPrefill:          {Count: 2, Min: 8, Mean: 14, P50: 8, P90: 20, P95: 20, P99: 20, P999: 20, Max: 20},
				analysis.ServerDecode:           {Count: 1, Min: 100, Mean: 100, P50: 100, P90: 100, P95: 100, P99: 100, P999: 100, Max: 100},
				analysis.ServerTTFTMinusPrefill: {Count: 2, Min: 0, Mean: 15, P50: 0, P90: 30, P95: 30, P99: 30, P999: 30, Max: 30},
			}},
		},
		{
			"failed requests are left out",
			[]*results.Record{{Error: &results.Error{Kind: results.KindStream, Message: "x"}, ServerInputTokens: ip(5), ServerPrefillMS: results.Ms(3)}},
			nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := analysis.NewAccumulator()
			for _, r := range tc.recs {
				_ = a.Append(r)
			}
			s, err := a.Summary(analysis.RunMeta{})
			if err != nil {
				t.Fatal(err)
			}
			got := s.Server
			if (got == nil) != (tc.want == nil) {
				t.Fatalf("server = %+v, want %+v", got, tc.want)
			}
			if got == nil {
				return
			}
			if math.Abs(got.InputMismatchRatio-tc.want.InputMismatchRatio) > 1e-12 || math.Abs(got.CacheHitRatio-tc.want.CacheHitRatio) > 1e-12 {
				t.Errorf("ratios %v %v, want %v %v", got.InputMismatchRatio, got.CacheHitRatio, tc.want.InputMismatchRatio, tc.want.CacheHitRatio)
			}
			g, w := *got, *tc.want
			g.InputMismatchRatio, g.CacheHitRatio, w.InputMismatchRatio, w.CacheHitRatio = 0, 0, 0, 0
			// Histogram quantiles hold 3 significant digits.
			for name, ws := range w.Timings {
				gs := g.Timings[name]
				if gs.Count != ws.Count || !close3(gs.P50, ws.P50) || !close3(gs.P99, ws.P99) || !close3(gs.Max, ws.Max) || !close3(gs.Mean, ws.Mean) {
					t.Errorf("%s = %+v, want %+v", name, gs, ws)
				}
			}
			if len(g.Timings) != len(w.Timings) {
				t.Errorf("timings %v, want %v", g.Timings, w.Timings)
			}
			g.Timings, w.Timings = nil, nil
			if !reflect.DeepEqual(g, w) {
				t.Errorf("server = %+v\nwant %+v", g, w)
			}
		})
	}
}

// close3 reports whether a is b to the histograms' precision.
func close3(a, b float64) bool { return math.Abs(a-b) <= 1e-3*math.Max(math.Abs(b), 1) }

// TestServerSLOs: the server.* shares judge the summary's server block.
func TestServerSLOs(t *testing.T) {
	a := analysis.NewAccumulator()
	_ = a.Append(ok(10, 100, func(r *results.Record) { r.ServerInputTokens, r.ServerCachedTokens = ip(120), ip(60) }))
	_ = a.Append(ok(10, 100, func(r *results.Record) { r.ServerInputTokens, r.ServerCachedTokens = ip(100), ip(20) }))
	s, err := a.Summary(analysis.RunMeta{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		expr  string
		pass  bool
		value float64
	}{
		{"server.input_mismatch_ratio<5%", false, 0.5},
		{"server.input_mismatch_ratio<=50%", true, 0.5},
		{"server.cache_hit_ratio>=30%", true, 80.0 / 220},
		{"server.cache_hit_ratio>=0.5", false, 80.0 / 220},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			slo, err := analysis.ParseSLO(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			r := slo.Eval(s)
			if r.Pass != tc.pass || math.Abs(r.Value-tc.value) > 1e-12 || r.Note != "" || r.Unit != "ratio" {
				t.Errorf("Eval = %+v, want pass %v value %v", r, tc.pass, tc.value)
			}
		})
	}
}
