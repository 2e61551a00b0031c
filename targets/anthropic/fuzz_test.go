package anthropic_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/anthropic"
)

// FuzzDecode feeds arbitrary streams through the SSE reader and the decoder.
// The seed corpus (testdata/fuzz/FuzzDecode) holds the golden streams. The
// properties: Decode never panics; it rejects every frame that is not valid
// JSON with a non-empty error and leaves the event empty when it does; and
// what it accepts is sane (valid UTF-8 text, no negative counts, an error
// event always has a message).
func FuzzDecode(f *testing.F) {
	f.Add([]byte("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"))
	f.Add([]byte("data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":-1}}\n\n"))
	f.Add([]byte("event: content_block_delta\ndata: {\"delta\":{\"type\":\"text_delta\",\"text\":\"\\ud800\"}}\n\n"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		fr := targets.NewSSEReader(bytes.NewReader(stream), 1<<16)
		dec := anthropic.Messages{}.NewDecoder()
		var fm targets.Frame
		for range 10000 {
			if fr.Next(&fm) != nil {
				return
			}
			var ev targets.Event
			err := dec.Decode(&fm, &ev)
			if err != nil {
				if err.Error() == "" {
					t.Fatal("empty error message")
				}
				if !reflect.DeepEqual(ev, targets.Event{}) {
					t.Fatalf("failed decode of %q filled the event: %+v", fm.Data, ev)
				}
				continue // the client stops here; going on exercises more state
			}
			if !json.Valid(fm.Data) {
				t.Fatalf("accepted invalid JSON %q", fm.Data)
			}
			for _, s := range []string{ev.Content, ev.Reasoning, ev.ToolArgs, ev.Err} {
				if !utf8.ValidString(s) {
					t.Fatalf("invalid UTF-8 %q from %q", s, fm.Data)
				}
			}
			if u := ev.Usage; u != nil && (u.PromptTokens < 0 || u.CompletionTokens < 0 || u.ReasoningTokens < 0) {
				t.Fatalf("negative usage %+v from %q", *u, fm.Data)
			}
			if ev.Tokens < 0 {
				t.Fatalf("negative tokens %d", ev.Tokens)
			}
			if string(fm.Event) == "error" && ev.Err == "" {
				t.Fatalf("error event %q decoded without an error", fm.Data)
			}
		}
	})
}
