package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunSLOGate checks the exit codes and the ✓/✗ lines of run --slo.
func TestRunSLOGate(t *testing.T) {
	dir := t.TempDir()
	base := []string{"run", "--rate", "50", "--requests", "20", "--output-tokens", "6", "--sim-scheduler", "fixed", "--sim-ttft", "20ms", "--sim-itl", "2ms"}
	tests := []struct {
		name  string
		extra []string
		code  int
		want  []string // in stdout (or stderr for usage errors)
	}{
		{"all hold", []string{"--slo", "ttft.p99<5s", "--slo", "error_rate<1%", "--goodput", "ttft<=5s"}, exitOK,
			[]string{"✓ ttft.p99<5s", "✓ error_rate<1%"}},
		{"one fails", []string{"--slo", "ttft.p99<1ms", "--slo", "e2e.max<30s"}, exitSLO,
			[]string{"✗ ttft.p99<1ms", "✓ e2e.max<30s"}},
		{"goodput fails", []string{"--goodput", "ttft<=1ms", "--slo", "goodput.ratio>=0.95"}, exitSLO,
			[]string{"✗ goodput.ratio>=0.95"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			junit := filepath.Join(dir, tc.name+".xml")
			args := append(append(append([]string{}, base...), tc.extra...), "--out", filepath.Join(dir, string(rune('a'+i))), "--junit", junit)
			r := runBinary(t, nil, args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, r.stdout)
				}
			}
			b, err := os.ReadFile(junit)
			if err != nil || !strings.Contains(string(b), "<testcase") {
				t.Errorf("JUnit report %s: %v\n%s", junit, err, b)
			}
		})
	}
	r := runBinary(t, nil, append(base, "--slo", "ttft.p99<<5ms")...)
	if r.code != exitUsage || !strings.Contains(r.stderr, "ttft.p99<<5ms") {
		t.Errorf("malformed SLO: exit %d, stderr %s", r.code, r.stderr)
	}
}

// TestAbortOnFail stops a run whose error-rate SLO is lost long before its
// duration ends, keeping every finished record.
func TestAbortOnFail(t *testing.T) {
	if testing.Short() {
		t.Skip("a load run of seconds: make check runs it")
	}
	out := filepath.Join(t.TempDir(), "run")
	r := runBinary(t, nil, "run", "--rate", "30", "--duration", "60s", "--output-tokens", "4",
		"--sim-scheduler", "fixed", "--sim-ttft", "5ms", "--sim-itl", "1ms", "--sim-fail-rate", "0.5", "--sim-fail-kinds", "500",
		"--slo", "error_rate<5%", "--abort-on-fail", "--out", out)
	if r.code != exitSLO {
		t.Fatalf("exit %d, want 3\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "stopped early") || !strings.Contains(r.stdout, "✗ error_rate<5%") {
		t.Errorf("no abort notice or ✗ line:\n%s\n%s", r.stdout, r.stderr)
	}
	recs := readRecords(t, out)
	if len(recs) == 0 || len(recs) > 30*40 {
		t.Errorf("%d records: the run should stop well before its 60 s (1,800 requests)", len(recs))
	}
	t.Logf("stopped after %d requests", len(recs))
}
