package main

import (
	"path/filepath"
	"testing"

	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets/apis"
)

// TestEveryAPIEndToEnd runs the binary against the built-in simulator
// speaking each API and checks ttft, token counts and usage in the records.
func TestEveryAPIEndToEnd(t *testing.T) {
	for _, api := range apis.Names() {
		t.Run(api, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "run")
			r := runBinary(t, nil, "run", "--api", api, "--model", "sim-model", "--rate", "50", "--requests", "12",
				"--input-tokens", "uniform:20,60", "--output-tokens", "9", "--sim-ttft", "15ms", "--sim-itl", "2ms", "--out", out)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			recs := readRecords(t, out)
			if len(recs) != 12 {
				t.Fatalf("%d records, want 12", len(recs))
			}
			for _, rec := range recs {
				if rec.Error != nil {
					t.Fatalf("record %s: %v", rec.ID, rec.Error)
				}
				if rec.TTFTMS == nil || *rec.TTFTMS < 15 {
					t.Errorf("record %s: ttft %v, want >= the simulator's 15 ms", rec.ID, rec.TTFTMS)
				}
				if rec.OutputTokens != 9 || rec.Frames != 9 {
					t.Errorf("record %s: %d output tokens (%s) in %d frames, want 9 in 9", rec.ID, rec.OutputTokens, rec.OutputTokensSource, rec.Frames)
				}
				wantSource := results.SourceUsage
				if api == "triton" { // Triton streams report no usage
					wantSource = results.SourceTokenizer
				}
				if rec.OutputTokensSource != wantSource {
					t.Errorf("record %s: output tokens from %s, want %s", rec.ID, rec.OutputTokensSource, wantSource)
				}
				if rec.UsageOutputTokens != nil && *rec.UsageOutputTokens != 9 {
					t.Errorf("record %s: usage says %d tokens, want 9", rec.ID, *rec.UsageOutputTokens)
				}
				if rec.TokenizerOutputTokens == nil || *rec.TokenizerOutputTokens != 9 {
					t.Errorf("record %s: tokenizer counted %v, want 9", rec.ID, rec.TokenizerOutputTokens)
				}
			}
		})
	}
}
