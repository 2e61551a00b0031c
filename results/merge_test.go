package results_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/results"
)

var mergeStart = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)

// shardSpec describes one shard directory to write.
type shardSpec struct {
	shard   string
	seed    uint64
	profile map[string]any
	start   time.Time
	// ids are the request numbers the shard sent; request n is scheduled
	// at n ms (relative to mergeStart) and finishes out of order.
	ids []int
	// status is run.json's status ("" for a shard too old to have one).
	status string
}

func mergeProfile() map[string]any {
	return map[string]any{"name": "dist", "rate": 1000.0, "seed": 7.0, "start-at": "2026-11-28T10:00:00Z"}
}

// writeShard writes a shard run directory: run.json and requests.jsonl in
// finish order (not scheduled order).
func writeShard(t *testing.T, dir string, sp shardSpec) {
	t.Helper()
	w, err := results.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	off := int64(mergeStart.Sub(sp.start)) // the shard's offsets count from its own start
	recs := make([]*results.Record, len(sp.ids))
	for i, n := range sp.ids {
		sched := int64(n)*1e6 + off
		recs[i] = &results.Record{ID: strconv.Itoa(n), ScheduledNS: sched, SentNS: sched + 1000, FirstTokenNS: sched + 20e6,
			DoneNS: sched + int64(100-n%7*10)*1e6, TTFTMS: results.Ms(20), E2EMS: float64(100 - n%7*10), ICLMS: []float64{}}
	}
	if len(recs) > 0 {
		recs[0].FirstTokenNS, recs[0].TTFTMS = 0, nil // a request with no token keeps first_token_ns 0
	}
	slices.SortFunc(recs, func(a, b *results.Record) int { return int(a.DoneNS - b.DoneNS) })
	for _, r := range recs {
		if err := w.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	info := results.RunInfo{Tool: "streamgauge", Version: "test", Start: sp.start, End: sp.start.Add(time.Second),
		Profile: sp.profile, Target: "http://127.0.0.1:8000", API: "openai-chat", Seed: sp.seed, Shard: sp.shard, Status: sp.status}
	if err := results.WriteJSON(dir, results.RunFile, info); err != nil {
		t.Fatal(err)
	}
}

// idsOf returns n in [0, total) with n%of == i.
func idsOf(i, of, total int) []int {
	var ids []int
	for n := i; n < total; n += of {
		ids = append(ids, n)
	}
	return ids
}

func fourShards(t *testing.T, edit func(i int, sp *shardSpec)) []string {
	t.Helper()
	root := t.TempDir()
	var dirs []string
	for i := range 4 {
		sp := shardSpec{shard: strconv.Itoa(i) + "/4", seed: 7, profile: mergeProfile(), start: mergeStart, ids: idsOf(i, 4, 40)}
		sp.profile["shard"] = sp.shard
		sp.profile["out"] = "shard-" + strconv.Itoa(i)
		if edit != nil {
			edit(i, &sp)
		}
		d := filepath.Join(root, "shard-"+strconv.Itoa(i))
		writeShard(t, d, sp)
		dirs = append(dirs, d)
	}
	return dirs
}

func TestMerge(t *testing.T) {
	tests := []struct {
		name string
		// skew delays shard i's start by skew(i).
		skew     func(i int) time.Duration
		warnings string
	}{
		{name: "shards share one start", skew: func(int) time.Duration { return 0 }},
		{name: "small differences are re-based", skew: func(i int) time.Duration { return time.Duration(i) * 3 * time.Millisecond }},
		{name: "a late shard is re-based and warned of", skew: func(i int) time.Duration { return time.Duration(i) * 200 * time.Millisecond }, warnings: "apart"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dirs := fourShards(t, func(i int, sp *shardSpec) { sp.start = mergeStart.Add(tc.skew(i)) })
			slices.Reverse(dirs) // argument order does not matter
			out := filepath.Join(t.TempDir(), "merged")
			res, err := results.Merge(out, dirs)
			if err != nil {
				t.Fatal(err)
			}
			if res.Records != 40 || res.Info.Shard != "merged from 4" || len(res.Info.MergedFrom) != 4 {
				t.Errorf("merged %d records, shard %q, %d shards", res.Records, res.Info.Shard, len(res.Info.MergedFrom))
			}
			if got := strings.Join(res.Warnings, "\n"); (tc.warnings == "") != (got == "") || !strings.Contains(got, tc.warnings) {
				t.Errorf("warnings %q, want %q", got, tc.warnings)
			}
			recs := readAll(t, out)
			if len(recs) != 40 {
				t.Fatalf("%d records, want 40", len(recs))
			}
			for n, r := range recs {
				// Request n is scheduled at n ms of the merged run: the
				// earliest start is the origin, and shard n%4 started
				// skew(n%4) later, so its offsets grew by that much.
				want := int64(n) * 1e6
				if r.ID != strconv.Itoa(n) || r.ScheduledNS != want {
					t.Errorf("record %d: id %s scheduled %d, want id %d at %d", n, r.ID, r.ScheduledNS, n, want)
				}
				if r.SentNS != r.ScheduledNS+1000 {
					t.Errorf("record %s: sent %d not re-based with its scheduled time %d", r.ID, r.SentNS, r.ScheduledNS)
				}
				if (r.TTFTMS == nil) != (r.FirstTokenNS == 0) {
					t.Errorf("record %s: first_token_ns %d with ttft %v", r.ID, r.FirstTokenNS, r.TTFTMS)
				}
			}
			if !res.Info.Start.Equal(mergeStart) {
				t.Errorf("merged start %s, want the earliest shard's %s", res.Info.Start, mergeStart)
			}
			var info results.MergedRunInfo
			if err := results.ReadJSON(out, results.RunFile, &info); err != nil {
				t.Fatal(err)
			}
			prof := info.Profile.(map[string]any)
			if _, ok := prof["shard"]; ok || prof["out"] != out || info.Shard != "merged from 4" || len(info.MergedFrom) != 4 {
				t.Errorf("run.json: shard %q, profile %v, %d shards", info.Shard, prof, len(info.MergedFrom))
			}
			for _, sh := range info.MergedFrom {
				i, _ := strconv.Atoi(sh.Shard[:1])
				if sh.OffsetNS != int64(tc.skew(i)) || sh.Records != 10 {
					t.Errorf("shard %s: offset %d records %d, want %d and 10", sh.Shard, sh.OffsetNS, sh.Records, tc.skew(i))
				}
			}
		})
	}
}

