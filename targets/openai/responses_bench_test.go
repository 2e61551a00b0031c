package openai_test

import (
	"bytes"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
)

// BenchmarkResponsesDecode measures the client's per-frame cost: one
// output_text delta, and a whole 256-token stream read with the SSE reader.
func BenchmarkResponsesDecode(b *testing.B) {
	b.Run("output_text_delta", func(b *testing.B) {
		f := &targets.Frame{Event: []byte("response.output_text.delta"),
			Data: []byte(`{"type":"response.output_text.delta","sequence_number":42,"item_id":"msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654","output_index":0,"content_index":0,"delta":" the","logprobs":[]}`)}
		dec := openai.Responses{}.NewDecoder()
		b.ReportAllocs()
		for b.Loop() {
			var ev targets.Event
			if err := dec.Decode(f, &ev); err != nil || ev.Content != " the" {
				b.Fatal(err, ev)
			}
		}
	})
	b.Run("stream256", func(b *testing.B) {
		var buf bytes.Buffer
		sw := openai.Responses{}.NewStreamWriter(&buf, &targets.ServerRequest{Model: "gpt-4.1", MaxTokens: 256}, "bench")
		_ = sw.Start()
		for range 256 {
			_ = sw.Token(" the")
		}
		_ = sw.Finish(targets.Usage{PromptTokens: 1, CompletionTokens: 256})
		stream := buf.Bytes()
		b.SetBytes(int64(len(stream)))
		b.ReportAllocs()
		frames := 0
		for b.Loop() {
			fr := targets.NewSSEReader(bytes.NewReader(stream), 0)
			dec := openai.Responses{}.NewDecoder()
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
