package harness

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/internal/plural"
	"github.com/streamgauge/streamgauge/profiles"
)

// Doctor's defaults.
const (
	// DefaultDoctorTTFT and DefaultDoctorITL are the simulator's fixed
	// timing when the profile sets no sim-ttft / sim-itl.
	DefaultDoctorTTFT = 50 * time.Millisecond
	DefaultDoctorITL  = 10 * time.Millisecond
	// DefaultProbeDuration is each probe's scheduling time.
	DefaultProbeDuration = 5 * time.Second
	// DefaultDoctorBudget bounds the probes' total wall time.
	DefaultDoctorBudget = 2 * time.Minute
	// DefaultMaxTTFTError and DefaultMaxLag are the limits a probe must
	// stay under: ttft error p50 and lag p99.
	DefaultMaxTTFTError = time.Millisecond
	DefaultMaxLag       = 5 * time.Millisecond
	// MaxSettle bounds a probe's default warm-up (DoctorOptions.Settle).
	MaxSettle = time.Minute
	// DefaultDoctorPrecision is the search's relative precision: a few
	// bisection steps after the climb.
	DefaultDoctorPrecision = 0.1
)

// maxDoctorProbes bounds a search whatever its budget.
const maxDoctorProbes = 32

// SimServer is a running simulator with the fixed engine that a probe
// drives: its base URL, its CPU time so far (0 when it cannot be read) and
// how to stop it (which closes its truth log).
type SimServer interface {
	URL() string
	CPU() time.Duration
	Stop() error
}

// SimStarter starts the simulator with the fixed engine (every request
// gets ttft, then a token every itl, whatever the load), writing its truth
// log (targets/sim.Truth, one JSON line per request) to truthLog. The
// command line starts `streamgauge serve` as a child process, so the
// client's and the server's CPU are measured apart; tests start one in
// process.
type SimStarter func(ctx context.Context, ttft, itl time.Duration, truthLog string) (SimServer, error)

// DoctorOptions configure Doctor. Zero values take the defaults above.
type DoctorOptions struct {
	// StartSim starts each probe's simulator (required).
	StartSim SimStarter
	// Dir receives each probe's run directory and truth log (required;
	// the caller creates it and decides whether to keep it).
	Dir string
	// TTFT and ITL are the simulator's timing (default: the profile's
	// sim-ttft and sim-itl, else DefaultDoctorTTFT and DefaultDoctorITL).
	TTFT, ITL time.Duration
	// ProbeDuration is each probe's measured scheduling time; Budget
	// bounds the probes' total wall time: no probe starts that would, at
	// the last one's length, end beyond it.
	ProbeDuration, Budget time.Duration
	// Settle is the warm-up each probe runs before its measured window,
	// so the streams in flight reach their steady number (default: one
	// mean stream, ttft + (mean output tokens - 1) x itl, at most
	// MaxSettle). Requests sent in it are left out of the judgement.
	Settle time.Duration
	// MaxTTFTError and MaxLag are the limits: ttft error p50 and (open
	// loop) lag p99 must stay under them.
	MaxTTFTError, MaxLag time.Duration
	// Max bounds the climb (0 = none); Precision is the relative width of
	// the final bracket.
	Max, Precision float64
	// CPUs is the machine's cores for the estimate without the server
	// (default GOMAXPROCS).
	CPUs int
	// LoadAverage, when set, returns the machine's 1-minute load average,
	// recorded before each probe and at the end: other processes that
	// compete for the CPU lower the ceiling.
	LoadAverage func() float64
}

// Prober runs the probe at one level: index counts from 1. An error ends
// the search (a setting that cannot work, an interrupt); a probe that ran
// badly returns its row with Error set instead.
type Prober func(ctx context.Context, index int, level float64) (analysis.DoctorProbe, error)

