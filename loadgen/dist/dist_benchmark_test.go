package dist_test

import (
	"math/rand/v2"
	"testing"

	"github.com/streamgauge/streamgauge/loadgen/dist"
)

func BenchmarkSample(b *testing.B) {
	for _, spec := range []string{
		"256",
		"uniform:100,900",
		"normal:500,120",
		"lognormal:median=300,sigma=0.9",
		"empirical:lengths.csv:GeneratedTokens",
		"normal:500,120,min=1,max=2048",
	} {
		b.Run(spec, func(b *testing.B) {
			d, err := dist.Parse(spec, dist.WithBaseDir("testdata"))
			if err != nil {
				b.Fatal(err)
			}
			r := rand.New(rand.NewPCG(1, 2))
			sum := 0
			for b.Loop() {
				sum += d.Sample(r)
			}
			if sum < 0 {
				b.Fatal(sum)
			}
		})
	}
}
