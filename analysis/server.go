package analysis

import (
	"math"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/streamgauge/streamgauge/results"
)

// ServerAccount is what the server itself reported about the run's
// successful requests, where its API reports it (docs/metrics.md, "The
// server's account"). Counts say how many requests each part rests on; a
// part no request reported is zero or absent, never a guess.
type ServerAccount struct {
	// InputTokensReported counts requests whose server reported an input
	// token count.
	InputTokensReported int64 `json:"input_tokens_reported"`
	// InputTokensCompared counts those that also had our own (intended)
	// input count to compare with.
	InputTokensCompared int64 `json:"input_tokens_compared"`
	// InputMismatchRatio is the share of compared requests whose server
	// count differs from ours by more than MismatchThreshold (5%) of ours.
	InputMismatchRatio float64 `json:"input_mismatch_ratio"`
	// InputMeanRelativeDiff is the mean of (server - ours) / ours over the
	// compared requests: +0.08 means the server counted 8% more input
	// tokens than we meant to send (a chat template, say).
	InputMeanRelativeDiff float64 `json:"input_mean_relative_diff"`
	// CachedTokensReported counts requests whose server reported both its
	// input and its cached (prefix-cache hit) token counts.
	CachedTokensReported int64 `json:"cached_tokens_reported"`
	// CacheHitRatio is their cached tokens over their input tokens: the
	// share of the prompt the server did not have to compute.
	CacheHitRatio float64 `json:"cache_hit_ratio"`
	// RequestIDsReported counts requests with a server request id.
	RequestIDsReported int64 `json:"request_ids_reported"`
	// Timings are the server's own timings, in ms, by record field:
	// queue_ms, prefill_ms, decode_ms, load_ms, each present when at least
	// one request reported it; and ttft_minus_prefill_ms, ttft (from the
	// send) less the server's prefill, for requests that reported a
	// prefill: the time outside the server's prompt computation (queueing,
	// network, the first decode step), floored at 0.
	Timings map[string]Stats `json:"timings,omitempty"`
}

// The names of the server's timings in ServerAccount.Timings.
const (
	ServerQueue            = "queue_ms"
	ServerPrefill          = "prefill_ms"
	ServerDecode           = "decode_ms"
	ServerLoad             = "load_ms"
	ServerTTFTMinusPrefill = "ttft_minus_prefill_ms"
)

// serverTimings are the names of ServerAccount.Timings, in order.
var serverTimings = [...]string{ServerQueue, ServerPrefill, ServerDecode, ServerLoad, ServerTTFTMinusPrefill}

// serverAcc folds the server's account of each successful request.
type serverAcc struct {
	inputReported, compared, mismatched int64
	relDiffSum                          float64
	cacheReported                       int64
	cachedSum, cachedInputSum           int64
	ids                                 int64
	hs                                  map[string]*hdrhistogram.Histogram
}

// add folds one successful request.
func (s *serverAcc) add(r *results.Record) {
	if r.ServerRequestID != "" {
		s.ids++
	}
	if in := r.ServerInputTokens; in != nil {
		s.inputReported++
		if r.InputTokens > 0 && r.InputTokensSource == "" {
			s.compared++
			ours := float64(r.InputTokens)
			d := (float64(*in) - ours) / ours
			s.relDiffSum += d
			if math.Abs(d) > MismatchThreshold {
				s.mismatched++
			}
		}
		if c := r.ServerCachedTokens; c != nil {
			s.cacheReported++
			s.cachedSum += int64(*c)
			s.cachedInputSum += int64(*in)
		}
	}
	s.record(ServerQueue, r.ServerQueueMS)
	s.record(ServerPrefill, r.ServerPrefillMS)
	s.record(ServerDecode, r.ServerDecodeMS)
	s.record(ServerLoad, r.ServerLoadMS)
	if r.ServerPrefillMS != nil && r.TTFTMS != nil {
		rest := max(*r.TTFTMS-*r.ServerPrefillMS, 0)
		s.record(ServerTTFTMinusPrefill, &rest)
	}
}

// record adds a duration in ms to the named histogram; values out of the
// histogram's range (over an hour, a server's bug) are left out.
func (s *serverAcc) record(name string, ms *float64) {
	if ms == nil || math.IsNaN(*ms) || *ms < 0 {
		return
	}
	if s.hs == nil {
		s.hs = map[string]*hdrhistogram.Histogram{}
	}
	h := s.hs[name]
	if h == nil {
		h = NewHistogram()
		s.hs[name] = h
	}
	_ = h.RecordValue(int64(math.Round(*ms * 1000)))
}

// summary is the account, nil when the server reported nothing at all.
func (s *serverAcc) summary() *ServerAccount {
	if s.inputReported == 0 && s.ids == 0 && len(s.hs) == 0 {
		return nil
	}
	out := &ServerAccount{
		InputTokensReported:  s.inputReported,
		InputTokensCompared:  s.compared,
		CachedTokensReported: s.cacheReported,
		RequestIDsReported:   s.ids,
	}
	if s.compared > 0 {
		out.InputMismatchRatio = float64(s.mismatched) / float64(s.compared)
		out.InputMeanRelativeDiff = round3(s.relDiffSum / float64(s.compared))
	}
	if s.cachedInputSum > 0 {
		out.CacheHitRatio = float64(s.cachedSum) / float64(s.cachedInputSum)
	}
	for _, name := range serverTimings {
		if h := s.hs[name]; h != nil && h.TotalCount() > 0 {
			if out.Timings == nil {
				out.Timings = map[string]Stats{}
			}
			out.Timings[name] = StatsOf(h)
		}
	}
	return out
}
