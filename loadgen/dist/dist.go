package dist

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// maxLen is the largest length a Dist samples and the largest value any
// length, mean, stddev or median parameter may have.
const maxLen = 1_000_000_000

// Dist is a distribution of positive integer lengths.
//
// A Dist is immutable after Parse and safe for concurrent use; the
// *rand.Rand passed to Sample is not, so give each goroutine its own.
type Dist interface {
	// Sample draws one length in [max(1, min), max] from r, which the
	// caller seeds; the global source is never used.
	Sample(r *rand.Rand) int
	// CDF returns P(X <= x) of the distribution as sampled (after
	// rounding and clipping). It is a step function with steps at
	// integers, for Kolmogorov-Smirnov tests. CDF(NaN) is NaN.
	CDF(x float64) float64
	// Mean returns the mean as sampled: exact for fixed, uniform and
	// empirical, numerically summed for normal and lognormal (see the
	// package documentation).
	Mean() float64
	// String returns the canonical spec, which Parse accepts back.
	String() string
}

// Option configures Parse.
type Option func(*config) error

type config struct {
	baseDir string
	fsys    fs.FS
}

// WithBaseDir sets the directory that relative empirical file paths resolve
// against, normally the directory of the profile file that names them.
// Without it they resolve against the working directory (or the root of
// the WithFS file system).
func WithBaseDir(dir string) Option {
	return func(c *config) error {
		c.baseDir = dir
		return nil
	}
}

// WithFS makes Parse read empirical files from fsys (for example embedded
// built-in data) instead of the operating system. Paths, joined to the
// WithBaseDir directory if any, must then be valid fs.FS paths: slash
// separated and unrooted.
func WithFS(fsys fs.FS) Option {
	return func(c *config) error {
		if fsys == nil {
			return errors.New("WithFS: nil fs.FS")
		}
		c.fsys = fsys
		return nil
	}
}

// Parse parses a DIST spec such as "normal:500,120,min=1,max=2048". See
// the package documentation for the grammar. Errors are one line naming
// the spec, the bad part and what is expected; errors from reading an
// empirical file are wrapped.
func Parse(spec string, opts ...Option) (Dist, error) {
	var cfg config
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(&cfg); err != nil {
			return nil, &parseError{spec: spec, err: err}
		}
	}
	d, err := parse(strings.TrimSpace(spec), &cfg)
	if err != nil {
		return nil, &parseError{spec: spec, err: err}
	}
	return d, nil
}

// parseError prefixes the spec and keeps the message on one line.
type parseError struct {
	spec string
	err  error
}

func (e *parseError) Error() string {
	msg := strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(e.err.Error())
	return fmt.Sprintf("dist %q: %s", e.spec, msg)
}

func (e *parseError) Unwrap() error { return e.err }

const examples = "256, uniform:100,900, normal:500,120, lognormal:median=300,sigma=0.9 or empirical:FILE[:column]"

var kindExample = map[string]string{
	"fixed":     "fixed:256",
	"uniform":   "uniform:100,900",
	"normal":    "normal:500,120",
	"lognormal": "lognormal:median=300,sigma=0.9",
	"empirical": "empirical:lengths.csv:GeneratedTokens",
}

func parse(s string, cfg *config) (Dist, error) {
	if s == "" {
		return nil, fmt.Errorf("empty (want e.g. %s)", examples)
	}
	kind, body, ok := strings.Cut(s, ":")
	if !ok {
		head, _, _ := strings.Cut(s, ",")
		head = strings.TrimSpace(head)
		if isNumberSyntax(head) {
			return parseFixed(s)
		}
		if ex, known := kindExample[strings.ToLower(head)]; known {
			return nil, fmt.Errorf("%s needs parameters (e.g. %s)", strings.ToLower(head), ex)
		}
		return nil, unknownKind(head)
	}
	switch k := strings.ToLower(strings.TrimSpace(kind)); k {
	case "fixed":
		return parseFixed(body)
	case "uniform":
		return parseUniform(body)
	case "normal":
		return parseNormal(body)
	case "lognormal":
		return parseLognormal(body)
	case "empirical":
		return parseEmpirical(body, cfg)
	default:
		return nil, unknownKind(strings.TrimSpace(kind))
	}
}

func unknownKind(k string) error {
	return fmt.Errorf("unknown kind %q (want a length like 256, or fixed:, uniform:, normal:, lognormal:, empirical:)", k)
}

// params is a split parameter list: positional values in order and
// key=value pairs by lower-case key.
type params struct {
	pos  []string
	keys map[string]string
}

