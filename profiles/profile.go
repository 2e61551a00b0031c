package profiles

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/internal/secret"
	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/loadgen/dataset"
	"github.com/streamgauge/streamgauge/loadgen/dist"
	"github.com/streamgauge/streamgauge/targets/apis"
	"github.com/streamgauge/streamgauge/targets/generic"
	"github.com/streamgauge/streamgauge/targets/sim"
)

// Profile is every setting of a run. Its keys are the run command's flag
// names, so a profile file, STREAMGAUGE_<NAME> variables and flags all use one
// vocabulary.
type Profile struct {
	Name        string `mapstructure:"name" json:"name"`
	Description string `mapstructure:"description" json:"description,omitempty"`

	// Target: where and how to speak.
	Target    string        `mapstructure:"target" json:"target"`
	API       string        `mapstructure:"api" json:"api"`
	Endpoint  string        `mapstructure:"endpoint" json:"endpoint,omitempty"`
	Model     string        `mapstructure:"model" json:"model"`
	Headers   []string      `mapstructure:"header" json:"header,omitempty"`
	APIKeyEnv string        `mapstructure:"api-key-env" json:"api-key-env,omitempty"`
	Timeout   time.Duration `mapstructure:"timeout" json:"timeout"`
	// Per-phase timeouts (0 = none): connection set-up, response headers,
	// first token, and the gap between frames.
	ConnectTimeout time.Duration `mapstructure:"connect-timeout" json:"connect-timeout,omitempty"`
	TTFBTimeout    time.Duration `mapstructure:"ttfb-timeout" json:"ttfb-timeout,omitempty"`
	TTFTTimeout    time.Duration `mapstructure:"ttft-timeout" json:"ttft-timeout,omitempty"`
	IdleTimeout    time.Duration `mapstructure:"idle-timeout" json:"idle-timeout,omitempty"`
	// APIKeyFile names a file holding the API key (its first line).
	APIKeyFile    string `mapstructure:"api-key-file" json:"api-key-file,omitempty"`
	Insecure      bool   `mapstructure:"insecure" json:"insecure,omitempty"`
	CACert        string `mapstructure:"ca-cert" json:"ca-cert,omitempty"`
	MaxFrameBytes int    `mapstructure:"max-frame-bytes" json:"max-frame-bytes,omitempty"`
	IgnoreEOS     bool   `mapstructure:"ignore-eos" json:"ignore-eos"`
	// Generic describes an in-house API for --api generic (profile files
	// only): request template, framing and where tokens, usage and the end
	// are in each frame.
	Generic generic.Spec `mapstructure:"generic" json:"generic,omitzero"`

	// Load: when to send.
	Rate           float64       `mapstructure:"rate" json:"rate,omitempty"`
	Arrival        string        `mapstructure:"arrival" json:"arrival,omitempty"`
	Burstiness     float64       `mapstructure:"burstiness" json:"burstiness,omitempty"`
	Concurrency    int           `mapstructure:"concurrency" json:"concurrency,omitempty"`
	MaxConcurrency int           `mapstructure:"max-concurrency" json:"max-concurrency,omitempty"`
	Duration       time.Duration `mapstructure:"duration" json:"duration,omitempty"`
	Requests       uint64        `mapstructure:"requests" json:"requests,omitempty"`
	Warmup         time.Duration `mapstructure:"warmup" json:"warmup,omitempty"`
	WarmupRequests uint64        `mapstructure:"warmup-requests" json:"warmup-requests,omitempty"`
	// Load shapes beyond a steady rate: a linear ramp from rate to ramp-to
	// over ramp-over, a sine around rate, or stages of rates or users.
	RampTo        float64       `mapstructure:"ramp-to" json:"ramp-to,omitempty"`
	RampOver      time.Duration `mapstructure:"ramp-over" json:"ramp-over,omitempty"`
	SineAmplitude float64       `mapstructure:"sine-amplitude" json:"sine-amplitude,omitempty"`
	SinePeriod    time.Duration `mapstructure:"sine-period" json:"sine-period,omitempty"`
	Stages        []string      `mapstructure:"stages" json:"stages,omitempty"`
	// LatencyFrom is "send" (default) or "scheduled": the latter reports
	// ttft and e2e from the scheduled send time, counting queueing.
	LatencyFrom  string        `mapstructure:"latency-from" json:"latency-from,omitempty"`
	DrainTimeout time.Duration `mapstructure:"drain-timeout" json:"drain-timeout,omitempty"`

	// Workload: what to send.
	InputTokens  string `mapstructure:"input-tokens" json:"input-tokens"`
	OutputTokens string `mapstructure:"output-tokens" json:"output-tokens"`
	Tokenizer    string `mapstructure:"tokenizer" json:"tokenizer"`
	// Shared prefixes: prefix-groups prefixes of prefix-tokens tokens, one
	// of which starts a prefix-share of the requests (as a system message
	// with prefix-system).
	PrefixGroups int     `mapstructure:"prefix-groups" json:"prefix-groups,omitempty"`
	PrefixTokens int     `mapstructure:"prefix-tokens" json:"prefix-tokens,omitempty"`
	PrefixShare  float64 `mapstructure:"prefix-share" json:"prefix-share,omitempty"`
	PrefixSystem bool    `mapstructure:"prefix-system" json:"prefix-system,omitempty"`
	// Multi-turn sessions: turns per session and think time (ms) between
	// turns, as DISTs.
	Turns     string `mapstructure:"turns" json:"turns,omitempty"`
	ThinkTime string `mapstructure:"think-time" json:"think-time,omitempty"`
	// Trace replay: arrival times and lengths from a recorded trace.
	Trace       string  `mapstructure:"trace" json:"trace,omitempty"`
	TraceFormat string  `mapstructure:"trace-format" json:"trace-format,omitempty"`
	TraceSpeed  float64 `mapstructure:"trace-speed" json:"trace-speed,omitempty"`
	TraceWindow string  `mapstructure:"trace-window" json:"trace-window,omitempty"`
	// The user's own prompts: a JSONL, ShareGPT or text file, of which
	// dataset-sample entries (default: requests, else 10,000) are sampled
	// with the seed, optionally only those whose input length (tokens) is
	// within dataset-min-input..dataset-max-input.
	Dataset         string `mapstructure:"dataset" json:"dataset,omitempty"`
	DatasetFormat   string `mapstructure:"dataset-format" json:"dataset-format,omitempty"`
	DatasetSample   int    `mapstructure:"dataset-sample" json:"dataset-sample,omitempty"`
	DatasetMinInput int    `mapstructure:"dataset-min-input" json:"dataset-min-input,omitempty"`
	DatasetMaxInput int    `mapstructure:"dataset-max-input" json:"dataset-max-input,omitempty"`
	// UniquePrompts starts every prompt with a unique marker, so no request
	// reuses another's prefix cache.
	UniquePrompts bool `mapstructure:"unique-prompts" json:"unique-prompts,omitempty"`
	// TraceSpread places arrivals that share one timestamp slot over it
	// (none, uniform or poisson); TraceSlot is the slot's width (0: from
	// the trace's timestamps, or Mooncake's 3 s).
	TraceSpread string        `mapstructure:"trace-spread" json:"trace-spread,omitempty"`
	TraceSlot   time.Duration `mapstructure:"trace-slot" json:"trace-slot,omitempty"`

	// Judging: run SLOs evaluated at the end (and every few seconds over a
	// sliding window with abort-on-fail), and per-request goodput SLOs.
	SLO         []string `mapstructure:"slo" json:"slo,omitempty"`
	Goodput     string   `mapstructure:"goodput" json:"goodput,omitempty"`
	AbortOnFail bool     `mapstructure:"abort-on-fail" json:"abort-on-fail,omitempty"`

	// Run bookkeeping.
	Out  string `mapstructure:"out" json:"out,omitempty"`
	Seed uint64 `mapstructure:"seed" json:"seed"`
	// Distributed runs: this process is shard "i/N" of the schedule (or
	// index JOB_COMPLETION_INDEX of shards N), all starting at start-at
	// (RFC 3339).
	Shard   string `mapstructure:"shard" json:"shard,omitempty"`
	Shards  int    `mapstructure:"shards" json:"shards,omitempty"`
	StartAt string `mapstructure:"start-at" json:"start-at,omitempty"`
	// Watching a run: serve our live metrics for Prometheus on
	// metrics-addr (host:port), and scrape the server's own metrics from
	// scrape-metrics (a URL, or "sim" for the built-in simulator's) into
	// server_metrics.jsonl.
	MetricsAddr   string `mapstructure:"metrics-addr" json:"metrics-addr,omitempty"`
	ScrapeMetrics string `mapstructure:"scrape-metrics" json:"scrape-metrics,omitempty"`

	// The built-in simulator, used when Target is empty. SimScheduler ""
	// means "fixed" when sim-ttft or sim-itl is set, else "continuous".
	// SimPresetFile is a cost model file (streamgauge calibrate writes
	// one) that replaces the built-in SimPreset; a path in a profile file
	// resolves relative to the profile file.
	SimScheduler     string        `mapstructure:"sim-scheduler" json:"sim-scheduler,omitempty"`
	SimPreset        string        `mapstructure:"sim-preset" json:"sim-preset,omitempty"`
	SimPresetFile    string        `mapstructure:"sim-preset-file" json:"sim-preset-file,omitempty"`
	SimMaxBatch      int           `mapstructure:"sim-max-batch" json:"sim-max-batch,omitempty"`
	SimKVTokens      int           `mapstructure:"sim-kv-tokens" json:"sim-kv-tokens,omitempty"`
	SimMaxStepTokens int           `mapstructure:"sim-max-step-tokens" json:"sim-max-step-tokens,omitempty"`
	SimPrefixCache   bool          `mapstructure:"sim-prefix-cache" json:"sim-prefix-cache,omitempty"`
	SimFailRate      float64       `mapstructure:"sim-fail-rate" json:"sim-fail-rate,omitempty"`
	SimFailKinds     string        `mapstructure:"sim-fail-kinds" json:"sim-fail-kinds,omitempty"`
	SimStall         string        `mapstructure:"sim-stall" json:"sim-stall,omitempty"`
	SimTTFT          time.Duration `mapstructure:"sim-ttft" json:"sim-ttft,omitempty"`
	SimITL           time.Duration `mapstructure:"sim-itl" json:"sim-itl,omitempty"`

	// Dir is where relative paths in the profile resolve (the profile file's
	// folder); FS, when set, holds them instead (a built-in profile's data).
	// Neither is a setting.
	Dir string `mapstructure:"-" json:"-"`
	FS  fs.FS  `mapstructure:"-" json:"-"`

	// origins says where each key given was set (Resolve fills it), so
	// Validate's messages can name the file or variable to fix.
	origins map[string]Origin
}

