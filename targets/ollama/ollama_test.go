package ollama_test

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
	"github.com/streamgauge/streamgauge/targets/ollama"
	"github.com/streamgauge/streamgauge/targets/sim"
)

var update = flag.Bool("update", false, "rewrite the golden files and the fuzz seed corpus")

var proto = ollama.API{}

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
	files, err := filepath.Glob("testdata/*.ndjson")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".ndjson")
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
		{name: "invalid JSON", data: `{"response":`, wantErr: true},
		{name: "null", data: `null`, wantErr: true},
		{name: "array", data: `[{"done":true}]`, wantErr: true},
		{name: "no done", data: `{"response":"x"}`, wantErr: true},
		{name: "done not a bool", data: `{"response":"x","done":"false"}`, wantErr: true},
		{name: "sse line", data: `data: {"done":false}`, wantErr: true},
		{name: "error object", data: `{"error":{"message":"model not found","type":"not_found"}}`, want: targets.Event{Err: "not_found: model not found"}},
		{name: "empty error", data: `{"error":""}`, want: targets.Event{Err: "error in stream"}},
		{name: "done without counts", data: `{"done":true}`, want: targets.Event{Done: true}},
		{name: "zero eval count", data: `{"done":true,"eval_count":0,"prompt_eval_count":5}`, want: targets.Event{Done: true, Usage: &targets.Usage{PromptTokens: 5}}},
		{name: "string arguments", data: `{"message":{"tool_calls":[{"function":{"arguments":"{\"a\":1}"}}]},"done":false}`, want: targets.Event{ToolArgs: `{"a":1}`}},
		{name: "message wins over response", data: `{"response":"x","message":{"content":"x"},"done":false}`, want: targets.Event{Content: "x"}},
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
		name       string
		req        targets.Request
		path, body string
	}{
		{name: "generate", req: targets.Request{Model: "llama3.2", Prompt: "Why is the sky blue?", MaxTokens: 64, IgnoreEOS: true},
			path: "/api/generate", body: `{"model":"llama3.2","prompt":"Why is the sky blue?","stream":true,"options":{"num_predict":64}}`},
		{name: "chat", req: targets.Request{Model: "llama3.2", Prompt: "ignored", Messages: []targets.Message{{Role: "user", Content: "Hi"}}, MaxTokens: 8},
			path: "/api/chat", body: `{"model":"llama3.2","messages":[{"role":"user","content":"Hi"}],"stream":true,"options":{"num_predict":8}}`},
		{name: "no max", req: targets.Request{Model: "m", Prompt: "p"},
			path: "/api/generate", body: `{"model":"m","prompt":"p","stream":true}`},
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
}

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  targets.Request
		want targets.ServerRequest
	}{
		{name: "generate", req: targets.Request{Model: "llama3.2", Prompt: "Why is the sky blue?", MaxTokens: 64},
			want: targets.ServerRequest{Model: "llama3.2", Prompt: "Why is the sky blue?", MaxTokens: 64, Stream: true, IncludeUsage: true}},
		{name: "chat", req: targets.Request{Model: "m", Messages: []targets.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Hi"}}, MaxTokens: 3},
			want: targets.ServerRequest{Model: "m", Prompt: "Be brief.\nHi", MaxTokens: 3, Stream: true, IncludeUsage: true, Chat: true}},
		{name: "empty prompt", req: targets.Request{Model: "m"},
			want: targets.ServerRequest{Model: "m", Stream: true, IncludeUsage: true}},
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
		`{"model":"m","prompt":"p","stream":false}`:                      {Model: "m", Prompt: "p", IncludeUsage: true},
		`{"model":"m","prompt":"p","options":{"num_predict":100.0}}`:     {Model: "m", Prompt: "p", MaxTokens: 100, Stream: true, IncludeUsage: true},
		`{"model":"m","prompt":"p","options":{"num_predict":-1}}`:        {Model: "m", Prompt: "p", Stream: true, IncludeUsage: true},
		`{"model":"m","prompt":"p","options":{"temperature":0.2},"x":1}`: {Model: "m", Prompt: "p", Stream: true, IncludeUsage: true},
	} {
		got, err := proto.ParseRequest([]byte(body))
		if err != nil || *got != want {
			t.Errorf("ParseRequest(%s) = %+v, %v, want %+v", body, got, err, want)
		}
	}
	for _, body := range []string{`{`, `{"model":"m"}`, `{"prompt":5}`, `{"prompt":"p","options":{"num_predict":"x"}}`} {
		if _, err := proto.ParseRequest([]byte(body)); err == nil {
			t.Errorf("ParseRequest(%s) accepted", body)
		}
	}
}

// TestRoundTrip checks that what the simulator writes decodes to the same
// tokens and usage, and that each line is a valid generate and chat line.
// TestRoundTrip checks both routes: /api/generate answers carry
// "response", /api/chat answers carry "message".
func TestRoundTrip(t *testing.T) {
	for _, chat := range []bool{false, true} {
		t.Run(map[bool]string{false: "generate", true: "chat"}[chat], func(t *testing.T) { roundTrip(t, chat) })
	}
}

