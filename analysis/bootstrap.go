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
// The resampling unit is a cluster of measured requests, never a token. A
// run of up to MaxClusters measured requests has one cluster per request;
// a longer run is cut, in the order its records were written (the order
// requests finished), into blocks of 2^k consecutive requests, k the
// smallest that leaves at most MaxClusters blocks (so between MaxClusters/2
// and MaxClusters; the last block may be short). One resample draws as
// many clusters as the run has, with replacement, and every statistic is
// recomputed from the drawn clusters, each counted as often as it was
// drawn.
//
// Why clusters: a request's itl samples (one per token) are correlated,
// since a slow stream is slow throughout, and requests that ran at the
// same moment share the server's state (its batch, its queue), so they are
// correlated too. Resampling tokens, or requests one by one on a long run,
// would pretend there are more independent observations than there are
// and give intervals that are too narrow: on large runs, noise becomes a
// regression. A block of consecutive requests keeps both kinds of
// dependence inside the unit that is resampled (a block bootstrap), as
// long as the server's memory is shorter than a block.
//
// Why it fits in bounded memory: a cluster is only needed as a histogram
// per metric. Every value is rounded the way the summary's histograms
// bucket it (whole microseconds, 3 significant digits) and stored as its
// bucket's code; a cluster keeps one entry (bucket, cluster, count) per
// bucket it has values in, so memory grows with the distinct buckets of
// each block, not with tokens or requests: at most MaxClusters clusters
// times the buckets a metric spans. Per cluster, the counts the ratios
// need (requests, successes, good requests, output tokens, send gaps) are
// sums. Only the send time of each request (8 bytes) is kept while
// reading, to order the sends.
//
// A resample is a vector of draw counts w (w[c] = how often cluster c was
// drawn); each metric keeps its entries sorted once by value, and a
// quantile of the resample is found by walking the sorted entries,
// weighting each by w of its cluster, until the quantile's rank is
// reached (from the top for upper quantiles, so a p99 looks at ~1% of the
// entries). The rank convention is HdrHistogram's: the value at rank
// round(q*N), at least 1.
//
// Throughputs are ratio estimators: a resample's duration is the sum of
// the drawn clusters' send gaps (each request carries the gap since the
// send before it) plus the run's tail (last send to last end), so the
// arrival process's own noise, which makes two runs of the same load
// differ in length, is part of the interval.
//
// Resample r of a run is drawn from a PCG stream seeded with (seed,
// side<<32 | r), side 0 for the baseline and c+1 for candidate c, so the
// result depends on the seed alone, not on how many goroutines drew.

// MaxClusters is the most clusters a run is resampled in: runs of up to
// MaxClusters measured requests resample requests, longer runs blocks of
// consecutive requests.
const MaxClusters = 2048

// entry is one bucket of a metric in one cluster: the bucket's code (see
// bucketCode), the cluster, and how many samples fell in it.
type entry struct {
	code uint16
	cl   uint16
	cnt  uint32
}

// series is one metric's entries, sorted by value once built, and how many
// samples each cluster holds.
type series struct {
	es    []entry
	count []int64 // per cluster
	// dense counts the samples of the cluster being built by bucket code;
	// touched lists the codes it holds.
	dense   []uint64
	touched []uint16
}

// numCodes bounds bucketCode.
const numCodes = 2048 + 53*1024

// bucketCode is the code of the HdrHistogram bucket (1 µs units, 3
// significant digits, 11 significant bits) holding ms: codes grow with the
// value, and bucketValue(bucketCode(ms)) is the bucket's highest value, as
// the summary's percentiles report it. Values under half a microsecond,
// negative or NaN are 0 (the summary's histograms count them as 0 too).
func bucketCode(ms float64) uint16 {
	if !(ms > 0) {
		return 0
	}
	us := uint64(math.MaxInt64 >> 1)
	if f := math.Round(ms * 1000); f < float64(us) {
		us = uint64(f)
	}
	if us < 2048 {
		return uint16(us)
	}
	e := bits.Len64(us) - 11
	return uint16(2048 + (e-1)*1024 + int(us>>e) - 1024)
}

// bucketValue is the value (ms) of a bucket code: the bucket's highest.
func bucketValue(code uint16) float64 {
	if code < 2048 {
		return float64(code) / 1000
	}
	c := int(code) - 2048
	e := c/1024 + 1
	m := uint64(c%1024 + 1024)
	return float64(m<<e+1<<e-1) / 1000
}

// add counts n samples of ms in the cluster being built.
func (s *series) add(ms float64, n int) {
	s.addCode(bucketCode(ms), uint64(n))
}

func (s *series) addCode(code uint16, n uint64) {
	if s.dense == nil {
		s.dense = make([]uint64, numCodes)
	}
	if s.dense[code] == 0 {
		s.touched = append(s.touched, code)
	}
	s.dense[code] += n
}