// Origin returns where key's value came from; the zero Origin means the
// built-in default (or a profile built in Go).
func (p *Profile) Origin(key string) Origin { return p.origins[key] }

// Default returns the settings a run starts from before a profile file,
// environment and flags are layered on.
func Default() Profile {
	return Profile{
		Name:           "custom",
		API:            "openai-chat",
		Model:          "sim",
		Timeout:        5 * time.Minute,
		ConnectTimeout: 10 * time.Second,
		MaxFrameBytes:  8 << 20,
		IgnoreEOS:      true,
		Arrival:        loadgen.ArrivalPoisson,
		Burstiness:     1,
		LatencyFrom:    "send",
		InputTokens:    "256",
		OutputTokens:   "128",
		Tokenizer:      "cl100k_base",
		PrefixShare:    1,
		TraceFormat:    loadgen.TraceAuto,
		TraceSpeed:     1,
		DatasetFormat:  dataset.FormatAuto,
		TraceSpread:    loadgen.SpreadNone,
		Seed:           1,
	}
}

// Validate reports every problem of p at once, one line each, naming its
// field: with the profile file or environment variable it came from when
// the profile was made by Resolve.
func (p *Profile) Validate() error {
	var errs []error
	bad := func(field, format string, a ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, a...)))
	}
	if p.Target != "" {
		u, err := url.Parse(p.Target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("target", "%q is not a base URL; want scheme://host:port[/prefix], e.g. http://127.0.0.1:8000", secret.URL(p.Target))
		} else if strings.HasSuffix(u.Path, "/completions") {
			bad("target", "%q includes the API path; give the base URL and set --api (or --endpoint)", secret.URL(p.Target))
		}
	}
	if !slices.Contains(apis.Names(), p.API) && p.API != "generic" {
		bad("api", "%q is not supported; want one of %s, generic", p.API, strings.Join(apis.Names(), ", "))
	}
	if p.API == "generic" {
		if err := p.Generic.Validate(); err != nil {
			errs = append(errs, err)
		}
	} else if p.Generic.Path != "" || p.Generic.Request != "" {
		bad("generic", "the generic block only applies to --api generic (api is %q)", p.API)
	}
	if p.Endpoint != "" && !strings.HasPrefix(p.Endpoint, "/") {
		bad("endpoint", "%q must start with /", p.Endpoint)
	}
	for _, h := range p.Headers {
		if k, _, ok := strings.Cut(h, ":"); !ok || strings.TrimSpace(k) == "" || strings.ContainsAny(strings.TrimSpace(k), " \t") {
			bad("header", "%q is not a header line; write it as 'Name: value'", secret.HeaderLine(h))
		}
	}
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"timeout", p.Timeout}, {"connect-timeout", p.ConnectTimeout}, {"ttfb-timeout", p.TTFBTimeout}, {"ttft-timeout", p.TTFTTimeout}, {"idle-timeout", p.IdleTimeout}} {
		if d.v < 0 {
			bad(d.field, "%s must not be negative", d.v)
		}
	}
	if p.APIKeyEnv != "" && !envName(p.APIKeyEnv) {
		// Not quoted: it is most likely the key itself.
		bad("api-key-env", "not a variable name; give the name of the environment variable that holds the key (e.g. --api-key-env OPENAI_API_KEY), not the key")
	}
	if p.APIKeyEnv != "" && p.APIKeyFile != "" {
		bad("api-key-file", "give --api-key-env or --api-key-file, not both")
	}
	if p.MaxFrameBytes < 1024 {
		bad("max-frame-bytes", "%d is too small; give at least 1024 (default 8388608)", p.MaxFrameBytes)
	}
	loads := 0
	for _, set := range []bool{p.Rate > 0, p.Concurrency > 0, p.Trace != "", len(p.Stages) > 0} {
		if set {
			loads++
		}
	}
	switch {
	case p.Rate < 0:
		bad("rate", "%v must be positive", p.Rate)
	case p.Concurrency < 0:
		bad("concurrency", "%d must be positive", p.Concurrency)
	case loads == 0:
		bad("rate", "give --rate R (requests/s, open loop), --concurrency C (closed loop), --stages or --trace FILE")
	case loads > 1 && !(len(p.Stages) == 0 && p.Trace == ""):
		bad("rate", "give one of --rate, --concurrency, --stages or --trace: each sets the load on its own")
	case loads > 1:
		bad("rate", "give --rate (open loop) or --concurrency (closed loop), not both")
	}
	if len(p.Stages) > 0 {
		if _, err := loadgen.ParseStages(p.Stages); err != nil {
			bad("stages", "%v", err)
		}
	}
	if p.Rate > 0 {
		if _, err := p.Pacer(); err != nil {
			bad("arrival", "%v", err)
		}
	}
	if p.LatencyFrom != "send" && p.LatencyFrom != "scheduled" {
		bad("latency-from", "%q: want send or scheduled", p.LatencyFrom)
	}
	if p.MaxConcurrency < 0 {
		bad("max-concurrency", "%d must not be negative", p.MaxConcurrency)
	}
	if p.Duration < 0 {
		bad("duration", "%s must not be negative", p.Duration)
	}
	if p.Duration == 0 && p.Requests == 0 && p.Trace == "" && len(p.Stages) == 0 {
		bad("duration", "give --duration D, --requests N, or both, so the run ends")
	}
	if p.Warmup < 0 {
		bad("warmup", "%s must not be negative", p.Warmup)
	}
	if p.Duration > 0 && p.Warmup >= p.Duration {
		bad("warmup", "%s leaves nothing to measure in a %s run", p.Warmup, p.Duration)
	}
	if p.DrainTimeout < 0 {
		bad("drain-timeout", "%s must not be negative", p.DrainTimeout)
	}
	if _, err := p.ParseDist("input-tokens", p.InputTokens); err != nil {
		bad("input-tokens", "%v", err)
	}
	if _, err := p.ParseDist("output-tokens", p.OutputTokens); err != nil {
		bad("output-tokens", "%v", err)
	}
	if err := (loadgen.Prefixes{Groups: p.PrefixGroups, Tokens: p.PrefixTokens, Share: p.PrefixShare}).Validate(); err != nil {
		bad("prefix-groups", "%v", err)
	}
	for _, d := range []struct{ field, spec string }{{"turns", p.Turns}, {"think-time", p.ThinkTime}} {
		if d.spec != "" {
			if _, err := p.ParseDist(d.field, d.spec); err != nil {
				bad(d.field, "%v", err)
			}
		}
	}
	if p.Turns != "" && p.Trace != "" {
		bad("turns", "sessions and trace replay do not mix; drop one")
	}
	if p.ThinkTime != "" && p.Turns == "" && p.Dataset == "" && p.Concurrency == 0 && !closedStages(p.Stages) {
		bad("think-time", "applies to sessions (--turns, a ShareGPT --dataset) and closed-loop users (--concurrency)")
	}
	if p.TraceWindow != "" && p.Trace == "" {
		bad("trace-window", "%q applies to --trace only", p.TraceWindow)
	}
	if p.Trace == "" && (p.TraceSpread != "" && p.TraceSpread != loadgen.SpreadNone || p.TraceSlot != 0) {
		bad("trace-spread", "applies to --trace only")
	}
	if !slices.Contains([]string{"", loadgen.SpreadNone, loadgen.SpreadUniform, loadgen.SpreadPoisson}, p.TraceSpread) {
		bad("trace-spread", "%q: want none, uniform or poisson", p.TraceSpread)
	}
	if p.TraceSlot < 0 {
		bad("trace-slot", "%s must not be negative", p.TraceSlot)
	}
	if p.Trace != "" {
		if msg := windowProblem(p.TraceWindow); msg != "" {
			bad("trace-window", "%s", msg)
		}
		if !(p.TraceSpeed > 0) {
			bad("trace-speed", "%v must be a positive factor (2 = twice as fast)", p.TraceSpeed)
		}
		if !slices.Contains([]string{loadgen.TraceAuto, loadgen.TraceAzure, loadgen.TraceMooncake, loadgen.TraceBurstGPT, loadgen.TraceCSV}, p.TraceFormat) {
			bad("trace-format", "%q: want auto, azure, mooncake, burstgpt or csv", p.TraceFormat)
		}
	}
	errs = append(errs, p.datasetProblems()...)
	if _, err := analysis.ParseSLOs(p.SLO); err != nil {
		for _, e := range flatten(err) {
			errs = append(errs, fmt.Errorf("slo: %w", e))
		}
	}
	if _, err := analysis.ParseGoodput(p.Goodput); err != nil {
		for _, e := range flatten(err) {
			errs = append(errs, fmt.Errorf("goodput: %w", e))
		}
	}
	if p.AbortOnFail && len(p.SLO) == 0 {
		bad("abort-on-fail", "needs at least one --slo to watch")
	}
	if _, _, err := p.ShardOf(); err != nil {
		bad("shard", "%v", err)
	}
	if _, err := p.StartTime(); err != nil {
		bad("start-at", "%v", err)
	}
	if p.MetricsAddr != "" {
		if err := CheckAddr(p.MetricsAddr); err != nil {
			bad("metrics-addr", "%v", err)
		}
	}
	if p.Target == "" {
		if _, err := p.SimConfig(); err != nil {
			errs = append(errs, err)
		}
	}
	return p.attribute(errs)
}

