package analysis_test

import (
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
	"github.com/streamgauge/streamgauge/results"
)

// FuzzParseGoodput: the parser never panics, errors point at a token, and
// what parses round-trips through its canonical form and judges records
// the same way afterwards.
func FuzzParseGoodput(f *testing.F) {
	for _, s := range []string{
		"ttft<=500ms,tpot<=50ms", " ttft <= 0.5s , tpot<50ms ", "e2e<30s,", "ttft<=500ms,,tpot<1s",
		"ttft<=500ms, tpot.p99<=50ms", "lag>5ms", ",", "ttft<=500", "ttfo<1e3us,ttfb<2ms",
	} {
		f.Add(s)
	}
	recs := analysistest.LoadFixture(f)
	f.Fuzz(func(t *testing.T, expr string) {
		g, err := analysis.ParseGoodput(expr)
		if err != nil {
			checkSLOError(t, expr, err)
			return
		}
		if g == nil {
			return
		}
		again, err := analysis.ParseGoodput(g.String())
		if err != nil {
			t.Fatalf("%q: canonical form %q does not parse: %v", expr, g.String(), err)
		}
		if again.String() != g.String() {
			t.Fatalf("%q: canonical %q parses back as %q", expr, g.String(), again.String())
		}
		for _, r := range append(recs, &results.Record{}) {
			met := g.Met(r)
			if met && r.Error != nil {
				t.Fatalf("%q: failed request %s counted as good", expr, r.ID)
			}
			if again.Met(r) != met {
				t.Fatalf("%q: record %s judged differently after a round trip", expr, r.ID)
			}
		}
	})
}
