package openai_test

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
	"github.com/streamgauge/streamgauge/targets/targetstest"
)

// update rewrites the golden files (responses_test.go reads the same flag).
var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// chatProtocol picks the decoder for a transcript by its name, and none for
// the Responses API's (responses_test.go reads those).
func chatProtocol(_ testing.TB, path string) targets.Protocol {
	name := filepath.Base(path)
	switch {
	case strings.HasPrefix(name, "responses_"):
		return nil
	case strings.Contains(name, "completions"):
		return openai.Completions{}
	}
	return openai.Chat{}
}

// TestChatGolden decodes every testdata/NAME.sse and compares the transcript
// with NAME.golden.json (responses_*.sse aside); -update rewrites the
// goldens. Each stream is also read one byte at a time and in halves, which must not change what it means.
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
	targetstest.StreamGolden(t, nil, targetstest.StreamGoldenOptions{
		Patterns: []string{filepath.Join("testdata", "*.sse")}, ProtocolFor: chatProtocol, Update: *update})
}
