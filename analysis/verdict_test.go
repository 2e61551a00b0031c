package analysis_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/results"
)

func TestLoadSummaryForGate(t *testing.T) {
	recs := fixtureRecords(t)
	dir := t.TempDir()
	writeRun(t, dir, recs, map[string]any{"rate": 10.0}, true)
	stored, rebuilt, err := analysis.LoadSummary(dir, nil)
	if err != nil || rebuilt {
		t.Fatalf("LoadSummary = rebuilt %v, %v", rebuilt, err)
	}
	if stored.Goodput.Ratio != 18.0/25 {
		t.Errorf("stored goodput ratio %v, want the records' slo_ok (18/25)", stored.Goodput.Ratio)
	}

	// --goodput: rebuilt from the records, goodput recomputed, the rest as
	// stored.
	g, _ := analysis.ParseGoodput("ttft<=200ms")
	s, rebuilt, err := analysis.LoadSummary(dir, g)
	if err != nil || !rebuilt {
		t.Fatalf("LoadSummary with goodput = rebuilt %v, %v", rebuilt, err)
	}
	if !near(s.Goodput.Ratio, 13.0/25) || s.Metrics["ttft"] != stored.Metrics["ttft"] || s.Generator.RequestedRate != 10 || !s.Generator.OpenLoop {
		t.Errorf("recomputed: goodput %+v, generator %+v", s.Goodput, s.Generator)
	}

	// A run cut short: no summary.json; the meta comes from run.json.
	if err := os.Remove(filepath.Join(dir, results.SummaryFile)); err != nil {
		t.Fatal(err)
	}
	s, rebuilt, err = analysis.LoadSummary(dir, nil)
	if err != nil || !rebuilt || s.Requests != stored.Requests || s.Generator.RequestedRate != 10 || !s.Generator.OpenLoop {
		t.Errorf("rebuilt = %v, %v: requests %+v generator %+v", rebuilt, err, s.Requests, s.Generator)
	}

	// Unreadable runs.
	if _, _, err := analysis.LoadSummary(t.TempDir(), nil); err == nil {
		t.Error("an empty directory: no error")
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, results.SummaryFile), []byte("{"), 0o644)
	if _, _, err := analysis.LoadSummary(bad, nil); err == nil || !strings.Contains(err.Error(), results.SummaryFile) {
		t.Errorf("a malformed summary.json: %v", err)
	}
}

// TestLoadSummaryScheduled: a run that counted latency from the scheduled
// send is rebuilt the same way.
func TestLoadSummaryScheduled(t *testing.T) {
	recs := fixtureRecords(t)
	dir := t.TempDir()
	writeRun(t, dir, recs, map[string]any{"rate": 10.0, "latency-from": "scheduled"}, false)
	s, _, err := analysis.LoadSummary(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := analysis.NewAccumulator(analysis.WithLatencyFromScheduled(true))
	for _, r := range fixtureRecords(t) {
		a.Append(r)
	}
	want, _ := a.Summary(analysis.RunMeta{})
	if s.Metrics["ttft"] != want.Metrics["ttft"] || s.LatencyFrom != "scheduled" {
		t.Errorf("ttft %+v (%s), want %+v", s.Metrics["ttft"], s.LatencyFrom, want.Metrics["ttft"])
	}
}
