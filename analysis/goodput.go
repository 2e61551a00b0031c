package analysis

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/streamgauge/streamgauge/results"
)

// PerRequestMetrics are the metrics a goodput condition may name: the ones a
// record holds as a single number.
var PerRequestMetrics = []string{"ttft", "ttfo", "ttfb", "tpot", "e2e", "lag"}

func isPerRequest(name string) bool { return contains(PerRequestMetrics, name) }

// GoodputSLO is a set of per-request SLOs. A request is good (counts toward
// goodput, record field slo_ok) when it succeeded and met every condition.
// The grammar, as accepted by ParseGoodput:
//
//	goodput   = cond { "," cond }
//	cond      = ws metric ws op ws number ws time-unit ws
//	metric    = "ttft" | "ttfo" | "ttfb" | "tpot" | "e2e" | "lag"
//	op        = "<" | "<="
//
// with number and time-unit as in SLO. Example: ttft<=500ms,tpot<=50ms.
//
// A condition on a value the request does not have fails the request, except
// tpot, which a request with fewer than 2 output tokens has not got and
// meets (it had no decoding to be slow at). A nil *GoodputSLO has no
// conditions: every successful request is good.
type GoodputSLO struct {
	// Expr is the expression as written, trimmed.
	Expr string
	// Conds are the conditions, each an SLO with an empty Stat.
	Conds []SLO

	fromScheduled bool
}

// ParseGoodput parses a goodput expression. A blank expression is no
// goodput SLO: it returns nil and no error. Errors are *SLOError, quoting
// the whole expression and pointing at the bad token.
func ParseGoodput(expr string) (*GoodputSLO, error) {
	trimmed := strings.TrimSpace(expr)
	if trimmed == "" {
		return nil, nil
	}
	g := &GoodputSLO{Expr: trimmed}
	var errs []error
	off := 0
	for part := range strings.SplitSeq(trimmed, ",") {
		start := off
		off += len(part) + 1
		lead := len(part) - len(strings.TrimLeftFunc(part, unicode.IsSpace))
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		s := scanner{src: part, expr: trimmed, base: utf8.RuneCountInString(trimmed[:start+lead])}
		c, err := s.parseSLO(true)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.Expr = part
		g.Conds = append(g.Conds, c)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if len(g.Conds) == 0 {
		return nil, &SLOError{Expr: trimmed, Col: 1, Token: trimmed, Msg: "no conditions; want METRIC OP VALUE, e.g. ttft<=500ms,tpot<=50ms"}
	}
	return g, nil
}

// String is the canonical form, which ParseGoodput reads back.
func (g *GoodputSLO) String() string {
	if g == nil {
		return ""
	}
	parts := make([]string, len(g.Conds))
	for i, c := range g.Conds {
		parts[i] = c.String()
	}
	return strings.Join(parts, ",")
}

// WithLatencyFromScheduled returns a copy of g that judges ttfb, ttft, ttfo
// and e2e from each request's scheduled send time (adding its lag), matching
// a run summarised with WithLatencyFromScheduled.
func (g *GoodputSLO) WithLatencyFromScheduled(on bool) *GoodputSLO {
	if g == nil {
		return nil
	}
	c := *g
	c.fromScheduled = on
	return &c
}

// Met reports whether r is good: it succeeded and met every condition.
func (g *GoodputSLO) Met(r *results.Record) bool {
	if r.Error != nil {
		return false
	}
	if g == nil {
		return true
	}
	for _, c := range g.Conds {
		v, ok := g.value(r, c.Metric)
		if !ok {
			if c.Metric == "tpot" {
				continue
			}
			return false
		}
		if !c.Op.Holds(v, c.Threshold) {
			return false
		}
	}
	return true
}

func (g *GoodputSLO) value(r *results.Record, metric string) (float64, bool) {
	var shift float64
	if g.fromScheduled {
		shift = r.SinceScheduledMS()
	}
	ptr := func(p *float64) (float64, bool) {
		if p == nil {
			return 0, false
		}
		return *p + shift, true
	}
	switch metric {
	case "ttft":
		return ptr(r.TTFTMS)
	case "ttfo":
		return ptr(r.TTFOMS)
	case "ttfb":
		return ptr(r.TTFBMS)
	case "tpot":
		if r.TPOTMS == nil {
			return 0, false
		}
		return *r.TPOTMS, true
	case "e2e":
		return r.E2EMS + shift, true
	case "lag":
		return r.LagMS, true
	}
	return 0, false
}

// Mark sets r.SLOOK to Met(r).
func (g *GoodputSLO) Mark(r *results.Record) { r.SLOOK = g.Met(r) }

// Append marks r (see Mark) and never fails, so a GoodputSLO can sit first in
// a chain of record sinks, ahead of the writer and the accumulator that
// count slo_ok.
func (g *GoodputSLO) Append(r *results.Record) error {
	g.Mark(r)
	return nil
}
