package harness

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/profiles"
)

// TestJoinTarget: a target that ends with the start of the API's path (the
// OpenAI SDK's base_url habit) is not doubled; any other is kept.
func TestJoinTarget(t *testing.T) {
	tests := []struct {
		target, path string
		want         string
		note         bool
	}{
		{"http://h:8000", "/v1/chat/completions", "http://h:8000", false},
		{"http://h:8000/", "/v1/chat/completions", "http://h:8000/", false},
		{"http://h:8000/v1", "/v1/chat/completions", "http://h:8000", true},
		{"http://h:8000/v1/", "/v1/chat/completions", "http://h:8000", true},
		{"https://gw.example/openai/v1", "/v1/chat/completions", "https://gw.example/openai", true},
		{"http://h/v1/chat/completions", "/v1/chat/completions", "http://h", true},
		{"http://h/v1/chat", "/v1/chat/completions", "http://h", true},
		{"http://h/api", "/api/chat", "http://h", true},
		{"http://h/v2", "/v2/models/m/generate_stream", "http://h", true},
		{"http://h/v1", "/generate_stream", "http://h/v1", false},
		{"http://h/prefix", "/v1/messages", "http://h/prefix", false},
		{"http://h/v1x", "/v1/completions", "http://h/v1x", false},
		{"http://user:secret@h/v1", "/v1/completions", "http://user:secret@h", true},
	}
	for _, tc := range tests {
		t.Run(tc.target+" "+tc.path, func(t *testing.T) {
			got, note := joinTarget(tc.target, tc.path, "openai-chat")
			if got != tc.want {
				t.Errorf("base = %q, want %q", got, tc.want)
			}
			if (note != "") != tc.note {
				t.Errorf("note = %q, want one: %v", note, tc.note)
			}
			if strings.Contains(note, "secret") || strings.Contains(note, "\n") {
				t.Errorf("note %q: want one line without credentials", note)
			}
		})
	}
}

func testProfile(mod func(p *profiles.Profile)) profiles.Profile {
	p := profiles.Default()
	p.Name = "t"
	mod(&p)
	return p
}

