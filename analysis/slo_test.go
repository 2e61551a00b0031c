package analysis_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
)

func TestParseSLO(t *testing.T) {
	tests := []struct {
		expr      string
		metric    string
		stat      string
		op        analysis.Op
		threshold float64 // in the summary's unit
		kind      analysis.MetricKind
		canonical string
	}{
		{"ttft.p99<500ms", "ttft", "p99", analysis.OpLT, 500, analysis.KindLatency, "ttft.p99<500ms"},
		{"itl.p95<=40ms", "itl", "p95", analysis.OpLE, 40, analysis.KindLatency, "itl.p95<=40ms"},
		{"tpot.p50<25ms", "tpot", "p50", analysis.OpLT, 25, analysis.KindLatency, "tpot.p50<25ms"},
		{"e2e.max<30s", "e2e", "max", analysis.OpLT, 30000, analysis.KindLatency, "e2e.max<30s"},
		{"lag.p99<5ms", "lag", "p99", analysis.OpLT, 5, analysis.KindLatency, "lag.p99<5ms"},
		{"ttfb.p99.9<1s", "ttfb", "p99.9", analysis.OpLT, 1000, analysis.KindLatency, "ttfb.p99.9<1s"},
		{"ttfo.mean>=10us", "ttfo", "mean", analysis.OpGE, 0.01, analysis.KindLatency, "ttfo.mean>=10us"},
		{"icl.min>2µs", "icl", "min", analysis.OpGT, 0.002, analysis.KindLatency, "icl.min>2us"},
		{"e2e.p90==1.5s", "e2e", "p90", analysis.OpEQ, 1500, analysis.KindLatency, "e2e.p90==1.5s"},
		{"  ttft.p99 <= 0.5 s  ", "ttft", "p99", analysis.OpLE, 500, analysis.KindLatency, "ttft.p99<=0.5s"},
		{"ttft.p99<5e2ms", "ttft", "p99", analysis.OpLT, 500, analysis.KindLatency, "ttft.p99<500ms"},
		{"ttft.p99<.25s", "ttft", "p99", analysis.OpLT, 250, analysis.KindLatency, "ttft.p99<0.25s"},
		{"error_rate<1%", "error_rate", "", analysis.OpLT, 0.01, analysis.KindShare, "error_rate<1%"},
		{"error_rate<0.01", "error_rate", "", analysis.OpLT, 0.01, analysis.KindShare, "error_rate<0.01"},
		{"error_rate==0", "error_rate", "", analysis.OpEQ, 0, analysis.KindShare, "error_rate==0"},
		{"goodput.ratio>=0.95", "goodput.ratio", "", analysis.OpGE, 0.95, analysis.KindShare, "goodput.ratio>=0.95"},
		{"goodput.ratio>=95%", "goodput.ratio", "", analysis.OpGE, 0.95, analysis.KindShare, "goodput.ratio>=95%"},
		{"token_count_mismatch_ratio<5%", "token_count_mismatch_ratio", "", analysis.OpLT, 0.05, analysis.KindShare, "token_count_mismatch_ratio<5%"},
		{"server.input_mismatch_ratio<5%", "server.input_mismatch_ratio", "", analysis.OpLT, 0.05, analysis.KindShare, "server.input_mismatch_ratio<5%"},
		{"server.cache_hit_ratio>=0.5", "server.cache_hit_ratio", "", analysis.OpGE, 0.5, analysis.KindShare, "server.cache_hit_ratio>=0.5"},
		{"throughput.output_tokens_per_s>=2000", "throughput.output_tokens_per_s", "", analysis.OpGE, 2000, analysis.KindRate, "throughput.output_tokens_per_s>=2000"},
		{"throughput.requests_per_s>5", "throughput.requests_per_s", "", analysis.OpGT, 5, analysis.KindRate, "throughput.requests_per_s>5"},
		{"throughput.input_tokens_per_s>1e4", "throughput.input_tokens_per_s", "", analysis.OpGT, 10000, analysis.KindRate, "throughput.input_tokens_per_s>10000"},
		{"goodput.requests_per_s>=3", "goodput.requests_per_s", "", analysis.OpGE, 3, analysis.KindRate, "goodput.requests_per_s>=3"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			s, err := analysis.ParseSLO(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			if s.Metric != tc.metric || s.Stat != tc.stat || s.Op != tc.op || s.Kind != tc.kind || math.Abs(s.Threshold-tc.threshold) > 1e-12*math.Max(1, tc.threshold) {
				t.Errorf("ParseSLO(%q) = %+v, want metric %s stat %q op %s threshold %v kind %v", tc.expr, s, tc.metric, tc.stat, tc.op, tc.threshold, tc.kind)
			}
			if s.Expr != strings.TrimSpace(tc.expr) {
				t.Errorf("Expr = %q, want the trimmed input", s.Expr)
			}
			if got := s.String(); got != tc.canonical {
				t.Errorf("String() = %q, want %q", got, tc.canonical)
			}
			again, err := analysis.ParseSLO(s.String())
			if err != nil || again.String() != s.String() || again.Threshold != s.Threshold {
				t.Errorf("canonical form %q does not round-trip: %+v, %v", s.String(), again, err)
			}
		})
	}
}

