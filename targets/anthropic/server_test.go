package anthropic_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/anthropic"
	"github.com/streamgauge/streamgauge/targets/targetstest"
)

// TestRoundTrip writes streams with the server side and reads them back with
// the client side: same tokens, same usage, and a complete stream.
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		tokens []string
		usage  targets.Usage
		max    int
	}{
		{"words", []string{" the", " of", " and"}, targets.Usage{PromptTokens: 12, CompletionTokens: 3}, 3},
		{"no tokens", nil, targets.Usage{PromptTokens: 1}, 0},
		{"escapes", []string{"\"quoted\"", "\\", "\n\t", "<&>", "\u2028", "emoji 🚀", "\x00"}, targets.Usage{PromptTokens: 2, CompletionTokens: 7}, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			req := &targets.ServerRequest{Model: "claude-\"sim\"", Prompt: "one two", MaxTokens: tt.max, Stream: true}
			sw := anthropic.Messages{}.NewStreamWriter(&buf, req, "msg_\"1\"")
			if err := sw.Start(); err != nil {
				t.Fatal(err)
			}
			for _, tok := range tt.tokens {
				if err := sw.Token(tok); err != nil {
					t.Fatal(err)
				}
			}
			if err := sw.Finish(tt.usage); err != nil {
				t.Fatal(err)
			}
			tr := decodeStream(t, bytes.NewReader(buf.Bytes()))
			if tr.DecodeError != "" || tr.End != "eof" || !tr.Done || tr.Err != "" {
				t.Fatalf("stream did not decode cleanly: %+v\n%s", tr, buf.String())
			}
			var got []string
			for _, ev := range tr.Events {
				if ev.Content != "" {
					got = append(got, ev.Content)
				}
			}
			if !reflect.DeepEqual(got, tt.tokens) {
				t.Errorf("tokens = %q, want %q", got, tt.tokens)
			}
			wantU := &targetstest.StreamUsage{PromptTokens: tt.usage.PromptTokens, CompletionTokens: tt.usage.CompletionTokens}
			if tr.Usage != nil {
				wantU.CachedTokens = tr.Usage.CachedTokens // what the simulator reports as cached is its own tests' business
			}
			if !reflect.DeepEqual(tr.Usage, wantU) {
				t.Errorf("usage = %+v, want %+v", tr.Usage, wantU)
			}
			stop := `"stop_reason":"end_turn"`
			if tt.max > 0 && tt.usage.CompletionTokens >= tt.max {
				stop = `"stop_reason":"max_tokens"`
			}
			if !strings.Contains(buf.String(), stop) {
				t.Errorf("stream lacks %s:\n%s", stop, buf.String())
			}
		})
	}
}

// TestStreamShape checks the event sequence the simulator writes against the
// API's: message_start, content_block_start, ping, deltas,
// content_block_stop, message_delta, message_stop.
func TestStreamShape(t *testing.T) {
	var buf bytes.Buffer
	sw := anthropic.Messages{}.NewStreamWriter(&buf, &targets.ServerRequest{Model: "m", Prompt: "a b c", MaxTokens: 2}, "")
	_ = sw.Start()
	_ = sw.Token("x")
	_ = sw.Token("y")
	_ = sw.Finish(targets.Usage{PromptTokens: 3, CompletionTokens: 2})
	tr := decodeStream(t, &buf)
	var names []string
	for _, ev := range tr.Events {
		names = append(names, ev.Event)
	}
	want := []string{"message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta",
		"content_block_stop", "message_delta", "message_stop"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("events = %q, want %q", names, want)
	}
}

func TestFailRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	sw := anthropic.Messages{}.NewStreamWriter(&buf, &targets.ServerRequest{Model: "m", MaxTokens: 5}, "id")
	_ = sw.Start()
	_ = sw.Token("a")
	if err := sw.Fail("engine \"stopped\""); err != nil {
		t.Fatal(err)
	}
	tr := decodeStream(t, &buf)
	if tr.Err != `api_error: engine "stopped"` || tr.Done {
		t.Errorf("err = %q, done = %v; want the api_error and no done", tr.Err, tr.Done)
	}
}

func TestWriterErrors(t *testing.T) {
	targetstest.CheckWriterErrors(t, anthropic.Messages{})
}

// TestParseBody checks that the server reads back what the client sends.
func TestParseBody(t *testing.T) {
	tests := []targetstest.RequestCase{
		{Name: "prompt", Req: targets.Request{Model: "claude-haiku-4-5", Prompt: "Say hi", MaxTokens: 128, IgnoreEOS: true},
			Want: targets.ServerRequest{Model: "claude-haiku-4-5", Prompt: "Say hi", MaxTokens: 128, Stream: true}},
		{Name: "default cap", Req: targets.Request{Model: "m", Prompt: "p"},
			Want: targets.ServerRequest{Model: "m", Prompt: "p", MaxTokens: anthropic.DefaultMaxTokens, Stream: true}},
		{Name: "chat with system", Req: targets.Request{Model: "m", MaxTokens: 9, Messages: []targets.Message{
			{Role: "system", Content: "sys"}, {Role: "user", Content: "q"}, {Role: "assistant", Content: "a"}, {Role: "user", Content: "q2"}}},
			Want: targets.ServerRequest{Model: "m", Prompt: "sys\nq\na\nq2", MaxTokens: 9, Stream: true}},
	}
	targetstest.CheckRequests(t, anthropic.Messages{}, tests)
}

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    targets.ServerRequest
		wantErr string
	}{
		{name: "content blocks", body: `{"model":"m","max_tokens":3,"stream":true,
			"system":[{"type":"text","text":"Be terse."}],
			"messages":[{"role":"user","content":[{"type":"text","text":"Look: "},{"type":"image","source":{}},{"type":"text","text":"a cat"}]}]}`,
			want: targets.ServerRequest{Model: "m", Prompt: "Be terse.\nLook: a cat", MaxTokens: 3, Stream: true}},
		{name: "zero max_tokens", body: `{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"x"}]}`,
			want: targets.ServerRequest{Model: "m", Prompt: "x"}},
		{name: "null system", body: `{"model":"m","max_tokens":1,"system":null,"messages":[{"role":"user","content":"x"}]}`,
			want: targets.ServerRequest{Model: "m", Prompt: "x", MaxTokens: 1}},
		{name: "no max_tokens", body: `{"model":"m","messages":[{"role":"user","content":"x"}]}`, wantErr: "max_tokens: field required"},
		{name: "negative max_tokens", body: `{"model":"m","max_tokens":-1,"messages":[{"role":"user","content":"x"}]}`, wantErr: "max_tokens -1"},
		{name: "no messages", body: `{"model":"m","max_tokens":1,"messages":[]}`, wantErr: "messages: at least one"},
		{name: "bad content", body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":7}]}`, wantErr: "messages[0].content"},
		{name: "bad system", body: `{"model":"m","max_tokens":1,"system":{},"messages":[{"role":"user","content":"x"}]}`, wantErr: "system:"},
		{name: "not JSON", body: `{`, wantErr: "invalid JSON body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := anthropic.Messages{}.ParseRequest([]byte(tt.body))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *got != tt.want {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}
