package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/harness"
	"github.com/streamgauge/streamgauge/internal/plural"
	"github.com/streamgauge/streamgauge/report"
	"github.com/streamgauge/streamgauge/results"
)

func newMergeCmd(e *env) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "merge SHARD_DIR...|SWEEP_DIR... -o OUT",
		Short: "Merge the shards of a distributed run (or sharded sweep) into one",
		Long: `merge combines the run directories of a distributed run's workers (each ran
the same profile and --seed with --shard i/N, or --shards N in a Kubernetes
Indexed Job, and one --start-at) into one run directory that report, check
and compare treat like any other:

  requests.jsonl  every shard's records, ordered by scheduled time; offsets
                  are re-based on the earliest shard start (shards that
                  share --start-at start together, and nothing moves)
  summary.json    counts, throughput and goodput over all records; latency
                  histograms merged exactly from the shards' summaries
                  (HDR histograms add bucket by bucket), checked against
                  the records
  run.json        the profile, shard "merged from N", and each shard's
                  directory, start and record count
  server_metrics.jsonl
                  every shard's scraped server samples on the merged time
                  axis, each with its "shard" (a warning names the servers
                  when the shards scraped different ones)

Sweep directories (sweep --shard i/N --start-at T on each worker) are merged
level by level: OUT/stage-.../ is each stage's merged run, and the curve and
capacity are judged again on the whole levels (OUT/sweep.json, sweep.txt).

Shards that are not one run (another seed or profile, a shard missing or
given twice) are refused with every difference named (exit 2). A SHARD_DIR
may be a glob pattern, quoted, for images without a shell.

Afterwards, look at each worker's lag: a shard whose generator fell behind
(generator_saturated) understates latency; add workers.`,
		Example: `  streamgauge merge results/run-1/shard-0 results/run-1/shard-1 results/run-1/shard-2 results/run-1/shard-3 -o results/run-1/merged
  streamgauge merge 'results/run-1/shard-*' -o results/run-1/merged
  streamgauge merge 'results/sweep-1/worker-*' -o results/sweep-1/merged
  streamgauge report results/run-1/merged`,
		Args: argsUsage(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMerge(e, args, out)
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "the merged run directory to write (required)")
	return cmd
}

func runMerge(e *env, args []string, out string) error {
	if out == "" {
		return usagef("merge: give the merged run directory with -o RUN_DIR")
	}
	if err := checkOutputs(outputPath{"-o", out, outDir}); err != nil {
		return err
	}
	dirs, err := expandShardArgs(args)
	if err != nil {
		return usageError(err)
	}
	sweeps := 0
	for _, d := range dirs {
		if analysis.IsSweepDir(d) {
			sweeps++
		}
	}
	switch {
	case sweeps == len(dirs):
		return runMergeSweeps(e, dirs, out)
	case sweeps > 0:
		return usagef("merge: give the workers' run directories or their sweep directories (with sweep.json), not a mix of both")
	}
	res, sum, shards, err := mergeRun(out, dirs, func(w string) { e.warnf("%s", w) })
	var mm *results.ShardMismatchError
	switch {
	case errors.As(err, &mm):
		return usageError(err)
	case err != nil:
		return runError(err)
	}
	fmt.Fprintf(e.stdout, "merged %s, %s\n", plural.Count(len(res.Info.MergedFrom), "shard"), plural.Count(res.Records, "record"))
	for _, s := range shards {
		fmt.Fprintln(e.stdout, "  "+s)
	}
	if err := report.WriteTable(e.stdout, sum); err != nil {
		return runError(err)
	}
	if len(sum.SLO) > 0 {
		if err := report.WriteSLOTable(e.stdout, sum.SLO); err != nil {
			return runError(err)
		}
	}
	fmt.Fprintf(e.stdout, "run directory    %s\n", out)
	return nil
}

