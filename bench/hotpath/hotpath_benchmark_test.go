package hotpath_test

import (
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/loadgen/tokenizer"
	"github.com/streamgauge/streamgauge/results"
	"github.com/streamgauge/streamgauge/targets"
)

// frames is the output length of the load benchmark's streams.
const frames = 128

// response is a finished 128-token stream as targets.Client returns it:
// one token per frame 10 ms apart, and the server's usage.
func response() (*targets.Request, *targets.Response) {
	resp := &targets.Response{Sent: time.Now(), Header: time.Millisecond, Status: 200,
		Usage: &targets.Usage{PromptTokens: 128, CompletionTokens: frames}}
	for i := range frames {
		resp.Frames = append(resp.Frames, targets.Stamp{At: 50*time.Millisecond + time.Duration(i)*10*time.Millisecond, Text: " the", Content: true})
		resp.Content.WriteString(" the")
	}
	resp.Done = resp.Frames[frames-1].At + time.Millisecond
	return &targets.Request{Model: "sim", InputTokens: 128, MaxTokens: frames}, resp
}

func perFrame(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/frames, "ns/frame")
}

// BenchmarkNewRecord turns a 128-frame response into a record: gaps, frame
// token counts, and the tokenizer's count of every frame (kept beside the
// server's usage).
func BenchmarkNewRecord(b *testing.B) {
	tok, err := tokenizer.Get("cl100k_base")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		counter loadgen.Counter
	}{{"tokenizer", tok}, {"no-counter", nil}} {
		b.Run(c.name, func(b *testing.B) {
			req, resp := response()
			start := resp.Sent.Add(-time.Millisecond)
			b.ReportAllocs()
			for b.Loop() {
				loadgen.NewRecord("42", start, 0, req, resp, c.counter)
			}
			perFrame(b)
		})
	}
}

// BenchmarkNewRecordLongRun builds the record of a reasoning stream stuck
// repeating one character: 128 frames of 8 KiB, a 1 MiB run that the
// tokenizer counts frame by frame and then whole (reasoning_tokens).
// tiktoken-go's quadratic merge never finished this record.
func BenchmarkNewRecordLongRun(b *testing.B) {
	tok, err := tokenizer.Get("cl100k_base")
	if err != nil {
		b.Fatal(err)
	}
	req, resp := response()
	resp.Content.Reset()
	run := strings.Repeat("a", 8<<10)
	for i := range resp.Frames {
		resp.Frames[i].Text, resp.Frames[i].Content, resp.Frames[i].Reasoning = run, false, true
		resp.Reasoning.WriteString(run)
	}
	start := resp.Sent.Add(-time.Millisecond)
	b.SetBytes(int64(resp.Reasoning.Len()))
	b.ReportAllocs()
	for b.Loop() {
		loadgen.NewRecord("42", start, 0, req, resp, tok)
	}
}

// BenchmarkWriterAppend writes a 128-frame record to requests.jsonl (JSON
// encoding and one write call, under the writer's lock).
func BenchmarkWriterAppend(b *testing.B) {
	req, resp := response()
	rec := loadgen.NewRecord("42", resp.Sent, 0, req, resp, nil)
	w, err := results.Create(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Append(rec); err != nil {
			b.Fatal(err)
		}
	}
	perFrame(b)
}

// BenchmarkAccumulatorAppend folds a 128-frame record into the histograms:
// lag, ttfb, ttft, ttfo, tpot, e2e, and one icl and itl value per gap.
func BenchmarkAccumulatorAppend(b *testing.B) {
	req, resp := response()
	rec := loadgen.NewRecord("42", resp.Sent, 0, req, resp, nil)
	acc := analysis.NewAccumulator()
	b.ReportAllocs()
	for b.Loop() {
		acc.Append(rec)
	}
	perFrame(b)
}

// BenchmarkHistogramRecord records one latency into a histogram.
func BenchmarkHistogramRecord(b *testing.B) {
	hs := analysis.NewHistograms()
	b.ReportAllocs()
	v := 0.0
	for b.Loop() {
		hs.RecordMS("icl", 10+v, 1)
		v += 0.001
		if v > 5 {
			v = 0
		}
	}
}

// BenchmarkPerRequest is everything streamgauge does per finished
// 128-token request beyond reading and decoding its frames.
func BenchmarkPerRequest(b *testing.B) {
	tok, err := tokenizer.Get("cl100k_base")
	if err != nil {
		b.Fatal(err)
	}
	req, resp := response()
	w, err := results.Create(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	acc := analysis.NewAccumulator()
	b.ReportAllocs()
	for b.Loop() {
		rec := loadgen.NewRecord("42", resp.Sent, 0, req, resp, tok)
		if err := w.Append(rec); err != nil {
			b.Fatal(err)
		}
		acc.Append(rec)
	}
	perFrame(b)
}
