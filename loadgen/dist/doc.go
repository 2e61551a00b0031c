// Package dist owns token-length distributions: the DIST grammar used by
// --input-tokens and --output-tokens (and the matching profile fields),
// parsing it with clear errors, sampling positive integer lengths from a
// caller-seeded *rand.Rand, and the exact distribution of what is sampled
// (CDF and mean) so that tests can check samples against it.
//
// # Grammar
//
//	DIST      = FIXED | UNIFORM | NORMAL | LOGNORMAL | EMPIRICAL
//	FIXED     = LEN | "fixed:" LEN                      (cannot be clipped)
//	UNIFORM   = "uniform:" LEN "," LEN CLIP             (low,high; inclusive)
//	NORMAL    = "normal:" NUM "," NUM CLIP              (mean,stddev)
//	LOGNORMAL = "lognormal:median=" NUM ",sigma=" NUM CLIP
//	EMPIRICAL = "empirical:" FILE [ ":" COLUMN ] CLIP
//	CLIP      = [ ",min=" LEN ] [ ",max=" LEN ]
//	LEN       = a whole number from 1 to 1000000000 ("1e3" and "1000.0" are accepted)
//	NUM       = a finite decimal number, no hex, inf or nan
//
// Kind and parameter names are case-insensitive, spaces around parts are
// ignored, and key=value parameters may come in any order (for empirical,
// min and max come after the file and column). Each kind rejects
// parameters it does not know, a repeated parameter and min > max.
// Parameter limits: uniform 1 <= low <= high; normal mean >= 1 and
// stddev > 0; lognormal median >= 1 and 0 < sigma <= 10; every length and
// mean, stddev and median at most 1000000000. String returns a canonical
// spec that Parse accepts back: fixed prints as a bare number, numbers
// print in the shortest form that parses to the same value, and min and
// max print only when given.
//
// # Sampling rule
//
// A sample is never below 1 and never above 1000000000. With
// lo = min (default 1) and hi = max (default 1000000000):
//
//   - normal and lognormal draw a real x, round it to the nearest integer
//     (halves away from zero, as math.Round), then clamp to [lo, hi];
//   - uniform draws an integer from [low, high] with equal probability, then
//     clamps to [lo, hi];
//   - empirical draws one of the file's values with equal probability per row
//     (a bootstrap: repeated values keep their weight), clamped to [lo, hi].
//
// Clipping clamps: the probability outside [lo, hi] piles up at lo and hi;
// nothing is redrawn. Clipping a fixed length is rejected as a likely mistake.
//
// CDF(x) is P(sample <= x) of exactly that rule. Mean is exact for fixed,
// uniform and empirical. For normal and lognormal it is
// lo + sum over k in [lo, hi) of P(sample > k), summed term by term over the
// first 20000 integers where the terms are neither 0 nor 1 (to 1e-23), the
// rest by the integral of the continuous survival function with the
// midpoint (Euler-Maclaurin) correction; tests check it against the full
// term-by-term sum to 1e-9 relative.
//
// # Empirical files
//
// FILE is a CSV file with a header row, or a file of numbers (one or more
// per line) without one; the first row is a header when any of its fields
// is not a number. COLUMN is a header name (exact match, tried first) or a
// 0-based index; it may be left out when the file has one column. The
// column is whatever follows the last ':' unless that text contains '/' or
// '\' (so "C:\data\x.csv" is a file), hence a file whose name contains ':'
// needs an explicit column. Values must be whole numbers from 1 to
// 1000000000; a file with zero-token rows (failed requests in some traces)
// is rejected, not silently repaired. Relative paths resolve against
// WithBaseDir; with WithFS they resolve inside that file system instead.
// The file is read once, by Parse.
package dist
