package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/harness"
	"github.com/streamgauge/streamgauge/results"
)

// TestShardedSweepMatchesOneProcess (issue 20 item 2): a sweep split over
// 2 and 4 workers (sweep --shard i/N --start-at T), merged level by level,
// finds the capacity one process finds against the same simulator, and
// every level starts at the same instant on every worker.
//
// The levels sit well below and well above the fcfs simulator's known
// capacity, so the verdicts do not hang on noise near the knee.
func TestShardedSweepMatchesOneProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three sweeps of about 10 s each")
	}
	known := fcfsCapacity(t, "h100-llama8b", 16, 8)
	levels := []float64{0.3 * known, 0.6 * known, 2.5 * known}
	var rates []string
	for i := range levels {
		levels[i] = float64(int(levels[i]*10)) / 10
		rates = append(rates, strconv.FormatFloat(levels[i], 'f', -1, 64))
	}
	const stage, cooldown = 2 * time.Second, time.Second
	url, _ := startServe(t, "--scheduler", "fcfs", "--preset", "h100-llama8b")
	common := []string{"--target", url, "--rates", strings.Join(rates, ","), "--arrival", "constant", "--seed", "5",
		"--input-tokens", "16", "--output-tokens", "8", "--stage-duration", stage.String(), "--cooldown", cooldown.String(),
		"--slo", "ttft.p99<1s", "--slo", "error_rate<1%", "--scrape-metrics", "sim"}
	root := t.TempDir()
	if d := os.Getenv("SWEEPSHARD_KEEP"); d != "" {
		root = d
	}

	single := filepath.Join(root, "single")
	if r := runCLI(t, nil, append([]string{"sweep", "--out", single}, common...)...); r.code != 0 {
		t.Fatalf("one process: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	one, err := analysis.LoadSweep(single)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("known capacity %.2f req/s; one process: %s", known, one.CapacityLine())
	if !one.Capacity.Found || one.Capacity.Level != levels[1] {
		t.Fatalf("one process found %s; want %g req/s (the test's levels are off)", one.CapacityLine(), levels[1])
	}

	for _, n := range []int{2, 4} {
		t.Run(strconv.Itoa(n)+" shards", func(t *testing.T) {
			start := time.Now().Add(3 * time.Second).UTC().Truncate(time.Millisecond)
			dirs := make([]string, n)
			res := make([]result, n)
			var wg sync.WaitGroup
			for i := range n {
				dirs[i] = filepath.Join(root, fmt.Sprintf("sweep-%d-of-%d", i, n))
				wg.Add(1)
				go func() {
					defer wg.Done()
					res[i] = runCLI(t, nil, append([]string{"sweep", "--shard", fmt.Sprintf("%d/%d", i, n),
						"--start-at", start.Format(time.RFC3339Nano), "--out", dirs[i]}, common...)...)
				}()
			}
			wg.Wait()
			for i, r := range res {
				// A worker judges only its share: it exits 0 whatever its
				// stages' verdicts (the verdict is the merge's).
				if r.code != 0 {
					t.Fatalf("worker %d: exit %d\n%s", i, r.code, r.stderr)
				}
			}
			merged := filepath.Join(root, fmt.Sprintf("merged-%d", n))
			r := runCLI(t, nil, append(append([]string{"merge"}, dirs...), "-o", merged)...)
			if r.code != 0 {
				t.Fatalf("merge: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			t.Logf("merge:\n%s%s", r.stdout, r.stderr)
			sw, err := analysis.LoadSweep(merged)
			if err != nil {
				t.Fatal(err)
			}
			if sw.Capacity.Level != one.Capacity.Level || sw.Capacity.Found != one.Capacity.Found {
				t.Errorf("%d workers merged: %s; one process: %s", n, sw.CapacityLine(), one.CapacityLine())
			}
			if len(sw.Stages) != len(levels) {
				t.Fatalf("merged %d stages, want %d", len(sw.Stages), len(levels))
			}
			for k, st := range sw.Stages {
				if st.Level != levels[k] || st.OfferedRate != levels[k] || st.Pass != one.Stages[k].Pass {
					t.Errorf("stage %d: level %g offered %g pass %v; one process: level %g pass %v (%s)", k+1, st.Level, st.OfferedRate, st.Pass,
						one.Stages[k].Level, one.Stages[k].Pass, st.Why())
				}
				var info results.MergedRunInfo
				if err := results.ReadJSON(filepath.Join(merged, st.Dir), results.RunFile, &info); err != nil {
					t.Fatal(err)
				}
				want := harness.StageStart(start, k+1, stage, cooldown)
				if len(info.MergedFrom) != n {
					t.Errorf("stage %s merged from %d shards, want %d", st.Dir, len(info.MergedFrom), n)
				}
				for _, sh := range info.MergedFrom {
					if !sh.Start.Equal(want) || sh.OffsetNS != 0 {
						t.Errorf("stage %s shard %s started at %s (offset %d ns), want %s on every worker", st.Dir, sh.Shard, sh.Start, sh.OffsetNS, want)
					}
				}
			}
			// Every worker scraped the one server: its samples are merged
			// per stage, each with its shard, and no warning says otherwise.
			if strings.Contains(r.stderr, "scraped different servers") {
				t.Errorf("merge warned of different servers, but every worker scraped %s:\n%s", url, r.stderr)
			}
			scraped := map[string]bool{}
			f, err := os.ReadFile(filepath.Join(merged, sw.Stages[0].Dir, results.ServerMetricsFile))
			if err != nil {
				t.Fatal(err)
			}
			last := int64(-1)
			for line := range strings.Lines(string(f)) {
				var s results.ServerSample
				if err := json.Unmarshal([]byte(line), &s); err != nil {
					t.Fatalf("merged server metrics line %q: %v", line, err)
				}
				if s.TNS < last {
					t.Errorf("merged server metrics out of time order at %q", line)
				}
				last = s.TNS
				scraped[s.Shard] = true
			}
			if len(scraped) != n {
				t.Errorf("merged server metrics hold samples of shards %v, want all %d", scraped, n)
			}
			if !strings.Contains(r.stdout, "capacity: "+analysis.FormatLevel(one.Capacity.Level)+" req/s") {
				t.Errorf("merge output lacks the capacity line:\n%s", r.stdout)
			}
		})
	}
}

// TestMergeSweepRefusals: sweep directories that are not one sharded
// sweep are refused (exit 2) with the difference named.
func TestMergeSweepRefusals(t *testing.T) {
	root := t.TempDir()
	mk := func(name string, edit func(*analysis.Sweep)) string {
		sw := &analysis.Sweep{Tool: "streamgauge", Name: "p", Mode: analysis.SweepRate, SLO: []string{"error_rate<1%"}, StageDurationS: 2, CooldownS: 1,
			Stages: []analysis.SweepStage{{Index: 1, Dir: "stage-001-rate-4", Level: 4}, {Index: 2, Dir: "stage-002-rate-8", Level: 8}}}
		if edit != nil {
			edit(sw)
		}
		d := filepath.Join(root, name)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := results.WriteJSON(d, analysis.SweepFile, sw); err != nil {
			t.Fatal(err)
		}
		return d
	}
	a := mk("a", nil)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"auto", []string{mk("auto", func(s *analysis.Sweep) { s.Auto = true })}, "capacity search (--auto)"},
		{"cooldown", []string{mk("cool", func(s *analysis.Sweep) { s.CooldownS = 5 })}, "cooldown (1s vs 5s)"},
		{"levels", []string{mk("lv", func(s *analysis.Sweep) { s.Stages[1].Level, s.Stages[1].Dir = 9, "stage-002-rate-9" })}, "the workers ran different levels: stage 2"},
		{"mixed", []string{filepath.Join(root, "notasweep")}, "not a mix of both"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, append(append([]string{"merge", a}, tc.args...), "-o", filepath.Join(root, "out-"+tc.name))...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, want %d with %q:\n%s", r.code, exitUsage, tc.want, r.stderr)
			}
		})
	}
}

