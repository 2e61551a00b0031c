// Package harness carries out a run that a profile describes: it builds the
// workload and the schedule, starts the built-in simulator when there is no
// target, sends the load, writes the run directory and summarises it. On
// top of Run it carries out the multi-run commands: a sweep of load levels
// (Sweep), the same sweep on several simulator variants (WhatIf), and
// doctor's probes of this machine's own ceiling against a simulator with
// known timing (Doctor). The command line and Go programs (a gate inside go
// test) use it alike; it prints nothing, installs no signal handler and
// reads no environment unless told to.
package harness

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/internal/plural"
	"github.com/streamgauge/streamgauge/internal/secret"
	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/loadgen/prompt"
	"github.com/streamgauge/streamgauge/monitor"
	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/results"
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
	stopNow <-chan struct{}
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

// WithStopNow ends the run at once when stop is closed (a second Ctrl-C):
// requests in flight are canceled and recorded as such without waiting for
// them, then the summary is written as usual.
func WithStopNow(stop <-chan struct{}) Option {
	return func(o *options) error { o.stopNow = stop; return nil }
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
	o, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	apiKey, red, err := resolveCredentials(p, o.getenv)
	if err != nil {
		return nil, err
	}
	o.logf = maskedLog(o.logf, red)
	res, err := run(ctx, p, o, apiKey, red)
	return res, maskError(red, err)
}

