package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/streamgauge/streamgauge/internal/nearest"
	"github.com/streamgauge/streamgauge/internal/secret"
	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/profiles"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// env is the process environment a command reads; tests replace it.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) (string, bool)
	// environ lists the environment as KEY=VALUE, to notice misspelled
	// STREAMGAUGE_* variables; nil skips that check.
	environ func() []string
	// stopNow is closed by a second signal: a run stops at once.
	stopNow <-chan struct{}
	// drain is the running command's --drain-timeout in ns (0 = the
	// default after an interrupt), which bounds how long the process may
	// take to stop after a signal.
	drain atomic.Int64
}

// setDrain records the command's drain timeout for the signal handler.
func (e *env) setDrain(d time.Duration) { e.drain.Store(int64(d)) }

// warnf prints one warning line on stderr: "streamgauge: warning: ...".
func (e *env) warnf(format string, a ...any) {
	fmt.Fprintf(e.stderr, "streamgauge: warning: "+format+"\n", a...)
}

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
	e := &env{stdout: stdout, stderr: stderr, getenv: os.LookupEnv, environ: os.Environ, stopNow: stopNow}
	root := newRoot(e)
	go watchSignals(sigs, finished, cancel, stopNow, e, stderr, hasDrain(root, args))
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err != nil {
		printError(stderr, err)
	}
	return codeOf(err)
}

// hasDrain reports whether the command args run has --drain-timeout, so
// the first signal's message names it only for commands that have it.
func hasDrain(root *cobra.Command, args []string) bool {
	c, _, err := root.Find(args)
	return err == nil && c.Flags().Lookup("drain-timeout") != nil
}

// watchSignals carries out run's signal handling until finished is closed.
func watchSignals(sigs <-chan os.Signal, finished <-chan struct{}, cancel context.CancelFunc, stopNow chan<- struct{}, e *env, stderr io.Writer, drains bool) {
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
	if drains {
		fmt.Fprintf(stderr, "streamgauge: %s: stopping; requests in flight may finish (up to --drain-timeout %s); signal again to stop now\n", s, drain)
	} else {
		fmt.Fprintf(stderr, "streamgauge: %s: stopping; signal again to stop now\n", s)
	}
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
		Version:       version,
		// A word that is no command is a usage error with a suggestion
		// (cobra's own check exits 1 over three lines).
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(cmd, args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	root.SuggestionsMinimumDistance = 2
	root.SetVersionTemplate("streamgauge {{.Version}}\n")
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		RunE: func(_ *cobra.Command, args []string) error {
			c, _, err := root.Find(args)
			if len(args) > 0 && (err != nil || c == root) {
				return unknownCommand(root, args[0])
			}
			return c.Help()
		},
	})
	root.SetFlagErrorFunc(flagError)
	root.AddCommand(newRunCmd(e), newServeCmd(e), newReportCmd(e), newCheckCmd(e), newCompareCmd(e), newSweepCmd(e), newMergeCmd(e), newCalibrateCmd(e), newDoctorCmd(e), newProfilesCmd(e), newVersionCmd(e))
	return root
}

// unknownCommand is the usage error for a word that is no command.
func unknownCommand(root *cobra.Command, word string) error {
	hint := ""
	if sug := root.SuggestionsFor(word); len(sug) > 0 {
		hint = fmt.Sprintf(" (did you mean %q?)", sug[0])
	}
	return usagef("unknown command %q%s; see streamgauge --help", word, hint)
}

// flagError turns a flag the command line cannot parse into one usage line
// naming the flag: the nearest flag for a misspelled one, and what is wrong
// with a value in the words a profile's values use.
func flagError(cmd *cobra.Command, err error) error {
	if !cmd.HasParent() && len(cmd.Flags().Args()) > 0 {
		// `streamgauge runn --rate 5`: the word, not the flag, is wrong.
		return unknownCommand(cmd, cmd.Flags().Args()[0])
	}
	var ne *pflag.NotExistError
	if errors.As(err, &ne) && ne.GetSpecifiedShortnames() == "" {
		name := ne.GetSpecifiedName()
		var names []string
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden {
				names = append(names, f.Name)
			}
		})
		hint := ""
		n := strings.TrimLeft(name, "-")
		// As for profile keys: a short name gets only a near miss, so that
		// --port is not "corrected" to --ttft.
		if best := nearest.Name(n, names, min(3, max(1, len(n)/3))); best != "" {
			hint = fmt.Sprintf(" (did you mean --%s?)", best)
		} else if (n == "port" || n == "host") && cmd.Flags().Lookup("addr") != nil {
			// vLLM's and SGLang's servers take --host and --port.
			hint = " (the address is --addr HOST:PORT, e.g. --addr 127.0.0.1:8000)"
		}
		return usagef("unknown flag: --%s%s; see %s --help", name, hint, cmd.CommandPath())
	}
	var ie *pflag.InvalidValueError
	if errors.As(err, &ie) {
		kind := profiles.KindString
		switch ie.GetFlag().Value.Type() {
		case "duration":
			kind = profiles.KindDuration
		case "float64", "float32":
			kind = profiles.KindFloat
		case "int", "int64", "int32":
			kind = profiles.KindInt
		case "uint", "uint64", "uint32":
			kind = profiles.KindUint
		case "bool":
			kind = profiles.KindBool
		}
		if _, perr := profiles.ParseText(kind, ie.GetValue()); perr != nil {
			return usageError(&profiles.SettingError{Where: "--" + ie.GetFlag().Name, Value: ie.GetValue(), HasValue: true, Problem: perr.Error()})
		}
	}
	return usagef("%w; see %s --help", err, cmd.CommandPath())
}

// argsUsage wraps a cobra positional-args check so violations exit 2.
func argsUsage(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usagef("%s: %w", cmd.CommandPath(), err)
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