// Doctor measures how far this machine can drive p's workload before the
// client's own measurement errors exceed the limits: it runs p's workload
// (lengths, arrivals, API) at a series of levels against the simulator
// with fixed, known timing, compares every frame the client timed with
// the simulator's truth log, and searches (analysis.Search: doubling from
// the profile's own rate or concurrency, then bisecting) for the highest
// level whose errors stay under the limits, within the budget.
//
// It returns the result whenever a probe ran, even with an error; a
// *ConfigError means nothing ran. Options are Run's, applied to every
// probe (their log receives the probe lines, not Run's own).
func Doctor(ctx context.Context, p profiles.Profile, do DoctorOptions, opts ...Option) (*analysis.Doctor, error) {
	o, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	d, search, err := planDoctor(p, &do)
	if err != nil {
		return nil, configErr(err)
	}
	d.Version = o.version
	load := func() float64 {
		if do.LoadAverage == nil {
			return 0
		}
		return do.LoadAverage()
	}
	d.LoadStart = load()
	// An interrupted probe is not judged, so its requests in flight are
	// not worth a drain (a probe drains up to 30 s): on ctx's end, or the
	// caller's stop-now, the probe stops at once and its simulator with it.
	stop, finished := make(chan struct{}), make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-ctx.Done():
		case <-o.stopNow: // nil (never) unless the caller gave one
		case <-finished:
			return
		}
		close(stop)
	}()
	// Run's own notices are not doctor's: the probes' lines say it all.
	probeOpts := append(slices.Clip(opts), WithLog(func(string, ...any) {}), WithStopNow(stop))
	probeRun := func(ctx context.Context, i int, level float64) (analysis.DoctorProbe, error) {
		// Each probe starts with the last one's garbage collected, as a
		// run in a fresh process would.
		runtime.GC()
		l, t0 := load(), time.Now()
		pr, err := runProbe(ctx, p, do, d.OpenLoop(), i, level, probeOpts)
		pr.Load1, pr.ElapsedS = l, round3(time.Since(t0).Seconds())
		return pr, err
	}
	o.logf("doctor %s: %s against the simulator (fixed: ttft %s, itl %s), %s probes after %s to settle, budget %s, limits ttft error p50 < %s ms, lag p99 < %s ms",
		p.Name, d.Workload, do.TTFT, do.ITL, do.ProbeDuration, do.Settle.Round(time.Millisecond), do.Budget, analysis.FormatMS(d.Limits.MaxTTFTErrorMS), analysis.FormatMS(d.Limits.MaxLagMS))
	err = searchDoctor(ctx, d, search, do.Budget, probeRun, func(pr *analysis.DoctorProbe) {
		o.logf("probe %d: %s", pr.Index, ProbeLine(d, pr))
	})
	d.LoadEnd = load()
	d.Conclude()
	return d, err
}

// CheckDoctor reports, as a *ConfigError, what Doctor would refuse in p
// and do, without running anything: a caller checks the settings before
// it makes do.Dir or starts a simulator. do.StartSim and do.Dir may be
// unset here.
func CheckDoctor(p profiles.Profile, do DoctorOptions) error {
	if do.StartSim == nil {
		do.StartSim = func(context.Context, time.Duration, time.Duration, string) (SimServer, error) {
			return nil, errors.New("CheckDoctor starts no simulator")
		}
	}
	if do.Dir == "" {
		do.Dir = "."
	}
	if _, _, err := planDoctor(p, &do); err != nil {
		return configErr(err)
	}
	return nil
}

// ProbeLine is one probe's result in a line, as Doctor logs it.
func ProbeLine(d *analysis.Doctor, pr *analysis.DoctorProbe) string {
	verdict := "pass"
	if !pr.Pass {
		verdict = "FAIL: " + pr.Why
	}
	return fmt.Sprintf("%s %s: ttft error p50 %s ms, lag p99 %s ms, client CPU %.0f%%, server CPU %.0f%%: %s",
		analysis.FormatLevel(pr.Level), d.Unit(), analysis.FormatMS(pr.TTFTErrP50), analysis.FormatMS(pr.LagP99),
		100*pr.ClientCores(), 100*pr.ServerCores(), verdict)
}

