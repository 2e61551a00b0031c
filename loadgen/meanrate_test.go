package loadgen_test

import (
	"math"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/streamgauge/streamgauge/loadgen"
)

// TestMeanRate: the requested rate a run's achieved rate is judged
// against is the schedule's mean over the measured window.
func TestMeanRate(t *testing.T) {
	ramp, err := loadgen.NewRamp(1, 10, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	stages, err := loadgen.ParseStages([]string{"10s:rate=2", "10s:rate=6"})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := loadgen.NewStagesPacer(stages)
	if err != nil {
		t.Fatal(err)
	}
	tr := &loadgen.Trace{}
	for i := range 5 {
		tr.Entries = append(tr.Entries, loadgen.TraceEntry{At: time.Duration(i) * time.Second, Input: 1, Output: 1})
	}
	sine, err := loadgen.NewSine(10, 5, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s := time.Second
	tests := []struct {
		name     string
		p        vegeta.Pacer
		from, to time.Duration
		want     float64
	}{
		{"constant", mustPacer(t, loadgen.ArrivalConstant, 5, 0, 1), 0, 10 * s, 5},
		{"poisson requests its rate", mustPacer(t, loadgen.ArrivalPoisson, 3, 0, 1), 2 * s, 3 * s, 3},
		{"gamma requests its rate", mustPacer(t, loadgen.ArrivalGamma, 3, 4, 1), 0, s, 3},
		{"ramp over its length", ramp, 0, 10 * s, 5.5},
		{"ramp after warm-up", ramp, 5 * s, 10 * s, 7.75},
		{"ramp then hold", ramp, 0, 20 * s, (55 + 100) / 20.0},
		{"stages", sp, 0, 20 * s, 4},
		{"stages, window across the step", sp, 5 * s, 15 * s, 4},
		{"stages, window within one", sp, 12 * s, 18 * s, 6},
		{"trace", tr.Pacer(), 0, 4 * s, 1},
		{"trace after warm-up", tr.Pacer(), 2 * s, 4 * s, 1},
		{"sine over whole periods", sine, 0, 20 * s, 10},
		{"no window: the rate then", ramp, 10 * s, 10 * s, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := loadgen.MeanRate(tc.p, tc.from, tc.to)
			if math.Abs(got-tc.want) > 0.02*tc.want {
				t.Errorf("MeanRate = %g, want %g", got, tc.want)
			}
		})
	}
}
