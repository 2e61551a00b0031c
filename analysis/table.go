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
func summaryRows(s *Summary, cpuDetail bool) [][2]string {
	r := s.Requests
	rows := [][2]string{
		{"requests", fmt.Sprintf("%d ok, %d failed, %d canceled, %d warm-up (total %d)", r.OK, r.Failed, r.Canceled, r.Warmup, r.Total)},
		{"measured window", fmt.Sprintf("%s s", fixed(s.DurationS, 2))},
		{"throughput", fmt.Sprintf("%s req/s, %s input tok/s, %s output tok/s", reqRate(s.Throughput.RequestsPerS), tokRate(s.Throughput.InputTokensPerS), tokRate(s.Throughput.OutputTokensPerS))},
		{"goodput", fmt.Sprintf("%s req/s (%s of requests)", reqRate(s.Goodput.RequestsPerS), percent(s.Goodput.Ratio))},
		{"error rate", percent(s.ErrorRate) + errorKinds(s.Errors)},
	}
	g := s.Generator
	if g.OpenLoop {
		rows = append(rows, [2]string{"rate", fmt.Sprintf("requested %s req/s, achieved %s req/s", reqRate(g.RequestedRate), reqRate(g.AchievedRate))})
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
