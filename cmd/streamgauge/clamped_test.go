package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/results"
)

// TestClampedWarning: a run with values beyond the histograms' 1 h range
// (summary.json clamped > 0, or the records when summary.json is missing)
// gets from report's table and from check the one-line warning run prints;
// machine formats on stdout and a run with nothing clamped get none.
func TestClampedWarning(t *testing.T) {
	root := t.TempDir()
	slow := fakeRun{n: 10, ttftMS: 5e6, itlMS: 10, seed: 3, summary: true}.write(t, filepath.Join(root, "slow"))
	noSummary := fakeRun{n: 10, ttftMS: 5e6, itlMS: 10, seed: 3, summary: true}.write(t, filepath.Join(root, "rebuilt"))
	if err := os.Remove(filepath.Join(noSummary, results.SummaryFile)); err != nil {
		t.Fatal(err)
	}
	fast := fakeRun{n: 10, ttftMS: 100, itlMS: 10, seed: 3, summary: true}.write(t, filepath.Join(root, "fast"))
	const warn = "outside the histograms' range (0 to 1 h) recorded at its edge (ttft 10"
	cases := []struct {
		name string
		args []string
		want bool
	}{
		{"report table", []string{"report", slow}, true},
		{"report table, summary rebuilt", []string{"report", noSummary}, true},
		{"check", []string{"check", slow, "--slo", "error_rate<100%"}, true},
		{"check, summary rebuilt", []string{"check", noSummary, "--slo", "error_rate<100%"}, true},
		{"report json", []string{"report", slow, "--format", "json"}, false},
		{"report table, nothing clamped", []string{"report", fast}, false},
		{"check, nothing clamped", []string{"check", fast, "--slo", "error_rate<100%"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, tc.args...)
			if r.code != exitOK {
				t.Fatalf("exit %d\nstderr:\n%s", r.code, r.stderr)
			}
			n := strings.Count(r.stderr, warn)
			if tc.want && (n != 1 || !strings.Contains(r.stderr, "streamgauge: warning: "+tc.args[1]+": ")) {
				t.Errorf("stderr should say once %q for %s:\n%s", warn, tc.args[1], r.stderr)
			}
			if !tc.want && n != 0 {
				t.Errorf("stderr warns of clamped values:\n%s", r.stderr)
			}
		})
	}
}
