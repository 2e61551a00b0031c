package analysis_test

import (
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/analysis/analysistest"
)

// BenchmarkCompare: two runs of 2,000 requests (about 16 tokens each), the
// default 16 metrics and 2,000 resamples, as `streamgauge compare` does.
func BenchmarkCompare(b *testing.B) {
	base := analysistest.BaseSynth().Samples("a", 1, 2000)
	cand := analysistest.BaseSynth().Samples("b", 2, 2000)
	for b.Loop() {
		if _, err := analysis.Compare(base, []*analysis.RunSamples{cand}, analysis.CompareOptions{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadSamples: building the samples of a 2,000-request run.
func BenchmarkLoadSamples(b *testing.B) {
	recs := analysistest.BaseSynth().Records(analysistest.NewRand(1), 2000)
	for b.Loop() {
		analysis.NewRunSamples("a", recs, nil, false)
	}
}

// BenchmarkSampleBuilderLarge: streaming 200,000 requests (about 16 tokens
// each, in server moments of 20) into samples, as TestCompareHonestyLarge
// does for each run.
func BenchmarkSampleBuilderLarge(b *testing.B) {
	for b.Loop() {
		baseBig.samples("a", 1, 200_000)
	}
}

// BenchmarkCompareLarge: two runs of 200,000 requests, resampled in
// blocks (1,563 clusters a side), the default 16 metrics and 2,000
// resamples.
func BenchmarkCompareLarge(b *testing.B) {
	base := baseBig.samples("a", 1, 200_000)
	cand := baseBig.samples("b", 2, 200_000)
	for b.Loop() {
		if _, err := analysis.Compare(base, []*analysis.RunSamples{cand}, analysis.CompareOptions{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}
