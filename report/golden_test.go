package report_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/results"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixture is testdata/records.jsonl (the same file as analysis's): 30
// hand-made records. Measured requests are sent every 100 ms from 1.0 s
// (ids 00-19 succeed, 20-24 fail: connect, 429, 5xx, stream error with
// tokens, timeout ending at 4.0 s); 25-26 are canceled and w0-w2 are
// warm-up (one failed, one very late).
const fixture = "testdata/records.jsonl"

// openMeta describes the fixture as an open-loop run at 10 req/s.
var openMeta = analysis.RunMeta{RequestedRate: 10, OpenLoop: true, CPUSeconds: 1.2345}

func loadRecords(t *testing.T) []*results.Record {
	t.Helper()
	f, err := os.Open(fixture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []*results.Record
	if err := results.DecodeRecords(f, fixture, func(r *results.Record) error {
		recs = append(recs, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 30 {
		t.Fatalf("fixture holds %d records, want 30", len(recs))
	}
	return recs
}

func accumulate(t *testing.T, recs []*results.Record) *analysis.Accumulator {
	t.Helper()
	a := analysis.NewAccumulator()
	for _, r := range recs {
		if err := a.Append(r); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

func summarize(t *testing.T, recs []*results.Record, meta analysis.RunMeta) *analysis.Summary {
	t.Helper()
	s, err := accumulate(t, recs).Summary(meta)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (run with -update if intended)\n--- got\n%s\n--- want\n%s", p, got, want)
	}
}
