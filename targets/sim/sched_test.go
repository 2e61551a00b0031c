package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// req is a request of a step-decision test: name, prompt and output
// tokens, the step before which it arrives, and its text (prefix cache).
type req struct {
	name        string
	prompt, out int
	before      int
	text        string
}

// trace runs the core of cfg step by step on a clock that advances 1 ms per
// step and renders each step as "name:tokens" in batch order ("name:pad"
// for a static batch's finished member); emitted tokens are checked to come
// in order.
func trace(t *testing.T, cfg Config, reqs []req) ([]string, *core) {
	t.Helper()
	cost, err := cfg.CostModel()
	if err != nil {
		t.Fatal(err)
	}
	names := map[*seq]string{}
	emitted := map[string]int{}
	c := newCore(cfg.policy(cost), func(s *seq, i int, _ int64) {
		if emitted[names[s]] != i {
			t.Errorf("%s: token %d emitted after %d tokens", names[s], i, emitted[names[s]])
		}
		emitted[names[s]]++
	}, func(s *seq, msg string) { t.Errorf("%s failed: %s", names[s], msg) })
	var steps []string
	for step := 0; step < 100; step++ {
		for i, r := range reqs {
			if r.before == step {
				s := &seq{id: r.name, prompt: r.prompt, out: r.out, arrived: int64(step) * 1e6, order: uint64(i + 1), hi: -1}
				if cfg.PrefixCache {
					s.blocks = blockHashes(r.text, cfg.BlockTokens)
				}
				names[s] = r.name
				c.add(s)
			}
		}
		if !c.plan(int64(step) * 1e6) {
			if slices.ContainsFunc(reqs, func(r req) bool { return r.before > step }) {
				steps = append(steps, "idle")
				continue
			}
			break
		}
		var b []string
		for _, s := range c.batch {
			if s.pad {
				b = append(b, names[s]+":pad")
			} else {
				b = append(b, fmt.Sprintf("%s:%d", names[s], s.sched))
			}
		}
		steps = append(steps, strings.Join(b, " "))
		c.complete(int64(step+1) * 1e6)
	}
	for _, r := range reqs {
		if emitted[r.name] != r.out {
			t.Errorf("%s: %d tokens emitted, want %d", r.name, emitted[r.name], r.out)
		}
	}
	if len(c.running) != 0 || c.live != 0 || c.used() != 0 {
		t.Errorf("after the run: %d running, %d waiting, %d KV tokens used", len(c.running), c.live, c.used())
	}
	return steps, c
}

// unitCost is a cost model for step-decision tests (time does not matter).
var unitCost = CostModel{Name: "unit", Overhead: time.Millisecond, KVTokens: 1 << 20}

func testConfig(sched string) Config {
	c := DefaultConfig()
	c.Scheduler = sched
	c.Cost = &unitCost
	return c
}

