package analysis

import (
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/streamgauge/streamgauge/internal/plural"
	"github.com/streamgauge/streamgauge/results"
)

// SaturationLagMS is the lag p99 above which an open-loop run is marked
// generator_saturated.
const SaturationLagMS = 5.0

// SaturationWarning says in one line why an open-loop run's requests went
// out late and what to do about it, or "" when the run is not marked
// generator_saturated. Under --max-concurrency, when sends waited for a
// slot, the cap is what held them back, not the generator's CPU.
func SaturationWarning(s *Summary) string {
	if !s.GeneratorSaturated {
		return ""
	}
	g := s.Generator
	lag := s.lagOverLimit()
	if g.MaxConcurrency > 0 && g.CapWaits > 0 {
		waited := fmt.Sprintf("%d sends", g.CapWaits)
		if s.Requests.Sent > 0 {
			waited = fmt.Sprintf("%d of %d sends", g.CapWaits, s.Requests.Sent)
		}
		effect := "latencies count from the actual send and leave the wait out (--latency-from scheduled counts it)"
		if s.LatencyFrom == "scheduled" {
			effect = "latencies count from the scheduled send and include the wait"
		}
		return fmt.Sprintf("requests went out late (%s): %s waited for one of the --max-concurrency %d slots, so the cap held them back, not the generator; %s; raise --max-concurrency or lower the rate to send on schedule",
			lag, waited, g.MaxConcurrency, effect)
	}
	return s.SaturationNote() + ": latencies may be understated; lower the rate per process or split the load into shards"
}

// MismatchThreshold is the relative difference between the server's and our
// tokenizer's output token counts above which a request counts as a mismatch.
const MismatchThreshold = 0.05

// Counts are the request counts of a run. Total = OK + Failed + Canceled +
// Warmup; warm-up requests are counted only in Warmup.
type Counts struct {
	// Sent is how many requests the generator handed to the target (0 when
	// the summary was rebuilt from records alone); Accounted says that
	// every one of them is in Total: sent = ok + failed + canceled + warmup.
	Sent      int64 `json:"sent,omitempty"`
	Accounted bool  `json:"accounted"`
	Total     int64 `json:"total"`
	OK        int64 `json:"ok"`
	Failed    int64 `json:"failed"`
	Canceled  int64 `json:"canceled"`
	Warmup    int64 `json:"warmup"`
}

// Throughput is measured over the measured window (warm-up excluded).
type Throughput struct {
	RequestsPerS     float64 `json:"requests_per_s"`
	InputTokensPerS  float64 `json:"input_tokens_per_s"`
	OutputTokensPerS float64 `json:"output_tokens_per_s"`
}

// Goodput is the rate and share of requests that met every per-request SLO.
type Goodput struct {
	RequestsPerS float64 `json:"requests_per_s"`
	Ratio        float64 `json:"ratio"`
}

// Generator is the load generator's own health.
type Generator struct {
	// Load says in words what load ran (the start banner's description).
	Load string `json:"load,omitempty"`
	// RequestedRate is the schedule's mean rate over the measured window,
	// for this process: a ramp's mean, not its start; a shard's share, not
	// the whole schedule's. AchievedRate is comparable with it.
	RequestedRate float64 `json:"requested_rate"`
	AchievedRate  float64 `json:"achieved_rate"`
	// Shards is how many processes split the schedule (0 or 1: one);
	// RequestedRate × Shards is the whole schedule's rate.
	Shards int `json:"shards,omitempty"`
	// MaxConcurrency is the run's cap on requests in flight (0: none), and
	// CapWaits how many sends waited for a slot under it.
	MaxConcurrency int     `json:"max_concurrency,omitempty"`
	CapWaits       int64   `json:"max_concurrency_waits,omitempty"`
	CPUSeconds     float64 `json:"cpu_seconds"`
	// CPUIncludesServer is true when the simulator ran in the same process,
	// so CPUSeconds counts its work too.
	CPUIncludesServer bool `json:"cpu_includes_server,omitempty"`
	// CPUPerOutputTokenUS is CPUSeconds per output token, in µs.
	CPUPerOutputTokenUS float64 `json:"cpu_us_per_output_token"`
	// OpenLoop is true for rate-driven runs, where lag is meaningful.
	OpenLoop bool `json:"open_loop"`
}

