package report_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
	"github.com/streamgauge/streamgauge/report"
)

func TestSweepRender(t *testing.T) {
	s := analysistest.Sweep("chat", 12, "ttft.p99<100ms")
	var tb bytes.Buffer
	if err := report.WriteSweepTable(&tb, s); err != nil {
		t.Fatal(err)
	}
	table := tb.String()
	// Rows come in level order, not in the order the search ran them.
	order := []string{"\n    1      4 ", "\n    2      8 ", "\n    4   11.3 ", "\n    5   13.4 ", "\n    3     16 "}
	last := -1
	for _, row := range order {
		i := strings.Index(table, row)
		if i < 0 || i < last {
			t.Fatalf("row %q missing or out of level order:\n%s", row, table)
		}
		last = i
	}
	for _, want := range []string{"capacity: 11.3 req/s (stage 4 passed", "13.4 req/s failed (stage 5, +18.6%)", "ttft.p99<100ms was 536.00 ms",
		"stage 5 (13.4 req/s) failed: ttft.p99<100ms, saturated", "   req/s  req/s             ms"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	// It fits a 120-column terminal, with every column's unit under it.
	for _, l := range strings.Split(table, "\n") {
		if n := utf8.RuneCountInString(l); n > 120 && !strings.HasPrefix(l, "capacity:") {
			t.Errorf("line of %d columns:\n%s", n, l)
		}
	}
	var md bytes.Buffer
	if err := report.WriteSweepMarkdown(&md, s); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "| stage | rate (req/s) | sent (req/s) | ttft p50/p99 (ms) |") || !strings.Contains(md.String(), "- capacity: 11.3 req/s") {
		t.Errorf("markdown:\n%s", md.String())
	}
	var html bytes.Buffer
	if err := report.WriteSweepHTML(&html, report.SweepPage(s)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "plot-sweep-3", `id="sweep-table"`, "capacity 11.3 req/s", "SLO ttft.p99&lt;100ms"} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("html lacks %q", want)
		}
	}
}

// TestSweepComparisonRender: the comparison table names the variants and
// their capacities, and the page carries the plots.
func TestSweepComparisonRender(t *testing.T) {
	a, b := analysistest.Sweep("chat", 12, "ttft.p99<100ms"), analysistest.Sweep("chat", 16, "ttft.p99<100ms")
	c, err := analysis.CompareSweeps([]string{"fcfs", "continuous"}, []*analysis.Sweep{a, b})
	if err != nil {
		t.Fatal(err)
	}
	var tb bytes.Buffer
	if err := report.WriteSweepComparisonTable(&tb, c); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"continuous", "+41.6%", "≥ 16", "11.3"} {
		if !strings.Contains(tb.String(), want) {
			t.Errorf("comparison table lacks %q:\n%s", want, tb.String())
		}
	}
	var html bytes.Buffer
	if err := report.WriteSweepHTML(&html, report.SweepComparisonPage(c)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), "<svg") || !strings.Contains(html.String(), "fcfs") {
		t.Error("comparison page lacks plots or variant names")
	}
}
