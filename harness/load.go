package harness

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/streamgauge/streamgauge/internal/plural"
	"github.com/streamgauge/streamgauge/internal/secret"
	"github.com/streamgauge/streamgauge/loadgen"
	"github.com/streamgauge/streamgauge/profiles"
	"github.com/streamgauge/streamgauge/targets"
)

// describeLoad says in one line what load the run sends: the arrival
// process and its rates, the stages, the trace replayed, or the users;
// this shard's part of it; and how long.
func describeLoad(p profiles.Profile, src loadgen.Source) string {
	var b strings.Builder
	_, shards, _ := p.ShardOf()
	stages, _ := loadgen.ParseStages(p.Stages)
	tw, _ := src.(*loadgen.TraceWorkload)
	switch {
	case tw != nil:
		b.WriteString(describeTrace(p, tw.Trace))
	case len(stages) > 0:
		b.WriteString(describeStages(stages))
	case p.Rate > 0:
		b.WriteString(describeArrivals(p))
	default:
		b.WriteString(plural.Count(p.Concurrency, "closed-loop user"))
	}
	if p.MaxConcurrency > 0 && (p.Rate > 0 || tw != nil || (len(stages) > 0 && !loadgen.ClosedStages(stages))) {
		fmt.Fprintf(&b, " (at most %d in flight)", p.MaxConcurrency)
	}
	if p.Turns != "" {
		fmt.Fprintf(&b, ", sessions of %s turns", p.Turns)
	}
	if shards > 1 {
		b.WriteString(", " + describeShard(p, stages, tw != nil))
	}
	if p.Requests > 0 && tw == nil {
		b.WriteString(", " + plural.Count(p.Requests, "request"))
		if shards > 1 {
			b.WriteString(" in all shards")
		}
	}
	if p.Duration > 0 && len(stages) == 0 && tw == nil {
		fmt.Fprintf(&b, ", for %s", p.Duration)
	}
	if p.Warmup > 0 {
		fmt.Fprintf(&b, ", the first %s warm-up", p.Warmup)
	}
	if p.WarmupRequests > 0 {
		fmt.Fprintf(&b, ", the first %s warm-up", plural.Count(p.WarmupRequests, "request"))
	}
	return b.String()
}

// describeArrivals is an open-loop --rate run's arrival process.
func describeArrivals(p profiles.Profile) string {
	switch p.Arrival {
	case "ramp":
		over := p.RampOver
		if over == 0 {
			over = p.Duration
		}
		s := fmt.Sprintf("a ramp from %s to %s req/s over %s", num(p.Rate), num(p.RampTo), over)
		if p.Duration > over {
			s += fmt.Sprintf(", then %s req/s", num(p.RampTo))
		}
		return s
	case "sine":
		return fmt.Sprintf("a sine of %s ± %s req/s with a period of %s", num(p.Rate), num(p.SineAmplitude), p.SinePeriod)
	case "gamma":
		return fmt.Sprintf("gamma arrivals (burstiness %s) at %s req/s", num(p.Burstiness), num(p.Rate))
	}
	arrival := p.Arrival
	if arrival == "" {
		arrival = loadgen.ArrivalConstant
	}
	return fmt.Sprintf("%s arrivals at %s req/s", arrival, num(p.Rate))
}

// describeStages lists the stages, the first few when there are many.
func describeStages(stages []loadgen.Stage) string {
	const shown = 4
	kind := "rate"
	if loadgen.ClosedStages(stages) {
		kind = "user"
	}
	parts := make([]string, 0, shown+1)
	for i, s := range stages {
		if i == shown {
			parts = append(parts, fmt.Sprintf("%d more", len(stages)-shown))
			break
		}
		if kind == "user" {
			parts = append(parts, fmt.Sprintf("%s with %s", s.Duration, plural.Count(max(s.Users, 0), "user")))
		} else {
			parts = append(parts, fmt.Sprintf("%s at %s req/s", s.Duration, num(s.Rate)))
		}
	}
	n := "stages"
	if len(stages) == 1 {
		n = "stage"
	}
	return fmt.Sprintf("%d %s %s (%s) over %s", len(stages), kind, n, strings.Join(parts, ", "), loadgen.TotalDuration(stages))
}

// describeTrace is the replayed part of a trace: its requests, span and
// speed, and its mean rate.
func describeTrace(p profiles.Profile, tr *loadgen.Trace) string {
	n := len(tr.Entries)
	m := n
	if p.Requests > 0 && p.Requests < uint64(n) {
		m = int(p.Requests)
	}
	span := tr.Entries[m-1].At.Round(time.Millisecond)
	s := fmt.Sprintf("trace %s: %d requests over %s", p.Trace, n, span)
	if m < n {
		s = fmt.Sprintf("trace %s: the first %d of %d requests, over %s", p.Trace, m, n, span)
	}
	if p.TraceWindow != "" {
		s += ", window " + p.TraceWindow
	}
	if p.TraceSpeed != 1 {
		s += fmt.Sprintf(", at %sx speed", num(p.TraceSpeed))
	}
	if m > 1 && span > 0 {
		s += fmt.Sprintf(", mean %s req/s", num(float64(m-1)/span.Seconds()))
	}
	return s
}

