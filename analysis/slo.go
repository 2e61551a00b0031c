package analysis

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/streamgauge/streamgauge/internal/nearest"
)

// An SLO is one parsed service-level objective on a run, written
// METRIC.STAT OP VALUE. The grammar, as accepted by ParseSLO:
//
//	slo        = ws latency "." stat ws op ws number ws time-unit ws
//	           | ws share ws op ws number ws [ "%" ] ws
//	           | ws rate ws op ws number ws
//	latency    = "lag" | "ttfb" | "ttft" | "ttfo" | "icl" | "itl" | "tpot" | "e2e"
//	stat       = "min" | "mean" | "p50" | "p90" | "p95" | "p99" | "p99.9" | "max"
//	share      = "error_rate" | "goodput.ratio" | "token_count_mismatch_ratio"
//	           | "server.input_mismatch_ratio" | "server.cache_hit_ratio"
//	rate       = "throughput.requests_per_s" | "throughput.input_tokens_per_s"
//	           | "throughput.output_tokens_per_s" | "goodput.requests_per_s"
//	op         = "<" | "<=" | ">" | ">=" | "=="
//	number     = digits [ "." [ digits ] ] [ exponent ] | "." digits [ exponent ]
//	exponent   = ( "e" | "E" ) [ "+" | "-" ] digits
//	digits     = digit { digit }
//	time-unit  = "us" | "µs" | "ms" | "s"
//	ws         = { " " | "\t" }
//
// Latencies are compared in milliseconds, as the summary stores them, and
// their threshold must carry a unit: a bare number is an error. A share is a
// fraction of the measured requests: "1%" and "0.01" are the same threshold.
// Rates are per second and take no unit.
//
// Examples: ttft.p99<500ms, itl.p95<=40ms, e2e.max<30s, error_rate<1%,
// throughput.output_tokens_per_s>=2000, goodput.ratio>=0.95,
// server.input_mismatch_ratio<5%, server.cache_hit_ratio>=50%.
//
// The server.* shares are judged on what the server reported (Summary.Server):
// an SLO on one the server never reported fails with a note, as one on a
// latency without samples does.
type SLO struct {
	// Expr is the expression as written, trimmed.
	Expr string
	// Metric is the summary's name for what is judged: a latency metric
	// (ttft, ...), "error_rate", "goodput.ratio", "throughput.requests_per_s", ...
	Metric string
	// Stat is the statistic of a latency metric (p99, max, ...); empty for
	// shares and rates.
	Stat string
	Op   Op
	// Threshold is the bound in the summary's unit: ms for latencies, a
	// fraction for shares, per second for rates.
	Threshold float64
	// Unit is the unit the threshold was written in ("ms", "s", "us", "%",
	// or "" for a bare number); renderers show values in it.
	Unit string
	// Kind says how Metric is measured.
	Kind MetricKind
}

// MetricKind is what an SLO's metric measures.
type MetricKind int

// The metric kinds.
const (
	KindLatency MetricKind = iota + 1 // a duration distribution, in ms
	KindShare                         // a fraction of requests in [0, 1]
	KindRate                          // a rate per second
)

// Op is a comparison operator.
type Op string

// The operators of the grammar.
const (
	OpLT Op = "<"
	OpLE Op = "<="
	OpGT Op = ">"
	OpGE Op = ">="
	OpEQ Op = "=="
)

// Holds reports whether "observed op threshold" is true.
func (o Op) Holds(observed, threshold float64) bool {
	switch o {
	case OpLT:
		return observed < threshold
	case OpLE:
		return observed <= threshold
	case OpGT:
		return observed > threshold
	case OpGE:
		return observed >= threshold
	case OpEQ:
		return observed == threshold
	}
	return false
}

// margin is how far observed is from threshold on the passing side:
// positive with room to spare, negative by how much the SLO failed.
func (o Op) margin(observed, threshold float64) float64 {
	switch o {
	case OpLT, OpLE:
		return threshold - observed
	case OpGT, OpGE:
		return observed - threshold
	}
	return -math.Abs(observed - threshold)
}

// SLOStats are the statistics an SLO may name on a latency metric, in order.
var SLOStats = []string{"min", "mean", "p50", "p90", "p95", "p99", "p99.9", "max"}

