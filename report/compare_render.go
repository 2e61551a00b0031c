package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/streamgauge/streamgauge/internal/plural"

	"github.com/streamgauge/streamgauge/analysis"
)

// verdictText is how a terminal shows a verdict.
func verdictText(v analysis.Verdict, tol float64) string {
	switch v {
	case analysis.VerdictRegression:
		return MarkFail + " regression"
	case analysis.VerdictImprovement:
		return MarkPass + " improvement"
	case analysis.VerdictWorse:
		return fmt.Sprintf("worse (within %s)", fnum(tol*100)+"%")
	case analysis.VerdictBetter:
		return fmt.Sprintf("better (within %s)", fnum(tol*100)+"%")
	case analysis.VerdictSame:
		return "no significant change"
	}
	return "n/a (too few samples)"
}

// rowLabel is a metric with its unit.
func rowLabel(r analysis.CompareRow) string {
	switch r.Unit {
	case "ratio":
		return r.Metric + " (%)"
	case "":
		return r.Metric
	}
	return r.Metric + " (" + r.Unit + ")"
}

// cmpValue formats a value of a row; shares are shown in percent.
// unitValue shows NaN and ±Inf as analysis.NoValue.
func cmpValue(r analysis.CompareRow, v analysis.Number) string {
	return unitValue(r.Unit, float64(v))
}

// cmpDelta formats a signed change; a share's change is in percentage
// points.
func cmpDelta(r analysis.CompareRow, v analysis.Number) string {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return analysis.NoValue
	}
	unit := ""
	if r.Unit == "ratio" {
		f *= 100
		unit = " pp"
	}
	s := sig3(f)
	if f > 0 {
		s = "+" + s
	}
	return s + unit
}

// sig3 shows three significant digits (all of an integer part).
func sig3(v float64) string {
	a := math.Abs(v)
	if a == 0 || a >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	scale := math.Pow(10, 2-math.Floor(math.Log10(a)))
	return strconv.FormatFloat(math.Round(v*scale)/scale, 'f', -1, 64)
}

func cmpRel(v analysis.Number) string {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return analysis.NoValue
	}
	s := strconv.FormatFloat(f*100, 'f', 1, 64) + "%"
	if f > 0 {
		s = "+" + s
	}
	return s
}

func cmpCI(r analysis.CompareRow, c analysis.CompareCell) string {
	if math.IsNaN(float64(c.CILow)) {
		return analysis.NoValue
	}
	return "[" + cmpDelta(r, c.CILow) + ", " + cmpDelta(r, c.CIHigh) + "]"
}

