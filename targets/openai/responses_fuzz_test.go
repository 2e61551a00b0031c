package openai_test

import (
	"os"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
	"github.com/streamgauge/streamgauge/targets/targetstest"
)

// FuzzResponsesDecode feeds arbitrary streams through the SSE reader and the
// Responses decoder, seeded with the golden streams
// (testdata/responses_*.sse). The properties (targetstest.DecodeAnyStream):
// Decode never panics; it rejects every frame that is not valid JSON with a
// non-empty error and leaves the event empty when it does; and what it
// accepts is sane (valid UTF-8 text, no negative counts, an error event
// always has a message, no event both done and failed).
func FuzzResponsesDecode(f *testing.F) {
	for _, path := range targetstest.GoldenFiles(f, responsesPattern) {
		stream, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(stream)
	}
	f.Add([]byte("event: error\ndata: {\"type\":\"error\",\"code\":null,\"message\":\"\\udc00\"}\n\n"))
	f.Add([]byte("data: {\"error\":\"\\xff\"}\n\n"))
	f.Fuzz(func(t *testing.T, stream []byte) {
		targetstest.DecodeAnyStream(t, openai.Responses{}, stream, func(t *testing.T, _ *targets.Frame, ev *targets.Event) {
			if ev.Done && ev.Err != "" {
				t.Fatalf("event both done and failed: %+v", ev)
			}
		})
	})
}
