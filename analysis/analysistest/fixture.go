package analysistest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/results"
)

// ReadRecords decodes the records file at path (a requests.jsonl, such as
// the hand-made testdata/records.jsonl), failing tb on any error.
func ReadRecords(tb testing.TB, path string) []*results.Record {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var recs []*results.Record
	if err := results.DecodeRecords(f, path, func(r *results.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	return recs
}

// Accumulate appends recs to a new accumulator, failing tb on any error.
func Accumulate(tb testing.TB, recs []*results.Record) *analysis.Accumulator {
	tb.Helper()
	a := analysis.NewAccumulator()
	for _, r := range recs {
		if err := a.Append(r); err != nil {
			tb.Fatal(err)
		}
	}
	return a
}

// Summarize is the summary of recs under meta, failing tb on any error.
func Summarize(tb testing.TB, recs []*results.Record, meta analysis.RunMeta) *analysis.Summary {
	tb.Helper()
	s, err := Accumulate(tb, recs).Summary(meta)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// Golden compares got with testdata/name, first rewriting the file with
// got when update is set (the calling package's -update flag).
func Golden(tb testing.TB, update bool, name string, got []byte) {
	tb.Helper()
	p := filepath.Join("testdata", name)
	if update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		tb.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("output differs from %s (run with -update if intended)\n--- got\n%s\n--- want\n%s", p, got, want)
	}
}

// CopyRun copies the run directory src (its run.json, requests.jsonl and
// server metrics) into a new temporary directory and returns it.
func CopyRun(tb testing.TB, src string) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, name := range []string{results.RunFile, results.RequestsFile, analysis.ServerMetricsFile} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// Fixture is testdata/records.jsonl, which analysis and report each keep
// (the same file): 30 hand-made records. Measured requests are sent every
// 100 ms from 1.0 s (ids 00-19 succeed, 20-24 fail: connect, 429, 5xx,
// stream error with tokens, timeout ending at 4.0 s); 25-26 are canceled
// and w0-w2 are warm-up (one failed, one very late).
const Fixture = "testdata/records.jsonl"

// OpenMeta describes the Fixture as an open-loop run at 10 req/s.
func OpenMeta() analysis.RunMeta {
	return analysis.RunMeta{RequestedRate: 10, OpenLoop: true, CPUSeconds: 1.2345}
}

// LoadFixture reads the Fixture's records, failing tb unless it holds the
// 30 records the tests' expectations are written for.
func LoadFixture(tb testing.TB) []*results.Record {
	tb.Helper()
	recs := ReadRecords(tb, Fixture)
	if len(recs) != 30 {
		tb.Fatalf("fixture holds %d records, want 30", len(recs))
	}
	return recs
}
