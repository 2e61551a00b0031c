package harness

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/profiles"
)

// fakeProber is a client that measures within the limits up to capacity
// and badly above it; every probe takes wall seconds.
func fakeProber(capacity, wall float64, by string) Prober {
	return func(_ context.Context, i int, level float64) (analysis.DoctorProbe, error) {
		pr := analysis.DoctorProbe{Index: i, Level: level, OK: 10, WallS: wall, ClientCPUS: wall / 2, ServerCPUS: wall / 4,
			Truth: &analysis.TruthErrors{Requests: 10}, TTFTErrP50: 0.2, LagP99: 1}
		if level > capacity {
			switch by {
			case "lag":
				pr.LagP99 = 20
			case "failed":
				pr.Failed = 3
			default:
				pr.TTFTErrP50 = 3
			}
		}
		return pr, nil
	}
}

func TestSearchDoctor(t *testing.T) {
	for _, tc := range []struct {
		name     string
		search   analysis.SearchOptions
		users    bool
		capacity float64
		by       string
		wall     float64
		budget   time.Duration
		levels   []float64
		ceiling  float64
		outcome  string
		atLeast  bool
	}{
		{name: "climb then bisect", search: analysis.SearchOptions{Start: 10, Precision: 0.1}, capacity: 35, wall: 1, budget: time.Hour,
			levels: []float64{10, 20, 40, 28.3, 33.6, 36.7}, ceiling: 33.6, outcome: "bracketed"},
		{name: "lag breaks it", search: analysis.SearchOptions{Start: 10, Precision: 0.1}, capacity: 35, by: "lag", wall: 1, budget: time.Hour,
			levels: []float64{10, 20, 40, 28.3, 33.6, 36.7}, ceiling: 33.6, outcome: "bracketed"},
		{name: "failures break it", search: analysis.SearchOptions{Start: 10, Precision: 0.1}, capacity: 35, by: "failed", wall: 1, budget: time.Hour,
			levels: []float64{10, 20, 40, 28.3, 33.6, 36.7}, ceiling: 33.6, outcome: "bracketed"},
		{name: "first level too high: halve", search: analysis.SearchOptions{Start: 100, Precision: 0.1}, capacity: 30, wall: 1, budget: time.Hour,
			levels: []float64{100, 50, 25, 35.4, 29.7, 32.4}, ceiling: 29.7, outcome: "bracketed"},
		{name: "nothing passes down to the floor", search: analysis.SearchOptions{Start: 8, Min: 2, Precision: 0.1}, capacity: 1, wall: 1, budget: time.Hour,
			levels: []float64{8, 4, 2}, ceiling: 0, outcome: "no level passed"},
		{name: "max bounds the climb", search: analysis.SearchOptions{Start: 10, Max: 30, Precision: 0.1}, capacity: 1000, wall: 1, budget: time.Hour,
			levels: []float64{10, 20, 30}, ceiling: 30, outcome: "every level up to the maximum", atLeast: true},
		{name: "budget stops the climb", search: analysis.SearchOptions{Start: 10, Precision: 0.1}, capacity: 1000, wall: 5, budget: 12 * time.Second,
			levels: []float64{10, 20}, ceiling: 20, outcome: "budget 12s spent after 2 probes (highest pass 20, lowest fail none)", atLeast: true},
		{name: "budget stops the bisection", search: analysis.SearchOptions{Start: 10, Precision: 0.1}, capacity: 35, wall: 5, budget: 20 * time.Second,
			levels: []float64{10, 20, 40, 28.3}, ceiling: 28.3, outcome: "budget 20s spent after 4 probes (highest pass 28.3, lowest fail 40)"},
		{name: "budget of exactly one probe", search: analysis.SearchOptions{Start: 10, Precision: 0.1}, capacity: 35, wall: 5, budget: 5 * time.Second,
			levels: []float64{10}, ceiling: 10, outcome: "budget 5s spent after 1 probe", atLeast: true},
		{name: "users: whole numbers", search: analysis.SearchOptions{Start: 4, Integer: true, Precision: 0.1}, users: true, capacity: 13, wall: 1, budget: time.Hour,
			levels: []float64{4, 8, 16, 12, 14, 13}, ceiling: 13, outcome: "bracketed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := analysis.NewSearch(tc.search)
			if err != nil {
				t.Fatal(err)
			}
			d := &analysis.Doctor{Mode: "rate", Planned: tc.search.Start, CPUs: 2, Limits: analysis.DoctorLimits{MaxTTFTErrorMS: 1, MaxLagMS: 5}}
			if tc.users {
				d.Mode = "users"
			}
			var rows int
			err = searchDoctor(context.Background(), d, s, tc.budget, fakeProber(tc.capacity, tc.wall, tc.by), func(*analysis.DoctorProbe) { rows++ })
			if err != nil {
				t.Fatal(err)
			}
			var levels []float64
			for _, p := range d.Probes {
				levels = append(levels, p.Level)
			}
			if !reflect.DeepEqual(levels, tc.levels) {
				t.Errorf("levels %v, want %v", levels, tc.levels)
			}
			if rows != len(d.Probes) {
				t.Errorf("%d rows for %d probes", rows, len(d.Probes))
			}
			if !strings.Contains(d.Outcome, tc.outcome) {
				t.Errorf("outcome %q, want it to contain %q", d.Outcome, tc.outcome)
			}
			d.Conclude()
			if d.Ceiling != tc.ceiling || d.AtLeast != tc.atLeast {
				t.Errorf("ceiling %g (at least %v), want %g (%v)", d.Ceiling, d.AtLeast, tc.ceiling, tc.atLeast)
			}
		})
	}
}

