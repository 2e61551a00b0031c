package anthropic_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/anthropic"
	"github.com/streamgauge/streamgauge/targets/targetstest"
)

// TestClient sends requests through targets.Client to a server that checks
// the headers and streams with this package's writer.
func TestClient(t *testing.T) {
	tests := []struct {
		name    string
		opts    []targets.Option
		wantKey string
	}{
		{"with key", []targets.Option{targets.WithAPIKey("k")}, "k"},
		{"without key", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			words := []string{"Hello", ",", " world"}
			srv := targetstest.WordServer(t, anthropic.Messages{}, "/v1/messages", words, func(r *http.Request, req *targets.ServerRequest, body []byte) (int, string) {
				if got := r.Header.Get("x-api-key"); got != tt.wantKey {
					return http.StatusUnauthorized, "x-api-key " + got
				}
				if _, ok := r.Header["Authorization"]; ok {
					return http.StatusBadRequest, "unexpected Authorization header"
				}
				if got := r.Header.Get("anthropic-version"); got != anthropic.Version {
					return http.StatusBadRequest, "anthropic-version " + got
				}
				if !req.Stream || req.MaxTokens != 3 || req.Prompt != "Say hello" {
					return http.StatusBadRequest, "bad body " + string(body)
				}
				return 0, ""
			})

			c, err := targets.NewClient(srv.URL, anthropic.Messages{}, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdle()
			resp := c.Do(context.Background(), &targets.Request{ID: "r1", Model: "claude-haiku-4-5", Prompt: "Say hello", MaxTokens: 3})
			if resp.Err != nil {
				t.Fatalf("Do: %+v", resp.Err)
			}
			if resp.Status != http.StatusOK {
				t.Errorf("status %d", resp.Status)
			}
			if got := resp.Content.String(); got != strings.Join(words, "") {
				t.Errorf("content %q", got)
			}
			if len(resp.Frames) != len(words) {
				t.Fatalf("%d token frames, want %d", len(resp.Frames), len(words))
			}
			for i, f := range resp.Frames {
				if f.Text != words[i] || !f.Content || f.Reasoning || f.Tokens != 0 {
					t.Errorf("frame %d = %+v", i, f)
				}
				if i > 0 && f.At < resp.Frames[i-1].At {
					t.Errorf("frame %d stamped before frame %d", i, i-1)
				}
			}
			if want := (targets.Usage{PromptTokens: 2, CompletionTokens: 3, Cached: true}); resp.Usage == nil || *resp.Usage != want {
				t.Errorf("usage %+v, want %+v", resp.Usage, want)
			}
		})
	}
}

// TestClientStreamError checks that an overloaded_error mid-stream fails the
// request as a stream error with the server's message.
func TestClientStreamError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\n"+
			"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\n"+
			"event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n")
	}))
	defer srv.Close()
	c, err := targets.NewClient(srv.URL, anthropic.Messages{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseIdle()
	resp := c.Do(context.Background(), &targets.Request{Model: "m", Prompt: "p", MaxTokens: 4})
	if resp.Err == nil || resp.Err.Kind != results.KindStream || resp.Err.Message != "overloaded_error: Overloaded" {
		t.Fatalf("err = %+v, want stream_error overloaded_error: Overloaded", resp.Err)
	}
	if len(resp.Frames) != 1 {
		t.Errorf("%d frames before the error, want 1", len(resp.Frames))
	}
}

// TestSimulator runs the built-in simulator with this protocol and reads a
// stream from it end to end.
func TestSimulator(t *testing.T) {
	targetstest.CheckSimulator(t, anthropic.Messages{}, targets.WithAPIKey("k"))
}
