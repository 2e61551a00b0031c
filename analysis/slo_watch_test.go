package analysis_test

import (
	"sync"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/results"
)

// fakeClock is a settable clock for Watch.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestWatch(t *testing.T) {
	slos, err := analysis.ParseSLOs([]string{"ttft.p99<500ms", "error_rate<10%", "throughput.requests_per_s>=1"})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Unix(1000, 0)}
	w := analysis.NewWatch(slos, analysis.WatchOptions{Window: 10 * time.Second, MinRequests: 5, Now: clock.Now})
	good := func() *results.Record { return &results.Record{TTFTMS: results.Ms(100), E2EMS: 200} }
	slow := func() *results.Record { return &results.Record{TTFTMS: results.Ms(900), E2EMS: 1000} }
	failed := func() *results.Record { return &results.Record{Error: &results.Error{Kind: results.KindHTTP5xx}} }
	feed := func(n int, mk func() *results.Record) {
		for range n {
			clock.Add(100 * time.Millisecond)
			w.Append(mk())
		}
	}
	lostExprs := func() []string {
		var out []string
		for _, r := range w.Check() {
			out = append(out, r.Expr)
		}
		return out
	}

	feed(20, slow)
	if lost := lostExprs(); lost != nil {
		t.Errorf("during the grace period: lost %v", lost)
	}
	feed(120, good) // 12 s of good traffic at 10 req/s: the slow ones are out of the window
	if lost := lostExprs(); lost != nil {
		t.Errorf("a healthy window: lost %v", lost)
	}
	// Warm-up and canceled requests are not judged.
	for range 50 {
		w.Append(&results.Record{Warmup: true, TTFTMS: results.Ms(5000)})
		w.Append(&results.Record{Error: &results.Error{Kind: results.KindCanceled}})
	}
	if lost := lostExprs(); lost != nil {
		t.Errorf("after warm-up and canceled records: lost %v", lost)
	}
	feed(30, slow) // 3 s of slow requests: 30 of the last 100 are over 500 ms
	if lost := lostExprs(); len(lost) != 1 || lost[0] != "ttft.p99<500ms" {
		t.Errorf("slow requests: lost %v, want ttft.p99<500ms", lost)
	}
	feed(100, good) // the slow ones leave the window
	if lost := lostExprs(); lost != nil {
		t.Errorf("recovered: lost %v", lost)
	}
	feed(20, failed)
	if lost := lostExprs(); len(lost) != 1 || lost[0] != "error_rate<10%" {
		t.Errorf("errors: lost %v, want error_rate<10%%", lost)
	}
	// A stall: nothing finishes for a whole window. Too few requests to
	// judge latencies or errors, but the rate is 0.
	clock.Add(11 * time.Second)
	res := w.Check()
	if len(res) != 1 || res[0].Expr != "throughput.requests_per_s>=1" || res[0].Value != 0 || res[0].Margin != -1 {
		t.Errorf("stall: lost %+v, want the throughput SLO at 0 req/s", res)
	}
	feed(3, good)
	if lost := lostExprs(); len(lost) != 1 || lost[0] != "throughput.requests_per_s>=1" {
		t.Errorf("3 requests in 10 s: lost %v, want only the rate (too few for the rest)", lost)
	}
}

// TestWatchConcurrent: records arrive from many goroutines while Check runs.
func TestWatchConcurrent(t *testing.T) {
	slos, _ := analysis.ParseSLOs([]string{"ttft.p99<500ms"})
	w := analysis.NewWatch(slos, analysis.WatchOptions{Grace: time.Nanosecond})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				w.Append(&results.Record{TTFTMS: results.Ms(10)})
			}
		})
	}
	wg.Go(func() {
		for range 10 {
			if lost := w.Check(); lost != nil {
				t.Errorf("lost %v", lost)
			}
		}
	})
	wg.Wait()
}