func TestParseSLOErrors(t *testing.T) {
	tests := []struct {
		expr  string
		col   int
		token string
		msg   string // substring of the message
	}{
		{"error_rate.p99<1%", 12, "p99", "error_rate is a rate, it has no percentiles"},
		{"error_rate.mean<1%", 12, "mean", "error_rate is a rate, it has no mean"},
		{"goodput.ratio.p99>0.9", 15, "p99", "goodput.ratio is a ratio, it has no percentiles"},
		{"throughput.requests_per_s.p50>1", 27, "p50", "is a rate per second, it has no percentiles"},
		{"throughput.p99>5", 12, "p99", "throughput has no percentiles"},
		{"throughput>5", 1, "throughput", "throughput needs a field"},
		{"goodput.foo>1", 9, "foo", "goodput has no field foo"},
		{"ttft.p99<500", 10, "500", "500 has no unit; a latency threshold needs us, ms or s (e.g. 500ms)"},
		{"ttft<500ms", 1, "ttft", "name a statistic, e.g. ttft.p99"},
		{"ttft.p75<1ms", 6, "p75", "p75 is not a statistic"},
		{"ttft.<1ms", 6, "", "missing statistic"},
		{"tft.p99<1ms", 1, "tft", "unknown metric tft (did you mean ttft?)"},
		{"TTFT.p99<1ms", 1, "TTFT", "did you mean ttft?"},
		{"latency.p99<1ms", 1, "latency", "unknown metric latency"},
		{"ttft.p99=500ms", 9, "=", "use =="},
		{"ttft.p99=<500ms", 9, "=<", "did you mean <=?"},
		{"ttft.p99!=500ms", 9, "!=", "not an operator"},
		{"ttft.p99 500ms", 10, "500ms", "want an operator"},
		{"ttft.p99", 9, "", "missing operator"},
		{"ttft.p99<", 10, "", "missing threshold"},
		{"ttft.p99<-5ms", 10, "-5ms", "must not be negative"},
		{"ttft.p99<+5ms", 10, "+5ms", "without a sign"},
		{"ttft.p99<fast", 10, "fast", "want a number"},
		{"ttft.p99<500sec", 13, "sec", "sec is not a time unit; want us, ms or s (500sec is 500s: write 500s)"},
		// A unit the threshold does not take is converted, not guessed at
		// by spelling (1m is not 1ms).
		{"e2e.max<1m", 10, "m", "m is not a time unit; want us, ms or s (1m is 60s: write 60s)"},
		{"e2e.max<2h", 10, "h", "(2h is 7200s: write 7200s)"},
		{"e2e.max<1.5min", 12, "min", "(1.5min is 90s: write 90s)"},
		{"itl.p99<500ns", 12, "ns", "(500ns is 0.5us: write 0.5us)"},
		{"itl.p99<20msec", 11, "msec", "(20msec is 20ms: write 20ms)"},
		{"ttft.p99<5mz", 11, "mz", "mz is not a time unit; want us, ms or s (did you mean ms?)"},
		{"ttft.p99<500%", 13, "%", "% is not a time unit"},
		{"ttft.p99<500ms please", 16, "please", "unexpected text"},
		{"ttft.p99<1e999ms", 10, "1e999", "out of range"},
		{"error_rate<5", 12, "5", "between 0 and 1; write 5% or 0.05"},
		{"error_rate<150%", 12, "150%", "over 100%"},
		{"error_rate<5ms", 13, "ms", "not a duration"},
		{"throughput.requests_per_s>5%", 28, "%", "write the number alone"},
		{"", 1, "", "empty SLO"},
		{"<5ms", 1, "<", "want a metric name first"},
		{"ttft.p99<500µ", 13, "µ", "not a time unit"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := analysis.ParseSLO(tc.expr)
			var se *analysis.SLOError
			if !errors.As(err, &se) {
				t.Fatalf("ParseSLO(%q) = %v, want an *SLOError", tc.expr, err)
			}
			if se.Col != tc.col || se.Token != tc.token || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("error at column %d token %q: %q; want column %d token %q, message containing %q", se.Col, se.Token, se.Msg, tc.col, tc.token, tc.msg)
			}
			line := err.Error()
			if strings.Contains(line, "\n") || !strings.HasPrefix(line, tc.expr+": ") {
				t.Errorf("Error() = %q: want one line starting with the expression", line)
			}
			caret := se.Caret()
			lines := strings.Split(caret, "\n")
			if len(lines) != 2 || lines[0] != tc.expr || strings.Index(lines[1], "^") != tc.col-1 {
				t.Errorf("Caret() = %q: want the expression and a caret under column %d", caret, tc.col)
			}
		})
	}
	t.Run("the percentile of a rate, as the CLI prints it", func(t *testing.T) {
		_, err := analysis.ParseSLO("error_rate.p99<1%")
		if want := `error_rate.p99<1%: error_rate is a rate, it has no percentiles (column 12: "p99")`; err.Error() != want {
			t.Errorf("Error() = %q, want %q", err, want)
		}
	})
}

