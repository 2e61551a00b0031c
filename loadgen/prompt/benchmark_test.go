package prompt_test

import (
	"strconv"
	"testing"

	"github.com/streamgauge/streamgauge/loadgen/prompt"
	"github.com/streamgauge/streamgauge/loadgen/tokenizer"
)

func BenchmarkBuild(b *testing.B) {
	for _, name := range tokenizer.Names() {
		pb, _ := builder(b, name)
		for _, n := range []int{128, 1 << 10, 8 << 10, 32 << 10} {
			b.Run(name+"/"+strconv.Itoa(n), func(b *testing.B) {
				r := seeded(1)
				b.ReportAllocs()
				for b.Loop() {
					_ = pb.Build(r, n)
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/token")
			})
		}
	}
}

// BenchmarkBuildWithPrefix: a 1k-token shared prefix made by Build, plus 1k
// tokens.
func BenchmarkBuildWithPrefix(b *testing.B) {
	for _, name := range tokenizer.Names() {
		pb, _ := builder(b, name)
		prefix := pb.Build(seeded(0), 1<<10)
		b.Run(name, func(b *testing.B) {
			r := seeded(1)
			b.ReportAllocs()
			for b.Loop() {
				_ = pb.BuildWithPrefix(prefix, r, 2<<10)
			}
		})
	}
}

func BenchmarkNew(b *testing.B) {
	for _, name := range tokenizer.Names() {
		tok, err := tokenizer.Get(name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := prompt.New(tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
