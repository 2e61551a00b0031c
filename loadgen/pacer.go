package loadgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Arrival process names for NewPacer.
const (
	ArrivalConstant = "constant"
	ArrivalPoisson  = "poisson"
	ArrivalGamma    = "gamma"
)

// Arrivals lists the arrival processes NewPacer knows.
var Arrivals = []string{ArrivalConstant, ArrivalPoisson, ArrivalGamma}

// NewPacer returns the pacer of an arrival process at rate requests per
// second. cv is the coefficient of variation of inter-arrival gaps for gamma
// (1 is Poisson, above 1 is burstier). Random processes draw from a source
// seeded by seed, so the schedule is a pure function of the arguments.
func NewPacer(arrival string, rate, cv float64, seed uint64) (vegeta.Pacer, error) {
	if !(rate > 0) || math.IsInf(rate, 0) {
		return nil, fmt.Errorf("rate %v: must be a positive number of requests per second", rate)
	}
	if rate < minRate || rate > maxRate {
		return nil, fmt.Errorf("rate %v: must be between %v and %v requests per second", rate, minRate, maxRate)
	}
	switch arrival {
	case ArrivalConstant, "":
		return constantPacer(rate), nil
	case ArrivalPoisson:
		mean := 1 / rate
		return newGapPacer(rate, seed, func(r *rand.Rand) float64 { return r.ExpFloat64() * mean }), nil
	case ArrivalGamma:
		if !(cv > 0) || math.IsInf(cv, 0) {
			return nil, fmt.Errorf("burstiness %v: gamma arrivals need a positive coefficient of variation (1 = Poisson)", cv)
		}
		shape := 1 / (cv * cv)
		scale := 1 / (rate * shape)
		return newGapPacer(rate, seed, func(r *rand.Rand) float64 { return gammaVariate(r, shape) * scale }), nil
	}
	return nil, fmt.Errorf("arrival %q: want one of constant, poisson, gamma", arrival)
}

// The rates a pacer can keep: one request per ~30 years to one per
// nanosecond (the schedule's resolution).
const (
	minRate = 1e-9
	maxRate = 1e9
)

// constantPacer expresses a fractional rate as vegeta's integer Freq per Per.
// A rate with no short decimal form (1/3600) is one hit per interval, the
// interval rounded to the nanosecond: rounding Freq instead would be off by
// up to half a hit per Per, and a Freq rounded to 0 means "no limit" to vegeta.
func constantPacer(rate float64) vegeta.Pacer {
	per := time.Second
	freq := rate
	for freq != math.Trunc(freq) && per < time.Hour {
		freq *= 10
		per *= 10
	}
	if freq != math.Trunc(freq) {
		return vegeta.ConstantPacer{Freq: 1, Per: time.Duration(math.Round(1e9 / rate))}
	}
	return vegeta.ConstantPacer{Freq: int(freq), Per: per}
}

// gapPacer is an arrival process with independent gaps drawn from a seeded
// source. Arrival n is at the sum of the first n+1 gaps. The most recent
// arrivals are memoised in a sliding window (memory stays flat over a run of
// millions of requests); asking for one before the window redraws the
// sequence from the seed, so Pace stays a pure function of (elapsed, hits).
type gapPacer struct {
	rate float64
	seed uint64
	mu   sync.Mutex
	rng  *rand.Rand
	gap  func(*rand.Rand) float64
	at   []time.Duration // arrivals base, base+1, ...
	base uint64
	sum  float64
}

// gapWindow is how many recent arrivals a gapPacer keeps (it holds between
// gapWindow and 2*gapWindow).
const gapWindow = 4096

func newGapPacer(rate float64, seed uint64, gap func(*rand.Rand) float64) *gapPacer {
	p := &gapPacer{rate: rate, seed: seed, gap: gap}
	p.restart()
	return p
}

// restart begins the sequence again from the seed.
func (p *gapPacer) restart() {
	p.rng = rand.New(rand.NewPCG(p.seed, 0x5ca1ab1e))
	p.at, p.base, p.sum = p.at[:0], 0, 0
}

// arrival returns the scheduled offset of hit n.
func (p *gapPacer) arrival(n uint64) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n < p.base {
		p.restart()
	}
	for p.base+uint64(len(p.at)) <= n {
		if len(p.at) >= 2*gapWindow {
			k := copy(p.at, p.at[len(p.at)-gapWindow:])
			p.base += uint64(len(p.at) - k)
			p.at = p.at[:k]
		}
		p.sum += p.gap(p.rng)
		p.at = append(p.at, time.Duration(p.sum*1e9))
	}
	return p.at[n-p.base]
}

// Pace implements vegeta.Pacer.
func (p *gapPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits > math.MaxInt32*16 {
		return 0, true
	}
	wait := p.arrival(hits) - elapsed
	if wait < 0 {
		wait = 0
	}
	return wait, false
}

// Rate implements vegeta.Pacer: the mean rate.
func (p *gapPacer) Rate(time.Duration) float64 { return p.rate }

// gammaVariate draws from Gamma(shape, 1) by Marsaglia and Tsang's method.
func gammaVariate(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		// Boost: Gamma(a) = Gamma(a+1) * U^(1/a).
		return gammaVariate(r, shape+1) * math.Pow(r.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// ScheduledAt returns the scheduled offset of hit n under p: the wait the
// pacer gives at elapsed 0. vegeta's pacers and ours compute the time of the
// next hit from the hit count, so this is the schedule the run is judged by,
// however late the generator is.
func ScheduledAt(p vegeta.Pacer, n uint64) (time.Duration, bool) {
	return p.Pace(0, n)
}
