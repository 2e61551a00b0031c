package loadgen_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
)

// fakeDoer answers every request with a canned three-frame stream, without
// a network. It counts calls and the most requests in flight at once. With
// a gate, each call blocks until the gate is closed or, when it respects
// the context, until its context is canceled.
type fakeDoer struct {
	gate       chan struct{}
	ignoresCtx bool
	started    chan string // receives each request's id as it starts, if set

	calls    atomic.Int64
	inFlight atomic.Int64
	maxIn    atomic.Int64
}

func (d *fakeDoer) Do(ctx context.Context, r *targets.Request) *targets.Response {
	sent := time.Now()
	d.calls.Add(1)
	n := d.inFlight.Add(1)
	defer d.inFlight.Add(-1)
	for m := d.maxIn.Load(); n > m && !d.maxIn.CompareAndSwap(m, n); m = d.maxIn.Load() {
	}
	if d.started != nil {
		d.started <- r.ID
	}
	if d.gate != nil {
		done := ctx.Done()
		if d.ignoresCtx {
			done = nil
		}
		select {
		case <-d.gate:
		case <-done:
			return &targets.Response{Sent: sent, Done: time.Since(sent), Status: 200,
				Err: &results.Error{Kind: results.KindCanceled, Message: "run stopped before the request finished"}}
		}
	}
	resp := &targets.Response{Sent: sent, Header: time.Millisecond, Done: 4 * time.Millisecond, Status: 200, Frames: []targets.Stamp{
		{At: 2 * time.Millisecond, Text: "a", Content: true},
		{At: 3 * time.Millisecond, Text: "b", Content: true},
		{At: 4 * time.Millisecond, Text: "c", Content: true},
	}}
	resp.Content.WriteString("abc")
	return resp
}

// fakeSource synthesises request i with i input tokens; failAt lists the
// indices that fail.
type fakeSource struct {
	failAt []uint64
}

func (s *fakeSource) Request(i uint64) (*targets.Request, error) {
	if slices.Contains(s.failAt, i) {
		return nil, fmt.Errorf("prompt %d: no text long enough", i)
	}
	return &targets.Request{Model: "m", Prompt: "p", InputTokens: int(i), MaxTokens: 3}, nil
}

// memSink keeps records; from failFrom on (1-based), Append fails.
type memSink struct {
	mu       sync.Mutex
	recs     []*results.Record
	failFrom int
	appends  int
}

var errDiskFull = errors.New("write requests.jsonl: no space left on device")

func (s *memSink) Append(r *results.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appends++
	if s.failFrom > 0 && s.appends >= s.failFrom {
		return errDiskFull
	}
	s.recs = append(s.recs, r)
	return nil
}

func (s *memSink) records() []*results.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.recs)
}

// stepPacer schedules hit n at n*step: a schedule known in advance.
type stepPacer struct{ step time.Duration }

func (p stepPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	return max(time.Duration(hits)*p.step-elapsed, 0), false
}

func (p stepPacer) Rate(time.Duration) float64 { return float64(time.Second) / float64(p.step) }

// runAsync starts r.Run and returns a channel with its result.
type runResult struct {
	stats *loadgen.Stats
	err   error
}

func runAsync(ctx context.Context, r *loadgen.Runner) <-chan runResult {
	ch := make(chan runResult, 1)
	go func() {
		st, err := r.Run(ctx)
		ch <- runResult{st, err}
	}()
	return ch
}

// wait returns Run's result. The bound only turns a deadlock into a
// failure; no test asserts how long a run takes.
func wait(t *testing.T, ch <-chan runResult) runResult {
	t.Helper()
	select {
	case res := <-ch:
		return res
	case <-time.After(time.Minute):
		t.Fatal("Run did not return")
		return runResult{}
	}
}

