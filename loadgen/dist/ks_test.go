package dist_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/streamgauge/streamgauge/loadgen/dist"
)

const (
	ksN = 20000
	// ksCrit is the one-sample Kolmogorov-Smirnov critical value at
	// alpha = 0.01 for large n. For discrete distributions it is
	// conservative: the test rejects a true distribution less often than
	// alpha.
	ksCrit = 1.628 / 141.42135623730951 // 1.628 / sqrt(20000)
)

// ksDistance returns D = sup_x |F_n(x) - F(x)| for samples from a
// distribution on the integers. Both functions are right-continuous steps
// at integers and F_n only steps at sample values, so the supremum is
// attained at a sample value s (F_n and F just after their steps) or at
// s-1 (just before the step of F_n at s).
func ksDistance(samples []int, cdf func(float64) float64) float64 {
	s := slices.Clone(samples)
	slices.Sort(s)
	n := float64(len(s))
	d := 0.0
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] == s[i] {
			j++
		}
		x := float64(s[i])
		before := float64(i) / n // F_n(x-1)
		after := float64(j) / n  // F_n(x)
		d = max(d, math.Abs(before-cdf(x-1)), math.Abs(after-cdf(x)))
		i = j
	}
	return d
}

func draw(t testing.TB, spec string, seed uint64) (dist.Dist, []int) {
	t.Helper()
	d, err := dist.Parse(spec, dist.WithBaseDir("testdata"))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	out := make([]int, ksN)
	for i := range out {
		out[i] = d.Sample(r)
	}
	return d, out
}

// TestKS checks each kind's samples against its own CDF, and the sample
// mean against Mean.
func TestKS(t *testing.T) {
	specs := []string{
		"256",
		"uniform:100,900",
		"normal:500,120",
		"normal:5,3", // a third of the mass clamped to 1
		"lognormal:median=300,sigma=0.9",
		"empirical:lengths.csv:GeneratedTokens",
		"empirical:plain.txt",
		"normal:500,120,min=400,max=600",
		"lognormal:median=300,sigma=0.9,min=50,max=1000",
		"uniform:100,900,min=300,max=500",
		"empirical:lengths.csv:ContextTokens,min=200,max=900",
	}
	for i, spec := range specs {
		t.Run(spec, func(t *testing.T) {
			d, samples := draw(t, spec, uint64(i+1))
			D := ksDistance(samples, d.CDF)
			t.Logf("D = %.5f, critical %.5f", D, ksCrit)
			if D > ksCrit {
				t.Errorf("KS rejects %s: D = %.5f > %.5f", spec, D, ksCrit)
			}
			var sum, sq float64
			for _, v := range samples {
				sum += float64(v)
			}
			mean := sum / ksN
			for _, v := range samples {
				sq += (float64(v) - mean) * (float64(v) - mean)
			}
			se := math.Sqrt(sq/(ksN-1)) / math.Sqrt(ksN)
			if math.Abs(mean-d.Mean()) > 5*se+1e-9 {
				t.Errorf("sample mean %.3f vs Mean() %.3f (5 SE = %.3f)", mean, d.Mean(), 5*se)
			}
		})
	}
}

// TestKSPower checks that the test rejects a wrong distribution.
func TestKSPower(t *testing.T) {
	tests := []struct{ sampled, against string }{
		{"normal:500,120", "normal:520,120"},
		{"normal:500,120", "normal:500,135"},
		{"lognormal:median=300,sigma=0.9", "lognormal:median=300,sigma=1"},
		{"uniform:100,900", "uniform:100,930"},
		{"normal:500,120,min=400,max=600", "normal:500,120,min=410,max=600"},
	}
	for i, tt := range tests {
		t.Run(tt.sampled+" vs "+tt.against, func(t *testing.T) {
			_, samples := draw(t, tt.sampled, uint64(100+i))
			wrong, err := dist.Parse(tt.against)
			if err != nil {
				t.Fatal(err)
			}
			D := ksDistance(samples, wrong.CDF)
			t.Logf("D = %.5f, critical %.5f", D, ksCrit)
			if D <= ksCrit {
				t.Errorf("KS accepts %s for samples of %s: D = %.5f <= %.5f", tt.against, tt.sampled, D, ksCrit)
			}
		})
	}
}
