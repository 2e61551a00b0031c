package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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

// Conversation is one session: it yields its turns one at a time, each built
// from the answers so far.
type Conversation interface {
	// Next returns the next turn and the think time to wait after the
	// previous turn ended, or more=false when the session is over. prev is
	// the previous turn's response, nil for the first turn.
	Next(prev *targets.Response) (req *targets.Request, think time.Duration, more bool, err error)
}

// SessionSource is a Source of multi-turn sessions. Session s depends only on
// the seed and s. A Runner whose Source is also a SessionSource runs
// sessions: the schedule (or a closed-loop user) starts sessions, and each
// session sends its turns one after another.
type SessionSource interface {
	Source
	Session(s uint64) Conversation
}

// single is the one-turn conversation of a plain Source.
type single struct {
	src Source
	i   uint64
}

func (c *single) Next(prev *targets.Response) (*targets.Request, time.Duration, bool, error) {
	if prev != nil {
		return nil, 0, false, nil
	}
	req, err := c.src.Request(c.i)
	return req, 0, true, err
}

// conversation returns session i of the run's source.
func (st *run) conversation(i uint64) Conversation {
	if ss, ok := st.src.(SessionSource); ok {
		return ss.Session(i)
	}
	return &single{src: st.src, i: i}
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
	// warmupReqs marks the first sessions (requests) as warm-up.
	warmupReqs uint64
	userStages []Stage
	think      ThinkDist
	seed       uint64
	// shard of shards: this process sends arrivals n with n%shards == shard.
	shard, shards uint64
	startAt       time.Time
	// scheduled is closed when scheduling ends (only the drain is left).
	scheduled chan struct{}
}

// Scheduled returns a channel closed when the run stops scheduling new
// requests: after it, only requests in flight finish.
func (r *Runner) Scheduled() <-chan struct{} { return r.scheduled }

// ThinkDist draws a closed-loop user's pause in milliseconds (a dist.Dist).
type ThinkDist interface {
	Sample(r *rand.Rand) int
}

// thinkStream seeds closed-loop users' think times.
const thinkStream = 0x1f83d9abfb41bd6b

// WithShard makes this process shard index of count: it derives the whole
// schedule and sends only arrivals (closed loop: users) whose number is
// index modulo count, so the shards together send exactly the schedule one
// process would.
func WithShard(index, count int) Option {
	return func(r *Runner) error {
		if count < 1 || index < 0 || index >= count {
			return fmt.Errorf("shard %d/%d: want i/N with 0 <= i < N", index, count)
		}
		r.shard, r.shards = uint64(index), uint64(count)
		return nil
	}
}

// WithStartAt makes the run's time origin an agreed wall-clock time: Run
// waits for it, so shards on several machines keep one schedule.
func WithStartAt(t time.Time) Option {
	return func(r *Runner) error { r.startAt = t; return nil }
}

// mine reports whether arrival (or user) n is this shard's to send.
func (r *Runner) mine(n uint64) bool { return r.shards <= 1 || n%r.shards == r.shard }

// WithWarmupRequests marks the first n requests (sessions) as warm-up.
func WithWarmupRequests(n uint64) Option {
	return func(r *Runner) error { r.warmupReqs = n; return nil }
}

// WithUserStages makes a closed-loop run follow stages of user counts.
func WithUserStages(stages []Stage) Option {
	return func(r *Runner) error {
		if !ClosedStages(stages) {
			return fmt.Errorf("user stages: want stages of users=N")
		}
		r.userStages = stages
		if r.duration == 0 {
			r.duration = TotalDuration(stages)
		}
		return nil
	}
}