func TestParseSLOs(t *testing.T) {
	slos, err := analysis.ParseSLOs([]string{"ttft.p99<500ms, e2e.max<30s", "error_rate<1%", "itl.p95<=40ms,"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range slos {
		got = append(got, s.Expr)
	}
	if want := "ttft.p99<500ms e2e.max<30s error_rate<1% itl.p95<=40ms"; strings.Join(got, " ") != want {
		t.Errorf("ParseSLOs = %v, want %s", got, want)
	}
	_, err = analysis.ParseSLOs([]string{"ttft.p99<500", "error_rate<1%", "error_rate.p99<1%"})
	if err == nil {
		t.Fatal("no error for two bad expressions")
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "ttft.p99<500:") || !strings.HasPrefix(lines[1], "error_rate.p99<1%:") {
		t.Errorf("errors = %q, want one line per bad expression, in order", err)
	}
}

func TestEvalSLO(t *testing.T) {
	// The fixture: ttft p99 270.079 ms, e2e max 670.207 ms, lag p99
	// 12.007 ms, error rate 20%, goodput ratio 72%, 143.67 output tok/s,
	// 6.67 req/s, tpot over 19 requests.
	s := analysistest.Summarize(t, analysistest.LoadFixture(t), analysistest.OpenMeta())
	tests := []struct {
		expr   string
		pass   bool
		value  float64
		margin float64
		unit   string
	}{
		{"ttft.p99<500ms", true, 270.079, 229.921, "ms"},
		{"ttft.p99<0.25s", false, 270.079, -20.079, "ms"},
		{"ttft.p99>=270.079ms", true, 270.079, 0, "ms"},
		{"ttft.p99>270.079ms", false, 270.079, 0, "ms"},
		{"ttft.p99==270.079ms", true, 270.079, 0, "ms"},
		{"ttft.p99==270ms", false, 270.079, -0.079, "ms"},
		{"e2e.max<=1s", true, 670.207, 329.793, "ms"},
		{"lag.p99<5ms", false, 12.007, -7.007, "ms"},
		{"error_rate<1%", false, 0.2, -0.19, "ratio"},
		{"error_rate<=0.2", true, 0.2, 0, "ratio"},
		{"goodput.ratio>=0.7", true, 0.72, 0.02, "ratio"},
		{"throughput.requests_per_s>5", true, 20.0 / 3, 20.0/3 - 5, "req/s"},
		{"throughput.output_tokens_per_s>=2000", false, 431.0 / 3, 431.0/3 - 2000, "tok/s"},
		{"goodput.requests_per_s>=6", true, 6, 0, "req/s"},
		{"token_count_mismatch_ratio<50%", true, 0.4, 0.1, "ratio"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			slo, err := analysis.ParseSLO(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			r := slo.Eval(s)
			if r.Expr != tc.expr || r.Pass != tc.pass || !near(r.Value, tc.value) || math.Abs(r.Margin-tc.margin) > 1e-9 || r.Unit != tc.unit || r.Note != "" {
				t.Errorf("Eval = %+v, want pass %v value %v margin %v unit %s", r, tc.pass, tc.value, tc.margin, tc.unit)
			}
			if r.Op != string(slo.Op) || r.Threshold != slo.Threshold {
				t.Errorf("result op %q threshold %v, want the SLO's %q %v", r.Op, r.Threshold, slo.Op, slo.Threshold)
			}
		})
	}
}

// TestEvalSLONoData: an SLO with nothing to judge fails, saying why; a gate
// must not pass a run that produced no evidence.
func TestEvalSLONoData(t *testing.T) {
	empty, err := analysis.NewAccumulator().Summary(analysis.RunMeta{})
	if err != nil {
		t.Fatal(err)
	}
	onlyFailed := analysistest.Summarize(t, analysistest.LoadFixture(t)[23:25], analysistest.OpenMeta()) // a 5xx and a stream error
	tests := []struct {
		name string
		s    *analysis.Summary
		expr string
		note string
	}{
		{"no requests, latency", empty, "ttft.p99<500ms", "no measured requests"},
		{"no requests, share", empty, "error_rate<1%", "no measured requests"},
		{"no requests, rate", empty, "throughput.requests_per_s<100", "no measured requests"},
		{"every request failed", onlyFailed, "ttft.p99<500ms", "no ttft samples (no request succeeded)"},
		{"no tpot", onlyFailed, "tpot.p50<50ms", "at least 2 output tokens"},
		{"metric missing from a hand-made summary", &analysis.Summary{Requests: analysis.Counts{OK: 1}}, "itl.p50<1ms", "no itl samples"},
		{"server reported no input tokens", onlyFailed, "server.input_mismatch_ratio<5%", "the server reported no input token counts"},
		{"server reported no cached tokens", &analysis.Summary{Requests: analysis.Counts{OK: 1}, Server: &analysis.ServerAccount{InputTokensReported: 1}}, "server.cache_hit_ratio>=10%", "the server reported no cached-token counts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			slo, err := analysis.ParseSLO(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			r := slo.Eval(tc.s)
			if r.Pass || !strings.Contains(r.Note, tc.note) {
				t.Errorf("Eval = %+v, want a failure noting %q", r, tc.note)
			}
		})
	}
	t.Run("the failed run still judges its error rate", func(t *testing.T) {
		slo, _ := analysis.ParseSLO("error_rate<1%")
		if r := slo.Eval(onlyFailed); r.Pass || r.Note != "" || r.Value != 1 {
			t.Errorf("Eval = %+v, want a failure at 100%%", r)
		}
	})
}

func TestApplySLOs(t *testing.T) {
	s := analysistest.Summarize(t, analysistest.LoadFixture(t), analysistest.OpenMeta())
	slos, err := analysis.ParseSLOs([]string{"ttft.p99<500ms", "error_rate<1%"})
	if err != nil {
		t.Fatal(err)
	}
	if analysis.ApplySLOs(s, slos) || s.Pass || len(s.SLO) != 2 || !s.SLO[0].Pass || s.SLO[1].Pass {
		t.Errorf("ApplySLOs: pass %v, slo %+v; want false with the error rate failing", s.Pass, s.SLO)
	}
	if !analysis.ApplySLOs(s, slos[:1]) || !s.Pass || len(s.SLO) != 1 {
		t.Errorf("ApplySLOs of a holding SLO: pass %v, slo %+v", s.Pass, s.SLO)
	}
	if !analysis.ApplySLOs(s, nil) || !s.Pass || s.SLO == nil || len(s.SLO) != 0 {
		t.Errorf("no SLOs: pass %v, slo %#v; want true and an empty list (JSON [])", s.Pass, s.SLO)
	}
	// summary.json keeps expr/value/pass for every consumer.
	analysis.ApplySLOs(s, slos)
	b, _ := json.Marshal(s.SLO[0])
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"expr", "value", "pass", "threshold", "margin", "unit"} {
		if _, ok := m[k]; !ok {
			t.Errorf("SLO result JSON %s lacks %q", b, k)
		}
	}
}

