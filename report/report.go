package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/streamgauge/streamgauge/results"

	"github.com/streamgauge/streamgauge/analysis"
)

// ReportOptions configure LoadReport.
type ReportOptions struct {
	// Interval is the width of the time buckets of the over-time plots;
	// 0 picks one from the run's length (about 60 buckets, at least 100 ms).
	Interval time.Duration
}

// Report is what the HTML report and the single plots show of a run: the
// summary, and aggregates built in one streaming pass over requests.jsonl
// (per-time-bucket counts and histograms, length histograms) so that no
// record is held in memory.
type Report struct {
	Run     *analysis.RunDir
	Summary *analysis.Summary
	// SummaryRebuilt is true when summary.json was missing or damaged and the summary
	// was rebuilt from the records.
	SummaryRebuilt bool
	// Records counts the lines of requests.jsonl; NoRecords is true when
	// there is no requests.jsonl (the over-time plots are then empty).
	Records   int64
	NoRecords bool

	tl *timeline
	// input and output lengths in tokens: input of every measured request
	// as sent, output of the successful ones.
	inputLen, outputLen *hdrhistogram.Histogram
	// server holds the server's metrics (nil without server_metrics.jsonl).
	server *serverMetrics
}

// LoadReport reads a run directory for a report.
func LoadReport(dir string, opt ReportOptions) (*Report, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("run %s: not a directory", dir)
	}
	rd, err := analysis.ReadRunDir(dir)
	if err != nil {
		return nil, err
	}
	rep := &Report{Run: rd, inputLen: newLengthHistogram(), outputLen: newLengthHistogram()}
	var acc *analysis.Accumulator
	s, err := rd.StoredSummary()
	switch {
	case err != nil:
		return nil, err
	case s != nil:
		rd.Judge(s)
		rep.Summary = s
	default:
		acc = rd.NewAccumulator()
		rep.SummaryRebuilt = true
	}
	width := opt.Interval
	if width <= 0 {
		width = autoInterval(rd, rep.Summary)
	}
	rep.tl = newTimeline(width.Nanoseconds(), rd.LatencyFromScheduled())
	err = results.ReadRecords(dir, func(r *results.Record) error {
		rep.Records++
		if acc != nil {
			_ = acc.Append(r) // never fails
		}
		rep.tl.add(r)
		if !r.Warmup && (r.Error == nil || r.Error.Kind != results.KindCanceled) {
			recordLength(rep.inputLen, r.InputTokens)
			if r.Error == nil {
				recordLength(rep.outputLen, r.OutputTokens)
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, fs.ErrNotExist) && acc == nil:
		// summary.json without records (copied on its own): the summary
		// and CDFs still tell a story; the over-time plots stay empty.
		rep.NoRecords = true
	case err != nil:
		return nil, err
	}
	if acc != nil {
		if rep.Summary, err = rd.Summarize(acc); err != nil {
			return nil, err
		}
	}
	sm, err := readServerMetrics(dir, rep.tl)
	if err != nil {
		return nil, err
	}
	rep.server = sm
	return rep, nil
}

// autoInterval picks a bucket width giving about 60 buckets over the run,
// wide enough for about 5 finished requests each, so rates do not jump
// between 0 and 2 per bucket.
func autoInterval(rd *analysis.RunDir, s *analysis.Summary) time.Duration {
	var d time.Duration
	if !rd.Info.End.IsZero() && rd.Info.End.After(rd.Info.Start) {
		d = rd.Info.End.Sub(rd.Info.Start)
	} else if s != nil && s.DurationS > 0 {
		d = time.Duration(s.DurationS * float64(time.Second))
	}
	if d <= 0 {
		return time.Second // widens as records come, see timeline.at
	}
	w := d / 60
	if s != nil && s.DurationS > 0 {
		if done := float64(s.Requests.OK+s.Requests.Failed) / s.DurationS; done > 0 {
			w = max(w, time.Duration(5/done*float64(time.Second)))
		}
	}
	return niceInterval(w)
}

// niceInterval rounds d up to 100ms, 200ms, 250ms, 500ms, 1s, 2s, 5s, 10s,
// 15s, 30s, 1m, 2m, 5m, 10m, 15m, 30m or 1h.
func niceInterval(d time.Duration) time.Duration {
	for _, n := range []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
		time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
		time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute} {
		if d <= n {
			return n
		}
	}
	return time.Hour
}

