package report

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/streamgauge/streamgauge/results"

	"github.com/streamgauge/streamgauge/analysis"
)

// HdrLogUnit is the unit of the values in an HdrHistogram interval log.
type HdrLogUnit string

const (
	// HdrLogNanoseconds is what HdrHistogram tools assume (jHiccup,
	// HistogramLogAnalyzer, HistogramLogProcessor's default output ratio):
	// they divide values by 10^6 and label them milliseconds. Values are the
	// summary's microsecond buckets times 1000, so percentiles agree with
	// summary.json within the histograms' 3 significant digits.
	HdrLogNanoseconds HdrLogUnit = "ns"
	// HdrLogMicroseconds writes the summary's own histograms (1 µs to 1 h,
	// 3 significant digits): merged, the intervals of a metric are exactly
	// the histogram in summary.json. Tools that assume nanoseconds show
	// these values 1000 times too small.
	HdrLogMicroseconds HdrLogUnit = "us"
)

// HdrLogOptions configure an interval log.
type HdrLogOptions struct {
	// Interval is the length of each interval histogram; records fall in
	// the interval of their done time. Default 1 s.
	Interval time.Duration
	// Metrics to log, default all (Metrics).
	Metrics []string
	// Unit of the logged values, default HdrLogNanoseconds.
	Unit HdrLogUnit
	// Start is the run's start (run.json); interval timestamps are offsets
	// from it and the log's StartTime/BaseTime header carries it.
	Start time.Time
	// LatencyFromScheduled must match the run's --latency-from scheduled,
	// as the summary does.
	LatencyFromScheduled bool
	// Lateness is how far (in done time) a record may arrive behind the
	// latest one and still land in its own interval; later ones land in the
	// oldest interval not yet written. Default 10 s. Records are written as
	// requests finish, so they are nearly in done order.
	Lateness time.Duration
}

// HdrLog folds records into per-interval histograms of each metric and
// writes each interval as soon as no more records can fall in it, so memory
// stays bounded by the lateness window, not by the run's length.
//
// The log follows the HdrHistogram log format 1.3 (hdrhistogram-go's
// HistogramLogWriter; what HistogramLogAnalyzer and HistogramLogProcessor
// read): a StartTime and BaseTime header, then one line per interval and
// metric, with timestamps in seconds from the run's start.
type HdrLog struct {
	opt     HdrLogOptions
	tagged  bool
	writers map[string]*hdrhistogram.HistogramLogWriter
	open    map[int64]*analysis.Accumulator
	written int64 // intervals before this index are written
	maxIdx  int64
	late    int64
	lateWin int64
	empty   *hdrhistogram.Histogram // reused for intervals without samples
	err     error
}

// NewHdrLog returns a log writing every metric to w as one log, each
// interval histogram tagged with its metric (Tag=ttft). HistogramLogAnalyzer
// plots the tags as separate series.
func NewHdrLog(w io.Writer, opt HdrLogOptions) (*HdrLog, error) {
	l, err := newHdrLog(opt, true)
	if err != nil {
		return nil, err
	}
	lw := hdrhistogram.NewHistogramLogWriter(w)
	if err := l.header(lw, "all metrics, tagged by metric"); err != nil {
		return nil, err
	}
	for _, m := range l.opt.Metrics {
		l.writers[m] = lw
	}
	return l, nil
}

// NewHdrLogPerMetric returns a log writing each metric, untagged, to its own
// writer; ws must hold a writer for every metric of opt.Metrics.
func NewHdrLogPerMetric(ws map[string]io.Writer, opt HdrLogOptions) (*HdrLog, error) {
	l, err := newHdrLog(opt, false)
	if err != nil {
		return nil, err
	}
	for _, m := range l.opt.Metrics {
		w := ws[m]
		if w == nil {
			return nil, fmt.Errorf("hdrlog: no writer for metric %s", m)
		}
		lw := hdrhistogram.NewHistogramLogWriter(w)
		if err := l.header(lw, m); err != nil {
			return nil, err
		}
		l.writers[m] = lw
	}
	return l, nil
}

func newHdrLog(opt HdrLogOptions, tagged bool) (*HdrLog, error) {
	if opt.Interval == 0 {
		opt.Interval = time.Second
	}
	if opt.Interval < time.Millisecond {
		return nil, fmt.Errorf("hdrlog: interval %s is shorter than 1ms", opt.Interval)
	}
	if opt.Lateness <= 0 {
		opt.Lateness = 10 * time.Second
	}
	if len(opt.Metrics) == 0 {
		opt.Metrics = analysis.Metrics
	}
	for _, m := range opt.Metrics {
		if !slices.Contains(analysis.Metrics, m) {
			return nil, fmt.Errorf("hdrlog: unknown metric %q (one of %v)", m, analysis.Metrics)
		}
	}
	switch opt.Unit {
	case "":
		opt.Unit = HdrLogNanoseconds
	case HdrLogNanoseconds, HdrLogMicroseconds:
	default:
		return nil, fmt.Errorf("hdrlog: unit %q: want ns or us", opt.Unit)
	}
	return &HdrLog{
		opt: opt, tagged: tagged,
		writers: map[string]*hdrhistogram.HistogramLogWriter{},
		open:    map[int64]*analysis.Accumulator{},
		maxIdx:  -1,
		lateWin: int64(math.Ceil(float64(opt.Lateness) / float64(opt.Interval))),
	}, nil
}