// TestDescribeLoad: the banner says what runs, for every kind of load.
func TestDescribeLoad(t *testing.T) {
	tr := &loadgen.Trace{}
	for i := range 120 {
		tr.Entries = append(tr.Entries, loadgen.TraceEntry{At: time.Duration(i) * time.Second / 2, Input: 1, Output: 1})
	}
	tests := []struct {
		name string
		p    profiles.Profile
		src  loadgen.Source
		want []string
		not  []string
	}{
		{"poisson", testProfile(func(p *profiles.Profile) { p.Rate, p.Arrival, p.Requests = 5, "poisson", 100 }), nil,
			[]string{"poisson arrivals at 5 req/s", "100 requests"}, []string{"closed-loop"}},
		{"gamma", testProfile(func(p *profiles.Profile) { p.Rate, p.Arrival, p.Burstiness, p.Duration = 5, "gamma", 2, time.Minute }), nil,
			[]string{"gamma arrivals (burstiness 2) at 5 req/s", "for 1m0s"}, nil},
		{"ramp", testProfile(func(p *profiles.Profile) {
			p.Rate, p.Arrival, p.RampTo, p.RampOver, p.Duration = 1, "ramp", 10, time.Minute, 2*time.Minute
		}), nil, []string{"a ramp from 1 to 10 req/s over 1m0s, then 10 req/s"}, nil},
		{"sine", testProfile(func(p *profiles.Profile) {
			p.Rate, p.Arrival, p.SineAmplitude, p.SinePeriod, p.Duration = 10, "sine", 3, time.Minute, time.Minute
		}), nil, []string{"a sine of 10 ± 3 req/s with a period of 1m0s"}, nil},
		{"rate stages", testProfile(func(p *profiles.Profile) {
			p.Rate, p.Concurrency, p.Stages = 0, 0, []string{"30s:rate=5", "1m:rate=10"}
		}), nil, []string{"2 rate stages (30s at 5 req/s, 1m0s at 10 req/s) over 1m30s"}, []string{"0 closed-loop users"}},
		{"user stages", testProfile(func(p *profiles.Profile) {
			p.Rate, p.Concurrency, p.Stages = 0, 0, []string{"30s:users=4", "30s:users=0"}
		}), nil, []string{"2 user stages (30s with 4 users, 30s with 0 users)"}, []string{"0 closed-loop users"}},
		{"many stages", testProfile(func(p *profiles.Profile) {
			p.Rate, p.Stages = 0, []string{"1s:rate=1", "1s:rate=2", "1s:rate=3", "1s:rate=4", "1s:rate=5", "1s:rate=6"}
		}), nil, []string{"6 rate stages", "2 more"}, []string{"5 req/s"}},
		{"trace", testProfile(func(p *profiles.Profile) { p.Rate, p.Trace, p.TraceSpeed, p.Requests = 0, "conv.csv", 2, 120 }),
			&loadgen.TraceWorkload{Trace: tr}, []string{"trace conv.csv: 120 requests over 59.5s", "at 2x speed", "mean 2 req/s"}, []string{"closed-loop", "120 requests,"}},
		{"first requests of a trace", testProfile(func(p *profiles.Profile) { p.Rate, p.Trace, p.Requests = 0, "conv.csv", 21 }),
			&loadgen.TraceWorkload{Trace: tr}, []string{"trace conv.csv: the first 21 of 120 requests, over 10s", "mean 2 req/s"}, nil},
		{"closed loop", testProfile(func(p *profiles.Profile) { p.Rate, p.Concurrency, p.Requests = 0, 4, 20 }), nil,
			[]string{"4 closed-loop users, 20 requests"}, nil},
		{"max-concurrency", testProfile(func(p *profiles.Profile) { p.Rate, p.MaxConcurrency, p.Requests = 50, 8, 20 }), nil,
			[]string{"at 50 req/s (at most 8 in flight)"}, nil},
		{"shard of a rate", testProfile(func(p *profiles.Profile) { p.Rate, p.Shard, p.Requests = 40, "1/4", 400 }), nil,
			[]string{"shard 1/4: this process sends every 4th arrival, 10 of 40 req/s", "400 requests in all shards"}, nil},
		{"shard of users", testProfile(func(p *profiles.Profile) { p.Rate, p.Concurrency, p.Shard, p.Requests = 0, 8, "0/2", 10 }), nil,
			[]string{"8 closed-loop users", "shard 0/2: this process runs every 2nd user"}, nil},
		{"warm-up", testProfile(func(p *profiles.Profile) { p.Rate, p.Warmup, p.Requests = 5, 10*time.Second, 10 }), nil,
			[]string{"the first 10s warm-up"}, nil},
		{"one user, one request", testProfile(func(p *profiles.Profile) { p.Rate, p.Concurrency, p.Requests = 0, 1, 1 }), nil,
			[]string{"1 closed-loop user, 1 request"}, []string{"users", "requests"}},
		{"one warm-up request", testProfile(func(p *profiles.Profile) { p.Rate, p.WarmupRequests, p.Requests = 5, 1, 10 }), nil,
			[]string{"10 requests", "the first 1 request warm-up"}, []string{"1 requests"}},
		{"one user stage", testProfile(func(p *profiles.Profile) {
			p.Rate, p.Concurrency, p.Stages = 0, 0, []string{"30s:users=1", "30s:users=2"}
		}), nil, []string{"30s with 1 user,", "30s with 2 users"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := describeLoad(tc.p, tc.src)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("describeLoad = %q, want %q in it", got, w)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(got, w) {
					t.Errorf("describeLoad = %q, want no %q", got, w)
				}
			}
		})
	}
}

