package generic_test

import (
	"testing"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
)

// The data of typical one-token frames: vLLM's chat chunk (the same bytes as
// targets/openai's benchmark, so the numbers compare), with per-chunk usage,
// and the made-up Acme API's.
const (
	benchTokenData = `{"id":"chatcmpl-4f2a9c1e","object":"chat.completion.chunk","created":1733000000,"model":"llama-3.1-8b","choices":[{"index":0,"delta":{"content":" the"},"logprobs":null,"finish_reason":null}]}`
	benchUsageData = `{"id":"chatcmpl-4f2a9c1e","object":"chat.completion.chunk","created":1733000000,"model":"llama-3.1-8b","choices":[{"index":0,"delta":{"content":" the"},"logprobs":null,"finish_reason":null}],"usage":{"prompt_tokens":512,"total_tokens":640,"completion_tokens":128}}`
	benchAcmeData  = `{"seq":5,"state":"running","output":{"piece":" the","thought":null},"fault":null}`
)

func benchmarkDecode(b *testing.B, dec targets.Decoder, data string) {
	f := targets.Frame{Data: []byte(data)}
	var ev targets.Event
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		ev = targets.Event{}
		if err := dec.Decode(&f, &ev); err != nil {
			b.Fatal(err)
		}
	}
	if ev.Content != " the" {
		b.Fatalf("decoded %+v", ev)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/frame")
}

// BenchmarkDecode measures one frame's decode. openai-chat is the hand-written
// decoder on the same bytes, for comparison.
func BenchmarkDecode(b *testing.B) {
	vllm := mustNew(b, "testdata/vllm.yaml")
	acme := mustNew(b, "testdata/acme.yaml")
	b.Run("vllm-spec/token", func(b *testing.B) { benchmarkDecode(b, vllm.NewDecoder(), benchTokenData) })
	b.Run("vllm-spec/token+usage", func(b *testing.B) { benchmarkDecode(b, vllm.NewDecoder(), benchUsageData) })
	b.Run("acme-spec/token", func(b *testing.B) { benchmarkDecode(b, acme.NewDecoder(), benchAcmeData) })
	b.Run("openai-chat/token", func(b *testing.B) { benchmarkDecode(b, openai.Chat{}.NewDecoder(), benchTokenData) })
	b.Run("vllm-spec/done", func(b *testing.B) {
		dec := vllm.NewDecoder()
		f := targets.Frame{Data: []byte("[DONE]")}
		b.ReportAllocs()
		for b.Loop() {
			var ev targets.Event
			if err := dec.Decode(&f, &ev); err != nil || !ev.Done {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkBody measures building one request body from the template.
func BenchmarkBody(b *testing.B) {
	p := mustNew(b, "testdata/vllm.yaml")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Body(chatRequest); err != nil {
			b.Fatal(err)
		}
	}
}
