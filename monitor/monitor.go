package monitor

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
)

// Window is how far back the live latency and throughput figures look.
const Window = 10 * time.Second

// Live histograms record microseconds, 1 µs to 1 h, with 2 significant
// digits: a status line needs no more, and merging the window's buckets a
// few times a second stays cheap.
const (
	liveMinUS  = 1
	liveMaxUS  = int64(3600) * 1e6
	liveDigits = 2
)

// Doer sends one request and reads its stream (loadgen.Doer,
// targets.Client).
type Doer interface {
	Do(ctx context.Context, r *targets.Request) *targets.Response
}

// Plan is what the run set out to do, for the time and requests left.
type Plan struct {
	// Duration is how long the schedule runs (0 = until Requests).
	Duration time.Duration
	// Requests is the request budget (0 = until Duration).
	Requests uint64
}

// Monitor keeps a run's live figures. Feed it finished records (it is a
// loadgen.Sink) and wrap the run's Doer with Doer so it sees sends; read it
// with Snapshot. It is safe for concurrent use.
type Monitor struct {
	now func() time.Time

	sent     atomic.Int64
	inFlight atomic.Int64

	mu       sync.Mutex
	origin   time.Time
	plan     Plan
	started  bool
	ended    time.Duration // elapsed at End; -1 while running
	ok       int64
	failed   int64
	canceled int64
	outTok   int64
	// ring holds one bucket per second of the run, indexed by second
	// modulo its length; a bucket whose sec is stale is empty.
	ring    [int(Window/time.Second) + 1]bucket
	scratch *hdrhistogram.Histogram

	prom *promMetrics
}

// bucket is one second of finished measured requests.
type bucket struct {
	sec    int64
	ttft   *hdrhistogram.Histogram
	outTok int64
}

// Option configures a Monitor.
type Option func(*Monitor)

// WithClock replaces time.Now (tests step a fake clock).
func WithClock(now func() time.Time) Option {
	return func(m *Monitor) { m.now = now }
}

// New returns a Monitor for one run.
func New(opts ...Option) *Monitor {
	m := &Monitor{now: time.Now, ended: -1, scratch: newLive()}
	for i := range m.ring {
		m.ring[i] = bucket{sec: -1, ttft: newLive()}
	}
	for _, o := range opts {
		o(m)
	}
	m.prom = newPromMetrics(m)
	return m
}

func newLive() *hdrhistogram.Histogram { return hdrhistogram.New(liveMinUS, liveMaxUS, liveDigits) }

// Begin marks the run's time origin (the offsets of the records and of the
// scraped server metrics count from it) and what the run set out to do.
func (m *Monitor) Begin(origin time.Time, plan Plan) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.origin, m.plan, m.started = origin, plan, true
}

// End marks the end of the load: the elapsed time stops and a live view
// gives way to the results.
func (m *Monitor) End() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started && m.ended < 0 {
		m.ended = max(m.now().Sub(m.origin), 0)
	}
}

// Doer wraps d so the monitor counts requests sent and in flight.
func (m *Monitor) Doer(d Doer) Doer { return &countingDoer{d: d, m: m} }

type countingDoer struct {
	d Doer
	m *Monitor
}

func (c *countingDoer) Do(ctx context.Context, r *targets.Request) *targets.Response {
	c.m.sent.Add(1)
	c.m.inFlight.Add(1)
	defer c.m.inFlight.Add(-1)
	return c.d.Do(ctx, r)
}

// Append takes one finished record. It never fails; the signature makes a
// Monitor a record sink.
func (m *Monitor) Append(r *results.Record) error {
	m.prom.observe(r)
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case r.Error != nil && r.Error.Kind == results.KindCanceled:
		m.canceled++
		return nil
	case r.Error != nil:
		m.failed++
		return nil
	}
	m.ok++
	m.outTok += int64(r.OutputTokens)
	if r.Warmup || !m.started {
		return nil
	}
	b := m.bucketAt(m.second(m.now()))
	b.outTok += int64(r.OutputTokens)
	if r.TTFTMS != nil {
		us := int64(math.Round(*r.TTFTMS * 1000))
		_ = b.ttft.RecordValue(min(max(us, liveMinUS), liveMaxUS))
	}
	return nil
}

// second is the run's second that t falls in (negative before the origin).
func (m *Monitor) second(t time.Time) int64 {
	d := t.Sub(m.origin)
	if d < 0 {
		return -1
	}
	return int64(d / time.Second)
}

// bucketAt returns sec's bucket, emptied if it last held an older second.
func (m *Monitor) bucketAt(sec int64) *bucket {
	b := &m.ring[int(max(sec, 0))%len(m.ring)]
	if b.sec != sec {
		b.sec = sec
		b.ttft.Reset()
		b.outTok = 0
	}
	return b
}

// Snapshot is the run as it stands.
type Snapshot struct {
	// Started is false until the run's clock starts.
	Started bool
	// Ended is true once the load is over.
	Ended   bool
	Elapsed time.Duration
	Plan    Plan
	// Sent counts requests handed to the target, InFlight those not yet
	// finished; OK, Failed and Canceled count finished requests (warm-up
	// included).
	Sent, InFlight, OK, Failed, Canceled int64
	// OutputTokens counts the output tokens of every successful request.
	OutputTokens int64
	// Window is the stretch the live figures cover: the last 10 s, or the
	// run so far if it is shorter.
	Window time.Duration
	// TTFTCount, TTFTP50MS and TTFTP99MS describe the time to first token of
	// the measured requests that finished within Window.
	TTFTCount            int64
	TTFTP50MS, TTFTP99MS float64
	// OutputTokensPerS is the output token rate of the requests that
	// finished within Window.
	OutputTokensPerS float64
}

// Snapshot returns the live figures now.
func (m *Monitor) Snapshot() Snapshot {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	s := Snapshot{Started: m.started, Ended: m.ended >= 0, Plan: m.plan,
		Sent: m.sent.Load(), InFlight: m.inFlight.Load(), OK: m.ok, Failed: m.failed, Canceled: m.canceled, OutputTokens: m.outTok}
	if !m.started {
		return s
	}
	elapsed := now.Sub(m.origin)
	if m.ended >= 0 {
		elapsed = m.ended
		now = m.origin.Add(elapsed)
	}
	s.Elapsed = elapsed
	if elapsed <= 0 {
		return s
	}
	// The window is the buckets of the last len(ring)-1 seconds, the
	// current (partial) one included.
	cur := m.second(now)
	first := max(cur-int64(len(m.ring))+2, 0)
	s.Window = elapsed - time.Duration(first)*time.Second
	m.scratch.Reset()
	var tok int64
	for sec := first; sec <= cur; sec++ {
		b := &m.ring[int(sec)%len(m.ring)]
		if b.sec != sec {
			continue
		}
		tok += b.outTok
		m.scratch.Merge(b.ttft)
	}
	if s.Window > 0 {
		s.OutputTokensPerS = float64(tok) / s.Window.Seconds()
	}
	if s.TTFTCount = m.scratch.TotalCount(); s.TTFTCount > 0 {
		s.TTFTP50MS = float64(m.scratch.ValueAtQuantile(50)) / 1000
		s.TTFTP99MS = float64(m.scratch.ValueAtQuantile(99)) / 1000
	}
	return s
}
