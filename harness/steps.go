package harness

// The steps of a run, in the order run calls them. Each takes what it needs
// and returns what the later steps use; none reads back what another set.

import (
	"context"
	"errors"
	"fmt"
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

// applyOptions applies opts over the defaults.
func applyOptions(opts []Option) (options, error) {
	o := options{logf: func(string, ...any) {}, version: "dev"}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return options{}, configErr(err)
		}
	}
	return o, nil
}

// resolveCredentials reads the API key (if the profile names one) and
// returns it with the redactor that masks it and the profile's other
// secrets. Its error is a *ConfigError, already masked.
func resolveCredentials(p profiles.Profile, getenv func(string) (string, bool)) (string, *secret.Redactor, error) {
	red := secret.New(p.Secrets()...)
	apiKey, err := readAPIKey(p, getenv)
	if err != nil {
		return "", nil, maskError(red, configErr(err))
	}
	if apiKey != "" {
		red = secret.New(append(p.Secrets(), apiKey)...)
	}
	return apiKey, red, nil
}

// maskedLog is logf with red masking every line.
func maskedLog(logf func(format string, a ...any), red *secret.Redactor) func(format string, a ...any) {
	return func(format string, a ...any) { logf("%s", red.String(fmt.Sprintf(format, a...))) }
}

// resolveProtocol is the protocol the client speaks and the server
// protocols the built-in simulator offers (the generic one added when the
// profile defines it and there is no target).
func resolveProtocol(p profiles.Profile) (targets.Protocol, []targets.ServerProtocol, error) {
	servers := apis.Servers()
	if p.API != "generic" {
		proto, err := apis.Client(p.API)
		if err != nil {
			return nil, nil, configErr(err)
		}
		return proto, servers, nil
	}
	proto, err := generic.New(p.Generic)
	if err != nil {
		return nil, nil, configErr(err)
	}
	if p.Target == "" {
		gs, err := generic.NewServer(p.Generic)
		if err != nil {
			return nil, nil, configErr(err)
		}
		servers = append(servers, gs)
	}
	return proto, servers, nil
}

// resolveTokenizer is the tokenizer that builds the prompts and counts the
// tokens that come back.
func resolveTokenizer(p profiles.Profile) (tokenizer.Tokenizer, error) {
	tok, err := tokenizer.Get(localTokenizer(p.Tokenizer))
	if err != nil {
		return nil, configErr(fmt.Errorf("tokenizer: %w", err))
	}
	return tok, nil
}

// work is what the run sends and, for open-loop runs, when.
type work struct {
	src   loadgen.Source
	pacer vegeta.Pacer // nil for a closed loop
	// about describes the load in a few words, for the log and the summary.
	about string
}

// buildWorkload builds the run's requests from p; a trace or stages may set
// p's request count or duration, which the later steps read.
func buildWorkload(p *profiles.Profile, tok tokenizer.Tokenizer) (work, error) {
	builder, err := prompt.New(tok)
	if err != nil {
		return work{}, err
	}
	src, pacer, err := workload(p, builder)
	if err != nil {
		return work{}, configErr(err)
	}
	return work{src: src, pacer: pacer, about: describeLoad(*p, src)}, nil
}

// schedule is the runner's options: how long, how many, at what pace or
// with how many users, which shard, when to start.
func schedule(p profiles.Profile, wl work, tok tokenizer.Tokenizer, stopNow <-chan struct{}) ([]loadgen.Option, error) {
	ropts := []loadgen.Option{loadgen.WithDuration(p.Duration), loadgen.WithRequests(p.Requests),
		loadgen.WithWarmup(p.Warmup), loadgen.WithDrainTimeout(p.DrainTimeout), loadgen.WithCounter(tok)}
	ropts = append(ropts, loadgen.WithWarmupRequests(p.WarmupRequests), loadgen.WithStopNow(stopNow))
	if shard, shards, _ := p.ShardOf(); shards > 1 {
		ropts = append(ropts, loadgen.WithShard(shard, shards))
	}
	if at, _ := p.StartTime(); !at.IsZero() {
		ropts = append(ropts, loadgen.WithStartAt(at))
	}
	switch {
	case wl.pacer != nil:
		ropts = append(ropts, loadgen.WithPacer(wl.pacer), loadgen.WithMaxConcurrency(p.MaxConcurrency))
	case len(p.Stages) > 0:
		stages, _ := loadgen.ParseStages(p.Stages)
		ropts = append(ropts, loadgen.WithUserStages(stages))
	default:
		ropts = append(ropts, loadgen.WithUsers(p.Concurrency))
	}
	if wl.pacer == nil && p.ThinkTime != "" && p.Turns == "" {
		think, err := p.ParseDist("think-time", p.ThinkTime)
		if err != nil {
			return nil, configErr(fmt.Errorf("think-time: %w", err))
		}
		ropts = append(ropts, loadgen.WithThinkTime(think, p.Seed))
	}
	return ropts, nil
}

