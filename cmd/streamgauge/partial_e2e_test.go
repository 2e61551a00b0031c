package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/results"
)

// TestCheckInterruptedRun: a run stopped by SIGINT says so in run.json, and
// check refuses to judge it (exit 1, how much of it there is) unless
// --allow-partial; a run that completes says so too.
func TestCheckInterruptedRun(t *testing.T) {
	// 400 requests at 40 req/s: ten seconds of schedule, stopped early.
	cmd, out, stderr := startRun(t, "--requests", "400")
	waitFor(t, stderr, "writing "+out)
	time.Sleep(2 * time.Second) // some requests finish (each streams for about a second)
	cmd.Process.Signal(os.Interrupt)
	if err := cmd.Wait(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatal(err)
		}
	}
	info := readInfo(t, out)
	if info.Status != results.StatusInterrupted || info.PlannedRequests != 400 || info.End.IsZero() {
		t.Fatalf("run.json status %q, planned %d, end %v: want interrupted, 400, an end time", info.Status, info.PlannedRequests, info.End)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"refused", []string{"check", out, "--slo", "e2e.max<3600s"}, exitRun, "streamgauge: run " + out + " was interrupted after "},
		{"how much", []string{"check", out, "--slo", "e2e.max<3600s"}, exitRun, " of 400 planned requests ("},
		{"how to judge it anyway", []string{"check", out, "--slo", "e2e.max<3600s"}, exitRun, "%); pass --allow-partial to judge it anyway"},
		{"--allow-partial", []string{"check", out, "--slo", "e2e.max<3600s", "--allow-partial"}, exitOK, "judged as it is (--allow-partial)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", r.code, tc.code, tc.want, r.stdout, r.stderr)
			}
		})
	}

	done := filepath.Join(t.TempDir(), "done")
	if r := runCLI(t, nil, "run", "--rate", "50", "--requests", "5", "--output-tokens", "4", "--sim-ttft", "1ms", "--sim-itl", "1ms", "--out", done); r.code != exitOK {
		t.Fatalf("run: exit %d\n%s", r.code, r.stderr)
	}
	if info := readInfo(t, done); info.Status != results.StatusCompleted || info.PlannedRequests != 5 {
		t.Errorf("run.json status %q, planned %d: want completed, 5", info.Status, info.PlannedRequests)
	}
	if r := runCLI(t, nil, "check", done, "--slo", "e2e.max<3600s"); r.code != exitOK {
		t.Errorf("check of a completed run: exit %d\n%s", r.code, r.stderr)
	}
}

func readInfo(t *testing.T, dir string) results.RunInfo {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, results.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	var info results.RunInfo
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatal(err)
	}
	return info
}
