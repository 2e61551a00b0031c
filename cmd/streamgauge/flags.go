package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/streamgauge/streamgauge/internal/nearest"
	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/targets/apis"
)

// profileUsage is the help text of each profile key's flag.
var profileUsage = map[string]string{
	"name":                "run name, used in the default --out directory",
	"description":         "free text kept in run.json",
	"target":              "server base URL scheme://host:port[/prefix]; empty starts the built-in simulator",
	"api":                 "wire API: " + strings.Join(apis.Names(), "|") + "|generic (with a generic: block in a profile file)",
	"endpoint":            "override the API path appended to --target (e.g. /v1/chat/completions)",
	"model":               "model name sent in each request",
	"header":              "extra request header 'Name: value' (repeatable); outputs show its value as redacted:<hash> unless the name is harmless (Content-Type, Accept, User-Agent...)",
	"api-key-env":         "name of the environment variable holding the API key",
	"api-key-file":        "file whose first line is the API key",
	"insecure":            "do not verify the server's TLS certificate",
	"ca-cert":             "PEM file of CA certificates to trust for the server's TLS certificate",
	"max-frame-bytes":     "largest stream frame (or line) accepted; larger ones fail the request as protocol errors",
	"timeout":             "whole-request timeout",
	"connect-timeout":     "connection set-up timeout (kind connect)",
	"ttfb-timeout":        "timeout for the response headers (0 = none)",
	"ttft-timeout":        "timeout for the first token (0 = none)",
	"idle-timeout":        "timeout for the gap between frames once streaming (0 = none)",
	"ignore-eos":          "send ignore_eos so outputs run to max_tokens (set false for hosted APIs that reject it)",
	"rate":                "open-loop request rate, requests per second",
	"arrival":             "arrival process for --rate: constant|poisson|gamma|ramp|sine",
	"burstiness":          "coefficient of variation of gamma inter-arrival gaps (1 = Poisson)",
	"concurrency":         "closed loop: number of users each sending back to back",
	"max-concurrency":     "cap on in-flight requests of an open-loop run (waiting counts as lag)",
	"duration":            "stop scheduling after this long",
	"requests":            "stop after this many requests",
	"warmup":              "requests scheduled in this first stretch are recorded but not measured",
	"warmup-requests":     "the first N requests are recorded but not measured",
	"ramp-to":             "--arrival ramp: rate at the end of the ramp (starts at --rate)",
	"ramp-over":           "--arrival ramp: length of the ramp (default --duration), then it holds --ramp-to",
	"sine-amplitude":      "--arrival sine: swing of the rate around --rate, req/s",
	"sine-period":         "--arrival sine: period of the swing",
	"stages":              "load stages DURATION:rate=R or DURATION:users=N (repeatable, in order)",
	"latency-from":        "ttft/e2e from the actual 'send' or the 'scheduled' send time (counts queueing)",
	"drain-timeout":       "how long in-flight requests may finish after scheduling stops (0 = all, 10s after Ctrl-C)",
	"input-tokens":        "input length DIST: 256, uniform:100,900, ...",
	"output-tokens":       "output length DIST (sent as max_tokens)",
	"tokenizer":           "tokenizer for prompts and token counts: cl100k_base|o200k_base, or server (fit each prompt on the target's /tokenize endpoint)",
	"prefix-groups":       "number of shared prompt prefixes (prefix caching)",
	"prefix-tokens":       "tokens in each shared prefix",
	"prefix-share":        "share of requests (0-1) that start with a shared prefix",
	"prefix-system":       "send the shared prefix as a system message (chat APIs)",
	"turns":               "multi-turn sessions: turns per session DIST (each turn carries the conversation)",
	"think-time":          "sessions: pause between a turn's end and the next turn, DIST in ms",
	"trace":               "replay a trace: Azure CSV, Mooncake JSONL, BurstGPT CSV or offset_ms,input_tokens,output_tokens",
	"trace-format":        "trace format: auto|azure|mooncake|burstgpt|csv",
	"trace-speed":         "replay speed factor (2 = twice as fast)",
	"trace-window":        "replay only arrivals in FROM:TO of the trace, e.g. 600s:900s",
	"dataset":             "send your own prompts: JSONL (prompt or messages), ShareGPT JSON (sessions) or text, one prompt per line",
	"dataset-format":      "dataset format: auto|jsonl|sharegpt|text",
	"dataset-sample":      "dataset entries to sample with --seed (default: --requests, else 10000); the memory held",
	"dataset-min-input":   "keep only dataset prompts of at least this many tokens (measured with --tokenizer)",
	"dataset-max-input":   "keep only dataset prompts of at most this many tokens (measured with --tokenizer)",
	"unique-prompts":      "start every prompt with a unique marker so no request reuses another's prefix cache",
	"trace-spread":        "place arrivals that share one timestamp slot over it: none|uniform|poisson (seeded by --seed)",
	"trace-slot":          "the trace's timestamp slot width for --trace-spread (default: from the timestamps; Mooncake 3s)",
	"slo":                 "SLO expression, e.g. 'ttft.p99<500ms' (repeatable)",
	"abort-on-fail":       "check the SLOs every 5 s over the last 30 s and stop the run as soon as one is lost (exit 3)",
	"goodput":             "per-request SLOs for goodput, e.g. 'ttft<=500ms,tpot<=50ms'",
	"out":                 "run directory (default results/<UTC time>-<name>)",
	"seed":                "random seed: same seed, same requests and schedule",
	"shard":               "distributed run: send only shard i/N of the schedule (same seed on every worker)",
	"shards":              "distributed run: N shards, this one's index from JOB_COMPLETION_INDEX (Kubernetes Indexed Job)",
	"start-at":            "distributed run: common start time, in the future, RFC 3339 (e.g. 2026-11-28T10:00:00Z)",
	"metrics-addr":        "serve live Prometheus metrics (counters, ttft/itl/tpot/e2e histograms) at http://HOST:PORT/metrics while the run lasts",
	"scrape-metrics":      "scrape the server's Prometheus metrics URL every second into server_metrics.jsonl ('sim': the built-in simulator's, or the --target host's /metrics)",
	"sim-scheduler":       "built-in simulator: fixed|fcfs|static|continuous|chunked-prefill|priority (default continuous, or fixed when --sim-ttft/--sim-itl is set)",
	"sim-preset":          "built-in simulator: cost model preset (see streamgauge serve --help)",
	"sim-preset-file":     "built-in simulator: cost model from a preset file (streamgauge calibrate writes one); replaces --sim-preset",
	"sim-max-batch":       "built-in simulator: sequences per step",
	"sim-kv-tokens":       "built-in simulator: KV-cache capacity in tokens (0 = the preset's)",
	"sim-max-step-tokens": "built-in simulator: chunked-prefill token budget per step",
	"sim-prefix-cache":    "built-in simulator: skip the prefill of cached shared prefixes",
	"sim-fail-rate":       "built-in simulator: share of requests that fail (chaos)",
	"sim-fail-kinds":      "built-in simulator: failure kinds 429,500,stream,drop",
	"sim-stall":           "built-in simulator: EVERY:DURATION pause every EVERY tokens",
	"sim-ttft":            "built-in simulator, fixed engine: time to first token",
	"sim-itl":             "built-in simulator, fixed engine: gap between tokens",
}

