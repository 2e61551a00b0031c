package main

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/results"
)

// synthRecords makes n varied records: lognormal latencies, multi-token
// frames (itl weights), failures, canceled and warm-up requests.
func synthRecords(n int, seed uint64) []*results.Record {
	rng := rand.New(rand.NewPCG(seed, 1))
	recs := make([]*results.Record, n)
	for i := range n {
		sched := int64(i) * 7e6
		ttft := 20 * math.Exp(rng.NormFloat64()*0.8)
		frames := 1 + rng.IntN(30)
		icl := make([]float64, frames-1)
		ft := make([]int, frames)
		e2e := ttft
		for j := range frames {
			ft[j] = 1 + rng.IntN(3)
			if j > 0 {
				icl[j-1] = 5 * math.Exp(rng.NormFloat64()*0.5)
				e2e += icl[j-1]
			}
		}
		r := &results.Record{ID: strconv.Itoa(i), ScheduledNS: sched, SentNS: sched + int64(rng.IntN(2e6)), LagMS: rng.Float64() * 2,
			TTFBMS: results.Ms(ttft / 2), TTFTMS: results.Ms(ttft), TTFOMS: results.Ms(ttft), E2EMS: e2e, ICLMS: icl, FrameTokens: ft,
			InputTokens: 100 + rng.IntN(400), OutputTokens: frames, OutputTokensSource: results.SourceUsage, Frames: frames, HTTPStatus: 200, SLOOK: true}
		r.FirstTokenNS = r.SentNS + int64(ttft*1e6)
		r.DoneNS = r.SentNS + int64(e2e*1e6)
		if frames >= 2 {
			r.TPOTMS = results.Ms((e2e - ttft) / float64(frames-1))
		}
		switch {
		case i < 10:
			r.Warmup = true
		case i%37 == 0:
			r.Error, r.TTFTMS, r.TTFOMS, r.TPOTMS, r.SLOOK = &results.Error{Kind: results.KindHTTP5xx, Message: "500"}, nil, nil, nil, false
		case i%53 == 0:
			r.Error, r.SLOOK = &results.Error{Kind: results.KindCanceled, Message: "drain"}, false
		}
		recs[i] = r
	}
	return recs
}

