package report

import (
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/streamgauge/streamgauge/analysis"
)

// WriteTable renders a summary for a terminal: every metric's percentiles,
// then throughput, errors and the generator's own health.
func WriteTable(w io.Writer, s *analysis.Summary) error {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoWrap(tw.WrapNone), tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignment(tw.AlignRight))
	t.Header("metric (ms)", "count", "mean", "p50", "p90", "p99", "max")
	for _, m := range analysis.Metrics {
		st := s.Metrics[m]
		if err := t.Append(m, strconv.FormatInt(st.Count, 10), statMS(st, st.Mean), statMS(st, st.P50), statMS(st, st.P90), statMS(st, st.P99), statMS(st, st.Max)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, row := range summaryRows(s, true) {
		if _, err := fmt.Fprintf(w, "%-16s %s\n", row[0], row[1]); err != nil {
			return err
		}
	}
	return nil
}

// summaryRows are the lines under the latency table, shared by the
// terminal and markdown: requests, window, throughput, goodput, errors,
// rate, the generator's health; cpuDetail adds the CPU per token and the
// token count check.
func summaryRows(s *analysis.Summary, cpuDetail bool) [][2]string {
	r := s.Requests
	rows := [][2]string{
		{"requests", fmt.Sprintf("%d ok, %d failed, %d canceled, %d warm-up (total %d)", r.OK, r.Failed, r.Canceled, r.Warmup, r.Total)},
		{"measured window", fmt.Sprintf("%s s", fixed(s.DurationS, 2))},
		{"throughput", fmt.Sprintf("%s req/s, %s input tok/s, %s output tok/s", reqRate(s.Throughput.RequestsPerS), tokRate(s.Throughput.InputTokensPerS), tokRate(s.Throughput.OutputTokensPerS))},
		{"goodput", fmt.Sprintf("%s req/s (%s of requests)", reqRate(s.Goodput.RequestsPerS), percent(s.Goodput.Ratio))},
		{"error rate", percent(s.ErrorRate) + errorKinds(s.Errors)},
	}
	rows = append(rows, failureRows(s.Failures)...)
	g := s.Generator
	if g.Load != "" {
		rows = append(rows, [2]string{"load", g.Load})
	}
	if g.OpenLoop {
		rate := fmt.Sprintf("requested %s req/s, achieved %s req/s", reqRate(g.RequestedRate), reqRate(g.AchievedRate))
		if g.Shards > 1 {
			rate += fmt.Sprintf(" (this shard's 1/%d of %s req/s)", g.Shards, reqRate(g.RequestedRate*float64(g.Shards)))
		}
		rows = append(rows, [2]string{"rate", rate})
	} else {
		rows = append(rows, [2]string{"rate", fmt.Sprintf("closed loop, achieved %s req/s", reqRate(g.AchievedRate))})
	}
	rows = append(rows, serverRows(s)...)
	lag := s.Metrics["lag"]
	if !cpuDetail {
		rows = append(rows, [2]string{"generator", fmt.Sprintf("lag p99 %s, %s s CPU", withMS(lag, lag.P99), fixed(g.CPUSeconds, 2))})
		if s.LatencyFrom != "" {
			rows = append(rows, [2]string{"latency from", s.LatencyFrom})
		}
		return rows
	}
	cpu := fmt.Sprintf("%s s CPU, %s µs per output token", fixed(g.CPUSeconds, 2), fixed(g.CPUPerOutputTokenUS, 1))
	if g.CPUIncludesServer {
		cpu += " (includes the in-process simulator)"
	}
	return append(rows,
		[2]string{"generator", fmt.Sprintf("lag p99 %s, %s", withMS(lag, lag.P99), cpu)},
		[2]string{"token counts", fmt.Sprintf("%s of requests differ from the server's usage by more than 5%%", fixed(100*s.TokenCountMismatchRatio, 1)+"%")},
	)
}

// failureRows say why requests failed: the most common messages with their
// counts, a hint for the first where one helps, and where the requests
// went.
func failureRows(f *analysis.Failures) [][2]string {
	if f == nil || len(f.Top) == 0 {
		return nil
	}
	var rows [][2]string
	label := "failed because"
	for i, g := range f.Top {
		rows = append(rows, [2]string{label, g.Line()})
		label = ""
		// The most common failure gets a hint; the rest would crowd it.
		if h := analysis.FailureHint(g, f.URL); h != "" && i == 0 {
			rows = append(rows, [2]string{"", "  hint: " + h})
		}
	}
	if f.Other > 0 {
		rows = append(rows, [2]string{"", fmt.Sprintf("%d more in %d other messages (every one is in requests.jsonl)", f.Other, f.Groups-len(f.Top))})
	}
	if f.URL != "" {
		rows = append(rows, [2]string{"requests went to", "POST " + f.URL})
	}
	return rows
}

func errorKinds(m map[string]int64) string {
	if len(m) == 0 {
		return ""
	}
	kinds := make([]string, 0, len(m))
	for k := range m {
		if k != "canceled" { // not a failure: counted in the requests line
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return ""
	}
	sort.Strings(kinds)
	out := " ("
	for i, k := range kinds {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%s %d", k, m[k])
	}
	return out + ")"
}

// writeBoxTable renders rows (the header first) as a boxed terminal table,
// cells aligned right: the what-if and sweep-comparison tables.
func writeBoxTable(w io.Writer, rows [][]string) error {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoWrap(tw.WrapNone), tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone), tablewriter.WithRowAlignment(tw.AlignRight))
	t.Header(anySlice(rows[0])...)
	for _, r := range rows[1:] {
		if err := t.Append(anySlice(r)...); err != nil {
			return err
		}
	}
	return t.Render()
}
