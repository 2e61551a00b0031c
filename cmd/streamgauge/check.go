package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/report"
	"github.com/streamgauge/streamgauge/results"
)

// gateFlags are the output flags check and compare share.
type gateFlags struct {
	format   string
	markdown string // append the markdown rendering to this file
}

func (g *gateFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&g.format, "format", "table", "output on stdout: table|markdown|json")
	f.StringVar(&g.markdown, "markdown", "", "also append the markdown rendering to FILE (e.g. \"$GITHUB_STEP_SUMMARY\")")
}

func (g *gateFlags) validate() error {
	switch g.format {
	case "table", "markdown", "json":
		return nil
	}
	return usagef("--format %q: want table, markdown or json", g.format)
}

func newCheckCmd(e *env) *cobra.Command {
	var (
		out     gateFlags
		slos    []string
		goodput string
		junit   string
		suite   string

		allowPartial bool
	)
	cmd := &cobra.Command{
		Use:   "check RUN_DIR [--slo EXPR]...",
		Short: "Gate a stored run on SLOs: exit 3 when one fails",
		Long: `check judges a finished run directory against SLOs and exits 0 when every
SLO holds, 3 when one fails, 2 when an expression is malformed and 1 when
the run directory cannot be read or holds nothing to judge. It reads
summary.json, or rebuilds the summary from requests.jsonl when summary.json
is missing (a run cut short) or damaged. Without --slo it judges the SLOs
the run was made with (run.json).

No verdict without evidence: a run with no measured request that succeeded
(none at all, only warm-up ones, or every one failed) exits 1, and so does a
run that did not finish (interrupted, stopped by --abort-on-fail, killed, or
holding fewer requests than planned), saying how much of it there is;
--allow-partial judges such a run as it is.

An SLO is METRIC.STAT OP VALUE: ttft.p99<500ms, itl.p95<=40ms, e2e.max<30s,
error_rate<1%, throughput.output_tokens_per_s>=2000, goodput.ratio>=0.95.
Latency metrics: lag ttfb ttft ttfo icl itl tpot e2e; statistics: min mean
p50 p90 p95 p99 p99.9 max; latencies need a unit (us, ms, s).

--goodput recomputes which requests count toward goodput (goodput.ratio,
goodput.requests_per_s) from the records, with per-request conditions;
without it, the run's own goodput conditions (run.json) are used.`,
		Example: `  streamgauge check results/nightly --slo 'ttft.p99<500ms' --slo 'error_rate<1%'
  streamgauge check results/nightly --slo 'ttft.p99<500ms,e2e.max<30s' --junit slo.xml --markdown "$GITHUB_STEP_SUMMARY"
  streamgauge check results/nightly --goodput 'ttft<=500ms,tpot<=50ms' --slo 'goodput.ratio>=0.95'
  streamgauge check results/nightly --format json
  streamgauge check results/interrupted --slo 'ttft.p99<500ms' --allow-partial`,
		Args: argsUsage(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.validate(); err != nil {
				return err
			}
			if err := checkOutputs(outputPath{"--markdown", out.markdown, outAppend}, outputPath{"--junit", junit, outFile}); err != nil {
				return err
			}
			g, err := analysis.ParseGoodput(goodput)
			if err != nil {
				return usageError(prefixLines("--goodput ", err))
			}
			parsed, err := analysis.ParseSLOs(slos)
			if err != nil {
				return usageError(prefixLines("--slo ", err))
			}
			dir := args[0]
			if err := checkRunDir(dir); err != nil {
				return err
			}
			own, err := readRunDefinition(dir)
			if err != nil {
				return err
			}
			if len(slos) == 0 {
				if parsed, err = own.slos(dir); err != nil {
					return err
				}
			}
			if g == nil && own.Goodput != "" {
				// Judge goodput as the run defined it, whatever the version
				// that wrote its records.
				if g, err = analysis.ParseGoodput(own.Goodput); err != nil {
					return usageError(prefixLines(filepath.Join(dir, results.RunFile)+": goodput ", err))
				}
			}
			st, err := inspectRun(e, dir, true)
			if err != nil {
				return err
			}
			sum, _, err := analysis.LoadSummary(dir, g)
			if err != nil {
				return runError(err)
			}
			// No verdict without evidence: a run that did not finish, or
			// one with nothing measured, is not a pass.
			partial := st.Partial(sum)
			if partial != "" && !allowPartial {
				return runErrorf("%s; pass --allow-partial to judge it anyway", partial)
			}
			if err := analysis.RequireEvidence("run "+dir, sum.Requests); err != nil {
				return runError(err)
			}
			if partial != "" {
				e.warnf("%s; judged as it is (--allow-partial)", partial)
			}
			if sum.GeneratorSaturated {
				e.warnf("%s: %s: latencies may be understated", dir, sum.SaturationNote())
			}
			if c := analysis.ClampedWarning(sum); c != "" {
				e.warnf("%s: %s", dir, c)
			}
			res := analysis.EvaluateSLOs(sum, parsed)
			switch out.format {
			case "markdown":
				err = report.WriteMarkdown(e.stdout, sum, res)
			case "json":
				err = report.WriteSLOJSON(e.stdout, res)
			default:
				err = report.WriteSLOTable(e.stdout, res)
			}
			if err != nil {
				return runError(err)
			}
			if out.markdown != "" {
				if err := appendTo(out.markdown, func(w io.Writer) error { return report.WriteMarkdown(w, sum, res) }); err != nil {
					return runErrorf("--markdown: %w", err)
				}
			}
			if junit != "" {
				if err := writeFileAtomic(junit, func(w io.Writer) error { return report.WriteJUnit(w, suite, res) }); err != nil {
					return runErrorf("--junit: %w", err)
				}
			}
			if failed := countFailed(res); failed > 0 {
				return &exitError{code: exitSLO, err: fmt.Errorf("%s: %d of %d SLOs failed", dir, failed, len(res))}
			}
			return nil
		},
	}
	out.add(cmd)
	f := cmd.Flags()
	f.StringArrayVar(&slos, "slo", nil, "SLO expression, e.g. 'ttft.p99<500ms' (repeatable, or comma-separated)")
	f.StringVar(&goodput, "goodput", "", "recompute goodput with per-request conditions, e.g. 'ttft<=500ms,tpot<=50ms'")
	f.StringVar(&junit, "junit", "", "write a JUnit XML report to FILE, one test case per SLO")
	f.StringVar(&suite, "junit-suite", "streamgauge", "test suite name in the JUnit report")
	f.BoolVar(&allowPartial, "allow-partial", false, "judge a run that did not finish (interrupted, aborted, killed, fewer requests than planned) instead of exiting 1")
	return cmd
}