func newLengthHistogram() *hdrhistogram.Histogram { return hdrhistogram.New(1, 10_000_000, 3) }

func recordLength(h *hdrhistogram.Histogram, n int) {
	_ = h.RecordValue(int64(max(n, 0))) // lengths over 10M tokens are left out
}

// maxBuckets bounds the over-time plots' resolution and memory: past it,
// buckets double in width.
const maxBuckets = 400

// timeline aggregates records into time buckets from the run's start. Each
// latency sample is placed when it was observed: ttft at the first token,
// itl at its token, completions, errors and e2e at the end of the request;
// output tokens at the frames that carried them; in-flight time spread
// over each request's life.
type timeline struct {
	width         int64 // ns
	buckets       []tbucket
	end           int64 // latest time seen, ns
	fromScheduled bool
	kinds         map[string]bool
}

type tbucket struct {
	ok, failed int64
	outTok     float64
	inflightNS float64
	errs       map[string]int64
	ttft, itl  *hdrhistogram.Histogram
	server     map[string]meanAcc
}

type meanAcc struct {
	sum float64
	n   int64
}

func newTimeline(width int64, fromScheduled bool) *timeline {
	return &timeline{width: max(width, int64(time.Millisecond)), fromScheduled: fromScheduled, kinds: map[string]bool{}}
}

// bucketHistogram is coarser than the run's (2 significant digits): enough
// for a percentile line, and 8 times smaller.
func bucketHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(analysis.HistMinUS, analysis.HistMaxUS, 2)
}

// at returns the bucket of time t (ns), growing the timeline (and doubling
// its width past maxBuckets) as needed.
func (tl *timeline) at(t int64) *tbucket {
	t = max(t, 0)
	tl.end = max(tl.end, t)
	for t/tl.width >= maxBuckets {
		tl.double()
	}
	i := int(t / tl.width)
	for len(tl.buckets) <= i {
		tl.buckets = append(tl.buckets, tbucket{})
	}
	return &tl.buckets[i]
}

func (tl *timeline) double() {
	n := (len(tl.buckets) + 1) / 2
	merged := make([]tbucket, n)
	for i := range tl.buckets {
		merged[i/2].merge(&tl.buckets[i])
	}
	tl.buckets = merged
	tl.width *= 2
}

func (b *tbucket) merge(o *tbucket) {
	b.ok += o.ok
	b.failed += o.failed
	b.outTok += o.outTok
	b.inflightNS += o.inflightNS
	for k, v := range o.errs {
		if b.errs == nil {
			b.errs = map[string]int64{}
		}
		b.errs[k] += v
	}
	b.ttft = mergeHist(b.ttft, o.ttft)
	b.itl = mergeHist(b.itl, o.itl)
	for k, v := range o.server {
		if b.server == nil {
			b.server = map[string]meanAcc{}
		}
		m := b.server[k]
		b.server[k] = meanAcc{m.sum + v.sum, m.n + v.n}
	}
}

func mergeHist(dst, src *hdrhistogram.Histogram) *hdrhistogram.Histogram {
	if src == nil {
		return dst
	}
	if dst == nil {
		return src
	}
	dst.Merge(src)
	return dst
}

func recordBucketMS(h **hdrhistogram.Histogram, ms float64, n int64) {
	if math.IsNaN(ms) || n <= 0 {
		return
	}
	if *h == nil {
		*h = bucketHistogram()
	}
	_ = (*h).RecordValues(max(int64(math.Round(ms*1000)), 0), n) // over an hour: left out, as in the summary
}

