package loadgen

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Schedule yields the scheduled send offsets of successive hits of a pacer.
// It asks the pacer for each next hit from the previous hit's time, which is
// exact for every vegeta pacer (the numeric ones converge from a close
// start) and keeps the whole schedule a pure function of the pacer.
type Schedule struct {
	p  vegeta.Pacer
	n  uint64
	at time.Duration
}

// NewSchedule returns the schedule of p, starting at hit 0.
func NewSchedule(p vegeta.Pacer) *Schedule { return &Schedule{p: p} }

// Next returns the offset of the next hit, or false when the pacer stops.
func (s *Schedule) Next() (time.Duration, bool) {
	wait, stop := s.p.Pace(s.at, s.n)
	if stop {
		return 0, false
	}
	s.at += wait
	s.n++
	return s.at, true
}

// RampPacer changes the rate linearly from From to To over Over, then holds
// To. Hit n is sent when the expected number of hits reaches n+1.
type RampPacer struct {
	From, To float64 // requests per second
	Over     time.Duration
}

// NewRamp validates and returns a ramp.
func NewRamp(from, to float64, over time.Duration) (*RampPacer, error) {
	switch {
	case !(from >= 0) || !(to >= 0) || math.IsInf(from, 0) || math.IsInf(to, 0) || from+to == 0:
		return nil, fmt.Errorf("ramp from %v to %v req/s: rates must be >= 0 and not both 0", from, to)
	case over <= 0:
		return nil, fmt.Errorf("ramp-over %s: must be positive", over)
	}
	return &RampPacer{From: from, To: to, Over: over}, nil
}

// hits is the expected number of hits by t seconds.
func (p *RampPacer) hits(t float64) float64 {
	d := p.Over.Seconds()
	if t <= d {
		return p.From*t + (p.To-p.From)*t*t/(2*d)
	}
	return p.From*d + (p.To-p.From)*d/2 + p.To*(t-d)
}

// at returns the time (s) at which the expected hits reach h.
func (p *RampPacer) at(h float64) float64 {
	d := p.Over.Seconds()
	if hd := p.hits(d); h > hd {
		if p.To == 0 {
			return math.Inf(1)
		}
		return d + (h-hd)/p.To
	}
	a := (p.To - p.From) / (2 * d)
	if math.Abs(a) < 1e-12 {
		return h / p.From
	}
	// a t² + From t − h = 0, the root in [0, d].
	disc := p.From*p.From + 4*a*h
	if disc < 0 {
		disc = 0
	}
	return (-p.From + math.Sqrt(disc)) / (2 * a)
}

// Pace implements vegeta.Pacer.
func (p *RampPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	t := p.at(float64(hits + 1))
	if math.IsInf(t, 0) || t > 1e9 {
		return 0, true
	}
	return max(time.Duration(t*1e9)-elapsed, 0), false
}

// Rate implements vegeta.Pacer.
func (p *RampPacer) Rate(elapsed time.Duration) float64 {
	if elapsed >= p.Over {
		return p.To
	}
	return p.From + (p.To-p.From)*elapsed.Seconds()/p.Over.Seconds()
}

// Stage is one step of a staged load: for Duration, either an open-loop Rate
// or a closed-loop number of Users.
type Stage struct {
	Duration time.Duration
	Rate     float64
	Users    int
}

// String returns the stage in the form ParseStages reads.
func (s Stage) String() string {
	if s.Users > 0 {
		return fmt.Sprintf("%s:users=%d", s.Duration, s.Users)
	}
	return fmt.Sprintf("%s:rate=%s", s.Duration, strconv.FormatFloat(s.Rate, 'g', -1, 64))
}

