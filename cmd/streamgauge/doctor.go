package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/harness"
	"github.com/streamgauge/streamgauge/internal/hostload"
	"github.com/streamgauge/streamgauge/internal/secret"
	"github.com/streamgauge/streamgauge/internal/simproc"
	"github.com/streamgauge/streamgauge/report"
	"github.com/streamgauge/streamgauge/results"
)

// doctorFormats are the --format values of doctor.
var doctorFormats = []string{"table", "json"}

type doctorFlags struct {
	probe, budget, maxTTFTError, maxLag time.Duration
	max, precision                      float64
	format                              string
	json                                bool
}

func newDoctorCmd(e *env) *cobra.Command {
	var f doctorFlags
	cmd := &cobra.Command{
		Use:   "doctor [PROFILE|FILE]",
		Short: "Find the load this machine can drive without distorting the numbers",
		Long: `doctor answers "is my client the bottleneck?". It runs the workload that run
would send with the same arguments (lengths, arrival process, API, rate or
concurrency) against the built-in simulator with fixed, known timing
(--sim-ttft, default 50ms; --sim-itl, default 10ms), started as a separate
process that logs when it sent every frame. Comparing what the client timed
with that truth gives the client's own error on this machine: ttft and gap
error, send lag, and its CPU per request and per frame, with the simulator's
CPU measured apart.

It probes the profile's own rate (or concurrency), doubles until a limit
breaks (ttft error p50 --max-ttft-error, lag p99 --max-lag, or a failed
request), then bisects, each probe --probe-duration long and all of them
within --budget, and prints one row per probe and the verdict: the highest
load this machine drives within the limits.

Exit codes: 0 the planned load is within that ceiling; 3 it is above it (this
machine would distort the numbers: shard the load, see docs/distributed.md);
1 doctor could not run or no probe completed a request; 2 usage.`,
		Example: `  streamgauge doctor chat
  streamgauge doctor --rate 300 --input-tokens 128 --output-tokens 128
  streamgauge doctor my-profile.yaml --sim-ttft 100ms --sim-itl 15ms --budget 3m
  streamgauge doctor chat --json > doctor.json`,
		Args: argsUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDoctor(cmd, e, args, &f)
		},
	}
	addProfileFlags(cmd.Flags())
	fs := cmd.Flags()
	fs.DurationVar(&f.probe, "probe-duration", harness.DefaultProbeDuration, "how long each probe schedules requests")
	fs.DurationVar(&f.budget, "budget", harness.DefaultDoctorBudget, "bound on the probes' total time: no probe starts that would end beyond it")
	fs.DurationVar(&f.maxTTFTError, "max-ttft-error", harness.DefaultMaxTTFTError, "limit: the client's ttft error p50 against the simulator's truth")
	fs.DurationVar(&f.maxLag, "max-lag", harness.DefaultMaxLag, "limit: the send lag p99 (open loop)")
	fs.Float64Var(&f.max, "max-level", 0, "highest rate (or concurrency) to probe (0 = no bound)")
	fs.Float64Var(&f.precision, "precision", harness.DefaultDoctorPrecision, "stop bisecting when the bracket is narrower than this fraction")
	fs.StringVar(&f.format, "format", "table", "output: "+strings.Join(doctorFormats, "|"))
	fs.BoolVar(&f.json, "json", false, "same as --format json")
	return cmd
}

