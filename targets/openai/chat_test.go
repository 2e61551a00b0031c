package openai_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
	"github.com/streamgauge/streamgauge/targets/targetstest"
)

// TestChatDecodeFrames covers single chunks whose meaning the golden
// transcripts do not show on their own.
func TestChatDecodeFrames(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		want    targets.Event
		wantErr string // substring of the decode error
	}{
		{"done", `[DONE]`, targets.Event{Done: true}, ""},
		{"role only", `{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}`, targets.Event{}, ""},
		{"nulls everywhere", `{"choices":[{"index":0,"delta":{"role":null,"content":null,"reasoning_content":null,"tool_calls":null},"finish_reason":null}],"usage":null,"error":null}`, targets.Event{}, ""},
		{"null delta and choices", `{"choices":[{"delta":null,"text":null}]}`, targets.Event{}, ""},
		{"no choices", `{"choices":null}`, targets.Event{}, ""},
		{"content", `{"choices":[{"delta":{"content":"hi"}}]}`, targets.Event{Content: "hi"}, ""},
		{"completion text", `{"choices":[{"text":" hi","finish_reason":null}]}`, targets.Event{Content: " hi"}, ""},
		{"finish stop", `{"choices":[{"delta":{"content":"."},"finish_reason":"stop"}]}`, targets.Event{Content: "."}, ""},
		{"finish length", `{"choices":[{"text":".","finish_reason":"length"}]}`, targets.Event{Content: "."}, ""},
		{"finish abort is an error", `{"choices":[{"delta":{"content":"x"},"finish_reason":"abort"}],"usage":{"completion_tokens":1}}`,
			targets.Event{Err: `the server ended the generation with finish_reason "abort"`}, ""},
		{"finish error is an error", `{"choices":[{"text":"","finish_reason":"error"}]}`,
			targets.Event{Err: `the server ended the generation with finish_reason "error"`}, ""},
		{"finish reason not a string is not read", `{"choices":[{"delta":{"content":"x"},"finish_reason":{"type":"abort"}}]}`, targets.Event{Content: "x"}, ""},
		{"reasoning_content", `{"choices":[{"delta":{"reasoning_content":"hm"}}]}`, targets.Event{Reasoning: "hm"}, ""},
		{"reasoning", `{"choices":[{"delta":{"reasoning":"hm"}}]}`, targets.Event{Reasoning: "hm"}, ""},
		{"both reasoning names, one text", `{"choices":[{"delta":{"reasoning":"hm","reasoning_content":"hm"}}]}`, targets.Event{Reasoning: "hm"}, ""},
		{"reasoning and content", `{"choices":[{"delta":{"reasoning_content":"so","content":"4"}}]}`, targets.Event{Reasoning: "so", Content: "4"}, ""},
		{"tool name only", `{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"f"}}]}}]}`, targets.Event{}, ""},
		{"tool args", `{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"a\""}},{"index":1,"function":{"arguments":"{}"}}]}}]}`, targets.Event{ToolArgs: `{"a"{}`}, ""},
		{"usage", `{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8,"completion_tokens_details":{"reasoning_tokens":2}}}`,
			targets.Event{Usage: &targets.Usage{PromptTokens: 3, CompletionTokens: 5, ReasoningTokens: 2}}, ""},
		{"usage null details", `{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"completion_tokens_details":null}}`,
			targets.Event{Usage: &targets.Usage{PromptTokens: 3, CompletionTokens: 5}}, ""},
		{"first frame with per-chunk usage counts its tokens", `{"choices":[{"delta":{"content":"a b"}}],"usage":{"prompt_tokens":3,"completion_tokens":2}}`,
			targets.Event{Content: "a b", Tokens: 2, Usage: &targets.Usage{PromptTokens: 3, CompletionTokens: 2}}, ""},
		{"error object", `{"error":{"object":"error","message":"boom","type":"BadRequestError","code":400}}`, targets.Event{Err: "BadRequestError: boom"}, ""},
		{"error without type", `{"error":{"message":"boom"}}`, targets.Event{Err: "boom"}, ""},
		{"error string", `{"error":"boom"}`, targets.Event{Err: "boom"}, ""},
		{"error of another shape", `{"error":{"code":500}}`, targets.Event{Err: `{"code":500}`}, ""},
		{"top-level error object", `{"object":"error","message":"boom","code":503}`, targets.Event{Err: "boom"}, ""},
		{"top-level error object without message", `{"object":"error"}`, targets.Event{Err: "error object in stream"}, ""},
		{"invalid JSON", `{"choices":[`, targets.Event{}, "invalid JSON"},
		{"not JSON", `hello`, targets.Event{}, "invalid JSON"},
		{"wrong type", `{"choices":[{"delta":{"content":5}}]}`, targets.Event{}, "delta.content: want a string"},
		{"done with space is not done", `[DONE] `, targets.Event{}, "invalid JSON"},
	}
	cases := make([]targetstest.FrameCase, len(tests))
	for i, tt := range tests {
		cases[i] = targetstest.FrameCase{Name: tt.name, Data: tt.data, Want: tt.want, WantErr: tt.wantErr}
	}
	targetstest.CheckFrames(t, openai.Chat{}, cases)
}