// flush appends the cluster being built as entries of cluster cl, in code
// order (a count over 2^32 takes several entries), and empties it.
func (s *series) flush(cl int) {
	slices.Sort(s.touched)
	for _, code := range s.touched {
		for n := s.dense[code]; n > 0; {
			c := min(n, math.MaxUint32)
			s.es = append(s.es, entry{code: code, cl: uint16(cl), cnt: uint32(c)})
			n -= c
		}
		s.dense[code] = 0
	}
	s.touched = s.touched[:0]
}

// RunSamples are one run's measured requests (warm-up and canceled
// requests left out), reduced to what a comparison needs: per cluster of
// requests (see MaxClusters), a histogram of each metric and the sums the
// ratios need. Build them with LoadRunSamples, NewRunSamples or a
// SampleBuilder.
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

	n int
	// Per cluster: requests, successes, good requests (slo_ok and
	// succeeded), output tokens, and the sum of the requests' send gaps in
	// seconds.
	size, okN, goodN []int64
	outTok, gapS     []float64
	tailS            float64 // last send to the end of the measured window
	series           map[string]*series
	okCount          int
	// warmup and canceled count the records left out of the samples.
	warmup, canceled int
}

// Requests is the number of measured requests (succeeded or failed).
func (s *RunSamples) Requests() int { return s.n }

// OK is the number of measured requests that succeeded.
func (s *RunSamples) OK() int { return s.okCount }

// Clusters is the number of clusters the run is resampled in: one per
// measured request up to MaxClusters, else blocks of consecutive requests.
func (s *RunSamples) Clusters() int { return len(s.size) }

// sampleMetrics are the metrics RunSamples keep. Per request: lag, ttfb,
// ttft, ttfo, tpot, e2e; per request and token/frame: itl, icl.
var sampleMetrics = []string{"lag", "ttfb", "ttft", "ttfo", "icl", "itl", "tpot", "e2e"}

// SampleBuilder folds records into RunSamples one at a time, in the order
// they were written, keeping only per-cluster histograms and sums (and 8
// bytes per request): memory does not grow with the number of tokens.
type SampleBuilder struct {
	s             *RunSamples
	g             *GoodputSLO
	fromScheduled bool
	// shift: a request i belongs to cluster i>>shift.
	shift   uint
	sent    []int64
	maxDone int64
	all     []*series // s.series in sampleMetrics order
}

// NewSampleBuilder starts the samples of a run named name. g, when not
// nil, decides which requests are good (else each record's slo_ok does);
// fromScheduled counts ttfb, ttft, ttfo and e2e from the scheduled send.
func NewSampleBuilder(name string, g *GoodputSLO, fromScheduled bool) *SampleBuilder {
	s := &RunSamples{Name: name, series: map[string]*series{}}
	b := &SampleBuilder{s: s, g: g.WithLatencyFromScheduled(fromScheduled), fromScheduled: fromScheduled, maxDone: math.MinInt64}
	for _, m := range sampleMetrics {
		sr := &series{}
		s.series[m] = sr
		b.all = append(b.all, sr)
	}
	return b
}

// Append adds one record, the way an Accumulator counts it. It never
// fails; the signature lets a SampleBuilder be a record sink.
func (b *SampleBuilder) Append(r *results.Record) error {
	switch {
	case r.Warmup:
		b.s.warmup++
		return nil
	case r.Error != nil && r.Error.Kind == results.KindCanceled:
		b.s.canceled++
		return nil
	}
	s := b.s
	cl := b.cluster(s.n)
	s.n++
	s.size[cl]++
	b.sent = append(b.sent, r.SentNS)
	b.maxDone = max(b.maxDone, r.DoneNS)
	ok := r.Error == nil
	good := r.SLOOK
	if b.g != nil {
		good = b.g.Met(r)
	}
	if good && ok {
		s.goodN[cl]++
	}
	s.series["lag"].add(r.LagMS, 1)
	if !ok {
		return nil
	}
	s.okN[cl]++
	s.okCount++
	s.outTok[cl] += float64(r.OutputTokens)
	var shift float64
	if b.fromScheduled {
		shift = r.SinceScheduledMS()
	}
	opt := func(m string, v *float64, shift float64) {
		if v != nil {
			s.series[m].add(*v+shift, 1)
		}
	}
	opt("ttfb", r.TTFBMS, shift)
	opt("ttft", r.TTFTMS, shift)
	opt("ttfo", r.TTFOMS, shift)
	opt("tpot", r.TPOTMS, 0)
	s.series["e2e"].add(r.E2EMS+shift, 1)
	icl, itl := s.series["icl"], s.series["itl"]
	for j, gap := range r.ICLMS {
		icl.add(gap, 1)
		k := 1
		if j+1 < len(r.FrameTokens) && r.FrameTokens[j+1] > 1 {
			k = r.FrameTokens[j+1]
		}
		itl.add(gap/float64(k), k)
	}
	return nil
}

