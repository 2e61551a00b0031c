package main

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/targets/apis"
	"github.com/streamgauge/streamgauge/targets/sim"
)

func newServeCmd(e *env) *cobra.Command {
	d := sim.DefaultConfig()
	var (
		addr, stall, kinds, truthLog, presetFile string
	)
	cfg := d
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the simulated inference server on its own",
		Long: `serve runs the built-in simulated inference server until interrupted. It speaks
these streaming APIs, each on its own routes:
  ` + serverAPIs() + `
It honours max_tokens and min_tokens, echoes X-Request-Id, and serves /metrics
(vLLM's metric names) and /health.

Latencies come from an engine that steps like a real server: each step runs a
batch chosen by --scheduler and takes the time the --preset cost model gives
for it (fixed overhead + compute per token + one weight read + the batch's
KV-cache reads); every running sequence gets its next token at the step's end.
--kv-tokens bounds what runs (new requests wait, running ones are preempted
and recomputed), and --prefix-cache skips the prefill of cached prompt blocks.
docs/schedulers.md explains the schedulers and derives the presets.

Schedulers: fcfs (one request at a time), static (fixed batches, the next
waits for the slowest), continuous (iteration-level batching up to
--max-batch), chunked-prefill (a --max-step-tokens budget per step, decodes
first), priority (shortest prompt first, aged by --priority-aging), and fixed
(every request gets --ttft then a token every --itl, whatever the load).

Presets:` + presetList() + `

--preset-file FILE replaces --preset with a cost model written as YAML:
streamgauge calibrate fits one to your own runs, and
examples/presets/h200-llama8b-hf-eager.yaml is a sample to start from.
docs/schedulers.md explains each field.

Chaos: --fail-rate of the requests fail with one of --fail-kinds (429 with
Retry-After, 500, stream: an error event mid-stream, drop: the connection cut
mid-stream), and --stall pauses every stream; which requests fail is a
function of --seed and the request's X-Request-Id, so a run is reproducible.
--truth-log writes, per request, when the server sent every frame.`,
		Example: `  # continuous batching on an H100 serving Llama 3.1 8B
  streamgauge serve --addr 127.0.0.1:8000 --scheduler continuous --preset h100-llama8b
  # then, in another terminal
  streamgauge run --target http://127.0.0.1:8000 --api openai-chat --rate 10 --duration 30s

  # chunked prefill with a small KV cache and a prefix cache
  streamgauge serve --scheduler chunked-prefill --max-step-tokens 512 --kv-tokens 50000 --prefix-cache

  # a cost model from a preset file (streamgauge calibrate writes one)
  streamgauge serve --preset-file examples/presets/h200-llama8b-hf-eager.yaml --scheduler chunked-prefill

  # chaos: 5% of requests fail, streams stall 250ms every 32 tokens, reproducibly
  streamgauge serve --fail-rate 0.05 --fail-kinds 429,stream,drop --stall 32:250ms --seed 7

  # fixed latencies for timing-truth tests, with the server's send times logged
  streamgauge serve --scheduler fixed --ttft 80ms --itl 15ms --truth-log truth.jsonl`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := profiles.CheckAddr(addr); err != nil {
				return usagef("--addr %v", err)
			}
			if err := servePresetFile(cmd.Flags(), &cfg, presetFile); err != nil {
				return err
			}
			if err := serveConfig(cmd.Flags(), &cfg, stall, kinds); err != nil {
				return usageError(err)
			}
			opts := []sim.Option{sim.WithConfig(cfg), sim.WithProtocols(apis.Servers()...)}
			var logFile *os.File
			if truthLog != "" {
				f, err := os.Create(truthLog)
				if err != nil {
					return runErrorf("truth-log: %w", err)
				}
				logFile = f
				defer f.Close()
				opts = append(opts, sim.WithTruthLog(f))
			}
			srv, err := sim.New(opts...)
			if err != nil {
				return usageError(err)
			}
			l, err := srv.Listen(addr)
			if err != nil {
				return runError(err)
			}
			fmt.Fprintf(e.stderr, "streamgauge: simulator listening on %s (%s); Ctrl-C stops it\n", l.URL, describeSim(cfg, srv))
			<-cmd.Context().Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			l.Close(ctx)
			if err := srv.TruthErr(); err != nil {
				return runErrorf("truth-log %s: %w", truthLog, err)
			}
			if logFile != nil {
				if err := logFile.Close(); err != nil {
					return runErrorf("truth-log %s: %w", truthLog, err)
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8000", "address to listen on")
	f.StringVar(&cfg.Scheduler, "scheduler", d.Scheduler, "batching policy: "+strings.Join(sim.Schedulers(), "|"))
	f.StringVar(&cfg.Preset, "preset", d.Preset, "cost model (hardware and model shape): "+strings.Join(sim.PresetNames(), "|"))
	f.StringVar(&presetFile, "preset-file", "", "cost model from a preset file (YAML, written by streamgauge calibrate); replaces --preset")
	f.IntVar(&cfg.MaxBatch, "max-batch", d.MaxBatch, "most sequences in one step (static: batch size)")
	f.IntVar(&cfg.KVTokens, "kv-tokens", d.KVTokens, "KV-cache capacity in tokens (0: what the preset's GPU memory leaves)")
	f.IntVar(&cfg.MaxStepTokens, "max-step-tokens", d.MaxStepTokens, "chunked-prefill: token budget of a step")
	f.BoolVar(&cfg.PrefixCache, "prefix-cache", d.PrefixCache, "skip the prefill of prompt blocks still cached")
	f.IntVar(&cfg.BlockTokens, "block-tokens", d.BlockTokens, "prefix-cache block size, in prompt tokens (the simulator's tokenizer)")
	f.Float64Var(&cfg.PriorityAging, "priority-aging", d.PriorityAging, "priority: prompt tokens forgiven per second of waiting")
	f.DurationVar(&cfg.TTFT, "ttft", d.TTFT, "fixed scheduler: time to first token")
	f.DurationVar(&cfg.ITL, "itl", d.ITL, "fixed scheduler: gap between tokens")
	f.DurationVar(&cfg.PerPromptToken, "per-prompt-token", d.PerPromptToken, "fixed scheduler: extra time to first token per prompt token")
	f.IntVar(&cfg.DefaultMaxTokens, "default-max-tokens", d.DefaultMaxTokens, "output length of requests without max_tokens")
	f.StringVar(&cfg.Model, "model-name", d.Model, "served model name (/v1/models, model_name label of /metrics)")
	f.Float64Var(&cfg.FailRate, "fail-rate", d.FailRate, "share of requests (0-1) that fail with one of --fail-kinds")
	f.StringVar(&kinds, "fail-kinds", strings.Join(d.FailKinds, ","), "failure kinds: "+strings.Join(sim.FailKinds(), ","))
	f.DurationVar(&cfg.RetryAfter, "retry-after", d.RetryAfter, "Retry-After of a simulated 429 (whole seconds)")
	f.StringVar(&stall, "stall", "", "pause every stream: EVERY:DURATION, e.g. 32:250ms")
	f.StringVar(&truthLog, "truth-log", "", "write each request's frame send times to FILE as JSON lines")
	f.Uint64Var(&cfg.Seed, "seed", d.Seed, "chaos seed: same seed and request ids, same failures")
	return cmd
}

// servePresetFile sets cfg's cost model from --preset-file, refusing it
// with --preset and naming the file and field of a file that cannot be
// read.
func servePresetFile(fs *pflag.FlagSet, cfg *sim.Config, path string) error {
	if path == "" {
		return nil
	}
	if fs.Changed("preset") {
		return usagef("--preset and --preset-file both choose the cost model; give one (a preset file replaces the built-in preset)")
	}
	m, err := sim.ReadPresetFile(path)
	if err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return usagef("--preset-file: preset file %s: no such file", path)
		}
		return usagef("--preset-file: %v", err)
	}
	cfg.Cost = &m
	return nil
}

