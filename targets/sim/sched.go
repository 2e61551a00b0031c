package sim

import (
	"math"
	"sync/atomic"
)

// The --scheduler values.
const (
	SchedFixed      = "fixed"           // no engine: fixed ttft and itl whatever the load
	SchedFCFS       = "fcfs"            // one request at a time
	SchedStatic     = "static"          // fixed batches; the next waits for the slowest
	SchedContinuous = "continuous"      // iteration-level batching
	SchedChunked    = "chunked-prefill" // continuous with a per-step token budget
	SchedPriority   = "priority"        // continuous, shortest prompt first with aging
)

// Schedulers lists the --scheduler values.
func Schedulers() []string {
	return []string{SchedFixed, SchedFCFS, SchedStatic, SchedContinuous, SchedChunked, SchedPriority}
}

type seqState uint8

const (
	stateNew seqState = iota
	stateWaiting
	stateRunning
	stateDone
)

// seq is one request inside the engine. The first group of fields is set
// before the engine sees it; the second is the engine's own (one goroutine);
// the third is the hand-off to the request's HTTP handler.
type seq struct {
	id      string
	prompt  int      // prompt tokens
	out     int      // tokens to generate
	blocks  []uint64 // chained hashes of the prompt's full blocks (prefix cache)
	arrived int64    // engine clock, ns
	order   uint64   // arrival order

	state     seqState
	tier      uint8   // 0: preempted (goes first), 1: new
	key       float64 // waiting-queue order within a tier
	hi        int     // index in the waiting heap
	computed  int     // tokens in the KV cache
	generated int     // tokens emitted
	sched     int     // tokens scheduled in the current step
	kv        int     // KV tokens held privately (not in shared prefix blocks)
	held      int     // leading prefix-cache blocks referenced
	pad       bool    // static batching: finished, still occupying its slot
	canceled  bool
	counted   bool // prompt tokens counted
	// cached and admitted are the prefix-cache hit (tokens) and the engine
	// time of the admission that led to the first token; written before the
	// first token is published, never after.
	cached   int
	admitted int64

	emitted atomic.Int64
	due     []int64 // engine-clock step end of each emitted token
	wake    chan struct{}
	failed  atomic.Pointer[string]
}

// total is the tokens that must be computed before the next token is
// sampled: the prompt and every token generated so far.
func (s *seq) total() int { return s.prompt + s.generated }

// remaining is what is left to compute before the next token.
func (s *seq) remaining() int { return s.total() - s.computed }

// policy is the scheduling core's configuration.
type policy struct {
	name       string
	maxBatch   int
	stepTokens int // chunked-prefill budget; 0 = no budget
	kvTokens   int64
	blockSize  int // tokens per prefix-cache block; 0 = no prefix cache
	aging      float64
}

// core decides what each step runs and applies its result. It holds no
// clock and never sleeps: the caller passes the time, so the same core runs
// on the wall clock (Stepped) and on a simulated one (tests, simulate).
type core struct {
	p       policy
	static  bool
	chunked bool

	running []*seq // admission order
	waiting seqHeap
	live    int // waiting and not canceled
	batch   []*seq
	load    StepLoad

	private int64 // KV tokens held privately by running sequences
	now     int64 // start of the step being planned
	pc      *prefixCache

	// emit hands token i of s, produced by the step that ended at end, to
	// its reader; fail ends a request the engine cannot serve.
	emit func(s *seq, i int, end int64)
	fail func(s *seq, msg string)

	// counters
	steps, preemptions, promptTokens, genTokens uint64
}

func newCore(p policy, emit func(*seq, int, int64), fail func(*seq, string)) *core {
	c := &core{p: p, static: p.name == SchedStatic, chunked: p.name == SchedChunked, emit: emit, fail: fail}
	if p.name == SchedFCFS {
		c.p.maxBatch = 1
	}
	if !c.chunked {
		c.p.stepTokens = 0
	}
	if p.blockSize > 0 && !c.static {
		c.pc = newPrefixCache(p.blockSize)
	}
	return c
}

// add queues a new request that arrived at s.arrived.
func (c *core) add(s *seq) {
	s.state = stateWaiting
	s.tier = 1
	if c.p.name == SchedPriority {
		s.key = float64(s.prompt) + c.p.aging*float64(s.arrived)/1e9
	} else {
		s.key = float64(s.order)
	}
	c.waiting.push(s)
	c.live++
}

// cancel drops a request whose client went away.
func (c *core) cancel(s *seq) {
	if s.canceled || s.state == stateDone {
		return
	}
	s.canceled = true
	switch s.state {
	case stateWaiting:
		c.live--
		c.waiting.remove(s)
		s.state = stateDone
	case stateRunning:
		if c.static {
			// A static batch runs to its end; the slot stays padded.
			s.pad = true
			return
		}
		c.release(s)
		s.state = stateDone
		c.dropRunning()
	}
}

// dropRunning removes finished and canceled sequences from running.
func (c *core) dropRunning() {
	keep := c.running[:0]
	for _, s := range c.running {
		if s.state == stateRunning {
			keep = append(keep, s)
		}
	}
	clear(c.running[len(keep):])
	c.running = keep
}

