package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/harness"
	"github.com/streamgauge/streamgauge/internal/secret"
	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/report"
)

// parseWhatIf reads sweep's --what-if specs into the variants to run.
func parseWhatIf(specs []string) ([]harness.Variant, error) {
	dims, err := harness.ParseWhatIf(specs)
	if err != nil {
		return nil, usageError(err)
	}
	vs, err := harness.Variants(dims)
	if err != nil {
		return nil, usageError(err)
	}
	return vs, nil
}

// checkWhatIf refuses a what-if that cannot run as asked: against a
// --target, sharded, or with a --sim-* flag (or variable) that sets what
// the what-if varies. A profile file's value is the base each variant
// replaces, with a notice.
func checkWhatIf(fs *pflag.FlagSet, e *env, p profiles.Profile, vs []harness.Variant) error {
	if p.Target != "" {
		return usagef("--what-if: varies the built-in simulator, which does not start with --target %s; drop --target (to compare servers, sweep each and run streamgauge compare SWEEP_DIR SWEEP_DIR)", secret.URL(p.Target))
	}
	if p.Shard != "" || p.Shards > 0 {
		return usagef("--what-if: runs the built-in simulator on this machine; drop --shard/--shards")
	}
	for _, s := range vs[0].Settings {
		key := "sim-" + s.Key
		if by := givenBy(fs, e, key); by != "" {
			return usagef("%s and --what-if %s=...: both set the simulator's %s; drop %s (the what-if tries each value listed)", by, s.Key, s.Key, by)
		}
		if o := p.Origin(key); o.File != "" {
			fmt.Fprintf(e.stderr, "streamgauge: the profile's %s is replaced by each variant's %s\n", key, s.Key)
		}
	}
	return nil
}

// runWhatIf runs the sweep on every variant, then renders the comparison:
// OUT/index.html, each variant's sweep.html, and the table (or --format).
func runWhatIf(cmd *cobra.Command, e *env, p profiles.Profile, so harness.SweepOptions, vs []harness.Variant, f sweepFlags) error {
	if err := prepareSweepOut(&p, so, f.output, harness.DefaultWhatIfDir); err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(e.stderr, "streamgauge: "+format+"\n", a...) }
	res, err := harness.WhatIf(cmd.Context(), p, so, vs, harness.WithLog(logf), harness.WithGetenv(e.getenv), harness.WithVersion(version))
	var ce *harness.ConfigError
	if errors.As(err, &ce) {
		return usageError(ce.Err)
	}
	var c *analysis.SweepComparison
	if res != nil {
		var werr error
		if c, werr = writeWhatIf(e, res, f, p.Name+" on cost model "+res.CostModel); werr != nil && err == nil {
			err = werr
		}
	}
	switch {
	case err != nil:
		return runError(err)
	case res != nil && !res.AnyOK():
		return runErrorf("what-if: no variant completed a request (every stage's requests failed); the stages' requests.jsonl in %s say why", res.Dir)
	case len(p.SLO) > 0 && c != nil && len(c.Best()) == 0:
		return &exitError{code: exitSLO, err: errors.New("no variant met the SLOs at any level")}
	}
	return nil
}

// writeWhatIf renders the variants that ran: their sweep pages, the
// what-if's index.html and the output of --format; it returns the
// comparison (nil when no variant ran a stage).
func writeWhatIf(e *env, res *harness.WhatIfResult, f sweepFlags, title string) (*analysis.SweepComparison, error) {
	vs, sws := res.Ran()
	if len(sws) == 0 {
		return nil, nil
	}
	names := make([]string, len(vs))
	links := make([]string, len(vs))
	for i, v := range vs {
		names[i] = v.Name
		page := filepath.Join(res.Dir, v.Name, "sweep.html")
		sw := sws[i]
		if err := writeFileAtomic(page, func(w io.Writer) error { return report.WriteSweepHTML(w, report.SweepPage(sw)) }); err != nil {
			return nil, runErrorf("what-if: %w", err)
		}
		links[i] = url.PathEscape(v.Name) + "/sweep.html"
	}
	c, err := analysis.CompareSweeps(names, sws)
	if err != nil {
		return nil, runError(err)
	}
	page := report.WhatIfPage(c, "streamgauge what-if: "+title, links)
	index := filepath.Join(res.Dir, "index.html")
	if err := writeFileAtomic(index, func(w io.Writer) error { return report.WriteSweepHTML(w, page) }); err != nil {
		return c, runErrorf("what-if: %w", err)
	}
	out := f.output
	if f.format == "html" && out == "" {
		out = index
	} else if err := writeOutput(e, out, func(w io.Writer) error {
		switch f.format {
		case "markdown":
			return report.WriteWhatIfMarkdown(w, c)
		case "json":
			return report.WriteSweepComparisonJSON(w, c)
		case "html":
			return report.WriteSweepHTML(w, page)
		}
		return report.WriteWhatIfTable(w, c)
	}); err != nil {
		return c, err
	}
	written := []string{index}
	if out != "" && out != index {
		written = append(written, out)
	}
	fmt.Fprintf(e.stderr, "streamgauge: wrote %s\n", strings.Join(written, " and "))
	fmt.Fprintf(e.stdout, "what-if directory  %s\n", res.Dir)
	return c, nil
}
