package loadgen_test

import (
	"context"
	"sort"
	"testing"

	"github.com/streamgauge/streamgauge/loadgen"
)

// TestShardsUnionIsTheSchedule: four shards with one seed send, together,
// exactly the requests and scheduled times one process sends.
func TestShardsUnionIsTheSchedule(t *testing.T) {
	run := func(opts ...loadgen.Option) map[string]int64 {
		p, err := loadgen.NewPacer("poisson", 5000, 1, 9)
		if err != nil {
			t.Fatal(err)
		}
		sink := &memSink{}
		all := append([]loadgen.Option{loadgen.WithPacer(p), loadgen.WithRequests(200)}, opts...)
		if _, err := newRunner(t, &fakeDoer{}, &fakeSource{}, sink, all...).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		out := map[string]int64{}
		for _, r := range sink.records() {
			out[r.ID] = r.ScheduledNS
		}
		return out
	}
	whole := run()
	union := map[string]int64{}
	for i := 0; i < 4; i++ {
		part := run(loadgen.WithShard(i, 4))
		if len(part) != 50 {
			t.Errorf("shard %d sent %d requests, want 50", i, len(part))
		}
		for id, at := range part {
			if _, dup := union[id]; dup {
				t.Errorf("request %s sent by two shards", id)
			}
			union[id] = at
		}
	}
	if len(union) != len(whole) {
		t.Fatalf("shards sent %d requests, one process %d", len(union), len(whole))
	}
	ids := make([]string, 0, len(whole))
	for id := range whole {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if union[id] != whole[id] {
			t.Errorf("request %s scheduled at %d by its shard, %d by one process", id, union[id], whole[id])
		}
	}
	if _, err := loadgen.New(&fakeDoer{}, &fakeSource{}, &memSink{}, loadgen.WithUsers(1), loadgen.WithRequests(1), loadgen.WithShard(4, 4)); err == nil {
		t.Error("shard 4/4 accepted")
	}
}
