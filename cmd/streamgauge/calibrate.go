package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/report"
	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets/sim"
)

func newCalibrateCmd(e *env) *cobra.Command {
	var (
		out, name, scheduler string
		kvTokens, bootstrap  int
		maxGaps              int
		seed                 uint64
	)
	cmd := &cobra.Command{
		Use:   "calibrate RUN_DIR|SWEEP_DIR|STEPS.json... -o preset.yaml",
		Short: "Fit the simulator's cost model to real runs, for what-if questions on your hardware",
		Long: `calibrate fits the built-in simulator's cost model

  step = overhead + max(floor, tokens·per_token + weight_read + context·per_context_token)

to what your server did, and writes it as a preset file that
--sim-preset-file reads. Its inputs are run directories (each gap between two
streamed frames is one engine step; a request that found the server idle
gives one prefill step), sweep directories (every stage) and step-timing
JSON files ({"prefill": [{"batch","tokens","ms"}], "decode":
[{"batch","context","ms"}]}, forward passes timed on the hardware).

It prints each parameter with its bootstrap ± and says which ones these
inputs cannot pin down and which run to add; the residuals show how well
the model explains the steps. Runs made with --scrape-metrics give the
server's own running count and its KV-cache capacity; without them give
--kv-tokens. docs/schedulers.md ("Calibrate your own") walks through it.`,
		Example: `  streamgauge run --rate 4 --input-tokens uniform:200,1500 --scrape-metrics sim --out runs/r4
  streamgauge run --rate 8 --input-tokens uniform:1500,4000 --scrape-metrics sim --out runs/r8
  streamgauge calibrate runs/r4 runs/r8 -o my.yaml
  streamgauge calibrate h200-steps.json --kv-tokens 900000 -o h200.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("calibrate: give at least one RUN_DIR, SWEEP_DIR or step-timing JSON file")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("-o: give the preset file to write (or - for stdout)")
			}
			if out != "-" {
				// Before the fit, which takes seconds on big runs.
				if err := checkOutputs(outputPath{"-o", out, outFile}); err != nil {
					return err
				}
			}
			if scheduler != "" && !slices.Contains(sim.Schedulers(), scheduler) {
				return usagef("--scheduler %q: want one of %s", scheduler, strings.Join(sim.Schedulers(), ", "))
			}
			if scheduler == sim.SchedFixed {
				return usagef("--scheduler fixed: the fixed engine has no cost model to fit; name the scheduler your server uses (continuous for vLLM, SGLang, TGI)")
			}
			if kvTokens < 0 {
				return usagef("--kv-tokens %d: must not be negative", kvTokens)
			}
			if bootstrap < 0 {
				return usagef("--bootstrap %d: must not be negative (0 for no bootstrap)", bootstrap)
			}
			if maxGaps < 1 {
				return usagef("--max-gaps %d: want the frame gaps to keep in all, at least 1 (e.g. 200000)", maxGaps)
			}
			if strings.TrimSpace(name) == "" {
				return usagef("--name: give the preset a name (e.g. --name h200-llama8b)")
			}
			return calibrate(e, args, calibrateSettings{out: out, name: name, scheduler: scheduler, kvTokens: kvTokens, bootstrap: bootstrap, maxGaps: maxGaps, seed: seed})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "output", "o", "", "preset file to write (- for stdout; the table then goes to stderr)")
	f.StringVar(&name, "name", "calibrated", "the preset's name")
	f.StringVar(&scheduler, "scheduler", "", "the target's scheduler, to read prefill from the gaps: "+strings.Join(sim.Schedulers()[1:], "|")+" (default: the run's simulator's, else continuous)")
	f.IntVar(&kvTokens, "kv-tokens", 0, "the server's KV-cache capacity in tokens (default: from scraped KV usage, or the simulator preset of a simulated run)")
	f.IntVar(&bootstrap, "bootstrap", 40, "bootstrap resamples (over requests) for the ± of each parameter; 0 for none")
	f.IntVar(&maxGaps, "max-gaps", 200000, "frame gaps kept in all, shared evenly by the runs (at least 10000 each); a larger run is subsampled evenly (bounds memory and time)")
	f.Uint64Var(&seed, "seed", 1, "seed of the bootstrap")
	return cmd
}

type calibrateSettings struct {
	out, name, scheduler string
	kvTokens, bootstrap  int
	maxGaps              int
	seed                 uint64
}

// expandCalibrateArgs turns the arguments into inputs: a sweep directory
// into its stage run directories.
func expandCalibrateArgs(args []string) ([]analysis.CalibrationInput, error) {
	var ins []analysis.CalibrationInput
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, usagef("%s: %v; give a run directory, a sweep directory or a step-timing JSON file", a, pathErr(err))
		}
		if !st.IsDir() {
			ins = append(ins, analysis.CalibrationInput{Path: a, Steps: true})
			continue
		}
		if fileExists(filepath.Join(a, results.RequestsFile)) {
			ins = append(ins, analysis.CalibrationInput{Path: a})
			continue
		}
		if !fileExists(filepath.Join(a, "sweep.json")) {
			return nil, usagef("%s: neither a run directory (no %s) nor a sweep directory (no sweep.json)", a, results.RequestsFile)
		}
		ents, err := os.ReadDir(a)
		if err != nil {
			return nil, runErrorf("sweep %s: %v", a, err)
		}
		var stages []string
		for _, en := range ents {
			if en.IsDir() && strings.HasPrefix(en.Name(), "stage-") && fileExists(filepath.Join(a, en.Name(), results.RequestsFile)) {
				stages = append(stages, filepath.Join(a, en.Name()))
			}
		}
		if len(stages) == 0 {
			return nil, runErrorf("sweep %s: no stage directory holds a %s", a, results.RequestsFile)
		}
		sort.Strings(stages)
		for _, s := range stages {
			ins = append(ins, analysis.CalibrationInput{Path: s})
		}
	}
	return ins, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

func calibrate(e *env, args []string, s calibrateSettings) error {
	ins, err := expandCalibrateArgs(args)
	if err != nil {
		return err
	}
	cal, err := analysis.Calibrate(ins, analysis.CalibrateInputsOptions{Scheduler: s.scheduler, MaxGaps: s.maxGaps,
		Fit: analysis.CalibrateOptions{Name: s.name, KVTokens: s.kvTokens, Bootstrap: bootstrapFlag(s.bootstrap), Seed: s.seed}})
	switch {
	case errors.Is(err, analysis.ErrNoKVCapacity):
		return usagef("--kv-tokens: the inputs do not show the KV-cache capacity (no run scraped the server's KV usage); give it, e.g. the \"# GPU blocks\" × block size vLLM logs at start, or run with --scrape-metrics")
	case err != nil:
		return runError(err)
	}
	table := e.stdout
	if s.out == "-" {
		table = e.stderr
	}
	if err := report.RenderCalibration(table, cal); err != nil {
		return runError(err)
	}
	pf := sim.NewPresetFile(cal.Model, cal)
	if s.out == "-" {
		if err := sim.WritePreset(e.stdout, pf); err != nil {
			return runError(err)
		}
		return nil
	}
	if err := writeFileAtomic(s.out, func(w io.Writer) error { return sim.WritePreset(w, pf) }); err != nil {
		return runErrorf("-o %s: %w", s.out, err)
	}
	fmt.Fprintf(table, "\nwrote %s: simulate your server with streamgauge run --sim-preset-file %s\n", s.out, s.out)
	return nil
}

// bootstrapFlag maps --bootstrap 0 (none) to FitCostModel's negative.
func bootstrapFlag(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}