// serveConfig completes cfg (already holding the flag values) from the
// flags that need parsing, and checks it.
func serveConfig(fs *pflag.FlagSet, cfg *sim.Config, stall, kinds string) error {
	fixedFlags := []string{"ttft", "itl", "per-prompt-token"}
	if !fs.Changed("scheduler") {
		// serve --ttft 80ms --itl 15ms keeps meaning the fixed engine.
		for _, n := range fixedFlags {
			if fs.Changed(n) {
				cfg.Scheduler = sim.SchedFixed
			}
		}
	}
	if cfg.Scheduler != sim.SchedFixed {
		for _, n := range fixedFlags {
			if fs.Changed(n) {
				return fmt.Errorf("%s: applies to --scheduler fixed only (the %s scheduler's latencies come from --preset)", n, cfg.Scheduler)
			}
		}
	}
	var err error
	if cfg.StallEvery, cfg.StallFor, err = sim.ParseStall(stall); err != nil {
		return err
	}
	if cfg.FailKinds, err = sim.ParseFailKinds(kinds); err != nil {
		return fmt.Errorf("fail-kinds: %w", err)
	}
	return cfg.Validate()
}

func serverAPIs() string {
	var names []string
	for _, p := range apis.Servers() {
		names = append(names, p.Name())
	}
	return strings.Join(names, ", ")
}

func presetList() string {
	var b strings.Builder
	for _, p := range sim.Presets() {
		fmt.Fprintf(&b, "\n  %-22s %s", p.Name, p.Description)
	}
	return b.String()
}

// describeSim is the one-line summary of the simulator's settings.
func describeSim(cfg sim.Config, srv *sim.Server) string {
	var b strings.Builder
	if cfg.Scheduler == sim.SchedFixed {
		fmt.Fprintf(&b, "scheduler fixed: ttft %s, itl %s", cfg.TTFT, cfg.ITL)
	} else {
		preset := "preset " + cfg.Preset
		if cfg.Cost != nil {
			preset = "cost model " + cfg.Cost.Name + " (preset file)"
		}
		fmt.Fprintf(&b, "scheduler %s, %s, max-batch %d", cfg.Scheduler, preset, cfg.MaxBatch)
		if st, ok := srv.Engine().(*sim.Stepped); ok {
			fmt.Fprintf(&b, ", kv-tokens %d", st.KVTokens())
		}
		if cfg.Scheduler == sim.SchedChunked {
			fmt.Fprintf(&b, ", max-step-tokens %d", cfg.MaxStepTokens)
		}
		if cfg.PrefixCache {
			b.WriteString(", prefix cache")
		}
	}
	if cfg.FailRate > 0 {
		fmt.Fprintf(&b, ", fail-rate %g (%s)", cfg.FailRate, strings.Join(cfg.FailKinds, ","))
	}
	if cfg.StallEvery > 0 {
		fmt.Fprintf(&b, ", stall %s every %d tokens", cfg.StallFor, cfg.StallEvery)
	}
	return b.String()
}
