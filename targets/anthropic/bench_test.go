package anthropic_test

import (
	"testing"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/anthropic"
	"github.com/streamgauge/streamgauge/targets/targetstest"
)

// BenchmarkDecode measures the client's per-frame cost: one text_delta
// frame, and a whole 256-token stream read with the SSE reader.
func BenchmarkDecode(b *testing.B) {
	b.Run("text_delta", func(b *testing.B) {
		targetstest.BenchDecodeFrame(b, anthropic.Messages{}, &targets.Frame{Event: []byte("content_block_delta"),
			Data: []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" the"}}`)}, " the")
	})
	b.Run("stream256", func(b *testing.B) {
		req := &targets.ServerRequest{Model: "claude-sonnet-4-5", Prompt: "p", MaxTokens: 256}
		targetstest.BenchDecodeStream(b, anthropic.Messages{}, targetstest.SimStream(b, anthropic.Messages{}, req, 256))
	})
}
