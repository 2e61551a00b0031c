package main

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/harness"
	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/report"
)

// sweepFormats are the --format values of sweep.
var sweepFormats = []string{"table", "markdown", "json", "html"}

type sweepFlags struct {
	rates, users, precision string
	auto                    bool
	maxRate                 float64
	maxUsers                int
	stage, cooldown         time.Duration
	format, output          string
	whatIf                  []string
}

func newSweepCmd(e *env) *cobra.Command {
	var f sweepFlags
	cmd := &cobra.Command{
		Use:   "sweep [PROFILE|FILE] --rates R,R,...|--concurrency-levels C,C,...|--auto",
		Short: "Run a profile at rising load: the latency-throughput curve and the capacity under SLOs",
		Long: `sweep runs the profile once per load level, each stage a run directory of its
own inside the sweep's directory (--out, default results/<UTC time>-<name>-sweep):
SWEEP_DIR/stage-001-rate-4/, ... with --cooldown between stages so the server
drains. It prints the curve (offered and sent rate, ttft/itl/tpot/e2e p50 and
p99, throughput, goodput, errors, verdict per stage) and stores it in
SWEEP_DIR/sweep.json and sweep.txt.

A stage passes when every --slo holds (without --slo: error_rate<1%) and it is
not saturated: its queue grew without bound, seen as the median ttft (from
the scheduled send) rising quarter by quarter to over twice the first
quarter's while requests in flight rise too, or the generator sending well
under the offered rate, or requests left unfinished. The capacity is the
highest level that passed below the lowest that failed, reported with both
stages' evidence.

  --rates 1,2,4,8          open-loop stages at these rates (req/s)
  --concurrency-levels 1,4 closed-loop stages with these many users
  --auto                   search: double from --rate (or --concurrency for a
                           closed-loop search; default 1) while stages pass,
                           then bisect to --precision; --max-rate / --max-users
                           bound the climb

Every run flag applies to each stage (the target, workload, --slo, --goodput,
--warmup, --seed); each stage runs for --stage-duration (default --duration,
else 30s), so every level is measured over the same window: --requests is
refused. --auto halves the rate no lower than a stage holding 10 requests.
Exit 3 when SLOs were given and no stage met them (a worker of a sharded
sweep exits 0: the merge judges). docs/sweeps.md explains the search and
what to watch.

A sweep too heavy for one machine is split over workers: each runs the same
command with --shard i/N (or --shards N in a Kubernetes Indexed Job) and one
--start-at T, and stage k starts at T + (k-1) x (stage-duration + cooldown)
on every worker, so the levels line up; requests still in flight at a
stage's end get half the cooldown. Then merge the workers' sweep
directories: streamgauge merge SWEEP_DIR... -o OUT. --auto cannot be
sharded (each level depends on the last stage's result); give --rates.

What-if: --what-if SETTING=VALUE,VALUE,... (repeatable) runs the same sweep on
several variants of the built-in simulator, every combination of the values
given (at most 16), one after the other, each into OUT/<variant>/ (e.g.
OUT/scheduler=chunked-prefill,max-batch=64/), then writes OUT/index.html (the
curves side by side) and prints each variant's capacity under the SLOs, its
goodput at each level and the best; the first variant is the baseline.
SETTING is scheduler (continuous, chunked-prefill, priority, static, fcfs),
max-batch, max-step-tokens, kv-tokens or prefix-cache. With
--sim-preset-file (streamgauge calibrate writes one) the variants are your
hardware: "would chunked prefill hold my SLOs at twice the traffic?" Not
with --target. An interrupted what-if keeps the variants it finished. It
takes variants x stages x (stage duration + the drain of the stage's
streams): the last example, 6 variants x 3 stages of 20 s with the chat
profile's long answers, runs for 10 to 20 minutes; the printed plan says at
least how long. docs/schedulers.md walks through a 1-minute one.`,
		Example: `  streamgauge sweep chat --rates 1,2,4,8,16 --stage-duration 60s
  streamgauge sweep --target http://127.0.0.1:8000 --auto --slo 'ttft.p99<500ms' --slo 'error_rate<1%' --precision 5% --max-rate 200
  streamgauge sweep profile.yaml --concurrency-levels 1,2,4,8,16,32 --stage-duration 30s --cooldown 10s
  streamgauge sweep --auto --concurrency 1 --slo 'tpot.p99<50ms' --max-users 256
  streamgauge sweep chat --auto --slo 'ttft.p99<500ms' -o capacity.html
  streamgauge sweep chat --rates 100,200,400 --shard 0/4 --start-at 2026-11-28T10:00:00Z --out results/sweep-1/worker-0
  streamgauge sweep chat --sim-preset-file examples/presets/h200-llama8b-hf-eager.yaml --what-if scheduler=continuous,chunked-prefill,priority --what-if max-batch=64,256 --rates 2,4,8 --stage-duration 20s --slo 'ttft.p99<2s' --out whatif/`,
		Args: argsUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSweep(cmd, e, args, f)
		},
	}
	fs := cmd.Flags()
	addProfileFlags(fs)
	fs.StringVar(&f.rates, "rates", "", "open-loop stages at these rates, req/s, comma-separated (e.g. 1,2,4,8)")
	fs.StringVar(&f.users, "concurrency-levels", "", "closed-loop stages with these many users, comma-separated (e.g. 1,2,4,8)")
	fs.BoolVar(&f.auto, "auto", false, "search for the highest level that meets the SLOs: double while stages pass, then bisect")
	fs.StringVar(&f.precision, "precision", "5%", "--auto: stop when the failing level is within this of the passing one")
	fs.Float64Var(&f.maxRate, "max-rate", 0, "--auto: highest rate to try, req/s (0 = no bound)")
	fs.IntVar(&f.maxUsers, "max-users", 0, "--auto closed loop: most users to try (0 = no bound)")
	fs.DurationVar(&f.stage, "stage-duration", 0, "length of each stage (default --duration, else 30s)")
	fs.DurationVar(&f.cooldown, "cooldown", 5*time.Second, "pause between stages, so the server drains")
	fs.StringVar(&f.format, "format", "table", "output: "+strings.Join(sweepFormats, "|")+" (html defaults to SWEEP_DIR/sweep.html)")
	fs.StringArrayVar(&f.whatIf, "what-if", nil, "run the sweep on each variant of the built-in simulator: SETTING=VALUE,VALUE (repeatable; scheduler, max-batch, max-step-tokens, kv-tokens, prefix-cache)")
	fs.StringVarP(&f.output, "output", "o", "", "write the output to this file instead of stdout; its extension (.txt, .md, .json, .html) names the format")
	return cmd
}

