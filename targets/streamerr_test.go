package targets_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/anthropic"
	"github.com/streamgauge/streamgauge/targets/llamacpp"
	"github.com/streamgauge/streamgauge/targets/ollama"
	"github.com/streamgauge/streamgauge/targets/openai"
	"github.com/streamgauge/streamgauge/targets/tgi"
	"github.com/streamgauge/streamgauge/targets/triton"
)

// streamErrDir holds one transcript per form in which a server reports an
// error after it has answered 200 (docs/metrics.md lists them).
var streamErrDir = filepath.Join("testdata", "streamerr")

// contentType is what the test server sends a transcript with, by extension.
func contentType(file string) string {
	switch filepath.Ext(file) {
	case ".ndjson":
		return "application/x-ndjson"
	case ".json":
		return "application/json"
	}
	return "text/event-stream"
}

// serveBody answers every request with body as a 200 of the given type.
func serveBody(t *testing.T, ct string, body *atomic.Pointer[[]byte]) string {
	t.Helper()
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(*body.Load())
	}))
	return srv.URL
}

// TestInStreamErrorForms sends each recorded form of a mid-stream error
// through the client and checks that it is a failure of the right kind that
// carries the server's own message, never a success.
func TestInStreamErrorForms(t *testing.T) {
	cases := []struct {
		file  string
		proto targets.Protocol
		kind  results.ErrorKind
		msg   string // a substring of the recorded message
	}{
		{"llamacpp_error_field_oai.sse", openai.Chat{}, results.KindStream, "server_error: Input prompt is too big compared to KV size."},
		{"llamacpp_error_field_completion.sse", llamacpp.Completion{}, results.KindStream, "exceed_context_size_error: the request exceeds the available context size"},
		{"llamacpp_data_error.sse", openai.Chat{}, results.KindStream, "server_error: Failed to decode the batch"},
		{"llamacpp_anthropic_error.sse", anthropic.Messages{}, results.KindStream, "exceed_context_size_error: the request exceeds the available context size"},
		{"vllm_error_object.sse", openai.Chat{}, results.KindStream, "InternalServerError: Engine loop has died"},
		{"vllm_legacy_object_error.sse", openai.Chat{}, results.KindStream, "was preempted and could not be resumed"},
		{"vllm_finish_abort.sse", openai.Chat{}, results.KindStream, `finish_reason "abort"`},
		{"vllm_finish_error.sse", openai.Chat{}, results.KindStream, `finish_reason "error"`},
		{"sglang_abort_error.sse", openai.Chat{}, results.KindStream, "TransferFailed: The request was aborted: KV transfer failed"},
		{"tgi_generate_error.sse", tgi.GenerateStream{}, results.KindStream, "generation: Request failed during generation: Server error: CUDA out of memory"},
		{"tgi_chat_error.sse", openai.Chat{}, results.KindStream, "Incomplete generation stream"},
		{"anthropic_overloaded.sse", anthropic.Messages{}, results.KindStream, "overloaded_error: Overloaded"},
		{"event_error_plain_text.sse", openai.Chat{}, results.KindStream, "upstream request timed out"},
		{"event_error_message_object.sse", openai.Chat{}, results.KindStream, "The worker crashed and generation stopped"},
		{"ollama_openai_bare_error.sse", openai.Chat{}, results.KindStream, "api_error: model runner has unexpectedly stopped"},
		{"responses_failed.sse", openai.Responses{}, results.KindStream, "server_error: The model failed to generate a response."},
		{"responses_error_event.sse", openai.Responses{}, results.KindStream, "rate_limit_exceeded: Rate limit reached"},
		{"triton_error.sse", triton.Generate{}, results.KindStream, "out of KV cache blocks"},
		{"ollama_error.ndjson", ollama.API{}, results.KindStream, "unexpected EOF"},
		{"truncated.sse", openai.Chat{}, results.KindStream, "stream ended without its terminator"},
		{"http200_json_error.json", openai.Chat{}, results.KindStream, "NotFoundError: The model `gpt-x` does not exist."},
		{"unknown_fields_only.sse", triton.Generate{}, results.KindStream, "stream ended without any event"},
		{"unknown_fields_only.sse", openai.Chat{}, results.KindStream, "stream ended without its terminator"},
		{"unknown_fields_then_done.sse", openai.Chat{}, results.KindStream, "nothing but its terminator"},
		{"gateway_unescaped_error.sse", openai.Chat{}, results.KindStream, `{"error": "upstream said "quota exceeded" for key ***"}`},
		{"proxy_typed_error_on_chat.sse", openai.Chat{}, results.KindStream, "overloaded_error: Overloaded"},
		{"event_error_no_data.sse", openai.Chat{}, results.KindStream, "error event without details"},
		{"proxy_html_mid_stream.sse", openai.Chat{}, results.KindStream, `without its terminator (last unrecognised line "</html>")`},
		{"multiline_data_error.sse", openai.Chat{}, results.KindStream, "server_error: upstream overloaded, retry later"},
		{"proxy_pretty_json_error.sse", openai.Chat{}, results.KindStream, "server_error: upstream overloaded, retry later"},
		{"proxy_pretty_json_error.sse", triton.Generate{}, results.KindStream, "server_error: upstream overloaded, retry later"},
		{"proxy_pretty_json_error_mid_stream.sse", openai.Chat{}, results.KindStream, "server_error: upstream overloaded, retry later"},
		{"proxy_pretty_json_error_cut.sse", openai.Chat{}, results.KindStream, `"error": "cut off`},
		{"bare_non_error_then_eof.sse", openai.Chat{}, results.KindStream, `last unrecognised line "{\"status\":\"shutting down\"}"`},
	}
	seen := map[string]bool{}
	for _, tc := range cases {
		seen[tc.file] = true
		t.Run(strings.TrimSuffix(tc.file, filepath.Ext(tc.file))+"/"+tc.proto.Name(), func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join(streamErrDir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			var p atomic.Pointer[[]byte]
			p.Store(&body)
			c, err := targets.NewClient(serveBody(t, contentType(tc.file), &p), tc.proto)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.CloseIdle)
			resp := c.Do(context.Background(), &targets.Request{Model: "m", Prompt: "hi", MaxTokens: 8})
			if resp.Err == nil {
				t.Fatalf("succeeded (content %q); want %s %q", resp.Content.String(), tc.kind, tc.msg)
			}
			if resp.Err.Kind != tc.kind || !strings.Contains(resp.Err.Message, tc.msg) {
				t.Errorf("error %s %q, want %s containing %q", resp.Err.Kind, resp.Err.Message, tc.kind, tc.msg)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join(streamErrDir, "*.*"))
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no case", f)
		}
	}
}

