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
			req := &targets.ServerRequest{Model: "claude-\"sim\"", Prompt: "one two", MaxTokens: tt.max, Stream: true}
			stream, tr := targetstest.RoundTrip(t, anthropic.Messages{}, req, "msg_\"1\"", tt.tokens, tt.usage)
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
			if !strings.Contains(string(stream), stop) {
				t.Errorf("stream lacks %s:\n%s", stop, stream)
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
	targetstest.CheckParseCases(t, anthropic.Messages{}, []targetstest.ParseCase{
		{Name: "content blocks", Body: `{"model":"m","max_tokens":3,"stream":true,
			"system":[{"type":"text","text":"Be terse."}],
			"messages":[{"role":"user","content":[{"type":"text","text":"Look: "},{"type":"image","source":{}},{"type":"text","text":"a cat"}]}]}`,
			Want: targets.ServerRequest{Model: "m", Prompt: "Be terse.\nLook: a cat", MaxTokens: 3, Stream: true}},
		{Name: "zero max_tokens", Body: `{"model":"m","max_tokens":0,"messages":[{"role":"user","content":"x"}]}`,
			Want: targets.ServerRequest{Model: "m", Prompt: "x"}},
		{Name: "null system", Body: `{"model":"m","max_tokens":1,"system":null,"messages":[{"role":"user","content":"x"}]}`,
			Want: targets.ServerRequest{Model: "m", Prompt: "x", MaxTokens: 1}},
		{Name: "no max_tokens", Body: `{"model":"m","messages":[{"role":"user","content":"x"}]}`, WantErr: "max_tokens: field required"},
		{Name: "negative max_tokens", Body: `{"model":"m","max_tokens":-1,"messages":[{"role":"user","content":"x"}]}`, WantErr: "max_tokens -1"},
		{Name: "no messages", Body: `{"model":"m","max_tokens":1,"messages":[]}`, WantErr: "messages: at least one"},
		{Name: "bad content", Body: `{"model":"m","max_tokens":1,"messages":[{"role":"user","content":7}]}`, WantErr: "messages[0].content"},
		{Name: "bad system", Body: `{"model":"m","max_tokens":1,"system":{},"messages":[{"role":"user","content":"x"}]}`, WantErr: "system:"},
		{Name: "not JSON", Body: `{`, WantErr: "invalid JSON body"},
	})
}
