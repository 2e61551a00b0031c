package loadgen_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/streamgauge/streamgauge/loadgen"
)

// sched returns the first n scheduled offsets of p (fewer if it stops).
func sched(t *testing.T, p interface {
	Pace(time.Duration, uint64) (time.Duration, bool)
	Rate(time.Duration) float64
}, n int) []time.Duration {
	t.Helper()
	s := loadgen.NewSchedule(p)
	var out []time.Duration
	for len(out) < n {
		at, ok := s.Next()
		if !ok {
			break
		}
		out = append(out, at)
	}
	return out
}

func near(a, b, tol time.Duration) bool { return a-b <= tol && b-a <= tol }

func TestRampSchedule(t *testing.T) {
	// 0 → 10 req/s over 10 s: hits(t) = t²/2, so hit n is at sqrt(2(n+1)).
	p, err := loadgen.NewRamp(0, 10, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got := sched(t, p, 80)
	for n, at := range got {
		var want float64
		if h := float64(n + 1); h <= 50 {
			want = math.Sqrt(2 * h)
		} else {
			want = 10 + (h-50)/10 // holds 10 req/s after the ramp
		}
		if !near(at, time.Duration(want*1e9), time.Microsecond) {
			t.Errorf("hit %d at %s, want %.6fs", n, at, want)
		}
	}
	if r := p.Rate(5 * time.Second); r != 5 {
		t.Errorf("rate at 5s = %v, want 5", r)
	}
	// A falling ramp ends: 10 → 0 over 2 s sends 10 requests, then stops.
	down, _ := loadgen.NewRamp(10, 0, 2*time.Second)
	if got := sched(t, down, 100); len(got) != 10 {
		t.Errorf("falling ramp sent %d, want 10", len(got))
	}
}

func TestStagesSchedule(t *testing.T) {
	st, err := loadgen.ParseStages([]string{"1s:rate=4", "1s:rate=0", "2s:rate=2"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := loadgen.NewStagesPacer(st)
	if err != nil {
		t.Fatal(err)
	}
	got := sched(t, p, 100)
	want := []time.Duration{250e6, 500e6, 750e6, 1000e6, 2500e6, 3000e6, 3500e6, 4000e6}
	if len(got) != len(want) {
		t.Fatalf("schedule %v, want %v", got, want)
	}
	for i := range want {
		if !near(got[i], want[i], time.Microsecond) {
			t.Errorf("hit %d at %s, want %s", i, got[i], want[i])
		}
	}
	if loadgen.TotalDuration(st) != 4*time.Second {
		t.Errorf("total %s", loadgen.TotalDuration(st))
	}
}

func TestUserStages(t *testing.T) {
	st, err := loadgen.ParseStages([]string{"10s:users=2", "5s:users=8", "5s:users=0"})
	if err != nil {
		t.Fatal(err)
	}
	if !loadgen.ClosedStages(st) {
		t.Fatal("users stages not closed loop")
	}
	for _, tc := range []struct {
		at         time.Duration
		users      int
		nextChange time.Duration
	}{{0, 2, 10 * time.Second}, {12 * time.Second, 8, 15 * time.Second}, {16 * time.Second, 0, 20 * time.Second}, {21 * time.Second, 0, 0}} {
		u, next := loadgen.UsersAt(st, tc.at)
		if u != tc.users || next != tc.nextChange {
			t.Errorf("at %s: %d users until %s, want %d until %s", tc.at, u, next, tc.users, tc.nextChange)
		}
	}
}

func TestParseStagesErrors(t *testing.T) {
	for _, tc := range []struct {
		specs []string
		want  string
	}{
		{[]string{"30s"}, "want DURATION:rate=R"},
		{[]string{"-3s:rate=1"}, "positive duration"},
		{[]string{"3s:rate=x"}, "rate \"x\""},
		{[]string{"3s:users=-1"}, "users \"-1\""},
		{[]string{"3s:speed=1"}, "want rate=R or users=N"},
		{[]string{"3s:rate=1", "3s:users=2"}, "all stages must be"},
		{nil, "none given"},
	} {
		if _, err := loadgen.ParseStages(tc.specs); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseStages(%q) = %v, want error with %q", tc.specs, err, tc.want)
		}
	}
}

func TestSineMeanRate(t *testing.T) {
	p, err := loadgen.NewSine(10, 5, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got := sched(t, p, 1000)
	// Over whole periods the sine averages to its mean: 10 req/s.
	n := 0
	for _, at := range got {
		if at < 60*time.Second {
			n++
		}
	}
	if n < 595 || n > 605 {
		t.Errorf("%d hits in 60 s, want 600 ± 5", n)
	}
	for i := 1; i < len(got); i++ {
		if got[i] < got[i-1] {
			t.Fatalf("schedule goes back at hit %d", i)
		}
	}
	if _, err := loadgen.NewSine(10, 10, time.Second); err == nil {
		t.Error("amplitude equal to the mean accepted")
	}
}

// TestScheduleMatchesPace checks the incremental schedule against the
// pacers' absolute schedule where both are exact.
func TestScheduleMatchesPace(t *testing.T) {
	for _, arrival := range []string{"constant", "poisson", "gamma"} {
		p, err := loadgen.NewPacer(arrival, 7, 2, 42)
		if err != nil {
			t.Fatal(err)
		}
		got := sched(t, p, 500)
		for n, at := range got {
			want, _ := loadgen.ScheduledAt(p, uint64(n))
			if !near(at, want, time.Microsecond) {
				t.Fatalf("%s: hit %d at %s, ScheduledAt %s", arrival, n, at, want)
			}
		}
	}
}