// addProfileFlags defines one flag per profile key, defaulting to the
// profile defaults. The flags keep the text given: values are read (and
// every problem reported at once) when the profile is resolved, the same
// way a profile file's and STREAMGAUGE_* variables' values are.
func addProfileFlags(fs *pflag.FlagSet) {
	for _, k := range profiles.KeyList() {
		if k.Kind == profiles.KindBlock {
			continue // profile files only
		}
		f := fs.VarPF(newTextFlag(k), k.Name, "", profileUsage[k.Name])
		f.DefValue = k.Default
		if k.Kind == profiles.KindBool {
			f.NoOptDefVal = "true"
		}
	}
}

// textFlag holds a profile flag's text (or texts, for a list) as given.
type textFlag struct {
	kind  profiles.Kind
	text  string
	list  []string
	given bool
}

func newTextFlag(k profiles.Key) pflag.Value {
	f := &textFlag{kind: k.Kind, text: k.Default}
	if k.Kind == profiles.KindBool {
		return &boolTextFlag{f}
	}
	return f
}

func (f *textFlag) String() string {
	if f.kind == profiles.KindList {
		return "[" + strings.Join(f.list, ",") + "]"
	}
	return f.text
}

func (f *textFlag) Set(s string) error {
	if f.kind == profiles.KindList {
		f.list = append(f.list, s)
	} else {
		f.text = s // given twice, the last wins, as with every flag
	}
	f.given = true
	return nil
}

// Type names the value in --help as pflag's own flags do.
func (f *textFlag) Type() string {
	switch f.kind {
	case profiles.KindInt:
		return "int"
	case profiles.KindUint:
		return "uint64"
	case profiles.KindFloat:
		return "float64"
	case profiles.KindList:
		return "stringArray"
	}
	return string(f.kind)
}

// boolTextFlag is a textFlag that may be given without a value.
type boolTextFlag struct{ *textFlag }

func (*boolTextFlag) IsBoolFlag() bool { return true }

