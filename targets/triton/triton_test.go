package triton_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/sim"
	"github.com/streamgauge/streamgauge/targets/triton"
)

var update = flag.Bool("update", false, "rewrite the golden files and the fuzz seed corpus")

var proto = triton.Generate{}

// goldenEvent is a decoded frame as the golden files record it.
type goldenEvent struct {
	Content     string         `json:"content,omitempty"`
	Reasoning   string         `json:"reasoning,omitempty"`
	ToolArgs    string         `json:"tool_args,omitempty"`
	Tokens      int            `json:"tokens,omitempty"`
	Usage       *targets.Usage `json:"usage,omitempty"`
	Done        bool           `json:"done,omitempty"`
	Err         string         `json:"err,omitempty"`
	DecodeError string         `json:"decode_error,omitempty"`
}

// transcript is what a whole recorded stream decodes to.
type transcript struct {
	Events []goldenEvent `json:"events"`
	// End is how the frame reader stopped: "eof" or its error.
	End string `json:"end"`
}

// decodeStream runs a recorded body through the frame reader and a decoder,
// as the client does, but keeps going after a decode error so the golden
// file shows every frame.
func decodeStream(body []byte) transcript {
	fr := targets.NewFrameReader(proto.Framing(), bytes.NewReader(body), 0)
	dec := proto.NewDecoder()
	var tr transcript
	var f targets.Frame
	for {
		err := fr.Next(&f)
		if errors.Is(err, io.EOF) {
			tr.End = "eof"
			return tr
		}
		if err != nil {
			tr.End = err.Error()
			return tr
		}
		var ev targets.Event
		var g goldenEvent
		if err := dec.Decode(&f, &ev); err != nil {
			g.DecodeError = err.Error()
		} else {
			g = goldenEvent{Content: ev.Content, Reasoning: ev.Reasoning, ToolArgs: ev.ToolArgs,
				Tokens: ev.Tokens, Usage: ev.Usage, Done: ev.Done, Err: ev.Err}
		}
		tr.Events = append(tr.Events, g)
	}
}

func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.sse")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".sse")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(decodeStream(body), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				seed := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", body)
				if err := os.WriteFile(filepath.Join("testdata", "fuzz", "FuzzDecode", name), []byte(seed), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("decoded %s differs from %s:\n got: %s\nwant: %s", file, golden, got, want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		wantErr    bool
		want       targets.Event
	}{
		{name: "invalid JSON", data: `{"text_output":`, wantErr: true},
		{name: "null", data: `null`, wantErr: true},
		{name: "array", data: `[{"text_output":"x"}]`, wantErr: true},
		{name: "empty object", data: `{}`, wantErr: true},
		{name: "text_output a number", data: `{"text_output":5}`, wantErr: true},
		{name: "text_output an object", data: `{"text_output":{"a":"b"}}`, wantErr: true},
		{name: "text_output mixed array", data: `{"text_output":["a",1]}`, wantErr: true},
		{name: "null text_output", data: `{"model_name":"m","text_output":null}`},
		{name: "null text_output alone", data: `{"text_output":null}`},
		{name: "error object", data: `{"error":{"message":"upstream timeout"}}`, want: targets.Event{Err: "upstream timeout"}},
		{name: "empty error", data: `{"error":""}`, want: targets.Event{Err: "error in stream"}},
		{name: "error number", data: `{"error":503}`, want: targets.Event{Err: "503"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ev targets.Event
			err := proto.NewDecoder().Decode(&targets.Frame{Data: []byte(tc.data)}, &ev)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Decode(%s) error = %v, want error %v", tc.data, err, tc.wantErr)
			}
			if err == nil && ev != tc.want {
				t.Errorf("Decode(%s) = %+v, want %+v", tc.data, ev, tc.want)
			}
		})
	}
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
	h := http.Header{}
	proto.Authorize(h, "")
	if len(h) != 0 {
		t.Errorf("Authorize without key set %v", h)
	}
	proto.Authorize(h, "k")
	if got := h.Get("Authorization"); got != "Bearer k" {
		t.Errorf("Authorization = %q", got)
	}
	if !proto.EndsAtEOF() {
		t.Error("generate_stream has no terminator: EndsAtEOF must be true")
	}
}

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  targets.Request
		want targets.ServerRequest
	}{
		{name: "prompt", req: targets.Request{Model: "ensemble", Prompt: "Why is the sky blue?", MaxTokens: 64},
			want: targets.ServerRequest{Prompt: "Why is the sky blue?", MaxTokens: 64, Stream: true}},
		{name: "ignore eos", req: targets.Request{Prompt: "p", MaxTokens: 16, IgnoreEOS: true},
			want: targets.ServerRequest{Prompt: "p", MaxTokens: 16, MinTokens: 16, IgnoreEOS: true, Stream: true}},
		{name: "empty prompt", req: targets.Request{},
			want: targets.ServerRequest{Stream: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := proto.Body(&tc.req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := proto.ParseRequest(body)
			if err != nil {
				t.Fatalf("ParseRequest(%s): %v", body, err)
			}
			if *got != tc.want {
				t.Errorf("ParseRequest(%s) = %+v, want %+v", body, *got, tc.want)
			}
		})
	}
	for body, want := range map[string]targets.ServerRequest{
		`{"text_input":"p","parameters":{"max_tokens":8,"stream":true}}`:                 {Prompt: "p", MaxTokens: 8, Stream: true},
		`{"text_input":"p","max_tokens":4,"parameters":{"max_tokens":8,"min_length":2}}`: {Prompt: "p", MaxTokens: 4, MinTokens: 2, Stream: true},
	} {
		got, err := proto.ParseRequest([]byte(body))
		if err != nil || *got != want {
			t.Errorf("ParseRequest(%s) = %+v, %v, want %+v", body, got, err, want)
		}
	}
	for _, body := range []string{`{`, `{"max_tokens":4}`, `{"text_input":"p","max_tokens":-1}`, `{"text_input":"p","max_tokens":1.5}`, `{"text_input":5}`} {
		if _, err := proto.ParseRequest([]byte(body)); err == nil {
			t.Errorf("ParseRequest(%s) accepted", body)
		}
	}
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
		tr := decodeStream(buf.Bytes())
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
	tr := decodeStream(buf.Bytes())
	if len(tr.Events) != 2 || tr.Events[1].Err != `executor "failed"` {
		t.Errorf("Fail decoded to %+v", tr)
	}
}

// failing is an engine that emits n tokens and then fails.
type failing struct{ n int }

func (e failing) Generate(ctx context.Context, job *sim.Job, emit func(int) error) error {
	for i := 0; i < e.n; i++ {
		if err := emit(i); err != nil {
			return err
		}
	}
	return errors.New("simulated engine failure")
}

func newServer(t *testing.T, eng sim.Engine) *httptest.Server {
	t.Helper()
	srv, err := sim.New(sim.WithProtocols(proto), sim.WithEngine(eng))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}

func TestClient(t *testing.T) {
	ts := newServer(t, sim.Fixed{TTFT: time.Millisecond, ITL: 100 * time.Microsecond})
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

	ts = newServer(t, failing{n: 2})
	c, _ = targets.NewClient(ts.URL, proto)
	resp := c.Do(context.Background(), &targets.Request{Prompt: "p", MaxTokens: 8})
	if resp.Err == nil || resp.Err.Kind != results.KindStream || !strings.Contains(resp.Err.Message, "simulated engine failure") {
		t.Fatalf("Do with failing engine: %+v", resp.Err)
	}
	if len(resp.Frames) != 2 {
		t.Errorf("%d frames before the error, want 2", len(resp.Frames))
	}
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