func (l *HdrLog) header(lw *hdrhistogram.HistogramLogWriter, what string) error {
	start := l.opt.Start
	unit := "nanoseconds"
	if l.opt.Unit == HdrLogMicroseconds {
		unit = "microseconds"
	}
	errs := []error{
		lw.OutputComment(fmt.Sprintf("streamgauge interval log: %s; values in %s; intervals of %s by request done time", what, unit, l.opt.Interval)),
		lw.OutputLogFormatVersion(),
	}
	if !start.IsZero() {
		// The Java format, with milliseconds (hdrhistogram-go's
		// OutputStartTime drops them and its BaseTime line is misspelt).
		secs := float64(start.UnixMilli()) / 1000
		errs = append(errs,
			lw.OutputComment(fmt.Sprintf("[StartTime: %.3f (seconds since epoch), %s]", secs, start.UTC().Format(time.RFC3339Nano))),
			lw.OutputComment(fmt.Sprintf("[BaseTime: %.3f (seconds since epoch)]", secs)))
	}
	errs = append(errs, lw.OutputLegend())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("write hdrlog: %w", err)
	}
	return nil
}

// Append adds one record to the interval of its done time.
func (l *HdrLog) Append(r *results.Record) error {
	if l.err != nil {
		return l.err
	}
	idx := max(r.DoneNS, 0) / l.opt.Interval.Nanoseconds()
	if idx < l.written {
		l.late++
		idx = l.written
	}
	a := l.open[idx]
	if a == nil {
		a = analysis.NewAccumulator(analysis.WithLatencyFromScheduled(l.opt.LatencyFromScheduled))
		l.open[idx] = a
	}
	_ = a.Append(r) // never fails
	if idx > l.maxIdx {
		l.maxIdx = idx
		if err := l.flushThrough(idx - l.lateWin); err != nil {
			return err
		}
	}
	return nil
}

// Late returns how many records came more than the lateness window behind
// and were logged in a later interval than their done time.
func (l *HdrLog) Late() int64 { return l.late }

// Close writes every interval still open. It does not close the writers.
func (l *HdrLog) Close() error {
	if l.err != nil {
		return l.err
	}
	if err := l.flushThrough(l.maxIdx); err != nil {
		return err
	}
	if l.late > 0 {
		for _, m := range l.opt.Metrics {
			if err := l.writers[m].OutputComment(fmt.Sprintf("%d records finished more than %s out of order and were logged in a later interval", l.late, l.opt.Lateness)); err != nil {
				return fmt.Errorf("write hdrlog: %w", err)
			}
			if l.tagged {
				break
			}
		}
	}
	return nil
}

// flushThrough writes the intervals up to and including idx, empty ones
// too, so the timeline has no holes.
func (l *HdrLog) flushThrough(idx int64) error {
	for ; l.written <= idx; l.written++ {
		var hs *analysis.Histograms
		if a := l.open[l.written]; a != nil {
			hs = a.Histograms()
			delete(l.open, l.written)
		}
		if err := l.writeInterval(l.written, hs); err != nil {
			l.err = err
			return err
		}
	}
	return nil
}

func (l *HdrLog) writeInterval(idx int64, hs *analysis.Histograms) error {
	iv := l.opt.Interval.Milliseconds()
	startMS, endMS := idx*iv, (idx+1)*iv
	for _, m := range l.opt.Metrics {
		var h *hdrhistogram.Histogram
		if hs != nil {
			h = hs.Get(m)
		}
		h = l.convert(h)
		h.SetStartTimeMs(startMS)
		h.SetEndTimeMs(endMS)
		if l.tagged {
			h.SetTag(m)
		} else {
			h.SetTag("")
		}
		if err := l.writers[m].OutputIntervalHistogram(h); err != nil {
			return fmt.Errorf("write hdrlog: %s interval %d: %w", m, idx, err)
		}
	}
	return nil
}

// convert returns h (µs) in the log's unit; nil is an empty histogram.
func (l *HdrLog) convert(h *hdrhistogram.Histogram) *hdrhistogram.Histogram {
	if h == nil || h.TotalCount() == 0 {
		if l.empty == nil {
			l.empty = analysis.NewHistogram()
			if l.opt.Unit == HdrLogNanoseconds {
				l.empty = histogramToNS(nil)
			}
		}
		return l.empty
	}
	if l.opt.Unit == HdrLogMicroseconds {
		return h
	}
	return histogramToNS(h)
}

// histogramToNS re-records a microsecond histogram in nanoseconds (1 ns up
// to its largest value, 3 significant digits), each bucket at its highest
// equivalent value, the value percentiles report. Sizing it to the data
// keeps it small: the bucket layout below a value does not depend on the
// histogram's upper bound.
func histogramToNS(h *hdrhistogram.Histogram) *hdrhistogram.Histogram {
	if h == nil || h.TotalCount() == 0 {
		return hdrhistogram.New(1, analysis.HistMaxUS*1000, analysis.HistDigits)
	}
	bars := h.Distribution()
	var top int64
	for _, b := range bars {
		if b.Count > 0 {
			top = b.To
		}
	}
	ns := hdrhistogram.New(1, max(2*top*1000, 2), analysis.HistDigits)
	for _, b := range bars {
		if b.Count > 0 {
			_ = ns.RecordValues(b.To*1000, b.Count) // in range by construction
		}
	}
	return ns
}
