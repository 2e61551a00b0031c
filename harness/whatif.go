package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/internal/nearest"
	"github.com/streamgauge/streamgauge/internal/plural"
	"github.com/streamgauge/streamgauge/internal/secret"
	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets/sim"
)

// MaxWhatIfVariants bounds a what-if sweep: each variant is a whole sweep.
const MaxWhatIfVariants = 16

// WhatIfFile lists a what-if sweep's variants and their directories, in
// the what-if's directory.
const WhatIfFile = "whatif.json"

// WhatIfKeys are the simulator settings a what-if varies, as written in
// --what-if (each may also carry the profile key's "sim-" prefix).
func WhatIfKeys() []string {
	return []string{"scheduler", "max-batch", "max-step-tokens", "kv-tokens", "prefix-cache"}
}

// WhatIfDim is one --what-if: a simulator setting and the values to try,
// in order.
type WhatIfDim struct {
	Key    string
	Values []string
}

// ParseWhatIf parses --what-if specs. Each is
//
//	spec  = key "=" value { "," value }
//	key   = ["sim-"] ( "scheduler" | "max-batch" | "max-step-tokens" | "kv-tokens" | "prefix-cache" )
//	value = a scheduler of sim.Schedulers() other than fixed (scheduler),
//	        a whole number ≥ 1 (max-batch, max-step-tokens),
//	        a whole number ≥ 0, 0 being the cost model's (kv-tokens),
//	        true or false (prefix-cache)
//
// with spaces around keys and values ignored. A key may be given once and
// a value once per key. Every problem is reported at once, one line each,
// naming the spec and the valid values.
func ParseWhatIf(specs []string) ([]WhatIfDim, error) {
	var dims []WhatIfDim
	var errs []error
	for _, spec := range specs {
		d, err := parseWhatIfSpec(spec)
		if err != nil {
			errs = append(errs, fmt.Errorf("--what-if %q: %w", spec, err))
			continue
		}
		if slices.ContainsFunc(dims, func(o WhatIfDim) bool { return o.Key == d.Key }) {
			errs = append(errs, fmt.Errorf("--what-if %q: %s is given twice; list all its values in one --what-if %s=A,B", spec, d.Key, d.Key))
			continue
		}
		dims = append(dims, d)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return dims, nil
}

func parseWhatIfSpec(spec string) (WhatIfDim, error) {
	key, list, ok := strings.Cut(spec, "=")
	key = strings.TrimPrefix(strings.TrimSpace(key), "sim-")
	if !ok || key == "" {
		return WhatIfDim{}, fmt.Errorf("want SETTING=VALUE,VALUE,... with a setting of %s, e.g. scheduler=continuous,chunked-prefill", strings.Join(WhatIfKeys(), ", "))
	}
	if !slices.Contains(WhatIfKeys(), key) {
		hint := ""
		if best := nearest.Name(key, WhatIfKeys(), 3); best != "" {
			hint = fmt.Sprintf(" (did you mean %s?)", best)
		}
		return WhatIfDim{}, fmt.Errorf("%q is not a setting a what-if can vary%s; want one of %s", key, hint, strings.Join(WhatIfKeys(), ", "))
	}
	d := WhatIfDim{Key: key}
	for v := range strings.SplitSeq(list, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			return WhatIfDim{}, fmt.Errorf("an empty value; want %s=VALUE,VALUE,... with no empty item", key)
		}
		norm, err := whatIfValue(key, v)
		if err != nil {
			return WhatIfDim{}, err
		}
		if slices.Contains(d.Values, norm) {
			return WhatIfDim{}, fmt.Errorf("%s %s is listed twice", key, norm)
		}
		d.Values = append(d.Values, norm)
	}
	return d, nil
}

// whatIfSchedulers are the schedulers a what-if compares: every stepped
// one (the fixed engine ignores the cost model).
func whatIfSchedulers() []string {
	return slices.DeleteFunc(sim.Schedulers(), func(s string) bool { return s == sim.SchedFixed })
}