// judging is how the run's records are judged: its SLOs, the goodput check
// that marks each record, and (--abort-on-fail) the watch over a sliding
// window that stops a run whose SLO is lost.
type judging struct {
	slos          []analysis.SLO
	goodput       *analysis.GoodputSLO
	fromScheduled bool
	watch         *analysis.Watch // nil unless --abort-on-fail with SLOs
	window        time.Duration
}

// parseJudging reads the profile's SLOs and goodput.
func parseJudging(p profiles.Profile) (judging, error) {
	slos, err := analysis.ParseSLOs(p.SLO)
	if err != nil {
		return judging{}, configErr(err)
	}
	gp, err := analysis.ParseGoodput(p.Goodput)
	if err != nil {
		return judging{}, configErr(err)
	}
	j := judging{slos: slos, fromScheduled: p.LatencyFrom == "scheduled", window: abortWindow}
	j.goodput = gp.WithLatencyFromScheduled(j.fromScheduled)
	if p.Duration > 0 {
		// Short runs get a shorter window, so a lost SLO still stops them.
		j.window = min(max(p.Duration/4, 5*time.Second), abortWindow)
	}
	if p.AbortOnFail && len(slos) > 0 {
		j.watch = analysis.NewWatch(slos, analysis.WatchOptions{Window: j.window, Grace: p.Warmup + j.window, LatencyFromScheduled: j.fromScheduled})
	}
	return j, nil
}

// target is where the load goes.
type target struct {
	url       string
	simulated bool // the built-in simulator, started for this run
	sim       *results.SimInfo
}

// startTarget is the profile's target (its API path joined when no
// endpoint is given), or the built-in simulator started on a local port
// when there is none; stop shuts the simulator down.
func startTarget(ctx context.Context, p profiles.Profile, proto targets.Protocol, servers []targets.ServerProtocol, logf func(string, ...any)) (tgt target, stop func(), err error) {
	if p.Target != "" {
		tgt := target{url: p.Target}
		if p.Endpoint == "" {
			var note string
			if tgt.url, note = joinTarget(p.Target, proto.Path(sampleRequest(p)), p.API); note != "" {
				logf("%s", note)
			}
		}
		return tgt, func() {}, nil
	}
	cfg, err := p.SimConfig()
	if err != nil {
		return target{}, nil, configErr(err)
	}
	srv, err := sim.NewFromConfig(cfg, servers...)
	if err != nil {
		return target{}, nil, configErr(err)
	}
	l, err := srv.Listen("127.0.0.1:0")
	if err != nil {
		return target{}, nil, err
	}
	stop = func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), simShutdown)
		defer cancel()
		l.Close(sctx)
	}
	logf("no --target given: started the built-in simulator at %s (%s)", l.URL, describeSim(cfg))
	return target{url: l.URL, simulated: true, sim: simInfo(cfg, srv, p.SimPresetPath())}, stop, nil
}

// newClient is the client that sends the requests to url in proto, with
// the profile's headers, key, timeouts and TLS settings.
func newClient(p profiles.Profile, proto targets.Protocol, url, apiKey string) (*targets.Client, error) {
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
	client, err := targets.NewClient(url, proto, copts...)
	if err != nil {
		return nil, configErr(err)
	}
	return client, nil
}

// readyToSend checks that the run was not interrupted yet and that the
// target accepts connections.
func readyToSend(ctx context.Context, url string) error {
	if ctx.Err() != nil {
		return errors.New("interrupted before the run started; nothing was sent")
	}
	return reachable(ctx, url)
}

// observers watch the run from outside: the live monitor (and its
// Prometheus exporter) and the scrape of the server's own metrics.
type observers struct {
	mon       *monitor.Monitor  // nil without a live view or metrics-addr
	exporter  *monitor.Exporter // nil without metrics-addr; Close is nil-safe
	scrapeURL string            // "" without scrape-metrics
}

