package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/report"
)

func newCompareCmd(e *env) *cobra.Command {
	var (
		out        gateFlags
		baseline   string
		tolerance  string
		confidence string
		seed       uint64
		resamples  int
		metrics    []string
		goodput    string
		adjust     string
		htmlOut    string
	)
	cmd := &cobra.Command{
		Use:   "compare BASE CAND [CAND...]",
		Short: "Compare runs metric by metric with bootstrap confidence intervals: exit 3 on a regression",
		Long: `compare sets each candidate run against a baseline run (the first RUN_DIR, or
--baseline), metric by metric: p50/p90/p99 of ttft, itl, tpot and e2e, output
tokens and requests per second, goodput ratio and error rate. For each it
shows the change, absolute and relative, and a confidence interval for the
change computed by bootstrap over requests (seeded: the same seed gives the
same verdict). A change is significant when its interval excludes zero after
adjusting for the number of metrics compared (--adjust), and a regression
when it is significant, in the worse direction, and larger than --tolerance.
compare exits 3 when any candidate regresses, and 1 when a run (baseline or
candidate) has no measured request that succeeded: there is nothing to
compare. A metric with too few samples to judge shows "n/a" and is named in
the closing line.

Runs whose profiles differ in workload or load (lengths, rate, concurrency,
arrival, API, model, trace, turns, ...) get a warning naming the keys: their
differences may come from what was sent rather than from the server.`,
		Example: `  streamgauge compare results/main results/pr-123
  streamgauge compare --baseline results/fcfs results/sjf results/priority --format markdown
  streamgauge compare base cand --tolerance 2% --metrics ttft.p99,e2e.p99 --seed 7`,
		Args: argsUsage(func(cmd *cobra.Command, args []string) error {
			if baseline != "" {
				return cobra.MinimumNArgs(1)(cmd, args)
			}
			if len(args) < 2 {
				return fmt.Errorf("requires a baseline and at least one candidate run (or --baseline), received %d", len(args))
			}
			return nil
		}),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.validate(); err != nil {
				return err
			}
			if err := checkOutputs(outputPath{"--markdown", out.markdown, outAppend}, outputPath{"--html", htmlOut, outFile}); err != nil {
				return err
			}
			opt := analysis.CompareOptions{Seed: seed, Resamples: resamples, Adjust: adjust, Metrics: splitMetrics(metrics)}
			tol, err := parseShare(tolerance)
			if err != nil {
				return usagef("--tolerance %q: %v", tolerance, err)
			}
			opt.Tolerance = tol
			if tol == 0 {
				opt.Tolerance = -1 // no tolerance: every significant worsening is a regression
			}
			if opt.Confidence, err = parseShare(confidence); err != nil || opt.Confidence <= 0 || opt.Confidence >= 1 {
				return usagef("--confidence %q: want a level such as 95%% or 0.95", confidence)
			}
			g, err := analysis.ParseGoodput(goodput)
			if err != nil {
				return usageError(prefixLines("--goodput ", err))
			}
			if baseline != "" {
				args = append([]string{baseline}, args...)
			}
			if allSweeps(args) {
				return compareSweeps(e, args, out.format, htmlOut)
			}
			runs := make([]*analysis.RunSamples, len(args))
			names := runNames(args)
			for i, dir := range args {
				if err := checkRunDir(dir); err != nil {
					return err
				}
				if _, err := inspectRun(e, dir, false); err != nil {
					return err
				}
				if runs[i], err = analysis.LoadRunSamples(dir, g); err != nil {
					return runError(err)
				}
				runs[i].Name = names[i]
			}
			c, err := analysis.Compare(runs[0], runs[1:], opt)
			var empty *analysis.EmptyRunError
			switch {
			case errors.As(err, &empty):
				return runError(err) // no verdict without evidence
			case err != nil:
				return usageError(err)
			}
			if out.format != "table" { // the table shows them itself
				for _, w := range c.Warnings {
					e.warnf("%s", w)
				}
			}
			switch out.format {
			case "markdown":
				err = report.WriteCompareMarkdown(e.stdout, c)
			case "json":
				err = report.WriteCompareJSON(e.stdout, c)
			default:
				err = report.WriteCompareTable(e.stdout, c)
			}
			if err != nil {
				return runError(err)
			}
			if out.markdown != "" {
				if err := appendTo(out.markdown, func(w io.Writer) error { return report.WriteCompareMarkdown(w, c) }); err != nil {
					return runErrorf("--markdown: %w", err)
				}
			}
			if htmlOut != "" {
				if err := writeCompareHTML(htmlOut, args, names, c); err != nil {
					return runErrorf("--html: %w", err)
				}
			}
			if c.Regression() {
				return &exitError{code: exitSLO, err: fmt.Errorf("regression against %s: %s", c.Baseline.Name, strings.Join(c.Regressed, ", "))}
			}
			return nil
		},
	}
	out.add(cmd)
	f := cmd.Flags()
	f.StringVar(&htmlOut, "html", "", "also write an offline HTML page to FILE: the comparison table and overlaid CDFs of ttft, itl, tpot and e2e (of sweep directories: their curves side by side)")
	f.StringVar(&baseline, "baseline", "", "baseline run directory; every positional RUN_DIR is then a candidate")
	f.StringVar(&tolerance, "tolerance", "5%", "relative change a significant worsening must exceed to be a regression (0 for any)")
	f.StringVar(&confidence, "confidence", "95%", "confidence level of the intervals")
	f.Uint64Var(&seed, "seed", 1, "seed of the bootstrap resampling")
	f.IntVar(&resamples, "resamples", analysis.DefaultResamples, "bootstrap resamples per run")
	f.StringSliceVar(&metrics, "metrics", nil, "metrics to compare, e.g. ttft.p99,e2e.p50,error_rate (default: the standard set)")
	f.StringVar(&goodput, "goodput", "", "recompute goodput of every run with per-request conditions, e.g. 'ttft<=500ms,tpot<=50ms'")
	f.StringVar(&adjust, "adjust", analysis.AdjustFDR, "multiple-comparison adjustment: fdr (Benjamini-Hochberg), holm, or none")
	return cmd
}

