package openai_test

import (
	"testing"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
	"github.com/streamgauge/streamgauge/targets/targetstest"
)

// BenchmarkResponsesDecode measures the client's per-frame cost: one
// output_text delta, and a whole 256-token stream read with the SSE reader.
func BenchmarkResponsesDecode(b *testing.B) {
	b.Run("output_text_delta", func(b *testing.B) {
		targetstest.BenchDecodeFrame(b, openai.Responses{}, &targets.Frame{Event: []byte("response.output_text.delta"),
			Data: []byte(`{"type":"response.output_text.delta","sequence_number":42,"item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"delta":" the","logprobs":[]}`)}, " the")
	})
	b.Run("stream256", func(b *testing.B) {
		req := &targets.ServerRequest{Model: "gpt-4.1", MaxTokens: 256}
		targetstest.BenchDecodeStream(b, openai.Responses{}, targetstest.SimStream(b, openai.Responses{}, req, 256))
	})
}
