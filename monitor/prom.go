package monitor

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/streamgauge/streamgauge/results"
)

// Latency histogram buckets, in seconds.
var (
	// TTFTBuckets span a fast first token to a queue that takes a minute.
	TTFTBuckets = []float64{.005, .01, .025, .05, .075, .1, .15, .2, .3, .5, .75, 1, 1.5, 2, 3, 5, 7.5, 10, 20, 30, 60}
	// ITLBuckets span speculative decoding to a stalled stream; tpot
	// uses them too.
	ITLBuckets = []float64{.001, .0025, .005, .0075, .01, .015, .02, .025, .03, .04, .05, .075, .1, .15, .2, .3, .5, 1, 2.5}
	// E2EBuckets span a short answer to a long generation.
	E2EBuckets = []float64{.1, .25, .5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600}
)

// promMetrics are a Monitor's Prometheus metrics, on its own registry.
// Records are observed only once the registry is served or handed out.
type promMetrics struct {
	on        atomic.Bool
	reg       *prometheus.Registry
	ok        prometheus.Counter
	failed    *prometheus.CounterVec
	inTok     prometheus.Counter
	outTok    prometheus.Counter
	ttft, itl prometheus.Histogram
	tpot, e2e prometheus.Histogram
}

func newPromMetrics(m *Monitor) *promMetrics {
	const ns = "streamgauge"
	hist := func(name, help string, buckets []float64) prometheus.Histogram {
		return prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: name, Help: help, Buckets: buckets})
	}
	p := &promMetrics{
		reg: prometheus.NewRegistry(),
		ok:  prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "requests_ok_total", Help: "Requests that finished their stream (warm-up included)."}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "requests_failed_total",
			Help: "Requests that failed, by error kind (connect, timeout, http_4xx, http_429, http_5xx, stream_error, protocol, canceled)."}, []string{"kind"}),
		inTok:  prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "input_tokens_total", Help: "Input tokens of successful requests."}),
		outTok: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "output_tokens_total", Help: "Output tokens of successful requests."}),
		ttft:   hist("ttft_seconds", "Time to first token of successful measured requests.", TTFTBuckets),
		itl:    hist("itl_seconds", "Inter-token latency: a frame of k tokens after a gap g counts k samples of g/k.", ITLBuckets),
		tpot:   hist("tpot_seconds", "Time per output token after the first, per request.", ITLBuckets),
		e2e:    hist("e2e_seconds", "Send to the end of the stream, successful measured requests.", E2EBuckets),
	}
	p.reg.MustRegister(p.ok, p.failed, p.inTok, p.outTok, p.ttft, p.itl, p.tpot, p.e2e,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Name: "requests_sent_total", Help: "Requests handed to the target."},
			func() float64 { return float64(m.sent.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "requests_in_flight", Help: "Requests sent and not yet finished."},
			func() float64 { return float64(m.inFlight.Load()) }),
	)
	// Every kind appears from the start, so rate() sees the first failure.
	for _, k := range []results.ErrorKind{results.KindConnect, results.KindTimeout, results.KindHTTP4xx, results.KindHTTP429,
		results.KindHTTP5xx, results.KindStream, results.KindProtocol, results.KindCanceled} {
		p.failed.WithLabelValues(string(k))
	}
	return p
}

// observe counts one finished record. Latencies of failed and warm-up
// requests stay out of the histograms, as they do in the summary.
func (p *promMetrics) observe(r *results.Record) {
	if !p.on.Load() {
		return
	}
	if r.Error != nil {
		p.failed.WithLabelValues(string(r.Error.Kind)).Inc()
		return
	}
	p.ok.Inc()
	p.inTok.Add(float64(r.InputTokens))
	p.outTok.Add(float64(r.OutputTokens))
	if r.Warmup {
		return
	}
	if r.TTFTMS != nil {
		p.ttft.Observe(*r.TTFTMS / 1e3)
	}
	if r.TPOTMS != nil {
		p.tpot.Observe(*r.TPOTMS / 1e3)
	}
	p.e2e.Observe(r.E2EMS / 1e3)
	for i, gap := range r.ICLMS {
		k := 1
		if i+1 < len(r.FrameTokens) && r.FrameTokens[i+1] > 1 {
			k = r.FrameTokens[i+1]
		}
		for range k {
			p.itl.Observe(gap / float64(k) / 1e3)
		}
	}
}

// Registry returns the monitor's own Prometheus registry (not the global
// one), for a Go program that serves it itself.
// Call it before the run: records are observed from then on.
func (m *Monitor) Registry() *prometheus.Registry {
	m.prom.on.Store(true)
	return m.prom.reg
}

// Exporter serves a monitor's metrics over HTTP at /metrics.
type Exporter struct {
	srv   *http.Server
	addr  string
	done  chan struct{}
	close sync.Once
	err   error
}

// Serve starts serving m's metrics on addr (host:port; port 0 picks one)
// until Close. Call it before the run: records are observed from then on.
func (m *Monitor) Serve(addr string) (*Exporter, error) {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry(), promhttp.HandlerOpts{}))
	e := &Exporter{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}, addr: l.Addr().String(), done: make(chan struct{})}
	go func() {
		defer close(e.done)
		_ = e.srv.Serve(l) // http.ErrServerClosed once Close is called
	}()
	return e, nil
}

// URL is where the metrics are served.
func (e *Exporter) URL() string { return "http://" + e.addr + "/metrics" }

// Close stops serving, letting a scrape under way finish for up to a second.
// Closing again, or closing a nil Exporter, does nothing.
func (e *Exporter) Close() error {
	if e == nil {
		return nil
	}
	e.close.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if e.err = e.srv.Shutdown(ctx); e.err != nil {
			e.err = e.srv.Close()
		}
		<-e.done
	})
	return e.err
}