// flatten splits joined errors into their parts, so that each is one line.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// attribute joins errs, one line each, naming where the key each one
// concerns was set when it came from a profile file or the environment.
// Each message starts with its key ("rate: ...", "generic.path: ...").
func (p *Profile) attribute(errs []error) error {
	var out []error
	for _, e := range errs {
		for _, err := range flatten(e) {
			key, _, _ := strings.Cut(err.Error(), ":")
			key, _, _ = strings.Cut(key, ".")
			switch o := p.origins[key]; {
			case o.File != "":
				err = fmt.Errorf("profile %s: %w", o.File, err)
			case o.Env != "":
				err = fmt.Errorf("%w (set by %s)", err, o.Env)
			case o.Flag != "" && (key == "slo" || key == "goodput"):
				// As check prints them: --slo EXPR: problem.
				if inner := errors.Unwrap(err); inner != nil {
					err = fmt.Errorf("--%s %w", key, inner)
				}
			}
			out = append(out, err)
		}
	}
	return errors.Join(out...)
}

// Pacer returns the open-loop arrival process of a --rate run: constant,
// poisson or gamma arrivals, a linear ramp (rate to ramp-to over ramp-over,
// or over the duration), or a sine around rate.
func (p *Profile) Pacer() (vegeta.Pacer, error) {
	switch p.Arrival {
	case "ramp":
		over := p.RampOver
		if over == 0 {
			over = p.Duration
		}
		if over == 0 {
			return nil, errors.New("ramp: give --ramp-over (or --duration) for the ramp's length")
		}
		return loadgen.NewRamp(p.Rate, p.RampTo, over)
	case "sine":
		return loadgen.NewSine(p.Rate, p.SineAmplitude, p.SinePeriod)
	}
	return loadgen.NewPacer(p.Arrival, p.Rate, p.Burstiness, p.Seed)
}

