package sim

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/streamgauge/streamgauge/targets"
)

// The --fail-kinds values.
const (
	Fail429    = "429"    // HTTP 429 with Retry-After
	Fail500    = "500"    // HTTP 500
	FailStream = "stream" // an error event in the middle of the stream
	FailDrop   = "drop"   // the connection closed in the middle of the stream
)

// FailKinds lists the --fail-kinds values.
func FailKinds() []string { return []string{Fail429, Fail500, FailStream, FailDrop} }

// Config is everything the simulator can be told: the engine, its
// scheduler and cost model, and chaos. Field comments name the serve flag.
// Start from DefaultConfig: zero values mean zero (only KVTokens has a
// zero default).
type Config struct {
	// Scheduler (--scheduler) is one of Schedulers(); "fixed" is the
	// fixed-latency engine (TTFT, ITL, PerPromptToken), the others the
	// stepped engine.
	Scheduler string
	// Preset (--preset) names the cost model (PresetNames()).
	Preset string
	// Cost, when set, replaces the preset's cost model (in-process use).
	Cost *CostModel
	// MaxBatch (--max-batch) bounds the sequences of a step.
	MaxBatch int
	// KVTokens (--kv-tokens) is the KV-cache capacity; 0 is the preset's.
	KVTokens int
	// MaxStepTokens (--max-step-tokens) is chunked-prefill's token budget
	// per step.
	MaxStepTokens int
	// PrefixCache (--prefix-cache) skips the prefill of cached prompt
	// blocks of BlockTokens tokens (--block-tokens), counted with the
	// simulator's tokenizer.
	PrefixCache bool
	BlockTokens int
	// PriorityAging (--priority-aging) is how many prompt tokens the
	// priority scheduler forgives a request per second it has waited.
	PriorityAging float64

	// TTFT, ITL and PerPromptToken (--ttft, --itl, --per-prompt-token)
	// drive the fixed engine.
	TTFT, ITL, PerPromptToken time.Duration

	// DefaultMaxTokens (--default-max-tokens) is the output length of a
	// request without max_tokens.
	DefaultMaxTokens int
	// Model (--model-name) is the served model name: /v1/models and the
	// model_name label of /metrics.
	Model string

	// FailRate (--fail-rate) is the share of requests that fail, each with
	// one of FailKinds (--fail-kinds), chosen from Seed (--seed) and the
	// request id, so the same ids fail the same way on every run.
	FailRate  float64
	FailKinds []string
	// RetryAfter (--retry-after) is the Retry-After of a 429, whole seconds.
	RetryAfter time.Duration
	// StallEvery and StallFor (--stall EVERY:DURATION) pause every stream
	// for StallFor before every StallEvery-th token.
	StallEvery int
	StallFor   time.Duration
	Seed       uint64
}

// DefaultConfig is the simulator of `streamgauge serve` without flags.
func DefaultConfig() Config {
	return Config{
		Scheduler:        SchedContinuous,
		Preset:           "h100-llama8b",
		MaxBatch:         256,
		MaxStepTokens:    512,
		BlockTokens:      16,
		PriorityAging:    1000,
		TTFT:             50 * time.Millisecond,
		ITL:              10 * time.Millisecond,
		DefaultMaxTokens: 128,
		Model:            "sim",
		FailKinds:        FailKinds(),
		RetryAfter:       time.Second,
	}
}