// SLOResult is one evaluated SLO expression. Value, Threshold and Margin are
// in Unit, the summary's own unit for the metric: "ms" for latencies,
// "ratio" (a fraction, 0.01 = 1%) for error_rate and the other shares,
// "req/s" or "tok/s" for rates.
type SLOResult struct {
	Expr  string  `json:"expr"`
	Value float64 `json:"value"`
	Pass  bool    `json:"pass"`
	// Op and Threshold are the expression's comparison.
	Op        string  `json:"op,omitempty"`
	Threshold float64 `json:"threshold"`
	// Margin is how far Value is from Threshold on the passing side:
	// positive is room to spare, negative is by how much the SLO failed.
	Margin float64 `json:"margin"`
	Unit   string  `json:"unit,omitempty"`
	// Note says why an SLO failed without a value (no samples to judge).
	Note string `json:"note,omitempty"`
}

// Summary is summary.json.
type Summary struct {
	Requests   Counts           `json:"requests"`
	DurationS  float64          `json:"duration_s"`
	Throughput Throughput       `json:"throughput"`
	Goodput    Goodput          `json:"goodput"`
	ErrorRate  float64          `json:"error_rate"`
	Errors     map[string]int64 `json:"errors"`
	// Failures groups the failed requests' messages, most common first
	// (nil when none failed).
	Failures                *Failures         `json:"failures,omitempty"`
	GeneratorSaturated      bool              `json:"generator_saturated"`
	Generator               Generator         `json:"generator"`
	TokenCountMismatchRatio float64           `json:"token_count_mismatch_ratio"`
	Metrics                 map[string]Stats  `json:"metrics"`
	SLO                     []SLOResult       `json:"slo"`
	Pass                    bool              `json:"pass"`
	Histograms              map[string]string `json:"histograms"`
	// LatencyFrom says where ttfb, ttft, ttfo and e2e count from: "send" or
	// "scheduled" (see WithLatencyFromScheduled).
	LatencyFrom string `json:"latency_from"`
	// Clamped counts the values of every metric beyond the histograms'
	// range (over an hour, or negative), recorded at its edge; each
	// metric's own count is in Metrics[m].Clamped.
	Clamped int64 `json:"clamped,omitempty"`
	// SaturatedShards are the shards of a merged run whose generator was
	// saturated; the merged lag can look fine when one worker of many fell
	// behind, so the warning names them.
	SaturatedShards []SaturatedShard `json:"saturated_shards,omitempty"`
	// Prompts says how many measured requests repeated an earlier prompt
	// (nil for records without prompt hashes).
	Prompts *PromptStats `json:"prompts,omitempty"`
	// Server is what the server itself reported about the requests (input
	// and cached tokens, its timings); absent when it reported nothing.
	Server *ServerAccount `json:"server,omitempty"`
}

// SaturatedShard is one shard of a merged run whose generator fell behind.
type SaturatedShard struct {
	Shard  string  `json:"shard"` // "1/4"
	Dir    string  `json:"dir"`
	LagP99 float64 `json:"lag_p99_ms"`
}

// SaturationNote says why the run is marked generator_saturated, naming the
// shards of a merged run that were: "the load generator was saturated (lag
// p99 12.01 ms > 5 ms)", "the load generator of shard 1/4 was saturated
// (lag p99 12.01 ms > 5 ms)". It is empty when the run was not.
func (s *Summary) SaturationNote() string {
	if !s.GeneratorSaturated {
		return ""
	}
	if len(s.SaturatedShards) == 0 {
		return fmt.Sprintf("the load generator was saturated (%s)", s.lagOverLimit())
	}
	names := make([]string, len(s.SaturatedShards))
	lags := make([]string, len(s.SaturatedShards))
	for i, sh := range s.SaturatedShards {
		names[i], lags[i] = sh.Shard, fms(sh.LagP99)
	}
	return fmt.Sprintf("the load generator of %s %s %s saturated (lag p99 %s ms > %s ms)", plural.Noun(len(names), "shard"), strings.Join(names, ", "),
		plural.Noun(len(names), "was", "were"), strings.Join(lags, ", "), fnum(SaturationLagMS))
}

// lagOverLimit is "lag p99 12.01 ms > 5 ms": the run's lag p99 against the
// limit that marks it generator_saturated.
func (s *Summary) lagOverLimit() string {
	lag := s.Metrics["lag"]
	return fmt.Sprintf("lag p99 %s > %s ms", withMS(lag, lag.P99), fnum(SaturationLagMS))
}

