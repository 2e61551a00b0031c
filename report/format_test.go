package report_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/report"
)

// oneValueSummary has a ttft p99 of 39.455 ms (as summary.json writes it),
// which binary rounding prints as 39.45 and decimal rounding as 39.46, and
// an itl with no samples.
func oneValueSummary() *analysis.Summary {
	s := &analysis.Summary{Metrics: map[string]analysis.Stats{}, Requests: analysis.Counts{OK: 10, Total: 10}, DurationS: 1}
	for _, m := range analysis.Metrics {
		s.Metrics[m] = analysis.Stats{Count: 10, Min: 1, Mean: 20, P50: 20, P90: 30, P95: 35, P99: 39.455, P999: 39.455, Max: 39.455}
	}
	s.Metrics["itl"] = analysis.Stats{}
	s.Metrics["icl"] = analysis.Stats{}
	return s
}

// TestOneValuePrintsTheSameEverywhere: the table, the SLO line, markdown
// and JUnit print one value with one rounding, and a metric with no
// samples as "–" in each.
func TestOneValuePrintsTheSameEverywhere(t *testing.T) {
	s := oneValueSummary()
	slos, err := analysis.ParseSLOs([]string{"ttft.p99<500ms", "itl.p99<50ms"})
	if err != nil {
		t.Fatal(err)
	}
	res := analysis.EvaluateSLOs(s, slos)
	render := map[string]func(*bytes.Buffer) error{
		"table":    func(b *bytes.Buffer) error { return report.WriteTable(b, s) },
		"slo":      func(b *bytes.Buffer) error { return report.WriteSLOTable(b, res) },
		"markdown": func(b *bytes.Buffer) error { return report.WriteMarkdown(b, s, res) },
		"junit":    func(b *bytes.Buffer) error { return report.WriteJUnit(b, "s", res) },
	}
	for name, f := range render {
		var b bytes.Buffer
		if err := f(&b); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !strings.Contains(out, "39.46") || strings.Contains(out, "39.45 ") || strings.Contains(out, "39.455") {
			t.Errorf("%s: ttft p99 is not 39.46:\n%s", name, out)
		}
	}
	var b bytes.Buffer
	report.WriteTable(&b, s)
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.Contains(l, " itl ") && (strings.Contains(l, "0.00") || strings.Count(l, analysis.NoValue) != 5) {
			t.Errorf("table row of a metric with no samples: %q", l)
		}
	}
	b.Reset()
	report.WriteMarkdown(&b, s, nil)
	if !strings.Contains(b.String(), "| itl | 0 | – | – | – | – | – | – |") {
		t.Errorf("markdown row of a metric with no samples:\n%s", b.String())
	}
}

// TestSLOVerdictGrammar: one SLO is "1 SLO", never "all 1 SLOs".
func TestSLOVerdictGrammar(t *testing.T) {
	s := oneValueSummary()
	tests := []struct {
		exprs []string
		want  string
	}{
		{[]string{"ttft.p99<500ms"}, "✅ 1 SLO held"},
		{[]string{"ttft.p99<500ms", "ttft.p50<500ms"}, "✅ all 2 SLOs held"},
		{[]string{"ttft.p99<5ms"}, "❌ 1 of 1 SLO failed"},
		{[]string{"ttft.p99<5ms", "ttft.p50<500ms"}, "❌ 1 of 2 SLOs failed"},
	}
	for _, tc := range tests {
		slos, err := analysis.ParseSLOs(tc.exprs)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		report.WriteMarkdown(&b, s, analysis.EvaluateSLOs(s, slos))
		if first := strings.SplitN(b.String(), "\n", 2)[0]; first != "### streamgauge: "+tc.want {
			t.Errorf("%v: heading %q, want %q", tc.exprs, first, "### streamgauge: "+tc.want)
		}
	}
}

// TestDurationSettingsCoverTheProfile: every duration of a profile shows
// as a duration in the HTML settings table, not as nanoseconds.
func TestDurationSettingsCoverTheProfile(t *testing.T) {
	typ := reflect.TypeOf(profiles.Profile{})
	dur := reflect.TypeOf(time.Duration(0))
	for i := range typ.NumField() {
		f := typ.Field(i)
		if f.Type != dur {
			continue
		}
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !report.DurationSetting(key) {
			t.Errorf("profile key %s (%s) is a duration, but DurationSetting(%q) is false", key, f.Name, key)
		}
	}
	if report.DurationSetting("rate") {
		t.Error("DurationSetting(rate) is true")
	}
}