// parseShare reads "5%" or "0.05".
func parseShare(s string) (float64, error) {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("want a non-negative percentage such as 5%% or a fraction such as 0.05")
	}
	if pct {
		v /= 100
	}
	return v, nil
}

func splitMetrics(list []string) []string {
	var out []string
	for _, m := range list {
		if m = strings.TrimSpace(m); m != "" {
			out = append(out, m)
		}
	}
	return out
}

// runNames labels runs by their directory's base name, or by the path as
// given when two base names collide.
func runNames(dirs []string) []string {
	names := make([]string, len(dirs))
	seen := map[string]int{}
	for i, d := range dirs {
		names[i] = filepath.Base(filepath.Clean(d))
		seen[names[i]]++
	}
	for i, d := range dirs {
		if seen[names[i]] > 1 {
			names[i] = filepath.Clean(d)
		}
	}
	return names
}

// allSweeps reports whether every directory is a sweep's (sweep.json).
func allSweeps(dirs []string) bool {
	for _, d := range dirs {
		if !analysis.IsSweepDir(d) {
			return false
		}
	}
	return len(dirs) > 1
}

// compareSweeps puts the latency-throughput curves of several sweeps side by
// side, with each variant's capacity (and, with --html, their plots).
func compareSweeps(e *env, dirs []string, format, htmlOut string) error {
	sweeps := make([]*analysis.Sweep, len(dirs))
	for i, d := range dirs {
		sw, err := analysis.LoadSweep(d)
		if err != nil {
			return runError(err)
		}
		sweeps[i] = sw
	}
	c, err := analysis.CompareSweeps(runNames(dirs), sweeps)
	if err != nil {
		return runError(err)
	}
	if htmlOut != "" {
		if err := writeFileAtomic(htmlOut, func(w io.Writer) error { return report.WriteSweepHTML(w, report.SweepComparisonPage(c)) }); err != nil {
			return runErrorf("--html: %w", err)
		}
	}
	if format == "json" {
		return report.WriteSweepComparisonJSON(e.stdout, c)
	}
	return report.WriteSweepComparisonTable(e.stdout, c)
}

// writeCompareHTML renders the comparison and the runs' overlaid CDFs.
func writeCompareHTML(path string, dirs, names []string, c *analysis.Comparison) error {
	runs := make([]report.PlotRun, len(dirs))
	for i, d := range dirs {
		sum, _, err := analysis.LoadSummary(d, nil)
		if err != nil {
			return err
		}
		if runs[i], err = report.PlotRunFromSummary(names[i], sum); err != nil {
			return err
		}
	}
	return writeFileAtomic(path, func(w io.Writer) error {
		return report.WriteCompareHTML(w, report.CompareHTML{Runs: runs, Comparison: c, Notes: c.Warnings})
	})
}