// WithThinkTime makes each closed-loop user pause for a time drawn from d
// (milliseconds, seeded by seed and the user) between its requests.
func WithThinkTime(d ThinkDist, seed uint64) Option {
	return func(r *Runner) error { r.think, r.seed = d, seed; return nil }
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
	r := &Runner{doer: doer, src: src, sink: sink, scheduled: make(chan struct{})}
	for _, o := range opts {
		if err := o(r); err != nil {
			return nil, err
		}
	}
	switch {
	case r.pacer == nil && r.users == 0 && len(r.userStages) == 0:
		return nil, errors.New("load: give a rate (open loop) or a concurrency (closed loop)")
	case r.pacer != nil && (r.users > 0 || len(r.userStages) > 0):
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
	// CapWaits counts sends that had to wait for a --max-concurrency slot:
	// their lag is the cap's doing, not the generator's.
	CapWaits uint64
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
	claimed  atomic.Uint64
	sem      chan struct{}
	capWaits atomic.Uint64
	// stopSched ends scheduling early (the sink failed).
	stopSched context.CancelFunc
}

// Run carries out the run. Canceling ctx stops scheduling; requests in flight
// may finish for the drain timeout. Every finished request reaches the sink.
// The error is non-nil only when the sink failed (an I/O error).
func (r *Runner) Run(ctx context.Context) (*Stats, error) {
	cpu0 := processCPU()
	reqCtx, cancelReqs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelReqs()
	if !r.startAt.IsZero() {
		// Shards of a distributed run share one time origin: wait for it.
		t := time.NewTimer(time.Until(r.startAt))
		select {
		case <-ctx.Done():
			t.Stop()
			now := time.Now()
			return &Stats{Start: now, End: now, Interrupted: true}, nil
		case <-t.C:
		}
	}
	st := &run{Runner: r, start: time.Now(), reqCtx: reqCtx}
	if !r.startAt.IsZero() {
		// Keep the monotonic reading of now, shifted to the agreed origin.
		st.start = st.start.Add(r.startAt.Sub(st.start))
	}
	// A failing sink (a full disk, say) stops scheduling: requests that
	// could not be recorded must not be sent.
	schedCtx, stopSched := context.WithCancel(ctx)
	defer stopSched()
	st.stopSched = stopSched
	if r.pacer != nil {
		st.openLoop(schedCtx)
	} else {
		st.closedLoop(schedCtx)
	}
	close(r.scheduled)
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
	stats := &Stats{Start: st.start, End: time.Now(), Sent: st.sent.Load(), Recorded: st.recorded.Load(), Interrupted: interrupted, CPU: processCPU() - cpu0, CapWaits: st.capWaits.Load()}
	if p := st.sinkErr.Load(); p != nil {
		return stats, *p
	}
	return stats, nil
}

// job is a session's first request, synthesised ahead of its send time.
type job struct {
	s     uint64 // session (request) index
	at    time.Duration
	conv  Conversation
	req   *targets.Request
	synth error
}

// claim takes one request from the run's request budget.
func (st *run) claim() bool {
	n := st.claimed.Add(1)
	return st.requests == 0 || n <= st.requests
}

// ended reports whether the schedule is over at offset at.
func (st *run) ended(ctx context.Context, at time.Duration) bool {
	return ctx.Err() != nil || (st.duration > 0 && at >= st.duration)
}

// openLoop starts sessions (single requests, for a plain Source) on the
// pacer's schedule. A producer synthesises each first request ahead of time
// so prompt building never delays a send.
func (st *run) openLoop(ctx context.Context) {
	jobs := make(chan job, 256)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(jobs)
		sched := NewSchedule(st.pacer)
		for i := uint64(0); st.requests == 0 || i < st.requests; i++ {
			at, ok := sched.Next()
			if !ok || (st.duration > 0 && at >= st.duration) {
				return
			}
			if !st.mine(i) {
				continue // another shard sends it
			}
			conv := st.conversation(i)
			req, _, _, err := conv.Next(nil)
			select {
			case jobs <- job{s: i, at: at, conv: conv, req: req, synth: err}:
			case <-stop:
				return
			}
		}
	}()
	if st.maxConc > 0 {
		st.sem = make(chan struct{}, st.maxConc)
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for j := range jobs {
		if !st.sleepUntil(ctx, timer, j.at) {
			return
		}
		// The request budget is claimed when a request is sent, not when it
		// is synthesised, so later turns of running sessions get their share.
		if !st.claim() || !st.acquire(ctx) {
			return
		}
		st.wg.Add(1)
		go func(j job) {
			defer st.wg.Done()
			st.session(ctx, j, true)
		}(j)
	}
}

// sleepUntil waits until offset at of the run; false if ctx ended first.
func (st *run) sleepUntil(ctx context.Context, timer *time.Timer, at time.Duration) bool {
	if wait := time.Until(st.start.Add(at)); wait > 0 {
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return false
		case <-timer.C:
		}
	}
	return ctx.Err() == nil
}

