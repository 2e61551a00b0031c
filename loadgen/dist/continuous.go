package dist

import (
	"errors"
	"math"
	"math/rand/v2"
)

// maxSigma bounds the lognormal sigma: beyond it p99/p50 exceeds 1e10,
// which is no token-length distribution, and the mean's closed forms lose
// precision.
const maxSigma = 10

// exactTerms is how many survival terms roundedMean sums one by one before
// it integrates the rest.
const exactTerms = 20000

// continuous is the real-valued law behind a rounded distribution.
type continuous interface {
	draw(r *rand.Rand) float64
	cdf(t float64) float64 // P(X <= t)
	sf(t float64) float64  // P(X > t), accurate in the upper tail
	pdf(t float64) float64
	// partial returns the integral of x f(x) over [a, b], 0 < a <= b.
	partial(a, b float64) float64
	// window returns [lo, hi] outside which cdf, respectively sf, is
	// below 1e-23.
	window() (lo, hi float64)
	spec() string // "normal:500,120" without the clip
}

// rounded samples a continuous law, rounds to the nearest integer and clamps.
type rounded struct {
	m    continuous
	c    clip
	mean float64
}

func newRounded(m continuous, c clip) rounded {
	return rounded{m: m, c: c, mean: roundedMean(m, c.lo, c.hi)}
}

func (d rounded) Sample(r *rand.Rand) int { return d.c.clamp(math.Round(d.m.draw(r))) }

// CDF: round(x) <= k exactly when x < k+0.5.
func (d rounded) CDF(x float64) float64 {
	return d.c.cdf(x, func(k float64) float64 { return d.m.cdf(k + 0.5) })
}

func (d rounded) Mean() float64  { return d.mean }
func (d rounded) String() string { return d.m.spec() + d.c.String() }

// roundedMean returns E[Y] for Y = clamp(round(X), lo, hi), using
// E[Y] = lo + sum_{k=lo}^{hi-1} P(X >= k+0.5).
func roundedMean(m continuous, lo, hi int) float64 {
	flo, fhi := float64(lo), float64(hi)
	wlo, whi := m.window()
	a := math.Max(flo, math.Floor(wlo)) // terms for k < a are 1
	b := math.Min(fhi, math.Ceil(whi))  // terms for k >= b are 0
	sum := math.Min(a, fhi) - flo
	if a < b {
		end := math.Min(b, a+exactTerms)
		for k := a; k < end; k++ {
			sum += m.sf(k + 0.5)
		}
		if end < b {
			// Midpoint rule on unit intervals plus its first correction:
			// sum_{k=end}^{b-1} sf(k+0.5) ~ int_end^b sf + (pdf(b)-pdf(end))/24.
			integral := m.partial(end, b) + b*m.sf(b) - end*m.sf(end)
			sum += integral + (m.pdf(b)-m.pdf(end))/24
		}
	}
	return flo + sum
}

// stdCDF and stdSF are the standard normal CDF and survival function.
func stdCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }
func stdSF(z float64) float64  { return 0.5 * math.Erfc(z/math.Sqrt2) }

// stdMass returns P(za < Z <= zb) precisely in either tail.
func stdMass(za, zb float64) float64 {
	if za > 0 {
		return stdSF(za) - stdSF(zb)
	}
	return stdCDF(zb) - stdCDF(za)
}

const invSqrt2Pi = 0.3989422804014327

// window half-width in standard deviations: P(Z > 10) = 7.6e-24.
const tailZ = 10

type normal struct{ mu, sigma float64 }

func parseNormal(body string) (Dist, error) {
	p, err := splitParams(body, "min", "max")
	if err != nil {
		return nil, err
	}
	if len(p.pos) != 2 {
		return nil, errors.New("normal needs mean,stddev (e.g. normal:500,120)")
	}
	mu, err := parseReal("normal mean", p.pos[0], 1, true, maxLen)
	if err != nil {
		return nil, err
	}
	sigma, err := parseReal("normal stddev", p.pos[1], 0, false, maxLen)
	if err != nil {
		return nil, err
	}
	c, err := parseClip(p.keys)
	if err != nil {
		return nil, err
	}
	return newRounded(normal{mu: mu, sigma: sigma}, c), nil
}