func runDoctor(cmd *cobra.Command, e *env, args []string, f *doctorFlags) error {
	p, err := loadProfile(cmd, e, args)
	if err != nil {
		return err
	}
	// Every setting is checked before a directory is made or a probe runs.
	for _, c := range []struct {
		name string
		v    time.Duration
	}{{"probe-duration", f.probe}, {"budget", f.budget}, {"max-ttft-error", f.maxTTFTError}, {"max-lag", f.maxLag}} {
		if c.v <= 0 {
			return usagef("--%s %s: must be above 0", c.name, c.v)
		}
	}
	if !(f.precision > 0 && f.precision < 1) {
		return usagef("--precision %g: want a fraction in (0, 1), e.g. 0.1 for 10%%", f.precision)
	}
	if !(f.max >= 0) || math.IsInf(f.max, 0) {
		return usagef("--max-level %g: want the highest level to probe, above 0 (or 0 for no bound)", f.max)
	}
	if p.Duration == 0 && p.Requests == 0 {
		// The probes set their own length; a run's settings need one.
		p.Duration = f.probe
	}
	if err := p.Validate(); err != nil {
		return usageError(err)
	}
	format := f.format
	if f.json {
		if cmd.Flags().Changed("format") && f.format != "json" {
			return usagef("--json contradicts --format %s: give one of them", f.format)
		}
		format = "json"
	}
	if !slices.Contains(doctorFormats, format) {
		return usagef("--format %q: want one of %s", format, strings.Join(doctorFormats, ", "))
	}
	if p.Target != "" {
		e.warnf("doctor probes its own simulator: --target %s is not contacted (the workload is what doctor measures)", secret.URL(p.Target))
	}
	var ignored []string
	for _, k := range simKeys(p) {
		if k != "sim-ttft" && k != "sim-itl" {
			ignored = append(ignored, k)
		}
	}
	if len(ignored) > 0 {
		e.warnf("doctor's simulator is the fixed engine (--sim-ttft, --sim-itl): %s ignored", strings.Join(ignored, ", "))
	}
	do := harness.DoctorOptions{
		ProbeDuration: f.probe, Budget: f.budget, MaxTTFTError: f.maxTTFTError, MaxLag: f.maxLag,
		Max: f.max, Precision: f.precision,
		LoadAverage: func() float64 { return hostload.Average()[0] },
	}
	var ce *harness.ConfigError
	if err := harness.CheckDoctor(p, do); errors.As(err, &ce) {
		return usageError(ce.Err)
	}
	bin, err := os.Executable()
	if err != nil {
		return runErrorf("doctor starts the simulator from its own binary: %w", err)
	}
	do.StartSim = func(ctx context.Context, ttft, itl time.Duration, truth string) (harness.SimServer, error) {
		return simproc.Start(ctx, bin, simproc.Spec{TTFT: ttft, ITL: itl, Truth: truth})
	}
	if err := checkOutputs(outputPath{"--out", p.Out, outDir}); err != nil {
		return err
	}
	dir, keep := p.Out, p.Out != ""
	if keep {
		if _, err := os.Stat(filepath.Join(dir, analysis.DoctorFile)); err == nil {
			return usagef("--out %s already holds a doctor result; choose another --out", dir)
		}
		if probes, _ := filepath.Glob(filepath.Join(dir, "probe-*")); len(probes) > 0 {
			// An interrupted doctor's: its probes' directories would clash.
			return usagef("--out %s already holds doctor probes (%s); choose another --out", dir, filepath.Base(probes[0]))
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return runErrorf("--out: %w", err)
		}
	} else {
		if dir, err = os.MkdirTemp("", "streamgauge-doctor-"); err != nil {
			return runErrorf("doctor work directory: %w", err)
		}
		defer os.RemoveAll(dir)
	}
	raiseFiles()
	if _, set := e.getenv("GOGC"); !set {
		debug.SetGCPercent(harness.GCPercent)
	}
	do.Dir = dir
	d, runErr := harness.Doctor(cmd.Context(), p, do,
		harness.WithLog(func(format string, a ...any) { fmt.Fprintf(e.stderr, "streamgauge: "+format+"\n", a...) }),
		harness.WithGetenv(e.getenv), harness.WithVersion(version), harness.WithStopNow(e.stopNow))
	if errors.As(runErr, &ce) {
		return usageError(ce.Err)
	}
	if d == nil || len(d.Probes) == 0 {
		if runErr == nil {
			runErr = errors.New("no probe ran")
		}
		return doctorError(runErr)
	}
	if keep {
		if err := results.WriteJSON(dir, analysis.DoctorFile, d); err != nil && runErr == nil {
			runErr = err
		}
	}
	var werr error
	if format == "json" {
		werr = report.WriteDoctorJSON(e.stdout, d)
	} else {
		werr = report.WriteDoctorTable(e.stdout, d)
		if keep {
			fmt.Fprintf(e.stdout, "probe run directories and truth logs in %s\n", dir)
		}
	}
	switch {
	case runErr != nil:
		return doctorError(runErr)
	case werr != nil:
		return runError(werr)
	case !d.Measured():
		return runErrorf("doctor: no probe completed a request, so nothing was measured (probe 1: %s)", d.Probes[0].Why)
	case d.Planned > 0 && !d.Within:
		return &exitError{code: exitSLO, err: fmt.Errorf("planned %s %s is above this machine's ceiling for this workload (%s)",
			analysis.FormatLevel(d.Planned), d.Unit(), ceilingText(d))}
	}
	return nil
}

// doctorError is runErr as doctor's exit 1, said once as doctor's.
func doctorError(runErr error) error {
	if strings.HasPrefix(runErr.Error(), "doctor") {
		return runError(runErr)
	}
	return runErrorf("doctor: %w", runErr)
}

func ceilingText(d *analysis.Doctor) string {
	if d.Ceiling <= 0 {
		return "no probe passed"
	}
	return analysis.FormatLevel(d.Ceiling) + " " + d.Unit()
}

// raiseFiles lifts the open-file limit as far as the hard limit allows:
// the probes climb to hundreds of streams, each a connection.
func raiseFiles() {
	for _, n := range []uint64{65536, 16384, 4096} {
		if ensureFiles(n, "doctor") == nil {
			return
		}
	}
}
