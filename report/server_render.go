package report

import (
	"fmt"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/internal/plural"
)

// serverRows are the summary table's lines for what the server reported
// (Summary.Server), one per part it reported; none when it reported
// nothing.
func serverRows(s *analysis.Summary) [][2]string {
	sv := s.Server
	if sv == nil {
		return nil
	}
	var rows [][2]string
	if sv.InputTokensCompared > 0 {
		rows = append(rows, [2]string{"server input", fmt.Sprintf("%s of %s differ from ours by more than 5%% (mean %+.1f%%)",
			percent(sv.InputMismatchRatio), plural.Count(int(sv.InputTokensCompared), "request"), 100*sv.InputMeanRelativeDiff)})
	}
	if sv.CachedTokensReported > 0 {
		rows = append(rows, [2]string{"prefix cache", fmt.Sprintf("%s of input tokens cached (%s)",
			percent(sv.CacheHitRatio), plural.Count(int(sv.CachedTokensReported), "request"))})
	}
	if p, ok := sv.Timings[analysis.ServerPrefill]; ok {
		rest := sv.Timings[analysis.ServerTTFTMinusPrefill]
		rows = append(rows, [2]string{"server prefill", fmt.Sprintf("p50 %s, p99 %s; ttft less prefill p50 %s, p99 %s",
			withMS(p, p.P50), withMS(p, p.P99), withMS(rest, rest.P50), withMS(rest, rest.P99))})
	}
	return rows
}
