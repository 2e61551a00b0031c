package analysis_test

import (
	"strings"
	"testing"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/results"
)

// runSearch drives a search against a verdict function and returns the
// levels it ran.
func runSearch(t *testing.T, s *analysis.Search, pass func(float64) bool) []float64 {
	t.Helper()
	var levels []float64
	for {
		l, ok := s.Next()
		if !ok {
			return levels
		}
		levels = append(levels, l)
		if len(levels) > 100 {
			t.Fatalf("search did not end: %v", levels)
		}
		s.Observe(l, pass(l))
	}
}

func TestSearch(t *testing.T) {
	below := func(c float64) func(float64) bool { return func(l float64) bool { return l <= c } }
	tests := []struct {
		name     string
		opt      analysis.SearchOptions
		pass     func(float64) bool
		capacity float64 // the true capacity; 0 = none passes
		// wantPass/wantFail: the bracket when it is exact.
		wantPass, wantFail float64
		maxStages          int
		outcome            string
	}{
		{name: "climb then bisect", opt: analysis.SearchOptions{Start: 1, Precision: 0.05}, pass: below(17.4), capacity: 17.4, maxStages: 12, outcome: "bracketed"},
		{name: "capacity just above a power of two", opt: analysis.SearchOptions{Start: 2, Precision: 0.02}, pass: below(16.1), capacity: 16.1, maxStages: 14, outcome: "bracketed"},
		{name: "start above capacity descends", opt: analysis.SearchOptions{Start: 100, Precision: 0.05}, pass: below(7), capacity: 7, maxStages: 14, outcome: "bracketed"},
		{name: "every level up to max passes", opt: analysis.SearchOptions{Start: 1, Max: 10}, pass: below(1000), wantPass: 10, maxStages: 5, outcome: "at least"},
		{name: "nothing passes", opt: analysis.SearchOptions{Start: 4, Min: 0.5}, pass: func(float64) bool { return false }, wantFail: 0.5, maxStages: 4, outcome: "no level passed"},
		{name: "nothing passes down to a floor that says why", opt: analysis.SearchOptions{Start: 1, Min: 0.334, MinWhy: "a 30s stage at a lower rate holds fewer than 10 requests"}, pass: func(float64) bool { return false },
			wantFail: 0.334, maxStages: 3, outcome: "no level passed, down to 0.334: a 30s stage at a lower rate holds fewer than 10 requests"},
		{name: "a floor within the precision of the last failure is not run", opt: analysis.SearchOptions{Start: 300, Min: 4.69, Precision: 0.1}, pass: func(float64) bool { return false },
			wantFail: 4.7, maxStages: 7, outcome: "no level passed, down to 4.7"},
		{name: "users: whole numbers", opt: analysis.SearchOptions{Start: 1, Integer: true, Precision: 0.05}, pass: below(37), wantPass: 37, wantFail: 38, maxStages: 12, outcome: "bracketed"},
		{name: "users: one user fails", opt: analysis.SearchOptions{Start: 4, Integer: true}, pass: func(float64) bool { return false }, wantFail: 1, maxStages: 3, outcome: "no level passed"},
		{name: "users: capacity of one", opt: analysis.SearchOptions{Start: 8, Integer: true}, pass: below(1), wantPass: 1, wantFail: 2, maxStages: 4, outcome: "bracketed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := analysis.NewSearch(tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			levels := runSearch(t, s, tc.pass)
			lo, hi := s.Bracket()
			if len(levels) > tc.maxStages {
				t.Errorf("%d stages %v, want at most %d", len(levels), levels, tc.maxStages)
			}
			if !strings.Contains(s.Outcome(), tc.outcome) {
				t.Errorf("outcome %q, want it to say %q", s.Outcome(), tc.outcome)
			}
			if tc.wantPass != 0 || tc.wantFail != 0 {
				if lo != tc.wantPass || hi != tc.wantFail {
					t.Errorf("bracket [%g, %g), want [%g, %g); levels %v", lo, hi, tc.wantPass, tc.wantFail, levels)
				}
				return
			}
			prec := tc.opt.Precision
			if !(lo <= tc.capacity && tc.capacity < hi) {
				t.Errorf("bracket [%g, %g) misses the capacity %g; levels %v", lo, hi, tc.capacity, levels)
			}
			if hi/lo-1 > prec {
				t.Errorf("bracket [%g, %g) wider than %g", lo, hi, prec)
			}
		})
	}
}

