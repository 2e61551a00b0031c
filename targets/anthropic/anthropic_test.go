package anthropic_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/anthropic"
)

var update = flag.Bool("update", false, "rewrite the golden files and the fuzz seed corpus in testdata")

// goldenEvent is one decoded frame as the golden files show it.
type goldenEvent struct {
	Event     string       `json:"event,omitempty"`
	Content   string       `json:"content,omitempty"`
	Reasoning string       `json:"reasoning,omitempty"`
	ToolArgs  string       `json:"tool_args,omitempty"`
	Tokens    int          `json:"tokens,omitempty"`
	Usage     *goldenUsage `json:"usage,omitempty"`
	Done      bool         `json:"done,omitempty"`
	Err       string       `json:"err,omitempty"`
}

type goldenUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	ReasoningTokens  int `json:"reasoning_tokens"`
}

// transcript is a whole decoded stream: every frame's event, how the stream
// ended, and what a client would keep from it.
type transcript struct {
	Events []goldenEvent `json:"events"`
	// DecodeError is the protocol error that stopped decoding, as the
	// client stops.
	DecodeError string `json:"decode_error,omitempty"`
	// End is "eof" for a clean end of the body, else the reader's error.
	End       string       `json:"end"`
	Done      bool         `json:"done"`
	Err       string       `json:"err,omitempty"`
	Content   string       `json:"content,omitempty"`
	Reasoning string       `json:"reasoning,omitempty"`
	ToolArgs  string       `json:"tool_args,omitempty"`
	Frames    int          `json:"token_frames"`
	Usage     *goldenUsage `json:"usage,omitempty"`
}

func decodeStream(t testing.TB, r io.Reader) transcript {
	t.Helper()
	fr := targets.NewSSEReader(r, 0)
	dec := anthropic.Messages{}.NewDecoder()
	tr := transcript{Events: []goldenEvent{}}
	var f targets.Frame
	for i := 0; ; i++ {
		if i > 100000 {
			t.Fatal("Next never stopped")
		}
		if err := fr.Next(&f); err != nil {
			tr.End = "eof"
			if !errors.Is(err, io.EOF) {
				tr.End = err.Error()
			}
			return tr
		}
		var ev targets.Event
		if err := dec.Decode(&f, &ev); err != nil {
			tr.DecodeError = err.Error()
			tr.End = "decode error"
			return tr
		}
		ge := goldenEvent{Event: string(f.Event), Content: ev.Content, Reasoning: ev.Reasoning,
			ToolArgs: ev.ToolArgs, Tokens: ev.Tokens, Done: ev.Done, Err: ev.Err}
		if ev.Usage != nil {
			ge.Usage = &goldenUsage{ev.Usage.PromptTokens, ev.Usage.CompletionTokens, ev.Usage.ReasoningTokens}
			tr.Usage = ge.Usage
		}
		tr.Events = append(tr.Events, ge)
		tr.Content += ev.Content
		tr.Reasoning += ev.Reasoning
		tr.ToolArgs += ev.ToolArgs
		if ev.TokenBearing() {
			tr.Frames++
		}
		tr.Done = tr.Done || ev.Done
		if tr.Err == "" {
			tr.Err = ev.Err
		}
	}
}

// fuzzCorpusFile is a seed file of FuzzDecode in Go's corpus encoding.
func fuzzCorpusFile(stream []byte) []byte {
	return fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", stream)
}

