package tgi_test

import (
	"bytes"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
)

// benchFrames returns the frames of a simulated 256-token stream.
func benchFrames(b *testing.B) [][]byte {
	b.Helper()
	var buf bytes.Buffer
	w := proto.NewStreamWriter(&buf, &targets.ServerRequest{Prompt: "p", IncludeUsage: true}, "bench")
	w.Start()
	words := []string{" the", " of", " and", " to", " a", " in"}
	for i := 0; i < 256; i++ {
		w.Token(words[i%len(words)])
	}
	w.Finish(targets.Usage{PromptTokens: 512, CompletionTokens: 256})
	fr := targets.NewFrameReader(proto.Framing(), &buf, 0)
	var frames [][]byte
	var f targets.Frame
	for fr.Next(&f) == nil {
		frames = append(frames, bytes.Clone(f.Data))
	}
	return frames
}

// BenchmarkDecode measures the decoder alone (frames already cut), per frame.
func BenchmarkDecode(b *testing.B) {
	frames := benchFrames(b)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		dec := proto.NewDecoder()
		for _, data := range frames {
			var ev targets.Event
			if err := dec.Decode(&targets.Frame{Data: data}, &ev); err != nil {
				b.Fatal(err)
			}
		}
		n += len(frames)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/frame")
}
