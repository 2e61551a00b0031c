package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// simReq is one request of a simulated-clock run.
type simReq struct {
	at          time.Duration
	prompt, out int
	text        string // for the prefix cache
}

// simOut is what a request saw: its token times since the run's start.
type simOut struct {
	at     time.Duration
	tokens []time.Duration
	failed string
}

func (o simOut) ttft() time.Duration { return o.tokens[0] - o.at }

// simulate runs the scheduling core of cfg over reqs (sorted by arrival) on
// a simulated clock: the same core as the real engine, with step ends
// computed instead of slept. It is fast and deterministic.
func simulate(tb testing.TB, cfg Config, reqs []simReq) ([]simOut, *core) {
	tb.Helper()
	if err := cfg.Validate(); err != nil {
		tb.Fatal(err)
	}
	cost, err := cfg.CostModel()
	if err != nil {
		tb.Fatal(err)
	}
	pol := cfg.policy(cost)
	outs := make([]simOut, len(reqs))
	c := newCore(pol,
		func(s *seq, i int, end int64) {
			outs[s.order-1].tokens = append(outs[s.order-1].tokens, time.Duration(end))
		},
		func(s *seq, msg string) { outs[s.order-1].failed = msg })
	var now int64
	next := 0
	for {
		for next < len(reqs) && int64(reqs[next].at) <= now {
			r := reqs[next]
			next++
			s := &seq{id: "r", prompt: r.prompt, out: r.out, arrived: int64(r.at), order: uint64(next), hi: -1}
			if pol.blockSize > 0 {
				s.blocks = blockHashes(r.text, pol.blockSize)
			}
			outs[next-1].at = r.at
			c.add(s)
		}
		if !c.plan(now) {
			if next == len(reqs) {
				break
			}
			now = int64(reqs[next].at)
			continue
		}
		now += int64(cost.StepTime(c.load))
		c.complete(now)
	}
	return outs, c
}

// poissonLoad draws n requests at rate req/s with prompt and output lengths
// from the given functions.
func poissonLoad(seed uint64, n int, rate float64, prompt, out func(*rand.Rand) int) []simReq {
	rng := rand.New(rand.NewPCG(seed, 7))
	reqs := make([]simReq, n)
	var t float64
	for i := range reqs {
		t += rng.ExpFloat64() / rate
		reqs[i] = simReq{at: time.Duration(t * 1e9), prompt: prompt(rng), out: out(rng)}
	}
	return reqs
}

// latencies summarises a run: ttft and itl samples in ms.
func latencies(outs []simOut) (ttft, itl []float64) {
	for _, o := range outs {
		if len(o.tokens) == 0 {
			continue
		}
		ttft = append(ttft, float64(o.ttft())/1e6)
		for i := 1; i < len(o.tokens); i++ {
			itl = append(itl, float64(o.tokens[i]-o.tokens[i-1])/1e6)
		}
	}
	return ttft, itl
}

func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}
