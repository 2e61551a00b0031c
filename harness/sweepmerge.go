package harness

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/internal/plural"
	"github.com/streamgauge/streamgauge/results"
)

// StageMerger merges the shard run directories srcs of one sweep stage into
// the run directory dst (run.json, requests.jsonl and summary.json, as
// `streamgauge merge` writes them) and returns the merged summary it wrote
// and its warnings.
type StageMerger func(dst string, srcs []string) (sum *analysis.Summary, warnings []string, err error)

// MergeSweeps merges the sweep directories of a sharded sweep (every
// worker ran sweep --shard i/N --start-at T with the same levels) into the
// sweep directory out, level by level: each stage's shard directories are
// merged by merge into out/<stage>, then every merged stage is judged as
// Sweep judges a stage of one process (SLOs, goodput, saturation against
// the whole level), and the curve and capacity are computed from them.
// sweep.json and sweep.txt are written to out.
//
// Sweeps that are not one sharded sweep (another mode, stage length,
// cooldown, SLOs or levels) are a *results.ShardMismatchError naming every
// difference. A level that some worker did not finish is left out, with a
// warning.
func MergeSweeps(out string, dirs []string, merge StageMerger, version string) (*analysis.Sweep, []string, error) {
	if len(dirs) < 2 {
		return nil, nil, &results.ShardMismatchError{Err: errors.New("merge: a sharded sweep has a sweep directory per worker; give them all")}
	}
	sweeps := make([]*analysis.Sweep, len(dirs))
	var errs []error
	for i, d := range dirs {
		sw, err := analysis.LoadSweep(d)
		if err != nil {
			errs = append(errs, fmt.Errorf("SWEEP_DIR %s: %w", d, err))
			continue
		}
		sweeps[i] = sw
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, &results.ShardMismatchError{Err: err}
	}
	if err := checkSweeps(dirs, sweeps); err != nil {
		return nil, nil, &results.ShardMismatchError{Err: err}
	}
	stages, warnings, err := commonStages(dirs, sweeps)
	if err != nil {
		return nil, nil, &results.ShardMismatchError{Err: err}
	}
	if _, err := os.Stat(filepath.Join(out, analysis.SweepFile)); err == nil {
		return nil, nil, &results.ShardMismatchError{Err: fmt.Errorf("merge: %s already holds a sweep; choose another -o", out)}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, nil, fmt.Errorf("sweep directory %s: %w", out, err)
	}

	first := sweeps[0]
	pl := &sweepPlan{users: first.Mode == analysis.SweepUsers, shards: 1, sloExprs: first.SLO}
	if pl.slos, err = analysis.ParseSLOs(first.SLO); err != nil {
		return nil, nil, fmt.Errorf("%s: slo: %w", filepath.Join(dirs[0], analysis.SweepFile), err)
	}
	if pl.goodput, err = analysis.ParseGoodput(first.Goodput); err != nil {
		return nil, nil, fmt.Errorf("%s: goodput: %w", filepath.Join(dirs[0], analysis.SweepFile), err)
	}
	sw := &analysis.Sweep{Tool: "streamgauge", Version: version, Name: first.Name, Mode: first.Mode,
		SLO: first.SLO, Goodput: first.Goodput, Target: first.Target, Simulated: first.Simulated,
		Start: first.Start, End: first.End, StageDurationS: first.StageDurationS, CooldownS: first.CooldownS,
		Stages: []analysis.SweepStage{}, Outcome: "ran every level given"}
	for _, s := range sweeps {
		if s.Start.Before(sw.Start) {
			sw.Start = s.Start
		}
		if s.End.After(sw.End) {
			sw.End = s.End
		}
		sw.Interrupted = sw.Interrupted || s.Interrupted
	}
	if sw.Interrupted {
		sw.Outcome = "interrupted"
	}
	sw.Notes = append(sw.Notes, fmt.Sprintf("merged level by level from %s: %s", plural.Count(len(dirs), "worker sweep"), strings.Join(dirs, ", ")))
	if first.Simulated {
		w := fmt.Sprintf("every worker ran its own built-in simulator: the merged curve is %d simulators' together; point every worker at one server with --target", len(dirs))
		warnings = append(warnings, w)
		sw.Notes = append(sw.Notes, w)
	}
	if len(first.SLO) == 1 && first.SLO[0] == defaultSweepSLO {
		sw.Notes = append(sw.Notes, "no --slo given: a stage passes when it does not saturate and its "+defaultSweepSLO)
	}
	capped := map[int]bool{}
	maxConc := 0
	for _, st := range stages {
		srcs := make([]string, len(dirs))
		for i, d := range dirs {
			srcs[i] = filepath.Join(d, st.Dir)
		}
		dst := filepath.Join(out, st.Dir)
		sum, ws, err := merge(dst, srcs)
		for _, w := range ws {
			warnings = append(warnings, st.Dir+": "+w)
		}
		if err != nil {
			return nil, warnings, fmt.Errorf("stage %s: %w", st.Dir, err)
		}
		row, err := pl.judge(st.Index, st.Dir, st.Level, &Result{Dir: dst, Summary: sum}, nil, sw.Stages)
		if err != nil {
			return nil, warnings, fmt.Errorf("stage %s: %w", st.Dir, err)
		}
		sw.Stages = append(sw.Stages, row)
		if row.GeneratorSaturated && sum.Generator.CapWaits > 0 {
			capped[row.Index], maxConc = true, sum.Generator.MaxConcurrency
		}
	}
	sw.Notes = append(sw.Notes, generatorNotes(sw.Stages, capped, maxConc)...)
	if err := saveSweep(out, sw); err != nil {
		return sw, warnings, err
	}
	return sw, warnings, nil
}

