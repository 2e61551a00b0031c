package loadgen

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
)

// Doer sends one request and reads its stream (targets.Client is one).
type Doer interface {
	Do(ctx context.Context, r *targets.Request) *targets.Response
}

// Source synthesises request i of a run. It must be a pure function of i (and
// its own seed), and safe for concurrent use.
type Source interface {
	Request(i uint64) (*targets.Request, error)
}

// Sink receives each finished record (results.Writer, analysis.Accumulator).
type Sink interface {
	Append(*results.Record) error
}

// DefaultInterruptDrain is how long in-flight requests may finish after the
// run's context is canceled, unless WithDrainTimeout says otherwise.
const DefaultInterruptDrain = 10 * time.Second

// Runner drives one load run: open loop (a Pacer) or closed loop (users).
type Runner struct {
	doer     Doer
	src      Source
	sink     Sink
	counter  Counter
	pacer    vegeta.Pacer
	users    int
	maxConc  int
	duration time.Duration
	requests uint64
	warmup   time.Duration
	drain    time.Duration
	firstIdx uint64
}

// Option configures a Runner.
type Option func(*Runner) error

// WithPacer makes the run open loop: requests are sent on p's schedule,
// whatever the server's speed.
func WithPacer(p vegeta.Pacer) Option {
	return func(r *Runner) error { r.pacer = p; return nil }
}

// WithUsers makes the run closed loop: n users each send a request as soon as
// their previous one ends.
func WithUsers(n int) Option {
	return func(r *Runner) error {
		if n < 1 {
			return fmt.Errorf("concurrency %d: must be at least 1", n)
		}
		r.users = n
		return nil
	}
}

// WithMaxConcurrency caps in-flight requests of an open-loop run. Time spent
// waiting for a slot counts as lag.
func WithMaxConcurrency(n int) Option {
	return func(r *Runner) error {
		if n < 0 {
			return fmt.Errorf("max-concurrency %d: must not be negative", n)
		}
		r.maxConc = n
		return nil
	}
}

// WithDuration stops scheduling after d (0 = no limit).
func WithDuration(d time.Duration) Option {
	return func(r *Runner) error {
		if d < 0 {
			return fmt.Errorf("duration %s: must not be negative", d)
		}
		r.duration = d
		return nil
	}
}

// WithRequests stops after n requests (0 = no limit).
func WithRequests(n uint64) Option {
	return func(r *Runner) error { r.requests = n; return nil }
}

// WithWarmup marks requests scheduled in the first d as warm-up: recorded,
// but left out of statistics.
func WithWarmup(d time.Duration) Option {
	return func(r *Runner) error {
		if d < 0 {
			return fmt.Errorf("warmup %s: must not be negative", d)
		}
		r.warmup = d
		return nil
	}
}

// WithDrainTimeout bounds how long in-flight requests may finish once
// scheduling stops; the rest are canceled and recorded as such. 0 waits for
// them all on a normal end (each is bounded by the client's timeout) and
// DefaultInterruptDrain after an interruption.
func WithDrainTimeout(d time.Duration) Option {
	return func(r *Runner) error {
		if d < 0 {
			return fmt.Errorf("drain-timeout %s: must not be negative", d)
		}
		r.drain = d
		return nil
	}
}

// WithCounter sets the tokenizer that counts streamed tokens when the server
// does not report them per frame.
func WithCounter(c Counter) Option {
	return func(r *Runner) error { r.counter = c; return nil }
}

// New returns a runner that sends src's requests through doer and hands every
// record to sink.
func New(doer Doer, src Source, sink Sink, opts ...Option) (*Runner, error) {
	r := &Runner{doer: doer, src: src, sink: sink}
	for _, o := range opts {
		if err := o(r); err != nil {
			return nil, err
		}
	}
	switch {
	case r.pacer == nil && r.users == 0:
		return nil, errors.New("load: give a rate (open loop) or a concurrency (closed loop)")
	case r.pacer != nil && r.users > 0:
		return nil, errors.New("load: give either a rate or a concurrency, not both")
	case r.duration == 0 && r.requests == 0:
		return nil, errors.New("load: give a duration, a request count, or both, so the run ends")
	}
	return r, nil
}

// Stats is what the runner knows about its own run.
type Stats struct {
	Start, End time.Time
	// Sent counts requests handed to the target; Recorded counts records the
	// sink accepted.
	Sent, Recorded uint64
	// Interrupted is true when ctx was canceled before the schedule ended.
	Interrupted bool
	// CPU is the process CPU time (user+system) spent during the run.
	CPU time.Duration
}

