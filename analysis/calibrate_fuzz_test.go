package analysis_test

import (
	"math"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
)

// FuzzParseStepTiming feeds the step-timing parser arbitrary bytes: it
// must return an error or points a fit can use, never panic.
func FuzzParseStepTiming(f *testing.F) {
	f.Add([]byte(`{"prefill":[{"batch":1,"tokens":128,"ms":20.3}],"decode":[{"batch":8,"context":512,"ms":24.4}]}`))
	f.Add([]byte(`{"decode":[{"batch":1,"context":0,"ms":1e-3}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := analysis.ParseStepTiming("fuzz.json", data)
		if err != nil {
			return
		}
		for _, o := range st.Observations("fuzz", 0) {
			if !(o.MS > 0) || math.IsInf(o.MS, 0) || o.Tokens < 1 || o.Context < 0 || o.Decodes < 0 {
				t.Fatalf("bad observation %+v", o)
			}
		}
	})
}