// TestErrorMessage checks the rendering of every error shape in the survey,
// and of payloads that are not errors at all.
func TestErrorMessage(t *testing.T) {
	for _, tc := range errorMessageCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := targets.ErrorMessage([]byte(tc.data)); got != tc.want {
				t.Errorf("ErrorMessage(%q) = %q, want %q", tc.data, got, tc.want)
			}
		})
	}
	long := targets.ErrorMessage(bytes.Repeat([]byte("é"), 4000))
	if len(long) > targets.MaxErrorMessage+3 || !utf8.ValidString(long) {
		t.Errorf("long message: %d bytes, valid UTF-8 %v", len(long), utf8.ValidString(long))
	}
}

// errorMessageCases are ErrorMessage's table, and seeds of FuzzErrorMessage.
var errorMessageCases = []struct{ name, data, want string }{
	{"openai nested", `{"error":{"message":"m","type":"invalid_request_error","param":null,"code":null}}`, "invalid_request_error: m"},
	{"vllm object error", `{"object":"error","message":"m","type":"BadRequestError","code":400}`, "BadRequestError: m"},
	{"tgi string with type", `{"error":"m","error_type":"generation"}`, "generation: m"},
	{"ollama string", `{"error":"m"}`, "m"},
	{"anthropic envelope", `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`, "overloaded_error: Overloaded"},
	{"responses flat", `{"type":"error","code":"server_error","message":"m","param":null}`, "server_error: m"},
	{"llama.cpp bare object", `{"code":500,"message":"m","type":"server_error"}`, "server_error: m"},
	{"fastapi detail", `{"detail":"m"}`, "m"},
	{"json string", `"m"`, "m"},
	{"plain text", "upstream timed out\n", "upstream timed out"},
	{"empty", "", "error event without details"},
	{"envelope only", `{"type":"error"}`, "error event without details"},
	{"odd shape", `{"error":[1,2]}`, "error event without details: [1,2]"},
	{"unknown object", `{"status":"bad"}`, `error event without details: {"status":"bad"}`},
	{"control characters", "line one\nline\ttwo\x00", "line one line two"},
	{"invalid UTF-8", "bad \xff byte", "bad \uFFFD byte"},
	{"deep nesting stops", `{"error":{"error":{"error":{"error":{"error":{"message":"m"}}}}}}`, `error event without details: {"error":{"message":"m"}}`},
}

