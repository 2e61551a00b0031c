package analysis

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// sweepRows is the curve as text: a header, then one row per stage in
// level order.
func sweepRows(s *Sweep) [][]string {
	level := "rate"
	if s.Mode == SweepUsers {
		level = "users"
	}
	rows := [][]string{{"stage", level, "sent req/s", "ttft p50/p99", "itl p50/p99", "tpot p50/p99", "e2e p50/p99",
		"req/s", "out tok/s", "goodput", "errors", "verdict"}}
	for _, st := range sortedStages(s.Stages) {
		rows = append(rows, []string{
			strconv.Itoa(st.Index), FormatLevel(st.Level), fmt.Sprintf("%.2f", st.AchievedRate),
			p50p99(st.Metrics["ttft"]), p50p99(st.Metrics["itl"]), p50p99(st.Metrics["tpot"]), p50p99(st.Metrics["e2e"]),
			fmt.Sprintf("%.2f", st.Throughput.RequestsPerS), fmt.Sprintf("%.0f", st.Throughput.OutputTokensPerS),
			fmt.Sprintf("%.2f", st.Goodput.RequestsPerS), pct(st.ErrorRate), stageVerdict(&st),
		})
	}
	return rows
}

func p50p99(st Stats) string {
	if st.Count == 0 {
		return "–"
	}
	return fms(st.P50) + " / " + fms(st.P99)
}

// stageVerdict is a stage's verdict in a few words: pass, or what failed.
func stageVerdict(st *SweepStage) string {
	var parts []string
	if st.Error != "" {
		parts = append(parts, "error")
	}
	for _, r := range st.SLO {
		if !r.Pass {
			parts = append(parts, r.Expr)
		}
	}
	if st.Saturation.Saturated {
		parts = append(parts, "saturated")
	}
	v := "pass"
	if !st.Pass {
		v = "FAIL " + strings.Join(parts, ", ")
	}
	if st.GeneratorSaturated {
		v += " (generator saturated)"
	}
	return v
}

// WriteSweepTable renders a sweep for a terminal: the curve in level order
// (latencies in ms), then the capacity with its evidence and the notes.
func WriteSweepTable(w io.Writer, s *Sweep) error {
	rows := sweepRows(s)
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoWrap(tw.WrapNone), tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone), tablewriter.WithRowAlignment(tw.AlignRight))
	t.Header(anySlice(rows[0])...)
	for _, r := range rows[1:] {
		if err := t.Append(anySlice(r)...); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	return writeSweepFooter(w, s, "")
}

func writeSweepFooter(w io.Writer, s *Sweep, bullet string) error {
	lines := []string{s.CapacityLine()}
	if s.Outcome != "" {
		lines = append(lines, "search: "+s.Outcome)
	}
	for _, st := range sortedStages(s.Stages) {
		if st.Saturation.Saturated {
			lines = append(lines, fmt.Sprintf("stage %d (%s %s) saturated: %s", st.Index, FormatLevel(st.Level), s.Unit(), st.Saturation.Reason))
		}
	}
	lines = append(lines, s.Notes...)
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, bullet+l); err != nil {
			return err
		}
	}
	return nil
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// WriteSweepMarkdown renders a sweep for a CI page: the capacity as the
// heading's verdict, the curve as a table, then the evidence.
func WriteSweepMarkdown(w io.Writer, s *Sweep) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### streamgauge sweep: %s\n\n", mdEscape(s.Name))
	rows := sweepRows(s)
	b.WriteString("| " + strings.Join(rows[0], " | ") + " |\n|")
	for range rows[0] {
		b.WriteString(" ---: |")
	}
	b.WriteString("\n")
	for _, r := range rows[1:] {
		for i := range r {
			r[i] = mdEscape(r[i])
		}
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	b.WriteString("\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return writeSweepFooter(w, s, "- ")
}

// WriteSweepJSON writes sweep.json's content.
func WriteSweepJSON(w io.Writer, s *Sweep) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// sweepCharts are the latency-throughput plots of a sweep: ttft, itl and
// tpot, e2e; p50 and p99 of each, with the capacity and a matching SLO.
func sweepCharts(s *Sweep) []SweepChart {
	groups := []struct {
		title   string
		metrics []string
	}{{"time to first token", []string{"ttft"}}, {"inter-token latency and time per output token", []string{"itl", "tpot"}}, {"end-to-end latency", []string{"e2e"}}}
	var charts []SweepChart
	for _, g := range groups {
		var series []SweepSeries
		for _, m := range g.metrics {
			for _, q := range []string{"p50", "p99"} {
				ser := SweepSeries{Name: m + " " + q}
				for _, st := range sortedStages(s.Stages) {
					ms := st.Metrics[m]
					if ms.Count == 0 {
						continue
					}
					ser.Points = append(ser.Points, SweepPoint{Throughput: st.Throughput.RequestsPerS, Latency: statValue(ms, q),
						Label: FormatLevel(st.Level) + " " + s.Unit(), Pass: st.Pass})
				}
				series = append(series, ser)
			}
		}
		opt := SweepPlotOptions{Title: g.title, LogY: true}
		if s.Capacity.Found {
			opt.Capacity = s.Capacity.Throughput
			opt.CapacityLabel = fmt.Sprintf("capacity %s %s", FormatLevel(s.Capacity.Level), s.Unit())
		}
		for _, e := range s.SLO {
			if slo, err := ParseSLO(e); err == nil && slo.Kind == KindLatency && contains(g.metrics, slo.Metric) {
				opt.SLO, opt.SLOLabel = slo.Threshold, "SLO "+slo.Expr
				break
			}
		}
		charts = append(charts, SweepChart{Series: series, Options: opt,
			Caption: g.title + " against the throughput each load level achieved"})
	}
	return charts
}

// SweepPage is the HTML page of one sweep (write it with WriteSweepHTML).
func SweepPage(s *Sweep) SweepHTML {
	notes := []string{s.CapacityLine()}
	if s.Outcome != "" {
		notes = append(notes, "search: "+s.Outcome)
	}
	notes = append(notes, s.Notes...)
	return SweepHTML{Title: "streamgauge sweep: " + s.Name, Notes: notes, Charts: sweepCharts(s), Table: sweepRows(s)}
}
