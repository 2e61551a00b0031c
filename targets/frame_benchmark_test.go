package targets_test

import (
	"io"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
)

// benchChunk is a typical one-token vLLM chat chunk (199 bytes).
const benchChunk = `data: {"id":"chatcmpl-4f2a9c1e","object":"chat.completion.chunk","created":1733000000,"model":"llama-3.1-8b","choices":[{"index":0,"delta":{"content":" the"},"logprobs":null,"finish_reason":null}]}` + "\n\n"

// frameReader returns one whole frame per Read, as a socket does when the
// server flushes every token.
type frameReader struct{ frame []byte }

func (r frameReader) Read(p []byte) (int, error) { return copy(p, r.frame), nil }

func benchmarkFrames(b *testing.B, newReader func(io.Reader) targets.FrameReader, body io.Reader) {
	fr := newReader(body)
	var f targets.Frame
	b.SetBytes(int64(len(benchChunk)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := fr.Next(&f); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if len(f.Data) != len(benchChunk)-len("data: \n\n") {
		b.Fatalf("frame of %d bytes", len(f.Data))
	}
	// One op is one frame; say so in the units too.
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}

func newSSE(r io.Reader) targets.FrameReader { return targets.NewSSEReader(r, 0) }

// BenchmarkSSEReader reads an endless stream of one-token chunks: one frame
// per Read (live streaming), and many frames per Read (a backlog).
func BenchmarkSSEReader(b *testing.B) {
	b.Run("frame-per-read", func(b *testing.B) {
		benchmarkFrames(b, newSSE, frameReader{[]byte(benchChunk)})
	})
	b.Run("buffered", func(b *testing.B) {
		benchmarkFrames(b, newSSE, &repeatReader{pattern: []byte(benchChunk)})
	})
}

func BenchmarkNDJSONReader(b *testing.B) {
	line := []byte(benchChunk[len("data: ") : len(benchChunk)-1]) // the JSON and one newline
	newND := func(r io.Reader) targets.FrameReader { return targets.NewNDJSONReader(r, 0) }
	b.Run("buffered", func(b *testing.B) {
		fr := newND(&repeatReader{pattern: line})
		var f targets.Frame
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if err := fr.Next(&f); err != nil {
				b.Fatal(err)
			}
		}
	})
}