func newRunner(t *testing.T, d loadgen.Doer, src loadgen.Source, sink loadgen.Sink, opts ...loadgen.Option) *loadgen.Runner {
	t.Helper()
	r, err := loadgen.New(d, src, sink, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// checkRecords verifies the invariants every run keeps: one record per
// request sent, ids unique, lag = sent - scheduled and never negative.
func checkRecords(t *testing.T, recs []*results.Record, st *loadgen.Stats, calls int64) {
	t.Helper()
	if int64(len(recs)) != calls || st.Sent != uint64(calls) || st.Recorded != uint64(len(recs)) {
		t.Errorf("%d records, %d doer calls, stats sent %d recorded %d: want all equal", len(recs), calls, st.Sent, st.Recorded)
	}
	seen := map[string]bool{}
	for _, r := range recs {
		if seen[r.ID] {
			t.Errorf("id %s recorded twice", r.ID)
		}
		seen[r.ID] = true
		if r.LagMS != float64(r.SentNS-r.ScheduledNS)/1e6 || r.LagMS < 0 {
			t.Errorf("id %s: lag %v ms, scheduled %d, sent %d", r.ID, r.LagMS, r.ScheduledNS, r.SentNS)
		}
	}
	if st.End.Before(st.Start) || st.CPU < 0 {
		t.Errorf("stats: start %v end %v cpu %v", st.Start, st.End, st.CPU)
	}
}

// ids returns the sorted numeric ids of records.
func ids(t *testing.T, recs []*results.Record) []int {
	t.Helper()
	out := make([]int, 0, len(recs))
	for _, r := range recs {
		n, err := strconv.Atoi(r.ID)
		if err != nil {
			t.Fatalf("id %q is not the request index", r.ID)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func TestRunRequestLimit(t *testing.T) {
	tests := []struct {
		name  string
		pacer vegeta.Pacer
		users int
		n     uint64
	}{
		{"open loop, constant", mustPacer(t, loadgen.ArrivalConstant, 1e5, 0, 1), 0, 50},
		{"open loop, poisson", mustPacer(t, loadgen.ArrivalPoisson, 1e5, 0, 1), 0, 40},
		{"open loop, gamma", mustPacer(t, loadgen.ArrivalGamma, 1e5, 3, 1), 0, 40},
		{"closed loop, 3 users", nil, 3, 25},
		{"closed loop, 1 user", nil, 1, 7},
		{"closed loop, more users than requests", nil, 8, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, sink := &fakeDoer{}, &memSink{}
			opts := []loadgen.Option{loadgen.WithRequests(tc.n), loadgen.WithCounter(words{})}
			if tc.pacer != nil {
				opts = append(opts, loadgen.WithPacer(tc.pacer))
			} else {
				opts = append(opts, loadgen.WithUsers(tc.users))
			}
			st, err := newRunner(t, d, &fakeSource{}, sink, opts...).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			recs := sink.records()
			if d.calls.Load() != int64(tc.n) {
				t.Errorf("doer called %d times, want exactly %d", d.calls.Load(), tc.n)
			}
			checkRecords(t, recs, st, d.calls.Load())
			if !slices.Equal(ids(t, recs), seq(int(tc.n))) {
				t.Errorf("ids %v, want 0..%d", ids(t, recs), tc.n-1)
			}
			if st.Interrupted {
				t.Error("Interrupted on a run that ended by its request count")
			}
			if tc.users > 0 && d.maxIn.Load() > int64(tc.users) {
				t.Errorf("%d requests in flight with %d users", d.maxIn.Load(), tc.users)
			}
			for _, r := range recs {
				i, _ := strconv.Atoi(r.ID)
				if r.InputTokens != i || r.Error != nil || r.OutputTokens != 3 || r.Warmup {
					t.Errorf("record %s: input %d, output %d, error %v, warmup %v", r.ID, r.InputTokens, r.OutputTokens, r.Error, r.Warmup)
				}
				if tc.pacer != nil {
					// Open loop: the record keeps the pacer's schedule,
					// however late the send.
					at, _ := loadgen.ScheduledAt(tc.pacer, uint64(i))
					if r.ScheduledNS != int64(at) {
						t.Errorf("record %s scheduled at %d, pacer says %d", r.ID, r.ScheduledNS, at)
					}
				}
			}
		})
	}
}

// TestRunDuration: the schedule stops at the duration; with a known schedule
// the count is exact.
func TestRunDuration(t *testing.T) {
	tests := []struct {
		name     string
		step     time.Duration
		duration time.Duration
		requests uint64
		want     int64
	}{
		{"duration only", 2 * time.Microsecond, 100 * time.Microsecond, 0, 50},
		{"request count first", 2 * time.Microsecond, 100 * time.Microsecond, 20, 20},
		{"duration first", 2 * time.Microsecond, 20 * time.Microsecond, 1000, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, sink := &fakeDoer{}, &memSink{}
			st, err := newRunner(t, d, &fakeSource{}, sink, loadgen.WithPacer(stepPacer{tc.step}),
				loadgen.WithDuration(tc.duration), loadgen.WithRequests(tc.requests)).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if d.calls.Load() != tc.want {
				t.Errorf("%d requests, want %d", d.calls.Load(), tc.want)
			}
			checkRecords(t, sink.records(), st, d.calls.Load())
		})
	}

	t.Run("closed loop", func(t *testing.T) {
		d, sink := &fakeDoer{}, &memSink{}
		st, err := newRunner(t, d, &fakeSource{}, sink, loadgen.WithUsers(2), loadgen.WithDuration(2*time.Millisecond)).Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		checkRecords(t, sink.records(), st, d.calls.Load())
		for _, r := range sink.records() {
			if r.ScheduledNS >= int64(2*time.Millisecond) {
				t.Errorf("record %s started at %d, after the duration", r.ID, r.ScheduledNS)
			}
		}
	})
}

func TestRunWarmup(t *testing.T) {
	step := stepPacer{10 * time.Microsecond}
	tests := []struct {
		name       string
		warmup     time.Duration
		opts       []loadgen.Option
		wantWarmup int // -1: depends on timing; only the rule is checked
	}{
		// Hits at 0, 10, ..., 90 µs are scheduled within 100 µs.
		{"open loop", 100 * time.Microsecond, []loadgen.Option{loadgen.WithPacer(step)}, 10},
		{"open loop, no warm-up", 0, []loadgen.Option{loadgen.WithPacer(step)}, 0},
		{"open loop, all warm-up", time.Hour, []loadgen.Option{loadgen.WithPacer(step)}, 30},
		{"closed loop", 100 * time.Microsecond, []loadgen.Option{loadgen.WithUsers(2)}, -1},
		{"closed loop, all warm-up", time.Hour, []loadgen.Option{loadgen.WithUsers(2)}, 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, sink := &fakeDoer{}, &memSink{}
			opts := append([]loadgen.Option{loadgen.WithRequests(30), loadgen.WithWarmup(tc.warmup)}, tc.opts...)
			st, err := newRunner(t, d, &fakeSource{}, sink, opts...).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			recs := sink.records()
			checkRecords(t, recs, st, d.calls.Load())
			n := 0
			for _, r := range recs {
				// Warm-up is decided by the scheduled time, not the send.
				if want := r.ScheduledNS < int64(tc.warmup); r.Warmup != want {
					t.Errorf("record %s scheduled at %d: warmup %v, want %v", r.ID, r.ScheduledNS, r.Warmup, want)
				}
				if r.Warmup {
					n++
				}
			}
			if tc.wantWarmup >= 0 && n != tc.wantWarmup {
				t.Errorf("%d warm-up records, want %d", n, tc.wantWarmup)
			}
		})
	}
}

// TestRunMaxConcurrency: in-flight requests never exceed the cap, and reach
// it. The doer blocks until the test opens the gate.
func TestRunMaxConcurrency(t *testing.T) {
	tests := []struct {
		name string
		opts []loadgen.Option
		cap  int
	}{
		{"open loop, max-concurrency 4", []loadgen.Option{loadgen.WithPacer(mustPacer(t, loadgen.ArrivalConstant, 1e5, 0, 1)), loadgen.WithMaxConcurrency(4)}, 4},
		{"open loop, max-concurrency 1", []loadgen.Option{loadgen.WithPacer(mustPacer(t, loadgen.ArrivalPoisson, 1e5, 0, 1)), loadgen.WithMaxConcurrency(1)}, 1},
		{"closed loop, 3 users", []loadgen.Option{loadgen.WithUsers(3)}, 3},
	}
	const n = 40
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &fakeDoer{gate: make(chan struct{}), started: make(chan string, n)}
			sink := &memSink{}
			opts := append([]loadgen.Option{loadgen.WithRequests(n)}, tc.opts...)
			done := runAsync(context.Background(), newRunner(t, d, &fakeSource{}, sink, opts...))
			for range tc.cap {
				<-d.started
			}
			// cap requests are blocked in the doer: none can have started
			// beyond them.
			if got := d.inFlight.Load(); got != int64(tc.cap) {
				t.Errorf("%d in flight at the cap, want %d", got, tc.cap)
			}
			close(d.gate)
			res := wait(t, done)
			if res.err != nil {
				t.Fatal(res.err)
			}
			if d.maxIn.Load() != int64(tc.cap) {
				t.Errorf("at most %d requests in flight, want %d", d.maxIn.Load(), tc.cap)
			}
			if d.calls.Load() != n {
				t.Errorf("%d requests, want %d", d.calls.Load(), n)
			}
			checkRecords(t, sink.records(), res.stats, d.calls.Load())
			// The send after the cap's last slot waited for one (the gate
			// held every slot); a closed loop has no cap to wait for.
			if open := tc.name != "closed loop, 3 users"; open != (res.stats.CapWaits > 0) || res.stats.CapWaits > n {
				t.Errorf("CapWaits = %d of %d sends, want some only under a cap", res.stats.CapWaits, n)
			}
		})
	}
}