func TestSearchDoctorStops(t *testing.T) {
	s, _ := analysis.NewSearch(analysis.SearchOptions{Start: 10})
	d := &analysis.Doctor{Mode: "rate"}
	boom := errors.New("boom")
	err := searchDoctor(context.Background(), d, s, time.Hour, func(context.Context, int, float64) (analysis.DoctorProbe, error) {
		return analysis.DoctorProbe{}, boom
	}, nil)
	if !errors.Is(err, boom) || len(d.Probes) != 0 || !strings.Contains(d.Outcome, "boom") {
		t.Errorf("prober error: err %v, probes %d, outcome %q", err, len(d.Probes), d.Outcome)
	}

	ctx, cancel := context.WithCancel(context.Background())
	s, _ = analysis.NewSearch(analysis.SearchOptions{Start: 10})
	d = &analysis.Doctor{Mode: "rate", Limits: analysis.DoctorLimits{MaxTTFTErrorMS: 1, MaxLagMS: 5}}
	err = searchDoctor(ctx, d, s, time.Hour, func(ctx context.Context, i int, l float64) (analysis.DoctorProbe, error) {
		if i == 2 {
			cancel()
		}
		return fakeProber(100, 1, "")(ctx, i, l)
	}, nil)
	if err == nil || !d.Interrupted || len(d.Probes) != 1 {
		t.Errorf("interrupted: err %v, interrupted %v, probes %d", err, d.Interrupted, len(d.Probes))
	}
}

func TestPlanDoctor(t *testing.T) {
	base := profiles.Default()
	base.Rate, base.Duration = 5, time.Minute
	start := func(context.Context, time.Duration, time.Duration, string) (SimServer, error) { return nil, nil }
	for _, tc := range []struct {
		name  string
		edit  func(*profiles.Profile, *DoctorOptions)
		error string
	}{
		{"ok", func(*profiles.Profile, *DoctorOptions) {}, ""},
		{"trace", func(p *profiles.Profile, _ *DoctorOptions) { p.Trace = "t.csv" }, "trace: doctor probes a synthetic workload"},
		{"stages", func(p *profiles.Profile, _ *DoctorOptions) { p.Rate, p.Stages = 0, []string{"10s:rate=5"} }, "stages:"},
		{"ramp", func(p *profiles.Profile, _ *DoctorOptions) { p.Arrival = "ramp" }, "arrival: ramp"},
		{"budget below a probe", func(_ *profiles.Profile, do *DoctorOptions) { do.Budget = time.Second }, "budget: 1s is shorter than one probe"},
		{"negative lag", func(_ *profiles.Profile, do *DoctorOptions) { do.MaxLag = -time.Millisecond }, "max-lag: -1ms must not be negative"},
		{"max below start", func(_ *profiles.Profile, do *DoctorOptions) { do.Max = 1 }, "max-level: 1 req/s is below the first level doctor probes, the planned 5 req/s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, do := base, DoctorOptions{StartSim: start, Dir: t.TempDir()}
			tc.edit(&p, &do)
			d, _, err := planDoctor(p, &do)
			if tc.error == "" {
				if err != nil {
					t.Fatal(err)
				}
				if d.SimTTFTMS != 50 || d.SimITLMS != 10 || d.Planned != 5 || d.Mode != "rate" || do.ProbeDuration != DefaultProbeDuration {
					t.Errorf("defaults: %+v, %+v", d, do)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.error) {
				t.Errorf("error %v, want it to contain %q", err, tc.error)
			}
		})
	}
}

// The descent from the profile's rate ends on the levels' grid: no last
// probe a rounding away from the one before.
func TestDoctorDescentFloor(t *testing.T) {
	p := profiles.Default()
	p.Rate, p.Duration = 200, time.Minute
	do := DoctorOptions{StartSim: func(context.Context, time.Duration, time.Duration, string) (SimServer, error) { return nil, nil },
		Dir: t.TempDir(), ProbeDuration: 8 * time.Second}
	d, s, err := planDoctor(p, &do)
	if err != nil {
		t.Fatal(err)
	}
	if err := searchDoctor(context.Background(), d, s, time.Hour, fakeProber(0, 1, ""), nil); err != nil {
		t.Fatal(err)
	}
	var levels []float64
	for _, p := range d.Probes {
		levels = append(levels, p.Level)
	}
	if want := []float64{200, 100, 50, 25, 12.5, 6.25, 3.13}; !reflect.DeepEqual(levels, want) {
		t.Errorf("levels %v, want %v", levels, want)
	}
	for _, tc := range [][2]float64{{3.125, 3.13}, {3.13, 3.13}, {0.0156, 0.0156}, {1234.5, 1240}, {100, 100}} {
		if got := ceil3sig(tc[0]); got != tc[1] {
			t.Errorf("ceil3sig(%g) = %g, want %g", tc[0], got, tc[1])
		}
	}
}
