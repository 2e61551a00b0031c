// Package results owns what a run leaves on disk: the per-request Record, the
// run directory (run.json, requests.jsonl, summary.json), a crash-safe writer
// that appends records as requests finish, and a streaming reader.
//
// It imports nothing else of streamgauge, so any run can be re-read, merged and
// re-analysed offline, and it never holds all records in memory.
package results