func TestIsErrorObject(t *testing.T) {
	for data, want := range map[string]bool{
		`{"error":{"message":"m"}}`:               true,
		`{"error":"m"}`:                           true,
		`{"error":""}`:                            true,
		`{"object":"error","message":"m"}`:        true,
		`{"type":"error","error":{}}`:             true,
		`{"error":null,"choices":[]}`:             false,
		`{"error":false}`:                         false,
		`{"choices":[{"delta":{"content":"x"}}]}`: false,
		`{"type":"message_start"}`:                false,
		`[{"error":"m"}]`:                         false,
		`{"error":`:                               false,
		`error`:                                   false,
		``:                                        false,
	} {
		if got := targets.IsErrorObject([]byte(data)); got != want {
			t.Errorf("IsErrorObject(%q) = %v, want %v", data, got, want)
		}
	}
}

// FuzzErrorMessage: any payload renders as one non-empty, bounded line of
// valid UTF-8. Its seed corpus (testdata/fuzz/FuzzErrorMessage) is
// errorMessageCases, written by TestFuzzCorpus -gencorpus.
func FuzzErrorMessage(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = targets.IsErrorObject(data)
		m := targets.ErrorMessage(data)
		if m == "" || !utf8.ValidString(m) || len(m) > targets.MaxErrorMessage+3 || strings.ContainsAny(m, "\r\n\x00") {
			t.Fatalf("ErrorMessage(%q) = %q", data, m)
		}
	})
}

