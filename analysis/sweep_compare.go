package analysis

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// SweepVariant is one sweep of a comparison: a scheduler variant, a build,
// a configuration.
type SweepVariant struct {
	Name     string   `json:"name"`
	Capacity Capacity `json:"capacity"`
	// Relative is the capacity over the first variant's, minus one (+0.25
	// is 25% more); nil when either found none.
	Relative *float64 `json:"relative,omitempty"`
}

// SweepComparison is several sweeps side by side: capacity per variant
// and their curves, level by level.
type SweepComparison struct {
	Mode     string         `json:"mode"`
	Variants []SweepVariant `json:"variants"`
	// Notes warn of sweeps that were not run alike (other SLOs, stage
	// lengths): their capacities are not comparable as they stand.
	Notes  []string `json:"notes,omitempty"`
	sweeps []*Sweep
}

// CompareSweeps lines up sweeps of one mode (all rate or all users); names
// label them (e.g. their directories), the first is the baseline.
func CompareSweeps(names []string, sweeps []*Sweep) (*SweepComparison, error) {
	if len(sweeps) == 0 || len(names) != len(sweeps) {
		return nil, errors.New("compare sweeps: want one name per sweep, and at least one sweep")
	}
	c := &SweepComparison{Mode: sweeps[0].Mode, sweeps: sweeps}
	base := sweeps[0]
	for i, s := range sweeps {
		if s.Mode != c.Mode {
			return nil, fmt.Errorf("compare sweeps: %s sweeps %s levels and %s %s levels; compare sweeps of one kind", names[0], c.Mode, names[i], s.Mode)
		}
		v := SweepVariant{Name: names[i], Capacity: s.Capacity}
		if s.Capacity.Found && base.Capacity.Found && base.Capacity.Level > 0 {
			r := s.Capacity.Level/base.Capacity.Level - 1
			v.Relative = &r
		}
		c.Variants = append(c.Variants, v)
		if i == 0 {
			continue
		}
		if !slices.Equal(s.SLO, base.SLO) {
			c.Notes = append(c.Notes, fmt.Sprintf("%s judged SLOs [%s], %s [%s]: capacities under different SLOs", names[0], strings.Join(base.SLO, " "), names[i], strings.Join(s.SLO, " ")))
		}
		if s.StageDurationS != base.StageDurationS {
			c.Notes = append(c.Notes, fmt.Sprintf("%s ran %gs stages, %s %gs", names[0], base.StageDurationS, names[i], s.StageDurationS))
		}
		if s.Name != base.Name {
			c.Notes = append(c.Notes, fmt.Sprintf("%s ran profile %q, %s %q", names[0], base.Name, names[i], s.Name))
		}
	}
	return c, nil
}

// Sweeps returns the compared sweeps, in order.
func (c *SweepComparison) Sweeps() []*Sweep { return c.sweeps }

func (c *SweepComparison) unit() string {
	if c.Mode == SweepUsers {
		return "users"
	}
	return "req/s"
}

// capacityRows is the capacity table: one row per variant.
func (c *SweepComparison) capacityRows() [][]string {
	rows := [][]string{{"variant", "capacity (" + c.unit() + ")", "vs " + c.Variants[0].Name, "req/s there", "out tok/s there", "failed at", "why"}}
	for _, v := range c.Variants {
		cp := v.Capacity
		capText, rel, thr, tok, failed := "none", "–", "–", "–", "–"
		if cp.Found {
			capText = FormatLevel(cp.Level)
			if cp.FailedStage == 0 {
				capText = "≥ " + capText
			}
			thr, tok = reqRate(cp.Throughput), fixed(cp.OutputTokensPerS, 0)
		}
		if v.Relative != nil {
			rel = fmt.Sprintf("%+.1f%%", 100**v.Relative)
		}
		if cp.FailedStage > 0 {
			failed = FormatLevel(cp.FailedLevel)
		}
		rows = append(rows, []string{v.Name, capText, rel, thr, tok, failed, cp.Why})
	}
	return rows
}

// curveRows is the curves level by level: for each variant the throughput,
// ttft p99 and e2e p99 (ms) there, and the verdict.
func (c *SweepComparison) curveRows() [][]string {
	head := []string{c.unit()}
	var levels []float64
	for i, s := range c.sweeps {
		head = append(head, c.Variants[i].Name+" req/s", "ttft p99", "e2e p99", "")
		for _, st := range s.Stages {
			if !slices.Contains(levels, st.Level) {
				levels = append(levels, st.Level)
			}
		}
	}
	slices.Sort(levels)
	rows := [][]string{head}
	for _, l := range levels {
		row := []string{FormatLevel(l)}
		for _, s := range c.sweeps {
			var st *SweepStage
			for _, x := range sortedStages(s.Stages) {
				if x.Level == l {
					st = &x
				}
			}
			if st == nil {
				row = append(row, "–", "–", "–", "")
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
func WriteSweepComparisonTable(w io.Writer, c *SweepComparison) error {
	for _, rows := range [][][]string{c.capacityRows(), c.curveRows()} {
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
	}
	for _, n := range c.Notes {
		if _, err := fmt.Fprintln(w, "note: "+n); err != nil {
			return err
		}
	}
	return nil
}

// WriteSweepComparisonJSON writes the comparison (capacities and notes).
func WriteSweepComparisonJSON(w io.Writer, c *SweepComparison) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(c)
}

// SweepComparisonPage is the HTML page of a comparison: one plot per
// latency metric (p99) with a curve per variant, and the capacity table.
func SweepComparisonPage(c *SweepComparison) SweepHTML {
	var charts []SweepChart
	for _, m := range []string{"ttft", "itl", "e2e"} {
		var series []SweepSeries
		for i, s := range c.sweeps {
			ser := SweepSeries{Name: c.Variants[i].Name}
			for _, st := range sortedStages(s.Stages) {
				if ms := st.Metrics[m]; ms.Count > 0 {
					ser.Points = append(ser.Points, SweepPoint{Throughput: st.Throughput.RequestsPerS, Latency: ms.P99,
						Label: FormatLevel(st.Level) + " " + c.unit(), Pass: st.Pass})
				}
			}
			series = append(series, ser)
		}
		charts = append(charts, SweepChart{Series: series, Options: SweepPlotOptions{Title: m + " p99", YLabel: m + " p99 (ms)", LogY: true},
			Caption: m + " p99 against throughput, one curve per variant"})
	}
	notes := make([]string, 0, len(c.Variants)+len(c.Notes))
	for i, v := range c.Variants {
		notes = append(notes, v.Name+": "+c.sweeps[i].CapacityLine())
	}
	notes = append(notes, c.Notes...)
	return SweepHTML{Title: "streamgauge sweep comparison", Notes: notes, Charts: charts, Table: c.capacityRows()}
}