// used is the KV tokens in use: private tokens and referenced shared blocks.
func (c *core) used() int64 {
	u := c.private
	if c.pc != nil {
		u += int64(c.pc.shared * c.pc.size)
	}
	return u
}

// free is the KV tokens that can be allocated (cached blocks nobody
// references are evicted on demand).
func (c *core) free() int64 { return c.p.kvTokens - c.used() }

// alloc takes n KV tokens for s, evicting unreferenced cached blocks when
// the cache needs the room.
func (c *core) alloc(s *seq, n int) {
	s.kv += n
	c.private += int64(n)
	if c.pc != nil {
		for c.used()+int64(c.pc.evictable*c.pc.size) > c.p.kvTokens && c.pc.evictable > 0 {
			c.pc.evict()
		}
	}
}

// release frees everything s holds in the KV cache.
func (c *core) release(s *seq) {
	c.private -= int64(s.kv)
	s.kv = 0
	if c.pc != nil && s.held > 0 {
		c.pc.release(s.blocks[:s.held])
	}
	s.held = 0
}

// preempt evicts a running sequence to be recomputed later (vLLM's
// recompute preemption): it loses its KV cache and goes back to the front
// of the queue.
func (c *core) preempt(s *seq) {
	c.release(s)
	s.computed = 0
	if s.sched > 0 {
		c.load.Tokens -= s.sched
		s.sched = 0
	}
	s.state = stateWaiting
	s.tier = 0
	c.waiting.push(s)
	c.live++
	c.preemptions++
	c.running = c.running[:len(c.running)-1]
}

// reserve makes room for n more KV tokens for running sequence s by
// preempting the newest running sequences. It reports false when s itself
// had to go.
func (c *core) reserve(s *seq, n int) bool {
	for c.free() < int64(n) {
		victim := c.running[len(c.running)-1]
		c.preempt(victim)
		if victim == s {
			return false
		}
	}
	return true
}

func (c *core) schedule(s *seq, n int) {
	s.sched = n
	c.batch = append(c.batch, s)
	c.load.Tokens += n
}

// match is the prefix-cache hit of waiting sequence s: the leading blocks
// cached (at least one token is always computed) and how many of them are
// unreferenced.
func (c *core) match(s *seq) (hits, idle int) {
	if c.pc == nil || s.computed > 0 {
		return 0, 0
	}
	limit := min(len(s.blocks), (s.total()-1)/c.pc.size)
	for hits < limit {
		b := c.pc.m[s.blocks[hits]]
		if b == nil {
			break
		}
		if b.ref == 0 {
			idle++
		}
		hits++
	}
	return hits, idle
}

// plan decides what the step starting at now runs. It returns false when
// nothing can run.
func (c *core) plan(now int64) bool {
	clear(c.batch)
	c.batch = c.batch[:0]
	c.load = StepLoad{}
	c.now = now
	if c.static {
		c.planStatic()
	} else {
		c.planContinuous()
	}
	if len(c.batch) == 0 && len(c.running) == 0 && c.live > 0 {
		// The head of the queue cannot fit even into an empty cache (the
		// server checks this on arrival, so only a bug gets here): fail it
		// rather than spin.
		if s := c.waiting.pop(); s != nil {
			c.live--
			s.state = stateDone
			c.fail(s, "the request does not fit into the KV cache")
		}
		return c.plan(now)
	}
	// Compact the batch (preemption may have unscheduled some) and price it.
	keep := c.batch[:0]
	c.load = StepLoad{}
	for _, s := range c.batch {
		if s.sched == 0 {
			continue
		}
		keep = append(keep, s)
		c.load.Tokens += s.sched
		if s.sched == 1 && (s.generated > 0 || s.pad) {
			c.load.Decodes++
		}
		c.load.Context += int64(s.computed + s.sched)
	}
	clear(c.batch[len(keep):])
	c.batch = keep
	return len(c.batch) > 0
}

func (c *core) planStatic() {
	if len(c.running) == 0 {
		// Form the next batch from the head of the queue. Each member
		// reserves its prompt and whole output up front, as a static KV
		// cache does, so nothing is ever preempted.
		for len(c.running) < c.p.maxBatch {
			s := c.waiting.peek()
			if s == nil || int64(s.prompt+s.out) > c.free() {
				break
			}
			c.admit(s)
			c.alloc(s, s.prompt+s.out)
		}
	}
	for _, s := range c.running {
		n := s.remaining()
		if s.pad {
			n = 1 // padding still costs its slot in the batch
		}
		c.schedule(s, n)
	}
}

func (c *core) admit(s *seq) {
	c.waiting.pop()
	c.live--
	s.state = stateRunning
	c.running = append(c.running, s)
	if s.generated == 0 {
		s.cached, s.admitted = 0, c.now
	}
}