// windowProblem says what is wrong with a trace window FROM:TO, naming the
// bound that cannot be read.
func windowProblem(w string) string {
	if a, b, ok := strings.Cut(w, ":"); ok {
		for _, part := range []struct{ name, text string }{{"start", a}, {"end", b}} {
			if part.text == "" {
				continue
			}
			if _, err := ParseText(KindDuration, part.text); err != nil {
				return fmt.Sprintf("%q: %s %q %v", w, part.name, part.text, err)
			}
		}
	}
	if _, _, err := loadgen.ParseWindow(w); err != nil {
		return strings.TrimPrefix(err.Error(), "trace-window ")
	}
	return ""
}

func closedStages(specs []string) bool {
	st, err := loadgen.ParseStages(specs)
	return err == nil && loadgen.ClosedStages(st)
}

// CheckAddr checks an address to listen on: HOST:PORT, or :PORT for every
// interface, with a port number from 0 to 65535 (0 picks a free one).
func CheckAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return fmt.Errorf("%q: want HOST:PORT, e.g. 127.0.0.1:8000 (or :8000 for every interface)", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	return nil
}

// ShardOf returns this process's shard: index i of n (0 of 1 when not
// sharded).
func (p *Profile) ShardOf() (i, n int, err error) {
	if p.Shard == "" {
		return 0, 1, nil
	}
	a, b, ok := strings.Cut(p.Shard, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return 0, 1, fmt.Errorf("%q: want i/N with 0 <= i < N, e.g. 0/4", p.Shard)
	}
	return i, n, nil
}