// planDoctor checks the profile and options, fills the defaults and
// returns the result to fill and the search.
func planDoctor(p profiles.Profile, do *DoctorOptions) (*analysis.Doctor, *analysis.Search, error) {
	var errs []error
	switch {
	case p.Trace != "":
		errs = append(errs, errors.New("trace: doctor probes a synthetic workload at rising rates; a replayed trace sets its own arrivals: give the trace's lengths as --input-tokens/--output-tokens and its peak rate as --rate"))
	case len(p.Stages) > 0:
		errs = append(errs, errors.New("stages: doctor sets each probe's load itself; give the highest stage's rate (--rate) or users (--concurrency)"))
	case p.Arrival == "ramp" || p.Arrival == "sine":
		errs = append(errs, fmt.Errorf("arrival: %s changes the rate within a run; give its peak as --rate with --arrival poisson (or constant, gamma)", p.Arrival))
	case p.API == "generic":
		errs = append(errs, errors.New("api: the simulator process serves the built-in APIs only, not a generic one; probe with an API of the same shape (e.g. --api openai-chat)"))
	}
	if do.StartSim == nil || do.Dir == "" {
		errs = append(errs, errors.New("doctor: StartSim and Dir are required"))
	}
	if do.TTFT == 0 {
		do.TTFT = cmp.Or(p.SimTTFT, DefaultDoctorTTFT)
	}
	if do.ITL == 0 {
		do.ITL = cmp.Or(p.SimITL, DefaultDoctorITL)
	}
	do.ProbeDuration = cmp.Or(do.ProbeDuration, DefaultProbeDuration)
	do.Budget = cmp.Or(do.Budget, DefaultDoctorBudget)
	do.MaxTTFTError = cmp.Or(do.MaxTTFTError, DefaultMaxTTFTError)
	do.MaxLag = cmp.Or(do.MaxLag, DefaultMaxLag)
	if do.Precision == 0 {
		do.Precision = DefaultDoctorPrecision
	}
	if do.CPUs <= 0 {
		do.CPUs = runtime.GOMAXPROCS(0)
	}
	if do.Settle == 0 {
		do.Settle = settleOf(p, do.TTFT, do.ITL)
	}
	for _, c := range []struct {
		name string
		v    time.Duration
	}{{"sim-ttft", do.TTFT}, {"sim-itl", do.ITL}, {"probe-duration", do.ProbeDuration}, {"budget", do.Budget}, {"max-ttft-error", do.MaxTTFTError}, {"max-lag", do.MaxLag}, {"settle", do.Settle}} {
		if c.v < 0 {
			errs = append(errs, fmt.Errorf("%s: %s must not be negative", c.name, c.v))
		}
	}
	if do.Budget < do.ProbeDuration {
		errs = append(errs, fmt.Errorf("budget: %s is shorter than one probe (--probe-duration %s); raise --budget or shorten the probes", do.Budget, do.ProbeDuration))
	}
	d := &analysis.Doctor{Tool: "streamgauge", Name: p.Name, Workload: describeDoctorLoad(p), Mode: "rate",
		SimTTFTMS: ms(do.TTFT), SimITLMS: ms(do.ITL), ProbeS: do.ProbeDuration.Seconds(), SettleS: round3(do.Settle.Seconds()), BudgetS: do.Budget.Seconds(),
		Limits: analysis.DoctorLimits{MaxTTFTErrorMS: ms(do.MaxTTFTError), MaxLagMS: ms(do.MaxLag)},
		CPUs:   do.CPUs, Probes: []analysis.DoctorProbe{}}
	so := analysis.SearchOptions{Max: do.Max, Precision: do.Precision}
	if p.Rate == 0 && p.Concurrency > 0 {
		d.Mode, d.Planned = "users", float64(p.Concurrency)
		so.Start, so.Integer = d.Planned, true
	} else {
		d.Planned = p.Rate
		so.Start = cmp.Or(p.Rate, 1)
		so.Min, so.MinWhy = rateFloorOf(so.Start, do.ProbeDuration, "probe", "--probe-duration")
		// On the levels' own grid (3 significant digits, rounded up), so
		// the descent does not end with a probe a rounding away from the
		// one before.
		so.Min = min(ceil3sig(so.Min), so.Start)
	}
	if so.Max > 0 && so.Max < so.Start {
		// Said in the flags' words, before the search's own check.
		flag := "--rate"
		if so.Integer {
			flag = "--concurrency"
		}
		errs = append(errs, fmt.Errorf("max-level: %s %s is below the first level doctor probes, the planned %s %s (%s); raise --max-level or lower %s",
			analysis.FormatLevel(so.Max), d.Unit(), analysis.FormatLevel(so.Start), d.Unit(), flag, flag))
	}
	search, err := analysis.NewSearch(so)
	if err != nil && !(so.Max > 0 && so.Max < so.Start) {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	// Check a probe's profile once, before anything runs.
	first := probeProfile(p, *do, d.OpenLoop(), so.Start, "http://127.0.0.1:1", "")
	if err := first.Validate(); err != nil {
		return nil, nil, err
	}
	return d, search, nil
}

// ceil3sig rounds v up to 3 significant digits.
func ceil3sig(v float64) float64 {
	if !(v > 0) || math.IsInf(v, 0) {
		return v
	}
	scale := math.Pow(10, 2-math.Floor(math.Log10(v)))
	return math.Ceil(v*scale-1e-9) / scale
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// describeDoctorLoad names what the probes send.
func describeDoctorLoad(p profiles.Profile) string {
	load := fmt.Sprintf("%s arrivals", p.Arrival)
	if p.Rate == 0 && p.Concurrency > 0 {
		load = "closed loop"
	}
	s := fmt.Sprintf("%s, input %s tokens, output %s tokens, %s", p.API, p.InputTokens, p.OutputTokens, load)
	if p.Dataset != "" {
		s += ", prompts from " + p.Dataset
	}
	if p.Turns != "" {
		s += ", sessions of " + p.Turns + " turns"
	}
	return s
}

// probeProfile is p at one level, timed, against target, written to out:
// no warmup, no SLO, no live outputs, no shard, no key (the simulator
// needs none).
func probeProfile(p profiles.Profile, do DoctorOptions, openLoop bool, level float64, target, out string) profiles.Profile {
	p.Target, p.Endpoint, p.Out = target, "", out
	if openLoop {
		p.Rate, p.Concurrency = level, 0
	} else {
		p.Rate, p.Concurrency = 0, int(level)
	}
	// The settle time runs first, as warm-up: a stream lasts a while, so
	// the streams in flight (and the client's work per second) grow for
	// one stream's length before they hold steady; a probe judged on
	// that ramp would pass a load the client cannot carry.
	p.Duration, p.Requests, p.Warmup, p.WarmupRequests = do.Settle+do.ProbeDuration, 0, do.Settle, 0
	p.SLO, p.Goodput, p.AbortOnFail = nil, "", false
	p.Shard, p.Shards, p.StartAt = "", 0, ""
	p.MetricsAddr, p.ScrapeMetrics = "", ""
	p.APIKeyEnv, p.APIKeyFile = "", ""
	p.SimScheduler, p.SimPreset, p.SimMaxBatch, p.SimKVTokens, p.SimMaxStepTokens, p.SimPrefixCache = "", "", 0, 0, 0, false
	p.SimFailRate, p.SimFailKinds, p.SimStall, p.SimTTFT, p.SimITL = 0, "", "", 0, 0
	// A client that falls behind leaves streams open: bound their drain.
	p.DrainTimeout = max(do.ProbeDuration, 30*time.Second, 2*do.Settle)
	return p
}

// settleOf is the default warm-up of a probe of p against a simulator of
// fixed ttft and itl: the length of a stream of p's mean output, at most
// MaxSettle (a profile whose lengths cannot be read here is refused by the
// probe's own check).
func settleOf(p profiles.Profile, ttft, itl time.Duration) time.Duration {
	mean := 1.0
	if d, err := p.ParseDist("output-tokens", p.OutputTokens); err == nil {
		mean = max(d.Mean(), 1)
	}
	return min(ttft+time.Duration((mean-1)*float64(itl)), MaxSettle)
}

// searchDoctor runs probes at the levels search asks for until it ends,
// the budget is spent (no probe starts that would end beyond it, judged
// by the last probe's elapsed time, else its wall time), or ctx is done; it judges each probe,
// calls row with it and adds it to d.
func searchDoctor(ctx context.Context, d *analysis.Doctor, search *analysis.Search, budget time.Duration, probe Prober, row func(*analysis.DoctorProbe)) error {
	var spent, last float64
	for i := 1; ; i++ {
		level, ok := search.Next()
		if !ok {
			d.Outcome = search.Outcome()
			return nil
		}
		if i > maxDoctorProbes {
			d.Outcome = fmt.Sprintf("stopped after %d probes", maxDoctorProbes)
			return nil
		}
		if i > 1 && spent+last > budget.Seconds() {
			pass, fail := search.Bracket()
			d.Outcome = fmt.Sprintf("budget %s spent after %s (highest pass %s, lowest fail %s); a larger --budget narrows it",
				budget, plural.Count(i-1, "probe"), levelOrNone(pass), levelOrNone(fail))
			return nil
		}
		if ctx.Err() != nil {
			d.Interrupted, d.Outcome = true, "interrupted"
			return fmt.Errorf("doctor interrupted after %d probes", i-1)
		}
		pr, err := probe(ctx, i, level)
		if err != nil {
			d.Outcome = "stopped: " + err.Error()
			return err
		}
		if ctx.Err() != nil {
			// Cut short: do not judge it.
			d.Interrupted, d.Outcome = true, "interrupted"
			return fmt.Errorf("doctor interrupted during probe %d", i)
		}
		pr.Index, pr.Level = i, level
		pr.Judge(d.Limits, d.OpenLoop())
		d.Probes = append(d.Probes, pr)
		if row != nil {
			row(&d.Probes[len(d.Probes)-1])
		}
		took := pr.ElapsedS
		if took <= 0 {
			took = pr.WallS
		}
		spent += took
		last = took
		search.Observe(level, pr.Pass)
	}
}

func levelOrNone(v float64) string {
	if v == 0 {
		return "none"
	}
	return analysis.FormatLevel(v)
}

// runProbe starts the simulator, runs the probe's profile against it with
// Run, stops the simulator, and compares what the client timed with the
// truth log.
func runProbe(ctx context.Context, p profiles.Profile, do DoctorOptions, openLoop bool, i int, level float64, opts []Option) (analysis.DoctorProbe, error) {
	pr := analysis.DoctorProbe{Index: i, Level: level}
	tag := fmt.Sprintf("probe-%02d-%s", i, analysis.FormatLevel(level))
	truthLog := filepath.Join(do.Dir, tag+".truth.jsonl")
	dir := filepath.Join(do.Dir, tag)
	srv, err := do.StartSim(ctx, do.TTFT, do.ITL, truthLog)
	if err != nil {
		if ctx.Err() != nil {
			return pr, ctx.Err()
		}
		return pr, fmt.Errorf("start the simulator: %w", err)
	}
	sp := probeProfile(p, do, openLoop, level, srv.URL(), dir)
	cpu0 := srv.CPU()
	res, runErr := Run(ctx, sp, opts...)
	pr.ServerCPUS = round3((srv.CPU() - cpu0).Seconds())
	if err := srv.Stop(); err != nil && runErr == nil {
		runErr = fmt.Errorf("simulator: %w", err)
	}
	var ce *ConfigError
	if errors.As(runErr, &ce) {
		return pr, runErr
	}
	if res == nil {
		if runErr == nil {
			runErr = errors.New("no result")
		}
		pr.Error = runErr.Error()
		return pr, nil
	}
	s := res.Summary
	if runErr != nil && s.Requests.Failed == 0 {
		// Failed requests fail the probe on their own; anything else
		// that went wrong is said.
		pr.Error = runErr.Error()
	}
	pr.OK, pr.Failed = s.Requests.OK, s.Requests.Failed
	pr.AchievedRate = round3(s.Generator.AchievedRate)
	lag := s.Metrics["lag"]
	pr.LagP50, pr.LagP99 = round3(lag.P50), round3(lag.P99)
	pr.ClientCPUS = round3(res.Stats.CPU.Seconds())
	pr.WallS = round3(res.Stats.End.Sub(res.Stats.Start).Seconds())
	reqs, err := analysis.RunRequests(dir)
	if err != nil {
		pr.Error = err.Error()
		return pr, nil
	}
	truth, err := analysis.ReadTruth(truthLog)
	if err != nil {
		pr.Error = err.Error()
		return pr, nil
	}
	frames := analysis.LoadOf(reqs).Frames // the client's work covers the warm-up too
	reqs = slices.DeleteFunc(reqs, func(r analysis.ClientRequest) bool { return r.Warmup })
	te := analysis.CompareTruth(reqs, truth)
	pr.Truth = te
	pr.TTFTErrP50, pr.TTFTErrP99 = te.TTFTP50, te.TTFTP99
	pr.GapAbsErrP50, pr.GapAbsErrP99 = te.GapAbsP50, te.GapAbsP99
	pr.Frames = frames
	if n := pr.OK + pr.Failed + s.Requests.Warmup; n > 0 { // the CPU covers the warm-up too
		pr.ClientCPUPerReqUS = round3(res.Stats.CPU.Seconds() * 1e6 / float64(n))
	}
	if pr.Frames > 0 {
		pr.ClientCPUPerFrameUS = round3(res.Stats.CPU.Seconds() * 1e6 / float64(pr.Frames))
	}
	return pr, nil
}

// round3 rounds v to 3 decimals (NaN and ±Inf pass through math.Round).
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
