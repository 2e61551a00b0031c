package sim

import "time"

type chaosKind uint8

const (
	chaosNone chaosKind = iota
	chaos429
	chaos500
	chaosStream
	chaosDrop
)

// chaos decides, per request, what goes wrong. A decision is a pure function
// of the seed and the request id, not of arrival order, so a run with the
// same ids fails the same requests the same way however they interleave.
type chaos struct {
	seed       uint64
	rate       float64
	kinds      []chaosKind
	retryAfter time.Duration
	stallEvery int
	stallFor   time.Duration
}

func newChaos(c Config) *chaos {
	ch := &chaos{seed: c.Seed, rate: c.FailRate, retryAfter: c.RetryAfter, stallEvery: c.StallEvery, stallFor: c.StallFor}
	for _, k := range c.FailKinds {
		switch k {
		case Fail429:
			ch.kinds = append(ch.kinds, chaos429)
		case Fail500:
			ch.kinds = append(ch.kinds, chaos500)
		case FailStream:
			ch.kinds = append(ch.kinds, chaosStream)
		case FailDrop:
			ch.kinds = append(ch.kinds, chaosDrop)
		}
	}
	return ch
}

// action is the chaos decided for one request: a failure kind, and for a
// mid-stream failure the token before which it strikes (1 <= at < out, so
// the client has seen tokens; 0 when the output is one token).
type action struct {
	kind chaosKind
	at   int
}

func (c *chaos) decide(id string, out int) action {
	if c == nil || c.rate <= 0 || len(c.kinds) == 0 {
		return action{}
	}
	h := c.seed ^ fnv64(id)
	if float64(splitmix(&h)>>11)/(1<<53) >= c.rate {
		return action{}
	}
	a := action{kind: c.kinds[splitmix(&h)%uint64(len(c.kinds))]}
	if out > 1 {
		a.at = 1 + int(splitmix(&h)%uint64(out-1))
	}
	return a
}

func (k chaosKind) String() string {
	switch k {
	case chaos429:
		return Fail429
	case chaos500:
		return Fail500
	case chaosStream:
		return FailStream
	case chaosDrop:
		return FailDrop
	}
	return "none"
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 1099511628211
	}
	return h
}

// splitmix advances the SplitMix64 state x and returns its next output.
func splitmix(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
