package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/internal/plural"
	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/report"
	"github.com/streamgauge/streamgauge/results"
)

// SweepOptions configure Sweep. Give Levels, or Auto.
type SweepOptions struct {
	// Levels are the load levels to run, in order: rates in req/s, or
	// users when Users is set.
	Levels []float64
	// Users makes the levels closed-loop users instead of open-loop rates.
	Users bool
	// Auto searches for the highest level that passes: doubling from Start
	// until a level fails, then bisecting to Precision (see
	// analysis.Search).
	Auto bool
	// Start is the search's first level (default: the profile's rate, or
	// its concurrency for a users sweep, else 1); Max bounds the climb (0 =
	// none); Precision is the search's relative precision (default 0.05).
	Start, Max, Precision float64
	// StageDuration is each stage's length (default: the profile's
	// duration, else DefaultStageDuration). The profile's request count
	// does not apply: stages are timed.
	StageDuration time.Duration
	// Cooldown is the pause between stages, so a server drains its queue
	// before the next level.
	Cooldown time.Duration
}

// DefaultStageDuration is a stage's length when neither the sweep nor the
// profile sets one.
const DefaultStageDuration = 30 * time.Second

// maxSweepStages bounds an automatic search (a climb with no --max-rate
// against a server that never saturates).
const maxSweepStages = 64

// defaultSweepSLO judges stages when the profile has no SLOs: saturation
// and errors alone then decide.
const defaultSweepSLO = "error_rate<1%"

