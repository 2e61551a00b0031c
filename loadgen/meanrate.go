package loadgen

import (
	"math"
	"sort"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// expectedHitser is a pacer that knows how many hits its schedule holds
// before an offset.
type expectedHitser interface {
	expectedHits(t time.Duration) float64
}

// MeanRate is the mean rate of p's schedule over [from, to), in requests
// per second: the hits the schedule holds in that window over its length.
// It is the rate a run's achieved rate is comparable with: a ramp's mean
// over the measured window, not its start; a trace's over the part
// replayed; a Poisson or gamma schedule's own arrivals, not its long-run
// mean. A window of no length gives the rate at from.
func MeanRate(p vegeta.Pacer, from, to time.Duration) float64 {
	if to <= from {
		return p.Rate(from)
	}
	span := (to - from).Seconds()
	switch q := p.(type) {
	case expectedHitser:
		return (q.expectedHits(to) - q.expectedHits(from)) / span
	case vegeta.ConstantPacer:
		return q.Rate(0)
	}
	// Any other pacer (vegeta's sine): integrate its rate.
	const steps = 1024
	dt := (to - from) / steps
	var sum float64
	for i := range steps {
		sum += p.Rate(from + dt*time.Duration(i) + dt/2)
	}
	return sum / steps
}

func (p *RampPacer) expectedHits(t time.Duration) float64 { return p.hits(t.Seconds()) }

func (p *StagesPacer) expectedHits(t time.Duration) float64 {
	for i, s := range p.stages {
		if t < p.starts[i]+s.Duration {
			return p.counts[i] + s.Rate*math.Max(0, (t-p.starts[i]).Seconds())
		}
	}
	last := len(p.stages) - 1
	return p.counts[last] + p.stages[last].Rate*p.stages[last].Duration.Seconds()
}

// expectedHits of a random arrival process counts the arrivals its seeded
// schedule holds before t (not the mean rate times t), so a short run's
// requested rate is the one it was scheduled to send. It walks a copy of
// the sequence, leaving p's own state alone.
func (p *gapPacer) expectedHits(t time.Duration) float64 {
	q := newGapPacer(p.rate, p.seed, p.gap)
	var n uint64
	for n < math.MaxInt32*16 && q.arrival(n) < t {
		n++
	}
	return float64(n)
}

func (p *TracePacer) expectedHits(t time.Duration) float64 {
	e := p.t.Entries
	return float64(sort.Search(len(e), func(i int) bool { return e[i].At >= t }))
}
