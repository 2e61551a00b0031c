// Package monitor watches a run while it lasts: live counters and latency
// over a sliding window (for the terminal status and the CLI's status
// lines), a Prometheus exposition of the same (--metrics-addr), and a
// scraper of the server's own Prometheus metrics (--scrape-metrics) that
// streams them into the run directory.
//
// A Monitor sits beside the hot path as a record sink and a Doer wrapper:
// one mutex per finished record and two atomic operations per request. It
// keeps no record, so memory stays flat however long the run.
package monitor