// run is one run's shared state.
type run struct {
	*Runner
	start    time.Time
	reqCtx   context.Context
	wg       sync.WaitGroup
	sent     atomic.Uint64
	recorded atomic.Uint64
	sinkErr  atomic.Pointer[error]
}

// Run carries out the run. Canceling ctx stops scheduling; requests in flight
// may finish for the drain timeout. Every finished request reaches the sink.
// The error is non-nil only when the sink failed (an I/O error).
func (r *Runner) Run(ctx context.Context) (*Stats, error) {
	cpu0 := processCPU()
	reqCtx, cancelReqs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelReqs()
	st := &run{Runner: r, start: time.Now(), reqCtx: reqCtx}
	if r.pacer != nil {
		st.openLoop(ctx)
	} else {
		st.closedLoop(ctx)
	}
	interrupted := ctx.Err() != nil
	drain := r.drain
	if interrupted && drain == 0 {
		drain = DefaultInterruptDrain
	}
	idle := make(chan struct{})
	go func() { st.wg.Wait(); close(idle) }()
	if drain > 0 {
		t := time.NewTimer(drain)
		select {
		case <-idle:
		case <-t.C:
			cancelReqs()
			<-idle
		}
		t.Stop()
	} else {
		<-idle
	}
	stats := &Stats{Start: st.start, End: time.Now(), Sent: st.sent.Load(), Recorded: st.recorded.Load(), Interrupted: interrupted, CPU: processCPU() - cpu0}
	if p := st.sinkErr.Load(); p != nil {
		return stats, *p
	}
	return stats, nil
}

// job is a request synthesised ahead of its send time.
type job struct {
	i     uint64
	at    time.Duration
	req   *targets.Request
	synth error
}

func (st *run) limitReached(i uint64) bool { return st.requests > 0 && i >= st.requests }

// openLoop sends requests on the pacer's schedule. A producer synthesises
// requests ahead of time so prompt building never delays a send.
func (st *run) openLoop(ctx context.Context) {
	jobs := make(chan job, 256)
	go func() {
		defer close(jobs)
		for i := st.firstIdx; !st.limitReached(i); i++ {
			at, stop := ScheduledAt(st.pacer, i)
			if stop || (st.duration > 0 && at >= st.duration) {
				return
			}
			req, err := st.src.Request(i)
			select {
			case jobs <- job{i: i, at: at, req: req, synth: err}:
			case <-ctx.Done():
				return
			}
		}
	}()
	var sem chan struct{}
	if st.maxConc > 0 {
		sem = make(chan struct{}, st.maxConc)
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for j := range jobs {
		if wait := time.Until(st.start.Add(j.at)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		if sem != nil {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		st.wg.Add(1)
		st.sent.Add(1)
		go func(j job) {
			defer st.wg.Done()
			if sem != nil {
				defer func() { <-sem }()
			}
			st.do(j)
		}(j)
	}
}

// closedLoop runs users that each send their next request when the last ends.
func (st *run) closedLoop(ctx context.Context) {
	var next atomic.Uint64
	next.Store(st.firstIdx)
	var users sync.WaitGroup
	for u := 0; u < st.users; u++ {
		users.Add(1)
		go func() {
			defer users.Done()
			for ctx.Err() == nil {
				at := time.Since(st.start)
				if st.duration > 0 && at >= st.duration {
					return
				}
				i := next.Add(1) - 1
				if st.limitReached(i) {
					return
				}
				req, err := st.src.Request(i)
				st.wg.Add(1)
				st.sent.Add(1)
				st.do(job{i: i, at: at, req: req, synth: err})
				st.wg.Done()
			}
		}()
	}
	users.Wait()
}

// do sends one request and records it.
func (st *run) do(j job) {
	id := strconv.FormatUint(j.i, 10)
	var rec *results.Record
	if j.synth != nil {
		now := time.Now()
		resp := &targets.Response{Sent: now, Err: &results.Error{Kind: results.KindProtocol, Message: "synthesise request: " + j.synth.Error()}}
		rec = NewRecord(id, st.start, j.at, &targets.Request{}, resp, nil)
	} else {
		j.req.ID = id
		resp := st.doer.Do(st.reqCtx, j.req)
		rec = NewRecord(id, st.start, j.at, j.req, resp, st.counter)
	}
	rec.Warmup = st.warmup > 0 && j.at < st.warmup
	if err := st.sink.Append(rec); err != nil {
		st.sinkErr.CompareAndSwap(nil, &err)
		return
	}
	st.recorded.Add(1)
}