// TestSearchNoise: a level that fails below one that passed (noise near
// the knee) moves the search below it rather than keeping a bracket that
// contradicts a measurement.
func TestSearchNoise(t *testing.T) {
	s, err := analysis.NewSearch(analysis.SearchOptions{Start: 8, Precision: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	s.Observe(8, true)
	s.Observe(16, false)
	s.Observe(8, false) // a repeat that failed
	lo, hi := s.Bracket()
	if lo != 0 || hi != 8 {
		t.Fatalf("bracket [%g, %g), want [0, 8) after 8 failed", lo, hi)
	}
	if l, ok := s.Next(); !ok || l != 4 {
		t.Errorf("next %g %v, want 4", l, ok)
	}
}

func TestNewSearchErrors(t *testing.T) {
	tests := []struct {
		opt  analysis.SearchOptions
		want string
	}{
		{analysis.SearchOptions{Start: 0}, "start level 0"},
		{analysis.SearchOptions{Start: 4, Max: 2}, "below the start level"},
		{analysis.SearchOptions{Start: 1, Precision: 1.5}, "precision 1.5"},
		{analysis.SearchOptions{Start: 1, Max: -1}, "max level -1"},
	}
	for _, tc := range tests {
		if _, err := analysis.NewSearch(tc.opt); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewSearch(%+v) = %v, want an error containing %q", tc.opt, err, tc.want)
		}
	}
}

// stageRecords makes a stage of n requests scheduled every gap ms, with the
// ttft (ms, from the scheduled send) wait(i) gives and a 50 ms decode.
func stageRecords(n int, gapMS float64, wait func(i int) float64) []*results.Record {
	recs := make([]*results.Record, n)
	for i := range n {
		sched := int64(float64(i) * gapMS * 1e6)
		ttft := wait(i)
		recs[i] = &results.Record{ID: "r", ScheduledNS: sched, SentNS: sched, FirstTokenNS: sched + int64(ttft*1e6),
			DoneNS: sched + int64((ttft+50)*1e6), TTFTMS: results.Ms(ttft), E2EMS: ttft + 50}
	}
	return recs
}

func probe(recs []*results.Record, offered, sent float64) analysis.Saturation {
	p := analysis.NewSaturationProbe()
	for _, r := range recs {
		p.Append(r)
	}
	if p.Next() {
		for _, r := range recs {
			p.Append(r)
		}
	}
	return p.Result(offered, sent)
}

func TestStageSaturation(t *testing.T) {
	steady := func(int) float64 { return 9 }
	growing := func(i int) float64 { return 9 + 0.5*float64(i) } // the queue grows by one request's wait each arrival
	// An early stall put 400 ms on every request; the queue still grows at
	// 3% of the elapsed time (a load 3% over capacity).
	offsetRamp := func(i int) float64 { return 400 + 1.5*float64(i) }
	offsetSlow := func(i int) float64 { return 400 + 0.2*float64(i) } // 0.4%: within noise
	stall := func(i int) float64 {
		if i >= 150 {
			return 40 // one stall late in the stage, then a plateau
		}
		return 9
	}
	tests := []struct {
		name          string
		recs          []*results.Record
		offered, sent float64
		want          bool
		reason        string
	}{
		{"steady below capacity", stageRecords(200, 50, steady), 20, 20, false, ""},
		{"queue grows through the stage", stageRecords(200, 50, growing), 20, 20, true, "ttft from the scheduled send rose"},
		{"a stall is not a ramp", stageRecords(200, 50, stall), 20, 20, false, ""},
		{"a ramp on top of an early stall", stageRecords(200, 50, offsetRamp), 20, 20, true, "rose 436→511→586→662 ms"},
		{"a slow drift on top of an early stall", stageRecords(200, 50, offsetSlow), 20, 20, false, ""},
		{"closed loop: no open-loop evidence", stageRecords(200, 50, growing), 0, 0, false, ""},
		{"sent well under the offered rate", stageRecords(200, 50, steady), 20, 12, true, "sent 12 req/s of 20 offered"},
		{"too few arrivals to judge the sent rate", stageRecords(20, 50, steady), 20, 12, false, ""},
		{"no records", nil, 20, 0, false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := probe(tc.recs, tc.offered, tc.sent)
			if s.Saturated != tc.want || !strings.Contains(s.Reason, tc.reason) {
				t.Errorf("saturated %v (%q), want %v (%q); ttft by quarter %v, in flight %v", s.Saturated, s.Reason, tc.want, tc.reason, s.TTFTByQuarter, s.InFlightByQuarter)
			}
		})
	}
	t.Run("unfinished requests", func(t *testing.T) {
		recs := stageRecords(200, 50, steady)
		recs[199].Error = &results.Error{Kind: results.KindCanceled, Message: "drain"}
		s := probe(recs, 20, 20)
		if !s.Saturated || !strings.Contains(s.Reason, "1 requests were still unfinished") {
			t.Errorf("saturated %v (%q), want the canceled request as evidence", s.Saturated, s.Reason)
		}
	})
	t.Run("warm-up is not judged", func(t *testing.T) {
		recs := stageRecords(200, 50, growing)
		for _, r := range recs[:150] {
			r.Warmup = true // the ramp is all in the warm-up; the rest is flat
		}
		for _, r := range recs[150:] {
			*r.TTFTMS = 9
		}
		if s := probe(recs, 20, 20); s.Saturated {
			t.Errorf("saturated (%q) by warm-up requests", s.Reason)
		}
	})
}

