package analysis

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/streamgauge/streamgauge/results"
)

// SearchOptions configure a capacity Search.
type SearchOptions struct {
	// Start is the first level tried (> 0).
	Start float64
	// Max bounds the climb (0 = no bound): a search whose every level
	// passed up to Max reports a capacity of at least Max.
	Max float64
	// Min bounds the descent when the first level fails (default Start/64,
	// 1 for Integer levels); MinWhy, when set, says why in the outcome
	// of a search that stopped there.
	Min    float64
	MinWhy string
	// Precision is the relative width of the final bracket: the search
	// stops when the lowest failing level is within Precision of the
	// highest passing one (default 0.05).
	Precision float64
	// Integer makes every level a whole number (closed-loop users).
	Integer bool
}

// Search finds the highest load level that passes (meets the SLOs and is
// not saturated): an exponential climb from Start (doubling while levels
// pass, halving while they fail), then bisection of the bracket [highest
// pass, lowest fail) until it is narrower than Precision. It holds no clock
// and runs nothing: the caller runs each level Next returns and reports
// the verdict to Observe, so the search is tested with plain tables.
//
// Levels are rounded to 3 significant digits (so a stage's directory
// name is the rate it ran at), or to whole numbers with Integer.
type Search struct {
	o SearchOptions
	// lo is the highest level that passed, hi the lowest that failed (0:
	// none yet).
	lo, hi float64
	done   bool
	// Outcome says why the search ended.
	outcome string
}

