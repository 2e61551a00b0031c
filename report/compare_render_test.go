package report_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/report"
	"github.com/streamgauge/streamgauge/results"
)

// synth is a copy of analysis's compare test generator: the renderers
// are tested on comparisons of the same synthetic runs.
//
// It describes a synthetic run, a stand-in for a server under moderate
// open-loop load:
//
//   - arrivals: Poisson at Rate req/s;
//   - ttft: TTFTScale × (30 ms + 0.2 ms per prompt token + Exp(mean 20 ms)),
//     prompts Uniform(100, 900) tokens: a prefill that grows with the prompt
//     plus a queueing wait (p50 ≈ 150 ms, p99 ≈ 260 ms);
//   - decoding: Uniform(8, 24) output tokens; each request decodes at its
//     own speed, 10 ms × LogNormal(0, 0.1) per token, each gap jittered by
//     ±5% (so a request's itl samples are correlated, as on a real server);
//   - FailRate of the requests fail to connect;
//   - a request is good (slo_ok) when its ttft is within 250 ms.
type synth struct {
	Rate      float64
	TTFTScale float64
	ITLScale  float64
	FailRate  float64
}

var baseSynth = synth{Rate: 10, TTFTScale: 1, ITLScale: 1, FailRate: 0.005}

func (s synth) records(rng *rand.Rand, n int) []*results.Record {
	recs := make([]*results.Record, n)
	var t float64 // ns
	for i := range recs {
		t += rng.ExpFloat64() / s.Rate * 1e9
		in := 100 + rng.IntN(801)
		ttft := s.TTFTScale * (30 + 0.2*float64(in) + 20*rng.ExpFloat64())
		out := 8 + rng.IntN(17)
		speed := s.ITLScale * 10 * math.Exp(0.1*rng.NormFloat64())
		icl := make([]float64, out-1)
		decode := 0.0
		for j := range icl {
			icl[j] = speed * math.Max(0.1, 1+0.05*rng.NormFloat64())
			decode += icl[j]
		}
		e2e := ttft + decode
		r := &results.Record{
			ID: fmt.Sprint(i), ScheduledNS: int64(t), SentNS: int64(t), DoneNS: int64(t + e2e*1e6),
			LagMS: 0.05 * rng.ExpFloat64(), TTFBMS: results.Ms(ttft * 0.9), TTFTMS: results.Ms(ttft), TTFOMS: results.Ms(ttft),
			E2EMS: e2e, TPOTMS: results.Ms(decode / float64(out-1)), ICLMS: icl,
			InputTokens: in, OutputTokens: out, OutputTokensSource: results.SourceUsage, Frames: out, HTTPStatus: 200,
		}
		if rng.Float64() < s.FailRate {
			r.Error = &results.Error{Kind: results.KindConnect, Message: "connection refused"}
			r.TTFBMS, r.TTFTMS, r.TTFOMS, r.TPOTMS, r.ICLMS = nil, nil, nil, nil, nil
			r.E2EMS, r.OutputTokens, r.HTTPStatus, r.Frames = 1, 0, 0, 0
			r.DoneNS = int64(t + 1e6)
		}
		r.SLOOK = r.Error == nil && ttft <= 250
		recs[i] = r
	}
	return recs
}

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0)) }

func (s synth) samples(name string, seed uint64, n int) *analysis.RunSamples {
	return analysis.NewRunSamples(name, s.records(newRand(seed), n), nil, false)
}

func TestCompareRender(t *testing.T) {
	base := baseSynth.samples("main", 1, 400)
	fast := synth{10, 0.8, 1, 0.005}.samples("pr-fast", 2, 400)
	slow := synth{10, 1.3, 1.1, 0.03}.samples("pr-slow", 3, 400)
	slow.Profile, base.Profile = map[string]any{"rate": 12.0}, map[string]any{"rate": 10.0}
	c, err := analysis.Compare(base, []*analysis.RunSamples{fast, slow}, analysis.CompareOptions{Seed: 42, Resamples: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		golden string
		write  func(*bytes.Buffer) error
	}{
		{"compare_table.golden.txt", func(b *bytes.Buffer) error { return report.WriteCompareTable(b, c) }},
		{"compare.golden.md", func(b *bytes.Buffer) error { return report.WriteCompareMarkdown(b, c) }},
		{"compare.golden.json", func(b *bytes.Buffer) error { return report.WriteCompareJSON(b, c) }},
	} {
		t.Run(f.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := f.write(&buf); err != nil {
				t.Fatal(err)
			}
			golden(t, f.golden, buf.Bytes())
		})
	}
	var buf bytes.Buffer
	report.WriteCompareTable(&buf, c)
	out := buf.String()
	for _, want := range []string{"✗ regression", "✓ improvement", "✗ pr-slow regressed:", "✓ pr-fast: no regression", "95% bootstrap interval", "500 resamples, seed 42"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	var back analysis.Comparison
	buf.Reset()
	report.WriteCompareJSON(&buf, c)
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Rows) != len(analysis.CompareMetrics) || len(back.Regressed) != 1 || back.Regressed[0] != "pr-slow" || len(back.Mismatches) != 1 {
		t.Errorf("JSON round trip: %d rows, regressed %v, mismatches %v", len(back.Rows), back.Regressed, back.Mismatches)
	}
	for _, w := range []func() error{
		func() error { return report.WriteCompareTable(failWriter{}, c) },
		func() error { return report.WriteCompareMarkdown(failWriter{}, c) },
		func() error { return report.WriteCompareJSON(failWriter{}, c) },
	} {
		if w() == nil {
			t.Error("rendering to a failing writer: no error")
		}
	}
}

// TestCompareTooFewSamples: a metric no candidate request carries is not
// reported as "no regression" without saying it was not judged.
func TestCompareTooFewSamples(t *testing.T) {
	base := baseSynth.samples("base", 1, 200)
	recs := baseSynth.records(newRand(2), 200)
	for _, r := range recs {
		r.TPOTMS = nil // single-token answers: no tpot
	}
	cand := analysis.NewRunSamples("short", recs, nil, false)
	c, err := analysis.Compare(base, []*analysis.RunSamples{cand}, analysis.CompareOptions{Resamples: 200, Seed: 1, Metrics: []string{"ttft.p50", "tpot.p50", "tpot.p99"}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := report.WriteCompareTable(&b, c); err != nil {
		t.Fatal(err)
	}
	want := "short: no regression in the metrics judged; too few samples to judge tpot.p50, tpot.p99"
	if !strings.Contains(b.String(), want) || !strings.Contains(b.String(), "n/a (too few samples)") {
		t.Errorf("table lacks %q:\n%s", want, b.String())
	}
}