// TestRunCancel: canceling the run's context stops scheduling; Run returns
// with Interrupted set and every request it started recorded. Requests
// blocked in the doer are canceled after the drain timeout.
func TestRunCancel(t *testing.T) {
	tests := []struct {
		name string
		opts []loadgen.Option
		wait int // requests to see started before canceling
	}{
		{"open loop", []loadgen.Option{loadgen.WithPacer(mustPacer(t, loadgen.ArrivalConstant, 1e5, 0, 1))}, 5},
		{"open loop, max-concurrency", []loadgen.Option{loadgen.WithPacer(mustPacer(t, loadgen.ArrivalConstant, 1e5, 0, 1)), loadgen.WithMaxConcurrency(2)}, 2},
		{"closed loop", []loadgen.Option{loadgen.WithUsers(3)}, 3},
	}
	const n = 100000
	for _, tc := range tests {
		t.Run(tc.name+", drain cancels", func(t *testing.T) {
			d := &fakeDoer{gate: make(chan struct{}), started: make(chan string, n)}
			sink := &memSink{}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opts := append([]loadgen.Option{loadgen.WithRequests(n), loadgen.WithDrainTimeout(time.Millisecond)}, tc.opts...)
			done := runAsync(ctx, newRunner(t, d, &fakeSource{}, sink, opts...))
			for range tc.wait {
				<-d.started
			}
			cancel()
			res := wait(t, done)
			if res.err != nil {
				t.Fatal(res.err)
			}
			if !res.stats.Interrupted {
				t.Error("Interrupted = false after cancel")
			}
			recs := sink.records()
			checkRecords(t, recs, res.stats, d.calls.Load())
			if len(recs) < tc.wait || len(recs) >= n {
				t.Errorf("%d records: want every started request (at least %d) and not the whole schedule", len(recs), tc.wait)
			}
			for _, r := range recs {
				if r.Error == nil || r.Error.Kind != results.KindCanceled {
					t.Errorf("record %s: error %v, want kind canceled", r.ID, r.Error)
				}
			}
		})

		t.Run(tc.name+", in-flight requests finish", func(t *testing.T) {
			d := &fakeDoer{gate: make(chan struct{}), started: make(chan string, n), ignoresCtx: true}
			sink := &memSink{}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			opts := append([]loadgen.Option{loadgen.WithRequests(n)}, tc.opts...)
			done := runAsync(ctx, newRunner(t, d, &fakeSource{}, sink, opts...))
			for range tc.wait {
				<-d.started
			}
			cancel()
			close(d.gate) // within the default drain: in-flight requests end well
			res := wait(t, done)
			if res.err != nil {
				t.Fatal(res.err)
			}
			if !res.stats.Interrupted {
				t.Error("Interrupted = false after cancel")
			}
			recs := sink.records()
			checkRecords(t, recs, res.stats, d.calls.Load())
			for _, r := range recs {
				if r.Error != nil {
					t.Errorf("record %s: error %v, want a finished request", r.ID, r.Error)
				}
			}
		})
	}

	t.Run("canceled before the start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		d, sink := &fakeDoer{}, &memSink{}
		st, err := newRunner(t, d, &fakeSource{}, sink, loadgen.WithPacer(stepPacer{time.Hour}), loadgen.WithRequests(10)).Run(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Interrupted {
			t.Error("Interrupted = false")
		}
		checkRecords(t, sink.records(), st, d.calls.Load())
	})
}

