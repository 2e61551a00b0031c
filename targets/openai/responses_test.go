package openai_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
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

// responsesEvent is one decoded frame as the golden files show it.
type responsesEvent struct {
	Event     string          `json:"event,omitempty"`
	Content   string          `json:"content,omitempty"`
	Reasoning string          `json:"reasoning,omitempty"`
	ToolArgs  string          `json:"tool_args,omitempty"`
	Tokens    int             `json:"tokens,omitempty"`
	Usage     *responsesUsage `json:"usage,omitempty"`
	Done      bool            `json:"done,omitempty"`
	Err       string          `json:"err,omitempty"`
}

type responsesUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	ReasoningTokens  int `json:"reasoning_tokens"`
}

// responsesTranscript is a whole decoded stream: every frame's event, how the
// stream ended, and what a client would keep from it.
type responsesTranscript struct {
	Events []responsesEvent `json:"events"`
	// DecodeError is the protocol error that stopped decoding, as the
	// client stops.
	DecodeError string `json:"decode_error,omitempty"`
	// End is "eof" for a clean end of the body, else the reader's error.
	End       string          `json:"end"`
	Done      bool            `json:"done"`
	Err       string          `json:"err,omitempty"`
	Content   string          `json:"content,omitempty"`
	Reasoning string          `json:"reasoning,omitempty"`
	ToolArgs  string          `json:"tool_args,omitempty"`
	Frames    int             `json:"token_frames"`
	Usage     *responsesUsage `json:"usage,omitempty"`
}