// mergeRun merges the shard run directories dirs into out (requests,
// server metrics, run.json and summary.json), passing each warning to warn
// as it comes.
func mergeRun(out string, dirs []string, warn func(string)) (*results.MergeResult, *analysis.Summary, []string, error) {
	res, err := results.Merge(out, dirs)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, w := range res.Warnings {
		warn(w)
	}
	sum, shards, warnings, err := mergeSummary(out, res)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, w := range warnings {
		warn(w)
	}
	if err := results.WriteJSON(out, results.SummaryFile, sum); err != nil {
		return nil, nil, nil, err
	}
	return res, sum, shards, nil
}

// runMergeSweeps merges the workers' sweep directories of a sharded sweep
// level by level and prints the merged curve.
func runMergeSweeps(e *env, dirs []string, out string) error {
	stage := func(dst string, srcs []string) (*analysis.Summary, []string, error) {
		var ws []string
		_, sum, _, err := mergeRun(dst, srcs, func(w string) { ws = append(ws, w) })
		return sum, ws, err
	}
	sw, warnings, err := harness.MergeSweeps(out, dirs, stage, version)
	for _, w := range warnings {
		e.warnf("%s", w)
	}
	var mm *results.ShardMismatchError
	switch {
	case errors.As(err, &mm):
		return usageError(err)
	case err != nil:
		return runError(err)
	}
	fmt.Fprintf(e.stdout, "merged %s level by level, %s\n", plural.Count(len(dirs), "worker sweep"), plural.Count(len(sw.Stages), "stage"))
	if err := report.WriteSweepTable(e.stdout, sw); err != nil {
		return runError(err)
	}
	fmt.Fprintf(e.stdout, "sweep directory  %s\n", out)
	return nil
}

