package analysis_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
	"github.com/streamgauge/streamgauge/results"
)

// quantiles are the q (in [0,1]) at which two histograms must agree (on
// top of equal bucket counts).
func quantiles() []float64 {
	var qs []float64
	for i := 0; i <= 50; i++ {
		qs = append(qs, float64(i)/50)
	}
	return append(qs, 0.001, 0.01, 0.25, 0.75, 0.95, 0.99, 0.999, 0.9999)
}

// sameHistogram fails unless a and b hold the same counts and agree at every
// quantile.
func sameHistogram(t *testing.T, what string, a, b *hdrhistogram.Histogram) {
	t.Helper()
	if a.TotalCount() != b.TotalCount() {
		t.Errorf("%s: total count %d vs %d", what, a.TotalCount(), b.TotalCount())
		return
	}
	if a.Min() != b.Min() || a.Max() != b.Max() || a.Mean() != b.Mean() {
		t.Errorf("%s: min/max/mean %d/%d/%v vs %d/%d/%v", what, a.Min(), a.Max(), a.Mean(), b.Min(), b.Max(), b.Mean())
	}
	for _, q := range quantiles() {
		if va, vb := a.ValueAtQuantile(q*100), b.ValueAtQuantile(q*100); va != vb {
			t.Errorf("%s: value at q=%v: %d vs %d", what, q, va, vb)
			return
		}
	}
	if !a.Equals(b) {
		t.Errorf("%s: bucket counts differ", what)
	}
}

// randomHistograms fills histograms with latencies from 1 µs to an hour:
// lognormal bulk plus a few extremes.
func randomHistograms(seed uint64, n int) *analysis.Histograms {
	r := rand.New(rand.NewPCG(seed, 1))
	hs := analysis.NewHistograms()
	for range n {
		for _, m := range analysis.Metrics {
			hs.RecordMS(m, math.Exp(r.NormFloat64()*1.5+3), 1)
		}
	}
	for _, ms := range []float64{0.001, 0.0004, 3_599_999} {
		hs.RecordMS("e2e", ms, 1)
	}
	hs.RecordMS("itl", 7.5, 4)
	return hs
}

func TestEncodeDecode(t *testing.T) {
	tests := []struct {
		name string
		h    *hdrhistogram.Histogram
	}{
		{"empty", analysis.NewHistogram()},
		{"random", randomHistograms(7, 5000).Get("e2e")},
		{"single value", func() *hdrhistogram.Histogram {
			h := analysis.NewHistogram()
			h.RecordValues(42_000, 1000)
			return h
		}()},
		{"range ends", func() *hdrhistogram.Histogram {
			h := analysis.NewHistogram()
			h.RecordValue(analysis.HistMinUS)
			h.RecordValue(analysis.HistMaxUS)
			return h
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := analysis.EncodeHistogram(tc.h)
			if err != nil {
				t.Fatal(err)
			}
			if s == "" || strings.ContainsAny(s, " \n") {
				t.Fatalf("encoded form %q is not one base64 word", s)
			}
			got, err := analysis.DecodeHistogram(s)
			if err != nil {
				t.Fatal(err)
			}
			sameHistogram(t, tc.name, got, tc.h)
			if analysis.StatsOf(got) != analysis.StatsOf(tc.h) {
				t.Errorf("stats %+v vs %+v", analysis.StatsOf(got), analysis.StatsOf(tc.h))
			}
			if got.HighestTrackableValue() != analysis.HistMaxUS || got.SignificantFigures() != analysis.HistDigits {
				t.Errorf("decoded bounds: max %d, digits %d", got.HighestTrackableValue(), got.SignificantFigures())
			}
		})
	}
}

func TestDecodeHistogramErrors(t *testing.T) {
	for _, in := range []string{"", "not base64!", "SGVsbG8gd29ybGQ="} {
		if _, err := analysis.DecodeHistogram(in); err == nil || !strings.Contains(err.Error(), "decode histogram") {
			t.Errorf("DecodeHistogram(%q) = %v, want a decode error", in, err)
		}
	}
}

// TestSummaryHistograms: each summary histogram decodes to the accumulator's.
func TestSummaryHistograms(t *testing.T) {
	a := analysistest.Accumulate(t, analysistest.LoadFixture(t))
	s, err := a.Summary(analysistest.OpenMeta())
	if err != nil {
		t.Fatal(err)
	}
	hs := a.Histograms()
	for _, m := range analysis.Metrics {
		h, err := analysis.DecodeHistogram(s.Histograms[m])
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		sameHistogram(t, m, h, hs.Get(m))
		if got := analysis.StatsOf(h); got != s.Metrics[m] {
			t.Errorf("%s: decoded stats %+v, summary says %+v", m, got, s.Metrics[m])
		}
	}
}

