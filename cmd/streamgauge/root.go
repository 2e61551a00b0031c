package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/streamgauge/streamgauge/internal/secret"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// env is the process environment a command reads; tests replace it.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) (string, bool)
}

// run executes the command line args and returns the exit code.
//
// The first SIGINT or SIGTERM cancels ctx: a run stops scheduling, lets
// requests in flight finish for up to --drain-timeout (10 s by default),
// writes its summary and prints the table. A second signal exits at once;
// every finished request is already in requests.jsonl (records are written as
// they finish) and `streamgauge report` rebuilds the summary.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case s := <-sigs:
			fmt.Fprintf(stderr, "streamgauge: %s: stopping; requests in flight may finish (up to --drain-timeout); signal again to stop now\n", s)
			cancel()
		case <-finished:
			return
		}
		select {
		case s := <-sigs:
			fmt.Fprintf(stderr, "streamgauge: %s again: stopping now; finished requests are in requests.jsonl\n", s)
			os.Exit(exitRun)
		case <-finished:
		}
	}()
	e := &env{stdout: stdout, stderr: stderr, getenv: os.LookupEnv}
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

// printError prints each line of err once, prefixed with the tool's name,
// with anything shaped like a credential masked (the library masks the
// values it knows; this is the last line of defence for the rest).
func printError(w io.Writer, err error) {
	for _, line := range strings.Split(secret.Scrub(err.Error()), "\n") {
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
