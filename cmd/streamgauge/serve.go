package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/streamgauge/streamgauge/targets/apis"
	"github.com/streamgauge/streamgauge/targets/sim"
)

func newServeCmd(e *env) *cobra.Command {
	var (
		addr                string
		ttft, itl, perToken time.Duration
		defMax              int
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the simulated inference server on its own",
		Long: `serve runs the built-in simulated inference server, speaking the OpenAI
chat and completions streaming APIs, until interrupted. Every request gets its
first token after --ttft (plus --per-prompt-token for each prompt word) and
each next token after --itl; requests honour max_tokens.`,
		Example: `  streamgauge serve --addr 127.0.0.1:8000 --ttft 80ms --itl 15ms
  streamgauge run --target http://127.0.0.1:8000 --rate 10 --duration 30s`,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			eng := sim.Fixed{TTFT: ttft, ITL: itl, PerPromptToken: perToken}
			if err := eng.Validate(); err != nil {
				return usageError(err)
			}
			srv, err := sim.New(sim.WithProtocols(apis.Servers()...), sim.WithEngine(eng), sim.WithDefaultMaxTokens(defMax))
			if err != nil {
				return usageError(err)
			}
			l, err := srv.Listen(addr)
			if err != nil {
				return runError(err)
			}
			fmt.Fprintf(e.stderr, "streamgauge: simulator listening on %s (ttft %s, itl %s); Ctrl-C stops it\n", l.URL, ttft, itl)
			<-cmd.Context().Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			l.Close(ctx)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8000", "address to listen on")
	f.DurationVar(&ttft, "ttft", 50*time.Millisecond, "time to first token")
	f.DurationVar(&itl, "itl", 10*time.Millisecond, "gap between tokens")
	f.DurationVar(&perToken, "per-prompt-token", 0, "extra time to first token per prompt word")
	f.IntVar(&defMax, "default-max-tokens", 128, "output length of requests without max_tokens")
	return cmd
}