// writeSynthShard writes shard i/n of recs (request k%n == i) as a run
// directory with its own summary.json, as a worker would.
func writeSynthShard(t *testing.T, dir string, recs []*results.Record, i, n int, start time.Time) {
	t.Helper()
	w, err := results.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	acc := analysis.NewAccumulator()
	var sent int64
	for k, r := range recs {
		if k%n != i {
			continue
		}
		sent++
		w.Append(r)
		acc.Append(r)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sum, err := acc.Summary(analysis.RunMeta{Sent: sent, RequestedRate: 140, OpenLoop: true, CPUSeconds: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if err := results.WriteJSON(dir, results.SummaryFile, sum); err != nil {
		t.Fatal(err)
	}
	info := results.RunInfo{Tool: "streamgauge", Version: "test", Start: start, End: start.Add(5 * time.Second),
		Profile: map[string]any{"name": "dist", "rate": 140.0, "seed": 3.0, "shard": fmt.Sprintf("%d/%d", i, n)},
		Target:  "http://127.0.0.1:1", API: "openai-chat", Seed: 3, Shard: fmt.Sprintf("%d/%d", i, n)}
	if err := results.WriteJSON(dir, results.RunFile, info); err != nil {
		t.Fatal(err)
	}
}

// TestMergeHistogramsExact (issue 9, done when 3): the merged run's
// histograms, merged from the shards' summaries, equal the histograms
// built from all the shards' records, metric by metric, bucket by bucket.
func TestMergeHistogramsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("merges of many shards' runs: make check runs it")
	}
	start := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	for _, shards := range []int{2, 4, 7} {
		t.Run(strconv.Itoa(shards)+" shards", func(t *testing.T) {
			recs := synthRecords(1000, uint64(shards))
			root := t.TempDir()
			var dirs []string
			for i := range shards {
				d := filepath.Join(root, "shard-"+strconv.Itoa(i))
				writeSynthShard(t, d, recs, i, shards, start)
				dirs = append(dirs, d)
			}
			out := filepath.Join(root, "merged")
			r := runCLI(t, nil, append(append([]string{"merge"}, dirs...), "-o", out)...)
			if r.code != 0 {
				t.Fatalf("merge exit %d: %s", r.code, r.stderr)
			}
			if strings.Contains(r.stderr, "disagree") {
				t.Fatalf("merge rebuilt the histograms: %s", r.stderr)
			}
			var merged analysis.Summary
			if err := results.ReadJSON(out, results.SummaryFile, &merged); err != nil {
				t.Fatal(err)
			}
			all := analysis.NewAccumulator()
			for _, rec := range recs {
				all.Append(rec)
			}
			want, err := all.Summary(analysis.RunMeta{Sent: int64(len(recs)), RequestedRate: 140, OpenLoop: true, CPUSeconds: 0.5 * float64(shards)})
			if err != nil {
				t.Fatal(err)
			}
			hs := all.Histograms()
			for _, m := range analysis.Metrics {
				got, err := analysis.DecodeHistogram(merged.Histograms[m])
				if err != nil {
					t.Fatal(err)
				}
				if !got.Equals(hs.Get(m)) {
					t.Errorf("%s: merged histogram (%d values) differs from the one built from all records (%d)", m, got.TotalCount(), hs.Get(m).TotalCount())
				}
				if merged.Metrics[m] != want.Metrics[m] {
					t.Errorf("%s: merged stats %+v, from all records %+v", m, merged.Metrics[m], want.Metrics[m])
				}
			}
			if merged.Requests != want.Requests || merged.Throughput != want.Throughput || merged.Goodput != want.Goodput || merged.ErrorRate != want.ErrorRate {
				t.Errorf("merged counts %+v %+v %+v %g, from all records %+v %+v %+v %g", merged.Requests, merged.Throughput, merged.Goodput, merged.ErrorRate,
					want.Requests, want.Throughput, want.Goodput, want.ErrorRate)
			}
			if merged.Generator.CPUSeconds != want.Generator.CPUSeconds || merged.Generator.AchievedRate != want.Generator.AchievedRate {
				t.Errorf("merged generator %+v, want %+v", merged.Generator, want.Generator)
			}
			// The merged directory is a run like any other.
			if r := runCLI(t, nil, "report", out, "--format", "json"); r.code != 0 {
				t.Errorf("report of the merged run: exit %d %s", r.code, r.stderr)
			}
			if r := runCLI(t, nil, "check", out, "--slo", "error_rate<50%"); r.code != 0 {
				t.Errorf("check of the merged run: exit %d %s", r.code, r.stderr)
			}
		})
	}
}

// TestMergeStaleShardSummary: a shard whose summary.json does not match its
// records is caught, and the merged histograms come from the records.
func TestMergeStaleShardSummary(t *testing.T) {
	start := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	recs := synthRecords(200, 9)
	root := t.TempDir()
	var dirs []string
	for i := range 2 {
		d := filepath.Join(root, "shard-"+strconv.Itoa(i))
		writeSynthShard(t, d, recs, i, 2, start)
		dirs = append(dirs, d)
	}
	// Shard 1's summary says nothing was recorded.
	empty, _ := analysis.NewAccumulator().Summary(analysis.RunMeta{})
	if err := results.WriteJSON(dirs[1], results.SummaryFile, empty); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "merged")
	r := runCLI(t, nil, "merge", dirs[0], dirs[1], "-o", out)
	if r.code != 0 || !strings.Contains(r.stderr, "rebuilt from the records") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	var merged analysis.Summary
	if err := results.ReadJSON(out, results.SummaryFile, &merged); err != nil {
		t.Fatal(err)
	}
	if merged.Metrics["ttft"].Count == 0 || merged.Requests.Total != 200 {
		t.Errorf("merged ttft count %d, total %d", merged.Metrics["ttft"].Count, merged.Requests.Total)
	}
}