// TestRunDrainAtEnd: once scheduling ends normally, requests still in
// flight get the drain timeout, then are canceled and recorded as such.
func TestRunDrainAtEnd(t *testing.T) {
	tests := []struct {
		name string
		opts []loadgen.Option
	}{
		{"open loop, request count", []loadgen.Option{loadgen.WithPacer(stepPacer{time.Microsecond}), loadgen.WithRequests(3)}},
		{"open loop, duration", []loadgen.Option{loadgen.WithPacer(stepPacer{time.Microsecond}), loadgen.WithDuration(3 * time.Microsecond)}},
		{"closed loop, duration", []loadgen.Option{loadgen.WithUsers(3), loadgen.WithDuration(20 * time.Millisecond)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := &fakeDoer{gate: make(chan struct{})} // never opened
			sink := &memSink{}
			opts := append([]loadgen.Option{loadgen.WithDrainTimeout(time.Millisecond)}, tc.opts...)
			res := wait(t, runAsync(context.Background(), newRunner(t, d, &fakeSource{}, sink, opts...)))
			if res.err != nil {
				t.Fatal(res.err)
			}
			if res.stats.Interrupted {
				t.Error("Interrupted on a run that ended on its own")
			}
			recs := sink.records()
			checkRecords(t, recs, res.stats, d.calls.Load())
			// Open loop sends exactly 3; a closed-loop user that starts
			// after the duration sends nothing.
			if len(recs) > 3 || (len(recs) < 3 && !strings.HasPrefix(tc.name, "closed")) {
				t.Errorf("%d records, want 3", len(recs))
			}
			for _, r := range recs {
				if r.Error == nil || r.Error.Kind != results.KindCanceled {
					t.Errorf("record %s: error %v, want kind canceled", r.ID, r.Error)
				}
			}
		})
	}
}

