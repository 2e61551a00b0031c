package openai

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
)

// Chunks as servers send them: the fast path takes the common ones and
// leaves the rest to the full decoder; either way the event is the one the
// full decoder gives.
func TestFastPath(t *testing.T) {
	tests := []struct {
		name string
		data string
		fast bool // the fast path decodes it
	}{
		{"vllm token", `{"id":"chatcmpl-4f2a","object":"chat.completion.chunk","created":1733000000,"model":"llama-3.1-8b","choices":[{"index":0,"delta":{"content":" the"},"logprobs":null,"finish_reason":null}]}`, true},
		{"vllm role", `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}`, true},
		{"vllm finish", `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"length","stop_reason":null}]}`, true},
		{"vllm continuous usage", `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" a"}}],"usage":{"prompt_tokens":512,"total_tokens":640,"completion_tokens":128}}`, true},
		{"usage only", `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":7,"total_tokens":12,"completion_tokens_details":{"reasoning_tokens":3},"prompt_tokens_details":null}}`, true},
		{"openai usage null", `{"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}],"usage":null}`, true},
		{"sglang reasoning", `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":null,"content":null,"reasoning_content":"think","tool_calls":null},"logprobs":null,"finish_reason":null,"matched_stop":null}],"usage":null}`, true},
		{"vllm reasoning both names", `{"choices":[{"delta":{"reasoning_content":"r","reasoning":"r"}}]}`, true},
		{"newer vllm reasoning", `{"choices":[{"delta":{"reasoning":"r"}}]}`, true},
		{"refusal", `{"choices":[{"delta":{"refusal":"no"}}]}`, true},
		{"completions", `{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":" word","logprobs":null,"finish_reason":null}]}`, true},
		{"two choices", `{"choices":[{"index":0,"delta":{"content":"a"}},{"index":1,"delta":{"content":"b"}}]}`, true},
		{"spaces", " { \"choices\" : [ { \"delta\" : { \"content\" : \"x\" } } ] , \"created\" : -1.5e+3 }\r\n", true},
		{"nested unknown", `{"x":{"y":[1,2,{"z":"\u00e9\n"}],"t":true,"f":false},"choices":[{"delta":{"content":"x"},"logprobs":{"content":[{"token":"x","logprob":-0.1,"bytes":[120],"top_logprobs":[]}]}}]}`, true},
		{"vllm cached usage", `{"id":"chatcmpl-7","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":512,"total_tokens":640,"completion_tokens":128,"prompt_tokens_details":{"cached_tokens":384}}}`, true},
		{"sglang cached zero", `{"id":"x","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":0}}}`, true},
		{"details without cached", `{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"prompt_tokens_details":{"audio_tokens":0}}}`, true},
		{"negative cached", `{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":-1}}}`, true},
		{"id only", `{"id":"chatcmpl-1"}`, true},
		{"null cached", `{"choices":[],"usage":{"prompt_tokens":5,"prompt_tokens_details":{"cached_tokens":null}}}`, false},
		{"numeric id", `{"id":7,"choices":[{"delta":{"content":"x"}}]}`, false},
		{"escaped id", `{"id":"a\u0062","choices":[{"delta":{"content":"x"}}]}`, false},
		{"llamacpp timings", `{"id":"chatcmpl-l","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":4}},"timings":{"cache_n":4,"prompt_n":5,"prompt_ms":12.5,"predicted_n":3,"predicted_ms":30.25}}`, false},
		{"deepseek cache hit", `{"id":"d1","choices":[],"usage":{"prompt_tokens":50,"completion_tokens":5,"total_tokens":55,"prompt_cache_hit_tokens":32,"prompt_cache_miss_tokens":18}}`, true},
		{"details win over deepseek's name", `{"choices":[],"usage":{"prompt_tokens":50,"prompt_cache_hit_tokens":32,"prompt_tokens_details":{"cached_tokens":30}}}`, true},
		{"mistralrs timings", `{"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_prompt_time_sec":0.012,"total_completion_time_sec":0.05}}`, false},
		{"groq", `{"id":"chatcmpl-g","choices":[],"x_groq":{"id":"req_01","usage":{"queue_time":0.02,"prompt_time":0.004,"completion_time":0.1,"prompt_tokens":5,"completion_tokens":2}}}`, false},
		{"null top", `null`, false},
		{"escaped content", `{"choices":[{"delta":{"content":"line\nbreak \"q\""}}]}`, false},
		{"escaped key", `{"choices":[{"delta":{"cont\u0065nt":"x"}}]}`, false},
		{"tool call", `{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]}`, false},
		{"error object", `{"object":"error","message":"boom","type":"x"}`, false},
		{"error field", `{"error":{"message":"overloaded","type":"server_error"}}`, false},
		{"duplicate content", `{"choices":[{"delta":{"content":"a","content":"b"}}]}`, false},
		{"too many choices", `{"choices":[{"text":"a"},{"text":"b"},{"text":"c"},{"text":"d"},{"text":"e"}]}`, false},
		{"float usage", `{"choices":[],"usage":{"completion_tokens":1.5}}`, false},
		{"bad type", `{"choices":[{"delta":{"content":5}}]}`, false},
		{"trailing", `{"choices":[]} x`, false},
		{"truncated", `{"choices":[{"delta":{"content":"x"}`, false},
		{"leading zero", `{"created":01,"choices":[]}`, false},
		{"bad escape elsewhere", `{"id":"\q","choices":[]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fast, full targets.Event
			fd, dd := &decoder{}, &decoder{}
			ok := fd.fastDecode([]byte(tt.data), &fast)
			if ok != tt.fast {
				t.Fatalf("fast path took it: %v, want %v", ok, tt.fast)
			}
			err := dd.decodeFull([]byte(tt.data), &full)
			if !ok {
				return
			}
			if err != nil {
				t.Fatalf("fast path accepted what the full decoder rejects: %v", err)
			}
			sameEvent(t, fast, full)
		})
	}
}

func sameEvent(t *testing.T, fast, full targets.Event) {
	t.Helper()
	if fast.Content != full.Content || fast.Reasoning != full.Reasoning || fast.ToolArgs != full.ToolArgs ||
		fast.Tokens != full.Tokens || fast.Done != full.Done || fast.Err != full.Err || (fast.Usage == nil) != (full.Usage == nil) ||
		(fast.Usage != nil && *fast.Usage != *full.Usage) || fast.ID != full.ID ||
		(fast.Timing == nil) != (full.Timing == nil) || (fast.Timing != nil && *fast.Timing != *full.Timing) {
		t.Fatalf("fast path %+v (usage %+v), full decoder %+v (usage %+v)", fast, fast.Usage, full, full.Usage)
	}
}

// FuzzFastPath holds the fast path to the full decoder: whatever the input,
// when the fast path takes a frame, the full decoder accepts it and gives
// the same event, over two frames (per-chunk usage is counted across
// frames).
func FuzzFastPath(f *testing.F) {
	for _, d := range goldenDataLines(f) {
		f.Add(d, d)
	}
	f.Add([]byte(`{"choices":[{"delta":{"content":"a"}}],"usage":{"completion_tokens":3}}`), []byte(`{"choices":[{"delta":{"content":"b"}}],"usage":{"completion_tokens":5,"completion_tokens_details":{"reasoning_tokens":1}}}`))
	f.Add([]byte(`{"id":"c1","choices":[],"usage":{"prompt_tokens":9,"prompt_tokens_details":{"cached_tokens":4}}}`), []byte(`{"id":"c2","choices":[],"usage":{"prompt_tokens":9},"timings":{"prompt_ms":1.5,"cache_n":2}}`))
	f.Add([]byte(`{"x":[1,-0.5e-3,true,false,null,"\u00e9"],"choices":[{"text":"t","delta":null}]}`), []byte(`{"choices":null,"error":null,"usage":null}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		fd, dd := &decoder{}, &decoder{}
		for _, data := range [][]byte{a, b} {
			var fast, full targets.Event
			ok := fd.fastDecode(data, &fast)
			err := dd.decodeFull(data, &full)
			if !ok {
				// Keep the two decoders' state in step: the frame is the
				// full decoder's on both sides.
				fast = targets.Event{}
				fd.decodeFull(data, &fast)
				continue
			}
			if err != nil {
				t.Fatalf("fast path accepted %q, the full decoder rejects it: %v", data, err)
			}
			sameEvent(t, fast, full)
		}
	})
}

// goldenDataLines returns the data of every SSE event in the golden
// transcripts: the seeds of this package's fuzz targets.
func goldenDataLines(tb testing.TB) [][]byte {
	tb.Helper()
	files, err := filepath.Glob("testdata/*.sse")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no golden transcripts in testdata (%v)", err)
	}
	var out [][]byte
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			tb.Fatal(err)
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			if d, ok := bytes.CutPrefix(line, []byte("data: ")); ok {
				out = append(out, d)
			}
		}
	}
	return out
}

// GoldenDataLines is goldenDataLines for the external test package.
var GoldenDataLines = goldenDataLines
