package anthropic_test

import (
	"flag"
	"io"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/anthropic"
	"github.com/streamgauge/streamgauge/targets/targetstest"
)

var update = flag.Bool("update", false, "rewrite the golden files and the fuzz seed corpus in testdata")

// decodeStream reads a whole stream as the client does (see
// targetstest.DecodeStream).
func decodeStream(t testing.TB, r io.Reader) targetstest.Stream {
	t.Helper()
	return targetstest.DecodeStream(t, anthropic.Messages{}, r)
}

// TestGolden decodes every testdata/NAME.sse and compares the transcript with
// NAME.golden.json. Each stream is also read one byte at a time and in
// halves, which must not change what it means. With -update it rewrites the golden files and
// the fuzz seed corpus (testdata/fuzz/FuzzDecode/NAME) from the streams.
func TestGolden(t *testing.T) {
	targetstest.StreamGolden(t, anthropic.Messages{}, targetstest.StreamGoldenOptions{
		Patterns: []string{filepath.Join("testdata", "*.sse")}, Seeds: true, Update: *update})
}

// TestDecodeFrames covers single frames whose meaning the golden streams do
// not show on their own.
func TestDecodeFrames(t *testing.T) {
	targetstest.CheckFrames(t, anthropic.Messages{}, []targetstest.FrameCase{
		{Name: "ping", Event: "ping", Data: `{"type": "ping"}`},
		{Name: "signature is not a token", Event: "content_block_delta",
			Data: `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"abc"}}`},
		{Name: "error overloaded", Event: "error",
			Data: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			Want: targets.Event{Err: "overloaded_error: Overloaded"}},
		{Name: "error type only", Event: "error", Data: `{"type":"error","error":{"type":"api_error"}}`,
			Want: targets.Event{Err: "api_error"}},
		{Name: "error message only", Event: "error", Data: `{"type":"error","error":{"message":"boom"}}`,
			Want: targets.Event{Err: "boom"}},
		{Name: "error string", Event: "error", Data: `{"type":"error","error":"boom"}`,
			Want: targets.Event{Err: "boom"}},
		{Name: "error without error", Event: "error", Data: `{"type":"error"}`,
			Want: targets.Event{Err: "error event without details"}},
		{Name: "error odd shape", Event: "error", Data: `{"type":"error","error":[1]}`,
			Want: targets.Event{Err: "error event without details: [1]"}},
		{Name: "error from data type", Data: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			Want: targets.Event{Err: "overloaded_error: Overloaded"}},
		{Name: "untyped error envelope", Data: `{"error":{"type":"rate_limit_error","message":"slow down"}}`,
			Want: targets.Event{Err: "rate_limit_error: slow down"}},
		{Name: "event line wins over data type", Event: "message_stop", Data: `{"type":"ping"}`,
			Want: targets.Event{Done: true}},
		{Name: "message_delta without usage", Event: "message_delta",
			Data: `{"type":"message_delta","delta":{"stop_reason":"end_turn"}}`},
		{Name: "message_delta null usage", Event: "message_delta",
			Data: `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":null}`},
		{Name: "message_delta usage", Event: "message_delta",
			Data: `{"type":"message_delta","usage":{"output_tokens":7}}`,
			Want: targets.Event{Usage: &targets.Usage{CompletionTokens: 7}}},
		{Name: "null data", Event: "ping", Data: `null`},
		{Name: "invalid JSON", Event: "content_block_delta", Data: `{"type":`, WantErr: "invalid JSON"},
		{Name: "empty data", Event: "content_block_delta", Data: ``, WantErr: "invalid JSON"},
		{Name: "not an object", Event: "ping", Data: `[1,2]`, WantErr: "invalid JSON"},
		{Name: "type not a string", Data: `{"type":1}`, WantErr: "invalid JSON"},
		{Name: "delta not an object", Event: "content_block_delta",
			Data: `{"type":"content_block_delta","delta":"x"}`, WantErr: "delta:"},
		{Name: "usage not a number", Event: "message_delta",
			Data: `{"type":"message_delta","usage":{"output_tokens":"7"}}`, WantErr: "usage:"},
		{Name: "usage fraction", Event: "message_delta",
			Data: `{"type":"message_delta","usage":{"output_tokens":7.5}}`, WantErr: "usage:"},
		{Name: "negative input tokens", Event: "message_start",
			Data: `{"type":"message_start","message":{"usage":{"input_tokens":-1}}}`, WantErr: "message.usage.input_tokens -1"},
		{Name: "message not an object", Event: "message_start",
			Data: `{"type":"message_start","message":3}`, WantErr: "message:"},
	})
}

// TestRejectedUsageKeepsState checks that a message_delta rejected for a
// negative count does not leave part of its counts behind.
func TestRejectedUsageKeepsState(t *testing.T) {
	dec := anthropic.Messages{}.NewDecoder()
	frames := []string{
		`{"type":"message_start","message":{"usage":{"input_tokens":10,"output_tokens":1}}}`,
		`{"type":"message_delta","usage":{"input_tokens":99,"output_tokens":-1}}`,
		`{"type":"message_delta","usage":{"output_tokens":5}}`,
	}
	var ev targets.Event
	for i, d := range frames {
		ev = targets.Event{}
		err := dec.Decode(&targets.Frame{Data: []byte(d)}, &ev)
		if (err != nil) != (i == 1) {
			t.Fatalf("frame %d: error %v", i, err)
		}
	}
	if want := (targets.Usage{PromptTokens: 10, CompletionTokens: 5}); ev.Usage == nil || *ev.Usage != want {
		t.Errorf("usage = %+v, want %+v", ev.Usage, want)
	}
}

func TestBody(t *testing.T) {
	tests := []struct {
		name string
		req  targets.Request
		want string
	}{
		{"prompt", targets.Request{Model: "claude-haiku-4-5", Prompt: "Hello", MaxTokens: 64, IgnoreEOS: true},
			`{"model":"claude-haiku-4-5","max_tokens":64,"messages":[{"role":"user","content":"Hello"}],"stream":true}`},
		{"no cap", targets.Request{Model: "m", Prompt: "Hi"},
			`{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"Hi"}],"stream":true}`},
		{"system moves up", targets.Request{Model: "m", MaxTokens: 8, Messages: []targets.Message{
			{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Q1"},
			{Role: "assistant", Content: "A1"}, {Role: "system", Content: "Be kind."}, {Role: "user", Content: "Q2"}}},
			`{"model":"m","max_tokens":8,"system":"Be brief.\n\nBe kind.","messages":[{"role":"user","content":"Q1"},{"role":"assistant","content":"A1"},{"role":"user","content":"Q2"}],"stream":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := anthropic.Messages{}.Body(&tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Body =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		preset  string // an anthropic-version the user set
		wantKey string
		wantVer string
	}{
		{"key", "sk-ant-1", "", "sk-ant-1", anthropic.Version},
		{"no key", "", "", "", anthropic.Version},
		{"user version kept", "k", "2099-01-01", "k", "2099-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.preset != "" {
				h.Set("anthropic-version", tt.preset)
			}
			anthropic.Messages{}.Authorize(h, tt.key)
			if got := h.Get("x-api-key"); got != tt.wantKey {
				t.Errorf("x-api-key = %q, want %q", got, tt.wantKey)
			}
			if got := h.Get("anthropic-version"); got != tt.wantVer {
				t.Errorf("anthropic-version = %q, want %q", got, tt.wantVer)
			}
			if h.Get("Authorization") != "" {
				t.Error("Authorization set; Anthropic uses x-api-key")
			}
		})
	}
}
