package harness_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/harness"
	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/results"
)

// TestTraceSpreadRun (issue 20 item 4): a replay with --trace-spread sends
// on the spread schedule, and the workers of a sharded replay compute the
// same one, so their shards together are one process's schedule.
func TestTraceSpreadRun(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	for k, n := range []int{3, 1, 4} { // Mooncake: three 3 s slots
		for range n {
			fmt.Fprintf(&b, `{"timestamp": %d, "input_length": 16, "output_length": 2, "hash_ids": [%d]}`+"\n", 3000*k, k)
		}
	}
	trace := filepath.Join(dir, "mooncake.jsonl")
	if err := os.WriteFile(trace, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	const speed = 20 // 3 s slots replayed in 150 ms
	for _, how := range []string{loadgen.SpreadUniform, loadgen.SpreadPoisson} {
		t.Run(how, func(t *testing.T) {
			f, err := os.Open(trace)
			if err != nil {
				t.Fatal(err)
			}
			tr, err := loadgen.ReadTrace(f, trace, "auto")
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			sp, err := tr.Spread(how, tr.SlotWidth(), 3)
			if err != nil {
				t.Fatal(err)
			}
			sp, _ = sp.Slice(0, 0, speed)
			var want []int64
			for _, e := range sp.Entries {
				want = append(want, int64(e.At))
			}
			run := func(shard, out string) []int64 {
				p := sweepProfile(t)
				p.Rate, p.Trace, p.TraceSpeed, p.TraceSpread, p.Seed, p.Shard, p.Out = 0, trace, speed, how, 3, shard, filepath.Join(dir, how, out)
				if shard != "" {
					p.StartAt = time.Now().Add(time.Second).UTC().Format(time.RFC3339Nano)
				}
				if _, err := harness.Run(context.Background(), p); err != nil {
					t.Fatal(err)
				}
				var got []int64
				err := results.ReadRecords(p.Out, func(r *results.Record) error {
					i, _ := strconv.Atoi(r.ID)
					got = slices.Grow(got, i+1)[:max(len(got), i+1)]
					got[i] = r.ScheduledNS
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
			if got := run("", "single"); !slices.Equal(got, want) {
				t.Errorf("one process scheduled %v, want the spread schedule %v", got, want)
			}
			s0, s1 := run("0/2", "shard-0"), run("1/2", "shard-1")
			for i, at := range want {
				s := s0
				if i%2 == 1 {
					s = s1
				}
				if i >= len(s) || s[i] != at {
					t.Errorf("request %d: shard %d/2 did not schedule it at %d ns (%v)", i, i%2, at, s)
				}
			}
		})
	}
}
