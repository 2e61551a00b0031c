package report_test

import (
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/report"
)

// TestServerTableRows: the terminal table shows the server's account only
// for the parts it reported.
func TestServerTableRows(t *testing.T) {
	tests := []struct {
		name      string
		server    *analysis.ServerAccount
		want, not []string
	}{
		{"none", nil, nil, []string{"server input", "prefix cache", "server prefill"}},
		{"input only", &analysis.ServerAccount{InputTokensReported: 4, InputTokensCompared: 4, InputMismatchRatio: 0.25, InputMeanRelativeDiff: 0.031},
			[]string{"server input", "25.00% of 4 requests differ from ours by more than 5% (mean +3.1%)"}, []string{"prefix cache", "server prefill"}},
		{"cache and prefill", &analysis.ServerAccount{InputTokensReported: 2, CachedTokensReported: 2, CacheHitRatio: 0.5, Timings: map[string]analysis.Stats{
			analysis.ServerPrefill:          {Count: 2, P50: 8, P99: 20},
			analysis.ServerTTFTMinusPrefill: {Count: 2, P50: 1, P99: 30},
		}}, []string{"prefix cache", "50.00% of input tokens cached (2 requests)", "server prefill", "ttft less prefill"}, []string{"server input"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := report.WriteTable(&b, &analysis.Summary{Metrics: map[string]analysis.Stats{}, Server: tc.server}); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("table lacks %q:\n%s", w, b.String())
				}
			}
			for _, n := range tc.not {
				if strings.Contains(b.String(), n) {
					t.Errorf("table has %q:\n%s", n, b.String())
				}
			}
		})
	}
}