func responsesDecodeStream(t testing.TB, r io.Reader) responsesTranscript {
	t.Helper()
	fr := targets.NewSSEReader(r, 0)
	dec := openai.Responses{}.NewDecoder()
	tr := responsesTranscript{Events: []responsesEvent{}}
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
		re := responsesEvent{Event: string(f.Event), Content: ev.Content, Reasoning: ev.Reasoning,
			ToolArgs: ev.ToolArgs, Tokens: ev.Tokens, Done: ev.Done, Err: ev.Err}
		if ev.Usage != nil {
			re.Usage = &responsesUsage{ev.Usage.PromptTokens, ev.Usage.CompletionTokens, ev.Usage.ReasoningTokens}
			tr.Usage = re.Usage
		}
		tr.Events = append(tr.Events, re)
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

// responsesGoldenStreams lists testdata/responses_*.sse.
func responsesGoldenStreams(t testing.TB) []string {
	paths, err := filepath.Glob(filepath.Join("testdata", "responses_*.sse"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden streams: %v", err)
	}
	return paths
}

// TestResponsesGolden decodes every testdata/responses_NAME.sse and compares
// the transcript with responses_NAME.golden.json (-update rewrites them).
// Each stream is also read one byte at a time, which must not change what it
// means.
func TestResponsesGolden(t *testing.T) {
	for _, path := range responsesGoldenStreams(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".sse")
		t.Run(strings.TrimPrefix(name, "responses_"), func(t *testing.T) {
			stream, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := responsesDecodeStream(t, bytes.NewReader(stream))
			if slow := responsesDecodeStream(t, iotest.OneByteReader(bytes.NewReader(stream))); !reflect.DeepEqual(slow, got) {
				t.Errorf("one byte at a time decodes differently:\n%+v\nwhole:\n%+v", slow, got)
			}
			js, err := json.MarshalIndent(got, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			js = append(js, '\n')
			goldenPath := filepath.Join("testdata", name+".golden.json")
			if responsesUpdating() {
				if err := os.WriteFile(goldenPath, js, 0o644); err != nil {
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
		})
	}
}

// TestResponsesDecodeFrames covers single frames whose meaning the golden
// streams do not show on their own.
func TestResponsesDecodeFrames(t *testing.T) {
	tests := []struct {
		name    string
		event   string
		data    string
		want    targets.Event
		wantErr string // substring of the decode error
	}{
		{name: "text", event: "response.output_text.delta", data: `{"type":"response.output_text.delta","delta":"a"}`,
			want: targets.Event{Content: "a"}},
		{name: "custom tool input", event: "response.custom_tool_call_input.delta", data: `{"delta":"ls -la"}`,
			want: targets.Event{ToolArgs: "ls -la"}},
		{name: "mcp arguments", event: "response.mcp_call_arguments.delta", data: `{"delta":"{}"}`,
			want: targets.Event{ToolArgs: "{}"}},
		{name: "done events repeat text", event: "response.output_text.done", data: `{"text":"all of it"}`},
		{name: "audio is not text", event: "response.audio.delta", data: `{"delta":"UklGRg=="}`},
		{name: "event line wins over data type", event: "response.completed",
			data: `{"type":"response.in_progress","response":{"status":"completed"}}`, want: targets.Event{Done: true}},
		{name: "completed without usage", event: "response.completed", data: `{"response":{"status":"completed","usage":null}}`,
			want: targets.Event{Done: true}},
		{name: "completed without response", event: "response.completed", data: `{}`, want: targets.Event{Done: true}},
		{name: "incomplete without reason", event: "response.incomplete", data: `{"response":{"status":"incomplete"}}`,
			want: targets.Event{Err: "response incomplete"}},
		{name: "failed without error", event: "response.failed", data: `{"response":{"status":"failed"}}`,
			want: targets.Event{Err: "response failed"}},
		{name: "failed message only", event: "response.failed", data: `{"response":{"error":{"message":"boom"}}}`,
			want: targets.Event{Err: "boom"}},
		{name: "failed code only", event: "response.failed", data: `{"response":{"error":{"code":"rate_limit_exceeded"}}}`,
			want: targets.Event{Err: "rate_limit_exceeded"}},
		{name: "error null code", event: "error", data: `{"type":"error","code":null,"message":"bad thing","param":null}`,
			want: targets.Event{Err: "bad thing"}},
		{name: "error nested", event: "error", data: `{"type":"error","error":{"type":"invalid_request_error","message":"nope"}}`,
			want: targets.Event{Err: "invalid_request_error: nope"}},
		{name: "error code only", event: "error", data: `{"type":"error","code":"server_error"}`,
			want: targets.Event{Err: "server_error"}},
		{name: "error without details", event: "error", data: `{"type":"error"}`,
			want: targets.Event{Err: "error event without details"}},
		{name: "error odd code", event: "error", data: `{"type":"error","code":500,"message":"m"}`,
			want: targets.Event{Err: "m"}},
		{name: "error from data type", data: `{"type":"error","code":"c","message":"m"}`,
			want: targets.Event{Err: "c: m"}},
		{name: "untyped error envelope", data: `{"error":{"message":"upstream down","type":"server_error"}}`,
			want: targets.Event{Err: "server_error: upstream down"}},
		{name: "null data", event: "response.in_progress", data: `null`},
		{name: "invalid JSON", event: "response.output_text.delta", data: `{"delta":`, wantErr: "invalid JSON"},
		{name: "empty data", event: "response.output_text.delta", data: ``, wantErr: "invalid JSON"},
		{name: "delta not a string", event: "response.output_text.delta", data: `{"delta":1}`, wantErr: "delta:"},
		{name: "response not an object", event: "response.completed", data: `{"response":"x"}`, wantErr: "response:"},
		{name: "negative usage", event: "response.completed",
			data: `{"response":{"usage":{"input_tokens":1,"output_tokens":-4}}}`, wantErr: "negative token count"},
		{name: "usage fraction", event: "response.completed",
			data: `{"response":{"usage":{"input_tokens":1.5}}}`, wantErr: "response:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := openai.Responses{}.NewDecoder()
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
	tests := []struct {
		name string
		req  targets.Request
		want targets.ServerRequest
	}{
		{"prompt", targets.Request{Model: "gpt-4.1", Prompt: "Say hi", MaxTokens: 128},
			targets.ServerRequest{Model: "gpt-4.1", Prompt: "Say hi", MaxTokens: 128, Stream: true}},
		{"no cap", targets.Request{Model: "m", Prompt: "p"}, targets.ServerRequest{Model: "m", Prompt: "p", Stream: true}},
		{"messages", targets.Request{Model: "m", MaxTokens: 9, Messages: []targets.Message{
			{Role: "developer", Content: "dev"}, {Role: "user", Content: "q"}, {Role: "assistant", Content: "a"}}},
			targets.ServerRequest{Model: "m", Prompt: "dev\nq\na", MaxTokens: 9, Stream: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := openai.Responses{}.Body(&tt.req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := openai.Responses{}.ParseRequest(body)
			if err != nil {
				t.Fatalf("ParseRequest(%s): %v", body, err)
			}
			if *got != tt.want {
				t.Errorf("ParseRequest(%s) = %+v, want %+v", body, *got, tt.want)
			}
		})
	}
}

func TestResponsesParseRequest(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    targets.ServerRequest
		wantErr string
	}{
		{name: "items and parts", body: `{"model":"m","stream":true,"max_output_tokens":5,"instructions":"Be terse.",
			"input":[{"type":"message","role":"user","content":[{"type":"input_text","text":"Look: "},{"type":"input_image","image_url":"x"},{"type":"input_text","text":"a cat"}]},
			{"type":"function_call_output","call_id":"c","output":"42"},
			{"role":"assistant","content":[{"type":"output_text","text":"ok"}]}]}`,
			want: targets.ServerRequest{Model: "m", Prompt: "Be terse.\nLook: a cat\nok", MaxTokens: 5, Stream: true}},
		{name: "string input with instructions", body: `{"model":"m","input":"q","instructions":"sys"}`,
			want: targets.ServerRequest{Model: "m", Prompt: "sys\nq"}},
		{name: "no input", body: `{"model":"m"}`, wantErr: "input: request has no prompt"},
		{name: "null input", body: `{"model":"m","input":null}`, wantErr: "input: request has no prompt"},
		{name: "bad input", body: `{"model":"m","input":5}`, wantErr: "input: want a string"},
		{name: "bad content", body: `{"model":"m","input":[{"role":"user","content":5}]}`, wantErr: "input[0].content"},
		{name: "negative cap", body: `{"model":"m","input":"x","max_output_tokens":-1}`, wantErr: "max_output_tokens -1"},
		{name: "not JSON", body: `[`, wantErr: "invalid JSON body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := openai.Responses{}.ParseRequest([]byte(tt.body))
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
			var buf bytes.Buffer
			req := &targets.ServerRequest{Model: "gpt-\"sim\"", Prompt: "one two", MaxTokens: 16, Stream: true}
			sw := openai.Responses{}.NewStreamWriter(&buf, req, "req-\"1\"")
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
			tr := responsesDecodeStream(t, bytes.NewReader(buf.Bytes()))
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
			want := &responsesUsage{tt.usage.PromptTokens, tt.usage.CompletionTokens, tt.usage.ReasoningTokens}
			if !reflect.DeepEqual(tr.Usage, want) {
				t.Errorf("usage = %+v, want %+v", tr.Usage, want)
			}
			// Every event is valid JSON with its type and a rising sequence
			// number, as the API sends them.
			fr := targets.NewSSEReader(bytes.NewReader(buf.Bytes()), 0)
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

// responsesFailWriter fails every write, as a connection the client closed.
type responsesFailWriter struct{}

var errResponsesClosed = errors.New("closed")

func (responsesFailWriter) Write([]byte) (int, error) { return 0, errResponsesClosed }

func TestResponsesWriterErrors(t *testing.T) {
	sw := openai.Responses{}.NewStreamWriter(responsesFailWriter{}, &targets.ServerRequest{}, "")
	for name, err := range map[string]error{
		"Start": sw.Start(), "Token": sw.Token("x"),
		"Finish": sw.Finish(targets.Usage{}), "Fail": sw.Fail("x"),
	} {
		if !errors.Is(err, errResponsesClosed) {
			t.Errorf("%s = %v, want the write error", name, err)
		}
	}
}
