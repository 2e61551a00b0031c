package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/streamgauge/streamgauge/analysis"
)

// toolTitles are the tools' own spellings, for headers and text.
var toolTitles = map[string]string{
	"vllm": "vLLM", "sglang": "SGLang", "aiperf": "AIPerf",
	"genai-perf": "GenAI-Perf", "guidellm": "GuideLLM", "llmperf": "LLMPerf",
}

// ToolTitle is a tool's name as the tool spells it (vLLM, GenAI-Perf).
func ToolTitle(tool string) string {
	if t, ok := toolTitles[tool]; ok {
		return t
	}
	return tool
}

// whyWidth is the width the explanations wrap at.
const whyWidth = 78

// WriteToolTable renders a ToolReport for a terminal: one row per number
// (metric | streamgauge | TOOL | why it differs), the explanation of each
// family that differs wrapped down that family's rows, then the warm-up
// left out, the tool's percentile method and the source files read.
func WriteToolTable(w io.Writer, rep *analysis.ToolReport) error {
	title := ToolTitle(rep.Tool)
	why := map[string]string{}
	for _, d := range rep.Differences {
		why[d.Metric] = d.Why
	}
	type row struct{ metric, ours, theirs string }
	lat := func(name string, o, th *analysis.ToolStat) []row {
		val := func(s *analysis.ToolStat, f func(*analysis.ToolStat) float64) string {
			if s == nil {
				return "n/a"
			}
			return fixed(f(s), 2)
		}
		return []row{
			{name + " mean (ms)", val(o, func(s *analysis.ToolStat) float64 { return s.Mean }), val(th, func(s *analysis.ToolStat) float64 { return s.Mean })},
			{name + " p50 (ms)", val(o, func(s *analysis.ToolStat) float64 { return s.Median }), val(th, func(s *analysis.ToolStat) float64 { return s.Median })},
			{name + " p99 (ms)", val(o, func(s *analysis.ToolStat) float64 { return s.P99 }), val(th, func(s *analysis.ToolStat) float64 { return s.P99 })},
		}
	}
	o, th := rep.Ours, rep.Theirs
	fams := []struct {
		name string
		rows []row
	}{
		{analysis.FamTTFT, lat("ttft", o.TTFT, th.TTFT)},
		{analysis.FamITL, lat("itl", o.ITL, th.ITL)},
		{analysis.FamTPOT, lat("tpot", o.TPOT, th.TPOT)},
		{analysis.FamE2E, lat("e2e", o.E2E, th.E2E)},
		{analysis.FamRequests, []row{{"requests used/dropped", fmt.Sprintf("%d/%d", o.Requests, o.Dropped), fmt.Sprintf("%d/%d", th.Requests, th.Dropped)}}},
		{analysis.FamDuration, []row{{"duration (s)", fixed(o.DurationS, 3), fixed(th.DurationS, 3)}}},
		{analysis.FamReqRate, []row{{"requests/s", fixed(o.RequestsPerS, 2), fixed(th.RequestsPerS, 2)}}},
		{analysis.FamTokenRate, []row{{"output tokens/s", fixed(o.OutputTokensPerS, 2), fixed(th.OutputTokensPerS, 2)}}},
	}
	const mW, nW = 22, 12
	tW := max(nW, len(title))
	line := func(m, a, b, y string) error {
		s := fmt.Sprintf("%-*s %*s %*s  %s", mW, m, nW, a, tW, b, y)
		_, err := fmt.Fprintln(w, strings.TrimRight(s, " "))
		return err
	}
	if err := line("metric", "streamgauge", title, "why it differs"); err != nil {
		return err
	}
	for _, f := range fams {
		lines := wrap(why[f.name], whyWidth)
		n := max(len(f.rows), len(lines))
		for i := range n {
			var r row
			if i < len(f.rows) {
				r = f.rows[i]
			}
			y := ""
			if i < len(lines) {
				y = lines[i]
			}
			if err := line(r.metric, r.ours, r.theirs, y); err != nil {
				return err
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nwarm-up requests left out on both sides: %d\n", rep.Warmup)
	fmt.Fprintf(&b, "streamgauge: exact values from requests.jsonl, percentiles by linear interpolation (the summary's come from HDR histograms, 3 significant digits)\n")
	fmt.Fprintf(&b, "%s percentiles: %s\n", title, rep.Percentiles)
	fmt.Fprintf(&b, "%s definitions read from:\n", title)
	for _, s := range rep.Sources {
		fmt.Fprintf(&b, "  %s\n", s)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteToolJSON writes a ToolReport as indented JSON, for a CI job that
// compares with a number it already tracks from that tool.
func WriteToolJSON(w io.Writer, rep *analysis.ToolReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// wrap breaks s into lines of at most width bytes at spaces (a longer word
// stands alone).
func wrap(s string, width int) []string {
	var lines []string
	var cur strings.Builder
	for _, word := range strings.Fields(s) {
		if cur.Len() > 0 && cur.Len()+1+len(word) > width {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(word)
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}
