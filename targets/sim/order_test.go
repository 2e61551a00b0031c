package sim

import (
	"math"
	"math/rand/v2"
	"testing"
)

// orderingLoad is the workload of docs/schedulers.md's table, on the
// simulated clock: Poisson arrivals, lognormal prompts (median 400 tokens,
// sigma 1.2, at most 8000: a few long prompts among many short ones),
// 64-token outputs, h100-llama8b, max-batch 64.
func orderingRun(t *testing.T, sched string, rate float64) (ttft, itl []float64) {
	cfg := DefaultConfig()
	cfg.Scheduler = sched
	cfg.Preset = "h100-llama8b"
	cfg.MaxBatch = 64
	reqs := poissonLoad(1, 200, rate,
		func(r *rand.Rand) int { return max(1, min(8000, int(400*math.Exp(1.2*r.NormFloat64())))) },
		func(*rand.Rand) int { return 64 })
	outs, _ := simulate(t, cfg, reqs)
	for i, o := range outs {
		if len(o.tokens) != reqs[i].out {
			t.Fatalf("%s at %g req/s: request %d got %d tokens, want %d", sched, rate, i, len(o.tokens), reqs[i].out)
		}
	}
	return latencies(outs)
}

// TestSchedulerOrderings checks the orderings docs/schedulers.md shows.
func TestSchedulerOrderings(t *testing.T) {
	t.Run("continuous beats static on ttft p50 at moderate load", func(t *testing.T) {
		ct, _ := orderingRun(t, SchedContinuous, 4)
		st, _ := orderingRun(t, SchedStatic, 4)
		c, s := quantile(ct, 0.5), quantile(st, 0.5)
		t.Logf("ttft p50: continuous %.1f ms, static %.1f ms", c, s)
		if c >= s {
			t.Errorf("continuous ttft p50 %.1f ms is not below static's %.1f ms", c, s)
		}
	})
	t.Run("chunked-prefill lowers itl p99 when long prompts arrive among decodes", func(t *testing.T) {
		_, ci := orderingRun(t, SchedContinuous, 8)
		_, ki := orderingRun(t, SchedChunked, 8)
		c, k := quantile(ci, 0.99), quantile(ki, 0.99)
		t.Logf("itl p99: continuous %.1f ms, chunked-prefill %.1f ms", c, k)
		if k >= c {
			t.Errorf("chunked-prefill itl p99 %.1f ms is not below continuous's %.1f ms", k, c)
		}
	})
	t.Run("fcfs saturates first", func(t *testing.T) {
		// The saturation rate is the lowest rate of the ladder at which the
		// median request waits over a second for its first token.
		rates := []float64{0.5, 1, 2, 4, 8, 16, 32}
		saturation := func(sched string) float64 {
			for _, r := range rates {
				tt, _ := orderingRun(t, sched, r)
				if quantile(tt, 0.5) > 1000 {
					return r
				}
			}
			return math.Inf(1)
		}
		f := saturation(SchedFCFS)
		for _, s := range []string{SchedStatic, SchedContinuous, SchedChunked, SchedPriority} {
			o := saturation(s)
			t.Logf("saturation: fcfs %g req/s, %s %g req/s", f, s, o)
			if f >= o {
				t.Errorf("fcfs saturates at %g req/s, %s at %g: want fcfs first", f, s, o)
			}
		}
	})
}