// describeShard says which part of the load this process sends.
func describeShard(p profiles.Profile, stages []loadgen.Stage, trace bool) string {
	i, n, _ := p.ShardOf()
	closed := !trace && ((len(stages) > 0 && loadgen.ClosedStages(stages)) || (len(stages) == 0 && p.Rate == 0))
	if closed {
		return fmt.Sprintf("shard %d/%d: this process runs every %s user", i, n, ordinal(n))
	}
	s := fmt.Sprintf("shard %d/%d: this process sends every %s arrival", i, n, ordinal(n))
	if len(stages) == 0 && !trace && p.Arrival != "ramp" && p.Arrival != "sine" {
		s += fmt.Sprintf(", %s of %s req/s", num(p.Rate/float64(n)), num(p.Rate))
	}
	return s
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return strconv.Itoa(n) + suffix
}

// num prints a rate or factor with at most 3 decimals and no trailing
// zeros.
func num(v float64) string {
	return strconv.FormatFloat(float64(int64(v*1000+0.5))/1000, 'f', -1, 64)
}

// requestedRate is the rate this process was asked to send over the
// measured window, comparable with the achieved rate: the schedule's mean
// from the end of warm-up to the end of the schedule (its duration, its
// last request, or when the run was cut short at elapsed), divided among
// the shards. Closed-loop runs request no rate (0).
func requestedRate(p profiles.Profile, pacer vegeta.Pacer, elapsed time.Duration) float64 {
	if pacer == nil {
		return 0
	}
	// The achieved rate counts from the first measured send, so the
	// window opens at the first measured arrival, not at offset 0.
	from := p.Warmup
	if at, stop := loadgen.ScheduledAt(pacer, p.WarmupRequests); !stop {
		from = max(from, at)
	}
	to := p.Duration
	if p.Requests > 0 {
		if at, stop := loadgen.ScheduledAt(pacer, p.Requests-1); !stop && (to == 0 || at < to) {
			to = at
		}
	}
	if elapsed > 0 && (to == 0 || elapsed < to) {
		to = elapsed
	}
	_, shards, _ := p.ShardOf()
	return loadgen.MeanRate(pacer, from, to) / float64(shards)
}

// sampleRequest is a request like the run's, for the URL it goes to (a
// protocol's path may depend on the model or on chat messages).
func sampleRequest(p profiles.Profile) *targets.Request {
	r := &targets.Request{Model: p.Model, Prompt: "x"}
	if p.Turns != "" || p.PrefixSystem {
		r.Messages = []targets.Message{{Role: "user", Content: "x"}}
	}
	return r
}

// joinTarget keeps a target that already ends with the start of the API's
// path (the OpenAI SDK's base_url habit: http://host:8000/v1) from
// doubling it (/v1/v1/chat/completions): it returns the target without
// the overlap, and a one-line notice, or the target unchanged and "".
func joinTarget(target, apiPath, api string) (string, string) {
	u, err := url.Parse(target)
	if err != nil || u.Path == "" || u.RawQuery != "" {
		return target, ""
	}
	split := func(s string) []string {
		if s = strings.Trim(s, "/"); s == "" {
			return nil
		}
		return strings.Split(s, "/")
	}
	tseg, aseg := split(u.Path), split(apiPath)
	for k := min(len(tseg), len(aseg)); k >= 1; k-- {
		if !slices.Equal(tseg[len(tseg)-k:], aseg[:k]) {
			continue
		}
		u.Path, u.RawPath = "", ""
		if rest := tseg[:len(tseg)-k]; len(rest) > 0 {
			u.Path = "/" + strings.Join(rest, "/")
		}
		base := strings.TrimRight(u.String(), "/")
		note := fmt.Sprintf("--target %s ends with /%s, where the %s API's path %s begins: sending to %s%s, not %s%s (give the server's base URL to silence this, or --endpoint to choose the path)",
			secret.URL(target), strings.Join(tseg[len(tseg)-k:], "/"), api, apiPath,
			secret.URL(base), apiPath, secret.URL(strings.TrimRight(target, "/")), apiPath)
		return base, note
	}
	return target, ""
}

// apiPath is the path the profile's API posts to, for a request like the
// run's.
func apiPath(p profiles.Profile) (string, error) {
	proto, _, err := resolveProtocol(p)
	if err != nil {
		return "", err
	}
	return proto.Path(sampleRequest(p)), nil
}