func runSweep(cmd *cobra.Command, e *env, args []string, f sweepFlags) error {
	format, err := formatFor(f.output, f.format, cmd.Flags().Changed("format"), sweepFormats)
	if err != nil {
		return err
	}
	f.format = format
	var variants []harness.Variant
	if len(f.whatIf) > 0 {
		// Every value is checked before the profile is even read.
		if variants, err = parseWhatIf(f.whatIf); err != nil {
			return err
		}
	}
	p, err := loadProfile(cmd, e, args)
	if err != nil {
		return err
	}
	if len(variants) > 0 {
		if err := checkWhatIf(cmd.Flags(), e, p, variants); err != nil {
			return err
		}
	}
	if err := checkSimSettings(cmd.Flags(), e, p); err != nil {
		return err
	}
	if givenBy(cmd.Flags(), e, "requests") != "" {
		return usagef("--requests: sweep stages are timed, so every level is measured over the same window; set their length with --stage-duration (or --duration)")
	}
	if err := indexedJobShard(e, &p); err != nil {
		return err
	}
	so, err := sweepOptions(cmd, p, f)
	if err != nil {
		return err
	}
	if len(variants) > 0 {
		return runWhatIf(cmd, e, p, so, variants, f)
	}
	if err := prepareSweepOut(&p, so, f.output, harness.DefaultSweepDir); err != nil {
		return err
	}
	sw, err := harness.Sweep(cmd.Context(), p, so,
		harness.WithLog(func(format string, a ...any) { fmt.Fprintf(e.stderr, "streamgauge: "+format+"\n", a...) }),
		harness.WithGetenv(e.getenv), harness.WithVersion(version))
	var ce *harness.ConfigError
	if errors.As(err, &ce) {
		return usageError(ce.Err)
	}
	if sw != nil && len(sw.Stages) > 0 {
		if werr := writeSweep(e, sw, p.Out, f); werr != nil && err == nil {
			err = werr
		}
	}
	_, shards, _ := p.ShardOf()
	switch {
	case err != nil:
		return runError(err)
	case sw != nil && sw.OK() == 0:
		return runErrorf("sweep: no stage completed a request (every request failed); the stages' requests.jsonl in %s say why", p.Out)
	case shards > 1:
		// A worker's stages hold its share of each level: the verdict is
		// the merged sweep's, and a worker that exited 3 would fail its
		// Indexed Job before the merge step.
		fmt.Fprintf(e.stderr, "streamgauge: this worker ran shard %s of each level; merge every worker's sweep directory for the curve and the verdict\n", p.Shard)
	case len(p.SLO) > 0 && !sw.Capacity.Found:
		return &exitError{code: exitSLO, err: errors.New("no stage met the SLOs: " + sw.CapacityLine())}
	}
	return nil
}

