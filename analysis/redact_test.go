package analysis_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/results"
)

// TestOldRunsAreReportedRedacted: a run.json written before default-deny
// (a custom header, a URL password in clear) is read with them masked, by
// every reader the reports use.
func TestOldRunsAreReportedRedacted(t *testing.T) {
	dir := t.TempDir()
	profile := map[string]any{
		"name":           "old",
		"target":         "https://u:pw-SECRET@gw.example.com/?key=q-SECRET",
		"scrape-metrics": "http://m:mp-SECRET@127.0.0.1:9/metrics",
		"header":         []any{"X-Custom: clear-SECRET", "Content-Type: application/json", "Authorization: [redacted]"},
		"generic":        map[string]any{"headers": map[string]any{"X-Route": "route-SECRET"}},
	}
	info := results.RunInfo{Tool: "streamgauge", Profile: profile, Target: "https://u:pw-SECRET@gw.example.com"}
	if err := results.WriteJSON(dir, results.RunFile, info); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, results.RequestsFile), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	rd, err := analysis.ReadRunDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	samples, err := analysis.LoadRunSamples(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{"ReadRunDir": rd, "LoadRunSamples": samples.Profile} {
		b, _ := json.Marshal(v)
		if strings.Contains(string(b), "SECRET") {
			t.Errorf("%s: %s", name, b)
		}
		for _, want := range []string{"Content-Type: application/json", "Authorization: [redacted]", "X-Custom: redacted:", "gw.example.com"} {
			if !strings.Contains(string(b), want) {
				t.Errorf("%s lacks %q: %s", name, want, b)
			}
		}
	}
}