// TestRunSinkError: a sink that fails (disk full) makes Run return its error.
func TestRunSinkError(t *testing.T) {
	tests := []struct {
		name string
		opts []loadgen.Option
	}{
		{"open loop", []loadgen.Option{loadgen.WithPacer(mustPacer(t, loadgen.ArrivalConstant, 1e5, 0, 1))}},
		{"closed loop", []loadgen.Option{loadgen.WithUsers(2)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, sink := &fakeDoer{}, &memSink{failFrom: 3}
			opts := append([]loadgen.Option{loadgen.WithRequests(10)}, tc.opts...)
			st, err := newRunner(t, d, &fakeSource{}, sink, opts...).Run(context.Background())
			if !errors.Is(err, errDiskFull) {
				t.Fatalf("Run = %v, want the sink's error", err)
			}
			if st == nil || st.Recorded != 2 || len(sink.records()) != 2 {
				t.Errorf("stats %+v, %d records: want 2 recorded before the failure", st, len(sink.records()))
			}
		})
	}
}

// TestRunSourceError: a request that cannot be synthesised is recorded as
// failed, and never sent.
func TestRunSourceError(t *testing.T) {
	d, sink := &fakeDoer{}, &memSink{}
	_, err := newRunner(t, d, &fakeSource{failAt: []uint64{2, 5}}, sink, loadgen.WithPacer(stepPacer{time.Microsecond}), loadgen.WithRequests(8)).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if d.calls.Load() != 6 {
		t.Errorf("doer called %d times, want 6", d.calls.Load())
	}
	recs := sink.records()
	if len(recs) != 8 {
		t.Fatalf("%d records, want 8", len(recs))
	}
	for _, r := range recs {
		failed := r.ID == "2" || r.ID == "5"
		if failed != (r.Error != nil) {
			t.Errorf("record %s: error %v", r.ID, r.Error)
		}
		if failed && (r.Error.Kind != results.KindProtocol || !strings.Contains(r.Error.Message, "synthesise request") || !strings.Contains(r.Error.Message, "prompt "+r.ID)) {
			t.Errorf("record %s: error %+v, want a protocol error naming the synthesis failure", r.ID, r.Error)
		}
	}
}

