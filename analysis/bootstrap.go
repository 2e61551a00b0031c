package analysis

import (
	"cmp"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"github.com/streamgauge/streamgauge/results"
)

// The bootstrap behind compare.
//
// A run's measured requests are the resampling unit: one resample draws n
// requests with replacement from the n of the run, and every statistic is
// recomputed from the drawn requests, each counted as often as it was
// drawn. Resampling whole requests keeps what belongs together together: a
// request's itl samples (one per token) are correlated, since a slow stream
// is slow throughout, so itl is resampled by request (a cluster bootstrap)
// rather than token by token, which would pretend there are far more
// independent observations than there are and give intervals that are too
// narrow. The same holds for icl.
//
// This is done without copying data. A resample is a vector of draw counts
// w (w[i] = how often request i was drawn); each metric keeps its samples
// sorted once, with the request each came from, and a quantile of the
// resample is found by walking the sorted samples, weighting each by w of
// its request, until the quantile's rank is reached (from the top for upper
// quantiles, so a p99 looks at ~1% of the samples). The rank convention is
// HdrHistogram's: the value at rank round(q*N), at least 1.
//
// Throughputs are ratio estimators: a resample's duration is the sum of the
// drawn requests' send gaps (each request carries the gap since the send
// before it) plus the run's tail (last send to last end), so the arrival
// process's own noise, which makes two runs of the same load differ in
// length, is part of the interval.
//
// Resample r of a run is drawn from a PCG stream seeded with (seed,
// side<<32 | r), side 0 for the baseline and c+1 for candidate c, so the
// result depends on the seed alone, not on how many goroutines drew.

// entry is one sample of a metric: its value and the request it came from,
// counted cnt times (itl: a frame of k tokens gives k samples of gap/k, and
// a request's equal values share an entry).
type entry struct {
	v   float64
	req int32
	cnt int32
}

// series is one metric's samples, sorted by value, and how many samples each
// request holds.
type series struct {
	es    []entry
	count []int32 // per request
}

func (s *series) add(req int, v float64, cnt int) {
	s.es = append(s.es, entry{v: v, req: int32(req), cnt: int32(cnt)})
}

// RunSamples are one run's measured requests (warm-up and canceled
// requests left out), reduced to what a comparison needs. Build them with
// LoadRunSamples or NewRunSamples.
type RunSamples struct {
	// Name labels the run in tables; Dir is its directory, if any.
	Name string
	Dir  string
	// Profile is run.json's resolved profile, nil when unknown.
	Profile map[string]any
	// Saturated is true when summary.json marks the load generator
	// saturated; LagP99 is then its lag p99 in ms.
	Saturated bool
	LagP99    float64

	n       int
	okF     []float64 // 1 for a request that succeeded, else 0
	goodF   []float64 // 1 for a good request (slo_ok), else 0
	outTok  []float64
	gapS    []float64 // seconds since the previous send (0 for the first)
	tailS   float64   // last send to the end of the measured window
	series  map[string]*series
	okCount int
	// warmup and canceled count the records left out of the samples.
	warmup, canceled int
}

// Requests is the number of measured requests (succeeded or failed).
func (s *RunSamples) Requests() int { return s.n }

// OK is the number of measured requests that succeeded.
func (s *RunSamples) OK() int { return s.okCount }

// sampleMetrics are the metrics RunSamples keep. Per request: lag, ttfb,
// ttft, ttfo, tpot, e2e; per request and token/frame: itl, icl.
var sampleMetrics = []string{"lag", "ttfb", "ttft", "ttfo", "icl", "itl", "tpot", "e2e"}

// sampleBuilder folds records into RunSamples one at a time.
type sampleBuilder struct {
	s             *RunSamples
	g             *GoodputSLO
	fromScheduled bool
	sent, done    []int64
}

func newSampleBuilder(name string, g *GoodputSLO, fromScheduled bool) *sampleBuilder {
	s := &RunSamples{Name: name, series: map[string]*series{}}
	for _, m := range sampleMetrics {
		s.series[m] = &series{}
	}
	return &sampleBuilder{s: s, g: g.WithLatencyFromScheduled(fromScheduled), fromScheduled: fromScheduled}
}