// Sweep runs the profile at each load level, one run directory per stage
// inside the sweep's directory (the profile's Out, default
// results/<UTC time>-<name>-sweep), pausing Cooldown between stages, and
// returns the curve and the capacity: the highest level that met the
// profile's SLOs without saturating (see analysis.SaturationProbe).
// sweep.json is rewritten after every stage, so a sweep cut short keeps
// what it measured. Options are Run's, applied to every stage.
//
// Like Run, it returns the sweep whenever one was started, even with an
// error; a *ConfigError means nothing ran.
func Sweep(ctx context.Context, p profiles.Profile, so SweepOptions, opts ...Option) (*analysis.Sweep, error) {
	o, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	if p.Target != "" && p.Endpoint == "" {
		// Once for the sweep, not once per stage.
		if path, err := apiPath(p); err == nil {
			var note string
			if p.Target, note = joinTarget(p.Target, path, p.API); note != "" {
				o.logf("%s", note)
			}
		}
	}
	plan, err := newSweepPlan(p, so)
	if err != nil {
		return nil, configErr(err)
	}
	dir := p.Out
	if dir == "" {
		dir = DefaultSweepDir(p.Name, time.Now())
	}
	if _, err := os.Stat(filepath.Join(dir, analysis.SweepFile)); err == nil {
		return nil, configErr(fmt.Errorf("out: %s already holds a sweep; choose another --out", dir))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("sweep directory %s: %w", dir, err)
	}
	sw := &analysis.Sweep{Tool: "streamgauge", Version: o.version, Name: p.Name, Mode: analysis.SweepRate, Auto: so.Auto,
		SLO: plan.sloExprs, Goodput: p.Goodput, Start: time.Now().UTC(),
		StageDurationS: plan.stage.Seconds(), CooldownS: so.Cooldown.Seconds(), Stages: []analysis.SweepStage{}}
	if so.Users {
		sw.Mode = analysis.SweepUsers
	}
	if so.Auto {
		sw.Precision = plan.search.Precision()
	}
	if plan.shards > 1 {
		sw.Notes = append(sw.Notes, fmt.Sprintf("shard %d/%d of a sharded sweep: each stage sent this worker's share of its level, from %s on; merge every worker's sweep directory (streamgauge merge SWEEP_DIR... -o OUT) for the curve and the capacity",
			plan.shard, plan.shards, plan.startAt.UTC().Format(time.RFC3339Nano)))
	}
	if len(p.SLO) == 0 {
		sw.Notes = append(sw.Notes, "no --slo given: a stage passes when it does not saturate and its "+defaultSweepSLO)
	}
	save := func() error { return saveSweep(dir, sw) }
	o.logf("sweep %s: %s, %s stages, writing %s", p.Name, plan.describe(so), plan.stage, dir)
	// capped marks the stages whose lag came from waiting for a
	// --max-concurrency slot, not from the generator.
	capped := map[int]bool{}
	for i := 1; ; i++ {
		level, ok := plan.next(i)
		if !ok {
			break
		}
		if i > 1 && so.Cooldown > 0 && plan.startAt.IsZero() {
			cooldown(ctx, so.Cooldown)
		}
		if ctx.Err() != nil {
			sw.Interrupted = true
			break
		}
		name := fmt.Sprintf("stage-%03d-%s-%s", i, sw.Mode, analysis.FormatLevel(level))
		sp := plan.profile(i, level, filepath.Join(dir, name))
		if at, _ := sp.StartTime(); !at.IsZero() && time.Now().After(at) {
			o.logf("warning: sweep stage %d was to start at %s (--start-at); it starts %s late and sends behind schedule (its lag shows it): give a later --start-at or a longer --cooldown",
				i, sp.StartAt, time.Since(at).Round(time.Millisecond))
		}
		o.logf("sweep stage %d: %s %s", i, analysis.FormatLevel(level), sw.Unit())
		res, runErr := Run(ctx, sp, opts...)
		var ce *ConfigError
		switch {
		case errors.As(runErr, &ce) && i == 1:
			return sw, runErr
		case errors.As(runErr, &ce):
			// Stages ran: keep them, and report the setting that stopped
			// this one as a run error.
			if err := save(); err != nil {
				o.logf("warning: %v", err)
			}
			return sw, fmt.Errorf("sweep stage %d (%s %s): %v", i, analysis.FormatLevel(level), sw.Unit(), runErr)
		case ctx.Err() != nil:
			// The stage was cut short: keep its directory, do not judge it.
			sw.Interrupted = true
		case res == nil:
			if err := save(); err != nil {
				o.logf("warning: %v", err)
			}
			return sw, fmt.Errorf("sweep stage %d (%s %s): %w", i, analysis.FormatLevel(level), sw.Unit(), runErr)
		}
		if sw.Interrupted {
			break
		}
		if i == 1 {
			sw.Target, sw.Simulated = res.Target, res.Simulated
		}
		st, err := plan.judge(i, name, level, res, runErr, sw.Stages)
		if err != nil {
			return sw, err
		}
		sw.Stages = append(sw.Stages, st)
		if st.GeneratorSaturated && res.Summary.Generator.CapWaits > 0 {
			capped[st.Index] = true
		}
		o.logf("sweep stage %d: %s", i, stageLine(&st))
		if err := save(); err != nil {
			return sw, err
		}
		if plan.search != nil {
			plan.search.Observe(level, st.Pass)
		}
	}
	sw.End = time.Now().UTC()
	switch {
	case sw.Interrupted:
		sw.Outcome = "interrupted"
	case plan.search != nil:
		sw.Outcome = plan.search.Outcome()
	default:
		sw.Outcome = "ran every level given"
	}
	sw.Notes = append(sw.Notes, generatorNotes(sw.Stages, capped, p.MaxConcurrency)...)
	if err := save(); err != nil {
		return sw, err
	}
	if sw.Interrupted {
		return sw, fmt.Errorf("sweep interrupted after %s; they are in %s", plural.Count(len(sw.Stages), "stage"), dir)
	}
	return sw, nil
}

// saveSweep computes the capacity from the stages and writes sweep.json and
// sweep.txt into dir.
func saveSweep(dir string, sw *analysis.Sweep) error {
	sw.Capacity = analysis.FindCapacity(sw.Stages)
	if err := results.WriteJSON(dir, analysis.SweepFile, sw); err != nil {
		return err
	}
	var b bytes.Buffer
	if err := report.WriteSweepTable(&b, sw); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, analysis.SweepTableFile), b.Bytes(), 0o644)
}

// generatorNotes say which stages' sends went out late: held back by the
// --max-concurrency cap (capped, with maxConc slots) or by a generator
// that fell behind. None when every stage kept its schedule.
func generatorNotes(stages []analysis.SweepStage, capped map[int]bool, maxConc int) []string {
	var behind, held []string
	for _, st := range stages {
		switch {
		case capped[st.Index]:
			held = append(held, fmt.Sprintf("%d (lag p99 %.1f ms)", st.Index, st.Metrics["lag"].P99))
		case st.GeneratorSaturated:
			behind = append(behind, fmt.Sprintf("%d (lag p99 %.1f ms)", st.Index, st.Metrics["lag"].P99))
		}
	}
	var notes []string
	if len(held) > 0 {
		notes = append(notes, fmt.Sprintf("requests waited for one of the --max-concurrency %d slots in stages %s: the cap held them back, not the generator; raise --max-concurrency to offer those rates",
			maxConc, strings.Join(held, ", ")))
	}
	if len(behind) > 0 {
		notes = append(notes, fmt.Sprintf("the generator fell behind in stages %s: their latencies may be understated; a stage that sent well under its rate counts as saturated, so at high rates split the load into shards",
			strings.Join(behind, ", ")))
	}
	return notes
}