// NewSearch returns a search; it checks the options.
func NewSearch(o SearchOptions) (*Search, error) {
	if o.Precision == 0 {
		o.Precision = 0.05
	}
	var errs []error
	if !(o.Start > 0) || math.IsInf(o.Start, 0) {
		errs = append(errs, fmt.Errorf("start level %g: must be positive", o.Start))
	}
	if o.Max < 0 || math.IsNaN(o.Max) {
		errs = append(errs, fmt.Errorf("max level %g: must not be negative (0 = no bound)", o.Max))
	} else if o.Max > 0 && o.Max < o.Start {
		errs = append(errs, fmt.Errorf("max level %g is below the start level %g", o.Max, o.Start))
	}
	if !(o.Precision > 0 && o.Precision < 1) {
		errs = append(errs, fmt.Errorf("precision %g: want a fraction in (0, 1), e.g. 0.05 for 5%%", o.Precision))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if o.Integer {
		o.Start = math.Max(1, math.Round(o.Start))
		o.Max = math.Floor(o.Max)
	}
	if o.Min <= 0 {
		o.Min = o.Start / 64
		if o.Integer {
			o.Min = 1
		}
	}
	return &Search{o: o}, nil
}

// Next returns the next level to run; ok is false when the search is over.
func (s *Search) Next() (level float64, ok bool) {
	if s.done {
		return 0, false
	}
	switch {
	case s.lo == 0 && s.hi == 0:
		return s.o.Start, true
	case s.hi == 0: // climbing: every level so far passed
		if s.o.Max > 0 && s.lo >= s.o.Max {
			return s.stop(fmt.Sprintf("every level up to the maximum %s passed: the capacity is at least that", FormatLevel(s.o.Max)))
		}
		next := s.round(s.lo * 2)
		if s.o.Max > 0 {
			next = math.Min(next, s.o.Max)
		}
		return next, true
	case s.lo == 0: // descending: every level so far failed
		if s.hi <= s.o.Min {
			return s.stop(s.noneBelow())
		}
		next := s.round(s.hi / 2)
		if s.o.Integer {
			next = math.Floor(s.hi / 2)
		}
		next = math.Max(next, s.o.Min)
		if !s.o.Integer && next >= s.hi/(1+s.o.Precision) {
			// The floor is within the precision of the level that just
			// failed: running it would say nothing new.
			return s.stop(s.noneBelow())
		}
		return next, true
	}
	if s.converged() {
		return s.stop(fmt.Sprintf("bracketed within %s: %s passed, %s failed", pct(s.hi/s.lo-1), FormatLevel(s.lo), FormatLevel(s.hi)))
	}
	mid := s.round(math.Sqrt(s.lo * s.hi))
	if s.o.Integer {
		mid = math.Floor((s.lo + s.hi) / 2)
	}
	if mid <= s.lo || mid >= s.hi {
		return s.stop(fmt.Sprintf("bracketed as finely as levels allow: %s passed, %s failed", FormatLevel(s.lo), FormatLevel(s.hi)))
	}
	return mid, true
}

// noneBelow is the outcome of a descent that reached its floor.
func (s *Search) noneBelow() string {
	why := fmt.Sprintf("no level passed, down to %s", FormatLevel(s.hi))
	if s.o.MinWhy != "" {
		why += ": " + s.o.MinWhy
	}
	return why
}

func (s *Search) stop(why string) (float64, bool) {
	s.done, s.outcome = true, why
	return 0, false
}

// converged reports whether the bracket is narrower than the precision.
func (s *Search) converged() bool {
	if s.o.Integer && s.hi-s.lo <= 1 {
		return true
	}
	return s.hi/s.lo-1 <= s.o.Precision
}

// Observe records the verdict of a level Next returned.
func (s *Search) Observe(level float64, pass bool) {
	switch {
	case pass && level > s.lo && (s.hi == 0 || level < s.hi):
		s.lo = level
	case !pass && (s.hi == 0 || level < s.hi):
		s.hi = level
		if level <= s.lo {
			// A lower level failed after a higher one passed (noise
			// near the knee): trust the failure, search below it.
			s.lo = 0
		}
	}
}

// Stop ends the search early (a stage that cannot be judged, say).
func (s *Search) Stop(why string) { s.stop(why) }

// Bracket returns the highest passing and the lowest failing level (0 for
// none).
func (s *Search) Bracket() (pass, fail float64) { return s.lo, s.hi }

// Start is the first level; Precision the bracket's relative width.
func (s *Search) Start() float64     { return s.o.Start }
func (s *Search) Precision() float64 { return s.o.Precision }

// Outcome says why the search ended ("" while it runs).
func (s *Search) Outcome() string { return s.outcome }

// round keeps 3 significant digits (whole numbers for Integer searches).
func (s *Search) round(v float64) float64 {
	if s.o.Integer {
		return math.Max(1, math.Round(v))
	}
	return round3sig(v)
}

func round3sig(v float64) float64 {
	if v <= 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	scale := math.Pow(10, 2-math.Floor(math.Log10(v)))
	return math.Round(v*scale) / scale
}

// FormatLevel prints a load level as stage names and tables show it:
// at most 3 significant digits, no trailing zeros ("4", "22.6", "0.125").
func FormatLevel(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func pct(f float64) string { return strconv.FormatFloat(100*f, 'f', 1, 64) + "%" }

// Saturation thresholds: a stage is saturated when the median time to
// first token (from the scheduled send) rises quarter by quarter through
// the stage, the last quarter's at least SaturationTTFTRiseMS above the
// first's and either over SaturationTTFTGrowth times it or rising at
// SaturationTTFTSlope or more of the time elapsed (a queue that grows by
// 2% of the elapsed time is a load 2% over capacity, whatever latency an
// early stall added to every quarter), while the mean requests in flight
// do not fall; or when it sent under
// SaturationSentRatio of the offered rate (with at least
// saturationMinArrivals arrivals); or when requests were still unfinished
// when the stage's drain ran out.
const (
	SaturationTTFTGrowth  = 2.0
	SaturationTTFTSlope   = 0.02
	SaturationTTFTRiseMS  = 10.0
	SaturationSentRatio   = 0.8
	saturationMinArrivals = 50
	saturationQuarters    = 4
)

// Saturation is the evidence that a stage's queue grew without bound:
// latency and in-flight requests rising from its first quarter to its
// last, or the generator unable to send what was offered.
type Saturation struct {
	Saturated bool   `json:"saturated"`
	Reason    string `json:"reason,omitempty"`
	// TTFTByQuarter is the median ttft counted from the scheduled send
	// (lag + ttft: queueing in the client and the server) of the
	// successful requests scheduled in each quarter of the stage, in ms.
	TTFTByQuarter []float64 `json:"ttft_by_quarter_ms"`
	// InFlightByQuarter is the mean number of requests scheduled but not
	// finished over each quarter (time-weighted).
	InFlightByQuarter []float64 `json:"in_flight_by_quarter"`
	// Arrivals counts the measured first requests (arrivals) of the stage;
	// OfferedRate and SentRate are the rate asked for and the rate sent.
	Arrivals    int64   `json:"arrivals"`
	OfferedRate float64 `json:"offered_rate,omitempty"`
	SentRate    float64 `json:"sent_rate,omitempty"`
	// Unfinished counts measured requests canceled when the stage's drain
	// ran out.
	Unfinished int64 `json:"unfinished,omitempty"`
}

// SaturationProbe computes a stage's Saturation in two streaming passes
// over its records (the first finds the stage's span, the second buckets
// it), holding four histograms and a few counters, never the records.
type SaturationProbe struct {
	pass     int
	from, to int64
	ttft     [saturationQuarters]*hdrhistogram.Histogram
	busyNS   [saturationQuarters]int64 // request-nanoseconds in flight
	arrivals int64
	canceled int64
	seen     bool
}

// NewSaturationProbe returns a probe in its first pass.
func NewSaturationProbe() *SaturationProbe {
	p := &SaturationProbe{from: math.MaxInt64, to: math.MinInt64}
	for i := range p.ttft {
		p.ttft[i] = NewHistogram()
	}
	return p
}

// Append feeds one record to the current pass.
func (p *SaturationProbe) Append(r *results.Record) error {
	if p.pass == 0 {
		if !r.Warmup {
			p.seen = true
			p.from = min(p.from, r.ScheduledNS)
			p.to = max(p.to, r.ScheduledNS)
		}
		return nil
	}
	// In flight: every request (warm-up too) holds the server, from its
	// scheduled send (queueing in the client counts) to its end.
	for q := range saturationQuarters {
		lo, hi := p.quarterStart(q), p.quarterStart(q+1)
		if d := min(r.DoneNS, hi) - max(r.ScheduledNS, lo); d > 0 {
			p.busyNS[q] += d
		}
	}
	if r.Warmup {
		return nil
	}
	if r.Error != nil && r.Error.Kind == results.KindCanceled {
		p.canceled++
	}
	if r.Turn <= 1 {
		p.arrivals++
	}
	if r.Error != nil || r.TTFTMS == nil {
		return nil
	}
	us := int64(math.Round((*r.TTFTMS + r.SinceScheduledMS()) * 1000))
	_ = p.ttft[p.quarter(r.ScheduledNS)].RecordValue(max(us, 0)) // over an hour: left out
	return nil
}

// Next starts the second pass; it reports false when the first found no
// measured record (nothing to judge).
func (p *SaturationProbe) Next() bool {
	p.pass++
	return p.seen
}

func (p *SaturationProbe) quarter(t int64) int {
	span := p.to - p.from
	if span <= 0 {
		return 0
	}
	q := int((t - p.from) * saturationQuarters / span)
	return min(max(q, 0), saturationQuarters-1)
}

func (p *SaturationProbe) quarterStart(q int) int64 {
	return p.from + (p.to-p.from)*int64(q)/saturationQuarters
}

// Result judges the stage. offered is the rate asked for and sent the rate
// achieved by the generator (req/s; 0 for closed loop, where the queue
// cannot grow beyond the users and only the drain can show saturation).
func (p *SaturationProbe) Result(offered, sent float64) Saturation {
	s := Saturation{Arrivals: p.arrivals, OfferedRate: offered, SentRate: sent, Unfinished: p.canceled,
		TTFTByQuarter: make([]float64, saturationQuarters), InFlightByQuarter: make([]float64, saturationQuarters)}
	for q := range saturationQuarters {
		s.TTFTByQuarter[q] = Quantile(p.ttft[q], 0.5)
		if span := p.quarterStart(q+1) - p.quarterStart(q); span > 0 {
			s.InFlightByQuarter[q] = math.Round(float64(p.busyNS[q])/float64(span)*100) / 100
		}
	}
	var why []string
	// The quarter medians sit about three quarters of the span apart.
	spanMS := float64(p.to-p.from) / 1e6 * 3 / 4
	if offered > 0 && ttftRising(s.TTFTByQuarter, spanMS) && inFlightRising(s.InFlightByQuarter) {
		why = append(why, fmt.Sprintf("ttft from the scheduled send rose %s ms and requests in flight %s through the stage",
			joinFloats(s.TTFTByQuarter), joinFloats(s.InFlightByQuarter)))
	}
	if offered > 0 && sent > 0 && p.arrivals >= saturationMinArrivals && sent < SaturationSentRatio*offered {
		why = append(why, fmt.Sprintf("sent %.3g req/s of %.3g offered (a --max-concurrency cap or the generator held requests back)", sent, offered))
	}
	if p.canceled > 0 {
		why = append(why, fmt.Sprintf("%d requests were still unfinished when the drain ran out", p.canceled))
	}
	if len(why) > 0 {
		s.Saturated, s.Reason = true, strings.Join(why, "; ")
	}
	return s
}

// ttftRising reports a queue that grows through the stage: every quarter
// higher than the last by a real step (at least 1 ms and an eighth of the
// whole rise: a ramp, not one jump from a stall), and the last
// SaturationTTFTRiseMS above the first and over SaturationTTFTGrowth times
// it, or rising at SaturationTTFTSlope of the spanMS between them.
func ttftRising(v []float64, spanMS float64) bool {
	first, last := v[0], v[len(v)-1]
	rise := last - first
	if rise < SaturationTTFTRiseMS || !(last > SaturationTTFTGrowth*first || rise >= SaturationTTFTSlope*spanMS) {
		return false
	}
	for i := 1; i < len(v); i++ {
		if step := v[i] - v[i-1]; step < 1 || step < rise/8 {
			return false
		}
	}
	return true
}

func inFlightRising(v []float64) bool {
	for i := 1; i < len(v); i++ {
		if v[i] < v[i-1] {
			return false
		}
	}
	return v[len(v)-1] > v[0]
}

func joinFloats(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'f', 0, 64)
		if x < 10 {
			parts[i] = strconv.FormatFloat(x, 'f', 1, 64)
		}
	}
	return strings.Join(parts, "→")
}

