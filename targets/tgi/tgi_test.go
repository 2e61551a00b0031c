package tgi_test

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
	"github.com/streamgauge/streamgauge/targets/tgi"
)

var update = flag.Bool("update", false, "rewrite the golden files and the fuzz seed corpus")

var proto = tgi.GenerateStream{}

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
		{name: "invalid JSON", data: `{"token":`, wantErr: true},
		{name: "null", data: `null`, wantErr: true},
		{name: "array", data: `[{"token":{"text":"x"}}]`, wantErr: true},
		{name: "empty object", data: `{}`, wantErr: true},
		{name: "text not a string", data: `{"token":{"text":5,"special":false}}`, wantErr: true},
		{name: "openai done marker", data: `[DONE]`, wantErr: true},
		{name: "error without type", data: `{"error":"Model is overloaded"}`, want: targets.Event{Err: "Model is overloaded"}},
		{name: "error object", data: `{"error":{"message":"rate limited","type":"overloaded"}}`, want: targets.Event{Err: "overloaded: rate limited"}},
		{name: "empty error", data: `{"error":"","error_type":"validation"}`, want: targets.Event{Err: "validation: error event in stream"}},
		{name: "null error is no error", data: `{"error":null,"token":{"text":"a","special":false}}`, want: targets.Event{Content: "a", Tokens: 1}},
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
	req := &targets.Request{Model: "ignored", Prompt: "Why is the sky blue?", MaxTokens: 64, IgnoreEOS: true}
	body, err := proto.Body(req)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"inputs":"Why is the sky blue?","parameters":{"max_new_tokens":64,"details":true}}`
	if string(body) != want {
		t.Errorf("Body = %s\nwant %s", body, want)
	}
	if p := proto.Path(req); p != "/generate_stream" {
		t.Errorf("Path = %q", p)
	}
	body, _ = proto.Body(&targets.Request{Messages: []targets.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Hi"}}})
	if want := `{"inputs":"Be brief.\nHi","parameters":{"details":true}}`; string(body) != want {
		t.Errorf("Body(messages) = %s\nwant %s", body, want)
	}
	h := http.Header{}
	proto.Authorize(h, "")
	if len(h) != 0 {
		t.Errorf("Authorize without key set %v", h)
	}
	proto.Authorize(h, "hf_x")
	if got := h.Get("Authorization"); got != "Bearer hf_x" {
		t.Errorf("Authorization = %q", got)
	}
}

func TestParseRequest(t *testing.T) {
	for _, tc := range []struct {
		name    string
		req     targets.Request
		want    targets.ServerRequest
		wantErr bool
	}{
		{name: "prompt", req: targets.Request{Model: "m", Prompt: "Why is the sky blue?", MaxTokens: 64},
			want: targets.ServerRequest{Prompt: "Why is the sky blue?", MaxTokens: 64, Stream: true, IncludeUsage: true}},
		{name: "default max", req: targets.Request{Prompt: "p"},
			want: targets.ServerRequest{Prompt: "p", Stream: true, IncludeUsage: true}},
		{name: "no prompt", req: targets.Request{}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := proto.Body(&tc.req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := proto.ParseRequest(body)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseRequest(%s) error = %v", body, err)
			}
			if err == nil && *got != tc.want {
				t.Errorf("ParseRequest(%s) = %+v, want %+v", body, *got, tc.want)
			}
		})
	}
	for _, body := range []string{`{`, `{"inputs":""}`, `{"inputs":"x","parameters":{"max_new_tokens":-1}}`, `{"inputs":5}`} {
		if _, err := proto.ParseRequest([]byte(body)); err == nil {
			t.Errorf("ParseRequest(%s) accepted", body)
		}
	}
}

// TestRoundTrip checks that what the simulator writes decodes to the same
// tokens and usage.
func TestRoundTrip(t *testing.T) {
	tokens := []string{" The", " sky", "", " is", " blue", " \"quoted\"\n", " ✓"}
	for _, details := range []bool{true, false} {
		t.Run(fmt.Sprintf("details=%v", details), func(t *testing.T) {
			req := &targets.ServerRequest{Prompt: "p", MaxTokens: len(tokens), Stream: true, IncludeUsage: details}
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
			tr := decodeStream(buf.Bytes())
			if tr.End != "eof" {
				t.Fatalf("stream ended with %s", tr.End)
			}
			var content strings.Builder
			var frames, counted int
			var usage *targets.Usage
			done := false
			for _, ev := range tr.Events {
				if ev.DecodeError != "" || ev.Err != "" {
					t.Fatalf("event %+v", ev)
				}
				if ev.Content != "" {
					frames++
					counted += ev.Tokens
				}
				content.WriteString(ev.Content)
				if ev.Usage != nil {
					usage = ev.Usage
				}
				done = done || ev.Done
			}
			if want := strings.Join(tokens, ""); content.String() != want {
				t.Errorf("content %q, want %q", content.String(), want)
			}
			if frames != len(tokens)-1 || counted != len(tokens) {
				t.Errorf("%d content frames counting %d tokens, want %d and %d", frames, counted, len(tokens)-1, len(tokens))
			}
			if !done {
				t.Error("no terminator")
			}
			switch {
			case details && (usage == nil || *usage != u):
				t.Errorf("usage %+v, want %+v", usage, u)
			case !details && usage != nil:
				t.Errorf("usage %+v without details", usage)
			}
		})
	}
	var buf bytes.Buffer
	w := proto.NewStreamWriter(&buf, &targets.ServerRequest{}, "")
	w.Token("a")
	w.Fail("engine \"crashed\"")
	tr := decodeStream(buf.Bytes())
	if n := len(tr.Events); n != 2 || tr.Events[1].Err != "generation: engine \"crashed\"" {
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
	resp := c.Do(context.Background(), &targets.Request{ID: "r1", Prompt: "one two three", MaxTokens: 8})
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
