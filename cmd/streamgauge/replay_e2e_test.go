package main

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/results"
)

// TestTraceReplayGaps replays a minute of the Azure conversation trace at 4x
// against the simulator and checks that the gaps between sends reproduce the
// trace's inter-arrival gaps: median absolute error under 1 ms.
func TestTraceReplayGaps(t *testing.T) {
	if os.Getenv("STREAMGAUGE_TIMING") == "" {
		t.Skip("timing run: make check runs it alone with STREAMGAUGE_TIMING=1")
	}
	const trace = "../../profiles/data/azure_llm_2023_conv.csv"
	out := filepath.Join(t.TempDir(), "run")
	r := runBinary(t, nil, "run", "--trace", trace, "--trace-window", "0s:60s", "--trace-speed", "4",
		"--output-tokens", "8", "--sim-scheduler", "fixed", "--sim-ttft", "5ms", "--sim-itl", "1ms", "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	f, err := os.Open(trace)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr, err := loadgen.ReadTrace(f, trace, "auto")
	if err != nil {
		t.Fatal(err)
	}
	tr, err = tr.Slice(0, 60*time.Second, 4)
	if err != nil {
		t.Fatal(err)
	}
	recs := readRecords(t, out)
	if len(recs) != len(tr.Entries) {
		t.Fatalf("%d records, the trace window has %d requests", len(recs), len(tr.Entries))
	}
	sent := make([]int64, len(recs))
	for _, rec := range recs {
		i, err := strconv.Atoi(rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		sent[i] = rec.SentNS
		if rec.InputTokens != tr.Entries[i].Input || rec.Error != nil {
			t.Errorf("request %d: input %d (trace %d), error %v", i, rec.InputTokens, tr.Entries[i].Input, rec.Error)
		}
		if rec.OutputTokens != tr.Entries[i].Output && rec.OutputTokensSource == results.SourceUsage {
			t.Errorf("request %d: %d output tokens, trace %d", i, rec.OutputTokens, tr.Entries[i].Output)
		}
	}
	var errs []float64
	for i := 1; i < len(sent); i++ {
		want := tr.Entries[i].At - tr.Entries[i-1].At
		got := time.Duration(sent[i] - sent[i-1])
		d := float64(got-want) / 1e6
		if d < 0 {
			d = -d
		}
		errs = append(errs, d)
	}
	sort.Float64s(errs)
	med, p99 := errs[len(errs)/2], errs[len(errs)*99/100]
	t.Logf("%d requests, inter-arrival gap error: median %.3f ms, p99 %.3f ms", len(recs), med, p99)
	if med >= 1 {
		t.Errorf("median gap error %.3f ms, want under 1 ms", med)
	}
}
