package analysis

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/streamgauge/streamgauge/results"
)

// This file recomputes a stored run's headline metrics as other benchmark
// tools define them (report --as TOOL), beside streamgauge's own, and says
// why each one differs. The definitions were read from each tool's source;
// docs/metrics.md, "Other tools' definitions", cites the file and commit of
// every one. Nothing here is the tools' code: it is what their code does,
// applied to our records.
//
// Memory: one pass over requests.jsonl. Per measured request it keeps a
// handful of float64s per tool metric (ttft, itl or its per-request value,
// tpot, e2e: at most 4 × 16 bytes with weights); a tool that pools every
// inter-chunk gap (vLLM, SGLang) and streamgauge's own per-token itl keep
// one float64 and one weight per token-bearing frame. A million requests of
// 500 frames is about 8 GB of gaps, so for runs that size read the summary
// (HDR histograms) instead; the runs this is for (a tool comparison at a
// fixed load) are thousands of requests. vLLM's side also keeps each
// arrival's scheduled send and end (16 bytes) to rescale its schedule.

// ToolNames are the tools report --as knows, in the order the docs list them.
var ToolNames = []string{"vllm", "sglang", "aiperf", "genai-perf", "guidellm", "llmperf"}

// ErrUnknownTool is returned by NewToolAccumulator for a name not in
// ToolNames.
var ErrUnknownTool = errors.New("unknown tool")

// ToolStat is one latency metric as a tool summarises it, in milliseconds.
// Count is the number of values (requests or gaps) it was computed from.
type ToolStat struct {
	Count  int     `json:"count"`
	Mean   float64 `json:"mean"`
	Median float64 `json:"median"`
	P99    float64 `json:"p99"`
}

// ToolMetrics are the headline numbers of a run under one set of
// definitions. A nil latency means the tool does not report that metric
// (or no request qualified for it).
type ToolMetrics struct {
	TTFT *ToolStat `json:"ttft_ms"`
	ITL  *ToolStat `json:"itl_ms"`
	TPOT *ToolStat `json:"tpot_ms"`
	E2E  *ToolStat `json:"e2e_ms"`
	// Requests is how many requests the tool counts as completed;
	// Dropped how many measured requests (not warm-up) it leaves out of
	// its latencies (failed ones, and the ones its rules skip).
	Requests int `json:"requests"`
	Dropped  int `json:"dropped"`
	// OutputTokens is the total output token count the tool would use.
	OutputTokens int64 `json:"output_tokens"`
	// DurationS is the tool's throughput denominator.
	DurationS        float64 `json:"duration_s"`
	RequestsPerS     float64 `json:"requests_per_s"`
	OutputTokensPerS float64 `json:"output_tokens_per_s"`
}

// Difference explains one metric family (ttft, itl, tpot, e2e, requests,
// duration, throughput) where the tool's number differs from ours, or
// where the tool would measure something our records cannot express. Ours
// and Theirs are the means (or the single value); nil means not reported.
type Difference struct {
	Metric string   `json:"metric"`
	Ours   *float64 `json:"ours"`
	Theirs *float64 `json:"theirs"`
	Why    string   `json:"why"`
}

// ToolReport is a run's headline metrics under streamgauge's definitions
// and under one other tool's, with the differences explained.
type ToolReport struct {
	Tool string `json:"tool"`
	// Sources names the tool's files (repository path and commit) whose
	// definitions were applied.
	Sources []string `json:"sources"`
	// Percentiles names the tool's percentile method.
	Percentiles string      `json:"percentiles"`
	Ours        ToolMetrics `json:"streamgauge"`
	Theirs      ToolMetrics `json:"theirs"`
	// Warmup is the number of warm-up requests left out on both sides.
	Warmup      int          `json:"warmup"`
	Differences []Difference `json:"differences"`
}

// Metric families of a ToolReport, in display order.
const (
	FamTTFT       = "ttft"
	FamITL        = "itl"
	FamTPOT       = "tpot"
	FamE2E        = "e2e"
	FamRequests   = "requests"
	FamDuration   = "duration"
	FamReqRate    = "request throughput"
	FamTokenRate  = "output throughput"
	pctNumpy      = "numpy.percentile default (linear interpolation between closest ranks)"
	pctWeightedCD = "weighted CDF: the smallest value whose cumulative weight reaches q (no interpolation)"
)

// toolSeries holds values with weights. With numpy-linear percentiles a weight
// is a repeat count (k samples of the same value); with the weighted CDF it
// is a real weight.
type toolSeries struct {
	v, w []float64
}

func (s *toolSeries) add(v, w float64) {
	if w <= 0 {
		return
	}
	s.v = append(s.v, v)
	s.w = append(s.w, w)
}

func (s *toolSeries) empty() bool { return len(s.v) == 0 }

