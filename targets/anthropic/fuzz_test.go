package anthropic_test

import (
	"testing"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/anthropic"
	"github.com/streamgauge/streamgauge/targets/targetstest"
)

// FuzzDecode feeds arbitrary streams through the SSE reader and the decoder.
// The seed corpus (testdata/fuzz/FuzzDecode) holds the golden streams. The
// properties (targetstest.DecodeAnyStream): Decode never panics; it rejects
// every frame that is not valid JSON with a non-empty error and leaves the
// event empty when it does; and what it accepts is sane (valid UTF-8 text,
// no negative counts, an error event always has a message).
func FuzzDecode(f *testing.F) {
	f.Add([]byte("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"))
	f.Add([]byte("data: {\"type\":\"message_delta\",\"usage\":{\"output_tokens\":-1}}\n\n"))
	f.Add([]byte("event: content_block_delta\ndata: {\"delta\":{\"type\":\"text_delta\",\"text\":\"\\ud800\"}}\n\n"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		targetstest.DecodeAnyStream(t, anthropic.Messages{}, stream, func(t *testing.T, _ *targets.Frame, ev *targets.Event) {
			if ev.Tokens < 0 {
				t.Fatalf("negative tokens %d", ev.Tokens)
			}
		})
	})
}
