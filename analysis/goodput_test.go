package analysis_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
	"github.com/streamgauge/streamgauge/results"
)

func TestParseGoodput(t *testing.T) {
	tests := []struct {
		expr, canonical string
	}{
		{"ttft<=500ms,tpot<=50ms", "ttft<=500ms,tpot<=50ms"},
		{" ttft <= 0.5s , tpot<50ms ", "ttft<=0.5s,tpot<50ms"},
		{"e2e<30s", "e2e<30s"},
		{"ttfb<100ms,ttfo<=1s,lag<5ms", "ttfb<100ms,ttfo<=1s,lag<5ms"},
		{"ttft<=500ms,", "ttft<=500ms"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			g, err := analysis.ParseGoodput(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			if g.String() != tc.canonical {
				t.Errorf("String() = %q, want %q", g.String(), tc.canonical)
			}
			if g.Expr != strings.TrimSpace(tc.expr) {
				t.Errorf("Expr = %q", g.Expr)
			}
			again, err := analysis.ParseGoodput(g.String())
			if err != nil || again.String() != g.String() {
				t.Errorf("canonical form does not round-trip: %v, %v", again, err)
			}
		})
	}
	for _, blank := range []string{"", "  "} {
		if g, err := analysis.ParseGoodput(blank); g != nil || err != nil {
			t.Errorf("ParseGoodput(%q) = %v, %v; want no goodput SLO", blank, g, err)
		}
	}
}

func TestParseGoodputErrors(t *testing.T) {
	tests := []struct {
		expr  string
		col   int
		token string
		msg   string
	}{
		{"ttft<=500", 7, "500", "has no unit"},
		{"ttft<=500ms, tpot.p99<=50ms", 19, "p99", "drop .p99"},
		{"ttft<=500ms,itl<5ms", 13, "itl", "itl is not one number per request"},
		{"ttft<=500ms,error_rate<1%", 13, "error_rate", "not a per-request metric"},
		{"e2e<1s , lag>5ms", 13, ">", "upper bound; use < or <="},
		{"ttft>=1ms", 5, ">=", "upper bound"},
		{"tft<=1ms", 1, "tft", "did you mean ttft?"},
		{",", 1, ",", "no conditions"},
		{"ttft", 5, "", "missing operator"},
	}
	for _, tc := range tests {
		t.Run(tc.expr, func(t *testing.T) {
			_, err := analysis.ParseGoodput(tc.expr)
			var se *analysis.SLOError
			if !errors.As(err, &se) {
				t.Fatalf("ParseGoodput(%q) = %v, want an *SLOError", tc.expr, err)
			}
			if se.Expr != strings.TrimSpace(tc.expr) || se.Col != tc.col || se.Token != tc.token || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("error in %q at column %d token %q: %q; want column %d token %q, message containing %q", se.Expr, se.Col, se.Token, se.Msg, tc.col, tc.token, tc.msg)
			}
		})
	}
	t.Run("every bad condition reported", func(t *testing.T) {
		_, err := analysis.ParseGoodput("ttft<=5,tpot<=50ms,e2e>1s")
		if err == nil || strings.Count(err.Error(), "\n") != 1 {
			t.Errorf("err = %v, want two lines", err)
		}
	})
}

func TestGoodputMet(t *testing.T) {
	g, err := analysis.ParseGoodput("ttft<=500ms,tpot<50ms")
	if err != nil {
		t.Fatal(err)
	}
	ok := func(ttft, tpot *float64) *results.Record {
		return &results.Record{TTFTMS: ttft, TPOTMS: tpot, E2EMS: 900, LagMS: 30}
	}
	ms := results.Ms
	tests := []struct {
		name string
		g    *analysis.GoodputSLO
		r    *results.Record
		want bool
	}{
		{"meets both", g, ok(ms(500), ms(49.9)), true},
		{"ttft over", g, ok(ms(500.1), ms(10)), false},
		{"tpot at the strict bound", g, ok(ms(100), ms(50)), false},
		{"single token: no tpot, nothing to be slow at", g, ok(ms(100), nil), true},
		{"no token at all", g, ok(nil, nil), false},
		{"failed", g, &results.Record{TTFTMS: ms(1), TPOTMS: ms(1), Error: &results.Error{Kind: results.KindHTTP5xx}}, false},
		{"nil goodput: any success", nil, ok(ms(1e6), ms(1e6)), true},
		{"nil goodput: failure", nil, &results.Record{Error: &results.Error{Kind: results.KindTimeout}}, false},
		{"from scheduled: lag counts", g.WithLatencyFromScheduled(true), ok(ms(480), ms(10)), false},
		{"from scheduled: tpot does not shift", g.WithLatencyFromScheduled(true), ok(ms(400), ms(49)), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.g.Met(tc.r); got != tc.want {
				t.Errorf("Met = %v, want %v", got, tc.want)
			}
			r := *tc.r
			r.SLOOK = !tc.want
			if err := tc.g.Append(&r); err != nil || r.SLOOK != tc.want {
				t.Errorf("Append: slo_ok %v, err %v; want %v", r.SLOOK, err, tc.want)
			}
		})
	}
	t.Run("every metric", func(t *testing.T) {
		r := &results.Record{TTFBMS: ms(10), TTFTMS: ms(20), TTFOMS: ms(30), TPOTMS: ms(5), E2EMS: 100, LagMS: 1}
		for _, expr := range []string{"ttfb<=10ms", "ttft<=20ms", "ttfo<=30ms", "tpot<=5ms", "e2e<=100ms", "lag<=1ms"} {
			g, err := analysis.ParseGoodput(expr)
			if err != nil {
				t.Fatal(err)
			}
			if !g.Met(r) {
				t.Errorf("%s not met by %+v", expr, r)
			}
			if strict, _ := analysis.ParseGoodput(strings.Replace(expr, "<=", "<", 1)); strict.Met(r) {
				t.Errorf("%s met at its bound", strict)
			}
		}
	})
}

// TestGoodputSummary: marking records before they are accumulated gives
// the summary's goodput.
func TestGoodputSummary(t *testing.T) {
	g, err := analysis.ParseGoodput("ttft<=200ms")
	if err != nil {
		t.Fatal(err)
	}
	a := analysis.NewAccumulator()
	for _, r := range analysistest.LoadFixture(t) {
		g.Mark(r)
		a.Append(r)
	}
	s, err := a.Summary(analysistest.OpenMeta())
	if err != nil {
		t.Fatal(err)
	}
	// ttft is 80 + 10*i ms for the 20 ok requests: 13 are within 200 ms;
	// 25 requests count (20 ok, 5 failed) over 3 s.
	if !near(s.Goodput.Ratio, 13.0/25) || !near(s.Goodput.RequestsPerS, 13.0/3) {
		t.Errorf("goodput = %+v, want ratio 13/25 and 13/3 req/s", s.Goodput)
	}
}
