package monitor_test

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/monitor"
	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
)

// fakeClock is a clock tests step by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func okRecord(ttftMS float64, outTok int) *results.Record {
	return &results.Record{TTFTMS: results.Ms(ttftMS), E2EMS: ttftMS + 100, OutputTokens: outTok, TPOTMS: results.Ms(5),
		ICLMS: []float64{4, 6}, FrameTokens: []int{1, 1, 2}}
}

func TestSnapshotSlidingWindow(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := &fakeClock{t: t0}
	m := monitor.New(monitor.WithClock(clk.Now))
	if s := m.Snapshot(); s.Started {
		t.Fatalf("started before Begin: %+v", s)
	}
	m.Begin(t0, monitor.Plan{Duration: time.Minute})

	// Second 0: 100 requests with ttft 1..100 ms, 10 tokens each.
	clk.Set(t0.Add(500 * time.Millisecond))
	for i := 1; i <= 100; i++ {
		m.Append(okRecord(float64(i), 10))
	}
	// A failure, a cancellation and a warm-up request: counted, not timed.
	m.Append(&results.Record{Error: &results.Error{Kind: results.KindHTTP5xx}})
	m.Append(&results.Record{Error: &results.Error{Kind: results.KindCanceled}})
	w := okRecord(5000, 1000)
	w.Warmup = true
	m.Append(w)

	clk.Set(t0.Add(2 * time.Second))
	s := m.Snapshot()
	if s.OK != 101 || s.Failed != 1 || s.Canceled != 1 {
		t.Errorf("counts = ok %d failed %d canceled %d, want 101 1 1", s.OK, s.Failed, s.Canceled)
	}
	if s.OutputTokens != 2000 {
		t.Errorf("output tokens = %d, want 2000", s.OutputTokens)
	}
	if s.TTFTCount != 100 {
		t.Errorf("ttft count = %d, want 100 (the warm-up request left out)", s.TTFTCount)
	}
	if math.Abs(s.TTFTP50MS-50) > 1 || math.Abs(s.TTFTP99MS-99) > 1.5 {
		t.Errorf("ttft p50 %.3f p99 %.3f, want about 50 and 99", s.TTFTP50MS, s.TTFTP99MS)
	}
	if s.Window != 2*time.Second || math.Abs(s.OutputTokensPerS-500) > 1e-9 {
		t.Errorf("window %s, %.2f tok/s; want 2s and 1000 tokens / 2 s", s.Window, s.OutputTokensPerS)
	}

	// Second 12: 10 requests with ttft 1000 ms. Second 0 has left the window.
	clk.Set(t0.Add(12*time.Second + 500*time.Millisecond))
	for range 10 {
		m.Append(okRecord(1000, 50))
	}
	s = m.Snapshot()
	if s.TTFTCount != 10 || math.Abs(s.TTFTP50MS-1000) > 10 {
		t.Errorf("after 12 s: ttft count %d p50 %.1f, want only the 10 new requests at 1000 ms", s.TTFTCount, s.TTFTP50MS)
	}
	if s.Window != 9*time.Second+500*time.Millisecond || math.Abs(s.OutputTokensPerS-500/9.5) > 1e-9 {
		t.Errorf("after 12 s: window %s, %.3f tok/s; want 9.5s and 500 tokens / 9.5 s", s.Window, s.OutputTokensPerS)
	}

	// Long after, the ring's buckets are stale: nothing in the window.
	clk.Set(t0.Add(45 * time.Second))
	if s = m.Snapshot(); s.TTFTCount != 0 || s.OutputTokensPerS != 0 || s.OK != 111 {
		t.Errorf("after 45 s: %+v, want an empty window and every count kept", s)
	}
	m.End()
	clk.Set(t0.Add(time.Hour))
	if s = m.Snapshot(); !s.Ended || s.Elapsed != 45*time.Second {
		t.Errorf("after End: ended %v elapsed %s, want the clock stopped at 45s", s.Ended, s.Elapsed)
	}
}

// blockingDoer holds each request until release is closed.
type blockingDoer struct {
	entered chan struct{}
	release chan struct{}
}

func (d *blockingDoer) Do(context.Context, *targets.Request) *targets.Response {
	d.entered <- struct{}{}
	<-d.release
	return &targets.Response{}
}

func TestDoerCountsSentAndInFlight(t *testing.T) {
	m := monitor.New()
	d := &blockingDoer{entered: make(chan struct{}), release: make(chan struct{})}
	doer := m.Doer(d)
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { doer.Do(context.Background(), &targets.Request{}) })
	}
	for range 3 {
		<-d.entered
	}
	if s := m.Snapshot(); s.Sent != 3 || s.InFlight != 3 {
		t.Errorf("while blocked: sent %d in flight %d, want 3 3", s.Sent, s.InFlight)
	}
	close(d.release)
	wg.Wait()
	if s := m.Snapshot(); s.Sent != 3 || s.InFlight != 0 {
		t.Errorf("after: sent %d in flight %d, want 3 0", s.Sent, s.InFlight)
	}
}

// TestConcurrentUse feeds a monitor from many goroutines while reading it,
// for the race detector.
func TestConcurrentUse(t *testing.T) {
	m := monitor.New()
	m.Begin(time.Now(), monitor.Plan{Requests: 800})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 100 {
				m.Append(okRecord(float64(g*100+i+1), 3))
				if i%10 == 0 {
					m.Snapshot()
				}
			}
		})
	}
	wg.Wait()
	if s := m.Snapshot(); s.OK != 800 || s.OutputTokens != 2400 {
		t.Errorf("ok %d tokens %d, want 800 2400", s.OK, s.OutputTokens)
	}
}