// shares and rates are the metrics that are not distributions.
var (
	shares = []string{"error_rate", "goodput.ratio", "token_count_mismatch_ratio", "server.input_mismatch_ratio", "server.cache_hit_ratio"}
	rates  = []string{"throughput.requests_per_s", "throughput.input_tokens_per_s", "throughput.output_tokens_per_s", "goodput.requests_per_s"}
	// groups are the prefixes of dotted shares and rates.
	groups = map[string][]string{
		"throughput": {"requests_per_s", "input_tokens_per_s", "output_tokens_per_s"},
		"goodput":    {"ratio", "requests_per_s"},
		"server":     {"input_mismatch_ratio", "cache_hit_ratio"},
	}
)

// otherTimeUnits are time units people write that a threshold does not
// take, in milliseconds, so the error can give the value in one it does.
var otherTimeUnits = map[string]float64{
	"ns": 1e-6, "nsec": 1e-6, "nanosecond": 1e-6, "nanoseconds": 1e-6,
	"usec": 1e-3, "micros": 1e-3, "microsecond": 1e-3, "microseconds": 1e-3,
	"msec": 1, "msecs": 1, "millis": 1, "millisecond": 1, "milliseconds": 1,
	"sec": 1e3, "secs": 1e3, "second": 1e3, "seconds": 1e3,
	"m": 60e3, "min": 60e3, "mins": 60e3, "minute": 60e3, "minutes": 60e3,
	"h": 3600e3, "hr": 3600e3, "hrs": 3600e3, "hour": 3600e3, "hours": 3600e3,
}

// inTimeUnits writes ms milliseconds in the largest of s, ms and us that
// keeps it at least 1: 60000 is 60s, 0.5 is 500us.
func inTimeUnits(ms float64) string {
	switch {
	case ms >= 1000:
		return strconv.FormatFloat(ms/1000, 'g', -1, 64) + "s"
	case ms >= 1:
		return strconv.FormatFloat(ms, 'g', -1, 64) + "ms"
	}
	return strconv.FormatFloat(math.Round(ms*1e6)/1e3, 'g', -1, 64) + "us"
}

// latencyUnits maps a time unit to milliseconds.
var latencyUnits = map[string]float64{"us": 1e-3, "µs": 1e-3, "ms": 1, "s": 1e3}

// SLOError is a malformed expression. Col is the 1-based column (in runes)
// of the offending token in Expr, and Token its text.
type SLOError struct {
	Expr  string
	Col   int
	Token string
	Msg   string
}

// Error is one line: the expression, what is wrong, and where.
func (e *SLOError) Error() string {
	if e.Token == "" {
		return fmt.Sprintf("%s: %s (column %d)", e.Expr, e.Msg, e.Col)
	}
	return fmt.Sprintf("%s: %s (column %d: %q)", e.Expr, e.Msg, e.Col, e.Token)
}

// Caret returns the expression and, under it, a caret line marking the bad
// token, for terminals that can show two lines.
func (e *SLOError) Caret() string {
	n := max(1, utf8.RuneCountInString(e.Token))
	return e.Expr + "\n" + strings.Repeat(" ", e.Col-1) + strings.Repeat("^", n)
}

// scanner walks an expression; positions are byte offsets into src.
type scanner struct {
	src  string
	expr string // what errors quote
	base int    // rune column of src[0] within expr, minus one
}

func (s *scanner) errAt(pos, end int, format string, a ...any) *SLOError {
	return &SLOError{Expr: s.expr, Col: s.base + utf8.RuneCountInString(s.src[:pos]) + 1, Token: s.src[pos:end], Msg: fmt.Sprintf(format, a...)}
}