// StartTime returns start-at as a time (zero when not set).
func (p *Profile) StartTime() (time.Time, error) {
	if p.StartAt == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, p.StartAt)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: want an RFC 3339 time such as 2026-11-28T10:00:00Z", p.StartAt)
	}
	return t, nil
}

// SimConfig is the built-in simulator's configuration for a run without a
// target. Its errors name the profile's sim-* keys.
func (p *Profile) SimConfig() (sim.Config, error) {
	cfg := sim.DefaultConfig()
	cfg.Scheduler = p.SimScheduler
	if cfg.Scheduler == "" {
		cfg.Scheduler = "continuous"
		if p.SimTTFT > 0 || p.SimITL > 0 {
			cfg.Scheduler = "fixed"
		}
	}
	var errs []error
	if p.SimPreset != "" {
		cfg.Preset = p.SimPreset
	}
	if p.SimPresetFile != "" {
		if p.SimPreset != "" {
			errs = append(errs, fmt.Errorf("sim-preset-file: %s and %s both choose the simulator's cost model; give one (a preset file replaces the built-in preset)",
				p.Origin("sim-preset").Where("sim-preset"), p.Origin("sim-preset-file").Where("sim-preset-file")))
		} else if m, err := p.simPresetFile(); err != nil {
			errs = append(errs, fmt.Errorf("sim-preset-file: %w", err))
		} else {
			cfg.Cost = &m
		}
	}
	if p.SimMaxBatch > 0 {
		cfg.MaxBatch = p.SimMaxBatch
	}
	if p.SimMaxStepTokens > 0 {
		cfg.MaxStepTokens = p.SimMaxStepTokens
	}
	cfg.KVTokens = p.SimKVTokens
	cfg.PrefixCache = p.SimPrefixCache
	if p.SimTTFT > 0 {
		cfg.TTFT = p.SimTTFT
	}
	if p.SimITL > 0 {
		cfg.ITL = p.SimITL
	}
	cfg.FailRate, cfg.Seed = p.SimFailRate, p.Seed
	if p.SimFailKinds != "" {
		kinds, err := sim.ParseFailKinds(p.SimFailKinds)
		if err != nil {
			errs = append(errs, fmt.Errorf("sim-fail-kinds: %w", err))
		}
		cfg.FailKinds = kinds
	}
	if p.SimStall != "" {
		every, d, err := sim.ParseStall(p.SimStall)
		if err != nil {
			errs = append(errs, fmt.Errorf("sim-stall: %w", err))
		}
		cfg.StallEvery, cfg.StallFor = every, d
	}
	if err := cfg.Validate(); err != nil {
		// The simulator names serve's flags; the profile's keys carry sim-.
		for _, e := range flatten(err) {
			msg := strings.Replace(e.Error(), "sim: ", "sim-", 1)
			errs = append(errs, errors.New(strings.ReplaceAll(msg, "--", "--sim-")))
		}
	}
	return cfg, errors.Join(errs...)
}

