package targets_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
)

// TestPhaseTimeouts checks that each phase's timeout fails the request with
// kind timeout and a message naming the flag, and keeps frames read before.
func TestPhaseTimeouts(t *testing.T) {
	const chunk = "data: {\"choices\":[{\"delta\":{\"content\":\" a\"}}]}\n\n"
	tests := []struct {
		name     string
		timeouts targets.Timeouts
		handler  func(w http.ResponseWriter, r *http.Request)
		want     string
		frames   int
	}{
		{"ttfb", targets.Timeouts{FirstByte: 50 * time.Millisecond}, func(w http.ResponseWriter, r *http.Request) {
			hold(r)
		}, "--ttfb-timeout", 0},
		{"ttft", targets.Timeouts{FirstToken: 50 * time.Millisecond}, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, ": keep-alive\n\n")
			w.(http.Flusher).Flush()
			hold(r)
		}, "--ttft-timeout", 0},
		{"idle", targets.Timeouts{FirstToken: time.Second, Idle: 50 * time.Millisecond}, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, chunk+chunk)
			w.(http.Flusher).Flush()
			hold(r)
		}, "--idle-timeout", 2},
		{"idle without ttft", targets.Timeouts{Idle: 50 * time.Millisecond}, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, chunk)
			w.(http.Flusher).Flush()
			hold(r)
		}, "--idle-timeout", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(tc.handler))
			defer srv.Close()
			c, err := targets.NewClient(srv.URL, openai.Chat{}, targets.WithTimeouts(tc.timeouts))
			if err != nil {
				t.Fatal(err)
			}
			resp := c.Do(context.Background(), &targets.Request{Model: "m", Prompt: "p", MaxTokens: 4})
			if resp.Err == nil || resp.Err.Kind != results.KindTimeout || !strings.Contains(resp.Err.Message, tc.want) {
				t.Fatalf("err = %+v, want timeout naming %s", resp.Err, tc.want)
			}
			if len(resp.Frames) != tc.frames {
				t.Errorf("%d frames kept, want %d", len(resp.Frames), tc.frames)
			}
		})
	}
}

// hold keeps a handler open until the client goes away, or a second passes
// (a server does not always notice a client that gave up).
func hold(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(time.Second):
	}
}

// TestSlowButSteadyStreamIsNotIdle: an idle timeout shorter than the whole
// stream but longer than every gap must not fire.
func TestSlowButSteadyStreamIsNotIdle(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; i < 6; i++ {
			io.WriteString(w, "data: {\"choices\":[{\"delta\":{\"content\":\" a\"}}]}\n\n")
			w.(http.Flusher).Flush()
			time.Sleep(20 * time.Millisecond)
		}
		io.WriteString(w, "data: [DONE]\n\n")
	}))
	defer srv.Close()
	c, _ := targets.NewClient(srv.URL, openai.Chat{}, targets.WithTimeouts(targets.Timeouts{FirstToken: time.Second, Idle: 500 * time.Millisecond}))
	resp := c.Do(context.Background(), &targets.Request{Model: "m", Prompt: "p"})
	if resp.Err != nil || len(resp.Frames) != 6 {
		t.Fatalf("err %v, %d frames", resp.Err, len(resp.Frames))
	}
}

// TestSecretHeaderRedacted: a credential given as a header is redacted from
// error messages, as the API key is.
func TestSecretHeaderRedacted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad token "+r.Header.Get("X-Token"), http.StatusUnauthorized)
	}))
	defer srv.Close()
	c, _ := targets.NewClient(srv.URL, openai.Chat{}, targets.WithSecretHeader("X-Token", "tok-SECRET"))
	resp := c.Do(context.Background(), &targets.Request{Model: "m", Prompt: "p"})
	if resp.Err == nil || strings.Contains(resp.Err.Message, "tok-SECRET") || !strings.Contains(resp.Err.Message, "[redacted]") {
		t.Fatalf("err = %+v", resp.Err)
	}
}

func TestCACertErrors(t *testing.T) {
	if _, err := targets.NewClient("https://127.0.0.1:1", openai.Chat{}, targets.WithTLS(false, "/no/such/ca.pem")); err == nil || !strings.Contains(err.Error(), "ca-cert") {
		t.Errorf("missing CA file: %v", err)
	}
}

// TestNotStreamingSuggestsAPI: a plain JSON reply is a protocol error that
// says the endpoint did not stream and names the API the reply looks like.
func TestNotStreamingSuggestsAPI(t *testing.T) {
	for body, want := range map[string]string{
		`{"id":"x","object":"chat.completion","choices":[]}`: "--api openai-chat",
		`{"type":"message","content":[]}`:                    "--api anthropic",
		`{"generated_text":"hi"}`:                            "--api tgi",
		`{"model":"m","response":"hi","done":true}`:          "--api ollama",
		`not json`: "check --api (openai-completions)",
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, body)
		}))
		c, _ := targets.NewClient(srv.URL, openai.Completions{})
		resp := c.Do(context.Background(), &targets.Request{Model: "m", Prompt: "p"})
		srv.Close()
		if resp.Err == nil || resp.Err.Kind != results.KindProtocol || !strings.Contains(resp.Err.Message, "did not stream") || !strings.Contains(resp.Err.Message, want) {
			t.Errorf("reply %s: err %+v, want protocol error with %q", body, resp.Err, want)
		}
	}
}
