package openai_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
	"github.com/streamgauge/streamgauge/targets/targetstest"
)

// update rewrites the golden files (responses_test.go reads the same flag).
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// chatEvent is one decoded frame as the golden files show it (the same shape
// as the Responses API goldens).
type chatEvent struct {
	Event     string             `json:"event,omitempty"`
	Content   string             `json:"content,omitempty"`
	Reasoning string             `json:"reasoning,omitempty"`
	ToolArgs  string             `json:"tool_args,omitempty"`
	Tokens    int                `json:"tokens,omitempty"`
	Usage     *chatUsage         `json:"usage,omitempty"`
	Timing    map[string]float64 `json:"timing,omitempty"`
	ID        string             `json:"id,omitempty"`
	Done      bool               `json:"done,omitempty"`
	Err       string             `json:"err,omitempty"`
}

type chatUsage struct {
	PromptTokens     int  `json:"prompt_tokens"`
	CompletionTokens int  `json:"completion_tokens"`
	ReasoningTokens  int  `json:"reasoning_tokens"`
	CachedTokens     *int `json:"cached_tokens,omitempty"`
}

// chatTranscript is a whole decoded stream: every frame's event, how the
// stream ended, and what the client keeps from it (it stops at the first
// in-stream error, as the client does).
type chatTranscript struct {
	Events []chatEvent `json:"events"`
	// DecodeError is the protocol error that stopped decoding.
	DecodeError string `json:"decode_error,omitempty"`
	// End is "eof" for a clean end of the body, "in-stream error" when the
	// stream carried one, else the reader's error.
	End       string             `json:"end"`
	Done      bool               `json:"done"`
	Err       string             `json:"err,omitempty"`
	Content   string             `json:"content,omitempty"`
	Reasoning string             `json:"reasoning,omitempty"`
	ToolArgs  string             `json:"tool_args,omitempty"`
	Frames    int                `json:"token_frames"`
	Tokens    int                `json:"tokens,omitempty"` // the sum of per-frame counts
	Usage     *chatUsage         `json:"usage,omitempty"`
	Timing    map[string]float64 `json:"timing,omitempty"`
	ID        string             `json:"id,omitempty"` // the first event's id, as the client keeps it
}

// chatProtocol picks the decoder for a transcript by its name.
func chatProtocol(name string) targets.Protocol {
	if strings.Contains(name, "completions") {
		return openai.Completions{}
	}
	return openai.Chat{}
}

func chatDecodeStream(t testing.TB, p targets.Protocol, r io.Reader) chatTranscript {
	t.Helper()
	fr := targets.NewSSEReader(r, 0)
	dec := p.NewDecoder()
	tr := chatTranscript{Events: []chatEvent{}}
	var f targets.Frame
	for i := 0; ; i++ {
		if i > 100000 {
			t.Fatal("Next never stopped")
		}
		if err := fr.Next(&f); err != nil {
			tr.End = "eof"
			if !errors.Is(err, io.EOF) {
				tr.End = err.Error()
			}
			return tr
		}
		var ev targets.Event
		if err := targets.DecodeFrame(dec, &f, &ev); err != nil {
			tr.DecodeError = err.Error()
			tr.End = "decode error"
			return tr
		}
		if f.Bare && ev.Err == "" {
			continue // a bare line that is not an error: the client skips it
		}
		ce := chatEvent{Event: string(f.Event), Content: ev.Content, Reasoning: ev.Reasoning,
			ToolArgs: ev.ToolArgs, Tokens: ev.Tokens, Done: ev.Done, Err: ev.Err}
		if ev.Usage != nil {
			ce.Usage = &chatUsage{PromptTokens: ev.Usage.PromptTokens, CompletionTokens: ev.Usage.CompletionTokens, ReasoningTokens: ev.Usage.ReasoningTokens}
			if ev.Usage.Cached {
				n := ev.Usage.CachedTokens
				ce.Usage.CachedTokens = &n
			}
			tr.Usage = ce.Usage
		}
		if ev.Timing != nil {
			ce.Timing = targetstest.TimingMap(ev.Timing)
			tr.Timing = ce.Timing
		}
		ce.ID = ev.ID
		if tr.ID == "" {
			tr.ID = ev.ID
		}
		tr.Events = append(tr.Events, ce)
		tr.Content += ev.Content
		tr.Reasoning += ev.Reasoning
		tr.ToolArgs += ev.ToolArgs
		tr.Tokens += ev.Tokens
		if ev.TokenBearing() {
			tr.Frames++
		}
		tr.Done = tr.Done || ev.Done
		if ev.Err != "" {
			tr.Err = ev.Err
			tr.End = "in-stream error"
			return tr
		}
	}
}

