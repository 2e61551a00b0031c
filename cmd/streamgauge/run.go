package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/loadgen/prompt"
	"github.com/streamgauge/streamgauge/loadgen/tokenizer"
	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/apis"
	"github.com/streamgauge/streamgauge/targets/sim"
)

func newRunCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run [PROFILE|FILE]",
		Short: "Run a load test and write a run directory",
		Long: `run sends requests on a schedule (--rate, open loop) or from a fixed number
of users (--concurrency, closed loop), times every streamed token, writes
requests.jsonl, run.json and summary.json to the run directory, and prints the
results table. Settings come from a built-in profile or a YAML file, then
STREAMGAUGE_<FLAG> environment variables, then flags. With no --target the
built-in simulator is started on 127.0.0.1.`,
		Example: `  streamgauge run demo
  streamgauge run --rate 20 --requests 200 --input-tokens uniform:100,900 --output-tokens 128
  streamgauge run --target http://localhost:8000 --api openai-chat --model M --rate 5 --duration 60s
  OPENAI_API_KEY=... streamgauge run --target https://api.example.com --api-key-env OPENAI_API_KEY --ignore-eos=false --concurrency 4 --requests 20`,
		Args: argsUsage(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			v := viper.New()
			var src *profiles.Source
			if len(args) == 1 {
				var err error
				src, err = profiles.Find(args[0])
				if err != nil {
					return usageError(err)
				}
				m, err := src.Settings()
				if err != nil {
					return usageError(err)
				}
				if err := v.MergeConfigMap(m); err != nil {
					return usagef("profile %s: %v", src.Name, err)
				}
			}
			if err := bindProfile(v, cmd.Flags(), e.getenv); err != nil {
				return usageError(err)
			}
			p, err := profiles.Decode(v)
			if err != nil {
				return usageError(err)
			}
			if src != nil {
				p.Dir, p.FS = src.Dir, src.FS
			}
			if err := p.Validate(); err != nil {
				return usageError(err)
			}
			return runProfile(cmd.Context(), e, p)
		},
	}
	addProfileFlags(cmd.Flags())
	return cmd
}

// tee hands each record to several sinks.
type tee []loadgen.Sink

func (t tee) Append(r *results.Record) error {
	for _, s := range t {
		if err := s.Append(r); err != nil {
			return err
		}
	}
	return nil
}

