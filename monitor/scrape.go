package monitor

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/streamgauge/streamgauge/internal/secret"
)

// ServerMetrics are the server metrics a scrape keeps, by the names each
// server exports them under (the simulator uses vLLM's).
var ServerMetrics = map[string][]string{
	"queue":   {"vllm:num_requests_waiting", "sglang:num_queue_reqs", "tgi_queue_size"},
	"running": {"vllm:num_requests_running", "sglang:num_running_reqs", "tgi_batch_current_size"},
	"kv":      {"vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc", "sglang:token_usage"},
}

// ScrapeSim is the --scrape-metrics value that means the target's own
// metrics: the built-in simulator's when the run starts one.
const ScrapeSim = "sim"

// ScrapeInterval is how often the server's metrics are scraped.
const ScrapeInterval = time.Second

// ScrapeURL resolves a --scrape-metrics setting against the run's target:
// "" is no scrape; "sim" is <target's scheme://host:port>/metrics (the
// built-in simulator's when the run starts one); anything else must be an
// http(s) URL.
func ScrapeURL(setting, target string) (string, error) {
	switch setting {
	case "":
		return "", nil
	case ScrapeSim:
		u, err := url.Parse(target)
		if err != nil {
			return "", fmt.Errorf("target %q: %w", secret.URL(target), secret.New(secret.URLValues(target)...).Error(err))
		}
		return (&url.URL{Scheme: u.Scheme, User: u.User, Host: u.Host, Path: "/metrics"}).String(), nil
	}
	u, err := url.Parse(setting)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not a URL; want the server's metrics URL, e.g. http://127.0.0.1:8000/metrics, or %q for the built-in simulator", secret.URL(setting), ScrapeSim)
	}
	return setting, nil
}

// ScrapeConfig says what to scrape and where to keep it.
type ScrapeConfig struct {
	// URL is the server's Prometheus endpoint.
	URL string
	// Path is the file the series stream to, one JSON object a line:
	// {"t_ns": offset from Origin, "name": ..., "value": ...}.
	Path string
	// Origin is the run's time origin; scraping starts there.
	Origin time.Time
	// Interval defaults to ScrapeInterval.
	Interval time.Duration
	// Logf receives the first error, once; nil discards it.
	Logf func(format string, a ...any)
	// Redact, when set, masks secrets in each series name before it is
	// written: label values are the server's to choose, and a server may
	// quote what it was sent.
	Redact func(string) string
	// Client defaults to a client with a 5 s timeout.
	Client *http.Client
}

// Scraper scrapes a server's metrics in the background until Stop.
type Scraper struct {
	cfg    ScrapeConfig
	f      *os.File
	bw     *bufio.Writer
	enc    *json.Encoder
	cancel context.CancelFunc
	done   chan struct{}

	warned bool // an error was logged
	found  bool // a kept metric was seen
	mu     sync.Mutex
	n      int64
}

// sample is one line of the server metrics file.
type sample struct {
	TNS   int64   `json:"t_ns"`
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// StartScrape starts scraping cfg.URL every interval from cfg.Origin on. A
// scrape that fails is logged once and never stops the run; a file that
// cannot be created is logged and nothing is scraped.
func StartScrape(ctx context.Context, cfg ScrapeConfig) *Scraper {
	if cfg.Interval <= 0 {
		cfg.Interval = ScrapeInterval
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 5 * time.Second}
	}
	s := &Scraper{cfg: cfg, done: make(chan struct{})}
	f, err := os.Create(cfg.Path)
	if err != nil {
		cfg.Logf("scrape-metrics: %v; the server's metrics are not kept", err)
		close(s.done)
		return s
	}
	s.f, s.bw = f, bufio.NewWriter(f)
	s.enc = json.NewEncoder(s.bw)
	s.enc.SetEscapeHTML(false)
	ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go s.run(ctx)
	return s
}

func (s *Scraper) run(ctx context.Context) {
	defer close(s.done)
	if wait := time.Until(s.cfg.Origin); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	tick := time.NewTicker(s.cfg.Interval)
	defer tick.Stop()
	for {
		if err := s.scrape(ctx); err != nil && ctx.Err() == nil && !s.warned {
			s.warned = true
			s.cfg.Logf("scrape-metrics %s: %v; the run goes on (further errors are not shown)", secret.URL(s.cfg.URL), secret.New(secret.URLValues(s.cfg.URL)...).Error(err))
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// scrape reads the endpoint once and appends the kept series.
func (s *Scraper) scrape(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.cfg.URL, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1")
	t0 := time.Now()
	resp, err := s.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	fams, err := ParseText(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	// The server read its gauges somewhere between sending and receiving.
	t1 := time.Now()
	tns := int64(t0.Sub(s.cfg.Origin) + t1.Sub(t0)/2)
	kept := Keep(fams)
	if len(kept) == 0 && !s.found {
		return fmt.Errorf("none of the queue, running-requests or KV-cache metrics of vLLM, SGLang or TGI are there")
	}
	s.found = true
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range kept {
		name := k.Name
		if s.cfg.Redact != nil {
			name = s.cfg.Redact(name)
		}
		if err := s.enc.Encode(sample{TNS: max(tns, 0), Name: name, Value: k.Value}); err != nil {
			return err
		}
		s.n++
	}
	return s.bw.Flush()
}

// Samples counts the samples written so far.
func (s *Scraper) Samples() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

// Stop ends the scrape and closes the file. A nil Scraper stops as a no-op.
func (s *Scraper) Stop() {
	if s == nil {
		return
	}
	if s.cancel != nil {
		s.cancel()
	}
	<-s.done
	if s.f == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.bw.Flush()
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.cfg.Logf("scrape-metrics: %v", err)
	}
	s.f = nil
}

// ParseText parses the Prometheus text exposition format.
func ParseText(r io.Reader) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("parse metrics: %w", err)
	}
	return fams, nil
}

// Series is one kept sample. Name is the metric's name, with its labels
// (name{k="v",...}) when the metric has more than one series.
type Series struct {
	Name  string
	Value float64
}

// Keep picks the ServerMetrics out of parsed families, in a stable order.
func Keep(fams map[string]*dto.MetricFamily) []Series {
	var names []string
	for _, ns := range ServerMetrics {
		names = append(names, ns...)
	}
	sort.Strings(names)
	var out []Series
	for _, name := range names {
		fam := fams[name]
		if fam == nil {
			continue
		}
		for _, m := range fam.GetMetric() {
			v, ok := value(m)
			if !ok {
				continue
			}
			n := name
			if len(fam.GetMetric()) > 1 {
				n += labels(m.GetLabel())
			}
			out = append(out, Series{Name: n, Value: v})
		}
	}
	return out
}

func value(m *dto.Metric) (float64, bool) {
	var v float64
	switch {
	case m.Gauge != nil:
		v = m.GetGauge().GetValue()
	case m.Counter != nil:
		v = m.GetCounter().GetValue()
	case m.Untyped != nil:
		v = m.GetUntyped().GetValue()
	default:
		return 0, false
	}
	return v, !math.IsNaN(v) && !math.IsInf(v, 0)
}

func labels(ls []*dto.LabelPair) string {
	ls = slices.Clone(ls)
	sort.Slice(ls, func(i, j int) bool { return ls[i].GetName() < ls[j].GetName() })
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = fmt.Sprintf("%s=%q", l.GetName(), l.GetValue())
	}
	return "{" + strings.Join(parts, ",") + "}"
}
