package triton_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/sim"
	"github.com/streamgauge/streamgauge/targets/targetstest"
	"github.com/streamgauge/streamgauge/targets/triton"
)

var update = flag.Bool("update", false, "rewrite the golden files and the fuzz seed corpus")

var proto = triton.Generate{}

// TestGolden decodes every testdata/NAME.sse and compares the transcript
// with NAME.golden.json (-update rewrites them and the fuzz seed corpus).
func TestGolden(t *testing.T) {
	targetstest.Golden(t, proto, "testdata/*.sse", *update)
}

func TestDecodeErrors(t *testing.T) {
	targetstest.CheckDecodes(t, proto, []targetstest.DecodeCase{
		{Name: "invalid JSON", Data: `{"text_output":`, WantErr: true},
		{Name: "null", Data: `null`, WantErr: true},
		{Name: "array", Data: `[{"text_output":"x"}]`, WantErr: true},
		{Name: "empty object", Data: `{}`, WantErr: true},
		{Name: "text_output a number", Data: `{"text_output":5}`, WantErr: true},
		{Name: "text_output an object", Data: `{"text_output":{"a":"b"}}`, WantErr: true},
		{Name: "text_output mixed array", Data: `{"text_output":["a",1]}`, WantErr: true},
		{Name: "null text_output", Data: `{"model_name":"m","text_output":null}`},
		{Name: "null text_output alone", Data: `{"text_output":null}`},
		{Name: "error object", Data: `{"error":{"message":"upstream timeout"}}`, Want: targets.Event{Err: "upstream timeout"}},
		{Name: "empty error", Data: `{"error":""}`, Want: targets.Event{Err: "error in stream"}},
		{Name: "error number", Data: `{"error":503}`, Want: targets.Event{Err: "503"}},
	})
}