// sorted returns the values and weights ordered by value.
func (s *toolSeries) sorted() ([]float64, []float64) {
	idx := make([]int, len(s.v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return s.v[idx[a]] < s.v[idx[b]] })
	v := make([]float64, len(idx))
	w := make([]float64, len(idx))
	for i, j := range idx {
		v[i], w[i] = s.v[j], s.w[j]
	}
	return v, w
}

// mean is the weighted mean.
func (s *toolSeries) mean() float64 {
	var sum, n float64
	for i, v := range s.v {
		sum += v * s.w[i]
		n += s.w[i]
	}
	if n == 0 {
		return 0
	}
	return sum / n
}

// linearQuantile is numpy.percentile's default ("linear"): on the sorted
// samples x[0..N-1] (each value repeated by its integer weight), the
// position h = (N-1)q, interpolated between x[floor h] and x[floor h + 1].
func linearQuantile(v, w []float64, q float64) float64 {
	var n float64
	for _, x := range w {
		n += x
	}
	if n == 0 {
		return 0
	}
	h := (n - 1) * q
	lo := math.Floor(h)
	at := func(rank float64) float64 { // the value at 0-based rank
		var c float64
		for i, x := range w {
			c += x
			if rank < c {
				return v[i]
			}
		}
		return v[len(v)-1]
	}
	a := at(lo)
	if h == lo {
		return a
	}
	b := at(lo + 1)
	return a + (h-lo)*(b-a)
}

// cdfQuantile is GuideLLM's Percentiles.from_pdf: weights normalised to
// probabilities, their running sum, and the first value whose running sum
// is at least q.
func cdfQuantile(v, w []float64, q float64) float64 {
	var n float64
	for _, x := range w {
		n += x
	}
	if n == 0 {
		return 0
	}
	var c float64
	for i, x := range w {
		c += x / n
		if c >= q {
			return v[i]
		}
	}
	return v[len(v)-1]
}

func (s *toolSeries) stat(weightedCDF bool) *ToolStat {
	if s.empty() {
		return nil
	}
	v, w := s.sorted()
	q := linearQuantile
	if weightedCDF {
		q = cdfQuantile
	}
	var n float64
	for _, x := range w {
		n += x
	}
	return &ToolStat{Count: int(math.Round(n)), Mean: s.mean(), Median: q(v, w, 0.5), P99: q(v, w, 0.99)}
}

// window is a throughput denominator: the earliest start and latest end
// seen, in ns from the run's start.
type window struct{ start, end int64 }

func newWindow() window { return window{math.MaxInt64, math.MinInt64} }

func (w *window) add(start, end int64) {
	w.start = min(w.start, start)
	w.end = max(w.end, end)
}

func (w window) seconds() float64 {
	if w.end <= w.start {
		return 0
	}
	return float64(w.end-w.start) / 1e9
}

// frameTimes returns the time of each token-bearing frame, ms from the send:
// the first at ttft, each later one a gap after the one before.
func frameTimes(r *results.Record) []float64 {
	if r.TTFTMS == nil {
		return nil
	}
	t := make([]float64, 1, len(r.ICLMS)+1)
	t[0] = *r.TTFTMS
	for _, g := range r.ICLMS {
		t = append(t, t[len(t)-1]+g)
	}
	return t
}

// contentFrames returns the times of the frames that carry answer content,
// taken as every frame from the first content frame (ttfo) on: a reasoning
// model streams its reasoning first. nil when the request had no content.
func contentFrames(r *results.Record, t []float64) []float64 {
	if r.TTFOMS == nil || len(t) == 0 {
		return nil
	}
	// ttfo is one of the frame times; allow for the sum's rounding.
	eps := 1e-6 * math.Max(1, *r.TTFOMS)
	for i, x := range t {
		if x >= *r.TTFOMS-eps {
			return t[i:]
		}
	}
	return nil
}

// usageTokens is the server's count when the record has one, else -1.
func usageTokens(r *results.Record) int {
	if r.UsageOutputTokens != nil {
		return *r.UsageOutputTokens
	}
	if r.OutputTokensSource == results.SourceUsage {
		return r.OutputTokens
	}
	return -1
}

// tokenizerTokens is our tokenizer's count of the streamed text (content
// and reasoning), else our output count.
func tokenizerTokens(r *results.Record) int {
	if r.TokenizerOutputTokens != nil {
		return *r.TokenizerOutputTokens
	}
	return r.OutputTokens
}

// contentTokens is the tokenizer count without the reasoning tokens: what
// a tool that tokenizes only delta.content would count.
func contentTokens(r *results.Record) int {
	return max(0, tokenizerTokens(r)-r.ReasoningTokens)
}

// toolAcc accumulates one tool's metrics.
type toolAcc struct {
	ttft, itl, tpot, e2e toolSeries
	used, dropped        int
	outTok               int64
	win                  window
	// reqCount overrides used as the throughput numerator when >= 0
	// (GenAI-Perf counts every request in its export).
	reqCount int
	// sends holds each arrival's scheduled send and end (ns), for a tool
	// that rescales its schedule (vLLM).
	sends [][2]int64
}