func runProfile(ctx context.Context, e *env, p profiles.Profile) error {
	proto, err := apis.Client(p.API)
	if err != nil {
		return usageError(err)
	}
	tok, err := tokenizer.Get(p.Tokenizer)
	if err != nil {
		return usagef("tokenizer: %v", err)
	}
	builder, err := prompt.New(tok)
	if err != nil {
		return runError(err)
	}
	src, pacer, err := workload(&p, builder)
	if err != nil {
		return usageError(err)
	}
	var apiKey string
	if p.APIKeyEnv != "" {
		k, ok := e.getenv(p.APIKeyEnv)
		if !ok || k == "" {
			return usagef("api-key-env: environment variable %s is not set", p.APIKeyEnv)
		}
		apiKey = k
	}

	target := p.Target
	simulated := target == ""
	if simulated {
		srv, err := sim.New(sim.WithProtocols(apis.Servers()...),
			sim.WithEngine(sim.Fixed{TTFT: p.SimTTFT, ITL: p.SimITL}))
		if err != nil {
			return usageError(err)
		}
		l, err := srv.Listen("127.0.0.1:0")
		if err != nil {
			return runError(err)
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			l.Close(sctx)
		}()
		target = l.URL
		fmt.Fprintf(e.stderr, "streamgauge: no --target given: started the built-in simulator at %s (ttft %s, itl %s)\n", target, p.SimTTFT, p.SimITL)
	}

	conns := max(p.Concurrency, p.MaxConcurrency, 64)
	opts := []targets.Option{targets.WithEndpoint(p.Endpoint), targets.WithTimeout(p.Timeout), targets.WithConnections(conns)}
	for _, h := range p.Headers {
		k, val, _ := strings.Cut(h, ":")
		opts = append(opts, targets.WithHeader(strings.TrimSpace(k), strings.TrimSpace(val)))
	}
	if apiKey != "" {
		opts = append(opts, targets.WithAPIKey(apiKey))
	}
	client, err := targets.NewClient(target, proto, opts...)
	if err != nil {
		return usageError(err)
	}
	defer client.CloseIdle()
	if err := reachable(ctx, target); err != nil {
		return runError(err)
	}

	outDir := p.Out
	if outDir == "" {
		outDir = filepath.Join("results", time.Now().UTC().Format("20060102T150405Z")+"-"+safeName(p.Name))
	}
	w, err := results.Create(outDir)
	if err != nil {
		return runError(err)
	}
	info := results.RunInfo{
		Tool: "streamgauge", Version: version, Start: time.Now().UTC(),
		Profile: p.Redacted(), Target: redactURL(target), API: p.API,
		Simulated: simulated, Seed: p.Seed, Shard: "0/1",
	}
	if err := results.WriteJSON(outDir, results.RunFile, info); err != nil {
		w.Close()
		return runError(err)
	}

	acc := analysis.NewAccumulator()
	ropts := []loadgen.Option{loadgen.WithDuration(p.Duration), loadgen.WithRequests(p.Requests),
		loadgen.WithWarmup(p.Warmup), loadgen.WithDrainTimeout(p.DrainTimeout), loadgen.WithCounter(tok)}
	if pacer != nil {
		ropts = append(ropts, loadgen.WithPacer(pacer), loadgen.WithMaxConcurrency(p.MaxConcurrency))
	} else {
		ropts = append(ropts, loadgen.WithUsers(p.Concurrency))
	}
	runner, err := loadgen.New(client, src, tee{w, acc}, ropts...)
	if err != nil {
		w.Close()
		return usageError(err)
	}
	fmt.Fprintf(e.stderr, "streamgauge: %s: %s, writing %s\n", p.Name, describeLoad(p), outDir)
	stats, runErr := runner.Run(ctx)
	closeErr := w.Close()

	// The runner's own start is the origin of every *_ns offset in the
	// records; keep it exactly so offsets convert to wall-clock times.
	info.Start = stats.Start.UTC()
	info.End = time.Now().UTC()
	info.Interrupted = stats.Interrupted
	if err := results.WriteJSON(outDir, results.RunFile, info); err != nil && runErr == nil {
		runErr = err
	}
	sum, err := acc.Summary(analysis.RunMeta{RequestedRate: requestedRate(p, pacer), OpenLoop: pacer != nil, CPUSeconds: stats.CPU.Seconds(), CPUIncludesServer: simulated})
	if err != nil {
		return runError(err)
	}
	if err := results.WriteJSON(outDir, results.SummaryFile, sum); err != nil && runErr == nil {
		runErr = err
	}
	if err := analysis.WriteTable(e.stdout, sum); err != nil && runErr == nil {
		runErr = err
	}
	fmt.Fprintf(e.stdout, "run directory    %s\n", outDir)
	if sum.GeneratorSaturated {
		fmt.Fprintf(e.stderr, "streamgauge: warning: generator saturated (lag p99 %.2f ms > %.0f ms): latencies may be understated; lower the rate per process or split the load into shards\n", sum.Metrics["lag"].P99, analysis.SaturationLagMS)
	}
	switch {
	case runErr != nil:
		return runError(fmt.Errorf("run %s: %w", outDir, runErr))
	case closeErr != nil:
		return runError(fmt.Errorf("run %s: %w", outDir, closeErr))
	case stats.Interrupted:
		return runErrorf("run interrupted; %d finished requests are in %s", stats.Recorded, outDir)
	case sum.Requests.OK == 0 && sum.Requests.Failed > 0:
		return runErrorf("every request failed (%s); see %s", kinds(sum.Errors), filepath.Join(outDir, results.RequestsFile))
	}
	return nil
}

