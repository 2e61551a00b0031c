package report

import (
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
)

// TestNoSamplesIsADash: a metric with no samples shows NoValue in the HTML
// page's table and cards, not 0.00.
func TestNoSamplesIsADash(t *testing.T) {
	s := &analysis.Summary{Metrics: map[string]analysis.Stats{}}
	for _, m := range analysis.Metrics {
		s.Metrics[m] = analysis.Stats{}
	}
	for _, r := range statRows(s) {
		for _, v := range []string{r.Min, r.Mean, r.P50, r.P90, r.P95, r.P99, r.P999, r.Max} {
			if v != analysis.NoValue {
				t.Errorf("%s: %q, want %q", r.Metric, v, analysis.NoValue)
			}
		}
	}
	for _, c := range summaryCards(s) {
		if strings.Contains(c.Key, "p99") && c.Value != analysis.NoValue {
			t.Errorf("card %s: %q, want %q", c.Key, c.Value, analysis.NoValue)
		}
		if strings.Contains(c.Value+c.Sub, "0.00 ms") {
			t.Errorf("card %s: %q %q", c.Key, c.Value, c.Sub)
		}
	}
}

func TestReadableDuration(t *testing.T) {
	for _, tc := range []struct {
		key  string
		v    any
		want string
	}{
		{"timeout", 300e9, "5m"},
		{"connect-timeout", 10e9, "10s"},
		{"idle-timeout", 1.5e9, "1.5s"},
		{"duration", 5400e9, "1h30m"},
		{"duration", 3600e9, "1h"},
		{"warmup", 250e6, "250ms"},
		{"rate", 20.0, "20"},
	} {
		if got := settingValue(tc.key, tc.v); got != tc.want {
			t.Errorf("settingValue(%s, %v) = %q, want %q", tc.key, tc.v, got, tc.want)
		}
	}
}