func (n normal) draw(r *rand.Rand) float64 { return n.mu + n.sigma*r.NormFloat64() }
func (n normal) cdf(t float64) float64     { return stdCDF((t - n.mu) / n.sigma) }
func (n normal) sf(t float64) float64      { return stdSF((t - n.mu) / n.sigma) }

func (n normal) pdf(t float64) float64 {
	z := (t - n.mu) / n.sigma
	return invSqrt2Pi * math.Exp(-z*z/2) / n.sigma
}

func (n normal) partial(a, b float64) float64 {
	za, zb := (a-n.mu)/n.sigma, (b-n.mu)/n.sigma
	phi := func(z float64) float64 { return invSqrt2Pi * math.Exp(-z*z/2) }
	return n.mu*stdMass(za, zb) + n.sigma*(phi(za)-phi(zb))
}

func (n normal) window() (float64, float64) {
	return n.mu - tailZ*n.sigma, n.mu + tailZ*n.sigma
}

func (n normal) spec() string {
	return "normal:" + formatFloat(n.mu) + "," + formatFloat(n.sigma)
}

// lognormal has ln X ~ N(m, s^2), median e^m.
type lognormal struct{ median, m, s float64 }

func parseLognormal(body string) (Dist, error) {
	const example = "(e.g. lognormal:median=300,sigma=0.9)"
	p, err := splitParams(body, "median", "sigma", "min", "max")
	if err != nil {
		return nil, err
	}
	if len(p.pos) > 0 {
		return nil, errors.New("lognormal takes named parameters median and sigma " + example)
	}
	ms, okm := p.keys["median"]
	ss, oks := p.keys["sigma"]
	if !okm || !oks {
		return nil, errors.New("lognormal needs median and sigma " + example)
	}
	median, err := parseReal("lognormal median", ms, 1, true, maxLen)
	if err != nil {
		return nil, err
	}
	s, err := parseReal("lognormal sigma", ss, 0, false, maxSigma)
	if err != nil {
		return nil, err
	}
	c, err := parseClip(p.keys)
	if err != nil {
		return nil, err
	}
	return newRounded(lognormal{median: median, m: math.Log(median), s: s}, c), nil
}

func (l lognormal) draw(r *rand.Rand) float64 { return math.Exp(l.m + l.s*r.NormFloat64()) }

func (l lognormal) z(t float64) float64 { return (math.Log(t) - l.m) / l.s }

func (l lognormal) cdf(t float64) float64 {
	if t <= 0 {
		return 0
	}
	return stdCDF(l.z(t))
}

func (l lognormal) sf(t float64) float64 {
	if t <= 0 {
		return 1
	}
	return stdSF(l.z(t))
}

func (l lognormal) pdf(t float64) float64 {
	if t <= 0 {
		return 0
	}
	z := l.z(t)
	return invSqrt2Pi * math.Exp(-z*z/2) / (t * l.s)
}

// partial: int_a^b x f(x) dx = e^(m+s^2/2) * P(a < Y <= b) where ln Y ~ N(m+s^2, s^2).
func (l lognormal) partial(a, b float64) float64 {
	shift := func(t float64) float64 { return l.z(t) - l.s }
	return math.Exp(l.m+l.s*l.s/2) * stdMass(shift(a), shift(b))
}

func (l lognormal) window() (float64, float64) {
	return math.Exp(l.m - tailZ*l.s), math.Exp(l.m + tailZ*l.s)
}

func (l lognormal) spec() string {
	return "lognormal:median=" + formatFloat(l.median) + ",sigma=" + formatFloat(l.s)
}
