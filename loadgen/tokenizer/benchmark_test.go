package tokenizer_test

import (
	"testing"

	"github.com/streamgauge/streamgauge/loadgen/tokenizer"
)

// Count is called once per streamed frame, so its cost matters.
// "memo" measures a text seen before (the usual case for streamed tokens),
// "encode" the price of a text never seen before.
func BenchmarkCount(b *testing.B) {
	texts := []struct{ name, text string }{
		{"1token", " the"},
		{"20chars", "Hello, world! How ar"},
	}
	for _, name := range tokenizer.Names() {
		tok := get(b, name)
		for _, tt := range texts {
			b.Run(name+"/"+tt.name+"/memo", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					tok.Count(tt.text)
				}
			})
			b.Run(name+"/"+tt.name+"/memo-parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						tok.Count(tt.text)
					}
				})
			})
			// A text not in the memo costs what Encode costs (plus one
			// map lookup): this is the uncached price.
			b.Run(name+"/"+tt.name+"/encode", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_ = len(tok.Encode(tt.text))
				}
			})
		}
	}
}

func BenchmarkEncode32kTokens(b *testing.B) {
	for _, name := range tokenizer.Names() {
		tok := get(b, name)
		text := ""
		for len(text) < 32000*6 {
			text += " apple banana cherry"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tok.Encode(text)
			}
		})
	}
}

func BenchmarkGetCached(b *testing.B) {
	get(b, tokenizer.CL100kBase)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tokenizer.Get(tokenizer.CL100kBase); err != nil {
			b.Fatal(err)
		}
	}
}
