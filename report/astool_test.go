package report_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
	"github.com/streamgauge/streamgauge/report"
)

func toolReport(t *testing.T, tool string) *analysis.ToolReport {
	t.Helper()
	a, err := analysis.NewToolAccumulator(tool)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range analysistest.ToolFixture() {
		if err := a.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	return a.Report()
}

// TestWriteToolTableGolden pins the report --as table of every tool on the
// hand-computed fixture (analysis/astool_test.go has the arithmetic).
func TestWriteToolTableGolden(t *testing.T) {
	for _, tool := range analysis.ToolNames {
		t.Run(tool, func(t *testing.T) {
			var buf bytes.Buffer
			if err := report.WriteToolTable(&buf, toolReport(t, tool)); err != nil {
				t.Fatal(err)
			}
			analysistest.Golden(t, *update, "astool_"+tool+".golden.txt", buf.Bytes())
		})
	}
}

func TestWriteToolJSON(t *testing.T) {
	rep := toolReport(t, "vllm")
	var buf bytes.Buffer
	if err := report.WriteToolJSON(&buf, rep); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Tool   string
		Theirs struct {
			TTFT *struct{ Mean float64 } `json:"ttft_ms"`
			TPOT *struct{ Mean float64 } `json:"tpot_ms"`
		}
		Differences []struct{ Metric, Why string }
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, buf.Bytes())
	}
	if got.Tool != "vllm" || got.Theirs.TTFT == nil || got.Theirs.TPOT == nil || got.Theirs.TPOT.Mean != 15 {
		t.Errorf("round trip: %+v", got)
	}
	if len(got.Differences) == 0 || got.Differences[0].Why == "" {
		t.Errorf("differences: %+v", got.Differences)
	}
}
