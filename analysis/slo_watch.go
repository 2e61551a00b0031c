package analysis

import (
	"sync"
	"time"

	"github.com/streamgauge/streamgauge/results"
)

// WatchOptions tune a Watch. Zero values take the defaults.
type WatchOptions struct {
	// Window is how far back Check looks (default 30s).
	Window time.Duration
	// MinRequests is how many measured requests must have finished in the
	// window before latency and share SLOs are judged on it (default 20):
	// a p99 of five requests says nothing.
	MinRequests int
	// Grace is how long after NewWatch nothing is judged (default Window),
	// so a window is full before it counts; add the run's warm-up to it.
	Grace time.Duration
	// LatencyFromScheduled matches a run summarised that way.
	LatencyFromScheduled bool
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Watch judges SLOs over a sliding window of recently finished requests,
// for run --abort-on-fail: a run whose SLO is failing now, over the last
// Window, is losing it, and can stop early instead of burning the rest of
// its budget. It is a record sink, safe for concurrent use; each record is
// stamped with the clock when it arrives (when its request finished).
//
// Rates (throughput.*, goodput.requests_per_s) are taken over the whole
// window, so a stall, where nothing finishes, fails a lower bound on them.
// Stop calling Check once the run stops scheduling: the drain at the end of
// a run lowers windowed rates without anything being wrong.
type Watch struct {
	slos  []SLO
	opt   WatchOptions
	start time.Time

	mu   sync.Mutex
	recs []stamped
}

type stamped struct {
	at time.Time
	r  *results.Record
}

// NewWatch starts watching slos.
func NewWatch(slos []SLO, opt WatchOptions) *Watch {
	if opt.Window <= 0 {
		opt.Window = 30 * time.Second
	}
	if opt.MinRequests <= 0 {
		opt.MinRequests = 20
	}
	if opt.Grace <= 0 {
		opt.Grace = opt.Window
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Watch{slos: slos, opt: opt, start: opt.Now()}
}

// Append records a finished request; warm-up and canceled requests are
// ignored. It never fails.
func (w *Watch) Append(r *results.Record) error {
	if r.Warmup || (r.Error != nil && r.Error.Kind == results.KindCanceled) {
		return nil
	}
	now := w.opt.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.recs = append(w.recs, stamped{at: now, r: r})
	return nil
}

// Check judges every SLO over the requests that finished in the last
// Window and returns the ones that fail there; nil while none does, during
// the grace period, and for SLOs the window has too few requests to judge.
func (w *Watch) Check() []SLOResult {
	now := w.opt.Now()
	if now.Sub(w.start) < w.opt.Grace {
		return nil
	}
	cut := now.Add(-w.opt.Window)
	w.mu.Lock()
	i := 0
	for i < len(w.recs) && !w.recs[i].at.After(cut) {
		i++
	}
	w.recs = append(w.recs[:0], w.recs[i:]...)
	window := make([]*results.Record, len(w.recs))
	for j, s := range w.recs {
		window[j] = s.r
	}
	w.mu.Unlock()

	acc := NewAccumulator(WithLatencyFromScheduled(w.opt.LatencyFromScheduled))
	for _, r := range window {
		acc.Append(r)
	}
	sum, err := acc.Summary(RunMeta{})
	if err != nil {
		return nil
	}
	// Rates over the window itself, not over the span of its requests.
	secs := w.opt.Window.Seconds()
	var good, in, out float64
	for _, r := range window {
		if r.Error == nil {
			in += float64(r.InputTokens)
			out += float64(r.OutputTokens)
			if r.SLOOK {
				good++
			}
		}
	}
	sum.DurationS = secs
	sum.Throughput = Throughput{RequestsPerS: float64(sum.Requests.OK) / secs, InputTokensPerS: in / secs, OutputTokensPerS: out / secs}
	sum.Goodput.RequestsPerS = good / secs
	enough := sum.Requests.OK+sum.Requests.Failed >= int64(w.opt.MinRequests)

	var lost []SLOResult
	for _, s := range w.slos {
		rate := s.Kind == KindRate
		if !rate && !enough {
			continue
		}
		var res SLOResult
		if rate {
			res = s.evalRate(sum)
		} else {
			res = s.Eval(sum)
		}
		if !res.Pass && res.Note == "" {
			lost = append(lost, res)
		}
	}
	return lost
}

// evalRate judges a rate SLO even over an empty window (a stall): the rate
// is then 0.
func (s SLO) evalRate(sum *Summary) SLOResult {
	if sum.Requests.OK+sum.Requests.Failed > 0 {
		return s.Eval(sum)
	}
	r := SLOResult{Expr: s.Expr, Op: string(s.Op), Threshold: s.Threshold, Unit: s.unit()}
	r.Pass = s.Op.Holds(0, s.Threshold)
	r.Margin = s.Op.margin(0, s.Threshold)
	return r
}
