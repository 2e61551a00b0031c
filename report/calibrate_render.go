package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/streamgauge/streamgauge/analysis"
)

// RenderCalibration writes a calibration as text: the inputs, the fitted
// parameters with their ± and identifiability, the residuals by class, the
// worst points and the warnings.
func RenderCalibration(w io.Writer, c *analysis.Calibration) error {
	var b strings.Builder
	b.WriteString("inputs\n")
	for _, s := range c.Sources {
		fmt.Fprintf(&b, "  %s (%s): %d observations", s.Path, s.Kind, s.Observations)
		if s.Kind == "run" {
			fmt.Fprintf(&b, " from %d requests, %s scheduler, running requests from the %s", s.Requests, s.Scheduler, s.Concurrency)
		}
		b.WriteString("\n")
		for _, n := range s.Notes {
			fmt.Fprintf(&b, "    %s\n", n)
		}
	}
	b.WriteString("\nfitted cost model (step = overhead + max(floor, tokens·per_token + weight_read + context·per_context_token))\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  parameter\tvalue\t±\tidentifiable\tnote")
	for _, p := range c.Params {
		se, ident := analysis.NoValue, "no"
		if p.Identifiable {
			ident = "yes"
			if p.SE > 0 {
				se = fmt.Sprintf("%.3g %s (%.2g%%)", p.SE, p.Unit, 100*p.SE/max(p.Value, 1e-300))
			}
		}
		fmt.Fprintf(tw, "  %s\t%.4g %s\t%s\t%s\t%s\n", p.Name, p.Value, p.Unit, se, ident, p.Note)
	}
	fmt.Fprintf(tw, "  kv_tokens\t%d\t%s\t%s\t%s\n", c.Model.KVTokens, analysis.NoValue, analysis.NoValue, c.KVTokensSource)
	if err := tw.Flush(); err != nil {
		return err
	}
	b.WriteString("\nresiduals, (observed − fitted) / fitted\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  class\tn\t|r| p50\t|r| p99\tmedian r")
	for _, r := range c.Residuals {
		fmt.Fprintf(tw, "  %s\t%d\t%.1f%%\t%.1f%%\t%+.1f%%\n", r.Class, r.N, 100*r.P50, 100*r.P99, 100*r.Median)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(&b, "  %d of %d observations were down-weighted as outliers\n", c.Downweighted, c.Observations)
	if len(c.Worst) > 0 {
		b.WriteString("\nworst points\n")
		for _, p := range c.Worst {
			fmt.Fprintf(&b, "  %s: %.2f ms observed, %.2f ms fitted (%+.0f%%); tokens %.0f, decodes %.0f, context %.0f\n",
				p.Label, p.MS, p.FitMS, 100*p.Rel, p.Tokens, p.Decodes, p.Context)
		}
	}
	for _, wn := range c.Warnings {
		fmt.Fprintf(&b, "\nwarning: %s", wn)
	}
	if len(c.Warnings) > 0 {
		b.WriteString("\n")
	}
	// tabwriter pads an empty last cell; drop trailing blanks.
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	_, err := io.WriteString(w, strings.Join(lines, "\n"))
	return err
}
