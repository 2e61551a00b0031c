package targetstest

import (
	"bytes"
	"testing"

	"github.com/streamgauge/streamgauge/targets"
)

// SimFrames returns the frames of a simulated n-token stream answering req,
// written with p's stream writer (with usage n tokens for a 512-token
// prompt) and cut with p's frame reader.
func SimFrames(tb testing.TB, p Protocol, req *targets.ServerRequest, n int) [][]byte {
	tb.Helper()
	var buf bytes.Buffer
	w := p.NewStreamWriter(&buf, req, "bench")
	w.Start()
	words := []string{" the", " of", " and", " to", " a", " in"}
	for i := 0; i < n; i++ {
		w.Token(words[i%len(words)])
	}
	w.Finish(targets.Usage{PromptTokens: 512, CompletionTokens: n})
	fr := targets.NewFrameReader(p.Framing(), &buf, 0)
	var frames [][]byte
	var f targets.Frame
	for fr.Next(&f) == nil {
		frames = append(frames, bytes.Clone(f.Data))
	}
	return frames
}

// BenchDecode measures p's decoder alone (frames already cut), reporting
// ns/frame: each iteration decodes all frames with a fresh decoder.
func BenchDecode(b *testing.B, p targets.Protocol, frames ...[]byte) {
	b.Helper()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		dec := p.NewDecoder()
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

// SimStream is a stream of n " the" tokens answering req, as p's stream
// writer writes it, with usage n tokens for a one-token prompt.
func SimStream(tb testing.TB, p targets.ServerProtocol, req *targets.ServerRequest, n int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	sw := p.NewStreamWriter(&buf, req, "bench")
	if err := sw.Start(); err != nil {
		tb.Fatal(err)
	}
	for range n {
		_ = sw.Token(" the")
	}
	_ = sw.Finish(targets.Usage{PromptTokens: 1, CompletionTokens: n})
	return buf.Bytes()
}

// BenchDecodeFrame measures decoding the one frame f, which must give the
// content want.
func BenchDecodeFrame(b *testing.B, p targets.Protocol, f *targets.Frame, want string) {
	b.Helper()
	dec := p.NewDecoder()
	b.ReportAllocs()
	for b.Loop() {
		var ev targets.Event
		if err := dec.Decode(f, &ev); err != nil || ev.Content != want {
			b.Fatal(err, ev)
		}
	}
}

// BenchDecodeStream measures the client's per-frame cost of a whole stream,
// frame reader and decoder, reporting bytes/s and ns/frame.
func BenchDecodeStream(b *testing.B, p targets.Protocol, stream []byte) {
	b.Helper()
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	frames := 0
	for b.Loop() {
		fr := targets.NewFrameReader(p.Framing(), bytes.NewReader(stream), 0)
		dec := p.NewDecoder()
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
}