// startObservers resolves the scrape URL against url and serves the
// monitor's metrics at metrics-addr; the caller closes the exporter.
func startObservers(p profiles.Profile, url string, o options) (observers, error) {
	scrapeURL, err := monitor.ScrapeURL(p.ScrapeMetrics, url)
	if err != nil {
		return observers{}, configErr(fmt.Errorf("scrape-metrics: %w", err))
	}
	obs := observers{mon: o.monitor, scrapeURL: scrapeURL}
	if obs.mon == nil && p.MetricsAddr != "" {
		obs.mon = monitor.New()
	}
	if p.MetricsAddr != "" {
		if obs.exporter, err = obs.mon.Serve(p.MetricsAddr); err != nil {
			return observers{}, configErr(fmt.Errorf("metrics-addr: %w", err))
		}
		o.logf("Prometheus metrics at %s while the run lasts", obs.exporter.URL())
	}
	return obs, nil
}

// runDir is the run's directory: requests.jsonl open for writing and the
// run.json written when the run starts and again when it ends.
type runDir struct {
	path string
	w    *results.Writer
	info results.RunInfo
}

// openRunDir creates the run directory and writes run.json with status
// running.
func openRunDir(p profiles.Profile, version string, tgt target) (*runDir, error) {
	dir := p.Out
	if dir == "" {
		dir = defaultOutDir(p.Name, time.Now(), "")
	}
	w, err := results.Create(dir)
	if err != nil {
		return nil, err
	}
	info := results.RunInfo{
		Tool: "streamgauge", Version: version, Start: time.Now().UTC(),
		Profile: p.Redacted(), Target: secret.URL(tgt.url), API: p.API,
		Simulated: tgt.simulated, Simulator: tgt.sim, Seed: p.Seed, Shard: shardName(p),
		Status: results.StatusRunning, PlannedRequests: plannedRequests(p),
	}
	if err := results.WriteJSON(dir, results.RunFile, info); err != nil {
		w.Close()
		return nil, err
	}
	return &runDir{path: dir, w: w, info: info}, nil
}

// fail closes a run directory whose run never started, marking run.json
// failed so it does not claim to be running; it returns err.
func (d *runDir) fail(err error) error {
	d.w.Close()
	d.info.End = time.Now().UTC()
	d.info.Status = results.StatusFailed
	results.WriteJSON(d.path, results.RunFile, d.info)
	return err
}

// newRunner is the runner that sends wl through client and hands every
// record to the goodput check, requests.jsonl, the accumulator returned,
// the extra sinks, the SLO watch and the monitor, in that order.
func newRunner(client *targets.Client, wl work, ropts []loadgen.Option, j judging, w *results.Writer, obs observers, extra []loadgen.Sink) (*loadgen.Runner, *analysis.Accumulator, error) {
	acc := analysis.NewAccumulator(analysis.WithLatencyFromScheduled(j.fromScheduled))
	// The goodput check marks slo_ok on each record before it is written.
	sinks := append(tee{j.goodput, w, acc}, extra...)
	if j.watch != nil {
		sinks = append(sinks, j.watch)
	}
	var doer loadgen.Doer = client
	if obs.mon != nil {
		doer, sinks = obs.mon.Doer(client), append(sinks, obs.mon)
	}
	runner, err := loadgen.New(doer, wl.src, sinks, ropts...)
	if err != nil {
		return nil, nil, configErr(err)
	}
	return runner, acc, nil
}

// outcome is how the load went.
type outcome struct {
	stats    *loadgen.Stats
	runErr   error // the runner's error
	closeErr error // closing requests.jsonl
	aborted  bool  // stopped by --abort-on-fail
	lost     []analysis.SLOResult
}

