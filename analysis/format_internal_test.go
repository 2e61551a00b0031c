package analysis

import (
	"strings"
	"testing"
)

func TestFixed(t *testing.T) {
	tests := []struct {
		v    float64
		d    int
		want string
	}{
		{39.455, 2, "39.46"}, // binary 39.45499..., as summary.json shows it: 39.455
		{39.445, 2, "39.45"},
		{1.005, 2, "1.01"},
		{0.125, 2, "0.13"},
		{-0.125, 2, "-0.13"},
		{-0.001, 2, "0.00"}, // no "-0.00"
		{9.995, 2, "10.00"},
		{999.95, 1, "1000.0"},
		{0, 2, "0.00"},
		{12, 0, "12"},
		{2.5, 0, "3"},
		{1e21, 2, "1000000000000000000000.00"},
		{5e-324, 2, "0.00"},
	}
	for _, tc := range tests {
		if got := fixed(tc.v, tc.d); got != tc.want {
			t.Errorf("fixed(%v, %d) = %q, want %q", tc.v, tc.d, got, tc.want)
		}
	}
	for _, tc := range []struct {
		v    float64
		want string
	}{{312.44, "312.4"}, {0.67015, "0.6702"}, {12007, "12007"}, {500, "500"}, {0, "0"}, {-0.1702, "-0.1702"}, {99.995, "100"}} {
		if got := fnum(tc.v); got != tc.want {
			t.Errorf("fnum(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

// TestNoSamplesIsADash: a metric with no samples shows NoValue in the HTML
// page's table and cards, not 0.00.
func TestNoSamplesIsADash(t *testing.T) {
	s := &Summary{Metrics: map[string]Stats{}}
	for _, m := range Metrics {
		s.Metrics[m] = Stats{}
	}
	for _, r := range statRows(s) {
		for _, v := range []string{r.Min, r.Mean, r.P50, r.P90, r.P95, r.P99, r.P999, r.Max} {
			if v != NoValue {
				t.Errorf("%s: %q, want %q", r.Metric, v, NoValue)
			}
		}
	}
	for _, c := range summaryCards(s) {
		if strings.Contains(c.Key, "p99") && c.Value != NoValue {
			t.Errorf("card %s: %q, want %q", c.Key, c.Value, NoValue)
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
