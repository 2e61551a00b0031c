package llamacpp_test

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
	"github.com/streamgauge/streamgauge/targets/llamacpp"
	"github.com/streamgauge/streamgauge/targets/sim"
	"github.com/streamgauge/streamgauge/targets/targetstest"
)

var update = flag.Bool("update", false, "rewrite the golden files and the fuzz seed corpus")

var proto = llamacpp.Completion{}

// TestGolden decodes every testdata/NAME.sse and compares the transcript
// with NAME.golden.json (-update rewrites them and the fuzz seed corpus).
func TestGolden(t *testing.T) {
	targetstest.Golden(t, proto, "testdata/*.sse", *update)
}

func TestDecodeErrors(t *testing.T) {
	targetstest.CheckDecodes(t, proto, []targetstest.DecodeCase{
		{Name: "invalid JSON", Data: `{"content":`, WantErr: true},
		{Name: "null", Data: `null`, WantErr: true},
		{Name: "array", Data: `[{"content":"x"}]`, WantErr: true},
		{Name: "empty object", Data: `{}`, WantErr: true},
		{Name: "content a number", Data: `{"content":1,"stop":false}`, WantErr: true},
		{Name: "stop a string", Data: `{"content":"x","stop":"false"}`, WantErr: true},
		{Name: "error string", Data: `{"error":"Loading model"}`, Want: targets.Event{Err: "Loading model"}},
		{Name: "error without type", Data: `{"error":{"code":503,"message":"Loading model"}}`, Want: targets.Event{Err: "Loading model"}},
		{Name: "empty error", Data: `{"error":""}`, Want: targets.Event{Err: "error in stream"}},
		{Name: "error object without message", Data: `{"error":{"code":500}}`, Want: targets.Event{Err: `{"code":500}`}},
		{Name: "stop without counts", Data: `{"content":"","stop":true}`, Want: targets.Event{Done: true}},
		{Name: "content with stop", Data: `{"content":"x","stop":true,"tokens_predicted":1,"tokens_evaluated":2}`,
			Want: targets.Event{Content: "x", Tokens: 1, Done: true, Usage: &targets.Usage{PromptTokens: 2, CompletionTokens: 1}}},
		{Name: "negative count", Data: `{"content":"x","tokens_predicted":-5}`, Want: targets.Event{Content: "x"}},
	})
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
	targetstest.CheckBearer(t, proto, "k")
}

func TestParseRequest(t *testing.T) {
	targetstest.CheckRequests(t, proto, []targetstest.RequestCase{
		{Name: "prompt", Req: targets.Request{Model: "qwen", Prompt: "Why is the sky blue?", MaxTokens: 64, IgnoreEOS: true},
			Want: targets.ServerRequest{Model: "qwen", Prompt: "Why is the sky blue?", MaxTokens: 64, IgnoreEOS: true, Stream: true, IncludeUsage: true}},
		{Name: "empty prompt", Req: targets.Request{},
			Want: targets.ServerRequest{Stream: true, IncludeUsage: true}},
	})
	targetstest.CheckParse(t, proto, map[string]targets.ServerRequest{
		`{"prompt":"p"}`: {Prompt: "p", IncludeUsage: true},
		`{"prompt":"p","n_predict":-1,"stream":true}`:    {Prompt: "p", Stream: true, IncludeUsage: true},
		`{"prompt":"p","max_tokens":7,"stream":true}`:    {Prompt: "p", MaxTokens: 7, Stream: true, IncludeUsage: true},
		`{"prompt":"p","n_predict":3,"max_tokens":7}`:    {Prompt: "p", MaxTokens: 3, IncludeUsage: true},
		`{"prompt":"p","cache_prompt":false,"top_k":40}`: {Prompt: "p", IncludeUsage: true},
	})
	targetstest.CheckRejects(t, proto, `{`, `{"n_predict":4}`, `{"prompt":[1,2,3]}`, `{"prompt":"p","n_predict":"x"}`)
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
		tr := targetstest.Decode(proto, buf.Bytes())
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
		// The writer reports its prefix cache (timings.cache_n, none here).
		if got := tr.Events[len(tokens)].Usage; got == nil || *got != (targets.Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, Cached: true}) {
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
	tr := targetstest.Decode(proto, buf.Bytes())
	if len(tr.Events) != 2 || tr.Events[1].Err != `server_error: slot "crashed"` {
		t.Errorf("Fail decoded to %+v", tr)
	}
}

func TestClient(t *testing.T) {
	ts := targetstest.NewServer(t, proto, sim.Fixed{TTFT: time.Millisecond, ITL: 100 * time.Microsecond})
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
	if want := (targets.Usage{PromptTokens: 3, CompletionTokens: 8, Cached: true}); resp.Usage == nil || *resp.Usage != want {
		t.Errorf("usage %+v, want %+v", resp.Usage, want)
	}
	if !strings.HasPrefix(resp.Content.String(), " the of and") {
		t.Errorf("content %q", resp.Content.String())
	}

	targetstest.CheckEngineFailure(t, proto, &targets.Request{Prompt: "p", MaxTokens: 8})
}
