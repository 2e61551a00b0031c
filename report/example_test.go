package report_test

import (
	"fmt"
	"os"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/report"
)

// Computing and rendering are two steps: analysis judges the SLOs against
// a summary, report prints the verdict.
func ExampleWriteSLOTable() {
	sum := &analysis.Summary{Metrics: map[string]analysis.Stats{
		"ttft": {Count: 200, P50: 120.5, P99: 312.43},
		"itl":  {Count: 4000, P50: 9.8, P99: 61.2},
	}}
	slos, err := analysis.ParseSLOs([]string{"ttft.p99<500ms", "itl.p99<50ms"})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := report.WriteSLOTable(os.Stdout, analysis.EvaluateSLOs(sum, slos)); err != nil {
		fmt.Println(err)
	}
	// Output:
	// ✓ ttft.p99<500ms  observed 312.43 ms (margin 187.57 ms)
	// ✗ itl.p99<50ms    observed 61.20 ms (margin -11.20 ms)
	// SLOs: 1 passed, 1 failed
}