// Validate returns every problem of c at once, each naming its flag.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("sim: %s: %s", field, fmt.Sprintf(format, args...)))
	}
	if !slices.Contains(Schedulers(), c.Scheduler) {
		bad("scheduler", "%q is not one of %s", c.Scheduler, strings.Join(Schedulers(), ", "))
	}
	if c.Cost != nil {
		if err := c.Cost.Validate(); err != nil {
			bad("cost", "%v", err)
		}
	} else if _, err := Preset(c.Preset); err != nil {
		bad("preset", "%q is not one of %s", c.Preset, strings.Join(PresetNames(), ", "))
	}
	if c.MaxBatch < 1 {
		bad("max-batch", "%d must be at least 1", c.MaxBatch)
	}
	if c.KVTokens < 0 {
		bad("kv-tokens", "%d must not be negative (0 is the preset's capacity)", c.KVTokens)
	}
	if c.MaxStepTokens < 1 {
		bad("max-step-tokens", "%d must be at least 1", c.MaxStepTokens)
	}
	if c.BlockTokens < 1 {
		bad("block-tokens", "%d must be at least 1", c.BlockTokens)
	}
	if c.PriorityAging < 0 {
		bad("priority-aging", "%g must not be negative", c.PriorityAging)
	}
	if c.TTFT < 0 {
		bad("ttft", "%s must not be negative", c.TTFT)
	}
	if c.ITL < 0 {
		bad("itl", "%s must not be negative", c.ITL)
	}
	if c.PerPromptToken < 0 {
		bad("per-prompt-token", "%s must not be negative", c.PerPromptToken)
	}
	if c.DefaultMaxTokens < 1 {
		bad("default-max-tokens", "%d must be at least 1", c.DefaultMaxTokens)
	}
	if c.Model == "" {
		bad("model-name", "must not be empty")
	}
	if c.FailRate < 0 || c.FailRate > 1 {
		bad("fail-rate", "%g must be in [0, 1]", c.FailRate)
	}
	if c.FailRate > 0 && len(c.FailKinds) == 0 {
		bad("fail-kinds", "a --fail-rate needs at least one kind (%s)", strings.Join(FailKinds(), ","))
	}
	for _, k := range c.FailKinds {
		if !slices.Contains(FailKinds(), k) {
			bad("fail-kinds", "%q is not one of %s", k, strings.Join(FailKinds(), ", "))
		}
	}
	if c.RetryAfter < 0 {
		bad("retry-after", "%s must not be negative", c.RetryAfter)
	}
	if c.StallEvery < 0 || c.StallFor < 0 || (c.StallEvery == 0) != (c.StallFor == 0) {
		bad("stall", "every %d tokens for %s: want both positive, or neither", c.StallEvery, c.StallFor)
	}
	if len(errs) == 0 && c.Scheduler != SchedFixed {
		cost, _ := c.CostModel()
		kv := c.KVTokens
		if kv == 0 {
			kv = cost.KVTokens
		}
		if kv < 1 {
			bad("kv-tokens", "the preset %s leaves no room for a KV cache; set --kv-tokens", cost.Name)
		}
	}
	return errors.Join(errs...)
}

// CostModel returns c.Cost, or the preset's cost model.
func (c Config) CostModel() (CostModel, error) {
	if c.Cost != nil {
		return *c.Cost, nil
	}
	return Preset(c.Preset)
}

// policy is the scheduling core's part of c.
func (c Config) policy(cost CostModel) policy {
	p := policy{
		name:       c.Scheduler,
		maxBatch:   c.MaxBatch,
		stepTokens: c.MaxStepTokens,
		kvTokens:   int64(c.KVTokens),
		aging:      c.PriorityAging,
	}
	if p.kvTokens == 0 {
		p.kvTokens = int64(cost.KVTokens)
	}
	if c.PrefixCache {
		p.blockSize = c.BlockTokens
	}
	return p
}

// NewEngine returns the engine c describes: Fixed for the fixed scheduler,
// else a Stepped engine.
func NewEngine(c Config) (Engine, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.Scheduler == SchedFixed {
		return Fixed{TTFT: c.TTFT, ITL: c.ITL, PerPromptToken: c.PerPromptToken}, nil
	}
	return NewStepped(c)
}

// WithConfig sets everything c describes: the engine, the default output
// length, the served model name and chaos.
func WithConfig(c Config) Option {
	return func(s *Server) error {
		eng, err := NewEngine(c)
		if err != nil {
			return err
		}
		s.engine = eng
		s.defMax = c.DefaultMaxTokens
		s.model = c.Model
		s.chaos = newChaos(c)
		return nil
	}
}

// NewFromConfig returns a server for cfg speaking protocols; more options
// (WithTruthLog, say) go through New(WithConfig(cfg), ...).
func NewFromConfig(cfg Config, protocols ...targets.ServerProtocol) (*Server, error) {
	return New(WithConfig(cfg), WithProtocols(protocols...))
}

// ParseStall parses --stall EVERY:DURATION ("32:250ms"); "" is no stall.
func ParseStall(s string) (every int, d time.Duration, err error) {
	if s == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(s, ":")
	if ok {
		every, err = strconv.Atoi(a)
	}
	if ok && err == nil {
		d, err = time.ParseDuration(b)
	}
	if !ok || err != nil || every < 1 || d <= 0 {
		return 0, 0, fmt.Errorf("stall %q: want EVERY:DURATION, a pause of DURATION every EVERY tokens, e.g. 32:250ms", s)
	}
	return every, d, nil
}

// ParseFailKinds parses --fail-kinds "429,500,stream,drop".
func ParseFailKinds(s string) ([]string, error) {
	var out []string
	for _, k := range strings.Split(s, ",") {
		k = strings.TrimSpace(k)
		if k == "" {
			continue
		}
		if !slices.Contains(FailKinds(), k) {
			return nil, fmt.Errorf("fail kind %q: want a comma-separated list of %s", k, strings.Join(FailKinds(), ","))
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out, nil
}
