package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/streamgauge/streamgauge/harness"
	"github.com/streamgauge/streamgauge/internal/secret"
	"github.com/streamgauge/streamgauge/monitor"
)

// liveSettings are the run command's own flags for the live status.
type liveSettings struct {
	quiet bool
	// junit and markdown are the CI outputs of the run's SLO verdicts.
	junit, markdown string
	// interval overrides the status rate (hidden; tests shorten it).
	interval time.Duration
}

// addLiveFlags defines the live status flags. They are not profile keys:
// how a run is watched is no part of what it does.
func addLiveFlags(fs *pflag.FlagSet) {
	fs.Bool("quiet", false, "no live status on stderr (STREAMGAUGE_QUIET); notices and the results table still print")
	fs.Duration("status-interval", 0, "how often the live status is written (default: 4 times a second on a terminal, every 10s otherwise)")
	_ = fs.MarkHidden("status-interval")
	fs.String("junit", "", "write the SLO verdicts as a JUnit XML report to FILE (one test case per SLO)")
	fs.String("markdown", "", "append the summary and SLO table in markdown to FILE (e.g. \"$GITHUB_STEP_SUMMARY\")")
}

// liveFlags reads the live status flags (and STREAMGAUGE_QUIET).
func liveFlags(fs *pflag.FlagSet, getenv func(string) (string, bool)) (liveSettings, error) {
	var ls liveSettings
	var err error
	if ls.quiet, err = fs.GetBool("quiet"); err != nil {
		return ls, err
	}
	if v, ok := getenv("STREAMGAUGE_QUIET"); ok && !fs.Changed("quiet") {
		if ls.quiet, err = strconv.ParseBool(v); err != nil {
			return ls, fmt.Errorf("STREAMGAUGE_QUIET: %q is not a boolean", v)
		}
	}
	if ls.junit, err = fs.GetString("junit"); err != nil {
		return ls, err
	}
	if ls.markdown, err = fs.GetString("markdown"); err != nil {
		return ls, err
	}
	if ls.interval, err = fs.GetDuration("status-interval"); err != nil {
		return ls, err
	}
	if ls.interval < 0 {
		return ls, fmt.Errorf("status-interval: %s must not be negative", ls.interval)
	}
	return ls, nil
}

// live is a run's status on stderr: a block redrawn in place when stderr is
// a terminal, a plain line every 10 s when it is not (a CI log), nothing
// with --quiet. Notices go through it so they never tear the block; it
// never writes to stdout, which carries the results table.
type live struct {
	stderr io.Writer
	mon    *monitor.Monitor
	status *monitor.Status
	unhook func() bool
}

func startLive(ctx context.Context, e *env, ls liveSettings) *live {
	l := &live{stderr: e.stderr}
	if ls.quiet {
		return l
	}
	l.mon = monitor.New()
	opts := []monitor.StatusOption{monitor.Prefix("streamgauge: "), monitor.Every(ls.interval)}
	if fd, ok := terminal(e.stderr); ok {
		if t, _ := e.getenv("TERM"); t != "dumb" {
			opts = append(opts, monitor.Terminal(func() int {
				w, _, err := term.GetSize(fd)
				if err != nil {
					return 0
				}
				return w
			}))
		}
	}
	l.status = monitor.NewStatus(e.stderr, l.mon, opts...)
	// An interrupt writes its notice straight to the terminal (and the
	// terminal echoes ^C): leave the block be from then on.
	l.unhook = context.AfterFunc(ctx, l.status.Freeze)
	l.status.Start()
	return l
}

// terminal reports whether w is a terminal, and its file descriptor.
func terminal(w io.Writer) (int, bool) {
	f, ok := w.(interface{ Fd() uintptr })
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// logf writes one notice line on stderr.
func (l *live) logf(format string, a ...any) {
	w := l.stderr
	if l.status != nil {
		w = l.status
	}
	fmt.Fprintf(w, "streamgauge: %s\n", secret.Scrub(fmt.Sprintf(format, a...)))
}

// options feed the run's monitor.
func (l *live) options() []harness.Option {
	if l.mon == nil {
		return nil
	}
	return []harness.Option{harness.WithMonitor(l.mon)}
}

// stop erases the status, before the results table is written.
func (l *live) stop() {
	if l.status == nil {
		return
	}
	l.unhook()
	l.status.Stop()
}