// Accumulator folds records into histograms and counters as they arrive. It
// is safe for concurrent use and keeps no record, so memory stays flat however
// long the run.
type Accumulator struct {
	mu        sync.Mutex
	hs        *Histograms
	c         Counts
	errs      map[string]int64
	fails     failureSet
	sloOK     int64
	inTok     int64
	outTok    int64
	firstSent int64
	// arrivals, firstArrival and lastArrival count scheduled arrivals
	// (single requests and first turns of sessions) for the achieved rate.
	arrivals     int64
	firstArrival int64
	lastArrival  int64
	windowEnd    int64
	measured     int64
	bothCounts   int64
	mismatched   int64
	server       serverAcc
	// fromScheduled adds each request's lag to its send-based latencies.
	fromScheduled bool
	prompts       promptTally
}

// AccumulatorOption configures an Accumulator.
type AccumulatorOption func(*Accumulator)

// WithLatencyFromScheduled makes ttfb, ttft, ttfo and e2e count from each
// request's scheduled send time instead of its actual send: the
// coordinated-omission-corrected view, in which time a request waited
// (for the generator, or for a --max-concurrency slot) is latency.
func WithLatencyFromScheduled(on bool) AccumulatorOption {
	return func(a *Accumulator) { a.fromScheduled = on }
}

// NewAccumulator returns an empty accumulator.
func NewAccumulator(opts ...AccumulatorOption) *Accumulator {
	a := &Accumulator{hs: NewHistograms(), errs: map[string]int64{}, firstSent: math.MaxInt64, firstArrival: math.MaxInt64, lastArrival: math.MinInt64, windowEnd: math.MinInt64}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Append adds one record. It never fails; the signature lets an Accumulator
// sit beside a results.Writer as a record sink.
func (a *Accumulator) Append(r *results.Record) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.c.Total++
	if r.Warmup {
		a.c.Warmup++
		return nil
	}
	if r.Error != nil && r.Error.Kind == results.KindCanceled {
		a.c.Canceled++
		a.errs[string(r.Error.Kind)]++
		return nil
	}
	a.measured++
	a.prompts.add(r.PromptHash)
	if r.Turn <= 1 {
		// Arrivals are session starts: later turns follow their own
		// session, not the schedule.
		a.arrivals++
		a.firstArrival = min(a.firstArrival, r.SentNS)
		a.lastArrival = max(a.lastArrival, r.SentNS)
	}
	a.firstSent = min(a.firstSent, r.SentNS)
	a.windowEnd = max(a.windowEnd, r.DoneNS)
	a.hs.RecordMS("lag", r.LagMS, 1)
	if r.Error != nil {
		a.c.Failed++
		a.errs[string(r.Error.Kind)]++
		a.fails.add(string(r.Error.Kind), r.Error.Message)
		return nil
	}
	a.c.OK++
	a.server.add(r)
	if r.SLOOK {
		a.sloOK++
	}
	a.inTok += int64(r.InputTokens)
	a.outTok += int64(r.OutputTokens)
	if r.UsageOutputTokens != nil && r.TokenizerOutputTokens != nil {
		a.bothCounts++
		u, t := float64(*r.UsageOutputTokens), float64(*r.TokenizerOutputTokens)
		if math.Abs(u-t) > MismatchThreshold*math.Max(u, 1) {
			a.mismatched++
		}
	}
	var shift float64
	if a.fromScheduled {
		shift = r.SinceScheduledMS()
	}
	rec := func(m string, v *float64, shift float64) {
		if v != nil {
			a.hs.RecordMS(m, *v+shift, 1)
		}
	}
	rec("ttfb", r.TTFBMS, shift)
	rec("ttft", r.TTFTMS, shift)
	rec("ttfo", r.TTFOMS, shift)
	rec("tpot", r.TPOTMS, 0)
	a.hs.RecordMS("e2e", r.E2EMS+shift, 1)
	for i, gap := range r.ICLMS {
		a.hs.RecordMS("icl", gap, 1)
		k := 1
		if i+1 < len(r.FrameTokens) && r.FrameTokens[i+1] > 1 {
			k = r.FrameTokens[i+1]
		}
		a.hs.RecordMS("itl", gap/float64(k), int64(k))
	}
	return nil
}

