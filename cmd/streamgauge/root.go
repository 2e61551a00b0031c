package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/streamgauge/streamgauge/loadgen"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// env is the process environment a command reads; tests replace it.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) (string, bool)
	// stopNow is closed by a second signal: a run stops at once.
	stopNow <-chan struct{}
	// drain is the running command's --drain-timeout in ns (0 = the
	// default after an interrupt), which bounds how long the process may
	// take to stop after a signal.
	drain atomic.Int64
}

// setDrain records the command's drain timeout for the signal handler.
func (e *env) setDrain(d time.Duration) { e.drain.Store(int64(d)) }

// stopSlack is how long after its drain a signaled process may take to
// write its records, summary and table: the process exits within
// --drain-timeout + stopSlack of the first signal, and within stopSlack of
// the second, whatever its requests are doing.
const stopSlack = 2 * time.Second

// run executes the command line args and returns the exit code.
//
// The first SIGINT or SIGTERM cancels ctx: a run stops scheduling, lets
// requests in flight finish for up to --drain-timeout (10 s by default),
// records the rest as canceled, writes its summary and prints the table. A
// second signal stops the run at once: requests in flight are recorded as
// canceled and the summary is written. Both are hard bounds: whatever a
// request is doing, the process exits within the drain + stopSlack of the
// first signal and within stopSlack of the second (a third exits at once);
// every finished request is already in requests.jsonl (records are written
// as they finish) and `streamgauge report` rebuilds a missing summary.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigs := make(chan os.Signal, 3)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	finished := make(chan struct{})
	defer close(finished)
	stopNow := make(chan struct{})
	e := &env{stdout: stdout, stderr: stderr, getenv: os.LookupEnv, stopNow: stopNow}
	go watchSignals(sigs, finished, cancel, stopNow, e, stderr)
	root := newRoot(e)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err != nil {
		printError(stderr, err)
	}
	return codeOf(err)
}

// watchSignals carries out run's signal handling until finished is closed.
func watchSignals(sigs <-chan os.Signal, finished <-chan struct{}, cancel context.CancelFunc, stopNow chan<- struct{}, e *env, stderr io.Writer) {
	// exit ends the process when the command did not end in time. The
	// message is written without waiting: a stderr nobody reads must not
	// hold the exit.
	exit := func(msg string) {
		said := make(chan struct{})
		go func() { fmt.Fprintln(stderr, msg); close(said) }()
		select {
		case <-said:
		case <-time.After(100 * time.Millisecond):
		}
		os.Exit(exitRun)
	}
	var s os.Signal
	select {
	case s = <-sigs:
	case <-finished:
		return
	}
	drain := time.Duration(e.drain.Load())
	if drain <= 0 {
		drain = loadgen.DefaultInterruptDrain
	}
	fmt.Fprintf(stderr, "streamgauge: %s: stopping; requests in flight may finish (up to --drain-timeout %s); signal again to stop now\n", s, drain)
	cancel()
	bound := time.NewTimer(drain + stopSlack)
	defer bound.Stop()
	select {
	case s = <-sigs:
	case <-bound.C:
		exit(fmt.Sprintf("streamgauge: still not stopped %s after the signal; exiting; finished requests are in requests.jsonl", drain+stopSlack))
	case <-finished:
		return
	}
	fmt.Fprintf(stderr, "streamgauge: %s again: stopping now; requests in flight are recorded as canceled; signal again to exit at once\n", s)
	close(stopNow)
	bound.Reset(stopSlack)
	select {
	case <-sigs:
		exit("streamgauge: exiting at once; finished requests are in requests.jsonl")
	case <-bound.C:
		exit(fmt.Sprintf("streamgauge: still not stopped %s after the second signal; exiting; finished requests are in requests.jsonl", stopSlack))
	case <-finished:
	}
}

// printError prints each line of err once, prefixed with the tool's name.
func printError(w io.Writer, err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			fmt.Fprintf(w, "streamgauge: %s\n", line)
		}
	}
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "streamgauge",
		Short: "Load-test streaming LLM inference endpoints",
		Long: `streamgauge sends realistic traffic to a streaming LLM endpoint, times every
streamed token (ttft, itl, tpot, e2e) in HDR histograms, and judges runs
against SLOs. With no --target, run drives the built-in simulator.`,
		Example: `  streamgauge run demo
  streamgauge run --target http://127.0.0.1:8000 --api openai-chat --model M --rate 5 --duration 60s`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return usageError(fmt.Errorf("%w (see --help)", err))
	})
	root.AddCommand(newRunCmd(e), newServeCmd(e), newReportCmd(e), newCheckCmd(e), newCompareCmd(e), newSweepCmd(e), newMergeCmd(e), newProfilesCmd(e), newVersionCmd(e))
	return root
}

// argsUsage wraps a cobra positional-args check so violations exit 2.
func argsUsage(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError(fmt.Errorf("%s: %w", cmd.CommandPath(), err))
		}
		return nil
	}
}

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version",
		Example: "  streamgauge version",
		Args:    argsUsage(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(e.stdout, "streamgauge %s\n", version)
			return err
		},
	}
}