// Append adds one record, the way an Accumulator counts it.
func (b *sampleBuilder) Append(r *results.Record) error {
	switch {
	case r.Warmup:
		b.s.warmup++
		return nil
	case r.Error != nil && r.Error.Kind == results.KindCanceled:
		b.s.canceled++
		return nil
	}
	s := b.s
	i := s.n
	s.n++
	b.sent = append(b.sent, r.SentNS)
	b.done = append(b.done, r.DoneNS)
	ok := r.Error == nil
	good := r.SLOOK
	if b.g != nil {
		good = b.g.Met(r)
	}
	s.okF = append(s.okF, b2f(ok))
	s.goodF = append(s.goodF, b2f(good && ok))
	s.series["lag"].add(i, r.LagMS, 1)
	if !ok {
		s.outTok = append(s.outTok, 0)
		return nil
	}
	s.okCount++
	s.outTok = append(s.outTok, float64(r.OutputTokens))
	var shift float64
	if b.fromScheduled {
		shift = r.SinceScheduledMS()
	}
	opt := func(m string, v *float64, shift float64) {
		if v != nil {
			s.series[m].add(i, *v+shift, 1)
		}
	}
	opt("ttfb", r.TTFBMS, shift)
	opt("ttft", r.TTFTMS, shift)
	opt("ttfo", r.TTFOMS, shift)
	opt("tpot", r.TPOTMS, 0)
	s.series["e2e"].add(i, r.E2EMS+shift, 1)
	icl, itl := s.series["icl"], s.series["itl"]
	iclFrom, itlFrom := len(icl.es), len(itl.es)
	for j, gap := range r.ICLMS {
		icl.add(i, hdrRound(gap), 1)
		k := 1
		if j+1 < len(r.FrameTokens) && r.FrameTokens[j+1] > 1 {
			k = r.FrameTokens[j+1]
		}
		itl.add(i, hdrRound(gap/float64(k)), k)
	}
	icl.mergeFrom(iclFrom)
	itl.mergeFrom(itlFrom)
	return nil
}

// hdrRound rounds a duration (ms) the way the summary's histograms bucket
// it: to whole microseconds, then to HdrHistogram's 3-significant-digit
// buckets (11 significant bits), reporting a bucket by its highest value as
// the histograms' percentiles do. A request's many itl and icl samples then
// collapse into a few (value, count) entries: a long stream of similar gaps
// costs memory for its distinct values, not for every token.
func hdrRound(ms float64) float64 {
	if !(ms > 0) || math.IsInf(ms, 0) {
		return ms
	}
	us := int64(math.Round(ms * 1000))
	if us >= 2048 {
		unit := int64(1) << (bits.Len64(uint64(us)) - 11)
		us = us&^(unit-1) + unit - 1
	}
	return float64(us) / 1000
}

// mergeFrom sorts the entries from index from on (one request's) and merges
// equal values into one entry each.
func (s *series) mergeFrom(from int) {
	tail := s.es[from:]
	if len(tail) < 2 {
		return
	}
	slices.SortFunc(tail, func(a, b entry) int { return cmp.Compare(a.v, b.v) })
	out := from
	for _, e := range tail {
		if out > from && s.es[out-1].v == e.v {
			s.es[out-1].cnt += e.cnt
			continue
		}
		s.es[out] = e
		out++
	}
	s.es = s.es[:out]
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// finish sorts the series and derives the send gaps.
func (b *sampleBuilder) finish() *RunSamples {
	s := b.s
	for _, sr := range s.series {
		slices.SortFunc(sr.es, func(a, c entry) int {
			if d := cmp.Compare(a.v, c.v); d != 0 {
				return d
			}
			return cmp.Compare(a.req, c.req)
		})
		sr.count = make([]int32, s.n)
		for _, e := range sr.es {
			sr.count[e.req] += e.cnt
		}
	}
	s.gapS = make([]float64, s.n)
	if s.n > 0 {
		order := make([]int, s.n)
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, c int) int { return cmp.Compare(b.sent[a], b.sent[c]) })
		for k := 1; k < len(order); k++ {
			s.gapS[order[k]] = float64(b.sent[order[k]]-b.sent[order[k-1]]) / 1e9
		}
		end := slices.Max(b.done)
		s.tailS = max(0, float64(end-b.sent[order[len(order)-1]])/1e9)
	}
	b.sent, b.done = nil, nil
	return s
}

// NewRunSamples builds samples from records in memory. g, when not nil,
// decides which requests are good (else each record's slo_ok does);
// fromScheduled counts ttfb, ttft, ttfo and e2e from the scheduled send.
func NewRunSamples(name string, recs []*results.Record, g *GoodputSLO, fromScheduled bool) *RunSamples {
	b := newSampleBuilder(name, g, fromScheduled)
	for _, r := range recs {
		b.Append(r)
	}
	return b.finish()
}

// statKind is how a comparison row is computed.
type statKind int

const (
	statQuantile statKind = iota
	statMean
	statOutputTokensPerS
	statRequestsPerS
	statGoodputRatio
	statErrorRate
)

// compareStat is one row of a comparison.
type compareStat struct {
	name   string
	kind   statKind
	metric string  // statQuantile, statMean
	q      float64 // statQuantile
	unit   string
	higher bool // higher is better
}

