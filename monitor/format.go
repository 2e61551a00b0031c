package monitor

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Lines renders s as the terminal's status block: progress on the first
// line, the last 10 s on the second.
func (s Snapshot) Lines() []string {
	if !s.Started {
		return []string{"streamgauge  starting..."}
	}
	first := fmt.Sprintf("streamgauge  %s   sent %d   in flight %d   ok %d   failed %d", s.progress(), s.Sent, s.InFlight, s.OK, s.Failed)
	if s.Canceled > 0 {
		first += fmt.Sprintf("   canceled %d", s.Canceled)
	}
	return []string{first, "  " + s.window()}
}

// Line renders s as one plain status line, for logs.
func (s Snapshot) Line() string {
	if !s.Started {
		return "starting"
	}
	line := fmt.Sprintf("%s: sent %d, in flight %d, ok %d, failed %d", s.progress(), s.Sent, s.InFlight, s.OK, s.Failed)
	if s.Canceled > 0 {
		line += fmt.Sprintf(", canceled %d", s.Canceled)
	}
	return line + "; " + s.window()
}

// progress is the elapsed time and what is left.
func (s Snapshot) progress() string {
	if s.Elapsed < 0 {
		return "starts in " + clock(-s.Elapsed+time.Second-1)
	}
	el := "elapsed " + clock(s.Elapsed)
	if s.Plan.Duration > 0 {
		el += "/" + clock(s.Plan.Duration)
	}
	if s.Plan.Requests > 0 {
		el += fmt.Sprintf(", %d of %d requests", min(uint64(s.Sent), s.Plan.Requests), s.Plan.Requests)
	}
	switch left, ok := s.remaining(); {
	case s.Ended:
		el += " (done)"
	case ok && left > 0:
		el += " (" + clock(left) + " left)"
	case s.InFlight > 0 && ok:
		el += " (draining)"
	}
	return el
}

// remaining estimates the time left in the schedule: the duration's rest,
// or for a request budget, the requests left at the send rate so far.
func (s Snapshot) remaining() (time.Duration, bool) {
	var left time.Duration
	known := false
	if s.Plan.Duration > 0 {
		// From the elapsed time as shown (whole seconds), so the two add up.
		left, known = max(s.Plan.Duration-s.Elapsed.Truncate(time.Second), 0), true
	}
	if s.Plan.Requests > 0 && s.Sent > 0 && s.Elapsed > 0 {
		rest := s.Plan.Requests - min(uint64(s.Sent), s.Plan.Requests)
		est := time.Duration(float64(rest) / float64(s.Sent) * float64(s.Elapsed))
		if !known || est < left {
			left, known = est, true
		}
	}
	return left, known
}

// window is the live latency and throughput.
func (s Snapshot) window() string {
	label := "last " + clock(Window)
	if s.Elapsed < Window {
		label = "so far"
	}
	if s.TTFTCount == 0 {
		return fmt.Sprintf("%s: ttft -, %s output tok/s", label, rate(s.OutputTokensPerS))
	}
	return fmt.Sprintf("%s: ttft p50 %s ms, p99 %s ms, %s output tok/s", label, ms(s.TTFTP50MS), ms(s.TTFTP99MS), rate(s.OutputTokensPerS))
}

// clock writes a duration to the second: 45s, 3m05s, 1h02m03s.
func clock(d time.Duration) string {
	d = max(d, 0)
	sec := int64(d / time.Second)
	h, m, s := sec/3600, sec/60%60, sec%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm%02ds", h, m, s)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// ms writes a latency in milliseconds to about three significant digits.
func ms(v float64) string {
	prec := 0
	switch {
	case v < 1:
		prec = 3
	case v < 10:
		prec = 2
	case v < 100:
		prec = 1
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// rate writes a rate with a thousands separator and no fraction, or one
// decimal under 10.
func rate(v float64) string {
	if v < 10 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	s := strconv.FormatInt(int64(v+0.5), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
