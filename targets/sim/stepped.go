package sim

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// maxBehind bounds how far the engine may fall behind its schedule. Steps
// are timed with absolute deadlines: a step ends at the previous step's end
// plus its duration, so timer error does not accumulate, and when the host
// delays the engine (a busy machine), the steps that follow run back to back
// until the schedule is caught up: which batches run, and when, stay those of
// the cost model; only delivery is late (and counted as lateness). A delay
// beyond maxBehind is given up: the schedule restarts from now (a slip).
const maxBehind = 50 * time.Millisecond

// Stepped is an engine that steps like a real inference server: one
// goroutine runs steps back to back, each taking the time the cost model
// gives for the batch the scheduler put in it; every sequence in a step gets
// its next token at the step's end, and the request's handler writes it.
//
// The goroutine runs only while there is work: the first request starts
// it, and it ends when the last one is finished or canceled.
type Stepped struct {
	cost  CostModel
	pol   policy
	epoch time.Time
	wall0 int64

	mu       sync.Mutex
	arrivals []*seq
	cancels  []*seq
	spareA   []*seq
	spareC   []*seq
	active   bool
	order    uint64

	core *core // the loop goroutine's alone while active

	// maxBehind is the package's maxBehind; sleep, when set, replaces
	// sleepUntil (tests).
	maxBehind time.Duration
	sleep     func(end int64)

	running, waiting, kvUsed  atomic.Int64
	steps, preemptions, slips atomic.Uint64
	prefixQueries, prefixHits atomic.Uint64
}

// NewStepped returns the engine cfg describes (cfg.Scheduler must not be
// fixed).
func NewStepped(cfg Config) (*Stepped, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Scheduler == SchedFixed {
		return nil, errors.New("sim: scheduler: fixed has no stepped engine (use Fixed)")
	}
	cost, err := cfg.CostModel()
	if err != nil {
		return nil, err
	}
	pol := cfg.policy(cost)
	now := time.Now()
	e := &Stepped{cost: cost, pol: pol, epoch: now, wall0: now.UnixNano(), maxBehind: maxBehind}
	e.core = newCore(pol, e.emit, e.fail)
	return e, nil
}

// CostModel returns the engine's cost model.
func (e *Stepped) CostModel() CostModel { return e.cost }

// KVTokens returns the KV-cache capacity in tokens.
func (e *Stepped) KVTokens() int64 { return e.pol.kvTokens }

func (e *Stepped) now() int64 { return int64(time.Since(e.epoch)) }

// Admit implements Admitter: a request must fit into the KV cache on its own.
func (e *Stepped) Admit(job *Job) error {
	if need := int64(max(job.PromptTokens, 1) + job.OutputTokens); need > e.pol.kvTokens {
		return fmt.Errorf("prompt (%d tokens) and max_tokens (%d) exceed the KV cache of %d tokens (--kv-tokens)",
			job.PromptTokens, job.OutputTokens, e.pol.kvTokens)
	}
	return nil
}

// Generate implements Engine.
func (e *Stepped) Generate(ctx context.Context, job *Job, emit func(int) error) error {
	if err := e.Admit(job); err != nil {
		return err
	}
	if job.OutputTokens <= 0 {
		return nil
	}
	s := &seq{
		id:     job.ID,
		prompt: max(job.PromptTokens, 1),
		out:    job.OutputTokens,
		due:    make([]int64, job.OutputTokens),
		wake:   make(chan struct{}, 1),
		hi:     -1,
	}
	if e.pol.blockSize > 0 {
		s.blocks = blockHashes(job.Prompt, e.pol.blockSize)
	}
	e.submit(s)
	next := 0
	for {
		// Write every token the engine has produced since the last wake-up:
		// a handler that fell behind catches up without losing a token.
		for n := int(s.emitted.Load()); next < n; next++ {
			if next == 0 {
				job.CachedTokens = s.cached
				job.Prefill = time.Duration(s.due[0] - s.admitted)
			}
			job.Due = e.wall0 + s.due[next]
			if err := emit(next); err != nil {
				e.cancel(s)
				return err
			}
		}
		if next == s.out {
			return nil
		}
		if msg := s.failed.Load(); msg != nil {
			return errors.New(*msg)
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			e.cancel(s)
			return ctx.Err()
		}
	}
}