func TestFormatSLOThreshold(t *testing.T) {
	tests := []struct {
		r    analysis.SLOResult
		want string
	}{
		{analysis.SLOResult{Expr: "ttft.p99<500ms", Unit: "ms", Threshold: 500}, "500 ms"},
		{analysis.SLOResult{Expr: "ttft.p99<0.5s", Unit: "ms", Threshold: 500}, "0.5 s"},
		{analysis.SLOResult{Expr: "error_rate<1%", Unit: "ratio", Threshold: 0.01}, "1%"},
		{analysis.SLOResult{Expr: "goodput.ratio>=0.955", Unit: "ratio", Threshold: 0.955}, "95.5%"},
		{analysis.SLOResult{Unit: "tok/s", Threshold: 2000}, "2000 tok/s"},
	}
	for _, tc := range tests {
		if got := analysis.FormatSLOThreshold(tc.r); got != tc.want {
			t.Errorf("FormatSLOThreshold(%s) = %q, want %q", tc.r.Expr, got, tc.want)
		}
	}
}

func TestFormatSLOValue(t *testing.T) {
	tests := []struct {
		r    analysis.SLOResult
		v    float64
		want string
	}{
		// ms as the results table shows it: two decimals, rounded half
		// away from zero on the value's decimal form.
		{analysis.SLOResult{Expr: "ttft.p99<500ms", Unit: "ms"}, 312.44, "312.44 ms"},
		{analysis.SLOResult{Expr: "ttft.p99<500ms", Unit: "ms"}, 39.455, "39.46 ms"},
		{analysis.SLOResult{Expr: "ttft.p99<500ms", Unit: "ms"}, 1.005, "1.01 ms"},
		{analysis.SLOResult{Expr: "ttft.p99<0.5s", Unit: "ms"}, 312.44, "0.3124 s"},
		{analysis.SLOResult{Expr: "ttft.p99<500us", Unit: "ms"}, 0.31244, "312.4 µs"},
		{analysis.SLOResult{Expr: "not parseable", Unit: "ms"}, 1234.6, "1234.60 ms"},
		{analysis.SLOResult{Expr: "error_rate<1%", Unit: "ratio"}, 0.0042, "0.42%"},
		{analysis.SLOResult{Expr: "error_rate<0.01", Unit: "ratio"}, 0.0042, "0.42%"},
		{analysis.SLOResult{Expr: "error_rate<1%", Unit: "ratio"}, 0.075, "7.50%"},
		{analysis.SLOResult{Unit: "tok/s"}, 2314.54, "2314.5 tok/s"},
		{analysis.SLOResult{Unit: "req/s"}, -0.5, "-0.50 req/s"},
		{analysis.SLOResult{Unit: "req/s"}, 0, "0.00 req/s"},
		{analysis.SLOResult{Unit: "req/s"}, -0.001, "0.00 req/s"},
	}
	for _, tc := range tests {
		if got := analysis.FormatSLOValue(tc.r, tc.v); got != tc.want {
			t.Errorf("FormatSLOValue(%s, %v) = %q, want %q", tc.r.Expr, tc.v, got, tc.want)
		}
	}
}