func TestStepDecisions(t *testing.T) {
	with := func(sched string, f func(*Config)) Config {
		c := testConfig(sched)
		if f != nil {
			f(&c)
		}
		return c
	}
	tests := []struct {
		name string
		cfg  Config
		reqs []req
		want []string
	}{
		{
			name: "fcfs runs one request at a time, prefill then decodes",
			cfg:  with(SchedFCFS, nil),
			reqs: []req{{name: "a", prompt: 4, out: 2}, {name: "b", prompt: 3, out: 1}},
			want: []string{"a:4", "a:1", "b:3"},
		},
		{
			name: "static: the next batch waits for the slowest, finished members pad",
			cfg:  with(SchedStatic, func(c *Config) { c.MaxBatch = 2 }),
			reqs: []req{{name: "a", prompt: 4, out: 3}, {name: "b", prompt: 2, out: 1}, {name: "c", prompt: 5, out: 1}},
			want: []string{"a:4 b:2", "a:1 b:pad", "a:1 b:pad", "c:5"},
		},
		{
			name: "static: a request arriving mid-batch waits for the batch to end",
			cfg:  with(SchedStatic, func(c *Config) { c.MaxBatch = 4 }),
			reqs: []req{{name: "a", prompt: 2, out: 3}, {name: "b", prompt: 2, out: 1, before: 1}},
			want: []string{"a:2", "a:1", "a:1", "b:2"},
		},
		{
			name: "continuous: new requests join at step boundaries up to max-batch",
			cfg:  with(SchedContinuous, func(c *Config) { c.MaxBatch = 2 }),
			reqs: []req{{name: "a", prompt: 4, out: 3}, {name: "b", prompt: 2, out: 2}, {name: "c", prompt: 3, out: 1, before: 1}},
			want: []string{"a:4 b:2", "a:1 b:1", "a:1 c:3"},
		},
		{
			name: "continuous: prefill of a long prompt shares the step with decodes",
			cfg:  with(SchedContinuous, nil),
			reqs: []req{{name: "a", prompt: 2, out: 3}, {name: "l", prompt: 50, out: 1, before: 1}},
			want: []string{"a:2", "a:1 l:50", "a:1"},
		},
		{
			name: "chunked-prefill: a token budget splits prefills, decodes first",
			cfg:  with(SchedChunked, func(c *Config) { c.MaxStepTokens = 4 }),
			reqs: []req{{name: "a", prompt: 2, out: 4}, {name: "l", prompt: 9, out: 2, before: 1}},
			want: []string{"a:2", "a:1 l:3", "a:1 l:3", "a:1 l:3", "l:1"},
		},
		{
			name: "chunked-prefill: a partial prefill goes on before new requests",
			cfg:  with(SchedChunked, func(c *Config) { c.MaxStepTokens = 4 }),
			reqs: []req{{name: "a", prompt: 6, out: 2}, {name: "b", prompt: 2, out: 2}},
			want: []string{"a:4", "a:2 b:2", "a:1 b:1"},
		},
		{
			name: "priority: shortest prompt first",
			cfg:  with(SchedPriority, func(c *Config) { c.MaxBatch = 1; c.PriorityAging = 0 }),
			reqs: []req{{name: "x", prompt: 2, out: 2}, {name: "l", prompt: 8, out: 1, before: 1}, {name: "s", prompt: 2, out: 1, before: 1}},
			want: []string{"x:2", "x:1", "s:2", "l:8"},
		},
		{
			name: "priority: aging lets a long prompt that waited go first",
			cfg:  with(SchedPriority, func(c *Config) { c.MaxBatch = 1; c.PriorityAging = 10000 }),
			reqs: []req{{name: "x", prompt: 2, out: 3}, {name: "l", prompt: 8, out: 1, before: 1}, {name: "s", prompt: 2, out: 1, before: 2}},
			want: []string{"x:2", "x:1", "x:1", "l:8", "s:2"},
		},
		{
			name: "kv-tokens: a full cache makes new requests wait",
			cfg:  with(SchedContinuous, func(c *Config) { c.KVTokens = 10 }),
			reqs: []req{{name: "a", prompt: 8, out: 2}, {name: "b", prompt: 4, out: 1}},
			want: []string{"a:8", "a:1", "b:4"},
		},
		{
			name: "kv-tokens: decodes preempt the newest sequence, which is recomputed",
			cfg:  with(SchedContinuous, func(c *Config) { c.KVTokens = 10 }),
			reqs: []req{{name: "a", prompt: 4, out: 4}, {name: "b", prompt: 4, out: 4}},
			// Step 3: a's decode finds the cache full and preempts b; b
			// comes back with its prompt and 2 generated tokens to
			// recompute once a is done.
			want: []string{"a:4 b:4", "a:1 b:1", "a:1", "a:1", "b:6", "b:1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _ := trace(t, tc.cfg, tc.reqs)
			if !slices.Equal(got, tc.want) {
				t.Errorf("steps\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestPreemptionCount(t *testing.T) {
	cfg := testConfig(SchedContinuous)
	cfg.KVTokens = 10
	_, c := trace(t, cfg, []req{{name: "a", prompt: 4, out: 4}, {name: "b", prompt: 4, out: 4}})
	if c.preemptions != 1 {
		t.Errorf("%d preemptions, want 1", c.preemptions)
	}
}

func words16(prefix string, n int) string {
	w := make([]string, n)
	for i := range w {
		// Letters only: each word is one token of the simulator's tokenizer.
		w[i] = prefix + string(rune('a'+i/26%26)) + string(rune('a'+i%26))
	}
	return strings.Join(w, " ")
}

func TestPrefixCache(t *testing.T) {
	shared := words16("s", 8)
	with := func(kv int) Config {
		c := testConfig(SchedContinuous)
		c.PrefixCache = true
		c.BlockTokens = 4
		c.KVTokens = kv
		return c
	}
	tests := []struct {
		name       string
		cfg        Config
		reqs       []req
		want       []string
		hits, qs   uint64
		cachedLeft int
	}{
		{
			name: "a shared prefix still cached is not prefilled again",
			cfg:  with(1000),
			reqs: []req{
				{name: "a", prompt: 12, out: 1, text: shared + " " + words16("a", 4)},
				{name: "b", prompt: 12, out: 1, text: shared + " " + words16("b", 4), before: 1},
				{name: "c", prompt: 12, out: 1, text: words16("c", 12), before: 2},
			},
			want: []string{"a:12", "b:4", "c:12"},
			hits: 8, qs: 36, cachedLeft: 7,
		},
		{
			name: "a whole prompt cached still computes its last block",
			cfg:  with(1000),
			reqs: []req{
				{name: "a", prompt: 8, out: 1, text: shared},
				{name: "b", prompt: 8, out: 1, text: shared, before: 1},
			},
			want: []string{"a:8", "b:4"},
			hits: 4, qs: 16, cachedLeft: 2,
		},
		{
			name: "two running sequences share blocks computed together",
			cfg:  with(1000),
			reqs: []req{
				{name: "a", prompt: 8, out: 2, text: shared},
				{name: "b", prompt: 8, out: 2, text: shared},
			},
			want: []string{"a:8 b:8", "a:1 b:1"},
			hits: 0, qs: 16, cachedLeft: 2,
		},
		{
			name: "unreferenced blocks are evicted least recently used, last block first",
			cfg:  with(16),
			reqs: []req{
				{name: "a", prompt: 12, out: 1, text: words16("a", 12)},
				{name: "d", prompt: 12, out: 1, text: words16("d", 12), before: 1},
				{name: "e", prompt: 12, out: 1, text: words16("a", 12), before: 2},
			},
			// d needs 12 tokens: a's last two blocks go, its first stays.
			// e = a's text hits that block only.
			want: []string{"a:12", "d:12", "e:8"},
			hits: 4, qs: 36, cachedLeft: 4,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, c := trace(t, tc.cfg, tc.reqs)
			if !slices.Equal(got, tc.want) {
				t.Errorf("steps\n got %q\nwant %q", got, tc.want)
			}
			if c.pc.hits != tc.hits || c.pc.queries != tc.qs {
				t.Errorf("prefix cache hits %d of %d tokens, want %d of %d", c.pc.hits, c.pc.queries, tc.hits, tc.qs)
			}
			if c.pc.evictable != tc.cachedLeft || c.pc.shared != 0 || len(c.pc.m) != tc.cachedLeft {
				t.Errorf("cache left with %d evictable, %d shared, %d blocks; want %d evictable", c.pc.evictable, c.pc.shared, len(c.pc.m), tc.cachedLeft)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	for _, sched := range []string{SchedContinuous, SchedChunked, SchedStatic, SchedPriority} {
		t.Run(sched, func(t *testing.T) {
			cfg := testConfig(sched)
			cfg.PrefixCache = true
			cfg.BlockTokens = 2
			c := newCore(cfg.policy(unitCost), func(*seq, int, int64) {}, func(*seq, string) {})
			a := &seq{prompt: 4, out: 10, order: 1, hi: -1, blocks: blockHashes("w x y z", 2)}
			b := &seq{prompt: 4, out: 10, order: 2, hi: -1}
			c.add(a)
			if !c.plan(0) {
				t.Fatal("nothing planned")
			}
			c.complete(1)
			c.add(b)
			c.cancel(b) // waiting
			c.cancel(a) // running
			for i := 0; c.plan(int64(i)); i++ {
				if i > 20 {
					t.Fatal("canceled requests still run")
				}
				c.complete(int64(i + 1))
			}
			if len(c.running) != 0 || c.live != 0 || len(c.waiting) != 0 || c.used() != 0 {
				t.Errorf("after cancel: %d running, %d waiting, %d KV tokens used", len(c.running), c.live, c.used())
			}
		})
	}
}

func TestBlockHashes(t *testing.T) {
	a := blockHashes("one two three four five six", 2)
	b := blockHashes("one two three four seven eight", 2)
	if len(a) != 3 || len(b) != 3 {
		t.Fatalf("blocks %d and %d, want 3", len(a), len(b))
	}
	if a[0] != b[0] || a[1] != b[1] || a[2] == b[2] {
		t.Errorf("hashes %x and %x: want the first two equal and the third different", a, b)
	}
	if c := blockHashes("one two three", 2); len(c) != 1 || c[0] != a[0] {
		t.Errorf("a partial block must not be hashed, and a prefix's block must match: %x", c)
	}
	if d := blockHashes("onetwo three", 2); d[0] == a[0] {
		t.Error("token boundaries must count")
	}
	if d := blockHashes("one  two three", 2); d[0] == a[0] {
		t.Error("whitespace is part of the tokens")
	}
}

func TestSeqHeapOrder(t *testing.T) {
	var h seqHeap
	var all []*seq
	for i, k := range []float64{5, 1, 4, 1, 3, 9, 2} {
		s := &seq{key: k, order: uint64(i), tier: 1, hi: -1}
		all = append(all, s)
		h.push(s)
	}
	pre := &seq{key: 100, order: 99, tier: 0, hi: -1}
	h.push(pre)
	h.remove(all[2]) // key 4
	var got []float64
	for s := h.pop(); s != nil; s = h.pop() {
		got = append(got, s.key)
	}
	if want := []float64{100, 1, 1, 2, 3, 5, 9}; !slices.Equal(got, want) {
		t.Errorf("pop order %v, want %v", got, want)
	}
}

// TestStepAllocs checks that a steady step (plan and complete over 500
// decoding sequences, with the prefix cache on) allocates nothing.
func TestStepAllocs(t *testing.T) {
	cfg := testConfig(SchedChunked)
	cfg.PrefixCache = true
	cfg.MaxBatch = 1000
	c := newCore(cfg.policy(unitCost), func(s *seq, i int, end int64) { s.due[i] = end }, func(*seq, string) {})
	for i := range 500 {
		s := &seq{prompt: 20, out: 1000, order: uint64(i + 1), hi: -1, due: make([]int64, 1000)}
		s.blocks = blockHashes(words16("w", 20), cfg.BlockTokens)
		c.add(s)
	}
	var now int64
	step := func() {
		if !c.plan(now) {
			t.Fatal("nothing to run")
		}
		now++
		c.complete(now)
	}
	for range 5 {
		step() // admit, prefill, grow the slices
	}
	if n := testing.AllocsPerRun(100, step); n != 0 {
		t.Errorf("%g allocations per step, want 0", n)
	}
	if c.load.Decodes != 500 || len(c.running) != 500 {
		t.Errorf("%d decodes of %d running, want 500", c.load.Decodes, len(c.running))
	}
}
