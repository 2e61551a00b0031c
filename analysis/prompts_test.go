package analysis_test

import (
	"fmt"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/results"
)

func TestPromptStats(t *testing.T) {
	rec := func(hash string, warmup bool) *results.Record {
		return &results.Record{ID: "x", PromptHash: hash, Warmup: warmup, E2EMS: 1, ICLMS: []float64{}}
	}
	tests := []struct {
		name    string
		records []*results.Record
		want    *analysis.PromptStats
		note    string
	}{
		{"no hashes", []*results.Record{rec("", false)}, nil, ""},
		{"all distinct", []*results.Record{rec("01", false), rec("02", false)}, &analysis.PromptStats{Hashed: 2, Distinct: 2}, ""},
		{"warmup not counted", []*results.Record{rec("01", true), rec("01", false)}, &analysis.PromptStats{Hashed: 1, Distinct: 1}, ""},
		{"repeats", []*results.Record{rec("01", false), rec("01", false), rec("02", false), rec("01", false), rec("zz", false)},
			&analysis.PromptStats{Hashed: 4, Distinct: 2, RepeatedShare: 0.5},
			"50% of requests repeated an earlier prompt (2 distinct of 4): a prefix cache may flatter ttft; --unique-prompts prevents it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acc := analysis.NewAccumulator()
			for _, r := range tt.records {
				if err := acc.Append(r); err != nil {
					t.Fatal(err)
				}
			}
			sum, err := acc.Summary(analysis.RunMeta{})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(sum.Prompts) != fmt.Sprint(tt.want) {
				t.Errorf("prompts = %+v, want %+v", sum.Prompts, tt.want)
			}
			if got := sum.RepeatedNote(); got != tt.note {
				t.Errorf("note = %q, want %q", got, tt.note)
			}
		})
	}
}
