// Package analysis turns records into judgements: HDR histograms per metric,
// the run summary, and (in later files) SLO expressions, comparisons and
// report renderers. It reads records through the results package and does no
// network I/O, so every run can be re-analysed offline.
package analysis