func textOf(f *pflag.Flag) *textFlag {
	switch v := f.Value.(type) {
	case *textFlag:
		return v
	case *boolTextFlag:
		return v.textFlag
	}
	return nil
}

// envName is the environment variable of a profile key.
func envName(key string) string {
	return "STREAMGAUGE_" + strings.ToUpper(strings.ReplaceAll(key, "-", "_"))
}

// profileLayers returns the settings of STREAMGAUGE_* variables and of the
// flags given, in that order; a flag given wins over its variable, which is
// then not read.
func profileLayers(fs *pflag.FlagSet, getenv func(string) (string, bool)) (env, flags []profiles.Setting) {
	for _, k := range profiles.KeyList() {
		f := fs.Lookup(k.Name)
		tf := (*textFlag)(nil)
		if f != nil {
			tf = textOf(f)
		}
		if tf == nil {
			continue
		}
		if tf.given {
			s := profiles.Setting{Key: k.Name, Text: tf.text, From: profiles.Origin{Flag: k.Name}}
			if k.Kind == profiles.KindList {
				s.List, s.IsList = tf.list, true
			}
			flags = append(flags, s)
			continue
		}
		name := envName(k.Name)
		if val, ok := getenv(name); ok {
			s := profiles.Setting{Key: k.Name, Text: val, From: profiles.Origin{Env: name}}
			if k.Kind == profiles.KindList {
				s.List, s.IsList = splitList(val), true
			}
			env = append(env, s)
		}
	}
	return env, flags
}

// otherVariables are STREAMGAUGE_* variables that are not settings: the
// live status's and the test suite's.
var otherVariables = []string{"STREAMGAUGE_QUIET", "STREAMGAUGE_ARTIFACTS", "STREAMGAUGE_SOAK", "STREAMGAUGE_TIMING"}

// unknownVariables warns of STREAMGAUGE_* variables that set nothing, with
// the nearest setting's variable: a misspelled one is otherwise ignored
// without a word.
func unknownVariables(fs *pflag.FlagSet, environ []string) []string {
	known := slices.Clone(otherVariables)
	fileOnly := map[string]string{}
	for _, k := range profiles.Keys() {
		if fs.Lookup(k) != nil {
			known = append(known, envName(k))
		} else {
			fileOnly[envName(k)] = k
		}
	}
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "STREAMGAUGE_") || slices.Contains(known, name) {
			continue
		}
		if k, ok := fileOnly[name]; ok {
			out = append(out, fmt.Sprintf("%s: %s can only be set in a profile file; it is ignored", name, k))
			continue
		}
		hint := ""
		if best := nearest.Name(name, known, 3); best != "" {
			hint = fmt.Sprintf(" (did you mean %s?)", best)
		}
		out = append(out, fmt.Sprintf("%s is not a setting%s; it is ignored", name, hint))
	}
	slices.Sort(out)
	return out
}

// loadProfile layers a built-in profile or file, STREAMGAUGE_* variables
// and flags into a profile (run and sweep share it). Every value that
// cannot be read is reported at once, one line each, naming the file and
// key, the variable or the flag; all of them are usage errors.
func loadProfile(cmd *cobra.Command, e *env, args []string) (profiles.Profile, error) {
	env, flags := profileLayers(cmd.Flags(), e.getenv)
	if e.environ != nil {
		for _, w := range unknownVariables(cmd.Flags(), e.environ()) {
			fmt.Fprintf(e.stderr, "streamgauge: %s\n", w)
		}
	}
	var file []profiles.Setting
	var src *profiles.Source
	var errs []error
	if len(args) == 1 {
		var err error
		if src, err = profiles.Find(args[0]); err != nil {
			return profiles.Profile{}, usageError(err)
		}
		if file, err = src.Settings(); err != nil {
			errs = append(errs, err)
		}
	}
	p, err := profiles.Resolve(file, env, flags)
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return p, usageError(err)
	}
	if src != nil {
		p.Dir, p.FS = src.Dir, src.FS
	}
	e.setDrain(p.DrainTimeout) // bounds the stop after a signal
	return p, nil
}

// indexedJobShard sets the shard of a --shards N run (run and sweep share
// it) from the pod's index: a Kubernetes Indexed Job gives each pod its
// index in JOB_COMPLETION_INDEX.
func indexedJobShard(e *env, p *profiles.Profile) error {
	if p.Shards <= 0 || p.Shard != "" {
		return nil
	}
	idx, ok := e.getenv("JOB_COMPLETION_INDEX")
	if !ok {
		return usagef("shards: --shards %d needs JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) or --shard i/N", p.Shards)
	}
	p.Shard = idx + "/" + strconv.Itoa(p.Shards)
	return nil
}

// splitList splits a list given in one environment variable on ';'.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