func roundTrip(t *testing.T, chat bool) {
	tokens := []string{" The", " sky", "", " is", " blue", " \"quoted\"\n", " ✓"}
	req := &targets.ServerRequest{Model: "m\"1", Prompt: "p", MaxTokens: len(tokens), Stream: true, IncludeUsage: true, Chat: chat}
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
	u := targets.Usage{PromptTokens: 11, CompletionTokens: len(tokens)}
	if err := w.Finish(u); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(tokens)+1 {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(tokens)+1, buf.String())
	}
	for i, l := range lines {
		var line struct {
			Model     string    `json:"model"`
			CreatedAt time.Time `json:"created_at"`
			Response  *string   `json:"response"`
			Message   *struct {
				Role, Content string
			} `json:"message"`
			Done       bool   `json:"done"`
			DoneReason string `json:"done_reason"`
			EvalCount  int    `json:"eval_count"`
		}
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		shapeOK := line.Response != nil && line.Message == nil
		if chat {
			shapeOK = line.Response == nil && line.Message != nil && line.Message.Role == "assistant"
		}
		if line.Model != req.Model || line.CreatedAt.IsZero() || !shapeOK {
			t.Errorf("line %d: %s", i, l)
		}
		if last := i == len(lines)-1; line.Done != last || (last && (line.DoneReason != "length" || line.EvalCount != len(tokens))) {
			t.Errorf("line %d: %s", i, l)
		}
	}
	tr := decodeStream(buf.Bytes())
	if tr.End != "eof" {
		t.Fatalf("stream ended with %s", tr.End)
	}
	var content strings.Builder
	var usage *targets.Usage
	frames := 0
	for i, ev := range tr.Events {
		if ev.DecodeError != "" || ev.Err != "" || ev.Tokens != 0 || ev.Done != (i == len(tr.Events)-1) {
			t.Fatalf("event %d: %+v", i, ev)
		}
		if ev.Content != "" {
			frames++
		}
		content.WriteString(ev.Content)
		if ev.Usage != nil {
			usage = ev.Usage
		}
	}
	if want := strings.Join(tokens, ""); content.String() != want || frames != len(tokens)-1 {
		t.Errorf("content %q in %d frames, want %q", content.String(), frames, want)
	}
	if usage == nil || *usage != u {
		t.Errorf("usage %+v, want %+v", usage, u)
	}

	buf.Reset()
	w = proto.NewStreamWriter(&buf, &targets.ServerRequest{MaxTokens: 8}, "")
	w.Token("a")
	w.Finish(targets.Usage{CompletionTokens: 1})
	if !strings.Contains(buf.String(), `"done_reason":"stop"`) {
		t.Errorf("short stream not stopped: %s", buf.String())
	}
	buf.Reset()
	w.Fail("runner \"crashed\"")
	tr = decodeStream(buf.Bytes())
	if len(tr.Events) != 1 || tr.Events[0].Err != `runner "crashed"` {
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
	for _, req := range []*targets.Request{
		{ID: "gen", Model: "llama3.2", Prompt: "one two three", MaxTokens: 8},
		{ID: "chat", Model: "llama3.2", Messages: []targets.Message{{Role: "user", Content: "one two three"}}, MaxTokens: 8},
	} {
		t.Run(req.ID, func(t *testing.T) {
			resp := c.Do(context.Background(), req)
			if resp.Err != nil {
				t.Fatalf("Do: %+v", resp.Err)
			}
			if resp.Status != http.StatusOK || len(resp.Frames) != 8 {
				t.Fatalf("status %d, %d frames", resp.Status, len(resp.Frames))
			}
			for i, f := range resp.Frames {
				if !f.Content || f.At <= 0 || (i > 0 && f.At < resp.Frames[i-1].At) {
					t.Errorf("frame %d: %+v", i, f)
				}
			}
			if want := (targets.Usage{PromptTokens: 3, CompletionTokens: 8}); resp.Usage == nil || *resp.Usage != want {
				t.Errorf("usage %+v, want %+v", resp.Usage, want)
			}
			if !strings.HasPrefix(resp.Content.String(), " the of and") {
				t.Errorf("content %q", resp.Content.String())
			}
		})
	}

	ts = newServer(t, failing{n: 2})
	c, _ = targets.NewClient(ts.URL, proto)
	resp := c.Do(context.Background(), &targets.Request{Model: "m", Prompt: "p", MaxTokens: 8})
	if resp.Err == nil || resp.Err.Kind != results.KindStream || !strings.Contains(resp.Err.Message, "simulated engine failure") {
		t.Fatalf("Do with failing engine: %+v", resp.Err)
	}
	if len(resp.Frames) != 2 {
		t.Errorf("%d frames before the error, want 2", len(resp.Frames))
	}
}
