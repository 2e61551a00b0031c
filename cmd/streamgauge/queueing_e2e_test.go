package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestLatencyFromScheduledExposesQueueing drives a slow server through a
// two-slot --max-concurrency cap at a rate it cannot serve. Counted from the
// send, ttft looks like the server's own 150 ms; counted from the scheduled
// send (--latency-from scheduled), it shows the queueing; and the generator
// reports itself saturated, since requests left late.
func TestLatencyFromScheduledExposesQueueing(t *testing.T) {
	if testing.Short() {
		t.Skip("two load runs of seconds against a slow server: make check runs it")
	}
	summary := func(from string) (ttftP50 float64, lagP99 float64, saturated bool, latencyFrom string) {
		out := filepath.Join(t.TempDir(), from)
		r := runBinary(t, nil, "run", "--rate", "20", "--requests", "30", "--max-concurrency", "2",
			"--output-tokens", "10", "--sim-scheduler", "fixed", "--sim-ttft", "150ms", "--sim-itl", "5ms",
			"--latency-from", from, "--out", out)
		if r.code != 0 {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		var s struct {
			Metrics            map[string]map[string]float64
			GeneratorSaturated bool   `json:"generator_saturated"`
			LatencyFrom        string `json:"latency_from"`
		}
		b, err := os.ReadFile(filepath.Join(out, "summary.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		return s.Metrics["ttft"]["p50"], s.Metrics["lag"]["p99"], s.GeneratorSaturated, s.LatencyFrom
	}
	sendP50, lag, sat, from := summary("send")
	schedP50, _, _, from2 := summary("scheduled")
	t.Logf("ttft p50 from send %.1f ms, from schedule %.1f ms; lag p99 %.1f ms; saturated %v", sendP50, schedP50, lag, sat)
	if from != "send" || from2 != "scheduled" {
		t.Errorf("latency_from %q and %q", from, from2)
	}
	if sendP50 < 150 || sendP50 > 300 {
		t.Errorf("ttft p50 from send %.1f ms, want about the server's 150 ms", sendP50)
	}
	if schedP50 < 2*sendP50 {
		t.Errorf("ttft p50 from the schedule %.1f ms does not show the queueing (from send %.1f ms)", schedP50, sendP50)
	}
	if !sat || lag < 100 {
		t.Errorf("generator_saturated %v with lag p99 %.1f ms: a starved generator must say so", sat, lag)
	}
}