// resampleState is one goroutine's scratch space.
type resampleState struct {
	pcg    *rand.PCG
	w      []int32
	totals []int64
}

// rowPlan is how one stat is computed on one run, prepared once.
type rowPlan struct {
	compareStat
	sr     *series
	metric int // index into plan.metrics
	// A quantile over many samples (itl, icl) starts from an anchor, the
	// position of the point estimate: the weight below it is a dot product
	// over requests (below[i] = request i's samples under the anchor), and
	// the resample's quantile is found by a short walk from there instead
	// of a walk over half the samples.
	anchor int
	below  []int32
}

// plan is a run's stats, prepared for resampling.
type plan struct {
	rows    []rowPlan
	metrics []*series // the series whose totals the rows need
	// perOK[m] is true when metric m has exactly one sample per successful
	// request (ttft, e2e, ...): its total is the number of successful
	// requests drawn, which the sums count anyway.
	perOK []bool
	sums  bool // some row needs the per-request sums
}

func (s *RunSamples) plan(stats []compareStat) *plan {
	p := &plan{}
	index := map[string]int{}
	for _, st := range stats {
		rp := rowPlan{compareStat: st, anchor: -1, metric: -1}
		switch st.kind {
		case statQuantile, statMean:
			rp.sr = s.series[st.metric]
			i, ok := index[st.metric]
			if !ok {
				i = len(p.metrics)
				index[st.metric] = i
				p.metrics = append(p.metrics, rp.sr)
				p.perOK = append(p.perOK, s.onePerOK(rp.sr))
				p.sums = p.sums || p.perOK[i]
			}
			rp.metric = i
		default:
			p.sums = true
		}
		if st.kind == statQuantile && len(rp.sr.es) > 0 {
			var total int64
			for _, e := range rp.sr.es {
				total += int64(e.cnt)
			}
			j0 := quantileIndex(rp.sr.es, nil, total, st.q)
			// Anchor when a walk from the nearer end costs more than the
			// dot product over requests plus a short walk.
			if min(j0, len(rp.sr.es)-j0) > 2*s.n {
				rp.anchor = j0
				rp.below = make([]int32, s.n)
				for _, e := range rp.sr.es[:j0] {
					rp.below[e.req] += e.cnt
				}
			}
		}
		p.rows = append(p.rows, rp)
	}
	return p
}

// evaluate computes every row of p on s under draw counts w (nil: each
// request once, the point estimate), into out; st is scratch space.
func (s *RunSamples) evaluate(p *plan, w []int32, st *resampleState, out []float64) {
	totals := st.totals[:len(p.metrics)]
	for m, sr := range p.metrics {
		if p.perOK[m] {
			continue // set from the sums below
		}
		var t int64
		if w == nil {
			for _, c := range sr.count {
				t += int64(c)
			}
		} else {
			for i, c := range sr.count[:len(w)] {
				t += int64(w[i]) * int64(c)
			}
		}
		totals[m] = t
	}
	var nDrawn, okDrawn, good, outTok float64
	dur := s.tailS
	if p.sums {
		if w == nil {
			nDrawn = float64(s.n)
			for i := 0; i < s.n; i++ {
				dur += s.gapS[i]
				okDrawn += s.okF[i]
				outTok += s.outTok[i]
				good += s.goodF[i]
			}
		} else {
			gap, okF, out, goodF := s.gapS[:s.n], s.okF[:s.n], s.outTok[:s.n], s.goodF[:s.n]
			for i, wi := range w[:s.n] {
				f := float64(wi)
				dur += f * gap[i]
				okDrawn += f * okF[i]
				outTok += f * out[i]
				good += f * goodF[i]
			}
			nDrawn = float64(s.n)
		}
	}
	for m, one := range p.perOK {
		if one {
			totals[m] = int64(okDrawn)
		}
	}
	for k := range p.rows {
		rp := &p.rows[k]
		switch rp.kind {
		case statQuantile:
			W := totals[rp.metric]
			if rp.anchor < 0 || w == nil {
				j := quantileIndex(rp.sr.es, w, W, rp.q)
				out[k] = valueAt(rp.sr.es, j)
				continue
			}
			var below int64
			for i, c := range rp.below {
				below += int64(w[i]) * int64(c)
			}
			out[k] = valueAt(rp.sr.es, anchoredIndex(rp.sr.es, w, W, rp.q, rp.anchor, below))
		case statMean:
			out[k] = weightedMean(rp.sr.es, w, totals[rp.metric])
		case statOutputTokensPerS:
			out[k] = ratio(outTok, dur)
		case statRequestsPerS:
			out[k] = ratio(okDrawn, dur)
		case statGoodputRatio:
			out[k] = ratio(good, nDrawn)
		case statErrorRate:
			out[k] = ratio(nDrawn-okDrawn, nDrawn)
		}
	}
}