// TestSweepShardsFromIndexedJob: --shards N takes the worker's index from
// JOB_COMPLETION_INDEX, as run does (the sweep then goes on to check the
// rest: here, the missing --start-at).
func TestSweepShardsFromIndexedJob(t *testing.T) {
	r := runCLI(t, map[string]string{"JOB_COMPLETION_INDEX": "1"}, "sweep", "--rates", "1", "--shards", "2")
	if r.code != exitUsage || !strings.Contains(r.stderr, "a sharded sweep needs --start-at") {
		t.Errorf("exit %d:\n%s", r.code, r.stderr)
	}
	r = runCLI(t, map[string]string{"JOB_COMPLETION_INDEX": "2"}, "sweep", "--rates", "1", "--shards", "2", "--start-at", "2026-11-28T10:00:00Z")
	if r.code != exitUsage || !strings.Contains(r.stderr, `shard: "2/2"`) {
		t.Errorf("index 2 of 2 shards: exit %d:\n%s", r.code, r.stderr)
	}
}

// TestShardedSweepWorkerExit: a worker of a sharded sweep whose stages all
// fail exits 0 (one process exits 3): its stages hold a share of each
// level, and an exit 3 would fail its Indexed Job before the merge step.
func TestShardedSweepWorkerExit(t *testing.T) {
	start := time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano)
	r := runCLI(t, nil, "sweep", "--rates", "10", "--shard", "0/2", "--start-at", start, "--stage-duration", "500ms", "--cooldown", "200ms",
		"--input-tokens", "16", "--output-tokens", "2", "--slo", "ttft.p99<1us", "--out", filepath.Join(t.TempDir(), "w0"))
	if r.code != 0 || !strings.Contains(r.stderr, "merge every worker's sweep directory") {
		t.Errorf("exit %d, want 0 and a pointer to merge:\n%s", r.code, r.stderr)
	}
}