// ParseStages parses stages written "30s:rate=5" or "1m:users=16". All
// stages of a run are of one kind.
func ParseStages(specs []string) ([]Stage, error) {
	var out []Stage
	for i, spec := range specs {
		d, kv, ok := strings.Cut(strings.TrimSpace(spec), ":")
		if !ok {
			return nil, fmt.Errorf("stage %d %q: want DURATION:rate=R or DURATION:users=N, e.g. 30s:rate=5", i+1, spec)
		}
		dur, err := time.ParseDuration(d)
		if err != nil || dur <= 0 {
			return nil, fmt.Errorf("stage %d %q: duration %q: want a positive duration like 30s", i+1, spec, d)
		}
		k, v, _ := strings.Cut(kv, "=")
		st := Stage{Duration: dur}
		switch k {
		case "rate":
			r, err := strconv.ParseFloat(v, 64)
			if err != nil || !(r >= 0) || math.IsInf(r, 0) {
				return nil, fmt.Errorf("stage %d %q: rate %q: want requests per second >= 0", i+1, spec, v)
			}
			st.Rate = r
		case "users":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("stage %d %q: users %q: want a whole number >= 0", i+1, spec, v)
			}
			st.Users = n
			if n == 0 {
				st.Users = -1 // a pause: zero users, marked so the kind is known
			}
		default:
			return nil, fmt.Errorf("stage %d %q: %q: want rate=R or users=N", i+1, spec, kv)
		}
		if len(out) > 0 && (out[0].Users != 0) != (st.Users != 0) {
			return nil, fmt.Errorf("stage %d %q: all stages must be rate stages or all users stages", i+1, spec)
		}
		out = append(out, st)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("stages: none given")
	}
	return out, nil
}

// TotalDuration is the sum of the stages' durations.
func TotalDuration(stages []Stage) time.Duration {
	var d time.Duration
	for _, s := range stages {
		d += s.Duration
	}
	return d
}

// ClosedStages reports whether stages set users (closed loop).
func ClosedStages(stages []Stage) bool { return len(stages) > 0 && stages[0].Users != 0 }

// UsersAt returns the number of closed-loop users wanted at offset t, and
// when that number next changes (0 after the last stage).
func UsersAt(stages []Stage, t time.Duration) (users int, next time.Duration) {
	var end time.Duration
	for _, s := range stages {
		end += s.Duration
		if t < end {
			return max(s.Users, 0), end
		}
	}
	return 0, 0
}

// StagesPacer sends at a piecewise-constant rate and stops after the last
// stage. Within a stage, hits are evenly spaced from the stage's start.
type StagesPacer struct {
	stages []Stage
	starts []time.Duration // start offset of each stage
	counts []float64       // hits before each stage
}

// NewStagesPacer returns the pacer of rate stages.
func NewStagesPacer(stages []Stage) (*StagesPacer, error) {
	if ClosedStages(stages) {
		return nil, fmt.Errorf("stages set users; an open-loop pacer needs rate stages")
	}
	p := &StagesPacer{stages: stages}
	var at time.Duration
	var n float64
	for _, s := range stages {
		p.starts = append(p.starts, at)
		p.counts = append(p.counts, n)
		at += s.Duration
		n += s.Rate * s.Duration.Seconds()
	}
	return p, nil
}

// Pace implements vegeta.Pacer.
func (p *StagesPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	h := float64(hits + 1)
	for i, s := range p.stages {
		in := s.Rate * s.Duration.Seconds()
		if h <= p.counts[i]+in+1e-9 && s.Rate > 0 {
			t := p.starts[i] + time.Duration((h-p.counts[i])/s.Rate*1e9)
			return max(t-elapsed, 0), false
		}
	}
	return 0, true
}

// Rate implements vegeta.Pacer.
func (p *StagesPacer) Rate(elapsed time.Duration) float64 {
	for i, s := range p.stages {
		if elapsed < p.starts[i]+s.Duration {
			return s.Rate
		}
	}
	return 0
}

// NewSine returns vegeta's sine pacer: the rate swings around mean by amp
// with the given period.
func NewSine(mean, amp float64, period time.Duration) (vegeta.Pacer, error) {
	switch {
	case !(mean > 0) || math.IsInf(mean, 0):
		return nil, fmt.Errorf("sine: mean rate %v must be positive", mean)
	case !(amp > 0) || amp >= mean:
		return nil, fmt.Errorf("sine-amplitude %v: must be positive and below the mean rate %v", amp, mean)
	case period <= 0:
		return nil, fmt.Errorf("sine-period %s: must be positive", period)
	}
	m, a := constantPacer(mean).(vegeta.ConstantPacer), constantPacer(amp).(vegeta.ConstantPacer)
	// Bring both to one time unit, as the sine pacer expects.
	per := max(m.Per, a.Per)
	m.Freq, m.Per = int(math.Round(mean*per.Seconds())), per
	a.Freq, a.Per = int(math.Round(amp*per.Seconds())), per
	return vegeta.SinePacer{Period: period, Mean: m, Amp: a, StartAt: vegeta.MeanUp}, nil
}
