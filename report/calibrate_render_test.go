package report_test

import (
	"bytes"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
	"github.com/streamgauge/streamgauge/report"
	"github.com/streamgauge/streamgauge/targets/sim"
)

func TestRenderCalibration(t *testing.T) {
	c := &analysis.Calibration{
		Model: sim.CostModel{KVTokens: 426784},
		Sources: []analysis.CalibrationSource{
			{Path: "runs/r4", Kind: "run", Observations: 5081, Requests: 40, Scheduler: "continuous", Concurrency: "client's reconstruction",
				Notes: []string{"KV-cache capacity ≈ 427124 tokens, from 9 scrapes of the server's KV usage"}},
			{Path: "h200.json", Kind: "step-timing", Observations: 20},
		},
		KVTokensSource: "--kv-tokens",
		Params: []analysis.CalibrationParam{
			{Name: "weight_read", Value: 6.977, SE: 0.0032, Unit: "ms", Identifiable: true, Note: "overhead + weight_read: the per-step constant"},
			{Name: "per_token", Value: 29.4, SE: 0.017, Unit: "µs", Identifiable: true},
			{Name: "launch_floor", Unit: "ms", Note: "not identifiable from these runs; set to 0 (no floor)"},
		},
		Residuals:    []analysis.ResidualStats{{Class: analysis.ObsDecodeGap, N: 14351, P50: 0.035, P99: 1.727, Median: 0.002}},
		Worst:        []analysis.WorstPoint{{Label: "r4 request 18 gap 24", MS: 39.93, FitMS: 7.04, Rel: 4.67, Tokens: 1, Decodes: 1, Context: 636}},
		Warnings:     []string{"launch floors are not identifiable"},
		Observations: 14352, Downweighted: 3846,
	}
	var b bytes.Buffer
	if err := report.RenderCalibration(&b, c); err != nil {
		t.Fatal(err)
	}
	analysistest.Golden(t, *update, "calibrate.golden.txt", b.Bytes())
}