// sweepOptions reads the levels and the search of a sweep from its flags.
func sweepOptions(cmd *cobra.Command, p profiles.Profile, f sweepFlags) (harness.SweepOptions, error) {
	var err error
	so := harness.SweepOptions{Auto: f.auto, StageDuration: f.stage, Cooldown: f.cooldown}
	if f.rates != "" && f.users != "" {
		return so, usagef("give --rates (open loop) or --concurrency-levels (closed loop), not both")
	}
	if f.rates != "" {
		if so.Levels, err = parseLevels("rates", f.rates, false); err != nil {
			return so, usageError(err)
		}
	}
	if f.users != "" {
		if so.Levels, err = parseLevels("concurrency-levels", f.users, true); err != nil {
			return so, usageError(err)
		}
		so.Users = true
	}
	if f.auto {
		if len(so.Levels) > 0 {
			return so, usagef("--auto searches the levels itself; drop --rates / --concurrency-levels")
		}
		// The profile's load says what to search: users when --concurrency
		// is given (or the profile is closed loop), else rates.
		fl := cmd.Flags()
		so.Users = fl.Changed("concurrency") || (!fl.Changed("rate") && p.Rate == 0 && p.Concurrency > 0)
		if so.Precision, err = parseFraction(f.precision); err != nil {
			return so, usagef("--precision %q: %v", f.precision, err)
		}
		so.Max = f.maxRate
		if so.Users {
			so.Max = float64(f.maxUsers)
		}
	}
	if !f.auto && len(so.Levels) == 0 {
		return so, usagef("sweep: give --rates, --concurrency-levels or --auto")
	}
	return so, nil
}

// writeSweep prints or writes the sweep in the chosen format.
func writeSweep(e *env, sw *analysis.Sweep, dir string, f sweepFlags) error {
	out := f.output
	if f.format == "html" && out == "" {
		out = filepath.Join(dir, "sweep.html")
	}
	err := writeOutput(e, out, func(w io.Writer) error {
		switch f.format {
		case "markdown":
			return report.WriteSweepMarkdown(w, sw)
		case "json":
			return report.WriteSweepJSON(w, sw)
		case "html":
			return report.WriteSweepHTML(w, report.SweepPage(sw))
		}
		return report.WriteSweepTable(w, sw)
	})
	if err != nil {
		return err
	}
	if out != "" {
		fmt.Fprintf(e.stderr, "streamgauge: wrote %s\n", out)
	}
	fmt.Fprintf(e.stdout, "sweep directory  %s\n", dir)
	return nil
}

// parseLevels parses a comma-separated list of positive levels.
func parseLevels(flag, s string, whole bool) ([]float64, error) {
	var out []float64
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		v, err := strconv.ParseFloat(part, 64)
		if err != nil || !(v > 0) || (whole && v != float64(int(v))) {
			want := "a positive number"
			if whole {
				want = "a positive whole number"
			}
			return nil, fmt.Errorf("--%s: %q is not %s", flag, part, want)
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--%s: no levels in %q", flag, s)
	}
	return out, nil
}

// parseFraction reads "5%" or "0.05".
func parseFraction(s string) (float64, error) {
	s = strings.TrimSpace(s)
	scale := 1.0
	if t, ok := strings.CutSuffix(s, "%"); ok {
		s, scale = strings.TrimSpace(t), 0.01
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errors.New("want a percentage such as 5% or a fraction such as 0.05")
	}
	v *= scale
	if !(v > 0 && v < 1) {
		return 0, errors.New("want a value between 0% and 100%")
	}
	return v, nil
}

// sweepFilesNeeded is run's estimate at the sweep's highest known level.
// prepareSweepOut fills p.Out with defaultDir's directory when it is unset,
// then checks the output paths (--out, -o output) and the open-file limit
// before any load: a sweep's and a what-if's.
func prepareSweepOut(p *profiles.Profile, so harness.SweepOptions, output string, defaultDir func(name string, now time.Time) string) error {
	outFlag := "--out"
	if p.Out == "" {
		p.Out, outFlag = defaultDir(p.Name, time.Now()), "default --out"
	}
	if err := checkOutputs(outputPath{outFlag, p.Out, outDir}, outputPath{"-o", output, outFile}); err != nil {
		return err
	}
	if err := ensureFiles(sweepFilesNeeded(*p, so)); err != nil {
		return usageError(err)
	}
	return nil
}

func sweepFilesNeeded(p profiles.Profile, so harness.SweepOptions) (uint64, string) {
	if so.Users {
		top := so.Max
		for _, l := range so.Levels {
			top = max(top, l)
		}
		if top > 0 {
			p.Concurrency = int(top)
		}
	}
	return filesNeeded(p)
}