// StageStart is when stage i (from 1) of a sweep with a start time (every
// sharded sweep) starts: start plus, for each earlier stage, its length
// and the cooldown. Every worker
// computes it from its flags alone, so the levels line up without any
// exchange.
func StageStart(start time.Time, i int, stage, cooldown time.Duration) time.Time {
	return start.Add(time.Duration(i-1) * (stage + cooldown))
}

// DefaultSweepDir is where a sweep of the named profile started at now
// writes when the profile sets no Out: results/<UTC time>-<name>-sweep.
func DefaultSweepDir(name string, now time.Time) string {
	return defaultOutDir(name, now, "-sweep")
}

// defaultOutDir is results/<UTC time>-<name><suffix>: where a run, sweep
// or what-if writes when the profile sets no Out.
func defaultOutDir(name string, now time.Time, suffix string) string {
	return filepath.Join("results", now.UTC().Format("20060102T150405Z")+"-"+safeName(name)+suffix)
}

// sweepPlan is a sweep's settings, checked once.
type sweepPlan struct {
	base     profiles.Profile
	users    bool
	levels   []float64
	search   *analysis.Search
	stage    time.Duration
	cooldown time.Duration
	// shard and shards place this worker in a sharded sweep (0 and 1 when
	// it runs alone); startAt is stage 1's start on every worker.
	shard, shards int
	startAt       time.Time
	slos          []analysis.SLO
	sloExprs      []string
	goodput       *analysis.GoodputSLO
}

