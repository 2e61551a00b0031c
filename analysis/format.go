package analysis

import (
	"math"
	"strconv"
	"strings"
)

// Every renderer (the terminal table, SLO lines, markdown, HTML, JUnit,
// compare and sweep output, in the report package) and every message built
// here (SLO notes, saturation warnings, capacity lines) prints numbers
// through the functions below, so one value reads the same everywhere: a
// p99 of 39.455 ms is 39.46 in the table, on the SLO line and in the JUnit
// message alike. The exported Format* functions are the same functions for
// the report package.

// NoValue stands for a statistic with nothing behind it: a metric with no
// samples shows NoValue, never 0.00. (summary.json keeps its numbers and
// says count 0.)
const NoValue = "–"

// fixed formats v with d decimals. It rounds the shortest decimal form of
// v (what summary.json holds) half away from zero, so the rounding a
// reader does by hand from the JSON is the one every output shows; binary
// rounding would print 39.455 as 39.45 in one place and 39.46 in another.
func fixed(v float64, d int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return NoValue
	}
	s := strconv.FormatFloat(math.Abs(v), 'f', -1, 64)
	ip, fp, _ := strings.Cut(s, ".")
	if len(fp) < d {
		fp += strings.Repeat("0", d-len(fp))
	}
	digits := []byte(ip + fp[:d])
	if len(fp) > d && fp[d] >= '5' {
		i := len(digits) - 1
		for ; i >= 0; i-- {
			if digits[i] < '9' {
				digits[i]++
				break
			}
			digits[i] = '0'
		}
		if i < 0 {
			digits = append([]byte{'1'}, digits...)
		}
	}
	out := string(digits)
	if d > 0 {
		out = out[:len(out)-d] + "." + out[len(out)-d:]
	}
	if v < 0 && strings.Trim(out, "0.") != "" {
		out = "-" + out
	}
	return out
}

// fms formats a latency in milliseconds: two decimals.
func fms(v float64) string { return fixed(v, 2) }

// statMS is a statistic of st in milliseconds, or NoValue when st has no
// samples.
func statMS(st Stats, v float64) string {
	if st.Count == 0 {
		return NoValue
	}
	return fms(v)
}

// withMS is a statistic of st with its unit, "12.01 ms", or NoValue alone.
func withMS(st Stats, v float64) string {
	if st.Count == 0 {
		return NoValue
	}
	return fms(v) + " ms"
}

// percent formats a share (0.075) as a percentage with two decimals
// ("7.50%"): error rates, goodput ratios, SLO shares.
func percent(ratio float64) string {
	if math.IsNaN(ratio) || math.IsInf(ratio, 0) {
		return NoValue
	}
	return fixed(100*ratio, 2) + "%"
}

// reqRate formats requests per second (two decimals); tokRate tokens per
// second (one decimal).
func reqRate(v float64) string { return fixed(v, 2) }
func tokRate(v float64) string { return fixed(v, 1) }

// fnum shows four significant digits (all of an integer part), without
// trailing zeros or an exponent: 312.4, 0.6702, 12007, 500. It rounds as
// fixed does.
func fnum(v float64) string {
	a := math.Abs(v)
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return NoValue
	case a == 0:
		return "0"
	case a >= 1000:
		return fixed(v, 0)
	}
	d := 3 - int(math.Floor(math.Log10(a)))
	return trimZeros(fixed(v, d))
}

// trimZeros drops trailing zeros after a decimal point: 500.00 is 500.
func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// unitValue formats v in unit as every output does: "ms" two decimals,
// "req/s" two, "tok/s" one, "ratio" a percentage.
func unitValue(unit string, v float64) string {
	switch unit {
	case "ms":
		return fms(v)
	case "req/s":
		return reqRate(v)
	case "tok/s":
		return tokRate(v)
	case "ratio":
		return percent(v)
	}
	return fnum(v)
}

// FormatSLOValue formats v (a value or margin of r, in r.Unit) in the
// unit r's expression was written in, as every other output shows it:
// "312.43 ms" (two decimals, as in the results table), "1.5 s", "0.42%",
// "2314.5 tok/s".
func FormatSLOValue(r SLOResult, v float64) string {
	num, unit := sloNumber(r, v)
	return num + unit
}

// FormatSLOThreshold formats r's threshold as its expression gave it,
// without trailing zeros: "500 ms", "1%".
func FormatSLOThreshold(r SLOResult) string {
	num, unit := sloNumber(r, r.Threshold)
	return trimZeros(num) + unit
}

func sloNumber(r SLOResult, v float64) (string, string) {
	unit := r.Unit
	if unit == "ms" {
		if s, err := ParseSLO(r.Expr); err == nil && s.Kind == KindLatency {
			unit = s.Unit
		}
	}
	switch unit {
	case "us":
		return fnum(v * 1e3), " µs"
	case "s":
		return fnum(v / 1e3), " s"
	case "ms":
		return fms(v), " ms"
	case "ratio":
		return fixed(100*v, 2), "%"
	case "req/s":
		return reqRate(v), " req/s"
	case "tok/s":
		return tokRate(v), " tok/s"
	case "":
		return fnum(v), ""
	}
	return fnum(v), " " + unit
}

// FormatFixed formats v with d decimals, rounding the shortest decimal
// form of v half away from zero (what a reader does by hand from
// summary.json); NaN and ±Inf are NoValue.
func FormatFixed(v float64, d int) string { return fixed(v, d) }

// FormatMS formats a latency in milliseconds: two decimals.
func FormatMS(v float64) string { return fms(v) }

// FormatStatMS formats a statistic v of st in milliseconds, or NoValue
// when st has no samples.
func FormatStatMS(st Stats, v float64) string { return statMS(st, v) }

// FormatWithMS formats a statistic v of st with its unit, "12.01 ms", or
// NoValue alone when st has no samples.
func FormatWithMS(st Stats, v float64) string { return withMS(st, v) }

// FormatPercent formats a share (0.075) as a percentage with two decimals:
// "7.50%".
func FormatPercent(ratio float64) string { return percent(ratio) }

// FormatReqRate formats requests per second: two decimals.
func FormatReqRate(v float64) string { return reqRate(v) }

// FormatTokRate formats tokens per second: one decimal.
func FormatTokRate(v float64) string { return tokRate(v) }

// FormatNum shows four significant digits (all of an integer part),
// without trailing zeros or an exponent: 312.4, 0.6702, 12007, 500.
func FormatNum(v float64) string { return fnum(v) }

// FormatUnit formats v in unit as every output does: "ms" two decimals,
// "req/s" two, "tok/s" one, "ratio" a percentage, anything else FormatNum.
func FormatUnit(unit string, v float64) string { return unitValue(unit, v) }