// chatGoldenStreams lists the chat and completions transcripts in testdata
// (responses_*.sse belong to the Responses API tests).
func chatGoldenStreams(t testing.TB) []string {
	all, err := filepath.Glob(filepath.Join("testdata", "*.sse"))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, p := range all {
		if !strings.HasPrefix(filepath.Base(p), "responses_") {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		t.Fatal("no chat transcripts in testdata")
	}
	return paths
}

// TestChatGolden decodes every testdata/NAME.sse and compares the transcript
// with NAME.golden.json; -update rewrites the goldens. Each stream is also
// read one byte at a time and in halves, which must not change what it means.
//
// The transcripts are written from the OpenAI API reference and from the
// chunks the servers' code builds:
//   - vllm_chat: role-only first chunk with content "", one token per chunk,
//     the last token with finish_reason, the include_usage chunk with
//     "choices":[] (vLLM writes exclude_unset/exclude_none JSON), [DONE].
//   - vllm_chat_continuous_usage: stream_options.continuous_usage_stats, a
//     cumulative usage on every chunk (0 on the role chunk), one chunk of 3
//     tokens (speculative decoding), the EOS counted on the finish chunk.
//   - vllm_chat_reasoning_content / vllm_chat_reasoning: a reasoning parser's
//     deltas under the old and the new field name; vllm_chat_reasoning_both:
//     both names with the same text, as servers in the renaming window send.
//   - vllm_chat_tool_calls: a tool parser's deltas (id, type and name first,
//     then function.arguments pieces, the rest on the finish chunk).
//   - vllm_chat_error: an exception mid-stream, {"error": {...}} written with
//     json.dumps, then [DONE]; toplevel_error_chat: an error object without
//     the wrapper.
//   - vllm_chat_truncated, vllm_chat_cut_mid_line, vllm_completions_truncated:
//     streams that stop before [DONE], between frames or inside a line.
//   - sglang_chat: every delta field present, nulls included, usage null on
//     token chunks, matched_stop, reasoning_content.
//   - openai_chat, openai_chat_error: the hosted API (refusal, service_tier,
//     obfuscation, usage null until the final usage chunk with token
//     details; an error object mid-stream).
//   - gateway_chat_keepalive: ': PROCESSING' comments, 'reasoning' deltas,
//     usage on the finish chunk; proxy_chat_crlf: CRLF line ends, "data:"
//     without the space, event and id fields.
//   - vllm_completions, vllm_completions_continuous_usage: choices[].text.
//   - the in-stream error forms of docs/metrics.md that reach the chat
//     decoder: llamacpp_chat_error_field (an "error:" field line, then
//     [DONE]), llamacpp_chat_data_error, vllm_chat_legacy_object_error,
//     vllm_chat_finish_abort and vllm_chat_finish_error, sglang_chat_abort_error,
//     tgi_chat_error, gateway_chat_event_error_text and
//     gateway_chat_event_error_object ("event: error" with a body that is not
//     an OpenAI error), ollama_chat_bare_error (a bare JSON error line).
func TestChatGolden(t *testing.T) {
	for _, path := range chatGoldenStreams(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".sse")
		t.Run(name, func(t *testing.T) {
			stream, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			p := chatProtocol(name)
			got := chatDecodeStream(t, p, bytes.NewReader(stream))
			for _, wrap := range []func(io.Reader) io.Reader{iotest.OneByteReader, iotest.HalfReader} {
				if slow := chatDecodeStream(t, p, wrap(bytes.NewReader(stream))); !reflect.DeepEqual(slow, got) {
					t.Errorf("split reads decode differently:\n%+v\nwhole:\n%+v", slow, got)
				}
			}
			var js bytes.Buffer
			enc := json.NewEncoder(&js)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(got); err != nil {
				t.Fatal(err)
			}
			goldenPath := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(goldenPath, js.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(js.Bytes(), want) {
				t.Errorf("%s differs (go test -update rewrites it); got:\n%s", goldenPath, js.Bytes())
			}
		})
	}
}