// cluster returns the cluster of measured request i, closing the previous
// cluster when i starts a new one and halving the clusters (merging
// neighbours) when there would be more than MaxClusters.
func (b *SampleBuilder) cluster(i int) int {
	s := b.s
	cl := i >> b.shift
	if cl < len(s.size) {
		return cl
	}
	b.closeCluster()
	if cl == MaxClusters {
		b.halve()
		cl = i >> b.shift
	}
	s.size = append(s.size, 0)
	s.okN = append(s.okN, 0)
	s.goodN = append(s.goodN, 0)
	s.outTok = append(s.outTok, 0)
	return cl
}

// closeCluster appends the cluster being built (the last one) to the
// entries.
func (b *SampleBuilder) closeCluster() {
	if len(b.s.size) == 0 {
		return
	}
	for _, sr := range b.all {
		sr.flush(len(b.s.size) - 1)
	}
}

// halve merges clusters 2j and 2j+1 into cluster j. Every cluster is
// closed, and each one's entries are contiguous.
func (b *SampleBuilder) halve() {
	s := b.s
	b.shift++
	half := len(s.size) / 2
	for j := range half {
		s.size[j] = s.size[2*j] + s.size[2*j+1]
		s.okN[j] = s.okN[2*j] + s.okN[2*j+1]
		s.goodN[j] = s.goodN[2*j] + s.goodN[2*j+1]
		s.outTok[j] = s.outTok[2*j] + s.outTok[2*j+1]
	}
	s.size, s.okN, s.goodN, s.outTok = s.size[:half], s.okN[:half], s.goodN[:half], s.outTok[:half]
	for _, sr := range b.all {
		// The merged entries of cluster j are written over those of
		// clusters 2j and 2j+1, after both are read: never ahead of the
		// reading.
		in := sr.es
		sr.es = in[:0]
		for from := 0; from < len(in); {
			j := in[from].cl / 2
			to := from
			for to < len(in) && in[to].cl/2 == j {
				sr.addCode(in[to].code, uint64(in[to].cnt))
				to++
			}
			sr.flush(int(j))
			from = to
		}
	}
}

// Finish sorts the samples and derives the send gaps. The builder must not
// be used afterwards.
func (b *SampleBuilder) Finish() *RunSamples {
	s := b.s
	b.closeCluster()
	nc := len(s.size)
	for _, sr := range s.series {
		sr.dense, sr.touched = nil, nil
		// The entries are in cluster order, each cluster's in code order:
		// a stable counting sort by code orders them by (code, cluster).
		at := make([]int, numCodes+1)
		for _, e := range sr.es {
			at[e.code+1]++
		}
		for c := 1; c <= numCodes; c++ {
			at[c] += at[c-1]
		}
		sorted := make([]entry, len(sr.es))
		sr.count = make([]int64, nc)
		for _, e := range sr.es {
			sorted[at[e.code]] = e
			at[e.code]++
			sr.count[e.cl] += int64(e.cnt)
		}
		sr.es = sorted
	}
	s.gapS = make([]float64, nc)
	if s.n > 0 {
		type send struct {
			ns int64
			i  int32
		}
		order := make([]send, s.n)
		for i, ns := range b.sent {
			order[i] = send{ns, int32(i)}
		}
		b.sent = nil
		slices.SortFunc(order, func(a, c send) int { return cmp.Or(cmp.Compare(a.ns, c.ns), cmp.Compare(a.i, c.i)) })
		for k := 1; k < len(order); k++ {
			s.gapS[int(order[k].i)>>b.shift] += float64(order[k].ns-order[k-1].ns) / 1e9
		}
		s.tailS = max(0, float64(b.maxDone-order[len(order)-1].ns)/1e9)
	}
	b.sent = nil
	return s
}

// NewRunSamples builds samples from records in memory. g, when not nil,
// decides which requests are good (else each record's slo_ok does);
// fromScheduled counts ttfb, ttft, ttfo and e2e from the scheduled send.
func NewRunSamples(name string, recs []*results.Record, g *GoodputSLO, fromScheduled bool) *RunSamples {
	b := NewSampleBuilder(name, g, fromScheduled)
	for _, r := range recs {
		b.Append(r)
	}
	return b.Finish()
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
	// A quantile over many entries starts from an anchor, the position of
	// the point estimate: the weight below it is a dot product over
	// clusters (below[c] = cluster c's samples under the anchor), and the
	// resample's quantile is found by a short walk from there instead of a
	// walk over half the entries.
	anchor int
	below  []int64
}

