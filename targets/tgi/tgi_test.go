package tgi_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/sim"
	"github.com/streamgauge/streamgauge/targets/targetstest"
	"github.com/streamgauge/streamgauge/targets/tgi"
)

var update = flag.Bool("update", false, "rewrite the golden files and the fuzz seed corpus")

var proto = tgi.GenerateStream{}

// TestGolden decodes every testdata/NAME.sse and compares the transcript
// with NAME.golden.json (-update rewrites them and the fuzz seed corpus).
func TestGolden(t *testing.T) {
	targetstest.Golden(t, proto, "testdata/*.sse", *update)
}

func TestDecodeErrors(t *testing.T) {
	targetstest.CheckDecodes(t, proto, []targetstest.DecodeCase{
		{Name: "invalid JSON", Data: `{"token":`, WantErr: true},
		{Name: "null", Data: `null`, WantErr: true},
		{Name: "array", Data: `[{"token":{"text":"x"}}]`, WantErr: true},
		{Name: "empty object", Data: `{}`, WantErr: true},
		{Name: "text not a string", Data: `{"token":{"text":5,"special":false}}`, WantErr: true},
		{Name: "openai done marker", Data: `[DONE]`, WantErr: true},
		{Name: "error without type", Data: `{"error":"Model is overloaded"}`, Want: targets.Event{Err: "Model is overloaded"}},
		{Name: "error object", Data: `{"error":{"message":"rate limited","type":"overloaded"}}`, Want: targets.Event{Err: "overloaded: rate limited"}},
		{Name: "empty error", Data: `{"error":"","error_type":"validation"}`, Want: targets.Event{Err: "validation: error event in stream"}},
		{Name: "null error is no error", Data: `{"error":null,"token":{"text":"a","special":false}}`, Want: targets.Event{Content: "a", Tokens: 1}},
	})
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
	targetstest.CheckBearer(t, proto, "hf_x")
}

func TestParseRequest(t *testing.T) {
	targetstest.CheckRequests(t, proto, []targetstest.RequestCase{
		{Name: "prompt", Req: targets.Request{Model: "m", Prompt: "Why is the sky blue?", MaxTokens: 64},
			Want: targets.ServerRequest{Prompt: "Why is the sky blue?", MaxTokens: 64, Stream: true, IncludeUsage: true}},
		{Name: "default max", Req: targets.Request{Prompt: "p"},
			Want: targets.ServerRequest{Prompt: "p", Stream: true, IncludeUsage: true}},
	})
	// Without a prompt the body is built, and the server refuses it.
	body, err := proto.Body(&targets.Request{})
	if err != nil {
		t.Fatal(err)
	}
	targetstest.CheckRejects(t, proto, string(body), `{`, `{"inputs":""}`, `{"inputs":"x","parameters":{"max_new_tokens":-1}}`, `{"inputs":5}`)
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
			tr := targetstest.Decode(proto, buf.Bytes())
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
	tr := targetstest.Decode(proto, buf.Bytes())
	if n := len(tr.Events); n != 2 || tr.Events[1].Err != "generation: engine \"crashed\"" {
		t.Errorf("Fail decoded to %+v", tr)
	}
}

func TestClient(t *testing.T) {
	ts := targetstest.NewServer(t, proto, sim.Fixed{TTFT: time.Millisecond, ITL: 100 * time.Microsecond})
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

	targetstest.CheckEngineFailure(t, proto, &targets.Request{Prompt: "p", MaxTokens: 8})
}
