package loadgen_test

import (
	"fmt"

	"github.com/streamgauge/streamgauge/loadgen"
)

// A pacer is a pure function of the hit count: ScheduledAt gives the time
// each request is due, so a schedule can be inspected without running it.
func ExampleNewPacer() {
	p, err := loadgen.NewPacer(loadgen.ArrivalConstant, 10, 0, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	for n := range uint64(4) {
		at, _ := loadgen.ScheduledAt(p, n)
		fmt.Printf("request %d at %s\n", n, at)
	}

	// Random arrivals are the same for the same seed.
	a, _ := loadgen.NewPacer(loadgen.ArrivalPoisson, 10, 0, 42)
	b, _ := loadgen.NewPacer(loadgen.ArrivalPoisson, 10, 0, 42)
	atA, _ := loadgen.ScheduledAt(a, 99)
	atB, _ := loadgen.ScheduledAt(b, 99)
	fmt.Println("same seed, same schedule:", atA == atB)

	_, err = loadgen.NewPacer(loadgen.ArrivalGamma, 10, 0, 0)
	fmt.Println(err)
	// Output:
	// request 0 at 100ms
	// request 1 at 200ms
	// request 2 at 300ms
	// request 3 at 400ms
	// same seed, same schedule: true
	// burstiness 0: gamma arrivals need a positive coefficient of variation (1 = Poisson)
}
