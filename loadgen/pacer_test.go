package loadgen_test

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/streamgauge/streamgauge/loadgen"
)

func mustPacer(t testing.TB, arrival string, rate, cv float64, seed uint64) vegeta.Pacer {
	t.Helper()
	p, err := loadgen.NewPacer(arrival, rate, cv, seed)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConstantPace checks Pace(elapsed, hits) as a pure function: no clock,
// no sleeping.
func TestConstantPace(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name    string
		rate    float64
		elapsed time.Duration
		hits    uint64
		want    time.Duration
	}{
		{"10/s first hit at 100ms", 10, 0, 0, 100 * ms},
		{"10/s second hit at 200ms", 10, 0, 1, 200 * ms},
		{"10/s tenth hit at 1s", 10, 0, 9, time.Second},
		{"10/s waiting mid-gap", 10, 150 * ms, 1, 50 * ms},
		{"10/s exactly on time", 10, 200 * ms, 1, 0},
		{"10/s behind: send now", 10, 1500 * ms, 3, 0},
		{"0.5/s", 0.5, 0, 0, 2 * time.Second},
		{"0.5/s third", 0.5, 0, 2, 6 * time.Second},
		{"2.5/s", 2.5, 0, 0, 400 * ms},
		{"2.5/s fifth", 2.5, 0, 4, 2 * time.Second},
		{"1000/s", 1000, 0, 999, time.Second},
		{"one per hour", 1.0 / 3600, 0, 0, time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustPacer(t, loadgen.ArrivalConstant, tc.rate, 0, 1)
			got, stop := p.Pace(tc.elapsed, tc.hits)
			if stop {
				t.Fatal("pacer stopped")
			}
			// A fractional rate is represented with integer ns intervals.
			if d := got - tc.want; d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("Pace(%s, %d) = %s, want %s", tc.elapsed, tc.hits, got, tc.want)
			}
		})
	}
}

func TestScheduledAtConstant(t *testing.T) {
	for _, arrival := range []string{loadgen.ArrivalConstant, ""} {
		p := mustPacer(t, arrival, 10, 0, 0)
		for n := range uint64(50) {
			at, stop := loadgen.ScheduledAt(p, n)
			if stop || at != time.Duration(n+1)*100*time.Millisecond {
				t.Fatalf("arrival %q: ScheduledAt(%d) = %s, %v; want %s", arrival, n, at, stop, time.Duration(n+1)*100*time.Millisecond)
			}
		}
		if r := p.Rate(0); math.Abs(r-10) > 1e-9 {
			t.Errorf("Rate = %v, want 10", r)
		}
	}
}

// TestExtremeRates: rates at the edges still give a schedule at that rate,
// never a panic or an unbounded burst.
func TestExtremeRates(t *testing.T) {
	tests := []struct {
		rate float64
		want time.Duration // ScheduledAt(p, 0)
	}{
		{1e-5, 100_000 * time.Second},
		{1e-7, 10_000_000 * time.Second},
		{1e6, time.Microsecond},
		{1e9, time.Nanosecond},
	}
	for _, tc := range tests {
		for _, arrival := range loadgen.Arrivals {
			p, err := loadgen.NewPacer(arrival, tc.rate, 1, 3)
			if err != nil {
				t.Errorf("%s at %v: %v", arrival, tc.rate, err)
				continue
			}
			if arrival != loadgen.ArrivalConstant {
				// Random gaps: only check the first arrivals are sane.
				prev := time.Duration(0)
				for n := range uint64(100) {
					at, stop := loadgen.ScheduledAt(p, n)
					if stop || at < prev {
						t.Errorf("%s at %v: ScheduledAt(%d) = %s, %v", arrival, tc.rate, n, at, stop)
						break
					}
					prev = at
				}
				continue
			}
			at, stop := loadgen.ScheduledAt(p, 0)
			if stop || at != tc.want {
				t.Errorf("constant at %v/s: first hit at %s (stop %v), want %s", tc.rate, at, stop, tc.want)
			}
			at1, _ := loadgen.ScheduledAt(p, 1)
			if at1 != 2*tc.want {
				t.Errorf("constant at %v/s: second hit at %s, want %s", tc.rate, at1, 2*tc.want)
			}
		}
	}
}