// SimPresetPath is the sim-preset-file as it resolves: relative to the
// profile file when the profile gave it, else as given ("" when not set).
func (p *Profile) SimPresetPath() string {
	name := p.SimPresetFile
	if name != "" && p.fromFile("sim-preset-file") && p.FS == nil && !filepath.IsAbs(name) && p.Dir != "" {
		name = filepath.Join(p.Dir, name)
	}
	return name
}

// simPresetFile reads the cost model of sim-preset-file.
func (p *Profile) simPresetFile() (sim.CostModel, error) {
	data, err := p.ReadFile("sim-preset-file", p.SimPresetFile)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return sim.CostModel{}, fmt.Errorf("preset file %s: no such file", p.SimPresetPath())
		}
		return sim.CostModel{}, fmt.Errorf("preset file %s: %w", p.SimPresetPath(), err)
	}
	return sim.ParsePreset(p.SimPresetPath(), data)
}

// distOptions resolves the files of key's DIST the way the profile's paths
// resolve (fromFile): relative to the profile file or in the built-in data
// when the profile gave the key, else (a flag, an environment variable)
// relative to the working directory.
func (p *Profile) distOptions(key string) []dist.Option {
	switch {
	case !p.fromFile(key):
		return nil
	case p.FS != nil:
		return []dist.Option{dist.WithFS(p.FS)}
	}
	return []dist.Option{dist.WithBaseDir(p.Dir)}
}