// workload builds what to send and, for open-loop runs, when: synthetic
// requests or sessions on an arrival process, or a replayed trace.
func workload(p *profiles.Profile, builder *prompt.Builder) (loadgen.Source, vegeta.Pacer, error) {
	if p.Trace != "" {
		f, err := p.OpenFile(p.Trace)
		if err != nil {
			return nil, nil, fmt.Errorf("trace: %w", err)
		}
		defer f.Close()
		tr, err := loadgen.ReadTrace(f, p.Trace, p.TraceFormat)
		if err != nil {
			return nil, nil, err
		}
		from, to, err := loadgen.ParseWindow(p.TraceWindow)
		if err != nil {
			return nil, nil, err
		}
		if tr, err = tr.Slice(from, to, p.TraceSpeed); err != nil {
			return nil, nil, fmt.Errorf("trace %s: %w", p.Trace, err)
		}
		src := &loadgen.TraceWorkload{Trace: tr, Model: p.Model, Prompts: builder, IgnoreEOS: p.IgnoreEOS, Seed: p.Seed}
		if n := uint64(len(tr.Entries)); p.Requests == 0 || p.Requests > n {
			p.Requests = n
		}
		return src, tr.Pacer(), nil
	}
	in, err := p.ParseDist(p.InputTokens)
	if err != nil {
		return nil, nil, fmt.Errorf("input-tokens: %w", err)
	}
	out, err := p.ParseDist(p.OutputTokens)
	if err != nil {
		return nil, nil, fmt.Errorf("output-tokens: %w", err)
	}
	wl := &loadgen.Workload{Model: p.Model, Input: in, Output: out, Prompts: builder, IgnoreEOS: p.IgnoreEOS, Seed: p.Seed,
		Prefix: loadgen.Prefixes{Groups: p.PrefixGroups, Tokens: p.PrefixTokens, Share: p.PrefixShare, System: p.PrefixSystem}}
	var src loadgen.Source = wl
	if p.Turns != "" {
		if wl.Turns, err = p.ParseDist(p.Turns); err != nil {
			return nil, nil, fmt.Errorf("turns: %w", err)
		}
		if p.ThinkTime != "" {
			if wl.Think, err = p.ParseDist(p.ThinkTime); err != nil {
				return nil, nil, fmt.Errorf("think-time: %w", err)
			}
		}
		src = loadgen.Sessions{Workload: wl}
	}
	if p.Rate == 0 {
		return src, nil, nil
	}
	pacer, err := loadgen.NewPacer(p.Arrival, p.Rate, p.Burstiness, p.Seed)
	if err != nil {
		return nil, nil, fmt.Errorf("arrival: %w", err)
	}
	return src, pacer, nil
}

// reachable dials the target once so an unreachable server fails fast with
// one clear line instead of a run full of connect errors.
func reachable(ctx context.Context, target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	host := u.Host
	if u.Port() == "" {
		if u.Scheme == "https" {
			host = net.JoinHostPort(u.Hostname(), "443")
		} else {
			host = net.JoinHostPort(u.Hostname(), "80")
		}
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		var oe *net.OpError
		msg := err.Error()
		if errors.As(err, &oe) && oe.Err != nil {
			msg = oe.Err.Error()
		}
		return fmt.Errorf("target %s is unreachable (%s); is the server running, and is --target right?", redactURL(target), msg)
	}
	return c.Close()
}

func describeLoad(p profiles.Profile) string {
	var b strings.Builder
	if p.Rate > 0 {
		fmt.Fprintf(&b, "%s arrivals at %g req/s", p.Arrival, p.Rate)
		if p.MaxConcurrency > 0 {
			fmt.Fprintf(&b, " (at most %d in flight)", p.MaxConcurrency)
		}
	} else {
		fmt.Fprintf(&b, "%d closed-loop users", p.Concurrency)
	}
	if p.Requests > 0 {
		fmt.Fprintf(&b, ", %d requests", p.Requests)
	}
	if p.Duration > 0 {
		fmt.Fprintf(&b, ", for %s", p.Duration)
	}
	return b.String()
}

func kinds(m map[string]int64) string {
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, fmt.Sprintf("%d %s", v, k))
	}
	return strings.Join(parts, ", ")
}

// redactURL drops credentials embedded in a URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = url.User("redacted")
	return u.String()
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '-'
	}, s)
}

// requestedRate is the rate the run asked for: --rate, or a trace's mean.
func requestedRate(p profiles.Profile, pacer vegeta.Pacer) float64 {
	if p.Rate > 0 {
		return p.Rate
	}
	if pacer != nil {
		return pacer.Rate(0)
	}
	return 0
}
