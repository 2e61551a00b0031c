// Package harness carries out a run that a profile describes: it builds the
// workload and the schedule, starts the built-in simulator when there is no
// target, sends the load, writes the run directory and summarises it. The
// command line and Go programs (a gate inside go test) use it alike; it
// prints nothing and reads no environment unless told to.
package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/internal/secret"
	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/loadgen/prompt"
	"github.com/streamgauge/streamgauge/loadgen/tokenizer"
	"github.com/streamgauge/streamgauge/monitor"
	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/apis"
	"github.com/streamgauge/streamgauge/targets/generic"
	"github.com/streamgauge/streamgauge/targets/sim"
)

// GCPercent is the garbage-collection target `streamgauge run` sets for its
// process (unless GOGC is set): the heap may grow to 5x the live data, about
// 100-300 MiB, between collections. The tokenizer's vocabulary makes a
// 20-60 MiB live heap that every cycle scans, and frames read during a cycle
// were measured late by tens of ms on 2 cores; collecting less often keeps
// the readers on time. Run does not set it (it is the process's to choose):
// a Go program embedding a run sets it with debug.SetGCPercent.
const GCPercent = 400

// ConfigError is a run that cannot start because of its settings (exit 2).
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

func configErr(err error) error { return &ConfigError{Err: err} }

// Result is a finished (or cut short) run.
type Result struct {
	// Dir is the run directory.
	Dir     string
	Summary *analysis.Summary
	Stats   *loadgen.Stats
	// Target is the URL the load went to; Simulated is true when it was
	// the built-in simulator.
	Target    string
	Simulated bool
	// Lost holds the SLOs that stopped the run early (--abort-on-fail),
	// judged over the sliding window; Summary.SLO holds the final verdicts.
	Lost []analysis.SLOResult
}

// Pass reports whether every SLO of the run held (true when there are none).
func (r *Result) Pass() bool { return r.Summary.Pass && len(r.Lost) == 0 }

type options struct {
	logf    func(format string, a ...any)
	getenv  func(string) (string, bool)
	version string
	sinks   []loadgen.Sink
	monitor *monitor.Monitor
}

// Option configures Run.
type Option func(*options) error

// WithLog receives one-line notices (the simulator's address, the run
// directory, warnings).
func WithLog(logf func(format string, a ...any)) Option {
	return func(o *options) error { o.logf = logf; return nil }
}

// WithGetenv lets Run read the API key named by the profile's api-key-env.
// Without it, a profile that names a key variable is a configuration error.
func WithGetenv(getenv func(string) (string, bool)) Option {
	return func(o *options) error { o.getenv = getenv; return nil }
}

// WithVersion sets the tool version written to run.json.
func WithVersion(v string) Option {
	return func(o *options) error { o.version = v; return nil }
}

// WithSink adds a sink that sees every record as it is written (a live view).
func WithSink(s loadgen.Sink) Option {
	return func(o *options) error { o.sinks = append(o.sinks, s); return nil }
}

// WithMonitor feeds m the run's sends and records and starts its clock when
// the load starts, for a live view. Without it, a run with metrics-addr
// uses a monitor of its own.
func WithMonitor(m *monitor.Monitor) Option {
	return func(o *options) error { o.monitor = m; return nil }
}

// Run carries out the run p describes. p must be valid (profiles.Validate).
// It returns a Result whenever a run directory was written, even with an
// error (an interrupted run, every request failed); a *ConfigError means
// the settings were wrong and nothing ran.
//
// Nothing it writes, logs or returns holds a secret: run.json has the
// profile's Redacted form, and every message (log lines, errors, the
// requests' error messages) has the API key, every header value not on the
// harmless allow-list and the URLs' credentials masked.
func Run(ctx context.Context, p profiles.Profile, opts ...Option) (*Result, error) {
	o := options{logf: func(string, ...any) {}, version: "dev"}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, configErr(err)
		}
	}
	red := secret.New(p.Secrets()...)
	apiKey, err := readAPIKey(p, o.getenv)
	if err != nil {
		return nil, maskError(red, configErr(err))
	}
	if apiKey != "" {
		red = secret.New(append(p.Secrets(), apiKey)...)
	}
	logf := o.logf
	o.logf = func(format string, a ...any) { logf("%s", red.String(fmt.Sprintf(format, a...))) }
	res, err := run(ctx, p, o, apiKey, red)
	return res, maskError(red, err)
}