// toolDef is one tool's definitions, applied per record.
type toolDef struct {
	sources     []string
	weightedCDF bool
	// add applies the tool's rules to one measured (not warm-up) record.
	add func(a *toolAcc, r *results.Record)
	// why explains each family; caveat marks families where the tool
	// would see something our records cannot express, so the line is
	// shown even when the numbers agree.
	why    map[string]string
	caveat map[string]bool
	// leadsByInterarrival is set for a tool whose clock starts one mean
	// interarrival before its first request (vLLM's schedule delays the
	// first request too): with the run's requested rate known, its window
	// starts 1/rate before the first measured request's scheduled send.
	leadsByInterarrival bool
}

// ToolAccumulator computes a ToolReport from records fed one at a time.
type ToolAccumulator struct {
	tool   string
	def    *toolDef
	ours   toolAcc
	theirs toolAcc
	warmup int
	// rate is the run's requested arrival rate (req/s) for an open-loop
	// run at a fixed rate, else 0; gapFirst is set when its schedule's
	// first arrival comes one gap after the run's start (poisson, gamma)
	// rather than at it (constant).
	rate     float64
	gapFirst bool
	// warmSched is the latest scheduled send among warm-up requests.
	warmSched int64
}

// SetArrival gives the run's requested arrival rate (req/s) when it was
// open-loop at a fixed rate, and whether its schedule's first arrival
// came one random gap after the run's start (poisson and gamma arrivals)
// rather than at it (constant arrivals). vLLM's benchmark clock starts
// one interarrival before its first request, so with these its duration
// starts at the arrival before our first measured one: the last warm-up
// request's scheduled send, else the run's start (poisson, gamma), else
// 1/rate before the first (constant). Without them (a closed-loop run, a
// ramp, a trace) it starts at the first measured scheduled send, as
// vLLM's does at --request-rate inf.
func (t *ToolAccumulator) SetArrival(rps float64, gapFirst bool) {
	if rps > 0 && !math.IsInf(rps, 0) {
		t.rate, t.gapFirst = rps, gapFirst
	}
}

// NewToolAccumulator returns an accumulator for tool, one of ToolNames.
func NewToolAccumulator(tool string) (*ToolAccumulator, error) {
	d, ok := toolDefs[tool]
	if !ok {
		return nil, fmt.Errorf("%w %q: valid tools are %s", ErrUnknownTool, tool, strings.Join(ToolNames, ", "))
	}
	return &ToolAccumulator{tool: tool, def: d, warmSched: math.MinInt64,
		ours:   toolAcc{win: newWindow(), reqCount: -1},
		theirs: toolAcc{win: newWindow(), reqCount: -1}}, nil
}

// Append adds one record.
func (t *ToolAccumulator) Append(r *results.Record) error {
	if r.Warmup {
		t.warmup++
		if r.Turn <= 1 {
			t.warmSched = max(t.warmSched, r.ScheduledNS)
		}
		return nil
	}
	addOurs(&t.ours, r)
	t.def.add(&t.theirs, r)
	return nil
}

// addOurs applies streamgauge's definitions (design.md, "Metrics").
func addOurs(a *toolAcc, r *results.Record) {
	if r.Error != nil && r.Error.Kind == results.KindCanceled {
		a.dropped++
		return
	}
	a.win.add(r.SentNS, r.DoneNS)
	if r.Error != nil {
		a.dropped++
		return
	}
	a.used++
	a.outTok += int64(r.OutputTokens)
	if r.TTFTMS != nil {
		a.ttft.add(*r.TTFTMS, 1)
	}
	for i, g := range r.ICLMS {
		k := 1
		if i+1 < len(r.FrameTokens) && r.FrameTokens[i+1] > 1 {
			k = r.FrameTokens[i+1]
		}
		a.itl.add(g/float64(k), float64(k))
	}
	if r.TPOTMS != nil {
		a.tpot.add(*r.TPOTMS, 1)
	}
	a.e2e.add(r.E2EMS, 1)
}

func (a *toolAcc) metrics(weightedCDF bool) ToolMetrics {
	m := ToolMetrics{
		TTFT: a.ttft.stat(weightedCDF), ITL: a.itl.stat(weightedCDF),
		TPOT: a.tpot.stat(weightedCDF), E2E: a.e2e.stat(weightedCDF),
		Requests: a.used, Dropped: a.dropped, OutputTokens: a.outTok,
		DurationS: a.win.seconds(),
	}
	n := a.used
	if a.reqCount >= 0 {
		n = a.reqCount
	}
	if m.DurationS > 0 {
		m.RequestsPerS = float64(n) / m.DurationS
		m.OutputTokensPerS = float64(a.outTok) / m.DurationS
	}
	return m
}

