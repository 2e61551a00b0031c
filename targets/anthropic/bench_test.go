package anthropic_test

import (
	"bytes"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/anthropic"
)

// simStream is a stream of n one-word tokens as the simulator writes it.
func simStream(b *testing.B, n int) []byte {
	var buf bytes.Buffer
	sw := anthropic.Messages{}.NewStreamWriter(&buf, &targets.ServerRequest{Model: "claude-sonnet-4-5", Prompt: "p", MaxTokens: n}, "msg_bench")
	if err := sw.Start(); err != nil {
		b.Fatal(err)
	}
	for range n {
		_ = sw.Token(" the")
	}
	_ = sw.Finish(targets.Usage{PromptTokens: 1, CompletionTokens: n})
	return buf.Bytes()
}

// BenchmarkDecode measures the client's per-frame cost: one text_delta
// frame, and a whole 256-token stream read with the SSE reader.
func BenchmarkDecode(b *testing.B) {
	b.Run("text_delta", func(b *testing.B) {
		f := &targets.Frame{Event: []byte("content_block_delta"),
			Data: []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" the"}}`)}
		dec := anthropic.Messages{}.NewDecoder()
		b.ReportAllocs()
		for b.Loop() {
			var ev targets.Event
			if err := dec.Decode(f, &ev); err != nil || ev.Content != " the" {
				b.Fatal(err, ev)
			}
		}
	})
	b.Run("stream256", func(b *testing.B) {
		stream := simStream(b, 256)
		b.SetBytes(int64(len(stream)))
		b.ReportAllocs()
		frames := 0
		for b.Loop() {
			fr := targets.NewSSEReader(bytes.NewReader(stream), 0)
			dec := anthropic.Messages{}.NewDecoder()
			var f targets.Frame
			for fr.Next(&f) == nil {
				var ev targets.Event
				if err := dec.Decode(&f, &ev); err != nil {
					b.Fatal(err)
				}
				frames++
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(frames), "ns/frame")
	})
}