// readAPIKey reads the key api-key-file or api-key-env names ("" if none).
func readAPIKey(p profiles.Profile, getenv func(string) (string, bool)) (string, error) {
	if p.APIKeyFile != "" {
		b, err := p.ReadFile("api-key-file", p.APIKeyFile)
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
// masks the run's secrets in what the server sends back to be kept. It
// calls the steps (steps.go) in order: every setting the profile alone
// decides is checked before the simulator starts, and the run directory is
// created only once the target is known to be reachable.
func run(ctx context.Context, p profiles.Profile, o options, apiKey string, red *secret.Redactor) (*Result, error) {
	proto, servers, err := resolveProtocol(p)
	if err != nil {
		return nil, err
	}
	if err := checkStartAt(p, time.Now()); err != nil {
		return nil, configErr(err)
	}
	tok, err := resolveTokenizer(p)
	if err != nil {
		return nil, err
	}
	wl, err := buildWorkload(&p, tok)
	if err != nil {
		return nil, err
	}
	ropts, err := schedule(p, wl, tok, o.stopNow)
	if err != nil {
		return nil, err
	}
	judge, err := parseJudging(p)
	if err != nil {
		return nil, err
	}
	tgt, stopTarget, err := startTarget(ctx, p, proto, servers, o.logf)
	if err != nil {
		return nil, err
	}
	defer stopTarget()
	client, err := newClient(p, proto, tgt.url, apiKey)
	if err != nil {
		return nil, err
	}
	defer client.CloseIdle()
	if err := readyToSend(ctx, tgt.url); err != nil {
		return nil, err
	}
	// --tokenizer server: fit the prompts on the target's tokenizer,
	// before the run and outside its timing.
	if wl.src, err = fitToServer(ctx, p, client, wl.src, o.logf); err != nil {
		return nil, err
	}
	obs, err := startObservers(p, tgt.url, o)
	if err != nil {
		return nil, err
	}
	defer obs.exporter.Close()
	dir, err := openRunDir(p, o.version, tgt)
	if err != nil {
		return nil, err
	}
	runner, acc, err := newRunner(client, wl, ropts, judge, dir.w, obs, o.sinks)
	if err != nil {
		return nil, dir.fail(err)
	}
	o.logf("%s: %s, writing %s", p.Name, wl.about, dir.path)
	out := execute(ctx, p, runner, judge, obs, dir, o.logf, red)
	runErr := dir.finish(out)
	res, err := summarise(p, acc, wl, judge, tgt, client, dir.path, out, o.logf)
	if err != nil {
		return nil, err
	}
	if err := results.WriteJSON(dir.path, results.SummaryFile, res.Summary); err != nil && runErr == nil {
		runErr = err
	}
	return res, verdict(res, out, runErr)
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

// warnings are the run's caveats, one line each: records missing, requests
// abandoned by the drain, values beyond the histograms' range, a saturated
// generator.
func warnings(sum *analysis.Summary, stats *loadgen.Stats) []string {
	var w []string
	if !sum.Requests.Accounted {
		w = append(w, fmt.Sprintf("%d requests sent but %d recorded; see the errors above", sum.Requests.Sent, sum.Requests.Total))
	}
	if stats.Abandoned > 0 {
		w = append(w, fmt.Sprintf("%s did not end when canceled (still streaming or counting tokens); recorded as canceled without waiting for them", plural.Count(stats.Abandoned, "request")))
	}
	if stats.Unwritten > 0 {
		w = append(w, fmt.Sprintf("%s still being written when the run stopped; %s may lack them", plural.Count(stats.Unwritten, "record"), results.RequestsFile))
	}
	if c := analysis.ClampedWarning(sum); c != "" {
		w = append(w, c)
	}
	if s := analysis.SaturationWarning(sum); s != "" {
		w = append(w, s)
	}
	return w
}

// simShutdown bounds the built-in simulator's graceful shutdown at the end of
// a run: streams still open (a request abandoned by the drain) are cut after
// it, so the run ends within its drain timeout + 2 s.
const simShutdown = 250 * time.Millisecond

// writerClose bounds closing requests.jsonl when records were still being
// written as the run stopped (a write stuck on a stalled sink): the run's
// summary is written without waiting for them.
const writerClose = 250 * time.Millisecond

// closeWriter closes w, waiting at most writerClose when unwritten records
// may still hold it; w is then closed in the background once they end.
func closeWriter(w *results.Writer, unwritten uint64) error {
	if unwritten == 0 {
		return w.Close()
	}
	done := make(chan error, 1)
	go func() { done <- w.Close() }()
	t := time.NewTimer(writerClose)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("%s: %d records were still being written when the run stopped", results.RequestsFile, unwritten)
	}
}

// startAtLate is how far in the past --start-at may be: a start further
// back would fire the schedule's first part at once, every request late.
const startAtLate = time.Second

// checkStartAt refuses a start-at more than startAtLate before now.
func checkStartAt(p profiles.Profile, now time.Time) error {
	at, err := p.StartTime()
	if err != nil || at.IsZero() {
		return nil
	}
	if late := now.Sub(at); late > startAtLate {
		return fmt.Errorf("start-at %s is %s in the past: the whole schedule up to now would be sent at once; give a time in the future (e.g. now+30s: $(date -u -d '+30 sec' +%%Y-%%m-%%dT%%H:%%M:%%SZ)) or drop --start-at", p.StartAt, late.Round(time.Second))
	}
	return nil
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
		return traceWorkload(p, builder)
	}
	return syntheticWorkload(p, builder)
}

// traceWorkload replays the trace p names, cut to its window and speed; the
// trace's length bounds p's request count.
func traceWorkload(p *profiles.Profile, builder *prompt.Builder) (loadgen.Source, vegeta.Pacer, error) {
	f, err := p.OpenFile("trace", p.Trace)
	if err != nil {
		return nil, nil, fmt.Errorf("trace: %w", err)
	}
	defer f.Close()
	tr, err := loadgen.ReadTrace(f, p.Trace, p.TraceFormat)
	if err != nil {
		return nil, nil, err
	}
	if tr, err = tr.Spread(p.TraceSpread, cmp.Or(p.TraceSlot, tr.SlotWidth()), p.Seed); err != nil {
		return nil, nil, fmt.Errorf("trace %s: %w", p.Trace, err)
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

// syntheticWorkload is requests (or sessions, with turns) of the profile's
// token counts, on its stages or arrival process; stages without a
// duration set p's.
func syntheticWorkload(p *profiles.Profile, builder *prompt.Builder) (loadgen.Source, vegeta.Pacer, error) {
	in, err := p.ParseDist("input-tokens", p.InputTokens)
	if err != nil {
		return nil, nil, fmt.Errorf("input-tokens: %w", err)
	}
	out, err := p.ParseDist("output-tokens", p.OutputTokens)
	if err != nil {
		return nil, nil, fmt.Errorf("output-tokens: %w", err)
	}
	wl := &loadgen.Workload{Model: p.Model, Input: in, Output: out, Prompts: builder, IgnoreEOS: p.IgnoreEOS, Seed: p.Seed,
		Prefix: loadgen.Prefixes{Groups: p.PrefixGroups, Tokens: p.PrefixTokens, Share: p.PrefixShare, System: p.PrefixSystem},
		Unique: p.UniquePrompts, Nonce: runNonce()}
	var src loadgen.Source = wl
	if p.Dataset != "" {
		if src, err = datasetSource(p, builder, out, wl.Unique, wl.Nonce); err != nil {
			return nil, nil, err
		}
	}
	if p.Turns != "" {
		if wl.Turns, err = p.ParseDist("turns", p.Turns); err != nil {
			return nil, nil, fmt.Errorf("turns: %w", err)
		}
		if p.ThinkTime != "" {
			if wl.Think, err = p.ParseDist("think-time", p.ThinkTime); err != nil {
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

// failedBecause is the most common failure of a run, in a few words for
// its last line (the table lists the others): "12 × http_4xx: HTTP 404:
// …".
func failedBecause(s *analysis.Summary) string {
	if s.Failures == nil || len(s.Failures.Top) == 0 {
		return kinds(s.Errors)
	}
	top := s.Failures.Top[0]
	const clip = 160
	if len(top.Message) > clip {
		top.Message = strings.ToValidUTF8(top.Message[:clip], "") + "…"
	}
	line := "most often " + top.Line()
	if top.Count == s.Requests.Failed {
		line = top.Line()
	}
	return line
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

// describeSim says which simulated server a run drives.
func describeSim(cfg sim.Config) string {
	if cfg.Scheduler == "fixed" {
		return fmt.Sprintf("fixed latencies: ttft %s, itl %s", cfg.TTFT, cfg.ITL)
	}
	cost, _ := cfg.CostModel()
	if cfg.Cost != nil {
		return fmt.Sprintf("%s scheduler, cost model %s from a preset file", cfg.Scheduler, cost.Name)
	}
	return fmt.Sprintf("%s scheduler, %s cost model", cfg.Scheduler, cost.Name)
}

// simInfo is run.json's account of the simulator cfg set up as srv:
// presetPath is the preset file it read ("" for a built-in preset).
func simInfo(cfg sim.Config, srv *sim.Server, presetPath string) *results.SimInfo {
	if cfg.Scheduler == sim.SchedFixed {
		return &results.SimInfo{Scheduler: cfg.Scheduler, TTFT: cfg.TTFT.String(), ITL: cfg.ITL.String()}
	}
	info := &results.SimInfo{Scheduler: cfg.Scheduler, MaxBatch: cfg.MaxBatch, KVTokens: cfg.KVTokens, PrefixCache: cfg.PrefixCache}
	if cfg.Scheduler == sim.SchedChunked {
		info.MaxStepTokens = cfg.MaxStepTokens
	}
	if st, ok := srv.Engine().(*sim.Stepped); ok {
		info.KVTokens = int(st.KVTokens())
	}
	m, err := cfg.CostModel()
	if err != nil {
		return info
	}
	source := "built-in"
	if cfg.Cost != nil {
		source = presetPath
	}
	info.CostModel = &results.SimCostModel{
		Name: m.Name, Description: m.Description, Source: source,
		Overhead: m.Overhead.String(), LaunchFloor: m.LaunchFloor.String(), DecodeLaunchFloor: m.DecodeLaunchFloor.String(),
		PerToken: m.PerToken.String(), WeightRead: m.WeightRead.String(), PerContextTokenNS: m.PerContextToken, KVTokens: m.KVTokens,
	}
	return info
}

// shardName is the run's shard as run.json writes it: "i/N".
func shardName(p profiles.Profile) string {
	i, n, _ := p.ShardOf()
	return fmt.Sprintf("%d/%d", i, n)
}
