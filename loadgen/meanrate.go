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
// replayed. A Poisson or gamma process requests its rate: the arrivals
// of a short run scatter around it, and the user asked for the rate. A
// window of no length gives the rate at from.
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
	case *gapPacer:
		return q.rate
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

func (p *TracePacer) expectedHits(t time.Duration) float64 {
	e := p.t.Entries
	return float64(sort.Search(len(e), func(i int) bool { return e[i].At >= t }))
}
