// Package report renders the values the analysis package computes: the
// terminal table of a run, markdown for CI pages, SLO lines and their
// JSON, JUnit XML, the per-request CSV export, HdrHistogram interval logs,
// compare and sweep output (table, markdown, JSON), and HTML pages with
// their plots (a run's report, a comparison, a sweep); doctor's probe
// table and JSON, report --as's side-by-side table and JSON of another
// tool's numbers, calibrate's parameter and residual table, and a what-if's
// variant table, markdown and index page.
//
// It computes no statistics: percentiles, verdicts, comparisons and
// capacities come from analysis values (a Summary, a Comparison, a Sweep),
// and numbers are printed through analysis's formatters so a value reads
// the same in every output. The one pass it makes over requests.jsonl for
// a report (LoadReport) only sorts records into time buckets and length
// histograms for the plots.
package report
