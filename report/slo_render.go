package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/streamgauge/streamgauge/analysis"
)

// Marks for a held and a failed SLO on a terminal.
const (
	MarkPass = "✓"
	MarkFail = "✗"
)

// WriteSLOTable writes one line per SLO result, then a count:
//
//	✓ ttft.p99<500ms        observed 312.4 ms (margin 187.6 ms)
//	✗ error_rate<1%         observed 2.5% (margin -1.5%)
//	SLOs: 1 passed, 1 failed
//
// Values are shown in the unit the expression was written in.
func WriteSLOTable(w io.Writer, results []analysis.SLOResult) error {
	width := 0
	for _, r := range results {
		width = max(width, utf8.RuneCountInString(r.Expr))
	}
	var b strings.Builder
	failed := 0
	for _, r := range results {
		mark := MarkPass
		if !r.Pass {
			mark = MarkFail
			failed++
		}
		pad := strings.Repeat(" ", width-utf8.RuneCountInString(r.Expr))
		fmt.Fprintf(&b, "%s %s%s  %s\n", mark, r.Expr, pad, describeResult(r))
	}
	fmt.Fprintf(&b, "SLOs: %d passed, %d failed\n", len(results)-failed, failed)
	_, err := io.WriteString(w, b.String())
	return err
}

// describeResult is "observed X (margin Y)", or the note of a result that
// had nothing to judge.
func describeResult(r analysis.SLOResult) string {
	if r.Note != "" {
		return r.Note
	}
	return fmt.Sprintf("observed %s (margin %s)", analysis.FormatSLOValue(r, r.Value), analysis.FormatSLOValue(r, r.Margin))
}

// SLOReport is the JSON form of a gate's verdict.
type SLOReport struct {
	Pass   bool                 `json:"pass"`
	Passed int                  `json:"passed"`
	Failed int                  `json:"failed"`
	SLO    []analysis.SLOResult `json:"slo"`
}

// NewSLOReport counts results into a report.
func NewSLOReport(results []analysis.SLOResult) SLOReport {
	rep := SLOReport{Pass: analysis.AllPass(results), SLO: results}
	if rep.SLO == nil {
		rep.SLO = []analysis.SLOResult{}
	}
	for _, r := range results {
		if r.Pass {
			rep.Passed++
		} else {
			rep.Failed++
		}
	}
	return rep
}

// WriteSLOJSON writes the results as an indented SLOReport.
func WriteSLOJSON(w io.Writer, results []analysis.SLOResult) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(NewSLOReport(results))
}
