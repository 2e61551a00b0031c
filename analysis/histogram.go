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
type Histograms struct {
	h map[string]*hdrhistogram.Histogram
	// OutOfRange counts values above the histograms' range (over an hour),
	// which are not recorded.
	OutOfRange int64
}

// NewHistograms returns empty histograms for every metric.
func NewHistograms() *Histograms {
	hs := &Histograms{h: make(map[string]*hdrhistogram.Histogram, len(Metrics))}
	for _, m := range Metrics {
		hs.h[m] = NewHistogram()
	}
	return hs
}

// Get returns the histogram of a metric, nil for an unknown metric.
func (hs *Histograms) Get(metric string) *hdrhistogram.Histogram { return hs.h[metric] }

// RecordMS records a duration given in milliseconds, n times.
func (hs *Histograms) RecordMS(metric string, ms float64, n int64) {
	h := hs.h[metric]
	if h == nil || n <= 0 || math.IsNaN(ms) {
		return
	}
	us := int64(math.Round(ms * 1000))
	if us < 0 {
		us = 0
	}
	if err := h.RecordValues(us, n); err != nil {
		hs.OutOfRange += n
	}
}

// Merge adds every histogram of o into hs.
func (hs *Histograms) Merge(o *Histograms) {
	for m, h := range o.h {
		if dst := hs.h[m]; dst != nil {
			hs.OutOfRange += dst.Merge(h)
		}
	}
	hs.OutOfRange += o.OutOfRange
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