func cmpP(v analysis.Number) string {
	f := float64(v)
	switch {
	case math.IsNaN(f):
		return analysis.NoValue
	case f < 0.001:
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", f)
}

// compareNotes are the lines above a comparison table.
func compareNotes(c *analysis.Comparison) []string {
	runs := func(r analysis.RunRef) string {
		s := fmt.Sprintf("%s (%s, %d ok", r.Name, plural.Count(r.Requests, "request"), r.OK)
		if r.Dir != "" && r.Dir != r.Name {
			s += ", " + r.Dir
		}
		return s + ")"
	}
	lines := []string{"baseline:   " + runs(c.Baseline)}
	for _, r := range c.Candidates {
		lines = append(lines, "candidate:  "+runs(r))
	}
	adj := map[string]string{
		analysis.AdjustFDR:  fmt.Sprintf("significance adjusted for %s (false discovery rate %s)", plural.Count(len(c.Rows), "metric"), fnum((1-c.Confidence)*100)+"%"),
		analysis.AdjustHolm: fmt.Sprintf("significance adjusted for %s (Holm, family-wise error %s)", plural.Count(len(c.Rows), "metric"), fnum((1-c.Confidence)*100)+"%"),
		analysis.AdjustNone: "significance per metric, not adjusted for comparing several",
	}[c.Adjust]
	lines = append(lines,
		fmt.Sprintf("change = candidate - baseline, with its %s bootstrap interval over requests (%d resamples, seed %d); %s",
			fnum(c.Confidence*100)+"%", c.Resamples, c.Seed, adj),
		fmt.Sprintf("regression = significant and worse by more than %s; lower is better except throughput and goodput",
			fnum(c.Tolerance*100)+"%"))
	return lines
}

// compareOutcome is the closing line of a comparison.
func compareOutcome(c *analysis.Comparison) []string {
	var out []string
	for _, cand := range c.Candidates {
		var worst []string
		for _, r := range c.Rows {
			for _, cell := range r.Candidates {
				if cell.Run == cand.Name && cell.Verdict == analysis.VerdictRegression {
					worst = append(worst, r.Metric+" "+cmpRel(cell.Rel))
				}
			}
		}
		var unjudged []string
		for _, r := range c.Rows {
			for _, cell := range r.Candidates {
				if cell.Run == cand.Name && cell.Verdict == analysis.VerdictUnknown {
					unjudged = append(unjudged, r.Metric)
				}
			}
		}
		switch {
		case len(worst) > 0:
			out = append(out, fmt.Sprintf("%s %s regressed: %s", MarkFail, cand.Name, strings.Join(worst, ", ")))
		case len(unjudged) > 0:
			out = append(out, fmt.Sprintf("%s %s: no regression in the metrics judged; too few samples to judge %s", MarkPass, cand.Name, strings.Join(unjudged, ", ")))
		default:
			out = append(out, fmt.Sprintf("%s %s: no regression", MarkPass, cand.Name))
		}
	}
	return out
}

// WriteCompareTable renders a comparison for a terminal: one block of rows
// per metric, the baseline first and then each candidate with its change.
func WriteCompareTable(w io.Writer, c *analysis.Comparison) error {
	var b strings.Builder
	for _, l := range compareNotes(c) {
		b.WriteString(l + "\n")
	}
	for _, wn := range c.Warnings {
		b.WriteString("warning: " + wn + "\n")
	}
	b.WriteString("\n")
	rows := [][]string{{"metric", "run", "value", "change", "rel", "interval of change", "p (adj.)", "verdict"}}
	for _, r := range c.Rows {
		rows = append(rows, []string{rowLabel(r), c.Baseline.Name, cmpValue(r, r.Baseline), "", "", "", "", ""})
		for _, cell := range r.Candidates {
			rows = append(rows, []string{"", cell.Run, cmpValue(r, cell.Value), cmpDelta(r, cell.Diff), cmpRel(cell.Rel),
				cmpCI(r, cell), cmpP(cell.PAdjusted), verdictText(cell.Verdict, c.Tolerance)})
		}
	}
	// Text columns are left-aligned, numbers right-aligned.
	right := []bool{false, false, true, true, true, true, true, false}
	writeAligned(&b, rows, func(col int) bool { return right[col] })
	b.WriteString("\n")
	for _, l := range compareOutcome(c) {
		b.WriteString(l + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteCompareMarkdown renders a comparison for a CI page or a
// merge-request comment.
func WriteCompareMarkdown(w io.Writer, c *analysis.Comparison) error {
	var b strings.Builder
	if c.Regression() {
		fmt.Fprintf(&b, "### streamgauge compare: ❌ %s regressed\n\n", strings.Join(c.Regressed, ", "))
	} else {
		b.WriteString("### streamgauge compare: ✅ no regression\n\n")
	}
	for _, l := range compareNotes(c) {
		b.WriteString(mdEscape(l) + "  \n")
	}
	b.WriteString("\n")
	for _, wn := range c.Warnings {
		b.WriteString("> ⚠️ " + mdEscape(wn) + "\n")
	}
	if len(c.Warnings) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("| metric | run | value | change | rel | interval of change | p (adj.) | verdict |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n")
	for _, r := range c.Rows {
		fmt.Fprintf(&b, "| %s | %s | %s | | | | | |\n", mdQuote(r.Metric)+mdEscape(strings.TrimPrefix(rowLabel(r), r.Metric)), mdEscape(c.Baseline.Name), cmpValue(r, r.Baseline))
		for _, cell := range r.Candidates {
			v := verdictText(cell.Verdict, c.Tolerance)
			switch cell.Verdict {
			case analysis.VerdictRegression:
				v = "❌ **regression**"
			case analysis.VerdictImprovement:
				v = "✅ improvement"
			}
			fmt.Fprintf(&b, "| | %s | %s | %s | %s | %s | %s | %s |\n", mdEscape(cell.Run), cmpValue(r, cell.Value), cmpDelta(r, cell.Diff),
				cmpRel(cell.Rel), cmpCI(r, cell), mdEscape(cmpP(cell.PAdjusted)), v)
		}
	}
	b.WriteString("\n")
	for _, l := range compareOutcome(c) {
		b.WriteString(mdEscape(l) + "  \n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteCompareJSON writes the comparison as indented JSON.
func WriteCompareJSON(w io.Writer, c *analysis.Comparison) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(c)
}