// readAPIKey reads the key api-key-file or api-key-env names ("" if none).
func readAPIKey(p profiles.Profile, getenv func(string) (string, bool)) (string, error) {
	if p.APIKeyFile != "" {
		b, err := p.ReadFile(p.APIKeyFile)
		if err != nil {
			return "", fmt.Errorf("api-key-file: %w", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		key := strings.TrimSpace(line)
		if key == "" {
			return "", fmt.Errorf("api-key-file %s: the file is empty", p.APIKeyFile)
		}
		return key, nil
	}
	if p.APIKeyEnv != "" {
		var k string
		var ok bool
		if getenv != nil {
			k, ok = getenv(p.APIKeyEnv)
		}
		if !ok || k == "" {
			return "", fmt.Errorf("api-key-env: environment variable %s is not set", p.APIKeyEnv)
		}
		return k, nil
	}
	return "", nil
}

// maskError masks secrets in err's message; a *ConfigError stays one.
func maskError(red *secret.Redactor, err error) error {
	if ce, ok := err.(*ConfigError); ok {
		return &ConfigError{Err: red.Error(ce.Err)}
	}
	return red.Error(err)
}

// run is Run once the options are applied and the API key is read; red
// masks the run's secrets in what the server sends back to be kept.
func run(ctx context.Context, p profiles.Profile, o options, apiKey string, red *secret.Redactor) (*Result, error) {
	var err error
	var proto targets.Protocol
	servers := apis.Servers()
	if p.API == "generic" {
		gp, err := generic.New(p.Generic)
		if err != nil {
			return nil, configErr(err)
		}
		proto = gp
		if p.Target == "" {
			gs, err := generic.NewServer(p.Generic)
			if err != nil {
				return nil, configErr(err)
			}
			servers = append(servers, gs)
		}
	} else if proto, err = apis.Client(p.API); err != nil {
		return nil, configErr(err)
	}
	tok, err := tokenizer.Get(localTokenizer(p.Tokenizer))
	if err != nil {
		return nil, configErr(fmt.Errorf("tokenizer: %w", err))
	}
	builder, err := prompt.New(tok)
	if err != nil {
		return nil, err
	}
	src, pacer, err := workload(&p, builder)
	if err != nil {
		return nil, configErr(err)
	}

	target := p.Target
	simulated := target == ""
	if simulated {
		cfg, err := p.SimConfig()
		if err != nil {
			return nil, configErr(err)
		}
		srv, err := sim.NewFromConfig(cfg, servers...)
		if err != nil {
			return nil, configErr(err)
		}
		l, err := srv.Listen("127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			l.Close(sctx)
		}()
		target = l.URL
		o.logf("no --target given: started the built-in simulator at %s (%s)", target, describeSim(cfg))
	}

	conns := max(p.Concurrency, p.MaxConcurrency, 64)
	copts := []targets.Option{targets.WithEndpoint(p.Endpoint), targets.WithTimeout(p.Timeout), targets.WithConnections(conns),
		targets.WithTimeouts(targets.Timeouts{Connect: p.ConnectTimeout, FirstByte: p.TTFBTimeout, FirstToken: p.TTFTTimeout, Idle: p.IdleTimeout}),
		targets.WithTLS(p.Insecure, p.CACert), targets.WithMaxFrameBytes(p.MaxFrameBytes)}
	for _, h := range p.Headers {
		k, val, _ := strings.Cut(h, ":")
		copts = append(copts, targets.WithHeader(strings.TrimSpace(k), strings.TrimSpace(val)))
	}
	// The client masks its own headers, key and URL; these are the rest
	// (the generic protocol's constant headers, the scrape URL's).
	copts = append(copts, targets.WithSecrets(p.Secrets()...))
	if apiKey != "" {
		copts = append(copts, targets.WithAPIKey(apiKey))
	}
	client, err := targets.NewClient(target, proto, copts...)
	if err != nil {
		return nil, configErr(err)
	}
	defer client.CloseIdle()
	if ctx.Err() != nil {
		return nil, errors.New("interrupted before the run started; nothing was sent")
	}
	if err := reachable(ctx, target); err != nil {
		return nil, err
	}
	if src, err = fitToServer(ctx, p, client, src, o.logf); err != nil {
		return nil, err
	}
	scrapeURL, err := monitor.ScrapeURL(p.ScrapeMetrics, target)
	if err != nil {
		return nil, configErr(fmt.Errorf("scrape-metrics: %w", err))
	}
	mon := o.monitor
	if mon == nil && p.MetricsAddr != "" {
		mon = monitor.New()
	}
	var exporter *monitor.Exporter
	if p.MetricsAddr != "" {
		if exporter, err = mon.Serve(p.MetricsAddr); err != nil {
			return nil, configErr(fmt.Errorf("metrics-addr: %w", err))
		}
		defer exporter.Close()
		o.logf("Prometheus metrics at %s while the run lasts", exporter.URL())
	}

	outDir := p.Out
	if outDir == "" {
		outDir = filepath.Join("results", time.Now().UTC().Format("20060102T150405Z")+"-"+safeName(p.Name))
	}
	w, err := results.Create(outDir)
	if err != nil {
		return nil, err
	}
	info := results.RunInfo{
		Tool: "streamgauge", Version: o.version, Start: time.Now().UTC(),
		Profile: p.Redacted(), Target: secret.URL(target), API: p.API,
		Simulated: simulated, Seed: p.Seed, Shard: shardName(p),
		Status: results.StatusRunning, PlannedRequests: plannedRequests(p),
	}
	if err := results.WriteJSON(outDir, results.RunFile, info); err != nil {
		w.Close()
		return nil, err
	}

	slos, err := analysis.ParseSLOs(p.SLO)
	if err != nil {
		w.Close()
		return nil, configErr(err)
	}
	gp, err := analysis.ParseGoodput(p.Goodput)
	if err != nil {
		w.Close()
		return nil, configErr(err)
	}
	fromScheduled := p.LatencyFrom == "scheduled"
	gp = gp.WithLatencyFromScheduled(fromScheduled)
	acc := analysis.NewAccumulator(analysis.WithLatencyFromScheduled(fromScheduled))
	// The goodput check marks slo_ok on each record before it is written.
	sinks := append(tee{gp, w, acc}, o.sinks...)
	var watch *analysis.Watch
	window := abortWindow
	if p.Duration > 0 {
		// Short runs get a shorter window, so a lost SLO still stops them.
		window = min(max(p.Duration/4, 5*time.Second), abortWindow)
	}
	if p.AbortOnFail && len(slos) > 0 {
		watch = analysis.NewWatch(slos, analysis.WatchOptions{Window: window, Grace: p.Warmup + window, LatencyFromScheduled: fromScheduled})
		sinks = append(sinks, watch)
	}
	ropts := []loadgen.Option{loadgen.WithDuration(p.Duration), loadgen.WithRequests(p.Requests),
		loadgen.WithWarmup(p.Warmup), loadgen.WithDrainTimeout(p.DrainTimeout), loadgen.WithCounter(tok)}
	ropts = append(ropts, loadgen.WithWarmupRequests(p.WarmupRequests))
	shard, shards, _ := p.ShardOf()
	if shards > 1 {
		ropts = append(ropts, loadgen.WithShard(shard, shards))
	}
	if at, _ := p.StartTime(); !at.IsZero() {
		ropts = append(ropts, loadgen.WithStartAt(at))
	}
	switch {
	case pacer != nil:
		ropts = append(ropts, loadgen.WithPacer(pacer), loadgen.WithMaxConcurrency(p.MaxConcurrency))
	case len(p.Stages) > 0:
		stages, _ := loadgen.ParseStages(p.Stages)
		ropts = append(ropts, loadgen.WithUserStages(stages))
	default:
		ropts = append(ropts, loadgen.WithUsers(p.Concurrency))
	}
	if pacer == nil && p.ThinkTime != "" && p.Turns == "" {
		think, err := p.ParseDist(p.ThinkTime)
		if err != nil {
			w.Close()
			return nil, configErr(fmt.Errorf("think-time: %w", err))
		}
		ropts = append(ropts, loadgen.WithThinkTime(think, p.Seed))
	}
	var doer loadgen.Doer = client
	if mon != nil {
		doer, sinks = mon.Doer(client), append(sinks, mon)
	}
	runner, err := loadgen.New(doer, src, sinks, ropts...)
	if err != nil {
		w.Close()
		return nil, configErr(err)
	}
	o.logf("%s: %s, writing %s", p.Name, describeLoad(p), outDir)
	// The monitor's clock and the server metrics' offsets start here, a few
	// µs before the runner's own start (run.json's start, exactly).
	origin := time.Now()
	if at, _ := p.StartTime(); !at.IsZero() {
		origin = origin.Add(at.Sub(origin))
	}
	if mon != nil {
		mon.Begin(origin, monitor.Plan{Duration: p.Duration, Requests: p.Requests})
	}
	var scraper *monitor.Scraper
	if scrapeURL != "" {
		scraper = monitor.StartScrape(ctx, monitor.ScrapeConfig{URL: scrapeURL, Path: filepath.Join(outDir, analysis.ServerMetricsFile), Origin: origin, Logf: o.logf, Redact: red.String})
	}
	runCtx, abort := context.WithCancelCause(ctx)
	defer abort(nil)
	var lost chan []analysis.SLOResult
	if watch != nil {
		lost = make(chan []analysis.SLOResult, 1)
		go watchSLOs(runCtx, watch, min(window/6, abortEvery), runner.Scheduled(), abort, lost)
	}
	stats, runErr := runner.Run(runCtx)
	aborted := errors.Is(context.Cause(runCtx), errSLOLost) && ctx.Err() == nil
	if aborted {
		stats.Interrupted = false
	}
	scraper.Stop()
	exporter.Close()
	if mon != nil {
		mon.End()
	}
	closeErr := w.Close()

	// The runner's own start is the origin of every *_ns offset in the
	// records; keep it exactly so offsets convert to wall-clock times.
	info.Start = stats.Start.UTC()
	info.End = time.Now().UTC()
	info.Interrupted = stats.Interrupted
	info.Status = endStatus(stats.Interrupted, aborted, runErr != nil || closeErr != nil)
	if err := results.WriteJSON(outDir, results.RunFile, info); err != nil && runErr == nil {
		runErr = err
	}
	sum, err := acc.Summary(analysis.RunMeta{Sent: int64(stats.Sent), RequestedRate: requestedRate(p, pacer), OpenLoop: pacer != nil, CPUSeconds: stats.CPU.Seconds(), CPUIncludesServer: simulated})
	if err != nil {
		return nil, err
	}
	res := &Result{Dir: outDir, Summary: sum, Stats: stats, Target: secret.URL(target), Simulated: simulated}
	analysis.ApplySLOs(sum, slos)
	if aborted {
		res.Lost = <-lost
		sum.Pass = false
		o.logf("an SLO was lost; the run stopped early (--abort-on-fail)")
	}
	if err := results.WriteJSON(outDir, results.SummaryFile, sum); err != nil && runErr == nil {
		runErr = err
	}
	if !sum.Requests.Accounted {
		o.logf("warning: %d requests sent but %d recorded; see the errors above", sum.Requests.Sent, sum.Requests.Total)
	}
	if sum.GeneratorSaturated {
		o.logf("warning: generator saturated (lag p99 %.2f ms > %.0f ms): latencies may be understated; lower the rate per process or split the load into shards", sum.Metrics["lag"].P99, analysis.SaturationLagMS)
	}
	switch {
	case runErr != nil:
		return res, fmt.Errorf("run %s: %w", outDir, runErr)
	case closeErr != nil:
		return res, fmt.Errorf("run %s: %w", outDir, closeErr)
	case stats.Interrupted:
		return res, fmt.Errorf("run interrupted; %d finished requests are in %s", stats.Recorded, outDir)
	case sum.Requests.OK == 0 && sum.Requests.Failed > 0 && !aborted:
		return res, fmt.Errorf("every request failed (%s); see %s", kinds(sum.Errors), filepath.Join(outDir, results.RequestsFile))
	}
	return res, nil
}

// plannedRequests is how many records a run that ends normally writes, when
// that is known in advance: a single process sending --requests N single
// requests with nothing else to end the schedule first.
func plannedRequests(p profiles.Profile) uint64 {
	if _, shards, _ := p.ShardOf(); shards > 1 || p.Duration > 0 || p.Turns != "" || p.Trace != "" || len(p.Stages) > 0 {
		return 0
	}
	return p.Requests
}

// endStatus is run.json's status for a run that ended.
func endStatus(interrupted, aborted, failed bool) string {
	switch {
	case interrupted:
		return results.StatusInterrupted
	case aborted:
		return results.StatusAborted
	case failed:
		return results.StatusFailed
	}
	return results.StatusCompleted
}

// abortWindow is --abort-on-fail's sliding window (shorter for runs under
// two minutes), and abortEvery its longest check interval.
const (
	abortWindow = 30 * time.Second
	abortEvery  = 5 * time.Second
)

// errSLOLost is the cause of a run stopped by --abort-on-fail.
var errSLOLost = errors.New("an SLO was lost")

// watchSLOs checks the sliding window every abortEvery while the run
// schedules, and stops the run when an SLO is already lost. It stops
// checking when scheduling ends: the drain's falling throughput is not a
// lost SLO.
func watchSLOs(ctx context.Context, w *analysis.Watch, every time.Duration, scheduled <-chan struct{}, abort context.CancelCauseFunc, lost chan<- []analysis.SLOResult) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-scheduled:
			return
		case <-t.C:
			if failed := w.Check(); len(failed) > 0 {
				lost <- failed
				abort(errSLOLost)
				return
			}
		}
	}
}

