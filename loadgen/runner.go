package loadgen

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
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
// run's context is canceled, unless WithDrainTimeout (or WithInterruptDrain)
// says otherwise. A cancel during an unbounded drain leaves the requests this
// long from then on.
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
	// stopNow, when closed, ends the run at once (a second signal).
	stopNow <-chan struct{}
	// interruptDrain replaces DefaultInterruptDrain (WithInterruptDrain).
	interruptDrain time.Duration
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

// WithInterruptDrain sets how long requests in flight may finish after ctx
// is canceled when no drain timeout is set (DefaultInterruptDrain when 0).
func WithInterruptDrain(d time.Duration) Option {
	return func(r *Runner) error {
		if d < 0 {
			return fmt.Errorf("interrupt drain %s: must not be negative", d)
		}
		r.interruptDrain = d
		return nil
	}
}

// WithStopNow ends the run at once when stop is closed (a second Ctrl-C):
// scheduling stops, requests in flight are canceled and, unless they end
// within a few milliseconds, recorded as canceled without waiting for them.
func WithStopNow(stop <-chan struct{}) Option {
	return func(r *Runner) error { r.stopNow = stop; return nil }
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
	// Interrupted is true when ctx was canceled (or the run stopped at
	// once) before the schedule and its drain ended.
	Interrupted bool
	// Abandoned counts requests that had not finished when the drain ran
	// out (or the run was stopped at once) and did not end when canceled:
	// stuck in work no cancellation interrupts, such as decoding a frame or
	// counting tokens. The runner recorded each as canceled and dropped its
	// own late result. They are included in Recorded.
	Abandoned uint64
	// Unwritten counts records whose write to the sink had begun but not
	// ended when Run returned (a sink that blocks); they may be missing.
	Unwritten uint64
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

	// mu guards flights and the closing of the sink to late requests.
	mu sync.Mutex
	// flights holds the requests in progress, until their record is handed
	// to the sink.
	flights map[*flight]struct{}
	// closed is set when Run stops waiting for requests: from then on no
	// request starts and no late record reaches the sink.
	closed atomic.Bool
	// appends waits for the records being written to the sink, and
	// writing counts them.
	appends sync.WaitGroup
	writing atomic.Int64
}

// A request's phases, as the drain reports them when it has to abandon one.
const (
	phaseStream   int32 = iota // sending, reading and decoding its stream
	phaseCounting              // counting its tokens into a record
)

// flight is one request in progress.
type flight struct {
	id    string
	at    time.Duration
	req   *targets.Request
	begun time.Time
	phase atomic.Int32
	// resp is the request's response once the stream ended.
	resp atomic.Pointer[targets.Response]
	// session and turn are the record's, 0 for a single request.
	session, turn int
	warmup        bool
}

// Bounds of the drain once requests are canceled. A canceled request that
// is waiting on the network ends at once and records what it has;
// cancelGrace is how long Run lets such requests record themselves before
// abandoning the rest, and writeGrace how long it then waits for records
// being written. Together they keep Run within the drain timeout + 1 s
// whatever a request is doing.
const (
	cancelGrace = 250 * time.Millisecond
	writeGrace  = 500 * time.Millisecond
)

// Run carries out the run. Canceling ctx stops scheduling; requests in flight
// may finish for the drain timeout. Every finished request reaches the sink.
// The drain is a hard bound: once it runs out (or the run is stopped at
// once), Run returns within cancelGrace + writeGrace (under a second)
// whatever the requests left are doing; those that did not end when
// canceled are recorded as canceled, and nothing of theirs reaches the sink
// after Run returned (Stats.Abandoned, Stats.Unwritten). The error is
// non-nil only when the sink failed (an I/O error).
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
		case <-r.stopNow:
			t.Stop()
			now := time.Now()
			return &Stats{Start: now, End: now, Interrupted: true}, nil
		case <-t.C:
		}
	}
	st := &run{Runner: r, start: time.Now(), reqCtx: reqCtx, flights: map[*flight]struct{}{}}
	if !r.startAt.IsZero() {
		// Keep the monotonic reading of now, shifted to the agreed origin.
		st.start = st.start.Add(r.startAt.Sub(st.start))
	}
	// A failing sink (a full disk, say) stops scheduling: requests that
	// could not be recorded must not be sent.
	schedCtx, stopSched := context.WithCancel(ctx)
	defer stopSched()
	st.stopSched = stopSched
	if r.stopNow != nil {
		// Stopping at once stops scheduling too.
		go func() {
			select {
			case <-r.stopNow:
				stopSched()
			case <-schedCtx.Done():
			}
		}()
	}
	if r.pacer != nil {
		st.openLoop(schedCtx)
	} else {
		st.closedLoop(schedCtx)
	}
	close(r.scheduled)
	interrupted, abandoned, unwritten := st.settle(ctx, cancelReqs)
	stats := &Stats{Start: st.start, End: time.Now(), Sent: st.sent.Load(), Recorded: st.recorded.Load(), Interrupted: interrupted,
		Abandoned: abandoned, Unwritten: unwritten, CPU: processCPU() - cpu0, CapWaits: st.capWaits.Load()}
	if p := st.sinkErr.Load(); p != nil {
		return stats, *p
	}
	return stats, nil
}