func newSweepPlan(p profiles.Profile, so SweepOptions) (*sweepPlan, error) {
	var errs []error
	switch {
	case p.Trace != "":
		errs = append(errs, errors.New("trace: a replayed trace sets its own arrivals; sweep a synthetic workload (or replay it with run --trace-speed)"))
	case len(p.Stages) > 0:
		errs = append(errs, errors.New("stages: a sweep sets each stage's load itself; drop --stages"))
	case !so.Users && (p.Arrival == "ramp" || p.Arrival == "sine"):
		errs = append(errs, fmt.Errorf("arrival: %s changes the rate within a run; sweep with constant, poisson or gamma arrivals", p.Arrival))
	}
	shard, shards, shardErr := p.ShardOf()
	if shardErr != nil {
		errs = append(errs, fmt.Errorf("shard: %w", shardErr))
	}
	startAt, startErr := p.StartTime()
	if startErr != nil {
		errs = append(errs, fmt.Errorf("start-at: %w", startErr))
	}
	switch {
	case p.Shards > 0 && p.Shard == "":
		errs = append(errs, fmt.Errorf("shards: --shards %d needs this worker's index (JOB_COMPLETION_INDEX in a Kubernetes Indexed Job) or --shard i/N", p.Shards))
	case shards > 1 && so.Auto:
		errs = append(errs, errors.New("shard: --auto picks each level from the stages before it, which the workers of a sharded sweep cannot share; give every worker the same levels with --rates or --concurrency-levels"))
	case shards > 1 && startAt.IsZero() && startErr == nil:
		errs = append(errs, errors.New("start-at: a sharded sweep needs --start-at T, the same on every worker, so that each level starts at the same time everywhere"))
	case !startAt.IsZero() && so.Cooldown <= 0:
		errs = append(errs, errors.New("cooldown: a sweep with --start-at needs a cooldown above 0: its stages start on a fixed clock, and requests still in flight at a stage's end get half the cooldown to finish"))
	case !startAt.IsZero() && p.DrainTimeout > so.Cooldown/2:
		errs = append(errs, fmt.Errorf("drain-timeout: %s does not fit the clock of a sweep with --start-at: at most half the --cooldown (%s), so every stage ends before the next level starts", p.DrainTimeout, so.Cooldown/2))
	}
	if so.Auto == (len(so.Levels) > 0) {
		errs = append(errs, errors.New("sweep: give a list of levels (--rates or --concurrency-levels) or --auto, one of them"))
	}
	plan := &sweepPlan{base: p, users: so.Users, levels: so.Levels, stage: so.StageDuration, cooldown: so.Cooldown, shard: shard, shards: max(shards, 1), startAt: startAt}
	if plan.stage == 0 {
		plan.stage = p.Duration
	}
	if plan.stage == 0 {
		plan.stage = DefaultStageDuration
	}
	for _, l := range so.Levels {
		if !so.Users && l > 0 && l*plan.stage.Seconds() < 1 {
			errs = append(errs, fmt.Errorf("levels: a %s stage at %s req/s holds less than one request; raise the rate or lengthen --stage-duration", plan.stage, analysis.FormatLevel(l)))
		}
		if !(l > 0) || math.IsInf(l, 0) || (so.Users && l != math.Trunc(l)) {
			what := "rate"
			if so.Users {
				what = "users"
			}
			errs = append(errs, fmt.Errorf("levels: %s %g must be a positive %s", what, l, map[bool]string{false: "number", true: "whole number"}[so.Users]))
		}
	}
	if so.StageDuration < 0 || so.Cooldown < 0 {
		errs = append(errs, errors.New("stage-duration and cooldown must not be negative"))
	}
	plan.sloExprs = p.SLO
	if len(p.SLO) == 0 {
		plan.sloExprs = []string{defaultSweepSLO}
	}
	slos, err := analysis.ParseSLOs(plan.sloExprs)
	if err != nil {
		errs = append(errs, fmt.Errorf("slo: %w", err))
	}
	plan.slos = slos
	if plan.goodput, err = analysis.ParseGoodput(p.Goodput); err != nil {
		errs = append(errs, fmt.Errorf("goodput: %w", err))
	}
	if so.Auto {
		start := so.Start
		if start == 0 && so.Users {
			start = float64(p.Concurrency)
		} else if start == 0 {
			start = p.Rate
		}
		if start == 0 {
			start = 1
		}
		opts := analysis.SearchOptions{Start: start, Max: so.Max, Precision: so.Precision, Integer: so.Users}
		if !so.Users && start > 0 && start*plan.stage.Seconds() < 1 {
			errs = append(errs, fmt.Errorf("rate: the search's first %s stage at %s req/s holds less than one request; start higher (--rate) or lengthen --stage-duration", plan.stage, analysis.FormatLevel(start)))
		}
		if !so.Users {
			opts.Min, opts.MinWhy = rateFloor(start, plan.stage)
		}
		if err := searchBoundError(start, so); err != nil {
			errs = append(errs, err)
			opts.Max = 0 // said above, in the flags' words
		}
		s, err := analysis.NewSearch(opts)
		if err != nil {
			errs = append(errs, err)
		}
		plan.search = s
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// Check the stage profile once, at the first level, before anything runs.
	var first float64
	if plan.search != nil {
		first = plan.search.Start()
	} else {
		first = so.Levels[0]
	}
	probe := plan.profile(1, first, "")
	if err := probe.Validate(); err != nil {
		return nil, err
	}
	return plan, nil
}

// minStageArrivals is the fewest requests a stage of an automatic search
// may hold: below it a stage's percentiles and error rate say nothing, so
// the search stops halving the rate there.
const minStageArrivals = 10

// rateFloor is the lowest rate an automatic search descends to from start
// with stages of the given length: start/64, or the rate at which a stage
// holds minStageArrivals requests (rounded up to 3 significant digits)
// when that is higher, but never above start. why says so for the
// outcome.
func rateFloor(start float64, stage time.Duration) (floor float64, why string) {
	return rateFloorOf(start, stage, "stage", "--stage-duration")
}

// rateFloorOf is rateFloor for runs called what, whose length flag sets.
func rateFloorOf(start float64, stage time.Duration, what, flag string) (floor float64, why string) {
	floor = start / 64
	need := float64(minStageArrivals) / stage.Seconds()
	if need <= floor {
		return floor, ""
	}
	scale := math.Pow(10, 2-math.Floor(math.Log10(need)))
	need = math.Ceil(need*scale) / scale
	return min(need, start), fmt.Sprintf("a %s %s at a lower rate holds fewer than %d requests, too few to judge; lengthen %s to search lower rates", stage, what, minStageArrivals, flag)
}

// next returns stage i's level.
func (pl *sweepPlan) next(i int) (float64, bool) {
	if pl.search == nil {
		if i > len(pl.levels) {
			return 0, false
		}
		return pl.levels[i-1], true
	}
	if i > maxSweepStages {
		pl.search.Stop(fmt.Sprintf("stopped after %d stages", maxSweepStages))
		return 0, false
	}
	return pl.search.Next()
}

// profile is the base profile at one load level, stage i, timed, written
// to out. With a start time (every sharded sweep) stage i starts at
// StageStart(i): the same instant on every worker.
func (pl *sweepPlan) profile(i int, level float64, out string) profiles.Profile {
	p := pl.base
	p.Out = out
	if !pl.startAt.IsZero() {
		p.StartAt = StageStart(pl.startAt, i, pl.stage, pl.cooldown).Format(time.RFC3339Nano)
		if p.DrainTimeout == 0 {
			p.DrainTimeout = pl.cooldown / 2
		}
	}
	p.Duration, p.Requests = pl.stage, 0
	if pl.users {
		p.Rate, p.Concurrency = 0, int(level)
	} else {
		p.Rate, p.Concurrency = level, 0
	}
	if p.DrainTimeout == 0 {
		// A saturated stage leaves a queue behind; bound how long it may
		// drain (what is left is recorded as canceled: evidence).
		p.DrainTimeout = max(pl.stage, 30*time.Second)
	}
	return p
}

// judge makes stage i's row: the summary (goodput recomputed when the
// profile names one), the SLOs, and the saturation evidence.
func (pl *sweepPlan) judge(i int, name string, level float64, res *Result, runErr error, prev []analysis.SweepStage) (analysis.SweepStage, error) {
	sum := res.Summary
	if pl.goodput != nil {
		s, _, err := analysis.LoadSummary(res.Dir, pl.goodput)
		if err != nil {
			return analysis.SweepStage{}, err
		}
		sum = s
	}
	analysis.ApplySLOs(sum, pl.slos)
	// A worker of a sharded sweep offers its share of the level.
	offered, sent := level/float64(pl.shards), sum.Generator.AchievedRate
	if pl.users {
		offered, sent = 0, 0
	}
	sat, err := analysis.StageSaturation(res.Dir, offered, sent)
	if err != nil {
		return analysis.SweepStage{}, err
	}
	st := analysis.NewSweepStage(i, name, level, !pl.users, sum, sat)
	if pl.users {
		if knee, why := analysis.ClosedLoopKnee(prev, level, st.Throughput.RequestsPerS); knee {
			st.Saturation.Saturated = true
			if st.Saturation.Reason != "" {
				why = st.Saturation.Reason + "; " + why
			}
			st.Saturation.Reason = why
			st.Pass = false
		}
	}
	if runErr != nil {
		st.Error, st.Pass = runErr.Error(), false
	}
	return st, nil
}

func (pl *sweepPlan) describe(so SweepOptions) string {
	unit := "req/s"
	if pl.users {
		unit = "users"
	}
	if pl.search != nil {
		s := fmt.Sprintf("capacity search from %s %s to %s precision", analysis.FormatLevel(pl.search.Start()), unit, pctText(pl.search.Precision()))
		if so.Max > 0 {
			s += fmt.Sprintf(", at most %s %s", analysis.FormatLevel(so.Max), unit)
		}
		return s
	}
	return fmt.Sprintf("%s (%s)", plural.Count(len(pl.levels), "level"), unit)
}

func pctText(f float64) string { return fmt.Sprintf("%g%%", 100*f) }

// stageLine says how a stage went, for the log.
func stageLine(st *analysis.SweepStage) string {
	verdict := "pass"
	if !st.Pass {
		verdict = "fail: " + st.Why()
	}
	return fmt.Sprintf("%.2f req/s, ttft p99 %.1f ms, e2e p99 %.1f ms, errors %.1f%%: %s",
		st.Throughput.RequestsPerS, st.Metrics["ttft"].P99, st.Metrics["e2e"].P99, 100*st.ErrorRate, verdict)
}

// searchBoundError refuses a search whose highest level is below its first,
// naming the flags that set them.
func searchBoundError(start float64, so SweepOptions) error {
	if !(so.Max > 0 && so.Max < start) {
		return nil
	}
	if so.Users {
		return fmt.Errorf("max-users: %s is below the search's first level, %s users (--concurrency); raise --max-users or start lower", analysis.FormatLevel(so.Max), analysis.FormatLevel(start))
	}
	return fmt.Errorf("max-rate: %s req/s is below the search's first level, %s req/s (--rate, or the profile's rate); raise --max-rate or start lower with --rate", analysis.FormatLevel(so.Max), analysis.FormatLevel(start))
}

// cooldown waits d between a sweep's stages (and a what-if's variants), or
// until ctx ends.
func cooldown(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
