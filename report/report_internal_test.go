package report

import (
	"math"
	"os"
	"slices"
	"testing"
	"time"

	"gonum.org/v1/plot"

	"github.com/streamgauge/streamgauge/results"

	"github.com/streamgauge/streamgauge/analysis"
)

// TestTimelineConservesTotals checks that however the records are bucketed
// (and buckets merged when the timeline widens), the buckets add up to the
// summary: completions, failures by kind, output tokens, ttft and itl
// samples, and in-flight time (the sum of every request's life).
func TestTimelineConservesTotals(t *testing.T) {
	f, err := os.Open("testdata/records.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []*results.Record
	if err := results.DecodeRecords(f, "records.jsonl", func(r *results.Record) error { recs = append(recs, r); return nil }); err != nil {
		t.Fatal(err)
	}
	acc := analysis.NewAccumulator()
	var life, outTok float64
	for _, r := range recs {
		_ = acc.Append(r)
		life += float64(max(r.DoneNS-r.SentNS, 0))
		if !r.Warmup && r.Error == nil {
			outTok += float64(r.OutputTokens)
		}
	}
	sum, err := acc.Summary(analysis.RunMeta{})
	if err != nil {
		t.Fatal(err)
	}
	for _, width := range []time.Duration{time.Millisecond, 7 * time.Millisecond, 100 * time.Millisecond, time.Second, time.Minute} {
		t.Run(width.String(), func(t *testing.T) {
			tl := newTimeline(width.Nanoseconds(), false)
			for _, r := range recs {
				tl.add(r)
			}
			if len(tl.buckets) > maxBuckets {
				t.Errorf("%d buckets, want at most %d", len(tl.buckets), maxBuckets)
			}
			if width < 10*time.Millisecond && tl.width == width.Nanoseconds() {
				t.Errorf("width %d ns: 5 s of records in %s buckets should have widened the timeline", tl.width, width)
			}
			var b tbucket
			for i := range tl.buckets {
				b.merge(&tl.buckets[i])
			}
			if b.ok != sum.Requests.OK || b.failed != sum.Requests.Failed {
				t.Errorf("ok %d failed %d, summary %d %d", b.ok, b.failed, sum.Requests.OK, sum.Requests.Failed)
			}
			for k, n := range sum.Errors {
				if b.errs[k] != n {
					t.Errorf("errors %s: %d, summary %d", k, b.errs[k], n)
				}
			}
			if math.Abs(b.outTok-outTok) > 1e-6 {
				t.Errorf("output tokens %v, want %v", b.outTok, outTok)
			}
			if math.Abs(b.inflightNS-life) > 1 {
				t.Errorf("in-flight time %v ns, want %v", b.inflightNS, life)
			}
			if b.ttft.TotalCount() != sum.Metrics["ttft"].Count || b.itl.TotalCount() != sum.Metrics["itl"].Count {
				t.Errorf("ttft %d itl %d samples, summary %d %d", b.ttft.TotalCount(), b.itl.TotalCount(), sum.Metrics["ttft"].Count, sum.Metrics["itl"].Count)
			}
		})
	}
}

func TestTimelineLatencyFromScheduled(t *testing.T) {
	r := &results.Record{SentNS: 1e9, FirstTokenNS: 1.1e9, DoneNS: 1.2e9, LagMS: 40, TTFTMS: results.Ms(100), E2EMS: 200, ICLMS: []float64{}}
	for _, tc := range []struct {
		scheduled bool
		want      float64
	}{{false, 100}, {true, 140}} {
		tl := newTimeline(int64(time.Second), tc.scheduled)
		tl.add(r)
		if got := analysis.Quantile(tl.buckets[1].ttft, 0.5); math.Abs(got-tc.want) > 1 {
			t.Errorf("scheduled=%v: ttft %v, want %v", tc.scheduled, got, tc.want)
		}
	}
}

func TestNiceInterval(t *testing.T) {
	tests := []struct{ in, want time.Duration }{
		{0, 100 * time.Millisecond}, {50 * time.Millisecond, 100 * time.Millisecond}, {210 * time.Millisecond, 250 * time.Millisecond},
		{time.Second, time.Second}, {1100 * time.Millisecond, 2 * time.Second}, {11 * time.Second, 15 * time.Second},
		{40 * time.Minute, time.Hour}, {5 * time.Hour, time.Hour},
	}
	for _, tc := range tests {
		if got := niceInterval(tc.in); got != tc.want {
			t.Errorf("niceInterval(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func labels(lo, hi float64, ticker func(lo, hi float64) []plot.Tick) []string {
	var out []string
	for _, tk := range ticker(lo, hi) {
		if tk.Label != "" {
			out = append(out, tk.Label)
		}
	}
	return out
}

func TestTicks(t *testing.T) {
	tests := []struct {
		name   string
		ticker func(lo, hi float64) []plot.Tick
		lo, hi float64
		want   []string
	}{
		{"linear seconds", linearTicks, 0, 2.9, []string{"0", "0.5", "1", "1.5", "2", "2.5"}},
		{"linear minutes", linearTicks, 0, 3600, []string{"0", "500", "1000", "1500", "2000", "2500", "3000", "3500"}},
		{"linear 2s", linearTicks, 0, 13, []string{"0", "2", "4", "6", "8", "10", "12"}},
		{"log narrow falls back to linear", logTicks, 55, 90, []string{"55", "60", "65", "70", "75", "80", "85", "90"}},
		{"log two decades: 1-2-5", logTicks, 0.8, 60, []string{"1", "2", "5", "10", "20", "50"}},
		{"log wide: decades", logTicks, 0.002, 40, []string{"0.01", "0.1", "1", "10"}},
		{"tail percentiles", tailTicks, 0, 99.2, []string{"0", "50", "90", "99"}},
		{"tail percentiles to 99.99", tailTicks, 0, 99.99, []string{"0", "50", "90", "99", "99.9", "99.99"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := labels(tc.lo, tc.hi, tc.ticker); !slices.Equal(got, tc.want) {
				t.Errorf("labels = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTailScale(t *testing.T) {
	var s tailScale
	// 0→90, 90→99 and 99→99.9 take equal room.
	a, b, c := s.Normalize(0, 99.9, 90), s.Normalize(0, 99.9, 99), s.Normalize(0, 99.9, 99.9)
	if math.Abs(a-1.0/3) > 1e-9 || math.Abs(b-2.0/3) > 1e-9 || math.Abs(c-1) > 1e-9 {
		t.Errorf("Normalize(90, 99, 99.9) = %v %v %v, want 1/3 2/3 1", a, b, c)
	}
	if got := s.Normalize(0, 99.9, 100); math.IsInf(got, 0) || math.IsNaN(got) {
		t.Errorf("Normalize(100) = %v, want finite", got)
	}
	for _, tc := range []struct {
		n    int64
		want float64
	}{{0, 99}, {1, 50}, {60, 100 * (1 - 1.0/120)}, {1e6, 99.99}} {
		if got := cdfTop(tc.n); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("cdfTop(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

func TestCDFPoints(t *testing.T) {
	h := analysis.NewHistogram()
	for _, us := range []int64{1000, 1000, 2000, 5000} {
		_ = h.RecordValue(us)
	}
	pts := cdfPoints(h, 99)
	want := []struct{ x, y float64 }{{1, 0}, {1, 50}, {2, 75}, {5, 99}}
	if len(pts) != len(want) {
		t.Fatalf("points %v, want %v", pts, want)
	}
	for i, w := range want {
		if math.Abs(pts[i].X-w.x) > 0.01 || math.Abs(pts[i].Y-w.y) > 1e-9 {
			t.Errorf("point %d = %v, want %v", i, pts[i], w)
		}
	}
	// Thousands of distinct values thin to what a plot can show, keeping
	// the ends.
	big := analysis.NewHistogram()
	for i := range int64(200000) {
		_ = big.RecordValue(1000 + i)
	}
	pts = cdfPoints(big, cdfTop(big.TotalCount()))
	if len(pts) > 1200 {
		t.Errorf("%d points for one CDF, want a thinned line", len(pts))
	}
	if last := pts[len(pts)-1]; math.Abs(last.X-float64(big.Max())/1000) > 0.001 {
		t.Errorf("last point %v, want the max %v", last, float64(big.Max())/1000)
	}
	if cdfPoints(analysis.NewHistogram(), 99) != nil {
		t.Error("points for an empty histogram")
	}
}

func TestLengthBins(t *testing.T) {
	tests := []struct {
		name   string
		values []int
		bins   int
		first  [2]float64 // first bin's Min, Max
		counts []float64
	}{
		{"one value", []int{16, 16, 16}, 40, [2]float64{15.5, 16.5}, []float64{3}},
		{"few values, one token a bin", []int{1, 2, 2, 4}, 40, [2]float64{0.5, 1.5}, []float64{1, 2, 0, 1}},
		{"wide range", []int{100, 150, 199, 250, 300}, 4, [2]float64{99.5, 150.5}, []float64{2, 1, 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newLengthHistogram()
			for _, v := range tc.values {
				recordLength(h, v)
			}
			bins := lengthBins(h, tc.bins)
			if bins[0].Min != tc.first[0] || bins[0].Max != tc.first[1] {
				t.Errorf("first bin %v..%v, want %v", bins[0].Min, bins[0].Max, tc.first)
			}
			var counts []float64
			for _, b := range bins {
				counts = append(counts, b.Weight)
			}
			if !slices.Equal(counts, tc.counts) {
				t.Errorf("counts %v, want %v", counts, tc.counts)
			}
		})
	}
}

func TestInlineSVG(t *testing.T) {
	doc := []byte("<?xml version=\"1.0\"?>\n<!-- Generated -->\n<svg width=\"720pt\" height=\"180pt\" viewBox=\"0 0 720 180\"\n\txmlns=\"http://www.w3.org/2000/svg\">\n<g/></svg>\n")
	got, err := inlineSVG(doc, "plot-x", `a <b> & "c"`)
	if err != nil {
		t.Fatal(err)
	}
	want := "<svg id=\"plot-x\" class=\"plot\" role=\"img\" aria-label=\"a &lt;b&gt; &amp; &#34;c&#34;\" viewBox=\"0 0 720 180\"\n\txmlns=\"http://www.w3.org/2000/svg\"><title>a &lt;b&gt; &amp; &#34;c&#34;</title>\n<g/></svg>\n"
	if string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if _, err := inlineSVG([]byte("<html/>"), "x", "y"); err == nil {
		t.Error("no error for a document without <svg>")
	}
}