// execute sends the load, watching the SLOs and scraping the server's
// metrics meanwhile, then stops the observers and closes requests.jsonl.
func execute(ctx context.Context, p profiles.Profile, runner *loadgen.Runner, j judging, obs observers, d *runDir, logf func(string, ...any), red *secret.Redactor) outcome {
	// The monitor's clock and the server metrics' offsets start here, a few
	// µs before the runner's own start (run.json's start, exactly).
	origin := time.Now()
	if at, _ := p.StartTime(); !at.IsZero() {
		origin = origin.Add(at.Sub(origin))
	}
	if obs.mon != nil {
		obs.mon.Begin(origin, monitor.Plan{Duration: p.Duration, Requests: p.Requests})
	}
	var scraper *monitor.Scraper
	if obs.scrapeURL != "" {
		scraper = monitor.StartScrape(ctx, monitor.ScrapeConfig{URL: obs.scrapeURL, Path: filepath.Join(d.path, analysis.ServerMetricsFile), Origin: origin, Logf: logf, Redact: red.String})
	}
	runCtx, abort := context.WithCancelCause(ctx)
	defer abort(nil)
	var lost chan []analysis.SLOResult
	if j.watch != nil {
		lost = make(chan []analysis.SLOResult, 1)
		go watchSLOs(runCtx, j.watch, min(j.window/6, abortEvery), runner.Scheduled(), abort, lost)
	}
	stats, runErr := runner.Run(runCtx)
	out := outcome{stats: stats, runErr: runErr}
	if out.aborted = errors.Is(context.Cause(runCtx), errSLOLost) && ctx.Err() == nil; out.aborted {
		stats.Interrupted = false
		out.lost = <-lost
	}
	scraper.Stop()
	obs.exporter.Close()
	if obs.mon != nil {
		obs.mon.End()
	}
	out.closeErr = closeWriter(d.w, stats.Unwritten)
	return out
}

// finish writes run.json's end: the runner's start (the origin of every
// *_ns offset in the records, kept exactly so offsets convert to
// wall-clock times), the end and the status. It returns the run's error,
// which is the write's when the run had none.
func (d *runDir) finish(out outcome) error {
	d.info.Start = out.stats.Start.UTC()
	d.info.End = time.Now().UTC()
	d.info.Interrupted = out.stats.Interrupted
	d.info.Status = endStatus(out.stats.Interrupted, out.aborted, out.runErr != nil || out.closeErr != nil)
	if err := results.WriteJSON(d.path, results.RunFile, d.info); err != nil && out.runErr == nil {
		return err
	}
	return out.runErr
}

// summarise computes the run's summary, judges its SLOs and logs the
// run's warnings.
func summarise(p profiles.Profile, acc *analysis.Accumulator, wl work, j judging, tgt target, client *targets.Client, dir string, out outcome, logf func(string, ...any)) (*Result, error) {
	var elapsed time.Duration
	if out.stats.Interrupted || out.aborted {
		elapsed = out.stats.End.Sub(out.stats.Start)
	}
	_, shards, _ := p.ShardOf()
	sum, err := acc.Summary(analysis.RunMeta{Sent: int64(out.stats.Sent), RequestedRate: requestedRate(p, wl.pacer, elapsed), OpenLoop: wl.pacer != nil,
		CPUSeconds: out.stats.CPU.Seconds(), CPUIncludesServer: tgt.simulated,
		Load: wl.about, Shards: shards, MaxConcurrency: p.MaxConcurrency, CapWaits: int64(out.stats.CapWaits)})
	if err != nil {
		return nil, err
	}
	if sum.Failures != nil {
		sum.Failures.URL = secret.URL(client.URL(sampleRequest(p)))
	}
	res := &Result{Dir: dir, Summary: sum, Stats: out.stats, Target: secret.URL(tgt.url), Simulated: tgt.simulated}
	analysis.ApplySLOs(sum, j.slos)
	if out.aborted {
		res.Lost = out.lost
		sum.Pass = false
		logf("an SLO was lost; the run stopped early (--abort-on-fail)")
	}
	for _, w := range warnings(sum, out.stats) {
		logf("warning: %s", w)
	}
	warnRepeatedPrompts(p, sum, logf)
	return res, nil
}

// verdict is the error Run returns for a run that wrote its summary: the
// run's own error, closing requests.jsonl, an interruption, or every
// request failed.
func verdict(res *Result, out outcome, runErr error) error {
	dir, sum := res.Dir, res.Summary
	switch {
	case runErr != nil:
		return fmt.Errorf("run %s: %w", dir, runErr)
	case out.closeErr != nil:
		return fmt.Errorf("run %s: %w", dir, out.closeErr)
	case out.stats.Interrupted:
		return fmt.Errorf("run interrupted; %d finished requests are in %s", out.stats.Recorded, dir)
	case sum.Requests.OK == 0 && sum.Requests.Failed > 0 && !out.aborted:
		return fmt.Errorf("every request failed (%s); see %s", failedBecause(sum), filepath.Join(dir, results.RequestsFile))
	}
	return nil
}
