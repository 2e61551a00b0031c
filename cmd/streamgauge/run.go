package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/harness"
	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/report"
)

func newRunCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run [PROFILE|FILE]",
		Short: "Run a load test and write a run directory",
		Long: `run sends requests on a schedule (--rate, open loop) or from a fixed number
of users (--concurrency, closed loop), times every streamed token, writes
requests.jsonl, run.json and summary.json to the run directory, and prints the
results table. Settings come from a built-in profile or a YAML file, then
STREAMGAUGE_<FLAG> environment variables, then flags. With no --target the
built-in simulator is started on 127.0.0.1.`,
		Example: `  streamgauge run demo
  streamgauge run --rate 20 --requests 200 --input-tokens uniform:100,900 --output-tokens 128
  streamgauge run --target http://localhost:8000 --api openai-chat --model M --rate 5 --duration 60s
  OPENAI_API_KEY=... streamgauge run --target https://api.example.com --api-key-env OPENAI_API_KEY --ignore-eos=false --concurrency 4 --requests 20`,
		Args: argsUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := loadProfile(cmd, e, args)
			if err != nil {
				return err
			}
			if err := indexedJobShard(e, &p); err != nil {
				return err
			}
			if err := p.Validate(); err != nil {
				return usageError(err)
			}
			if err := checkSimSettings(cmd.Flags(), e, p); err != nil {
				return err
			}
			ls, err := liveFlags(cmd.Flags(), e.getenv)
			if err != nil {
				return usageError(err)
			}
			if err := checkOutputs(runOutputs(p.Out, ls)...); err != nil {
				return err
			}
			return runProfile(cmd.Context(), e, p, ls)
		},
	}
	addProfileFlags(cmd.Flags())
	addLiveFlags(cmd.Flags())
	return cmd
}

func runProfile(ctx context.Context, e *env, p profiles.Profile, ls liveSettings) error {
	if err := ensureFiles(filesNeeded(p)); err != nil {
		return usageError(err)
	}
	if _, set := e.getenv("GOGC"); !set {
		debug.SetGCPercent(harness.GCPercent)
	}
	lv := startLive(ctx, e, ls)
	res, err := harness.Run(ctx, p, append(lv.options(), harness.WithLog(lv.logf),
		harness.WithGetenv(e.getenv), harness.WithVersion(version), harness.WithStopNow(e.stopNow))...)
	lv.stop()
	if res != nil {
		if werr := report.WriteTable(e.stdout, res.Summary); werr != nil && err == nil {
			err = werr
		}
		if len(res.Lost) > 0 {
			fmt.Fprintln(e.stdout, "lost during the run (last 30 s):")
			report.WriteSLOTable(e.stdout, res.Lost)
		}
		if len(res.Summary.SLO) > 0 {
			report.WriteSLOTable(e.stdout, res.Summary.SLO)
		}
		if werr := writeGateFiles(res, ls); werr != nil && err == nil {
			err = werr
		}
		fmt.Fprintf(e.stdout, "run directory    %s\n", res.Dir)
	}
	var ce *harness.ConfigError
	switch {
	case errors.As(err, &ce):
		return usageError(ce.Err)
	case err != nil:
		return runError(err)
	case res == nil:
		return nil
	}
	// No verdict without evidence: a run with no measured request that
	// succeeded did not measure the target, whatever its SLOs say.
	if err := analysis.RequireEvidence("run "+res.Dir, res.Summary.Requests); err != nil {
		return runError(err)
	}
	if !res.Pass() {
		return &exitError{code: exitSLO, err: fmt.Errorf("SLO violated; see the table above and %s", res.Dir)}
	}
	if w := errorRateWarning(res.Summary); w != "" {
		e.warnf("%s", w)
	}
	return nil
}

// errorRateWarning is the line a run with failed requests and no SLO gets:
// nothing judged its errors, so it exits 0 however many there were.
func errorRateWarning(s *analysis.Summary) string {
	if len(s.SLO) > 0 || s.Requests.Failed == 0 {
		return ""
	}
	kinds := make([]string, 0, len(s.Errors))
	for k := range s.Errors {
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(a, b string) int { return cmp.Or(cmp.Compare(s.Errors[b], s.Errors[a]), cmp.Compare(a, b)) })
	for i, k := range kinds {
		kinds[i] = fmt.Sprintf("%d %s", s.Errors[k], k)
	}
	return fmt.Sprintf("%d of %d measured requests failed (error rate %.2f%%: %s) and no --slo judges them; gate on errors with e.g. --slo 'error_rate<1%%'",
		s.Requests.Failed, s.Requests.OK+s.Requests.Failed, 100*s.ErrorRate, strings.Join(kinds, ", "))
}

// writeGateFiles writes the CI outputs a run was asked for: a JUnit report
// (one test case per SLO) and a markdown summary appended to a file such as
// $GITHUB_STEP_SUMMARY.
func writeGateFiles(res *harness.Result, ls liveSettings) error {
	if ls.junit != "" {
		if err := writeFileAtomic(ls.junit, func(w io.Writer) error { return report.WriteJUnit(w, "streamgauge", res.Summary.SLO) }); err != nil {
			return fmt.Errorf("--junit: %w", err)
		}
	}
	if ls.markdown != "" {
		if err := appendTo(ls.markdown, func(w io.Writer) error { return report.WriteMarkdown(w, res.Summary, res.Summary.SLO) }); err != nil {
			return fmt.Errorf("--markdown: %w", err)
		}
	}
	return nil
}

// filesNeeded estimates the open files a run holds at its peak: one
// connection per concurrent stream (two with the in-process simulator, which
// holds the server's end too), plus room for the process's own files.
func filesNeeded(p profiles.Profile) (uint64, string) {
	streams, why := p.Concurrency, fmt.Sprintf("--concurrency %d", p.Concurrency)
	if p.MaxConcurrency > 0 {
		streams, why = p.MaxConcurrency, fmt.Sprintf("--max-concurrency %d", p.MaxConcurrency)
	}
	if st, err := loadgen.ParseStages(p.Stages); err == nil && loadgen.ClosedStages(st) {
		for _, s := range st {
			if s.Users > streams {
				streams, why = s.Users, fmt.Sprintf("a stage of %d users", s.Users)
			}
		}
	}
	need := uint64(streams)
	if p.Target == "" {
		need *= 2
	}
	return need + 256, why
}
