package dist_test

import (
	"fmt"
	"math/rand/v2"

	"github.com/streamgauge/streamgauge/loadgen/dist"
)

func ExampleParse() {
	d, err := dist.Parse("normal:500,120,min=1,max=2048")
	if err != nil {
		fmt.Println(err)
		return
	}
	r := rand.New(rand.NewPCG(1, 2)) // seed from the profile, never the global source
	samples := make([]int, 5)
	for i := range samples {
		samples[i] = d.Sample(r)
	}
	fmt.Println(samples)
	fmt.Printf("%s mean=%.2f P(X<=500)=%.3f\n", d, d.Mean(), d.CDF(500))
	// Output:
	// [546 509 524 365 452]
	// normal:500,120,min=1,max=2048 mean=500.00 P(X<=500)=0.502
}

func ExampleParse_empirical() {
	// Relative paths resolve against the profile file's directory.
	d, err := dist.Parse("empirical:lengths.csv:GeneratedTokens,max=300", dist.WithBaseDir("testdata"))
	if err != nil {
		fmt.Println(err)
		return
	}
	r := rand.New(rand.NewPCG(1, 2))
	samples := make([]int, 5)
	for i := range samples {
		samples[i] = d.Sample(r)
	}
	fmt.Println(samples)
	// Output:
	// [150 137 170 170 72]
}

func ExampleParse_error() {
	_, err := dist.Parse("uniform:900,100")
	fmt.Println(err)
	_, err = dist.Parse("lognormal:median=300,sigmaa=0.9")
	fmt.Println(err)
	// Output:
	// dist "uniform:900,100": uniform low 900 is above high 100
	// dist "lognormal:median=300,sigmaa=0.9": unknown parameter "sigmaa" (want median, sigma, min, max)
}
