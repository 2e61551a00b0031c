package analysis_test

import (
	"errors"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
)

// checkSLOError: a parse error points inside the expression it quotes, at
// the token it names.
func checkSLOError(t *testing.T, input string, err error) {
	t.Helper()
	var se *analysis.SLOError
	if !errors.As(err, &se) {
		t.Fatalf("%q: error %v is not an *SLOError", input, err)
	}
	n := utf8.RuneCountInString(se.Expr)
	if se.Col < 1 || se.Col > n+1 {
		t.Fatalf("%q: column %d outside 1..%d", input, se.Col, n+1)
	}
	off := 0 // byte offset of column Col, counting runes as utf8 does
	for range se.Col - 1 {
		_, size := utf8.DecodeRuneInString(se.Expr[off:])
		off += size
	}
	if !strings.HasPrefix(se.Expr[off:], se.Token) {
		t.Fatalf("%q: token %q is not at column %d of %q", input, se.Token, se.Col, se.Expr)
	}
	if se.Msg == "" || se.Error() == "" {
		t.Fatalf("%q: empty message", input)
	}
	_ = se.Caret()
}

// FuzzParseSLO: the parser never panics; errors point at a token of the
// expression; what parses has a canonical form that parses back to the same
// SLO, and evaluates without panicking. The seeds (testdata/fuzz and below)
// run with every go test.
func FuzzParseSLO(f *testing.F) {
	for _, s := range []string{
		"ttft.p99<500ms", "itl.p95<=40ms", "tpot.p50<25ms", "e2e.max<30s", "error_rate<1%", "error_rate<0.01",
		"throughput.output_tokens_per_s>=2000", "goodput.ratio>=0.95", "lag.p99<5ms", "ttfb.p99.9 < 1 s",
		"error_rate.p99<1%", "ttft.p99<500", "ttft.p99<1e999ms", "ttft.p99<5e", "ttft.p99<µs", "é.p99<1ms",
	} {
		f.Add(s)
	}
	recs := analysistest.LoadFixture(f)
	a := analysis.NewAccumulator()
	for _, r := range recs {
		a.Append(r)
	}
	sum, err := a.Summary(analysistest.OpenMeta())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := analysis.ParseSLO(expr)
		if err != nil {
			checkSLOError(t, expr, err)
			return
		}
		if math.IsNaN(s.Threshold) || math.IsInf(s.Threshold, 0) || s.Threshold < 0 {
			t.Fatalf("%q: threshold %v", expr, s.Threshold)
		}
		again, err := analysis.ParseSLO(s.String())
		if err != nil {
			t.Fatalf("%q: canonical form %q does not parse: %v", expr, s.String(), err)
		}
		if again.Metric != s.Metric || again.Stat != s.Stat || again.Op != s.Op || again.Unit != s.Unit || again.Kind != s.Kind ||
			math.Abs(again.Threshold-s.Threshold) > 1e-9*math.Max(1, s.Threshold) {
			t.Fatalf("%q: %+v parses back as %+v", expr, s, again)
		}
		r := s.Eval(sum)
		if r.Expr != s.Expr || (r.Note != "" && r.Pass) {
			t.Fatalf("%q: result %+v", expr, r)
		}
		_ = analysis.FormatSLOValue(r, r.Value)
	})
}
