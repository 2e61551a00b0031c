package report

import "github.com/streamgauge/streamgauge/analysis"

// The renderers print every number through analysis's formatters, so a
// value reads the same in the table, the markdown, the HTML page, JUnit
// and analysis's own messages (SLO notes, saturation warnings). These are
// short local names for them.

func fixed(v float64, d int) string              { return analysis.FormatFixed(v, d) }
func fms(v float64) string                       { return analysis.FormatMS(v) }
func statMS(st analysis.Stats, v float64) string { return analysis.FormatStatMS(st, v) }
func withMS(st analysis.Stats, v float64) string { return analysis.FormatWithMS(st, v) }
func percent(ratio float64) string               { return analysis.FormatPercent(ratio) }
func reqRate(v float64) string                   { return analysis.FormatReqRate(v) }
func tokRate(v float64) string                   { return analysis.FormatTokRate(v) }
func fnum(v float64) string                      { return analysis.FormatNum(v) }
func unitValue(unit string, v float64) string    { return analysis.FormatUnit(unit, v) }