func (tl *timeline) add(r *results.Record) {
	// In flight: every request, warm-up and canceled ones too, is load.
	tl.at(r.DoneNS) // grow first, so the span below sees the final width
	if r.DoneNS > r.SentNS {
		for t := r.SentNS; t < r.DoneNS; {
			b := tl.at(t)
			next := min((t/tl.width+1)*tl.width, r.DoneNS)
			b.inflightNS += float64(next - t)
			t = next
		}
	}
	if r.Warmup {
		return
	}
	if r.Error != nil {
		b := tl.at(r.DoneNS)
		if b.errs == nil {
			b.errs = map[string]int64{}
		}
		b.errs[string(r.Error.Kind)]++
		tl.kinds[string(r.Error.Kind)] = true
		if r.Error.Kind != results.KindCanceled {
			b.failed++
		}
		return
	}
	tl.at(r.DoneNS).ok++
	if r.TTFTMS != nil {
		shift := 0.0
		if tl.fromScheduled {
			shift = r.SinceScheduledMS()
		}
		recordBucketMS(&tl.at(r.FirstTokenNS).ttft, *r.TTFTMS+shift, 1)
	}
	// Frames: the first at the first token, each next one an icl gap later.
	frames := len(r.ICLMS) + 1
	tokens := func(i int) float64 {
		if len(r.FrameTokens) == frames && r.FrameTokens[i] > 0 {
			return float64(r.FrameTokens[i])
		}
		return 1
	}
	var sum float64
	for i := range frames {
		sum += tokens(i)
	}
	scale := 0.0
	if sum > 0 {
		scale = float64(r.OutputTokens) / sum
	}
	if !recordHasToken(r) {
		tl.at(r.DoneNS).outTok += float64(r.OutputTokens)
		return
	}
	t := float64(r.FirstTokenNS)
	tl.at(r.FirstTokenNS).outTok += tokens(0) * scale
	for i, gap := range r.ICLMS {
		t += gap * 1e6
		b := tl.at(int64(t))
		b.outTok += tokens(i+1) * scale
		k := 1
		if i+1 < len(r.FrameTokens) && r.FrameTokens[i+1] > 1 {
			k = r.FrameTokens[i+1]
		}
		recordBucketMS(&b.itl, gap/float64(k), int64(k))
	}
}

// spanS returns the start of bucket i and its length in seconds. Every
// bucket counts as a whole one: the last is usually cut short by the end of
// the run, and dividing by its sliver of time would draw a spike.
func (tl *timeline) spanS(i int) (start, length float64) {
	w := float64(tl.width) / 1e9
	return float64(i) * w, w
}

// endS is the time axis' end in seconds.
func (tl *timeline) endS() float64 {
	return math.Max(float64(tl.end)/1e9, float64(tl.width)/1e9)
}

// ServerMetricsFound reports whether the run directory held server metrics.
func (r *Report) ServerMetricsFound() bool { return r.server != nil }

// Interval is the width of the report's time buckets.
func (r *Report) Interval() time.Duration { return time.Duration(r.tl.width) }

// serverMetrics are the series read from server_metrics.jsonl, folded into
// the timeline's buckets (mean per bucket).
type serverMetrics struct {
	names map[string]bool
	bad   int64
}

type serverSample struct {
	TNS   *int64   `json:"t_ns"`
	Name  string   `json:"name"`
	Value *float64 `json:"value"`
}

// readServerMetrics streams dir's server_metrics.jsonl into tl; nil when
// there is no such file. Malformed lines are counted and skipped: the
// scrape is a side channel and must not cost the report. Samples later than
// one bucket past the last request are left out (the scrape may outlive the
// load), so they do not stretch the time axis.
func readServerMetrics(dir string, tl *timeline) (*serverMetrics, error) {
	p := filepath.Join(dir, analysis.ServerMetricsFile)
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read run %s: %w", dir, err)
	}
	defer f.Close()
	sm := &serverMetrics{names: map[string]bool{}}
	limit := int64(math.MaxInt64)
	if len(tl.buckets) > 0 {
		limit = tl.end + tl.width
	}
	br := bufio.NewReaderSize(f, 64<<10)
	for {
		line, rerr := br.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			var s serverSample
			switch {
			case json.Unmarshal(line, &s) != nil, s.TNS == nil, s.Value == nil, s.Name == "",
				*s.TNS < 0, math.IsNaN(*s.Value), math.IsInf(*s.Value, 0):
				sm.bad++
			case *s.TNS > limit:
			default:
				b := tl.at(*s.TNS)
				if b.server == nil {
					b.server = map[string]meanAcc{}
				}
				m := b.server[s.Name]
				b.server[s.Name] = meanAcc{m.sum + *s.Value, m.n + 1}
				sm.names[s.Name] = true
			}
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return nil, fmt.Errorf("read %s: %w", p, rerr)
		}
	}
	return sm, nil
}
