package loadgen_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/anthropic"
	"github.com/streamgauge/streamgauge/targets/llamacpp"
	"github.com/streamgauge/streamgauge/targets/ollama"
	"github.com/streamgauge/streamgauge/targets/openai"
	"github.com/streamgauge/streamgauge/targets/sim"
	"github.com/streamgauge/streamgauge/targets/targetstest"
	"github.com/streamgauge/streamgauge/targets/tgi"
)

// serverProtocol is a protocol with both sides, for the simulator.
type serverProtocol interface {
	targets.Protocol
	targets.ServerProtocol
}

// TestServerAccountEndToEnd sends requests to the simulator with each API,
// through the client, NewRecord and the summary, and checks that what the
// simulator's API reports about each request (its input count, its
// timings, its request id) reaches the records and the summary. What the
// simulator reports beyond that (cached tokens, say) is checked where it is
// reported; a field the API carries must never be lost on the way.
func TestServerAccountEndToEnd(t *testing.T) {
	tests := []struct {
		proto serverProtocol
		// What the record must carry.
		input, prefill, decode, id bool
	}{
		{proto: openai.Chat{}, input: true, id: true},
		{proto: openai.Completions{}, input: true, id: true},
		{proto: openai.Responses{}, input: true, id: true},
		{proto: anthropic.Messages{}, input: true, id: true},
		{proto: ollama.API{}, input: true, prefill: true, decode: true},
		{proto: llamacpp.Completion{}, input: true, prefill: true, decode: true},
		{proto: tgi.GenerateStream{}, input: true},
	}
	for _, tc := range tests {
		t.Run(tc.proto.Name(), func(t *testing.T) {
			ts := targetstest.NewServer(t, tc.proto, sim.Fixed{TTFT: time.Millisecond, ITL: 100 * time.Microsecond})
			c, err := targets.NewClient(ts.URL, tc.proto)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdle()
			start := time.Now()
			acc := analysis.NewAccumulator()
			const n = 3
			for i := range n {
				id := fmt.Sprintf("r%d", i)
				// The simulator counts one prompt token per word: four.
				req := &targets.Request{ID: id, Model: "sim", Prompt: "one two three four", InputTokens: 4, MaxTokens: 5}
				resp := c.Do(context.Background(), req)
				if resp.Err != nil {
					t.Fatalf("Do: %+v", resp.Err)
				}
				r := loadgen.NewRecord(id, start, 0, req, resp, nil)
				checkAccount(t, r, tc.input, tc.prefill, tc.decode, tc.id)
				if err := acc.Append(r); err != nil {
					t.Fatal(err)
				}
			}
			s, err := acc.Summary(analysis.RunMeta{})
			if err != nil {
				t.Fatal(err)
			}
			sv := s.Server
			if sv == nil {
				t.Fatal("summary has no server block")
			}
			if tc.input && (sv.InputTokensReported != n || sv.InputTokensCompared != n) {
				t.Errorf("input tokens reported %d, compared %d; want %d", sv.InputTokensReported, sv.InputTokensCompared, n)
			}
			if _, ok := sv.Timings[analysis.ServerPrefill]; ok != tc.prefill {
				t.Errorf("prefill in the summary: %v, want %v (%+v)", ok, tc.prefill, sv.Timings)
			}
			if st, ok := sv.Timings[analysis.ServerTTFTMinusPrefill]; tc.prefill && (!ok || st.Count != n) {
				t.Errorf("ttft less prefill %+v, want %d samples", st, n)
			}
			if tc.id && sv.RequestIDsReported != n {
				t.Errorf("request ids reported %d, want %d", sv.RequestIDsReported, n)
			}
		})
	}
}

// checkAccount fails t unless r carries the server's account fields the
// API reports.
func checkAccount(t *testing.T, r *results.Record, input, prefill, decode, id bool) {
	t.Helper()
	if (r.ServerInputTokens != nil) != input || (input && *r.ServerInputTokens <= 0) {
		t.Errorf("server_input_tokens %v, want reported %v", r.ServerInputTokens, input)
	}
	if (r.ServerPrefillMS != nil) != prefill {
		t.Errorf("server_prefill_ms %v, want reported %v", r.ServerPrefillMS, prefill)
	}
	if (r.ServerDecodeMS != nil) != decode {
		t.Errorf("server_decode_ms %v, want reported %v", r.ServerDecodeMS, decode)
	}
	if (r.ServerRequestID != "") != id {
		t.Errorf("server_request_id %q, want reported %v", r.ServerRequestID, id)
	}
	if r.InputTokensSource != "" {
		t.Errorf("input_tokens_source %q: the request had its own count", r.InputTokensSource)
	}
}