func (c *core) planContinuous() {
	budget := math.MaxInt
	if c.chunked {
		budget = c.p.stepTokens
	}
	// Running sequences first, oldest first. With a token budget, decodes
	// go before prefill chunks.
	for pass := 0; pass < 2; pass++ {
		for i := 0; i < len(c.running) && budget > 0; i++ {
			s := c.running[i]
			n := s.remaining()
			if c.chunked && (n == 1) != (pass == 0) {
				continue
			}
			if !c.chunked && pass == 1 {
				break
			}
			if n > 1 && c.chunked {
				// A prefill chunk: as much as the budget and the free cache
				// allow; it preempts only when the cache has no room at all.
				n = min(n, budget)
				if f := c.free(); f > 0 && f < int64(n) {
					n = int(f)
				}
			}
			if !c.reserve(s, n) {
				i-- // s left running; stay at this index
				continue
			}
			c.alloc(s, n)
			c.schedule(s, n)
			budget -= n
		}
	}
	// Then admit from the queue, at step boundaries only, while the batch,
	// the budget and the cache allow. A request that does not fit blocks
	// those behind it (no overtaking within a policy's order).
	for len(c.running) < c.p.maxBatch && budget > 0 {
		s := c.waiting.peek()
		if s == nil {
			break
		}
		hits, idle := c.match(s)
		n := s.total() - hits*c.blockSize()
		if c.chunked {
			n = min(n, budget)
		}
		var watermark int64
		if len(c.running) > 0 {
			watermark = c.p.kvTokens / 100 // vLLM keeps 1% free for decodes
		}
		if c.free()-watermark < int64(n+idle*c.blockSize()) {
			break
		}
		c.admit(s)
		if hits > 0 {
			c.pc.take(s.blocks[:hits])
			s.held = hits
			s.computed = hits * c.pc.size
			if s.generated == 0 {
				s.cached = s.computed
			}
		}
		if c.pc != nil {
			c.pc.queries += uint64(s.total())
			c.pc.hits += uint64(hits * c.pc.size)
		}
		c.alloc(s, n)
		c.schedule(s, n)
		budget -= n
	}
}

func (c *core) blockSize() int {
	if c.pc == nil {
		return 0
	}
	return c.pc.size
}

// complete applies the step that ended at end: every scheduled token is now
// in the KV cache, and each sequence whose input is complete samples its
// next token.
func (c *core) complete(end int64) {
	c.steps++
	finished := false
	for _, s := range c.batch {
		n := s.sched
		s.sched = 0
		s.computed += n
		if c.pc != nil {
			c.share(s)
		}
		if s.pad || s.state != stateRunning {
			continue
		}
		if s.computed < s.total() {
			continue // a prefill chunk
		}
		i := s.generated
		s.generated++
		if !s.counted {
			s.counted = true
			c.promptTokens += uint64(s.prompt)
		}
		c.genTokens++
		c.emit(s, i, end)
		if s.generated == s.out {
			if c.static {
				s.pad = true
				continue
			}
			c.release(s)
			s.state = stateDone
			finished = true
		}
	}
	clear(c.batch)
	c.batch = c.batch[:0]
	if c.static {
		for _, s := range c.running {
			if !s.pad {
				return
			}
		}
		for _, s := range c.running {
			c.release(s)
			s.state = stateDone
		}
		clear(c.running)
		c.running = c.running[:0]
		return
	}
	if finished {
		c.dropRunning()
	}
}

// share moves the full prompt blocks s has computed into the prefix cache.
func (c *core) share(s *seq) {
	full := min(s.computed/c.pc.size, len(s.blocks))
	for ; s.held < full; s.held++ {
		c.pc.insert(s.blocks[s.held])
		s.kv -= c.pc.size
		c.private -= int64(c.pc.size)
	}
}

// seqHeap is the waiting queue: tier first (preempted before new), then key,
// then arrival order.
type seqHeap []*seq

func (h seqHeap) less(i, j int) bool {
	a, b := h[i], h[j]
	if a.tier != b.tier {
		return a.tier < b.tier
	}
	if a.key != b.key {
		return a.key < b.key
	}
	return a.order < b.order
}

func (h seqHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hi = i
	h[j].hi = j
}

func (h *seqHeap) push(s *seq) {
	s.hi = len(*h)
	*h = append(*h, s)
	h.up(s.hi)
}

func (h seqHeap) peek() *seq {
	if len(h) == 0 {
		return nil
	}
	return h[0]
}

func (h *seqHeap) pop() *seq {
	if len(*h) == 0 {
		return nil
	}
	s := (*h)[0]
	h.removeAt(0)
	return s
}

func (h *seqHeap) remove(s *seq) {
	if s.hi >= 0 && s.hi < len(*h) && (*h)[s.hi] == s {
		h.removeAt(s.hi)
	}
}

func (h *seqHeap) removeAt(i int) {
	old := *h
	n := len(old) - 1
	if i != n {
		h.swap(i, n)
	}
	old[n].hi = -1
	old[n] = nil
	*h = old[:n]
	if i != n {
		if !h.down(i) {
			h.up(i)
		}
	}
}

func (h seqHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.less(i, p) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

func (h seqHeap) down(i int) bool {
	start := i
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		j := l
		if r := l + 1; r < len(h) && h.less(r, l) {
			j = r
		}
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > start
}
