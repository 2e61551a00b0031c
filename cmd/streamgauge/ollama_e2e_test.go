package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/results"
)

// ollamaURL is a running Ollama server to test against, or "" (the test
// skips): STREAMGAUGE_OLLAMA_URL, else 127.0.0.1:11434 when it answers
// /api/tags with at least one model. ../shared/tools/ollama/setup.sh
// builds and starts one with a tiny random-weight model called "tiny".
func ollamaURL(t *testing.T) (url, model string) {
	t.Helper()
	url = os.Getenv("STREAMGAUGE_OLLAMA_URL")
	if url == "" {
		url = "http://127.0.0.1:11434"
	}
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url + "/api/tags")
	if err != nil {
		t.Skipf("no Ollama server at %s (%v); start one with ../shared/tools/ollama/setup.sh", url, err)
	}
	defer resp.Body.Close()
	var tags struct {
		Models []struct {
			Name string `json:"name"`
		} `json:"models"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&tags) != nil || len(tags.Models) == 0 {
		t.Skipf("Ollama at %s lists no model", url)
	}
	model = os.Getenv("STREAMGAUGE_OLLAMA_MODEL")
	if model == "" {
		model = tags.Models[0].Name
	}
	return url, model
}

// TestOllamaEndToEnd drives a real third-party server, when one runs on
// this machine, through both of its streaming APIs (native NDJSON and
// OpenAI SSE), and checks what the records say about its streams: every
// request ends, tokens arrive in frames, the output count comes from the
// server's usage, and report --as vllm reads the run.
func TestOllamaEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("a real server: not in -short")
	}
	url, model := ollamaURL(t)
	for _, api := range []string{"ollama", "openai-chat"} {
		t.Run(api, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "run")
			r := runBinary(t, nil, "run", "--target", url, "--api", api, "--model", model, "--concurrency", "2",
				"--requests", "4", "--input-tokens", "32", "--output-tokens", "16", "--timeout", "60s", "--out", out)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
			}
			recs := readRecords(t, out)
			if len(recs) != 4 {
				t.Fatalf("%d records, want 4", len(recs))
			}
			for _, rec := range recs {
				if rec.Error != nil {
					t.Fatalf("record %s: %v", rec.ID, rec.Error)
				}
				if rec.TTFTMS == nil || rec.Frames == 0 || rec.OutputTokens == 0 {
					t.Errorf("record %s: ttft %v, %d frames, %d output tokens: want a timed first token and some frames", rec.ID, rec.TTFTMS, rec.Frames, rec.OutputTokens)
				}
				if rec.OutputTokensSource != results.SourceUsage {
					t.Errorf("record %s: output tokens from %s, want the server's usage", rec.ID, rec.OutputTokensSource)
				}
				if rec.OutputTokens > 16 {
					t.Errorf("record %s: %d output tokens, above max_tokens 16", rec.ID, rec.OutputTokens)
				}
			}
			rep := runBinary(t, nil, "report", out, "--as", "vllm", "--format", "json")
			if rep.code != 0 {
				t.Fatalf("report --as vllm: exit %d\n%s", rep.code, rep.stderr)
			}
		})
	}
}