// TestChatDecodePerChunkUsage: with vLLM's continuous_usage_stats every
// chunk carries the cumulative completion count; a token frame's Tokens is
// its increase, frames without tokens carry none.
func TestChatDecodePerChunkUsage(t *testing.T) {
	frames := []struct {
		data   string
		tokens int
	}{
		{`{"choices":[{"delta":{"role":"assistant","content":""}}],"usage":{"prompt_tokens":5,"completion_tokens":0}}`, 0},
		{`{"choices":[{"delta":{"content":"a"}}],"usage":{"prompt_tokens":5,"completion_tokens":1}}`, 1},
		{`{"choices":[{"delta":{"content":"bcd"}}],"usage":{"prompt_tokens":5,"completion_tokens":4}}`, 3},
		{`{"choices":[{"delta":{"content":"e"}}],"usage":{"prompt_tokens":5,"completion_tokens":4}}`, 0},
		{`{"choices":[{"delta":{"content":""},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":5}}`, 0},
		{`{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":5}}`, 0},
	}
	dec := openai.Chat{}.NewDecoder()
	for i, f := range frames {
		var ev targets.Event
		if err := dec.Decode(&targets.Frame{Data: []byte(f.data)}, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Tokens != f.tokens {
			t.Errorf("frame %d: Tokens = %d, want %d", i, ev.Tokens, f.tokens)
		}
	}
}

// TestChatRoundTrip writes streams with the server side and reads them back
// with the client side: same tokens, same usage, a complete stream.
func TestChatRoundTrip(t *testing.T) {
	tokens := []string{"Hello", ",", " world", "\"q\"", "\\", "\n\t", "<&>", "\u2028", "🚀", "\x00", ""}
	for _, p := range []interface {
		targets.Protocol
		targets.ServerProtocol
	}{openai.Chat{}, openai.Completions{}} {
		for _, includeUsage := range []bool{true, false} {
			name := p.(targets.Protocol).Name()
			if !includeUsage {
				name += "/no usage"
			}
			t.Run(name, func(t *testing.T) {
				// Names with characters a Go-quoted string would write in a
				// way JSON does not read (\x01, \a, \x7f, invalid UTF-8).
				req := &targets.ServerRequest{Model: "m\x01\a\x7f\"x\"\xff", Prompt: "p", MaxTokens: 16, Stream: true, IncludeUsage: includeUsage}
				stream, tr := targetstest.RoundTrip(t, p, req, "id\x01\v", tokens, targets.Usage{PromptTokens: 7, CompletionTokens: len(tokens)})
				var wantUsage *targetstest.StreamUsage
				if includeUsage {
					// The simulator's writer reports its prefix cache (none here).
					none := 0
					wantUsage = &targetstest.StreamUsage{PromptTokens: 7, CompletionTokens: len(tokens), CachedTokens: &none}
				}
				if !reflect.DeepEqual(tr.Usage, wantUsage) {
					t.Errorf("usage = %+v, want %+v", tr.Usage, wantUsage)
				}
				// Every chunk is one JSON object with the chunk's object type.
				fr := targets.NewSSEReader(bytes.NewReader(stream), 0)
				var f targets.Frame
				wantObj := map[string]string{"openai-chat": "chat.completion.chunk", "openai-completions": "text_completion"}[p.(targets.Protocol).Name()]
				for fr.Next(&f) == nil {
					if string(f.Data) == "[DONE]" {
						continue
					}
					var c struct {
						Object string `json:"object"`
						Model  string `json:"model"`
					}
					if err := json.Unmarshal(f.Data, &c); err != nil || c.Object != wantObj || !strings.HasPrefix(c.Model, "m\x01\a\x7f\"x\"") {
						t.Fatalf("chunk %s: object %q, model %q, err %v", f.Data, c.Object, c.Model, err)
					}
				}
			})
		}
	}
}

func TestChatFailRoundTrip(t *testing.T) {
	for _, p := range []interface {
		targets.Protocol
		targets.ServerProtocol
	}{openai.Chat{}, openai.Completions{}} {
		var buf bytes.Buffer
		sw := p.NewStreamWriter(&buf, &targets.ServerRequest{Model: "m"}, "")
		_ = sw.Start()
		_ = sw.Token("a")
		if err := sw.Fail("engine \"died\"\n"); err != nil {
			t.Fatal(err)
		}
		tr := targetstest.DecodeStream(t, p, &buf)
		if tr.Err != "InternalServerError: engine \"died\"\n" || tr.Content != "a" || tr.Done {
			t.Errorf("%s: transcript %+v", p.(targets.Protocol).Name(), tr)
		}
	}
}

type failWriter struct{}

var errClosed = errors.New("closed")

func (failWriter) Write([]byte) (int, error) { return 0, errClosed }

func TestChatWriterErrors(t *testing.T) {
	for _, p := range []targets.ServerProtocol{openai.Chat{}, openai.Completions{}} {
		sw := p.NewStreamWriter(failWriter{}, &targets.ServerRequest{Model: "m", IncludeUsage: true}, "")
		for name, err := range map[string]error{
			"Token":  sw.Token("x"),
			"Finish": sw.Finish(targets.Usage{}),
			"Fail":   sw.Fail("x"),
		} {
			if !errors.Is(err, errClosed) {
				t.Errorf("%s %s: err = %v, want the writer's", p.Name(), name, err)
			}
		}
	}
}

// TestChatBodyParses: what the client sends, the simulator reads back.
func TestChatBodyParses(t *testing.T) {
	tests := []targetstest.RequestCase{
		{Name: "prompt", Req: targets.Request{Model: "llama", Prompt: "Hello there", MaxTokens: 128, IgnoreEOS: true},
			Want: targets.ServerRequest{Model: "llama", Prompt: "Hello there", MaxTokens: 128, IgnoreEOS: true, Stream: true, IncludeUsage: true}},
		{Name: "no max tokens", Req: targets.Request{Model: "m", Prompt: "x"},
			Want: targets.ServerRequest{Model: "m", Prompt: "x", Stream: true, IncludeUsage: true}},
		{Name: "escapes", Req: targets.Request{Model: "m/\"q\"", Prompt: "<a> & \"b\"\n\u2028🚀", MaxTokens: 1},
			Want: targets.ServerRequest{Model: "m/\"q\"", Prompt: "<a> & \"b\"\n\u2028🚀", MaxTokens: 1, Stream: true, IncludeUsage: true}},
	}
	for _, p := range []targetstest.Protocol{openai.Chat{}, openai.Completions{}} {
		t.Run(p.Name(), func(t *testing.T) { targetstest.CheckRequests(t, p, tests) })
	}
	// Chat sends the messages when there are some; the server joins their
	// contents.
	req := targets.Request{Model: "m", Messages: []targets.Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "hi"}}, MaxTokens: 3}
	body, err := openai.Chat{}.Body(&req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := openai.Chat{}.ParseRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	if got.Prompt != "be brief\nhi" || got.MaxTokens != 3 {
		t.Errorf("chat messages parsed as %+v", *got)
	}
}

func TestParseRequestErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    targets.ServerProtocol
		body string
		want string
	}{
		{"bad JSON", openai.Chat{}, `{`, "invalid JSON body"},
		{"no messages", openai.Chat{}, `{"model":"m"}`, "messages"},
		{"no prompt", openai.Completions{}, `{"model":"m"}`, "prompt"},
		{"prompt not a string", openai.Completions{}, `{"prompt":[1,2]}`, "prompt must be a string"},
		{"negative max_tokens", openai.Completions{}, `{"prompt":"x","max_tokens":-1}`, "must not be negative"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.p.ParseRequest([]byte(tt.body))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	// max_completion_tokens, the newer name, wins over max_tokens.
	got, err := openai.Chat{}.ParseRequest([]byte(`{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":5,"max_completion_tokens":9}`))
	if err != nil || got.MaxTokens != 9 {
		t.Errorf("got %+v, %v; want MaxTokens 9", got, err)
	}
}