// TestGolden decodes every testdata/NAME.sse and compares the transcript with
// NAME.golden.json. Each stream is also read one byte at a time, which must
// not change what it means. With -update it rewrites the golden files and
// the fuzz seed corpus (testdata/fuzz/FuzzDecode/NAME) from the streams.
func TestGolden(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.sse"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden streams: %v", err)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".sse")
		t.Run(name, func(t *testing.T) {
			stream, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := decodeStream(t, bytes.NewReader(stream))
			if slow := decodeStream(t, iotest.OneByteReader(bytes.NewReader(stream))); !reflect.DeepEqual(slow, got) {
				t.Errorf("one byte at a time decodes differently:\n%+v\nwhole:\n%+v", slow, got)
			}
			js, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			js = append(js, '\n')
			goldenPath := filepath.Join("testdata", name+".golden.json")
			seedPath := filepath.Join("testdata", "fuzz", "FuzzDecode", name)
			seed := fuzzCorpusFile(stream)
			if *update {
				if err := os.WriteFile(goldenPath, js, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(filepath.Dir(seedPath), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(seedPath, seed, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(js, want) {
				t.Errorf("%s differs (go test -update rewrites it); got:\n%s", goldenPath, js)
			}
			if have, err := os.ReadFile(seedPath); err != nil || !bytes.Equal(have, seed) {
				t.Errorf("fuzz seed %s is missing or stale (go test -update rewrites it)", seedPath)
			}
		})
	}
}

// TestDecodeFrames covers single frames whose meaning the golden streams do
// not show on their own.
func TestDecodeFrames(t *testing.T) {
	tests := []struct {
		name    string
		event   string
		data    string
		want    targets.Event
		wantErr string // substring of the decode error
	}{
		{name: "ping", event: "ping", data: `{"type": "ping"}`},
		{name: "signature is not a token", event: "content_block_delta",
			data: `{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"abc"}}`},
		{name: "error overloaded", event: "error",
			data: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			want: targets.Event{Err: "overloaded_error: Overloaded"}},
		{name: "error type only", event: "error", data: `{"type":"error","error":{"type":"api_error"}}`,
			want: targets.Event{Err: "api_error"}},
		{name: "error message only", event: "error", data: `{"type":"error","error":{"message":"boom"}}`,
			want: targets.Event{Err: "boom"}},
		{name: "error string", event: "error", data: `{"type":"error","error":"boom"}`,
			want: targets.Event{Err: "boom"}},
		{name: "error without error", event: "error", data: `{"type":"error"}`,
			want: targets.Event{Err: "error event without details"}},
		{name: "error odd shape", event: "error", data: `{"type":"error","error":[1]}`,
			want: targets.Event{Err: "error event without details: [1]"}},
		{name: "error from data type", data: `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			want: targets.Event{Err: "overloaded_error: Overloaded"}},
		{name: "untyped error envelope", data: `{"error":{"type":"rate_limit_error","message":"slow down"}}`,
			want: targets.Event{Err: "rate_limit_error: slow down"}},
		{name: "event line wins over data type", event: "message_stop", data: `{"type":"ping"}`,
			want: targets.Event{Done: true}},
		{name: "message_delta without usage", event: "message_delta",
			data: `{"type":"message_delta","delta":{"stop_reason":"end_turn"}}`},
		{name: "message_delta null usage", event: "message_delta",
			data: `{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":null}`},
		{name: "message_delta usage", event: "message_delta",
			data: `{"type":"message_delta","usage":{"output_tokens":7}}`,
			want: targets.Event{Usage: &targets.Usage{CompletionTokens: 7}}},
		{name: "null data", event: "ping", data: `null`},
		{name: "invalid JSON", event: "content_block_delta", data: `{"type":`, wantErr: "invalid JSON"},
		{name: "empty data", event: "content_block_delta", data: ``, wantErr: "invalid JSON"},
		{name: "not an object", event: "ping", data: `[1,2]`, wantErr: "invalid JSON"},
		{name: "type not a string", data: `{"type":1}`, wantErr: "invalid JSON"},
		{name: "delta not an object", event: "content_block_delta",
			data: `{"type":"content_block_delta","delta":"x"}`, wantErr: "delta:"},
		{name: "usage not a number", event: "message_delta",
			data: `{"type":"message_delta","usage":{"output_tokens":"7"}}`, wantErr: "usage:"},
		{name: "usage fraction", event: "message_delta",
			data: `{"type":"message_delta","usage":{"output_tokens":7.5}}`, wantErr: "usage:"},
		{name: "negative input tokens", event: "message_start",
			data: `{"type":"message_start","message":{"usage":{"input_tokens":-1}}}`, wantErr: "message.usage.input_tokens -1"},
		{name: "message not an object", event: "message_start",
			data: `{"type":"message_start","message":3}`, wantErr: "message:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := anthropic.Messages{}.NewDecoder()
			var ev targets.Event
			err := dec.Decode(&targets.Frame{Event: []byte(tt.event), Data: []byte(tt.data)}, &ev)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Decode error = %v, want one containing %q", err, tt.wantErr)
				}
				if !reflect.DeepEqual(ev, targets.Event{}) {
					t.Errorf("a frame that fails to decode filled the event: %+v", ev)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(ev, tt.want) {
				t.Errorf("event = %+v, want %+v", ev, tt.want)
			}
		})
	}
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
