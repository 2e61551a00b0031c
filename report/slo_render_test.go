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

func fixtureResults(t *testing.T) (*analysis.Summary, []analysis.SLOResult) {
	t.Helper()
	s := analysistest.Summarize(t, analysistest.LoadFixture(t), analysistest.OpenMeta())
	slos, err := analysis.ParseSLOs([]string{
		"ttft.p99<500ms", "e2e.max<0.5s", "lag.p99<5000us", "error_rate<1%", "goodput.ratio>=70%",
		"throughput.output_tokens_per_s>=100", "tpot.p50<25ms",
	})
	if err != nil {
		t.Fatal(err)
	}
	analysis.ApplySLOs(s, slos)
	return s, s.SLO
}

func TestWriteSLOTable(t *testing.T) {
	_, res := fixtureResults(t)
	res = append(res, analysis.SLOResult{Expr: "ttft.p50<1ms", Unit: "ms", Op: "<", Threshold: 1, Note: "no ttft samples (no request succeeded)"})
	var buf bytes.Buffer
	if err := report.WriteSLOTable(&buf, res); err != nil {
		t.Fatal(err)
	}
	analysistest.Golden(t, *update, "slo_table.golden.txt", buf.Bytes())
	out := buf.String()
	for _, want := range []string{
		"✓ ttft.p99<500ms ", "observed 270.08 ms (margin 229.92 ms)",
		"✗ e2e.max<0.5s ", "observed 0.6702 s (margin -0.1702 s)",
		"✗ lag.p99<5000us ", "observed 12007 µs",
		"✗ error_rate<1% ", "observed 20.00% (margin -19.00%)",
		"✗ ttft.p50<1ms ", "no ttft samples",
		"SLOs: 3 passed, 5 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if err := report.WriteSLOTable(failWriter{}, res); err == nil {
		t.Error("WriteSLOTable to a failing writer: no error")
	}
}

func TestWriteSLOJSON(t *testing.T) {
	_, res := fixtureResults(t)
	var buf bytes.Buffer
	if err := report.WriteSLOJSON(&buf, res); err != nil {
		t.Fatal(err)
	}
	analysistest.Golden(t, *update, "slo.golden.json", buf.Bytes())
	var rep report.SLOReport
	if err := json.Unmarshal(buf.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Pass || rep.Passed != 3 || rep.Failed != 4 || len(rep.SLO) != 7 {
		t.Errorf("report pass %v, %d passed, %d failed, %d results", rep.Pass, rep.Passed, rep.Failed, len(rep.SLO))
	}
	buf.Reset()
	report.WriteSLOJSON(&buf, nil)
	if !strings.Contains(buf.String(), `"slo": []`) || !strings.Contains(buf.String(), `"pass": true`) {
		t.Errorf("no results: %s", buf.String())
	}
}
