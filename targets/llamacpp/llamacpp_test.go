package llamacpp_test

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
	"github.com/streamgauge/streamgauge/targets/llamacpp"
	"github.com/streamgauge/streamgauge/targets/sim"
)

var update = flag.Bool("update", false, "rewrite the golden files and the fuzz seed corpus")

var proto = llamacpp.Completion{}

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
		{name: "invalid JSON", data: `{"content":`, wantErr: true},
		{name: "null", data: `null`, wantErr: true},
		{name: "array", data: `[{"content":"x"}]`, wantErr: true},
		{name: "empty object", data: `{}`, wantErr: true},
		{name: "content a number", data: `{"content":1,"stop":false}`, wantErr: true},
		{name: "stop a string", data: `{"content":"x","stop":"false"}`, wantErr: true},
		{name: "error string", data: `{"error":"Loading model"}`, want: targets.Event{Err: "Loading model"}},
		{name: "error without type", data: `{"error":{"code":503,"message":"Loading model"}}`, want: targets.Event{Err: "Loading model"}},
		{name: "empty error", data: `{"error":""}`, want: targets.Event{Err: "error in stream"}},
		{name: "error object without message", data: `{"error":{"code":500}}`, want: targets.Event{Err: `{"code":500}`}},
		{name: "stop without counts", data: `{"content":"","stop":true}`, want: targets.Event{Done: true}},
		{name: "content with stop", data: `{"content":"x","stop":true,"tokens_predicted":1,"tokens_evaluated":2}`,
			want: targets.Event{Content: "x", Tokens: 1, Done: true, Usage: &targets.Usage{PromptTokens: 2, CompletionTokens: 1}}},
		{name: "negative count", data: `{"content":"x","tokens_predicted":-5}`, want: targets.Event{Content: "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ev targets.Event
			err := proto.NewDecoder().Decode(&targets.Frame{Data: []byte(tc.data)}, &ev)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Decode(%s) error = %v, want error %v", tc.data, err, tc.wantErr)
			}
			if err == nil && !equalEvent(ev, tc.want) {
				t.Errorf("Decode(%s) = %+v, want %+v", tc.data, ev, tc.want)
			}
		})
	}
}

func equalEvent(a, b targets.Event) bool {
	if (a.Usage == nil) != (b.Usage == nil) || (a.Usage != nil && *a.Usage != *b.Usage) {
		return false
	}
	a.Usage, b.Usage = nil, nil
	return a == b
}

