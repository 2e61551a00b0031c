package analysis_test

import (
	"math"
	"os"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
	"github.com/streamgauge/streamgauge/results"
)

// TestCompareHonesty measures what compare's verdicts are worth, on
// synthetic runs of 2,000 requests a side (see analysistest.Synth; no network):
//
//   - A/A honesty: pairs of runs drawn from the same distribution. A pair is
//     flagged when compare calls any of its 16 default metrics significant
//     (either direction), which is stricter than the exit code (a
//     regression must also be worse by more than the tolerance). At most
//     5% of pairs may be flagged, and at most 5% may exit 3.
//   - A/B power: the candidate's prefill is 10% slower (every ttft ×1.1, so
//     p99 ttft rises by 10%). compare must call ttft.p99 itself a
//     regression in at least 90% of pairs; the pair is flagged as a whole
//     (exit 3) in even more.
//
// Each of the 200 pairs shares its baseline between the A/A and the A/B
// candidate; candidates are judged separately (each has its own family of
// 16 metrics). The test uses 1,000 resamples, not the default 2,000: the
// adjustment for 16 metrics asks whether a p-value is under 0.05/16 ≈
// 0.003, and 1,000 resamples resolve p-values to 0.002, the coarsest that
// still can; it halves the test's time. The seeds are fixed, so the rates
// are reproducible. Measured with these seeds: A/A 5.0% of pairs flagged,
// 1.0% exit 3; A/B ttft.p99 a regression in 91.5% of pairs, exit 3 in
// 100%. Both margins are thin because the targets sit where 2,000 requests
// can just reach: p99 rests on the slowest 20 requests of each run.
func TestCompareHonesty(t *testing.T) {
	if testing.Short() {
		t.Skip("200 pairs of 2,000-request runs: skipped in -short")
	}
	if raceDetector {
		t.Skip("statistical test, about 15 times slower under -race: run it without, go test -run TestCompareHonesty ./analysis/ (about 30 s)")
	}
	const (
		pairs     = 200
		n         = 2000
		resamples = 1000
	)
	slower := analysistest.BaseSynth()
	slower.TTFTScale = 1.1
	var aaFlagged, aaExit3, abP99, abExit3 int
	for p := range pairs {
		base := analysistest.BaseSynth().Samples("a", uint64(3*p+1000), n)
		aa := analysistest.BaseSynth().Samples("a2", uint64(3*p+1001), n)
		ab := slower.Samples("b", uint64(3*p+1002), n)
		c, err := analysis.Compare(base, []*analysis.RunSamples{aa, ab}, analysis.CompareOptions{Seed: uint64(p), Resamples: resamples})
		if err != nil {
			t.Fatal(err)
		}
		flagged := false
		for _, r := range c.Rows {
			flagged = flagged || r.Candidates[0].Significant
			if r.Metric == "ttft.p99" && r.Candidates[1].Verdict == analysis.VerdictRegression {
				abP99++
			}
		}
		if flagged {
			aaFlagged++
		}
		for _, name := range c.Regressed {
			switch name {
			case "a2":
				aaExit3++
			case "b":
				abExit3++
			}
		}
	}
	pct := func(k int) float64 { return 100 * float64(k) / pairs }
	t.Logf("A/A: %.1f%% of %d pairs flagged significant, %.1f%% would exit 3", pct(aaFlagged), pairs, pct(aaExit3))
	t.Logf("A/B (+10%% ttft): ttft.p99 called a regression in %.1f%% of pairs, %.1f%% would exit 3", pct(abP99), pct(abExit3))
	if pct(aaFlagged) > 5 || pct(aaExit3) > 5 {
		t.Errorf("A/A: %.1f%% flagged, %.1f%% exit 3; want at most 5%% each", pct(aaFlagged), pct(aaExit3))
	}
	if pct(abP99) < 90 || pct(abExit3) < 90 {
		t.Errorf("A/B: ttft.p99 regression in %.1f%%, exit 3 in %.1f%%; want at least 90%% each", pct(abP99), pct(abExit3))
	}
}

// bigSynth is a large synthetic run, built as it streams (no record is
// kept): analysistest.BaseSynth's server at Rate req/s, plus the server's moments. Every
// Moment consecutive arrivals share a load factor LogNormal(0, MomentSigma)
// that scales their ttft and their decode speed (a batch, a queue that
// fills and drains): requests of one moment are correlated, as tokens of
// one request are.
type bigSynth struct {
	analysistest.Synth
	Moment      int
	MomentSigma float64
}

var baseBig = bigSynth{Synth: analysistest.Synth{Rate: 1000, TTFTScale: 1, ITLScale: 1, FailRate: 0.005}, Moment: 20, MomentSigma: 0.1}