// checkSweeps reports every way the sweeps are not the workers of one
// sharded sweep.
func checkSweeps(dirs []string, sweeps []*analysis.Sweep) error {
	var errs []error
	a := sweeps[0]
	for i, b := range sweeps {
		if b.Auto {
			errs = append(errs, fmt.Errorf("SWEEP_DIR %s is a capacity search (--auto), which runs in one process; a sharded sweep gives every worker the levels with --rates or --concurrency-levels", dirs[i]))
			continue
		}
		if i == 0 {
			continue
		}
		var diff []string
		if a.Mode != b.Mode {
			diff = append(diff, fmt.Sprintf("mode (%s vs %s)", a.Mode, b.Mode))
		}
		if a.Name != b.Name {
			diff = append(diff, fmt.Sprintf("profile (%s vs %s)", a.Name, b.Name))
		}
		if a.StageDurationS != b.StageDurationS {
			diff = append(diff, fmt.Sprintf("stage-duration (%gs vs %gs)", a.StageDurationS, b.StageDurationS))
		}
		if a.CooldownS != b.CooldownS {
			diff = append(diff, fmt.Sprintf("cooldown (%gs vs %gs)", a.CooldownS, b.CooldownS))
		}
		if !slices.Equal(a.SLO, b.SLO) {
			diff = append(diff, fmt.Sprintf("slo (%s vs %s)", strings.Join(a.SLO, " "), strings.Join(b.SLO, " ")))
		}
		if a.Goodput != b.Goodput {
			diff = append(diff, fmt.Sprintf("goodput (%q vs %q)", a.Goodput, b.Goodput))
		}
		if len(diff) > 0 {
			errs = append(errs, fmt.Errorf("sweeps %s and %s are not one sharded sweep: they differ in %s", dirs[0], dirs[i], strings.Join(diff, "; ")))
		}
	}
	return errors.Join(errs...)
}

// commonStages returns the stages every sweep finished, in the order they
// ran, and warns of those some did not. Stages of one index must be of one
// level everywhere.
func commonStages(dirs []string, sweeps []*analysis.Sweep) ([]analysis.SweepStage, []string, error) {
	var warnings []string
	var errs []error
	byIndex := make([]map[int]analysis.SweepStage, len(sweeps))
	all := map[int]analysis.SweepStage{}
	for i, s := range sweeps {
		byIndex[i] = map[int]analysis.SweepStage{}
		for _, st := range s.Stages {
			byIndex[i][st.Index] = st
			if prev, ok := all[st.Index]; ok && (prev.Level != st.Level || prev.Dir != st.Dir) {
				errs = append(errs, fmt.Errorf("the workers ran different levels: stage %d is %s in %s and %s in %s; give every worker the same levels", st.Index, prev.Dir, dirs[0], st.Dir, dirs[i]))
				continue
			}
			all[st.Index] = st
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	var out []analysis.SweepStage
	for _, idx := range slices.Sorted(maps.Keys(all)) {
		var missing []string
		for i := range sweeps {
			if _, ok := byIndex[i][idx]; !ok {
				missing = append(missing, dirs[i])
			}
		}
		if len(missing) > 0 {
			warnings = append(warnings, fmt.Sprintf("stage %s is missing from %s (cut short?): left out of the merged sweep", all[idx].Dir, strings.Join(missing, ", ")))
			continue
		}
		out = append(out, all[idx])
	}
	if len(out) == 0 {
		return nil, nil, errors.New("merge: no stage was finished by every worker; nothing to merge")
	}
	return out, warnings, nil
}
