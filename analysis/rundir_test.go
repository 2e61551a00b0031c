package analysis_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
	"github.com/streamgauge/streamgauge/results"
)

// reportRun is a run directory made by hand (the report package's tests
// use a copy): requests.jsonl is the fixture's 30 records (0 to 5 s),
// run.json names two SLOs, there is no summary.json (a run cut short), and
// server_metrics.jsonl holds vLLM's gauges every 500 ms.
const reportRun = "testdata/report_run"

func TestLoadSummary(t *testing.T) {
	s, _, err := analysis.LoadJudgedSummary(reportRun)
	if err != nil {
		t.Fatal(err)
	}
	want := analysistest.Summarize(t, analysistest.LoadFixture(t), analysis.RunMeta{RequestedRate: 10, OpenLoop: true, CPUIncludesServer: true})
	if s.Requests != want.Requests || s.Metrics["ttft"] != want.Metrics["ttft"] || s.Generator.RequestedRate != 10 || !s.Generator.OpenLoop {
		t.Errorf("rebuilt summary differs from Summarize:\n got %+v\nwant %+v", s, want)
	}
	var exprs []string
	for _, r := range s.SLO {
		exprs = append(exprs, r.Expr)
	}
	if !slices.Equal(exprs, []string{"ttft.p99<300ms", "error_rate<1%"}) || s.Pass {
		t.Errorf("SLOs %v pass=%v, want run.json's two, failed (the fixture's error rate is high)", exprs, s.Pass)
	}

	t.Run("summary.json as written", func(t *testing.T) {
		dir := analysistest.CopyRun(t, reportRun)
		want.SLO = []analysis.SLOResult{{Expr: "e2e.max<1s", Value: 1400, Pass: false}}
		want.Pass = false
		if err := results.WriteJSON(dir, results.SummaryFile, want); err != nil {
			t.Fatal(err)
		}
		got, rebuilt, err := analysis.LoadJudgedSummary(dir)
		if err != nil || rebuilt {
			t.Fatalf("LoadSummary = rebuilt %v, %v", rebuilt, err)
		}
		if len(got.SLO) != 1 || got.SLO[0].Expr != "e2e.max<1s" {
			t.Errorf("SLOs %+v: the summary's own verdict must be kept", got.SLO)
		}
	})
	t.Run("malformed summary.json", func(t *testing.T) {
		dir := analysistest.CopyRun(t, reportRun)
		if err := os.WriteFile(filepath.Join(dir, results.SummaryFile), []byte("{"), 0o644); err != nil {
			t.Fatal(err)
		}
		got, rebuilt, err := analysis.LoadJudgedSummary(dir)
		if err != nil || !rebuilt || got.Requests != want.Requests {
			t.Errorf("LoadSummary = rebuilt %v, %v: want the summary rebuilt from the records", rebuilt, err)
		}
		os.Remove(filepath.Join(dir, results.RequestsFile))
		if _, _, err := analysis.LoadJudgedSummary(dir); err == nil || !strings.Contains(err.Error(), results.SummaryFile) {
			t.Errorf("LoadSummary without records = %v, want an error naming summary.json", err)
		}
	})
}

func TestReadRunDir(t *testing.T) {
	rd, err := analysis.ReadRunDir(reportRun)
	if err != nil {
		t.Fatal(err)
	}
	if rd.Name() != "fixture" || !rd.HasInfo || rd.LatencyFromScheduled() || rd.Info.Seed != 7 {
		t.Errorf("ReadRunDir = %+v", rd)
	}
	if m := rd.Meta(); m.RequestedRate != 10 || !m.OpenLoop || m.CPUSeconds != 0 || !m.CPUIncludesServer {
		t.Errorf("Meta() = %+v, want requested 10 req/s, open loop, CPU unknown, simulator in process", m)
	}
	empty, err := analysis.ReadRunDir(t.TempDir())
	if err != nil || empty.HasInfo || empty.Name() == "" {
		t.Errorf("ReadRunDir of a directory without run.json = %+v, %v", empty, err)
	}
}