// onePerOK reports whether sr holds exactly one sample, counted once, for
// each successful request and none for failed ones.
func (s *RunSamples) onePerOK(sr *series) bool {
	for i, c := range sr.count {
		if c != int32(s.okF[i]) {
			return false
		}
	}
	return true
}

func valueAt(es []entry, j int) float64 {
	if j < 0 {
		return math.NaN()
	}
	return es[j].v
}

// rank is the 1-based rank of quantile q among W samples, HdrHistogram's
// way: round(q*W), at least 1.
func rank(W int64, q float64) int64 { return max(1, min(W, int64(q*float64(W)+0.5))) }

func weightOf(e entry, w []int32) int64 {
	if w == nil {
		return int64(e.cnt)
	}
	return int64(w[e.req]) * int64(e.cnt)
}

// quantileIndex returns the position in es (sorted ascending, entry e
// weighing w[e.req]*e.cnt, or e.cnt when w is nil; W the total) of quantile
// q: the first position whose cumulative weight reaches rank(W, q). It is
// -1 when W is 0. Upper quantiles walk down from the top.
func quantileIndex(es []entry, w []int32, W int64, q float64) int {
	if W <= 0 || len(es) == 0 {
		return -1
	}
	k := rank(W, q)
	if q >= 0.5 {
		// above is the weight above j; the answer is the first j from the
		// top whose own weight takes what is left below under k.
		var above int64
		for j := len(es) - 1; j >= 0; j-- {
			x := weightOf(es[j], w)
			if W-above-x < k {
				return j
			}
			above += x
		}
		return 0
	}
	var c int64
	for j, e := range es {
		if c += weightOf(e, w); c >= k {
			return j
		}
	}
	return len(es) - 1
}

// anchoredIndex is quantileIndex starting from position anchor, below
// being the weight of es[:anchor].
func anchoredIndex(es []entry, w []int32, W int64, q float64, anchor int, below int64) int {
	if W <= 0 {
		return -1
	}
	k := rank(W, q)
	c := below // cumulative weight of es[:j+1] for j = anchor-1
	if c >= k {
		for j := anchor - 1; j > 0; j-- {
			x := weightOf(es[j], w)
			if c-x < k {
				return j
			}
			c -= x
		}
		return 0
	}
	for j := anchor; j < len(es); j++ {
		if c += weightOf(es[j], w); c >= k {
			return j
		}
	}
	return len(es) - 1
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return math.NaN()
	}
	return a / b
}

func weightedMean(es []entry, w []int32, W int64) float64 {
	if W <= 0 {
		return math.NaN()
	}
	var sum float64
	for _, e := range es {
		x := float64(e.cnt)
		if w != nil {
			x *= float64(w[e.req])
		}
		sum += x * e.v
	}
	return sum / float64(W)
}

// draw fills st.w with the draw counts of resample r of side.
func (st *resampleState) draw(n int, seed uint64, side, r int) {
	st.pcg.Seed(seed, uint64(side)<<32|uint64(r))
	clear(st.w[:n])
	for range n {
		// Lemire's multiply-shift: uniform in [0, n) up to n/2^32.
		st.w[((st.pcg.Uint64()>>32)*uint64(n))>>32]++
	}
}

// bootstrap returns out[r][k]: row k of p on resample r of s.
func (s *RunSamples) bootstrap(p *plan, resamples int, seed uint64, side int) [][]float64 {
	out := make([][]float64, resamples)
	flat := make([]float64, resamples*len(p.rows))
	for r := range out {
		out[r] = flat[r*len(p.rows) : (r+1)*len(p.rows)]
	}
	if s.n == 0 {
		for i := range flat {
			flat[i] = math.NaN()
		}
		return out
	}
	workers := min(runtime.GOMAXPROCS(0), resamples)
	var wg sync.WaitGroup
	for g := range workers {
		wg.Go(func() {
			st := s.newState(p)
			for r := g; r < resamples; r += workers {
				st.draw(s.n, seed, side, r)
				s.evaluate(p, st.w, st, out[r])
			}
		})
	}
	wg.Wait()
	return out
}

func (s *RunSamples) newState(p *plan) *resampleState {
	return &resampleState{pcg: rand.NewPCG(0, 0), w: make([]int32, s.n), totals: make([]int64, len(p.metrics))}
}

// point returns the rows of p on s itself.
func (s *RunSamples) point(p *plan) []float64 {
	out := make([]float64, len(p.rows))
	s.evaluate(p, nil, s.newState(p), out)
	return out
}
