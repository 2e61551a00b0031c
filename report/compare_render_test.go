package report_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
	"github.com/streamgauge/streamgauge/report"
)

func TestCompareRender(t *testing.T) {
	base := analysistest.BaseSynth().Samples("main", 1, 400)
	fast := analysistest.Synth{Rate: 10, TTFTScale: 0.8, ITLScale: 1, FailRate: 0.005}.Samples("pr-fast", 2, 400)
	slow := analysistest.Synth{Rate: 10, TTFTScale: 1.3, ITLScale: 1.1, FailRate: 0.03}.Samples("pr-slow", 3, 400)
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
			analysistest.Golden(t, *update, f.golden, buf.Bytes())
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
	base := analysistest.BaseSynth().Samples("base", 1, 200)
	recs := analysistest.BaseSynth().Records(analysistest.NewRand(2), 200)
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