// ParseDist parses the DIST spec the profile's key holds, resolving its
// files as distOptions does.
func (p *Profile) ParseDist(key, spec string) (dist.Dist, error) {
	return dist.Parse(spec, p.distOptions(key)...)
}

// fromFile reports whether key's value came from the profile file (or is
// a default) rather than from a flag or an environment variable.
func (p *Profile) fromFile(key string) bool {
	o := p.Origin(key)
	return o.Flag == "" && o.Env == ""
}

// OpenFile opens the file the profile's key names (a trace, say): relative
// to the profile file or in the built-in data when the profile gave it,
// relative to the working directory when a flag or an environment variable
// did.
func (p *Profile) OpenFile(key, name string) (io.ReadCloser, error) {
	if !p.fromFile(key) {
		return os.Open(name)
	}
	if p.FS != nil {
		return p.FS.Open(name)
	}
	if !filepath.IsAbs(name) && p.Dir != "" {
		name = filepath.Join(p.Dir, name)
	}
	return os.Open(name)
}

// ReadFile reads the file the profile's key names, as OpenFile resolves it.
func (p *Profile) ReadFile(key, name string) ([]byte, error) {
	f, err := p.OpenFile(key, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 1<<20))
}

// envName reports whether s is a portable environment variable name.
func envName(s string) bool {
	for i, c := range s {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// Redacted returns a copy safe to write to disk or show: every header value
// is masked (secret.Mask, a short hash) unless its name is on the harmless
// allow-list (secret.Harmless), in --header and in the generic block's
// constant headers alike; the target, endpoint and scrape-metrics URLs
// lose their userinfo and query values.
func (p Profile) Redacted() Profile {
	q := p
	q.Headers = make([]string, len(p.Headers))
	for i, h := range p.Headers {
		q.Headers[i] = secret.HeaderLine(h)
	}
	q.Target = secret.URL(p.Target)
	q.Endpoint = secret.URL(p.Endpoint) // ?key=... (Gemini's native API)
	if p.ScrapeMetrics != "" && p.ScrapeMetrics != "sim" {
		q.ScrapeMetrics = secret.URL(p.ScrapeMetrics)
	}
	if len(p.Generic.Headers) > 0 {
		q.Generic.Headers = make(map[string]string, len(p.Generic.Headers))
		for k, v := range p.Generic.Headers {
			q.Generic.Headers[k] = secret.HeaderValue(k, v)
		}
	}
	return q
}

// Secrets returns the profile's secret values, for a secret.Redactor that
// keeps them out of free text (error messages, logs): every header value
// not on the harmless allow-list and the credentials in its URLs. The API
// key is not in the profile (it is read from api-key-env or api-key-file);
// add it.
func (p Profile) Secrets() []string {
	vs := secret.HeaderValues(p.Headers)
	for k, v := range p.Generic.Headers {
		if !secret.Harmless(k) {
			vs = append(vs, v)
		}
	}
	vs = append(vs, secret.URLValues(p.Target)...)
	vs = append(vs, secret.URLValues(p.Endpoint)...)
	return append(vs, secret.URLValues(p.ScrapeMetrics)...)
}

// IsSecretHeader reports whether a header's value is kept out of outputs:
// every header is, unless its name is on the harmless allow-list.
func IsSecretHeader(name string) bool { return !secret.Harmless(name) }
