package openai_test

import (
	"testing"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
)

// FuzzChatDecode feeds arbitrary frame data to the chat and completions
// decoders: they must never panic, and an accepted frame never reports a
// negative token count or tokens on a frame without text. The seeds are the
// data lines of the golden transcripts.
func FuzzChatDecode(f *testing.F) {
	for _, d := range openai.GoldenDataLines(f) {
		f.Add(d)
	}
	f.Add([]byte(`{"choices":[{"delta":{"content":5}}]}`))
	f.Add([]byte(`{"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"{\"a\""}}]}}],"usage":{"completion_tokens":-3}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range []targets.Protocol{openai.Chat{}, openai.Completions{}} {
			dec := p.NewDecoder()
			for i := 0; i < 2; i++ { // twice: decoders keep state across frames
				var ev targets.Event
				if err := dec.Decode(&targets.Frame{Data: data}, &ev); err != nil {
					continue
				}
				if ev.Tokens < 0 || (ev.Tokens > 0 && !ev.TokenBearing()) {
					t.Fatalf("%s: frame %q gives %d tokens (text %v)", p.Name(), data, ev.Tokens, ev.TokenBearing())
				}
			}
		}
	})
}