// tee hands each record to several sinks.
type tee []loadgen.Sink

func (t tee) Append(r *results.Record) error {
	for _, s := range t {
		if err := s.Append(r); err != nil {
			return err
		}
	}
	return nil
}

// workload builds what to send and, for open-loop runs, when: synthetic
// requests or sessions on an arrival process, or a replayed trace.
func workload(p *profiles.Profile, builder *prompt.Builder) (loadgen.Source, vegeta.Pacer, error) {
	if p.Trace != "" {
		f, err := p.OpenFile(p.Trace)
		if err != nil {
			return nil, nil, fmt.Errorf("trace: %w", err)
		}
		defer f.Close()
		tr, err := loadgen.ReadTrace(f, p.Trace, p.TraceFormat)
		if err != nil {
			return nil, nil, err
		}
		from, to, err := loadgen.ParseWindow(p.TraceWindow)
		if err != nil {
			return nil, nil, err
		}
		if tr, err = tr.Slice(from, to, p.TraceSpeed); err != nil {
			return nil, nil, fmt.Errorf("trace %s: %w", p.Trace, err)
		}
		src := &loadgen.TraceWorkload{Trace: tr, Model: p.Model, Prompts: builder, IgnoreEOS: p.IgnoreEOS, Seed: p.Seed}
		if n := uint64(len(tr.Entries)); p.Requests == 0 || p.Requests > n {
			p.Requests = n
		}
		return src, tr.Pacer(), nil
	}
	in, err := p.ParseDist(p.InputTokens)
	if err != nil {
		return nil, nil, fmt.Errorf("input-tokens: %w", err)
	}
	out, err := p.ParseDist(p.OutputTokens)
	if err != nil {
		return nil, nil, fmt.Errorf("output-tokens: %w", err)
	}
	wl := &loadgen.Workload{Model: p.Model, Input: in, Output: out, Prompts: builder, IgnoreEOS: p.IgnoreEOS, Seed: p.Seed,
		Prefix: loadgen.Prefixes{Groups: p.PrefixGroups, Tokens: p.PrefixTokens, Share: p.PrefixShare, System: p.PrefixSystem}}
	var src loadgen.Source = wl
	if p.Turns != "" {
		if wl.Turns, err = p.ParseDist(p.Turns); err != nil {
			return nil, nil, fmt.Errorf("turns: %w", err)
		}
		if p.ThinkTime != "" {
			if wl.Think, err = p.ParseDist(p.ThinkTime); err != nil {
				return nil, nil, fmt.Errorf("think-time: %w", err)
			}
		}
		src = loadgen.Sessions{Workload: wl}
	}
	if len(p.Stages) > 0 {
		stages, err := loadgen.ParseStages(p.Stages)
		if err != nil {
			return nil, nil, fmt.Errorf("stages: %w", err)
		}
		if loadgen.ClosedStages(stages) {
			return src, nil, nil
		}
		pacer, err := loadgen.NewStagesPacer(stages)
		if err != nil {
			return nil, nil, fmt.Errorf("stages: %w", err)
		}
		if p.Duration == 0 {
			p.Duration = loadgen.TotalDuration(stages)
		}
		return src, pacer, nil
	}
	if p.Rate == 0 {
		return src, nil, nil
	}
	pacer, err := p.Pacer()
	if err != nil {
		return nil, nil, fmt.Errorf("arrival: %w", err)
	}
	return src, pacer, nil
}

