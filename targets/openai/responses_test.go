package openai_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
	"github.com/streamgauge/streamgauge/targets/targetstest"
)

// The -update flag may also be wanted by other tests of this package, and a
// flag defined twice panics: define it only if nobody has (package-level
// variables, which is where others would define it, are set before init runs).
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files in testdata")
	}
}

// responsesUpdating reports whether -update was given.
func responsesUpdating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// responsesDecodeStream reads a whole Responses stream as the client does
// (see targetstest.DecodeStream).
func responsesDecodeStream(t testing.TB, r io.Reader) targetstest.Stream {
	t.Helper()
	return targetstest.DecodeStream(t, openai.Responses{}, r)
}

// responsesPattern globs the Responses golden streams.
var responsesPattern = filepath.Join("testdata", "responses_*.sse")

// TestResponsesGolden decodes every testdata/responses_NAME.sse and compares
// the transcript with responses_NAME.golden.json (-update rewrites them).
// Each stream is also read one byte at a time and in halves, which must not
// change what it means.
func TestResponsesGolden(t *testing.T) {
	targetstest.StreamGolden(t, openai.Responses{}, targetstest.StreamGoldenOptions{
		Patterns: []string{responsesPattern}, TrimPrefix: "responses_", Update: responsesUpdating()})
}

// TestResponsesDecodeFrames covers single frames whose meaning the golden
// streams do not show on their own.
func TestResponsesDecodeFrames(t *testing.T) {
	targetstest.CheckFrames(t, openai.Responses{}, []targetstest.FrameCase{
		{Name: "text", Event: "response.output_text.delta", Data: `{"type":"response.output_text.delta","delta":"a"}`,
			Want: targets.Event{Content: "a"}},
		{Name: "custom tool input", Event: "response.custom_tool_call_input.delta", Data: `{"delta":"ls -la"}`,
			Want: targets.Event{ToolArgs: "ls -la"}},
		{Name: "mcp arguments", Event: "response.mcp_call_arguments.delta", Data: `{"delta":"{}"}`,
			Want: targets.Event{ToolArgs: "{}"}},
		{Name: "done events repeat text", Event: "response.output_text.done", Data: `{"text":"all of it"}`},
		{Name: "audio is not text", Event: "response.audio.delta", Data: `{"delta":"UklGRg=="}`},
		{Name: "event line wins over data type", Event: "response.completed",
			Data: `{"type":"response.in_progress","response":{"status":"completed"}}`, Want: targets.Event{Done: true}},
		{Name: "completed without usage", Event: "response.completed", Data: `{"response":{"status":"completed","usage":null}}`,
			Want: targets.Event{Done: true}},
		{Name: "completed without response", Event: "response.completed", Data: `{}`, Want: targets.Event{Done: true}},
		{Name: "incomplete without reason", Event: "response.incomplete", Data: `{"response":{"status":"incomplete"}}`,
			Want: targets.Event{Err: "response incomplete"}},
		{Name: "failed without error", Event: "response.failed", Data: `{"response":{"status":"failed"}}`,
			Want: targets.Event{Err: "response failed"}},
		{Name: "failed message only", Event: "response.failed", Data: `{"response":{"error":{"message":"boom"}}}`,
			Want: targets.Event{Err: "boom"}},
		{Name: "failed code only", Event: "response.failed", Data: `{"response":{"error":{"code":"rate_limit_exceeded"}}}`,
			Want: targets.Event{Err: "rate_limit_exceeded"}},
		{Name: "error null code", Event: "error", Data: `{"type":"error","code":null,"message":"bad thing","param":null}`,
			Want: targets.Event{Err: "bad thing"}},
		{Name: "error nested", Event: "error", Data: `{"type":"error","error":{"type":"invalid_request_error","message":"nope"}}`,
			Want: targets.Event{Err: "invalid_request_error: nope"}},
		{Name: "error code only", Event: "error", Data: `{"type":"error","code":"server_error"}`,
			Want: targets.Event{Err: "server_error"}},
		{Name: "error without details", Event: "error", Data: `{"type":"error"}`,
			Want: targets.Event{Err: "error event without details"}},
		{Name: "error odd code", Event: "error", Data: `{"type":"error","code":500,"message":"m"}`,
			Want: targets.Event{Err: "m"}},
		{Name: "error from data type", Data: `{"type":"error","code":"c","message":"m"}`,
			Want: targets.Event{Err: "c: m"}},
		{Name: "untyped error envelope", Data: `{"error":{"message":"upstream down","type":"server_error"}}`,
			Want: targets.Event{Err: "server_error: upstream down"}},
		{Name: "null data", Event: "response.in_progress", Data: `null`},
		{Name: "invalid JSON", Event: "response.output_text.delta", Data: `{"delta":`, WantErr: "invalid JSON"},
		{Name: "empty data", Event: "response.output_text.delta", Data: ``, WantErr: "invalid JSON"},
		{Name: "delta not a string", Event: "response.output_text.delta", Data: `{"delta":1}`, WantErr: "delta:"},
		{Name: "response not an object", Event: "response.completed", Data: `{"response":"x"}`, WantErr: "response:"},
		{Name: "negative usage", Event: "response.completed",
			Data: `{"response":{"usage":{"input_tokens":1,"output_tokens":-4}}}`, WantErr: "negative token count"},
		{Name: "usage fraction", Event: "response.completed",
			Data: `{"response":{"usage":{"input_tokens":1.5}}}`, WantErr: "response:"},
	})
}

