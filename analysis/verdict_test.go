package analysis_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
	"github.com/streamgauge/streamgauge/results"
)

func TestLoadSummaryForGate(t *testing.T) {
	recs := analysistest.LoadFixture(t)
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
	recs := analysistest.LoadFixture(t)
	dir := t.TempDir()
	writeRun(t, dir, recs, map[string]any{"rate": 10.0, "latency-from": "scheduled"}, false)
	s, _, err := analysis.LoadSummary(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	a := analysis.NewAccumulator(analysis.WithLatencyFromScheduled(true))
	for _, r := range analysistest.LoadFixture(t) {
		a.Append(r)
	}
	want, _ := a.Summary(analysis.RunMeta{})
	if s.Metrics["ttft"] != want.Metrics["ttft"] || s.LatencyFrom != "scheduled" {
		t.Errorf("ttft %+v (%s), want %+v", s.Metrics["ttft"], s.LatencyFrom, want.Metrics["ttft"])
	}
}

// TestDamagedSummaryRebuilt: a summary.json cut short, empty or overwritten
// is rebuilt from intact records by every loader (check's, report's, the
// HTML report's), with the same counts, and InspectRun's note names the file.
func TestDamagedSummaryRebuilt(t *testing.T) {
	recs := analysistest.LoadFixture(t)
	src := t.TempDir()
	writeRun(t, src, recs, map[string]any{"rate": 10.0}, true)
	whole, err := os.ReadFile(filepath.Join(src, results.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := analysis.LoadSummary(src, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		summary []byte
		note    string
	}{
		{"cut short", whole[:len(whole)/2], "summary.json is damaged (unexpected end of JSON input): summary rebuilt from "},
		{"empty", nil, "summary.json is damaged (unexpected end of JSON input)"},
		{"not an object", []byte("[1, 2]\n"), "summary.json is damaged (json: cannot unmarshal array"},
		{"missing", []byte("-"), "has no summary.json (cut short?): summary rebuilt from requests.jsonl"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeRun(t, dir, recs, map[string]any{"rate": 10.0}, false)
			if string(tc.summary) != "-" {
				if err := os.WriteFile(filepath.Join(dir, results.SummaryFile), tc.summary, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			st, err := analysis.InspectRun(dir)
			if err != nil {
				t.Fatal(err)
			}
			if note := st.SummaryNote(); !strings.Contains(note, tc.note) || strings.Contains(note, "\n") {
				t.Errorf("note %q, want one line containing %q", note, tc.note)
			}
			s, rebuilt, err := analysis.LoadSummary(dir, nil)
			if err != nil || !rebuilt || s.Requests.Total != want.Requests.Total || s.Requests.OK != want.Requests.OK {
				t.Errorf("LoadSummary = rebuilt %v, %v, requests %+v; want %+v", rebuilt, err, s, want.Requests)
			}
			j, rebuilt, err := analysis.LoadJudgedSummary(dir)
			if err != nil || !rebuilt || j.Requests.Total != want.Requests.Total {
				t.Errorf("LoadJudgedSummary = rebuilt %v, %v", rebuilt, err)
			}
		})
	}
}

// TestPartial: how a run that did not finish is described, from run.json's
// status (or, for older runs, its end time and interrupted flag) and the
// planned request count.
func TestPartial(t *testing.T) {
	end := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sum := &analysis.Summary{Requests: analysis.Counts{Total: 412, OK: 400}, DurationS: 12.5}
	tests := []struct {
		name    string
		info    results.RunInfo
		profile map[string]any
		want    string // "" for a finished run
	}{
		{"completed", results.RunInfo{Status: results.StatusCompleted, End: end, PlannedRequests: 412}, nil, ""},
		{"completed, duration-bound", results.RunInfo{Status: results.StatusCompleted, End: end}, map[string]any{"duration": 60e9}, ""},
		{"interrupted", results.RunInfo{Status: results.StatusInterrupted, Interrupted: true, End: end, PlannedRequests: 1000}, nil,
			"run DIR was interrupted after 412 of 1000 planned requests (41%)"},
		{"killed", results.RunInfo{Status: results.StatusRunning, PlannedRequests: 1000}, nil,
			"run DIR did not finish (run.json still says running: the process was killed or crashed) after 412 of 1000 planned requests (41%)"},
		{"aborted", results.RunInfo{Status: results.StatusAborted, End: end}, map[string]any{"duration": 60e9},
			"run DIR was stopped early by --abort-on-fail (an SLO was lost) after 412 requests and 12.5 s of the planned 1m0s (21%)"},
		{"failed", results.RunInfo{Status: results.StatusFailed, End: end}, nil, "run DIR was stopped early by an error after 412 requests"},
		{"fewer than planned", results.RunInfo{Status: results.StatusCompleted, End: end, PlannedRequests: 500}, nil,
			"run DIR holds fewer requests than planned after 412 of 500 planned requests (82%)"},
		{"old run, no end", results.RunInfo{}, map[string]any{"requests": 1000.0}, "run DIR did not finish (run.json has no end time: the process was killed or crashed) after 412 of 1000 planned requests (41%)"},
		{"old run, interrupted", results.RunInfo{End: end, Interrupted: true}, nil, "run DIR was interrupted after 412 requests"},
		{"a few of many", results.RunInfo{Status: results.StatusInterrupted, Interrupted: true, End: end, PlannedRequests: 100000}, nil,
			"run DIR was interrupted after 412 of 100000 planned requests (under 1%)"},
		{"all but one", results.RunInfo{Status: results.StatusCompleted, End: end, PlannedRequests: 413}, nil,
			"run DIR holds fewer requests than planned after 412 of 413 planned requests (over 99%)"},
		{"old run, finished", results.RunInfo{End: end}, map[string]any{"requests": 1000.0}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			info := tc.info
			info.Profile = tc.profile
			if err := results.WriteJSON(dir, results.RunFile, info); err != nil {
				t.Fatal(err)
			}
			st, err := analysis.InspectRun(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.ReplaceAll(st.Partial(sum), dir, "DIR"); got != tc.want {
				t.Errorf("Partial =\n %q\nwant\n %q", got, tc.want)
			}
		})
	}
	t.Run("no run.json", func(t *testing.T) {
		st, err := analysis.InspectRun(t.TempDir())
		if err != nil || st.Partial(sum) != "" {
			t.Errorf("records without run.json: %v, %q; want no judgement of completeness", err, st.Partial(sum))
		}
	})
}

// TestEmptyRunError: a run with no measured request that succeeded is named
// with what it holds.
func TestEmptyRunError(t *testing.T) {
	tests := []struct {
		name string
		c    analysis.Counts
		want string // "" for no error
	}{
		{"evidence", analysis.Counts{Total: 3, OK: 1, Failed: 2}, ""},
		{"nothing", analysis.Counts{}, "run R has no requests: nothing to judge"},
		{"warm-up only", analysis.Counts{Total: 20, Warmup: 20}, "run R has no measured request that succeeded (of 20: 20 warm-up): nothing to judge; lengthen the run or shorten --warmup (or --warmup-requests)"},
		{"every one failed", analysis.Counts{Total: 7, Failed: 5, Warmup: 2}, "run R has no measured request that succeeded (of 7: 5 failed, 2 warm-up): nothing to judge"},
		{"canceled", analysis.Counts{Total: 4, Canceled: 4}, "run R has no measured request that succeeded (of 4: 4 canceled): nothing to judge"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := analysis.RequireEvidence("run R", tc.c)
			if tc.want == "" {
				if err != nil {
					t.Errorf("RequireEvidence = %v, want nil", err)
				}
				return
			}
			var e *analysis.EmptyRunError
			if !errors.As(err, &e) || err.Error() != tc.want {
				t.Errorf("RequireEvidence = %v, want %q", err, tc.want)
			}
		})
	}
}
