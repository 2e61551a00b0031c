package openai_test

import (
	"testing"

	"github.com/streamgauge/streamgauge/targets"
	"github.com/streamgauge/streamgauge/targets/openai"
)

// The data of typical vLLM chat chunks: one token, and one token with
// continuous_usage_stats.
const (
	benchTokenData = `{"id":"chatcmpl-4f2a9c1e","object":"chat.completion.chunk","created":1733000000,"model":"llama-3.1-8b","choices":[{"index":0,"delta":{"content":" the"},"logprobs":null,"finish_reason":null}]}`
	benchUsageData = `{"id":"chatcmpl-4f2a9c1e","object":"chat.completion.chunk","created":1733000000,"model":"llama-3.1-8b","choices":[{"index":0,"delta":{"content":" the"},"logprobs":null,"finish_reason":null}],"usage":{"prompt_tokens":512,"total_tokens":640,"completion_tokens":128}}`
)

func benchmarkDecode(b *testing.B, data string) {
	dec := openai.Chat{}.NewDecoder()
	f := targets.Frame{Data: []byte(data)}
	var ev targets.Event
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ev = targets.Event{}
		if err := dec.Decode(&f, &ev); err != nil {
			b.Fatal(err)
		}
	}
	if ev.Content != " the" {
		b.Fatalf("decoded %+v", ev)
	}
}

func BenchmarkDecode(b *testing.B) {
	b.Run("token", func(b *testing.B) { benchmarkDecode(b, benchTokenData) })
	b.Run("token+usage", func(b *testing.B) { benchmarkDecode(b, benchUsageData) })
	b.Run("done", func(b *testing.B) {
		dec := openai.Chat{}.NewDecoder()
		f := targets.Frame{Data: []byte("[DONE]")}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			var ev targets.Event
			if err := dec.Decode(&f, &ev); err != nil || !ev.Done {
				b.Fatal(err)
			}
		}
	})
}
