package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/streamgauge/streamgauge/internal/plural"

	"github.com/streamgauge/streamgauge/analysis"
)

// WriteMarkdown renders a run for a CI page (GitHub's $GITHUB_STEP_SUMMARY,
// a merge-request comment): a heading with the verdict, the SLO table when
// there are results, the latency table and the run's totals. It is
// GitHub-flavoured markdown with no HTML.
func WriteMarkdown(w io.Writer, s *analysis.Summary, results []analysis.SLOResult) error {
	var b strings.Builder
	failed := 0
	for _, r := range results {
		if !r.Pass {
			failed++
		}
	}
	switch {
	case len(results) == 0:
		b.WriteString("### streamgauge run summary\n\n")
	case failed == 0:
		fmt.Fprintf(&b, "### streamgauge: ✅ %s\n\n", sloVerdict(len(results), 0))
	default:
		fmt.Fprintf(&b, "### streamgauge: ❌ %s\n\n", sloVerdict(len(results), failed))
	}
	if len(results) > 0 {
		writeMarkdownSLOs(&b, results)
		b.WriteString("\n")
	}
	if s != nil {
		if w := analysis.SaturationWarning(s); w != "" {
			fmt.Fprintf(&b, "> ⚠️ %s.\n\n", mdEscape(capitalize(w)))
		}
		writeMarkdownSummary(&b, s)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeMarkdownSLOs(b *strings.Builder, results []analysis.SLOResult) {
	b.WriteString("| | SLO | observed | threshold | margin |\n| :---: | --- | ---: | ---: | ---: |\n")
	for _, r := range results {
		mark, observed, margin := "✅", analysis.FormatSLOValue(r, r.Value), analysis.FormatSLOValue(r, r.Margin)
		if !r.Pass {
			mark = "❌"
		}
		if r.Note != "" {
			observed, margin = mdEscape(r.Note), analysis.NoValue
		}
		threshold := analysis.FormatSLOThreshold(r)
		if r.Op != "" {
			threshold = mdEscape(r.Op) + " " + threshold
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", mark, mdQuote(r.Expr), observed, threshold, margin)
	}
}

func writeMarkdownSummary(b *strings.Builder, s *analysis.Summary) {
	b.WriteString("| metric (ms) | count | mean | p50 | p90 | p95 | p99 | max |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, m := range analysis.Metrics {
		st := s.Metrics[m]
		fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %s | %s | %s |\n", m, st.Count, statMS(st, st.Mean), statMS(st, st.P50), statMS(st, st.P90), statMS(st, st.P95), statMS(st, st.P99), statMS(st, st.Max))
	}
	rows := summaryRows(s, false)
	b.WriteString("\n| | |\n| --- | --- |\n")
	for _, row := range rows {
		fmt.Fprintf(b, "| %s | %s |\n", row[0], mdEscape(row[1]))
	}
}

// sloVerdict is the verdict on n SLOs of which failed failed: "all 3 SLOs
// held", "1 SLO held", "2 of 3 SLOs failed", "1 of 1 SLO failed".
func sloVerdict(n, failed int) string {
	switch {
	case failed > 0:
		return fmt.Sprintf("%d of %s failed", failed, plural.Count(n, "SLO"))
	case n == 1:
		return "1 SLO held"
	}
	return fmt.Sprintf("all %s held", plural.Count(n, "SLO"))
}

// capitalize starts a sentence.
func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// mdEscape keeps text from breaking a table cell or turning into markup.
func mdEscape(s string) string {
	r := strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "\n", " ", "*", `\*`, "_", `\_`)
	return r.Replace(s)
}

// mdQuote formats an identifier as inline code.
func mdQuote(s string) string { return "`" + strings.ReplaceAll(s, "`", "'") + "`" }
