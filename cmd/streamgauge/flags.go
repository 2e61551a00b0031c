package main

import (
	"strings"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/targets/apis"
)

// addProfileFlags defines one flag per profile key, defaulting to the
// profile defaults.
func addProfileFlags(fs *pflag.FlagSet) {
	d := profiles.Default()
	fs.String("name", d.Name, "run name, used in the default --out directory")
	fs.String("description", d.Description, "free text kept in run.json")
	fs.String("target", d.Target, "server base URL scheme://host:port[/prefix]; empty starts the built-in simulator")
	fs.String("api", d.API, "wire API: "+strings.Join(apis.Names(), "|")+"|generic (with a generic: block in a profile file)")
	fs.String("endpoint", d.Endpoint, "override the API path appended to --target (e.g. /v1/chat/completions)")
	fs.String("model", d.Model, "model name sent in each request")
	fs.StringArray("header", d.Headers, "extra request header 'Name: value' (repeatable)")
	fs.String("api-key-env", d.APIKeyEnv, "name of the environment variable holding the API key")
	fs.String("api-key-file", d.APIKeyFile, "file whose first line is the API key")
	fs.Bool("insecure", d.Insecure, "do not verify the server's TLS certificate")
	fs.String("ca-cert", d.CACert, "PEM file of CA certificates to trust for the server's TLS certificate")
	fs.Int("max-frame-bytes", d.MaxFrameBytes, "largest stream frame (or line) accepted; larger ones fail the request as protocol errors")
	fs.Duration("timeout", d.Timeout, "whole-request timeout")
	fs.Duration("connect-timeout", d.ConnectTimeout, "connection set-up timeout (kind connect)")
	fs.Duration("ttfb-timeout", d.TTFBTimeout, "timeout for the response headers (0 = none)")
	fs.Duration("ttft-timeout", d.TTFTTimeout, "timeout for the first token (0 = none)")
	fs.Duration("idle-timeout", d.IdleTimeout, "timeout for the gap between frames once streaming (0 = none)")
	fs.Bool("ignore-eos", d.IgnoreEOS, "send ignore_eos so outputs run to max_tokens (set false for hosted APIs that reject it)")
	fs.Float64("rate", d.Rate, "open-loop request rate, requests per second")
	fs.String("arrival", d.Arrival, "arrival process for --rate: constant|poisson|gamma|ramp|sine")
	fs.Float64("burstiness", d.Burstiness, "coefficient of variation of gamma inter-arrival gaps (1 = Poisson)")
	fs.Int("concurrency", d.Concurrency, "closed loop: number of users each sending back to back")
	fs.Int("max-concurrency", d.MaxConcurrency, "cap on in-flight requests of an open-loop run (waiting counts as lag)")
	fs.Duration("duration", d.Duration, "stop scheduling after this long")
	fs.Uint64("requests", d.Requests, "stop after this many requests")
	fs.Duration("warmup", d.Warmup, "requests scheduled in this first stretch are recorded but not measured")
	fs.Uint64("warmup-requests", d.WarmupRequests, "the first N requests are recorded but not measured")
	fs.Float64("ramp-to", d.RampTo, "--arrival ramp: rate at the end of the ramp (starts at --rate)")
	fs.Duration("ramp-over", d.RampOver, "--arrival ramp: length of the ramp (default --duration), then it holds --ramp-to")
	fs.Float64("sine-amplitude", d.SineAmplitude, "--arrival sine: swing of the rate around --rate, req/s")
	fs.Duration("sine-period", d.SinePeriod, "--arrival sine: period of the swing")
	fs.StringArray("stages", d.Stages, "load stages DURATION:rate=R or DURATION:users=N (repeatable, in order)")
	fs.String("latency-from", d.LatencyFrom, "ttft/e2e from the actual 'send' or the 'scheduled' send time (counts queueing)")
	fs.Duration("drain-timeout", d.DrainTimeout, "how long in-flight requests may finish after scheduling stops (0 = all, 10s after Ctrl-C)")
	fs.String("input-tokens", d.InputTokens, "input length DIST: 256, uniform:100,900, ...")
	fs.String("output-tokens", d.OutputTokens, "output length DIST (sent as max_tokens)")
	fs.String("tokenizer", d.Tokenizer, "tokenizer for prompts and token counts: cl100k_base|o200k_base")
	fs.Int("prefix-groups", d.PrefixGroups, "number of shared prompt prefixes (prefix caching)")
	fs.Int("prefix-tokens", d.PrefixTokens, "tokens in each shared prefix")
	fs.Float64("prefix-share", d.PrefixShare, "share of requests (0-1) that start with a shared prefix")
	fs.Bool("prefix-system", d.PrefixSystem, "send the shared prefix as a system message (chat APIs)")
	fs.String("turns", d.Turns, "multi-turn sessions: turns per session DIST (each turn carries the conversation)")
	fs.String("think-time", d.ThinkTime, "sessions: pause between a turn's end and the next turn, DIST in ms")
	fs.String("trace", d.Trace, "replay a trace: Azure CSV, Mooncake JSONL, BurstGPT CSV or offset_ms,input_tokens,output_tokens")
	fs.String("trace-format", d.TraceFormat, "trace format: auto|azure|mooncake|burstgpt|csv")
	fs.Float64("trace-speed", d.TraceSpeed, "replay speed factor (2 = twice as fast)")
	fs.String("trace-window", d.TraceWindow, "replay only arrivals in FROM:TO of the trace, e.g. 600s:900s")
	fs.StringArray("slo", d.SLO, "SLO expression, e.g. 'ttft.p99<500ms' (repeatable)")
	fs.Bool("abort-on-fail", d.AbortOnFail, "check the SLOs every 5 s over the last 30 s and stop the run as soon as one is lost (exit 3)")
	fs.String("goodput", d.Goodput, "per-request SLOs for goodput, e.g. 'ttft<=500ms,tpot<=50ms'")
	fs.String("out", d.Out, "run directory (default results/<UTC time>-<name>)")
	fs.Uint64("seed", d.Seed, "random seed: same seed, same requests and schedule")
	fs.String("shard", d.Shard, "distributed run: send only shard i/N of the schedule (same seed on every worker)")
	fs.Int("shards", d.Shards, "distributed run: N shards, this one's index from JOB_COMPLETION_INDEX (Kubernetes Indexed Job)")
	fs.String("start-at", d.StartAt, "distributed run: common start time, in the future, RFC 3339 (e.g. 2026-11-28T10:00:00Z)")
	fs.String("metrics-addr", d.MetricsAddr, "serve live Prometheus metrics (counters, ttft/itl/tpot/e2e histograms) at http://HOST:PORT/metrics while the run lasts")
	fs.String("scrape-metrics", d.ScrapeMetrics, "scrape the server's Prometheus metrics URL every second into server_metrics.jsonl ('sim': the built-in simulator's, or the --target host's /metrics)")
	fs.String("sim-scheduler", d.SimScheduler, "built-in simulator: fixed|fcfs|static|continuous|chunked-prefill|priority (default continuous, or fixed when --sim-ttft/--sim-itl is set)")
	fs.String("sim-preset", d.SimPreset, "built-in simulator: cost model preset (see streamgauge serve --help)")
	fs.Int("sim-max-batch", d.SimMaxBatch, "built-in simulator: sequences per step")
	fs.Int("sim-kv-tokens", d.SimKVTokens, "built-in simulator: KV-cache capacity in tokens (0 = the preset's)")
	fs.Int("sim-max-step-tokens", d.SimMaxStepTokens, "built-in simulator: chunked-prefill token budget per step")
	fs.Bool("sim-prefix-cache", d.SimPrefixCache, "built-in simulator: skip the prefill of cached shared prefixes")
	fs.Float64("sim-fail-rate", d.SimFailRate, "built-in simulator: share of requests that fail (chaos)")
	fs.String("sim-fail-kinds", d.SimFailKinds, "built-in simulator: failure kinds 429,500,stream,drop")
	fs.String("sim-stall", d.SimStall, "built-in simulator: EVERY:DURATION pause every EVERY tokens")
	fs.Duration("sim-ttft", d.SimTTFT, "built-in simulator, fixed engine: time to first token")
	fs.Duration("sim-itl", d.SimITL, "built-in simulator, fixed engine: gap between tokens")
}

// bindProfile layers defaults < profile file < STREAMGAUGE_* env < flags.
func bindProfile(v *viper.Viper, fs *pflag.FlagSet, getenv func(string) (string, bool)) error {
	for _, k := range profiles.Keys() {
		f := fs.Lookup(k)
		if f == nil {
			continue
		}
		if err := v.BindPFlag(k, f); err != nil {
			return err
		}
		envName := "STREAMGAUGE_" + strings.ToUpper(strings.ReplaceAll(k, "-", "_"))
		if val, ok := getenv(envName); ok && !f.Changed {
			if f.Value.Type() == "stringArray" {
				v.Set(k, splitList(val))
			} else {
				v.Set(k, val)
			}
		}
	}
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