func TestMergeUsageErrors(t *testing.T) {
	start := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	recs := synthRecords(40, 1)
	root := t.TempDir()
	a, b := filepath.Join(root, "a"), filepath.Join(root, "b")
	writeSynthShard(t, a, recs, 0, 2, start)
	writeSynthShard(t, b, recs, 1, 3, start)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no output", []string{"merge", a}, "give the merged run directory with -o"},
		{"no shards", []string{"merge", "-o", filepath.Join(root, "m")}, "requires at least 1 arg"},
		{"mismatched shards", []string{"merge", a, b, "-o", filepath.Join(root, "m")}, "shards disagree on the shard count"},
		{"glob matches nothing", []string{"merge", filepath.Join(root, "x-*"), "-o", filepath.Join(root, "m")}, "no directory matches"},
		{"a shard missing", []string{"merge", a, "-o", filepath.Join(root, "m")}, "shards missing: 1/2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, tc.args...)
			if r.code != exitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", r.code, r.stderr, exitUsage, tc.want)
			}
		})
	}
}

// summaryOf reads a run's summary.json.
func summaryOf(t *testing.T, dir string) analysis.Summary {
	t.Helper()
	var s analysis.Summary
	if err := results.ReadJSON(dir, results.SummaryFile, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDistributedRunMatchesOneProcess (issue 9, done when 2): four worker
// processes with --shard i/4 and one --start-at against one simulator,
// merged, send the same requests on the same schedule as one process with
// the same seed, and measure the same latencies within noise.
func TestDistributedRunMatchesOneProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("five load runs of seconds each: make check runs it")
	}
	url, _ := startServe(t, "--scheduler", "fixed", "--ttft", "20ms", "--itl", "5ms")
	root := t.TempDir()
	common := []string{"--target", url, "--rate", "80", "--arrival", "poisson", "--requests", "320", "--seed", "11",
		"--input-tokens", "uniform:32,64", "--output-tokens", "8"}

	single := filepath.Join(root, "single")
	if r := runBinary(t, nil, append([]string{"run", "--out", single}, common...)...); r.code != 0 {
		t.Fatalf("single run: exit %d\n%s", r.code, r.stderr)
	}

	// Workers start together at a time far enough ahead for all four
	// processes to be up (loading the tokenizer takes a while on a busy
	// machine; a worker ready after --start-at sends its first arrivals
	// late, which its lag shows).
	startAt := time.Now().Add(6 * time.Second).UTC().Format(time.RFC3339Nano)
	var wg sync.WaitGroup
	shards := make([]string, 4)
	res := make([]result, 4)
	for i := range 4 {
		shards[i] = filepath.Join(root, "shard-"+strconv.Itoa(i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = runBinary(t, nil, append([]string{"run", "--shard", fmt.Sprintf("%d/4", i), "--start-at", startAt, "--out", shards[i]}, common...)...)
		}()
	}
	wg.Wait()
	for i, r := range res {
		if r.code != 0 {
			t.Fatalf("worker %d: exit %d\n%s", i, r.code, r.stderr)
		}
	}
	merged := filepath.Join(root, "merged")
	r := runBinary(t, nil, append(append([]string{"merge"}, shards...), "-o", merged)...)
	if r.code != 0 {
		t.Fatalf("merge: exit %d\n%s", r.code, r.stderr)
	}
	t.Logf("merge:\n%s", r.stdout)

	one, all := readRecords(t, single), readRecords(t, merged)
	if len(one) != 320 || len(all) != len(one) {
		t.Fatalf("one process recorded %d requests, the merged shards %d; want 320 each", len(one), len(all))
	}
	schedule := func(recs []*results.Record) map[string]int64 {
		m := make(map[string]int64, len(recs))
		for _, r := range recs {
			m[r.ID] = r.ScheduledNS
		}
		return m
	}
	want, got := schedule(one), schedule(all)
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if at, ok := got[id]; !ok || at != want[id] {
			t.Errorf("request %s: scheduled at %d ns by one process, %d (present %v) in the merged run", id, want[id], at, ok)
		}
	}
	if !slices.IsSortedFunc(all, func(a, b *results.Record) int { return int(a.ScheduledNS - b.ScheduledNS) }) {
		t.Error("merged requests.jsonl is not in scheduled order")
	}
	for _, r := range all {
		if r.Error != nil {
			t.Errorf("request %s failed: %v", r.ID, r.Error)
		}
	}

	s1, sm := summaryOf(t, single), summaryOf(t, merged)
	if sm.Requests.Total != s1.Requests.Total || sm.Requests.OK != s1.Requests.OK {
		t.Errorf("merged counts %+v, one process %+v", sm.Requests, s1.Requests)
	}
	for _, m := range []string{"ttft", "e2e"} {
		a, b := s1.Metrics[m].P50, sm.Metrics[m].P50
		t.Logf("%s p50: one process %.2f ms, four merged shards %.2f ms", m, a, b)
		if math.Abs(b-a) > 0.1*a {
			t.Errorf("%s p50: four merged shards %.2f ms, one process %.2f ms: more than 10%% apart", m, b, a)
		}
	}
	var info results.MergedRunInfo
	if err := results.ReadJSON(merged, results.RunFile, &info); err != nil {
		t.Fatal(err)
	}
	for _, sh := range info.MergedFrom {
		if sh.OffsetNS != 0 {
			t.Errorf("shard %s started %d ns after the earliest: --start-at should align them exactly", sh.Shard, sh.OffsetNS)
		}
	}
	if b, _ := json.Marshal(info.Shard); string(b) != `"merged from 4"` {
		t.Errorf("run.json shard %s", b)
	}
	if r := runBinary(t, nil, "report", merged); r.code != 0 || !strings.Contains(r.stdout, "ttft") {
		t.Errorf("report of the merged run: exit %d\n%s", r.code, r.stderr)
	}
}

