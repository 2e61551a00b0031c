package analysis

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
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
func WriteSLOTable(w io.Writer, results []SLOResult) error {
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
func describeResult(r SLOResult) string {
	if r.Note != "" {
		return r.Note
	}
	return fmt.Sprintf("observed %s (margin %s)", FormatSLOValue(r, r.Value), FormatSLOValue(r, r.Margin))
}

// FormatSLOValue formats v (a value or margin of r, in r.Unit) in the
// unit r's expression was written in, as every other output shows it:
// "312.43 ms" (two decimals, as in the results table), "1.5 s", "0.42%",
// "2314.5 tok/s".
func FormatSLOValue(r SLOResult, v float64) string {
	num, unit := sloNumber(r, v)
	return num + unit
}

// FormatSLOThreshold formats r's threshold as its expression gave it,
// without trailing zeros: "500 ms", "1%".
func FormatSLOThreshold(r SLOResult) string {
	num, unit := sloNumber(r, r.Threshold)
	return trimZeros(num) + unit
}

func sloNumber(r SLOResult, v float64) (string, string) {
	unit := r.Unit
	if unit == "ms" {
		if s, err := ParseSLO(r.Expr); err == nil && s.Kind == KindLatency {
			unit = s.Unit
		}
	}
	switch unit {
	case "us":
		return fnum(v * 1e3), " µs"
	case "s":
		return fnum(v / 1e3), " s"
	case "ms":
		return fms(v), " ms"
	case "ratio":
		return fixed(100*v, 2), "%"
	case "req/s":
		return reqRate(v), " req/s"
	case "tok/s":
		return tokRate(v), " tok/s"
	case "":
		return fnum(v), ""
	}
	return fnum(v), " " + unit
}

// SLOReport is the JSON form of a gate's verdict.
type SLOReport struct {
	Pass   bool        `json:"pass"`
	Passed int         `json:"passed"`
	Failed int         `json:"failed"`
	SLO    []SLOResult `json:"slo"`
}

// NewSLOReport counts results into a report.
func NewSLOReport(results []SLOResult) SLOReport {
	rep := SLOReport{Pass: AllPass(results), SLO: results}
	if rep.SLO == nil {
		rep.SLO = []SLOResult{}
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
func WriteSLOJSON(w io.Writer, results []SLOResult) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(NewSLOReport(results))
}
