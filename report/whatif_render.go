package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/streamgauge/streamgauge/analysis"
)

// WhatIfRows is a what-if's verdict as text: a header, then per variant
// its capacity under the SLOs, the change against the first variant (the
// baseline), the goodput at each level (a sweep of given levels) or at the
// capacity (a search, whose levels differ between variants), and "best"
// on the variants of the highest capacity. A level a stage failed shows
// its goodput followed by FAIL; one a variant did not reach shows "—".
func WhatIfRows(c *analysis.SweepComparison) [][]string {
	unit := comparisonUnit(c)
	head := []string{"variant", "capacity (" + unit + ")", "vs baseline"}
	var levels []float64
	search := false
	for _, s := range c.Sweeps() {
		search = search || s.Auto
		for _, st := range s.Stages {
			if !slices.Contains(levels, st.Level) {
				levels = append(levels, st.Level)
			}
		}
	}
	slices.Sort(levels)
	if search {
		head = append(head, "goodput there (req/s)")
	} else {
		for _, l := range levels {
			head = append(head, "goodput at "+analysis.FormatLevel(l)+" "+unit)
		}
	}
	head = append(head, "best")
	best := c.Best()
	rows := [][]string{head}
	for i, v := range c.Variants {
		cp := v.Capacity
		capText, rel := "none", analysis.NoValue
		if cp.Found {
			capText = analysis.FormatLevel(cp.Level)
			if cp.FailedStage == 0 {
				capText = "≥ " + capText
			}
		}
		if i == 0 {
			rel = "baseline"
		} else if v.Relative != nil {
			rel = fmt.Sprintf("%+.1f%%", 100**v.Relative)
		}
		row := []string{v.Name, capText, rel}
		stages := c.Sweeps()[i].Stages
		if search {
			there := analysis.NoValue
			for _, st := range stages {
				if cp.Found && st.Index == cp.Stage {
					there = goodputCell(st)
				}
			}
			row = append(row, there)
		} else {
			for _, l := range levels {
				cell := analysis.NoValue
				for _, st := range stages {
					if st.Level == l {
						cell = goodputCell(st)
						if !st.Pass {
							cell += " FAIL"
						}
					}
				}
				row = append(row, cell)
			}
		}
		mark := ""
		if slices.Contains(best, i) {
			mark = "best"
		}
		rows = append(rows, append(row, mark))
	}
	return rows
}

// goodputCell is a stage's goodput: req/s and the share of requests.
func goodputCell(st analysis.SweepStage) string {
	return reqRate(st.Goodput.RequestsPerS) + fmt.Sprintf(" (%.0f%%)", 100*st.Goodput.Ratio)
}

// whatIfFooter is the lines under a what-if's table: the baseline, each
// variant's capacity line and the comparison's notes.
func whatIfFooter(c *analysis.SweepComparison) []string {
	lines := []string{"baseline: " + c.Variants[0].Name + "; goodput: requests per second (and share of requests) that succeeded and met every --goodput condition, over the stage and its drain; FAIL: the stage failed the SLOs or saturated"}
	for i, v := range c.Variants {
		lines = append(lines, v.Name+": "+c.Sweeps()[i].CapacityLine())
	}
	return append(lines, c.Notes...)
}

// WriteWhatIfTable renders a what-if for a terminal: WhatIfRows, then the
// capacity line of each variant.
func WriteWhatIfTable(w io.Writer, c *analysis.SweepComparison) error {
	if err := writeBoxTable(w, WhatIfRows(c)); err != nil {
		return err
	}
	for _, l := range whatIfFooter(c) {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}

// WriteWhatIfMarkdown renders a what-if for a CI page or a pull request.
func WriteWhatIfMarkdown(w io.Writer, c *analysis.SweepComparison) error {
	var b strings.Builder
	b.WriteString("### streamgauge what-if\n\n")
	rows := WhatIfRows(c)
	b.WriteString("| " + strings.Join(rows[0], " | ") + " |\n| --- |")
	for range rows[0][1:] {
		b.WriteString(" ---: |")
	}
	b.WriteString("\n")
	for _, r := range rows[1:] {
		for i := range r {
			r[i] = mdEscape(r[i])
		}
		if r[len(r)-1] != "" {
			r[len(r)-1] = "**" + r[len(r)-1] + "**"
		}
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	b.WriteString("\n")
	for _, l := range whatIfFooter(c) {
		b.WriteString("- " + mdEscape(l) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WhatIfPage is the HTML page of a what-if: the comparison's plots (one
// curve per variant), the what-if table and a link to each variant's own
// sweep page; links are relative to the page (one per variant, in order,
// "" for none).
func WhatIfPage(c *analysis.SweepComparison, title string, links []string) SweepHTML {
	pg := SweepComparisonPage(c)
	pg.Title = title
	pg.Notes = whatIfFooter(c)
	pg.Table, pg.TableTitle = WhatIfRows(c), "Capacity and goodput per variant"
	for i, v := range c.Variants {
		if i < len(links) && links[i] != "" {
			pg.Links = append(pg.Links, Link{Text: v.Name, Href: links[i]})
		}
	}
	return pg
}
