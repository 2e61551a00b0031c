package analysis

import (
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// WriteTable renders a summary for a terminal: every metric's percentiles,
// then throughput, errors and the generator's own health.
func WriteTable(w io.Writer, s *Summary) error {
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoWrap(tw.WrapNone), tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignment(tw.AlignRight))
	t.Header("metric (ms)", "count", "mean", "p50", "p90", "p99", "max")
	for _, m := range Metrics {
		st := s.Metrics[m]
		if err := t.Append(m, strconv.FormatInt(st.Count, 10), fms(st.Mean), fms(st.P50), fms(st.P90), fms(st.P99), fms(st.Max)); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	r := s.Requests
	rows := [][2]string{
		{"requests", fmt.Sprintf("%d ok, %d failed, %d canceled, %d warm-up (total %d)", r.OK, r.Failed, r.Canceled, r.Warmup, r.Total)},
		{"measured window", fmt.Sprintf("%.2f s", s.DurationS)},
		{"throughput", fmt.Sprintf("%.2f req/s, %.1f input tok/s, %.1f output tok/s", s.Throughput.RequestsPerS, s.Throughput.InputTokensPerS, s.Throughput.OutputTokensPerS)},
		{"goodput", fmt.Sprintf("%.2f req/s (%.1f%% of requests)", s.Goodput.RequestsPerS, 100*s.Goodput.Ratio)},
		{"error rate", fmt.Sprintf("%.2f%%%s", 100*s.ErrorRate, errorKinds(s.Errors))},
	}
	rows = append(rows, failureRows(s.Failures)...)
	g := s.Generator
	if g.Load != "" {
		rows = append(rows, [2]string{"load", g.Load})
	}
	if g.OpenLoop {
		rate := fmt.Sprintf("requested %.2f req/s, achieved %.2f req/s", g.RequestedRate, g.AchievedRate)
		if g.Shards > 1 {
			rate += fmt.Sprintf(" (this shard's 1/%d of %.2f req/s)", g.Shards, g.RequestedRate*float64(g.Shards))
		}
		rows = append(rows, [2]string{"rate", rate})
	} else {
		rows = append(rows, [2]string{"rate", fmt.Sprintf("closed loop, achieved %.2f req/s", g.AchievedRate)})
	}
	cpu := fmt.Sprintf("%.2f s CPU, %.1f µs per output token", g.CPUSeconds, g.CPUPerOutputTokenUS)
	if g.CPUIncludesServer {
		cpu += " (includes the in-process simulator)"
	}
	rows = append(rows,
		[2]string{"generator", fmt.Sprintf("lag p99 %s ms, %s", fms(s.Metrics["lag"].P99), cpu)},
		[2]string{"token counts", fmt.Sprintf("%.1f%% of requests differ from the server's usage by more than 5%%", 100*s.TokenCountMismatchRatio)},
	)
	for _, row := range rows {
		if _, err := fmt.Fprintf(w, "%-16s %s\n", row[0], row[1]); err != nil {
			return err
		}
	}
	return nil
}

// failureRows say why requests failed: the most common messages with their
// counts, a hint for the first where one helps, and where the requests
// went.
func failureRows(f *Failures) [][2]string {
	if f == nil || len(f.Top) == 0 {
		return nil
	}
	var rows [][2]string
	label := "failed because"
	for i, g := range f.Top {
		rows = append(rows, [2]string{label, g.Line()})
		label = ""
		// The most common failure gets a hint; the rest would crowd it.
		if h := FailureHint(g, f.URL); h != "" && i == 0 {
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

func fms(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

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
