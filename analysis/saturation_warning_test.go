package analysis_test

import (
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/results"
)

// TestSaturationWarning: the warning blames what delayed the sends: the
// --max-concurrency cap when sends waited for a slot, else the generator.
func TestSaturationWarning(t *testing.T) {
	sum := func(saturated bool, g analysis.Generator, from string) *analysis.Summary {
		return &analysis.Summary{GeneratorSaturated: saturated, Generator: g, LatencyFrom: from,
			Requests: analysis.Counts{Sent: 100}, Metrics: map[string]analysis.Stats{"lag": {Count: 100, P99: 42}}}
	}
	tests := []struct {
		name string
		s    *analysis.Summary
		want []string
		not  []string
	}{
		{"not saturated", sum(false, analysis.Generator{OpenLoop: true}, "send"), nil, nil},
		{"generator", sum(true, analysis.Generator{OpenLoop: true}, "send"),
			[]string{"load generator was saturated (lag p99 42.00 ms > 5 ms)", "split the load into shards"}, []string{"max-concurrency"}},
		{"cap set but never reached", sum(true, analysis.Generator{OpenLoop: true, MaxConcurrency: 8}, "send"),
			[]string{"generator was saturated"}, []string{"slots"}},
		{"the cap held sends back", sum(true, analysis.Generator{OpenLoop: true, MaxConcurrency: 8, CapWaits: 37}, "send"),
			[]string{"37 of 100 sends waited for one of the --max-concurrency 8 slots", "not the generator", "raise --max-concurrency", "--latency-from scheduled counts it"},
			[]string{"generator was saturated", "shards"}},
		{"the cap, latency from scheduled", sum(true, analysis.Generator{OpenLoop: true, MaxConcurrency: 8, CapWaits: 37}, "scheduled"),
			[]string{"include the wait"}, []string{"leave the wait out"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := analysis.SaturationWarning(tc.s)
			if tc.want == nil && got != "" {
				t.Fatalf("SaturationWarning = %q, want none", got)
			}
			if strings.Contains(got, "\n") {
				t.Errorf("SaturationWarning = %q, want one line", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("SaturationWarning = %q, want %q in it", got, w)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(got, w) {
					t.Errorf("SaturationWarning = %q, want no %q", got, w)
				}
			}
		})
	}
}

// TestRunDirMetaShard: a shard's rebuilt summary requests its share of the
// rate, not the whole schedule's, so it does not read as saturated.
func TestRunDirMetaShard(t *testing.T) {
	tests := []struct {
		shard  string
		want   float64
		shards int
	}{
		{"", 40, 0},
		{"0/1", 40, 1},
		{"1/4", 10, 4},
		{"bad", 40, 0},
	}
	for _, tc := range tests {
		t.Run(tc.shard, func(t *testing.T) {
			dir := t.TempDir()
			info := results.RunInfo{Tool: "streamgauge", Profile: map[string]any{"rate": 40.0, "shard": tc.shard}, Shard: tc.shard}
			if err := results.WriteJSON(dir, results.RunFile, info); err != nil {
				t.Fatal(err)
			}
			rd, err := analysis.ReadRunDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if m := rd.Meta(); m.RequestedRate != tc.want || m.Shards != tc.shards {
				t.Errorf("Meta() = rate %g, shards %d; want %g, %d", m.RequestedRate, m.Shards, tc.want, tc.shards)
			}
		})
	}
}