func (e *Stepped) submit(s *seq) {
	e.mu.Lock()
	s.arrived = e.now()
	e.order++
	s.order = e.order
	e.arrivals = append(e.arrivals, s)
	start := !e.active
	e.active = true
	e.mu.Unlock()
	if start {
		go e.loop()
	}
}

func (e *Stepped) cancel(s *seq) {
	e.mu.Lock()
	if e.active {
		e.cancels = append(e.cancels, s)
	}
	e.mu.Unlock()
}

// emit runs on the engine goroutine: publish token i and wake its handler.
func (e *Stepped) emit(s *seq, i int, end int64) {
	s.due[i] = end
	s.emitted.Store(int64(i + 1))
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (e *Stepped) fail(s *seq, msg string) {
	s.failed.Store(&msg)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// drain hands the core the requests that arrived by start (engine time) and
// those that left. Arrivals after start wait for a later step: an engine
// catching up with its schedule must not admit a request before it came.
// The slices are swapped, not reallocated.
func (e *Stepped) drain(start int64) {
	e.mu.Lock()
	n := 0
	for n < len(e.arrivals) && e.arrivals[n].arrived <= start {
		n++
	}
	arr := append(e.spareA[:0], e.arrivals[:n]...)
	rest := copy(e.arrivals, e.arrivals[n:])
	clear(e.arrivals[rest:])
	e.arrivals = e.arrivals[:rest]
	can := e.cancels
	e.cancels = e.spareC[:0]
	e.mu.Unlock()
	for _, s := range arr {
		e.core.add(s)
	}
	for _, s := range can {
		e.core.cancel(s)
	}
	clear(arr)
	clear(can)
	e.mu.Lock()
	e.spareA, e.spareC = arr[:0], can[:0]
	e.mu.Unlock()
}

func (e *Stepped) loop() {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	start := e.now()
	for {
		e.drain(start)
		if !e.core.plan(start) {
			// Idle: sleep (as a GPU would) until the next arrival, or stop
			// when there is none.
			e.mu.Lock()
			if len(e.arrivals) == 0 && len(e.cancels) == 0 {
				e.active = false
				e.publish()
				e.mu.Unlock()
				return
			}
			next := start
			if len(e.arrivals) > 0 {
				next = max(start, e.arrivals[0].arrived)
			}
			e.mu.Unlock()
			start = next
			continue
		}
		end := start + int64(e.cost.StepTime(e.core.load))
		if e.sleep != nil {
			e.sleep(end)
		} else {
			e.sleepUntil(timer, end)
		}
		e.core.complete(end)
		e.publish()
		if now := e.now(); now-end > int64(e.maxBehind) {
			e.slips.Add(1)
			start = now
		} else {
			start = end
		}
	}
}

// coarseGuard is how early the Go timer wakes the engine before a step's
// end: Go's timers are only as fine as the netpoller's 1 ms timeout when the
// process is idle. The rest is slept precisely (preciseSleep).
const coarseGuard = 1500 * time.Microsecond

func (e *Stepped) sleepUntil(timer *time.Timer, end int64) {
	if d := time.Duration(end - e.now()); d > coarseGuard {
		timer.Reset(d - coarseGuard)
		<-timer.C
	}
	preciseSleep(time.Duration(end - e.now()))
	for e.now() < end {
		runtime.Gosched()
	}
}

func (e *Stepped) publish() {
	c := e.core
	e.running.Store(int64(len(c.running)))
	e.waiting.Store(int64(c.live))
	e.kvUsed.Store(c.used())
	e.steps.Store(c.steps)
	e.preemptions.Store(c.preemptions)
	if c.pc != nil {
		e.prefixQueries.Store(c.pc.queries)
		e.prefixHits.Store(c.pc.hits)
	}
}

// Stats implements StatsReporter. The figures are those of the last step
// boundary.
func (e *Stepped) Stats() Stats {
	return Stats{
		Running:       int(e.running.Load()),
		Waiting:       int(e.waiting.Load()),
		KVUsed:        e.kvUsed.Load(),
		KVTokens:      e.pol.kvTokens,
		Steps:         e.steps.Load(),
		Preemptions:   e.preemptions.Load(),
		Slips:         e.slips.Load(),
		PrefixQueries: e.prefixQueries.Load(),
		PrefixHits:    e.prefixHits.Load(),
	}
}