// whatIfValue checks v for key and returns it as the variant's name
// writes it.
func whatIfValue(key, v string) (string, error) {
	switch key {
	case "scheduler":
		if v == sim.SchedFixed {
			return "", fmt.Errorf("scheduler fixed ignores the cost model (every request gets the same latencies); compare %s", strings.Join(whatIfSchedulers(), ", "))
		}
		if !slices.Contains(whatIfSchedulers(), v) {
			return "", fmt.Errorf("scheduler %q is not one of %s", v, strings.Join(whatIfSchedulers(), ", "))
		}
		return v, nil
	case "prefix-cache":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return "", fmt.Errorf("prefix-cache %q: want true or false", v)
		}
		return strconv.FormatBool(b), nil
	}
	least := 1
	if key == "kv-tokens" {
		least = 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < least || n > 1<<30 {
		want := "a whole number of at least 1"
		if least == 0 {
			want = "a whole number of at least 0 (0 is the cost model's capacity)"
		}
		return "", fmt.Errorf("%s %q: want %s", key, v, want)
	}
	return strconv.Itoa(n), nil
}

// Variant is one simulator variant of a what-if: one value of each
// dimension.
type Variant struct {
	// Name is the settings as key=value pairs joined by commas, e.g.
	// "scheduler=chunked-prefill,max-batch=64": the variant's directory
	// and its label in tables.
	Name string `json:"name"`
	// Settings are the variant's values, in the order of the dimensions.
	Settings []VariantSetting `json:"settings"`
}

// VariantSetting is one setting of a variant.
type VariantSetting struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Variants is every combination of the dimensions' values, the first
// dimension varying slowest; the first variant (each dimension's first
// value) is the baseline. More than MaxWhatIfVariants is an error.
func Variants(dims []WhatIfDim) ([]Variant, error) {
	if len(dims) == 0 {
		return nil, errors.New("--what-if: give at least one, as SETTING=VALUE,VALUE")
	}
	n := 1
	for _, d := range dims {
		n *= len(d.Values)
		if n > MaxWhatIfVariants {
			break
		}
	}
	if n > MaxWhatIfVariants {
		var sizes []string
		total := 1
		for _, d := range dims {
			sizes = append(sizes, fmt.Sprintf("%d %s", len(d.Values), d.Key))
			total *= len(d.Values)
		}
		return nil, fmt.Errorf("--what-if: %s make %d variants, each a whole sweep; give at most %d (fewer values, or one what-if per question)",
			strings.Join(sizes, " × "), total, MaxWhatIfVariants)
	}
	out := []Variant{{}}
	for _, d := range dims {
		next := make([]Variant, 0, len(out)*len(d.Values))
		for _, v := range out {
			for _, val := range d.Values {
				s := append(slices.Clone(v.Settings), VariantSetting{Key: d.Key, Value: val})
				next = append(next, Variant{Settings: s})
			}
		}
		out = next
	}
	for i := range out {
		parts := make([]string, len(out[i].Settings))
		for j, s := range out[i].Settings {
			parts[j] = s.Key + "=" + s.Value
		}
		out[i].Name = strings.Join(parts, ",")
	}
	return out, nil
}

// Apply returns p with the variant's simulator settings.
func (v Variant) Apply(p profiles.Profile) profiles.Profile {
	for _, s := range v.Settings {
		n, _ := strconv.Atoi(s.Value)
		switch s.Key {
		case "scheduler":
			p.SimScheduler = s.Value
		case "max-batch":
			p.SimMaxBatch = n
		case "max-step-tokens":
			p.SimMaxStepTokens = n
		case "kv-tokens":
			p.SimKVTokens = n
		case "prefix-cache":
			p.SimPrefixCache = s.Value == "true"
		}
	}
	return p
}