func TestRequestBody(t *testing.T) {
	for _, tc := range []struct {
		name       string
		req        targets.Request
		path, body string
	}{
		{name: "ensemble", req: targets.Request{Model: "ensemble", Prompt: "Why is the sky blue?", MaxTokens: 64},
			path: "/v2/models/ensemble/generate_stream", body: `{"text_input":"Why is the sky blue?","max_tokens":64,"stream":true}`},
		{name: "ignore eos", req: targets.Request{Model: "tensorrt_llm_bls", Prompt: "p", MaxTokens: 16, IgnoreEOS: true},
			path: "/v2/models/tensorrt_llm_bls/generate_stream", body: `{"text_input":"p","max_tokens":16,"min_length":16,"stream":true}`},
		{name: "escaped model", req: targets.Request{Model: "org/llama 3?", Prompt: "p", MaxTokens: 1},
			path: "/v2/models/org%2Fllama%203%3F/generate_stream", body: `{"text_input":"p","max_tokens":1,"stream":true}`},
		{name: "default model", req: targets.Request{Messages: []targets.Message{{Role: "user", Content: "a"}, {Role: "user", Content: "b"}}},
			path: "/v2/models/ensemble/generate_stream", body: `{"text_input":"a\nb","stream":true}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := proto.Body(&tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != tc.body {
				t.Errorf("Body = %s\nwant %s", body, tc.body)
			}
			if p := proto.Path(&tc.req); p != tc.path {
				t.Errorf("Path = %q, want %q", p, tc.path)
			}
		})
	}
	targetstest.CheckBearer(t, proto, "k")
	if !proto.EndsAtEOF() {
		t.Error("generate_stream has no terminator: EndsAtEOF must be true")
	}
}

func TestParseRequest(t *testing.T) {
	targetstest.CheckRequests(t, proto, []targetstest.RequestCase{
		{Name: "prompt", Req: targets.Request{Model: "ensemble", Prompt: "Why is the sky blue?", MaxTokens: 64},
			Want: targets.ServerRequest{Prompt: "Why is the sky blue?", MaxTokens: 64, Stream: true}},
		{Name: "ignore eos", Req: targets.Request{Prompt: "p", MaxTokens: 16, IgnoreEOS: true},
			Want: targets.ServerRequest{Prompt: "p", MaxTokens: 16, MinTokens: 16, IgnoreEOS: true, Stream: true}},
		{Name: "empty prompt", Req: targets.Request{},
			Want: targets.ServerRequest{Stream: true}},
	})
	targetstest.CheckParse(t, proto, map[string]targets.ServerRequest{
		`{"text_input":"p","parameters":{"max_tokens":8,"stream":true}}`:                 {Prompt: "p", MaxTokens: 8, Stream: true},
		`{"text_input":"p","max_tokens":4,"parameters":{"max_tokens":8,"min_length":2}}`: {Prompt: "p", MaxTokens: 4, MinTokens: 2, Stream: true},
	})
	targetstest.CheckRejects(t, proto, `{`, `{"max_tokens":4}`, `{"text_input":"p","max_tokens":-1}`, `{"text_input":"p","max_tokens":1.5}`, `{"text_input":5}`)
}

// TestRoundTrip checks that what the simulator writes decodes to the same
// tokens.
func TestRoundTrip(t *testing.T) {
	tokens := []string{" The", " sky", "", " is", " blue", " \"quoted\"\n", " ✓"}
	for _, model := range []string{"", "llama\"3"} {
		req := &targets.ServerRequest{Model: model, Prompt: "p", MaxTokens: len(tokens), Stream: true}
		var buf bytes.Buffer
		w := proto.NewStreamWriter(&buf, req, "id-1")
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		for _, tok := range tokens {
			if err := w.Token(tok); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Finish(targets.Usage{PromptTokens: 1, CompletionTokens: len(tokens)}); err != nil {
			t.Fatal(err)
		}
		want := model
		if want == "" {
			want = triton.DefaultModel
		}
		q, _ := json.Marshal(want)
		if !strings.HasPrefix(buf.String(), `data: {"model_name":`+string(q)+`,"model_version":"1",`) {
			t.Errorf("model %q: stream %s", model, buf.String())
		}
		tr := targetstest.Decode(proto, buf.Bytes())
		if tr.End != "eof" || len(tr.Events) != len(tokens) {
			t.Fatalf("stream ended with %s after %d events", tr.End, len(tr.Events))
		}
		var content strings.Builder
		for i, ev := range tr.Events {
			if ev.DecodeError != "" || ev.Err != "" || ev.Done || ev.Usage != nil || ev.Content != tokens[i] {
				t.Fatalf("event %d: %+v", i, ev)
			}
			content.WriteString(ev.Content)
		}
		if content.String() != strings.Join(tokens, "") {
			t.Errorf("content %q", content.String())
		}
	}
	var buf bytes.Buffer
	w := proto.NewStreamWriter(&buf, &targets.ServerRequest{}, "")
	w.Token("a")
	w.Fail("executor \"failed\"")
	tr := targetstest.Decode(proto, buf.Bytes())
	if len(tr.Events) != 2 || tr.Events[1].Err != `executor "failed"` {
		t.Errorf("Fail decoded to %+v", tr)
	}
}

func TestClient(t *testing.T) {
	ts := targetstest.NewServer(t, proto, sim.Fixed{TTFT: time.Millisecond, ITL: 100 * time.Microsecond})
	c, err := targets.NewClient(ts.URL, proto)
	if err != nil {
		t.Fatal(err)
	}
	for _, model := range []string{"ensemble", "org/llama 3"} {
		t.Run(model, func(t *testing.T) {
			resp := c.Do(context.Background(), &targets.Request{ID: "r1", Model: model, Prompt: "one two three", MaxTokens: 8})
			if resp.Err != nil {
				t.Fatalf("Do: %+v (the stream ends at EOF: the client must honour targets.EOFTerminated)", resp.Err)
			}
			if resp.Status != http.StatusOK || len(resp.Frames) != 8 {
				t.Fatalf("status %d, %d frames", resp.Status, len(resp.Frames))
			}
			for i, f := range resp.Frames {
				if !f.Content || f.Tokens != 0 || f.At <= 0 || (i > 0 && f.At < resp.Frames[i-1].At) {
					t.Errorf("frame %d: %+v", i, f)
				}
			}
			if resp.Usage != nil {
				t.Errorf("usage %+v from a server that sends none", resp.Usage)
			}
			if !strings.HasPrefix(resp.Content.String(), " the of and") {
				t.Errorf("content %q", resp.Content.String())
			}
		})
	}

	targetstest.CheckEngineFailure(t, proto, &targets.Request{Prompt: "p", MaxTokens: 8})
}

// TestClientEOF checks the end of a generate_stream: the server closing after
// a whole event is a complete stream; closing inside one is not.
func TestClientEOF(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		wantErr    bool
	}{
		{name: "closed after an event", body: "data: {\"model_name\":\"ensemble\",\"text_output\":\" a\"}\n\ndata: {\"model_name\":\"ensemble\",\"text_output\":\" b\"}\n\n"},
		{name: "closed inside an event", body: "data: {\"model_name\":\"ensemble\",\"text_output\":\" a\"}\n\ndata: {\"model_name\":\"ens", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
				io.WriteString(w, tc.body)
			}))
			defer ts.Close()
			c, err := targets.NewClient(ts.URL, proto)
			if err != nil {
				t.Fatal(err)
			}
			resp := c.Do(context.Background(), &targets.Request{Model: "ensemble", Prompt: "p", MaxTokens: 2})
			if tc.wantErr {
				if resp.Err == nil || resp.Err.Kind != results.KindStream {
					t.Fatalf("Do: %+v, want a stream error", resp.Err)
				}
				return
			}
			if resp.Err != nil || resp.Content.String() != " a b" {
				t.Fatalf("Do: %+v, content %q", resp.Err, resp.Content.String())
			}
		})
	}
}