func TestNewPacerErrors(t *testing.T) {
	tests := []struct {
		name    string
		arrival string
		rate    float64
		cv      float64
		want    []string
	}{
		{"zero rate", loadgen.ArrivalConstant, 0, 0, []string{"rate 0", "positive"}},
		{"negative rate", loadgen.ArrivalPoisson, -5, 0, []string{"rate -5", "positive"}},
		{"NaN rate", loadgen.ArrivalConstant, math.NaN(), 0, []string{"rate NaN"}},
		{"infinite rate", loadgen.ArrivalConstant, math.Inf(1), 0, []string{"rate +Inf"}},
		{"absurd rate", loadgen.ArrivalConstant, 2e9, 0, []string{"rate 2e+09"}},
		{"unknown arrival", "bursty", 10, 0, []string{`"bursty"`, "constant", "poisson", "gamma"}},
		{"gamma cv 0", loadgen.ArrivalGamma, 10, 0, []string{"burstiness 0", "coefficient of variation"}},
		{"gamma negative cv", loadgen.ArrivalGamma, 10, -1, []string{"burstiness -1"}},
		{"gamma NaN cv", loadgen.ArrivalGamma, 10, math.NaN(), []string{"burstiness NaN"}},
		{"gamma infinite cv", loadgen.ArrivalGamma, 10, math.Inf(1), []string{"burstiness +Inf"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := loadgen.NewPacer(tc.arrival, tc.rate, tc.cv, 1)
			if err == nil {
				t.Fatalf("NewPacer(%q, %v, %v) = %v, want an error", tc.arrival, tc.rate, tc.cv, p)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if err.Error() != strings.ToLower(err.Error()[:1])+err.Error()[1:] {
				t.Errorf("error %q does not start lower-case", err)
			}
		})
	}
}

// schedule returns the first n scheduled offsets of p.
func schedule(t testing.TB, p vegeta.Pacer, n int) []time.Duration {
	t.Helper()
	out := make([]time.Duration, n)
	for i := range out {
		at, stop := loadgen.ScheduledAt(p, uint64(i))
		if stop {
			t.Fatalf("pacer stopped at hit %d", i)
		}
		out[i] = at
	}
	return out
}

// gaps returns the inter-arrival gaps of a schedule, in seconds; the first
// gap is from the run's start.
func gaps(s []time.Duration) []float64 {
	out := make([]float64, len(s))
	prev := time.Duration(0)
	for i, at := range s {
		out[i] = (at - prev).Seconds()
		prev = at
	}
	return out
}

func TestRandomSchedules(t *testing.T) {
	for _, tc := range []struct {
		arrival string
		cv      float64
	}{{loadgen.ArrivalPoisson, 0}, {loadgen.ArrivalGamma, 3}, {loadgen.ArrivalGamma, 0.5}} {
		t.Run(tc.arrival, func(t *testing.T) {
			a := schedule(t, mustPacer(t, tc.arrival, 50, tc.cv, 7), 2000)
			if !slices.IsSorted(a) {
				t.Error("schedule is not non-decreasing")
			}
			if a[0] < 0 {
				t.Errorf("first arrival at %s", a[0])
			}
			b := schedule(t, mustPacer(t, tc.arrival, 50, tc.cv, 7), 2000)
			if !slices.Equal(a, b) {
				t.Error("same seed, different schedule")
			}
			c := schedule(t, mustPacer(t, tc.arrival, 50, tc.cv, 8), 2000)
			if slices.Equal(a, c) {
				t.Error("different seeds, same schedule")
			}

			// Pace is a pure function of (elapsed, hits): asking out of
			// order, or again, gives the same answers.
			p := mustPacer(t, tc.arrival, 50, tc.cv, 7)
			for _, n := range []int{1999, 0, 500, 500, 3, 1999} {
				at, _ := loadgen.ScheduledAt(p, uint64(n))
				if at != a[n] {
					t.Errorf("ScheduledAt(%d) = %s out of order, %s in order", n, at, a[n])
				}
				wait, stop := p.Pace(a[n]/2, uint64(n))
				if stop || wait != a[n]-a[n]/2 {
					t.Errorf("Pace(%s, %d) = %s, want %s", a[n]/2, n, wait, a[n]-a[n]/2)
				}
				if wait, _ := p.Pace(a[n]+time.Second, uint64(n)); wait != 0 {
					t.Errorf("behind schedule: Pace wait %s, want 0", wait)
				}
			}
			if r := p.Rate(time.Minute); r != 50 {
				t.Errorf("Rate = %v, want the mean rate 50", r)
			}
		})
	}
}

const (
	ksN = 20000
	// ksCrit is the one-sample Kolmogorov-Smirnov critical value at
	// alpha = 0.01 for large n.
	ksCrit = 1.628 / 141.42135623730951 // 1.628 / sqrt(20000)
)

// ksDistance returns D = sup_x |F_n(x) - F(x)| for x >= from. With from = 0
// it is the ordinary statistic; a positive from restricts the supremum,
// which keeps the test valid (the restricted D is at most the full one) when
// values below from are distorted, here by the schedule's nanosecond
// resolution.
func ksDistance(samples []float64, cdf func(float64) float64, from float64) float64 {
	s := slices.Clone(samples)
	slices.Sort(s)
	n := float64(len(s))
	d := 0.0
	first := true
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] == s[i] {
			j++
		}
		if s[i] >= from {
			if first && from > 0 {
				d = max(d, math.Abs(float64(i)/n-cdf(from))) // at from itself
			}
			first = false
			f := cdf(s[i])
			d = max(d, math.Abs(f-float64(i)/n), math.Abs(float64(j)/n-f)) // just before and at s[i]
		}
		i = j
	}
	return d
}

