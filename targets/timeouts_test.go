package targets_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/internal/secret"
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

// TestErrorMessagesMaskSecrets: whatever a server quotes back (in a 4xx
// body, a stream error event, a Retry-After), and whatever a Go error
// quotes (the URL), no header value outside the harmless allow-list, API
// key or URL credential reaches the error; harmless values and the
// message itself stay readable.
func TestErrorMessagesMaskSecrets(t *testing.T) {
	echo := func(w http.ResponseWriter, r *http.Request) string {
		return fmt.Sprintf("got key=%s gw=%s custom=%s token=%s ua=%s", r.Header.Get("Authorization"), r.Header.Get("Cf-Aig-Authorization"),
			r.Header.Get("X-Custom"), r.Header.Get("X-Token"), r.Header.Get("User-Agent"))
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		target  func(srv string) string
	}{
		{"4xx body", func(w http.ResponseWriter, r *http.Request) { http.Error(w, echo(w, r), http.StatusUnauthorized) }, nil},
		{"stream error event", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			b, _ := json.Marshal(echo(w, r))
			fmt.Fprintf(w, "data: {\"error\":{\"message\":%s}}\n\n", b)
		}, nil},
		{"429 retry-after", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", r.Header.Get("X-Custom"))
			http.Error(w, echo(w, r), http.StatusTooManyRequests)
		}, nil},
		{"bad frame quoted", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprintf(w, "data: {not json %s\n\n", r.Header.Get("X-Custom"))
		}, nil},
		{"body cut inside the key", func(w http.ResponseWriter, r *http.Request) {
			// The client keeps the first 2048 bytes: the value's first 11.
			http.Error(w, strings.Repeat("x", 2048-11)+r.Header.Get("X-Custom"), http.StatusUnauthorized)
		}, nil},
		{"frame clipped inside the key", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			// The message quotes the frame's first 120 bytes: the value's first 11.
			fmt.Fprintf(w, "data: {%s%s\n\n", strings.Repeat("x", 120-1-11), r.Header.Get("X-Custom"))
		}, nil},
		{"url credentials in a connect error", nil, func(string) string { return "http://bench:url-SECRET-pw@" + closedAddr(t) + "/?key=q-SECRET-1" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := ""
			if tt.handler != nil {
				srv := httptest.NewServer(tt.handler)
				defer srv.Close()
				target = srv.URL
			}
			if tt.target != nil {
				target = tt.target(target)
			}
			c, err := targets.NewClient(target, openai.Chat{}, targets.WithAPIKey("sk-key-SECRET-0123456789"),
				targets.WithHeader("cf-aig-authorization", "Bearer gw-SECRET-1"), targets.WithHeader("X-Custom", "custom-SECRET-1"),
				targets.WithSecretHeader("X-Token", "tok-SECRET"), targets.WithHeader("User-Agent", "bench-ua/1"))
			if err != nil {
				t.Fatal(err)
			}
			resp := c.Do(context.Background(), &targets.Request{Model: "m", Prompt: "p"})
			if resp.Err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(resp.Err.Message+resp.Err.RetryAfter, "SECRET") {
				t.Errorf("a secret is in the error: %+v", resp.Err)
			}
			if strings.Contains(resp.Err.Message, "custom-SEC") || strings.Contains(resp.Err.Message, "-0123") {
				t.Errorf("the start of a secret is in the error: %q", resp.Err.Message)
			}
			echoed := strings.HasPrefix(tt.name, "4xx") || strings.HasPrefix(tt.name, "stream") || strings.HasPrefix(tt.name, "429")
			if echoed && (!strings.Contains(resp.Err.Message, "ua=bench-ua/1") || !strings.Contains(resp.Err.Message, "custom="+secret.Mask("custom-SECRET-1"))) {
				t.Errorf("the message lost its harmless or hashed parts: %q", resp.Err.Message)
			}
		})
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

// TestConfigErrorsQuoteNoSecret: a client given a wrong target or header
// names it without the credential in it.
func TestConfigErrorsQuoteNoSecret(t *testing.T) {
	tests := []struct {
		name string
		base string
		opts []targets.Option
	}{
		{"target not http", "ftp://u:pw-SECRET@h", nil},
		{"header with the colon inside the name", "http://127.0.0.1:1", []targets.Option{targets.WithHeader("Authorization: Bearer tok-SECRET", "")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := targets.NewClient(tt.base, openai.Chat{}, tt.opts...)
			if err == nil || strings.Contains(err.Error(), "SECRET") {
				t.Errorf("NewClient = %v, want an error without the secret", err)
			}
		})
	}
}