func TestNewErrors(t *testing.T) {
	p := stepPacer{time.Millisecond}
	tests := []struct {
		name string
		opts []loadgen.Option
		want string
	}{
		{"neither rate nor concurrency", []loadgen.Option{loadgen.WithRequests(1)}, "give a rate (open loop) or a concurrency"},
		{"both", []loadgen.Option{loadgen.WithPacer(p), loadgen.WithUsers(2), loadgen.WithRequests(1)}, "not both"},
		{"no end", []loadgen.Option{loadgen.WithUsers(2)}, "give a duration, a request count, or both"},
		{"zero users", []loadgen.Option{loadgen.WithUsers(0), loadgen.WithRequests(1)}, "concurrency 0: must be at least 1"},
		{"negative max-concurrency", []loadgen.Option{loadgen.WithPacer(p), loadgen.WithMaxConcurrency(-1), loadgen.WithRequests(1)}, "max-concurrency -1"},
		{"negative duration", []loadgen.Option{loadgen.WithPacer(p), loadgen.WithDuration(-time.Second)}, "duration -1s"},
		{"negative warmup", []loadgen.Option{loadgen.WithPacer(p), loadgen.WithWarmup(-time.Second), loadgen.WithRequests(1)}, "warmup -1s"},
		{"negative drain", []loadgen.Option{loadgen.WithPacer(p), loadgen.WithDrainTimeout(-time.Second), loadgen.WithRequests(1)}, "drain-timeout -1s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := loadgen.New(&fakeDoer{}, &fakeSource{}, &memSink{}, tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New = %v, %v; want an error containing %q", r, err, tc.want)
			}
		})
	}
}

// fakeSessions is a SessionSource: every session has turns turns, and turn
// failTurn (1-based) of session failSession cannot be synthesised.
type fakeSessions struct {
	fakeSource
	turns                 int
	failSession, failTurn int
}

func (s *fakeSessions) Session(i uint64) loadgen.Conversation {
	return &fakeConv{s: s, i: i}
}

type fakeConv struct {
	s    *fakeSessions
	i    uint64
	turn int
}

func (c *fakeConv) Next(prev *targets.Response) (*targets.Request, time.Duration, bool, error) {
	if (prev == nil) != (c.turn == 0) {
		return nil, 0, false, fmt.Errorf("turn %d: previous response %v", c.turn, prev)
	}
	if c.turn >= c.s.turns {
		return nil, 0, false, nil
	}
	c.turn++
	if int(c.i) == c.s.failSession && c.turn == c.s.failTurn {
		return nil, 0, true, errors.New("no prompt")
	}
	return &targets.Request{InputTokens: c.turn, MaxTokens: 3, Session: true}, 0, true, nil
}

// TestRunSessions: a session's turns follow one another, each recorded with
// its session and turn; every turn counts against the request budget.
func TestRunSessions(t *testing.T) {
	tests := []struct {
		name    string
		opts    []loadgen.Option
		src     *fakeSessions
		wantIDs []string
	}{
		{"closed loop", []loadgen.Option{loadgen.WithUsers(1), loadgen.WithRequests(7)}, &fakeSessions{turns: 3, failSession: -1},
			[]string{"0.1", "0.2", "0.3", "1.1", "1.2", "1.3", "2.1"}},
		// Bounded by duration, not a request count: the open-loop producer
		// claims the request budget for session starts ahead of time, so
		// later turns would find it spent.
		{"open loop", []loadgen.Option{loadgen.WithPacer(stepPacer{time.Hour}), loadgen.WithDuration(time.Minute)}, &fakeSessions{turns: 3, failSession: -1},
			[]string{"0.1", "0.2", "0.3"}},
		{"a failed turn ends its session", []loadgen.Option{loadgen.WithUsers(1), loadgen.WithRequests(5)}, &fakeSessions{turns: 3, failSession: 0, failTurn: 2},
			[]string{"0.1", "0.2", "1.1", "1.2", "1.3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, sink := &fakeDoer{}, &memSink{}
			st, err := newRunner(t, d, tc.src, sink, tc.opts...).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			recs := sink.records()
			var got []string
			for _, r := range recs {
				got = append(got, r.ID)
				s, turn, _ := strings.Cut(r.ID, ".")
				if strconv.Itoa(r.Session-1) != s || strconv.Itoa(r.Turn) != turn {
					t.Errorf("record %s: session %d, turn %d", r.ID, r.Session, r.Turn)
				}
				if failed := r.Error != nil; failed != (r.ID == "0.2" && tc.src.failTurn == 2) {
					t.Errorf("record %s: error %v", r.ID, r.Error)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.wantIDs) {
				t.Errorf("records %v, want %v", got, tc.wantIDs)
			}
			if st.Recorded != uint64(len(recs)) || st.Sent != uint64(len(recs)) {
				t.Errorf("stats sent %d recorded %d, %d records", st.Sent, st.Recorded, len(recs))
			}
		})
	}
}
