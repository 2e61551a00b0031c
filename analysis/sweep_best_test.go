package analysis_test

import (
	"slices"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
)

func TestSweepComparisonBest(t *testing.T) {
	found := func(level float64) analysis.Capacity {
		return analysis.Capacity{Found: true, Level: level, Throughput: level}
	}
	for _, tc := range []struct {
		name string
		caps []analysis.Capacity
		want []int
	}{
		{"one best", []analysis.Capacity{found(4), found(8), found(6)}, []int{1}},
		{"ties are all best", []analysis.Capacity{found(8), found(4), found(8)}, []int{0, 2}},
		{"none found", []analysis.Capacity{{}, {}}, nil},
		{"only one found", []analysis.Capacity{{}, found(2)}, []int{1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var names []string
			var sweeps []*analysis.Sweep
			for i, c := range tc.caps {
				names = append(names, string(rune('a'+i)))
				sweeps = append(sweeps, &analysis.Sweep{Mode: analysis.SweepRate, Capacity: c})
			}
			cmp, err := analysis.CompareSweeps(names, sweeps)
			if err != nil {
				t.Fatal(err)
			}
			if got := cmp.Best(); !slices.Equal(got, tc.want) {
				t.Errorf("Best() = %v, want %v", got, tc.want)
			}
		})
	}
}