// acquire takes a --max-concurrency slot, if there is a cap.
func (st *run) acquire(ctx context.Context) bool {
	if st.sem == nil {
		return true
	}
	select {
	case st.sem <- struct{}{}:
		return true
	default:
	}
	st.capWaits.Add(1)
	select {
	case st.sem <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (st *run) release() {
	if st.sem != nil {
		<-st.sem
	}
}

// session sends j's first request (its slot already acquired when acquired
// is true), then the session's later turns, each after its think time.
func (st *run) session(ctx context.Context, j job, acquired bool) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	req, err, at := j.req, j.synth, j.at
	for turn := 1; ; turn++ {
		if !acquired && !st.acquire(ctx) {
			return
		}
		resp := st.do(j.s, turn, at, req, err)
		st.release()
		acquired = false
		if resp == nil {
			return
		}
		var think time.Duration
		var more bool
		req, think, more, err = j.conv.Next(resp)
		if !more {
			return
		}
		// The next turn is due think after this one ended.
		at = time.Duration(resp.Sent.Sub(st.start)) + resp.Done + think
		if st.ended(ctx, at) || !st.claim() || !st.sleepUntil(ctx, timer, at) {
			return
		}
	}
}

// closedLoop runs users that each start their next session when the last
// one ends (after the think time, when there is one). With user stages, user
// u works only while the stage wants more than u users.
func (st *run) closedLoop(ctx context.Context) {
	var next atomic.Uint64
	var users sync.WaitGroup
	n := st.users
	for _, s := range st.userStages {
		n = max(n, s.Users)
	}
	for u := 0; u < n; u++ {
		if !st.mine(uint64(u)) {
			continue // another shard runs this user
		}
		users.Add(1)
		st.wg.Add(1) // Run's drain waits for the users, and so for their sessions
		go func() {
			defer st.wg.Done()
			defer users.Done()
			st.user(ctx, u, &next)
		}()
	}
	// Scheduling stops when the users are done, the run is canceled or its
	// duration is over; requests still in flight are left to Run's drain.
	// Waiting for the users here would wait for those requests, so the drain
	// timeout could never cancel them and an interrupted run would hang.
	allDone := make(chan struct{})
	go func() { users.Wait(); close(allDone) }()
	var over <-chan time.Time
	if st.duration > 0 {
		t := time.NewTimer(time.Until(st.start.Add(st.duration)))
		defer t.Stop()
		over = t.C
	}
	select {
	case <-allDone:
	case <-ctx.Done():
	case <-over:
	}
}

// user is one closed-loop user's loop.
func (st *run) user(ctx context.Context, u int, next *atomic.Uint64) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var thinkRng *rand.Rand
	if st.think != nil {
		thinkRng = rand.New(rand.NewPCG(st.seed, thinkStream^uint64(u)))
	}
	users := st.users
	for _, s := range st.userStages {
		users = max(users, s.Users)
	}
	var own uint64 // sessions this user started
	for {
		at := time.Since(st.start)
		if len(st.userStages) > 0 {
			want, change := UsersAt(st.userStages, at)
			if change == 0 {
				return // past the last stage
			}
			if u >= want {
				if !st.sleepUntil(ctx, timer, change) {
					return
				}
				continue
			}
		}
		if st.ended(ctx, at) || !st.claim() {
			return
		}
		i := next.Add(1) - 1
		if st.shards > 1 {
			// Shards cannot share a counter: user u's j-th session is
			// number j*users+u, unique across shards.
			i = own*uint64(users) + uint64(u)
			own++
		}
		conv := st.conversation(i)
		req, _, _, err := conv.Next(nil)
		st.session(ctx, job{s: i, at: at, conv: conv, req: req, synth: err}, true)
		if thinkRng != nil {
			pause := time.Duration(st.think.Sample(thinkRng)) * time.Millisecond
			if !st.sleepUntil(ctx, timer, time.Since(st.start)+pause) {
				return
			}
		}
	}
}

// do sends one request and records it. It returns the response, or nil when
// the request could not be built.
func (st *run) do(s uint64, turn int, at time.Duration, req *targets.Request, synth error) *targets.Response {
	st.sent.Add(1)
	id := strconv.FormatUint(s, 10)
	multi := turn > 1 || req != nil && req.Session // a later turn that failed to build has no req
	if multi {
		id += "." + strconv.Itoa(turn)
	}
	var rec *results.Record
	var resp *targets.Response
	if synth != nil || req == nil {
		msg := "no request"
		if synth != nil {
			msg = synth.Error()
		}
		failed := &targets.Response{Sent: time.Now(), Err: &results.Error{Kind: results.KindProtocol, Message: "synthesise request: " + msg}}
		rec = NewRecord(id, st.start, at, &targets.Request{}, failed, nil)
	} else {
		req.ID = id
		resp = st.doer.Do(st.reqCtx, req)
		rec = NewRecord(id, st.start, at, req, resp, st.counter)
	}
	if multi {
		rec.Session = int(s) + 1
		rec.Turn = turn
	}
	rec.Warmup = (st.warmup > 0 && at < st.warmup) || s < st.warmupReqs
	if err := st.sink.Append(rec); err != nil {
		st.sinkErr.CompareAndSwap(nil, &err)
		st.stopSched()
		return nil
	}
	st.recorded.Add(1)
	if resp != nil && resp.Err != nil {
		// A failed turn ends its session: the conversation has no answer to
		// carry on from.
		return nil
	}
	return resp
}