// reachable dials the target once so an unreachable server fails fast with
// one clear line instead of a run full of connect errors.
func reachable(ctx context.Context, target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	host := u.Host
	if u.Port() == "" {
		if u.Scheme == "https" {
			host = net.JoinHostPort(u.Hostname(), "443")
		} else {
			host = net.JoinHostPort(u.Hostname(), "80")
		}
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		var oe *net.OpError
		msg := err.Error()
		if errors.As(err, &oe) && oe.Err != nil {
			msg = oe.Err.Error()
		}
		return fmt.Errorf("target %s is unreachable (%s); is the server running, and is --target right?", secret.URL(target), msg)
	}
	return c.Close()
}

func describeLoad(p profiles.Profile) string {
	var b strings.Builder
	if p.Rate > 0 {
		fmt.Fprintf(&b, "%s arrivals at %g req/s", p.Arrival, p.Rate)
		if p.MaxConcurrency > 0 {
			fmt.Fprintf(&b, " (at most %d in flight)", p.MaxConcurrency)
		}
	} else {
		fmt.Fprintf(&b, "%d closed-loop users", p.Concurrency)
	}
	if p.Requests > 0 {
		fmt.Fprintf(&b, ", %d requests", p.Requests)
	}
	if p.Duration > 0 {
		fmt.Fprintf(&b, ", for %s", p.Duration)
	}
	return b.String()
}

func kinds(m map[string]int64) string {
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%d %s", v, k))
	}
	return strings.Join(parts, ", ")
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '-'
	}, s)
}

// requestedRate is the rate the run asked for: --rate, or a trace's mean.
func requestedRate(p profiles.Profile, pacer vegeta.Pacer) float64 {
	if p.Rate > 0 {
		return p.Rate
	}
	if pacer != nil {
		return pacer.Rate(0)
	}
	return 0
}

// describeSim says which simulated server a run drives.
func describeSim(cfg sim.Config) string {
	if cfg.Scheduler == "fixed" {
		return fmt.Sprintf("fixed latencies: ttft %s, itl %s", cfg.TTFT, cfg.ITL)
	}
	return fmt.Sprintf("%s scheduler, %s cost model", cfg.Scheduler, cfg.Preset)
}

// shardName is the run's shard as run.json writes it: "i/N".
func shardName(p profiles.Profile) string {
	i, n, _ := p.ShardOf()
	return fmt.Sprintf("%d/%d", i, n)
}