// TestMergeKeepsLines: shards that share a start are copied byte for byte.
func TestMergeKeepsLines(t *testing.T) {
	dirs := fourShards(t, nil)
	out := filepath.Join(t.TempDir(), "merged")
	if _, err := results.Merge(out, dirs); err != nil {
		t.Fatal(err)
	}
	lines := map[string]bool{}
	for _, d := range dirs {
		b, _ := os.ReadFile(filepath.Join(d, results.RequestsFile))
		for l := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
			lines[l] = true
		}
	}
	b, _ := os.ReadFile(filepath.Join(out, results.RequestsFile))
	for l := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
		if !lines[l] {
			t.Errorf("merged line is not a shard's line: %s", l)
		}
	}
}

func TestMergeTornLastLine(t *testing.T) {
	dirs := fourShards(t, nil)
	f, err := os.OpenFile(filepath.Join(dirs[2], results.RequestsFile), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"id":"99","scheduled_`)
	f.Close()
	out := filepath.Join(t.TempDir(), "merged")
	res, err := results.Merge(out, dirs)
	if err != nil {
		t.Fatal(err)
	}
	if res.Records != 40 {
		t.Errorf("%d records, want the 40 whole ones", res.Records)
	}
}

func TestMergeMismatch(t *testing.T) {
	tests := []struct {
		name string
		edit func(i int, sp *shardSpec)
		dirs func(dirs []string) []string
		want []string
	}{
		{name: "another seed", edit: func(i int, sp *shardSpec) {
			if i == 2 {
				sp.seed = 8
			}
		}, want: []string{"shards disagree on the seed", "shard-2 has 8"}},
		{name: "another profile", edit: func(i int, sp *shardSpec) {
			if i == 1 {
				sp.profile["rate"] = 500.0
				sp.profile["output-tokens"] = "64"
			}
		}, want: []string{"shards ran different profiles", "output-tokens (unset vs \"64\")", "rate (1000 vs 500)"}},
		{name: "another shard count", edit: func(i int, sp *shardSpec) {
			if i == 3 {
				sp.shard = "3/5"
			}
		}, want: []string{"shards disagree on the shard count", "3/5"}},
		{name: "a shard twice", dirs: func(d []string) []string { return append(d, d[1]) }, want: []string{"shard 1/4 appears twice"}},
		{name: "a shard missing", dirs: func(d []string) []string { return []string{d[0], d[2]} }, want: []string{"shards missing: 1/4, 3/4 (got 2 of 4)"}},
		{name: "not a shard", edit: func(i int, sp *shardSpec) {
			if i == 0 {
				sp.shard = "0/1"
			}
		}, want: []string{"not a shard (shard 0/1"}},
		{name: "not a run directory", dirs: func(d []string) []string { return append(d[:3:3], filepath.Dir(d[0])) }, want: []string{"no run.json: not a run directory"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dirs := fourShards(t, tc.edit)
			if tc.dirs != nil {
				dirs = tc.dirs(dirs)
			}
			out := filepath.Join(t.TempDir(), "merged")
			_, err := results.Merge(out, dirs)
			var mm *results.ShardMismatchError
			if err == nil || !errors.As(err, &mm) {
				t.Fatalf("err %v, want a ShardMismatchError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if _, err := os.Stat(filepath.Join(out, results.RequestsFile)); err == nil {
				t.Error("a refused merge wrote requests.jsonl")
			}
		})
	}
	t.Run("output is a shard", func(t *testing.T) {
		dirs := fourShards(t, nil)
		if _, err := results.Merge(dirs[0], dirs); err == nil || !strings.Contains(err.Error(), "is one of the shards") {
			t.Errorf("err %v", err)
		}
	})
	t.Run("output holds a run", func(t *testing.T) {
		dirs := fourShards(t, nil)
		out := filepath.Join(t.TempDir(), "merged")
		if _, err := results.Merge(out, dirs); err != nil {
			t.Fatal(err)
		}
		if _, err := results.Merge(out, dirs); err == nil || !strings.Contains(err.Error(), "already holds a run") {
			t.Errorf("err %v", err)
		}
	})
}