// samples builds the samples of n requests through a SampleBuilder, one
// reused record at a time.
func (s bigSynth) samples(name string, seed uint64, n int) *analysis.RunSamples {
	rng := analysistest.NewRand(seed)
	b := analysis.NewSampleBuilder(name, nil, false)
	var r results.Record
	icl := make([]float64, 0, 24)
	var ttftV, tpotV float64
	var t, factor float64
	for i := range n {
		if i%s.Moment == 0 {
			factor = math.Exp(s.MomentSigma * rng.NormFloat64())
		}
		t += rng.ExpFloat64() / s.Rate * 1e9
		in := 100 + rng.IntN(801)
		ttft := s.TTFTScale * factor * (30 + 0.2*float64(in) + 20*rng.ExpFloat64())
		out := 8 + rng.IntN(17)
		speed := s.ITLScale * factor * 10 * math.Exp(0.1*rng.NormFloat64())
		icl = icl[:out-1]
		decode := 0.0
		for j := range icl {
			icl[j] = speed * math.Max(0.1, 1+0.05*rng.NormFloat64())
			decode += icl[j]
		}
		e2e := ttft + decode
		ttftV, tpotV = ttft, decode/float64(out-1)
		r = results.Record{SentNS: int64(t), DoneNS: int64(t + e2e*1e6), LagMS: 0.05 * rng.ExpFloat64(),
			TTFTMS: &ttftV, TTFBMS: &ttftV, TTFOMS: &ttftV, E2EMS: e2e, TPOTMS: &tpotV, ICLMS: icl, OutputTokens: out}
		if rng.Float64() < s.FailRate {
			r.Error = &results.Error{Kind: results.KindConnect}
			r.TTFBMS, r.TTFTMS, r.TTFOMS, r.TPOTMS, r.ICLMS = nil, nil, nil, nil, nil
			r.E2EMS, r.OutputTokens, r.DoneNS = 1, 0, int64(t+1e6)
		}
		r.SLOOK = r.Error == nil && ttft <= 250
		b.Append(&r)
	}
	return b.Finish()
}

// TestCompareHonestyLarge is TestCompareHonesty on runs of 200,000
// requests a side whose requests are correlated in time (bigSynth: every
// 20 consecutive arrivals share a server moment) as well as within a
// request; compare resamples them in blocks of 128 consecutive requests
// (1,563 clusters a side). It is slow (about 90 s of CPU) and runs only
// when STREAMGAUGE_LARGE is set: make check.
//
//   - A/A: 60 pairs of runs of the same server; at most 5% of pairs may
//     have any of the 16 default metrics called significant (either
//     direction), and at most 5% may exit 3.
//   - A/B: the candidate's ttft is 10% slower; ttft.p99 must be a
//     regression, and the pair exit 3, in every one of 10 pairs.
//
// Measured with these seeds: A/A 1 of 60 pairs flagged (1.7%), none exit
// 3; A/B 10 of 10. Resampling these runs request by request instead (as
// compare did for every run before it kept clusters; measured by raising
// MaxClusters over 200,000) flagged 9 of 20 A/A pairs (45%): the moments'
// correlation made the intervals too narrow. Resampling tokens one by one
// would be narrower still.
func TestCompareHonestyLarge(t *testing.T) {
	if os.Getenv("STREAMGAUGE_LARGE") == "" {
		t.Skip("100 pairs of 200,000-request runs (about a minute): set STREAMGAUGE_LARGE=1 (make check)")
	}
	if raceDetector {
		t.Skip("statistical test: run it without -race")
	}
	const (
		pairs     = 60
		abPairs   = 10
		n         = 200_000
		resamples = 1000
	)
	slower := baseBig
	slower.TTFTScale = 1.1
	type result struct{ flagged, exit3, abP99, abExit3 bool }
	res := make([]result, pairs)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for p := range pairs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			base := baseBig.samples("a", uint64(3*p+5000), n)
			cands := []*analysis.RunSamples{baseBig.samples("a2", uint64(3*p+5001), n)}
			if p < abPairs {
				cands = append(cands, slower.samples("b", uint64(3*p+5002), n))
			}
			c, err := analysis.Compare(base, cands, analysis.CompareOptions{Seed: uint64(p), Resamples: resamples})
			if err != nil {
				t.Error(err)
				return
			}
			r := &res[p]
			for _, row := range c.Rows {
				r.flagged = r.flagged || row.Candidates[0].Significant
				if p < abPairs && row.Metric == "ttft.p99" {
					r.abP99 = row.Candidates[1].Verdict == analysis.VerdictRegression
				}
			}
			r.exit3 = slices.Contains(c.Regressed, "a2")
			r.abExit3 = slices.Contains(c.Regressed, "b")
		})
	}
	wg.Wait()
	var aaFlagged, aaExit3, abP99, abExit3 int
	for _, r := range res {
		aaFlagged += b2i(r.flagged)
		aaExit3 += b2i(r.exit3)
		abP99 += b2i(r.abP99)
		abExit3 += b2i(r.abExit3)
	}
	t.Logf("A/A: %d of %d pairs flagged significant, %d would exit 3", aaFlagged, pairs, aaExit3)
	t.Logf("A/B (+10%% ttft): ttft.p99 a regression in %d of %d pairs, %d would exit 3", abP99, abPairs, abExit3)
	if aaFlagged*100 > 5*pairs || aaExit3*100 > 5*pairs {
		t.Errorf("A/A: %d flagged, %d exit 3 of %d pairs; want at most 5%% each", aaFlagged, aaExit3, pairs)
	}
	if abP99 < abPairs || abExit3 < abPairs {
		t.Errorf("A/B: ttft.p99 regression in %d, exit 3 in %d of %d pairs; want all", abP99, abExit3, abPairs)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
