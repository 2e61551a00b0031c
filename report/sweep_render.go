package report

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/streamgauge/streamgauge/analysis"
)

// sweepRows is the curve as text: a header whose cells name their unit
// in parentheses, then one row per stage in level order. Latencies are
// p50/p99 in ms.
func sweepRows(s *analysis.Sweep) [][]string {
	level := "rate (req/s)"
	if s.Mode == analysis.SweepUsers {
		level = "users"
	}
	rows := [][]string{{"stage", level, "sent (req/s)", "ttft p50/p99 (ms)", "itl p50/p99 (ms)", "tpot p50/p99 (ms)", "e2e p50/p99 (ms)",
		"done (req/s)", "out (tok/s)", "goodput (req/s)", "errors", "verdict"}}
	for _, st := range analysis.SortedStages(s.Stages) {
		rows = append(rows, []string{
			strconv.Itoa(st.Index), analysis.FormatLevel(st.Level), reqRate(st.AchievedRate),
			p50p99(st.Metrics["ttft"]), p50p99(st.Metrics["itl"]), p50p99(st.Metrics["tpot"]), p50p99(st.Metrics["e2e"]),
			reqRate(st.Throughput.RequestsPerS), fixed(st.Throughput.OutputTokensPerS, 0),
			reqRate(st.Goodput.RequestsPerS), percent(st.ErrorRate), stageVerdict(&st),
		})
	}
	return rows
}

func p50p99(st analysis.Stats) string {
	if st.Count == 0 {
		return analysis.NoValue
	}
	return fms(st.P50) + "/" + fms(st.P99)
}

// stageVerdict is a stage's verdict in a few words: pass, or what failed.
func stageVerdict(st *analysis.SweepStage) string {
	v := "pass"
	if why := stageFailures(st); len(why) > 0 {
		v = "FAIL " + strings.Join(why, ", ")
	}
	if st.GeneratorSaturated {
		v += " (generator saturated)"
	}
	return v
}

// stageFailures are what failed a stage: an error, SLOs, saturation.
func stageFailures(st *analysis.SweepStage) []string {
	if st.Pass {
		return nil
	}
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
	if len(parts) == 0 {
		parts = append(parts, "failed")
	}
	return parts
}

// WriteSweepTable renders a sweep for a terminal in at most 120 columns:
// the curve in level order with each column's unit under its name, the
// verdict as pass or FAIL, then what failed each stage, the capacity with
// its evidence and the notes.
func WriteSweepTable(w io.Writer, s *analysis.Sweep) error {
	rows := sweepRows(s)
	stages := analysis.SortedStages(s.Stages)
	last := len(rows[0]) - 1
	var failed []string
	for i := range stages {
		st := &stages[i]
		v := "pass"
		if why := stageFailures(st); len(why) > 0 {
			v = "FAIL"
			failed = append(failed, fmt.Sprintf("stage %d (%s %s) failed: %s", st.Index, analysis.FormatLevel(st.Level), s.Unit(), strings.Join(why, ", ")))
		}
		if st.GeneratorSaturated {
			v += "*"
		}
		rows[i+1][last] = v
	}
	var b strings.Builder
	writeColumns(&b, rows)
	for _, l := range failed {
		b.WriteString(l + "\n")
	}
	for _, st := range stages {
		if st.GeneratorSaturated {
			b.WriteString("* the load generator fell behind in the stages marked *: their latencies may be understated\n")
			break
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return writeSweepFooter(w, s, "")
}

func writeSweepFooter(w io.Writer, s *analysis.Sweep, bullet string) error {
	lines := []string{s.CapacityLine()}
	if s.Outcome != "" {
		lines = append(lines, "search: "+s.Outcome)
	}
	for _, st := range analysis.SortedStages(s.Stages) {
		if st.Saturation.Saturated {
			lines = append(lines, fmt.Sprintf("stage %d (%s %s) saturated: %s", st.Index, analysis.FormatLevel(st.Level), s.Unit(), st.Saturation.Reason))
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

// WriteSweepMarkdown renders a sweep for a CI page: the capacity as the
// heading's verdict, the curve as a table, then the evidence.
func WriteSweepMarkdown(w io.Writer, s *analysis.Sweep) error {
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
func WriteSweepJSON(w io.Writer, s *analysis.Sweep) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// sweepCharts are the latency-throughput plots of a sweep: ttft, itl and
// tpot, e2e; p50 and p99 of each, with the capacity and a matching SLO.
func sweepCharts(s *analysis.Sweep) []SweepChart {
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
				for _, st := range analysis.SortedStages(s.Stages) {
					ms := st.Metrics[m]
					if ms.Count == 0 {
						continue
					}
					ser.Points = append(ser.Points, SweepPoint{Throughput: st.Throughput.RequestsPerS, Latency: ms.Stat(q),
						Label: analysis.FormatLevel(st.Level) + " " + s.Unit(), Pass: st.Pass})
				}
				series = append(series, ser)
			}
		}
		opt := SweepPlotOptions{Title: g.title, LogY: true}
		if s.Capacity.Found {
			opt.Capacity = s.Capacity.Throughput
			opt.CapacityLabel = fmt.Sprintf("capacity %s %s", analysis.FormatLevel(s.Capacity.Level), s.Unit())
		}
		for _, e := range s.SLO {
			if slo, err := analysis.ParseSLO(e); err == nil && slo.Kind == analysis.KindLatency && slices.Contains(g.metrics, slo.Metric) {
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
func SweepPage(s *analysis.Sweep) SweepHTML {
	notes := []string{s.CapacityLine()}
	if s.Outcome != "" {
		notes = append(notes, "search: "+s.Outcome)
	}
	notes = append(notes, s.Notes...)
	return SweepHTML{Title: "streamgauge sweep: " + s.Name, Notes: notes, Charts: sweepCharts(s), Table: sweepRows(s)}
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