// expandShardArgs expands glob patterns (for shells that do not, and
// images with no shell) and keeps plain paths as given.
func expandShardArgs(args []string) ([]string, error) {
	var dirs []string
	for _, a := range args {
		if _, err := os.Stat(a); err == nil || !strings.ContainsAny(a, "*?[") {
			dirs = append(dirs, a)
			continue
		}
		m, err := filepath.Glob(a)
		if err != nil {
			return nil, fmt.Errorf("SHARD_DIR %s: %w", a, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("SHARD_DIR %s: no directory matches", a)
		}
		dirs = append(dirs, m...)
	}
	return dirs, nil
}

// mergeSummary summarises a merged run: counts, window and rates from one
// pass over the merged records; latency histograms merged from the
// shards' summary.json (exact: HDR histograms of one layout add bucket by
// bucket), checked against those the records give; the generator's health
// from every shard (one worker that fell behind understates its share of
// the latencies); the profile's SLOs judged. It returns a line per shard.
//
// This is analysis work kept here only because analysis/merge.go is not
// yet a file of its own; it uses analysis's exported API alone.
func mergeSummary(dir string, res *results.MergeResult) (*analysis.Summary, []string, []string, error) {
	var warnings, lines []string
	shardSums := make([]*analysis.Summary, len(res.Info.MergedFrom))
	haveAll := true
	fromScheduled := false
	if prof, ok := res.Info.Profile.(map[string]any); ok {
		fromScheduled = prof["latency-from"] == "scheduled"
	}
	meta := analysis.RunMeta{CPUIncludesServer: res.Info.Simulated}
	sentKnown := true
	for i, sh := range res.Info.MergedFrom {
		s := &analysis.Summary{}
		err := results.ReadJSON(sh.Dir, results.SummaryFile, s)
		switch {
		case errors.Is(err, fs.ErrNotExist) || results.IsDamaged(err):
			haveAll = false
			sentKnown = false
			why := fmt.Sprintf("has no %s (cut short?)", results.SummaryFile)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				why = fmt.Sprintf("has a damaged %s (%s)", results.SummaryFile, strings.TrimPrefix(err.Error(), filepath.Join(sh.Dir, results.SummaryFile)+": "))
			}
			warnings = append(warnings, fmt.Sprintf("shard %s (%s) %s: its histograms are rebuilt from its records", sh.Shard, sh.Dir, why))
			lines = append(lines, fmt.Sprintf("shard %s  %6d records  start %+.1f ms  no summary", sh.Shard, sh.Records, float64(sh.OffsetNS)/1e6))
			continue
		case err != nil:
			return nil, nil, nil, err
		}
		shardSums[i] = s
		g := s.Generator
		meta.CPUSeconds += g.CPUSeconds
		meta.OpenLoop = meta.OpenLoop || g.OpenLoop
		meta.CPUIncludesServer = meta.CPUIncludesServer || g.CPUIncludesServer
		if meta.RequestedRate == 0 {
			// A shard records its share (older versions, the whole rate
			// with no shard count): the merged run requested the whole.
			meta.RequestedRate = g.RequestedRate * float64(max(g.Shards, 1))
		}
		meta.MaxConcurrency = max(meta.MaxConcurrency, g.MaxConcurrency)
		meta.CapWaits += g.CapWaits
		if s.Requests.Sent == 0 {
			sentKnown = false
		}
		meta.Sent += s.Requests.Sent
		fromScheduled = fromScheduled || s.LatencyFrom == "scheduled"
		health := "ok"
		if s.GeneratorSaturated {
			health = "GENERATOR SATURATED"
			warnings = append(warnings, fmt.Sprintf("shard %s (%s): generator saturated (lag p99 %.2f ms > %.0f ms): its latencies may be understated; add workers",
				sh.Shard, sh.Dir, s.Metrics["lag"].P99, analysis.SaturationLagMS))
		}
		lines = append(lines, fmt.Sprintf("shard %s  %6d records  start %+.1f ms  lag p99 %.2f ms  sent %.2f req/s  %s",
			sh.Shard, sh.Records, float64(sh.OffsetNS)/1e6, s.Metrics["lag"].P99, g.AchievedRate, health))
	}
	if !sentKnown {
		meta.Sent = 0
	}
	acc := analysis.NewAccumulator(analysis.WithLatencyFromScheduled(fromScheduled))
	if err := results.ReadRecords(dir, acc.Append); err != nil {
		return nil, nil, nil, err
	}
	sum, err := acc.Summary(meta)
	if err != nil {
		return nil, nil, nil, err
	}
	if haveAll {
		merged, err := mergeShardHistograms(shardSums)
		if err != nil {
			return nil, nil, nil, err
		}
		fromRecords := acc.Histograms()
		same := true
		for _, m := range analysis.Metrics {
			same = same && merged.Get(m).Equals(fromRecords.Get(m))
		}
		if same {
			for _, m := range analysis.Metrics {
				h := merged.Get(m)
				st := analysis.StatsOf(h)
				st.Clamped = sum.Metrics[m].Clamped // counted from the records
				sum.Metrics[m] = st
				if sum.Histograms[m], err = analysis.EncodeHistogram(h); err != nil {
					return nil, nil, nil, err
				}
			}
		} else {
			warnings = append(warnings, "the shards' summary histograms disagree with their records (a summary written before the last records?): the merged histograms are rebuilt from the records")
		}
	}
	for i, s := range shardSums {
		if s != nil && s.GeneratorSaturated {
			sum.GeneratorSaturated = true
			sh := res.Info.MergedFrom[i]
			sum.SaturatedShards = append(sum.SaturatedShards, analysis.SaturatedShard{Shard: sh.Shard, Dir: sh.Dir, LagP99: s.Metrics["lag"].P99})
		}
	}
	rd, err := analysis.ReadRunDir(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	if slos, err := rd.SLOs(); err == nil && len(slos) > 0 {
		analysis.ApplySLOs(sum, slos)
	}
	return sum, lines, warnings, nil
}

// mergeShardHistograms adds the shards' summary histograms, metric by
// metric; values beyond the range are clamped, never dropped.
func mergeShardHistograms(sums []*analysis.Summary) (*analysis.Histograms, error) {
	hs := analysis.NewHistograms()
	for _, s := range sums {
		for _, m := range analysis.Metrics {
			enc, ok := s.Histograms[m]
			if !ok {
				return nil, fmt.Errorf("a shard summary has no %s histogram", m)
			}
			h, err := analysis.DecodeHistogram(enc)
			if err != nil {
				return nil, fmt.Errorf("%s histogram: %w", m, err)
			}
			hs.MergeHistogram(m, h)
		}
	}
	return hs, nil
}
