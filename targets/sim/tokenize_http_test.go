package sim_test

import (
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/targets/openai"
	"github.com/streamgauge/streamgauge/targets/sim"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/NAME, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs:\n got: %s\nwant: %s", name, got, want)
	}
}

// TestTokenizeEndpoint answers each server's tokenize body in that server's
// shape (golden files), counted with the simulator's tokenizer.
func TestTokenizeEndpoint(t *testing.T) {
	srv, err := sim.New(sim.WithProtocols(openai.Chat{}))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	tests := []struct {
		name, body string
		status     int
	}{
		{"vllm-prompt", `{"model":"sim","prompt":"Hello, streaming inference!","add_special_tokens":true}`, 200},
		{"vllm-messages", `{"model":"sim","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi there"}],"add_generation_prompt":true}`, 200},
		{"llamacpp", `{"content":"Hello, streaming inference!"}`, 200},
		{"llamacpp-pieces", `{"content":"Hello 42","with_pieces":true}`, 200},
		{"tgi", `{"inputs":"Hello, streaming inference!"}`, 200},
		{"empty", `{}`, 400},
		{"not-json", `{`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(ts.URL+"/tokenize", "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, got)
			}
			if tt.status == 200 {
				golden(t, filepath.Join("tokenize", tt.name+".json"), got)
			}
		})
	}
	if n := sim.CountTokens("Hello, streaming inference!"); n != 7 {
		t.Errorf("CountTokens = %d, want 7 (Hello , streamin g inferenc e !)", n)
	}
}