// gammaP is the regularized lower incomplete gamma function P(a, x), by its
// series for x < a+1 and Lentz's continued fraction for Q otherwise
// (Numerical Recipes, gser and gcf).
func gammaP(a, x float64) float64 {
	if x <= 0 {
		return 0
	}
	lg, _ := math.Lgamma(a)
	if x < a+1 {
		sum, term := 1/a, 1/a
		for n := 1; n < 1000; n++ {
			term *= x / (a + float64(n))
			sum += term
			if math.Abs(term) < math.Abs(sum)*1e-15 {
				break
			}
		}
		return sum * math.Exp(-x+a*math.Log(x)-lg)
	}
	const tiny = 1e-300
	b := x + 1 - a
	c := 1 / tiny
	d := 1 / b
	h := d
	for i := 1; i < 1000; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = b + an/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < 1e-15 {
			break
		}
	}
	return 1 - math.Exp(-x+a*math.Log(x)-lg)*h
}

func TestGammaP(t *testing.T) {
	tests := []struct{ a, x, want float64 }{
		{1, 1, 1 - math.Exp(-1)},         // exponential
		{1, 5, 1 - math.Exp(-5)},         // continued fraction branch
		{0.5, 2, math.Erf(math.Sqrt(2))}, // P(1/2, x) = erf(sqrt x)
		{0.5, 0.1, math.Erf(math.Sqrt(0.1))},
		{3, 2, 1 - math.Exp(-2)*(1+2+2)}, // Erlang: 1 - e^-x (1 + x + x²/2)
		{3, 7, 1 - math.Exp(-7)*(1+7+24.5)},
	}
	for _, tc := range tests {
		if got := gammaP(tc.a, tc.x); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("P(%v, %v) = %v, want %v", tc.a, tc.x, got, tc.want)
		}
	}
}

func meanCV(xs []float64) (mean, cv float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss/float64(len(xs)-1)) / mean
}

// TestArrivalDistributions checks 20,000 inter-arrival gaps against their
// distribution: a one-sample KS test at alpha 0.01, plus mean and CV. The
// seeds are fixed, so the test is deterministic.
func TestArrivalDistributions(t *testing.T) {
	const rate = 50.0
	tests := []struct {
		name    string
		arrival string
		cv      float64
		cdf     func(x float64) float64
		from    float64 // seconds; see ksDistance
		cvTol   float64
	}{
		{"poisson", loadgen.ArrivalPoisson, 0, func(x float64) float64 { return 1 - math.Exp(-rate*x) }, 0, 0.05},
		{"gamma cv 1 is poisson", loadgen.ArrivalGamma, 1, func(x float64) float64 { return 1 - math.Exp(-rate*x) }, 0, 0.05},
		// Shape 1/9: an eighth of the gaps are under a nanosecond and lose
		// their value to the schedule's resolution; test from 1 µs up.
		{"gamma cv 3", loadgen.ArrivalGamma, 3, gammaCDF(rate, 3), 1e-6, 0.10},
		{"gamma cv 0.5", loadgen.ArrivalGamma, 0.5, gammaCDF(rate, 0.5), 0, 0.05},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := gaps(schedule(t, mustPacer(t, tc.arrival, rate, tc.cv, 2024), ksN))
			d := ksDistance(g, tc.cdf, tc.from)
			t.Logf("KS D = %.5f (critical %.5f)", d, ksCrit)
			if d > ksCrit {
				t.Errorf("KS D = %.5f > %.5f: gaps do not follow the %s distribution", d, ksCrit, tc.name)
			}
			mean, cv := meanCV(g)
			if math.Abs(mean*rate-1) > 0.07 {
				t.Errorf("mean gap %.5fs, want %.5fs", mean, 1/rate)
			}
			wantCV := tc.cv
			if tc.arrival == loadgen.ArrivalPoisson {
				wantCV = 1
			}
			if math.Abs(cv/wantCV-1) > tc.cvTol {
				t.Errorf("gap CV %.4f, want %.4f", cv, wantCV)
			}
		})
	}

	// The KS test has power: Poisson gaps are not gamma with CV 3, and a
	// wrong rate is caught.
	g := gaps(schedule(t, mustPacer(t, loadgen.ArrivalPoisson, rate, 0, 2024), ksN))
	if d := ksDistance(g, gammaCDF(rate, 3), 1e-6); d <= ksCrit {
		t.Errorf("Poisson gaps pass as gamma CV 3 (D = %.5f)", d)
	}
	if d := ksDistance(g, func(x float64) float64 { return 1 - math.Exp(-1.1*rate*x) }, 0); d <= ksCrit {
		t.Errorf("Poisson gaps at rate 50 pass as rate 55 (D = %.5f)", d)
	}
}

// gammaCDF is the CDF of gaps with mean 1/rate and coefficient of variation cv.
func gammaCDF(rate, cv float64) func(float64) float64 {
	shape := 1 / (cv * cv)
	scale := 1 / (rate * shape)
	return func(x float64) float64 { return gammaP(shape, x/scale) }
}
