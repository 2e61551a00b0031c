package report_test

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
	"github.com/streamgauge/streamgauge/report"
)

func TestWriteMarkdown(t *testing.T) {
	s, res := fixtureResults(t)
	tests := []struct {
		name, golden string
		res          []analysis.SLOResult
		heading      string
	}{
		{"failing SLOs", "markdown_fail.golden.md", res, "### streamgauge: ❌ 4 of 7 SLOs failed"},
		{"holding SLOs", "markdown_pass.golden.md", []analysis.SLOResult{res[0], res[4]}, "### streamgauge: ✅ all 2 SLOs held"},
		{"no SLOs", "markdown_none.golden.md", nil, "### streamgauge run summary"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := report.WriteMarkdown(&buf, s, tc.res); err != nil {
				t.Fatal(err)
			}
			analysistest.Golden(t, *update, tc.golden, buf.Bytes())
			out := buf.String()
			if !strings.HasPrefix(out, tc.heading+"\n") {
				t.Errorf("heading: %q, want %q", strings.SplitN(out, "\n", 2)[0], tc.heading)
			}
			// Every table row has as many cells as its header: GitHub drops
			// a table whose rows do not line up.
			var cols int
			for _, line := range strings.Split(out, "\n") {
				if !strings.HasPrefix(line, "|") {
					cols = 0
					continue
				}
				n := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|")
				if cols == 0 {
					cols = n
				} else if n != cols {
					t.Errorf("row %q has %d separators, header %d", line, n, cols)
				}
			}
			if strings.Contains(regexp.MustCompile("`[^`]*`").ReplaceAllString(out, ""), "<") {
				t.Errorf("raw < in markdown (GitHub may read it as HTML):\n%s", out)
			}
		})
	}
	var buf bytes.Buffer
	report.WriteMarkdown(&buf, s, res)
	for _, want := range []string{"| ❌ | `error_rate<1%` | 20.00% | &lt; 1% | -19.00% |", "| ✅ | `ttft.p99<500ms` | 270.08 ms | &lt; 500 ms | 229.92 ms |", "| ttft | 20 |", "generator was saturated"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if err := report.WriteMarkdown(failWriter{}, s, res); err == nil {
		t.Error("WriteMarkdown to a failing writer: no error")
	}
}

// TestMarkdownNamesTheCap: a CI page blames the cap as the terminal does.
func TestMarkdownNamesTheCap(t *testing.T) {
	s := &analysis.Summary{GeneratorSaturated: true, Requests: analysis.Counts{Sent: 10},
		Generator: analysis.Generator{OpenLoop: true, MaxConcurrency: 8, CapWaits: 4}, Metrics: map[string]analysis.Stats{"lag": {Count: 100, P99: 42}}}
	var b strings.Builder
	if err := report.WriteMarkdown(&b, s, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "4 of 10 sends waited for one of the --max-concurrency 8 slots") || strings.Contains(b.String(), "The load generator was saturated") {
		t.Errorf("markdown:\n%s\nwant the cap named", b.String())
	}
}
