package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
)

func TestCompare(t *testing.T) {
	root := t.TempDir()
	base := fakeRun{n: 400, ttftMS: 100, itlMS: 10, failRate: 0.01, seed: 1, summary: true}.write(t, filepath.Join(root, "base"))
	same := fakeRun{n: 400, ttftMS: 100, itlMS: 10, failRate: 0.01, seed: 2, summary: true}.write(t, filepath.Join(root, "same"))
	slow := fakeRun{n: 400, ttftMS: 130, itlMS: 10, failRate: 0.01, seed: 3, summary: true}.write(t, filepath.Join(root, "slow"))
	other := fakeRun{n: 400, ttftMS: 100, itlMS: 10, failRate: 0.01, seed: 4,
		profile: map[string]any{"rate": 20.0, "input-tokens": "100", "output-tokens": "256", "target": "http://elsewhere"}}.write(t, filepath.Join(root, "other"))
	fewer := []string{"--resamples", "500"}
	empty := fakeRun{summary: true}.write(t, filepath.Join(root, "empty"))
	failed := fakeRun{n: 30, ttftMS: 100, itlMS: 10, failRate: 1, seed: 5, summary: true}.write(t, filepath.Join(root, "failed"))
	warm := fakeRun{n: 30, ttftMS: 100, itlMS: 10, seed: 6, summary: true, warmup: true}.write(t, filepath.Join(root, "warm"))

	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr []string
	}{
		{"no change", []string{"compare", base, same}, exitOK, []string{"baseline:   base (400 requests", "candidate:  same", "✓ same: no regression"}, nil},
		{"a slower candidate", []string{"compare", base, same, slow}, exitSLO,
			[]string{"ttft.p50 (ms)", "✗ regression", "✗ slow regressed: ttft.p50 +", "✓ same: no regression"}, []string{"regression against base: slow"}},
		{"--baseline", []string{"compare", "--baseline", base, slow}, exitSLO, []string{"baseline:   base", "✗ slow regressed"}, nil},
		{"a generous tolerance", []string{"compare", base, slow, "--tolerance", "50%"}, exitOK, []string{"worse (within 50%)"}, nil},
		{"metrics", []string{"compare", base, slow, "--metrics", "ttft.p99,error_rate"}, exitSLO, []string{"ttft.p99 (ms)", "error_rate (%)", "adjusted for 2 metrics"}, nil},
		{"profiles differ", []string{"compare", base, other}, exitOK,
			[]string{`warning: other differs from base in workload or load: rate (10 vs 20), output-tokens ("16" vs "256")`}, nil},
		{"one run", []string{"compare", base}, exitUsage, nil, []string{"requires a baseline and at least one candidate"}},
		{"bad tolerance", []string{"compare", base, same, "--tolerance", "five"}, exitUsage, nil, []string{`--tolerance "five"`}},
		{"bad confidence", []string{"compare", base, same, "--confidence", "100%"}, exitUsage, nil, []string{"--confidence"}},
		{"bad metric", []string{"compare", base, same, "--metrics", "ttft.p99,latency.p50"}, exitUsage, nil, []string{"latency.p50: unknown metric"}},
		{"bad adjust", []string{"compare", base, same, "--adjust", "magic"}, exitUsage, nil, []string{`adjust "magic"`}},
		{"too few resamples", []string{"compare", base, same, "--resamples", "10"}, exitUsage, nil, []string{"at least 100"}},
		{"bad goodput", []string{"compare", base, same, "--goodput", "ttft<1"}, exitUsage, nil, []string{"--goodput ttft<1: 1 has no unit"}},
		{"missing run", []string{"compare", base, filepath.Join(root, "nope")}, exitUsage, nil, []string{"no such file or directory"}},
		{"an empty candidate", []string{"compare", base, empty}, exitRun, nil, []string{"streamgauge: candidate run " + empty + " has no requests: nothing to judge"}},
		{"every candidate request failed", []string{"compare", base, same, failed}, exitRun, nil,
			[]string{"streamgauge: candidate run " + failed + " has no measured request that succeeded (of 30: 30 failed): nothing to judge"}},
		{"a warm-up-only candidate", []string{"compare", base, warm}, exitRun, nil, []string{"candidate run " + warm + " has no measured request that succeeded (of 30: 30 warm-up): nothing to judge"}},
		{"an empty baseline", []string{"compare", "--baseline", empty, same}, exitRun, nil, []string{"baseline run " + empty + " has no requests"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if !strings.Contains(strings.Join(args, " "), "--resamples") {
				args = append(append([]string{}, args...), fewer...)
			}
			r := runCLI(t, nil, args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, want := range tc.stdout {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
			for _, want := range tc.stderr {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
		})
	}
}

func TestCompareFormats(t *testing.T) {
	root := t.TempDir()
	base := fakeRun{n: 300, ttftMS: 100, itlMS: 10, seed: 1}.write(t, filepath.Join(root, "a", "run"))
	slow := fakeRun{n: 300, ttftMS: 100, itlMS: 13, seed: 2,
		profile: map[string]any{"rate": 10.0, "input-tokens": "100", "output-tokens": "32"}}.write(t, filepath.Join(root, "b", "run"))
	md := filepath.Join(root, "step-summary.md")

	r := runCLI(t, nil, "compare", base, slow, "--format", "json", "--seed", "9", "--resamples", "400", "--markdown", md)
	if r.code != exitSLO {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var c analysis.Comparison
	if err := json.Unmarshal([]byte(r.stdout), &c); err != nil {
		t.Fatalf("--format json: %v\n%s", err, r.stdout)
	}
	// Same base names: the runs are named by their paths.
	if c.Baseline.Name != base || len(c.Candidates) != 1 || c.Candidates[0].Name != slow || c.Seed != 9 || c.Resamples != 400 {
		t.Errorf("comparison of %+v and %+v (seed %d, %d resamples)", c.Baseline, c.Candidates, c.Seed, c.Resamples)
	}
	if len(c.Regressed) != 1 || len(c.Mismatches) != 1 || c.Mismatches[0].Keys[0].Key != "output-tokens" {
		t.Errorf("regressed %v, mismatches %+v", c.Regressed, c.Mismatches)
	}
	// With --format json the warnings go to stderr (the table shows them
	// itself).
	if !strings.Contains(r.stderr, "streamgauge: warning: "+slow+" differs from "+base) {
		t.Errorf("stderr lacks the mismatch warning:\n%s", r.stderr)
	}
	b, _ := os.ReadFile(md)
	if !strings.HasPrefix(string(b), "### streamgauge compare: ❌ "+slow+" regressed") || !strings.Contains(string(b), "❌ **regression**") {
		t.Errorf("--markdown file:\n%s", b)
	}

	// Reproducible: the same seed gives the same bytes.
	again := runCLI(t, nil, "compare", base, slow, "--format", "json", "--seed", "9", "--resamples", "400")
	if again.stdout != r.stdout {
		t.Error("the same seed gave a different comparison")
	}

	r = runCLI(t, nil, "compare", base, slow, "--format", "markdown", "--resamples", "400")
	if r.code != exitSLO || !strings.Contains(r.stdout, "| metric | run | value | change | rel | interval of change | p (adj.) | verdict |") {
		t.Errorf("--format markdown: exit %d\n%s", r.code, r.stdout)
	}
}

// TestCompareSimulatorSchedulers runs the binary twice against the built-in
// simulator, with continuous batching and with static batching (each batch
// waits for its slowest sequence), and compares them: static batching's
// queueing shows in ttft and compare flags it.
func TestCompareSimulatorSchedulers(t *testing.T) {
	if testing.Short() {
		t.Skip("two load runs against the simulator")
	}
	root := t.TempDir()
	for _, sched := range []string{"continuous", "static"} {
		r := runBinary(t, nil, "run", "--rate", "40", "--requests", "120", "--input-tokens", "uniform:100,400", "--output-tokens", "16",
			"--sim-scheduler", sched, "--seed", "3", "--out", filepath.Join(root, sched))
		if r.code != exitOK {
			t.Fatalf("run %s: exit %d\n%s", sched, r.code, r.stderr)
		}
	}
	r := runBinary(t, nil, "compare", filepath.Join(root, "continuous"), filepath.Join(root, "static"), "--metrics", "ttft.p50,ttft.p99,e2e.p50")
	if r.code != exitSLO {
		t.Fatalf("compare: exit %d, want 3\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "✗ static regressed: ttft.p50 +") || strings.Contains(r.stdout, "differs from") {
		t.Errorf("compare output:\n%s", r.stdout)
	}
	// And the other way round the faster scheduler is no regression.
	r = runBinary(t, nil, "compare", filepath.Join(root, "static"), filepath.Join(root, "continuous"), "--metrics", "ttft.p50,ttft.p99,e2e.p50")
	if r.code != exitOK || !strings.Contains(r.stdout, "✓ improvement") {
		t.Errorf("reversed compare: exit %d\n%s", r.code, r.stdout)
	}
	// The gate on one of them.
	r = runBinary(t, nil, "check", filepath.Join(root, "static"), "--slo", "ttft.p99<10ms", "--slo", "error_rate<1%")
	if r.code != exitSLO || !strings.Contains(r.stdout, "✗ ttft.p99<10ms") || !strings.Contains(r.stdout, "✓ error_rate<1%") {
		t.Errorf("check: exit %d\n%s", r.code, r.stdout)
	}
}
