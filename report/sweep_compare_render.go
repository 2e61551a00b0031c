package report

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/streamgauge/streamgauge/analysis"
)

// comparisonUnit is the unit of a comparison's levels.
func comparisonUnit(c *analysis.SweepComparison) string {
	if c.Mode == analysis.SweepUsers {
		return "users"
	}
	return "req/s"
}

// capacityRows is the capacity table: one row per variant.
func capacityRows(c *analysis.SweepComparison) [][]string {
	rows := [][]string{{"variant", "capacity (" + comparisonUnit(c) + ")", "vs " + c.Variants[0].Name, "req/s there", "out tok/s there", "failed at", "why"}}
	for _, v := range c.Variants {
		cp := v.Capacity
		capText, rel, thr, tok, failed := "none", analysis.NoValue, analysis.NoValue, analysis.NoValue, analysis.NoValue
		if cp.Found {
			capText = analysis.FormatLevel(cp.Level)
			if cp.FailedStage == 0 {
				capText = "≥ " + capText
			}
			thr, tok = reqRate(cp.Throughput), fixed(cp.OutputTokensPerS, 0)
		}
		if v.Relative != nil {
			rel = fmt.Sprintf("%+.1f%%", 100**v.Relative)
		}
		if cp.FailedStage > 0 {
			failed = analysis.FormatLevel(cp.FailedLevel)
		}
		rows = append(rows, []string{v.Name, capText, rel, thr, tok, failed, cp.Why})
	}
	return rows
}

// curveRows is the curves level by level: for each variant the throughput,
// ttft p99 and e2e p99 (ms) there, and the verdict.
func curveRows(c *analysis.SweepComparison) [][]string {
	head := []string{comparisonUnit(c)}
	var levels []float64
	sorted := make([][]analysis.SweepStage, len(c.Sweeps()))
	for i, s := range c.Sweeps() {
		head = append(head, c.Variants[i].Name+" req/s", "ttft p99", "e2e p99", "")
		for _, st := range s.Stages {
			if !slices.Contains(levels, st.Level) {
				levels = append(levels, st.Level)
			}
		}
		sorted[i] = analysis.SortedStages(s.Stages)
	}
	slices.Sort(levels)
	rows := [][]string{head}
	for _, l := range levels {
		row := []string{analysis.FormatLevel(l)}
		for _, stages := range sorted {
			var st *analysis.SweepStage
			for _, x := range stages {
				if x.Level == l {
					st = &x
				}
			}
			if st == nil {
				row = append(row, analysis.NoValue, analysis.NoValue, analysis.NoValue, "")
				continue
			}
			mark := "ok"
			if !st.Pass {
				mark = "FAIL"
			}
			ttft, e2e := st.Metrics["ttft"], st.Metrics["e2e"]
			row = append(row, reqRate(st.Throughput.RequestsPerS), statMS(ttft, ttft.P99), statMS(e2e, e2e.P99), mark)
		}
		rows = append(rows, row)
	}
	return rows
}

// WriteSweepComparisonTable renders a comparison for a terminal: the
// capacity of each variant, then the curves level by level.
func WriteSweepComparisonTable(w io.Writer, c *analysis.SweepComparison) error {
	for _, rows := range [][][]string{capacityRows(c), curveRows(c)} {
		if err := writeBoxTable(w, rows); err != nil {
			return err
		}
	}
	for _, n := range c.Notes {
		if _, err := fmt.Fprintln(w, "note: "+n); err != nil {
			return err
		}
	}
	return nil
}

// WriteSweepComparisonJSON writes the comparison (capacities and notes).
func WriteSweepComparisonJSON(w io.Writer, c *analysis.SweepComparison) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

// SweepComparisonPage is the HTML page of a comparison: one plot per
// latency metric (p99) with a curve per variant, and the capacity table.
func SweepComparisonPage(c *analysis.SweepComparison) SweepHTML {
	var charts []SweepChart
	for _, m := range []string{"ttft", "itl", "e2e"} {
		var series []SweepSeries
		for i, s := range c.Sweeps() {
			ser := SweepSeries{Name: c.Variants[i].Name}
			for _, st := range analysis.SortedStages(s.Stages) {
				if ms := st.Metrics[m]; ms.Count > 0 {
					ser.Points = append(ser.Points, SweepPoint{Throughput: st.Throughput.RequestsPerS, Latency: ms.P99,
						Label: analysis.FormatLevel(st.Level) + " " + comparisonUnit(c), Pass: st.Pass})
				}
			}
			series = append(series, ser)
		}
		charts = append(charts, SweepChart{Series: series, Options: SweepPlotOptions{Title: m + " p99", YLabel: m + " p99 (ms)", LogY: true},
			Caption: m + " p99 against throughput, one curve per variant"})
	}
	notes := make([]string, 0, len(c.Variants)+len(c.Notes))
	for i, v := range c.Variants {
		notes = append(notes, v.Name+": "+c.Sweeps()[i].CapacityLine())
	}
	notes = append(notes, c.Notes...)
	return SweepHTML{Title: "streamgauge sweep comparison", Notes: notes, Charts: charts, Table: capacityRows(c), TableTitle: "Capacity per variant"}
}