// inspectRun prints, once, what is wrong with a run directory's files
// before a command reads them: a torn last line of requests.jsonl (every
// reader skips it), and, when the command uses the summary, a summary.json
// missing or damaged and so rebuilt from the records.
func inspectRun(e *env, dir string, usesSummary bool) (*analysis.RunState, error) {
	st, err := analysis.InspectRun(dir)
	if err != nil {
		return nil, runError(err)
	}
	if note := st.RunNote(); note != "" {
		e.warnf("%s", note)
	}
	if st.Torn != nil {
		e.warnf("%s", st.Torn)
	}
	if note := st.SummaryNote(); usesSummary && note != "" {
		fmt.Fprintf(e.stderr, "streamgauge: %s\n", note)
	}
	return st, nil
}

// prefixLines prefixes each line of err (one per bad expression).
func prefixLines(prefix string, err error) error {
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return errors.New(strings.Join(lines, "\n"))
}

// runDefinition is what check reads of run.json's profile.
type runDefinition struct {
	SLO     []string `json:"slo"`
	Goodput string   `json:"goodput"`
}

// readRunDefinition reads dir's run.json profile; a missing or damaged
// run.json is an empty profile.
func readRunDefinition(dir string) (runDefinition, error) {
	var info struct {
		Profile runDefinition `json:"profile"`
	}
	err := results.ReadJSON(dir, results.RunFile, &info)
	switch {
	case results.IsDamaged(err):
		return runDefinition{}, nil // inspectRun warns, naming the file
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return runDefinition{}, runError(err)
	}
	return info.Profile, nil
}

// slos parses the SLOs the run was made with.
func (p runDefinition) slos(dir string) ([]analysis.SLO, error) {
	if len(p.SLO) == 0 {
		return nil, usagef("no SLOs to check: give --slo EXPR (e.g. --slo 'ttft.p99<500ms'); %s was run without any", dir)
	}
	slos, err := analysis.ParseSLOs(p.SLO)
	if err != nil {
		return nil, usageError(prefixLines(filepath.Join(dir, results.RunFile)+": slo ", err))
	}
	return slos, nil
}

func countFailed(res []analysis.SLOResult) int {
	n := 0
	for _, r := range res {
		if !r.Pass {
			n++
		}
	}
	return n
}