// TestMergeNamesTheSaturatedShard: when one worker's generator fell
// behind, the merged run is marked saturated and every later warning
// (check, report) names that shard, not only the merged lag, which can
// look fine.
func TestMergeNamesTheSaturatedShard(t *testing.T) {
	start := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	recs := synthRecords(200, 5)
	root := t.TempDir()
	var dirs []string
	for i := range 2 {
		d := filepath.Join(root, "shard-"+strconv.Itoa(i))
		writeSynthShard(t, d, recs, i, 2, start)
		dirs = append(dirs, d)
	}
	var s analysis.Summary
	if err := results.ReadJSON(dirs[1], results.SummaryFile, &s); err != nil {
		t.Fatal(err)
	}
	s.GeneratorSaturated = true
	if err := results.WriteJSON(dirs[1], results.SummaryFile, &s); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(root, "merged")
	r := runCLI(t, nil, append(append([]string{"merge"}, dirs...), "-o", out)...)
	if r.code != 0 || !strings.Contains(r.stdout, "merged 2 shards, 200 records") {
		t.Fatalf("merge exit %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	merged := summaryOf(t, out)
	if !merged.GeneratorSaturated || len(merged.SaturatedShards) != 1 || merged.SaturatedShards[0].Shard != "1/2" {
		t.Fatalf("merged summary: saturated %v, shards %+v", merged.GeneratorSaturated, merged.SaturatedShards)
	}
	want := "the load generator of shard 1/2 was saturated (lag p99 "
	r = runCLI(t, nil, "check", out, "--slo", "ttft.p99<3600s")
	if !strings.Contains(r.stderr, want) {
		t.Errorf("check's warning does not name the shard:\n%s", r.stderr)
	}
	r = runCLI(t, nil, "report", out, "--format", "markdown")
	if !strings.Contains(r.stdout, "The load generator of shard 1/2 was saturated") {
		t.Errorf("report's warning does not name the shard:\n%s", r.stdout)
	}
}
