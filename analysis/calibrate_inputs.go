package analysis

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/streamgauge/streamgauge/targets/sim"
)

// CalibrationInput is one input of Calibrate: a run directory, or a
// step-timing JSON file (Steps).
type CalibrationInput struct {
	Path  string
	Steps bool
}

// CalibrateInputsOptions configure Calibrate.
type CalibrateInputsOptions struct {
	// Fit configures the fit (Name, Bootstrap, Seed; Description defaults
	// to the inputs' names; KVTokens, when 0, is read from the inputs).
	Fit CalibrateOptions
	// Scheduler is the target's scheduler (see RunObservationOptions).
	Scheduler string
	// MaxGaps bounds the frame gaps kept over all runs together, shared
	// evenly (at least 10000 each), so a sweep of many stages holds no
	// more than one big run (default 200000).
	MaxGaps int
}

// ErrNoKVCapacity is returned (wrapped) when no KV-cache capacity was
// given and the inputs do not show one.
var ErrNoKVCapacity = errors.New("the inputs do not show the KV-cache capacity (no run scraped the server's KV usage)")

// Calibrate reads every input, fits the simulator's cost model to their
// steps (FitCostModel) and records where each came from and where the KV
// capacity came from: opt.Fit.KVTokens, else the median of the runs'
// estimates from scraped KV usage, else the preset of the simulator the
// runs used. The model it returns has passed CostModel.Validate.
func Calibrate(ins []CalibrationInput, opt CalibrateInputsOptions) (*Calibration, error) {
	if len(ins) == 0 {
		return nil, errors.New("calibrate: no inputs")
	}
	var obs []StepObservation
	var sources []CalibrationSource
	var kvEst []int
	simPresets := map[string]bool{}
	runs := 0
	for _, in := range ins {
		if !in.Steps {
			runs++
		}
	}
	maxGaps := opt.MaxGaps
	if maxGaps <= 0 {
		maxGaps = defaultMaxGaps
	}
	perRun := maxGaps
	if runs > 0 {
		perRun = max(maxGaps/runs, 10000)
	}
	base := 0
	for _, in := range ins {
		if in.Steps {
			data, err := readBounded(in.Path, maxStepTimingBytes)
			if err != nil {
				return nil, fmt.Errorf("step-timing file %s: %w", in.Path, err)
			}
			st, err := ParseStepTiming(in.Path, data)
			if err != nil {
				return nil, err
			}
			o := st.Observations(filepath.Base(in.Path), base)
			base += len(o)
			obs = append(obs, o...)
			src := CalibrationSource{Path: in.Path, Kind: "step-timing", Observations: len(o)}
			if st.GPU != "" {
				src.Notes = []string{"measured on " + st.GPU}
			}
			sources = append(sources, src)
			continue
		}
		ro, err := ReadRunObservations(in.Path, RunObservationOptions{Scheduler: opt.Scheduler, MaxGaps: perRun, ClusterBase: base})
		if err != nil {
			return nil, err
		}
		base += ro.Clusters + 1
		obs = append(obs, ro.Obs...)
		sources = append(sources, CalibrationSource{Path: in.Path, Kind: "run", Observations: len(ro.Obs), Requests: ro.Requests,
			Scheduler: ro.Scheduler, Concurrency: concurrencyWords(ro.Concurrency), Notes: ro.Notes})
		if ro.KVTokens > 0 {
			kvEst = append(kvEst, ro.KVTokens)
		}
		if ro.Simulated {
			simPresets[ro.SimPreset] = true
		}
	}
	fo := opt.Fit
	kvSource := "--kv-tokens"
	switch {
	case fo.KVTokens > 0:
	case len(kvEst) > 0:
		slices.Sort(kvEst)
		fo.KVTokens = kvEst[len(kvEst)/2]
		kvSource = fmt.Sprintf("the server's scraped KV usage (median of %d runs' estimates)", len(kvEst))
	case len(simPresets) == 1:
		for name := range simPresets {
			if p, err := sim.Preset(name); err == nil {
				fo.KVTokens, kvSource = p.KVTokens, "the simulator preset "+name+" the runs used (no KV usage was scraped)"
			}
		}
	}
	if fo.KVTokens <= 0 {
		return nil, ErrNoKVCapacity
	}
	if fo.Description == "" {
		fo.Description = "fitted by streamgauge calibrate from " + describeCalibrationInputs(ins)
	}
	cal, err := FitCostModel(obs, fo)
	if err != nil {
		return nil, err
	}
	cal.Sources = sources
	cal.KVTokensSource = kvSource
	if err := cal.Model.Validate(); err != nil {
		return nil, fmt.Errorf("calibrate: the fit gave an unusable model (%v); add runs with more load", err)
	}
	return cal, nil
}

// readBounded reads the file at path, refusing one larger than limit.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err // the caller names the file
		}
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d MiB, too large for a step-timing file; give its run directory instead if it is a run's records", limit>>20)
	}
	return data, nil
}

func concurrencyWords(c string) string {
	if c == ConcurrencyServer {
		return "server's scraped count"
	}
	return "client's reconstruction"
}

func describeCalibrationInputs(ins []CalibrationInput) string {
	var names []string
	for _, in := range ins {
		names = append(names, filepath.Base(in.Path))
	}
	if len(names) > 6 {
		names = append(names[:6], fmt.Sprintf("and %d more", len(names)-6))
	}
	return strings.Join(names, ", ")
}
