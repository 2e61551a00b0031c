package analysis

import (
	"fmt"
	"math"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Metrics are the latency metrics of the design, in report order.
var Metrics = []string{"lag", "ttfb", "ttft", "ttfo", "icl", "itl", "tpot", "e2e"}

// Histogram bounds: microseconds from 1 µs to 1 h, 3 significant digits.
const (
	HistMinUS  = 1
	HistMaxUS  = int64(3600) * 1e6
	HistDigits = 3
)

// NewHistogram returns an empty histogram with the design's bounds.
func NewHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(HistMinUS, HistMaxUS, HistDigits)
}

// Histograms holds one histogram per metric. It is not safe for concurrent
// use: keep one per goroutine and Merge them.
//
// No value is dropped: one beyond the range (over an hour, or negative) is
// recorded at the range's edge (1 h, or 0) and counted, per metric, in
// Clamped, so the summary can say how many percentiles are lower bounds.
type Histograms struct {
	h       map[string]*hdrhistogram.Histogram
	clamped map[string]int64
}

// NewHistograms returns empty histograms for every metric.
func NewHistograms() *Histograms {
	hs := &Histograms{h: make(map[string]*hdrhistogram.Histogram, len(Metrics)), clamped: map[string]int64{}}
	for _, m := range Metrics {
		hs.h[m] = NewHistogram()
	}
	return hs
}

// Clamped returns how many values of a metric were beyond the range and
// recorded at its edge.
func (hs *Histograms) Clamped(metric string) int64 { return hs.clamped[metric] }

// ClampedTotal returns how many values of every metric were clamped.
func (hs *Histograms) ClampedTotal() int64 {
	var n int64
	for _, c := range hs.clamped {
		n += c
	}
	return n
}

// clamp returns us within the histograms' range, and whether it was not.
func clamp(us int64) (int64, bool) {
	switch {
	case us < 0:
		return 0, true
	case us > HistMaxUS:
		return HistMaxUS, true
	}
	return us, false
}

func (hs *Histograms) record(metric string, h *hdrhistogram.Histogram, us, n int64) {
	us, out := clamp(us)
	if out {
		hs.clamped[metric] += n
	}
	// Within the range RecordValues cannot fail.
	_ = h.RecordValues(us, n)
}

// Get returns the histogram of a metric, nil for an unknown metric.
func (hs *Histograms) Get(metric string) *hdrhistogram.Histogram { return hs.h[metric] }

// RecordMS records a duration given in milliseconds, n times.
func (hs *Histograms) RecordMS(metric string, ms float64, n int64) {
	h := hs.h[metric]
	if h == nil || n <= 0 || math.IsNaN(ms) {
		return
	}
	us := math.Round(ms * 1000)
	switch {
	case us > float64(HistMaxUS):
		us = float64(HistMaxUS + 1) // clamped below, and counted
	case us < 0:
		us = -1
	}
	hs.record(metric, h, int64(us), n)
}

// Merge adds every histogram of o into hs, with o's clamped counts.
func (hs *Histograms) Merge(o *Histograms) {
	for m, h := range o.h {
		hs.MergeHistogram(m, h)
	}
	for m, n := range o.clamped {
		hs.clamped[m] += n
	}
}

// MergeHistogram adds h (a decoded one, say) into the metric's histogram.
// Values of h beyond the range are clamped to it and counted, not dropped.
func (hs *Histograms) MergeHistogram(metric string, h *hdrhistogram.Histogram) {
	dst := hs.h[metric]
	if dst == nil || h.TotalCount() == 0 {
		return
	}
	if h.LowestTrackableValue() == dst.LowestTrackableValue() && h.HighestTrackableValue() == dst.HighestTrackableValue() &&
		h.SignificantFigures() == dst.SignificantFigures() {
		// The same range (ours): Merge drops nothing.
		dst.Merge(h)
		return
	}
	for _, b := range h.Distribution() {
		if b.Count > 0 {
			hs.record(metric, dst, b.From, b.Count)
		}
	}
}

// Stats summarises one metric, in milliseconds.
type Stats struct {
	Count int64   `json:"count"`
	Min   float64 `json:"min"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99.9"`
	Max   float64 `json:"max"`
	// Clamped counts values beyond the histograms' range (over an hour,
	// or negative) recorded at its edge: when not 0, max and the top
	// percentiles are lower bounds.
	Clamped int64 `json:"clamped,omitempty"`
}

// Quantile returns the value at quantile q in [0,1], in ms.
func Quantile(h *hdrhistogram.Histogram, q float64) float64 {
	if h.TotalCount() == 0 {
		return 0
	}
	return float64(h.ValueAtQuantile(q*100)) / 1000
}

// StatsOf summarises a histogram.
func StatsOf(h *hdrhistogram.Histogram) Stats {
	if h.TotalCount() == 0 {
		return Stats{}
	}
	return Stats{
		Count: h.TotalCount(),
		Min:   float64(h.Min()) / 1000,
		Mean:  round3(h.Mean() / 1000),
		P50:   Quantile(h, 0.50),
		P90:   Quantile(h, 0.90),
		P95:   Quantile(h, 0.95),
		P99:   Quantile(h, 0.99),
		P999:  Quantile(h, 0.999),
		Max:   float64(h.Max()) / 1000,
	}
}

// EncodeHistogram returns the base64 V2-compressed form that HdrHistogram
// tools in every language read.
func EncodeHistogram(h *hdrhistogram.Histogram) (string, error) {
	b, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
	if err != nil {
		return "", fmt.Errorf("encode histogram: %w", err)
	}
	return string(b), nil
}

// DecodeHistogram reverses EncodeHistogram. Malformed input is an error.
func DecodeHistogram(s string) (h *hdrhistogram.Histogram, err error) {
	// hdrhistogram.Decode slices its input unchecked and panics on short or
	// corrupt data (e.g. a hand-edited summary.json).
	defer func() {
		if p := recover(); p != nil {
			h, err = nil, fmt.Errorf("decode histogram: malformed input: %v", p)
		}
	}()
	h, err = hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	return h, nil
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
