package analysistest

import (
	"math"

	"github.com/streamgauge/streamgauge/analysis"
)

// Sweep is a rate sweep named name whose latency climbs past capacity
// req/s: stages at 4, 8, 16, 11.3 and 13.4 req/s (in the order the search
// ran them), each judged by ttft.p99<100ms; slo is the sweep's own list.
func Sweep(name string, capacity float64, slo ...string) *analysis.Sweep {
	s := &analysis.Sweep{Tool: "streamgauge", Name: name, Mode: analysis.SweepRate, Auto: true, Precision: 0.05, SLO: slo, StageDurationS: 10}
	for i, level := range []float64{4, 8, 16, 11.3, 13.4} {
		pass := level <= capacity
		ttft := 20.0
		if !pass {
			ttft = 20 * level
		}
		thr := math.Min(level, capacity)
		st := analysis.SweepStage{Index: i + 1, Dir: "stage", Level: level, OfferedRate: level, AchievedRate: level,
			Throughput: analysis.Throughput{RequestsPerS: thr, OutputTokensPerS: 100 * thr},
			Metrics: map[string]analysis.Stats{
				"ttft": {Count: 100, P50: ttft, P99: 2 * ttft}, "itl": {Count: 1000, P50: 7, P99: 9},
				"tpot": {Count: 100, P50: 7, P99: 8}, "e2e": {Count: 100, P50: ttft + 500, P99: 2*ttft + 500},
			},
			SLO:  []analysis.SLOResult{{Expr: "ttft.p99<100ms", Value: 2 * ttft, Pass: 2*ttft < 100, Threshold: 100, Unit: "ms"}},
			Pass: pass, SLOPass: pass}
		if !pass {
			st.Saturation = analysis.Saturation{Saturated: true, Reason: "ttft from the scheduled send rose"}
		}
		s.Stages = append(s.Stages, st)
	}
	s.Capacity = analysis.FindCapacity(s.Stages)
	return s
}