// closed reports whether ch is closed (false for nil).
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// settle waits for the requests in flight once scheduling has ended: up to
// the drain timeout (for ever when it is 0 and the run was not interrupted),
// then cancels them and gives them cancelGrace to end and record
// themselves. An interruption during the drain (ctx canceled) leaves the
// requests at most the interruption's drain from then on; stopping at once
// cancels them at once. A request still running after its grace is stuck in
// work that no cancellation interrupts (decoding a huge frame, counting
// tokens, a sink that blocks), and Run must not wait for it: settle closes
// the run to late requests, records each abandoned one as canceled, and
// waits at most writeGrace for records being written. It returns whether
// the run was interrupted, how many requests it abandoned and how many
// writes were still going when it gave up.
func (st *run) settle(ctx context.Context, cancelReqs context.CancelFunc) (interrupted bool, abandoned, unwritten uint64) {
	idle := make(chan struct{})
	go func() { st.wg.Wait(); close(idle) }()
	interruptDrain := cmp.Or(st.drain, st.interruptDrain, DefaultInterruptDrain)
	interrupted = ctx.Err() != nil || closed(st.stopNow)
	drain := st.drain
	if interrupted {
		drain = interruptDrain
	}
	why := fmt.Sprintf("--drain-timeout %s ran out", drain)
	t := time.NewTimer(drain)
	defer t.Stop()
	deadline := t.C
	if drain == 0 {
		t.Stop()
		deadline = nil
	}
	until := time.Now().Add(drain)
	interrupt := ctx.Done()
	if interrupted {
		interrupt = nil
	}
wait:
	for {
		select {
		case <-idle:
			return interrupted, 0, 0
		case <-interrupt:
			// Interrupted while draining: the requests left get the
			// interruption's drain from now, if that ends sooner.
			interrupted, interrupt = true, nil
			if deadline == nil || time.Until(until) > interruptDrain {
				t.Reset(interruptDrain)
				deadline = t.C
				why = fmt.Sprintf("the drain after the interruption (%s) ran out", interruptDrain)
			}
		case <-deadline:
			break wait
		case <-st.stopNow:
			interrupted = true
			why = "the run was stopped at once"
			break wait
		}
	}
	cancelReqs()
	grace := time.NewTimer(cancelGrace)
	defer grace.Stop()
	select {
	case <-idle:
		return interrupted, 0, 0
	case <-grace.C:
	}
	abandoned, unwritten = st.abandon(why)
	return interrupted, abandoned, unwritten
}

// abandon closes the run to late requests and records every request still
// in progress as canceled. It waits at most writeGrace for the records being
// written (its own included).
func (st *run) abandon(why string) (abandoned, unwritten uint64) {
	st.mu.Lock()
	st.closed.Store(true)
	left := make([]*flight, 0, len(st.flights))
	for f := range st.flights {
		left = append(left, f)
	}
	clear(st.flights)
	// Every write that will ever reach the sink has been counted in
	// appends by now: Add happens under mu, only while the run is open.
	st.appends.Add(len(left))
	st.writing.Add(int64(len(left)))
	st.mu.Unlock()
	slices.SortFunc(left, func(a, b *flight) int { return cmp.Or(cmp.Compare(a.at, b.at), strings.Compare(a.id, b.id)) })
	go func() {
		for _, f := range left {
			st.write(f.canceled(st.start, why))
			st.writing.Add(-1)
			st.appends.Done()
		}
	}()
	written := make(chan struct{})
	go func() { st.appends.Wait(); close(written) }()
	t := time.NewTimer(writeGrace)
	defer t.Stop()
	select {
	case <-written:
	case <-t.C:
		unwritten = uint64(max(st.writing.Load(), 0))
	}
	return uint64(len(left)), unwritten
}