func stage(i int, level float64, pass bool, thr float64) analysis.SweepStage {
	return analysis.SweepStage{Index: i, Level: level, Pass: pass, Throughput: analysis.Throughput{RequestsPerS: thr}}
}

func TestFindCapacity(t *testing.T) {
	tests := []struct {
		name             string
		stages           []analysis.SweepStage
		found            bool
		level, failLevel float64
	}{
		{"none", nil, false, 0, 0},
		{"search order", []analysis.SweepStage{stage(1, 4, true, 4), stage(2, 8, true, 8), stage(3, 16, false, 12), stage(4, 11.3, true, 11), stage(5, 13.4, false, 12)}, true, 11.3, 13.4},
		{"a pass above a failure does not count", []analysis.SweepStage{stage(1, 1, true, 1), stage(2, 2, false, 1.5), stage(3, 4, true, 3)}, true, 1, 2},
		{"every level passed", []analysis.SweepStage{stage(1, 1, true, 1), stage(2, 2, true, 2)}, true, 2, 0},
		{"the lowest level failed", []analysis.SweepStage{stage(1, 1, false, 1), stage(2, 2, false, 1)}, false, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := analysis.FindCapacity(tc.stages)
			if c.Found != tc.found || c.Level != tc.level || c.FailedLevel != tc.failLevel {
				t.Errorf("capacity %+v, want found %v at %g, failing at %g", c, tc.found, tc.level, tc.failLevel)
			}
		})
	}
}

func TestClosedLoopKnee(t *testing.T) {
	prev := []analysis.SweepStage{stage(1, 1, true, 10), stage(2, 2, true, 19), stage(3, 4, true, 30)}
	tests := []struct {
		users, thr float64
		want       bool
	}{
		{8, 31, true},   // twice the users of 4, 3% more throughput
		{8, 50, false},  // still scaling
		{5, 31, false},  // not 1.5× any lower level that it fails to beat
		{6, 32.5, true}, // 1.5× of 4 users, under 10% more
	}
	for _, tc := range tests {
		if got, why := analysis.ClosedLoopKnee(prev, tc.users, tc.thr); got != tc.want {
			t.Errorf("knee(%g users, %g req/s) = %v (%s), want %v", tc.users, tc.thr, got, why, tc.want)
		}
	}
}