// Histograms returns a copy of the accumulated histograms.
func (a *Accumulator) Histograms() *Histograms {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := NewHistograms()
	out.Merge(a.hs)
	return out
}

// RunMeta is what a summary needs beyond the records.
type RunMeta struct {
	// Sent is the runner's count of requests sent (0 = unknown).
	Sent int64
	// RequestedRate is this process's share of the schedule's mean rate
	// over the measured window (see Generator.RequestedRate).
	RequestedRate     float64
	OpenLoop          bool
	CPUSeconds        float64
	CPUIncludesServer bool
	// Load, Shards, MaxConcurrency and CapWaits are copied to Generator.
	Load           string
	Shards         int
	MaxConcurrency int
	CapWaits       int64
}

// Summary computes the run summary so far. SLO results are left empty for the
// caller to fill; Pass is true until an SLO says otherwise.
func (a *Accumulator) Summary(meta RunMeta) (*Summary, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := &Summary{
		Requests:    a.c,
		Errors:      map[string]int64{},
		Metrics:     map[string]Stats{},
		Histograms:  map[string]string{},
		SLO:         []SLOResult{},
		Pass:        true,
		Clamped:     a.hs.ClampedTotal(),
		LatencyFrom: "send",
		Prompts:     a.prompts.stats(),
	}
	if a.fromScheduled {
		s.LatencyFrom = "scheduled"
	}
	for k, v := range a.errs {
		s.Errors[k] = v
	}
	s.Failures = a.fails.summary()
	s.Requests.Sent = meta.Sent
	s.Requests.Accounted = meta.Sent == 0 || meta.Sent == a.c.OK+a.c.Failed+a.c.Canceled+a.c.Warmup
	if a.measured > 0 && a.windowEnd > a.firstSent {
		s.DurationS = float64(a.windowEnd-a.firstSent) / 1e9
	}
	if s.DurationS > 0 {
		s.Throughput.RequestsPerS = float64(a.c.OK) / s.DurationS
		s.Throughput.InputTokensPerS = float64(a.inTok) / s.DurationS
		s.Throughput.OutputTokensPerS = float64(a.outTok) / s.DurationS
		s.Goodput.RequestsPerS = float64(a.sloOK) / s.DurationS
	}
	if done := a.c.OK + a.c.Failed; done > 0 {
		s.ErrorRate = float64(a.c.Failed) / float64(done)
		s.Goodput.Ratio = float64(a.sloOK) / float64(done)
	}
	if a.bothCounts > 0 {
		s.TokenCountMismatchRatio = float64(a.mismatched) / float64(a.bothCounts)
	}
	s.Generator = Generator{
		RequestedRate:     meta.RequestedRate,
		CPUSeconds:        round3(meta.CPUSeconds),
		CPUIncludesServer: meta.CPUIncludesServer,
		OpenLoop:          meta.OpenLoop,
		Load:              meta.Load,
		Shards:            meta.Shards,
		MaxConcurrency:    meta.MaxConcurrency,
		CapWaits:          meta.CapWaits,
	}
	if a.arrivals > 1 && a.lastArrival > a.firstArrival {
		s.Generator.AchievedRate = float64(a.arrivals-1) / (float64(a.lastArrival-a.firstArrival) / 1e9)
	}
	if a.outTok > 0 {
		s.Generator.CPUPerOutputTokenUS = round3(meta.CPUSeconds * 1e6 / float64(a.outTok))
	}
	for _, m := range Metrics {
		h := a.hs.Get(m)
		st := StatsOf(h)
		st.Clamped = a.hs.Clamped(m)
		s.Metrics[m] = st
		enc, err := EncodeHistogram(h)
		if err != nil {
			return nil, err
		}
		s.Histograms[m] = enc
	}
	s.Server = a.server.summary()
	if meta.OpenLoop && s.Metrics["lag"].P99 > SaturationLagMS {
		s.GeneratorSaturated = true
	}
	return s, nil
}

// Summarize reads a run directory's records and summarises them, for runs
// whose summary.json is missing (cut short) or must be rebuilt.
func Summarize(dir string, meta RunMeta) (*Summary, error) {
	a := NewAccumulator()
	if err := results.ReadRecords(dir, a.Append); err != nil {
		return nil, err
	}
	return a.Summary(meta)
}
