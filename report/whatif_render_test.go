package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
	"github.com/streamgauge/streamgauge/report"
)

// listSweep is analysistest.Sweep as a sweep of given levels (not a
// search), with the goodput of each stage.
func listSweep(capacity float64) *analysis.Sweep {
	s := analysistest.Sweep("chat", capacity, "ttft.p99<100ms")
	s.Auto = false
	for i := range s.Stages {
		st := &s.Stages[i]
		st.Goodput = analysis.Goodput{RequestsPerS: st.Throughput.RequestsPerS * 0.9, Ratio: 0.9}
	}
	return s
}

// TestWhatIfRender pins the what-if table and markdown of three variants
// (the baseline, a better one, one that never met the SLOs), and checks
// the page names every variant, links its sweep and marks the best.
func TestWhatIfRender(t *testing.T) {
	none := listSweep(2)
	c, err := analysis.CompareSweeps([]string{"scheduler=continuous", "scheduler=chunked-prefill", "scheduler=fcfs"},
		[]*analysis.Sweep{listSweep(12), listSweep(16), none})
	if err != nil {
		t.Fatal(err)
	}
	var tb, md bytes.Buffer
	if err := report.WriteWhatIfTable(&tb, c); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteWhatIfMarkdown(&md, c); err != nil {
		t.Fatal(err)
	}
	analysistest.Golden(t, *update, "whatif.golden.txt", tb.Bytes())
	analysistest.Golden(t, *update, "whatif.golden.md", md.Bytes())

	var html bytes.Buffer
	page := report.WhatIfPage(c, "streamgauge what-if: chat", []string{"scheduler=continuous/sweep.html", "scheduler=chunked-prefill/sweep.html", ""})
	if err := report.WriteSweepHTML(&html, page); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "streamgauge what-if: chat", `id="sweep-links"`, `href="scheduler=chunked-prefill/sweep.html"`,
		"scheduler=fcfs", "goodput at 11.3 req/s", "<td>best</td>"} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("what-if page lacks %q", want)
		}
	}
	if strings.Count(html.String(), "<li><a") != 2 {
		t.Errorf("want links to the two variants given one")
	}
}

// TestWhatIfRowsSearch: variants of an automatic search show the goodput
// at their capacity, as their levels differ; tied variants are all best.
func TestWhatIfRowsSearch(t *testing.T) {
	a, b := analysistest.Sweep("chat", 12, "ttft.p99<100ms"), analysistest.Sweep("chat", 12, "ttft.p99<100ms")
	c, err := analysis.CompareSweeps([]string{"max-batch=64", "max-batch=256"}, []*analysis.Sweep{a, b})
	if err != nil {
		t.Fatal(err)
	}
	rows := report.WhatIfRows(c)
	want := [][]string{
		{"variant", "capacity (req/s)", "vs baseline", "goodput there (req/s)", "best"},
		{"max-batch=64", "11.3", "baseline", "0.00 (0%)", "best"},
		{"max-batch=256", "11.3", "+0.0%", "0.00 (0%)", "best"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %q", rows)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d %q, want %q", i, rows[i], want[i])
		}
	}
}
