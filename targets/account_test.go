package targets_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
)

// TestClientServerID: the server's id for a request is a request-id
// response header unless it only echoes ours, else the stream's id; an id
// that is not one (too long, control characters) is dropped.
func TestClientServerID(t *testing.T) {
	long := strings.Repeat("a", targets.MaxServerID+1)
	tests := []struct {
		name    string
		headers map[string]string
		chunkID string
		want    string
	}{
		{"openai header", map[string]string{"X-Request-Id": "req_7f3a"}, "chatcmpl-1", "req_7f3a"},
		{"anthropic header", map[string]string{"Request-Id": "req_011CS"}, "chatcmpl-1", "req_011CS"},
		{"echo of ours: the stream's id", map[string]string{"X-Request-Id": "ours-1"}, "chatcmpl-ours-1", "chatcmpl-ours-1"},
		{"no header", nil, "chatcmpl-9", "chatcmpl-9"},
		{"neither", nil, "", ""},
		{"too long everywhere", map[string]string{"X-Request-Id": long}, long, ""},
		{"header with a space falls back", map[string]string{"X-Request-Id": "a b"}, "chatcmpl-2", "chatcmpl-2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.headers {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "text/event-stream")
				id := ""
				if tc.chunkID != "" {
					id = `"id":"` + tc.chunkID + `",`
				}
				io.WriteString(w, `data: {`+id+`"choices":[{"delta":{"content":"a"}}]}`+"\n\n"+
					`data: {`+id+`"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":8}},"timings":{"prompt_ms":1.5,"predicted_ms":2}}`+"\n\n"+
					"data: [DONE]\n\n")
			}))
			defer srv.Close()
			c, err := targets.NewClient(srv.URL, openai.Chat{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseIdle()
			resp := c.Do(context.Background(), &targets.Request{ID: "ours-1", Model: "m", Prompt: "p", MaxTokens: 1})
			if resp.Err != nil {
				t.Fatalf("Do: %+v", resp.Err)
			}
			if resp.ServerID != tc.want {
				t.Errorf("ServerID %q, want %q", resp.ServerID, tc.want)
			}
			if u := resp.Usage; u == nil || !u.Cached || u.CachedTokens != 8 {
				t.Errorf("usage %+v, want 8 cached tokens", resp.Usage)
			}
			if p, ok := resp.Timing.Get(targets.TimePrefill); !ok || p != 1.5 {
				t.Errorf("prefill %v %v, want 1.5", p, ok)
			}
			if d, ok := resp.Timing.Get(targets.TimeDecode); !ok || d != 2 {
				t.Errorf("decode %v %v, want 2", d, ok)
			}
			if _, ok := resp.Timing.Get(targets.TimeQueue); ok {
				t.Error("queue time reported, the server sent none")
			}
		})
	}
}

// TestTimingSet: a server's negative or non-finite time is not a report.
func TestTimingSet(t *testing.T) {
	var tm targets.Timing
	nan := 0.0
	nan /= nan
	for _, v := range []float64{-1, nan, 1e300} {
		tm.Set(targets.TimePrefill, v)
	}
	if _, ok := tm.Get(targets.TimePrefill); ok {
		t.Fatalf("bad values reported: %+v", tm)
	}
	tm.Set(targets.TimePrefill, 0)
	if v, ok := tm.Get(targets.TimePrefill); !ok || v != 0 {
		t.Fatalf("a reported 0 is lost: %+v", tm)
	}
	var other targets.Timing
	other.Set(targets.TimeLoad, 3)
	tm.Merge(&other)
	if v, ok := tm.Get(targets.TimeLoad); !ok || v != 3 {
		t.Fatalf("merge lost load: %+v", tm)
	}
	var none *targets.Timing
	if _, ok := none.Get(targets.TimeLoad); ok {
		t.Fatal("nil timing reports a field")
	}
}
