package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/streamgauge/streamgauge/results"
)

// TestChaosAccounting runs against the simulator failing 10% of requests
// with every kind of failure, plus stalls, and checks the exit code, that
// every sent request is accounted for, and that each failure is counted
// under the right kind.
func TestChaosAccounting(t *testing.T) {
	if testing.Short() {
		t.Skip("a 400-request chaos run: make check runs it")
	}
	out := filepath.Join(t.TempDir(), "run")
	r := runBinary(t, nil, "run", "--rate", "100", "--requests", "400", "--output-tokens", "24",
		"--sim-scheduler", "fixed", "--sim-ttft", "5ms", "--sim-itl", "1ms",
		"--sim-fail-rate", "0.1", "--sim-fail-kinds", "429,500,stream,drop", "--sim-stall", "8:20ms", "--out", out)
	if r.code != exitOK {
		t.Fatalf("exit %d, want 0 (most requests succeed)\n%s", r.code, r.stderr)
	}
	var sum struct {
		Requests struct {
			Sent, Total, OK, Failed, Canceled, Warmup int
			Accounted                                 bool
		}
		Errors    map[string]int `json:"errors"`
		ErrorRate float64        `json:"error_rate"`
	}
	b, err := os.ReadFile(filepath.Join(out, results.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	q := sum.Requests
	if q.Sent != 400 || !q.Accounted || q.Sent != q.OK+q.Failed+q.Canceled+q.Warmup || q.Total != 400 {
		t.Errorf("requests %+v: sent must equal ok + failed + canceled", q)
	}
	recs := readRecords(t, out)
	kinds := map[string]int{}
	for _, rec := range recs {
		if rec.Error == nil {
			continue
		}
		kinds[string(rec.Error.Kind)]++
		if rec.Error.Kind == results.KindHTTP429 && rec.Error.RetryAfter == "" {
			t.Errorf("record %s: 429 without its Retry-After", rec.ID)
		}
	}
	for k, n := range kinds {
		if sum.Errors[k] != n {
			t.Errorf("summary counts %d %s, the records %d", sum.Errors[k], k, n)
		}
	}
	for _, k := range []string{"http_429", "http_5xx", "stream_error"} {
		if kinds[k] == 0 {
			t.Errorf("no %s among %v", k, kinds)
		}
	}
	if q.Failed < 20 || q.Failed > 70 {
		t.Errorf("%d of 400 failed, want about 10%%", q.Failed)
	}
	t.Logf("requests %+v, errors %v, error rate %.3f", q, sum.Errors, sum.ErrorRate)
}
