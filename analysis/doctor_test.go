package analysis_test

import (
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
)

func doctorProbe(i int, level float64, pass bool) analysis.DoctorProbe {
	return analysis.DoctorProbe{Index: i, Level: level, Pass: pass, OK: 10, WallS: 10, ClientCPUS: 5, ServerCPUS: 5, LagP99: 2, TTFTErrP50: 0.3}
}

func TestDoctorConclude(t *testing.T) {
	for _, tc := range []struct {
		name     string
		mode     string
		planned  float64
		probes   []analysis.DoctorProbe
		ceiling  float64
		within   bool
		atLeast  bool
		alone    float64
		shards   int
		verdict  string
		advice   string
		noAdvice bool
	}{
		{name: "headroom", planned: 100, probes: []analysis.DoctorProbe{doctorProbe(1, 100, true), doctorProbe(2, 200, true), doctorProbe(3, 400, false), doctorProbe(4, 283, true), doctorProbe(5, 336, false)},
			ceiling: 283, within: true, alone: 377, shards: 1,
			verdict: "this machine can drive up to 283 req/s of this workload with ttft error under 1.00 ms (lag p99 2.00 ms)", advice: "planned 100 req/s is within it: 2.8x headroom"},
		{name: "above: shard", planned: 400, probes: []analysis.DoctorProbe{doctorProbe(1, 400, false), doctorProbe(2, 200, true), doctorProbe(3, 283, false)},
			ceiling: 200, alone: 267, shards: 2,
			verdict: "this machine can drive up to 200 req/s", advice: "planned 400 req/s is above it: this machine would distort the numbers; shard the load over 2 machines (each runs --shard i/2 with the same --seed and --start-at, i = 0..1; see docs/distributed.md)"},
		{name: "a pass above a failure is not trusted", planned: 10, probes: []analysis.DoctorProbe{doctorProbe(1, 10, true), doctorProbe(2, 20, false), doctorProbe(3, 14, true), doctorProbe(4, 40, true)},
			ceiling: 14, within: true, alone: 18.7, shards: 1, verdict: "up to 14 req/s"},
		{name: "every probe passed", planned: 10, probes: []analysis.DoctorProbe{doctorProbe(1, 10, true), doctorProbe(2, 20, true)},
			ceiling: 20, within: true, atLeast: true, shards: 1, verdict: "this machine can drive at least 20 req/s"},
		{name: "none passed", planned: 10, probes: []analysis.DoctorProbe{doctorProbe(1, 10, false), doctorProbe(2, 5, false)},
			verdict: "this machine cannot drive even 5 req/s of this workload", advice: "the client is the bottleneck at every level probed"},
		{name: "users", mode: "users", planned: 64, probes: []analysis.DoctorProbe{doctorProbe(1, 64, true), doctorProbe(2, 128, false), doctorProbe(3, 96, true)},
			ceiling: 96, within: true, alone: 128, shards: 1, verdict: "this machine can drive up to 96 concurrent users of this workload with ttft error under 1.00 ms (ttft error p50 0.30 ms)"},
		{name: "no probes", planned: 10, verdict: "no probe ran", noAdvice: true},
		{name: "every request failed", planned: 10, probes: []analysis.DoctorProbe{
			{Index: 1, Level: 10, Failed: 40, Why: "40 requests failed"}, {Index: 2, Level: 5, Failed: 20, Why: "20 requests failed"}},
			verdict: "no probe completed a request: the ceiling is unknown (probe 1: 40 requests failed)", advice: "the requests fail against doctor's own simulator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := &analysis.Doctor{Mode: cmpOr(tc.mode, "rate"), Planned: tc.planned, CPUs: 2, Probes: tc.probes,
				Limits: analysis.DoctorLimits{MaxTTFTErrorMS: 1, MaxLagMS: 5}}
			d.Conclude()
			if d.Ceiling != tc.ceiling || d.Within != tc.within || d.AtLeast != tc.atLeast || d.AloneEstimate != tc.alone || d.Shards() != tc.shards {
				t.Errorf("ceiling %g within %v at least %v alone %g shards %d; want %g %v %v %g %d",
					d.Ceiling, d.Within, d.AtLeast, d.AloneEstimate, d.Shards(), tc.ceiling, tc.within, tc.atLeast, tc.alone, tc.shards)
			}
			if !strings.Contains(d.Verdict, tc.verdict) {
				t.Errorf("verdict %q, want it to contain %q", d.Verdict, tc.verdict)
			}
			if !strings.Contains(d.Advice, tc.advice) || tc.noAdvice && d.Advice != "" {
				t.Errorf("advice %q, want it to contain %q", d.Advice, tc.advice)
			}
		})
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func TestDoctorProbeJudge(t *testing.T) {
	lim := analysis.DoctorLimits{MaxTTFTErrorMS: 1, MaxLagMS: 5}
	ok := analysis.DoctorProbe{OK: 10, Truth: &analysis.TruthErrors{Requests: 10}, TTFTErrP50: 0.5, LagP99: 4}
	for _, tc := range []struct {
		name string
		edit func(*analysis.DoctorProbe)
		open bool
		why  string
	}{
		{"pass", func(*analysis.DoctorProbe) {}, true, ""},
		{"error", func(p *analysis.DoctorProbe) { p.Error = "boom" }, true, "error: boom"},
		{"failed", func(p *analysis.DoctorProbe) { p.Failed = 2 }, true, "2 requests failed"},
		{"unmatched", func(p *analysis.DoctorProbe) { p.Truth = &analysis.TruthErrors{Unmatched: 3} }, true, "no request matched"},
		{"some unmatched", func(p *analysis.DoctorProbe) { p.Truth = &analysis.TruthErrors{Requests: 9, Unmatched: 1} }, true, "1 of 10 requests did not match"},
		{"ttft", func(p *analysis.DoctorProbe) { p.TTFTErrP50 = 1 }, true, "ttft error p50 1.00 ms >= 1.00 ms"},
		{"lag", func(p *analysis.DoctorProbe) { p.LagP99 = 5 }, true, "lag p99 5.00 ms >= 5.00 ms"},
		{"lag, closed loop", func(p *analysis.DoctorProbe) { p.LagP99 = 50 }, false, ""},
	} {
		p := ok
		tc.edit(&p)
		p.Judge(lim, tc.open)
		if p.Pass != (tc.why == "") || !strings.Contains(p.Why, tc.why) || (tc.why == "" && p.Why != "") {
			t.Errorf("%s: pass %v why %q, want %q", tc.name, p.Pass, p.Why, tc.why)
		}
	}
}