// plan is a run's stats, prepared for resampling.
type plan struct {
	rows    []rowPlan
	metrics []*series // the series whose totals the rows need
	// perOK[m] is true when metric m has exactly one sample per successful
	// request (ttft, e2e, ...): its total is the number of successful
	// requests drawn, which the sums count anyway.
	perOK []bool
	sums  bool // some row needs the per-cluster sums
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
			// dot product over clusters plus a short walk.
			if min(j0, len(rp.sr.es)-j0) > 2*len(s.size) {
				rp.anchor = j0
				rp.below = make([]int64, len(s.size))
				for _, e := range rp.sr.es[:j0] {
					rp.below[e.cl] += int64(e.cnt)
				}
			}
		}
		p.rows = append(p.rows, rp)
	}
	return p
}

// evaluate computes every row of p on s under draw counts w (nil: each
// cluster once, the point estimate), into out; st is scratch space.
func (s *RunSamples) evaluate(p *plan, w []int32, st *resampleState, out []float64) {
	totals := st.totals[:len(p.metrics)]
	for m, sr := range p.metrics {
		if p.perOK[m] {
			continue // set from the sums below
		}
		var t int64
		if w == nil {
			for _, c := range sr.count {
				t += c
			}
		} else {
			for i, c := range sr.count[:len(w)] {
				t += int64(w[i]) * c
			}
		}
		totals[m] = t
	}
	var nDrawn, okDrawn, good int64
	var outTok float64
	dur := s.tailS
	if p.sums {
		nc := len(s.size)
		if w == nil {
			for c := range nc {
				dur += s.gapS[c]
				nDrawn += s.size[c]
				okDrawn += s.okN[c]
				outTok += s.outTok[c]
				good += s.goodN[c]
			}
		} else {
			gap, size, okN, out, goodN := s.gapS[:nc], s.size[:nc], s.okN[:nc], s.outTok[:nc], s.goodN[:nc]
			for c, wc := range w[:nc] {
				f, k := float64(wc), int64(wc)
				dur += f * gap[c]
				nDrawn += k * size[c]
				okDrawn += k * okN[c]
				outTok += f * out[c]
				good += k * goodN[c]
			}
		}
	}
	for m, one := range p.perOK {
		if one {
			totals[m] = okDrawn
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
			for c, n := range rp.below {
				below += int64(w[c]) * n
			}
			out[k] = valueAt(rp.sr.es, anchoredIndex(rp.sr.es, w, W, rp.q, rp.anchor, below))
		case statMean:
			out[k] = weightedMean(rp.sr.es, w, totals[rp.metric])
		case statOutputTokensPerS:
			out[k] = ratio(outTok, dur)
		case statRequestsPerS:
			out[k] = ratio(float64(okDrawn), dur)
		case statGoodputRatio:
			out[k] = ratio(float64(good), float64(nDrawn))
		case statErrorRate:
			out[k] = ratio(float64(nDrawn-okDrawn), float64(nDrawn))
		}
	}
}

// onePerOK reports whether sr holds exactly one sample for each successful
// request and none for failed ones, cluster by cluster.
func (s *RunSamples) onePerOK(sr *series) bool {
	for c, n := range sr.count {
		if n != s.okN[c] {
			return false
		}
	}
	return true
}

func valueAt(es []entry, j int) float64 {
	if j < 0 {
		return math.NaN()
	}
	return bucketValue(es[j].code)
}

// rank is the 1-based rank of quantile q among W samples, HdrHistogram's
// way: round(q*W), at least 1.
func rank(W int64, q float64) int64 { return max(1, min(W, int64(q*float64(W)+0.5))) }

func weightOf(e entry, w []int32) int64 {
	if w == nil {
		return int64(e.cnt)
	}
	return int64(w[e.cl]) * int64(e.cnt)
}

// quantileIndex returns the position in es (sorted ascending, entry e
// weighing w[e.cl]*e.cnt, or e.cnt when w is nil; W the total) of quantile
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
			x *= float64(w[e.cl])
		}
		sum += x * bucketValue(e.code)
	}
	return sum / float64(W)
}

// draw fills st.w with the draw counts of resample r of side: n clusters
// drawn from n with replacement.
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
	nc := len(s.size)
	if nc == 0 {
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
				st.draw(nc, seed, side, r)
				s.evaluate(p, st.w, st, out[r])
			}
		})
	}
	wg.Wait()
	return out
}

func (s *RunSamples) newState(p *plan) *resampleState {
	return &resampleState{pcg: rand.NewPCG(0, 0), w: make([]int32, len(s.size)), totals: make([]int64, len(p.metrics))}
}

// point returns the rows of p on s itself.
func (s *RunSamples) point(p *plan) []float64 {
	out := make([]float64, len(p.rows))
	s.evaluate(p, nil, s.newState(p), out)
	return out
}
