package openai_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
)

// FuzzResponsesDecode feeds arbitrary streams through the SSE reader and the
// Responses decoder, seeded with the golden streams
// (testdata/responses_*.sse). The properties: Decode never panics; it rejects
// every frame that is not valid JSON with a non-empty error and leaves the
// event empty when it does; and what it accepts is sane (valid UTF-8 text,
// no negative counts, an error event always has a message).
func FuzzResponsesDecode(f *testing.F) {
	for _, path := range responsesGoldenStreams(f) {
		stream, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(stream)
	}
	f.Add([]byte("event: error\ndata: {\"type\":\"error\",\"code\":null,\"message\":\"\\udc00\"}\n\n"))
	f.Add([]byte("data: {\"error\":\"\\xff\"}\n\n"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		fr := targets.NewSSEReader(bytes.NewReader(stream), 1<<16)
		dec := openai.Responses{}.NewDecoder()
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
				continue
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
			if string(fm.Event) == "error" && ev.Err == "" {
				t.Fatalf("error event %q decoded without an error", fm.Data)
			}
			if ev.Done && ev.Err != "" {
				t.Fatalf("event both done and failed: %+v", ev)
			}
		}
	})
}
