package dist

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
)

// fixed always returns v.
type fixed struct{ v int }

func parseFixed(body string) (Dist, error) {
	p, err := splitParams(body, "min", "max")
	if err != nil {
		return nil, err
	}
	if len(p.pos) != 1 {
		return nil, errors.New("fixed needs one length (e.g. 256 or fixed:256)")
	}
	v, err := parseLength("fixed length", p.pos[0])
	if err != nil {
		return nil, err
	}
	if len(p.keys) > 0 {
		return nil, fmt.Errorf("fixed %d cannot be clipped (drop min and max)", v)
	}
	return fixed{v: v}, nil
}

func (d fixed) Sample(*rand.Rand) int { return d.v }

func (d fixed) CDF(x float64) float64 {
	switch {
	case math.IsNaN(x):
		return math.NaN()
	case x >= float64(d.v):
		return 1
	}
	return 0
}

func (d fixed) Mean() float64  { return float64(d.v) }
func (d fixed) String() string { return strconv.Itoa(d.v) }

// uniform draws an integer from [a, b] with equal probability, then clamps.
type uniform struct {
	a, b int
	c    clip
	mean float64
}

func parseUniform(body string) (Dist, error) {
	p, err := splitParams(body, "min", "max")
	if err != nil {
		return nil, err
	}
	if len(p.pos) != 2 {
		return nil, errors.New("uniform needs low,high (e.g. uniform:100,900)")
	}
	a, err := parseLength("uniform low", p.pos[0])
	if err != nil {
		return nil, err
	}
	b, err := parseLength("uniform high", p.pos[1])
	if err != nil {
		return nil, err
	}
	if a > b {
		return nil, fmt.Errorf("uniform low %d is above high %d", a, b)
	}
	c, err := parseClip(p.keys)
	if err != nil {
		return nil, err
	}
	d := uniform{a: a, b: b, c: c}
	d.mean = d.exactMean()
	return d, nil
}

func (d uniform) exactMean() float64 {
	a, b, lo, hi := float64(d.a), float64(d.b), float64(d.c.lo), float64(d.c.hi)
	n := b - a + 1
	below := math.Max(0, math.Min(b, lo-1)-a+1) // values < lo, drawn as lo
	above := math.Max(0, b-math.Max(a, hi+1)+1) // values > hi, drawn as hi
	mlo, mhi := math.Max(a, lo), math.Min(b, hi)
	mid := 0.0
	if mhi >= mlo {
		mid = (mlo + mhi) * (mhi - mlo + 1) / 2
	}
	return (below*lo + above*hi + mid) / n
}

func (d uniform) Sample(r *rand.Rand) int {
	return d.c.clamp(float64(d.a + r.IntN(d.b-d.a+1)))
}

func (d uniform) CDF(x float64) float64 {
	return d.c.cdf(x, func(k float64) float64 {
		return math.Min(1, math.Max(0, (k-float64(d.a)+1)/float64(d.b-d.a+1)))
	})
}

func (d uniform) Mean() float64 { return d.mean }

func (d uniform) String() string {
	return fmt.Sprintf("uniform:%d,%d%s", d.a, d.b, d.c)
}