// FuzzClientStream sends arbitrary bodies as an OpenAI chat stream through
// the client. Every one must end, and a success must have come from a stream
// with its terminator and no error frame in it; a failure's message must be
// one bounded line of valid UTF-8. Its seed corpus
// (testdata/fuzz/FuzzClientStream) is the transcripts of testdata/streamerr,
// written by TestFuzzCorpus -gencorpus.
func FuzzClientStream(f *testing.F) {
	var body atomic.Pointer[[]byte]
	empty := []byte{}
	body.Store(&empty)
	// One server for the whole run: fuzz inputs run one at a time in a
	// process.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(*body.Load())
	}))
	f.Cleanup(srv.Close)
	f.Fuzz(func(t *testing.T, in []byte) {
		body.Store(&in)
		c, err := targets.NewClient(srv.URL, openai.Chat{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.CloseIdle()
		resp := c.Do(context.Background(), &targets.Request{Model: "m", Prompt: "p"})
		if resp.Err == nil {
			if !bytes.Contains(in, []byte("[DONE]")) {
				t.Fatalf("success without a terminator: %q", in)
			}
			fr := targets.NewSSEReader(bytes.NewReader(in), 0)
			var fm targets.Frame
			for fr.Next(&fm) == nil {
				if string(fm.Event) == "error" || (fm.Bare && targets.IsErrorObject(fm.Data)) {
					t.Fatalf("success over an error frame %q in %q", fm.Data, in)
				}
			}
			return
		}
		if m := resp.Err.Message; m == "" || !utf8.ValidString(m) || strings.ContainsAny(m, "\r\n") {
			t.Fatalf("error message %q", m)
		}
	})
}

// strictDecoder stands for any protocol's decoder: it accepts only
// {"text": "..."} frames and reports {"fail": "..."} as an error of its own.
type strictDecoder struct{}

func (strictDecoder) Decode(f *targets.Frame, ev *targets.Event) error {
	var m map[string]string
	if err := json.Unmarshal(f.Data, &m); err != nil {
		return err
	}
	if s, ok := m["fail"]; ok {
		ev.Err = "decoder: " + s
		return nil
	}
	t, ok := m["text"]
	if !ok {
		return errors.New("no text")
	}
	ev.Content = t
	return nil
}

// TestDecodeFrame checks the rules every protocol shares, around a decoder
// that knows nothing of them.
func TestDecodeFrame(t *testing.T) {
	cases := []struct {
		name    string
		frame   targets.Frame
		want    targets.Event
		wantErr bool
	}{
		{"a frame the decoder reads", targets.Frame{Data: []byte(`{"text":"x"}`)}, targets.Event{Content: "x"}, false},
		{"a frame the decoder rejects", targets.Frame{Data: []byte(`{"other":1}`)}, targets.Event{}, true},
		{"error event the decoder reads", targets.Frame{Event: []byte("error"), Data: []byte(`{"fail":"f"}`)}, targets.Event{Err: "decoder: f"}, false},
		{"error event the decoder misreads", targets.Frame{Event: []byte("error"), Data: []byte(`{"text":"x"}`)}, targets.Event{Err: `error event without details: {"text":"x"}`}, false},
		{"error event in plain text", targets.Frame{Event: []byte("error"), Data: []byte("boom")}, targets.Event{Err: "boom"}, false},
		{"error event, any case", targets.Frame{Event: []byte("Error"), Data: []byte(`{"message":"m"}`)}, targets.Event{Err: "m"}, false},
		{"error event without data", targets.Frame{Event: []byte("error")}, targets.Event{Err: "error event without details"}, false},
		{"rejected error object", targets.Frame{Data: []byte(`{"error":{"message":"m","type":"t"}}`)}, targets.Event{Err: "t: m"}, false},
		{"rejected broken error object", targets.Frame{Data: []byte(`{ "error" : "say "hi""}`)}, targets.Event{Err: `{ "error" : "say "hi""}`}, false},
		{"rejected broken other object", targets.Frame{Data: []byte(`{"text": "say "hi""}`)}, targets.Event{}, true},
		{"error object the decoder finds nothing in", targets.Frame{Data: []byte(`{"type":"error","error":{"type":"t","message":"m"},"text":""}`)}, targets.Event{Err: "t: m"}, false},
		{"bare error object", targets.Frame{Bare: true, Data: []byte(`{"error":"m"}`)}, targets.Event{Err: "m"}, false},
		{"bare broken error object", targets.Frame{Bare: true, Data: []byte(`{"error":"m`)}, targets.Event{Err: `{"error":"m`}, false},
		{"bare non-error is ignored, not decoded", targets.Frame{Bare: true, Data: []byte(`{"text":"x"}`)}, targets.Event{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ev targets.Event
			err := targets.DecodeFrame(strictDecoder{}, &tc.frame, &ev)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if err == nil && ev != tc.want {
				t.Errorf("event %+v, want %+v", ev, tc.want)
			}
		})
	}
}

// TestHeldOpenAfterTerminator: a server that keeps the stream open after
// [DONE] (a proxy that does not end the body) does not hang the request nor
// fail it, with or without an idle timeout; the response ended at [DONE].
func TestHeldOpenAfterTerminator(t *testing.T) {
	srv := newServer(t, stallHandler(contentChunk("x"), doneChunk, ": keep-alive\n\n"))
	for _, opts := range [][]targets.Option{{targets.WithTimeouts(targets.Timeouts{Idle: 50 * time.Millisecond})}, nil} {
		c := newClient(t, srv.URL, opts...)
		// The deadline only keeps a regression from hanging the test.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		resp := c.Do(ctx, &targets.Request{Model: "m", Prompt: "p"})
		if resp.Err != nil {
			t.Fatalf("error %+v", resp.Err)
		}
		if resp.Content.String() != "x" || len(resp.Frames) != 1 || resp.Done < resp.Frames[0].At {
			t.Errorf("content %q, %d frames, done %v", resp.Content.String(), len(resp.Frames), resp.Done)
		}
	}
}
