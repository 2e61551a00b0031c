package harness_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/analysis"
	"github.com/streamgauge/streamgauge/harness"
	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/results"
)

// sweepProfile is a small workload on the fixed-latency simulator, which
// never saturates at these rates.
func sweepProfile(t *testing.T) profiles.Profile {
	p := profiles.Default()
	p.Name = "sweep-test"
	p.InputTokens, p.OutputTokens = "16", "4"
	p.SimTTFT, p.SimITL = 5*time.Millisecond, time.Millisecond
	p.Out = filepath.Join(t.TempDir(), "sweep")
	return p
}

// TestSweepLevels runs short sweeps over lists of levels, open and closed
// loop, and checks the sweep's directory and curve (not latencies).
func TestSweepLevels(t *testing.T) {
	tests := []struct {
		name   string
		opt    harness.SweepOptions
		slo    []string
		mode   string
		dirs   []string
		offers []float64
	}{
		{name: "rates", opt: harness.SweepOptions{Levels: []float64{10, 20}}, slo: []string{"error_rate<1%"}, mode: analysis.SweepRate,
			dirs: []string{"stage-001-rate-10", "stage-002-rate-20"}, offers: []float64{10, 20}},
		{name: "users", opt: harness.SweepOptions{Levels: []float64{1, 2}, Users: true}, mode: analysis.SweepUsers,
			dirs: []string{"stage-001-users-1", "stage-002-users-2"}, offers: []float64{0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := sweepProfile(t)
			p.SLO = tc.slo
			tc.opt.StageDuration = 700 * time.Millisecond
			var logs []string
			sw, err := harness.Sweep(context.Background(), p, tc.opt, harness.WithLog(func(f string, a ...any) { logs = append(logs, f) }))
			if err != nil {
				t.Fatal(err)
			}
			if sw.Mode != tc.mode || len(sw.Stages) != len(tc.dirs) || sw.Outcome != "ran every level given" {
				t.Fatalf("mode %s, %d stages, outcome %q", sw.Mode, len(sw.Stages), sw.Outcome)
			}
			for i, st := range sw.Stages {
				if st.Dir != tc.dirs[i] || st.OfferedRate != tc.offers[i] || st.Index != i+1 {
					t.Errorf("stage %d: dir %s offered %g, want %s and %g", i, st.Dir, st.OfferedRate, tc.dirs[i], tc.offers[i])
				}
				for _, f := range []string{"run.json", "requests.jsonl", "summary.json"} {
					if _, err := os.Stat(filepath.Join(p.Out, st.Dir, f)); err != nil {
						t.Errorf("stage %s: %v", st.Dir, err)
					}
				}
				if st.Requests.OK == 0 || len(st.SLO) != 1 || len(st.Saturation.TTFTByQuarter) != 4 {
					t.Errorf("stage %s: %d ok, SLOs %v, saturation %+v", st.Dir, st.Requests.OK, st.SLO, st.Saturation)
				}
			}
			got, err := analysis.LoadSweep(p.Out)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Stages) != len(tc.dirs) || got.StageDurationS != 0.7 || got.SLO[0] != "error_rate<1%" {
				t.Errorf("sweep.json: %d stages, stage %gs, SLOs %v", len(got.Stages), got.StageDurationS, got.SLO)
			}
			if b, err := os.ReadFile(filepath.Join(p.Out, analysis.SweepTableFile)); err != nil || !strings.Contains(string(b), "capacity") {
				t.Errorf("sweep.txt: %v\n%s", err, b)
			}
			if (len(tc.slo) == 0) != strings.Contains(strings.Join(sw.Notes, "\n"), "no --slo given") {
				t.Errorf("notes %v", sw.Notes)
			}
		})
	}
}

func TestSweepConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(p *profiles.Profile, o *harness.SweepOptions)
		want string
	}{
		{"no levels", func(p *profiles.Profile, o *harness.SweepOptions) { o.Levels = nil }, "give a list of levels"},
		{"levels and auto", func(p *profiles.Profile, o *harness.SweepOptions) { o.Auto = true }, "one of them"},
		{"bad level", func(p *profiles.Profile, o *harness.SweepOptions) { o.Levels = []float64{1, -2} }, "rate -2 must be a positive number"},
		{"fractional users", func(p *profiles.Profile, o *harness.SweepOptions) { o.Users, o.Levels = true, []float64{1.5} }, "positive whole number"},
		{"trace", func(p *profiles.Profile, o *harness.SweepOptions) { p.Trace = "t.csv" }, "a replayed trace sets its own arrivals"},
		{"stages", func(p *profiles.Profile, o *harness.SweepOptions) { p.Stages = []string{"10s:rate=5"} }, "drop --stages"},
		{"shard with auto", func(p *profiles.Profile, o *harness.SweepOptions) {
			p.Shard, p.StartAt, o.Levels, o.Auto, o.Cooldown = "0/2", "2026-11-28T10:00:00Z", nil, true, time.Second
		}, "--auto picks each level from the stages before it"},
		{"shard without start-at", func(p *profiles.Profile, o *harness.SweepOptions) { p.Shard, o.Cooldown = "0/2", time.Second }, "needs --start-at"},
		{"shard without cooldown", func(p *profiles.Profile, o *harness.SweepOptions) { p.Shard, p.StartAt = "1/2", "2026-11-28T10:00:00Z" }, "cooldown above 0"},
		{"shard with a long drain", func(p *profiles.Profile, o *harness.SweepOptions) {
			p.Shard, p.StartAt, o.Cooldown, p.DrainTimeout = "1/2", "2026-11-28T10:00:00Z", 4*time.Second, 3*time.Second
		}, "drain-timeout: 3s does not fit"},
		{"shards without an index", func(p *profiles.Profile, o *harness.SweepOptions) {
			p.Shards, p.StartAt, o.Cooldown = 2, "2026-11-28T10:00:00Z", time.Second
		}, "JOB_COMPLETION_INDEX"},
		{"start-at without cooldown", func(p *profiles.Profile, o *harness.SweepOptions) { p.StartAt = "2026-11-28T10:00:00Z" }, "a sweep with --start-at needs a cooldown above 0"},
		{"bad shard", func(p *profiles.Profile, o *harness.SweepOptions) { p.Shard = "2/2" }, "shard:"},
		{"ramp", func(p *profiles.Profile, o *harness.SweepOptions) { p.Arrival = "ramp" }, "arrival: ramp"},
		{"slo", func(p *profiles.Profile, o *harness.SweepOptions) { p.SLO = []string{"ttft.p99<fast"} }, "slo:"},
		{"precision", func(p *profiles.Profile, o *harness.SweepOptions) { o.Levels, o.Auto, o.Precision = nil, true, 2 }, "precision 2"},
		{"a stage holds no request", func(p *profiles.Profile, o *harness.SweepOptions) { o.Levels = []float64{0.5, 2} },
			"levels: a 1s stage at 0.5 req/s holds less than one request; raise the rate or lengthen --stage-duration"},
		{"the search starts below one request a stage", func(p *profiles.Profile, o *harness.SweepOptions) { o.Levels, o.Auto, o.Start = nil, true, 0.5 },
			"rate: the search's first 1s stage at 0.5 req/s holds less than one request"},
		{"max-rate below the start", func(p *profiles.Profile, o *harness.SweepOptions) { o.Levels, o.Auto, o.Start, o.Max = nil, true, 5, 4 },
			"max-rate: 4 req/s is below the search's first level, 5 req/s (--rate"},
		{"max-users below the start", func(p *profiles.Profile, o *harness.SweepOptions) {
			p.Rate, p.Concurrency, o.Levels, o.Auto, o.Users, o.Max = 0, 8, nil, true, true, 4
		}, "max-users: 4 is below the search's first level, 8 users (--concurrency)"},
		{"warm-up longer than a stage", func(p *profiles.Profile, o *harness.SweepOptions) { p.Warmup = time.Minute }, "warmup"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := sweepProfile(t)
			o := harness.SweepOptions{Levels: []float64{1}, StageDuration: time.Second}
			tc.edit(&p, &o)
			_, err := harness.Sweep(context.Background(), p, o)
			var ce *harness.ConfigError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want a ConfigError containing %q", err, tc.want)
			}
			if _, err := os.Stat(p.Out); err == nil {
				t.Error("a refused sweep made its directory")
			}
		})
	}
}

// TestSweepCapNote: stages whose sends waited for a --max-concurrency slot
// are noted as held back by the cap, not as a generator that fell behind.
func TestSweepCapNote(t *testing.T) {
	p := sweepProfile(t)
	// Each request holds the only slot for ~100 ms; arrivals come every
	// 50 ms, so every other send waits for it.
	p.SimTTFT, p.MaxConcurrency, p.Arrival = 100*time.Millisecond, 1, "constant"
	sw, err := harness.Sweep(context.Background(), p, harness.SweepOptions{Levels: []float64{20}, StageDuration: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(sw.Notes, "\n")
	if !strings.Contains(notes, "waited for one of the --max-concurrency 1 slots in stages 1") || strings.Contains(notes, "the generator fell behind") {
		t.Errorf("notes:\n%s\nwant the cap named, not the generator", notes)
	}
}

// TestStageStart: stage i of a sharded sweep starts after the earlier
// stages and their cooldowns, from the flags alone.
func TestStageStart(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		i               int
		stage, cooldown time.Duration
		want            time.Time
	}{
		{1, 30 * time.Second, 5 * time.Second, t0},
		{2, 30 * time.Second, 5 * time.Second, t0.Add(35 * time.Second)},
		{4, 30 * time.Second, 5 * time.Second, t0.Add(105 * time.Second)},
		{3, 1500 * time.Millisecond, 250 * time.Millisecond, t0.Add(3500 * time.Millisecond)},
	}
	for _, tc := range tests {
		if got := harness.StageStart(t0, tc.i, tc.stage, tc.cooldown); !got.Equal(tc.want) {
			t.Errorf("stage %d (%s + %s): %s, want %s", tc.i, tc.stage, tc.cooldown, got, tc.want)
		}
	}
}

// TestSweepStartAt: with --start-at every stage starts at its fixed
// instant (stage 2 used to get stage 1's start-at, already past, and ran
// behind schedule from its first request).
func TestSweepStartAt(t *testing.T) {
	p := sweepProfile(t)
	start := time.Now().Add(500 * time.Millisecond).UTC()
	p.StartAt = start.Format(time.RFC3339Nano)
	const stage, cooldown = 600 * time.Millisecond, 600 * time.Millisecond
	sw, err := harness.Sweep(context.Background(), p, harness.SweepOptions{Levels: []float64{10, 20}, StageDuration: stage, Cooldown: cooldown})
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range sw.Stages {
		var info results.RunInfo
		if err := results.ReadJSON(filepath.Join(p.Out, st.Dir), results.RunFile, &info); err != nil {
			t.Fatal(err)
		}
		if want := harness.StageStart(start, i+1, stage, cooldown); !info.Start.Equal(want) {
			t.Errorf("stage %d started at %s, want %s", i+1, info.Start, want)
		}
	}
}
