package ollama_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/ollama"
	"github.com/streamgauge/streamgauge/targets/sim"
	"github.com/streamgauge/streamgauge/targets/targetstest"
)

var update = flag.Bool("update", false, "rewrite the golden files and the fuzz seed corpus")

var proto = ollama.API{}

// TestGolden decodes every testdata/NAME.ndjson and compares the transcript
// with NAME.golden.json (-update rewrites them and the fuzz seed corpus).
func TestGolden(t *testing.T) {
	targetstest.Golden(t, proto, "testdata/*.ndjson", *update)
}

func TestDecodeErrors(t *testing.T) {
	targetstest.CheckDecodes(t, proto, []targetstest.DecodeCase{
		{Name: "invalid JSON", Data: `{"response":`, WantErr: true},
		{Name: "null", Data: `null`, WantErr: true},
		{Name: "array", Data: `[{"done":true}]`, WantErr: true},
		{Name: "no done", Data: `{"response":"x"}`, WantErr: true},
		{Name: "done not a bool", Data: `{"response":"x","done":"false"}`, WantErr: true},
		{Name: "sse line", Data: `data: {"done":false}`, WantErr: true},
		{Name: "error object", Data: `{"error":{"message":"model not found","type":"not_found"}}`, Want: targets.Event{Err: "not_found: model not found"}},
		{Name: "empty error", Data: `{"error":""}`, Want: targets.Event{Err: "error in stream"}},
		{Name: "done without counts", Data: `{"done":true}`, Want: targets.Event{Done: true}},
		{Name: "zero eval count", Data: `{"done":true,"eval_count":0,"prompt_eval_count":5}`, Want: targets.Event{Done: true, Usage: &targets.Usage{PromptTokens: 5}}},
		{Name: "string arguments", Data: `{"message":{"tool_calls":[{"function":{"arguments":"{\"a\":1}"}}]},"done":false}`, Want: targets.Event{ToolArgs: `{"a":1}`}},
		{Name: "message wins over response", Data: `{"response":"x","message":{"content":"x"},"done":false}`, Want: targets.Event{Content: "x"}},
	})
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
	targetstest.CheckBearer(t, proto, "k")
}

func TestParseRequest(t *testing.T) {
	targetstest.CheckRequests(t, proto, []targetstest.RequestCase{
		{Name: "generate", Req: targets.Request{Model: "llama3.2", Prompt: "Why is the sky blue?", MaxTokens: 64},
			Want: targets.ServerRequest{Model: "llama3.2", Prompt: "Why is the sky blue?", MaxTokens: 64, Stream: true, IncludeUsage: true}},
		{Name: "chat", Req: targets.Request{Model: "m", Messages: []targets.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Content: "Hi"}}, MaxTokens: 3},
			Want: targets.ServerRequest{Model: "m", Prompt: "Be brief.\nHi", MaxTokens: 3, Stream: true, IncludeUsage: true, Chat: true}},
		{Name: "empty prompt", Req: targets.Request{Model: "m"},
			Want: targets.ServerRequest{Model: "m", Stream: true, IncludeUsage: true}},
	})
	targetstest.CheckParse(t, proto, map[string]targets.ServerRequest{
		`{"model":"m","prompt":"p","stream":false}`:                      {Model: "m", Prompt: "p", IncludeUsage: true},
		`{"model":"m","prompt":"p","options":{"num_predict":100.0}}`:     {Model: "m", Prompt: "p", MaxTokens: 100, Stream: true, IncludeUsage: true},
		`{"model":"m","prompt":"p","options":{"num_predict":-1}}`:        {Model: "m", Prompt: "p", Stream: true, IncludeUsage: true},
		`{"model":"m","prompt":"p","options":{"temperature":0.2},"x":1}`: {Model: "m", Prompt: "p", Stream: true, IncludeUsage: true},
	})
	targetstest.CheckRejects(t, proto, `{`, `{"model":"m"}`, `{"prompt":5}`, `{"prompt":"p","options":{"num_predict":"x"}}`)
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
	tr := targetstest.Decode(proto, buf.Bytes())
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
	tr = targetstest.Decode(proto, buf.Bytes())
	if len(tr.Events) != 1 || tr.Events[0].Err != `runner "crashed"` {
		t.Errorf("Fail decoded to %+v", tr)
	}
}

func TestClient(t *testing.T) {
	ts := targetstest.NewServer(t, proto, sim.Fixed{TTFT: time.Millisecond, ITL: 100 * time.Microsecond})
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

	targetstest.CheckEngineFailure(t, proto, &targets.Request{Model: "m", Prompt: "p", MaxTokens: 8})
}