func splitParams(body string, allowed ...string) (params, error) {
	p := params{keys: map[string]string{}}
	if strings.TrimSpace(body) == "" {
		return p, nil
	}
	for part := range strings.SplitSeq(body, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return p, errors.New("empty parameter (stray comma?)")
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			p.pos = append(p.pos, part)
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		if err := checkKey(k, p.keys, allowed); err != nil {
			return p, err
		}
		p.keys[k] = strings.TrimSpace(v)
	}
	return p, nil
}

func checkKey(k string, seen map[string]string, allowed []string) error {
	if !slices.Contains(allowed, k) {
		return fmt.Errorf("unknown parameter %q (want %s)", k, strings.Join(allowed, ", "))
	}
	if _, dup := seen[k]; dup {
		return fmt.Errorf("duplicate parameter %q", k)
	}
	return nil
}

// clip is the clamp range [lo, hi] and whether min and max were given.
type clip struct {
	lo, hi         int
	minSet, maxSet bool
}

func parseClip(keys map[string]string) (clip, error) {
	c := clip{lo: 1, hi: maxLen}
	if v, ok := keys["min"]; ok {
		n, err := parseLength("min", v)
		if err != nil {
			return c, err
		}
		c.lo, c.minSet = n, true
	}
	if v, ok := keys["max"]; ok {
		n, err := parseLength("max", v)
		if err != nil {
			return c, err
		}
		c.hi, c.maxSet = n, true
	}
	if c.lo > c.hi {
		return c, fmt.Errorf("min %d is above max %d", c.lo, c.hi)
	}
	return c, nil
}

func (c clip) String() string {
	var b strings.Builder
	if c.minSet {
		fmt.Fprintf(&b, ",min=%d", c.lo)
	}
	if c.maxSet {
		fmt.Fprintf(&b, ",max=%d", c.hi)
	}
	return b.String()
}

// clamp limits an integer-valued float to [lo, hi]; NaN maps to lo.
func (c clip) clamp(y float64) int {
	if !(y > float64(c.lo)) {
		return c.lo
	}
	if y >= float64(c.hi) {
		return c.hi
	}
	return int(y)
}

// cdf returns P(clamp(Z) <= x) given base(k) = P(Z <= k) for integer k.
func (c clip) cdf(x float64, base func(k float64) float64) float64 {
	switch {
	case math.IsNaN(x):
		return math.NaN()
	case x < float64(c.lo):
		return 0
	case x >= float64(c.hi):
		return 1
	}
	return base(math.Floor(x))
}

// isNumberSyntax reports whether s looks like a plain decimal number:
// digits, '.', exponent and signs only (no hex, inf, nan or underscores).
func isNumberSyntax(s string) bool {
	if s == "" {
		return false
	}
	digit := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case r == '.' || r == 'e' || r == 'E' || r == '+' || r == '-':
		default:
			return false
		}
	}
	return digit
}

// parseNumber parses a finite decimal number; what names it in errors.
func parseNumber(what, s string) (float64, error) {
	if s == "" {
		return 0, fmt.Errorf("%s needs a value", what)
	}
	if !isNumberSyntax(s) {
		return 0, fmt.Errorf("%s %q is not a number", what, s)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%s %q is not a finite number", what, s)
	}
	return v, nil
}

// parseLength parses a whole number in [1, maxLen].
func parseLength(what, s string) (int, error) {
	v, err := parseNumber(what, s)
	if err != nil {
		return 0, err
	}
	return checkLength(what, s, v)
}

func checkLength(what, s string, v float64) (int, error) {
	switch {
	case v != math.Trunc(v):
		return 0, fmt.Errorf("%s %s is not a whole number", what, s)
	case v < 1:
		return 0, fmt.Errorf("%s %s must be >= 1", what, s)
	case v > maxLen:
		return 0, fmt.Errorf("%s %s is above the limit %d", what, s, maxLen)
	}
	return int(v), nil
}

// parseReal parses a number in (lowBound, maxLen] (or [lowBound, ...] when
// inclusive).
func parseReal(what, s string, lowBound float64, inclusive bool, upBound float64) (float64, error) {
	v, err := parseNumber(what, s)
	if err != nil {
		return 0, err
	}
	switch {
	case inclusive && v < lowBound:
		return 0, fmt.Errorf("%s %s must be >= %s", what, s, formatFloat(lowBound))
	case !inclusive && v <= lowBound:
		return 0, fmt.Errorf("%s %s must be > %s", what, s, formatFloat(lowBound))
	case v > upBound:
		return 0, fmt.Errorf("%s %s is above the limit %s", what, s, formatFloat(upBound))
	}
	return v, nil
}

// formatFloat prints the shortest text that parses back to v, without an
// exponent for ordinary magnitudes.
func formatFloat(v float64) string {
	if a := math.Abs(v); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
