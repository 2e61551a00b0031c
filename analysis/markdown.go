package analysis

import (
	"fmt"
	"io"
	"strings"
)

// WriteMarkdown renders a run for a CI page (GitHub's $GITHUB_STEP_SUMMARY,
// a merge-request comment): a heading with the verdict, the SLO table when
// there are results, the latency table and the run's totals. It is
// GitHub-flavoured markdown with no HTML.
func WriteMarkdown(w io.Writer, s *Summary, results []SLOResult) error {
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
		fmt.Fprintf(&b, "### streamgauge: ✅ all %d SLOs held\n\n", len(results))
	default:
		fmt.Fprintf(&b, "### streamgauge: ❌ %d of %d SLOs failed\n\n", failed, len(results))
	}
	if len(results) > 0 {
		writeMarkdownSLOs(&b, results)
		b.WriteString("\n")
	}
	if s != nil {
		switch {
		case s.GeneratorSaturated && s.Generator.MaxConcurrency > 0 && s.Generator.CapWaits > 0:
			fmt.Fprintf(&b, "> ⚠️ %s.\n\n", mdEscape(SaturationWarning(s)))
		case s.GeneratorSaturated:
			fmt.Fprintf(&b, "> ⚠️ The load generator was saturated (lag p99 %s ms > %.0f ms): latencies may be understated.\n\n", fms(s.Metrics["lag"].P99), SaturationLagMS)
		}
		writeMarkdownSummary(&b, s)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeMarkdownSLOs(b *strings.Builder, results []SLOResult) {
	b.WriteString("| | SLO | observed | threshold | margin |\n| :---: | --- | ---: | ---: | ---: |\n")
	for _, r := range results {
		mark, observed, margin := "✅", FormatSLOValue(r, r.Value), FormatSLOValue(r, r.Margin)
		if !r.Pass {
			mark = "❌"
		}
		if r.Note != "" {
			observed, margin = mdEscape(r.Note), "–"
		}
		threshold := FormatSLOValue(r, r.Threshold)
		if r.Op != "" {
			threshold = mdEscape(r.Op) + " " + threshold
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", mark, mdQuote(r.Expr), observed, threshold, margin)
	}
}

func writeMarkdownSummary(b *strings.Builder, s *Summary) {
	b.WriteString("| metric (ms) | count | mean | p50 | p90 | p95 | p99 | max |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, m := range Metrics {
		st := s.Metrics[m]
		fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %s | %s | %s |\n", m, st.Count, fms(st.Mean), fms(st.P50), fms(st.P90), fms(st.P95), fms(st.P99), fms(st.Max))
	}
	r := s.Requests
	g := s.Generator
	rate := fmt.Sprintf("closed loop, achieved %.2f req/s", g.AchievedRate)
	if g.OpenLoop {
		rate = fmt.Sprintf("requested %.2f req/s, achieved %.2f req/s", g.RequestedRate, g.AchievedRate)
	}
	rows := [][2]string{
		{"requests", fmt.Sprintf("%d ok, %d failed, %d canceled, %d warm-up (total %d)", r.OK, r.Failed, r.Canceled, r.Warmup, r.Total)},
		{"measured window", fmt.Sprintf("%.2f s", s.DurationS)},
		{"throughput", fmt.Sprintf("%.2f req/s, %.1f input tok/s, %.1f output tok/s", s.Throughput.RequestsPerS, s.Throughput.InputTokensPerS, s.Throughput.OutputTokensPerS)},
		{"goodput", fmt.Sprintf("%.2f req/s (%.1f%% of requests)", s.Goodput.RequestsPerS, 100*s.Goodput.Ratio)},
		{"error rate", fmt.Sprintf("%.2f%%%s", 100*s.ErrorRate, errorKinds(s.Errors))},
	}
	rows = append(rows, failureRows(s.Failures)...)
	rows = append(rows,
		[2]string{"rate", rate},
		[2]string{"generator", fmt.Sprintf("lag p99 %s ms, %.2f s CPU", fms(s.Metrics["lag"].P99), g.CPUSeconds)},
	)
	if s.LatencyFrom != "" {
		rows = append(rows, [2]string{"latency from", s.LatencyFrom})
	}
	b.WriteString("\n| | |\n| --- | --- |\n")
	for _, row := range rows {
		fmt.Fprintf(b, "| %s | %s |\n", row[0], mdEscape(row[1]))
	}
}

// mdEscape keeps text from breaking a table cell or turning into markup.
func mdEscape(s string) string {
	r := strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "\n", " ", "*", `\*`, "_", `\_`)
	return r.Replace(s)
}

// mdQuote formats an identifier as inline code.
func mdQuote(s string) string { return "`" + strings.ReplaceAll(s, "`", "'") + "`" }