// WhatIfIndex is whatif.json: the variants of a what-if sweep, the first
// the baseline, each swept into the directory of its name.
type WhatIfIndex struct {
	Tool    string    `json:"tool"`
	Version string    `json:"version"`
	Name    string    `json:"name"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end,omitzero"`
	// CostModel names the cost model every variant ran on.
	CostModel string    `json:"cost_model"`
	Variants  []Variant `json:"variants"`
	// Done counts the variants whose sweep ran to its end.
	Done        int  `json:"done"`
	Interrupted bool `json:"interrupted,omitempty"`
}

// WhatIfResult is what a what-if sweep measured: the sweeps of the
// variants that ran (all of them unless it was cut short), in order.
type WhatIfResult struct {
	Dir      string
	Variants []Variant
	// Sweeps has one entry per variant: nil for a variant that did not
	// start.
	Sweeps []*analysis.Sweep
	// CostModel names the cost model every variant ran on.
	CostModel string
}

// Ran is the variants that have a sweep, with their sweeps, in order.
func (r *WhatIfResult) Ran() ([]Variant, []*analysis.Sweep) {
	var vs []Variant
	var sws []*analysis.Sweep
	for i, sw := range r.Sweeps {
		if sw != nil && len(sw.Stages) > 0 {
			vs, sws = append(vs, r.Variants[i]), append(sws, sw)
		}
	}
	return vs, sws
}

// AnyOK reports whether any variant's sweep completed a request: a
// what-if whose every request failed has measured nothing.
func (r *WhatIfResult) AnyOK() bool {
	for _, sw := range r.Sweeps {
		if sw != nil && sw.OK() > 0 {
			return true
		}
	}
	return false
}