// TestMergeHalves: merging two halves gives exactly the whole.
func TestMergeHalves(t *testing.T) {
	t.Run("records", func(t *testing.T) {
		recs := analysistest.LoadFixture(t)
		whole := analysistest.Accumulate(t, recs).Histograms()
		var even, odd []*results.Record
		for i, r := range recs {
			if i%2 == 0 {
				even = append(even, r)
			} else {
				odd = append(odd, r)
			}
		}
		merged := analysistest.Accumulate(t, even).Histograms()
		merged.Merge(analysistest.Accumulate(t, odd).Histograms())
		for _, m := range analysis.Metrics {
			sameHistogram(t, m, merged.Get(m), whole.Get(m))
		}
	})
	t.Run("random values", func(t *testing.T) {
		r := rand.New(rand.NewPCG(3, 4))
		whole, a, b := analysis.NewHistograms(), analysis.NewHistograms(), analysis.NewHistograms()
		for i := range 20000 {
			ms := math.Exp(r.NormFloat64()*2 + 2)
			whole.RecordMS("ttft", ms, 1)
			if i%3 == 0 {
				a.RecordMS("ttft", ms, 1)
			} else {
				b.RecordMS("ttft", ms, 1)
			}
		}
		a.Merge(b)
		sameHistogram(t, "ttft", a.Get("ttft"), whole.Get("ttft"))
	})
	t.Run("clamped counts carried", func(t *testing.T) {
		a, b := analysis.NewHistograms(), analysis.NewHistograms()
		a.RecordMS("lag", 3*3600*1000, 1)
		b.RecordMS("e2e", 2*3600*1000, 3)
		a.Merge(b)
		if a.Clamped("e2e") != 3 || a.Clamped("lag") != 1 || a.ClampedTotal() != 4 || a.Get("e2e").TotalCount() != 3 {
			t.Errorf("clamped e2e %d lag %d total %d, e2e count %d after merge: want 3 1 4 3",
				a.Clamped("e2e"), a.Clamped("lag"), a.ClampedTotal(), a.Get("e2e").TotalCount())
		}
	})
	t.Run("a wider histogram is clamped, not dropped", func(t *testing.T) {
		wide := hdrhistogram.New(1, 10*analysis.HistMaxUS, analysis.HistDigits)
		wide.RecordValues(5*analysis.HistMaxUS, 2)
		wide.RecordValues(1000, 1)
		hs := analysis.NewHistograms()
		hs.MergeHistogram("ttft", wide)
		h := hs.Get("ttft")
		if h.TotalCount() != 3 || hs.Clamped("ttft") != 2 || !h.ValuesAreEquivalent(h.Max(), analysis.HistMaxUS) {
			t.Errorf("count %d, clamped %d, max %d: want 3, 2, %d", h.TotalCount(), hs.Clamped("ttft"), h.Max(), analysis.HistMaxUS)
		}
	})
}

func TestRecordMS(t *testing.T) {
	tests := []struct {
		name       string
		metric     string
		ms         float64
		n          int64
		wantCount  int64
		wantOut    int64
		wantUSNear int64
	}{
		{"plain", "ttft", 12.5, 1, 1, 0, 12500},
		{"repeated", "itl", 2.5, 4, 4, 0, 2500},
		{"sub-microsecond rounds", "itl", 0.0006, 1, 1, 0, 1},
		{"negative clamps to zero, counted", "lag", -0.2, 1, 1, 1, 0},
		{"just under an hour", "e2e", 3_599_999, 1, 1, 0, 3_599_999_000},
		{"an hour", "e2e", 3_600_000, 1, 1, 0, 3_600_000_000},
		// The top bucket reaches past an hour (about 71 min); the range
		// ends at an hour all the same.
		{"just over an hour clamps", "e2e", 3_900_000, 1, 1, 1, 3_600_000_000},
		{"over the range clamps, counted", "e2e", 2 * 3_600_000, 2, 2, 2, 3_600_000_000},
		{"a start-at an hour late", "lag", 5 * 3_600_000, 1, 1, 1, 3_600_000_000},
		{"infinity clamps", "e2e", math.Inf(1), 1, 1, 1, 3_600_000_000},
		{"NaN ignored", "ttft", math.NaN(), 1, 0, 0, 0},
		{"zero n ignored", "ttft", 5, 0, 0, 0, 0},
		{"unknown metric ignored", "nope", 5, 1, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hs := analysis.NewHistograms()
			hs.RecordMS(tc.metric, tc.ms, tc.n)
			var total int64
			for _, m := range analysis.Metrics {
				total += hs.Get(m).TotalCount()
			}
			if total != tc.wantCount {
				t.Errorf("recorded %d values, want %d", total, tc.wantCount)
			}
			if got := hs.Clamped(tc.metric); got != tc.wantOut || hs.ClampedTotal() != tc.wantOut {
				t.Errorf("Clamped = %d (total %d), want %d", got, hs.ClampedTotal(), tc.wantOut)
			}
			if tc.wantCount > 0 {
				h := hs.Get(tc.metric)
				if !h.ValuesAreEquivalent(h.Max(), tc.wantUSNear) {
					t.Errorf("recorded %d µs, want %d", h.Max(), tc.wantUSNear)
				}
			}
		})
	}
	if analysis.NewHistograms().Get("nope") != nil {
		t.Error("Get of an unknown metric is not nil")
	}
}

func TestQuantileAndStats(t *testing.T) {
	h := analysis.NewHistogram()
	for v := int64(1); v <= 1000; v++ {
		h.RecordValue(v * 1000) // 1..1000 ms
	}
	tests := []struct {
		q, want float64
	}{
		// q = 0 is left out: hdrhistogram-go answers 0 there, not the min.
		{0.001, 1}, {0.5, 500}, {0.9, 900}, {0.99, 990}, {1, 1000},
	}
	for _, tc := range tests {
		if got := analysis.Quantile(h, tc.q); math.Abs(got-tc.want) > tc.want*1e-3 {
			t.Errorf("Quantile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	st := analysis.StatsOf(h)
	if st.Count != 1000 || math.Abs(st.Mean-500.5) > 0.5 || math.Abs(st.P999-999) > 1 {
		t.Errorf("stats %+v", st)
	}
	if analysis.Quantile(analysis.NewHistogram(), 0.5) != 0 || analysis.StatsOf(analysis.NewHistogram()) != (analysis.Stats{}) {
		t.Error("an empty histogram does not give zeros")
	}
}