func TestResponsesBody(t *testing.T) {
	tests := []struct {
		name string
		req  targets.Request
		want string
	}{
		{"prompt", targets.Request{Model: "gpt-4.1", Prompt: "Hello", MaxTokens: 64, IgnoreEOS: true},
			`{"model":"gpt-4.1","input":"Hello","stream":true,"max_output_tokens":64}`},
		{"no cap", targets.Request{Model: "m", Prompt: "Hi"}, `{"model":"m","input":"Hi","stream":true}`},
		{"messages", targets.Request{Model: "m", MaxTokens: 8, Messages: []targets.Message{
			{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Q"}}},
			`{"model":"m","input":[{"role":"system","content":"Be brief."},{"role":"user","content":"Q"}],"stream":true,"max_output_tokens":8}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := openai.Responses{}.Body(&tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Body =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestResponsesParseBody checks that the server reads back what the client
// sends.
func TestResponsesParseBody(t *testing.T) {
	tests := []targetstest.RequestCase{
		{Name: "prompt", Req: targets.Request{Model: "gpt-4.1", Prompt: "Say hi", MaxTokens: 128},
			Want: targets.ServerRequest{Model: "gpt-4.1", Prompt: "Say hi", MaxTokens: 128, Stream: true}},
		{Name: "no cap", Req: targets.Request{Model: "m", Prompt: "p"}, Want: targets.ServerRequest{Model: "m", Prompt: "p", Stream: true}},
		{Name: "messages", Req: targets.Request{Model: "m", MaxTokens: 9, Messages: []targets.Message{
			{Role: "developer", Content: "dev"}, {Role: "user", Content: "q"}, {Role: "assistant", Content: "a"}}},
			Want: targets.ServerRequest{Model: "m", Prompt: "dev\nq\na", MaxTokens: 9, Stream: true}},
	}
	targetstest.CheckRequests(t, openai.Responses{}, tests)
}

func TestResponsesParseRequest(t *testing.T) {
	targetstest.CheckParseCases(t, openai.Responses{}, []targetstest.ParseCase{
		{Name: "items and parts", Body: `{"model":"m","stream":true,"max_output_tokens":5,"instructions":"Be terse.",
			"input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"Look: "},{"type":"input_image","image_url":"x"},{"type":"input_text","text":"a cat"}]},
			{"type":"function_call_output","call_id":"c","output":"42"},
			{"role":"assistant","content":[{"type":"output_text","text":"ok"}]}]}`,
			Want: targets.ServerRequest{Model: "m", Prompt: "Be terse.\nLook: a cat\nok", MaxTokens: 5, Stream: true}},
		{Name: "string input with instructions", Body: `{"model":"m","input":"q","instructions":"sys"}`,
			Want: targets.ServerRequest{Model: "m", Prompt: "sys\nq"}},
		{Name: "no input", Body: `{"model":"m"}`, WantErr: "input: request has no prompt"},
		{Name: "null input", Body: `{"model":"m","input":null}`, WantErr: "input: request has no prompt"},
		{Name: "bad input", Body: `{"model":"m","input":5}`, WantErr: "input: want a string"},
		{Name: "bad content", Body: `{"model":"m","input":[{"role":"user","content":5}]}`, WantErr: "input[0].content"},
		{Name: "negative cap", Body: `{"model":"m","input":"x","max_output_tokens":-1}`, WantErr: "max_output_tokens -1"},
		{Name: "not JSON", Body: `[`, WantErr: "invalid JSON body"},
	})
}

// TestResponsesRoundTrip writes streams with the server side and reads them
// back with the client side: same tokens, same usage, a complete stream.
func TestResponsesRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		tokens []string
		usage  targets.Usage
	}{
		{"words", []string{" the", " of", " and"}, targets.Usage{PromptTokens: 12, CompletionTokens: 3}},
		{"no tokens", nil, targets.Usage{PromptTokens: 1}},
		{"reasoning count", []string{"x"}, targets.Usage{PromptTokens: 1, CompletionTokens: 9, ReasoningTokens: 8}},
		{"escapes", []string{"\"q\"", "\\", "\n\t", "<&>", "\u2028", "🚀", "\x00"}, targets.Usage{PromptTokens: 2, CompletionTokens: 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &targets.ServerRequest{Model: "gpt-\"sim\"", Prompt: "one two", MaxTokens: 16, Stream: true}
			stream, tr := targetstest.RoundTrip(t, openai.Responses{}, req, "req-\"1\"", tt.tokens, tt.usage)
			want := &targetstest.StreamUsage{PromptTokens: tt.usage.PromptTokens, CompletionTokens: tt.usage.CompletionTokens, ReasoningTokens: tt.usage.ReasoningTokens}
			if tr.Usage != nil {
				want.CachedTokens = tr.Usage.CachedTokens // what the simulator reports as cached is its own tests' business
			}
			if !reflect.DeepEqual(tr.Usage, want) {
				t.Errorf("usage = %+v, want %+v", tr.Usage, want)
			}
			// Every event is valid JSON with its type and a rising sequence
			// number, as the API sends them.
			fr := targets.NewSSEReader(bytes.NewReader(stream), 0)
			var f targets.Frame
			for seq := 0; fr.Next(&f) == nil; seq++ {
				var e struct {
					Type string `json:"type"`
					Seq  *int   `json:"sequence_number"`
				}
				if err := json.Unmarshal(f.Data, &e); err != nil || e.Type != string(f.Event) || e.Seq == nil || *e.Seq != seq {
					t.Fatalf("event %d %q: type %q, sequence %v, err %v", seq, f.Event, e.Type, e.Seq, err)
				}
			}
		})
	}
}

// TestResponsesStreamShape checks the event sequence the simulator writes.
func TestResponsesStreamShape(t *testing.T) {
	var buf bytes.Buffer
	sw := openai.Responses{}.NewStreamWriter(&buf, &targets.ServerRequest{Model: "m"}, "")
	_ = sw.Start()
	_ = sw.Token("x")
	_ = sw.Finish(targets.Usage{PromptTokens: 3, CompletionTokens: 1})
	tr := responsesDecodeStream(t, &buf)
	var names []string
	for _, ev := range tr.Events {
		names = append(names, ev.Event)
	}
	want := []string{"response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
		"response.output_text.delta", "response.output_text.done", "response.content_part.done", "response.output_item.done",
		"response.completed"}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("events = %q, want %q", names, want)
	}
}

func TestResponsesFailRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	sw := openai.Responses{}.NewStreamWriter(&buf, &targets.ServerRequest{Model: "m"}, "id")
	_ = sw.Start()
	_ = sw.Token("a")
	if err := sw.Fail("engine \"stopped\""); err != nil {
		t.Fatal(err)
	}
	tr := responsesDecodeStream(t, &buf)
	if tr.Err != `server_error: engine "stopped"` || tr.Done {
		t.Errorf("err = %q, done = %v; want the server_error and no done", tr.Err, tr.Done)
	}
}

func TestResponsesWriterErrors(t *testing.T) {
	targetstest.CheckWriterErrors(t, openai.Responses{})
}
