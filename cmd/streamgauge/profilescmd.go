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
				if _, err := fmt.Fprintf(e.stdout, "%-18s %s [%s]\n", name, p.Description, shape(p)); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

// shape is a profile's workload and load in one short phrase.
func shape(p profiles.Profile) string {
	if p.Trace != "" {
		s := "trace " + p.Trace
		if p.TraceWindow != "" {
			s += ", window " + p.TraceWindow
		}
		return s
	}
	s := fmt.Sprintf("in %s, out %s", p.InputTokens, p.OutputTokens)
	if p.PrefixGroups > 0 {
		s += fmt.Sprintf(", %d shared %d-token prefixes", p.PrefixGroups, p.PrefixTokens)
	}
	if p.Turns != "" {
		s += fmt.Sprintf(", sessions of %s turns", p.Turns)
	}
	if p.Concurrency > 0 {
		return s + fmt.Sprintf(", %d users", p.Concurrency)
	}
	return s + fmt.Sprintf(", %s %g req/s", p.Arrival, p.Rate)
}