// StageSaturation reads a stage's run directory (twice, streaming) and
// judges whether its queue grew without bound; see SaturationProbe.
func StageSaturation(dir string, offered, sent float64) (Saturation, error) {
	p := NewSaturationProbe()
	if err := results.ReadRecords(dir, p.Append); err != nil {
		return Saturation{}, err
	}
	if !p.Next() {
		return p.Result(offered, sent), nil
	}
	if err := results.ReadRecords(dir, p.Append); err != nil {
		return Saturation{}, err
	}
	return p.Result(offered, sent), nil
}

// Closed-loop knee: a level that added at least KneeUsersFactor times the
// users of a lower level but gained under KneeGain in throughput only
// queues (latency grows, throughput does not).
const (
	KneeUsersFactor = 1.5
	KneeGain        = 0.1
)

// ClosedLoopKnee reports whether a closed-loop level past the knee: some
// lower level with at most 1/KneeUsersFactor of its users reached within
// KneeGain of its throughput. It returns the evidence.
func ClosedLoopKnee(stages []SweepStage, users, throughput float64) (bool, string) {
	for _, st := range stages {
		if st.Level*KneeUsersFactor <= users && st.Throughput.RequestsPerS > 0 &&
			throughput < (1+KneeGain)*st.Throughput.RequestsPerS {
			return true, fmt.Sprintf("%s users gave %.3g req/s, %s users %.3g: more users only queue",
				FormatLevel(users), throughput, FormatLevel(st.Level), st.Throughput.RequestsPerS)
		}
	}
	return false, ""
}