// Report returns the comparison so far.
func (t *ToolAccumulator) Report() *ToolReport {
	rep := &ToolReport{
		Tool:        t.tool,
		Sources:     slices.Clone(t.def.sources),
		Percentiles: pctNumpy,
		Ours:        t.ours.metrics(false),
		Theirs:      t.theirMetrics(),
		Warmup:      t.warmup,
		Differences: []Difference{},
	}
	if t.def.weightedCDF {
		rep.Percentiles = pctWeightedCD
	}
	o, th := rep.Ours, rep.Theirs
	fams := []struct {
		name     string
		ours, th *float64
		differs  bool
	}{
		{FamTTFT, meanOf(o.TTFT), meanOf(th.TTFT), statDiffers(o.TTFT, th.TTFT)},
		{FamITL, meanOf(o.ITL), meanOf(th.ITL), statDiffers(o.ITL, th.ITL)},
		{FamTPOT, meanOf(o.TPOT), meanOf(th.TPOT), statDiffers(o.TPOT, th.TPOT)},
		{FamE2E, meanOf(o.E2E), meanOf(th.E2E), statDiffers(o.E2E, th.E2E)},
		{FamRequests, ptr(float64(o.Requests)), ptr(float64(th.Requests)), o.Requests != th.Requests || o.Dropped != th.Dropped},
		{FamDuration, ptr(o.DurationS), ptr(th.DurationS), differs(o.DurationS, th.DurationS)},
		{FamReqRate, ptr(o.RequestsPerS), ptr(th.RequestsPerS), differs(o.RequestsPerS, th.RequestsPerS)},
		{FamTokenRate, ptr(o.OutputTokensPerS), ptr(th.OutputTokensPerS), differs(o.OutputTokensPerS, th.OutputTokensPerS)},
	}
	for _, f := range fams {
		if !f.differs && !t.def.caveat[f.name] {
			continue
		}
		rep.Differences = append(rep.Differences, Difference{Metric: f.name, Ours: f.ours, Theirs: f.th, Why: t.def.why[f.name]})
	}
	return rep
}

// theirMetrics is the tool's side, its window started where the tool's
// clock would have started and its schedule rescaled as the tool does
// (SetArrival).
func (t *ToolAccumulator) theirMetrics() ToolMetrics {
	a := t.theirs
	if t.def.leadsByInterarrival && t.rate > 0 && a.win.end > a.win.start {
		switch {
		case t.warmSched > math.MinInt64 && t.warmSched < a.win.start:
			a.win.start = t.warmSched
		case t.gapFirst:
			a.win.start = min(a.win.start, 0)
		default:
			a.win.start -= int64(math.Round(1e9 / t.rate))
		}
		a.win.end = rescaledEnd(a.sends, a.win.start, t.rate, a.win.end)
	}
	return a.metrics(t.def.weightedCDF)
}

// rescaledEnd is when the last request would have ended had its schedule
// been vLLM's: get_request rescales the cumulative gaps so the last of N
// arrivals comes exactly N/rate after its clock's start, which takes the
// luck of a random schedule out of its duration. Each arrival's offset from
// start is scaled by the same factor and keeps its time to the end; end is
// returned unchanged when there is nothing to scale.
func rescaledEnd(sends [][2]int64, start int64, rate float64, end int64) int64 {
	var last int64 = math.MinInt64
	for _, s := range sends {
		last = max(last, s[0])
	}
	if len(sends) == 0 || last <= start {
		return end
	}
	f := float64(len(sends)) / rate * 1e9 / float64(last-start)
	out := int64(math.MinInt64)
	for _, s := range sends {
		at := start + int64(math.Round(float64(s[0]-start)*f))
		out = max(out, at+s[1]-s[0])
	}
	return out
}

func ptr(v float64) *float64 { return &v }

func meanOf(s *ToolStat) *float64 {
	if s == nil {
		return nil
	}
	return ptr(s.Mean)
}