// canceled is the record of a request abandoned while it was still running.
// It keeps the stream's timings when the stream had ended (the request was
// counting its tokens), and counts tokens by frames, which costs nothing.
func (f *flight) canceled(start time.Time, why string) *results.Record {
	phase := "still streaming"
	resp := f.resp.Load()
	if f.phase.Load() == phaseCounting && resp != nil {
		phase = "still counting its tokens"
	}
	if resp == nil {
		resp = &targets.Response{Sent: f.begun, Done: time.Since(f.begun)}
	}
	req := f.req
	if req == nil {
		req = &targets.Request{}
	}
	rec := NewRecord(f.id, start, f.at, req, resp, nil)
	rec.Error = &results.Error{Kind: results.KindCanceled, Message: fmt.Sprintf("run stopped before the request finished: %s when %s", phase, why)}
	rec.TPOTMS = nil
	rec.SLOOK = false
	rec.Session, rec.Turn, rec.Warmup = f.session, f.turn, f.warmup
	return rec
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
	return ctx.Err() != nil || st.closed.Load() || (st.duration > 0 && at >= st.duration)
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
// the request could not be built, failed, or the run no longer takes
// requests.
func (st *run) do(s uint64, turn int, at time.Duration, req *targets.Request, synth error) *targets.Response {
	id := strconv.FormatUint(s, 10)
	multi := turn > 1 || req != nil && req.Session // a later turn that failed to build has no req
	if multi {
		id += "." + strconv.Itoa(turn)
	}
	f := &flight{id: id, at: at, warmup: (st.warmup > 0 && at < st.warmup) || s < st.warmupReqs}
	if multi {
		f.session, f.turn = int(s)+1, turn
	}
	built := synth == nil && req != nil
	if built {
		req.ID = id
		f.req = req
	}
	if !st.begin(f) {
		return nil
	}
	st.sent.Add(1)
	var rec *results.Record
	var resp *targets.Response
	if !built {
		msg := "no request"
		if synth != nil {
			msg = synth.Error()
		}
		failed := &targets.Response{Sent: time.Now(), Err: &results.Error{Kind: results.KindProtocol, Message: "synthesise request: " + msg}}
		rec = NewRecord(id, st.start, at, &targets.Request{}, failed, nil)
	} else {
		resp = st.doer.Do(st.reqCtx, req)
		f.resp.Store(resp)
		f.phase.Store(phaseCounting)
		rec = NewRecord(id, st.start, at, req, resp, st.counter)
	}
	rec.Session, rec.Turn, rec.Warmup = f.session, f.turn, f.warmup
	if !st.finish(f) {
		// The drain gave up on this request and recorded it as canceled.
		return nil
	}
	ok := st.write(rec)
	st.writing.Add(-1)
	st.appends.Done()
	if !ok || resp != nil && resp.Err != nil {
		// A failed turn ends its session: the conversation has no answer to
		// carry on from.
		return nil
	}
	return resp
}

// begin registers a request about to start; false when the run no longer
// takes requests.
func (st *run) begin(f *flight) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed.Load() {
		return false
	}
	f.begun = time.Now()
	st.flights[f] = struct{}{}
	return true
}

// finish takes a request's record for the sink; false when the drain
// abandoned the request (and wrote its record) meanwhile. On true the
// caller writes the record, then marks the write done.
func (st *run) finish(f *flight) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.closed.Load() {
		return false
	}
	delete(st.flights, f)
	st.appends.Add(1)
	st.writing.Add(1)
	return true
}

// write hands one record to the sink. A failing sink (a full disk, say)
// stops scheduling: requests that could not be recorded must not be sent.
func (st *run) write(rec *results.Record) bool {
	if err := st.sink.Append(rec); err != nil {
		st.sinkErr.CompareAndSwap(nil, &err)
		st.stopSched()
		return false
	}
	st.recorded.Add(1)
	return true
}