// TestRequestedRate: summary.json's requested rate is comparable with the
// achieved rate: a shard's share, a ramp's mean over the measured window.
func TestRequestedRate(t *testing.T) {
	ramp := testProfile(func(p *profiles.Profile) {
		p.Rate, p.Arrival, p.RampTo, p.RampOver, p.Duration = 1, "ramp", 10, 10*time.Second, 10*time.Second
	})
	tests := []struct {
		name    string
		p       profiles.Profile
		elapsed time.Duration
		want    float64
	}{
		{"constant", testProfile(func(p *profiles.Profile) { p.Rate, p.Arrival, p.Duration = 8, "constant", time.Minute }), 0, 8},
		{"constant, by count", testProfile(func(p *profiles.Profile) { p.Rate, p.Arrival, p.Requests = 8, "constant", 40 }), 0, 8},
		{"shard's share", testProfile(func(p *profiles.Profile) { p.Rate, p.Arrival, p.Duration, p.Shard = 40, "constant", time.Minute, "1/4" }), 0, 10},
		// From the first arrival (0.748 s, as the achieved rate counts from
		// the first send) to the end: 54 more arrivals in 9.252 s.
		{"ramp: its mean, not its start", ramp, 0, 54 / (10 - 0.7481)},
		{"ramp after warm-up", testProfile(func(p *profiles.Profile) { *p = ramp; p.Warmup = 5 * time.Second }), 0, 7.75},
		{"ramp cut short", ramp, 5 * time.Second, 15.25 / (5 - 0.7481)},
		{"closed loop", testProfile(func(p *profiles.Profile) { p.Rate, p.Concurrency, p.Requests = 0, 4, 10 }), 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var pacer, err = tc.p.Pacer()
			if tc.p.Rate == 0 {
				pacer, err = nil, nil
			}
			if err != nil {
				t.Fatal(err)
			}
			got := requestedRate(tc.p, pacer, tc.elapsed)
			if math.Abs(got-tc.want) > 0.02*tc.want+1e-9 {
				t.Errorf("requestedRate = %g, want %g", got, tc.want)
			}
		})
	}
}

// TestRateFloor: an automatic search stops halving where a stage would
// hold too few requests to judge, and says so.
func TestRateFloor(t *testing.T) {
	tests := []struct {
		start float64
		stage time.Duration
		want  float64
		why   bool
	}{
		{64, 30 * time.Second, 1, false},         // start/64 already holds 30
		{1, 30 * time.Second, 0.334, true},       // 10 requests in 30 s, rounded up
		{100, 10 * time.Second, 1.5625, false},   // start/64 holds 15
		{8, 10 * time.Second, 1, true},           // 10 requests in 10 s
		{0.5, 10 * time.Second, 0.5, true},       // never above the start
		{1, 7 * time.Second, 1, true},            // 10/7 = 1.43 is above the start
		{3, 4 * time.Second, 2.5, true},          // 10 requests in 4 s
		{1000, time.Minute, 1000.0 / 64, false},  // no floor needed
		{2, 3 * time.Second, 2, true},            // 3.34 > start
		{20, 700 * time.Millisecond, 14.3, true}, // 14.29 rounded up
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%g/%s", tc.start, tc.stage), func(t *testing.T) {
			got, why := rateFloor(tc.start, tc.stage)
			if math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("floor = %g, want %g", got, tc.want)
			}
			if (why != "") != tc.why || (why != "" && !strings.Contains(why, "--stage-duration")) {
				t.Errorf("why = %q, want one: %v", why, tc.why)
			}
		})
	}
}

// Doctor's floor names its probes and their flag, not a sweep's stages.
func TestRateFloorOfDoctor(t *testing.T) {
	_, why := rateFloorOf(8, 10*time.Second, "probe", "--probe-duration")
	if why != "a 10s probe at a lower rate holds fewer than 10 requests, too few to judge; lengthen --probe-duration to search lower rates" {
		t.Errorf("why = %q", why)
	}
}
