package sim_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/targets/apis"
	"github.com/streamgauge/streamgauge/targets/sim"
)

// volatile matches the fields that change from run to run: times and
// durations (their values are the cost model's, checked elsewhere).
var volatile = regexp.MustCompile(`"(created|created_at|total_duration|prompt_eval_duration|eval_duration|prompt_ms|prompt_per_token_ms|prompt_per_second|predicted_ms|predicted_per_token_ms|predicted_per_second)":("[^"]*"|[0-9.e+-]+)`)

// TestUsageGolden records, per protocol, the stream of a request whose
// prompt the prefix cache partly holds (an identical request went first):
// each reports the prompt's tokens, the cached ones and the prompt's timing
// in its own fields (golden files in testdata/usage).
func TestUsageGolden(t *testing.T) {
	// 40 one-token words: two 16-token blocks are cached after the first
	// request.
	words := make([]string, 40)
	for i := range words {
		words[i] = "w" + string(rune('a'+i/26)) + string(rune('a'+i%26))
	}
	p := strings.Join(words, " ")
	bodies := map[string]struct{ path, body string }{
		"openai-chat":        {"/v1/chat/completions", `{"model":"sim","messages":[{"role":"user","content":%q}],"stream":true,"max_tokens":3,"stream_options":{"include_usage":true}}`},
		"openai-completions": {"/v1/completions", `{"model":"sim","prompt":%q,"stream":true,"max_tokens":3,"stream_options":{"include_usage":true}}`},
		"openai-responses":   {"/v1/responses", `{"model":"sim","input":%q,"stream":true,"max_output_tokens":3}`},
		"anthropic":          {"/v1/messages", `{"model":"sim","max_tokens":3,"messages":[{"role":"user","content":%q}],"stream":true}`},
		"ollama":             {"/api/generate", `{"model":"sim","prompt":%q,"options":{"num_predict":3}}`},
		"llamacpp":           {"/completion", `{"prompt":%q,"n_predict":3,"stream":true}`},
		"tgi":                {"/generate_stream", `{"inputs":%q,"parameters":{"max_new_tokens":3,"details":true}}`},
	}
	for api, b := range bodies {
		t.Run(api, func(t *testing.T) {
			cfg := config(sim.SchedContinuous, func(c *sim.Config) { c.PrefixCache, c.BlockTokens = true, 16 })
			srv, err := sim.New(sim.WithConfig(cfg), sim.WithProtocols(apis.Servers()...))
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			var last string
			for i := range 2 {
				req, _ := http.NewRequest(http.MethodPost, ts.URL+b.path, strings.NewReader(fmt.Sprintf(b.body, p)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Request-Id", fmt.Sprintf("req-%d", i))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				data, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d: %s", resp.StatusCode, data)
				}
				last = string(data)
			}
			if n := sim.CountTokens(p); n != 40 {
				t.Fatalf("prompt has %d tokens, want 40", n)
			}
			got := volatile.ReplaceAllString(last, `"$1":0`)
			golden(t, "usage/"+api+".txt", []byte(got))
		})
	}
}