func TestRequestBody(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  targets.Request
		body string
	}{
		{name: "ignore eos", req: targets.Request{Model: "qwen", Prompt: "Why is the sky blue?", MaxTokens: 64, IgnoreEOS: true},
			body: `{"model":"qwen","prompt":"Why is the sky blue?","n_predict":64,"stream":true,"ignore_eos":true}`},
		{name: "server defaults", req: targets.Request{Prompt: "p"},
			body: `{"prompt":"p","stream":true}`},
		{name: "messages", req: targets.Request{Messages: []targets.Message{{Role: "user", Content: "a"}, {Role: "user", Content: "b"}}, MaxTokens: 2},
			body: `{"prompt":"a\nb","n_predict":2,"stream":true}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := proto.Body(&tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != tc.body {
				t.Errorf("Body = %s\nwant %s", body, tc.body)
			}
			if p := proto.Path(&tc.req); p != "/completion" {
				t.Errorf("Path = %q", p)
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
}

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  targets.Request
		want targets.ServerRequest
	}{
		{name: "prompt", req: targets.Request{Model: "qwen", Prompt: "Why is the sky blue?", MaxTokens: 64, IgnoreEOS: true},
			want: targets.ServerRequest{Model: "qwen", Prompt: "Why is the sky blue?", MaxTokens: 64, IgnoreEOS: true, Stream: true, IncludeUsage: true}},
		{name: "empty prompt", req: targets.Request{},
			want: targets.ServerRequest{Stream: true, IncludeUsage: true}},
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
		`{"prompt":"p"}`: {Prompt: "p", IncludeUsage: true},
		`{"prompt":"p","n_predict":-1,"stream":true}`:    {Prompt: "p", Stream: true, IncludeUsage: true},
		`{"prompt":"p","max_tokens":7,"stream":true}`:    {Prompt: "p", MaxTokens: 7, Stream: true, IncludeUsage: true},
		`{"prompt":"p","n_predict":3,"max_tokens":7}`:    {Prompt: "p", MaxTokens: 3, IncludeUsage: true},
		`{"prompt":"p","cache_prompt":false,"top_k":40}`: {Prompt: "p", IncludeUsage: true},
	} {
		got, err := proto.ParseRequest([]byte(body))
		if err != nil || *got != want {
			t.Errorf("ParseRequest(%s) = %+v, %v, want %+v", body, got, err, want)
		}
	}
	for _, body := range []string{`{`, `{"n_predict":4}`, `{"prompt":[1,2,3]}`, `{"prompt":"p","n_predict":"x"}`} {
		if _, err := proto.ParseRequest([]byte(body)); err == nil {
			t.Errorf("ParseRequest(%s) accepted", body)
		}
	}
}

// TestRoundTrip checks that what the simulator writes decodes to the same
// tokens and usage.
func TestRoundTrip(t *testing.T) {
	tokens := []string{" The", " sky", "", " is", " blue", " \"quoted\"\n", " ✓"}
	for _, max := range []int{len(tokens), 0} {
		req := &targets.ServerRequest{Prompt: "Why is the sky blue?", MaxTokens: max, Stream: true, IncludeUsage: true}
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
		u := targets.Usage{PromptTokens: 5, CompletionTokens: len(tokens)}
		if err := w.Finish(u); err != nil {
			t.Fatal(err)
		}
		tr := decodeStream(buf.Bytes())
		if tr.End != "eof" || len(tr.Events) != len(tokens)+1 {
			t.Fatalf("stream ended with %s after %d events", tr.End, len(tr.Events))
		}
		var content strings.Builder
		counted := 0
		for i, ev := range tr.Events {
			if ev.DecodeError != "" || ev.Err != "" || ev.Done != (i == len(tokens)) {
				t.Fatalf("event %d: %+v", i, ev)
			}
			content.WriteString(ev.Content)
			counted += ev.Tokens
		}
		if content.String() != strings.Join(tokens, "") {
			t.Errorf("content %q", content.String())
		}
		// The empty token's count moves to the next frame with text.
		if counted != len(tokens) {
			t.Errorf("frames count %d tokens, want %d", counted, len(tokens))
		}
		if got := tr.Events[len(tokens)].Usage; got == nil || *got != u {
			t.Errorf("usage %+v, want %+v", got, u)
		}
		var last struct {
			StopType string `json:"stop_type"`
			Prompt   string `json:"prompt"`
			Timings  struct {
				PredictedN int `json:"predicted_n"`
			} `json:"timings"`
		}
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n\n")
		if err := json.Unmarshal([]byte(strings.TrimPrefix(lines[len(lines)-1], "data: ")), &last); err != nil {
			t.Fatal(err)
		}
		wantStop := "limit"
		if max == 0 {
			wantStop = "eos"
		}
		if last.StopType != wantStop || last.Prompt != req.Prompt || last.Timings.PredictedN != len(tokens) {
			t.Errorf("max %d: last event %+v", max, last)
		}
	}
	var buf bytes.Buffer
	w := proto.NewStreamWriter(&buf, &targets.ServerRequest{}, "")
	w.Token("a")
	w.Fail("slot \"crashed\"")
	tr := decodeStream(buf.Bytes())
	if len(tr.Events) != 2 || tr.Events[1].Err != `server_error: slot "crashed"` {
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
	resp := c.Do(context.Background(), &targets.Request{ID: "r1", Prompt: "one two three", MaxTokens: 8, IgnoreEOS: true})
	if resp.Err != nil {
		t.Fatalf("Do: %+v", resp.Err)
	}
	if resp.Status != http.StatusOK || len(resp.Frames) != 8 {
		t.Fatalf("status %d, %d frames", resp.Status, len(resp.Frames))
	}
	for i, f := range resp.Frames {
		if f.Tokens != 1 || !f.Content || f.At <= 0 || (i > 0 && f.At < resp.Frames[i-1].At) {
			t.Errorf("frame %d: %+v", i, f)
		}
	}
	if want := (targets.Usage{PromptTokens: 3, CompletionTokens: 8}); resp.Usage == nil || *resp.Usage != want {
		t.Errorf("usage %+v, want %+v", resp.Usage, want)
	}
	if !strings.HasPrefix(resp.Content.String(), " the of and") {
		t.Errorf("content %q", resp.Content.String())
	}

	ts = newServer(t, failing{n: 2})
	c, _ = targets.NewClient(ts.URL, proto)
	resp = c.Do(context.Background(), &targets.Request{Prompt: "p", MaxTokens: 8})
	if resp.Err == nil || resp.Err.Kind != results.KindStream || !strings.Contains(resp.Err.Message, "simulated engine failure") {
		t.Fatalf("Do with failing engine: %+v", resp.Err)
	}
	if len(resp.Frames) != 2 {
		t.Errorf("%d frames before the error, want 2", len(resp.Frames))
	}
}