// differs reports whether two numbers differ beyond float rounding.
func differs(a, b float64) bool {
	return math.Abs(a-b) > 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func statDiffers(a, b *ToolStat) bool {
	if (a == nil) != (b == nil) {
		return true
	}
	if a == nil {
		return false
	}
	return a.Count != b.Count || differs(a.Mean, b.Mean) || differs(a.Median, b.Median) || differs(a.P99, b.P99)
}

// ToolReportFromDir reads dir's requests.jsonl once and compares its
// metrics under tool's definitions with streamgauge's.
func ToolReportFromDir(dir, tool string) (*ToolReport, error) {
	a, err := NewToolAccumulator(tool)
	if err != nil {
		return nil, err
	}
	if rd, err := ReadRunDir(dir); err == nil {
		// A steady rate only: a ramp, a sine, stages or a trace have no
		// one interarrival. A shard's records (or a merge of shards) are
		// not one schedule at the profile's rate: left unscaled.
		p := rd.Profile
		_, trace := p["trace"].(string)
		_, stages := p["stages"].([]any)
		if m := rd.Meta(); m.OpenLoop && !trace && !stages && m.Shards <= 1 {
			switch arrival, _ := p["arrival"].(string); arrival {
			case "", "constant":
				a.SetArrival(m.RequestedRate, false)
			case "poisson", "gamma":
				a.SetArrival(m.RequestedRate, true)
			}
		}
	}
	if err := results.ReadRecords(dir, a.Append); err != nil {
		return nil, fmt.Errorf("report --as %s: %w", tool, err)
	}
	return a.Report(), nil
}

// failedOrUnusable handles what every tool shares: a failed request is not
// counted (but still lies in the tool's wall-clock window when wall is
// set), and a request with no token-bearing frame has no first-token time
// in our records.
func failedOrUnusable(a *toolAcc, r *results.Record, wall bool) bool {
	if wall {
		a.win.add(r.ScheduledNS, r.DoneNS)
	}
	if r.Error != nil || r.TTFTMS == nil {
		a.dropped++
		return true
	}
	return false
}

// vllmChunkTimes returns the times vLLM's client stamps, ms from the send:
// every chunk with choices, which is every token-bearing frame and every
// empty one (a role-only first chunk, a finish-only last chunk), in order.
// Records written before empty frames were kept give the token frames only.
func vllmChunkTimes(r *results.Record) []float64 {
	t := frameTimes(r)
	if len(r.EmptyFramesMS) == 0 {
		return t
	}
	t = append(t, r.EmptyFramesMS...)
	sort.Float64s(t)
	return t
}

var toolDefs = map[string]*toolDef{
	"vllm":       vllmDef,
	"sglang":     sglangDef,
	"aiperf":     aiperfDef,
	"genai-perf": genaiPerfDef,
	"guidellm":   guidellmDef,
	"llmperf":    llmperfDef,
}

// vLLM bench serve (vllm/benchmarks/serve.py calculate_metrics and
// lib/endpoint_request_func.py async_request_openai_chat_completions).
var vllmDef = &toolDef{
	sources: []string{
		"vllm-project/vllm vllm/benchmarks/serve.py@009e6d4a1cd6 (calculate_metrics, benchmark)",
		"vllm-project/vllm vllm/benchmarks/lib/endpoint_request_func.py@02cfb534df56 (async_request_openai_chat_completions)",
		"older releases: vllm-project/vllm benchmarks/backend_request_func.py@011841309828 (ttft at the first content chunk, latency at [DONE]; not applied)",
	},
	add: func(a *toolAcc, r *results.Record) {
		a.win.add(r.ScheduledNS, r.DoneNS) // every request, failed ones too
		if r.Turn <= 1 {
			a.sends = append(a.sends, [2]int64{r.ScheduledNS, r.DoneNS})
		}
		t := vllmChunkTimes(r)
		if r.Error != nil || len(t) == 0 { // no chunk with choices: failed
			a.dropped++
			return
		}
		ttft, last := t[0], t[len(t)-1]
		a.used++
		a.ttft.add(ttft, 1)
		if len(r.EmptyFramesMS) == 0 {
			for _, g := range r.ICLMS {
				a.itl.add(g, 1)
			}
		} else {
			for i := 1; i < len(t); i++ {
				a.itl.add(t[i]-t[i-1], 1)
			}
		}
		n := usageTokens(r)
		if n <= 0 { // "if not output_len": its tokenizer on the content text
			n = contentTokens(r)
		}
		a.outTok += int64(n)
		if n > 1 {
			a.tpot.add((last-ttft)/float64(n-1), 1)
		}
		a.e2e.add(last, 1)
	},
	why: map[string]string{
		FamTTFT:      "vLLM starts ttft at the first SSE chunk with a non-empty choices list, so a role-only first chunk counts as the first token; the records keep the time of such empty frames (empty_frames_ms), and vLLM's ttft starts at the earliest. Runs recorded before they were kept give the first token-bearing frame. Older releases (benchmarks/backend_request_func.py) started at the first chunk with content instead.",
		FamITL:       "vLLM's ITL pools every gap between consecutive chunks with choices over all requests, one sample per chunk whatever it carries: a role-only first chunk and a finish-only last chunk each add a gap (near 0 when the server sends them with a token), so its mean is lower than a per-token mean; ours splits a k-token frame into k samples of gap/k.",
		FamTPOT:      "vLLM: per request (latency - ttft)/(output_len - 1), only requests with output_len > 1, averaged per request; its latency ends at the last chunk with choices (a finish-only chunk included, not the usage chunk or [DONE]) and output_len is the server's usage completion_tokens (its client asks for it), else its tokenizer on the content text (here our tokenizer count minus reasoning tokens).",
		FamE2E:       "vLLM's latency ends at the last chunk with choices, a finish-only one included (the usage chunk and [DONE] are not counted); ours ends at the end of the stream.",
		FamRequests:  "vLLM counts successful requests (status 200 and at least one chunk with choices) and drops failed ones; warm-up requests are its separate --num-warmups.",
		FamDuration:  "vLLM's duration is the benchmark's wall time: from its clock's start, one interarrival before its first request (at a finite --request-rate its first request waits one sampled gap), until every request (failed ones too) has returned. Its schedule is rescaled so the last of N arrivals comes exactly N/rate after that start. Here, for a run at a steady rate: from the arrival before the first measured one (the last warm-up's scheduled send, the run's start for poisson or gamma arrivals, 1/rate before the first for constant ones), with the measured arrivals rescaled the same way, each keeping its time to its end; for a closed-loop run, from the first measured scheduled send to the last end. Ours runs from the first send to the last end.",
		FamReqRate:   "completed requests / vLLM's wall-time duration.",
		FamTokenRate: "sum of output_len (server usage, else tokenizer) over completed requests / vLLM's wall-time duration.",
	},
	caveat:              map[string]bool{FamTTFT: true, FamITL: true},
	leadsByInterarrival: true,
}

// SGLang bench_serving (python/sglang/bench_serving.py,
// async_request_openai_chat_completions and calculate_metrics).
var sglangDef = &toolDef{
	sources: []string{
		"sgl-project/sglang python/sglang/bench_serving.py@0033168f0f58 (async_request_openai_chat_completions, calculate_metrics, benchmark)",
	},
	add: func(a *toolAcc, r *results.Record) {
		if failedOrUnusable(a, r, true) {
			return
		}
		c := contentFrames(r, frameTimes(r))
		a.used++
		ttft := 0.0 // SGLang leaves ttft at 0 when no chunk had content
		if len(c) > 0 {
			ttft = c[0]
			for i := 1; i < len(c); i++ {
				a.itl.add(c[i]-c[i-1], 1)
			}
		}
		a.ttft.add(ttft, 1)
		n := usageTokens(r)
		if n < 0 {
			n = r.OutputTokens
		}
		a.outTok += int64(n)
		if n > 1 {
			a.tpot.add((r.E2EMS-ttft)/float64(n-1), 1)
		}
		a.e2e.add(r.E2EMS, 1)
	},
	why: map[string]string{
		FamTTFT:      "SGLang's chat client starts ttft at the first chunk whose delta.content is non-empty: reasoning chunks and a role-only chunk do not count, so for a reasoning model its ttft is our ttfo.",
		FamITL:       "SGLang pools the gaps between content chunks over all requests, one sample per chunk (reasoning chunks are skipped); ours splits a k-token frame into k samples of gap/k.",
		FamTPOT:      "SGLang: per request (latency - ttft)/(output_len - 1) for output_len > 1, with its content-based ttft and latency to the last line read ([DONE]); output_len is usage completion_tokens only when the server sends usage unasked (its chat client sets no stream_options), else the requested max_tokens; here our own count, which equals the request's max_tokens when the answer runs to its length.",
		FamE2E:       "SGLang's latency is taken at every line read, so it ends at [DONE], as ours does.",
		FamRequests:  "SGLang counts successful requests; warm-up requests are its separate --warmup-requests.",
		FamDuration:  "SGLang's duration is the benchmark's wall time from the first scheduled request until every request has returned.",
		FamReqRate:   "completed requests / SGLang's wall-time duration.",
		FamTokenRate: "sum of output_len (usage, else requested length) / SGLang's wall-time duration.",
	},
}

// AIPerf (aiperf/metrics/types/*.py, metric_dicts.py MetricArray.to_result).
var aiperfDef = &toolDef{
	sources: []string{
		"ai-dynamo/aiperf aiperf/parsers/openai_parsers.py@03cc435a0da0 (a chunk without content or reasoning_content is dropped)",
		"ai-dynamo/aiperf aiperf/parsers/inference_result_parser.py@02402e8f77b4 (token counts: its tokenizer on the content and on the reasoning text)",
		"ai-dynamo/aiperf aiperf/metrics/types/ttft_metric.py@3fe75c44f912",
		"ai-dynamo/aiperf aiperf/metrics/types/inter_token_latency_metric.py@449172727dc5",
		"ai-dynamo/aiperf aiperf/metrics/types/output_sequence_length_metric.py@02402e8f77b4",
		"ai-dynamo/aiperf aiperf/metrics/types/benchmark_duration_metric.py@02402e8f77b4",
		"ai-dynamo/aiperf aiperf/metrics/types/request_throughput_metric.py@3c03f43bbd21",
		"ai-dynamo/aiperf aiperf/metrics/metric_dicts.py@299ec524fd29 (MetricArray.to_result)",
		"ai-dynamo/aiperf docs/metrics_reference.md@25f8117560e5",
	},
	add: func(a *toolAcc, r *results.Record) {
		if failedOrUnusable(a, r, false) {
			return
		}
		t := frameTimes(r)
		ttft, last := t[0], t[len(t)-1]
		a.used++
		a.win.add(r.SentNS, r.SentNS+int64(math.Round(last*1e6)))
		a.ttft.add(ttft, 1)
		osl := tokenizerTokens(r)
		a.outTok += int64(osl)
		if osl >= 2 { // NoMetricValue below 2; one response gives 0
			a.itl.add((last-ttft)/float64(osl-1), 1)
		}
		a.e2e.add(last, 1)
	},
	why: map[string]string{
		FamTTFT:      "AIPerf starts ttft at the first response with content or reasoning_content (its parser drops role-only, usage and [DONE] chunks), as we do; a chunk carrying only tool-call arguments, which we count, it drops.",
		FamITL:       "AIPerf's inter_token_latency is one value per request, (request_latency - ttft)/(output_sequence_length - 1), summarised over requests: it is a per-request TPOT, not a per-gap distribution like ours (its per-gap inter_chunk_latency is hidden); OSL is its tokenizer on content + reasoning text (here our tokenizer count), and requests with OSL < 2 are left out (a single response with more tokens gives 0).",
		FamTPOT:      "AIPerf reports no separate TPOT: its inter_token_latency is the per-request TPOT.",
		FamE2E:       "AIPerf's request_latency ends at the last non-empty response (the usage chunk and [DONE] are not counted); ours ends at the end of the stream.",
		FamRequests:  "AIPerf counts valid (successful) requests; errors are counted apart, warm-up requests are its separate warm-up phase.",
		FamDuration:  "AIPerf's benchmark_duration is the last valid response's time minus the first valid request's start (not the end of the stream).",
		FamReqRate:   "valid requests / AIPerf's benchmark_duration.",
		FamTokenRate: "sum of OSL (its tokenizer on content + reasoning; here our tokenizer count) / benchmark_duration.",
	},
}

// GenAI-Perf (genai_perf/profile_data_parser/llm_profile_data_parser.py).
var genaiPerfDef = &toolDef{
	sources: []string{
		"triton-inference-server/perf_analyzer genai-perf/genai_perf/profile_data_parser/llm_profile_data_parser.py@00168fe73c03 (_parse_requests, _preprocess_response)",
		"triton-inference-server/perf_analyzer genai-perf/genai_perf/metrics/statistics.py@0518df11a864 (np.mean, np.percentile)",
	},
	add: func(a *toolAcc, r *results.Record) {
		if r.Error != nil {
			a.dropped++
			return
		}
		if a.reqCount < 0 {
			a.reqCount = 0
		}
		a.reqCount++ // len(requests): every request in its export
		c := contentFrames(r, frameTimes(r))
		if len(c) == 0 { // every response empty: skipped
			a.dropped++
			return
		}
		ttft, last := c[0], c[len(c)-1]
		a.used++
		a.win.add(r.SentNS, r.SentNS+int64(math.Round(last*1e6)))
		a.ttft.add(ttft, 1)
		n := contentTokens(r)
		a.outTok += int64(n)
		if n > 1 {
			// round() to whole nanoseconds, as GenAI-Perf does
			a.itl.add(math.Round((last-ttft)*1e6/float64(n-1))/1e6, 1)
		}
		a.e2e.add(last, 1)
	},
	why: map[string]string{
		FamTTFT:      "GenAI-Perf removes every response without content text (role-only, reasoning-only, usage, [DONE]) before timing, so its ttft starts at the first content chunk: our ttfo, later than our ttft for a reasoning model.",
		FamITL:       "GenAI-Perf's inter_token_latency is one value per request, (request_latency - ttft)/(output tokens - 1), rounded to ns, over requests with more than 1 output token; tokens are its tokenizer on the content text only (here our tokenizer count minus reasoning tokens).",
		FamTPOT:      "GenAI-Perf reports no separate TPOT: its inter_token_latency is the per-request TPOT.",
		FamE2E:       "GenAI-Perf's request_latency ends at the last response with content; ours ends at the end of the stream.",
		FamRequests:  "GenAI-Perf drops requests whose responses are all empty from its latencies; failed requests are not in its profile export.",
		FamDuration:  "GenAI-Perf's duration is the last content response's time minus the first request's timestamp.",
		FamReqRate:   "GenAI-Perf divides len(requests), every request in the export including ones it skipped, by its duration.",
		FamTokenRate: "sum of content-only token counts (its tokenizer; here ours minus reasoning) / its duration.",
	},
}

// GuideLLM (src/guidellm/schemas/request_stats.py GenerativeRequestStats,
// benchmark/schemas/generative/metrics.py, schemas/statistics.py, and the
// chat handler's add_streaming_line in backends/openai/request_handlers.py).
var guidellmDef = &toolDef{
	sources: []string{
		"vllm-project/guidellm src/guidellm/schemas/request_stats.py@06cef2910dc1 (time_to_first_token_ms, inter_token_latency_ms, time_per_output_token_ms, output_tokens)",
		"vllm-project/guidellm src/guidellm/backends/openai/request_handlers.py@003104ddc722 (ChatCompletionsRequestHandler.add_streaming_line: a token iteration is a chunk with content or tool-call deltas)",
		"vllm-project/guidellm src/guidellm/benchmark/schemas/generative/metrics.py@52b6fe222caa (weights: tpot by output_tokens, itl by output_tokens - 1)",
		"vllm-project/guidellm src/guidellm/schemas/statistics.py@03820eba155d (Percentiles.from_pdf, DistributionSummary.from_values)",
	},
	weightedCDF: true,
	add: func(a *toolAcc, r *results.Record) {
		if failedOrUnusable(a, r, false) {
			return
		}
		c := contentFrames(r, frameTimes(r))
		a.used++
		a.win.add(r.SentNS, r.DoneNS)
		n := usageTokens(r)
		if n < 0 {
			n = len(c) // token_iterations: one token per content chunk
		}
		a.outTok += int64(n)
		a.e2e.add(r.E2EMS, 1)
		if len(c) == 0 { // no token iteration: its ttft is None, counted as 0
			a.ttft.add(0, 1)
			return
		}
		first, last := c[0], c[len(c)-1]
		a.ttft.add(first, 1)
		if n > 1 {
			a.itl.add((last-first)/float64(n-1), float64(n-1))
		}
		if n > 0 {
			a.tpot.add(last/float64(n), float64(n))
		}
	},
	why: map[string]string{
		FamTTFT:      "GuideLLM's chat handler counts a chunk as a token iteration only when it carries content (or tool-call) deltas, so reasoning chunks and a role-only chunk do not start its ttft: for a reasoning model it is our ttfo. Its percentiles are a weighted CDF without interpolation.",
		FamITL:       "GuideLLM's ITL is one value per request, (last token iteration - first token iteration)/(output_tokens - 1), weighted by output_tokens - 1, so its mean is total decode time / total decode tokens; output_tokens is usage (which counts reasoning tokens the content-only span does not cover), else the number of content chunks.",
		FamTPOT:      "GuideLLM's time_per_output_token includes the first token: (last token iteration - request start)/output_tokens, weighted by output_tokens; ours excludes ttft and the first token.",
		FamE2E:       "GuideLLM's request latency is request start to request end ([DONE]), as ours; percentiles by weighted CDF.",
		FamRequests:  "GuideLLM reports successful, incomplete and errored requests apart; its headline metrics use the successful ones. Warm-up is its --warmup phase.",
		FamDuration:  "GuideLLM computes rates over its measured window; here approximated as first send to last end among successful requests.",
		FamReqRate:   "successful requests over the window (GuideLLM reports a rate distribution; its mean is close to this at steady load).",
		FamTokenRate: "output tokens (usage, else content chunks) over the window.",
	},
}

// LLMPerf (src/llmperf/ray_clients/openai_chat_completions_client.py and
// token_benchmark_ray.py).
var llmperfDef = &toolDef{
	sources: []string{
		"ray-project/llmperf src/llmperf/ray_clients/openai_chat_completions_client.py@0451d33bd3b1 (llm_request)",
		"ray-project/llmperf token_benchmark_ray.py@004d3afb0e4b (get_token_throughput_latencies, metrics_summary)",
	},
	add: func(a *toolAcc, r *results.Record) {
		if failedOrUnusable(a, r, true) {
			return
		}
		c := contentFrames(r, frameTimes(r))
		a.used++
		ttft, lastContent := 0.0, 0.0
		if len(c) > 0 {
			ttft, lastContent = c[0], c[len(c)-1]
		}
		a.ttft.add(ttft, 1)
		n := contentTokens(r)
		a.outTok += int64(n)
		itl := 0.0
		if n > 0 {
			itl = lastContent / float64(n)
		}
		a.itl.add(itl, 1)
		a.e2e.add(r.E2EMS, 1)
	},
	why: map[string]string{
		FamTTFT:      "LLMPerf starts ttft at the first chunk with non-empty delta.content: reasoning chunks and a role-only chunk do not count, so for a reasoning model its ttft is our ttfo.",
		FamITL:       "LLMPerf's inter_token_latency is per request: the sum of all gaps from the send to the last content chunk (ttft included) divided by the output tokens (its tokenizer on the content text; here our tokenizer count minus reasoning), summarised over requests; it is neither our per-token itl nor a TPOT.",
		FamTPOT:      "LLMPerf reports no TPOT.",
		FamE2E:       "LLMPerf's end_to_end_latency runs to the end of the stream, as ours.",
		FamRequests:  "LLMPerf leaves errored requests out of every statistic; it has no warm-up.",
		FamDuration:  "LLMPerf divides by the whole test's time, from before the first launch to after the last result is collected (here first scheduled send to last end).",
		FamReqRate:   "LLMPerf reports completed requests per minute over the test time; shown here per second.",
		FamTokenRate: "sum of content-only token counts / the whole test's time.",
	},
}
