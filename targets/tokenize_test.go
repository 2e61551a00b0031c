package targets_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		name     string
		shape    string
		in       targets.TokenizeInput
		answer   string
		status   int
		wantBody string // a substring of the body sent
		want     int
		wantErr  string
		missing  bool
	}{
		{name: "vllm prompt", shape: targets.TokenizeVLLM, in: targets.TokenizeInput{Model: "m", Text: "hi there", Special: true},
			answer: `{"count":3,"max_model_len":8192,"tokens":[1,2,3]}`, wantBody: `"prompt":"hi there","add_special_tokens":true`, want: 3},
		{name: "vllm messages", shape: targets.TokenizeVLLM, in: targets.TokenizeInput{Model: "m", Messages: []targets.Message{{Role: "user", Content: "hi"}}},
			answer: `{"count":12,"max_model_len":8192,"tokens":[]}`, wantBody: `"messages":[{"role":"user","content":"hi"}],"add_generation_prompt":true`, want: 12},
		{name: "sglang without count", shape: targets.TokenizeVLLM, in: targets.TokenizeInput{Text: "a"},
			answer: `{"tokens":[5,6]}`, want: 2},
		{name: "llama.cpp ids", shape: targets.TokenizeLlamaCpp, in: targets.TokenizeInput{Text: "hi", Special: true},
			answer: `{"tokens":[1,22,33]}`, wantBody: `{"content":"hi","add_special":true}`, want: 3},
		{name: "llama.cpp pieces", shape: targets.TokenizeLlamaCpp, in: targets.TokenizeInput{Text: "hi"},
			answer: `{"tokens":[{"id":22,"piece":"hi"}]}`, want: 1},
		{name: "llama.cpp messages joined", shape: targets.TokenizeLlamaCpp, in: targets.TokenizeInput{Messages: []targets.Message{{Role: "system", Content: "a"}, {Role: "user", Content: "b"}}},
			answer: `{"tokens":[1,2,3]}`, wantBody: `"content":"a\nb"`, want: 3},
		{name: "tgi", shape: targets.TokenizeTGI, in: targets.TokenizeInput{Text: "hi you"},
			answer: `[{"id":1,"text":"hi","start":0,"stop":2},{"id":2,"text":" you","start":2,"stop":6}]`, wantBody: `{"inputs":"hi you"}`, want: 2},
		{name: "404", shape: targets.TokenizeVLLM, status: 404, answer: `{"detail":"Not Found"}`, missing: true, wantErr: "/prefix/tokenize answered 404"},
		{name: "405", shape: targets.TokenizeTGI, status: 405, missing: true, wantErr: "answered 405"},
		{name: "501", shape: targets.TokenizeLlamaCpp, status: 501, missing: true, wantErr: "answered 501"},
		{name: "500", shape: targets.TokenizeVLLM, status: 500, answer: `{"error":"boom"}`, wantErr: `answered 500: {"error":"boom"}`},
		{name: "not json", shape: targets.TokenizeVLLM, answer: `<html>`, wantErr: "not a tokenize response"},
		{name: "no count", shape: targets.TokenizeVLLM, answer: `{}`, wantErr: `neither "count" nor "tokens"`},
		{name: "negative", shape: targets.TokenizeVLLM, answer: `{"count":-1}`, wantErr: "negative"},
		{name: "unknown shape", shape: "nope", wantErr: "unknown shape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body, auth string
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/prefix/tokenize" || r.Method != http.MethodPost {
					http.NotFound(w, r)
					return
				}
				b, _ := io.ReadAll(r.Body)
				body, auth = string(b), r.Header.Get("Authorization")
				if tt.status != 0 {
					w.WriteHeader(tt.status)
				}
				io.WriteString(w, tt.answer)
			}))
			defer ts.Close()
			c, err := targets.NewClient(ts.URL+"/prefix", openai.Chat{}, targets.WithAPIKey("sk-test-key"))
			if err != nil {
				t.Fatal(err)
			}
			n, err := c.Tokenize(context.Background(), tt.shape, tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				if errors.Is(err, targets.ErrNoTokenize) != tt.missing {
					t.Errorf("errors.Is(ErrNoTokenize) = %v, want %v", !tt.missing, tt.missing)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if n != tt.want {
				t.Errorf("count %d, want %d", n, tt.want)
			}
			if !strings.Contains(body, tt.wantBody) || !json.Valid([]byte(body)) {
				t.Errorf("body %s, want it to contain %s", body, tt.wantBody)
			}
			if auth != "Bearer sk-test-key" {
				t.Errorf("Authorization %q: the tokenize request must carry the key", auth)
			}
		})
	}
}

func TestTokenizeShape(t *testing.T) {
	for api, want := range map[string]string{"openai-chat": "vllm", "openai-completions": "vllm", "llamacpp": "llamacpp", "tgi": "tgi", "ollama": "vllm"} {
		if got := targets.TokenizeShape(api); got != want {
			t.Errorf("TokenizeShape(%s) = %s, want %s", api, got, want)
		}
	}
}

// FuzzParseTokenizeResponse: any answer gives a count or an error, never a
// panic or a negative count.
func FuzzParseTokenizeResponse(f *testing.F) {
	for _, s := range []string{`{"count":3,"max_model_len":10,"tokens":[1,2,3]}`, `{"tokens":[{"id":1,"piece":"a"}]}`,
		`[{"id":1,"text":"a","start":0,"stop":1}]`, `{}`, `[]`, `null`, `{"count":-5}`} {
		for _, shape := range []string{targets.TokenizeVLLM, targets.TokenizeLlamaCpp, targets.TokenizeTGI} {
			f.Add(shape, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, shape string, data []byte) {
		n, err := targets.ParseTokenizeResponse(shape, data)
		if err == nil && n < 0 {
			t.Fatalf("count %d for %q", n, data)
		}
	})
}
