package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/streamgauge/streamgauge/profiles"
)

func newProfilesCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "profiles",
		Short:   "List the built-in profiles, one line each",
		Example: "  streamgauge profiles\n  streamgauge run demo",
		Args:    argsUsage(cobra.NoArgs),
		RunE: func(*cobra.Command, []string) error {
			for _, name := range profiles.BuiltinNames() {
				p, ok := profiles.Builtin(name)
				if !ok {
					return runErrorf("built-in profile %s does not load", name)
				}
				load := fmt.Sprintf("rate %g req/s", p.Rate)
				if p.Concurrency > 0 {
					load = fmt.Sprintf("concurrency %d", p.Concurrency)
				}
				if _, err := fmt.Fprintf(e.stdout, "%-12s %s [in %s, out %s, %s]\n", name, p.Description, p.InputTokens, p.OutputTokens, load); err != nil {
					return err
				}
			}
			return nil
		},
	}
}