func (s *scanner) skipSpace(i int) int {
	for i < len(s.src) && (s.src[i] == ' ' || s.src[i] == '\t') {
		i++
	}
	return i
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

// ParseSLO parses one expression; the error is an *SLOError.
func ParseSLO(expr string) (SLO, error) {
	// Columns count within the trimmed expression, which is what errors quote.
	trimmed := strings.TrimSpace(expr)
	s := scanner{src: trimmed, expr: trimmed}
	slo, err := s.parseSLO(false)
	if err != nil {
		return SLO{}, err
	}
	slo.Expr = trimmed
	return slo, nil
}

// parseSLO parses s.src whole. perRequest parses a goodput condition
// (METRIC OP VALUE on a request's own latency) instead.
func (s *scanner) parseSLO(perRequest bool) (SLO, error) {
	if s.src == "" {
		if perRequest {
			return SLO{}, &SLOError{Expr: s.expr, Col: s.base + 1, Msg: "empty condition; want METRIC OP VALUE, e.g. ttft<=500ms"}
		}
		return SLO{}, &SLOError{Expr: s.expr, Col: s.base + 1, Msg: "empty SLO; want METRIC.STAT OP VALUE, e.g. ttft.p99<500ms"}
	}
	var slo SLO
	// Path.
	i := 0
	for i < len(s.src) && isNameByte(s.src[i]) {
		i++
	}
	if i == 0 {
		_, size := utf8.DecodeRuneInString(s.src)
		return SLO{}, s.errAt(0, size, "want a metric name first, e.g. ttft.p99")
	}
	if err := s.parsePath(&slo, 0, i, perRequest); err != nil {
		return SLO{}, err
	}
	// Operator.
	j := s.skipSpace(i)
	k := j
	for k < len(s.src) && strings.IndexByte("<>=!", s.src[k]) >= 0 {
		k++
	}
	switch op := Op(s.src[j:k]); op {
	case OpLT, OpLE, OpGT, OpGE, OpEQ:
		slo.Op = op
	case "":
		if j == len(s.src) {
			return SLO{}, &SLOError{Expr: s.expr, Col: s.base + utf8.RuneCountInString(s.src) + 1, Msg: "missing operator and threshold; want one of < <= > >= == and a value"}
		}
		end := j + 1
		for end < len(s.src) && s.src[end] != ' ' {
			end++
		}
		return SLO{}, s.errAt(j, end, "want an operator (< <= > >= ==) after %s", s.src[:i])
	case "=":
		return SLO{}, s.errAt(j, k, "= is not an operator; use == (or <=, >=)")
	case "=<", "=>":
		return SLO{}, s.errAt(j, k, "%s is not an operator; did you mean %c=?", op, op[1])
	default:
		return SLO{}, s.errAt(j, k, "%s is not an operator; want one of < <= > >= ==", op)
	}
	if perRequest && slo.Op != OpLT && slo.Op != OpLE {
		return SLO{}, s.errAt(j, k, "a per-request goodput condition is an upper bound; use < or <=")
	}
	// Threshold.
	return slo, s.parseThreshold(&slo, s.skipSpace(k))
}

// parsePath resolves src[from:to] (a dotted name) to a metric and statistic.
func (s *scanner) parsePath(slo *SLO, from, to int, perRequest bool) error {
	path := s.src[from:to]
	name, stat, dotted := strings.Cut(path, ".")
	statAt := from + len(name) + 1
	if isLatency(name) {
		slo.Kind, slo.Metric = KindLatency, name
		if perRequest {
			if dotted {
				return s.errAt(statAt, to, "a goodput condition is on each request's own %s; drop .%s (write %s<=...)", name, stat, name)
			}
			if !isPerRequest(name) {
				return s.errAt(from, to, "%s is not one number per request; goodput conditions take %s", name, strings.Join(PerRequestMetrics, ", "))
			}
			return nil
		}
		if !dotted {
			return s.errAt(from, to, "%s is a distribution; name a statistic, e.g. %s.p99 (one of %s)", name, name, strings.Join(SLOStats, " "))
		}
		if !contains(SLOStats, stat) {
			msg := fmt.Sprintf("%s is not a statistic; want one of %s", stat, strings.Join(SLOStats, " "))
			if stat == "" {
				msg = fmt.Sprintf("missing statistic after %s.; want one of %s", name, strings.Join(SLOStats, " "))
			} else if g := suggest(stat, SLOStats); g != "" {
				msg += " (did you mean " + g + "?)"
			}
			return s.errAt(statAt, to, "%s", msg)
		}
		slo.Stat = stat
		return nil
	}
	if perRequest {
		msg := fmt.Sprintf("%s is not a per-request metric; goodput conditions take %s", path, strings.Join(PerRequestMetrics, ", "))
		if g := suggest(strings.ToLower(path), PerRequestMetrics); g != "" {
			msg = fmt.Sprintf("unknown metric %s (did you mean %s?)", path, g)
		}
		return s.errAt(from, to, "%s", msg)
	}
	if contains(shares, path) {
		slo.Kind, slo.Metric = KindShare, path
		return nil
	}
	if contains(rates, path) {
		slo.Kind, slo.Metric = KindRate, path
		return nil
	}
	// Diagnose: a statistic on a share or rate, a group without a field,
	// or an unknown name.
	if dotted {
		for _, whole := range append(append([]string{}, shares...), rates...) {
			if strings.HasPrefix(path, whole+".") {
				extra := path[len(whole)+1:]
				at := from + len(whole) + 1
				switch {
				case contains(SLOStats, extra) && strings.HasPrefix(extra, "p"):
					return s.errAt(at, to, "%s is %s, it has no percentiles", whole, describe(whole))
				case contains(SLOStats, extra):
					return s.errAt(at, to, "%s is %s, it has no %s", whole, describe(whole), extra)
				}
				return s.errAt(at, to, "%s is %s; drop .%s", whole, describe(whole), extra)
			}
		}
	}
	if fields, ok := groups[name]; ok {
		want := name + "." + strings.Join(fields, " or "+name+".")
		switch {
		case !dotted:
			return s.errAt(from, to, "%s needs a field: %s", name, want)
		case contains(SLOStats, stat) && strings.HasPrefix(stat, "p"):
			return s.errAt(statAt, to, "%s has no percentiles; want %s", name, want)
		}
		msg := fmt.Sprintf("%s has no field %s; want %s", name, stat, want)
		if g := suggest(stat, fields); g != "" {
			msg += " (did you mean " + name + "." + g + "?)"
		}
		return s.errAt(statAt, to, "%s", msg)
	}
	known := append(append(append([]string{}, Metrics...), shares...), rates...)
	msg := fmt.Sprintf("unknown metric %s; want one of %s", name, strings.Join(known, ", "))
	if g := suggest(strings.ToLower(name), append(append([]string{}, Metrics...), "error_rate", "throughput", "goodput", "token_count_mismatch_ratio", "server")); g != "" {
		msg = fmt.Sprintf("unknown metric %s (did you mean %s?)", name, g)
	}
	return s.errAt(from, from+len(name), "%s", msg)
}

// parseThreshold reads NUMBER [UNIT] from src[i:] to the end.
func (s *scanner) parseThreshold(slo *SLO, i int) error {
	if i == len(s.src) {
		return &SLOError{Expr: s.expr, Col: s.base + utf8.RuneCountInString(s.src) + 1, Msg: "missing threshold after " + string(slo.Op) + "; want a value" + exampleUnit(slo)}
	}
	if c := s.src[i]; c == '-' || c == '+' {
		end := i + 1
		for end < len(s.src) && s.src[end] != ' ' {
			end++
		}
		if c == '-' {
			return s.errAt(i, end, "a threshold must not be negative")
		}
		return s.errAt(i, end, "write the threshold without a sign")
	}
	n := scanNumber(s.src, i)
	if n == i {
		end := i + 1
		for end < len(s.src) && s.src[end] != ' ' {
			end++
		}
		return s.errAt(i, end, "want a number%s", exampleUnit(slo))
	}
	v, err := strconv.ParseFloat(s.src[i:n], 64)
	if err != nil || math.IsInf(v, 0) {
		return s.errAt(i, n, "%s is out of range", s.src[i:n])
	}
	u := s.skipSpace(n)
	end := len(strings.TrimRight(s.src, " \t"))
	if end < u {
		end = u
	}
	unit := s.src[u:end]
	if strings.ContainsAny(unit, " \t") {
		sp := strings.IndexAny(unit, " \t")
		rest := s.skipSpace(u + sp)
		return s.errAt(rest, end, "unexpected text after the threshold")
	}
	number := s.src[i:n]
	switch slo.Kind {
	case KindLatency:
		f, ok := latencyUnits[unit]
		switch {
		case unit == "":
			return s.errAt(i, n, "%s has no unit; a latency threshold needs us, ms or s (e.g. %sms)", number, number)
		case !ok:
			msg := fmt.Sprintf("%s is not a time unit; want us, ms or s", unit)
			if ms, known := otherTimeUnits[strings.ToLower(unit)]; known {
				msg += fmt.Sprintf(" (%s%s is %s: write %s)", number, unit, inTimeUnits(v*ms), inTimeUnits(v*ms))
			} else if g := suggest(strings.ToLower(unit), []string{"us", "ms", "s"}); g != "" && g != unit {
				msg += " (did you mean " + g + "?)"
			}
			return s.errAt(u, end, "%s", msg)
		}
		slo.Threshold, slo.Unit = v*f, unit
		if slo.Unit == "µs" {
			slo.Unit = "us"
		}
	case KindShare:
		switch unit {
		case "%":
			if v > 100 {
				return s.errAt(i, end, "%s is %s; %s%% is over 100%%", slo.Metric, describe(slo.Metric), number)
			}
			slo.Threshold, slo.Unit = v/100, "%"
		case "":
			if v > 1 {
				return s.errAt(i, n, "%s is %s between 0 and 1; write %s%% or %g", slo.Metric, describe(slo.Metric), number, v/100)
			}
			slo.Threshold = v
		default:
			if _, isTime := latencyUnits[unit]; isTime {
				return s.errAt(u, end, "%s is %s, not a duration; write a percentage (1%%) or a fraction (0.01)", slo.Metric, describe(slo.Metric))
			}
			return s.errAt(u, end, "%s is not a unit of a share; write a percentage (1%%) or a fraction (0.01)", unit)
		}
	case KindRate:
		if unit != "" {
			return s.errAt(u, end, "%s is %s; write the number alone (e.g. %s%s)", slo.Metric, describe(slo.Metric), slo.Op, number)
		}
		slo.Threshold = v
	}
	return nil
}

// scanNumber returns the end of the number starting at src[i], i when none.
func scanNumber(src string, i int) int {
	j := i
	digits := func() int {
		k := j
		for j < len(src) && src[j] >= '0' && src[j] <= '9' {
			j++
		}
		return j - k
	}
	d := digits()
	if j < len(src) && src[j] == '.' {
		j++
		d += digits()
	}
	if d == 0 {
		return i
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		k := j
		j++
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if digits() == 0 {
			j = k // not an exponent: "e" starts whatever follows
		}
	}
	return j
}

func exampleUnit(slo *SLO) string {
	switch slo.Kind {
	case KindLatency:
		return " with a unit, e.g. 500ms"
	case KindShare:
		return ", e.g. 1% or 0.01"
	}
	return ", e.g. 100"
}

// String is the canonical form of the SLO, which ParseSLO reads back.
func (s SLO) String() string {
	path := s.Metric
	if s.Stat != "" {
		path += "." + s.Stat
	}
	return path + string(s.Op) + s.formatThreshold()
}

func (s SLO) formatThreshold() string {
	v := s.Threshold
	switch s.Unit {
	case "%":
		v *= 100
	case "us", "s":
		v /= latencyUnits[s.Unit]
	}
	return strconv.FormatFloat(v, 'g', -1, 64) + s.Unit
}

// ParseSLOs parses expressions; each may hold several separated by commas.
// Every malformed expression is reported, one line each.
func ParseSLOs(exprs []string) ([]SLO, error) {
	var out []SLO
	var errs []error
	for _, e := range exprs {
		for part := range strings.SplitSeq(e, ",") {
			if strings.TrimSpace(part) == "" && strings.Contains(e, ",") {
				continue // a trailing comma in a list
			}
			s, err := ParseSLO(part)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			out = append(out, s)
		}
	}
	return out, errors.Join(errs...)
}

// describe names what a share or rate is, for messages.
func describe(metric string) string {
	switch {
	case contains(rates, metric):
		return "a rate per second"
	case strings.HasSuffix(metric, "_rate"):
		return "a rate"
	}
	return "a ratio"
}

func isLatency(name string) bool { return contains(Metrics, name) }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// suggest returns the candidate within edit distance 2 of s, if any.
func suggest(s string, candidates []string) string { return nearest.Name(s, candidates, 2) }

// unit is the summary's unit for the SLO's metric.
func (s SLO) unit() string {
	switch {
	case s.Kind == KindLatency:
		return "ms"
	case s.Kind == KindShare:
		return "ratio"
	case strings.Contains(s.Metric, "tokens"):
		return "tok/s"
	}
	return "req/s"
}

// observe returns the SLO's metric in sum, or a note saying why there is
// nothing to judge.
func (s SLO) observe(sum *Summary) (float64, string) {
	measured := sum.Requests.OK + sum.Requests.Failed
	if s.Kind == KindLatency {
		st, ok := sum.Metrics[s.Metric]
		if !ok || st.Count == 0 {
			if measured == 0 {
				return 0, "no measured requests"
			}
			return 0, fmt.Sprintf("no %s samples (%s)", s.Metric, whyNoSamples(s.Metric))
		}
		return st.Stat(s.Stat), ""
	}
	if measured == 0 {
		return 0, "no measured requests"
	}
	switch s.Metric {
	case "error_rate":
		return sum.ErrorRate, ""
	case "goodput.ratio":
		return sum.Goodput.Ratio, ""
	case "token_count_mismatch_ratio":
		return sum.TokenCountMismatchRatio, ""
	case "server.input_mismatch_ratio":
		if sum.Server == nil || sum.Server.InputTokensCompared == 0 {
			return 0, "the server reported no input token counts to compare with ours (docs/metrics.md lists the servers that do)"
		}
		return sum.Server.InputMismatchRatio, ""
	case "server.cache_hit_ratio":
		if sum.Server == nil || sum.Server.CachedTokensReported == 0 {
			return 0, "the server reported no cached-token counts (docs/metrics.md lists the servers that do)"
		}
		return sum.Server.CacheHitRatio, ""
	}
	if sum.DurationS <= 0 {
		return 0, "no measured window to take a rate over"
	}
	switch s.Metric {
	case "throughput.requests_per_s":
		return sum.Throughput.RequestsPerS, ""
	case "throughput.input_tokens_per_s":
		return sum.Throughput.InputTokensPerS, ""
	case "throughput.output_tokens_per_s":
		return sum.Throughput.OutputTokensPerS, ""
	case "goodput.requests_per_s":
		return sum.Goodput.RequestsPerS, ""
	}
	return 0, "unknown metric " + s.Metric
}

func whyNoSamples(metric string) string {
	switch metric {
	case "tpot":
		return "tpot needs successful requests with at least 2 output tokens"
	case "itl", "icl":
		return metric + " needs successful requests with at least 2 token-bearing frames"
	}
	return "no request succeeded"
}

// Stat is the statistic named stat of st, as SLO expressions name them:
// "min", "mean", "p50", "p90", "p95", "p99", "p99.9"; any other name is
// the maximum.
func (st Stats) Stat(stat string) float64 {
	switch stat {
	case "min":
		return st.Min
	case "mean":
		return st.Mean
	case "p50":
		return st.P50
	case "p90":
		return st.P90
	case "p95":
		return st.P95
	case "p99":
		return st.P99
	case "p99.9":
		return st.P999
	}
	return st.Max
}

// Eval judges the SLO against a run summary. An SLO with nothing to judge
// (no samples of its metric, no measured request) fails, with a Note: a gate
// must not pass a run that produced no evidence.
func (s SLO) Eval(sum *Summary) SLOResult {
	r := SLOResult{Expr: s.Expr, Op: string(s.Op), Threshold: s.Threshold, Unit: s.unit()}
	if r.Expr == "" {
		r.Expr = s.String()
	}
	v, note := s.observe(sum)
	if note != "" {
		r.Note = note
		return r
	}
	r.Value = v
	r.Pass = s.Op.Holds(v, s.Threshold)
	r.Margin = s.Op.margin(v, s.Threshold)
	return r
}

// EvaluateSLOs judges every SLO against sum, in order.
func EvaluateSLOs(sum *Summary, slos []SLO) []SLOResult {
	out := make([]SLOResult, len(slos))
	for i, s := range slos {
		out[i] = s.Eval(sum)
	}
	return out
}

// ApplySLOs evaluates slos against sum and records the verdict in it:
// sum.SLO holds every result and sum.Pass is true when all of them held.
// It returns sum.Pass.
func ApplySLOs(sum *Summary, slos []SLO) bool {
	sum.SLO = EvaluateSLOs(sum, slos)
	sum.Pass = AllPass(sum.SLO)
	return sum.Pass
}

// AllPass reports whether every result held (true for none).
func AllPass(results []SLOResult) bool {
	for _, r := range results {
		if !r.Pass {
			return false
		}
	}
	return true
}
