package analysistest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/results"
)

// Synth describes a synthetic run, a stand-in for a server under moderate
// open-loop load:
//
//   - arrivals: Poisson at Rate req/s;
//   - ttft: TTFTScale × (30 ms + 0.2 ms per prompt token + Exp(mean 20 ms)),
//     prompts Uniform(100, 900) tokens: a prefill that grows with the prompt
//     plus a queueing wait (p50 ≈ 150 ms, p99 ≈ 260 ms);
//   - decoding: Uniform(8, 24) output tokens; each request decodes at its
//     own speed, ITLScale × 10 ms × LogNormal(0, 0.1) per token, each gap
//     jittered by ±5% (so a request's itl samples are correlated, as on a
//     real server);
//   - FailRate of the requests fail to connect;
//   - a request is good (slo_ok) when its ttft is within 250 ms.
type Synth struct {
	Rate      float64
	TTFTScale float64
	ITLScale  float64
	FailRate  float64
}

// BaseSynth is the reference server: 10 req/s, unscaled latencies, 0.5%
// of requests failing.
func BaseSynth() Synth {
	return Synth{Rate: 10, TTFTScale: 1, ITLScale: 1, FailRate: 0.005}
}

// NewRand is the deterministic generator the tests seed: PCG(seed, 0).
func NewRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0)) }

// Records draws n records of the run from rng.
func (s Synth) Records(rng *rand.Rand, n int) []*results.Record {
	recs := make([]*results.Record, n)
	var t float64 // ns
	for i := range recs {
		t += rng.ExpFloat64() / s.Rate * 1e9
		in := 100 + rng.IntN(801)
		ttft := s.TTFTScale * (30 + 0.2*float64(in) + 20*rng.ExpFloat64())
		out := 8 + rng.IntN(17)
		speed := s.ITLScale * 10 * math.Exp(0.1*rng.NormFloat64())
		icl := make([]float64, out-1)
		decode := 0.0
		for j := range icl {
			icl[j] = speed * math.Max(0.1, 1+0.05*rng.NormFloat64())
			decode += icl[j]
		}
		e2e := ttft + decode
		r := &results.Record{
			ID: fmt.Sprint(i), ScheduledNS: int64(t), SentNS: int64(t), DoneNS: int64(t + e2e*1e6),
			LagMS: 0.05 * rng.ExpFloat64(), TTFBMS: results.Ms(ttft * 0.9), TTFTMS: results.Ms(ttft), TTFOMS: results.Ms(ttft),
			E2EMS: e2e, TPOTMS: results.Ms(decode / float64(out-1)), ICLMS: icl,
			InputTokens: in, OutputTokens: out, OutputTokensSource: results.SourceUsage, Frames: out, HTTPStatus: 200,
		}
		if rng.Float64() < s.FailRate {
			r.Error = &results.Error{Kind: results.KindConnect, Message: "connection refused"}
			r.TTFBMS, r.TTFTMS, r.TTFOMS, r.TPOTMS, r.ICLMS = nil, nil, nil, nil, nil
			r.E2EMS, r.OutputTokens, r.HTTPStatus, r.Frames = 1, 0, 0, 0
			r.DoneNS = int64(t + 1e6)
		}
		r.SLOOK = r.Error == nil && ttft <= 250
		recs[i] = r
	}
	return recs
}

// Samples is the compare samples of n records drawn with NewRand(seed),
// named name.
func (s Synth) Samples(name string, seed uint64, n int) *analysis.RunSamples {
	return analysis.NewRunSamples(name, s.Records(NewRand(seed), n), nil, false)
}