// WhatIf runs the same sweep (so) of p on each variant of the built-in
// simulator, one after the other, each into DIR/<variant name> (DIR is p's
// Out), with so.Cooldown between them, and keeps whatif.json in DIR up to
// date. Every variant's settings are checked before anything runs; a
// *ConfigError means nothing ran. A what-if cut short keeps the sweeps it
// finished (and the stages of the one it was in) and returns them with
// the error.
func WhatIf(ctx context.Context, p profiles.Profile, so SweepOptions, variants []Variant, opts ...Option) (*WhatIfResult, error) {
	o, err := applyOptions(opts)
	if err != nil {
		return nil, err
	}
	switch {
	case p.Target != "":
		return nil, configErr(fmt.Errorf("what-if: varies the built-in simulator, which does not start with --target %s; drop --target", secret.URL(p.Target)))
	case p.Shard != "" || p.Shards > 0:
		return nil, configErr(errors.New("what-if: runs on the built-in simulator on this machine; drop --shard/--shards"))
	case p.Out == "":
		return nil, configErr(errors.New("what-if: give --out DIR for the variants' sweeps"))
	case len(variants) == 0 || len(variants) > MaxWhatIfVariants:
		return nil, configErr(fmt.Errorf("what-if: want 1 to %d variants, got %d", MaxWhatIfVariants, len(variants)))
	}
	dir := p.Out
	if _, err := os.Stat(filepath.Join(dir, WhatIfFile)); err == nil {
		return nil, configErr(fmt.Errorf("out: %s already holds a what-if; choose another --out", dir))
	}
	var cost sim.CostModel
	vps := make([]profiles.Profile, len(variants))
	for i, v := range variants {
		vp := v.Apply(p)
		vp.Out = filepath.Join(dir, v.Name)
		vps[i] = vp
		if _, err := newSweepPlan(vp, so); err != nil {
			return nil, configErr(fmt.Errorf("what-if %s: %w", v.Name, err))
		}
		if _, err := os.Stat(filepath.Join(vp.Out, analysis.SweepFile)); err == nil {
			return nil, configErr(fmt.Errorf("out: %s already holds a sweep; choose another --out", vp.Out))
		}
		cfg, _ := vp.SimConfig()
		if cfg.Scheduler == sim.SchedFixed {
			return nil, configErr(fmt.Errorf("what-if %s: the simulator would run the fixed scheduler (sim-ttft/sim-itl are set), whose latencies ignore what a what-if varies; drop sim-ttft/sim-itl or vary --what-if scheduler=%s",
				v.Name, strings.Join(whatIfSchedulers(), ",")))
		}
		if i == 0 {
			cost, _ = cfg.CostModel()
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("what-if directory %s: %w", dir, err)
	}
	idx := WhatIfIndex{Tool: "streamgauge", Version: o.version, Name: p.Name, Start: time.Now().UTC(), CostModel: cost.Name, Variants: variants}
	res := &WhatIfResult{Dir: dir, Variants: variants, Sweeps: make([]*analysis.Sweep, len(variants)), CostModel: cost.Name}
	save := func() error { return results.WriteJSON(dir, WhatIfFile, idx) }
	if err := save(); err != nil {
		return nil, err
	}
	o.logf("what-if: %s on cost model %s, baseline %s%s, writing %s", plural.Count(len(variants), "variant"), cost.Name, variants[0].Name, whatIfLength(p, so, len(variants)), dir)
	for i, v := range variants {
		if i > 0 && so.Cooldown > 0 {
			cooldown(ctx, so.Cooldown)
		}
		if ctx.Err() != nil {
			break
		}
		vp := vps[i]
		o.logf("what-if %d/%d: %s", i+1, len(variants), v.Name)
		logf := o.logf
		vopts := append(slices.Clone(opts), WithLog(func(format string, a ...any) {
			logf("%s: "+format, append([]any{v.Name}, a...)...)
		}))
		sw, err := Sweep(ctx, vp, so, vopts...)
		res.Sweeps[i] = sw
		if err == nil {
			idx.Done++
		}
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			idx.End = time.Now().UTC()
			if serr := save(); serr != nil {
				o.logf("warning: %v", serr)
			}
			var ce *ConfigError
			if i > 0 && errors.As(err, &ce) {
				// Variants ran: this is no longer a usage error.
				return res, fmt.Errorf("what-if %s: %v", v.Name, err)
			}
			return res, fmt.Errorf("what-if %s: %w", v.Name, err)
		}
		if err := save(); err != nil {
			return res, err
		}
	}
	idx.End = time.Now().UTC()
	if ctx.Err() != nil {
		idx.Interrupted = true
	}
	if err := save(); err != nil {
		return res, err
	}
	if idx.Interrupted {
		return res, fmt.Errorf("what-if interrupted after %d of %d variants; their sweeps are in %s", idx.Done, len(variants), dir)
	}
	return res, nil
}

// DefaultWhatIfDir is where a what-if of the named profile started at now
// writes when the profile sets no Out: results/<UTC time>-<name>-whatif.
func DefaultWhatIfDir(name string, now time.Time) string {
	return defaultOutDir(name, now, "-whatif")
}

// whatIfLength estimates how long a what-if takes when its levels are
// given (", 2 levels × 10s stages: at least 1m0s plus the drains"), or says a search's
// stage length and bound.
func whatIfLength(p profiles.Profile, so SweepOptions, variants int) string {
	stage := so.StageDuration
	if stage == 0 {
		stage = p.Duration
	}
	if stage == 0 {
		stage = DefaultStageDuration
	}
	if so.Auto {
		bound := "bound it with --max-rate"
		if so.Users {
			bound = "bound it with --max-users"
		}
		if so.Max > 0 {
			bound = "up to " + analysis.FormatLevel(so.Max)
		}
		return fmt.Sprintf(", a capacity search of %s stages each (%s)", stage, bound)
	}
	if len(so.Levels) == 0 {
		return ""
	}
	n := time.Duration(len(so.Levels))
	one := n*stage + (n-1)*so.Cooldown
	total := time.Duration(variants)*one + time.Duration(variants-1)*so.Cooldown
	return fmt.Sprintf(", %d levels × %s stages: at least %s plus the drains", len(so.Levels), stage, total.Round(time.Second))
}
