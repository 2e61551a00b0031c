package openai_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
	"github.com/streamgauge/streamgauge/targets/targetstest"
)

// TestResponsesClient sends a request through targets.Client to a server that
// checks it and streams with this package's writer.
func TestResponsesClient(t *testing.T) {
	words := []string{"Hello", ",", " world"}
	srv := targetstest.WordServer(t, openai.Responses{}, "/v1/responses", words, func(r *http.Request, req *targets.ServerRequest, body []byte) (int, string) {
		if got := r.Header.Get("Authorization"); got != "Bearer k" {
			return http.StatusUnauthorized, "Authorization " + got
		}
		if !req.Stream || req.MaxTokens != 3 || req.Prompt != "Say hello" {
			return http.StatusBadRequest, "bad body " + string(body)
		}
		return 0, ""
	})

	c, err := targets.NewClient(srv.URL, openai.Responses{}, targets.WithAPIKey("k"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdle()
	resp := c.Do(context.Background(), &targets.Request{ID: "r1", Model: "gpt-4.1", Prompt: "Say hello", MaxTokens: 3})
	if resp.Err != nil {
		t.Fatalf("Do: %+v", resp.Err)
	}
	if got := resp.Content.String(); got != strings.Join(words, "") {
		t.Errorf("content %q", got)
	}
	if len(resp.Frames) != len(words) {
		t.Fatalf("%d token frames, want %d", len(resp.Frames), len(words))
	}
	for i, f := range resp.Frames {
		if f.Text != words[i] || !f.Content || f.Reasoning {
			t.Errorf("frame %d = %+v", i, f)
		}
	}
	if want := (targets.Usage{PromptTokens: 2, CompletionTokens: 3, Cached: true}); resp.Usage == nil || *resp.Usage != want {
		t.Errorf("usage %+v, want %+v", resp.Usage, want)
	}
}

// TestResponsesClientEnds checks how the client classifies the ways a
// Responses stream can end.
func TestResponsesClientEnds(t *testing.T) {
	const head = "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"status\":\"in_progress\"}}\n\n" +
		"event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Hi\"}\n\n"
	tests := []struct {
		name     string
		tail     string
		wantKind results.ErrorKind // "" for success
		wantMsg  string
	}{
		{"completed", "event: response.completed\ndata: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\",\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\n", "", ""},
		{"capped", "event: response.incomplete\ndata: {\"type\":\"response.incomplete\",\"response\":{\"status\":\"incomplete\",\"incomplete_details\":{\"reason\":\"max_output_tokens\"},\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\n", "", ""},
		{"error event", "event: error\ndata: {\"type\":\"error\",\"code\":\"server_error\",\"message\":\"boom\",\"param\":null}\n\n", results.KindStream, "server_error: boom"},
		{"failed", "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"died\"}}}\n\n", results.KindStream, "server_error: died"},
		{"no terminal event", "", results.KindStream, "stream ended without its terminator"},
		{"bad JSON", "event: response.completed\ndata: {\n\n", results.KindProtocol, "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				io.WriteString(w, head+tt.tail)
			}))
			defer srv.Close()
			c, err := targets.NewClient(srv.URL, openai.Responses{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdle()
			resp := c.Do(context.Background(), &targets.Request{Model: "m", Prompt: "p"})
			switch {
			case tt.wantKind == "" && resp.Err != nil:
				t.Fatalf("err = %+v, want none", resp.Err)
			case tt.wantKind != "" && (resp.Err == nil || resp.Err.Kind != tt.wantKind || !strings.Contains(resp.Err.Message, tt.wantMsg)):
				t.Fatalf("err = %+v, want %s containing %q", resp.Err, tt.wantKind, tt.wantMsg)
			}
			if len(resp.Frames) != 1 {
				t.Errorf("%d token frames, want 1", len(resp.Frames))
			}
		})
	}
}

// TestResponsesSimulator runs the built-in simulator with this protocol and
// reads a stream from it end to end.
func TestResponsesSimulator(t *testing.T) {
	targetstest.CheckSimulator(t, openai.Responses{})
}
